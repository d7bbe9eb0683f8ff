/*
 * response.c — the Response type: status, lazily built reason and headers,
 * the body (one bytes object, built once), streaming reads (GIL released),
 * timings, raise_for_status(), and construction by users.
 */
#include "fhpy.h"

#include <stddef.h>
#include <string.h>
#include <structmember.h>

#define STREAM_CHUNK 65536

static FhpResponse *alloc_response(void)
{
    FhpResponse *r = PyObject_GC_New(FhpResponse, &FhpResponse_Type);
    if (!r)
        return NULL;
    memset((char *)r + sizeof(PyObject), 0, sizeof *r - sizeof(PyObject));
    r->elapsed_us = -1;
    r->attempts = 1;
    PyObject_GC_Track(r);
    return r;
}

PyObject *fhp_response_from_xfer(fhp_xfer *x, PyObject *request, PyObject *url,
                                 FhpClient *client, int stream)
{
    FhpResponse *r = alloc_response();
    if (!r)
        return NULL;
    r->status = fh_response_status(x->resp);
    r->version = fh_response_version(x->resp);
    r->url = Py_NewRef(url);
    r->request = Py_NewRef(request);
    /* A stream's head is copied now (the exchange lives on); a buffered
     * response is kept and its head copied when first asked for, which
     * most callers of .content or .json() never do. */
    if ((stream && !(r->raw = fhp_rawhdrs_new(x->resp))) ||
        fhp_response_policy(r, x->resp) < 0) {
        Py_DECREF(r);
        return NULL;
    }
    /* A logging handler that fails must not fail the request: reported as
     * an unraisable exception, as logging's own handleError would. */
    if (fhp_log_response(x->resp) < 0)
        PyErr_WriteUnraisable(r->url);
    if (stream) {
        r->is_stream = 1;
        r->xfer = x;
        r->client = (FhpClient *)Py_NewRef((PyObject *)client);
        r->elapsed_us = -x->start_us - 2; /* start mark (< -1) until the body ends */
        return (PyObject *)r;
    }
    size_t len = 0;
    if (!(r->content = fhp_body_storage_take(x->resp)) && !PyErr_Occurred()) {
        const uint8_t *body = fh_response_body(x->resp, &len);
        r->content = len ? PyBytes_FromStringAndSize((const char *)body, (Py_ssize_t)len)
                         : Py_NewRef(S.empty_bytes);
    }
    r->tm = *fh_response_timings(x->resp);
    r->has_tm = 1;
    r->elapsed_us = r->tm.total_us;
    r->downloaded = fh_response_body_bytes_received(x->resp);
    if (!r->content) {
        Py_DECREF(r);
        return NULL;
    }
    r->fresp = x->resp; /* the connection went back to the pool: only memory */
    x->resp = NULL;
    return (PyObject *)r;
}

const fhp_rawhdrs *fhp_response_raw(FhpResponse *r)
{
    if (!r->raw && r->fresp && (r->raw = fhp_rawhdrs_new(r->fresp))) {
        fh_response_free(r->fresp);
        r->fresp = NULL;
    }
    return r->raw;
}

PyObject *fhp_response_from_hop(const fh_response *hop, PyObject *request)
{
    FhpResponse *r = alloc_response();
    if (!r)
        return NULL;
    const char *url = fh_response_url(hop);
    const fh_timings *tm = fh_response_timings(hop);
    r->status = fh_response_status(hop);
    r->version = fh_response_version(hop);
    r->request = Py_XNewRef(request);
    r->content = Py_NewRef(S.empty_bytes);
    r->downloaded = fh_response_body_bytes_received(hop);
    if (tm) {
        r->tm = *tm;
        r->has_tm = 1;
        r->elapsed_us = tm->total_us;
    }
    if (!(r->url = url ? PyUnicode_FromString(url) : Py_NewRef(S.s_empty)) ||
        !(r->raw = fhp_rawhdrs_new(hop))) {
        Py_DECREF(r);
        return NULL;
    }
    return (PyObject *)r;
}

/* ---- streaming ------------------------------------------------------------------- */

