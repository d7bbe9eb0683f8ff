/*
 * ws_codec.c — an open WebSocket as a connection of an engine.
 *
 * After the 101 (RFC 6455 §4.1) the connection is taken from the response
 * and put back under the WebSocket's engine with this codec, so readiness
 * reaches it through the engine's fd table and the codec's io entry like
 * any connection's, and its deadlines (keepalive ping, pong timeout, close
 * timeout) are the connection's timer in the engine's heap, dispatched to
 * the codec's tick. Nothing here blocks or calls user code: events are
 * deferred (fh__engine_defer) to the end of the engine's action. The
 * connection is not on the engine's list of connections, nor the pool's:
 * the fh_ws owns it and closes it.
 */
#include "ws_internal.h"

#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void deferred(fh__defer *d)
{
    fh_ws *ws = (fh_ws *)(void *)((char *)d - offsetof(fh_ws, defer));
    int ev = ws->events;
    ws->events = 0;
    if (ev && ws->fn)
        ws->fn(ws->ud, ws, ev);
}

void fh__ws_event(fh_ws *ws, int events)
{
    if (!ws->fn || !ws->engine)
        return; /* blocking: the waits look at the state */
    ws->events |= events;
    ws->defer.fn = deferred;
    fh__engine_defer(ws->engine, &ws->defer);
}

static void arm(fh_ws *ws)
{
    if (!ws->conn)
        return;
    int64_t due = 0;
    int64_t t[3] = {ws->ping_at, ws->pong_at, ws->close_at};
    for (int i = 0; i < 3; i++)
        if (t[i] && (!due || t[i] < due))
            due = t[i];
    fh__engine_timer(ws->engine, &ws->conn->timer, due);
}

void fh__ws_end(fh_ws *ws, int status, const char *fmt, ...)
{
    if (status && (ws->status == FH_OK || ws->status == FH_EAGAIN)) {
        ws->status = status;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ws->err, sizeof ws->err, fmt, ap);
        va_end(ap);
    }
    fh__conn *c = ws->conn;
    if (c) {
        fh__engine_timer(ws->engine, &c->timer, 0);
        fh__engine_unwatch(ws->engine, c->fd);
        c->watch = 0;
        c->cs = NULL;
        fh__conn_close(c); /* TLS close_notify best effort */
        ws->conn = NULL;
    }
    ws->ping_at = ws->pong_at = ws->close_at = 0;
    if (!ws->close_code)
        ws->close_code = ws->p_ready && ws->p.code_received ? ws->p.code_received : 1006;
    int was = ws->state;
    ws->state = FH_WS_CLOSED;
    if (was != FH_WS_CLOSED)
        fh__ws_event(ws, FH_WS_EV_MESSAGE | FH_WS_EV_CLOSED);
}

void fh__ws_closing(fh_ws *ws)
{
    if (ws->state == FH_WS_OPEN)
        ws->state = FH_WS_CLOSING;
    if (!ws->close_at && ws->opt[FH_WS_CLOSE_TIMEOUT] > 0)
        ws->close_at = fh__now_us() + ws->opt[FH_WS_CLOSE_TIMEOUT] * 1000;
    ws->ping_at = ws->pong_at = 0; /* no keepalive while closing */
}

/* Writes the queue. -1 when the connection ended. */
static int flush(fh_ws *ws)
{
    fh__wsp *p = &ws->p;
    while (fh__wsp_pending(p)) {
        struct iovec iov = {p->out.data + p->out_pos, fh__wsp_pending(p)};
        int want = 0;
        char err[128] = "";
        ssize_t w = fh__conn_writev(ws->conn, &iov, 1, &want, err, sizeof err);
        if (w == FH_EAGAIN) {
            ws->wwant = want;
            return 0;
        }
        if (w < 0) {
            fh__ws_end(ws, (int)w, "sending to the WebSocket failed: %s", err);
            return -1;
        }
        fh__wsp_sent(p, (size_t)w);
    }
    ws->wwant = 0;
    if (ws->over_limit && fh__wsp_pending(p) <= (size_t)ws->opt[FH_WS_WRITE_LIMIT]) {
        ws->over_limit = 0;
        fh__ws_event(ws, FH_WS_EV_WRITABLE);
    }
    return 0;
}

