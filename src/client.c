/*
 * client.c — fh_client: settings, the shared TLS context, the pool, and the
 * blocking driver fh_client_send(), which is an engine run by its own poll
 * loop until the request is done (as curl's easy API runs a multi handle).
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *fh_version(void)
{
    return FH_VERSION_STRING;
}

fh_client *fh_client_new(void)
{
    static uint64_t next_id;
    fh_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
    fh_retry_policy_init(&c->retry); /* used while no policy is set */
    pthread_mutex_init(&c->lock, NULL);
    fh__fork_register(&c->fork_node, &c->lock);
    fh__pool_init(&c->pool);
    c->limit[FH_LIMIT_STATUS_LINE] = 8192;
    c->limit[FH_LIMIT_HEADER_BYTES] = 65536;
    c->limit[FH_LIMIT_HEADER_COUNT] = 100;
    c->limit[FH_LIMIT_INTERIM] = 10;
    c->limit[FH_LIMIT_BODY_BYTES] = 1LL << 30;
    c->limit[FH_LIMIT_TRAILER_BYTES] = 16384;
    c->limit[FH_LIMIT_ENCODINGS] = 5;
    c->limit[FH_LIMIT_DECODED_BYTES] = 128LL << 20;
    c->limit[FH_LIMIT_REQUEST_HEAD] = 65536;
    c->decode = 1;
    c->tls.verify = 1;
    c->follow_redirects = 1;
    c->max_redirects = 20;
    c->user_agent = strdup("fasthttp/" FH_VERSION_STRING);
    /* Proxies from the environment, as curl and httpx read them (trust_env
     * is on by default; proxy_route.c says which variables). */
    if (!c->user_agent || fh__shared_init(c) != FH_OK || fh_client_set_trust_env(c, 1) != FH_OK) {
        fh_client_free(c);
        return NULL;
    }
    return c;
}

