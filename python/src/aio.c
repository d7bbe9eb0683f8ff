/*
 * aio.c — the asyncio face of the Client.
 *
 * One engine per (Client, running loop): fh_engine_new(client, NULL, NULL)
 * switched to its epoll backend. The loop watches that single descriptor
 * (loop.add_reader) and runs one timer (call_later for the engine's next
 * deadline, call_soon when work is due at once); every callback calls
 * fh_engine_poll(engine, 0), which services all ready sockets in C and runs
 * the completion callbacks, which resolve futures. No thread, no second
 * loop; per loop turn one Python-level callback however many sockets are
 * ready. Works on any loop with add_reader/call_later (asyncio, uvloop).
 *
 * Client methods return an awaitable (FhpAwait, kind AW_CALL) that is also
 * a coroutine as far as asyncio is concerned (send/throw/close), so
 * `await`, asyncio.create_task(), gather() and wait_for() all take it. The
 * request is submitted when it is first awaited. Cancellation reaches it
 * through throw(): the request is cancelled in the engine (its connection
 * is closed and its pool slot freed) and the exception propagates.
 *
 * Request bodies from iterators: the engine's body lender (which must not
 * call Python) returns FH_EAGAIN and queues the exchange; after the poll
 * the next chunk is pulled (next() for sync iterators and files; an async
 * iterator's pump task is woken) and the engine resumed (aio_body.c).
 */
#include "aio.h"

#include <string.h>

fhp_aio_state A;

static int types_ready(void)
{
    static int done;
    if (done)
        return 0;
    if (PyType_Ready(&FhpAwait_Type) < 0 || PyType_Ready(&FhpAexch_Type) < 0 ||
        PyType_Ready(&FhpAioLoop_Type) < 0 || PyType_Ready(&FhpAByteIter_Type) < 0)
        return -1;
    done = 1;
    return 0;
}

static int intern(PyObject **out, const char *s)
{
    return (*out = PyUnicode_InternFromString(s)) ? 0 : -1;
}

int fhp_aio_ready(void)
{
    if (A.ready)
        return 0;
    if (types_ready() < 0)
        return -1;
    PyObject *events = PyImport_ImportModule("asyncio.events");
    PyObject *aio = events ? PyImport_ImportModule("asyncio") : NULL;
    if (aio) {
        A.get_running_loop = PyObject_GetAttrString(events, "_get_running_loop");
        A.ensure_future = PyObject_GetAttrString(aio, "ensure_future");
    }
    Py_XDECREF(events);
    Py_XDECREF(aio);
    if (!A.get_running_loop || !A.ensure_future)
        return -1;
    if (intern(&A.s_create_future, "create_future") < 0 ||
        intern(&A.s_set_result, "set_result") < 0 || intern(&A.s_done, "done") < 0 ||
        intern(&A.s_cancel, "cancel") < 0 || intern(&A.s_cancelled, "cancelled") < 0 ||
        intern(&A.s_exception, "exception") < 0 || intern(&A.s_result, "result") < 0 ||
        intern(&A.s_add_reader, "add_reader") < 0 ||
        intern(&A.s_remove_reader, "remove_reader") < 0 ||
        intern(&A.s_call_later, "call_later") < 0 || intern(&A.s_call_soon, "call_soon") < 0 ||
        intern(&A.s_blocking, "_asyncio_future_blocking") < 0 ||
        intern(&A.s_is_closed, "is_closed") < 0 ||
        intern(&A.s_add_done_callback, "add_done_callback") < 0)
        return -1;
    PyObject *loop_kw, *ctx_kw;
    if (intern(&loop_kw, "loop") < 0 || !(A.s_loop_kw = PyTuple_Pack(1, loop_kw))) {
        Py_XDECREF(loop_kw);
        return -1;
    }
    Py_DECREF(loop_kw);
    if (intern(&ctx_kw, "context") < 0 || !(A.s_context_kw = PyTuple_Pack(1, ctx_kw))) {
        Py_XDECREF(ctx_kw);
        return -1;
    }
    Py_DECREF(ctx_kw);
    PyObject *exc = PyImport_ImportModule("asyncio.exceptions");
    if (exc) {
        A.cancelled_error = PyObject_GetAttrString(exc, "CancelledError");
        A.invalid_state_error = PyObject_GetAttrString(exc, "InvalidStateError");
        Py_DECREF(exc);
    }
    if (!A.cancelled_error || !A.invalid_state_error)
        return -1;
    A.ready = 1;
    return 0;
}

