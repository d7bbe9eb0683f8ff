/*
 * exchange.c — one request and its response (docs/architecture.md, "Three
 * objects"): its attempts and hops, deadlines, the pool checkout, the
 * request fields of each hop and its body source, failures and callbacks.
 * Which connection and codec carry it is conn.c's and the codec's affair;
 * the response body is body.c's.
 *
 * An exchange never owns a socket. It asks the pool for a connection; a
 * slot makes the engine open one for it (conn.c), and it waits on that
 * connection until it is ready and its codec starts it.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void do_start(fh__exchange *x);

/* ---- deadlines ------------------------------------------------------------- */

void fh__ex_set_phase(fh__exchange *x, int kind, int err)
{
    x->phase_deadline = (kind >= 0 && x->tmo[kind]) ? fh__now_us() + x->tmo[kind] : 0;
    x->phase_error = err;
    fh__ex_arm(x);
}

/* The nearest deadline that matters in x's state; 0 when none. */
static int64_t deadline(const fh__exchange *x)
{
    if (x->state == FH__X_DONE || x->body_complete || x->result < 0)
        return 0;
    if (x->state == FH__X_STREAMING && !x->want_read)
        return x->total_deadline; /* waiting for the user, not the network */
    int64_t d = x->total_deadline;
    if (x->phase_deadline && (!d || x->phase_deadline < d))
        d = x->phase_deadline;
    return d;
}

void fh__ex_arm(fh__exchange *x)
{
    fh__engine_timer(x->engine, &x->timer, deadline(x));
}

/* ---- failing and finishing -------------------------------------------------- */

static void reset_io(fh__exchange *x, int clean);

void fh__ex_finish(fh__exchange *x, int code)
{
    if (x->completed)
        return;
    x->completed = 1;
    x->result = x->done_code = code;
    x->notify_done = 1;
    x->engine->nlive--;
    fh__ex_arm(x);
    fh__engine_queue_done(x->engine, x);
}

void fh__ex_notify_body(fh__exchange *x)
{
    x->notify_body = 1;
    fh__engine_queue_done(x->engine, x);
}

void fh__ex_fail_code(fh__exchange *x, int code)
{
    if (fh__policy_on_error(x, code)) {
        fh__ex_continue(x); /* a retry was scheduled */
        return;
    }
    reset_io(x, 0);
    x->state = FH__X_DONE;
    fh__ex_finish(x, code);
}

void fh__ex_fail(fh__exchange *x, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->req->errmsg, sizeof x->req->errmsg, fmt, ap);
    va_end(ap);
    fh__ex_fail_code(x, code);
}

void fh__ex_stream_fail(fh__exchange *x, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->req->errmsg, sizeof x->req->errmsg, fmt, ap);
    va_end(ap);
    x->result = code;
    x->want_read = 0;
    reset_io(x, 0);
    fh__ex_arm(x);
    fh__ex_notify_body(x);
}

/* ---- request fields of a hop --------------------------------------------------- */

/* RFC 9110 §8.6: POST, PUT and PATCH define a meaning for content, so an
 * empty one is announced with Content-Length: 0. */
static int64_t framing_of(const fh__exchange *x)
{
    const fh_request *r = x->req;
    if (x->send_body && r->body_fn)
        return r->body_fn_len >= 0 ? r->body_fn_len : FH__BODY_CHUNKED;
    if (x->send_body && r->has_body)
        return (int64_t)r->body_len;
    if (!strcmp(x->method, "POST") || !strcmp(x->method, "PUT") || !strcmp(x->method, "PATCH"))
        return 0;
    return FH__BODY_NONE;
}

/* After a 301/302/303 turned the request into a GET, the headers that
 * described the dropped body go with it (RFC 9110 §15.4.4). */
static int is_body_header(const char *n, size_t len)
{
    return len > 8 && strncasecmp(n, "content-", 8) == 0;
}

/* RFC 9110 §10.1.1: only a request with content may expect 100. */
static int expects_continue(const fh__exchange *x)
{
    return x->req->expect_continue && fh__ex_has_body(x);
}