void fhp_response_release(FhpResponse *r)
{
    if (r->astream) {
        fhp_aio_stream_release(r); /* asyncio stream mode (aio_stream.c) */
        return;
    }
    fhp_xfer *x = r->xfer;
    if (!x)
        return;
    r->xfer = NULL;
    if (x->resp && !r->has_tm) {
        r->tm = *fh_response_timings(x->resp);
        r->has_tm = 1;
    }
    if (x->resp)
        r->downloaded = fh_response_body_bytes_received(x->resp);
    if (r->elapsed_us < 0)
        r->elapsed_us = r->tm.total_us > 0 ? r->tm.total_us : fhp_now_us() + r->elapsed_us + 2;
    fhp_xfer_release(x);
    FhpClient *c = r->client;
    r->client = NULL;
    if (c) {
        fhp_client_unuse(c);
        Py_DECREF(c);
    }
}

static int stream_usable(FhpResponse *r)
{
    if (r->busy) {
        PyErr_SetString(PyExc_RuntimeError,
                        "this response is being read by another thread at the same time");
        return 0;
    }
    if (r->closed && !r->content) {
        PyErr_SetString(S.E_StreamClosed, "the response was closed before its body was read");
        return 0;
    }
    if (r->astream) {
        PyErr_SetString(PyExc_RuntimeError,
                        "this response is streamed on an event loop: read it with `await "
                        "response.aread()`, or `async for` over response.aiter_bytes() (or "
                        "iter_bytes(), iter_text(), iter_lines())");
        return 0;
    }
    return 1;
}

/* Reads up to cap bytes into buf: n, 0 at the end, -1 with an exception. */
static Py_ssize_t read_into(FhpResponse *r, char *buf, size_t cap)
{
    if (!r->xfer)
        return 0;
    r->busy = 1;
    Py_ssize_t n = fhp_xfer_read(r->xfer, buf, cap);
    r->busy = 0;
    if (n == FHP_PYERR)
        return -1;
    if (n < 0) {
        const char *m = PyUnicode_AsUTF8(((FhpRequest *)r->request)->method);
        const char *u = PyUnicode_AsUTF8(r->url);
        fhp_raise((int)n, fh_request_error_message(r->xfer->req), r->request, m, u);
        fhp_response_release(r);
        return -1;
    }
    if (n == 0)
        fhp_response_release(r); /* read to the end: the connection goes back */
    return n;
}

PyObject *fhp_response_read_chunk(FhpResponse *r, size_t cap, int fill)
{
    if (!stream_usable(r))
        return NULL;
    if (!r->xfer)
        return Py_NewRef(S.empty_bytes);
    PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cap);
    if (!b)
        return NULL;
    size_t have = 0;
    do { /* fills the whole chunk unless the body ends */
        Py_ssize_t n = read_into(r, PyBytes_AS_STRING(b) + have, cap - have);
        if (n < 0) {
            Py_DECREF(b);
            return NULL;
        }
        if (n == 0)
            break;
        have += (size_t)n;
    } while (fill && have < cap);
    if (have == 0) {
        Py_DECREF(b);
        return Py_NewRef(S.empty_bytes);
    }
    if (have < cap && _PyBytes_Resize(&b, (Py_ssize_t)have) < 0)
        return NULL;
    return b;
}

PyObject *fhp_response_read_all(FhpResponse *r)
{
    if (r->content)
        return Py_NewRef(r->content);
    if (r->closed && !r->xfer) {
        PyErr_SetString(S.E_StreamClosed, "the response was closed before its body was read");
        return NULL;
    }
    if (r->consumed) {
        PyErr_SetString(S.E_StreamConsumed,
                        "the body was already consumed by iter_bytes(), iter_text() or "
                        "iter_lines()");
        return NULL;
    }
    if (!stream_usable(r))
        return NULL;
    size_t cap = STREAM_CHUNK, have = 0;
    PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cap);
    while (b) {
        if (have == cap) {
            cap *= 2;
            if (_PyBytes_Resize(&b, (Py_ssize_t)cap) < 0)
                return NULL;
        }
        Py_ssize_t n = read_into(r, PyBytes_AS_STRING(b) + have, cap - have);
        if (n < 0)
            Py_CLEAR(b);
        else if (n == 0)
            break;
        else
            have += (size_t)n;
    }
    if (!b || _PyBytes_Resize(&b, (Py_ssize_t)have) < 0)
        return NULL;
    r->content = Py_NewRef(b);
    return b;
}

/* ---- headers and simple properties --------------------------------------------- */

