/*
 * h2_codec.c — HTTP/2 behind a connection (RFC 9113), over nghttp2's
 * sans-IO session: bytes from the socket go to nghttp2_session_mem_recv,
 * nghttp2_session_mem_send gives the bytes to write. Many exchanges ride
 * on one connection, one stream each (docs/architecture.md).
 *
 * nghttp2's callbacks only record what happened on a stream (head fields,
 * DATA, end, reset) and put the stream on a ready list; the exchanges hear
 * about it after mem_recv returns, so an exchange that ends, retries or
 * redirects never re-enters nghttp2 from inside its callbacks.
 *
 * Flow control (RFC 9113 §5.2): the connection window is given back as
 * soon as DATA arrives, the stream window only as the exchange consumes
 * the bytes. So a stream whose reader is slow holds back itself alone, and
 * memory per stream is bounded by the stream window.
 */
#include "internal.h"
#include "h2_mem.h"

#include <nghttp2/nghttp2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STREAM_WINDOW (1 << 20)       /* per stream: bounds what a slow reader holds */
#define CONN_WINDOW (16 << 20)        /* per connection: given back at once */
#define CLIENT_MAX_STREAMS 100        /* cap on streams per connection */
#define READ_SIZE 65536

/* Streams a new connection of this origin may carry: the client's cap, or
 * fewer when its connections were seen to serve only so many (a server's
 * per-connection request limit sends GOAWAY after it; opening more
 * streams than that only gets them refused). */
static int origin_cap(const fh__pool_host *host)
{
    int b = __atomic_load_n(&host->h2_budget, __ATOMIC_RELAXED);
    return b > 0 && b < CLIENT_MAX_STREAMS ? b : CLIENT_MAX_STREAMS;
}

int fh__h2_origin_cap(const fh__pool_host *host)
{
    return origin_cap(host);
}

/* A GOAWAY says how many of our streams the server took (client streams
 * are the odd ids 1, 3, ..., so last-stream-id L means (L + 1) / 2). */
static void learn_budget(fh__pool_host *host, int32_t last, int refused_any)
{
    /* In 64 bits: a shutdown notice says 2^31-1 (RFC 9113 §6.8). */
    int64_t served = ((int64_t)last + 1) / 2;
    if (!refused_any || served < 1)
        return;
    __atomic_store_n(&host->h2_budget, (int)served, __ATOMIC_RELAXED);
}

typedef struct h2s h2s;

typedef struct h2 {
    nghttp2_session *s;
    fh__conn *c;
    fh__buf out;                 /* bytes mem_send gave that the socket did not take yet */
    size_t out_pos;
    h2s *ready, *ready_tail;     /* streams with news for their exchange */
    int in_io;                   /* inside io(): a release waits until it ends */
    int release_pending;
    int goaway;                  /* no new streams (GOAWAY received or sent) */
    int dead;                    /* the connection failed */
    int listed;                  /* on the pool's shared list (as last told) */
    int defer;                   /* end() may leave writing to the engine's action end */
    h2s *spare;                  /* freed streams kept for the next ones (stream_new) */
    int32_t last_id;             /* cb_stream's last lookup (0: none) */
    h2s *last_st;
    fh__h2_mem mem_blocks;       /* nghttp2's allocator (h2_mem.c) */
    nghttp2_mem mem;
    int nspare;
    char why[128];               /* the connection error we sent in GOAWAY */
    int peer_settings;           /* the server's SETTINGS came: it speaks HTTP/2 */
    uint8_t rbuf[READ_SIZE];
} h2;

struct h2s {
    fh__exchange *x;             /* NULL once the exchange left */
    h2 *h;
    int32_t id;                  /* -1 until submitted */
    h2s *rnext;
    int on_ready;
    /* response head, collected */
    fh__buf fields;              /* fields as fh__response_new_fields takes them */
    uint64_t content_length;     /* its value when the head had one, else UINT64_MAX */
    size_t nfields, field_bytes, trailer_bytes;
    int status;
    int interim;
    int head_done, head_given;
    /* body */
    fh__buf data;
    size_t data_off;
    int end_stream;
    int closed;
    uint32_t rst;                /* RST_STREAM error code, or 0 */
    int rst_ours;                /* nghttp2 reset it: the response was malformed */
    int refused;                 /* the server never processed it: REFUSED_* */
    int sent_headers;            /* HEADERS went out */
    int error;                   /* a limit broke: fail with this code */
    char why[FH__ERRMSG];
    int why_named;               /* why names the server already */
    /* request body */
    int hold_body;               /* Expect: 100-continue */
    int body_deferred;
    size_t body_pos;
};

/* Why a stream was never processed, for its message. */
enum { REFUSED_NO = 0, REFUSED_BY_SERVER, REFUSED_NOT_SENT, REFUSED_CLOSED };

static h2s *stream_of(const fh__exchange *x)
{
    return x->cx;
}

/* Streams come and go at the request rate, hundreds alive at once, where
 * malloc's per-thread caches run dry: the connection keeps some freed ones
 * (with a small body buffer) for the next. */
#define SPARE_STREAMS 64
#define SPARE_DATA_CAP 16384