PyObject *fhp_aio_running_loop(void)
{
    if (!A.ready) {
        /* No event loop can run before asyncio is imported: a synchronous
         * program never pays for importing it. */
        PyObject *name = PyUnicode_FromString("asyncio");
        PyObject *mod = name ? PyImport_GetModule(name) : NULL;
        Py_XDECREF(name);
        if (!mod)
            return NULL;
        Py_DECREF(mod);
        if (fhp_aio_ready() < 0)
            return NULL;
    }
    PyObject *loop = PyObject_CallNoArgs(A.get_running_loop);
    if (loop == Py_None) {
        Py_DECREF(loop);
        return NULL;
    }
    return loop;
}

void fhp_set_stop_iteration(PyObject *value)
{
    if (value == Py_None) {
        PyErr_SetNone(PyExc_StopIteration);
        return;
    }
    PyObject *e = PyObject_CallOneArg(PyExc_StopIteration, value);
    if (e) {
        PyErr_SetObject(PyExc_StopIteration, e);
        Py_DECREF(e);
    }
}

/* ---- the loop glue ------------------------------------------------------------------- */

static int al_service(AioLoop *al);
static void al_detach(AioLoop *al);

/* al was made before this process forked (it is the parent's). */
static int al_forked(const AioLoop *al)
{
    return al->gen != fh_fork_generation();
}

/* al is attached and this process's: only then is its loop called. */
static int al_live(const AioLoop *al)
{
    return al->engine && !al_forked(al);
}

void fhp_al_check_fork(AioLoop *al)
{
    if (al && al->engine && al_forked(al))
        al_detach(al);
}

