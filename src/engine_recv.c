/*
 * engine_recv.c — the request state machine from the first response byte
 * on: reading into the connection's buffer, parsing the head (skipping 1xx),
 * de-framing and decoding the body, and handing the connection back to the
 * pool only when the response was read to its end (RFC 9112 §9.3).
 *
 * The body is pulled: pull() turns buffered wire bytes into at most `cap`
 * payload bytes. Buffered mode pulls into the response's body buffer;
 * stream mode pulls into the caller's buffer from fh_response_read(), so
 * memory stays bounded whatever the compression ratio.
 */
#include "internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


void fh__xfer_stream_fail(fh__xfer *x, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->req->errmsg, sizeof x->req->errmsg, fmt, ap);
    va_end(ap);
    x->result = code;
    fh__xfer_release_conn(x, 0);
    x->want_read = 0;
    fh__xfer_notify_body(x);
}

void fh__xfer_begin_recv(fh__xfer *x)
{
    x->state = FH__X_RECV_HEAD;
    fh__xfer_set_phase(x, FH_TIMEOUT_READ, FH_ETIMEOUT_READ);
    if (fh__engine_watch(x->engine, x, x->conn->fd, FH_WATCH_READ) != FH_OK)
        fh__xfer_fail(x, FH_ELOOP, "event loop refused to watch a socket");
}

/* ---- reading ----------------------------------------------------------- */

/* Reads once into conn->rbuf. Returns bytes read, 0 on EOF, FH_EAGAIN, or
 * an error with err filled. Already-parsed bytes are dropped first so the
 * buffer does not grow with the body. */
static ssize_t read_some(fh__xfer *x, char *err, size_t errlen)
{
    fh__conn *c = x->conn;
    size_t keep = x->pay_len ? x->pay_off : c->rpos;
    if (keep) {
        fh__buf_consume(&c->rbuf, keep);
        c->rpos -= keep;
        if (x->pay_len)
            x->pay_off = 0;
    }
    if (fh__buf_reserve(&c->rbuf, FH__READ_CHUNK))
        return FH_ENOMEM;
    int want = 0;
    ssize_t n = fh__conn_read(c, c->rbuf.data + c->rbuf.len, c->rbuf.cap - c->rbuf.len, &want,
                              err, errlen);
    if (n > 0) {
        if (!x->got_bytes)
            x->tm.ttfb_us = fh__xfer_elapsed(x);
        x->got_bytes = 1;
        c->rbuf.len += (size_t)n;
    } else if (n == 0) {
        x->peer_eof = 1;
    }
    return n;
}

/* ---- body -------------------------------------------------------------- */

static int closed_early(fh__xfer *x)
{
    fh__h1_body *b = &x->body;
    if (b->kind == FH__FRAME_LENGTH)
        fh__request_fail(x->req, "connection closed after %" PRIu64 " of %" PRIu64 " body bytes",
                         b->received, b->expected);
    else
        fh__request_fail(x->req, "connection closed inside a chunked body after %" PRIu64
                         " bytes", b->received);
    return FH_ECLOSED;
}

static int body_error(fh__xfer *x, int code, const char *why)
{
    fh__request_fail(x->req, "%s: %s", fh_strerror(code), why ? why : "invalid data");
    return code;
}

/* Moves the next payload span out of the framing into pay_off/pay_len.
 * Returns 1 when progress was made, 0 when more wire bytes are needed, or
 * a negative error (message set). */
static int next_span(fh__xfer *x)
{
    fh__conn *c = x->conn;
    if (c->rpos < c->rbuf.len) {
        size_t used = 0, dlen = 0;
        const uint8_t *data = NULL;
        int rc = fh__h1_body_feed(&x->body, c->rbuf.data + c->rpos, c->rbuf.len - c->rpos,
                                  &used, &data, &dlen);
        if (rc < 0)
            return body_error(x, rc, x->body.why);
        c->rpos += used;
        if (dlen) {
            x->pay_off = (size_t)(data - c->rbuf.data);
            x->pay_len = dlen;
        }
        if (rc == 1)
            x->body_done = 1;
        return used || dlen || rc == 1;
    }
    if (x->peer_eof) {
        if (fh__h1_body_eof(&x->body) != 1)
            return closed_early(x);
        x->body_done = 1;
        x->keep_alive = 0;
        return 1;
    }
    return 0;
}

/* Decodes from the pending span; returns bytes produced or an error. */
static ssize_t decode_span(fh__xfer *x, uint8_t *out, size_t cap)
{
    const char *why = NULL;
    size_t used = 0, made = 0;
    const uint8_t *in = x->pay_len ? x->conn->rbuf.data + x->pay_off : NULL;
    int rc = fh__decoder_feed(x->dec, in, x->pay_len, &used, out, cap, &made, &why);
    if (rc < 0)
        return body_error(x, FH_EDECODE, why);
    x->pay_off += used;
    x->pay_len -= used;
    if (x->pay_len && !used && !made)
        return body_error(x, FH_EDECODE, "decoder made no progress");
    return (ssize_t)made;
}

