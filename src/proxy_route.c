/*
 * proxy_route.c — which route a request's connection takes (docs/
 * architecture.md, "Proxies and Unix sockets"): the client's proxy
 * settings (per scheme, NO_PROXY, the environment, a Unix socket), a
 * request's own, the pick for a hop's URL, and the pool key and request
 * target that follow from it.
 *
 * A client without any of these settings has no fh__proxy_config at all,
 * so the exchange's only cost is one NULL test per hop.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

enum { PS_HTTP = 0, PS_HTTPS = 1, PS_ALL = 2, PS_N = 3 };

/* A proxy setting: none, a proxy, or an error kept for the requests that
 * would use it (a malformed environment variable must not send them
 * direct, where the user asked for a proxy). */
typedef struct px_slot {
    int state;        /* 0 unset, 1 proxy, 2 explicitly none, 3 invalid */
    int from_env;
    fh__proxy px;
    char why[160];
} px_slot;

struct fh__proxy_config {
    px_slot slot[PS_N];
    fh__noproxy no;
    int no_set, no_from_env;
    char *uds;
};

struct fh__req_route {
    int set;          /* 1: the request's proxy replaces the client's */
    fh__proxy px;     /* kind 0: no proxy for this request */
    char *uds;
};

/* ---- configuration ------------------------------------------------------- */

static fh__proxy_config *cfg_of(fh_client *c)
{
    if (!c->px)
        c->px = calloc(1, sizeof *c->px);
    return c->px;
}

static void slot_clear(px_slot *s)
{
    fh__proxy_free(&s->px);
    memset(s, 0, sizeof *s);
}

/* Sets slot s from a URL ("" or NULL: explicitly no proxy). */
static int slot_set(px_slot *s, const char *url, int from_env, const char *name)
{
    slot_clear(s);
    s->from_env = from_env;
    if (!url || !*url) {
        s->state = 2;
        return FH_OK;
    }
    const char *why = NULL;
    int rc = fh__proxy_parse(&s->px, url, strlen(url), &why);
    if (rc == FH_OK) {
        s->state = 1;
        return FH_OK;
    }
    if (rc == FH_ENOMEM || !from_env) {
        slot_clear(s);
        return rc;
    }
    s->state = 3;
    snprintf(s->why, sizeof s->why, "invalid proxy URL in the environment variable %s: %s",
             name, why ? why : fh_strerror(rc));
    return FH_OK;
}

void fh__proxy_config_free(fh__proxy_config *cfg)
{
    if (!cfg)
        return;
    for (int i = 0; i < PS_N; i++)
        slot_clear(&cfg->slot[i]);
    fh__noproxy_free(&cfg->no);
    free(cfg->uds);
    free(cfg);
}

static int scheme_index(const char *scheme)
{
    if (!scheme)
        return PS_ALL;
    size_t n = strlen(scheme);
    if (n > 3 && strcmp(scheme + n - 3, "://") == 0)
        n -= 3; /* httpx's "http://" keys */
    if (n == 4 && strncasecmp(scheme, "http", 4) == 0)
        return PS_HTTP;
    if (n == 5 && strncasecmp(scheme, "https", 5) == 0)
        return PS_HTTPS;
    if (n == 3 && strncasecmp(scheme, "all", 3) == 0)
        return PS_ALL;
    return -1;
}

int fh_client_set_proxy(fh_client *c, const char *scheme, const char *url)
{
    int i = c ? scheme_index(scheme) : -1;
    if (i < 0)
        return FH_EINVAL;
    fh__proxy_config *cfg = cfg_of(c);
    if (!cfg)
        return FH_ENOMEM;
    /* A proxy for every scheme replaces the environment's per-scheme ones
     * (as curl's -x does); the environment's NO_PROXY still applies. */
    for (int k = 0; i == PS_ALL && k < PS_N; k++)
        if (cfg->slot[k].from_env)
            slot_clear(&cfg->slot[k]);
    return slot_set(&cfg->slot[i], url, 0, NULL);
}

