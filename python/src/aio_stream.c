/*
 * aio_stream.c — streamed responses on an event loop: `await aread()`,
 * `async for chunk in aiter_bytes()`, aiter_text() and aiter_lines() (thin
 * async generators in fasthttp._aio over aiter_bytes), aclose() and
 * `async with response`.
 *
 * A read calls fh_response_read(); when nothing is buffered it returns
 * FH_EAGAIN, the engine watches the socket (with the read timeout armed)
 * and the awaitable yields a future that the engine's on_body callback
 * resolves. While nobody reads, the engine does not read the socket either:
 * back-pressure comes for free. Reading to the end returns the connection
 * to the pool; closing earlier (or cancelling a waiting read) closes it.
 */
#include "aio.h"

#include <string.h>

#define STREAM_CHUNK 65536

typedef struct {
    PyObject_HEAD
    FhpResponse *resp;
    Py_ssize_t chunk_size; /* 0: as the bytes arrive */
    Py_ssize_t pos;        /* offset in resp->content when buffered */
} AByteIter;

PyObject *fhp_aio_stream_response(fhp_aexch *x)
{
    FhpResponse *r = PyObject_GC_New(FhpResponse, &FhpResponse_Type);
    if (!r)
        return NULL;
    memset((char *)r + sizeof(PyObject), 0, sizeof *r - sizeof(PyObject));
    r->status = fh_response_status(x->resp);
    r->version = fh_response_version(x->resp);
    r->url = Py_NewRef(x->url);
    r->request = Py_NewRef(x->request);
    r->is_stream = 1;
    r->elapsed_us = -x->start_us - 2; /* start mark (< -1) until the body ends */
    PyObject_GC_Track(r);
    /* Attempts, the final URL (without credentials) and redirect history,
     * as for every other response. */
    if (!(r->raw = fhp_rawhdrs_new(x->resp)) || fhp_response_policy(r, x->resp) < 0) {
        Py_DECREF(r);
        return NULL;
    }
    r->astream = Py_NewRef((PyObject *)x);
    return (PyObject *)r;
}

void fhp_aio_stream_release(FhpResponse *r)
{
    fhp_aexch *x = (fhp_aexch *)r->astream;
    r->astream = NULL;
    if (x->resp && !r->has_tm) {
        r->tm = *fh_response_timings(x->resp);
        r->has_tm = 1;
    }
    if (x->resp)
        r->downloaded = fh_response_body_bytes_received(x->resp);
    if (r->elapsed_us < 0)
        r->elapsed_us = r->tm.total_us > 0 ? r->tm.total_us : fhp_now_us() + r->elapsed_us + 2;
    fhp_aexch_leave(x, FH_ECANCELED);
    fhp_aexch_wake(x); /* a read waiting in another task sees the stream closed */
    Py_DECREF(x);
}

/* ---- reads ------------------------------------------------------------------------------ */

static int raise_closed(FhpResponse *r)
{
    if (r->consumed && !r->closed)
        PyErr_SetString(S.E_StreamConsumed, "the response body was already consumed");
    else
        PyErr_SetString(S.E_StreamClosed, "the response was closed before its body was read");
    return -1;
}

static int raise_sync_stream(void)
{
    PyErr_SetString(PyExc_RuntimeError,
                    "this response is streamed by a synchronous Client: read it with read() "
                    "or iter_bytes()");
    return -1;
}

static int finish_iter(PyObject *b, PyObject **out)
{
    if (PyBytes_GET_SIZE(b) == 0) {
        Py_DECREF(b);
        PyErr_SetNone(PyExc_StopAsyncIteration);
        return -1;
    }
    *out = b;
    return 1;
}

/* aiter_bytes() over a body that is already in memory. */
static int iter_content(AByteIter *it, PyObject **out)
{
    PyObject *c = it->resp->content;
    Py_ssize_t n = PyBytes_GET_SIZE(c), left = n - it->pos;
    if (left <= 0) {
        PyErr_SetNone(PyExc_StopAsyncIteration);
        return -1;
    }
    Py_ssize_t take = it->chunk_size && it->chunk_size < left ? it->chunk_size : left;
    *out = take == n ? Py_NewRef(c)
                     : PyBytes_FromStringAndSize(PyBytes_AS_STRING(c) + it->pos, take);
    it->pos += take;
    return *out ? 1 : -1;
}