/* At the end of the framing: drains the decoder and checks it ended. */
static ssize_t finish_decoding(fh__xfer *x, uint8_t *out, size_t cap)
{
    ssize_t n = decode_span(x, out, cap);
    if (n != 0)
        return n;
    const char *why = NULL;
    if (fh__decoder_finish(x->dec, &why) != FH_OK)
        return body_error(x, FH_EDECODE, why);
    x->dec_done = 1;
    return 0;
}

/* Produces up to cap payload bytes: > 0 bytes, 0 at the validated end of
 * the body, FH_EAGAIN when wire bytes are needed, or an error. */
static ssize_t pull(fh__xfer *x, uint8_t *out, size_t cap)
{
    for (;;) {
        if (x->pay_len) {
            if (!x->dec) {
                size_t n = x->pay_len < cap ? x->pay_len : cap;
                memcpy(out, x->conn->rbuf.data + x->pay_off, n);
                x->pay_off += n;
                x->pay_len -= n;
                return (ssize_t)n;
            }
            ssize_t n = decode_span(x, out, cap);
            if (n != 0)
                return n;
            continue;
        }
        if (x->body_done)
            return (x->dec && !x->dec_done) ? finish_decoding(x, out, cap) : 0;
        int rc = next_span(x);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return FH_EAGAIN;
    }
}

/* The body was read to its end: the connection may be pooled when the
 * server allowed it and sent nothing beyond this response. */
static void body_complete(fh__xfer *x)
{
    x->body_complete = 1;
    x->tm.total_us = fh__xfer_elapsed(x);
    if (x->resp)
        x->resp->timings = x->tm;
    int reusable = x->keep_alive && !x->peer_eof && !x->body_unsent && x->conn &&
                   x->conn->rpos == x->conn->rbuf.len;
    if (x->conn)
        x->conn->uses++;
    fh__xfer_release_conn(x, reusable);
}

#define DISCARD_MAX (1 << 20) /* hop bodies larger than this close the connection */

/* A redirect's or retried response's body is read only so the connection
 * can be reused; a large one is cheaper to abandon with the connection. */
static void discard_body(fh__xfer *x)
{
    uint8_t sink[16384];
    for (;;) {
        ssize_t n = pull(x, sink, sizeof sink);
        if (n == FH_EAGAIN && x->discarded <= DISCARD_MAX)
            return;
        if (n == 0)
            body_complete(x);
        if (n <= 0 || x->discarded > DISCARD_MAX) {
            fh__xfer_continue(x); /* closes the connection unless it was released */
            return;
        }
        x->discarded += (uint64_t)n;
    }
}

/* The cap on a buffered body and the limit it comes from: max_body_size,
 * or the tighter max_decoded_body_size when a Content-Encoding lets the
 * server send far fewer bytes than the client has to hold. */
static uint64_t body_limit(const fh__xfer *x, fh_limit_kind *kind)
{
    *kind = FH_LIMIT_BODY_BYTES;
    if (x->dec && x->limit[FH_LIMIT_DECODED_BYTES] < x->limit[FH_LIMIT_BODY_BYTES])
        *kind = FH_LIMIT_DECODED_BYTES;
    return (uint64_t)x->limit[*kind];
}

static void body_too_large(fh__xfer *x, fh_limit_kind kind, uint64_t limit)
{
    fh__xfer_fail(x, FH_EBODY_TOO_LARGE, "%sresponse body exceeds the limit of %" PRIu64
                  " bytes (%s): raise the limit or stream the response",
                  kind == FH_LIMIT_DECODED_BYTES ? "decoded " : "", limit, fh_limit_name(kind));
}

/* Buffered mode: pulls everything that is available into the body. */
static void fill_body(fh__xfer *x)
{
    if (x->discard) {
        discard_body(x);
        return;
    }
    fh__buf *b = &x->resp->body;
    fh_limit_kind kind;
    uint64_t limit = body_limit(x, &kind);
    for (;;) {
        /* A known length without decoding needs exactly that much room
         * (+1 to see an overrun); a 1 KiB body must not cost 64 KiB. */
        size_t want = FH__READ_CHUNK;
        if (x->body.kind == FH__FRAME_LENGTH && !x->dec && b->len <= x->body.expected &&
            x->body.expected - b->len < FH__READ_CHUNK)
            want = (size_t)(x->body.expected - b->len) + 1;
        if (fh__buf_reserve(b, want)) {
            fh__xfer_fail(x, FH_ENOMEM, "out of memory for the response body");
            return;
        }
        size_t room = b->cap - b->len;
        if (room > limit - b->len + 1)
            room = (size_t)(limit - b->len + 1); /* one byte over the limit is enough to tell */
        ssize_t n = pull(x, b->data + b->len, room);
        if (n == FH_EAGAIN)
            return;
        if (n < 0) {
            fh__xfer_fail_code(x, (int)n); /* pull() set the message */
            return;
        }
        if (n == 0)
            break;
        b->len += (size_t)n;
        if (b->len > limit) {
            body_too_large(x, kind, limit);
            return;
        }
    }
    body_complete(x);
    x->resp->xfer = NULL;
    x->state = FH__X_DONE;
    fh__xfer_finish(x, FH_OK);
}

