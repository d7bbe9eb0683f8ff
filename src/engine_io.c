/*
 * engine_io.c — the request state machine up to the last byte sent:
 * pool checkout → resolve → connect (Happy Eyeballs) → TLS → send.
 * Receiving is in engine_recv.c. Nothing here blocks: every step either
 * completes or registers interest in an fd or a deadline and returns.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define BODY_INLINE_MAX 16384 /* memory bodies up to this go out with the head */
#define CHUNK_SCRATCH 16384

static void do_start(fh__xfer *x);
static void do_send(fh__xfer *x);
static void begin_send(fh__xfer *x);


void fh__xfer_fail(fh__xfer *x, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->req->errmsg, sizeof x->req->errmsg, fmt, ap);
    va_end(ap);
    fh__xfer_fail_code(x, code);
}

void fh__xfer_fail_code(fh__xfer *x, int code)
{
    if (fh__policy_on_error(x, code)) {
        fh__xfer_continue(x); /* a retry was scheduled */
        return;
    }
    fh__xfer_cleanup(x, 0);
    x->state = FH__X_DONE;
    fh__xfer_finish(x, code);
}

/* Arms the deadline of the phase that starts now (kind < 0: none). */
void fh__xfer_set_phase(fh__xfer *x, int kind, int err)
{
    x->phase_deadline = (kind >= 0 && x->tmo[kind]) ? fh__now_us() + x->tmo[kind] : 0;
    x->phase_error = err;
}

int64_t fh__xfer_deadline(const fh__xfer *x)
{
    if (x->state == FH__X_DONE || x->body_complete || x->result < 0)
        return 0;
    if (x->state == FH__X_STREAMING && !x->want_read)
        return x->total_deadline; /* waiting for the user, not the network */
    int64_t d = x->total_deadline;
    if (x->phase_deadline && (!d || x->phase_deadline < d))
        d = x->phase_deadline;
    if (x->state == FH__X_CONNECTING && x->next_attempt_at && (!d || x->next_attempt_at < d))
        d = x->next_attempt_at;
    return d;
}

/* ---- setup ------------------------------------------------------------- */

/* RFC 9110 §8.6: POST, PUT and PATCH define a meaning for content, so an
 * empty one is announced with Content-Length: 0. */
static int64_t framing_of(const fh__xfer *x)
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
static int expects_continue(const fh__xfer *x)
{
    return x->req->expect_continue && x->send_body && x->req->has_body;
}

/* Collects the caller's headers (minus those the hop drops), the policy's
 * (Cookie, Authorization) and the defaults into h; returns the count. */
static size_t collect_headers(fh__xfer *x, fh_header *h, int *err)
{
    fh_request *r = x->req;
    fh_client *c = x->engine->client;
    size_t n = 0;
    for (size_t i = 0; i < r->nhdrs; i++) {
        const fh__hdr *e = &r->hdrs[i];
        if (fh__policy_skip_header(x, e->name, e->name_len) ||
            (!x->send_body && is_body_header(e->name, e->name_len)))
            continue;
        h[n++] = (fh_header){e->name, e->name_len, e->value, e->value_len};
    }
    size_t extra = 0;
    *err = fh__policy_headers(x, h + n, &extra);
    n += extra;
    if (c->user_agent && !fh__request_has_header(r, "User-Agent"))
        h[n++] = (fh_header){"User-Agent", 10, c->user_agent, strlen(c->user_agent)};
    if (x->decode && !fh__request_has_header(r, "Accept-Encoding"))
        h[n++] = (fh_header){"Accept-Encoding", 15, "gzip, deflate, br, zstd", 23};
    if (expects_continue(x))
        h[n++] = (fh_header){"Expect", 6, "100-continue", 12};
    return n;
}

