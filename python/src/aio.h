/*
 * aio.h — the asyncio face, shared by aio.c (loop glue, exchanges, the
 * awaitable type) and aio_stream.c (streamed responses).
 *
 * Per running event loop a Client owns one AioLoop: an fh_engine on its
 * built-in loop switched to the epoll backend, whose one descriptor is
 * watched with loop.add_reader(); a single loop timer (call_later, or
 * call_soon for "now") follows fh_engine_timeout(). Each callback runs
 * fh_engine_poll(engine, 0), which services every ready socket in C, and
 * the engine's on_done/on_body callbacks resolve asyncio futures.
 *
 * Everything here runs with the GIL held, on the loop's thread.
 *
 * Fork: an AioLoop records the fork generation it was made in
 * (fh_fork_generation()). In a forked child an inherited AioLoop is never
 * driven again. Its event loop's selector is an epoll instance shared with
 * the parent, so it is detached without loop.remove_reader() (which would
 * unregister the parent's descriptor there); its exchanges fail with
 * FH_EFORKED, and a new event loop in the child gets a new AioLoop.
 */
#ifndef FHPY_AIO_H
#define FHPY_AIO_H

#include "fhpy.h"

typedef struct AioLoop AioLoop;
typedef struct fhp_aexch fhp_aexch;

/* The exchange's state. */
enum {
    X_NEW,    /* built, not submitted (the awaitable was not awaited yet) */
    X_LIVE,   /* submitted: on_done pending */
    X_STREAM, /* head arrived in stream mode: resp is open */
    X_DONE    /* finished: result, error, or released */
};

#define FHP_CLOSED (-10001) /* status: the Client was closed meanwhile */

/* One request on an event loop. A refcounted object so that callbacks
 * (a body pump's done callback) can hold it; the AioLoop holds a reference
 * while the engine knows it (X_LIVE, X_STREAM). */
struct fhp_aexch {
    PyObject_HEAD
    AioLoop *al;         /* strong, from submission */
    FhpClient *client;   /* strong */
    fh_request *req;
    fh_response *resp;   /* X_STREAM: the open response */
    PyObject *request;   /* FhpRequest */
    PyObject *url;       /* str */
    PyObject *fut;       /* what the awaiting task waits on (the call or a read) */
    PyObject *response;  /* the Response until it is handed to the caller */
    PyObject *exc;       /* an exception to raise (body iterator failure) */
    fh_cookie_jar *jar;  /* this request's own jar (owned), read by the engine until done */
    fhp_bodysrc *src;    /* sync iterator or file body */
    PyObject *aiter;     /* async iterator body */
    PyObject *achunk;    /* its current chunk (bytes) */
    const char *ap;
    Py_ssize_t aleft;
    int aeof;
    PyObject *pump;      /* the task pulling aiter's chunks (aio_body.c) */
    PyObject *pwait;     /* the waiter it awaits until the engine asks again */
    int asked;           /* the engine asked for a chunk since the last resume */
    fhp_aexch *prev, *next; /* AioLoop.live */
    fhp_aexch *want_next;   /* AioLoop.want */
    int state, status, stream, want, linked;
    int64_t start_us;
};

struct AioLoop {
    PyObject_HEAD
    AioLoop *chain;        /* the client's next AioLoop (other loops) */
    FhpClient *client;     /* borrowed; NULL once detached */
    PyObject *loop;
    fh_engine *engine;     /* NULL once detached */
    int fd;
    PyObject *cb_ready, *cb_timer, *cb_soon;
    PyObject *timer;       /* TimerHandle or NULL */
    int64_t timer_at;      /* when it fires (fhp_now_us clock) */
    int soon, busy;
    fhp_aexch *live;       /* strong references */
    fhp_aexch *want;       /* strong references: body readers waiting for a chunk */
    struct FhpWS *ws;      /* open WebSockets on this engine (borrowed; ws.c) */
    unsigned long gen;     /* fork generation it was made in */
    PyObject *batch;       /* during a service: the waiters woken, run after the poll */
};

/* Interned names and imported helpers (filled by fhp_aio_ready()). */
typedef struct fhp_aio_state {
    int ready;
    PyObject *get_running_loop, *ensure_future, *aio_helpers, *pump_body;
    PyObject *s_create_future, *s_set_result, *s_done, *s_cancel, *s_cancelled,
        *s_exception, *s_result, *s_add_reader, *s_remove_reader, *s_call_later,
        *s_call_soon, *s_blocking, *s_is_closed, *s_add_done_callback, *s_loop_kw,
        *s_context_kw, *cancelled_error, *invalid_state_error;
} fhp_aio_state;

