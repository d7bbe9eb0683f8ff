/*
 * engine.c — the fh_engine object: the exchanges in flight, the table of
 * watched fds (fd → connection), one heap of deadlines, the run queue of
 * exchanges whose next step is due, the queue of callbacks to run, and the
 * inbox through which other threads (the pool, resolver threads) hand it
 * work. Exchanges are exchange.c/body.c, connections conn.c.
 *
 * Every action touches only what is ready: the connection of a ready fd,
 * the timers that are due (popped from the heap), the exchanges on the run
 * queue, the notes in the inbox. Nothing scans every exchange in flight.
 *
 * Callbacks are never run where they were caused. A finished exchange is
 * put on a queue, and the queue is run at the end of socket_action/poll,
 * after the engine's own state is consistent. So user code may submit,
 * cancel and free from inside a callback.
 *
 * Fork: an engine inherited by a forked child holds copies of the
 * parent's descriptors. Its epoll fd is the very epoll instance the parent
 * waits on, its eventfd the one the parent's resolver threads and pool
 * waiters signal, and its sockets are the parent's connections. Every
 * entry point first compares the engine's fork generation with the
 * process's (fh__engine_check_fork); on a mismatch the engine drops all of
 * that without a system call on it other than close(2) of its copies, and
 * fails what was in flight with FH_EFORKED (after_fork).
 */
#include "internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define CONTAINER(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

enum { TIMER_EX = 1, TIMER_CONN = 2 }; /* fh__timer.kind, set by exchange.c and conn.c */

fh_engine *fh_engine_new(fh_client *client, const fh_loop_ops *ops, void *loop_ud)
{
    if (!client || (ops && (!ops->watch || !ops->timer)))
        return NULL;
    fh_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    /* The inbox's lock exists from the start (cheap, no descriptor): the
     * pool may post a grant before the eventfd is made on first need. */
    if (pthread_mutex_init(&e->wake.lock, NULL) != 0) {
        free(e);
        return NULL;
    }
    e->wake.lock_ready = 1;
    e->client = client;
    e->builtin = ops == NULL;
    if (ops)
        e->ops = *ops;
    e->loop_ud = loop_ud;
    e->wake.fd = -1;
    e->epfd = -1;
    e->gen = fh__fork_gen();
    return e;
}

/* ---- fd table ---------------------------------------------------------- */

/* Tells the loop about a changed interest: the external loop's watch(), or
 * the epoll backend of the built-in loop (plain poll(2) needs nothing). */
static int loop_watch(fh_engine *e, int fd, int old, int events)
{
    if (!e->builtin)
        return e->ops.watch(e->loop_ud, fd, events) < 0 ? FH_ELOOP : FH_OK;
    if (e->epfd < 0)
        return FH_OK;
    struct epoll_event ev = {0};
    ev.data.fd = fd;
    ev.events = ((events & FH_WATCH_READ) ? EPOLLIN : 0) |
                ((events & FH_WATCH_WRITE) ? EPOLLOUT : 0);
    int op = !events ? EPOLL_CTL_DEL : old ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    return epoll_ctl(e->epfd, op, fd, &ev) < 0 ? FH_ELOOP : FH_OK;
}

static int fds_grow(fh_engine *e, int fd)
{
    if ((size_t)fd < e->nfds)
        return FH_OK;
    size_t n = e->nfds ? e->nfds : 64;
    while (n <= (size_t)fd)
        n *= 2;
    struct fh__fdent *t = realloc(e->fds, n * sizeof *t);
    if (!t)
        return FH_ENOMEM;
    memset(t + e->nfds, 0, (n - e->nfds) * sizeof *t);
    e->fds = t;
    e->nfds = n;
    return FH_OK;
}

int fh__engine_watch(fh_engine *e, fh__conn *c, int fd, int events)
{
    int rc = fds_grow(e, fd);
    if (rc)
        return rc;
    struct fh__fdent *ent = &e->fds[fd];
    ent->c = c;
    if (ent->events == events)
        return FH_OK;
    int old = ent->events;
    ent->events = events;
    if (events && (size_t)fd >= e->fd_hi)
        e->fd_hi = (size_t)fd + 1;
    return loop_watch(e, fd, old, events);
}

void fh__engine_unwatch(fh_engine *e, int fd)
{
    if (fd < 0 || (size_t)fd >= e->nfds)
        return;
    struct fh__fdent *ent = &e->fds[fd];
    if (ent->events)
        loop_watch(e, fd, ent->events, 0);
    ent->events = 0;
    ent->c = NULL;
}