/* 1 when the comma-separated list v (RFC 9110 §5.6.1) holds token t,
 * compared case-insensitively. */
static int list_has(const char *v, size_t len, const char *t)
{
    size_t tl = strlen(t), i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t b = i;
        while (i < len && v[i] != ',')
            i++;
        size_t e = i;
        while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - b == tl && strncasecmp(v + b, t, tl) == 0)
            return 1;
    }
    return 0;
}

/* RFC 9110 §7.8: a request asks to switch protocols with an Upgrade field
 * and the "upgrade" connection option. */
static int asks_upgrade(const fh_request *r)
{
    int up = 0, conn = 0;
    for (size_t i = 0; i < r->nhdrs; i++) {
        const fh__hdr *h = &r->hdrs[i];
        if (h->name_len == 7 && strcasecmp(h->name, "upgrade") == 0)
            up = 1;
        else if (h->name_len == 10 && strcasecmp(h->name, "connection") == 0)
            conn |= list_has(h->value, h->value_len, "upgrade");
    }
    return up && conn;
}

static int grow_hdrs(fh__exchange *x, size_t need)
{
    if (need <= x->hdr_cap)
        return FH_OK;
    fh_header *h = realloc(x->hdrs, need * sizeof *h);
    if (!h)
        return FH_ENOMEM;
    x->hdrs = h;
    x->hdr_cap = need;
    return FH_OK;
}

/* Bytes of the HTTP/1.1 head these fields make, without the framing line:
 * the measure of max_request_header_size, for every codec. */
static size_t head_size(const fh__exchange *x)
{
    size_t n = x->method_len + x->target_len + 14; /* SP SP HTTP/1.1 CRLF, CRLF */
    if (x->authority)
        n += x->authority_len + 8;
    for (size_t i = 0; i < x->nhdrs; i++)
        n += x->hdrs[i].name_len + x->hdrs[i].value_len + 4;
    return n;
}

int fh__ex_prepare(fh__exchange *x)
{
    fh_request *r = x->req;
    fh_client *c = x->engine->client;
    /* + Cookie, Authorization, User-Agent, Accept-Encoding, Expect,
     * Proxy-Authorization */
    if (grow_hdrs(x, r->nhdrs + 7) != FH_OK) {
        fh__request_fail(r, "out of memory");
        return FH_ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < r->nhdrs; i++) {
        const fh__hdr *e = &r->hdrs[i];
        if (fh__policy_skip_header(x, e->name, e->name_len) ||
            (!x->send_body && is_body_header(e->name, e->name_len)))
            continue;
        x->hdrs[n++] = (fh_header){e->name, e->name_len, e->value, e->value_len};
    }
    x->nchecked = n; /* by fh_request_add_header_n or fh_header_set_new */
    size_t extra = 0;
    int rc = fh__policy_headers(x, x->hdrs + n, &extra);
    if (rc)
        return rc; /* the policy set the message */
    n += extra;
    if (c->user_agent && !fh__request_has_header(r, "User-Agent"))
        x->hdrs[n++] = (fh_header){"User-Agent", 10, c->user_agent, strlen(c->user_agent)};
    if (x->decode && !fh__request_has_header(r, "Accept-Encoding"))
        x->hdrs[n++] = (fh_header){"Accept-Encoding", 15, "gzip, deflate, br, zstd", 23};
    if (expects_continue(x))
        x->hdrs[n++] = (fh_header){"Expect", 6, "100-continue", 12};
    x->target = x->url->target;
    x->host_key = x->pool_key;
    if (__builtin_expect(c->px != NULL || r->route != NULL, 0) &&
        (rc = fh__route_prepare(x, &n)) != FH_OK)
        return rc;
    x->nhdrs = n;
    x->target_len = strlen(x->target); /* the codecs and sent.c reuse these lengths */
    /* A caller's Host (virtual hosting) replaces ours while it is sent. */
    x->authority = x->url->authority;
    x->authority_len = strlen(x->authority);
    if (!fh__policy_skip_header(x, "Host", 4) && fh__request_has_header(r, "Host")) {
        x->authority = NULL;
        x->authority_len = 0;
    }
    x->framing = framing_of(x);
    size_t size = head_size(x);
    if (size > (uint64_t)x->limit[FH_LIMIT_REQUEST_HEAD]) {
        fh__request_fail(r, "request head of %zu bytes exceeds the limit of %lld bytes (%s)",
                         size, (long long)x->limit[FH_LIMIT_REQUEST_HEAD],
                         fh_limit_name(FH_LIMIT_REQUEST_HEAD));
        return FH_EHEADER;
    }
    return FH_OK;
}

