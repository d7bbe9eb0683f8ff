/*
 * cookies.c — the cookie jar: the storage model (RFC 6265 §5.3) fed by
 * Set-Cookie (parsed in cookie_parse.c), the Cookie header (§5.4) and the
 * public API, with the parts of RFC 6265bis that make a client safer (cookie
 * name prefixes, a plain-http response may not shadow a Secure cookie).
 *
 * The jar is a vector of cookies in creation order under one mutex; every
 * operation is an O(n) scan, and n is capped at FH_COOKIE_MAX_TOTAL.
 */
#include <arpa/inet.h>
#include <libpsl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cookies.h"
#include "fork.h"

#define MAX_DATE FH__COOKIE_MAX_DATE
#define MAX_DOMAIN FH__COOKIE_MAX_DOMAIN

typedef struct ck {
    uint64_t created;       /* creation order; kept on replacement (§5.3 step 11) */
    uint64_t accessed;      /* last-access order, for eviction (§5.3) */
    int64_t expires;        /* seconds since the epoch, -1: session */
    const char *same_site;  /* static string or NULL */
    const char *group;      /* registrable domain, inside domain: per-domain cap */
    char *value, *domain, *path;
    size_t name_len, value_len, path_len, size;
    unsigned char secure, http_only, host_only;
    char name[];            /* name\0value\0domain\0path\0, size bytes */
} ck;

struct fh_cookie_jar {
    pthread_mutex_t lock;   /* registered for fork (fork.h): held by no one in a child */
    fh__fork_lock fork_node;
    ck **v;
    size_t n, cap;
    uint64_t tick;          /* source of the created/accessed orders */
    int64_t (*now)(void *ud);
    void *ud;
};

typedef fh__span span;

static int fail(const char **why, const char *msg, int code)
{
    if (why)
        *why = msg;
    return code;
}

static int is_ip_literal(const char *s)
{
    unsigned char bin[16];
    return inet_pton(AF_INET, s, bin) == 1 || inet_pton(AF_INET6, s, bin) == 1;
}

/* ---- the Public Suffix List -------------------------------------------- */

static pthread_once_t psl_once = PTHREAD_ONCE_INIT;
static const psl_ctx_t *psl;

static void psl_init(void)
{
    psl = psl_builtin();
    if (!psl)
        psl = psl_latest(NULL);
}

/* §5.3 step 5. Without a list no Domain attribute can be trusted, so every
 * domain counts as a public suffix then. The root dot is dropped first, or
 * "co.uk." would slip past the list. */
static int public_suffix(const char *d, size_t n)
{
    char tmp[FH__COOKIE_MAX_ATTR + 1];
    pthread_once(&psl_once, psl_init);
    if (!psl)
        return 1;
    if (n > 0 && d[n - 1] == '.')
        n--;
    memcpy(tmp, d, n);
    tmp[n] = '\0';
    return psl_is_public_suffix2(psl, tmp, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE);
}

/* The registrable domain (eTLD+1) inside d, as browsers count their
 * per-domain cap; d itself for IP addresses and when there is none. */
static const char *group_of(const char *d)
{
    pthread_once(&psl_once, psl_init);
    if (!psl || d[0] == '\0' || is_ip_literal(d))
        return d;
    const char *r = psl_registrable_domain(psl, d);
    return r ? r : d;
}

/* ---- the jar's storage ---------------------------------------------------- */

static int64_t jar_now(fh_cookie_jar *jar)
{
    return jar->now ? jar->now(jar->ud) : (int64_t)time(NULL);
}

static int expired(const ck *k, int64_t now)
{
    return k->expires >= 0 && k->expires <= now;
}