static PyObject *al_on_ready(AioLoop *al, PyObject *unused)
{
    if (al_service(al) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *al_on_timer(AioLoop *al, PyObject *unused)
{
    Py_CLEAR(al->timer);
    al->timer_at = 0;
    if (al_service(al) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *al_on_soon(AioLoop *al, PyObject *unused)
{
    al->soon = 0;
    if (al_service(al) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef def_ready = {"_fasthttp_ready", (PyCFunction)al_on_ready, METH_NOARGS, NULL};
static PyMethodDef def_timer = {"_fasthttp_timer", (PyCFunction)al_on_timer, METH_NOARGS, NULL};
static PyMethodDef def_soon = {"_fasthttp_soon", (PyCFunction)al_on_soon, METH_NOARGS, NULL};

/* Errors of loop calls are not the caller's: a closed loop refuses them,
 * and then there is nothing left to drive anyway. */
static void discard(PyObject *res)
{
    if (res)
        Py_DECREF(res);
    else
        PyErr_Clear();
}

void fhp_al_soon(AioLoop *al)
{
    if (al->soon || !al_live(al))
        return;
    PyObject *h = PyObject_CallMethodOneArg(al->loop, A.s_call_soon, al->cb_soon);
    al->soon = h != NULL;
    discard(h);
}

/* Follows the engine's next deadline with the loop's one timer. A timer
 * armed earlier than needed is kept: it fires, finds nothing due, re-arms.
 * So deadlines that move later (the read timeout on every read) cost no
 * loop call. */
void fhp_al_arm(AioLoop *al)
{
    if (!al_live(al))
        return;
    if (al->want) /* body readers wait for their next chunk */
        fhp_al_soon(al);
    int64_t ms = fh_engine_timeout(al->engine);
    if (ms < 0)
        return;
    if (ms == 0) {
        fhp_al_soon(al);
        return;
    }
    int64_t at = fhp_now_us() + ms * 1000;
    if (al->timer && al->timer_at <= at)
        return;
    if (al->timer) {
        discard(PyObject_CallMethodNoArgs(al->timer, A.s_cancel));
        Py_CLEAR(al->timer);
    }
    PyObject *delay = PyFloat_FromDouble((double)ms / 1000.0);
    PyObject *h = delay ? PyObject_CallMethodObjArgs(al->loop, A.s_call_later, delay,
                                                     al->cb_timer, NULL)
                        : NULL;
    Py_XDECREF(delay);
    if (!h) {
        PyErr_Clear();
        return;
    }
    al->timer = h;
    al->timer_at = at;
}

PyObject *fhp_al_future(AioLoop *al)
{
    PyObject *fut = PyObject_CallMethodNoArgs(al->loop, A.s_create_future);
    if (fut && PyObject_SetAttr(fut, A.s_blocking, Py_True) < 0)
        Py_CLEAR(fut);
    return fut;
}

static void al_link(AioLoop *al, fhp_aexch *x)
{
    Py_INCREF(x);
    x->linked = 1;
    x->prev = NULL;
    x->next = al->live;
    if (al->live)
        al->live->prev = x;
    al->live = x;
}

static void al_unlink(fhp_aexch *x)
{
    if (!x->linked)
        return;
    AioLoop *al = x->al;
    if (x->prev)
        x->prev->next = x->next;
    else
        al->live = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->prev = x->next = NULL;
    x->linked = 0;
    Py_DECREF(x);
}

void fhp_aexch_want(fhp_aexch *x)
{
    if (x->want)
        return;
    x->want = 1;
    Py_INCREF(x);
    x->want_next = x->al->want;
    x->al->want = x;
}

/* ---- exchanges -------------------------------------------------------------------------- */

static void x_store_error(fhp_aexch *x)
{
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (tb && v)
        PyException_SetTraceback(v, tb);
    Py_XDECREF(t);
    Py_XDECREF(tb);
    Py_XSETREF(x->exc, v);
}

void fhp_future_wake(PyObject *f)
{
    PyObject *d = PyObject_CallMethodNoArgs(f, A.s_done);
    int done = d ? PyObject_IsTrue(d) : 1;
    Py_XDECREF(d);
    if (done == 0) {
        PyObject *r = PyObject_CallMethodOneArg(f, A.s_set_result, Py_None);
        if (!r)
            PyErr_WriteUnraisable(f);
        Py_XDECREF(r);
    }
    PyErr_Clear();
}

void fhp_aexch_wake(fhp_aexch *x)
{
    PyObject *f = x->fut;
    if (!f)
        return;
    Py_INCREF(f); /* set_result may run code that drops x->fut */
    if (fhp_waiter_check(f))
        fhp_waiter_wake(f, x->al ? x->al->batch : NULL);
    else
        fhp_future_wake(f);
    Py_DECREF(f);
}

void fhp_aexch_leave(fhp_aexch *x, int status)
{
    AioLoop *al = x->al;
    Py_INCREF(x);
    fhp_abody_stop(x);
    if (x->state == X_LIVE && al && al->engine)
        fh_engine_cancel(al->engine, x->req);
    if (x->resp) {
        fh_response_free(x->resp); /* pooled when read to the end, else closed */
        x->resp = NULL;
    }
    if (x->state == X_LIVE || x->state == X_STREAM) {
        x->status = status;
        x->state = X_DONE;
    }
    al_unlink(x);
    Py_DECREF(x);
}

void fhp_aexch_fail(fhp_aexch *x)
{
    x_store_error(x);
    fhp_aexch_leave(x, FHP_PYERR);
    fhp_aexch_wake(x);
}

static void x_on_done(void *ud, fh_request *req, int status, fh_response *resp)
{
    fhp_aexch *x = ud;
    if (x->state != X_LIVE) { /* cannot happen: cancelled requests get no callback */
        fh_response_free(resp);
        return;
    }
    Py_INCREF(x);
    fhp_abody_stop(x);
    if (status != FH_OK) {
        x->status = status;
        x->state = X_DONE;
        al_unlink(x);
    } else if (x->stream) {
        x->resp = resp;
        x->state = X_STREAM; /* stays linked: the engine streams the body */
        if (!(x->response = fhp_aio_stream_response(x))) {
            x_store_error(x);
            fhp_aexch_leave(x, FHP_PYERR);
        }
    } else {
        fhp_xfer tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.resp = resp;
        tmp.start_us = x->start_us;
        x->response = fhp_response_from_xfer(&tmp, x->request, x->url, x->client, 0);
        if (!x->response)
            x_store_error(x);
        fh_response_free(tmp.resp); /* NULL when the Response kept it */
        x->state = X_DONE;
        al_unlink(x);
    }
    fhp_aexch_wake(x);
    Py_DECREF(x);
}

static void x_on_body(void *ud, fh_response *resp)
{
    fhp_aexch_wake((fhp_aexch *)ud);
}

static const fh_callbacks x_callbacks = {x_on_done, x_on_body};

/* Body readers that ran dry during the poll: pull their next chunk. New
 * requests for chunks made meanwhile wait for the next loop turn. */
static void service_wants(AioLoop *al)
{
    fhp_aexch *list = al->want;
    al->want = NULL;
    while (list) {
        fhp_aexch *x = list;
        list = x->want_next;
        x->want_next = NULL;
        x->want = 0;
        if (x->state == X_LIVE && al->engine)
            fhp_abody_wanted(x); /* aio_body.c */
        Py_DECREF(x);
    }
}

/* Polls the engine, then wakes the tasks whose requests finished in that
 * poll, one after another (aio_waiter.c). -1 with SystemExit or
 * KeyboardInterrupt set, which must reach the loop's caller. */
static int al_service(AioLoop *al)
{
    if (!al->engine || al->busy)
        return 0;
    if (al_forked(al)) { /* an inherited loop ran in a forked child */
        al_detach(al);
        return 0;
    }
    Py_INCREF(al);
    PyObject *client = (PyObject *)al->client;
    Py_XINCREF(client); /* nothing freed during the poll may free the engine */
    PyObject *batch = al->batch ? NULL : PyList_New(0);
    if (batch)
        al->batch = batch;
    PyErr_Clear();
    al->busy = 1;
    fh_engine_poll(al->engine, 0);
    al->busy = 0;
    if (al->want && al->engine)
        service_wants(al);
    if (batch)
        al->batch = NULL;
    if (PyErr_Occurred())
        PyErr_WriteUnraisable((PyObject *)al);
    int rc = batch ? fhp_waiter_run(batch) : 0;
    Py_XDECREF(batch);
    if (rc == 0 && PyErr_Occurred())
        PyErr_WriteUnraisable((PyObject *)al);
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb); /* arming clears errors of loop calls */
    fhp_al_arm(al);
    PyErr_Restore(t, v, tb);
    Py_XDECREF(client);
    Py_DECREF(al);
    return rc;
}

/* ---- AioLoop: one engine per client and event loop ------------------------------------ */

/* Frees al's engine and ends its exchanges: FHP_CLOSED (the Client was
 * closed, or the loop was), or FH_EFORKED for an AioLoop inherited by a
 * forked child, whose loop is not called at all: remove_reader() would act
 * on the selector's epoll instance, which is the parent's, and cancelling
 * the timer is pointless on a loop that is never run here. The engine
 * takes care of its own inherited descriptors (fh__engine_check_fork). */
static void al_detach(AioLoop *al)
{
    if (!al->engine)
        return;
    Py_INCREF(al);
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    int forked = al_forked(al);
    while (al->live) {
        fhp_aexch *x = al->live;
        Py_INCREF(x);
        fhp_aexch_leave(x, forked ? FH_EFORKED : FHP_CLOSED);
        fhp_aexch_wake(x);
        Py_DECREF(x);
    }
    if (al->ws)
        fhp_ws_loop_gone(al); /* before the engine they live on is freed */
    while (al->want) {
        fhp_aexch *x = al->want;
        al->want = x->want_next;
        x->want_next = NULL;
        x->want = 0;
        Py_DECREF(x);
    }
    if (al->fd >= 0 && !forked) {
        PyObject *fd = PyLong_FromLong(al->fd);
        discard(fd ? PyObject_CallMethodOneArg(al->loop, A.s_remove_reader, fd) : NULL);
        Py_XDECREF(fd);
    }
    if (al->timer && !forked)
        discard(PyObject_CallMethodNoArgs(al->timer, A.s_cancel));
    Py_CLEAR(al->timer);
    fh_engine_free(al->engine); /* closes the epoll descriptor (in a child: its copy) */
    al->engine = NULL;
    al->fd = -1;
    Py_CLEAR(al->cb_ready);
    Py_CLEAR(al->cb_timer);
    Py_CLEAR(al->cb_soon);
    FhpClient *c = al->client;
    al->client = NULL;
    if (c)
        fhp_client_unuse(c);
    PyErr_Restore(t, v, tb);
    Py_DECREF(al);
}

/* Engines of loops that were closed meanwhile (a bare client used in one
 * asyncio.run() after another), and those inherited from the parent
 * process (fork), are freed. */
static void prune(FhpClient *c)
{
    PyObject **link = &c->aio;
    while (*link) {
        AioLoop *al = (AioLoop *)*link;
        int closed = 1;
        if (al_live(al)) {
            PyObject *r = PyObject_CallMethodNoArgs(al->loop, A.s_is_closed);
            closed = r ? PyObject_IsTrue(r) : 0;
            Py_XDECREF(r);
            PyErr_Clear();
        }
        if (closed == 1) {
            *link = (PyObject *)al->chain;
            al->chain = NULL;
            al_detach(al);
            Py_DECREF(al);
        } else {
            link = (PyObject **)&al->chain;
        }
    }
}

AioLoop *fhp_al_get(FhpClient *c)
{
    PyObject *loop = fhp_aio_running_loop();
    if (!loop) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError,
                            "an asynchronous Client's requests must be awaited inside a "
                            "running event loop");
        return NULL;
    }
    for (AioLoop *al = (AioLoop *)c->aio; al; al = al->chain)
        if (al->loop == loop && al_live(al)) {
            Py_DECREF(loop);
            return al;
        }
    prune(c);
    AioLoop *al = PyObject_GC_New(AioLoop, &FhpAioLoop_Type);
    if (!al) {
        Py_DECREF(loop);
        return NULL;
    }
    memset((char *)al + sizeof(PyObject), 0, sizeof *al - sizeof(PyObject));
    PyObject_GC_Track(al);
    al->loop = loop;
    al->fd = -1;
    al->gen = fh_fork_generation();
    if (!(al->engine = fh_engine_new(c->c, NULL, NULL))) {
        Py_DECREF(al);
        PyErr_NoMemory();
        return NULL;
    }
    c->inflight++; /* the engine uses the C client */
    al->client = c;
    int fd = fh_engine_backend_fd(al->engine);
    PyObject *pyfd = NULL, *h = NULL;
    if (fd < 0)
        PyErr_Format(PyExc_OSError, "cannot create the engine's epoll descriptor: %s",
                     fh_strerror(fd));
    else if ((al->cb_ready = PyCFunction_New(&def_ready, (PyObject *)al)) &&
             (al->cb_timer = PyCFunction_New(&def_timer, (PyObject *)al)) &&
             (al->cb_soon = PyCFunction_New(&def_soon, (PyObject *)al)) &&
             (pyfd = PyLong_FromLong(fd)))
        h = PyObject_CallMethodObjArgs(loop, A.s_add_reader, pyfd, al->cb_ready, NULL);
    Py_XDECREF(pyfd);
    if (!h) {
        al_detach(al);
        Py_DECREF(al);
        return NULL;
    }
    Py_DECREF(h);
    al->fd = fd;
    al->chain = (AioLoop *)c->aio;
    c->aio = (PyObject *)al;
    return al;
}

void fhp_aio_client_close(FhpClient *c)
{
    while (c->aio) {
        AioLoop *al = (AioLoop *)c->aio;
        c->aio = (PyObject *)al->chain;
        al->chain = NULL;
        al_detach(al);
        Py_DECREF(al);
    }
}

/* GC: while attached an AioLoop is in a cycle with its own callbacks
 * (cb_* hold it as their self) and is reachable from its event loop's
 * selector; its exchanges hold it back. All of that is visited, so a
 * Client, event loop and AioLoop that only reference each other are
 * collected. */
static int AioLoop_traverse(AioLoop *al, visitproc visit, void *arg)
{
    Py_VISIT(al->loop);
    Py_VISIT((PyObject *)al->chain);
    Py_VISIT(al->cb_ready);
    Py_VISIT(al->cb_timer);
    Py_VISIT(al->cb_soon);
    Py_VISIT(al->timer);
    for (fhp_aexch *x = al->live; x; x = x->next)
        Py_VISIT((PyObject *)x);
    for (fhp_aexch *x = al->want; x; x = x->want_next)
        Py_VISIT((PyObject *)x);
    return 0;
}

/* Unreachable: detach as the client's close() would (its exchanges end,
 * the engine is freed, the callbacks dropped). The chain stays: the next
 * AioLoop breaks its own cycles. */
static int AioLoop_clear(AioLoop *al)
{
    al_detach(al);
    Py_CLEAR(al->loop);
    return 0;
}

static void AioLoop_dealloc(AioLoop *al)
{
    PyObject_GC_UnTrack(al);
    /* detached before: the callbacks hold references while attached */
    Py_XDECREF(al->loop);
    Py_XDECREF((PyObject *)al->chain);
    PyObject_GC_Del(al);
}

PyTypeObject FhpAioLoop_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fasthttp._fasthttp._AioLoop",
    .tp_basicsize = sizeof(AioLoop),
    .tp_dealloc = (destructor)AioLoop_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)AioLoop_traverse,
    .tp_clear = (inquiry)AioLoop_clear,
};

/* ---- building and submitting ------------------------------------------------------------ */

/* GC: an exchange holds the user's body iterator, the Request, the
 * awaiting task's future and a stream's Response (which holds it back). */
static int Aexch_traverse(fhp_aexch *x, visitproc visit, void *arg)
{
    Py_VISIT((PyObject *)x->al);
    Py_VISIT((PyObject *)x->client);
    Py_VISIT(x->request);
    Py_VISIT(x->url);
    Py_VISIT(x->fut);
    Py_VISIT(x->response);
    Py_VISIT(x->exc);
    Py_VISIT(x->aiter);
    Py_VISIT(x->achunk);
    Py_VISIT(x->pump);
    Py_VISIT(x->pwait);
    return fhp_bodysrc_traverse(x->src, visit, arg);
}

/* Out of the engine first (it reads the body source and the chunk), then
 * every reference a cycle may run through. The request and the C jar stay
 * for the dealloc. */
static int Aexch_clear(fhp_aexch *x)
{
    if (x->state == X_LIVE || x->state == X_STREAM)
        fhp_aexch_leave(x, FH_ECANCELED);
    fhp_bodysrc_free(x->src);
    x->src = NULL;
    x->ap = NULL;
    x->aleft = 0;
    Py_CLEAR(x->fut);
    Py_CLEAR(x->response);
    Py_CLEAR(x->exc);
    Py_CLEAR(x->aiter);
    Py_CLEAR(x->achunk);
    Py_CLEAR(x->pump);
    Py_CLEAR(x->pwait);
    Py_CLEAR(x->request);
    Py_CLEAR(x->url);
    Py_CLEAR(x->al);
    Py_CLEAR(x->client);
    return 0;
}

static void Aexch_dealloc(fhp_aexch *x)
{
    PyObject_GC_UnTrack(x);
    fh_cookie_jar_free(x->jar); /* after the request: freed below or before */
    /* Not linked (the AioLoop holds those), so the engine forgot it. */
    if (x->req)
        fh_request_free(x->req);
    x->req = NULL;
    Aexch_clear(x);
    PyObject_GC_Del(x);
}

PyTypeObject FhpAexch_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fasthttp._fasthttp._Exchange",
    .tp_basicsize = sizeof(fhp_aexch),
    .tp_dealloc = (destructor)Aexch_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)Aexch_traverse,
    .tp_clear = (inquiry)Aexch_clear,
};

