/*
 * ws.c — the WebSocket base type (fasthttp._fasthttp._WebSocket) over
 * libfasthttp's fh_ws (fasthttp/ws.h). Python subclasses (fasthttp.websocket:
 * WebSocket for asyncio, SyncWebSocket for `with Client()`) add the typed
 * and JSON helpers, context managers and iteration; everything on the wire
 * is here and in C.
 *
 * asyncio: the WebSocket lives on the engine of the client's AioLoop for
 * the running loop (aio.c), like HTTP requests: the loop watches the
 * engine's one epoll descriptor, so keepalive pings, pong and close
 * timeouts run on the engine's timers while nobody awaits anything.
 * Engine events (FH_WS_EV_*) resolve the futures of waiting awaitables
 * (kind AW_WS); recv() of a message already there and send() below the
 * write limit complete without a loop round trip.
 *
 * sync: fh_ws_connect/recv/send/close block on the WebSocket's private
 * engine with the GIL released; the main thread checks for signals every
 * 100 ms (a handler that raised stops the call; the WebSocket stays usable).
 */
#include "aio.h"

#include <pythread.h>

#define CHECK_MS 100

enum { OP_OPEN, OP_RECV, OP_DRAIN, OP_CLOSE };

extern PyTypeObject FhpWS_Type;

typedef struct FhpWS {
    PyObject_HEAD
    fh_ws *ws;
    FhpClient *client;      /* strong; used (inflight) while ws lives */
    int async, own_client, counted;
    AioLoop *al;            /* strong (asyncio) */
    struct FhpWS *anext, *aprev; /* al->ws list */
    int linked;
    PyObject *fut[4];       /* futures of waiting awaitables, by OP_ */
    PyObject *url;
    PyThreadState *ts;      /* sync: while a call waits */
    int final_code;         /* close code and reason, kept when ws is freed */
    PyObject *final_reason;
    PyObject *dict;
} FhpWS;

static PyObject *E_Closed, *E_Proto, *E_Handshake, *Headers_from;

static int errors_ready(void)
{
    if (E_Closed)
        return 0;
    PyObject *m = PyImport_ImportModule("fasthttp.errors");
    if (!m)
        return -1;
    E_Closed = PyObject_GetAttrString(m, "WebSocketClosed");
    E_Proto = PyObject_GetAttrString(m, "WebSocketProtocolError");
    E_Handshake = PyObject_GetAttrString(m, "WebSocketHandshakeError");
    Py_DECREF(m);
    return E_Closed && E_Proto && E_Handshake ? 0 : -1;
}

/* ---- errors ------------------------------------------------------------------------ */

static void raise_kw(PyObject *cls, const char *msg, PyObject *kw)
{
    PyObject *args = Py_BuildValue("(s)", msg);
    PyObject *e = args ? PyObject_Call(cls, args, kw) : NULL;
    Py_XDECREF(args);
    if (e) {
        PyErr_SetObject(cls, e);
        Py_DECREF(e);
    }
}

static PyObject *reason_str(fh_ws *ws)
{
    size_t n = 0;
    const char *r = fh_ws_close_reason(ws, &n);
    return PyUnicode_DecodeUTF8(r, (Py_ssize_t)n, "replace");
}

/* After the end: WebSocketProtocolError for a violation by the peer,
 * else WebSocketClosed with the peer's code and reason. */
static void raise_closed(FhpWS *w, int rc)
{
    if (errors_ready() < 0)
        return;
    fh_ws *ws = w->ws;
    if (!ws) {
        PyObject *kw = Py_BuildValue("{s:i,s:s}", "code", 1006, "reason", "");
        if (kw)
            raise_kw(E_Closed, "the WebSocket is closed", kw);
        Py_XDECREF(kw);
        return;
    }
    if (rc == FH_EWS_PROTO) {
        PyObject *kw = Py_BuildValue("{s:i,s:i}", "close_code", fh_ws_close_code_sent(ws), "code",
                                     rc);
        if (kw)
            raise_kw(E_Proto, fh_ws_error_message(ws), kw);
        Py_XDECREF(kw);
        return;
    }
    PyObject *reason = reason_str(ws);
    PyObject *kw = reason ? Py_BuildValue("{s:i,s:O}", "code", fh_ws_close_code(ws), "reason",
                                          reason)
                          : NULL;
    char msg[300];
    const char *why = fh_ws_error_message(ws);
    snprintf(msg, sizeof msg, "the WebSocket is closed (code %d)%s%s", fh_ws_close_code(ws),
             why[0] ? ": " : "", why);
    if (kw)
        raise_kw(E_Closed, msg, kw);
    Py_XDECREF(kw);
    Py_XDECREF(reason);
}

