/*
 * conn.c — connections (docs/architecture.md, "Three objects"): opening
 * one (resolve → connect with Happy Eyeballs → TLS → codec from ALPN), the
 * exchanges it carries or that wait for it, dispatching readiness to its
 * codec, and where it goes afterwards (pool, hot list, closed, handed over).
 *
 * A connection is driven by one engine at a time (c->engine). It opens
 * itself for the exchanges waiting on it: a failure fails each of them,
 * and a connection nobody waits for any more is abandoned, its pool slot
 * given back.
 */
#include "internal.h"

#include "conninfo.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Exchanges that may wait for one connection being opened: the HTTP/2
 * codec's stream cap; with HTTP/1.1 only the opener waits. */
#define CONN_WAITERS_MAX 100

/* ---- the engine's list ---------------------------------------------------------- */

static void elink(fh_engine *e, fh__conn *c)
{
    c->engine = e;
    c->eprev = NULL;
    c->enext = e->conns;
    if (e->conns)
        e->conns->eprev = c;
    e->conns = c;
}

static void eunlink(fh__conn *c)
{
    fh_engine *e = c->engine;
    if (!e)
        return;
    fh__engine_cancel_flush(e, c);
    if (c->eprev)
        c->eprev->enext = c->enext;
    else if (e->conns == c)
        e->conns = c->enext;
    if (c->enext)
        c->enext->eprev = c->eprev;
    c->eprev = c->enext = NULL;
}

void fh__conn_adopt(fh_engine *e, fh__conn *c)
{
    elink(e, c);
}

/* ---- the exchanges it carries --------------------------------------------------- */

static void xlink(fh__conn *c, fh__exchange *x)
{
    x->conn = c;
    x->cprev = NULL;
    x->cnext = c->ex;
    if (c->ex)
        c->ex->cprev = x;
    c->ex = x;
    c->nex++;
}

static void xunlink(fh__conn *c, fh__exchange *x)
{
    if (x->cprev)
        x->cprev->cnext = x->cnext;
    else
        c->ex = x->cnext;
    if (x->cnext)
        x->cnext->cprev = x->cprev;
    x->cprev = x->cnext = NULL;
    x->conn = NULL;
    c->nex--;
}

void fh__conn_attach(fh__conn *c, fh__exchange *x)
{
    xlink(c, x);
    x->state = FH__X_ACTIVE;
    c->codec->start(c, x);
}

int fh__conn_watch(fh__conn *c, int events)
{
    if (c->watch == events)
        return FH_OK;
    c->watch = events;
    return fh__engine_watch(c->engine, c, c->fd, events);
}

/* ---- closing ------------------------------------------------------------------------ */

static void close_attempt(fh__conn *c, int i)
{
    fh__engine_unwatch(c->engine, c->attempt_fd[i]);
    close(c->attempt_fd[i]);
    c->attempt_fd[i] = c->attempt_fd[--c->nattempts];
    c->attempt_fd[c->nattempts] = -1;
}

/* A connection that never became ready: its resolver job, attempts and
 * timer stop, and its slot goes back to the pool. */
static void abandon(fh__conn *c)
{
    fh_engine *e = c->engine;
    if (c->job) {
        fh__resolve_release(c->job);
        c->job = NULL;
    }
    /* After the release above the resolver posts nothing more, and its post
     * happened under the job's mutex, so posted is safe to read here. */
    if (c->note.posted)
        fh__wakeup_unpost(&e->wake, &c->note);
    while (c->nattempts)
        close_attempt(c, 0);
    fh__engine_timer(e, &c->timer, 0);
    if (c->fd >= 0)
        fh__engine_unwatch(e, c->fd);
    eunlink(c);
    fh__pool_slot_release(&e->client->pool, c->host);
    fh__conn_close(c);
}

/* Opening failed: every exchange waiting on it fails, after the slot went
 * back to the pool (so a retry may take it again). A proxy's refusal is
 * kept on each request (fh_request_proxy_status). */
