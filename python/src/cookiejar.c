/*
 * cookiejar.c — _CookieJar, the C base of fasthttp.cookies.CookieJar: one
 * fh_cookie_jar (RFC 6265, thread-safe, see fasthttp/cookies.h) that a
 * Client hands to libfasthttp. The Python subclass adds get(), iteration
 * and the other conveniences on top of _get() and _entries().
 */
#include "fhpy.h"

#include <fasthttp/cookies.h>
#include <math.h>
#include <string.h>

fh_cookie_jar *fhp_jar_of(PyObject *o)
{
    return PyObject_TypeCheck(o, &FhpCookieJar_Type) ? ((FhpCookieJar *)o)->jar : NULL;
}

static int jar_error(int rc, const char *what)
{
    if (rc == FH_ENOMEM)
        PyErr_NoMemory();
    else
        PyErr_Format(PyExc_ValueError, "%s: %s", what, fh_strerror(rc));
    return -1;
}

/* str or None → UTF-8 (NULL for None); -1 on a wrong type. */
static int opt_str(PyObject *o, const char *what, const char **out)
{
    *out = NULL;
    if (!o || o == Py_None)
        return 0;
    if (!PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "cookie %s must be a str, not %.100s", what,
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    Py_ssize_t n;
    *out = PyUnicode_AsUTF8AndSize(o, &n);
    if (!*out)
        return -1;
    if ((size_t)n != strlen(*out)) {
        PyErr_Format(PyExc_ValueError, "cookie %s contains a NUL character", what);
        return -1;
    }
    return 0;
}

int fhp_jar_set(fh_cookie_jar *jar, PyObject *name, PyObject *value, const char *domain)
{
    const char *n, *v;
    if (!name || !PyUnicode_Check(name) || !value || !PyUnicode_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "cookie names and values must be str");
        return -1;
    }
    if (opt_str(name, "name", &n) < 0 || opt_str(value, "value", &v) < 0)
        return -1;
    int rc = fh_cookie_jar_set(jar, n, v, domain, NULL, 0, 0, -1);
    if (rc != FH_OK) {
        if (rc == FH_ENOMEM)
            return jar_error(rc, "");
        PyErr_Format(PyExc_ValueError,
                     "invalid cookie %R: names must be non-empty and without '=', and "
                     "neither may contain ';' or control characters (at most %d bytes)",
                     name, FH_COOKIE_MAX_BYTES);
        return -1;
    }
    return 0;
}

int fhp_jar_merge(fh_cookie_jar *dst, fh_cookie_jar *src)
{
    /* Copies keep every attribute, host-only and SameSite included. */
    size_t n = fh_cookie_jar_count(src);
    for (size_t i = 0; i < n; i++) {
        fh_cookie c;
        int rc = fh_cookie_jar_at(src, i, &c);
        if (rc == FH_EINVAL)
            break; /* the jar shrank meanwhile */
        if (rc != FH_OK)
            return jar_error(rc, "copying cookies");
        rc = fh_cookie_jar_add(dst, &c);
        fh_cookie_free(&c);
        if (rc == FH_ENOMEM)
            return jar_error(rc, "copying cookies");
    }
    return 0;
}

static PyObject *cookie_tuple(const fh_cookie *c)
{
    PyObject *expires = c->expires_unix < 0 ? Py_NewRef(Py_None)
                                            : PyLong_FromLongLong((long long)c->expires_unix);
    if (!expires)
        return NULL;
    PyObject *t = Py_BuildValue("(ssssNNNNz)", c->name, c->value, c->domain, c->path,
                                PyBool_FromLong(c->secure), PyBool_FromLong(c->http_only),
                                PyBool_FromLong(c->host_only), expires, c->same_site);
    return t;
}

/* ---- the type ------------------------------------------------------------------- */

