/*
 * bodystore.c — a buffered response body received straight into the bytes
 * object that becomes Response.content (libfasthttp's fh_body_storage).
 *
 * Without it a 1 MiB body went from the socket into the library's buffer
 * and was then copied into a new bytes object: two fresh megabytes (page
 * faults on both) and one memcpy per response. With it the engine asks for
 * storage once the head says how long the body is, and reads into
 * PyBytes_AS_STRING of an object made for it.
 *
 * Making a bytes object needs the GIL. The asyncio face polls its engine
 * from a loop callback, GIL held: the allocation is direct. The blocking
 * face waits with the GIL released (send.c); its own thread takes the GIL
 * back for the allocation, as the body hooks do. Any other thread (the
 * shared HTTP/2 engine's) gets no storage: the library's buffer is used and
 * the body copied as before, so nothing ever blocks on the GIL inside an
 * engine another thread waits for.
 */
#include "fhpy.h"

#include <pythread.h>

/* Smaller bodies arrive in the read that brought the head, so storage
 * saves little; for the blocking face one more GIL hand-off per response
 * costs more than copying 64 KiB when 64 threads share the GIL. */
#define MIN_ASYNC 1
#define MIN_SYNC (64u << 10)

static void *new_bytes(size_t size, void **handle)
{
    if (size > (size_t)PY_SSIZE_T_MAX - 1)
        return NULL;
    PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)size);
    if (!b) {
        PyErr_Clear(); /* the library then tries its own buffer, and reports */
        return NULL;
    }
    *handle = b;
    return PyBytes_AS_STRING(b);
}

/* 1 when this is the blocking call's own thread, waiting without the GIL. */
static int own_thread(const fhp_xfer *x)
{
    return x && x->ts && x->thread == PyThread_get_thread_ident();
}

static void *on_alloc(void *ud, size_t size, void **handle)
{
    fhp_xfer *x = ud;
    if (PyGILState_Check())
        return new_bytes(size, handle);
    if (!own_thread(x))
        return NULL;
    PyEval_RestoreThread(x->ts);
    void *p = new_bytes(size, handle);
    x->ts = PyEval_SaveThread();
    return p;
}

/* A body the response never handed over (the request failed, or the
 * response was freed first). */
static void on_release(void *ud, void *handle)
{
    fhp_xfer *x = ud;
    if (PyGILState_Check()) {
        Py_DECREF((PyObject *)handle);
    } else if (own_thread(x)) {
        PyEval_RestoreThread(x->ts);
        Py_DECREF((PyObject *)handle);
        x->ts = PyEval_SaveThread();
    } else {
        PyGILState_STATE g = PyGILState_Ensure(); /* not expected: see above */
        Py_DECREF((PyObject *)handle);
        PyGILState_Release(g);
    }
}

void fhp_body_storage_set(fh_request *req, fhp_xfer *x)
{
    fh_body_storage s = {on_alloc, on_release, x, x ? MIN_SYNC : MIN_ASYNC};
    fh_request_set_body_storage(req, &s);
}

PyObject *fhp_body_storage_take(fh_response *resp)
{
    size_t len = 0;
    PyObject *b = fh_response_take_body_storage(resp, &len);
    if (!b)
        return NULL;
    /* The engine fills exactly Content-Length bytes; the terminator every
     * bytes object carries is restored in case the spare byte was used. */
    if ((size_t)PyBytes_GET_SIZE(b) != len) {
        Py_DECREF(b);
        PyErr_SetString(PyExc_SystemError, "response body storage of the wrong size");
        return NULL;
    }
    PyBytes_AS_STRING(b)[len] = '\0';
    return b;
}