/* Writes this hop's request head (and a small body) into x->out. */
int fh__xfer_build_head(fh__xfer *x)
{
    fh_request *r = x->req;
    fh_header stack[16];
    size_t cap = r->nhdrs + 6; /* + Cookie, Authorization, User-Agent, Accept-Encoding, Expect */
    fh_header *h = cap <= 16 ? stack : malloc(cap * sizeof *h);
    if (!h)
        return FH_ENOMEM;
    int rc = FH_OK;
    size_t n = collect_headers(x, h, &rc);
    x->out.len = x->out_pos = x->body_pos = 0;
    /* A caller's Host (virtual hosting) replaces ours while it is sent. */
    const char *auth = x->url->authority;
    if (!fh__policy_skip_header(x, "Host", 4) && fh__request_has_header(r, "Host"))
        auth = NULL;
    if (rc == FH_OK)
        rc = fh__h1_write_head(&x->out, x->method, x->method_len, x->url->target,
                               strlen(x->url->target), auth, auth ? strlen(auth) : 0, h, n,
                               framing_of(x));
    if (h != stack)
        free(h);
    if (rc) {
        fh__request_fail(r, "invalid request line or header for %s", r->url_str);
        return rc;
    }
    if (x->out.len > (uint64_t)x->limit[FH_LIMIT_REQUEST_HEAD]) {
        fh__request_fail(r, "request head of %zu bytes exceeds the limit of %lld bytes (%s)",
                         x->out.len, (long long)x->limit[FH_LIMIT_REQUEST_HEAD],
                         fh_limit_name(FH_LIMIT_REQUEST_HEAD));
        return FH_EHEADER;
    }
    int body = x->send_body && r->has_body;
    x->body_phase = 2;
    if (body && r->body_fn)
        x->body_phase = 1;
    else if (body && r->body_len <= BODY_INLINE_MAX && !expects_continue(x))
        rc = fh__buf_append(&x->out, r->body, r->body_len); /* one write for all */
    else if (body)
        x->body_phase = 1;
    x->body_phase0 = x->body_phase;
    return rc;
}

int fh__xfer_init(fh__xfer *x, fh_engine *e, fh_request *req)
{
    fh_client *c = e->client;
    x->engine = e;
    x->req = req;
    x->state = FH__X_START;
    for (int i = 0; i < FH__MAX_ATTEMPTS; i++)
        x->attempt_fd[i] = -1;
    x->t_start = fh__now_us();
    for (int k = 0; k < FH_TIMEOUT_KINDS; k++) {
        int64_t ms = req->timeout_ms[k] >= 0 ? req->timeout_ms[k] : c->timeout_ms[k];
        x->tmo[k] = ms * 1000;
    }
    if (x->tmo[FH_TIMEOUT_TOTAL])
        x->total_deadline = x->t_start + x->tmo[FH_TIMEOUT_TOTAL];
    x->decode = req->decode >= 0 ? req->decode : c->decode;
    for (int k = 0; k < FH_LIMIT_KINDS; k++)
        x->limit[k] = req->limit[k] > 0 ? req->limit[k] : c->limit[k];
    x->lim.status_line = (size_t)x->limit[FH_LIMIT_STATUS_LINE];
    x->lim.header_bytes = (size_t)x->limit[FH_LIMIT_HEADER_BYTES];
    x->lim.header_count = (size_t)x->limit[FH_LIMIT_HEADER_COUNT];
    x->lim.trailer_bytes = (size_t)x->limit[FH_LIMIT_TRAILER_BYTES];
    req->errmsg[0] = 0;
    x->url = &req->url;
    x->pool_key = req->pool_key;
    x->method = req->method;
    x->method_len = req->method_len;
    x->send_body = 1;
    int rc = fh__policy_init(x);
    return rc ? rc : fh__xfer_build_head(x);
}

/* ---- teardown ---------------------------------------------------------- */

static void close_attempt(fh__xfer *x, int i)
{
    fh__engine_unwatch(x->engine, x->attempt_fd[i]);
    close(x->attempt_fd[i]);
    x->attempt_fd[i] = x->attempt_fd[--x->nattempts];
    x->attempt_fd[x->nattempts] = -1;
}

void fh__xfer_release_conn(fh__xfer *x, int reusable)
{
    if (!x->conn)
        return;
    if (reusable && fh__engine_keep_hot(x->engine, x->conn)) {
        x->conn = NULL;
        return;
    }
    fh__engine_unwatch(x->engine, x->conn->fd);
    fh__pool_release(&x->engine->client->pool, x->conn, reusable);
    x->conn = NULL;
}

/* Releases everything tied to the current attempt: queue place, resolver,
 * sockets, connection (pooled only when reusable), decoder. */
