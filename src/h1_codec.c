/*
 * h1_codec.c — HTTP/1.1 behind a connection (RFC 9112): one exchange at a
 * time. Writes the request head (and a small body) in one buffer, streams
 * larger and reader bodies (chunked when their length is unknown), holds a
 * body back for Expect: 100-continue, reads and parses the response head
 * in place (skipping interim 1xx), de-frames the body into spans for
 * body.c, and decides whether the connection may carry another request.
 * A 101 to a request that asked to upgrade ends HTTP on the connection:
 * the connection goes to the response, to be taken over.
 *
 * The codec's state lives with the connection; it is reset for each
 * exchange, since HTTP/1.1 carries one at a time.
 */
#include "internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_INLINE_MAX 16384 /* memory bodies up to this go out with the head */
/* A reader body goes out in pieces of up to this, read straight into the
 * output buffer (one copy from the reader to the socket's buffer): a piece
 * per sendmsg. A lent body (fh_request_set_body_lender) goes out in the
 * lender's pieces, with no copy at all. */
#define READER_PIECE 262144
#define CHUNK_PREFIX_MAX 18 /* "ffffffffffffffff\r\n": the size of a piece in hex */

enum { H1_IDLE = 0, H1_SEND, H1_HEAD, H1_BODY };

typedef struct h1 {
    fh__exchange *x;           /* the exchange it carries, or NULL */
    int phase;
    /* sending */
    fh__buf out;               /* request head (+ small body, chunk frames) */
    size_t out_pos;
    size_t body_pos;           /* memory body bytes sent */
    const uint8_t *lent;       /* the unsent rest of a lent piece */
    size_t lent_len;
    int crlf_due;              /* a lent chunk's closing CRLF goes out with the next frame */
    int body_phase;            /* 0 head, 1 body, 2 done */
    int body_eof;              /* the reader ended */
    int awaiting_continue;     /* head sent, body held until 100 Continue */
    int expect_done;           /* the 100-continue wait happened */
    int body_unsent;           /* a final response came before the body went out */
    /* receiving */
    fh__h1_limits lim;
    size_t head_scan;
    int interim;
    fh_header *hdr_store;
    size_t hdr_cap;
    fh__h1_head head;
    fh__h1_body body;
    int body_done;             /* framing complete */
    int keep_alive;
    int peer_eof;              /* the server closed its side */
    int upgraded;              /* a 101 ended HTTP on the connection */
    size_t pay_off, pay_len;   /* payload span in rbuf not yet consumed */
} h1;

static int h1_init(fh__conn *c)
{
    h1 *st = calloc(1, sizeof *st);
    if (!st)
        return FH_ENOMEM;
    c->cs = st;
    c->max_streams = 1;
    return FH_OK;
}

static void h1_free(fh__conn *c)
{
    h1 *st = c->cs;
    if (!st)
        return;
    fh__buf_free(&st->out);
    free(st->hdr_store);
    free(st);
    c->cs = NULL;
}

/* ---- sending -------------------------------------------------------------------- */

static void begin_recv(fh__conn *c, fh__exchange *x);

static int expects_continue(const fh__exchange *x)
{
    return x->req->expect_continue && fh__ex_has_body(x);
}

/* Pulls the next piece from the body reader into out, framed as a chunk
 * when the length is unknown (RFC 9112 §7.1): the piece is read in place
 * after room for the largest chunk-size line, which is then written right
 * before it, and sending starts there (out_pos). Returns 1 when something
 * is ready to send, 0 when paused, or a negative error (message set). */
static int fill_from_reader(h1 *st, fh__exchange *x)
{
    int chunked = x->req->body_fn_len < 0;
    size_t at = chunked ? CHUNK_PREFIX_MAX : 0;
    st->out.len = st->out_pos = 0;
    if (fh__buf_reserve(&st->out, at + READER_PIECE + 2)) {
        fh__request_fail(x->req, "out of memory");
        return FH_ENOMEM;
    }
    ssize_t n = fh__ex_body_read(x, st->out.data + at, READER_PIECE);
    if (n == FH_EAGAIN)
        return 0;
    if (n < 0)
        return (int)n;
    if (n == 0) {
        st->body_phase = 2;
        if (!chunked)
            return 1;
        int rc = fh__buf_append(&st->out, "0\r\n\r\n", 5); /* last-chunk, no trailers */
        return rc ? rc : 1;
    }
    if (!chunked) {
        st->out.len = (size_t)n;
        return 1;
    }
    char pre[24];
    size_t plen = fh__h1_chunk_prefix(pre, (size_t)n);
    st->out_pos = at - plen;
    memcpy(st->out.data + st->out_pos, pre, plen);
    memcpy(st->out.data + at + (size_t)n, "\r\n", 2);
    st->out.len = at + (size_t)n + 2;
    return 1;
}