static ck *ck_new(span name, span value, const char *domain, span path)
{
    size_t dl = strlen(domain), size = name.n + value.n + dl + path.n + 4;
    ck *k = malloc(sizeof *k + size);
    if (!k)
        return NULL;
    memset(k, 0, sizeof *k);
    k->size = size;
    k->name_len = name.n, k->value_len = value.n, k->path_len = path.n;
    k->value = k->name + name.n + 1;
    k->domain = k->value + value.n + 1;
    k->path = k->domain + dl + 1;
    memcpy(k->name, name.p, name.n);
    k->name[name.n] = '\0';
    memcpy(k->value, value.p, value.n);
    k->value[value.n] = '\0';
    memcpy(k->domain, domain, dl + 1);
    memcpy(k->path, path.p, path.n);
    k->path[path.n] = '\0';
    k->group = group_of(k->domain);
    k->expires = -1;
    return k;
}

static void remove_at(fh_cookie_jar *jar, size_t i)
{
    free(jar->v[i]);
    memmove(jar->v + i, jar->v + i + 1, (jar->n - i - 1) * sizeof *jar->v);
    jar->n--;
}

/* Drops expired cookies, keeping the order of the rest (§5.3, last para). */
static void purge(fh_cookie_jar *jar, int64_t now)
{
    size_t w = 0;
    for (size_t r = 0; r < jar->n; r++) {
        if (expired(jar->v[r], now))
            free(jar->v[r]);
        else
            jar->v[w++] = jar->v[r];
    }
    jar->n = w;
}

static int same_key(const ck *a, const ck *b)
{
    return a->name_len == b->name_len && memcmp(a->name, b->name, a->name_len) == 0 &&
           strcmp(a->domain, b->domain) == 0 && strcmp(a->path, b->path) == 0;
}

static size_t find_key(fh_cookie_jar *jar, const ck *k)
{
    size_t i = 0;
    while (i < jar->n && !same_key(jar->v[i], k))
        i++;
    return i;
}

/* The index of the least recently used cookie, within group when it is not
 * NULL, and how many were looked at. */
static size_t lru(fh_cookie_jar *jar, const char *group, size_t *count)
{
    size_t best = jar->n;
    *count = 0;
    for (size_t i = 0; i < jar->n; i++) {
        if (group && strcmp(jar->v[i]->group, group) != 0)
            continue;
        ++*count;
        if (best == jar->n || jar->v[i]->accessed < jar->v[best]->accessed)
            best = i;
    }
    return best;
}

/* §5.3, last paragraphs: over a cap, the least recently used cookie goes
 * (expired ones have been purged already). */
static void evict(fh_cookie_jar *jar, const char *group)
{
    size_t count, i = lru(jar, group, &count);
    if (count > FH_COOKIE_MAX_PER_DOMAIN)
        remove_at(jar, i);
    if (jar->n > FH_COOKIE_MAX_TOTAL) {
        i = lru(jar, NULL, &count);
        remove_at(jar, i);
    }
}

/* §5.3 steps 11-12: replaces the cookie with the same name, domain and path,
 * keeping its creation time and place, or appends k; an expired k only
 * deletes. Takes ownership of k. */
static int put(fh_cookie_jar *jar, ck *k, int64_t now)
{
    size_t i = find_key(jar, k);
    if (expired(k, now)) {
        if (i < jar->n)
            remove_at(jar, i);
        free(k);
        return FH_OK;
    }
    k->accessed = ++jar->tick;
    if (i < jar->n) {
        k->created = jar->v[i]->created;
        free(jar->v[i]);
        jar->v[i] = k;
        return FH_OK;
    }
    if (jar->n == jar->cap) {
        size_t cap = jar->cap ? jar->cap * 2 : 16;
        ck **v = realloc(jar->v, cap * sizeof *v);
        if (!v) {
            free(k);
            return FH_ENOMEM;
        }
        jar->v = v, jar->cap = cap;
    }
    k->created = ++jar->tick;
    jar->v[jar->n++] = k;
    evict(jar, k->group);
    return FH_OK;
}

/* ---- storing a Set-Cookie (§5.3) ----------------------------------------- */

/* §5.3 steps 4-6: the cookie's domain (the Domain attribute, already
 * lower-cased) or the host for a host-only cookie. */