PyObject *fhp_response_header(FhpResponse *r, const char *name)
{
    if (r->headers)
        return fhp_headers_first((FhpHeaders *)r->headers, name, strlen(name));
    size_t len;
    const fhp_rawhdrs *raw = fhp_response_raw(r);
    const char *v = raw ? fhp_rawhdrs_get(raw, name, &len) : NULL;
    return v ? PyUnicode_DecodeLatin1(v, (Py_ssize_t)len, NULL) : NULL;
}

static PyObject *get_headers(FhpResponse *r, void *c)
{
    if (!r->headers && (!fhp_response_raw(r) || !(r->headers = fhp_headers_from_raw(r->raw))))
        return NULL;
    return Py_NewRef(r->headers);
}

static PyObject *get_reason(FhpResponse *r, void *c)
{
    const fhp_rawhdrs *raw = r->reason ? NULL : fhp_response_raw(r);
    if (!r->reason && raw)
        r->reason = PyUnicode_DecodeLatin1(raw->data, raw->reason_len, NULL);
    return r->reason ? Py_NewRef(r->reason) : NULL;
}

static PyObject *get_content(FhpResponse *r, void *c)
{
    return fhp_response_read_all(r);
}

static PyObject *get_http_version(FhpResponse *r, void *c)
{
    PyObject *v = r->version == 10 ? S.s_http10 : r->version == 20 ? S.s_http20 : S.s_http11;
    return Py_NewRef(v);
}

static PyObject *get_elapsed(FhpResponse *r, void *c)
{
    int64_t us = r->elapsed_us;
    if (us < -1)
        us = fhp_now_us() + us + 2; /* a stream still open: time so far */
    if (us < 0)
        us = 0;
    return PyObject_CallFunction(S.timedelta, "iiL", 0, 0, (long long)us);
}

static PyObject *get_timings(FhpResponse *r, void *c)
{
    if (!r->has_tm)
        Py_RETURN_NONE;
    if (!r->timings) {
        const fh_timings *t = &r->tm;
        r->timings = Py_BuildValue("{s:d,s:d,s:d,s:d,s:d,s:d,s:O}", "dns", t->dns_us / 1e6,
                                   "connect", t->connect_us / 1e6, "tls", t->tls_us / 1e6,
                                   "sent", t->sent_us / 1e6, "ttfb", t->ttfb_us / 1e6,
                                   "total", t->total_us / 1e6, "reused",
                                   t->reused ? Py_True : Py_False);
    }
    return r->timings ? Py_NewRef(r->timings) : NULL;
}

static PyObject *get_history(FhpResponse *r, void *c)
{
    return r->history ? PyList_GetSlice(r->history, 0, PyList_GET_SIZE(r->history))
                      : PyList_New(0);
}

static PyObject *get_is_closed(FhpResponse *r, void *c)
{
    return PyBool_FromLong(r->xfer == NULL && r->astream == NULL);
}

static PyObject *get_encoding(FhpResponse *r, void *c)
{
    return fhp_response_encoding(r);
}

static int set_encoding(FhpResponse *r, PyObject *v, void *c)
{
    if (v && v != Py_None && !PyUnicode_Check(v)) {
        PyErr_SetString(PyExc_TypeError, "encoding must be a str or None");
        return -1;
    }
    Py_XSETREF(r->encoding, v && v != Py_None ? Py_NewRef(v) : NULL);
    return 0;
}

/* ---- methods ------------------------------------------------------------------------- */

static PyObject *Response_raise_for_status(FhpResponse *r, PyObject *unused)
{
    if (r->status < 400 || r->status >= 600)
        return Py_NewRef((PyObject *)r);
    PyObject *reason = get_reason(r, NULL);
    if (!reason)
        return NULL;
    PyObject *sent = fhp_response_get_request(r, NULL);
    if (!sent) {
        Py_DECREF(reason);
        return NULL;
    }
    PyObject *method = sent != Py_None ? ((FhpRequest *)sent)->method : NULL;
    PyObject *msg = PyUnicode_FromFormat(
        "%s error '%d %U' for %s%s%U", r->status < 500 ? "Client" : "Server", r->status,
        reason, method ? PyUnicode_AsUTF8(method) : "", method ? " " : "",
        r->url ? r->url : S.s_empty);
    Py_DECREF(reason);
    if (!msg) {
        Py_DECREF(sent);
        return NULL;
    }
    PyObject *args = PyTuple_Pack(1, msg);
    PyObject *kw = Py_BuildValue("{s:O,s:O}", "request", sent, "response", (PyObject *)r);
    Py_DECREF(sent);
    PyObject *exc = args && kw ? PyObject_Call(S.E_HTTPStatusError, args, kw) : NULL;
    Py_XDECREF(args);
    Py_XDECREF(kw);
    Py_DECREF(msg);
    if (exc) {
        PyErr_SetObject(S.E_HTTPStatusError, exc);
        Py_DECREF(exc);
    }
    return NULL;
}