static void reset_io(fh__xfer *x, int reusable)
{
    fh__pool *p = &x->engine->client->pool;
    if (x->waiter.queued || x->waiter.granted)
        fh__pool_waiter_cancel(p, &x->waiter);
    if (x->job) {
        fh__resolve_release(x->job);
        x->job = NULL;
    }
    fh__addrs_free(&x->addrs);
    while (x->nattempts)
        close_attempt(x, 0);
    if (x->conn)
        fh__xfer_release_conn(x, reusable);
    else if (x->have_slot)
        fh__pool_slot_release(p, x->host);
    x->have_slot = 0;
    if (x->dec) {
        fh__decoder_free(x->dec);
        x->dec = NULL;
    }
}

/* Drops what the attempt held without handing it back: in a forked child
 * the pool forgot the parent's counts and queue, the connection and the
 * connecting sockets are copies of the parent's (closed quietly: close(2)
 * of a copy leaves the parent's socket alone), and the resolver job is
 * leaked on purpose, since its thread exists only in the parent, so the
 * job is never finished here and its mutex may be held forever. */
static void forget_io(fh__xfer *x)
{
    fh__waiter *w = &x->waiter;
    if (w->granted && w->conn)
        fh__conn_close_quiet(w->conn);
    w->prev = w->next = NULL;
    w->queued = w->granted = 0;
    w->conn = NULL;
    x->job = NULL;
    while (x->nattempts) {
        x->nattempts--;
        close(x->attempt_fd[x->nattempts]);
        x->attempt_fd[x->nattempts] = -1;
    }
    if (x->conn)
        fh__conn_close_quiet(x->conn);
    x->conn = NULL;
    x->have_slot = 0;
}

void fh__xfer_forked(fh__xfer *x)
{
    forget_io(x);
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
        x->result = FH_EFORKED;
        if (open_stream)
            fh__xfer_notify_body(x);
        return;
    }
    x->state = FH__X_DONE;
    fh__xfer_finish(x, FH_EFORKED);
}

void fh__xfer_cleanup(fh__xfer *x, int reusable)
{
    reset_io(x, reusable);
    free(x->hdr_store);
    x->hdr_store = NULL;
    free(x->chunk);
    x->chunk = NULL;
    fh__buf_free(&x->out);
}

/* ---- retry on a stale pooled connection -------------------------------- */

/* RFC 9112 §9.3.1: a client may retry an idempotent request whose
 * connection closed before any response byte arrived; a keep-alive
 * connection can be closed by the server at any moment while we reuse it. */
static int can_retry(const fh__xfer *x, int code)
{
    return x->reused && !x->retried && !x->got_bytes && x->req->idempotent &&
           !x->req->body_fn && (code == FH_ECLOSED || code == FH_EIO);
}

static void retry_fresh(fh__xfer *x)
{
    fh__xfer_release_conn(x, 0);
    x->retried = 1;
    x->fresh_only = 1;
    x->reused = 0;
    x->out_pos = 0;
    x->body_pos = 0;
    x->body_phase = x->body_phase0;
    x->head_scan = 0;
    x->peer_eof = 0;
    x->state = FH__X_START;
    do_start(x);
}

int fh__xfer_io_error(fh__xfer *x, int code, const char *what, const char *detail)
{
    if (can_retry(x, code)) {
        retry_fresh(x);
        return 1;
    }
    fh__xfer_fail(x, code, "%s %s:%d: %s", what, x->url->host, x->url->port, detail);
    return 0;
}

/* ---- the next attempt or hop -------------------------------------------- */

void fh__xfer_restart(fh__xfer *x)
{
    x->reused = x->retried = x->fresh_only = 0;
    x->got_bytes = x->peer_eof = x->interim = 0;
    x->head_scan = 0;
    x->body_done = x->dec_done = x->body_complete = 0;
    x->pay_off = x->pay_len = 0;
    x->discard = 0;
    x->discarded = 0;
    x->body_sent = 0;
    x->body_eof = 0;
    x->keep_alive = 0;
    x->next_addr = 0;
    x->expect_done = x->awaiting_continue = x->body_unsent = 0;
    fh__addrs_free(&x->addrs);
    if (!x->host || strcmp(x->host->key, x->pool_key) != 0)
        x->host = NULL; /* a redirect to another origin */
    int rc = fh__xfer_build_head(x);
    if (rc) {
        fh__xfer_fail_code(x, rc);
        return;
    }
    x->state = FH__X_START;
    do_start(x);
}