/* The next piece of a lent body, sent from where it is: out gets only the
 * framing, the CRLF that ends the previous chunk and this chunk's size line
 * (RFC 9112 §7.1), or the last-chunk at the end. Returns as
 * fill_from_reader does. */
static int fill_from_lender(h1 *st, fh__exchange *x)
{
    int chunked = x->req->body_fn_len < 0;
    const uint8_t *p = NULL;
    st->out.len = st->out_pos = 0;
    ssize_t n = fh__ex_body_lend(x, &p);
    if (n == FH_EAGAIN)
        return 0;
    if (n < 0)
        return (int)n;
    char frame[2 + CHUNK_PREFIX_MAX + 5];
    size_t len = 0;
    if (chunked && st->crlf_due) {
        memcpy(frame, "\r\n", 2);
        len = 2;
    }
    st->crlf_due = 0;
    if (n == 0) {
        st->body_phase = 2;
        if (chunked) {
            memcpy(frame + len, "0\r\n\r\n", 5); /* last-chunk, no trailers */
            len += 5;
        }
    } else {
        st->lent = p;
        st->lent_len = (size_t)n;
        if (chunked) {
            len += fh__h1_chunk_prefix(frame + len, (size_t)n);
            st->crlf_due = 1;
        }
    }
    int rc = len ? fh__buf_append(&st->out, frame, len) : 0;
    if (rc)
        fh__request_fail(x->req, "out of memory");
    return rc ? rc : 1;
}

static int build_iov(h1 *st, fh__exchange *x, struct iovec *iov)
{
    int n = 0;
    if (st->out_pos < st->out.len)
        iov[n++] = (struct iovec){st->out.data + st->out_pos, st->out.len - st->out_pos};
    const fh_request *r = x->req;
    int held = expects_continue(x) && !st->expect_done; /* body waits for 100 */
    if (st->body_phase == 1 && !r->body_fn && st->body_pos < r->body_len && !held)
        iov[n++] = (struct iovec){(void *)(r->body + st->body_pos), r->body_len - st->body_pos};
    else if (st->lent_len)
        iov[n++] = (struct iovec){(void *)st->lent, st->lent_len};
    return n;
}

static void advance(h1 *st, const fh__exchange *x, size_t n)
{
    size_t h = st->out.len - st->out_pos;
    size_t a = n < h ? n : h;
    st->out_pos += a;
    if (st->lent_len) {
        st->lent += n - a;
        st->lent_len -= n - a;
        return;
    }
    st->body_pos += n - a;
    if (st->body_phase == 1 && !x->req->body_fn && st->body_pos == x->req->body_len)
        st->body_phase = 2;
}

/* The head is out and the body is held back: read for a 100 (or a final
 * response) for at most the expect wait (RFC 9110 §10.1.1). */
static void await_continue(fh__conn *c, h1 *st, fh__exchange *x)
{
    st->awaiting_continue = 1;
    begin_recv(c, x);
    x->phase_deadline = fh__now_us() + x->req->expect_wait_ms * 1000;
    x->phase_error = 0; /* expiry means "send the body", not a failure */
    fh__ex_arm(x);
}

static void do_send(fh__conn *c)
{
    h1 *st = c->cs;
    fh__exchange *x = st->x;
    for (;;) {
        struct iovec iov[2];
        int n = build_iov(st, x, iov);
        if (n == 0 && st->body_phase == 1 && expects_continue(x) && !st->expect_done) {
            st->expect_done = 1;
            await_continue(c, st, x);
            return;
        }
        if (n == 0 && st->body_phase == 1) {
            int rc = x->req->lend_fn ? fill_from_lender(st, x) : fill_from_reader(st, x);
            if (rc < 0) {
                fh__ex_fail_code(x, rc);
                return;
            }
            if (rc == 0) { /* the reader has nothing yet: stop watching */
                fh__conn_watch(c, 0);
                return;
            }
            continue;
        }
        if (n == 0)
            break;
        int want = 0;
        char err[128] = "";
        ssize_t w = fh__conn_writev(c, iov, n, &want, err, sizeof err);
        if (w == FH_EAGAIN) {
            if (fh__conn_watch(c, want) != FH_OK)
                fh__ex_fail(x, FH_ELOOP, "event loop refused to watch a socket");
            return;
        }
        if (w < 0) {
            fh__ex_io_error(x, (int)w, "sending request to", err);
            return;
        }
        advance(st, x, (size_t)w);
        fh__ex_set_phase(x, FH_TIMEOUT_WRITE, FH_ETIMEOUT_WRITE); /* progress */
    }
    x->tm.sent_us = fh__ex_elapsed(x);
    begin_recv(c, x);
}