int fh_client_set_no_proxy(fh_client *c, const char *list)
{
    if (!c)
        return FH_EINVAL;
    fh__proxy_config *cfg = cfg_of(c);
    if (!cfg)
        return FH_ENOMEM;
    fh__noproxy_free(&cfg->no);
    cfg->no_set = 1;
    cfg->no_from_env = 0;
    return list ? fh__noproxy_parse(&cfg->no, list, strlen(list)) : FH_OK;
}

/* The environment, as curl reads it: http_proxy only in lower case (a CGI
 * program gets the client's "Proxy:" request header as HTTP_PROXY, the
 * "httpoxy" hole), the others in lower case first, then upper case. An
 * empty value counts as unset. */
static const char *env2(const char *lower, const char *upper, const char **name)
{
    const char *v = getenv(lower);
    *name = lower;
    if ((!v || !*v) && upper) {
        v = getenv(upper);
        *name = upper;
    }
    return v && *v ? v : NULL;
}

static int load_env(fh__proxy_config *cfg)
{
    static const char *const vars[PS_N][2] = {
        {"http_proxy", NULL}, {"https_proxy", "HTTPS_PROXY"}, {"all_proxy", "ALL_PROXY"}};
    for (int i = 0; i < PS_N; i++) {
        const char *name = NULL, *v = env2(vars[i][0], vars[i][1], &name);
        if (v && (cfg->slot[i].state == 0 || cfg->slot[i].from_env)) {
            int rc = slot_set(&cfg->slot[i], v, 1, name);
            if (rc)
                return rc;
        }
    }
    const char *name = NULL, *no = env2("no_proxy", "NO_PROXY", &name);
    if (no && (!cfg->no_set || cfg->no_from_env)) {
        fh__noproxy_free(&cfg->no);
        cfg->no_set = cfg->no_from_env = 1;
        return fh__noproxy_parse(&cfg->no, no, strlen(no));
    }
    return FH_OK;
}

static int env_present(void)
{
    static const char *const names[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy",
                                        "ALL_PROXY", "no_proxy", "NO_PROXY"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v && *v)
            return 1;
    }
    return 0;
}

int fh_client_set_trust_env(fh_client *c, int on)
{
    if (!c)
        return FH_EINVAL;
    if (on && !c->px && !env_present())
        return FH_OK; /* nothing to read: keep the client without routes */
    fh__proxy_config *cfg = cfg_of(c);
    if (!cfg)
        return FH_ENOMEM;
    for (int i = 0; i < PS_N; i++)
        if (cfg->slot[i].from_env)
            slot_clear(&cfg->slot[i]);
    if (cfg->no_from_env) {
        fh__noproxy_free(&cfg->no);
        cfg->no_set = cfg->no_from_env = 0;
    }
    return on ? load_env(cfg) : FH_OK;
}

/* A socket path: up to sizeof sun_path - 1 bytes; "@name" is a Linux
 * abstract socket (the "@" stands for the leading NUL). */
static int check_uds(const char *path)
{
    struct sockaddr_un sa;
    size_t n = strlen(path);
    return n > 0 && n < sizeof sa.sun_path ? FH_OK : FH_EINVAL;
}

static int set_uds(char **slot, const char *path)
{
    if (path && *path && check_uds(path) != FH_OK)
        return FH_EINVAL;
    char *d = path && *path ? strdup(path) : NULL;
    if (path && *path && !d)
        return FH_ENOMEM;
    free(*slot);
    *slot = d;
    return FH_OK;
}

int fh_client_set_unix_socket(fh_client *c, const char *path)
{
    if (!c)
        return FH_EINVAL;
    fh__proxy_config *cfg = cfg_of(c);
    return cfg ? set_uds(&cfg->uds, path) : FH_ENOMEM;
}