/* The inbox's eventfd is created on first need (DNS or a pool wait), so a
 * plain request on a pooled connection costs no extra descriptors. */
int fh__engine_wake_fd(fh_engine *e)
{
    if (e->wake.fd >= 0)
        return FH_OK;
    int rc = fh__wakeup_init(&e->wake);
    if (rc)
        return rc;
    return fh__engine_watch(e, NULL, e->wake.fd, FH_WATCH_READ); /* an fd of no connection */
}

/* Handles what other threads posted, one note at a time: a handler may
 * end the owner of a later note, which then takes it off the list. */
static void drain_inbox(fh_engine *e)
{
    fh__note *n;
    fh__wakeup_drain(&e->wake);
    while ((n = fh__wakeup_pop(&e->wake))) {
        if (n->kind == FH__NOTE_GRANT)
            fh__ex_on_grant(CONTAINER(n, fh__exchange, waiter.note));
        else if (n->kind == FH__NOTE_RESOLVED)
            fh__conn_on_resolved(CONTAINER(n, fh__conn, note));
        else if (e->note_hook)
            e->note_hook(e, n); /* the client's shared engine (shared.c) */
    }
}

/* ---- hot connections ---------------------------------------------------- */

int fh__engine_keep_hot(fh_engine *e, fh__conn *c)
{
    if (!e->in_action || e->no_hot)
        return 0;
    c->hot_since_us = fh__now_us();
    c->rbuf.len = c->rpos = 0;
    c->next = e->hot;
    e->hot = c;
    return 1;
}

fh__conn *fh__engine_take_hot(fh_engine *e, fh__pool_host *h, int http2)
{
    for (fh__conn **pp = &e->hot; *pp; pp = &(*pp)->next) {
        fh__conn *c = *pp;
        if (c->host == h && fh__conn_fits(c, http2)) {
            *pp = c->next;
            c->next = NULL;
            fh__pool_lock(&e->client->pool);
            e->client->pool.reused++;
            fh__pool_unlock(&e->client->pool);
            fh__conn_adopt(e, c);
            return c;
        }
    }
    return NULL;
}

/* Hands the connections nobody took back to the pool. */
/* How long a freed connection stays hot. With asyncio, the tasks that a
 * completion woke run after the action that freed their connection, and
 * their next requests come in a later action: kept hot, still watched and
 * known alive, the connection serves them with no epoll_ctl and no
 * liveness check (two or three system calls per request). Held longer it
 * would be missed by other engines; after this it goes to the pool. */
#define HOT_KEEP_US 1000

/* Hands hot connections to the pool: all of them, or (all == 0) those hot
 * for HOT_KEEP_US already. */
static void flush_hot(fh_engine *e, int all)
{
    int64_t now = all ? 0 : fh__now_us();
    fh__conn **pp = &e->hot;
    while (*pp) {
        fh__conn *c = *pp;
        if (!all && now - c->hot_since_us < HOT_KEEP_US) {
            pp = &c->next;
            continue;
        }
        *pp = c->next;
        c->next = NULL;
        fh__engine_unwatch(e, c->fd);
        c->watch = 0;
        c->engine = NULL;
        fh__pool_release(&e->client->pool, c, 1);
    }
}

int fh__engine_park(fh_engine *e)
{
    if (e->gen != fh__fork_gen() || !e->builtin || e->in_action || e->note_hook || e->live ||
        e->nall || e->run_head || e->done_head || e->defer_head || e->flushes)
        return 0;
    flush_hot(e, 1); /* other threads' calls may take the connections at once */
    if (e->conns || e->timers.n)
        return 0;
    e->timer_at = 0;
    return 1;
}

/* ---- fork -------------------------------------------------------------- */

/*
 * The process forked since this engine last ran; this is the child. Rules,
 * each because the parent still uses the same kernel objects:
 *  - no epoll_ctl on the inherited epoll fd (EPOLL_CTL_DEL from here would
 *    remove the parent's registration) and no watch() call to the external
 *    loop for inherited fds (its backend may be an inherited epoll fd too):
 *    the fd table is wiped, and the epoll fd copy closed. The built-in loop
 *    polls with poll(2) until fh_engine_backend_fd() makes a new instance;
 *  - no read of the inherited eventfd (it would steal the parent's
 *    wake-ups): the copy is closed, a new one is made on demand;
 *  - no byte on an inherited connection (a request, or a TLS close_notify):
 *    connections are closed quietly, and resolver jobs are leaked, since
 *    their threads exist only in the parent and may hold their mutexes.
 * Exchanges fail with FH_EFORKED; their callbacks run from the next
 * socket_action or poll, never from the API call that noticed the fork.
 */