/* The server closed TCP (or reset it). */
static void peer_gone(fh_ws *ws, int code, const char *err)
{
    fh__wsp *p = &ws->p;
    if (p->close_received && (p->close_sent || p->failed))
        fh__ws_end(ws, FH_OK, "%s", ""); /* §7.1.1: the server closes first */
    else if (code == 0)
        fh__ws_end(ws, FH_ECLOSED, "the server closed the connection without a close frame "
                                   "(1006)");
    else
        fh__ws_end(ws, code, "reading from the WebSocket failed: %s", err);
}

/* Feeds bytes to the protocol and looks at what came of them. */
static void feed(fh_ws *ws, const uint8_t *d, size_t n)
{
    fh__wsp *p = &ws->p;
    if (p->close_received || p->failed)
        return; /* after the close only the end of TCP matters */
    size_t before = p->q_count;
    int rc = fh__wsp_feed(p, d, n);
    if (p->q_count > before)
        fh__ws_event(ws, FH_WS_EV_MESSAGE);
    if (p->pongs != ws->pongs_seen) {
        ws->pongs_seen = p->pongs;
        ws->pong_at = 0;
    }
    if (rc == FH_EWS_PROTO) {
        if (ws->status == FH_OK) {
            ws->status = FH_EWS_PROTO;
            snprintf(ws->err, sizeof ws->err, "%s (closed with %d)", p->err, p->code_sent);
        }
        fh__ws_closing(ws);
        fh__ws_event(ws, FH_WS_EV_MESSAGE);
    } else if (rc) {
        fh__ws_end(ws, rc, "out of memory");
    } else if (p->close_received) {
        fh__ws_closing(ws);
        fh__ws_event(ws, FH_WS_EV_MESSAGE);
    }
}

/* Reads until the socket has nothing more, or max_queue messages wait. */
static int read_in(fh_ws *ws)
{
    fh__conn *c = ws->conn;
    ws->rwant = FH_WATCH_READ;
    for (int rounds = 0; ws->conn && rounds < 64; rounds++) {
        if (ws->p.q_count >= (size_t)ws->opt[FH_WS_MAX_QUEUE]) {
            ws->read_paused = 1; /* back-pressure: fh_ws_recv resumes */
            return 0;
        }
        ws->read_paused = 0;
        if (c->rpos < c->rbuf.len) { /* bytes the server sent right after the 101 */
            fh__buf head = c->rbuf; /* taken out: feed may end (and free) c */
            size_t off = c->rpos;
            memset(&c->rbuf, 0, sizeof c->rbuf);
            c->rpos = 0;
            feed(ws, head.data + off, head.len - off);
            fh__buf_free(&head);
            continue;
        }
        int want = 0;
        char err[128] = "";
        ssize_t r = fh__conn_read(c, ws->ibuf, FH__WS_IBUF, &want, err, sizeof err);
        if (r == FH_EAGAIN) {
            ws->rwant = want;
            return 0;
        }
        if (r <= 0) {
            peer_gone(ws, (int)r, err);
            return -1;
        }
        feed(ws, ws->ibuf, (size_t)r);
        /* A short read of plain TCP drained the socket: a second recv would
         * only say EAGAIN (level-triggered interest reports what comes
         * next). TLS may hold decrypted records back, so it reads on. */
        if ((size_t)r < FH__WS_IBUF && !c->ssl && ws->conn)
            return 0;
    }
    return ws->conn ? 0 : -1;
}

static void settle(fh_ws *ws);

void fh__ws_pump(fh_ws *ws)
{
    if (!ws->conn)
        return;
    if (flush(ws) < 0 || read_in(ws) < 0 || flush(ws) < 0)
        return;
    settle(ws);
}

void fh__ws_flush(fh_ws *ws)
{
    if (ws->conn && flush(ws) == 0)
        settle(ws);
}

/* Interest and timers after I/O. */
static void settle(fh_ws *ws)
{
    fh__wsp *p = &ws->p;
    if (fh__wsp_pending(p) > (size_t)ws->opt[FH_WS_WRITE_LIMIT])
        ws->over_limit = 1;
    int ev = 0;
    if (!ws->read_paused)
        ev |= ws->rwant ? ws->rwant : FH_WATCH_READ;
    if (fh__wsp_pending(p))
        ev |= ws->wwant ? ws->wwant : FH_WATCH_WRITE;
    if (fh__conn_watch(ws->conn, ev) != FH_OK) {
        fh__ws_end(ws, FH_ELOOP, "event loop refused to watch a socket");
        return;
    }
    arm(ws);
}