static h2s *stream_new(h2 *h)
{
    h2s *st = h->spare;
    if (!st)
        return calloc(1, sizeof(h2s));
    h->spare = st->rnext;
    h->nspare--;
    fh__buf data = st->data, fields = st->fields;
    memset(st, 0, sizeof *st);
    st->data = data;
    st->fields = fields;
    st->data.len = st->fields.len = 0;
    return st;
}

static void stream_free(h2 *h, h2s *st)
{
    if (h->nspare < SPARE_STREAMS && st->data.cap <= SPARE_DATA_CAP &&
        st->fields.cap <= SPARE_DATA_CAP) {
        st->rnext = h->spare;
        h->spare = st;
        h->nspare++;
        return;
    }
    fh__buf_free(&st->fields);
    fh__buf_free(&st->data);
    free(st);
}

/* Off the pool's shared list: no new stream starts here. */
static void stop_sharing(h2 *h)
{
    if (h->c->engine && h->listed)
        fh__pool_share(&h->c->engine->client->pool, h->c, 0);
    h->listed = 0;
}

/* ---- ready list ----------------------------------------------------------------- */

static void mark(h2s *st)
{
    if (!st || st->on_ready || !st->x)
        return;
    h2 *h = st->h;
    st->on_ready = 1;
    st->rnext = NULL;
    if (h->ready_tail)
        h->ready_tail->rnext = st;
    else
        h->ready = st;
    h->ready_tail = st;
}

static h2s *pop_ready(h2 *h)
{
    h2s *st = h->ready;
    if (st) {
        h->ready = st->rnext;
        if (!h->ready)
            h->ready_tail = NULL;
        st->on_ready = 0;
        st->rnext = NULL;
    }
    return st;
}

static void unmark(h2 *h, h2s *st)
{
    if (!st->on_ready)
        return;
    h2s **pp = &h->ready, *prev = NULL;
    while (*pp && *pp != st) {
        prev = *pp;
        pp = &(*pp)->rnext;
    }
    if (*pp)
        *pp = st->rnext;
    if (h->ready_tail == st)
        h->ready_tail = prev;
    st->on_ready = 0;
}

/* ---- sending ------------------------------------------------------------------------- */

static void die(h2 *h, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));


/* Writes what nghttp2 has to send. FH_OK, or the socket failed (h dies). */
static int flush(h2 *h)
{
    fh__conn *c = h->c;
    /* Nothing goes out on a dead connection. Above all, nghttp2 must not
     * run a data provider there: die() closed the streams on our side
     * only, and a stream whose exchange left has been freed. */
    if (h->dead)
        return FH_OK;
    for (;;) {
        if (h->out_pos == h->out.len) {
            h->out.len = h->out_pos = 0;
            const uint8_t *p = NULL;
            ssize_t n;
            /* Gather several frames into one write. */
            while ((n = nghttp2_session_mem_send(h->s, &p)) > 0) {
                if (fh__buf_append(&h->out, p, (size_t)n) != FH_OK) {
                    die(h, FH_ENOMEM, "out of memory");
                    return FH_ENOMEM;
                }
                if (h->out.len >= 65536)
                    break;
            }
            if (n < 0) {
                die(h, FH_EPROTO, "HTTP/2 session failed: %s", nghttp2_strerror((int)n));
                return FH_EPROTO;
            }
            if (!h->out.len)
                break;
        }
        struct iovec iov = {h->out.data + h->out_pos, h->out.len - h->out_pos};
        int want = 0;
        char err[128] = "";
        ssize_t w = fh__conn_writev(c, &iov, 1, &want, err, sizeof err);
        if (w == FH_EAGAIN)
            return fh__conn_watch(c, FH_WATCH_READ | FH_WATCH_WRITE);
        if (w < 0) {
            die(h, (int)w, "sending to %s:%d: %s", c->hostname, c->port, err);
            return (int)w;
        }
        h->out_pos += (size_t)w;
    }
    /* A connection error nghttp2 found (RFC 9113 §5.4.1) ends the session
     * once its GOAWAY is out: nothing more is read, so the streams fail
     * now, not at their timeouts. */
    if (!h->dead && !nghttp2_session_want_read(h->s) && !nghttp2_session_want_write(h->s))
        die(h, FH_EPROTO, "HTTP/2 protocol error from %s:%d: %s", c->hostname, c->port,
            h->why[0] ? h->why : "the session ended");
    return fh__conn_watch(c, FH_WATCH_READ);
}

/* ---- nghttp2 callbacks: record, never call out ---------------------------------- */

/* The stream a frame is for. Frames of one stream come in runs (HEADERS,
 * its fields, DATA), so the last answer is remembered: nghttp2's lookup is
 * a hash probe per call, and on_header runs once per field. */
static h2s *cb_stream(nghttp2_session *s, int32_t id, void *ud)
{
    h2 *h = ud;
    if (id == h->last_id)
        return h->last_st;
    h->last_st = nghttp2_session_get_stream_user_data(s, id);
    h->last_id = id;
    return h->last_st;
}

/* The stream's user data is gone (the exchange left, or nghttp2 closed it):
 * the remembered lookup must not return it. */