static void after_fork(fh_engine *e)
{
    e->gen = fh__fork_gen();
    if (e->nfds)
        memset(e->fds, 0, e->nfds * sizeof *e->fds);
    e->fd_hi = 0;
    if (e->epfd >= 0)
        close(e->epfd);
    e->epfd = -1;
    fh__wakeup_forget(&e->wake);
    pthread_mutex_init(&e->wake.lock, NULL);
    e->wake.lock_ready = 1;
    fh__heap_free(&e->timers);
    e->flushes = NULL; /* the connections below are dropped unwritten */
    while (e->hot) {
        fh__conn *c = e->hot;
        e->hot = c->next;
        fh__conn_close_quiet(c);
    }
    while (e->conns) {
        fh__conn *c = e->conns;
        e->conns = c->enext;
        fh__conn_forget(c);
    }
    for (fh__exchange *x = e->live; x; x = x->next) {
        x->timer.idx = 0;
        fh__ex_forked(x);
    }
    if (!e->in_action)
        fh__engine_rearm(e); /* the failures are due now */
}

int fh__engine_check_fork(fh_engine *e)
{
    if (e->gen == fh__fork_gen())
        return 0;
    after_fork(e);
    return 1;
}

/* ---- timers and queues ----------------------------------------------------- */

void fh__engine_timer(fh_engine *e, fh__timer *t, int64_t due)
{
    /* Cannot fail: submit reserved a place for every exchange and for the
     * connection each may open. */
    (void)fh__timer_set(&e->timers, t, due);
}

void fh__engine_rearm(fh_engine *e)
{
    int64_t next = fh__heap_next(&e->timers);
    if (e->run_head || e->done_head || e->defer_head)
        next = 1; /* as soon as possible: a first step or queued callbacks */
    for (fh__conn *c = e->hot; c && next != 1; c = c->next)
        if (!next || c->hot_since_us + HOT_KEEP_US < next)
            next = c->hot_since_us + HOT_KEEP_US; /* its hand-back (flush_hot) */
    if (next == e->timer_at)
        return;
    e->timer_at = next;
    if (e->builtin)
        return;
    int64_t ms = -1;
    if (next == 1)
        ms = 0;
    else if (next) {
        int64_t now = fh__now_us();
        ms = next <= now ? 0 : (next - now + 999) / 1000;
    }
    e->ops.timer(e->loop_ud, ms);
}

void fh__engine_run(fh_engine *e, fh__exchange *x)
{
    if (x->runq)
        return;
    x->runq = 1;
    x->qnext = NULL;
    if (e->run_tail)
        e->run_tail->qnext = x;
    else
        e->run_head = x;
    e->run_tail = x;
}

static void run_remove(fh_engine *e, fh__exchange *x)
{
    if (!x->runq)
        return;
    fh__exchange **pp = &e->run_head, *prev = NULL;
    while (*pp && *pp != x) {
        prev = *pp;
        pp = &(*pp)->qnext;
    }
    if (*pp)
        *pp = x->qnext;
    if (e->run_tail == x)
        e->run_tail = prev;
    x->runq = 0;
}

void fh__engine_queue_done(fh_engine *e, fh__exchange *x)
{
    if (x->queued)
        return;
    x->queued = 1;
    x->qnext = NULL;
    if (e->done_tail)
        e->done_tail->qnext = x;
    else
        e->done_head = x;
    e->done_tail = x;
}

static void done_remove(fh_engine *e, fh__exchange *x)
{
    if (!x->queued)
        return;
    fh__exchange **pp = &e->done_head, *prev = NULL;
    while (*pp && *pp != x) {
        prev = *pp;
        pp = &(*pp)->qnext;
    }
    if (*pp)
        *pp = x->qnext;
    if (e->done_tail == x)
        e->done_tail = prev;
    x->queued = 0;
}

void fh__engine_defer(fh_engine *e, fh__defer *d)
{
    if (d->queued)
        return;
    d->queued = 1;
    d->next = NULL;
    if (e->defer_tail)
        e->defer_tail->next = d;
    else
        e->defer_head = d;
    e->defer_tail = d;
    if (!e->in_action)
        fh__engine_rearm(e);
}