/* The handshake failed: a refusal (status and headers) or the HTTP
 * request's own error (connect, TLS, timeouts: the usual classes). */
static void raise_open(FhpWS *w, int rc)
{
    if (errors_ready() < 0)
        return;
    fh_ws *ws = w->ws;
    const char *u = w->url ? PyUnicode_AsUTF8(w->url) : "";
    if (rc != FH_EWS_HANDSHAKE) {
        fhp_raise(rc, fh_ws_error_message(ws), NULL, "GET", u);
        return;
    }
    const fh_response *r = fh_ws_handshake_response(ws);
    PyObject *headers = PyList_New(0);
    for (size_t i = 0; headers && r && i < fh_response_header_count(r); i++) {
        fh_header h;
        fh_response_header_at(r, i, &h);
        PyObject *t = Py_BuildValue("(s#s#)", h.name, (Py_ssize_t)h.name_len, h.value,
                                    (Py_ssize_t)h.value_len);
        if (!t || PyList_Append(headers, t) < 0)
            Py_CLEAR(headers);
        Py_XDECREF(t);
    }
    PyObject *hobj = headers ? fhp_headers_from(headers) : NULL;
    Py_XDECREF(headers);
    if (!hobj)
        return;
    PyObject *sc = r ? PyLong_FromLong(fh_response_status(r)) : Py_NewRef(Py_None);
    PyObject *kw = sc ? Py_BuildValue("{s:N,s:O,s:i}", "status_code", sc, "headers", hobj,
                                      "code", rc)
                      : NULL;
    char msg[400];
    snprintf(msg, sizeof msg, "WebSocket handshake with %s failed: %s", u,
             fh_ws_error_message(ws));
    if (kw)
        raise_kw(E_Handshake, msg, kw);
    Py_XDECREF(kw);
    Py_DECREF(hobj);
}

/* An error of a sending call. */
static PyObject *send_error(FhpWS *w, int rc)
{
    if (rc == FHP_PYERR)
        return NULL;
    if (rc == FH_EWS_CLOSED || rc == FH_EWS_PROTO) {
        raise_closed(w, fh_ws_status(w->ws) == FH_EWS_PROTO ? FH_EWS_PROTO : FH_EWS_CLOSED);
        return NULL;
    }
    if (rc == FH_ESTATE)
        PyErr_SetString(PyExc_RuntimeError,
                        "a fragmented message of the other type is being sent "
                        "(finish it with final=True), or the WebSocket is not open");
    else if (rc == FH_EINVAL)
        PyErr_SetString(PyExc_ValueError, "invalid argument (a ping payload or close reason "
                                          "over 125 bytes, or a close code that may not be sent)");
    else
        fhp_raise(rc, fh_ws_error_message(w->ws), NULL, NULL, NULL);
    return NULL;
}

/* ---- asyncio glue ---------------------------------------------------------------------- */

static void wake(FhpWS *w, int op)
{
    PyObject *f = w->fut[op];
    if (!f)
        return;
    w->fut[op] = NULL;
    fhp_future_wake(f);
    Py_DECREF(f);
}

static void wake_all(FhpWS *w)
{
    for (int i = 0; i < 4; i++)
        wake(w, i);
}

/* Engine events (from fh_engine_poll in the AioLoop's service). */
static void on_event(void *ud, fh_ws *ws, int ev)
{
    FhpWS *w = ud;
    Py_INCREF(w);
    if (ev & (FH_WS_EV_OPEN | FH_WS_EV_CLOSED))
        wake(w, OP_OPEN);
    if (ev & (FH_WS_EV_MESSAGE | FH_WS_EV_CLOSED))
        wake(w, OP_RECV);
    if (ev & (FH_WS_EV_WRITABLE | FH_WS_EV_CLOSED))
        wake(w, OP_DRAIN);
    if (ev & FH_WS_EV_CLOSED)
        wake(w, OP_CLOSE);
    Py_DECREF(w);
}