static PyObject *Jar_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    /* Arguments are the subclass's business (its __init__). */
    FhpCookieJar *self = (FhpCookieJar *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    if (!(self->jar = fh_cookie_jar_new())) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

static int Jar_init(PyObject *self, PyObject *args, PyObject *kw)
{
    return 0;
}

static void Jar_dealloc(FhpCookieJar *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    if (PyType_HasFeature(tp, Py_TPFLAGS_HAVE_GC))
        PyObject_GC_UnTrack(self);
    fh_cookie_jar_free(self->jar); /* no client uses it: each holds a reference */
    self->jar = NULL;
    tp->tp_free((PyObject *)self);
}

static Py_ssize_t Jar_len(FhpCookieJar *self)
{
    return (Py_ssize_t)fh_cookie_jar_count(self->jar);
}

/* expires: seconds since the epoch (int or float) or None → -1. */
static int expires_arg(PyObject *expires, int64_t *out)
{
    *out = -1;
    if (!expires || expires == Py_None)
        return 0;
    if (PyBool_Check(expires) || !PyNumber_Check(expires)) {
        PyErr_Format(PyExc_TypeError,
                     "cookie expires must be seconds since the epoch (a number) or None, "
                     "not %.100s",
                     Py_TYPE(expires)->tp_name);
        return -1;
    }
    double e = PyFloat_AsDouble(expires);
    if (e == -1.0 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError))
            return -1;
        PyErr_Clear(); /* an int beyond any float: the latest date, as below */
        e = HUGE_VAL;
    }
    if (isnan(e)) {
        PyErr_SetString(PyExc_ValueError, "cookie expires must be seconds since the epoch, "
                                          "not NaN");
        return -1;
    }
    *out = e <= 0 ? 0 : e > 253402300799.0 ? 253402300799 : (int64_t)e;
    return 0;
}

/* A flag given under either spelling (http_only / the original library's
 * httponly): both at once is an error. */
static int either_flag(PyObject *a, PyObject *b, const char *names, int *out)
{
    if (a && b) {
        PyErr_Format(PyExc_TypeError, "set() takes only one of %s", names);
        return -1;
    }
    PyObject *v = a ? a : b;
    *out = v ? PyObject_IsTrue(v) : 0;
    return *out < 0 ? -1 : 0;
}

static PyObject *Jar_set(FhpCookieJar *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"name", "value", "domain", "path", "secure", "http_only",
                             "expires", "httponly", "samesite", "same_site", "host_only", NULL};
    PyObject *name, *value, *domain = NULL, *path = NULL, *expires = NULL, *http_only = NULL,
             *httponly = NULL, *samesite = NULL, *same_site = NULL;
    int secure = 0, host_only = 0, ho;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|OOpOO$OOOp:set", kwlist, &name, &value,
                                     &domain, &path, &secure, &http_only, &expires, &httponly,
                                     &samesite, &same_site, &host_only))
        return NULL;
    if (!PyUnicode_Check(name) || !PyUnicode_Check(value)) {
        PyObject *bad = PyUnicode_Check(name) ? value : name;
        PyErr_Format(PyExc_TypeError, "cookie %s must be a str, not %.100s",
                     bad == name ? "name" : "value", Py_TYPE(bad)->tp_name);
        return NULL;
    }
    if (samesite && same_site) {
        PyErr_SetString(PyExc_TypeError, "set() takes only one of samesite and same_site");
        return NULL;
    }
    fh_cookie c = {0};
    if (either_flag(http_only, httponly, "http_only and httponly", &ho) < 0 ||
        opt_str(name, "name", &c.name) < 0 || opt_str(value, "value", &c.value) < 0 ||
        opt_str(domain, "domain", &c.domain) < 0 || opt_str(path, "path", &c.path) < 0 ||
        opt_str(samesite ? samesite : same_site, "samesite", &c.same_site) < 0 ||
        expires_arg(expires, &c.expires_unix) < 0)
        return NULL;
    c.secure = secure, c.http_only = ho, c.host_only = host_only;
    int rc = fh_cookie_jar_add(self->jar, &c);
    if (rc == FH_ENOMEM)
        return PyErr_NoMemory();
    if (rc != FH_OK) {
        PyErr_Format(PyExc_ValueError,
                     "invalid cookie %R: the name must be non-empty and without '='; name, "
                     "value and path may not contain ';' or control characters; the path "
                     "starts with '/'; the domain must be a host name; samesite is Strict, "
                     "Lax or None; name and value together at most %d bytes",
                     name, FH_COOKIE_MAX_BYTES);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* _header(url): the Cookie value a request to url would carry, or None. */
static PyObject *Jar__header(FhpCookieJar *self, PyObject *url)
{
    const char *u;
    if (!PyUnicode_Check(url)) {
        PyErr_Format(PyExc_TypeError, "url must be a str, not %.100s", Py_TYPE(url)->tp_name);
        return NULL;
    }
    if (opt_str(url, "url", &u) < 0)
        return NULL;
    char small[1024];
    size_t n = fh_cookie_jar_header(self->jar, u, small, sizeof small);
    if (n == 0)
        Py_RETURN_NONE;
    if (n < sizeof small)
        return PyUnicode_DecodeUTF8(small, (Py_ssize_t)n, "replace");
    char *big = PyMem_Malloc(n + 64); /* another thread may add a cookie meanwhile */
    if (!big)
        return PyErr_NoMemory();
    size_t m = fh_cookie_jar_header(self->jar, u, big, n + 64);
    PyObject *r = PyUnicode_DecodeUTF8(big, (Py_ssize_t)(m < n + 64 ? m : n + 63), "replace");
    PyMem_Free(big);
    return r;
}

/* _store(url, set_cookie): one Set-Cookie value received from url; True
 * when it changed the jar, False when libfasthttp ignored it. */
static PyObject *Jar__store(FhpCookieJar *self, PyObject *const *args, Py_ssize_t nargs)
{
    const char *u, *v;
    Py_ssize_t vlen;
    if (nargs != 2 || !PyUnicode_Check(args[0]) || !PyUnicode_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "_store(url, set_cookie) takes two str");
        return NULL;
    }
    if (opt_str(args[0], "url", &u) < 0 || !(v = PyUnicode_AsUTF8AndSize(args[1], &vlen)))
        return NULL;
    int rc = fh_cookie_jar_store(self->jar, u, v, (size_t)vlen);
    if (rc == FH_ENOMEM)
        return PyErr_NoMemory();
    return PyBool_FromLong(rc == FH_OK);
}