int fhp_aread_step(FhpAwait *aw, PyObject **out)
{
    FhpResponse *r = aw->resp;
    AByteIter *it = (AByteIter *)aw->iter;
    if (it && r->content)
        return iter_content(it, out);
    if (!it && r->content) {
        *out = Py_NewRef(r->content);
        return 1;
    }
    if (r->xfer)
        return raise_sync_stream();
    fhp_aexch *x = (fhp_aexch *)r->astream;
    if (!x) {
        if (it && !r->closed) { /* read to the end before */
            PyErr_SetNone(PyExc_StopAsyncIteration);
            return -1;
        }
        return raise_closed(r);
    }
    if (aw->waiting) {
        Py_CLEAR(x->fut);
    } else if (x->fut) {
        PyErr_SetString(PyExc_RuntimeError,
                        "this response is being read by another task at the same time");
        return -1;
    }
    const char *m = PyUnicode_AsUTF8(((FhpRequest *)r->request)->method);
    const char *u = PyUnicode_AsUTF8(r->url);
    fhp_al_check_fork(x->al); /* read in a forked child: the body is the parent's */
    if (x->state != X_STREAM) {
        if (x->status == FH_EFORKED)
            fhp_raise(FH_EFORKED, NULL, r->request, m, u);
        else if (x->status == FHP_CLOSED)
            PyErr_SetString(S.E_ClientClosedError,
                            "the Client was closed while this response was streamed");
        else
            raise_closed(r);
        fhp_response_release(r);
        return -1;
    }
    size_t cap = it ? (it->chunk_size ? (size_t)it->chunk_size : STREAM_CHUNK) : STREAM_CHUNK;
    int fill = it ? it->chunk_size != 0 : 1;
    if (!aw->buf) {
        if (!(aw->buf = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cap)))
            return -1;
        aw->have = 0;
    }
    for (;;) {
        size_t bcap = (size_t)PyBytes_GET_SIZE(aw->buf);
        if (!it && aw->have == bcap) {
            if (_PyBytes_Resize(&aw->buf, (Py_ssize_t)(bcap * 2)) < 0)
                return -1;
            bcap *= 2;
        }
        ssize_t n = fh_response_read(x->resp, (uint8_t *)PyBytes_AS_STRING(aw->buf) + aw->have,
                                     bcap - aw->have);
        if (n == FH_EAGAIN) {
            PyObject *fut = fhp_al_future(x->al);
            if (!fut)
                return -1;
            x->fut = Py_NewRef(fut);
            *out = fut;
            fhp_al_arm(x->al); /* the read timeout runs while we wait */
            return 0;
        }
        if (n < 0) {
            Py_CLEAR(aw->buf);
            fhp_raise((int)n, fh_request_error_message(x->req), r->request, m, u);
            fhp_response_release(r);
            return -1;
        }
        aw->have += (size_t)n;
        if (n > 0 && it && (!fill || aw->have == bcap))
            break;
        if (n == 0) {
            fhp_response_release(r); /* read to the end: the connection goes back */
            break;
        }
    }
    PyObject *b = aw->buf;
    aw->buf = NULL;
    if (aw->have < (size_t)PyBytes_GET_SIZE(b) && _PyBytes_Resize(&b, (Py_ssize_t)aw->have) < 0)
        return -1;
    if (it)
        return finish_iter(b, out);
    r->content = Py_NewRef(b);
    *out = b;
    return 1;
}

void fhp_aread_abort(FhpAwait *aw)
{
    FhpResponse *r = aw->resp;
    fhp_aexch *x = (fhp_aexch *)r->astream;
    if (x)
        Py_CLEAR(x->fut);
    Py_CLEAR(aw->buf);
    /* Bytes already taken from the stream are lost with the read: the
     * stream cannot be continued, its connection is closed. */
    r->closed = 1;
    fhp_response_release(r);
}

/* ---- Response methods ------------------------------------------------------------------ */

static PyObject *read_op(FhpResponse *r, int kind, PyObject *iter)
{
    if (fhp_aio_ready() < 0)
        return NULL;
    FhpAwait *aw = fhp_await_new(kind);
    if (!aw)
        return NULL;
    aw->resp = (FhpResponse *)Py_NewRef((PyObject *)r);
    aw->iter = Py_XNewRef(iter);
    return (PyObject *)aw;
}

PyObject *fhp_response_aread(FhpResponse *r, PyObject *unused)
{
    if (r->content)
        return fhp_aio_done(r->content);
    if (r->xfer) {
        raise_sync_stream();
        return NULL;
    }
    if (!r->astream || r->consumed) {
        if (r->consumed && !r->closed)
            PyErr_SetString(S.E_StreamConsumed,
                            "the body was already consumed by aiter_bytes(), aiter_text() or "
                            "aiter_lines()");
        else
            raise_closed(r);
        return NULL;
    }
    return read_op(r, AW_READ_ALL, NULL);
}