static void al_unlink_ws(FhpWS *w)
{
    if (!w->linked)
        return;
    if (w->aprev)
        w->aprev->anext = w->anext;
    else
        w->al->ws = w->anext;
    if (w->anext)
        w->anext->aprev = w->aprev;
    w->anext = w->aprev = NULL;
    w->linked = 0;
}

/* Frees the C WebSocket (closing its socket) and lets the client go. */
static void release(FhpWS *w)
{
    if (w->ws) {
        w->final_code = fh_ws_close_code(w->ws);
        if (!w->final_code && fh_ws_state(w->ws) != FH_WS_CONNECTING)
            w->final_code = 1006; /* freed while open: the connection ended here */
        if (!w->final_reason && w->final_code) {
            PyObject *t, *v, *tb;
            PyErr_Fetch(&t, &v, &tb);
            w->final_reason = reason_str(w->ws);
            if (!w->final_reason)
                PyErr_Clear();
            PyErr_Restore(t, v, tb);
        }
        fh_ws_free(w->ws);
        w->ws = NULL;
    }
    if (w->linked)
        al_unlink_ws(w);
    if (w->counted) {
        w->counted = 0;
        fhp_client_unuse(w->client);
    }
}

void fhp_ws_loop_gone(AioLoop *al)
{
    while (al->ws) {
        FhpWS *w = al->ws;
        Py_INCREF(w);
        release(w);
        wake_all(w);
        Py_DECREF(w);
    }
}

static void arm(FhpWS *w)
{
    if (w->async && w->al)
        fhp_al_arm(w->al);
}

/* ---- sync glue ------------------------------------------------------------------------------ */

static int hook_wait(void *ud)
{
    FhpWS *w = ud;
    PyEval_RestoreThread(w->ts);
    int rc = PyErr_CheckSignals() < 0 ? FHP_PYERR : 0;
    w->ts = PyEval_SaveThread();
    return rc;
}

static void set_hooks(FhpWS *w)
{
    fh_wait_hooks h;
    fh_wait_hooks_init(&h);
    if (PyThread_get_thread_ident() == S.main_thread) {
        h.on_wait = hook_wait;
        h.interval_ms = CHECK_MS;
    }
    h.ud = w;
    fh_ws_set_wait_hooks(w->ws, &h);
}

#define BLOCKING(w, call)                                                                  \
    do {                                                                                   \
        set_hooks(w);                                                                      \
        (w)->ts = PyEval_SaveThread();                                                     \
        call;                                                                              \
        PyEval_RestoreThread((w)->ts);                                                     \
        (w)->ts = NULL;                                                                    \
    } while (0)

/* ---- opening ----------------------------------------------------------------------------- */

static int add_list(FhpWS *w, PyObject *seq, int protocols)
{
    if (!seq || seq == Py_None)
        return 0;
    if (PyUnicode_Check(seq)) {
        PyErr_Format(PyExc_TypeError, "%s must be a list of str, not a str",
                     protocols ? "subprotocols" : "extensions");
        return -1;
    }
    PyObject *fast = PySequence_Fast(seq, protocols ? "subprotocols must be a list of str"
                                                    : "extensions must be a list of str");
    if (!fast)
        return -1;
    fhp_buf ext;
    fhp_buf_init(&ext);
    int rc = 0;
    for (Py_ssize_t i = 0; rc == 0 && i < PySequence_Fast_GET_SIZE(fast); i++) {
        PyObject *o = PySequence_Fast_GET_ITEM(fast, i);
        const char *s = PyUnicode_Check(o) ? PyUnicode_AsUTF8(o) : NULL;
        if (!s) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_TypeError, "%s must hold str, not %.100s",
                             protocols ? "subprotocols" : "extensions", Py_TYPE(o)->tp_name);
            rc = -1;
        } else if (protocols) {
            if (fh_ws_add_subprotocol(w->ws, s) != FH_OK) {
                PyErr_Format(PyExc_ValueError, "invalid subprotocol %R: a token is expected", o);
                rc = -1;
            }
        } else if ((i && fhp_buf_put(&ext, ", ", 2) < 0) || fhp_buf_put(&ext, s, strlen(s)) < 0) {
            rc = -1;
        }
    }
    if (rc == 0 && !protocols) {
        if (fhp_buf_putc(&ext, 0) < 0) {
            rc = -1;
        } else if (fh_ws_set_extensions(w->ws, ext.p) != FH_OK) {
            if (errors_ready() == 0)
                PyErr_Format(E_Proto, "unsupported extensions %R: %s", seq,
                             fh_ws_error_message(w->ws));
            rc = -1;
        }
    }
    fhp_buf_free(&ext);
    Py_DECREF(fast);
    return rc;
}