static void resume_send(fh__conn *c, fh__exchange *x)
{
    h1 *st = c->cs;
    st->awaiting_continue = 0;
    st->phase = H1_SEND;
    fh__ex_set_phase(x, FH_TIMEOUT_WRITE, FH_ETIMEOUT_WRITE);
    do_send(c);
}

/* Writes this exchange's request head (and a small body) into out. */
static int build_head(h1 *st, fh__exchange *x)
{
    fh_request *r = x->req;
    st->out.len = st->out_pos = st->body_pos = 0;
    st->lent = NULL;
    st->lent_len = 0;
    st->crlf_due = 0;
    const char *auth = x->authority;
    int rc = fh__h1_write_head_n(&st->out, x->method, x->method_len, x->target,
                                 x->target_len, auth, x->authority_len, x->hdrs, x->nhdrs,
                                 x->nchecked, x->framing);
    if (rc) {
        fh__request_fail(r, "invalid request line or header for %s", r->url_str);
        return rc;
    }
    int body = fh__ex_has_body(x);
    st->body_phase = 2;
    if (body && r->body_fn)
        st->body_phase = 1;
    else if (body && r->body_len <= BODY_INLINE_MAX && !expects_continue(x))
        rc = fh__buf_append(&st->out, r->body, r->body_len); /* one write for all */
    else if (body)
        st->body_phase = 1;
    return rc;
}

static void h1_start(fh__conn *c, fh__exchange *x)
{
    h1 *st = c->cs;
    fh__h1_limits lim = {(size_t)x->limit[FH_LIMIT_STATUS_LINE],
                         (size_t)x->limit[FH_LIMIT_HEADER_BYTES],
                         (size_t)x->limit[FH_LIMIT_HEADER_COUNT],
                         (size_t)x->limit[FH_LIMIT_TRAILER_BYTES]};
    st->x = x;
    st->lim = lim;
    st->body_eof = st->awaiting_continue = st->expect_done = st->body_unsent = 0;
    st->head_scan = 0;
    st->interim = 0;
    st->body_done = st->keep_alive = st->peer_eof = st->upgraded = 0;
    st->pay_off = st->pay_len = 0;
    int rc = build_head(st, x);
    if (rc) {
        fh__ex_fail_code(x, rc);
        return;
    }
    st->phase = H1_SEND;
    fh__ex_set_phase(x, FH_TIMEOUT_WRITE, FH_ETIMEOUT_WRITE);
    do_send(c);
}

static void h1_resume(fh__conn *c, fh__exchange *x)
{
    h1 *st = c->cs;
    if (st->phase == H1_SEND)
        do_send(c);
}

static void h1_on_timer(fh__conn *c, fh__exchange *x)
{
    h1 *st = c->cs;
    if (st->awaiting_continue)
        resume_send(c, x); /* no answer: send the body anyway (§10.1.1) */
}

/* ---- receiving ---------------------------------------------------------------------- */

static void begin_recv(fh__conn *c, fh__exchange *x)
{
    h1 *st = c->cs;
    st->phase = H1_HEAD;
    fh__ex_set_phase(x, FH_TIMEOUT_READ, FH_ETIMEOUT_READ);
    if (fh__conn_watch(c, FH_WATCH_READ) != FH_OK)
        fh__ex_fail(x, FH_ELOOP, "event loop refused to watch a socket");
}

/* Reads once into rbuf. Returns bytes read, 0 on EOF, FH_EAGAIN, or an
 * error with err filled. Consumed bytes are dropped first so the buffer
 * does not grow with the body. */