static int filter_args(PyObject *const *args, Py_ssize_t nargs, const char *fname,
                       const char **n, const char **d, const char **p)
{
    if (nargs < 1 || nargs > 3) {
        PyErr_Format(PyExc_TypeError, "%s() takes 1 to 3 arguments", fname);
        return -1;
    }
    if (!PyUnicode_Check(args[0])) {
        PyErr_Format(PyExc_TypeError, "cookie name must be a str, not %.100s",
                     Py_TYPE(args[0])->tp_name);
        return -1;
    }
    return opt_str(args[0], "name", n) < 0 ||
                   opt_str(nargs > 1 ? args[1] : NULL, "domain", d) < 0 ||
                   opt_str(nargs > 2 ? args[2] : NULL, "path", p) < 0
               ? -1
               : 0;
}

static PyObject *Jar__get(FhpCookieJar *self, PyObject *const *args, Py_ssize_t nargs)
{
    const char *n, *d, *p;
    if (filter_args(args, nargs, "_get", &n, &d, &p) < 0)
        return NULL;
    fh_cookie c;
    int rc = fh_cookie_jar_get(self->jar, n, d, p, &c);
    if (rc < 0) {
        jar_error(rc, "get");
        return NULL;
    }
    if (rc == 0)
        Py_RETURN_NONE;
    PyObject *t = cookie_tuple(&c);
    fh_cookie_free(&c);
    return t;
}

static PyObject *Jar_delete(FhpCookieJar *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"name", "domain", "path", NULL};
    PyObject *name, *domain = NULL, *path = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OO:delete", kwlist, &name, &domain, &path))
        return NULL;
    const char *n, *d, *p;
    if (!PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError, "cookie name must be a str, not %.100s",
                     Py_TYPE(name)->tp_name);
        return NULL;
    }
    if (opt_str(name, "name", &n) < 0 || opt_str(domain, "domain", &d) < 0 ||
        opt_str(path, "path", &p) < 0)
        return NULL;
    int rc = fh_cookie_jar_delete(self->jar, n, d, p);
    if (rc < 0) {
        jar_error(rc, "delete");
        return NULL;
    }
    return PyLong_FromLong(rc);
}

