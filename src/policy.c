/*
 * policy.c — the engine's decisions between attempts and hops: retries
 * (RFC 9110 §9.2.2 idempotency, §10.2.3 Retry-After), the circuit breaker,
 * redirects (RFC 9110 §15.4) and credentials (RFC 7617 Basic, RFC 7616
 * Digest). A transfer keeps one fh__policy; when a response head arrives,
 * fh__policy_on_head() decides whether it is final or whether the transfer
 * goes on to another hop (redirect, auth challenge) or attempt (retry).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "abi.h"
#include "auth.h"
#include "cookies.h"
#include "retry.h"

typedef struct fh__policy {
    fh_retry_policy retry;
    int follow, max_redirects, redirects;
    int attempts;                 /* attempts made so far, 1-based */
    /* the current hop when it differs from the request's URL */
    fh__url hop_url;
    char *hop_str, *hop_key;
    int stripped;                 /* an origin change dropped credentials for good */
    fh_response **history;
    size_t nhistory, hcap;
    /* credentials */
    int auth_kind;
    char *user, *pass;
    /* Credentials from the URL (or a Location with user:pass@), sent as
     * Basic only to the origin they came with (url_origin, a pool key). */
    char *url_user, *url_pass, *url_origin;
    fh__digest digest;
    int digest_ready, digest_rounds;
    fh__buf auth_value;
    fh__buf cookie_value;
    /* breaker and backoff */
    fh__pool_host *bhost;
    int need_admit, admitted, trial;
    int64_t delay_us;
    uint64_t rng;
    int refusals;                 /* requests the server did not process (HTTP/2) */
} fh__policy;

/* Headers that belong to the request's origin: credentials, cookies and a
 * caller's Host override stay behind when a redirect leaves it. */
