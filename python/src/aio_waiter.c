/*
 * aio_waiter.c — what a task awaiting a request waits on: a Future-
 * compatible object (asyncio.isfuture() is true for it; asyncio's Task
 * waits on it through _asyncio_future_blocking, get_loop() and
 * add_done_callback(fn, context=), as on any third-party future) whose
 * completion wakes the waiting tasks in a batch.
 *
 * With an asyncio.Future every finished request cost the loop a
 * create_future() call, set_result(), and then loop.call_soon() of the
 * task's wakeup: four Python-level frames of the event loop (call_soon,
 * _check_closed, get_debug, _call_soon), a Handle object and its _run()
 * frame on the next turn — more than the engine's whole exchange. Here the
 * requests that finish during one poll of the engine are collected, and
 * right after the poll (the engine idle again, inside the loop callback
 * that ran the poll) each waiting task's wakeup is called in the task's
 * own context, as Handle._run would have called it. A wakeup from anywhere
 * else (cancellation, a client closed, a stream woken outside a poll) goes
 * through loop.call_soon() like a Future's.
 */
#include "aio.h"

#include <structmember.h>

enum { W_PENDING, W_DONE, W_CANCELLED };

typedef struct FhpWaiter {
    PyObject_HEAD
    PyObject *loop;
    PyObject *cbs;        /* list of (fn, context) tuples, or NULL */
    PyObject *cancel_msg; /* cancel(msg) */
    int state, blocking;
} FhpWaiter;

static PyTypeObject FhpWaiter_Type;

int fhp_waiter_check(PyObject *o)
{
    return Py_IS_TYPE(o, &FhpWaiter_Type);
}

PyObject *fhp_waiter_new(PyObject *loop)
{
    if (!(FhpWaiter_Type.tp_flags & Py_TPFLAGS_READY) && PyType_Ready(&FhpWaiter_Type) < 0)
        return NULL;
    FhpWaiter *w = PyObject_GC_New(FhpWaiter, &FhpWaiter_Type);
    if (!w)
        return NULL;
    w->loop = Py_NewRef(loop);
    w->cbs = w->cancel_msg = NULL;
    w->state = W_PENDING;
    w->blocking = 1; /* as Future.__await__ sets it before yielding itself */
    PyObject_GC_Track(w);
    return (PyObject *)w;
}