void fh__conn_fail(fh__conn *c, int code, const char *fmt, ...)
{
    char msg[FH__ERRMSG];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fh__exchange *x = c->ex;
    int status = c->proxy_status;
    c->ex = NULL;
    c->nex = 0;
    abandon(c);
    while (x) {
        fh__exchange *next = x->cnext;
        x->conn = NULL;
        x->cprev = x->cnext = NULL;
        x->req->proxy_status = status;
        fh__ex_fail(x, code, "%s", msg);
        x = next;
    }
}

void fh__conn_release(fh__conn *c, int reusable)
{
    fh_engine *e = c->engine;
    eunlink(c);
    if (reusable && fh__engine_keep_hot(e, c))
        return;
    if (c->fd >= 0)
        fh__engine_unwatch(e, c->fd);
    c->watch = 0;
    c->engine = NULL;
    fh__pool_release(&e->client->pool, c, reusable);
}

void fh__conn_forget(fh__conn *c)
{
    /* The resolver job is leaked on purpose: its thread exists only in the
     * parent, so it never finishes here, and its mutex may be held. */
    c->job = NULL;
    c->note.posted = 0;
    while (c->nattempts) {
        c->nattempts--;
        close(c->attempt_fd[c->nattempts]);
    }
    c->timer.idx = 0; /* the engine's heap is dropped with it */
    while (c->ex)
        xunlink(c, c->ex);
    fh__conn_close_quiet(c);
}

void fh__conn_detach(fh__conn *c, fh__exchange *x, int clean)
{
    xunlink(c, x);
    if (c->state != FH__C_READY) {
        if (!c->nex)
            abandon(c); /* nobody waits for it any more */
        return;
    }
    c->codec->leave(c, x, clean);
}

/* ---- ready ---------------------------------------------------------------------------- */

/* ALPN's answer (RFC 7301), or prior knowledge for cleartext (RFC 9113
 * §3.3): 1 for HTTP/2, 0 for HTTP/1.1, FH_EHTTP2 when HTTP/2 was required
 * and the server would not speak it. */
static int pick_h2(fh__conn *c)
{
    if (!c->tls)
        return c->http2 == FH_HTTP2_ONLY;
    size_t len = 0;
    const char *p = fh__tls_alpn(c->ssl, &len);
    int h2 = p && len == 2 && memcmp(p, "h2", 2) == 0;
    if (c->http2)
        fh__pool_note_proto(&c->engine->client->pool, c->host, h2 ? 20 : 11);
    if (!h2 && c->http2 == FH_HTTP2_ONLY)
        return FH_EHTTP2;
    return h2;
}

/* The socket is connected (and TLS done): the codec takes over and the
 * exchanges that waited start on it, oldest first, as many as it may
 * carry; the others go back to the start (another connection, or the
 * pool's queue). Nothing touches c after the last start: an exchange that
 * fails there may be the last to leave, which releases c. */
static void ready(fh__conn *c)
{
    int h2 = pick_h2(c);
    if (h2 < 0) {
        fh__conn_fail(c, FH_EHTTP2, "%s:%d did not agree to HTTP/2 (ALPN) and HTTP/2 was "
                  "required", c->hostname, c->port);
        return;
    }
    c->codec = h2 ? &fh__h2_codec : &fh__h1_codec;
    if (c->codec->init(c) != FH_OK) {
        c->codec = NULL;
        fh__conn_fail(c, FH_ENOMEM, "out of memory");
        return;
    }
    c->state = FH__C_READY;
    c->info = fh__conninfo_new(c, __atomic_add_fetch(&c->engine->client->pool.conn_ids, 1,
                                                     __ATOMIC_RELAXED));
    fh__exchange *order[CONN_WAITERS_MAX];
    int n = 0;
    for (fh__exchange *x = c->ex; x && n < CONN_WAITERS_MAX; x = x->cnext)
        order[n++] = x; /* newest first */
    int take = n < c->max_streams ? n : c->max_streams;
    for (int i = 0; i < n - take; i++) { /* the newest beyond capacity start over */
        fh__exchange *x = order[i];
        xunlink(c, x);
        x->state = FH__X_START;
        fh__engine_run(c->engine, x);
    }
    for (int i = n - 1; i >= n - take; i--) {
        order[i]->state = FH__X_ACTIVE;
        c->codec->start(c, order[i]);
    }
}