void fh__engine_undefer(fh_engine *e, fh__defer *d)
{
    if (!d->queued)
        return;
    fh__defer **pp = &e->defer_head, *prev = NULL;
    while (*pp && *pp != d) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp)
        *pp = d->next;
    if (e->defer_tail == d)
        e->defer_tail = prev;
    d->queued = 0;
}

/* Runs the deferred calls queued so far (one may queue or free others). */
static void run_defers(fh_engine *e)
{
    fh__defer *d;
    while ((d = e->defer_head)) {
        e->defer_head = d->next;
        if (!e->defer_head)
            e->defer_tail = NULL;
        d->queued = 0;
        d->fn(d);
        fh__engine_check_fork(e);
    }
}

/* ---- exchanges --------------------------------------------------------- */

static void live_unlink(fh_engine *e, fh__exchange *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else if (e->live == x)
        e->live = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->prev = x->next = NULL;
}

/* Frees an exchange: its connection is pooled when the exchange ended
 * cleanly, otherwise closed. Used by cancel, errors and response free. */
static void ex_free(fh__exchange *x)
{
    fh_engine *e = x->engine;
    if (!x->completed)
        e->nlive--;
    done_remove(e, x);
    run_remove(e, x);
    live_unlink(e, x);
    e->nall--;
    fh__ex_free(x);
}

void fh__engine_free_exchange(fh__exchange *x)
{
    ex_free(x);
}

int fh_engine_submit(fh_engine *e, fh_request *req, const fh_callbacks *cb, void *ud)
{
    if (!e || !req || !cb || !cb->on_done)
        return FH_EINVAL;
    fh__engine_check_fork(e);
    if (req->xfer)
        return FH_ESTATE; /* one exchange per request at a time */
    /* One timer for the exchange and one for a connection it may open. */
    if (fh__heap_reserve(&e->timers, 2 * (e->nall + 1)) != FH_OK)
        return FH_ENOMEM;
    fh__exchange *x = fh__ex_new(e);
    if (!x)
        return FH_ENOMEM;
    int rc = fh__ex_init(x, e, req);
    if (rc) {
        fh__ex_free(x);
        return rc;
    }
    x->cb = *cb;
    x->ud = ud;
    req->xfer = x;
    x->next = e->live;
    if (e->live)
        e->live->prev = x;
    e->live = x;
    e->nlive++;
    e->nall++;
    /* The first step runs from the loop, never inside this call. */
    fh__engine_run(e, x);
    if (!e->in_action)
        fh__engine_rearm(e);
    return FH_OK;
}

int fh_engine_cancel(fh_engine *e, fh_request *req)
{
    if (!e || !req)
        return FH_EINVAL;
    fh__engine_check_fork(e);
    fh__exchange *x = req->xfer;
    if (!x || x->engine != e || (x->completed && !x->notify_done))
        return FH_ESTATE;
    fh__request_fail(req, "request cancelled");
    ex_free(x);
    if (!e->in_action)
        fh__engine_rearm(e);
    return FH_OK;
}

int fh_engine_resume(fh_engine *e, fh_request *req)
{
    if (!e || !req || !req->xfer || req->xfer->engine != e)
        return FH_EINVAL;
    fh__engine_check_fork(e); /* a forked exchange is no longer paused */
    fh__exchange *x = req->xfer;
    if (x->body_paused) {
        x->body_paused = 0;
        if (x->conn && x->conn->codec)
            x->conn->codec->resume(x->conn, x);
        if (!e->in_action)
            fh__engine_rearm(e); /* new deadlines, or a callback to run */
    }
    return FH_OK;
}

size_t fh_engine_pending(const fh_engine *e)
{
    return e ? e->nlive : 0;
}

/* Runs queued callbacks. A callback may free or queue other exchanges, so
 * the queue head is re-read every time. */
static void run_callbacks(fh_engine *e)
{
    fh__exchange *x;
again:
    while ((x = e->done_head)) {
        e->done_head = x->qnext;
        if (!e->done_head)
            e->done_tail = NULL;
        x->queued = 0;
        if (x->notify_done) {
            x->notify_done = 0;
            x->notify_body = 0;
            fh_request *req = x->req;
            int code = x->done_code;
            fh_response *resp = code == FH_OK ? x->resp : NULL;
            void (*done)(void *, fh_request *, int, fh_response *) = x->cb.on_done;
            void *ud = x->ud;
            x->resp_given = resp != NULL;
            if (code != FH_OK || !resp || !resp->xfer)
                ex_free(x); /* nothing left to stream */
            done(ud, req, code, resp);
        } else if (x->notify_body) {
            x->notify_body = 0;
            if (x->cb.on_body && x->resp)
                x->cb.on_body(x->ud, x->resp);
        }
        /* A callback that forked returns into the child: what is still in
         * flight is the parent's from here on (its failures join the queue). */
        fh__engine_check_fork(e);
    }
    run_defers(e);
    if (e->done_head)
        goto again;
}