/* fasthttp.websocket calls _open(cls, client, url, headers, subprotocols,
 * extensions, timeout, own_client): a connected SyncWebSocket (the client
 * in `with`), or an awaitable of a WebSocket. */
static PyObject *ws_open(PyObject *mod, PyObject *const *a, Py_ssize_t n)
{
    if (n != 8 || !(PyType_Check(a[0]) || (PyTuple_Check(a[0]) && PyTuple_GET_SIZE(a[0]) == 2)) ||
        !PyObject_TypeCheck(a[1], &FhpClient_Type)) {
        PyErr_SetString(PyExc_TypeError, "_ws_open(cls, client, url, headers, subprotocols, "
                                         "extensions, timeout, own_client)");
        return NULL;
    }
    if (errors_ready() < 0)
        return NULL;
    FhpClient *c = (FhpClient *)a[1];
    PyObject *url = a[2];
    if (c->closed) {
        PyErr_SetString(S.E_ClientClosedError, "this Client is closed");
        return NULL;
    }
    int async = c->mode != FHP_MODE_SYNC;
    PyObject *cls = PyTuple_Check(a[0]) ? PyTuple_GET_ITEM(a[0], async ? 0 : 1) : a[0];
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, &FhpWS_Type)) {
        PyErr_SetString(PyExc_TypeError, "_ws_open: cls must be a _WebSocket subclass");
        return NULL;
    }
    AioLoop *al = NULL;
    if (async && (fhp_aio_ready() < 0 || !(al = fhp_al_get(c))))
        return NULL;
    /* The handshake is a GET of the client: its default headers, the call's,
     * its timeouts; cookies and credentials are the C client's (policy). */
    fhp_reqargs ra = {NULL, a[3], NULL, NULL, NULL, NULL};
    const char *q = c->query ? PyBytes_AS_STRING(c->query) : NULL;
    size_t qlen = c->query ? (size_t)PyBytes_GET_SIZE(c->query) : 0;
    FhpRequest *r = (FhpRequest *)fhp_request_build(S.s_GET, url, &ra, c->base_url, q, qlen,
                                                    (FhpHeaders *)c->headers);
    if (!r)
        return NULL;
    int64_t ms[FH_TIMEOUT_KINDS];
    int has_tmo = a[6] != Py_None;
    FhpWS *w = NULL;
    const char *u = PyUnicode_AsUTF8(r->url);
    if (!u || (has_tmo && fhp_timeout_values(a[6], ms) < 0))
        goto fail;
    w = (FhpWS *)PyType_GenericAlloc((PyTypeObject *)cls, 0);
    if (!w)
        goto fail;
    w->url = Py_NewRef(r->url);
    w->client = (FhpClient *)Py_NewRef((PyObject *)c);
    w->async = async;
    w->own_client = PyObject_IsTrue(a[7]);
    int err = 0;
    if (!(w->ws = fh_ws_new(c->c, u, &err))) {
        if (err == FH_EURL)
            PyErr_Format(E_Proto, "invalid WebSocket URL %R: a ws:// or wss:// URL is expected",
                         r->url);
        else
            PyErr_NoMemory();
        goto fail;
    }
    c->inflight++;
    w->counted = 1;
    if (fhp_request_prepare(c, fh_ws_request(w->ws), r, has_tmo ? ms : NULL, 0, 1, NULL, "GET",
                            u) < 0 ||
        add_list(w, a[4], 1) < 0 || add_list(w, a[5], 0) < 0)
        goto fail;
    Py_CLEAR(r);
    if (!async) {
        int rc;
        BLOCKING(w, rc = fh_ws_connect(w->ws));
        if (rc == FHP_PYERR)
            goto fail;
        if (rc != FH_OK) {
            raise_open(w, rc);
            goto fail;
        }
        return (PyObject *)w;
    }
    w->al = (AioLoop *)Py_NewRef((PyObject *)al);
    int rc = fh_ws_start(w->ws, al->engine, on_event, w);
    if (rc != FH_OK) {
        raise_open(w, rc);
        goto fail;
    }
    w->anext = al->ws;
    if (al->ws)
        al->ws->aprev = w;
    al->ws = w;
    w->linked = 1;
    fhp_al_soon(al);
    FhpAwait *aw = fhp_await_new(AW_WS);
    if (!aw)
        goto fail;
    aw->op = OP_OPEN;
    aw->value = (PyObject *)w; /* the reference moves to the awaitable */
    return (PyObject *)aw;