fh__conn *fh__engine_pending_conn(fh_engine *e, const fh__exchange *x)
{
    for (fh__conn *c = e->conns; c; c = c->enext)
        if (c->host == x->host && c->state < FH__C_READY && c->http2 != FH_HTTP2_OFF &&
            c->nex < fh__h2_origin_cap(c->host))
            return c;
    return NULL;
}

void fh__conn_join(fh__conn *c, fh__exchange *x)
{
    xlink(c, x);
    x->state = FH__X_WAIT;
    fh__ex_set_phase(x, FH_TIMEOUT_CONNECT, FH_ETIMEOUT_CONNECT);
}

/* ---- TLS ------------------------------------------------------------------------------- */

int fh__conn_handshake(fh__conn *c)
{
    int want = 0;
    char err[200] = "", peer[FH__ERRMSG / 2];
    int rc = fh__tls_handshake(c->ssl, &want, err, sizeof err);
    if (rc == FH_EAGAIN) {
        if (fh__conn_watch(c, want) != FH_OK)
            fh__conn_fail(c, FH_ELOOP, "event loop refused to watch a socket");
        return 0;
    }
    if (rc) {
        if (c->state == FH__C_PROXY_TLS)
            fh__conn_peer(c, peer, sizeof peer); /* "proxy <id>" */
        else
            snprintf(peer, sizeof peer, "%s:%d", c->hostname, c->port);
        fh__conn_fail(c, rc, "TLS handshake with %s failed: %s", peer, err);
        return 0;
    }
    return 1;
}

static void do_tls(fh__conn *c)
{
    if (!fh__conn_handshake(c))
        return;
    for (fh__exchange *x = c->ex; x; x = x->cnext)
        x->tm.tls_us = fh__ex_elapsed(x);
    if (SSL_session_reused(c->ssl))
        __atomic_add_fetch(&c->engine->client->pool.tls_resumed, 1, __ATOMIC_RELAXED);
    ready(c);
}

static void begin_tls(fh__conn *c)
{
    char err[200] = "";
    SSL_CTX *ctx = NULL;
    fh_client *cl = c->engine->client;
    int rc = fh__client_ssl_ctx(cl, &ctx, err, sizeof err);
    /* Through an HTTPS proxy, the origin's TLS runs inside the proxy's
     * (docs/architecture.md, "Proxies and Unix sockets"). */
    if (rc == FH_OK && c->ssl) {
        c->proxy_ssl = c->ssl;
        c->ssl = NULL;
    }
    if (rc == FH_OK)
        rc = fh__tls_conn_new(&c->ssl, ctx, c->fd, c->proxy_ssl, c->hostname, c->host_is_ip,
                              cl->tls.verify, c->http2, err, sizeof err);
    if (rc == FH_OK)
        fh__tls_sessions_attach(c, &cl->pool);
    if (rc) {
        fh__conn_fail(c, rc, "TLS setup for %s:%d failed: %s", c->hostname, c->port, err);
        return;
    }
    c->state = FH__C_TLS;
    do_tls(c);
}

/* ---- connect (RFC 8305 Happy Eyeballs) --------------------------------------------- */

static void connected(fh__conn *c, int i)
{
    int fd = c->attempt_fd[i];
    c->attempt_fd[i] = c->attempt_fd[--c->nattempts];
    c->attempt_fd[c->nattempts] = -1;
    while (c->nattempts)
        close_attempt(c, 0); /* the slower attempts lost the race */
    fh__engine_timer(c->engine, &c->timer, 0);
    fh__addrs_free(&c->addrs);
    c->fd = fd;
    c->watch = c->engine->fds[fd].events; /* still watched for the connect */
    fh__pool_opened(&c->engine->client->pool, c, c->host);
    for (fh__exchange *x = c->ex; x; x = x->cnext)
        x->tm.connect_us = fh__ex_elapsed(x);
    if (c->route && !fh__conn_is_unix(c))
        fh__proxy_conn_connected(c);
    else
        fh__conn_tunnel_ready(c);
}