static ssize_t read_some(fh__conn *c, h1 *st, char *err, size_t errlen)
{
    fh__exchange *x = st->x;
    size_t keep = st->pay_len ? st->pay_off : c->rpos;
    if (keep) {
        fh__buf_consume(&c->rbuf, keep);
        c->rpos -= keep;
        if (st->pay_len)
            st->pay_off = 0;
    }
    if (fh__buf_reserve(&c->rbuf, FH__READ_CHUNK))
        return FH_ENOMEM;
    if (c->lowat > 1)
        fh__conn_set_lowat(c, 1); /* heads and framed bytes: any byte counts */
    size_t room = c->rbuf.cap - c->rbuf.len;
    /* While the head is awaited, at most FH__DIRECT_MIN: the head and a
     * small body come in one read, and the rest of a larger body goes from
     * the socket straight to its destination (read_into) instead of
     * through this buffer and a copy (a 64 KiB body: 48 KiB less copied). */
    if (st->phase == H1_HEAD && room > FH__DIRECT_MIN)
        room = FH__DIRECT_MIN;
    int want = 0;
    ssize_t n = fh__conn_read(c, c->rbuf.data + c->rbuf.len, room, &want, err, errlen);
    if (n > 0) {
        if (!x->got_bytes)
            x->tm.ttfb_us = fh__ex_elapsed(x);
        x->got_bytes = 1;
        c->rbuf.len += (size_t)n;
    } else if (n == 0) {
        st->peer_eof = 1;
    }
    return n;
}

/* 101 ends HTTP/1.1 on the connection (RFC 9110 §15.2.2): only an answer
 * to a request that asked to switch. */
static int check_101(h1 *st, fh__exchange *x)
{
    if (!x->upgrade) {
        fh__ex_fail(x, FH_EPROTO, "invalid response from %s:%d: 101 Switching Protocols to a "
                    "request that asked for no upgrade", x->url->host, x->url->port);
        return FH_EPROTO;
    }
    st->upgraded = 1;
    return FH_OK;
}

/* A body of known length up to this size is received into the response's
 * own block: one malloc and one free fewer per small response. */
#define INLINE_BODY_MAX 4096

/* Room for the body in the response's block (body.c uses it when the body
 * is not content-decoded): for a small body of known length that no
 * storage of the caller's would take. */
static size_t inline_room(const fh__exchange *x, const fh__h1_head *h)
{
    const fh_body_storage *st = &x->req->storage;
    if (h->body_kind != FH__FRAME_LENGTH || h->content_length > INLINE_BODY_MAX ||
        (st->alloc && h->content_length >= st->min_size) || x->req->stream)
        return 0;
    return (size_t)h->content_length + 1;
}

static void head_complete(fh__conn *c, h1 *st, const char *raw)
{
    fh__exchange *x = st->x;
    fh__h1_head *h = &st->head;
    if (h->status == 101 && check_101(st, x) != FH_OK)
        return;
    fh_response *resp = fh__response_new(h, raw, fh__policy_url(x), inline_room(x, h));
    if (!resp) {
        fh__ex_fail(x, FH_ENOMEM, "out of memory");
        return;
    }
    resp->has_body = h->body_kind != FH__FRAME_NONE;
    resp->content_length = h->body_kind == FH__FRAME_LENGTH ? h->content_length : UINT64_MAX;
    x->resp = resp;
    c->rpos += h->head_len;
    st->head_scan = 0;
    st->keep_alive = h->keep_alive;
    fh__h1_body_init(&st->body, h, &st->lim);
    st->body_done = fh__h1_body_done(&st->body); /* no body, or Content-Length: 0 */
    st->phase = H1_BODY;
    fh__ex_on_head(x); /* c may be gone after this */
}

/* Parses what is buffered. Returns 1 when the head is done (or failed),
 * 0 when more bytes are needed. */
static int parse_head(fh__conn *c, h1 *st)
{
    fh__exchange *x = st->x;
    if (st->hdr_cap < st->lim.header_count + 1) {
        free(st->hdr_store);
        st->hdr_cap = 0;
        if (!(st->hdr_store = malloc((st->lim.header_count + 1) * sizeof *st->hdr_store))) {
            fh__ex_fail(x, FH_ENOMEM, "out of memory");
            return 1;
        }
        st->hdr_cap = st->lim.header_count + 1;
    }
    for (;;) {
        const char *raw = (const char *)c->rbuf.data + c->rpos;
        int rc = fh__h1_parse_head(raw, c->rbuf.len - c->rpos, &st->head_scan, &st->lim,
                                   x->req->head, st->hdr_store, st->hdr_cap, &st->head);
        if (rc == FH_EAGAIN)
            return 0;
        if (rc < 0) {
            fh__ex_fail(x, rc, "invalid response from %s:%d: %s", x->url->host, x->url->port,
                        st->head.why ? st->head.why : fh_strerror(rc));
            return 1;
        }
        /* RFC 9110 §15.2: interim responses precede the final one; 101
         * ends HTTP/1.1 on the connection and is final here. */
        if (st->head.status >= 200 || st->head.status == 101) {
            if (st->awaiting_continue) {
                /* Refused (or answered) before the body: it is never sent,
                 * so the connection cannot carry another request. */
                st->awaiting_continue = 0;
                st->body_unsent = 1;
            }
            head_complete(c, st, raw);
            return 1;
        }
        if (st->head.status == 100 && st->awaiting_continue) {
            c->rpos += (size_t)rc;
            st->head_scan = 0;
            resume_send(c, x);
            return 1;
        }
        if (++st->interim > x->limit[FH_LIMIT_INTERIM]) {
            fh__ex_fail(x, FH_ETOO_MANY_INTERIM, "more than %lld interim (1xx) responses "
                        "(limit %s)", (long long)x->limit[FH_LIMIT_INTERIM],
                        fh_limit_name(FH_LIMIT_INTERIM));
            return 1;
        }
        c->rpos += (size_t)rc;
        st->head_scan = 0;
    }
}