/* ---- the codec -------------------------------------------------------------------- */

static void ws_io(fh__conn *c, int events)
{
    (void)events;
    if (c->cs)
        fh__ws_pump(c->cs);
}

/* Keepalive (a ping every ping_interval, the pong awaited pong_timeout)
 * and the closing handshake's deadline, on the engine's timers: they run
 * whether or not anybody reads. */
static void ws_tick(fh__conn *c, int64_t now)
{
    fh_ws *ws = c->cs;
    if (!ws)
        return;
    if (ws->close_at && now >= ws->close_at) {
        fh__ws_end(ws, FH_OK, "%s", ""); /* §7.1.1: give up waiting, close TCP */
        if (!ws->err[0])
            snprintf(ws->err, sizeof ws->err, "the closing handshake timed out");
        return;
    }
    if (ws->pong_at && now >= ws->pong_at) {
        fh__ws_end(ws, FH_ETIMEOUT_READ, "keepalive ping timeout: no pong within %lld ms",
                   (long long)ws->opt[FH_WS_PONG_TIMEOUT]);
        return;
    }
    if (ws->ping_at && now >= ws->ping_at) {
        uint8_t tag[4];
        RAND_bytes(tag, sizeof tag);
        if (fh__wsp_ping(&ws->p, tag, sizeof tag) == FH_OK && ws->opt[FH_WS_PONG_TIMEOUT] > 0 &&
            !ws->pong_at)
            ws->pong_at = now + ws->opt[FH_WS_PONG_TIMEOUT] * 1000;
        ws->ping_at = now + ws->opt[FH_WS_PING_INTERVAL] * 1000;
    }
    fh__ws_pump(ws); /* sends the ping, re-arms */
}

static int ws_init(fh__conn *c)
{
    (void)c;
    return FH_OK;
}

static void ws_free(fh__conn *c)
{
    c->cs = NULL; /* the fh_ws owns its state */
}

static void ws_start(fh__conn *c, fh__exchange *x)
{
    (void)c;
    fh__ex_fail(x, FH_ESTATE, "a WebSocket connection carries no HTTP exchange");
}

static int ws_span(fh__conn *c, fh__exchange *x, const uint8_t **p, size_t *n)
{
    (void)c, (void)x, (void)p, (void)n;
    return FH_ESTATE;
}

static void ws_consume(fh__conn *c, fh__exchange *x, size_t n)
{
    (void)c, (void)x, (void)n;
}

static int ws_want_body(fh__conn *c, fh__exchange *x, int on)
{
    (void)c, (void)x, (void)on;
    return FH_ESTATE;
}

static void ws_noop(fh__conn *c, fh__exchange *x)
{
    (void)c, (void)x;
}

static void ws_leave(fh__conn *c, fh__exchange *x, int clean)
{
    (void)c, (void)x, (void)clean;
}

const fh__codec fh__ws_codec = {
    .name = "websocket",
    .init = ws_init,
    .free = ws_free,
    .start = ws_start,
    .io = ws_io,
    .span = ws_span,
    .consume = ws_consume,
    .want_body = ws_want_body,
    .resume = ws_noop,
    .leave = ws_leave,
    .on_timer = ws_noop,
    .tick = ws_tick,
};

int fh__ws_adopt(fh_ws *ws, fh__conn *c)
{
    fh_engine *e = ws->engine;
    if (c->codec)
        c->codec->free(c); /* the HTTP/1.1 codec's state */
    c->codec = &fh__ws_codec;
    c->cs = ws;
    c->engine = e;
    c->state = FH__C_READY;
    c->watch = 0;
    c->timer.kind = 2; /* the connection's timer: engine.c calls fh__conn_on_timer */
    ws->conn = c;
    if (!(ws->ibuf = malloc(FH__WS_IBUF)) ||
        fh__heap_reserve(&e->timers, e->timers.n + 2 * (e->nall + 1) + 1) != FH_OK) {
        fh__ws_end(ws, FH_ENOMEM, "out of memory");
        return FH_ENOMEM;
    }
    ws->state = FH_WS_OPEN;
    if (ws->opt[FH_WS_PING_INTERVAL] > 0)
        ws->ping_at = fh__now_us() + ws->opt[FH_WS_PING_INTERVAL] * 1000;
    fh__ws_pump(ws);
    return ws->conn ? FH_OK : ws->status;
}