fail:
    Py_XDECREF(r);
    if (w)
        release(w);
    Py_XDECREF(w);
    return NULL;
}

/* ---- messages ---------------------------------------------------------------------------- */

static PyObject *message(int type, const uint8_t *d, size_t n)
{
    if (type == FH_WS_TEXT) /* UTF-8 checked by libfasthttp (RFC 6455 §8.1) */
        return PyUnicode_DecodeUTF8((const char *)d, (Py_ssize_t)n, NULL);
    return PyBytes_FromStringAndSize((const char *)d, (Py_ssize_t)n);
}

static PyObject *future(FhpWS *w, int op)
{
    if (w->fut[op]) {
        PyErr_SetString(PyExc_RuntimeError,
                        op == OP_RECV ? "another coroutine is already waiting in recv()"
                                      : "another coroutine is already waiting on this WebSocket");
        return NULL;
    }
    w->fut[op] = fhp_al_future(w->al);
    return w->fut[op] ? Py_NewRef(w->fut[op]) : NULL;
}

int fhp_ws_step(FhpAwait *aw, PyObject **out)
{
    FhpWS *w = (FhpWS *)aw->value;
    fh_ws *ws = w->ws;
    if (aw->waiting && w->fut[aw->op]) /* woken by a stale future: wait on */
        Py_CLEAR(w->fut[aw->op]);
    switch (aw->op) {
    case OP_OPEN:
        if (ws && fh_ws_state(ws) == FH_WS_CONNECTING)
            return (*out = future(w, OP_OPEN)) ? 0 : -1;
        if (!ws || fh_ws_status(ws) != FH_OK || fh_ws_state(ws) == FH_WS_CLOSED) {
            if (ws && fh_ws_status(ws) != FH_OK && fh_ws_close_code_sent(ws) == 0 &&
                fh_ws_handshake_response(ws) == NULL)
                raise_open(w, fh_ws_status(ws));
            else if (ws && fh_ws_status(ws) == FH_EWS_HANDSHAKE)
                raise_open(w, FH_EWS_HANDSHAKE);
            else if (!ws)
                raise_closed(w, FH_EWS_CLOSED);
            else
                break; /* opened, then closed at once: recv() tells */
            release(w);
            return -1;
        }
        break;
    case OP_RECV: {
        if (!ws) {
            raise_closed(w, FH_EWS_CLOSED);
            return -1;
        }
        int type;
        const uint8_t *d;
        size_t n;
        int rc = fh_ws_recv(ws, &type, &d, &n);
        arm(w);
        if (rc == FH_EAGAIN)
            return (*out = future(w, OP_RECV)) ? 0 : -1;
        if (rc != FH_OK) {
            raise_closed(w, rc);
            return -1;
        }
        return (*out = message(type, d, n)) ? 1 : -1;
    }
    case OP_DRAIN:
        if (ws && fh_ws_state(ws) != FH_WS_CLOSED &&
            fh_ws_buffered(ws) > (size_t)fh_ws_option_default(FH_WS_WRITE_LIMIT))
            return (*out = future(w, OP_DRAIN)) ? 0 : -1;
        *out = Py_NewRef(Py_None);
        return 1;
    default: /* OP_CLOSE */
        if (ws && fh_ws_state(ws) != FH_WS_CLOSED)
            return (*out = future(w, OP_CLOSE)) ? 0 : -1;
        release(w);
        if (w->own_client && w->client) {
            PyObject *r = PyObject_CallMethod((PyObject *)w->client, "close", NULL);
            Py_XDECREF(r); /* an awaitable completed at once, or None */
            PyErr_Clear();
        }
        *out = Py_NewRef(Py_None);
        return 1;
    }
    *out = Py_NewRef((PyObject *)w);
    return 1;
}