static void eof_in_head(fh__conn *c, fh__exchange *x)
{
    size_t have = c->rbuf.len - c->rpos;
    if (!x->got_bytes) { /* may be a stale pooled connection: io_error decides */
        fh__ex_io_error(x, FH_ECLOSED, "connection closed by", "no response received");
        return;
    }
    fh__ex_fail(x, FH_ECLOSED, "connection closed by %s:%d after %zu bytes of the response "
                "head", x->url->host, x->url->port, have);
}

/* Reading the head: until the socket is drained, the head is complete (the
 * exchange then pulls the body), or it failed. */
static void recv_head(fh__conn *c, h1 *st)
{
    fh__exchange *x = st->x;
    for (;;) {
        char err[160] = "";
        ssize_t n = read_some(c, st, err, sizeof err);
        if (n == FH_EAGAIN)
            return;
        if (n < 0) {
            fh__ex_io_error(x, (int)n, "receiving from", err);
            return;
        }
        if (n > 0)
            fh__ex_set_phase(x, FH_TIMEOUT_READ, FH_ETIMEOUT_READ);
        if (parse_head(c, st))
            return;
        if (n == 0) {
            eof_in_head(c, x);
            return;
        }
    }
}

static void h1_io(fh__conn *c, int events)
{
    h1 *st = c->cs;
    fh__exchange *x = st->x;
    if (!x)
        return; /* a hot connection between exchanges */
    switch (st->phase) {
    case H1_SEND: do_send(c); break;
    case H1_HEAD: recv_head(c, st); break;
    case H1_BODY:
        if (x->state == FH__X_STREAMING && !x->want_read)
            return;
        fh__ex_on_data(x); /* pulling the body reads the socket */
        break;
    default: break;
    }
}

/* ---- the body as spans -------------------------------------------------------------- */

static int closed_early(fh__exchange *x, const fh__h1_body *b)
{
    if (b->kind == FH__FRAME_LENGTH)
        fh__request_fail(x->req, "connection closed after %" PRIu64 " of %" PRIu64 " body bytes",
                         b->received, b->expected);
    else
        fh__request_fail(x->req, "connection closed inside a chunked body after %" PRIu64
                         " bytes", b->received);
    return FH_ECLOSED;
}

/* Feeds buffered wire bytes to the framing: 1 when that made progress. */
static int deframe(fh__conn *c, h1 *st, fh__exchange *x, int *err)
{
    size_t used = 0, dlen = 0;
    const uint8_t *data = NULL;
    int rc = fh__h1_body_feed(&st->body, c->rbuf.data + c->rpos, c->rbuf.len - c->rpos, &used,
                              &data, &dlen);
    if (rc < 0) {
        fh__request_fail(x->req, "%s: %s", fh_strerror(rc),
                         st->body.why ? st->body.why : "invalid data");
        *err = rc;
        return 0;
    }
    c->rpos += used;
    if (dlen) {
        st->pay_off = (size_t)(data - c->rbuf.data);
        st->pay_len = dlen;
    }
    if (rc == 1)
        st->body_done = 1;
    return used || dlen || rc == 1;
}

