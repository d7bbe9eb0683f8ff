/*
 * send.c — one exchange through libfasthttp's blocking driver
 * (fh_client_send_with; fh_response_read for a stream) with the GIL
 * released for the whole wait, and the two hooks (fh_wait_hooks) through
 * which the driver lets Python in, on this thread, between two polls:
 *
 *   on_wait, every CHECK_MS, main thread only: takes the GIL and runs
 *     PyErr_CheckSignals(). A signal handler that raised (KeyboardInterrupt
 *     for SIGINT) stops the call: the driver cancels the request and the
 *     exception propagates.
 *   on_body_paused: the body reader (body.c, which never calls Python) ran
 *     dry: takes the GIL and pulls the next chunk with next() or
 *     .read(65536) (checking signals too on the main thread). An exception
 *     from the iterator stops the call the same way and propagates as is.
 *
 * Only the main thread handles signals (PyErr_CheckSignals() does nothing
 * elsewhere), so worker threads get no on_wait: they never touch the GIL
 * until their request is done or their body needs a chunk, and threads do
 * not contend for it. poll(2) in the driver is woken early by a signal, so
 * a handler runs within CHECK_MS.
 */
#include "fhpy.h"

#include <pythread.h>

#define CHECK_MS 100 /* how often the main thread checks for signals */

/* A hook that fails returns FHP_PYERR with the exception set: negative,
 * so the driver stops the call and returns it unchanged. */
static int hook_wait(void *ud)
{
    fhp_xfer *x = ud;
    PyEval_RestoreThread(x->ts);
    int rc = PyErr_CheckSignals() < 0 ? FHP_PYERR : 0;
    x->ts = PyEval_SaveThread(); /* an exception stays set in the thread state */
    return rc;
}

static int hook_body(void *ud, fh_request *req)
{
    fhp_xfer *x = ud;
    PyEval_RestoreThread(x->ts);
    int rc = fhp_bodysrc_pull(x->src) < 0 || (x->main && PyErr_CheckSignals() < 0) ? FHP_PYERR
                                                                                   : 0;
    x->ts = PyEval_SaveThread();
    return rc;
}

/* The hooks for a wait on this thread (GIL held). */
static void hooks_for(fhp_xfer *x, fh_wait_hooks *h)
{
    fh_wait_hooks_init(h);
    x->thread = PyThread_get_thread_ident();
    x->main = x->thread == S.main_thread;
    if (x->main) {
        h->on_wait = hook_wait;
        h->interval_ms = CHECK_MS;
    }
    if (x->src)
        h->on_body_paused = hook_body;
    h->ud = x;
}

int fhp_xfer_send(fhp_xfer *x, fh_client *c)
{
    fh_wait_hooks h;
    hooks_for(x, &h);
    x->ts = PyEval_SaveThread();
    int rc = fh_client_send_with(c, x->req, &h, &x->resp);
    PyEval_RestoreThread(x->ts);
    x->ts = NULL;
    return rc;
}

Py_ssize_t fhp_xfer_read(fhp_xfer *x, char *buf, size_t cap)
{
    /* The reading thread may not be the one that sent the request. */
    fh_wait_hooks h;
    hooks_for(x, &h);
    fh_response_set_wait_hooks(x->resp, &h);
    x->ts = PyEval_SaveThread();
    ssize_t n = fh_response_read(x->resp, (uint8_t *)buf, cap);
    PyEval_RestoreThread(x->ts);
    x->ts = NULL;
    return (Py_ssize_t)n;
}

void fhp_xfer_release(fhp_xfer *x)
{
    if (!x)
        return;
    if (x->resp)
        fh_response_free(x->resp); /* with a stream's private engine */
    if (x->req)
        fh_request_free(x->req);
    fhp_bodysrc_free(x->src);
    PyMem_Free(x);
}