static struct fh__req_route *route_of(fh_request *r)
{
    if (!r->route)
        r->route = calloc(1, sizeof *r->route);
    return r->route;
}

int fh_request_set_proxy(fh_request *r, const char *url)
{
    if (!r)
        return FH_EINVAL;
    struct fh__req_route *rr = route_of(r);
    if (!rr)
        return FH_ENOMEM;
    fh__proxy_free(&rr->px);
    rr->set = 0;
    if (url && *url) {
        const char *why = NULL;
        int rc = fh__proxy_parse(&rr->px, url, strlen(url), &why);
        if (rc) {
            char shown[FH__ERRMSG / 2];
            fh_url_redact(url, strlen(url), shown, sizeof shown);
            fh__request_fail(r, "invalid proxy URL '%s': %s", shown, why ? why : "");
            return rc;
        }
    }
    rr->set = url != NULL;
    return FH_OK;
}

int fh_request_set_unix_socket(fh_request *r, const char *path)
{
    if (!r)
        return FH_EINVAL;
    struct fh__req_route *rr = route_of(r);
    return rr ? set_uds(&rr->uds, path) : FH_ENOMEM;
}

void fh__req_route_free(struct fh__req_route *rr)
{
    if (!rr)
        return;
    fh__proxy_free(&rr->px);
    free(rr->uds);
    free(rr);
}

int fh_proxy_check(const char *url, char *msg, size_t msglen)
{
    if (!url)
        return FH_EINVAL;
    fh__proxy p;
    const char *why = NULL;
    int rc = fh__proxy_parse(&p, url, strlen(url), &why);
    fh__proxy_free(&p);
    if (msg && msglen)
        snprintf(msg, msglen, "%s", rc ? (why ? why : fh_strerror(rc)) : "");
    return rc;
}

/* ---- the pick -------------------------------------------------------------- */

/* The route of a URL: FH_OK with *out set, or FH_EURL (message in err)
 * when the proxy that applies came from a malformed environment value. */
static int pick(const fh__proxy_config *cfg, const struct fh__req_route *rr, const fh__url *u,
                int upgrade, fh__route *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *uds = rr && rr->uds ? rr->uds : cfg ? cfg->uds : NULL;
    if (uds) { /* proxies never apply to Unix sockets */
        out->kind = FH__ROUTE_UNIX;
        out->uds = uds;
        return FH_OK;
    }
    const fh__proxy *p = NULL;
    if (rr && rr->set) {
        p = rr->px.kind ? &rr->px : NULL;
    } else if (cfg) {
        const px_slot *s = &cfg->slot[u->tls ? PS_HTTPS : PS_HTTP];
        if (s->state == 0)
            s = &cfg->slot[PS_ALL];
        if (s->state == 3 && !fh__noproxy_match(&cfg->no, u->host, u->port)) {
            snprintf(err, errlen, "%s", s->why);
            return FH_EURL;
        }
        p = s->state == 1 ? &s->px : NULL;
    }
    if (!p || (cfg && fh__noproxy_match(&cfg->no, u->host, u->port)))
        return FH_OK;
    out->kind = FH__ROUTE_PROXY;
    out->proxy = p;
    /* Plain http:// goes in forward mode (RFC 9112 §3.2.2) through HTTP
     * proxies; a request that asks to switch protocols (WebSocket) needs
     * the raw connection and so a tunnel. */
    out->forward = (p->kind == FH__PX_HTTP || p->kind == FH__PX_HTTPS) && !u->tls && !upgrade;
    return FH_OK;
}

int fh_client_proxy_for(fh_client *c, const char *url, char *out, size_t cap)
{
    if (!c || !url || (!out && cap))
        return FH_EINVAL;
    fh__url u = {0};
    const char *why = NULL;
    int rc = fh__url_parse(&u, url, strlen(url), &why);
    fh__route r;
    char err[160];
    if (rc == FH_OK)
        rc = pick(c->px, NULL, &u, 0, &r, err, sizeof err);
    fh__url_free(&u);
    if (rc)
        return rc;
    const char *shown = r.kind == FH__ROUTE_PROXY ? r.proxy->id : r.uds ? r.uds : "";
    if (cap)
        snprintf(out, cap, "%s%s", r.kind == FH__ROUTE_UNIX ? "unix:" : "", shown);
    return FH_OK;
}