static void forget_stream(h2 *h, int32_t id)
{
    if (h->last_id == id) {
        h->last_id = 0;
        h->last_st = NULL;
    }
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    h2s *st = cb_stream(s, f->hd.stream_id, ud);
    if (st && !st->head_done) { /* a response head (again, after an interim one) */
        st->fields.len = 0;
        st->nfields = st->field_bytes = 0;
        st->status = 0;
        st->content_length = UINT64_MAX;
    }
    return 0;
}

static int limit_fail(h2s *st, int code, const char *why)
{
    st->error = code;
    snprintf(st->why, sizeof st->why, "%s", why);
    mark(st);
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* nghttp2 resets the stream */
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
                     size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
    (void)flags;
    h2s *st = cb_stream(s, f->hd.stream_id, ud);
    if (!st || !st->x)
        return 0;
    const fh__exchange *x = st->x;
    if (st->head_done) { /* trailers: bounded, not kept */
        st->trailer_bytes += nlen + vlen + 32;
        if (st->trailer_bytes > (uint64_t)x->limit[FH_LIMIT_TRAILER_BYTES])
            return limit_fail(st, FH_ECHUNKED, "trailer section too large (limit "
                                               "max_trailer_size)");
        return 0;
    }
    if (nlen == 7 && memcmp(name, ":status", 7) == 0) {
        int v = 0;
        for (size_t i = 0; i < vlen && v < 1000; i++)
            v = v * 10 + (value[i] - '0');
        st->status = v;
        return 0;
    }
    /* RFC 9113 §4.3.1: the header list size counts 32 bytes per field. */
    st->field_bytes += nlen + vlen + 32;
    if (++st->nfields > (uint64_t)x->limit[FH_LIMIT_HEADER_COUNT])
        return limit_fail(st, FH_ETOO_MANY_HEADERS, "too many header fields (limit "
                                                    "max_header_count)");
    if (st->field_bytes > (uint64_t)x->limit[FH_LIMIT_HEADER_BYTES])
        return limit_fail(st, FH_EHEADERS_TOO_LARGE, "response head too large (limit "
                                                     "max_header_size)");
    if (nlen == 14 && memcmp(name, "content-length", 14) == 0) {
        /* nghttp2 checked it is a number, and checks it against DATA. */
        uint64_t n = 0;
        for (size_t i = 0; i < vlen && n <= UINT64_MAX / 10 - 10; i++)
            n = n * 10 + (uint64_t)(value[i] - '0');
        st->content_length = n;
    }
    if (fh__response_field_add(&st->fields, (const char *)name, nlen, (const char *)value,
                               vlen) != FH_OK)
        return limit_fail(st, FH_ENOMEM, "out of memory");
    return 0;
}

