/*
 * request.c — the Request type and request building: method, URL (base_url
 * joining and params), headers (client defaults, then per-request ones
 * replacing fields of the same name), and the body from json=, data= or
 * content=. Client methods and Request(...) share this code.
 */
#include "fhpy.h"

#include <stddef.h>
#include <string.h>
#include <structmember.h>

static PyObject *upper_method(PyObject *m)
{
    PyObject *known[] = {S.s_GET, S.s_POST, S.s_PUT, S.s_PATCH, S.s_DELETE, S.s_HEAD,
                         S.s_OPTIONS};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (m == known[i])
            return Py_NewRef(m);
    if (!PyUnicode_Check(m)) {
        PyErr_Format(PyExc_TypeError, "method must be str, not %.100s", Py_TYPE(m)->tp_name);
        return NULL;
    }
    return PyObject_CallMethod(m, "upper", NULL);
}

static int set_type(FhpHeaders *h, const char *ctype)
{
    if (fhp_headers_has(h, "content-type", 12))
        return 0;
    PyObject *v = PyUnicode_FromString(ctype);
    int rc = v ? fhp_headers_append(h, "Content-Type", v) : -1;
    Py_XDECREF(v);
    return rc;
}

/* json.dumps's own errors (a set, NaN) are re-raised as the same class
 * with a message that names json=, the original chained as __cause__. */
static void json_error(void)
{
    if (!PyErr_ExceptionMatches(PyExc_TypeError) && !PyErr_ExceptionMatches(PyExc_ValueError))
        return;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb)
        PyException_SetTraceback(value, tb);
    PyObject *base = PyErr_GivenExceptionMatches(type, PyExc_TypeError) ? PyExc_TypeError
                                                                         : PyExc_ValueError;
    PyObject *msg = PyUnicode_FromFormat("json: %S", value);
    PyObject *exc = msg ? PyObject_CallOneArg(base, msg) : NULL;
    Py_XDECREF(msg);
    if (exc) {
        PyException_SetCause(exc, Py_NewRef(value));
        PyErr_SetObject(base, exc);
        Py_DECREF(exc);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
    } else {
        PyErr_Restore(type, value, tb);
    }
}

static PyObject *json_body(PyObject *obj)
{
    PyObject *args = PyTuple_Pack(1, obj);
    PyObject *s = args ? PyObject_Call(S.json_dumps, args, S.json_dumps_kw) : NULL;
    Py_XDECREF(args);
    if (!s)
        json_error();
    PyObject *b = s ? PyUnicode_AsUTF8String(s) : NULL;
    Py_XDECREF(s);
    return b;
}

static PyObject *form_body(PyObject *data)
{
    fhp_buf b;
    fhp_buf_init(&b);
    PyObject *r = NULL;
    if (fhp_encode_pairs(&b, data, 1) == 0)
        r = PyBytes_FromStringAndSize(b.p, (Py_ssize_t)b.len);
    fhp_buf_free(&b);
    return r;
}

static int is_form(PyObject *data)
{
    return PyDict_Check(data) || PyList_Check(data) || PyTuple_Check(data) ||
           (!PyUnicode_Check(data) && !PyBytes_Check(data) &&
            PyObject_HasAttr(data, S.s_items));
}

/* Sets r->content / r->stream and the Content-Type the body implies. */
static int build_body(FhpRequest *r, const fhp_reqargs *a)
{
    int given = (a->json && a->json != Py_None) + (a->data && a->data != Py_None) +
                (a->content && a->content != Py_None);
    int has_files = a->files && a->files != Py_None ? PyObject_IsTrue(a->files) : 0;
    if (has_files)
        return has_files < 0 ? -1 : fhp_formdata_body(r, a);
    if (given > 1) {
        PyErr_SetString(PyExc_ValueError, "pass only one of json=, data= and content=");
        return -1;
    }
    FhpHeaders *h = (FhpHeaders *)r->headers;
    if (a->json && a->json != Py_None) {
        if (!(r->content = json_body(a->json)))
            return -1;
        return set_type(h, "application/json");
    }
    if (a->data && a->data != Py_None && is_form(a->data)) {
        if (!(r->content = form_body(a->data)))
            return -1;
        return set_type(h, "application/x-www-form-urlencoded");
    }
    PyObject *src = a->data && a->data != Py_None ? a->data : a->content;
    if (src && src != Py_None)
        return fhp_body_from(src, &r->content, &r->stream);
    r->content = Py_NewRef(S.empty_bytes);
    return 0;
}