static int h1_span(fh__conn *c, fh__exchange *x, const uint8_t **p, size_t *n)
{
    h1 *st = c->cs;
    for (;;) {
        if (st->pay_len) {
            *p = c->rbuf.data + st->pay_off;
            *n = st->pay_len;
            return 1;
        }
        if (st->body_done)
            return FH__SPAN_END;
        int err = 0;
        if (c->rpos < c->rbuf.len && deframe(c, st, x, &err))
            continue;
        if (err)
            return err;
        if (st->peer_eof) {
            if (fh__h1_body_eof(&st->body) != 1)
                return closed_early(x, &st->body);
            st->body_done = 1;
            st->keep_alive = 0;
            continue;
        }
        char msg[160] = "";
        ssize_t r = read_some(c, st, msg, sizeof msg);
        if (r == FH_EAGAIN)
            return 0;
        if (r < 0) {
            fh__request_fail(x->req, "receiving body from %s:%d: %s", x->url->host, x->url->port,
                             msg);
            return (int)r;
        }
        if (r > 0 && x->state == FH__X_ACTIVE)
            fh__ex_set_phase(x, FH_TIMEOUT_READ, FH_ETIMEOUT_READ); /* progress */
    }
}

static ssize_t h1_read_into(fh__conn *c, fh__exchange *x, uint8_t *dst, size_t cap)
{
    h1 *st = c->cs;
    const fh__h1_body *b = &st->body;
    if (st->pay_len || st->body_done || st->peer_eof || c->rpos < c->rbuf.len ||
        b->kind != FH__FRAME_LENGTH || b->expected - b->received < FH__DIRECT_MIN)
        return FH__DIRECT_NO;
    uint64_t left = b->expected - b->received;
    size_t want = left < cap ? (size_t)left : cap;
    int w = 0;
    char msg[160] = "";
    ssize_t n = fh__conn_read(c, dst, want, &w, msg, sizeof msg);
    if (n == FH_EAGAIN) {
        /* Wake up once per FH__LOWAT bytes, not per segment; the mark never
         * exceeds what the body still has to bring (transport.c). */
        if (want >= FH__LOWAT)
            fh__conn_set_lowat(c, FH__LOWAT);
        return FH_EAGAIN;
    }
    if (n == 0) {
        st->peer_eof = 1;
        return FH__DIRECT_NO; /* span() reports the early close */
    }
    if (n < 0) {
        fh__request_fail(x->req, "receiving body from %s:%d: %s", x->url->host, x->url->port,
                         msg);
        return n;
    }
    /* The framing counts the bytes as if they had come through span(). */
    size_t used = 0, dlen = 0;
    const uint8_t *data = NULL;
    if (fh__h1_body_feed(&st->body, dst, (size_t)n, &used, &data, &dlen) == 1)
        st->body_done = 1;
    if (c->lowat > 1 && b->expected - b->received < (uint64_t)c->lowat)
        fh__conn_set_lowat(c, 1); /* the rest is smaller than the mark */
    if (x->state == FH__X_ACTIVE)
        fh__ex_set_phase(x, FH_TIMEOUT_READ, FH_ETIMEOUT_READ); /* progress */
    return n;
}

static void h1_consume(fh__conn *c, fh__exchange *x, size_t n)
{
    h1 *st = c->cs;
    st->pay_off += n;
    st->pay_len -= n;
}

static int h1_want_body(fh__conn *c, fh__exchange *x, int on)
{
    return fh__conn_watch(c, on ? FH_WATCH_READ : 0);
}

/* ---- after the exchange ---------------------------------------------------------------- */

/* RFC 9112 §9.3: only a response read to its validated end, from a server
 * that allowed keep-alive and sent nothing beyond it, leaves a connection
 * that can carry the next request. */
static void h1_leave(fh__conn *c, fh__exchange *x, int clean)
{
    h1 *st = c->cs;
    st->x = NULL;
    st->phase = H1_IDLE;
    /* Whoever reads this socket next waits for any byte again. */
    int lowat_reset = fh__conn_set_lowat(c, 1) == 0;
    c->lowat_off = 0;
    if (clean && st->upgraded && x->resp) {
        fh__conn_take_over(c, x->resp);
        return;
    }
    int reusable = clean && lowat_reset && st->keep_alive && !st->peer_eof && !st->body_unsent &&
                   !st->upgraded && c->rpos == c->rbuf.len;
    if (clean)
        c->uses++;
    fh__conn_release(c, reusable);
}

const fh__codec fh__h1_codec = {
    .name = "http/1.1",
    .init = h1_init,
    .free = h1_free,
    .start = h1_start,
    .io = h1_io,
    .span = h1_span,
    .consume = h1_consume,
    .read_into = h1_read_into,
    .want_body = h1_want_body,
    .resume = h1_resume,
    .leave = h1_leave,
    .on_timer = h1_on_timer,
};