void fh_client_free(fh_client *c)
{
    if (!c)
        return;
    fh__shared_free(c); /* its thread stops; its connections go back to the pool */
    while (c->nidle)
        fh_engine_free(c->idle[--c->nidle]);
    fh__pool_destroy(&c->pool);
    if (c->ssl_ctx)
        SSL_CTX_free(c->ssl_ctx);
    free(c->tls.ca_file);
    free(c->tls.cert_file);
    free(c->tls.key_file);
    free(c->user_agent);
    free(c->auth_user);
    free(c->auth_pass);
    fh__proxy_config_free(c->px);
    fh__fork_unregister(&c->fork_node);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

int fh_client_set_timeout(fh_client *c, fh_timeout_kind kind, int64_t ms)
{
    if (!c || (unsigned)kind >= FH_TIMEOUT_KINDS || ms < 0 || ms > FH_SECONDS_MAX * 1000LL)
        return FH_EINVAL;
    c->timeout_ms[kind] = ms;
    return FH_OK;
}

int fh_client_set_limit(fh_client *c, fh_limit_kind kind, int64_t value)
{
    if (!c || fh_limit_check(kind, value, NULL, 0) != FH_OK)
        return FH_EINVAL;
    c->limit[kind] = value;
    return FH_OK;
}

int64_t fh_client_limit(const fh_client *c, fh_limit_kind kind)
{
    if (!c || (unsigned)kind >= FH_LIMIT_KINDS)
        return FH_EINVAL;
    return c->limit[kind];
}

const char *fh_limit_name(fh_limit_kind kind)
{
    static const char *const names[FH_LIMIT_KINDS] = {
        "max_status_line_size", "max_header_size",       "max_header_count",
        "max_interim_responses", "max_body_size",        "max_trailer_size",
        "max_content_encodings", "max_decoded_body_size", "max_request_header_size",
    };
    return (unsigned)kind < FH_LIMIT_KINDS ? names[kind] : NULL;
}

int fh_client_set_pool_limits(fh_client *c, int max_total, int max_per_host,
                              int max_idle_per_host, int64_t idle_timeout_ms)
{
    if (!c || fh_pool_limits_check(max_total, max_per_host, max_idle_per_host, idle_timeout_ms,
                                   NULL, 0) != FH_OK)
        return FH_EINVAL;
    fh__pool_lock(&c->pool);
    if (max_total > 0)
        c->pool.max_total = max_total;
    if (max_per_host > 0)
        c->pool.max_per_host = max_per_host;
    c->pool.max_idle_per_host = max_idle_per_host >= 0 ? max_idle_per_host : c->pool.max_per_host;
    if (idle_timeout_ms >= 0)
        c->pool.idle_timeout_us = idle_timeout_ms * 1000;
    fh__pool_unlock(&c->pool);
    return FH_OK;
}

/* TLS settings are frozen once the context exists: connections in the pool
 * were verified under the old settings and must not be mixed with new ones. */
static int tls_settable(fh_client *c)
{
    pthread_mutex_lock(&c->lock);
    int ok = c->ssl_ctx == NULL;
    pthread_mutex_unlock(&c->lock);
    return ok;
}

static int replace_str(char **dst, const char *src)
{
    char *s = NULL;
    if (src && !(s = strdup(src)))
        return FH_ENOMEM;
    free(*dst);
    *dst = s;
    return FH_OK;
}

int fh_client_set_verify(fh_client *c, int verify)
{
    if (!c)
        return FH_EINVAL;
    if (!tls_settable(c))
        return FH_ESTATE;
    c->tls.verify = verify != 0;
    return FH_OK;
}

int fh_ca_check(const char *path, char *msg, size_t msglen)
{
    int is_dir;
    if (msg && msglen)
        msg[0] = 0;
    if (!path)
        return FH_EINVAL;
    return fh__tls_check_ca(path, &is_dir, msg, msglen);
}

int fh_cert_check(const char *cert_path, const char *key_path, char *msg, size_t msglen)
{
    if (msg && msglen)
        msg[0] = 0;
    if (!cert_path)
        return FH_EINVAL;
    return fh__tls_check_client_cert(cert_path, key_path, msg, msglen);
}

/* Files are checked before anything is stored, so a failed call leaves
 * the previous setting in place. */
int fh_client_set_ca_file(fh_client *c, const char *path)
{
    if (!c)
        return FH_EINVAL;
    if (!tls_settable(c))
        return FH_ESTATE;
    int is_dir = 0;
    int rc = path ? fh__tls_check_ca(path, &is_dir, NULL, 0) : FH_OK;
    if (rc == FH_OK)
        rc = replace_str(&c->tls.ca_file, path);
    if (rc == FH_OK)
        c->tls.ca_is_dir = is_dir;
    return rc;
}

int fh_client_set_client_cert(fh_client *c, const char *cert, const char *key)
{
    if (!c || (!cert && key))
        return FH_EINVAL;
    if (!tls_settable(c))
        return FH_ESTATE;
    int rc = cert ? fh__tls_check_client_cert(cert, key, NULL, 0) : FH_OK;
    char *nc = NULL, *nk = NULL;
    if (rc == FH_OK && ((cert && !(nc = strdup(cert))) || (key && !(nk = strdup(key))))) {
        free(nc);
        rc = FH_ENOMEM;
    }
    if (rc != FH_OK)
        return rc;
    free(c->tls.cert_file);
    free(c->tls.key_file);
    c->tls.cert_file = nc;
    c->tls.key_file = nk;
    return FH_OK;
}

int fh_client_set_decode(fh_client *c, int decode)
{
    if (!c)
        return FH_EINVAL;
    c->decode = decode != 0;
    return FH_OK;
}

int fh_client_set_http2(fh_client *c, fh_http2_mode mode)
{
    if (!c || (unsigned)mode > FH_HTTP2_ONLY)
        return FH_EINVAL;
    c->http2 = (int)mode;
    return FH_OK;
}

int fh_client_set_user_agent(fh_client *c, const char *ua)
{
    if (!c)
        return FH_EINVAL;
    if (ua && fh__h1_check_header("User-Agent", 10, ua, strlen(ua)) != FH_OK)
        return FH_EHEADER;
    return replace_str(&c->user_agent, ua);
}

int fh_client_set_connect_hook(fh_client *c, fh_connect_fn fn, void *ud)
{
    if (!c)
        return FH_EINVAL;
    c->connect_hook = fn;
    c->connect_ud = ud;
    return FH_OK;
}

int fh__client_ssl_ctx(fh_client *c, SSL_CTX **out, char *err, size_t errlen)
{
    int rc = FH_OK;
    pthread_mutex_lock(&c->lock);
    if (!c->ssl_ctx) {
        rc = fh__tls_ctx_new(&c->ssl_ctx, &c->tls, err, errlen);
        if (rc == FH_OK)
            (void)fh__tls_sessions_setup(c->ssl_ctx); /* failing costs resumption only */
    }
    *out = c->ssl_ctx;
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* ---- blocking driver --------------------------------------------------- */

typedef struct blocking_state {
    int done;
    int status;
    fh_response *resp;
} blocking_state;

static void blocking_done(void *ud, fh_request *req, int status, fh_response *resp)
{
    blocking_state *st = ud;
    st->done = 1;
    st->status = status;
    st->resp = resp;
}

void fh_wait_hooks_init(fh_wait_hooks *h)
{
    memset(h, 0, sizeof *h);
}

/*
 * A blocking call drives an engine of its own. Making one and freeing it
 * costs more than a thousand instructions and several allocations (the
 * engine, its fd table, the exchange with its header array) per call, so
 * the client keeps the engines of ended calls for the next ones, whatever
 * thread makes them. An engine is kept only when nothing of its call is
 * left in it (fh__engine_park); one inherited from the parent process is
 * freed (that drops the parent's descriptors untouched) and a new one made.
 */
static fh_engine *engine_take(fh_client *c)
{
    fh_engine *e = NULL;
    pthread_mutex_lock(&c->lock);
    if (c->nidle)
        e = c->idle[--c->nidle];
    pthread_mutex_unlock(&c->lock);
    if (e && e->gen != fh__fork_gen()) {
        fh_engine_free(e);
        e = NULL;
    }
    return e ? e : fh_engine_new(c, NULL, NULL);
}

static void engine_give(fh_client *c, fh_engine *e)
{
    int kept = 0;
    if (fh__engine_park(e)) { /* before the lock: it may take the pool's */
        pthread_mutex_lock(&c->lock);
        if (c->nidle < FH__IDLE_ENGINES) {
            c->idle[c->nidle++] = e;
            kept = 1;
        }
        pthread_mutex_unlock(&c->lock);
    }
    if (!kept)
        fh_engine_free(e);
}

int fh_client_send(fh_client *client, fh_request *req, fh_response **out)
{
    return fh_client_send_with(client, req, NULL, out);
}

int fh_client_send_with(fh_client *client, fh_request *req, const fh_wait_hooks *hooks,
                        fh_response **out)
{
    if (!out)
        return FH_EINVAL;
    *out = NULL;
    if (!client || !req)
        return FH_EINVAL;
    if (fh__shared_wanted(client, req)) /* may ride on a multiplexed connection */
        return fh__shared_send(client, req, hooks, out);
    fh_engine *e = engine_take(client);
    if (!e)
        return FH_ENOMEM;
    blocking_state st = {0};
    fh_callbacks cb = {blocking_done, NULL};
    fh__block b;
    fh__block_begin(&b, e, req, hooks);
    int rc = fh_engine_submit(e, req, &cb, &st);
    /* The driver is ours, so the first step can run now instead of after a
     * zero-timeout poll; blocking_done is our callback, not user code. */
    if (rc == FH_OK)
        fh_engine_socket_action(e, FH_SOCKET_TIMEOUT, 0);
    int submitted = rc == FH_OK;
    while (rc == FH_OK && !st.done)
        rc = fh__block_wait(&b);
    if (submitted && rc != FH_OK && !st.done) {
        /* A hook stopped the call, or the loop failed: the request ends
         * here, its connection closed. */
        fh_engine_cancel(e, req);
        fh__request_fail(req, "%s", b.why ? b.why : rc == FH_ELOOP ? "the poll loop failed"
                                                                   : "stopped by a wait hook");
    }
    if (rc == FH_OK)
        rc = st.status;
    if (rc == FH_OK && req->stream) {
        st.resp->owned_engine = e; /* the body is pulled through it later */
        if (hooks)
            st.resp->wait = *hooks;
    } else {
        engine_give(client, e);
    }
    if (rc == FH_OK)
        *out = st.resp;
    return rc;
}