PyObject *fhp_request_build(PyObject *method, PyObject *url, const fhp_reqargs *a,
                            PyObject *base, const char *query, size_t qlen,
                            FhpHeaders *defaults)
{
    FhpRequest *r = PyObject_GC_New(FhpRequest, &FhpRequest_Type);
    if (!r)
        return NULL;
    r->url = r->headers = r->content = r->stream = r->sensitive = NULL;
    r->method = upper_method(method);
    PyObject_GC_Track(r);
    if (!r->method)
        goto fail;
    if (!(r->url = fhp_build_url(base, url, query, qlen, a->params)))
        goto fail;
    r->headers = defaults ? fhp_headers_from((PyObject *)defaults) : fhp_headers_new();
    if (!r->headers)
        goto fail;
    if (a->headers && a->headers != Py_None &&
        fhp_headers_merge((FhpHeaders *)r->headers, a->headers, 1) < 0)
        goto fail;
    if (build_body(r, a) < 0)
        goto fail;
    return (PyObject *)r;
fail:
    Py_DECREF(r);
    return NULL;
}

/* ---- the type --------------------------------------------------------------------- */

static PyObject *Request_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"method", "url", "headers", "params", "data", "json",
                             "content", "files", NULL};
    PyObject *method, *url;
    fhp_reqargs a = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$OOOOOO:Request", kwlist, &method, &url,
                                     &a.headers, &a.params, &a.data, &a.json, &a.content,
                                     &a.files))
        return NULL;
    return fhp_request_build(method, url, &a, NULL, NULL, 0, NULL);
}

static int Request_traverse(FhpRequest *self, visitproc visit, void *arg)
{
    Py_VISIT(self->headers);
    Py_VISIT(self->stream);
    Py_VISIT(self->sensitive);
    return 0;
}

static int Request_clear(FhpRequest *self)
{
    Py_CLEAR(self->method);
    Py_CLEAR(self->url);
    Py_CLEAR(self->headers);
    Py_CLEAR(self->content);
    Py_CLEAR(self->stream);
    Py_CLEAR(self->sensitive);
    return 0;
}

static void Request_dealloc(FhpRequest *self)
{
    PyObject_GC_UnTrack(self);
    Request_clear(self);
    PyObject_GC_Del(self);
}

static PyObject *Request_repr(FhpRequest *self)
{
    PyObject *shown = fhp_redacted_url(self->url); /* never the password */
    PyObject *r = shown ? PyUnicode_FromFormat("<Request(%R, %R)>", self->method, shown) : NULL;
    Py_XDECREF(shown);
    return r;
}

static PyMemberDef Request_members[] = {
    {"method", T_OBJECT, offsetof(FhpRequest, method), READONLY, "The method, upper case."},
    {"url", T_OBJECT, offsetof(FhpRequest, url), READONLY,
     "The URL, with params encoded into its query."},
    {"headers", T_OBJECT, offsetof(FhpRequest, headers), READONLY,
     "The headers (a mutable Headers)."},
    {"content", T_OBJECT, offsetof(FhpRequest, content), READONLY,
     "The body as bytes (b'' when none or when the body is a stream)."},
    {"stream", T_OBJECT, offsetof(FhpRequest, stream), READONLY,
     "The iterable or file body, or None."},
    {"_sensitive", T_OBJECT, offsetof(FhpRequest, sensitive), 0,
     "Header names set by a custom auth: not sent across origins (internal)."},
    {NULL, 0, 0, 0, NULL},
};

PyTypeObject FhpRequest_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fasthttp.Request",
    .tp_basicsize = sizeof(FhpRequest),
    .tp_dealloc = (destructor)Request_dealloc,
    .tp_repr = (reprfunc)Request_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Request(method, url, *, headers=None, params=None, data=None, json=None, "
              "content=None): an HTTP request to send with Client.send().",
    .tp_traverse = (traverseproc)Request_traverse,
    .tp_clear = (inquiry)Request_clear,
    .tp_members = Request_members,
    .tp_new = Request_new,
};