/* ---- head -------------------------------------------------------------- */

/* Joins every Content-Encoding field (RFC 9110 §8.4) and builds decoders. */
static int setup_decoder(fh__xfer *x)
{
    fh_response *r = x->resp;
    fh__buf v = {0};
    size_t pos = 0;
    fh_header h;
    int rc = FH_OK;
    while (rc == FH_OK && fh_response_header_next(r, "Content-Encoding", &pos, &h) == FH_OK) {
        if (v.len)
            rc = fh__buf_append(&v, ", ", 2);
        if (rc == FH_OK)
            rc = fh__buf_append(&v, h.value, h.value_len);
    }
    const char *why = NULL;
    if (rc == FH_OK && v.len)
        rc = fh__decoder_new(&x->dec, (const char *)v.data, v.len,
                             (int)x->limit[FH_LIMIT_ENCODINGS], &why);
    fh__buf_free(&v);
    if (rc)
        fh__request_fail(x->req, "%s: %s", fh_strerror(rc), why ? why : "setup failed");
    return rc;
}

static void head_complete(fh__xfer *x, const char *raw)
{
    fh__h1_head *h = &x->head;
    x->resp = fh__response_new(h, raw);
    if (!x->resp) {
        fh__xfer_fail(x, FH_ENOMEM, "out of memory");
        return;
    }
    x->conn->rpos += h->head_len;
    x->head_scan = 0;
    x->keep_alive = h->keep_alive;
    fh__h1_body_init(&x->body, h, &x->lim);
    x->body_done = fh__h1_body_done(&x->body); /* no body, or Content-Length: 0 */
    x->resp->url = strdup(fh__policy_url(x));
    int taken = fh__policy_on_head(x);
    if (taken < 0) {
        fh__xfer_fail_code(x, taken);
        return;
    }
    if (taken) {
        x->discard = 1;
        x->state = FH__X_RECV_BODY;
        fill_body(x);
        return;
    }
    if (x->decode && h->body_kind != FH__FRAME_NONE && setup_decoder(x) != FH_OK) {
        fh__xfer_fail_code(x, FH_EDECODE);
        return;
    }
    x->resp->timings = x->tm;
    if (x->req->stream) {
        /* The user pulls from here on; the read timeout applies only while
         * the user waits for bytes. */
        x->state = FH__X_STREAMING;
        x->resp->xfer = x;
        x->phase_deadline = 0;
        fh__engine_watch(x->engine, x, x->conn->fd, 0);
        fh__xfer_finish(x, FH_OK);
        return;
    }
    x->state = FH__X_RECV_BODY;
    if (h->body_kind == FH__FRAME_LENGTH && !x->dec) {
        fh_limit_kind kind;
        uint64_t want = h->content_length, limit = body_limit(x, &kind);
        if (want > limit) { /* refused before a byte of it is read */
            body_too_large(x, kind, limit);
            return;
        }
        if (want <= (64u << 20))
            fh__buf_reserve(&x->resp->body, (size_t)want + 1); /* one allocation */
    }
    fill_body(x);
}

/* Parses what is buffered. Returns 1 when the head is done (or failed),
 * 0 when more bytes are needed. */