static PyObject *Response_read(FhpResponse *r, PyObject *unused)
{
    return fhp_response_read_all(r);
}

static PyObject *Response_close(FhpResponse *r, PyObject *unused)
{
    r->closed = 1;
    if (r->busy) {
        PyErr_SetString(PyExc_RuntimeError, "cannot close a response while it is being read");
        return NULL;
    }
    fhp_response_release(r);
    Py_RETURN_NONE;
}

static PyObject *Response_enter(FhpResponse *r, PyObject *unused)
{
    return Py_NewRef((PyObject *)r);
}

static PyObject *Response_exit(FhpResponse *r, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *res = Response_close(r, NULL);
    Py_XDECREF(res);
    return res ? Py_NewRef(Py_False) : NULL;
}

static PyObject *Response_repr(FhpResponse *r)
{
    PyObject *reason = get_reason(r, NULL);
    if (!reason)
        return NULL;
    PyObject *s = PyUnicode_FromFormat("<Response [%d %U]>", r->status, reason);
    Py_DECREF(reason);
    return s;
}

/* ---- construction by users --------------------------------------------------------- */

static int version_from(PyObject *v)
{
    if (!v || v == Py_None)
        return 11;
    if (PyUnicode_CompareWithASCIIString(v, "HTTP/1.0") == 0)
        return 10;
    if (PyUnicode_CompareWithASCIIString(v, "HTTP/2") == 0)
        return 20;
    return 11;
}

static PyObject *default_reason(int status)
{
    PyObject *st = PyObject_CallFunction(S.reason_phrase, "i", status);
    if (!st) {
        PyErr_Clear();
        return Py_NewRef(S.s_empty);
    }
    PyObject *p = PyObject_GetAttrString(st, "phrase");
    Py_DECREF(st);
    return p;
}

static PyObject *Response_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"status_code", "headers", "content", "reason", "request",
                             "url", "encoding", "http_version", NULL};
    int status = 200;
    PyObject *headers = NULL, *content = NULL, *reason = NULL, *request = NULL, *url = NULL,
             *encoding = NULL, *version = NULL;
    /* The original library's Response(status_code, headers, content, reason,
     * request) is a dataclass: those may be given by position too. */
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|iOOOO$OOO:Response", kwlist, &status,
                                     &headers, &content, &reason, &request, &url, &encoding,
                                     &version))
        return NULL;
    if (request && request != Py_None && !Py_IS_TYPE(request, &FhpRequest_Type)) {
        PyErr_SetString(PyExc_TypeError, "request must be a fasthttp.Request");
        return NULL;
    }
    FhpResponse *r = alloc_response();
    if (!r)
        return NULL;
    r->status = status;
    r->version = version_from(version);
    PyObject *stream = NULL;
    if (!(r->headers = fhp_headers_from(headers)))
        goto fail;
    if (!content || content == Py_None)
        r->content = Py_NewRef(S.empty_bytes);
    else if (fhp_body_from(content, &r->content, &stream) < 0)
        goto fail;
    if (stream) {
        Py_DECREF(stream);
        PyErr_SetString(PyExc_TypeError, "content must be bytes or str");
        goto fail;
    }
    r->reason = reason && reason != Py_None ? Py_NewRef(reason) : default_reason(status);
    if (!r->reason || set_encoding(r, encoding, NULL) < 0)
        goto fail;
    if (request && request != Py_None)
        r->request = Py_NewRef(request);
    if (url && url != Py_None)
        r->url = Py_NewRef(url);
    else
        r->url = Py_NewRef(r->request ? ((FhpRequest *)r->request)->url : S.s_empty);
    return (PyObject *)r;