void fh__conn_tunnel_ready(fh__conn *c)
{
    if (c->tls)
        begin_tls(c);
    else
        ready(c);
}

/* Starts the next address; FH_OK while an attempt is in flight, else the
 * connection failed (the waiting exchanges were failed). */
static int start_attempt(fh__conn *c)
{
    char err[128] = "no address", peer[FH__ERRMSG / 2];
    while (c->next_addr < c->addrs.n && c->nattempts < FH__MAX_ATTEMPTS) {
        int fd = fh__tcp_connect(&c->addrs.v[c->next_addr++], err, sizeof err);
        if (fd < 0)
            continue;
        /* On loopback, and with any peer that answers within the connect()
         * call, the handshake is over when connect() returns EINPROGRESS:
         * getpeername() succeeds and the connection goes on now, without a
         * wait for writability and an SO_ERROR check (a turn of the
         * caller's event loop); the fd is then registered unwatched, and
         * first watched for what the connection waits on next. */
        int now = fh__tcp_connected_now(fd, &c->peer, &c->peer_len);
        if (fh__engine_watch(c->engine, c, fd, now ? 0 : FH_WATCH_WRITE) != FH_OK) {
            close(fd);
            fh__conn_fail(c, FH_ELOOP, "event loop refused to watch a socket");
            return FH_ELOOP;
        }
        c->attempt_fd[c->nattempts++] = fd;
        if (now) {
            connected(c, c->nattempts - 1);
            return FH_OK; /* what followed may have freed c */
        }
        int64_t next = c->next_addr < c->addrs.n
                           ? fh__now_us() + FH__HAPPY_EYEBALLS_MS * 1000
                           : 0;
        fh__engine_timer(c->engine, &c->timer, next);
        return FH_OK;
    }
    if (c->nattempts)
        return FH_OK;
    fh__conn_fail(c, FH_ECONNECT, "cannot connect to %s: %s",
                  fh__conn_peer(c, peer, sizeof peer), err);
    return FH_ECONNECT;
}

static void on_connect_ready(fh__conn *c, int fd)
{
    int i = 0;
    while (i < c->nattempts && c->attempt_fd[i] != fd)
        i++;
    if (i == c->nattempts)
        return;
    char err[128], peer[FH__ERRMSG / 2];
    int rc = fh__tcp_connect_result(fd, err, sizeof err);
    if (rc == FH_EAGAIN)
        return;
    if (rc == FH_OK) {
        connected(c, i);
        return;
    }
    close_attempt(c, i);
    if (c->nattempts == 0 && c->next_addr >= c->addrs.n) {
        fh__conn_fail(c, FH_ECONNECT, "cannot connect to %s: %s",
                      fh__conn_peer(c, peer, sizeof peer), err);
        return;
    }
    if (c->next_addr < c->addrs.n)
        start_attempt(c); /* a failure starts the next address at once */
}

void fh__conn_on_timer(fh__conn *c, int64_t now)
{
    if (c->state == FH__C_CONNECTING)
        start_attempt(c); /* RFC 8305 §5: the next address after the delay */
    else if (c->state == FH__C_READY && c->codec && c->codec->tick)
        c->codec->tick(c, now); /* a codec's own deadline (WebSocket) */
}

static void begin_connect(fh__conn *c)
{
    c->state = FH__C_CONNECTING;
    start_attempt(c);
}

void fh__conn_on_resolved(fh__conn *c)
{
    fh__addrs a = {0};
    const char *why = NULL;
    int rc = fh__resolve_result(c->job, &a, &why);
    if (rc == FH_EAGAIN)
        return;
    fh__resolve_release(c->job);
    c->job = NULL;
    /* In PROXY the name was the origin's, for SOCKS5; before, the dialled one. */
    int port, origin = c->state == FH__C_PROXY || !c->route;
    if (rc) {
        fh__conn_fail(c, rc, "cannot resolve %shost '%s': %s", origin ? "" : "proxy ",
                      origin ? c->hostname : fh__conn_dial(c, &port),
                      why ? why : "unknown error");
        return;
    }
    if (c->state == FH__C_PROXY) {
        fh__proxy_conn_resolved(c, &a);
        return;
    }
    c->addrs = a;
    for (fh__exchange *x = c->ex; x; x = x->cnext)
        x->tm.dns_us = fh__ex_elapsed(x);
    begin_connect(c);
}