static int parse_head(fh__xfer *x)
{
    fh__conn *c = x->conn;
    if (!x->hdr_store &&
        !(x->hdr_store = malloc((x->lim.header_count + 1) * sizeof *x->hdr_store))) {
        fh__xfer_fail(x, FH_ENOMEM, "out of memory");
        return 1;
    }
    for (;;) {
        const char *raw = (const char *)c->rbuf.data + c->rpos;
        int rc = fh__h1_parse_head(raw, c->rbuf.len - c->rpos, &x->head_scan, &x->lim,
                                   x->req->head, x->hdr_store, x->lim.header_count + 1, &x->head);
        if (rc == FH_EAGAIN)
            return 0;
        if (rc < 0) {
            fh__xfer_fail(x, rc, "invalid response from %s:%d: %s", x->url->host,
                          x->url->port, x->head.why ? x->head.why : fh_strerror(rc));
            return 1;
        }
        /* RFC 9110 §15.2: interim responses precede the final one; 101
         * ends HTTP/1.1 on the connection and is final here. */
        if (x->head.status >= 200 || x->head.status == 101) {
            if (x->awaiting_continue) {
                /* Refused (or answered) before the body: it is never sent,
                 * so the connection cannot carry another request. */
                x->awaiting_continue = 0;
                x->body_unsent = 1;
            }
            head_complete(x, raw);
            return 1;
        }
        if (x->head.status == 100 && x->awaiting_continue) {
            c->rpos += (size_t)rc;
            x->head_scan = 0;
            fh__xfer_resume_send(x);
            return 1;
        }
        if (++x->interim > x->limit[FH_LIMIT_INTERIM]) {
            fh__xfer_fail(x, FH_ETOO_MANY_INTERIM, "more than %lld interim (1xx) responses "
                          "(limit %s)", (long long)x->limit[FH_LIMIT_INTERIM],
                          fh_limit_name(FH_LIMIT_INTERIM));
            return 1;
        }
        c->rpos += (size_t)rc;
        x->head_scan = 0;
    }
}

static void eof_in_head(fh__xfer *x)
{
    fh__conn *c = x->conn;
    size_t have = c->rbuf.len - c->rpos;
    if (!x->got_bytes) { /* may be a stale pooled connection: io_error decides */
        fh__xfer_io_error(x, FH_ECLOSED, "connection closed by", "no response received");
        return;
    }
    fh__xfer_fail(x, FH_ECLOSED, "connection closed by %s:%d after %zu bytes of the response "
                  "head", x->url->host, x->url->port, have);
}

/* RECV_HEAD and RECV_BODY: read until the socket is drained or done. */
static void recv_loop(fh__xfer *x)
{
    for (;;) {
        char err[160] = "";
        ssize_t n = read_some(x, err, sizeof err);
        if (n == FH_EAGAIN)
            return;
        if (n < 0) {
            if (x->state == FH__X_RECV_HEAD)
                fh__xfer_io_error(x, (int)n, "receiving from", err);
            else
                fh__xfer_fail(x, (int)n, "receiving body from %s:%d: %s", x->url->host,
                              x->url->port, err);
            return;
        }
        if (n > 0)
            fh__xfer_set_phase(x, FH_TIMEOUT_READ, FH_ETIMEOUT_READ);
        if (x->state == FH__X_RECV_HEAD) {
            if (parse_head(x))
                return;
            if (n == 0) {
                eof_in_head(x);
                return;
            }
        } else {
            fill_body(x);
            if (x->state != FH__X_RECV_BODY)
                return;
        }
    }
}

/* STREAMING: the socket became readable while the user waits for bytes. */
static void stream_readable(fh__xfer *x)
{
    char err[160] = "";
    ssize_t n = read_some(x, err, sizeof err);
    if (n == FH_EAGAIN)
        return;
    if (n < 0) {
        fh__xfer_stream_fail(x, (int)n, "receiving body from %s:%d: %s", x->url->host,
                             x->url->port, err);
        return;
    }
    x->want_read = 0;
    x->phase_deadline = 0;
    fh__engine_watch(x->engine, x, x->conn->fd, 0);
    fh__xfer_notify_body(x);
}

void fh__xfer_recv(fh__xfer *x)
{
    if (x->state == FH__X_STREAMING)
        stream_readable(x);
    else
        recv_loop(x);
}

ssize_t fh__xfer_read_body(fh__xfer *x, uint8_t *buf, size_t cap)
{
    if (x->result < 0)
        return x->result;
    if (x->body_complete)
        return 0;
    if (cap == 0)
        return FH_EINVAL;
    for (;;) {
        ssize_t n = pull(x, buf, cap);
        if (n == 0)
            body_complete(x);
        if (n < 0 && n != FH_EAGAIN) { /* pull() set the message */
            x->result = (int)n;
            fh__xfer_release_conn(x, 0);
        }
        if (n != FH_EAGAIN)
            return n;
        char err[160] = "";
        ssize_t r = read_some(x, err, sizeof err);
        if (r == FH_EAGAIN)
            break;
        if (r < 0) {
            fh__xfer_stream_fail(x, (int)r, "receiving body from %s:%d: %s", x->url->host,
                                 x->url->port, err);
            return r;
        }
    }
    /* Nothing buffered: wait for the socket, with the read timeout armed. */
    x->want_read = 1;
    fh__xfer_set_phase(x, FH_TIMEOUT_READ, FH_ETIMEOUT_READ);
    if (fh__engine_watch(x->engine, x, x->conn->fd, FH_WATCH_READ) != FH_OK)
        return FH_ELOOP;
    if (!x->engine->in_action)
        fh__engine_rearm(x->engine); /* the read timeout must reach the loop's timer */
    return FH_EAGAIN;
}