static int is_async_iterable(PyObject *o)
{
    PyTypeObject *t = Py_TYPE(o);
    return t->tp_iter == NULL && t->tp_as_async && t->tp_as_async->am_aiter &&
           !PyObject_HasAttr(o, S.s_read);
}

PyObject *fhp_aio_request(FhpClient *self, FhpRequest *r, PyObject *url, fh_request *req,
                          const int64_t *ms, int stream, int with_defaults, fhp_reqpol *pol)
{
    if (fhp_aio_ready() < 0) {
        fh_request_free(req);
        return NULL;
    }
    fhp_aexch *x = PyObject_GC_New(fhp_aexch, &FhpAexch_Type);
    if (!x) {
        fh_request_free(req);
        return NULL;
    }
    memset((char *)x + sizeof(PyObject), 0, sizeof *x - sizeof(PyObject));
    PyObject_GC_Track(x);
    x->req = req;
    x->client = (FhpClient *)Py_NewRef((PyObject *)self);
    x->request = Py_NewRef((PyObject *)r);
    x->url = Py_NewRef(url);
    x->stream = stream;
    const char *m = PyUnicode_AsUTF8(r->method), *u = PyUnicode_AsUTF8(url);
    if (!m || !u || fhp_request_prepare(self, req, r, ms, stream, with_defaults, pol, m, u) < 0)
        goto fail;
    if (pol && pol->jar && !pol->keep_jar) {
        /* The engine reads a request's own jar until the exchange is over,
         * which is after this call returns: the exchange takes it over. */
        x->jar = pol->jar;
        pol->jar = NULL;
    }
    int fd, file = 0;
    int64_t off, flen;
    if (r->stream && (file = fhp_body_file(r->stream, &fd, &off, &flen)) < 0)
        goto fail;
    if (file) {
        int rc = fh_request_set_body_file(req, fd, off, flen);
        if (rc != FH_OK) {
            fhp_raise_req(rc, req, (PyObject *)r, m, u);
            goto fail;
        }
    } else if (r->stream) {
        int64_t len = -1;
        PyObject *agen = NULL;
        int mp = fhp_formdata_async_body(r->stream, &len, &agen);
        if (mp < 0)
            goto fail;
        if (agen) {
            x->aiter = agen; /* a multipart body with async parts */
        } else if (!mp && is_async_iterable(r->stream)) {
            if (!(x->aiter = Py_TYPE(r->stream)->tp_as_async->am_aiter(r->stream)))
                goto fail;
        } else if (!(x->src = fhp_bodysrc_new(r->stream))) {
            goto fail;
        }
        int rc = fh_request_set_body_lender(req, fhp_abody_lend, x, len);
        if (rc != FH_OK) {
            fhp_raise_req(rc, req, (PyObject *)r, m, u);
            goto fail;
        }
    }
    FhpAwait *aw = fhp_await_new(AW_CALL);
    if (!aw)
        goto fail;
    aw->x = x;
    return (PyObject *)aw;
fail:
    Py_DECREF(x);
    return NULL;
}