/* The connect hook of tests and integrations replaces TCP connect. */
static void hook_connect(fh__conn *c)
{
    fh_client *cl = c->engine->client;
    c->state = FH__C_CONNECTING;
    int port;
    const char *host = fh__conn_dial(c, &port);
    int fd = cl->connect_hook(cl->connect_ud, host, port);
    if (fd < 0 || fh__engine_watch(c->engine, c, fd, FH_WATCH_WRITE) != FH_OK) {
        if (fd >= 0)
            close(fd);
        fh__conn_fail(c, FH_ECONNECT, "connect hook failed for %s:%d", host, port);
        return;
    }
    c->attempt_fd[c->nattempts++] = fd;
}

void fh__conn_open(fh_engine *e, fh__exchange *x)
{
    fh__pool *p = &e->client->pool;
    fh__conn *c = fh__conn_new(-1);
    const fh__url *u = x->url;
    const fh__route *route = fh__ex_route(x);
    if (c && (!(c->hostname = strdup(u->host)) ||
              (route && fh__proxy_conn_setup(c, route) != FH_OK))) {
        fh__conn_close(c);
        c = NULL;
    }
    if (!c) {
        fh__pool_slot_release(p, x->host);
        fh__ex_fail(x, FH_ENOMEM, "out of memory");
        return;
    }
    c->port = u->port;
    c->tls = u->tls;
    c->http2 = x->http2;
    c->host_is_ip = u->host_is_ip;
    c->host = x->host;
    c->timer.kind = 2; /* engine.c dispatches on it: a connection's timer */
    c->note.kind = FH__NOTE_RESOLVED;
    for (int i = 0; i < FH__MAX_ATTEMPTS; i++)
        c->attempt_fd[i] = -1;
    elink(e, c);
    xlink(c, x);
    x->state = FH__X_WAIT;
    fh__ex_set_phase(x, FH_TIMEOUT_CONNECT, FH_ETIMEOUT_CONNECT);
    if (fh__conn_is_unix(c)) { /* its address is made: nothing to resolve */
        begin_connect(c);
        return;
    }
    if (e->client->connect_hook) {
        hook_connect(c);
        return;
    }
    int port;
    const char *host = fh__conn_dial(c, &port);
    if (fh__resolve_numeric(host, port, &c->addrs) == FH_OK) {
        begin_connect(c);
        return;
    }
    int rc = fh__engine_wake_fd(e);
    if (rc == FH_OK)
        rc = fh__resolve_start(&c->job, host, port, &e->wake, &c->note);
    if (rc) {
        fh__conn_fail(c, rc, "cannot start resolving '%s'", host);
        return;
    }
    c->state = FH__C_RESOLVING;
}

/* ---- readiness ------------------------------------------------------------------------ */

void fh__conn_on_ready(fh__conn *c, int fd, int events)
{
    switch (c->state) {
    case FH__C_CONNECTING: on_connect_ready(c, fd); break;
    case FH__C_PROXY_TLS:
    case FH__C_PROXY: fh__proxy_conn_io(c); break;
    case FH__C_TLS: do_tls(c); break;
    case FH__C_READY: c->codec->io(c, events); break;
    default: break;
    }
}

/* ---- hand-over after 101 -------------------------------------------------------------- */

void fh__conn_take_over(fh__conn *c, fh_response *resp)
{
    fh_engine *e = c->engine;
    if (c->fd >= 0)
        fh__engine_unwatch(e, c->fd);
    c->watch = 0;
    eunlink(c);
    c->engine = NULL;
    fh__pool_forget(&e->client->pool, c);
    c->state = FH__C_TAKEN;
    resp->upgraded = c;
}