/* Counts n bytes from the body source (a reader's or a lender's answer) and
 * checks them against the declared length. */
static ssize_t count_body(fh__exchange *x, ssize_t n, size_t cap)
{
    fh_request *r = x->req;
    if (n == FH_EAGAIN) {
        x->body_paused = 1;
        return FH_EAGAIN;
    }
    if (n < 0 || (size_t)n > cap) {
        if (r->file_err)
            fh__request_fail(r, "reading the request body file: %s", strerror(r->file_err));
        else
            fh__request_fail(r, "request body reader failed");
        return FH_EBODY_SOURCE;
    }
    x->body_sent += n;
    int over = r->body_fn_len >= 0 && x->body_sent > r->body_fn_len;
    int under = n == 0 && r->body_fn_len >= 0 && x->body_sent != r->body_fn_len;
    if (under && r->body_fn == fh__body_file_read) {
        fh__request_fail(r, "the request body file ended after %lld of %lld bytes",
                         (long long)x->body_sent, (long long)r->body_fn_len);
        return FH_EBODY_SOURCE;
    }
    if (over || under) {
        fh__request_fail(r, "request body reader gave %lld bytes, Content-Length is %lld",
                         (long long)x->body_sent, (long long)r->body_fn_len);
        return FH_EBODY_SOURCE;
    }
    return n;
}

ssize_t fh__ex_body_read(fh__exchange *x, uint8_t *buf, size_t cap)
{
    fh_request *r = x->req;
    return count_body(x, r->body_fn(r->body_ud, buf, cap), cap);
}

ssize_t fh__ex_body_lend(fh__exchange *x, const uint8_t **data)
{
    fh_request *r = x->req;
    *data = NULL;
    ssize_t n = r->lend_fn(r->lend_ud, data);
    if (n > 0 && !*data)
        n = FH_EBODY_SOURCE; /* a piece with no bytes behind it */
    return count_body(x, n, n > 0 ? (size_t)n : 0);
}

/* ---- setup ------------------------------------------------------------------ */

int fh__ex_init(fh__exchange *x, fh_engine *e, fh_request *req)
{
    fh_client *c = e->client;
    x->engine = e;
    x->req = req;
    x->state = FH__X_START;
    x->timer.kind = 1; /* engine.c dispatches on it: an exchange's timer */
    x->t_start = fh__now_us();
    req->lent = NULL; /* a lent piece of an earlier send is gone */
    req->lent_len = 0;
    req->file_done = 0; /* a file body is read from its start again */
    req->file_err = 0;
    for (int k = 0; k < FH_TIMEOUT_KINDS; k++) {
        int64_t ms = req->timeout_ms[k] >= 0 ? req->timeout_ms[k] : c->timeout_ms[k];
        x->tmo[k] = ms * 1000;
    }
    if (x->tmo[FH_TIMEOUT_TOTAL])
        x->total_deadline = x->t_start + x->tmo[FH_TIMEOUT_TOTAL];
    x->decode = req->decode >= 0 ? req->decode : c->decode;
    x->http2 = req->http2 >= 0 ? req->http2 : c->http2;
    for (int k = 0; k < FH_LIMIT_KINDS; k++)
        x->limit[k] = req->limit[k] > 0 ? req->limit[k] : c->limit[k];
    req->errmsg[0] = 0;
    x->url = &req->url;
    x->pool_key = req->pool_key;
    x->method = req->method;
    x->method_len = req->method_len;
    x->send_body = 1;
    x->upgrade = asks_upgrade(req);
    x->waiter.wake = &e->wake;
    x->waiter.note.kind = FH__NOTE_GRANT;
    int rc = fh__policy_init(x);
    return rc ? rc : fh__ex_prepare(x);
}