fail:
    Py_DECREF(r);
    return NULL;
}

/* ---- the type --------------------------------------------------------------------- */

/* Every reference, the open stream's included: an asyncio stream's
 * exchange holds this response until it is handed over, and a sync
 * stream's body source (an iterator or file still uploading) may hold
 * anything. */
static int Response_traverse(FhpResponse *r, visitproc visit, void *arg)
{
    Py_VISIT(r->reason);
    Py_VISIT(r->headers);
    Py_VISIT(r->content);
    Py_VISIT(r->encoding);
    Py_VISIT(r->url);
    Py_VISIT(r->request);
    Py_VISIT(r->sent);
    Py_VISIT(r->timings);
    Py_VISIT(r->history);
    Py_VISIT((PyObject *)r->client);
    Py_VISIT(r->astream);
    return r->xfer ? fhp_bodysrc_traverse(r->xfer->src, visit, arg) : 0;
}

static int Response_clear(FhpResponse *r)
{
    fhp_response_release(r);
    Py_CLEAR(r->reason);
    Py_CLEAR(r->headers);
    Py_CLEAR(r->content);
    Py_CLEAR(r->encoding);
    Py_CLEAR(r->url);
    Py_CLEAR(r->request);
    Py_CLEAR(r->sent);
    Py_CLEAR(r->timings);
    Py_CLEAR(r->history);
    return 0;
}

static void Response_dealloc(FhpResponse *r)
{
    PyObject_GC_UnTrack(r);
    Response_clear(r);
    fhp_rawhdrs_free(r->raw);
    fh_response_free(r->fresp);
    PyObject_GC_Del(r);
}

/* Status ranges [lo, hi) of the predicates (closures of their getter). */
static const int S1XX[2] = {100, 200}, S2XX[2] = {200, 300}, S3XX[2] = {300, 400},
                 S4XX[2] = {400, 500}, S5XX[2] = {500, 600}, SERR[2] = {400, 600};

