/*
 * body.c — the response body of an exchange, whatever codec carries it:
 * what happens when a final head arrives (policy, decoder, delivery), and
 * the body pulled through the decoder into the response (buffered mode) or
 * the caller's buffer (stream mode), within the size limits.
 *
 * The body is pulled: pull() asks the codec for the next de-framed span
 * (an HTTP/1.1 chunk's payload, later an HTTP/2 DATA frame's) and turns it
 * into at most `cap` payload bytes. So memory stays bounded by the caller's
 * buffer whatever the compression ratio.
 */
#include "internal.h"
#include "conninfo.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISCARD_MAX (1 << 20) /* hop bodies larger than this close the connection */

static int body_error(fh__exchange *x, int code, const char *why)
{
    fh__request_fail(x->req, "%s: %s", fh_strerror(code), why ? why : "invalid data");
    return code;
}

/* Decodes from span p/n into out; returns bytes produced or an error. */
static ssize_t decode_span(fh__exchange *x, const uint8_t *p, size_t n, uint8_t *out, size_t cap)
{
    const char *why = NULL;
    size_t used = 0, made = 0;
    int rc = fh__decoder_feed(x->dec, p, n, &used, out, cap, &made, &why);
    if (rc < 0)
        return body_error(x, FH_EDECODE, why);
    if (used) {
        x->conn->codec->consume(x->conn, x, used);
        if (x->resp)
            x->resp->wire_bytes += used;
    }
    if (n && !used && !made)
        return body_error(x, FH_EDECODE, "decoder made no progress");
    return (ssize_t)made;
}