/* ---- teardown ------------------------------------------------------------------- */

/* Releases everything tied to the current attempt: the pool queue place,
 * the connection (clean: the response was read to its end), the decoder. */
static void reset_io(fh__exchange *x, int clean)
{
    if (x->in_queue) {
        x->in_queue = 0;
        fh__pool_waiter_cancel(&x->engine->client->pool, &x->waiter);
    }
    if (x->conn)
        fh__conn_detach(x->conn, x, clean);
    if (x->dec) {
        fh__decoder_free(x->dec);
        x->dec = NULL;
    }
}

/* Exchanges come and go at the request rate, hundreds alive at once, where
 * malloc's per-thread caches run dry (and an exchange with its policy is
 * larger than they hold): the engine keeps some freed ones for the next. */
#define SPARE_EXCHANGES 64

fh__exchange *fh__ex_new(fh_engine *e)
{
    fh__exchange *x = e->spare;
    if (!x)
        return calloc(1, sizeof *x);
    e->spare = x->qnext;
    e->nspare--;
    fh_header *hdrs = x->hdrs;
    size_t cap = x->hdr_cap;
    struct fh__policy *pol = x->pol_mem;
    memset(x, 0, sizeof *x);
    x->hdrs = hdrs;
    x->hdr_cap = cap;
    x->pol_mem = pol;
    return x;
}

void fh__ex_destroy(fh__exchange *x)
{
    free(x->hdrs);
    free(x->pol_mem);
    free(x);
}

void fh__ex_free(fh__exchange *x)
{
    reset_io(x, 0);
    fh__engine_timer(x->engine, &x->timer, 0);
    fh__policy_free(x);
    if (x->rt) {
        fh__xroute_free(x->rt);
        x->rt = NULL;
    }
    if (x->req && x->req->xfer == x)
        x->req->xfer = NULL;
    if (x->resp) {
        fh_response *r = x->resp;
        x->resp = NULL;
        r->xfer = NULL;
        if (!x->resp_given)
            fh_response_free(r); /* failed or cancelled before the user got it */
    }
    fh_engine *e = x->engine;
    if (e && e->nspare < SPARE_EXCHANGES && x->hdr_cap <= 64) {
        x->qnext = e->spare;
        e->spare = x;
        e->nspare++;
        return;
    }
    fh__ex_destroy(x);
}

/* The process forked while x was live. What the attempt held belongs to
 * the parent: the pool forgot its queue place and counts (it is never
 * handed back), the connection is a copy of the parent's (closed quietly
 * by the engine, which forgets every connection it drove). */
void fh__ex_forked(fh__exchange *x)
{
    x->in_queue = 0;
    x->waiter.prev = x->waiter.next = NULL;
    x->waiter.queued = x->waiter.granted = 0;
    x->waiter.conn = NULL;
    x->waiter.note.posted = 0;
    x->waiter.note.next = NULL;
    x->conn = NULL;
    x->body_paused = 0;
    x->want_read = 0;
    int open_stream = x->completed && x->resp_given && !x->body_complete;
    int undelivered = x->completed && x->notify_done;
    if (x->completed && !open_stream && !undelivered)
        return; /* its end was already reported */
    if (x->completed && x->result < 0)
        return; /* a failure of its own, still to be reported as it is */
    fh__request_fail(x->req, "%s (%s:%d)", fh_strerror(FH_EFORKED), x->url->host,
                     x->url->port);
    if (x->completed) {
        /* A response not delivered yet is the parent's (it gets the same
         * one); a stream's reader gets the error from fh_response_read. */
        x->result = x->done_code = FH_EFORKED;
        if (open_stream)
            fh__ex_notify_body(x);
        return;
    }
    x->state = FH__X_DONE;
    fh__ex_finish(x, FH_EFORKED);
}

/* ---- retry on a stale pooled connection -------------------------------------- */

/* RFC 9112 §9.3.1: a client may retry an idempotent request whose
 * connection closed before any response byte arrived; a keep-alive
 * connection can be closed by the server at any moment while we reuse it. */