static PyGetSetDef Response_getset[] = {
    {"headers", (getter)get_headers, NULL, "Response headers (Headers).", NULL},
    {"reason", (getter)get_reason, NULL, "Reason phrase of the status line.", NULL},
    {"content", (getter)get_content, NULL, "The body as bytes (reads a stream).", NULL},
    {"encoding", (getter)get_encoding, (setter)set_encoding,
     "Text encoding: set by the user, else Content-Type's charset, else detected.", NULL},
    {"http_version", (getter)get_http_version, NULL, "'HTTP/1.1', 'HTTP/1.0' or 'HTTP/2'.",
     NULL},
    {"elapsed", (getter)get_elapsed, NULL, "Time from sending to the complete response.",
     NULL},
    {"timings", (getter)get_timings, NULL,
     "Seconds from the start to: dns, connect, tls, sent, ttfb, total; and reused.", NULL},
    {"history", (getter)get_history, NULL,
     "The redirect responses followed to this one, oldest first (a new list; each has "
     "status, headers and URL, no body).",
     NULL},
    {"is_closed", (getter)get_is_closed, NULL, "True once the connection is released.", NULL},
    {"request", (getter)fhp_response_get_request, NULL,
     "The request as it was sent for this response: final method, URL and header fields "
     "(Host, cookies, credentials, framing); each history response has its own.", NULL},
    {"ok", (getter)fhp_response_get_status_in, NULL,
     "True for a 2xx status (as the original library).", (void *)S2XX},
    {"is_success", (getter)fhp_response_get_status_in, NULL, "True for a 2xx status.",
     (void *)S2XX},
    {"is_informational", (getter)fhp_response_get_status_in, NULL, "True for a 1xx status.",
     (void *)S1XX},
    {"is_redirect", (getter)fhp_response_get_status_in, NULL, "True for a 3xx status.",
     (void *)S3XX},
    {"is_permanent_redirect", (getter)fhp_response_get_is_permanent_redirect, NULL,
     "True for 301 and 308.", NULL},
    {"is_client_error", (getter)fhp_response_get_status_in, NULL, "True for 4xx.",
     (void *)S4XX},
    {"is_server_error", (getter)fhp_response_get_status_in, NULL, "True for 5xx.",
     (void *)S5XX},
    {"is_error", (getter)fhp_response_get_status_in, NULL, "True for 4xx and 5xx.",
     (void *)SERR},
    {"content_type", (getter)fhp_response_get_content_type, NULL,
     "The media type of Content-Type without parameters, lower case, or None.", NULL},
    {"num_bytes_downloaded", (getter)fhp_response_get_downloaded, NULL,
     "Body bytes received so far, as sent (before gzip/br/zstd decoding).", NULL},
    {"links", (getter)fhp_response_get_links, NULL,
     "The Link header parsed (RFC 8288): {rel: {'url': ..., params...}}.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef Response_members[] = {
    {"status_code", T_INT, offsetof(FhpResponse, status), READONLY, "HTTP status code."},
    {"url", T_OBJECT, offsetof(FhpResponse, url), READONLY,
     "The URL of this response (after redirects: the last one)."},
    {"attempts", T_INT, offsetof(FhpResponse, attempts), READONLY,
     "Attempts made for this response: 1, or more after retries."},
    {NULL, 0, 0, 0, NULL},
};

#define FASTKW(f) (PyCFunction)(void (*)(void))(f), METH_FASTCALL | METH_KEYWORDS

static PyMethodDef Response_methods[] = {
    {"text", FASTKW(fhp_response_text_method),
     "text(encoding=None): the body decoded as text (with encoding when given)."},
    {"json", FASTKW(fhp_response_json), "The body parsed as JSON (kwargs go to json.loads)."},
    {"raise_for_status", (PyCFunction)Response_raise_for_status, METH_NOARGS,
     "Raises HTTPStatusError for 4xx and 5xx; returns the response otherwise."},
    {"read", (PyCFunction)Response_read, METH_NOARGS, "Reads the whole body; returns it."},
    {"iter_bytes", FASTKW(fhp_response_iter_bytes),
     "iter_bytes(chunk_size=None): the body in chunks (as they arrive when None)."},
    {"iter_raw", FASTKW(fhp_response_iter_bytes), "Alias of iter_bytes()."},
    {"iter_text", FASTKW(fhp_response_iter_text), "iter_text(chunk_size=None): decoded text."},
    {"iter_lines", FASTKW(fhp_response_iter_lines),
     "Lines of text without their line breaks."},
    {"close", (PyCFunction)Response_close, METH_NOARGS,
     "Releases the connection (to the pool when the body was read to the end)."},
    {"__enter__", (PyCFunction)Response_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))Response_exit, METH_FASTCALL, NULL},
    /* asyncio (aio_stream.c) */
    {"aread", (PyCFunction)fhp_response_aread, METH_NOARGS,
     "await aread(): reads the whole body; returns it."},
    {"aiter_bytes", FASTKW(fhp_response_aiter_bytes),
     "aiter_bytes(chunk_size=None): async iterator over the body in chunks."},
    {"aiter_raw", FASTKW(fhp_response_aiter_bytes), "Alias of aiter_bytes()."},
    {"aiter_text", FASTKW(fhp_response_aiter_text),
     "aiter_text(chunk_size=None): async iterator over decoded text."},
    {"aiter_lines", FASTKW(fhp_response_aiter_lines),
     "Async iterator over lines of text without their line breaks."},
    {"aclose", (PyCFunction)fhp_response_aclose, METH_NOARGS,
     "await aclose(): releases the connection (like close())."},
    {"__aenter__", (PyCFunction)fhp_response_aenter, METH_NOARGS, NULL},
    {"__aexit__", (PyCFunction)(void (*)(void))fhp_response_aexit, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

static PyNumberMethods Response_as_number = {
    .nb_bool = (inquiry)fhp_response_bool,
};

PyTypeObject FhpResponse_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fasthttp.Response",
    .tp_basicsize = sizeof(FhpResponse),
    .tp_dealloc = (destructor)Response_dealloc,
    .tp_repr = (reprfunc)Response_repr,
    .tp_as_number = &Response_as_number,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Response(status_code=200, headers=None, content=b'', reason=None, "
              "request=None, *, url=None, encoding=None, http_version='HTTP/1.1')",
    .tp_traverse = (traverseproc)Response_traverse,
    .tp_clear = (inquiry)Response_clear,
    .tp_methods = Response_methods,
    .tp_members = Response_members,
    .tp_getset = Response_getset,
    .tp_new = Response_new,
};