void fh__xfer_continue(fh__xfer *x)
{
    reset_io(x, 0);
    if (x->resp && !x->resp_given) {
        fh_response_free(x->resp); /* a retried attempt's response */
        x->resp = NULL;
    }
    int64_t delay = fh__policy_delay(x);
    if (delay <= 0) {
        fh__xfer_restart(x);
        return;
    }
    x->state = FH__X_BACKOFF;
    x->body_complete = 0; /* that was the previous attempt's body */
    x->phase_deadline = fh__now_us() + delay;
    x->phase_error = 0;
}

/* ---- pool -------------------------------------------------------------- */

static void begin_connect(fh__xfer *x);
static void begin_tls(fh__xfer *x);

static void attach_conn(fh__xfer *x, fh__conn *c)
{
    x->conn = c;
    x->reused = 1;
    x->tm.reused = 1;
    begin_send(x);
}

static void on_checkout(fh__xfer *x, int rc, fh__conn *c)
{
    if (rc == FH__CHECKOUT_CONN)
        attach_conn(x, c);
    else if (rc == FH__CHECKOUT_SLOT) {
        x->have_slot = 1;
        begin_connect(x);
    }
}

static void do_start(fh__xfer *x)
{
    fh_engine *e = x->engine;
    fh__pool *p = &e->client->pool;
    if (!x->host && !(x->host = fh__pool_host_get(p, x->pool_key))) {
        fh__xfer_fail(x, FH_ENOMEM, "out of memory");
        return;
    }
    int rc = fh__policy_admit(x);
    if (rc) {
        fh__xfer_fail_code(x, rc);
        return;
    }
    fh__conn *c = x->fresh_only ? NULL : fh__engine_take_hot(e, x->host);
    if (c) {
        attach_conn(x, c);
        return;
    }
    x->waiter.wake = &e->wake;
    rc = fh__pool_checkout(p, x->host, &x->waiter, x->fresh_only, &c);
    if (rc != FH_EAGAIN) {
        on_checkout(x, rc, c);
        return;
    }
    x->state = FH__X_POOL_WAIT;
    fh__xfer_set_phase(x, FH_TIMEOUT_POOL, FH_ETIMEOUT_POOL);
    rc = fh__engine_wake_fd(e);
    if (rc) {
        fh__xfer_fail(x, rc, "cannot create wakeup descriptor");
        return;
    }
    /* A grant that raced with creating the wakeup fd was not signalled. */
    fh__xfer_on_wake(x);
}

void fh__xfer_on_wake(fh__xfer *x)
{
    fh__addrs a = {0};
    const char *why = NULL;
    int rc;
    if (x->state == FH__X_POOL_WAIT) {
        fh__conn *c = NULL;
        rc = fh__pool_waiter_take(&x->engine->client->pool, &x->waiter, &c);
        if (rc != FH_EAGAIN)
            on_checkout(x, rc, c);
    } else if (x->state == FH__X_RESOLVING) {
        rc = fh__resolve_result(x->job, &a, &why);
        if (rc == FH_EAGAIN)
            return;
        fh__resolve_release(x->job);
        x->job = NULL;
        if (rc) {
            fh__xfer_fail(x, rc, "cannot resolve host '%s': %s", x->url->host,
                          why ? why : "unknown error");
            return;
        }
        x->addrs = a;
        x->tm.dns_us = fh__xfer_elapsed(x);
        begin_connect(x);
    }
}

/* ---- resolve + connect (RFC 8305 Happy Eyeballs) ----------------------- */

static int start_attempt(fh__xfer *x)
{
    char err[128] = "no address";
    while (x->next_addr < x->addrs.n && x->nattempts < FH__MAX_ATTEMPTS) {
        int fd = fh__tcp_connect(&x->addrs.v[x->next_addr++], err, sizeof err);
        if (fd < 0)
            continue;
        int rc = fh__engine_watch(x->engine, x, fd, FH_WATCH_WRITE);
        if (rc) {
            close(fd);
            return rc;
        }
        x->attempt_fd[x->nattempts++] = fd;
        x->next_attempt_at =
            x->next_addr < x->addrs.n ? fh__now_us() + FH__HAPPY_EYEBALLS_MS * 1000 : 0;
        return FH_OK;
    }
    if (x->nattempts)
        return FH_OK;
    fh__xfer_fail(x, FH_ECONNECT, "cannot connect to %s:%d: %s", x->url->host,
                  x->url->port, err);
    return FH_ECONNECT;
}