static int can_retry(const fh__exchange *x, int code)
{
    return x->reused && !x->retried && !x->got_bytes && x->req->idempotent &&
           !x->req->body_fn && (code == FH_ECLOSED || code == FH_EIO);
}

int fh__ex_io_error(fh__exchange *x, int code, const char *what, const char *detail)
{
    if (can_retry(x, code)) {
        reset_io(x, 0);
        x->retried = 1;
        x->fresh_only = 1;
        x->reused = 0;
        x->state = FH__X_START;
        do_start(x);
        return 1;
    }
    fh__ex_fail(x, code, "%s %s:%d: %s", what, x->url->host, x->url->port, detail);
    return 0;
}

/* ---- the next attempt or hop --------------------------------------------------- */

static void restart(fh__exchange *x)
{
    x->reused = x->retried = x->fresh_only = 0;
    x->got_bytes = 0;
    x->dec_done = x->body_complete = 0;
    x->discard = 0;
    x->discarded = 0;
    x->body_sent = 0;
    int rc = fh__ex_prepare(x);
    if (rc) {
        fh__ex_fail_code(x, rc);
        return;
    }
    if (!x->host || strcmp(x->host->key, x->host_key) != 0)
        x->host = NULL; /* a redirect to another origin (or route) */
    x->state = FH__X_START;
    do_start(x);
}

void fh__ex_continue(fh__exchange *x)
{
    reset_io(x, 0);
    if (x->resp && !x->resp_given) {
        fh_response_free(x->resp); /* a retried attempt's response */
        x->resp = NULL;
    }
    int64_t delay = fh__policy_delay(x);
    if (delay <= 0) {
        restart(x);
        return;
    }
    x->state = FH__X_BACKOFF;
    x->body_complete = 0; /* that was the previous attempt's body */
    x->phase_deadline = fh__now_us() + delay;
    x->phase_error = 0;
    fh__ex_arm(x);
}

/* ---- pool checkout ------------------------------------------------------------- */

static void take(fh__exchange *x, int rc, fh__conn *c)
{
    fh_engine *e = x->engine;
    if (rc == FH__CHECKOUT_SLOT) {
        fh__conn_open(e, x);
        return;
    }
    if (rc == FH__CHECKOUT_CONN)
        fh__conn_adopt(e, c); /* an idle connection: this engine drives it now */
    x->reused = 1;
    x->tm.reused = 1;
    fh__conn_attach(c, x);
}

/* The pool's entry for x's origin, remembered by the request for its own
 * URL (a hop elsewhere looks its own up). */
static fh__pool_host *host_of(fh__exchange *x)
{
    fh_request *r = x->req;
    fh_client *c = x->engine->client;
    int own = x->host_key == r->pool_key;
    if (own && r->host && r->host_client == c->id)
        return r->host;
    fh__pool_host *h = fh__pool_host_get(&c->pool, x->host_key);
    if (own && h) {
        r->host = h;
        r->host_client = c->id;
    }
    return h;
}

static void do_start(fh__exchange *x)
{
    fh_engine *e = x->engine;
    fh__pool *p = &e->client->pool;
    if (!x->host && !(x->host = host_of(x))) {
        fh__ex_fail(x, FH_ENOMEM, "out of memory");
        return;
    }
    int rc = fh__policy_admit(x);
    if (rc) {
        fh__ex_fail_code(x, rc);
        return;
    }
    fh__conn *c = x->fresh_only ? NULL : fh__engine_take_hot(e, x->host, x->http2);
    if (c) {
        take(x, FH__CHECKOUT_SHARED, c); /* already this engine's */
        return;
    }
    /* A connection this engine is opening may turn out to be HTTP/2: wait
     * for it rather than open a second one (unless the origin is known to
     * answer HTTP/1.1). */
    if (x->http2 != FH_HTTP2_OFF && !x->fresh_only && __atomic_load_n(&x->host->proto, __ATOMIC_RELAXED) != 11 &&
        (c = fh__engine_pending_conn(e, x))) {
        fh__conn_join(c, x);
        return;
    }
    rc = fh__pool_checkout(p, x->host, e, &x->waiter, x->fresh_only, x->http2, &c);
    if (rc != FH_EAGAIN) {
        take(x, rc, c);
        return;
    }
    x->in_queue = 1;
    x->state = FH__X_WAIT;
    fh__ex_set_phase(x, FH_TIMEOUT_POOL, FH_ETIMEOUT_POOL);
    rc = fh__engine_wake_fd(e);
    if (rc) {
        fh__ex_fail(x, rc, "cannot create wakeup descriptor");
        return;
    }
    /* A grant posted before the eventfd existed woke nobody. */
    fh__ex_on_grant(x);
}

