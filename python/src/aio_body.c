/*
 * aio_body.c — request bodies of an asyncio Client: the engine's body
 * lender (which must not call Python) and, for async iterators, the pump
 * that pulls their chunks.
 *
 * One pump task per request runs fasthttp._aio.pump_body(aiter, feed, end),
 * so the user's async iterator always runs inside a task: asyncio.timeout(),
 * TaskGroups and anyio cancel scopes work in it, as they would in any
 * coroutine. feed(chunk) lends the chunk to the engine and resumes the
 * request at once; the engine sends what the socket takes. When it has sent
 * the whole chunk and asks for the next one during that resume, feed returns
 * None and the pump pulls the next chunk without a turn of the event loop;
 * otherwise feed returns a waiter (aio_waiter.c) that is woken right after
 * the poll in which the engine asks (fhp_abody_wanted). A task per chunk
 * (ensure_future of __anext__()) cost about twice the CPU per chunk.
 *
 * The lent chunk stays alive until the engine asks again: feed is only
 * called after an ask, and only feed replaces the chunk.
 */
#include "aio.h"

#include <string.h>

/* The engine's body lender: never calls Python. */
ssize_t fhp_abody_lend(void *ud, const uint8_t **data)
{
    fhp_aexch *x = ud;
    if (x->src) {
        ssize_t n = fhp_bodysrc_lend(x->src, data);
        if (n == FH_EAGAIN)
            fhp_aexch_want(x);
        return n;
    }
    if (x->aleft > 0) {
        Py_ssize_t n = x->aleft;
        *data = (const uint8_t *)x->ap;
        x->ap += n;
        x->aleft = 0;
        return (ssize_t)n;
    }
    if (x->aeof)
        return 0;
    x->asked = 1;
    fhp_aexch_want(x);
    return FH_EAGAIN;
}

static PyObject *as_bytes(PyObject *c)
{
    if (PyBytes_Check(c))
        return Py_NewRef(c);
    if (PyUnicode_Check(c))
        return PyUnicode_AsUTF8String(c);
    if (PyObject_CheckBuffer(c))
        return PyBytes_FromObject(c);
    PyErr_Format(PyExc_TypeError, "request body chunks must be bytes, not %.100s",
                 Py_TYPE(c)->tp_name);
    return NULL;
}

static int live(const fhp_aexch *x)
{
    return x->state == X_LIVE && x->al && x->al->engine;
}

/* Resumes the request after a feed or the end: None when the engine asked
 * for the next chunk meanwhile, else a waiter for that ask. */
static PyObject *resume(fhp_aexch *x)
{
    AioLoop *al = x->al;
    x->asked = 0;
    fh_engine_resume(al->engine, x->req);
    fhp_al_arm(al); /* callbacks queued by the resume run on the next turn */
    if (x->asked || x->aeof)
        Py_RETURN_NONE;
    PyObject *w = fhp_waiter_new(al->loop);
    if (w)
        Py_XSETREF(x->pwait, Py_NewRef(w));
    return w;
}

/* feed(chunk), called by the pump: lends the chunk and resumes. */
static PyObject *x_feed(fhp_aexch *x, PyObject *chunk)
{
    if (!live(x)) {
        PyErr_SetNone(A.cancelled_error); /* the request ended: stop pulling */
        return NULL;
    }
    if (x->aleft > 0 || x->aeof || !x->asked) {
        /* The engine may still be sending the previous chunk: replacing it
         * now would free bytes it sends from. */
        PyErr_SetString(PyExc_RuntimeError, "request body chunk fed out of turn");
        return NULL;
    }
    PyObject *b = as_bytes(chunk);
    if (!b)
        return NULL;
    Py_XSETREF(x->achunk, b);
    x->ap = PyBytes_AS_STRING(b);
    x->aleft = PyBytes_GET_SIZE(b);
    return resume(x);
}

/* end(), called by the pump when the iterator is exhausted. */
static PyObject *x_end(fhp_aexch *x, PyObject *unused)
{
    (void)unused;
    if (!live(x))
        Py_RETURN_NONE;
    x->aeof = 1;
    return resume(x); /* None: at the end there is nothing to wait for */
}

/* The pump task finished: an exception (or a cancellation not ours) fails
 * the request with it. */
static PyObject *x_pumped(fhp_aexch *x, PyObject *task)
{
    if (x->pump != task || !live(x))
        Py_RETURN_NONE; /* stopped by fhp_abody_stop, or the request is over */
    Py_CLEAR(x->pump);
    PyObject *exc = PyObject_CallMethodNoArgs(task, A.s_exception); /* raises if cancelled */
    if (exc && exc != Py_None)
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    if (!exc || exc != Py_None)
        fhp_aexch_fail(x);
    Py_XDECREF(exc);
    Py_RETURN_NONE;
}

static PyMethodDef def_feed = {"_fasthttp_body_feed", (PyCFunction)x_feed, METH_O, NULL};
static PyMethodDef def_end = {"_fasthttp_body_end", (PyCFunction)x_end, METH_NOARGS, NULL};
static PyMethodDef def_pumped = {"_fasthttp_body_pumped", (PyCFunction)x_pumped, METH_O, NULL};

static int start_pump(fhp_aexch *x)
{
    if (!A.pump_body && !(A.pump_body = fhp_aio_helper("pump_body")))
        return -1;
    PyObject *feed = PyCFunction_New(&def_feed, (PyObject *)x);
    PyObject *end = feed ? PyCFunction_New(&def_end, (PyObject *)x) : NULL;
    PyObject *coro = end ? PyObject_CallFunctionObjArgs(A.pump_body, x->aiter, feed, end, NULL)
                         : NULL;
    Py_XDECREF(feed);
    Py_XDECREF(end);
    if (!coro)
        return -1;
    PyObject *argv[2] = {coro, x->al->loop};
    PyObject *task = PyObject_Vectorcall(A.ensure_future, argv, 1, A.s_loop_kw);
    Py_DECREF(coro);
    if (!task)
        return -1;
    PyObject *cb = PyCFunction_New(&def_pumped, (PyObject *)x);
    PyObject *r = cb ? PyObject_CallMethodOneArg(task, A.s_add_done_callback, cb) : NULL;
    Py_XDECREF(cb);
    if (!r) {
        Py_XDECREF(PyObject_CallMethodNoArgs(task, A.s_cancel));
        Py_DECREF(task);
        return -1;
    }
    Py_DECREF(r);
    x->pump = task;
    return 0;
}

void fhp_abody_wanted(fhp_aexch *x)
{
    AioLoop *al = x->al;
    if (x->src) {
        if (fhp_bodysrc_pull(x->src) < 0)
            fhp_aexch_fail(x);
        else
            fh_engine_resume(al->engine, x->req);
    } else if (!x->pump) {
        if (start_pump(x) < 0)
            fhp_aexch_fail(x);
    } else if (x->pwait && x->asked) {
        /* asked: an entry of an ask that an earlier feed already answered
         * (feed returned None) must not wake the waiter of the next chunk,
         * which the engine may still be sending from. */
        PyObject *w = x->pwait;
        x->pwait = NULL;
        fhp_waiter_wake(w, al->batch);
        Py_DECREF(w);
    } /* else the pump is between a feed that returned None and the next one */
}

void fhp_abody_stop(fhp_aexch *x)
{
    PyObject *p = x->pump;
    Py_CLEAR(x->pwait);
    if (!p)
        return;
    x->pump = NULL;
    PyObject *r = PyObject_CallMethodNoArgs(p, A.s_cancel);
    if (!r)
        PyErr_Clear();
    Py_XDECREF(r);
    Py_DECREF(p);
}