static void begin_connect(fh__xfer *x)
{
    fh_client *c = x->engine->client;
    x->state = FH__X_CONNECTING;
    fh__xfer_set_phase(x, FH_TIMEOUT_CONNECT, FH_ETIMEOUT_CONNECT);
    if (c->connect_hook) {
        int fd = c->connect_hook(c->connect_ud, x->url->host, x->url->port);
        if (fd < 0 || fh__engine_watch(x->engine, x, fd, FH_WATCH_WRITE) != FH_OK) {
            if (fd >= 0)
                close(fd);
            fh__xfer_fail(x, FH_ECONNECT, "connect hook failed for %s:%d", x->url->host,
                          x->url->port);
            return;
        }
        x->attempt_fd[x->nattempts++] = fd;
        return;
    }
    if (x->addrs.n || fh__resolve_numeric(x->url->host, x->url->port, &x->addrs) == FH_OK) {
        start_attempt(x);
        return;
    }
    int rc = fh__engine_wake_fd(x->engine);
    if (rc == FH_OK)
        rc = fh__resolve_start(&x->job, x->url->host, x->url->port, &x->engine->wake);
    if (rc) {
        fh__xfer_fail(x, rc, "cannot start resolving '%s'", x->url->host);
        return;
    }
    x->state = FH__X_RESOLVING;
}

static void connected(fh__xfer *x, int i)
{
    int fd = x->attempt_fd[i];
    x->attempt_fd[i] = x->attempt_fd[--x->nattempts];
    x->attempt_fd[x->nattempts] = -1;
    while (x->nattempts)
        close_attempt(x, 0); /* the slower attempts lost the race */
    x->next_attempt_at = 0;
    fh__conn *c = fh__conn_new(fd);
    if (!c) {
        fh__engine_unwatch(x->engine, fd);
        close(fd);
        fh__xfer_fail(x, FH_ENOMEM, "out of memory");
        return;
    }
    fh__pool_opened(&x->engine->client->pool, c, x->host);
    x->conn = c;
    x->have_slot = 0; /* the slot now belongs to the connection */
    x->tm.connect_us = fh__xfer_elapsed(x);
    if (x->url->tls)
        begin_tls(x);
    else
        begin_send(x);
}

static void on_connect_ready(fh__xfer *x, int fd)
{
    int i = 0;
    while (i < x->nattempts && x->attempt_fd[i] != fd)
        i++;
    if (i == x->nattempts)
        return;
    char err[128];
    int rc = fh__tcp_connect_result(fd, err, sizeof err);
    if (rc == FH_EAGAIN)
        return;
    if (rc == FH_OK) {
        connected(x, i);
        return;
    }
    close_attempt(x, i);
    if (x->nattempts == 0 && x->next_addr >= x->addrs.n) {
        fh__xfer_fail(x, FH_ECONNECT, "cannot connect to %s:%d: %s", x->url->host,
                      x->url->port, err);
        return;
    }
    if (x->next_addr < x->addrs.n)
        start_attempt(x); /* a failure starts the next address at once */
}

/* ---- TLS --------------------------------------------------------------- */

static void do_tls(fh__xfer *x)
{
    int want = 0;
    char err[200] = "";
    int rc = fh__tls_handshake(x->conn->ssl, &want, err, sizeof err);
    if (rc == FH_EAGAIN) {
        if (fh__engine_watch(x->engine, x, x->conn->fd, want) != FH_OK)
            fh__xfer_fail(x, FH_ELOOP, "event loop refused to watch a socket");
        return;
    }
    if (rc) {
        fh__xfer_fail(x, rc, "TLS handshake with %s:%d failed: %s", x->url->host,
                      x->url->port, err);
        return;
    }
    x->tm.tls_us = fh__xfer_elapsed(x);
    begin_send(x);
}

static void begin_tls(fh__xfer *x)
{
    char err[200] = "";
    SSL_CTX *ctx = NULL;
    const fh__url *u = x->url;
    int rc = fh__client_ssl_ctx(x->engine->client, &ctx, err, sizeof err);
    if (rc == FH_OK)
        rc = fh__tls_conn_new(&x->conn->ssl, ctx, x->conn->fd, u->host, u->host_is_ip,
                              x->engine->client->tls.verify, err, sizeof err);
    if (rc) {
        fh__xfer_fail(x, rc, "TLS setup for %s:%d failed: %s", u->host, u->port, err);
        return;
    }
    x->state = FH__X_TLS;
    do_tls(x);
}