void fh__ex_step(fh__exchange *x)
{
    if (x->state == FH__X_START && !x->completed)
        do_start(x);
}

void fh__ex_on_grant(fh__exchange *x)
{
    if (x->state != FH__X_WAIT || !x->in_queue)
        return;
    fh__conn *c = NULL;
    int rc = fh__pool_waiter_take(&x->engine->client->pool, &x->waiter, &c);
    if (rc == FH_EAGAIN)
        return;
    x->in_queue = 0;
    take(x, rc, c);
}

/* ---- timeouts -------------------------------------------------------------------- */

static const char *phase_name(const fh__exchange *x)
{
    if (x->state == FH__X_WAIT && !x->conn)
        return "waiting for a free connection";
    if (x->state == FH__X_WAIT) {
        switch (x->conn->state) {
        case FH__C_RESOLVING: return "resolving the host name";
        case FH__C_CONNECTING: return "connecting";
        case FH__C_PROXY_TLS: return "in the TLS handshake with the proxy";
        case FH__C_PROXY: return "in the handshake with the proxy";
        default: return "in the TLS handshake";
        }
    }
    if (x->state == FH__X_BACKOFF)
        return "waiting to retry";
    if (x->phase_error == FH_ETIMEOUT_WRITE)
        return "sending the request";
    if (x->state == FH__X_ACTIVE && !x->resp)
        return "waiting for the response head";
    return "reading the response body";
}

void fh__ex_on_timer(fh__exchange *x, int64_t now)
{
    int total = x->total_deadline && now >= x->total_deadline;
    int phase = x->phase_deadline && now >= x->phase_deadline;
    if (!total && !phase) {
        fh__ex_arm(x); /* nothing due after all: wait for the real deadline */
        return;
    }
    if (!total && x->state == FH__X_BACKOFF) {
        restart(x);
        return;
    }
    if (!total && x->phase_error == 0) {
        /* A codec's own wait (100-continue) ran out: not a failure. */
        x->phase_deadline = 0;
        if (x->conn && x->conn->codec)
            x->conn->codec->on_timer(x->conn, x);
        return;
    }
    if (!total && x->phase_error == FH_ETIMEOUT_READ && x->conn &&
        fh__conn_lowat_rescue(x->conn)) {
        /* Bytes arrived but stayed under the large-body low-water mark:
         * they are progress (transport.c), so the read timeout restarts. */
        fh__ex_set_phase(x, FH_TIMEOUT_READ, FH_ETIMEOUT_READ);
        return;
    }
    int code = total ? FH_ETIMEOUT_TOTAL : x->phase_error;
    int kind = total ? FH_TIMEOUT_TOTAL
               : code == FH_ETIMEOUT_CONNECT ? FH_TIMEOUT_CONNECT
               : code == FH_ETIMEOUT_POOL    ? FH_TIMEOUT_POOL
               : code == FH_ETIMEOUT_WRITE   ? FH_TIMEOUT_WRITE
                                             : FH_TIMEOUT_READ;
    const char *fmt = "%s after %lld ms %s (%s:%d)";
    if (x->completed)
        fh__ex_stream_fail(x, code, fmt, fh_strerror(code), (long long)(x->tmo[kind] / 1000),
                           phase_name(x), x->url->host, x->url->port);
    else
        fh__ex_fail(x, code, fmt, fh_strerror(code), (long long)(x->tmo[kind] / 1000),
                    phase_name(x), x->url->host, x->url->port);
}