/* loop.call_soon(fn, w, context=ctx) */
static int call_soon(FhpWaiter *w, PyObject *fn, PyObject *ctx)
{
    PyObject *args[4] = {w->loop, fn, (PyObject *)w, ctx};
    PyObject *r = PyObject_VectorcallMethod(A.s_call_soon, args,
                                            3 | PY_VECTORCALL_ARGUMENTS_OFFSET, A.s_context_kw);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* Takes the callbacks off w: each called once. */
static PyObject *take_cbs(FhpWaiter *w)
{
    PyObject *cbs = w->cbs;
    w->cbs = NULL;
    return cbs;
}

/* The Future way: every callback through loop.call_soon(). */
static void schedule_all(FhpWaiter *w)
{
    PyObject *cbs = take_cbs(w);
    for (Py_ssize_t i = 0; cbs && i < PyList_GET_SIZE(cbs); i++) {
        PyObject *t = PyList_GET_ITEM(cbs, i);
        if (call_soon(w, PyTuple_GET_ITEM(t, 0), PyTuple_GET_ITEM(t, 1)) < 0)
            PyErr_WriteUnraisable((PyObject *)w); /* a closed loop: as a Future's */
    }
    Py_XDECREF(cbs);
}

void fhp_waiter_wake(PyObject *o, PyObject *batch)
{
    FhpWaiter *w = (FhpWaiter *)o;
    if (w->state != W_PENDING)
        return;
    w->state = W_DONE;
    if (!w->cbs)
        return;
    if (batch && PyList_Append(batch, o) == 0)
        return;
    PyErr_Clear();
    schedule_all(w);
}

/* Handle._run's error path: the loop's exception handler hears of it. */
static void report(FhpWaiter *w, PyObject *fn)
{
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (tb && v)
        PyException_SetTraceback(v, tb);
    PyObject *msg = PyUnicode_FromFormat("Exception in callback %R", fn);
    PyObject *ctx = msg ? Py_BuildValue("{sOsO}", "message", msg, "exception",
                                        v ? v : Py_None)
                        : NULL;
    PyObject *r = ctx ? PyObject_CallMethod(w->loop, "call_exception_handler", "O", ctx) : NULL;
    if (!r)
        PyErr_WriteUnraisable((PyObject *)w);
    Py_XDECREF(r);
    Py_XDECREF(ctx);
    Py_XDECREF(msg);
    Py_XDECREF(t);
    Py_XDECREF(v);
    Py_XDECREF(tb);
}

/* Calls fn(w) in ctx; -1 when it raised SystemExit or KeyboardInterrupt,
 * which propagate (as from Handle._run), other errors are reported. */
static int run_one(FhpWaiter *w, PyObject *fn, PyObject *ctx)
{
    if (ctx != Py_None && PyContext_Enter(ctx) < 0) { /* entered already: the loop runs it */
        PyErr_Clear();
        if (call_soon(w, fn, ctx) < 0)
            PyErr_WriteUnraisable((PyObject *)w);
        return 0;
    }
    PyObject *r = PyObject_CallOneArg(fn, (PyObject *)w);
    if (ctx != Py_None)
        PyContext_Exit(ctx);
    if (r) {
        Py_DECREF(r);
        return 0;
    }
    if (PyErr_ExceptionMatches(PyExc_SystemExit) || PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
        return -1;
    report(w, fn);
    return 0;
}

int fhp_waiter_run(PyObject *batch)
{
    Py_ssize_t n = PyList_GET_SIZE(batch);
    for (Py_ssize_t i = 0; i < n; i++) {
        FhpWaiter *w = (FhpWaiter *)PyList_GET_ITEM(batch, i);
        PyObject *cbs = take_cbs(w);
        for (Py_ssize_t k = 0; cbs && k < PyList_GET_SIZE(cbs); k++) {
            PyObject *t = PyList_GET_ITEM(cbs, k);
            if (run_one(w, PyTuple_GET_ITEM(t, 0), PyTuple_GET_ITEM(t, 1)) < 0) {
                /* The rest still run, on later loop turns. */
                PyObject *et, *ev, *etb;
                PyErr_Fetch(&et, &ev, &etb);
                for (Py_ssize_t j = k + 1; j < PyList_GET_SIZE(cbs); j++) {
                    PyObject *u = PyList_GET_ITEM(cbs, j);
                    if (call_soon(w, PyTuple_GET_ITEM(u, 0), PyTuple_GET_ITEM(u, 1)) < 0)
                        PyErr_Clear();
                }
                for (Py_ssize_t j = i + 1; j < n; j++)
                    schedule_all((FhpWaiter *)PyList_GET_ITEM(batch, j));
                PyErr_Restore(et, ev, etb);
                Py_DECREF(cbs);
                return -1;
            }
        }
        Py_XDECREF(cbs);
    }
    return 0;
}

/* ---- the Future protocol ------------------------------------------------------------- */

static PyObject *W_get_loop(FhpWaiter *w, PyObject *unused)
{
    return Py_NewRef(w->loop);
}

static PyObject *W_add_done_callback(FhpWaiter *w, PyObject *const *args, Py_ssize_t nargs,
                                     PyObject *kwnames)
{
    static const char *const names[] = {"fn", "context"};
    PyObject *fn = NULL, *ctx = NULL;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nargs > 1 || nargs + nkw < 1) {
        PyErr_SetString(PyExc_TypeError, "add_done_callback(fn, *, context=None)");
        return NULL;
    }
    fn = nargs ? args[0] : NULL;
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *k = PyTuple_GET_ITEM(kwnames, i);
        if (PyUnicode_CompareWithASCIIString(k, names[1]) == 0)
            ctx = args[nargs + i];
        else if (!fn && PyUnicode_CompareWithASCIIString(k, names[0]) == 0)
            fn = args[nargs + i];
        else {
            PyErr_Format(PyExc_TypeError, "add_done_callback() got an unexpected keyword %R", k);
            return NULL;
        }
    }
    if (!fn) {
        PyErr_SetString(PyExc_TypeError, "add_done_callback() missing fn");
        return NULL;
    }
    PyObject *own = NULL;
    if (!ctx || ctx == Py_None)
        ctx = own = PyContext_CopyCurrent();
    if (!ctx)
        return NULL;
    if (w->state != W_PENDING) {
        int rc = call_soon(w, fn, ctx);
        Py_XDECREF(own);
        return rc < 0 ? NULL : Py_NewRef(Py_None);
    }
    PyObject *t = PyTuple_Pack(2, fn, ctx);
    Py_XDECREF(own);
    if (!t || (!w->cbs && !(w->cbs = PyList_New(0))) || PyList_Append(w->cbs, t) < 0) {
        Py_XDECREF(t);
        return NULL;
    }
    Py_DECREF(t);
    Py_RETURN_NONE;
}

static PyObject *W_remove_done_callback(FhpWaiter *w, PyObject *fn)
{
    Py_ssize_t removed = 0;
    for (Py_ssize_t i = w->cbs ? PyList_GET_SIZE(w->cbs) : 0; i-- > 0;) {
        int eq = PyObject_RichCompareBool(PyTuple_GET_ITEM(PyList_GET_ITEM(w->cbs, i), 0), fn,
                                          Py_EQ);
        if (eq < 0 || (eq && PySequence_DelItem(w->cbs, i) < 0))
            return NULL;
        removed += eq;
    }
    return PyLong_FromSsize_t(removed);
}