/* ---- send -------------------------------------------------------------- */

/* Pulls the next piece from the body reader into out, framed as a chunk
 * when the length is unknown (RFC 9112 §7.1). Returns 1 when something is
 * ready to send, 0 when paused, or a negative error (request failed). */
static int fill_from_reader(fh__xfer *x)
{
    fh_request *r = x->req;
    int chunked = r->body_fn_len < 0;
    if (!x->chunk && !(x->chunk = malloc(CHUNK_SCRATCH)))
        return FH_ENOMEM;
    x->out.len = x->out_pos = 0;
    ssize_t n = r->body_fn(r->body_ud, x->chunk, CHUNK_SCRATCH);
    if (n == FH_EAGAIN) {
        x->body_paused = 1;
        return 0;
    }
    if (n < 0 || (size_t)n > CHUNK_SCRATCH)
        return FH_EBODY_SOURCE;
    if (n == 0) {
        x->body_phase = 2;
        if (!chunked && x->body_sent != r->body_fn_len)
            return FH_EBODY_SOURCE;
        if (!chunked)
            return 1;
        int rc = fh__buf_append(&x->out, "0\r\n\r\n", 5); /* last-chunk, no trailers */
        return rc ? rc : 1;
    }
    x->body_sent += n;
    if (!chunked && x->body_sent > r->body_fn_len)
        return FH_EBODY_SOURCE;
    char pre[24];
    int rc = 0;
    if (chunked)
        rc = fh__buf_append(&x->out, pre, fh__h1_chunk_prefix(pre, (size_t)n));
    if (!rc)
        rc = fh__buf_append(&x->out, x->chunk, (size_t)n);
    if (!rc && chunked)
        rc = fh__buf_append(&x->out, "\r\n", 2);
    return rc ? rc : 1;
}

static int build_iov(fh__xfer *x, struct iovec *iov)
{
    int n = 0;
    if (x->out_pos < x->out.len)
        iov[n++] = (struct iovec){x->out.data + x->out_pos, x->out.len - x->out_pos};
    int held = expects_continue(x) && !x->expect_done; /* body waits for 100 */
    if (x->body_phase == 1 && !x->req->body_fn && x->body_pos < x->req->body_len && !held)
        iov[n++] = (struct iovec){(void *)(x->req->body + x->body_pos),
                                  x->req->body_len - x->body_pos};
    return n;
}

static void advance(fh__xfer *x, size_t n)
{
    size_t h = x->out.len - x->out_pos;
    size_t a = n < h ? n : h;
    x->out_pos += a;
    x->body_pos += n - a;
    if (x->body_phase == 1 && !x->req->body_fn && x->body_pos == x->req->body_len)
        x->body_phase = 2;
}

static void report_body_source(fh__xfer *x, int rc)
{
    fh_request *r = x->req;
    if (rc == FH_EBODY_SOURCE && r->body_fn_len >= 0)
        fh__xfer_fail(x, rc, "request body reader gave %lld bytes, Content-Length is %lld",
                      (long long)x->body_sent, (long long)r->body_fn_len);
    else
        fh__xfer_fail(x, rc, "request body reader failed");
}

/* The head is out and the body is held back: read for a 100 (or a final
 * response) for at most the expect wait. */
static void await_continue(fh__xfer *x)
{
    x->awaiting_continue = 1;
    fh__xfer_begin_recv(x);
    x->phase_deadline = fh__now_us() + x->req->expect_wait_ms * 1000;
    x->phase_error = 0; /* expiry means "send the body", not a failure */
}

void fh__xfer_resume_send(fh__xfer *x)
{
    x->awaiting_continue = 0;
    x->state = FH__X_SENDING;
    fh__xfer_set_phase(x, FH_TIMEOUT_WRITE, FH_ETIMEOUT_WRITE);
    do_send(x);
}