/* ---- the exchange's hop ------------------------------------------------------ */

struct fh__xroute {
    fh__route route;
    fh__buf key;      /* the pool key, NUL-terminated */
    fh__buf target;   /* the absolute-form target in forward mode */
};

void fh__xroute_free(struct fh__xroute *rt)
{
    if (!rt)
        return;
    fh__buf_free(&rt->key);
    fh__buf_free(&rt->target);
    free(rt);
}

const fh__route *fh__ex_route(const fh__exchange *x)
{
    return x->rt && x->rt->route.kind ? &x->rt->route : NULL;
}

static int build_key(struct fh__xroute *rt, const char *origin)
{
    fh__buf *k = &rt->key;
    k->len = 0;
    const fh__route *r = &rt->route;
    int rc;
    if (r->kind == FH__ROUTE_UNIX) {
        rc = fh__buf_append_str(k, origin);
        if (!rc)
            rc = fh__buf_append_str(k, " unix=");
        if (!rc)
            rc = fh__buf_append_str(k, r->uds);
    } else if (r->forward) { /* one pool per proxy: any origin rides on it */
        rc = fh__buf_append_str(k, "fwd ");
        if (!rc)
            rc = fh__buf_append_str(k, r->proxy->id);
    } else {
        rc = fh__buf_append_str(k, origin);
        if (!rc)
            rc = fh__buf_append_str(k, " via=");
        if (!rc)
            rc = fh__buf_append_str(k, r->proxy->id);
    }
    return rc ? rc : fh__buf_append(k, "", 1);
}

/* Forward mode: "http://authority/path?query" (RFC 9112 §3.2.2). */
static int build_target(struct fh__xroute *rt, const fh__url *u)
{
    fh__buf *t = &rt->target;
    t->len = 0;
    int rc = fh__buf_append_str(t, "http://");
    if (!rc)
        rc = fh__buf_append_str(t, u->authority);
    if (!rc)
        rc = fh__buf_append_str(t, u->target);
    return rc ? rc : fh__buf_append(t, "", 1);
}

int fh__route_prepare(fh__exchange *x, size_t *n)
{
    fh_request *r = x->req;
    fh__route route;
    char err[160];
    int rc = pick(x->engine->client->px, r->route, x->url, x->upgrade, &route, err, sizeof err);
    if (rc) {
        fh__request_fail(r, "%s", err);
        return rc;
    }
    if (x->rt)
        x->rt->route.kind = FH__ROUTE_DIRECT; /* a previous hop's */
    if (!route.kind)
        return FH_OK; /* direct (NO_PROXY): nothing to allocate */
    if (!x->rt && !(x->rt = calloc(1, sizeof *x->rt))) {
        fh__request_fail(r, "out of memory");
        return FH_ENOMEM;
    }
    struct fh__xroute *rt = x->rt;
    rt->route = route;
    if ((rc = build_key(rt, x->pool_key)) == FH_OK && rt->route.forward)
        rc = build_target(rt, x->url);
    if (rc) {
        fh__request_fail(r, "out of memory");
        return rc;
    }
    x->host_key = (const char *)rt->key.data;
    if (rt->route.forward) {
        x->target = (const char *)rt->target.data;
        x->http2 = FH_HTTP2_OFF; /* the proxy is spoken to in HTTP/1.1 */
        const char *auth = rt->route.proxy->auth;
        if (auth && !fh__request_has_header(r, "Proxy-Authorization"))
            x->hdrs[(*n)++] = (fh_header){"Proxy-Authorization", 19, auth, strlen(auth)};
    }
    return FH_OK;
}