static PyObject *W_done(FhpWaiter *w, PyObject *unused)
{
    return PyBool_FromLong(w->state != W_PENDING);
}

static PyObject *W_cancelled(FhpWaiter *w, PyObject *unused)
{
    return PyBool_FromLong(w->state == W_CANCELLED);
}

static PyObject *W_cancel(FhpWaiter *w, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"msg", NULL};
    PyObject *msg = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:cancel", kwlist, &msg))
        return NULL;
    if (w->state != W_PENDING)
        Py_RETURN_FALSE;
    w->state = W_CANCELLED;
    Py_XSETREF(w->cancel_msg, Py_NewRef(msg));
    schedule_all(w);
    Py_RETURN_TRUE;
}

/* result() and exception(): None once done (the outcome is on the
 * exchange); CancelledError after cancel(); InvalidStateError before. */
static int check_outcome(FhpWaiter *w)
{
    if (w->state == W_CANCELLED) {
        PyObject *m = w->cancel_msg && w->cancel_msg != Py_None ? w->cancel_msg : NULL;
        if (m)
            PyErr_SetObject(A.cancelled_error, m);
        else
            PyErr_SetNone(A.cancelled_error);
        return -1;
    }
    if (w->state == W_PENDING) {
        PyErr_SetString(A.invalid_state_error, "Result is not set.");
        return -1;
    }
    return 0;
}

static PyObject *W_result(FhpWaiter *w, PyObject *unused)
{
    return check_outcome(w) < 0 ? NULL : Py_NewRef(Py_None);
}

static PyObject *W_iternext(FhpWaiter *w)
{
    if (w->state == W_PENDING) {
        w->blocking = 1;
        return Py_NewRef((PyObject *)w); /* the task waits on it, as on a Future */
    }
    if (check_outcome(w) < 0)
        return NULL;
    PyErr_SetNone(PyExc_StopIteration);
    return NULL;
}

static PyObject *W_await(FhpWaiter *w)
{
    return Py_NewRef((PyObject *)w); /* its own iterator: yields itself until done */
}

static PyObject *get_blocking(FhpWaiter *w, void *c)
{
    return PyBool_FromLong(w->blocking);
}

static int set_blocking(FhpWaiter *w, PyObject *v, void *c)
{
    int b = v ? PyObject_IsTrue(v) : -1;
    if (b < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_AttributeError, "cannot delete _asyncio_future_blocking");
        return -1;
    }
    w->blocking = b;
    return 0;
}

static int W_traverse(FhpWaiter *w, visitproc visit, void *arg)
{
    Py_VISIT(w->loop);
    Py_VISIT(w->cbs);
    Py_VISIT(w->cancel_msg);
    return 0;
}

static int W_clear(FhpWaiter *w)
{
    Py_CLEAR(w->loop);
    Py_CLEAR(w->cbs);
    Py_CLEAR(w->cancel_msg);
    return 0;
}

static void W_dealloc(FhpWaiter *w)
{
    PyObject_GC_UnTrack(w);
    W_clear(w);
    PyObject_GC_Del(w);
}

static PyMethodDef W_methods[] = {
    {"get_loop", (PyCFunction)W_get_loop, METH_NOARGS, NULL},
    {"add_done_callback", (PyCFunction)(void (*)(void))W_add_done_callback,
     METH_FASTCALL | METH_KEYWORDS, NULL},
    {"remove_done_callback", (PyCFunction)W_remove_done_callback, METH_O, NULL},
    {"done", (PyCFunction)W_done, METH_NOARGS, NULL},
    {"cancelled", (PyCFunction)W_cancelled, METH_NOARGS, NULL},
    {"cancel", (PyCFunction)(void (*)(void))W_cancel, METH_VARARGS | METH_KEYWORDS, NULL},
    {"result", (PyCFunction)W_result, METH_NOARGS, NULL},
    {"exception", (PyCFunction)W_result, METH_NOARGS, NULL}, /* never an exception */
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef W_getset[] = {
    {"_asyncio_future_blocking", (getter)get_blocking, (setter)set_blocking, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyAsyncMethods W_async = {(unaryfunc)W_await, NULL, NULL, NULL};

static PyTypeObject FhpWaiter_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fasthttp._fasthttp._Waiter",
    .tp_basicsize = sizeof(FhpWaiter),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "What a task awaiting a request waits on (Future-compatible).",
    .tp_dealloc = (destructor)W_dealloc,
    .tp_traverse = (traverseproc)W_traverse,
    .tp_clear = (inquiry)W_clear,
    .tp_as_async = &W_async,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)W_iternext,
    .tp_methods = W_methods,
    .tp_getset = W_getset,
};