static int is_sensitive(const char *n, size_t len)
{
    return (len == 4 && strncasecmp(n, "host", 4) == 0) ||
           (len == 13 && strncasecmp(n, "authorization", 13) == 0) ||
           (len == 19 && strncasecmp(n, "proxy-authorization", 19) == 0) ||
           (len == 6 && strncasecmp(n, "cookie", 6) == 0);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int fh__policy_init(fh__exchange *x)
{
    fh_request *r = x->req;
    fh_client *c = x->engine->client;
    /* A recycled exchange (fh__ex_new) brings its policy memory along. */
    fh__policy *p = x->pol_mem ? x->pol_mem : malloc(sizeof *p);
    if (!p)
        return FH_ENOMEM;
    memset(p, 0, sizeof *p);
    x->pol = x->pol_mem = p;
    /* c->retry holds the defaults until the caller sets a policy. */
    p->retry = r->has_retry ? r->retry : c->retry;
    p->follow = r->follow_redirects >= 0 ? r->follow_redirects : c->follow_redirects;
    p->max_redirects = r->max_redirects >= 0 ? r->max_redirects : c->max_redirects;
    p->attempts = 1;
    p->need_admit = 1;
    p->auth_kind = r->auth_kind >= 0 ? r->auth_kind : c->auth_kind;
    const char *u = r->auth_kind >= 0 ? r->auth_user : c->auth_user;
    const char *pw = r->auth_kind >= 0 ? r->auth_pass : c->auth_pass;
    if (p->auth_kind && (!(p->user = dup_or_null(u)) || !(p->pass = dup_or_null(pw))))
        return FH_ENOMEM;
    if (r->url_user && (!(p->url_user = strdup(r->url_user)) ||
                        !(p->url_pass = dup_or_null(r->url_pass ? r->url_pass : "")) ||
                        !(p->url_origin = strdup(r->pool_key))))
        return FH_ENOMEM;
    fh__digest_init(&p->digest);
    p->digest.want = r->digest_alg >= 0 ? r->digest_alg : c->digest_alg;
    p->rng = (uint64_t)x->t_start ^ (uint64_t)(uintptr_t)x;
    return FH_OK;
}

/* Overwrites and frees a secret. */
static void free_secret(char *s)
{
    if (s)
        memset(s, 0, strlen(s));
    free(s);
}

static void drop_url_credentials(fh__policy *p)
{
    free(p->url_user);
    free_secret(p->url_pass);
    free(p->url_origin);
    p->url_user = p->url_pass = p->url_origin = NULL;
}

static void free_history(fh__policy *p)
{
    for (size_t i = 0; i < p->nhistory; i++)
        fh_response_free(p->history[i]);
    free(p->history);
    p->history = NULL;
    p->nhistory = p->hcap = 0;
}

void fh__policy_free(fh__exchange *x)
{
    fh__policy *p = x->pol;
    if (!p)
        return;
    if (p->admitted && p->trial)
        fh__breaker_abandon(&x->engine->client->pool, p->bhost);
    free_history(p);
    fh__url_free(&p->hop_url);
    free(p->hop_str);
    free(p->hop_key);
    free(p->user);
    free_secret(p->pass);
    drop_url_credentials(p);
    fh__digest_free(&p->digest);
    fh__buf_free(&p->auth_value);
    fh__buf_free(&p->cookie_value);
    x->pol = NULL; /* the memory stays with x (fh__ex_destroy frees it) */
}

/* ---- headers of a hop --------------------------------------------------- */

int fh__policy_skip_header(const fh__exchange *x, const char *name, size_t len)
{
    /* Credentials the caller set never follow a change of origin. */
    return x->pol->stripped && (is_sensitive(name, len) || fh__request_is_sensitive(x->req, name, len));
}

/* Cookie: from the request's jar or the client's, for this hop's URL. */
static void cookie_header(fh__exchange *x, fh_header *extra, size_t *n)
{
    fh__policy *p = x->pol;
    fh_cookie_jar *jar = x->req->jar ? x->req->jar : x->engine->client->jar;
    if (!jar || (!p->stripped && fh__request_has_header(x->req, "Cookie")))
        return;
    p->cookie_value.len = 0;
    if (fh__jar_header(jar, x->url, &p->cookie_value) > 0)
        extra[(*n)++] = (fh_header){"Cookie", 6, (const char *)p->cookie_value.data,
                                    p->cookie_value.len};
}

/* Which credentials this hop sends: the caller's (request, then client)
 * while the request stays at its origin; else those of the URL when the
 * hop is at the URL's origin (RFC 7617 with credentials from RFC 3986
 * §3.2.1 userinfo, as requests and httpx do); else none. */
static int hop_auth(const fh__exchange *x, const char **user, const char **pass)
{
    const fh__policy *p = x->pol;
    if (p->auth_kind && !p->stripped) {
        *user = p->user;
        *pass = p->pass;
        return p->auth_kind;
    }
    if (p->url_user && strcmp(p->url_origin, x->pool_key) == 0) {
        *user = p->url_user;
        *pass = p->url_pass;
        return FH_AUTH_BASIC;
    }
    return FH_AUTH_NONE;
}

int fh__policy_headers(fh__exchange *x, fh_header *extra, size_t *n)
{
    fh__policy *p = x->pol;
    *n = 0;
    cookie_header(x, extra, n);
    const char *user = NULL, *pass = NULL;
    int kind = hop_auth(x, &user, &pass);
    if (!kind || (!p->stripped && fh__request_has_header(x->req, "Authorization")))
        return FH_OK;
    p->auth_value.len = 0;
    int rc = FH_OK;
    if (kind == FH_AUTH_BASIC)
        rc = fh__auth_basic(&p->auth_value, user, pass);
    else if (kind == FH_AUTH_DIGEST && p->digest_ready)
        rc = fh__digest_authorization(&p->digest, user, pass, x->method, x->url->target,
                                      &p->auth_value);
    else
        return FH_OK;
    if (rc) {
        fh__request_fail(x->req, "cannot build the Authorization header: %s", fh_strerror(rc));
        return rc;
    }
    extra[(*n)++] = (fh_header){"Authorization", 13, (const char *)p->auth_value.data,
                                p->auth_value.len};
    return FH_OK;
}

/* ---- circuit breaker ---------------------------------------------------- */

int fh__policy_admit(fh__exchange *x)
{
    fh__policy *p = x->pol;
    if (!p->need_admit)
        return FH_OK;
    p->need_admit = 0;
    if (!p->retry.circuit_breaker)
        return FH_OK;
    fh_client *c = x->engine->client;
    /* x->host is the entry for x->pool_key: the exchange looked it up just
     * before asking. */
    if (!(p->bhost = x->host ? x->host : fh__pool_host_get(&c->pool, x->pool_key)))
        return FH_ENOMEM;
    int rc = fh__breaker_admit(&c->pool, p->bhost, &p->retry, fh__client_now(c), &p->trial);
    if (rc) {
        fh__request_fail(x->req, "circuit breaker open for %s: refusing requests for %g s "
                         "after %d consecutive failures", x->pool_key,
                         p->retry.cb_recovery_seconds, p->retry.cb_failure_threshold);
        return rc;
    }
    p->admitted = 1;
    return FH_OK;
}

static void record(fh__exchange *x, int failed)
{
    fh__policy *p = x->pol;
    if (!p->admitted)
        return;
    p->admitted = 0;
    fh_client *c = x->engine->client;
    fh__breaker_record(&c->pool, p->bhost, &p->retry, failed, p->trial, fh__client_now(c));
}

/* ---- retries ------------------------------------------------------------ */

static int may_repeat(const fh__exchange *x)
{
    const fh__policy *p = x->pol;
    return p->attempts < p->retry.max_attempts && !x->req->body_fn &&
           (x->req->idempotent || p->retry.retry_non_idempotent);
}

/* Schedules the next attempt after delay, unless it would end after the
 * total deadline (retries stop there). Returns 1 when scheduled. */
static int schedule(fh__exchange *x, int64_t delay)
{
    if (x->total_deadline && fh__now_us() + delay >= x->total_deadline)
        return 0;
    x->pol->delay_us = delay;
    x->pol->attempts++;
    x->pol->need_admit = 1; /* every attempt passes the breaker and counts */
    return 1;
}

static int64_t retry_after(fh__exchange *x)
{
    fh__policy *p = x->pol;
    size_t len = 0;
    const char *v = fh_response_header(x->resp, "Retry-After", &len);
    int64_t wait;
    if (!p->retry.respect_retry_after || !v ||
        fh__retry_after_us(v, len, (int64_t)time(NULL), &wait) != FH_OK)
        return -1;
    int64_t cap = (int64_t)(p->retry.retry_after_max * 1e6);
    return wait < cap ? wait : cap;
}

/* Failures the policy retries (retry_errors: by default the connection
 * failures; protocol errors and TLS verification failures would usually
 * fail the same way again). They count against the breaker, as listed
 * statuses do. */
static int is_listed_error(const fh_retry_policy *p, int code)
{
    for (int i = 0; i < p->n_retry_errors; i++)
        if (p->retry_errors[i] == code)
            return 1;
    return 0;
}

/* Refusals sent again when the request has no total timeout to bound them. */
#define REFUSALS_MAX 50

/* RFC 9113 §8.7: a request the server did not process (REFUSED_STREAM, or
 * above a GOAWAY's last-stream-id) may go again whatever its method, at
 * once, on another connection. Bounded by the request's deadline rather
 * than a small count: under load one request can meet several GOAWAYs in a
 * row, and failing a request that was never processed would be wrong. A
 * body already read from its reader cannot be sent again. */
static int retry_refused(fh__exchange *x)
{
    fh__policy *p = x->pol;
    if (x->req->body_fn && x->body_sent > 0)
        return 0;
    if (x->total_deadline ? fh__now_us() >= x->total_deadline : ++p->refusals > REFUSALS_MAX)
        return 0;
    if (p->admitted) {
        p->admitted = 0; /* neither a failure nor a success of the origin */
        if (p->trial)
            fh__breaker_abandon(&x->engine->client->pool, p->bhost);
    }
    p->delay_us = 0;
    p->need_admit = 1;
    return 1;
}

int fh__policy_on_error(fh__exchange *x, int code)
{
    if (!x->pol || x->completed)
        return 0;
    if (code == FH_EREFUSED)
        return retry_refused(x);
    int listed = is_listed_error(&x->pol->retry, code);
    record(x, listed);
    if (!listed || !may_repeat(x))
        return 0;
    return schedule(x, fh__retry_backoff_us(&x->pol->retry, x->pol->attempts, &x->pol->rng));
}

/* ---- redirects (RFC 9110 §15.4) ----------------------------------------- */

static int is_redirect(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static int same_origin(const fh__url *a, const fh__url *b)
{
    return a->tls == b->tls && a->port == b->port && strcmp(a->host, b->host) == 0;
}

static int redirect_fail(fh__exchange *x, int code, const char *what, const char *loc, size_t len)
{
    char shown[201]; /* a Location may carry credentials too */
    fh_url_redact(loc, loc ? len : 0, shown, sizeof shown);
    fh__request_fail(x->req, "%s: redirect %d from %s to '%s'", what, x->resp->status,
                     x->pol->hop_str ? x->pol->hop_str : x->req->url_str, shown);
    return code;
}

/* A Location's user:pass@ become the credentials of its origin; the URL
 * kept for the hop (messages, history, fh_response_url) is without them. */
static int hop_credentials(fh__policy *p, const fh__url *u, const char *key)
{
    char *user = NULL, *pass = NULL;
    const char *why = NULL;
    int rc = fh__url_credentials(u, &user, &pass, &why);
    char *origin = rc == FH_OK && user ? strdup(key) : NULL;
    if (rc == FH_OK && user && (!origin || (!pass && !(pass = strdup("")))))
        rc = FH_ENOMEM;
    if (rc != FH_OK || !user) {
        free(user);
        free_secret(pass);
        free(origin);
        return rc;
    }
    drop_url_credentials(p);
    p->url_user = user;
    p->url_pass = pass;
    p->url_origin = origin;
    return FH_OK;
}

static int adopt_hop(fh__exchange *x, char *abs)
{
    fh__policy *p = x->pol;
    fh__url u = {0};
    const char *why = NULL;
    size_t alen = strlen(abs);
    int rc = fh__url_parse(&u, abs, alen, &why);
    char *key = rc ? NULL : fh__url_pool_key(&u);
    char *shown = rc ? NULL : fh__url_strip_userinfo(u.href, strlen(u.href));
    free(abs);
    if (!rc && (!key || !shown))
        rc = FH_ENOMEM;
    if (!rc)
        rc = hop_credentials(p, &u, key);
    if (rc) {
        fh__url_free(&u);
        free(key);
        free(shown);
        return rc;
    }
    if (!same_origin(&u, &x->req->url))
        p->stripped = 1; /* credentials and cookies set by the caller stay behind */
    fh__url_free(&p->hop_url);
    free(p->hop_str);
    free(p->hop_key);
    p->hop_url = u;
    p->hop_str = shown;
    p->hop_key = key;
    x->url = &p->hop_url;
    x->pool_key = p->hop_key;
    x->host = NULL;
    p->need_admit = 1;
    return FH_OK;
}

static int push_history(fh__policy *p, fh_response *r)
{
    if (p->nhistory == p->hcap) {
        size_t cap = p->hcap ? p->hcap * 2 : 4;
        fh_response **h = realloc(p->history, cap * sizeof *h);
        if (!h)
            return FH_ENOMEM;
        p->history = h;
        p->hcap = cap;
    }
    p->history[p->nhistory++] = r;
    return FH_OK;
}

static int follow(fh__exchange *x)
{
    fh__policy *p = x->pol;
    int status = x->resp->status;
    size_t len = 0;
    const char *loc = fh_response_header(x->resp, "Location", &len);
    if (!loc)
        return redirect_fail(x, FH_EREDIRECT, "no Location header", NULL, 0);
    if (++p->redirects > p->max_redirects)
        return redirect_fail(x, FH_ETOO_MANY_REDIRECTS, "too many redirects", loc, len);
    char *abs = NULL;
    int rc = fh__url_resolve(x->url, loc, len, &abs);
    if (rc == FH_OK)
        rc = adopt_hop(x, abs);
    if (rc)
        return redirect_fail(x, FH_EREDIRECT, rc == FH_EUNSUPPORTED
                             ? "redirect to a scheme other than http or https"
                             : "invalid Location", loc, len);
    /* 301/302/303 make the next request a GET without content (§15.4.2-4);
     * 307/308 repeat method and content (§15.4.8-9). */
    if ((status <= 303) && strcmp(x->method, "GET") && strcmp(x->method, "HEAD")) {
        x->method = "GET";
        x->method_len = 3;
        x->send_body = 0;
    } else if (x->send_body && x->req->body_fn) {
        fh__request_fail(x->req, "cannot repeat a streamed request body for the %d redirect "
                         "to %s", status, p->hop_str);
        return FH_ENOT_REPLAYABLE;
    }
    rc = push_history(p, x->resp);
    if (rc == FH_OK)
        x->resp = NULL;
    p->delay_us = 0;
    return rc ? rc : 1;
}

/* ---- Digest challenge (RFC 7616 §3.3) ------------------------------------ */

static int digest_challenge(fh__exchange *x)
{
    fh__policy *p = x->pol;
    if (x->req->body_fn)
        return 0;
    fh__digest_begin(&p->digest);
    int ok = 0;
    size_t pos = 0;
    fh_header h;
    while (fh_response_header_next(x->resp, "WWW-Authenticate", &pos, &h) == FH_OK)
        ok |= fh__digest_challenge(&p->digest, h.value, h.value_len, NULL) == FH_OK;
    /* One answer per request; a second only when the server said the nonce
     * was merely stale. Another 401 after that is the caller's to see. */
    if (!ok || (p->digest_rounds && !(p->digest.stale && p->digest_rounds < 2)))
        return 0;
    p->digest_ready = 1;
    p->digest_rounds++;
    p->delay_us = 0;
    return 1;
}

/* ---- the decision --------------------------------------------------------- */

static void finish_response(fh__exchange *x)
{
    fh__policy *p = x->pol;
    fh_response *r = x->resp;
    r->attempts = p->attempts;
    r->history = p->history;
    r->nhistory = p->nhistory;
    p->history = NULL;
    p->nhistory = p->hcap = 0;
}

/* RFC 6265 §5.3: every response updates the jar, redirect hops included. */
static void store_cookies(fh__exchange *x)
{
    /* The client's jar keeps them; a request's own jar also learns them so
     * the next hop of this request sends them. */
    fh_cookie_jar *jars[2] = {x->engine->client->jar, x->req->jar};
    if (!jars[0] && !jars[1])
        return;
    size_t pos = 0;
    fh_header h;
    while (fh_response_header_next(x->resp, "Set-Cookie", &pos, &h) == FH_OK) {
        for (int i = 0; i < 2; i++)
            if (jars[i] && (i == 0 || jars[1] != jars[0]))
                fh__jar_store(jars[i], x->url, h.value, h.value_len, NULL); /* bad: ignored */
    }
}

int fh__policy_on_head(fh__exchange *x)
{
    fh__policy *p = x->pol;
    int status = x->resp->status;
    store_cookies(x);
    int listed = fh__retry_status_listed(&p->retry, status);
    record(x, listed);
    if (status == 401 && p->auth_kind == FH_AUTH_DIGEST && !p->stripped && digest_challenge(x))
        return 1;
    if (p->follow && is_redirect(status))
        return follow(x);
    if (listed && may_repeat(x)) {
        int64_t wait = retry_after(x);
        if (wait < 0)
            wait = fh__retry_backoff_us(&p->retry, p->attempts, &p->rng);
        if (schedule(x, wait))
            return 1;
    }
    finish_response(x);
    return 0;
}

const char *fh__policy_url(const fh__exchange *x)
{
    return x->pol->hop_str ? x->pol->hop_str : x->req->url_str;
}

int64_t fh__policy_delay(fh__exchange *x)
{
    int64_t d = x->pol->delay_us;
    x->pol->delay_us = 0;
    return d;
}

/* ---- public setters -------------------------------------------------------- */

/* Copies the caller's policy, laid out by whichever header it was compiled
 * with, into ours: the fields its struct_size covers, and our defaults for
 * the fields added after its header. Only struct_size, which every layout
 * starts with, is read before the size is known to be valid. */
static int copy_retry(fh_retry_policy *dst, const fh_retry_policy *src)
{
    size_t size = src->struct_size;
    if (size < FH__RETRY_POLICY_SIZE_V1)
        return FH_EINVAL; /* not filled by fh_retry_policy_init() */
    if (size > sizeof *dst)
        return FH_EUNSUPPORTED; /* fields of a newer fasthttp that we would ignore */
    fh_retry_policy_init_sized(dst, sizeof *dst);
    memcpy(dst, src, size);
    dst->struct_size = sizeof *dst;
    return fh_retry_policy_check(dst, NULL, 0);
}

int fh_client_set_retry(fh_client *c, const fh_retry_policy *p)
{
    fh_retry_policy copy;
    int rc = c ? FH_OK : FH_EINVAL;
    if (rc == FH_OK && p)
        rc = copy_retry(&copy, p);
    if (rc != FH_OK)
        return rc;
    c->has_retry = p != NULL;
    if (p)
        c->retry = copy;
    else
        fh_retry_policy_init(&c->retry); /* the defaults again */
    return FH_OK;
}

int fh_request_set_retry(fh_request *r, const fh_retry_policy *p)
{
    fh_retry_policy copy;
    int rc = r ? FH_OK : FH_EINVAL;
    if (rc == FH_OK && p)
        rc = copy_retry(&copy, p);
    if (rc != FH_OK)
        return rc;
    r->has_retry = p != NULL;
    if (p)
        r->retry = copy;
    return FH_OK;
}

int fh_client_set_clock(fh_client *c, int64_t (*now_us)(void *), void *ud)
{
    if (!c)
        return FH_EINVAL;
    c->clock = now_us;
    c->clock_ud = ud;
    return FH_OK;
}

int64_t fh__client_now(const fh_client *c)
{
    return c->clock ? c->clock(c->clock_ud) : fh__now_us();
}

int fh_client_circuit_state(fh_client *c, const char *origin)
{
    if (!c || !origin)
        return FH_EINVAL;
    fh__pool_host *h = fh__pool_host_get(&c->pool, origin);
    if (!h)
        return FH_ENOMEM;
    fh__pool_lock(&c->pool);
    int s = h->cb_state;
    fh__pool_unlock(&c->pool);
    return s;
}

int fh_client_set_cookie_jar(fh_client *c, fh_cookie_jar *jar)
{
    if (!c)
        return FH_EINVAL;
    c->jar = jar;
    return FH_OK;
}

int fh_request_set_cookie_jar(fh_request *r, fh_cookie_jar *jar)
{
    if (!r)
        return FH_EINVAL;
    r->jar = jar;
    return FH_OK;
}

int fh_client_set_redirects(fh_client *c, int follow_, int max)
{
    if (!c || max < 0)
        return FH_EINVAL;
    c->follow_redirects = follow_ != 0;
    c->max_redirects = max;
    return FH_OK;
}

int fh_request_set_redirects(fh_request *r, int follow_, int max)
{
    if (!r || max < -1)
        return FH_EINVAL;
    r->follow_redirects = follow_ < 0 ? -1 : follow_ != 0;
    r->max_redirects = max;
    return FH_OK;
}

static int set_auth(int *kind, char **user, char **pass, fh_auth_kind k, const char *u,
                    const char *pw)
{
    /* Bad credentials fail here, where the caller set them, not later as an
     * invalid request header. */
    if (fh_auth_check(k, u, pw, NULL, 0) != FH_OK)
        return FH_EINVAL;
    char *nu = k ? strdup(u) : NULL, *np = k ? strdup(pw) : NULL;
    if (k && (!nu || !np)) {
        free(nu);
        free(np);
        return FH_ENOMEM;
    }
    free(*user);
    free(*pass);
    *user = nu;
    *pass = np;
    *kind = (int)k;
    return FH_OK;
}

int fh_client_set_auth(fh_client *c, fh_auth_kind k, const char *u, const char *pw)
{
    return c ? set_auth(&c->auth_kind, &c->auth_user, &c->auth_pass, k, u, pw) : FH_EINVAL;
}

int fh_request_set_auth(fh_request *r, fh_auth_kind k, const char *u, const char *pw)
{
    return r ? set_auth(&r->auth_kind, &r->auth_user, &r->auth_pass, k, u, pw) : FH_EINVAL;
}

int fh_digest_algorithm_check(const char *algorithm)
{
    return fh__digest_algorithm(algorithm) < 0 ? FH_EINVAL : FH_OK;
}

static int set_digest_algorithm(int *slot, const char *algorithm)
{
    int want = fh__digest_algorithm(algorithm);
    if (!slot || want < 0)
        return FH_EINVAL;
    *slot = want;
    return FH_OK;
}

int fh_client_set_digest_algorithm(fh_client *c, const char *algorithm)
{
    return set_digest_algorithm(c ? &c->digest_alg : NULL, algorithm);
}

int fh_request_set_digest_algorithm(fh_request *r, const char *algorithm)
{
    return set_digest_algorithm(r ? &r->digest_alg : NULL, algorithm);
}