static PyObject *Jar_clear(FhpCookieJar *self, PyObject *unused)
{
    fh_cookie_jar_clear(self->jar);
    Py_RETURN_NONE;
}

static PyObject *Jar__entries(FhpCookieJar *self, PyObject *unused)
{
    size_t n = fh_cookie_jar_count(self->jar);
    PyObject *list = PyList_New(0);
    for (size_t i = 0; list && i < n; i++) {
        fh_cookie c;
        int rc = fh_cookie_jar_at(self->jar, i, &c);
        if (rc == FH_EINVAL)
            break; /* another thread removed cookies meanwhile */
        if (rc != FH_OK) {
            jar_error(rc, "cookies");
            Py_CLEAR(list);
            break;
        }
        PyObject *t = cookie_tuple(&c);
        fh_cookie_free(&c);
        if (!t || PyList_Append(list, t) < 0)
            Py_CLEAR(list);
        Py_XDECREF(t);
    }
    return list;
}

static PyObject *Jar__merge(FhpCookieJar *self, PyObject *other)
{
    fh_cookie_jar *src = fhp_jar_of(other);
    if (!src) {
        PyErr_SetString(PyExc_TypeError, "_merge() takes a CookieJar");
        return NULL;
    }
    if (src != self->jar && fhp_jar_merge(self->jar, src) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static int64_t fake_time(void *ud)
{
    return ((FhpCookieJar *)ud)->fake_now;
}

static PyObject *Jar__set_fake_time(FhpCookieJar *self, PyObject *arg)
{
    if (arg == Py_None) {
        fh_cookie_jar_set_clock(self->jar, NULL, NULL);
        Py_RETURN_NONE;
    }
    long long t = PyLong_AsLongLong(arg);
    if (t == -1 && PyErr_Occurred())
        return NULL;
    self->fake_now = (int64_t)t; /* read by the jar under its mutex */
    fh_cookie_jar_set_clock(self->jar, fake_time, self);
    Py_RETURN_NONE;
}

static PySequenceMethods Jar_as_sequence = {
    .sq_length = (lenfunc)Jar_len,
};

static PyMethodDef Jar_methods[] = {
    {"set", (PyCFunction)(void (*)(void))Jar_set, METH_VARARGS | METH_KEYWORDS,
     "set(name, value, domain=None, path=None, secure=False, http_only=False, expires=None, "
     "*, httponly=None, samesite=None, same_site=None, host_only=False)"},
    {"delete", (PyCFunction)(void (*)(void))Jar_delete, METH_VARARGS | METH_KEYWORDS,
     "delete(name, domain=None, path=None) -> number of cookies removed"},
    {"clear", (PyCFunction)Jar_clear, METH_NOARGS, "Removes every cookie."},
    {"_header", (PyCFunction)Jar__header, METH_O,
     "_header(url) -> the Cookie header value for a request to url, or None"},
    {"_store", (PyCFunction)(void (*)(void))Jar__store, METH_FASTCALL,
     "_store(url, set_cookie) -> True when a Set-Cookie value received from url was stored"},
    {"_get", (PyCFunction)(void (*)(void))Jar__get, METH_FASTCALL,
     "_get(name, domain=None, path=None) -> cookie tuple or None"},
    {"_entries", (PyCFunction)Jar__entries, METH_NOARGS, "Every cookie as a tuple."},
    {"_merge", (PyCFunction)Jar__merge, METH_O, "Copies the cookies of another jar."},
    {"_set_fake_time", (PyCFunction)Jar__set_fake_time, METH_O,
     "For tests: the jar's clock (seconds since the epoch), None for the real one."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject FhpCookieJar_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fasthttp._fasthttp._CookieJar",
    .tp_basicsize = sizeof(FhpCookieJar),
    .tp_dealloc = (destructor)Jar_dealloc,
    .tp_as_sequence = &Jar_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The C base of fasthttp.cookies.CookieJar (an fh_cookie_jar).",
    .tp_methods = Jar_methods,
    .tp_init = Jar_init,
    .tp_new = Jar_new,
};