void fhp_ws_abort(FhpAwait *aw)
{
    FhpWS *w = (FhpWS *)aw->value;
    Py_CLEAR(w->fut[aw->op]);
    if (aw->op == OP_OPEN) /* a cancelled connect leaves nothing open */
        release(w);
}

static PyObject *awaitable(FhpWS *w, int op)
{
    FhpAwait *aw = fhp_await_new(AW_WS);
    if (!aw)
        return NULL;
    aw->op = op;
    aw->value = Py_NewRef((PyObject *)w);
    return (PyObject *)aw;
}

/* ---- methods ------------------------------------------------------------------------------ */

static int closed_now(FhpWS *w)
{
    if (w->ws)
        return 0;
    raise_closed(w, FH_EWS_CLOSED);
    return 1;
}

static PyObject *after_send(FhpWS *w, int rc)
{
    if (rc != FH_OK)
        return send_error(w, rc);
    if (!w->async)
        Py_RETURN_NONE;
    arm(w);
    if (fh_ws_buffered(w->ws) > (size_t)fh_ws_option_default(FH_WS_WRITE_LIMIT))
        return awaitable(w, OP_DRAIN); /* back-pressure: wait for the socket */
    return fhp_aio_done(Py_None);
}

static PyObject *do_send(FhpWS *w, int type, const char *d, Py_ssize_t n, int final)
{
    int rc;
    if (w->async)
        rc = fh_ws_send(w->ws, type, d, (size_t)n, final);
    else
        BLOCKING(w, rc = fh_ws_send(w->ws, type, d, (size_t)n, final));
    return after_send(w, rc);
}

static int parse_final(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int *final)
{
    *final = 1;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nargs != 1 || nkw > 1 ||
        (nkw && strcmp(PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, 0)), "final") != 0)) {
        PyErr_SetString(PyExc_TypeError, "expected (data, *, final=True)");
        return -1;
    }
    if (nkw && (*final = PyObject_IsTrue(args[1])) < 0)
        return -1;
    return 0;
}

static PyObject *WS_send_text(FhpWS *w, PyObject *const *args, Py_ssize_t nargs,
                              PyObject *kwnames)
{
    int final;
    if (parse_final(args, nargs, kwnames, &final) < 0 || closed_now(w))
        return NULL;
    if (!PyUnicode_Check(args[0])) {
        PyErr_Format(PyExc_TypeError, "send_text() needs a str, not %.100s",
                     Py_TYPE(args[0])->tp_name);
        return NULL;
    }
    Py_ssize_t n;
    const char *d = PyUnicode_AsUTF8AndSize(args[0], &n);
    return d ? do_send(w, FH_WS_TEXT, d, n, final) : NULL;
}

static PyObject *WS_send_bytes(FhpWS *w, PyObject *const *args, Py_ssize_t nargs,
                               PyObject *kwnames)
{
    int final;
    if (parse_final(args, nargs, kwnames, &final) < 0 || closed_now(w))
        return NULL;
    Py_buffer b;
    if (PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "send_bytes() needs bytes, not str (use send_text)");
        return NULL;
    }
    if (PyObject_GetBuffer(args[0], &b, PyBUF_SIMPLE) < 0)
        return NULL;
    PyObject *r = do_send(w, FH_WS_BINARY, b.buf, b.len, final);
    PyBuffer_Release(&b);
    return r;
}