static int x_submit(fhp_aexch *x)
{
    FhpClient *c = x->client;
    if (c->closed) {
        PyErr_SetString(S.E_ClientClosedError,
                        "this Client is closed; create a new Client to send requests");
        return -1;
    }
    AioLoop *al = fhp_al_get(c);
    if (!al)
        return -1;
    PyObject *fut = fhp_waiter_new(al->loop);
    if (!fut)
        return -1;
    x->al = (AioLoop *)Py_NewRef((PyObject *)al);
    x->start_us = fhp_now_us();
    int rc = fh_engine_submit(al->engine, x->req, &x_callbacks, x);
    if (rc != FH_OK) {
        Py_DECREF(fut);
        fhp_raise_req(rc, x->req, x->request,
                  PyUnicode_AsUTF8(((FhpRequest *)x->request)->method),
                  PyUnicode_AsUTF8(x->url));
        return -1;
    }
    x->fut = fut;
    x->state = X_LIVE;
    al_link(al, x);
    fhp_al_soon(al); /* the first step runs on the next loop turn, with others */
    return 0;
}

/* ---- the awaitable ------------------------------------------------------------------------- */

FhpAwait *fhp_await_new(int kind)
{
    if (types_ready() < 0)
        return NULL;
    FhpAwait *aw = PyObject_GC_New(FhpAwait, &FhpAwait_Type);
    if (!aw)
        return NULL;
    memset((char *)aw + sizeof(PyObject), 0, sizeof *aw - sizeof(PyObject));
    aw->kind = kind;
    PyObject_GC_Track(aw);
    return aw;
}