static void on_head_frame(nghttp2_session *s, h2s *st, const nghttp2_frame *f)
{
    if (st->head_done)
        return; /* trailers */
    if (st->status >= 100 && st->status < 200) {
        /* RFC 9113 §8.1: interim responses precede the final one. */
        if (++st->interim > st->x->limit[FH_LIMIT_INTERIM]) {
            limit_fail(st, FH_ETOO_MANY_INTERIM, "too many interim (1xx) responses (limit "
                                                 "max_interim_responses)");
            nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
            return;
        }
        if (st->status == 100 && st->hold_body) {
            st->hold_body = 0;
            mark(st); /* resumes the body (handled with the ready list) */
        }
        return;
    }
    st->head_done = 1;
    mark(st);
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    h2 *h = ud;
    h2s *st = f->hd.stream_id ? cb_stream(s, f->hd.stream_id, ud) : NULL;
    switch (f->hd.type) {
    case NGHTTP2_HEADERS:
        if (st && st->x)
            on_head_frame(s, st, f);
        break;
    case NGHTTP2_GOAWAY:
        /* RFC 9113 §6.8: no new streams here; streams above last-stream-id
         * were never processed (nghttp2 closes them with REFUSED_STREAM). */
        h->goaway = 1;
        stop_sharing(h); /* at once: exchanges retried from here must go elsewhere */
        learn_budget(h->c->host, f->goaway.last_stream_id,
                     nghttp2_session_get_next_stream_id(s) > (uint32_t)f->goaway.last_stream_id + 2);
        break;
    case NGHTTP2_SETTINGS:
        if (!(f->hd.flags & NGHTTP2_FLAG_ACK)) {
            h->peer_settings = 1;
            uint32_t m = nghttp2_session_get_remote_settings(
                s, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
            int cap = origin_cap(h->c->host);
            h->c->max_streams = m < (uint32_t)cap ? (int)m : cap;
        }
        break;
    default:
        break;
    }
    if (st && (f->hd.flags & NGHTTP2_FLAG_END_STREAM) &&
        (f->hd.type == NGHTTP2_DATA || f->hd.type == NGHTTP2_HEADERS)) {
        st->end_stream = 1;
        mark(st);
    }
    return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
                   size_t len, void *ud)
{
    (void)flags;
    (void)ud;
    nghttp2_session_consume_connection(s, len);
    h2s *st = cb_stream(s, id, ud);
    if (!st || !st->x) {
        nghttp2_session_consume_stream(s, id, len); /* nobody reads it */
        return 0;
    }
    if (st->data_off && st->data_off == st->data.len)
        st->data.len = st->data_off = 0;
    if (fh__buf_append(&st->data, data, len) != FH_OK)
        return limit_fail(st, FH_ENOMEM, "out of memory");
    mark(st);
    return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t code, void *ud)
{
    (void)ud;
    h2s *st = cb_stream(s, id, ud);
    forget_stream(ud, id);
    if (!st)
        return 0;
    st->closed = 1;
    if (code != NGHTTP2_NO_ERROR || !st->end_stream) {
        st->rst = code ? code : NGHTTP2_INTERNAL_ERROR;
        /* REFUSED_STREAM, or closed by a GOAWAY whose last-stream-id is
         * below it: the request was not processed (RFC 9113 §8.7). */
        st->refused = code == NGHTTP2_REFUSED_STREAM ? REFUSED_BY_SERVER : REFUSED_NO;
    }
    mark(st);
    return 0;
}

static int on_frame_not_send(nghttp2_session *s, const nghttp2_frame *f, int err, void *ud)
{
    (void)err;
    (void)ud;
    if (f->hd.type != NGHTTP2_HEADERS)
        return 0;
    h2s *st = cb_stream(s, f->hd.stream_id, ud);
    if (st) { /* e.g. after GOAWAY: never sent, so never processed */
        st->refused = REFUSED_NOT_SENT;
        st->closed = 1;
        st->rst = NGHTTP2_REFUSED_STREAM;
        mark(st);
    }
    return 0;
}

static int on_frame_send(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    h2 *h = ud;
    h2s *st = f->hd.stream_id ? cb_stream(s, f->hd.stream_id, ud) : NULL;
    if (f->hd.type == NGHTTP2_HEADERS && st)
        st->sent_headers = 1;
    /* nghttp2 resets a malformed response's stream itself (RFC 9113
     * §8.1.1: e.g. Content-Length against DATA); our own resets are sent
     * after the exchange left, so st is gone for those. */
    if (f->hd.type == NGHTTP2_RST_STREAM && st)
        st->rst_ours = 1;
    /* A connection error: what it was, for the streams' messages. */
    if (f->hd.type == NGHTTP2_GOAWAY && f->goaway.error_code != NGHTTP2_NO_ERROR)
        snprintf(h->why, sizeof h->why, "%s%s%.*s",
                 nghttp2_http2_strerror(f->goaway.error_code),
                 f->goaway.opaque_data_len ? ": " : "", (int)f->goaway.opaque_data_len,
                 (const char *)f->goaway.opaque_data);
    return 0;
}

/* ---- the connection's life ------------------------------------------------------ */

/* The connection failed: every stream fails (those never sent as
 * not-processed, so the policy may send them elsewhere), and no new stream
 * starts on it. The message goes to each exchange. */
static void die(h2 *h, int code, const char *fmt, ...)
{
    if (h->dead)
        return;
    h->dead = 1;
    h->goaway = 1;
    stop_sharing(h);
    char msg[FH__ERRMSG];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Prior knowledge (RFC 9113 §3.3) proved wrong: a cleartext server
     * that never sent its SETTINGS, which must be its first frame (§3.4),
     * does not speak HTTP/2 (an HTTP/1.1 server answers 400 and closes).
     * Every stream fails with FH_EHTTP2; none is sent again. */
    int not_h2 = !h->c->tls && !h->peer_settings && code != FH_ENOMEM;
    if (not_h2) {
        char was[FH__ERRMSG - 96];
        snprintf(was, sizeof was, "%.*s", (int)sizeof was - 1, msg);
        snprintf(msg, sizeof msg, "%s does not speak HTTP/2 (prior knowledge, cleartext): %s",
                 h->c->hostname, was);
        code = FH_EHTTP2;
    }
    int named = strstr(msg, h->c->hostname) != NULL;
    for (fh__exchange *x = h->c->ex; x; x = x->cnext) {
        h2s *st = stream_of(x);
        if (!st)
            continue;
        st->closed = 1;
        if (not_h2) {
            st->error = code;
            st->why_named = named;
            snprintf(st->why, sizeof st->why, "%s", msg);
        } else if (!st->sent_headers) {
            st->refused = REFUSED_CLOSED;
        } else if (!st->end_stream) {
            st->error = code;
            st->why_named = named;
            snprintf(st->why, sizeof st->why, "%s", msg);
        }
        mark(st);
    }
}

static void begin(h2 *h)
{
    h->in_io++;
}

static void give_head(h2 *h, h2s *st, fh__exchange *x);
static void fail_stream(h2 *h, h2s *st, fh__exchange *x);

/* Tells the exchanges what happened to their streams. */
static void process_ready(h2 *h)
{
    h2s *st;
    while ((st = pop_ready(h))) {
        fh__exchange *x = st->x;
        if (!x)
            continue;
        if (st->body_deferred && !st->hold_body && !x->body_paused && !st->closed) {
            st->body_deferred = 0;
            nghttp2_session_resume_data(h->s, st->id); /* 100 Continue came */
        }
        /* refused alone: die() found it never sent (no RST_STREAM came). */
        if (st->error || st->refused || (st->closed && st->rst && !st->end_stream)) {
            fail_stream(h, st, x); /* st may be gone after this */
            continue;
        }
        if (st->head_done && !st->head_given) {
            give_head(h, st, x);
            continue;
        }
        if (!st->head_given)
            continue;
        if (x->state == FH__X_ACTIVE)
            fh__ex_set_phase(x, FH_TIMEOUT_READ, FH_ETIMEOUT_READ); /* progress */
        if (x->state == FH__X_STREAMING && !x->want_read)
            continue; /* the user reads when ready; the window holds the rest back */
        fh__ex_on_data(x);
    }
}

/* After the outermost entry: the connection goes idle (back to the pool),
 * closes (GOAWAY, failed), or says whether it has room for more streams. */
static void settle(h2 *h)
{
    fh__conn *c = h->c;
    if (!c->nex) {
        /* Idle: off the shared list (an idle connection is the pool's, or
         * hot in its engine until the action ends), then released. */
        stop_sharing(h);
        fh__conn_release(c, !h->dead && !h->goaway); /* h may be freed */
        return;
    }
    int room = !h->goaway && !h->dead && c->nex < c->max_streams;
    if (c->engine && room != h->listed) /* the pool's lock only on a change */
        fh__pool_share(&c->engine->client->pool, c, room);
    h->listed = room;
}

static void end(h2 *h)
{
    if (h->in_io > 1) {
        h->in_io--;
        return;
    }
    fh__conn *c = h->c;
    for (;;) {
        process_ready(h);
        if (h->defer && c->nex && c->engine && c->engine->in_action) {
            /* Streams started in one action leave in one write: one TLS
             * record and one segment for a burst of requests, and the
             * server reads them in one go too (h2_flush). */
            fh__engine_defer_flush(c->engine, c);
            break;
        }
        flush(h);
        if (!h->ready)
            break;
    }
    h->in_io--;
    settle(h);
}

static void h2_flush(fh__conn *c)
{
    h2 *h = c->cs;
    begin(h);
    end(h);
}

/* ---- a stream's end ---------------------------------------------------------------- */

static void fail_stream(h2 *h, h2s *st, fh__exchange *x)
{
    const char *host = h->c->hostname;
    int port = h->c->port;
    if (st->refused) {
        /* RFC 9113 §8.7: never processed, so safe to send again, whatever
         * the method; the policy retries it on another connection. */
        static const char *const how[] = {
            [REFUSED_BY_SERVER] = "REFUSED_STREAM",
            [REFUSED_NOT_SENT] = "GOAWAY: not sent",
            [REFUSED_CLOSED] = "the connection closed before it was sent",
        };
        fh__ex_fail(x, FH_EREFUSED, "the server did not process the request (%s) (%s:%d)",
                    how[st->refused], host, port);
        return;
    }
    int code = st->error ? st->error : FH_EPROTO;
    char why[FH__ERRMSG - 32];
    if (st->error)
        snprintf(why, sizeof why, "%.*s", (int)sizeof why - 1, st->why);
    else
        snprintf(why, sizeof why, "%s: %s",
                 st->rst_ours ? "malformed response, stream reset" : "stream reset by the server",
                 nghttp2_http2_strerror(st->rst));
    if (!st->closed && st->id > 0)
        nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
    char where[300] = "";
    if (!st->why_named)
        snprintf(where, sizeof where, " (%s:%d)", host, port);
    if (x->completed)
        fh__ex_stream_fail(x, code, "%s%s", why, where);
    else
        fh__ex_fail(x, code, "%s%s", why, where);
}

/* ---- the response head ------------------------------------------------------------ */

static void give_head(h2 *h, h2s *st, fh__exchange *x)
{
    st->head_given = 1;
    fh_response *r = fh__response_new_fields(st->status, 20, &st->fields, st->nfields,
                                              fh__policy_url(x));
    if (!r) {
        fh__ex_fail(x, FH_ENOMEM, "out of memory");
        return;
    }
    r->content_length = st->content_length;
    /* HEAD, 204 and 304 have no content (RFC 9110 §6.4.1). */
    r->has_body = !(st->end_stream && st->data_off == st->data.len) && !x->req->head &&
                  st->status != 204 && st->status != 304;
    x->resp = r;
    if (!x->got_bytes)
        x->tm.ttfb_us = fh__ex_elapsed(x);
    x->got_bytes = 1;
    (void)h;
    fh__ex_on_head(x); /* st may be gone after this */
}

/* ---- the request --------------------------------------------------------------------- */

static int expects_continue(const fh__exchange *x)
{
    return x->req->expect_continue && fh__ex_has_body(x);
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
                         uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    (void)s;
    (void)id;
    (void)ud;
    h2s *st = src->ptr;
    fh__exchange *x = st->x;
    if (!x) {
        *flags |= NGHTTP2_DATA_FLAG_EOF; /* the stream is being reset anyway */
        return 0;
    }
    if (st->hold_body) {
        st->body_deferred = 1;
        return NGHTTP2_ERR_DEFERRED;
    }
    fh_request *r = x->req;
    ssize_t n;
    if (!r->body_fn) {
        size_t left = r->body_len - st->body_pos;
        n = (ssize_t)(left < len ? left : len);
        if (n)
            memcpy(buf, r->body + st->body_pos, (size_t)n);
        st->body_pos += (size_t)n;
    } else {
        n = fh__ex_body_read(x, buf, len);
        if (n == FH_EAGAIN) {
            st->body_deferred = 1;
            return NGHTTP2_ERR_DEFERRED;
        }
        if (n < 0) {
            st->error = (int)n;
            snprintf(st->why, sizeof st->why, "%s", fh_request_error_message(r));
            mark(st);
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        }
    }
    if ((r->body_fn && n == 0) || (!r->body_fn && st->body_pos == r->body_len)) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        x->tm.sent_us = fh__ex_elapsed(x);
        fh__ex_set_phase(x, FH_TIMEOUT_READ, FH_ETIMEOUT_READ);
    } else {
        fh__ex_set_phase(x, FH_TIMEOUT_WRITE, FH_ETIMEOUT_WRITE); /* progress */
    }
    return n;
}