static void do_send(fh__xfer *x)
{
    for (;;) {
        struct iovec iov[2];
        int n = build_iov(x, iov);
        if (n == 0 && x->body_phase == 1 && expects_continue(x) && x->body_pos == 0 &&
            x->body_sent == 0 && !x->expect_done) {
            x->expect_done = 1;
            await_continue(x);
            return;
        }
        if (n == 0 && x->body_phase == 1) {
            int rc = fill_from_reader(x);
            if (rc < 0) {
                report_body_source(x, rc);
                return;
            }
            if (rc == 0) { /* the reader has nothing yet: stop watching */
                fh__engine_watch(x->engine, x, x->conn->fd, 0);
                return;
            }
            continue;
        }
        if (n == 0)
            break;
        int want = 0;
        char err[128] = "";
        ssize_t w = fh__conn_writev(x->conn, iov, n, &want, err, sizeof err);
        if (w == FH_EAGAIN) {
            if (fh__engine_watch(x->engine, x, x->conn->fd, want) != FH_OK)
                fh__xfer_fail(x, FH_ELOOP, "event loop refused to watch a socket");
            return;
        }
        if (w < 0) {
            fh__xfer_io_error(x, (int)w, "sending request to", err);
            return;
        }
        advance(x, (size_t)w);
        fh__xfer_set_phase(x, FH_TIMEOUT_WRITE, FH_ETIMEOUT_WRITE); /* progress */
    }
    x->tm.sent_us = fh__xfer_elapsed(x);
    fh__xfer_begin_recv(x);
}

static void begin_send(fh__xfer *x)
{
    x->state = FH__X_SENDING;
    fh__xfer_set_phase(x, FH_TIMEOUT_WRITE, FH_ETIMEOUT_WRITE);
    do_send(x);
}

/* ---- dispatch ---------------------------------------------------------- */

void fh__xfer_step(fh__xfer *x, int fd, int events)
{
    switch (x->state) {
    case FH__X_START: do_start(x); break;
    case FH__X_CONNECTING: on_connect_ready(x, fd); break;
    case FH__X_TLS: do_tls(x); break;
    case FH__X_SENDING: do_send(x); break;
    case FH__X_RECV_HEAD:
    case FH__X_RECV_BODY:
    case FH__X_STREAMING: fh__xfer_recv(x); break;
    default: break;
    }
}

static const char *phase_name(const fh__xfer *x)
{
    switch (x->state) {
    case FH__X_POOL_WAIT: return "waiting for a free connection";
    case FH__X_RESOLVING: return "resolving the host name";
    case FH__X_CONNECTING: return "connecting";
    case FH__X_TLS: return "in the TLS handshake";
    case FH__X_SENDING: return "sending the request";
    case FH__X_RECV_HEAD: return "waiting for the response head";
    case FH__X_BACKOFF: return "waiting to retry";
    default: return "reading the response body";
    }
}

void fh__xfer_on_timeout(fh__xfer *x, int64_t now)
{
    int total = x->total_deadline && now >= x->total_deadline;
    if (!total && x->awaiting_continue && now >= x->phase_deadline) {
        fh__xfer_resume_send(x); /* no answer: send the body anyway (§10.1.1) */
        return;
    }
    if (!total && x->state == FH__X_BACKOFF) {
        if (now >= x->phase_deadline)
            fh__xfer_restart(x);
        return;
    }
    if (!total && x->state == FH__X_CONNECTING && x->next_attempt_at &&
        now >= x->next_attempt_at && (!x->phase_deadline || now < x->phase_deadline)) {
        start_attempt(x); /* RFC 8305 §5: next address after the delay */
        return;
    }
    if (!total && (!x->phase_deadline || now < x->phase_deadline))
        return;
    int code = total ? FH_ETIMEOUT_TOTAL : x->phase_error;
    int kind = total ? FH_TIMEOUT_TOTAL
               : code == FH_ETIMEOUT_CONNECT ? FH_TIMEOUT_CONNECT
               : code == FH_ETIMEOUT_POOL    ? FH_TIMEOUT_POOL
               : code == FH_ETIMEOUT_WRITE   ? FH_TIMEOUT_WRITE
                                             : FH_TIMEOUT_READ;
    const char *fmt = "%s after %lld ms %s (%s:%d)";
    if (x->completed)
        fh__xfer_stream_fail(x, code, fmt, fh_strerror(code), (long long)(x->tmo[kind] / 1000),
                             phase_name(x), x->url->host, x->url->port);
    else
        fh__xfer_fail(x, code, fmt, fh_strerror(code), (long long)(x->tmo[kind] / 1000),
                      phase_name(x), x->url->host, x->url->port);
}