/* At the end of the framing: drains the decoder and checks it ended. */
static ssize_t finish_decoding(fh__exchange *x, uint8_t *out, size_t cap)
{
    ssize_t n = decode_span(x, NULL, 0, out, cap);
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
static ssize_t pull(fh__exchange *x, uint8_t *out, size_t cap)
{
    fh__conn *c = x->conn;
    if (!x->dec && cap >= FH__DIRECT_MIN && c->codec->read_into) {
        /* A large identity body goes from the socket to its destination
         * with no stop in the connection's buffer: one copy less. */
        ssize_t n = c->codec->read_into(c, x, out, cap);
        if (n != FH__DIRECT_NO) {
            if (n > 0 && x->resp)
                x->resp->wire_bytes += (uint64_t)n;
            return n;
        }
    }
    for (;;) {
        const uint8_t *p = NULL;
        size_t n = 0;
        int r = c->codec->span(c, x, &p, &n);
        if (r < 0)
            return r;
        if (r == 0)
            return FH_EAGAIN;
        if (r == FH__SPAN_END)
            return (x->dec && !x->dec_done) ? finish_decoding(x, out, cap) : 0;
        if (!x->dec) {
            size_t m = n < cap ? n : cap;
            memcpy(out, p, m);
            c->codec->consume(c, x, m);
            if (x->resp)
                x->resp->wire_bytes += m;
            return (ssize_t)m;
        }
        ssize_t made = decode_span(x, p, n, out, cap);
        if (made != 0)
            return made;
    }
}

/* The body was read to its end: the connection is handed back to its
 * codec, which decides whether it may carry another request. */
static void body_complete(fh__exchange *x)
{
    x->body_complete = 1;
    x->tm.total_us = fh__ex_elapsed(x);
    if (x->resp)
        x->resp->timings = x->tm;
    fh__conn_detach(x->conn, x, 1);
    fh__ex_arm(x);
}

/* A redirect's or retried response's body is read only so the connection
 * can be reused; a large one is cheaper to abandon with the connection. */
static void discard_body(fh__exchange *x)
{
    uint8_t sink[16384];
    for (;;) {
        ssize_t n = pull(x, sink, sizeof sink);
        if (n == FH_EAGAIN && x->discarded <= DISCARD_MAX)
            return;
        if (n == 0)
            body_complete(x);
        if (n <= 0 || x->discarded > DISCARD_MAX) {
            fh__ex_continue(x); /* closes the connection unless it was released */
            return;
        }
        x->discarded += (uint64_t)n;
    }
}

/* The cap on a buffered body and the limit it comes from: max_body_size,
 * or the tighter max_decoded_body_size when a Content-Encoding lets the
 * server send far fewer bytes than the client has to hold. */
static uint64_t body_limit(const fh__exchange *x, fh_limit_kind *kind)
{
    *kind = FH_LIMIT_BODY_BYTES;
    if (x->dec && x->limit[FH_LIMIT_DECODED_BYTES] < x->limit[FH_LIMIT_BODY_BYTES])
        *kind = FH_LIMIT_DECODED_BYTES;
    return (uint64_t)x->limit[*kind];
}

static void body_too_large(fh__exchange *x, fh_limit_kind kind, uint64_t limit)
{
    fh__ex_fail(x, FH_EBODY_TOO_LARGE, "%sresponse body exceeds the limit of %" PRIu64
                " bytes (%s): raise the limit or stream the response",
                kind == FH_LIMIT_DECODED_BYTES ? "decoded " : "", limit, fh_limit_name(kind));
}

/* Room to ask for next: a known length without decoding needs exactly that
 * much (+1 to see an overrun), so a 1 KiB body does not cost 64 KiB. */
static size_t next_want(const fh__exchange *x, const fh__buf *b)
{
    uint64_t left = x->resp->content_length;
    if (left != UINT64_MAX && !x->dec && b->len <= left && left - b->len < FH__READ_CHUNK)
        return (size_t)(left - b->len) + 1;
    return FH__READ_CHUNK;
}

/* Buffered mode: pulls everything that is available into the body. */
static void fill_body(fh__exchange *x)
{
    if (x->discard) {
        discard_body(x);
        return;
    }
    fh__buf *b = &x->resp->body;
    fh_limit_kind kind;
    uint64_t limit = body_limit(x, &kind);
    for (;;) {
        size_t want = next_want(x, b);
        if ((x->resp->storage_handle || fh__response_body_inline(x->resp)) &&
            b->cap - b->len < want) {
            /* The caller's storage (or the room in the response's block)
             * cannot grow; the framing never lets a body outrun its
             * Content-Length, so this is a library bug. */
            fh__ex_fail(x, FH_EPROTO, "response body longer than its Content-Length");
            return;
        }
        if (fh__buf_reserve(b, want)) {
            fh__ex_fail(x, FH_ENOMEM, "out of memory for the response body");
            return;
        }
        size_t room = b->cap - b->len;
        if (room > limit - b->len + 1)
            room = (size_t)(limit - b->len + 1); /* one byte over the limit is enough to tell */
        ssize_t n = pull(x, b->data + b->len, room);
        if (n == FH_EAGAIN)
            return;
        if (n < 0) {
            fh__ex_fail_code(x, (int)n); /* pull() set the message */
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
    fh__ex_finish(x, FH_OK);
}

/* ---- head ------------------------------------------------------------------- */

/* Joins every Content-Encoding field (RFC 9110 §8.4) and builds decoders. */
static int setup_decoder(fh__exchange *x)
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

/* A body of known length goes into the caller's storage when the request
 * has some (fh_body_storage): no copy out of a library buffer afterwards.
 * 1 when it does. */
static int use_storage(fh__exchange *x, uint64_t len)
{
    const fh_body_storage *st = &x->req->storage;
    fh_response *r = x->resp;
    if (!st->alloc || len < st->min_size || len >= SIZE_MAX || r->body.data)
        return 0;
    void *handle = NULL;
    uint8_t *p = st->alloc(st->ud, (size_t)len, &handle);
    if (!p)
        return 0;
    if (!handle)
        handle = p; /* the storage is its own handle */
    r->storage = *st;
    r->storage_handle = handle;
    r->body = (fh__buf){p, 0, (size_t)len + 1};
    return 1;
}

void fh__ex_on_head(fh__exchange *x)
{
    fh_response *r = x->resp;
    if (!r->conn_info && x->conn)
        r->conn_info = fh__conninfo_ref(x->conn->info);
    if (fh__response_record_request(r, x, r->url) != FH_OK) {
        fh__ex_fail(x, FH_ENOMEM, "out of memory");
        return;
    }
    const fh__route *rt;
    if (r->status == 407 && (rt = fh__ex_route(x)) && rt->forward) {
        /* In forward mode the proxy answers for itself: its 407 (RFC 9110
         * §15.5.8) is a refusal of the proxy, not the origin's response. */
        x->req->proxy_status = 407;
        fh__ex_fail(x, FH_EPROXY, "proxy %s requires authentication (407 Proxy Authentication "
                    "Required)%s", rt->proxy->id,
                    rt->proxy->user ? ": the credentials were refused" : "");
        return;
    }
    int taken = fh__policy_on_head(x);
    if (taken < 0) {
        fh__ex_fail_code(x, taken);
        return;
    }
    if (taken) {
        x->discard = 1;
        fill_body(x);
        return;
    }
    if (x->decode && r->has_body && setup_decoder(x) != FH_OK) {
        fh__ex_fail_code(x, FH_EDECODE);
        return;
    }
    r->timings = x->tm;
    if (x->req->stream) {
        /* The user pulls from here on; the read timeout applies only while
         * the user waits for bytes. */
        x->state = FH__X_STREAMING;
        r->xfer = x;
        x->phase_deadline = 0;
        x->conn->codec->want_body(x->conn, x, 0);
        fh__ex_finish(x, FH_OK);
        return;
    }
    fh_limit_kind kind;
    uint64_t want = r->content_length, limit = body_limit(x, &kind);
    if (want != UINT64_MAX && !x->dec) {
        if (want > limit) { /* refused before a byte of it is read */
            body_too_large(x, kind, limit);
            return;
        }
        if (!use_storage(x, want)) {
            if (want < r->inline_cap && !r->body.data)
                r->body = (fh__buf){r->inline_body, 0, r->inline_cap}; /* no allocation */
            else if (want <= (64u << 20))
                fh__buf_reserve(&r->body, (size_t)want + 1); /* one allocation */
        }
    }
    fill_body(x);
}

void fh__ex_on_data(fh__exchange *x)
{
    if (x->state == FH__X_STREAMING) {
        x->want_read = 0;
        x->phase_deadline = 0;
        x->conn->codec->want_body(x->conn, x, 0);
        fh__ex_arm(x);
        fh__ex_notify_body(x);
        return;
    }
    fill_body(x);
}

ssize_t fh__ex_read_body(fh__exchange *x, uint8_t *buf, size_t cap)
{
    if (x->result < 0)
        return x->result;
    if (x->body_complete)
        return 0;
    if (cap == 0)
        return FH_EINVAL;
    ssize_t n = pull(x, buf, cap);
    if (n == 0)
        body_complete(x);
    if (n < 0 && n != FH_EAGAIN) { /* pull() or the codec set the message */
        x->result = (int)n;
        fh__conn_detach(x->conn, x, 0);
        fh__ex_arm(x);
    }
    if (n != FH_EAGAIN)
        return n;
    /* Nothing buffered: wait for the socket, with the read timeout armed. */
    x->want_read = 1;
    fh__ex_set_phase(x, FH_TIMEOUT_READ, FH_ETIMEOUT_READ);
    if (x->conn->codec->want_body(x->conn, x, 1) != FH_OK)
        return FH_ELOOP;
    if (!x->engine->in_action)
        fh__engine_rearm(x->engine); /* the read timeout must reach the loop's timer */
    return FH_EAGAIN;
}