static PyObject *WS_recv(FhpWS *w, PyObject *unused)
{
    if (w->async) {
        if (w->ws) {
            int type;
            const uint8_t *d;
            size_t n;
            if (fh_ws_recv(w->ws, &type, &d, &n) == FH_OK) { /* already there */
                arm(w);
                PyObject *m = message(type, d, n);
                PyObject *aw = m ? fhp_aio_done(m) : NULL;
                Py_XDECREF(m);
                return aw;
            }
        }
        return awaitable(w, OP_RECV); /* waits, or raises when awaited */
    }
    if (closed_now(w))
        return NULL;
    int type, rc;
    const uint8_t *d;
    size_t n;
    BLOCKING(w, rc = fh_ws_recv(w->ws, &type, &d, &n));
    if (rc == FHP_PYERR)
        return NULL;
    if (rc != FH_OK) {
        raise_closed(w, rc);
        return NULL;
    }
    return message(type, d, n);
}

static PyObject *WS_ping(FhpWS *w, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "ping(payload=b'')");
        return NULL;
    }
    if (closed_now(w))
        return NULL;
    Py_buffer b = {0};
    if (nargs && PyUnicode_Check(args[0])) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(args[0], &n);
        if (!s)
            return NULL;
        b.buf = (void *)s;
        b.len = n;
    } else if (nargs && PyObject_GetBuffer(args[0], &b, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    int rc;
    if (w->async)
        rc = fh_ws_ping(w->ws, b.buf, (size_t)b.len);
    else
        BLOCKING(w, rc = fh_ws_ping(w->ws, b.buf, (size_t)b.len));
    if (b.obj)
        PyBuffer_Release(&b);
    return after_send(w, rc);
}

static void close_own_client(FhpWS *w)
{
    if (!w->own_client || !w->client || w->client->closed)
        return;
    PyObject *r = PyObject_CallMethod((PyObject *)w->client, "close", NULL);
    Py_XDECREF(r);
    PyErr_Clear();
}

static PyObject *WS_close(FhpWS *w, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"code", "reason", NULL};
    int code = 1000;
    PyObject *reason = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|iO:close", kwlist, &code, &reason))
        return NULL;
    const char *rs = "";
    Py_ssize_t rn = 0;
    if (reason != Py_None && !(rs = PyUnicode_AsUTF8AndSize(reason, &rn)))
        return NULL;
    if (w->ws && fh_ws_state(w->ws) == FH_WS_CONNECTING) {
        release(w);
        close_own_client(w);
    }
    if (!w->ws) { /* closing twice is harmless */
        close_own_client(w);
        return w->async ? fhp_aio_done(Py_None) : Py_NewRef(Py_None);
    }
    int rc;
    if (w->async) {
        rc = fh_ws_close(w->ws, code, rs, (size_t)rn);
        arm(w);
    } else {
        BLOCKING(w, rc = fh_ws_close(w->ws, code, rs, (size_t)rn));
    }
    if (rc == FH_EINVAL) {
        PyErr_Format(PyExc_ValueError,
                     "invalid close: code %d must be 1000-1003, 1007-1014 or 3000-4999 and "
                     "the reason at most 123 bytes of UTF-8", code);
        return NULL;
    }
    if (rc == FHP_PYERR)
        return NULL;
    if (w->async)
        return awaitable(w, OP_CLOSE);
    release(w);
    close_own_client(w);
    Py_RETURN_NONE;
}

static PyObject *WS_subprotocol(FhpWS *w, void *c)
{
    const char *s = w->ws ? fh_ws_subprotocol(w->ws) : NULL;
    return s ? PyUnicode_FromString(s) : Py_NewRef(Py_None);
}

static PyObject *WS_extensions(FhpWS *w, void *c)
{
    const char *s = w->ws ? fh_ws_extensions(w->ws) : NULL;
    return s ? PyUnicode_FromString(s) : Py_NewRef(Py_None);
}

/* Kept after release: the last codes are remembered there. */
static PyObject *WS_close_code(FhpWS *w, void *c)
{
    if (!w->ws)
        return w->final_code ? PyLong_FromLong(w->final_code) : Py_NewRef(Py_None);
    int code = fh_ws_close_code(w->ws);
    return code ? PyLong_FromLong(code) : Py_NewRef(Py_None);
}

static PyObject *WS_close_reason(FhpWS *w, void *c)
{
    if (!w->ws)
        return w->final_reason ? Py_NewRef(w->final_reason) : Py_NewRef(Py_None);
    if (!fh_ws_close_code(w->ws))
        return Py_NewRef(Py_None);
    return reason_str(w->ws);
}