/* RFC 9113 §8.2.2: connection-specific fields are not sent over HTTP/2;
 * Host becomes :authority. */
int fh__h2_field_dropped(const fh_header *f)
{
    const char *n = f->name;
    switch (f->name_len) { /* one comparison per field at most */
    case 2: /* TE only with the value "trailers" (§8.2.2) */
        return strncasecmp(n, "te", 2) == 0 &&
               !(f->value_len == 8 && strncasecmp(f->value, "trailers", 8) == 0);
    case 4:
        return strncasecmp(n, "host", 4) == 0;
    case 7:
        return strncasecmp(n, "upgrade", 7) == 0;
    case 10:
        return strncasecmp(n, "connection", 10) == 0 || strncasecmp(n, "keep-alive", 10) == 0;
    case 16:
        return strncasecmp(n, "proxy-connection", 16) == 0;
    case 17:
        return strncasecmp(n, "transfer-encoding", 17) == 0;
    default:
        return 0;
    }
}

static nghttp2_nv nv(const char *n, size_t nl, const char *v, size_t vl)
{
    return (nghttp2_nv){(uint8_t *)n, (uint8_t *)v, nl, vl, NGHTTP2_NV_FLAG_NONE};
}

/* The caller's Host, when it replaces the URL's authority. */
static const char *caller_host(const fh__exchange *x, size_t *len)
{
    for (size_t i = 0; i < x->nhdrs; i++)
        if (x->hdrs[i].name_len == 4 && strncasecmp(x->hdrs[i].name, "host", 4) == 0) {
            *len = x->hdrs[i].value_len;
            return x->hdrs[i].value;
        }
    *len = 0;
    return "";
}