PyObject *fhp_aio_done(PyObject *value)
{
    FhpAwait *aw = fhp_await_new(AW_VALUE);
    if (aw)
        aw->value = Py_NewRef(value);
    return (PyObject *)aw;
}

static int call_step(FhpAwait *aw, PyObject **out)
{
    fhp_aexch *x = aw->x;
    if (x->state == X_NEW) {
        if (x_submit(x) < 0)
            return -1;
        *out = Py_NewRef(x->fut);
        return 0;
    }
    if (x->state == X_LIVE)
        fhp_al_check_fork(x->al); /* awaited in a forked child: it fails */
    if (x->state == X_LIVE) { /* woken without a result: wait again */
        PyObject *fut = fhp_waiter_new(x->al->loop);
        if (!fut)
            return -1;
        Py_XSETREF(x->fut, fut);
        *out = Py_NewRef(fut);
        return 0;
    }
    Py_CLEAR(x->fut);
    if (x->exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(x->exc), x->exc);
        return -1;
    }
    if (x->status == FHP_CLOSED) {
        PyErr_SetString(S.E_ClientClosedError,
                        "the Client was closed while this request was in flight");
        return -1;
    }
    if (x->status < 0) {
        /* A cancel after the fork replaced the engine's message: the code's
         * own sentence says what happened. */
        const char *m = PyUnicode_AsUTF8(((FhpRequest *)x->request)->method);
        if (x->status == FH_EFORKED)
            fhp_raise(x->status, NULL, x->request, m, PyUnicode_AsUTF8(x->url));
        else
            fhp_raise_req(x->status, x->req, x->request, m, PyUnicode_AsUTF8(x->url));
        return -1;
    }
    *out = x->response; /* a stream's response now owns the exchange */
    x->response = NULL;
    return 1;
}