extern fhp_aio_state A;
extern PyTypeObject FhpAwait_Type;
extern PyTypeObject FhpAexch_Type;
extern PyTypeObject FhpAioLoop_Type;
extern PyTypeObject FhpAByteIter_Type;

/* Imports asyncio's helpers and readies the types; 0 or -1. */
int fhp_aio_ready(void);
/* An attribute of the fasthttp._aio module (new reference), or NULL. */
PyObject *fhp_aio_helper(const char *name);

/* Request bodies (aio_body.c): the engine's body lender; what to do when
 * the engine asked for the next chunk (after the poll); stopping the pump. */
ssize_t fhp_abody_lend(void *ud, const uint8_t **data);
void fhp_abody_wanted(fhp_aexch *x);
void fhp_abody_stop(fhp_aexch *x);
/* Queues x for fhp_abody_wanted after the poll; fails x with the exception
 * set (aio.c). */
void fhp_aexch_want(fhp_aexch *x);
void fhp_aexch_fail(fhp_aexch *x);
/* Sets StopIteration(value) (how an awaitable returns a value). */
void fhp_set_stop_iteration(PyObject *value);
/* A new future of al's loop, already marked for `yield` to a task. */
PyObject *fhp_al_future(AioLoop *al);

/* Awaitables (aio.c). A coroutine-like object: __await__, send, throw,
 * close; so asyncio.create_task() accepts it too. */
enum { AW_VALUE, AW_CALL, AW_READ_ALL, AW_READ_ITER, AW_WS };

typedef struct FhpAwait {
    PyObject_HEAD
    int kind, finished, waiting;
    PyObject *value;     /* AW_VALUE */
    fhp_aexch *x;        /* AW_CALL */
    FhpResponse *resp;   /* AW_READ_* */
    PyObject *iter;      /* AW_READ_ITER: the AByteIter */
    PyObject *buf;       /* AW_READ_ALL: bytes being filled */
    size_t have;
    int op;              /* AW_WS: what it waits for (ws.c); value is the WebSocket */
} FhpAwait;

FhpAwait *fhp_await_new(int kind);

/* Loop glue (aio.c). */
/* Detaches al if it was inherited from the parent process (see above):
 * its exchanges end with status FH_EFORKED. */
void fhp_al_check_fork(AioLoop *al);
void fhp_al_arm(AioLoop *al);
void fhp_al_soon(AioLoop *al);
/* Takes x out of the engine (cancels a live request, frees an open
 * stream: its connection is pooled only when the body was read to the
 * end), marks it X_DONE with status, and drops the AioLoop's reference. */
void fhp_aexch_leave(fhp_aexch *x, int status);
/* Resolves the future f with None unless it is done already (a waiter
 * woken twice, or cancelled); errors are reported as unraisable and cleared.
 * The caller keeps its reference. */
void fhp_future_wake(PyObject *f);

/* aio_waiter.c: what a task awaiting a request waits on (Future-compatible).
 * fhp_waiter_wake marks it done and, with batch (a list), queues it for
 * fhp_waiter_run, which calls every waiting task's wakeup in its context
 * (-1: SystemExit or KeyboardInterrupt propagates, the rest is rescheduled);
 * without, its callbacks go through loop.call_soon() like a Future's. */
PyObject *fhp_waiter_new(PyObject *loop);
int fhp_waiter_check(PyObject *o);
void fhp_waiter_wake(PyObject *w, PyObject *batch);
int fhp_waiter_run(PyObject *batch);
/* Wakes the task waiting on x->fut (if it still waits). */
void fhp_aexch_wake(fhp_aexch *x);

/* The AioLoop of c for the running loop (made on first use), or NULL with
 * an exception. */
AioLoop *fhp_al_get(FhpClient *c);

/* WebSockets (ws.c). One step of an AW_WS awaitable (as fhp_aread_step). */
int fhp_ws_step(FhpAwait *aw, PyObject **out);
/* The AW_WS awaitable was cancelled while it waited. */
void fhp_ws_abort(FhpAwait *aw);
/* al's engine goes away: its WebSockets end (closed, futures woken). */
void fhp_ws_loop_gone(AioLoop *al);

/* Streams (aio_stream.c). One step of a read awaitable: 0 and *out = a
 * future to yield, 1 and *out = the result, or -1 with an exception. */
int fhp_aread_step(FhpAwait *aw, PyObject **out);
/* The read awaitable was cancelled (or closed) while it waited. */
void fhp_aread_abort(FhpAwait *aw);
/* A streamed response for x (X_STREAM). */
PyObject *fhp_aio_stream_response(fhp_aexch *x);

#endif