static int submit(h2 *h, h2s *st, fh__exchange *x)
{
    size_t names = 0;
    for (size_t i = 0; i < x->nhdrs; i++)
        names += x->hdrs[i].name_len;
    /* Most requests fit on the stack; nghttp2 copies what it keeps. */
    nghttp2_nv vstack[40];
    char lstack[1024];
    nghttp2_nv *v = x->nhdrs + 5 <= 40 ? vstack : malloc((x->nhdrs + 5) * sizeof *v);
    char *lower = names < sizeof lstack ? lstack : malloc(names + 1);
    if (!v || !lower) {
        if (v != vstack)
            free(v);
        if (lower != lstack)
            free(lower);
        return FH_ENOMEM;
    }
    size_t n = 0, alen = 0;
    const char *auth = x->authority ? x->authority : caller_host(x, &alen);
    if (x->authority)
        alen = x->authority_len;
    v[n++] = nv(":method", 7, x->method, x->method_len);
    v[n++] = nv(":scheme", 7, x->url->tls ? "https" : "http", x->url->tls ? 5 : 4);
    v[n++] = nv(":authority", 10, auth, alen);
    v[n++] = nv(":path", 5, x->url->target, strlen(x->url->target));
    char *lo = lower;
    for (size_t i = 0; i < x->nhdrs; i++) {
        const fh_header *f = &x->hdrs[i];
        if (fh__h2_field_dropped(f))
            continue;
        for (size_t k = 0; k < f->name_len; k++) /* RFC 9113 §8.2.1: lower case */
            lo[k] = (char)((f->name[k] >= 'A' && f->name[k] <= 'Z') ? f->name[k] | 0x20
                                                                    : f->name[k]);
        v[n++] = nv(lo, f->name_len, f->value, f->value_len);
        lo += f->name_len;
    }
    char cl[24];
    if (x->framing >= 0)
        v[n++] = nv("content-length", 14, cl, (size_t)snprintf(cl, sizeof cl, "%lld",
                                                             (long long)x->framing));
    nghttp2_data_provider prd = {{.ptr = st}, read_body};
    int body = fh__ex_has_body(x);
    st->hold_body = body && expects_continue(x);
    int32_t id = nghttp2_submit_request(h->s, NULL, v, n, body ? &prd : NULL, st);
    if (v != vstack)
        free(v);
    if (lower != lstack)
        free(lower);
    if (id < 0) {
        fh__request_fail(x->req, "cannot start an HTTP/2 stream: %s", nghttp2_strerror(id));
        return FH_EPROTO;
    }
    st->id = id;
    return FH_OK;
}