static PyObject *WS_state(FhpWS *w, void *c)
{
    return PyLong_FromLong(w->ws ? fh_ws_state(w->ws) : FH_WS_CLOSED);
}

static PyMethodDef WS_methods[] = {
    {"send_text", (PyCFunction)(void (*)(void))WS_send_text, METH_FASTCALL | METH_KEYWORDS,
     "send_text(str, *, final=True): sends a text message (or a fragment of one)."},
    {"send_bytes", (PyCFunction)(void (*)(void))WS_send_bytes, METH_FASTCALL | METH_KEYWORDS,
     "send_bytes(bytes, *, final=True): sends a binary message (or a fragment of one)."},
    {"recv", (PyCFunction)WS_recv, METH_NOARGS,
     "recv(): the next message, str for text, bytes for binary."},
    {"ping", (PyCFunction)(void (*)(void))WS_ping, METH_FASTCALL,
     "ping(payload=b''): sends a ping (at most 125 bytes)."},
    {"close", (PyCFunction)(void (*)(void))WS_close, METH_VARARGS | METH_KEYWORDS,
     "close(code=1000, reason=None): the closing handshake; harmless when closed."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef WS_getset[] = {
    {"subprotocol", (getter)WS_subprotocol, NULL, "The subprotocol the server chose, or None.",
     NULL},
    {"extensions", (getter)WS_extensions, NULL, "The extensions agreed, or None.", NULL},
    {"close_code", (getter)WS_close_code, NULL,
     "The close code the server sent (1005: none in its close frame; 1006: the connection "
     "ended without one), or None while open.", NULL},
    {"close_reason", (getter)WS_close_reason, NULL, "The server's close reason, or None.", NULL},
    {"_state", (getter)WS_state, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static int WS_traverse(FhpWS *w, visitproc visit, void *arg)
{
    Py_VISIT((PyObject *)w->client);
    Py_VISIT((PyObject *)w->al);
    for (int i = 0; i < 4; i++)
        Py_VISIT(w->fut[i]);
    Py_VISIT(w->url);
    Py_VISIT(w->dict);
    return 0;
}

static int WS_clear(FhpWS *w)
{
    release(w);
    for (int i = 0; i < 4; i++)
        Py_CLEAR(w->fut[i]);
    Py_CLEAR(w->al);
    Py_CLEAR(w->client);
    Py_CLEAR(w->url);
    Py_CLEAR(w->final_reason);
    Py_CLEAR(w->dict);
    return 0;
}

static void WS_dealloc(FhpWS *w)
{
    PyObject_GC_UnTrack(w);
    if (w->ws && w->own_client)
        close_own_client(w);
    WS_clear(w);
    Py_TYPE(w)->tp_free((PyObject *)w);
}

PyTypeObject FhpWS_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fasthttp._fasthttp._WebSocket",
    .tp_basicsize = sizeof(FhpWS),
    .tp_dealloc = (destructor)WS_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The WebSocket connection (base of fasthttp.WebSocket and SyncWebSocket).",
    .tp_traverse = (traverseproc)WS_traverse,
    .tp_clear = (inquiry)WS_clear,
    .tp_methods = WS_methods,
    .tp_getset = WS_getset,
    .tp_dictoffset = offsetof(FhpWS, dict),
};

static PyMethodDef def_open = {"_ws_open", (PyCFunction)(void (*)(void))ws_open, METH_FASTCALL,
                               "_ws_open(cls, client, url, headers, subprotocols, extensions, "
                               "timeout, own_client)"};

int fhp_ws_init(PyObject *module)
{
    if (PyType_Ready(&FhpWS_Type) < 0)
        return -1;
    Py_INCREF(&FhpWS_Type);
    if (PyModule_AddObject(module, "_WebSocket", (PyObject *)&FhpWS_Type) < 0) {
        Py_DECREF(&FhpWS_Type);
        return -1;
    }
    PyObject *f = PyCFunction_NewEx(&def_open, NULL, NULL);
    if (!f || PyModule_AddObject(module, "_ws_open", f) < 0) {
        Py_XDECREF(f);
        return -1;
    }
    return 0;
}