void fh__engine_defer_flush(fh_engine *e, fh__conn *c)
{
    if (c->flush_due)
        return;
    c->flush_due = 1;
    c->fnext = e->flushes;
    e->flushes = c;
}

void fh__engine_cancel_flush(fh_engine *e, fh__conn *c)
{
    if (!c->flush_due)
        return;
    for (fh__conn **pp = &e->flushes; *pp; pp = &(*pp)->fnext) {
        if (*pp == c) {
            *pp = c->fnext;
            break;
        }
    }
    c->flush_due = 0;
    c->fnext = NULL;
}

/* Writes what connections held back during this action. */
static void run_flushes(fh_engine *e)
{
    fh__conn *c;
    while ((c = e->flushes)) {
        e->flushes = c->fnext;
        c->fnext = NULL;
        c->flush_due = 0;
        c->codec->flush(c);
    }
}

/* Steps the exchanges on the run queue (submitted ones, and those a
 * callback submitted during this action). */
static void run_queue(fh_engine *e)
{
    fh__exchange *x;
    while ((x = e->run_head)) {
        e->run_head = x->qnext;
        if (!e->run_head)
            e->run_tail = NULL;
        x->runq = 0;
        fh__ex_step(x);
    }
}

/* Pops due timers; each owner checks its own deadline (a timer may fire
 * early after a deadline moved, and is set again). */
static void run_due(fh_engine *e)
{
    int64_t now = fh__now_us();
    fh__timer *t;
    while ((t = fh__heap_pop_due(&e->timers, now))) {
        if (t->kind == TIMER_EX)
            fh__ex_on_timer(CONTAINER(t, fh__exchange, timer), now);
        else if (t->kind == TIMER_CONN)
            fh__conn_on_timer(CONTAINER(t, fh__conn, timer), now);
    }
}

int fh_engine_socket_action(fh_engine *e, int fd, int events)
{
    if (!e)
        return FH_EINVAL;
    e->in_action++;
    fh__engine_check_fork(e); /* then fd is not in the wiped table */
    int fired = fd == FH_SOCKET_TIMEOUT;
    if (fired) {
        e->timer_at = 0; /* the one-shot timer is spent: rearm below */
    } else if (fd >= 0 && fd == e->wake.fd) {
        drain_inbox(e);
    } else if (fd >= 0 && (size_t)fd < e->nfds && e->fds[fd].c) {
        fh__conn_on_ready(e->fds[fd].c, fd, events);
    }
    run_queue(e);
    run_due(e);
    if (e->in_action == 1) {
        /* Callbacks may submit requests; starting them before this action
         * ends lets them take the connections just freed (hot). */
        run_callbacks(e);
        for (;;) {
            while (e->run_head || e->defer_head) {
                run_queue(e);
                run_callbacks(e);
            }
            if (!e->flushes)
                break;
            /* A write can fail streams, whose callbacks may start more. */
            run_flushes(e);
            run_callbacks(e);
        }
        flush_hot(e, 0);
    }
    e->in_action--;
    if (!e->in_action)
        fh__engine_rearm(e);
    return FH_OK;
}

void fh_engine_free(fh_engine *e)
{
    if (!e)
        return;
    e->in_action++; /* no callbacks from here on */
    fh__engine_check_fork(e); /* in a child: nothing of the parent's is touched below */
    flush_hot(e, 1);
    while (e->live)
        ex_free(e->live);
    if (e->wake.fd >= 0)
        loop_watch(e, e->wake.fd, FH_WATCH_READ, 0);
    fh__wakeup_close(&e->wake);
    if (e->epfd >= 0)
        close(e->epfd);
    if (!e->builtin && e->timer_at)
        e->ops.timer(e->loop_ud, -1);
    fh__heap_free(&e->timers);
    while (e->spare) {
        fh__exchange *x = e->spare;
        e->spare = x->qnext;
        fh__ex_destroy(x);
    }
    free(e->fds);
    free(e);
}