/* 0: *out is a future to yield; 1: *out is the result; -1: error. */
static int aw_step(FhpAwait *aw, PyObject **out)
{
    *out = NULL;
    if (aw->finished) {
        PyErr_SetString(PyExc_RuntimeError, "cannot reuse an already awaited fasthttp awaitable");
        return -1;
    }
    int rc;
    switch (aw->kind) {
    case AW_VALUE:
        *out = Py_NewRef(aw->value);
        rc = 1;
        break;
    case AW_CALL:
        rc = call_step(aw, out);
        break;
    case AW_WS:
        rc = fhp_ws_step(aw, out);
        break;
    default:
        rc = fhp_aread_step(aw, out);
        break;
    }
    aw->waiting = rc == 0;
    if (rc != 0)
        aw->finished = 1;
    return rc;
}

/* The awaiting code is unwinding (cancelled, timed out, closed). */
static void aw_abort(FhpAwait *aw)
{
    if (aw->finished)
        return;
    aw->finished = 1;
    if (aw->kind == AW_CALL && aw->x) {
        fhp_aexch *x = aw->x;
        if (x->state == X_LIVE)
            fhp_aexch_leave(x, FH_ECANCELED);
        Py_CLEAR(x->fut);
        Py_CLEAR(x->response); /* a stream's response releases its connection */
    } else if (aw->kind == AW_WS) {
        if (aw->waiting)
            fhp_ws_abort(aw);
    } else if (aw->kind != AW_VALUE && aw->kind != AW_CALL && aw->waiting && aw->resp) {
        fhp_aread_abort(aw);
    }
    aw->waiting = 0;
}

static PyObject *Await_iternext(FhpAwait *aw)
{
    PyObject *out;
    int rc = aw_step(aw, &out);
    if (rc == 0)
        return out;
    if (rc == 1) {
        fhp_set_stop_iteration(out);
        Py_DECREF(out);
    }
    return NULL;
}

#if PY_VERSION_HEX >= 0x030A0000
static PySendResult Await_am_send(FhpAwait *aw, PyObject *arg, PyObject **presult)
{
    int rc = aw_step(aw, presult);
    return rc == 0 ? PYGEN_NEXT : rc == 1 ? PYGEN_RETURN : PYGEN_ERROR;
}
#endif

static PyObject *Await_send(FhpAwait *aw, PyObject *arg)
{
    return Await_iternext(aw);
}

