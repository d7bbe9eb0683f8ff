/*
 * fasthttp/engine.h — driving requests from any event loop.
 *
 * An fh_engine runs many requests of one client concurrently without ever
 * blocking. It is driven in one of two ways:
 *
 *  1. By an external event loop (asyncio, libuv, epoll, ...), in the style of
 *     curl_multi_socket_action: the engine asks the loop to watch file
 *     descriptors (fh_loop_ops.watch) and to arm one timer
 *     (fh_loop_ops.timer); the loop reports readiness and timer expiry back
 *     through fh_engine_socket_action().
 *  2. By its built-in poll loop (ops == NULL): the caller runs
 *     fh_engine_poll() until the work is done. The blocking API is this.
 *
 * An engine is single-threaded: call it from one thread at a time. Several
 * engines may share one client (and its pool) from different threads.
 *
 * Callbacks are only ever called from fh_engine_socket_action() and
 * fh_engine_poll(), never from inside fh_engine_submit() or other calls, so
 * user code is not re-entered unexpectedly. From inside a callback it is
 * allowed to submit, cancel, read bodies and free responses.
 *
 * After fork(2), an engine created before it is usable in the child: at
 * its first call there it fails every request that was in flight with
 * FH_EFORKED (reported by the next socket_action/poll; an open stream's
 * fh_response_read returns it), drops the parent's descriptors without
 * calling watch() for them, and then works normally on new connections.
 * A child should drive it from an event loop of its own: an inherited
 * loop shares its kernel objects (epoll) with the parent's.
 */
#ifndef FASTHTTP_ENGINE_H
#define FASTHTTP_ENGINE_H

#include "fasthttp.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fh_engine fh_engine;

/* Event bits for watch() and fh_engine_socket_action(). */
#define FH_WATCH_READ 1
#define FH_WATCH_WRITE 2
#define FH_WATCH_ERROR 4 /* only passed to socket_action: the fd reported an error/hangup */

/* Pass as fd to fh_engine_socket_action() when the timer fired. */
#define FH_SOCKET_TIMEOUT (-1)

/* What the engine asks of an event loop. Frozen at these two hooks
 * (docs/c-api.md, ABI): new protocols and features never add a hook. */
typedef struct fh_loop_ops {
    /* Watch fd for the FH_WATCH_READ/WRITE bits in events, replacing any
     * earlier interest; events == 0 means stop watching (the fd may be
     * closed right after). Return 0, or negative to report failure. */
    int (*watch)(void *loop_ud, int fd, int events);
    /* Arm the engine's single timer to fire once after ms milliseconds
     * (0: on the next loop iteration), replacing any earlier one; ms < 0
     * disarms it. Return 0, or negative on failure. */
    int (*timer)(void *loop_ud, int64_t ms);
} fh_loop_ops;

/* Creates an engine for a client. With ops == NULL the engine uses its own
 * poll loop, driven by fh_engine_poll(). ops is copied. */
FH_EXTERN fh_engine *fh_engine_new(fh_client *client, const fh_loop_ops *ops, void *loop_ud);

/* Cancels every request still in flight (without calling their callbacks),
 * closes their connections and frees the engine. Responses obtained from the
 * engine must be freed before. */
FH_EXTERN void fh_engine_free(fh_engine *engine);

/* on_done: the response head is available (stream mode) or the response is
 * complete (buffered mode) — status == 0 and resp is yours to free — or the
 * request failed: status < 0, resp == NULL, see fh_request_error_message().
 * on_body (stream mode, optional): more body bytes, the end of the body, or
 * an error can be read with fh_response_read() now. Frozen at these two
 * (docs/c-api.md, ABI): an event added later gets its own setter. */
typedef struct fh_callbacks {
    void (*on_done)(void *ud, fh_request *req, int status, fh_response *resp);
    void (*on_body)(void *ud, fh_response *resp);
} fh_callbacks;

/* Starts a request. Validation errors are returned here; everything after
 * is reported to on_done from a later socket_action/poll. The request must
 * stay alive until on_done reported an error or its response is freed.
 * cb is copied. */
FH_EXTERN int fh_engine_submit(fh_engine *engine, fh_request *req, const fh_callbacks *cb,
                               void *ud);

/* Cancels a request that on_done has not been called for yet. No callback
 * follows. Its connection is closed (a half-used connection is never pooled)
 * and its pool slot is freed. */
FH_EXTERN int fh_engine_cancel(fh_engine *engine, fh_request *req);

/* Tells the engine that the body reader of req has data again after it
 * returned FH_EAGAIN. */
FH_EXTERN int fh_engine_resume(fh_engine *engine, fh_request *req);

/* Reports that fd became ready (events: FH_WATCH_* bits) or, with fd ==
 * FH_SOCKET_TIMEOUT, that the timer fired. Runs all work that is due. */
FH_EXTERN int fh_engine_socket_action(fh_engine *engine, int fd, int events);

/* Built-in loop only: waits up to timeout_ms (-1: until something happens)
 * for I/O or timers and runs what is due. Returns the number of requests
 * still in flight, or a negative error. */
FH_EXTERN int fh_engine_poll(fh_engine *engine, int64_t timeout_ms);

/*
 * Built-in loop only: switches the engine to an epoll backend and returns
 * its descriptor, which becomes readable whenever any socket of the engine
 * is ready (the libuv "backend fd" idea). An outer loop can then watch this
 * one fd and, when it is readable or the timeout below expires, call
 * fh_engine_poll(engine, 0) — every ready socket is serviced in one call,
 * without a loop callback per socket. Returns the fd or a negative error.
 * The engine owns the fd. In a forked child an inherited engine closes its
 * copy (the epoll instance is the parent's) and polls with poll(2) until
 * this is called again, which returns a new descriptor.
 */
FH_EXTERN int fh_engine_backend_fd(fh_engine *engine);

/* Built-in loop only: milliseconds until the engine's next deadline
 * (0: work is due now), or -1 when no timer is pending. */
FH_EXTERN int64_t fh_engine_timeout(const fh_engine *engine);

/* Number of requests submitted and not yet completed or cancelled. */
FH_EXTERN size_t fh_engine_pending(const fh_engine *engine);

#ifdef __cplusplus
}
#endif
#endif