static int store_domain(const fh__setcookie *c, const fh__url *u, const char **dom,
                        int *host_only, const char **why)
{
    size_t n = c->has_domain ? c->domain_len : 0;
    const char *d = c->domain;
    *dom = u->host, *host_only = 1;
    if (n == 0)
        return FH_OK;
    int same = strcmp(d, u->host) == 0;
    /* An IP address has no subdomains: Domain may only repeat it. */
    if (u->host_is_ip)
        return same ? FH_OK : fail(why, "Domain attribute on an IP address host", FH_EINVAL);
    if (!fh__cookie_domain_match(u->host, 0, d))
        return fail(why, "Domain attribute does not domain-match the host", FH_EINVAL);
    /* Step 5: a public suffix is refused, unless it is the host itself,
     * which then gets a host-only cookie. */
    if (public_suffix(d, n))
        return same ? FH_OK : fail(why, "Domain attribute is a public suffix", FH_EINVAL);
    *dom = d, *host_only = 0;
    return FH_OK;
}

/* 6265bis §4.1.3: the "__Secure-" and "__Host-" name prefixes promise the
 * server set them over https, with Secure, and "__Host-" only for its own
 * host at path "/". */
static int check_prefix(const fh__setcookie *c, int host_only, span path, const char **why)
{
    if (c->prefix == FH__COOKIE_PREFIX_SECURE && !c->secure)
        return fail(why, "__Secure- cookie without the Secure attribute", FH_EINVAL);
    if (c->prefix == FH__COOKIE_PREFIX_HOST &&
        !(c->secure && host_only && c->has_path && path.n == 1 && path.p[0] == '/'))
        return fail(why, "__Host- cookie must be Secure, host-only and at Path=/",
                    FH_EINVAL);
    return FH_OK;
}

static int domains_related(const char *a, const char *b)
{
    return !*a || !*b || fh__cookie_domain_match(a, 0, b) || fh__cookie_domain_match(b, 0, a);
}

/* 6265bis §5.7 step 16: a cookie from plain http may not overwrite or
 * shadow a Secure cookie of the same name on a related domain. */
static int shadows_secure(fh_cookie_jar *jar, const ck *k)
{
    for (size_t i = 0; i < jar->n; i++) {
        const ck *o = jar->v[i];
        if (o->secure && o->name_len == k->name_len &&
            memcmp(o->name, k->name, k->name_len) == 0 && domains_related(o->domain, k->domain) &&
            fh__cookie_path_match(k->path, k->path_len, o->path))
            return 1;
    }
    return 0;
}

/* §5.3 step 3: Max-Age wins over Expires; Max-Age <= 0 means "the earliest
 * representable time", 0 here (-1 is the session marker). */
static int64_t expiry(const fh__setcookie *c, int64_t now)
{
    if (c->has_max_age) {
        int64_t base = now < 0 ? 0 : now > MAX_DATE ? MAX_DATE : now;
        if (c->max_age <= 0)
            return 0;
        return c->max_age > MAX_DATE - base ? MAX_DATE : base + c->max_age;
    }
    if (c->has_expires)
        return c->expires < 0 ? 0 : c->expires;
    return -1;
}

static int store_locked(fh_cookie_jar *jar, const fh__url *u, const fh__setcookie *c, ck *k,
                        const char **why)
{
    int64_t now = jar_now(jar);
    purge(jar, now);
    k->expires = expiry(c, now);
    if (!c->secure && !u->tls && shadows_secure(jar, k)) {
        free(k);
        return fail(why, "cookie from http would shadow a Secure cookie", FH_EINVAL);
    }
    int rc = put(jar, k, now);
    return rc ? fail(why, "out of memory", rc) : FH_OK;
}