PyObject *fhp_response_aclose(FhpResponse *r, PyObject *unused)
{
    if (r->busy) {
        PyErr_SetString(PyExc_RuntimeError, "cannot close a response while it is being read");
        return NULL;
    }
    r->closed = 1;
    fhp_response_release(r);
    return fhp_aio_done(Py_None);
}

PyObject *fhp_response_aenter(FhpResponse *r, PyObject *unused)
{
    return fhp_aio_done((PyObject *)r);
}

PyObject *fhp_response_aexit(FhpResponse *r, PyObject *const *args, Py_ssize_t nargs)
{
    return fhp_response_aclose(r, NULL);
}

PyObject *fhp_response_aiter_bytes(FhpResponse *r, PyObject *const *args, Py_ssize_t nargs,
                                   PyObject *kwnames)
{
    PyObject *raw;
    Py_ssize_t cs;
    if (fhp_chunk_size_arg(args, nargs, kwnames, "aiter_bytes", &raw, &cs) < 0)
        return NULL;
    return fhp_aiter_bytes_new(r, cs);
}

PyObject *fhp_aiter_bytes_new(FhpResponse *r, Py_ssize_t cs)
{
    if (fhp_aio_ready() < 0)
        return NULL;
    if (!r->content) {
        if (r->xfer) {
            raise_sync_stream();
            return NULL;
        }
        if (r->consumed || r->closed || !r->astream) {
            raise_closed(r);
            return NULL;
        }
        r->consumed = 1;
    }
    AByteIter *it = PyObject_GC_New(AByteIter, &FhpAByteIter_Type);
    if (!it)
        return NULL;
    it->resp = (FhpResponse *)Py_NewRef((PyObject *)r);
    it->chunk_size = cs;
    it->pos = 0;
    PyObject_GC_Track(it);
    return (PyObject *)it;
}

PyObject *fhp_aio_helper(const char *name)
{
    if (!A.aio_helpers && !(A.aio_helpers = PyImport_ImportModule("fasthttp._aio")))
        return NULL;
    return PyObject_GetAttrString(A.aio_helpers, name);
}

PyObject *fhp_aio_text_helper(FhpResponse *r, const char *name, PyObject *chunk_size)
{
    PyObject *f = fhp_aio_helper(name);
    PyObject *res = f ? PyObject_CallFunctionObjArgs(f, (PyObject *)r, chunk_size, NULL) : NULL;
    Py_XDECREF(f);
    return res;
}

/* aiter_text(chunk_size=None) and aiter_lines(chunk_size=None). */
static PyObject *text_method(FhpResponse *r, const char *name, PyObject *const *args,
                             Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *raw;
    Py_ssize_t cs;
    if (fhp_chunk_size_arg(args, nargs, kwnames, name, &raw, &cs) < 0)
        return NULL;
    return fhp_aio_text_helper(r, name, raw);
}

PyObject *fhp_response_aiter_text(FhpResponse *r, PyObject *const *args, Py_ssize_t nargs,
                                  PyObject *kwnames)
{
    return text_method(r, "aiter_text", args, nargs, kwnames);
}

PyObject *fhp_response_aiter_lines(FhpResponse *r, PyObject *const *args, Py_ssize_t nargs,
                                   PyObject *kwnames)
{
    return text_method(r, "aiter_lines", args, nargs, kwnames);
}

/* ---- the async byte iterator -------------------------------------------------------------- */

static int AByteIter_traverse(AByteIter *it, visitproc visit, void *arg)
{
    Py_VISIT((PyObject *)it->resp);
    return 0;
}

static int AByteIter_clear(AByteIter *it)
{
    Py_CLEAR(it->resp);
    return 0;
}

static void AByteIter_dealloc(AByteIter *it)
{
    PyObject_GC_UnTrack(it);
    AByteIter_clear(it);
    PyObject_GC_Del(it);
}

static PyObject *AByteIter_aiter(PyObject *self)
{
    return Py_NewRef(self);
}

static PyObject *AByteIter_anext(AByteIter *it)
{
    if (!it->resp) { /* cleared by the GC: exhausted */
        PyErr_SetNone(PyExc_StopAsyncIteration);
        return NULL;
    }
    return read_op(it->resp, AW_READ_ITER, (PyObject *)it);
}

static PyAsyncMethods AByteIter_async = {
    .am_aiter = (unaryfunc)AByteIter_aiter,
    .am_anext = (unaryfunc)AByteIter_anext,
};

PyTypeObject FhpAByteIter_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fasthttp._fasthttp.AsyncByteIterator",
    .tp_basicsize = sizeof(AByteIter),
    .tp_dealloc = (destructor)AByteIter_dealloc,
    .tp_as_async = &AByteIter_async,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)AByteIter_traverse,
    .tp_clear = (inquiry)AByteIter_clear,
};