static PyObject *Await_throw(FhpAwait *aw, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "throw() takes 1 to 3 arguments");
        return NULL;
    }
    PyObject *typ = args[0], *val = nargs > 1 && args[1] != Py_None ? args[1] : NULL;
    PyObject *tb = nargs > 2 && args[2] != Py_None ? args[2] : NULL;
    if (PyExceptionInstance_Check(typ)) {
        if (val) {
            PyErr_SetString(PyExc_TypeError, "instance exception may not have a separate value");
            return NULL;
        }
        PyErr_SetObject((PyObject *)Py_TYPE(typ), typ);
    } else if (PyExceptionClass_Check(typ)) {
        PyErr_SetObject(typ, val);
    } else {
        PyErr_SetString(PyExc_TypeError,
                        "exceptions must be classes or instances deriving from BaseException");
        return NULL;
    }
    PyObject *t, *v, *b;
    PyErr_Fetch(&t, &v, &b);
    PyErr_NormalizeException(&t, &v, &b);
    if (tb && v) {
        PyException_SetTraceback(v, tb);
        Py_XSETREF(b, Py_NewRef(tb));
    }
    aw_abort(aw);
    PyErr_Clear();
    PyErr_Restore(t, v, b);
    return NULL;
}

static PyObject *Await_close(FhpAwait *aw, PyObject *unused)
{
    PyObject *t, *v, *b;
    PyErr_Fetch(&t, &v, &b);
    aw_abort(aw);
    PyErr_Clear();
    PyErr_Restore(t, v, b);
    Py_RETURN_NONE;
}

static PyObject *Await_await(FhpAwait *aw)
{
    return Py_NewRef((PyObject *)aw);
}

static int Await_traverse(FhpAwait *aw, visitproc visit, void *arg)
{
    Py_VISIT(aw->value);
    Py_VISIT((PyObject *)aw->x);
    Py_VISIT((PyObject *)aw->resp);
    Py_VISIT(aw->iter);
    Py_VISIT(aw->buf);
    return 0;
}

/* An awaitable dropped while it waits is aborted (its request cancelled,
 * its read's stream closed), as when its task is cancelled. */
static int Await_clear(FhpAwait *aw)
{
    PyObject *t, *v, *b;
    PyErr_Fetch(&t, &v, &b);
    if (aw->kind != AW_VALUE)
        aw_abort(aw);
    PyErr_Clear();
    PyErr_Restore(t, v, b);
    aw->finished = 1;
    Py_CLEAR(aw->value);
    Py_CLEAR(aw->x);
    Py_CLEAR(aw->resp);
    Py_CLEAR(aw->iter);
    Py_CLEAR(aw->buf);
    return 0;
}

static void Await_dealloc(FhpAwait *aw)
{
    PyObject_GC_UnTrack(aw);
    Await_clear(aw);
    PyObject_GC_Del(aw);
}

static PyObject *Await_repr(FhpAwait *aw)
{
    static const char *what[] = {"value", "request", "read", "read", "websocket"};
    if (aw->kind == AW_CALL && aw->x && aw->x->request) {
        FhpRequest *r = (FhpRequest *)aw->x->request;
        return PyUnicode_FromFormat("<fasthttp awaitable %U %U>", r->method, aw->x->url);
    }
    return PyUnicode_FromFormat("<fasthttp awaitable (%s)>", what[aw->kind]);
}

/* Tasks show it as their coroutine: name it after what it does. */
static PyObject *Await_name(FhpAwait *aw, void *c)
{
    if (aw->kind == AW_CALL && aw->x && aw->x->request)
        return PyUnicode_FromFormat("fasthttp %U", ((FhpRequest *)aw->x->request)->method);
    return PyUnicode_FromString(aw->kind == AW_VALUE ? "fasthttp" : "fasthttp read");
}

static PyGetSetDef Await_getset[] = {
    {"__name__", (getter)Await_name, NULL, NULL, NULL},
    {"__qualname__", (getter)Await_name, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyAsyncMethods Await_async = {
    .am_await = (unaryfunc)Await_await,
#if PY_VERSION_HEX >= 0x030A0000
    .am_send = (sendfunc)Await_am_send,
#endif
};

static PyMethodDef Await_methods[] = {
    {"send", (PyCFunction)Await_send, METH_O, "send(None): runs the awaitable one step."},
    {"throw", (PyCFunction)(void (*)(void))Await_throw, METH_FASTCALL,
     "throw(exc): cancels the request (or read) and raises exc."},
    {"close", (PyCFunction)Await_close, METH_NOARGS, "Cancels the request (or read)."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject FhpAwait_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fasthttp._fasthttp.Awaitable",
    .tp_basicsize = sizeof(FhpAwait),
    .tp_dealloc = (destructor)Await_dealloc,
    .tp_repr = (reprfunc)Await_repr,
    .tp_as_async = &Await_async,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)Await_traverse,
    .tp_clear = (inquiry)Await_clear,
    .tp_doc = "An awaitable fasthttp operation (a request, a read); a coroutine for asyncio.",
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)Await_iternext,
    .tp_methods = Await_methods,
    .tp_getset = Await_getset,
};