int fh__jar_store(fh_cookie_jar *jar, const fh__url *u, const char *value, size_t len,
                  const char **why)
{
    fh__setcookie c;
    const char *dom;
    int host_only;
    if (!jar || !u || (!value && len))
        return fail(why, "invalid argument", FH_EINVAL);
    if (!value)
        value = "";
    int rc = fh__setcookie_parse(value, len, &c, why);
    if (!rc)
        rc = store_domain(&c, u, &dom, &host_only, why);
    if (rc)
        return rc;
    span path = c.path;
    if (!c.has_path)
        path.n = fh__cookie_default_path(u->target, &path.p);
    /* 6265bis §5.7 step 15: Secure is for secure origins only. */
    if (c.secure && !u->tls)
        return fail(why, "Secure cookie set over http", FH_EINVAL);
    if ((rc = check_prefix(&c, host_only, path, why)) != 0)
        return rc;
    ck *k = ck_new(c.name, c.value, dom, path);
    if (!k)
        return fail(why, "out of memory", FH_ENOMEM);
    k->secure = (unsigned char)c.secure, k->http_only = (unsigned char)c.http_only;
    k->host_only = (unsigned char)host_only, k->same_site = c.same_site;
    pthread_mutex_lock(&jar->lock);
    rc = store_locked(jar, u, &c, k, why);
    pthread_mutex_unlock(&jar->lock);
    return rc;
}

/* ---- the Cookie header (§5.4) ---------------------------------------------- */

static int sends(const ck *k, const fh__url *u, size_t path_len)
{
    if (k->secure && !u->tls)
        return 0;
    if (k->domain[0] && (k->host_only ? strcmp(u->host, k->domain) != 0
                                      : !fh__cookie_domain_match(u->host, u->host_is_ip,
                                                                 k->domain)))
        return 0;
    return fh__cookie_path_match(u->target, path_len, k->path);
}

/* §5.4 step 2: longer paths first, then earlier creation. */
static int header_order(const void *pa, const void *pb)
{
    const ck *a = *(const ck *const *)pa, *b = *(const ck *const *)pb;
    if (a->path_len != b->path_len)
        return a->path_len > b->path_len ? -1 : 1;
    return a->created < b->created ? -1 : a->created > b->created;
}

static int serialize(ck **sel, size_t m, fh__buf *out)
{
    size_t start = out->len;
    int rc = FH_OK;
    for (size_t i = 0; i < m && !rc; i++) {
        if (i > 0)
            rc = fh__buf_append(out, "; ", 2);
        if (!rc)
            rc = fh__buf_append(out, sel[i]->name, sel[i]->name_len);
        if (!rc)
            rc = fh__buf_append(out, "=", 1);
        if (!rc)
            rc = fh__buf_append(out, sel[i]->value, sel[i]->value_len);
    }
    if (rc)
        out->len = start;
    return rc;
}

static int header_locked(fh_cookie_jar *jar, const fh__url *u, fh__buf *out)
{
    if (!jar->n)
        return 0; /* the common case of a jar nothing was stored in: no clock read */
    ck *small[32], **sel = small;
    size_t m = 0, path_len = strcspn(u->target, "?");
    purge(jar, jar_now(jar));
    if (jar->n > sizeof small / sizeof *small && !(sel = malloc(jar->n * sizeof *sel)))
        return FH_ENOMEM;
    for (size_t i = 0; i < jar->n; i++)
        if (sends(jar->v[i], u, path_len))
            sel[m++] = jar->v[i];
    qsort(sel, m, sizeof *sel, header_order);
    int rc = serialize(sel, m, out);
    for (size_t i = 0; i < m && !rc; i++)
        sel[i]->accessed = ++jar->tick; /* §5.4 step 3 */
    if (sel != small)
        free(sel);
    return rc ? rc : (int)m;
}

int fh__jar_header(fh_cookie_jar *jar, const fh__url *u, fh__buf *out)
{
    if (!jar || !u || !out)
        return FH_EINVAL;
    pthread_mutex_lock(&jar->lock);
    int rc = header_locked(jar, u, out);
    pthread_mutex_unlock(&jar->lock);
    return rc;
}

/* ---- public API ------------------------------------------------------------ */

fh_cookie_jar *fh_cookie_jar_new(void)
{
    fh_cookie_jar *jar = calloc(1, sizeof *jar);
    if (jar && pthread_mutex_init(&jar->lock, NULL) != 0) {
        free(jar);
        return NULL;
    }
    if (jar)
        fh__fork_register(&jar->fork_node, &jar->lock);
    return jar;
}

