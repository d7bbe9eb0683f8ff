/*
 * send.c — one exchange on a private engine (fh_engine_new(client, NULL,
 * NULL)) driven by its built-in poll loop with the GIL released.
 *
 * Signals: only the main thread handles them (PyErr_CheckSignals() does
 * nothing elsewhere), so only the main thread takes the GIL back while
 * waiting, at least every CHECK_MS; poll(2) is woken early by a signal
 * anyway. On a signal the exchange is cancelled and the exception
 * (KeyboardInterrupt for SIGINT) propagates. Worker threads never touch the
 * GIL until their request is done, so threads do not contend for it.
 */
#include "fhpy.h"

#include <pythread.h>
#include <stdlib.h>

#define CHECK_MS 100 /* how often the main thread checks for signals */
#define POLL_MS 1000 /* longest single wait in the engine */

void fhp_xfer_on_done(void *ud, fh_request *req, int status, fh_response *resp)
{
    fhp_xfer *x = ud;
    x->done = 1;
    x->status = status;
    x->resp = resp;
}

static int on_main_thread(void)
{
    return PyThread_get_thread_ident() == S.main_thread;
}

typedef struct waiter {
    int main;
    int64_t next_check;
    PyThreadState *ts;
} waiter;

static void wait_begin(waiter *w)
{
    w->main = on_main_thread();
    w->next_check = w->main ? fhp_now_ms() + CHECK_MS : 0;
    w->ts = PyEval_SaveThread();
}

static int64_t wait_ms(const waiter *w)
{
    if (!w->main)
        return POLL_MS;
    int64_t ms = w->next_check - fhp_now_ms();
    return ms < 0 ? 0 : ms > POLL_MS ? POLL_MS : ms;
}

/* Takes the GIL to check for signals when due: 0, or -1 with the GIL
 * held and the exception set. */
static int wait_check(waiter *w)
{
    if (!w->main || fhp_now_ms() < w->next_check)
        return 0;
    PyEval_RestoreThread(w->ts);
    if (PyErr_CheckSignals() < 0)
        return -1;
    w->ts = PyEval_SaveThread();
    w->next_check = fhp_now_ms() + CHECK_MS;
    return 0;
}

/* Pulls the next body chunk under the GIL. 0, or -1 (GIL held, error). */
static int pull_body(waiter *w, fhp_xfer *x)
{
    PyEval_RestoreThread(w->ts);
    if (fhp_bodysrc_pull(x->src) < 0 || (w->main && PyErr_CheckSignals() < 0))
        return -1;
    w->ts = PyEval_SaveThread();
    fh_engine_resume(x->engine, x->req);
    return 0;
}

int fhp_xfer_run(fhp_xfer *x)
{
    static const fh_callbacks cb = {fhp_xfer_on_done, NULL};
    int rc = fh_engine_submit(x->engine, x->req, &cb, x);
    if (rc != FH_OK)
        return rc;
    waiter w;
    wait_begin(&w);
    /* Our own driver: the first step may run now rather than after a poll. */
    fh_engine_socket_action(x->engine, FH_SOCKET_TIMEOUT, 0);
    while (!x->done) {
        if (x->src && x->src->want) {
            if (pull_body(&w, x) < 0)
                goto pyerr;
            continue;
        }
        int n = fh_engine_poll(x->engine, wait_ms(&w));
        if (n < 0 && !x->done) {
            fh_engine_cancel(x->engine, x->req);
            x->status = n;
            break;
        }
        if (!x->done && wait_check(&w) < 0)
            goto pyerr;
    }
    PyEval_RestoreThread(w.ts);
    return x->status;
pyerr: /* GIL held */
    if (!x->done)
        fh_engine_cancel(x->engine, x->req);
    else if (x->resp)
        fh_response_free(x->resp);
    x->resp = NULL;
    return FHP_PYERR;
}

Py_ssize_t fhp_xfer_read(fhp_xfer *x, char *buf, size_t cap)
{
    waiter w;
    wait_begin(&w);
    ssize_t n;
    for (;;) {
        n = fh_response_read(x->resp, (uint8_t *)buf, cap);
        if (n != FH_EAGAIN)
            break;
        int p = fh_engine_poll(x->engine, wait_ms(&w));
        if (p < 0) {
            n = p;
            break;
        }
        if (wait_check(&w) < 0)
            return FHP_PYERR; /* GIL held */
    }
    PyEval_RestoreThread(w.ts);
    return (Py_ssize_t)n;
}

void fhp_xfer_release(fhp_xfer *x)
{
    if (!x)
        return;
    if (x->resp)
        fh_response_free(x->resp);
    if (x->engine)
        fh_engine_free(x->engine);
    if (x->req)
        fh_request_free(x->req);
    fhp_bodysrc_free(x->src);
    PyMem_Free(x);
}