static void h2_start(fh__conn *c, fh__exchange *x)
{
    h2 *h = c->cs;
    if (h->dead || h->goaway) {
        fh__ex_fail(x, FH_EREFUSED, "the connection to %s:%d is closing (GOAWAY)",
                    c->hostname, c->port);
        return;
    }
    h2s *st = stream_new(h);
    if (!st) {
        fh__ex_fail(x, FH_ENOMEM, "out of memory");
        return;
    }
    st->h = h;
    st->x = x;
    st->content_length = UINT64_MAX;
    st->id = -1;
    x->cx = st;
    begin(h);
    int rc = submit(h, st, x);
    if (rc != FH_OK) {
        fh__ex_fail_code(x, rc); /* leaves c: frees st */
    } else if (st->hold_body) {
        x->phase_deadline = fh__now_us() + x->req->expect_wait_ms * 1000;
        x->phase_error = 0; /* expiry means "send the body" (RFC 9110 §10.1.1) */
        fh__ex_arm(x);
    } else {
        fh__ex_set_phase(x, fh__ex_has_body(x) ? FH_TIMEOUT_WRITE : FH_TIMEOUT_READ,
                         fh__ex_has_body(x) ? FH_ETIMEOUT_WRITE : FH_ETIMEOUT_READ);
    }
    h->defer = 1;
    end(h);
    h->defer = 0;
}

/* ---- reading -------------------------------------------------------------------------- */

static void h2_io(fh__conn *c, int events)
{
    h2 *h = c->cs;
    begin(h);
    if (events & FH_WATCH_WRITE)
        flush(h);
    while (!h->dead && (events & (FH_WATCH_READ | FH_WATCH_ERROR))) {
        int want = 0;
        char err[160] = "";
        ssize_t n = fh__conn_read(c, h->rbuf, sizeof h->rbuf, &want, err, sizeof err);
        if (n == FH_EAGAIN)
            break;
        if (n == 0) {
            die(h, FH_ECLOSED, "connection closed by %s:%d", c->hostname, c->port);
            break;
        }
        if (n < 0) {
            die(h, (int)n, "receiving from %s:%d: %s", c->hostname, c->port, err);
            break;
        }
        ssize_t rv = nghttp2_session_mem_recv(h->s, h->rbuf, (size_t)n);
        if (rv < 0) {
            die(h, FH_EPROTO, "HTTP/2 protocol error from %s:%d: %s", c->hostname, c->port,
                nghttp2_strerror((int)rv));
            break;
        }
        process_ready(h);
    }
    /* A session nghttp2 ended itself (a protocol error of the peer) fails
     * its streams in flush(), from end(), once the GOAWAY is out. */
    end(h);
}

/* ---- the body as spans ----------------------------------------------------------------- */

static int h2_span(fh__conn *c, fh__exchange *x, const uint8_t **p, size_t *n)
{
    h2s *st = stream_of(x);
    if (st->data_off < st->data.len) {
        *p = st->data.data + st->data_off;
        *n = st->data.len - st->data_off;
        return 1;
    }
    if (st->error) {
        fh__request_fail(x->req, "%s (%s:%d)", st->why, c->hostname, c->port);
        return st->error;
    }
    if (st->end_stream)
        return FH__SPAN_END;
    if (st->closed) {
        fh__request_fail(x->req, st->rst_ours ? "malformed response from %s:%d, stream reset: %s"
                                              : "stream reset by %s:%d: %s",
                         c->hostname, c->port, nghttp2_http2_strerror(st->rst));
        return FH_EPROTO;
    }
    return 0;
}

static void h2_consume(fh__conn *c, fh__exchange *x, size_t n)
{
    h2 *h = c->cs;
    h2s *st = stream_of(x);
    st->data_off += n;
    if (st->data_off == st->data.len) {
        st->data.len = st->data_off = 0;
    } else if (st->data_off > 65536 && st->data_off * 2 > st->data.len) {
        fh__buf_consume(&st->data, st->data_off);
        st->data_off = 0;
    }
    if (st->id > 0 && !st->closed) {
        begin(h);
        nghttp2_session_consume_stream(h->s, st->id, n); /* the window comes back */
        end(h);
    }
}

static int h2_want_body(fh__conn *c, fh__exchange *x, int on)
{
    (void)c;
    (void)x;
    (void)on;
    return FH_OK; /* the connection is always read: the stream window holds data back */
}

static void h2_resume(fh__conn *c, fh__exchange *x)
{
    h2 *h = c->cs;
    h2s *st = stream_of(x);
    if (!st || !st->body_deferred || st->closed)
        return;
    begin(h);
    st->body_deferred = 0;
    nghttp2_session_resume_data(h->s, st->id);
    end(h);
}

static void h2_on_timer(fh__conn *c, fh__exchange *x)
{
    h2s *st = stream_of(x);
    if (!st || !st->hold_body)
        return;
    st->hold_body = 0; /* no 100 in time: send the body anyway (RFC 9110 §10.1.1) */
    h2_resume(c, x);
}