static void clear_locked(fh_cookie_jar *jar)
{
    for (size_t i = 0; i < jar->n; i++)
        free(jar->v[i]);
    jar->n = 0;
}

void fh_cookie_jar_free(fh_cookie_jar *jar)
{
    if (!jar)
        return;
    clear_locked(jar);
    free(jar->v);
    fh__fork_unregister(&jar->fork_node);
    pthread_mutex_destroy(&jar->lock);
    free(jar);
}

void fh_cookie_jar_clear(fh_cookie_jar *jar)
{
    if (!jar)
        return;
    pthread_mutex_lock(&jar->lock);
    clear_locked(jar);
    pthread_mutex_unlock(&jar->lock);
}

void fh_cookie_jar_set_clock(fh_cookie_jar *jar, int64_t (*now)(void *ud), void *ud)
{
    if (!jar)
        return;
    pthread_mutex_lock(&jar->lock);
    jar->now = now, jar->ud = ud;
    pthread_mutex_unlock(&jar->lock);
}

size_t fh_cookie_jar_count(fh_cookie_jar *jar)
{
    if (!jar)
        return 0;
    pthread_mutex_lock(&jar->lock);
    purge(jar, jar_now(jar));
    size_t n = jar->n;
    pthread_mutex_unlock(&jar->lock);
    return n;
}

void fh_cookie_free(fh_cookie *c)
{
    if (!c)
        return;
    free(c->mem);
    memset(c, 0, sizeof *c);
}

/* Copies k out: one block for all the strings, owned by out. */
static int copy_out(const ck *k, fh_cookie *out)
{
    char *m = malloc(k->size);
    if (!m)
        return FH_ENOMEM;
    memcpy(m, k->name, k->size);
    out->mem = m;
    out->name = m;
    out->value = m + (k->value - k->name);
    out->domain = m + (k->domain - k->name);
    out->path = m + (k->path - k->name);
    out->secure = k->secure, out->http_only = k->http_only, out->host_only = k->host_only;
    out->expires_unix = k->expires;
    out->same_site = k->same_site;
    return FH_OK;
}

int fh_cookie_jar_at(fh_cookie_jar *jar, size_t i, fh_cookie *out)
{
    if (!jar || !out)
        return FH_EINVAL;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&jar->lock);
    int rc = i < jar->n ? copy_out(jar->v[i], out) : FH_EINVAL;
    pthread_mutex_unlock(&jar->lock);
    return rc;
}

static int check_set_args(const char *name, const char *value, const char *path)
{
    size_t nl = strlen(name), vl = strlen(value), pl = strlen(path);
    if (nl == 0 || nl + vl > FH_COOKIE_MAX_BYTES || strpbrk(name, ";=") ||
        strchr(value, ';') || fh__cookie_has_ctl(name, nl) || fh__cookie_has_ctl(value, vl))
        return FH_EINVAL;
    if (path[0] != '/' || pl > FH__COOKIE_MAX_ATTR || strchr(path, ';') ||
        fh__cookie_has_ctl(path, pl))
        return FH_EINVAL;
    return FH_OK;
}

/* RFC 6265bis §5.6.7: the SameSite values; anything else is refused. */
static int same_site_of(const char *v, const char **out)
{
    static const char *const known[] = {"Strict", "Lax", "None"};
    *out = NULL;
    if (!v)
        return FH_OK;
    for (size_t i = 0; i < 3; i++)
        if (strcasecmp(v, known[i]) == 0)
            return (*out = known[i]), FH_OK;
    return FH_EINVAL;
}