/* ---- the exchange leaves ---------------------------------------------------------------- */

static void h2_leave(fh__conn *c, fh__exchange *x, int clean)
{
    h2 *h = c->cs;
    h2s *st = stream_of(x);
    x->cx = NULL;
    begin(h);
    if (st) {
        unmark(h, st);
        st->x = NULL;
        if (st->id > 0) {
            if (!st->closed) /* RFC 9113 §8.7: cancel what we no longer read */
                nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
            forget_stream(h, st->id);
            nghttp2_session_set_stream_user_data(h->s, st->id, NULL);
            /* Bytes it did not read still count: give their window back. */
            if (!st->closed && st->data.len > st->data_off)
                nghttp2_session_consume_stream(h->s, st->id, st->data.len - st->data_off);
        }
        stream_free(h, st);
    }
    if (clean)
        c->uses++;
    end(h);
}

/* ---- idle ---------------------------------------------------------------------------------- */

/* The pool's liveness check of an idle HTTP/2 connection before reuse.
 * Unlike HTTP/1.1, bytes waiting on it are normal (DATA of a stream we
 * reset, RFC 9113 §6.1 and §8.7; PING, SETTINGS, WINDOW_UPDATE), so they
 * go to nghttp2 (its replies leave with the next request's frames). Dead:
 * closed, failed, a GOAWAY, or a session nghttp2 ended. */
int fh__h2_alive(fh__conn *c)
{
    h2 *h = c->cs;
    while (h && !h->dead && !h->goaway) {
        int want = 0;
        char err[64];
        ssize_t n = fh__conn_read(c, h->rbuf, sizeof h->rbuf, &want, err, sizeof err);
        if (n == FH_EAGAIN)
            return nghttp2_session_want_read(h->s);
        if (n <= 0 || nghttp2_session_mem_recv(h->s, h->rbuf, (size_t)n) < 0)
            return 0;
    }
    return 0;
}

/* ---- setup ------------------------------------------------------------------------------- */

static int h2_init(fh__conn *c)
{
    h2 *h = calloc(1, sizeof *h);
    nghttp2_session_callbacks *cb = NULL;
    nghttp2_option *opt = NULL;
    if (!h || nghttp2_session_callbacks_new(&cb) != 0 || nghttp2_option_new(&opt) != 0) {
        free(h);
        nghttp2_session_callbacks_del(cb);
        return FH_ENOMEM;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_not_send_callback(cb, on_frame_not_send);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    /* Windows are given back by hand: the connection's at once, a stream's
     * as its exchange consumes (see the top of the file). */
    nghttp2_option_set_no_auto_window_update(opt, 1);
    nghttp2_option_set_peer_max_concurrent_streams(opt, CLIENT_MAX_STREAMS);
#ifdef FH_HAVE_NGHTTP2_MAX_CONTINUATIONS
    /* A header block split over more CONTINUATION frames than this is a
     * flood, not a response (CVE-2024-27316 class); nghttp2 then fails the
     * connection instead of buffering without end. */
    nghttp2_option_set_max_continuations(opt, 8);
#endif
    fh__h2_mem_init(&h->mem_blocks, &h->mem);
    int rc = nghttp2_session_client_new3(&h->s, cb, h, opt, &h->mem);
    nghttp2_session_callbacks_del(cb);
    nghttp2_option_del(opt);
    if (rc != 0) {
        fh__h2_mem_free(&h->mem_blocks);
        free(h);
        return FH_ENOMEM;
    }
    fh_client *cl = c->engine->client;
    nghttp2_settings_entry set[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0}, /* a PUSH_PROMISE is then a protocol error */
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)cl->limit[FH_LIMIT_HEADER_BYTES]},
    };
    if (nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, set, 3) != 0 ||
        nghttp2_session_set_local_window_size(h->s, NGHTTP2_FLAG_NONE, 0, CONN_WINDOW) != 0) {
        nghttp2_session_del(h->s);
        free(h);
        return FH_ENOMEM;
    }
    h->c = c;
    c->cs = h;
    c->max_streams = origin_cap(c->host); /* until the server's SETTINGS say */
    return FH_OK;
}

static void h2_free(fh__conn *c)
{
    h2 *h = c->cs;
    if (!h)
        return;
    nghttp2_session_del(h->s);
    fh__h2_mem_free(&h->mem_blocks);
    fh__buf_free(&h->out);
    while (h->spare) {
        h2s *st = h->spare;
        h->spare = st->rnext;
        fh__buf_free(&st->fields);
        fh__buf_free(&st->data);
        free(st);
    }
    free(h);
    c->cs = NULL;
}

const fh__codec fh__h2_codec = {
    .name = "h2",
    .init = h2_init,
    .free = h2_free,
    .start = h2_start,
    .io = h2_io,
    .span = h2_span,
    .consume = h2_consume,
    .want_body = h2_want_body,
    .resume = h2_resume,
    .leave = h2_leave,
    .on_timer = h2_on_timer,
    .flush = h2_flush,
};