int fh_cookie_jar_add(fh_cookie_jar *jar, const fh_cookie *c)
{
    char dom[MAX_DOMAIN + 1];
    const char *path = c && c->path && *c->path ? c->path : "/", *same_site;
    if (!jar || !c || !c->name || !c->value || check_set_args(c->name, c->value, path) ||
        fh__cookie_norm_domain(c->domain, dom) || same_site_of(c->same_site, &same_site))
        return FH_EINVAL;
    ck *k = ck_new((span){ c->name, strlen(c->name) }, (span){ c->value, strlen(c->value) }, dom,
                   (span){ path, strlen(path) });
    if (!k)
        return FH_ENOMEM;
    k->secure = c->secure != 0, k->http_only = c->http_only != 0;
    /* An IP address matches only itself whatever the caller says. */
    k->host_only = dom[0] && (c->host_only || is_ip_literal(dom));
    k->same_site = same_site;
    int64_t e = c->expires_unix;
    k->expires = e < 0 ? -1 : e > MAX_DATE ? MAX_DATE : e;
    pthread_mutex_lock(&jar->lock);
    int64_t now = jar_now(jar);
    purge(jar, now);
    int rc = put(jar, k, now);
    pthread_mutex_unlock(&jar->lock);
    return rc;
}

int fh_cookie_jar_set(fh_cookie_jar *jar, const char *name, const char *value,
                      const char *domain, const char *path, int secure, int http_only,
                      int64_t expires_unix)
{
    fh_cookie c = {name, value, domain, path, secure, http_only, 0, expires_unix, NULL, NULL};
    return fh_cookie_jar_add(jar, &c);
}

int fh_cookie_jar_store(fh_cookie_jar *jar, const char *url, const char *set_cookie,
                        size_t len)
{
    fh__url u;
    if (!jar || !url || (!set_cookie && len) || fh__url_parse(&u, url, strlen(url), NULL))
        return FH_EINVAL;
    int rc = fh__jar_store(jar, &u, set_cookie, len, NULL);
    fh__url_free(&u);
    return rc;
}

size_t fh_cookie_jar_header(fh_cookie_jar *jar, const char *url, char *out, size_t cap)
{
    fh__url u;
    fh__buf b = {0};
    if (cap)
        out[0] = '\0';
    if (!jar || !url || fh__url_parse(&u, url, strlen(url), NULL))
        return 0;
    int n = fh__jar_header(jar, &u, &b);
    fh__url_free(&u);
    size_t len = n > 0 ? b.len : 0;
    if (len && cap) {
        size_t m = len < cap - 1 ? len : cap - 1;
        memcpy(out, b.data, m);
        out[m] = '\0';
    }
    fh__buf_free(&b);
    return len;
}

/* The _get/_delete filter: NULL matches anything. */
static int selects(const ck *k, const char *name, const char *dom, const char *path)
{
    return (!name || strcmp(k->name, name) == 0) && (!dom || strcmp(k->domain, dom) == 0) &&
           (!path || strcmp(k->path, path) == 0);
}

int fh_cookie_jar_get(fh_cookie_jar *jar, const char *name, const char *domain,
                      const char *path, fh_cookie *out)
{
    char dom[MAX_DOMAIN + 1];
    if (out)
        memset(out, 0, sizeof *out);
    if (!jar || !name || !out || (domain && fh__cookie_norm_domain(domain, dom)))
        return FH_EINVAL;
    pthread_mutex_lock(&jar->lock);
    purge(jar, jar_now(jar));
    size_t i = 0;
    while (i < jar->n && !selects(jar->v[i], name, domain ? dom : NULL, path))
        i++;
    int rc = i < jar->n ? copy_out(jar->v[i], out) : 0;
    if (rc == FH_OK && i < jar->n)
        rc = 1;
    pthread_mutex_unlock(&jar->lock);
    return rc;
}

int fh_cookie_jar_delete(fh_cookie_jar *jar, const char *name, const char *domain,
                         const char *path)
{
    char dom[MAX_DOMAIN + 1];
    if (!jar || (domain && fh__cookie_norm_domain(domain, dom)))
        return FH_EINVAL;
    size_t w = 0;
    pthread_mutex_lock(&jar->lock);
    size_t n = jar->n;
    for (size_t r = 0; r < n; r++) {
        if (selects(jar->v[r], name, domain ? dom : NULL, path))
            free(jar->v[r]);
        else
            jar->v[w++] = jar->v[r];
    }
    jar->n = w;
    pthread_mutex_unlock(&jar->lock);
    return (int)(n - w);
}
