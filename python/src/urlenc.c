/*
 * urlenc.c — base_url joining and the encodings of query strings and
 * application/x-www-form-urlencoded bodies, over a small growable buffer.
 *
 * Joining: a relative URL is appended to base_url, whose path always ends in
 * '/' and whose own query is refused at client creation, after dropping the
 * relative URL's leading slashes, so "/users" against
 * "https://api.example.com/v1" or ".../v1/" gives ".../v1/users". A URL with
 * a scheme ("http://...") is used as it is.
 */
#include "fhpy.h"

#include <stdlib.h>
#include <string.h>

void fhp_buf_init(fhp_buf *b)
{
    b->p = b->small;
    b->len = 0;
    b->cap = sizeof b->small;
}

void fhp_buf_free(fhp_buf *b)
{
    if (b->p != b->small)
        PyMem_Free(b->p);
    fhp_buf_init(b);
}

static int grow(fhp_buf *b, size_t need)
{
    size_t cap = b->cap;
    while (cap < b->len + need + 1)
        cap *= 2;
    char *p = b->p == b->small ? PyMem_Malloc(cap) : PyMem_Realloc(b->p, cap);
    if (!p) {
        PyErr_NoMemory();
        return -1;
    }
    if (b->p == b->small)
        memcpy(p, b->small, b->len);
    b->p = p;
    b->cap = cap;
    return 0;
}

int fhp_buf_put(fhp_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap && grow(b, n) < 0)
        return -1;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int fhp_buf_putc(fhp_buf *b, char c)
{
    return fhp_buf_put(b, &c, 1);
}

/* ---- percent-encoding --------------------------------------------------------- */

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

static int put_escaped(fhp_buf *b, const char *s, size_t n, int form)
{
    static const char hex[] = "0123456789ABCDEF";
    if (b->len + 3 * n + 1 > b->cap && grow(b, 3 * n) < 0)
        return -1;
    char *o = b->p + b->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c)) {
            *o++ = (char)c;
        } else if (c == ' ' && form) {
            *o++ = '+';
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    b->len = (size_t)(o - b->p);
    b->p[b->len] = '\0';
    return 0;
}

/* str → UTF-8, bool → true/false, int/float → str(), bytes → as is. */
static int put_scalar(fhp_buf *b, PyObject *v, int form, const char *what)
{
    const char *s;
    Py_ssize_t n;
    if (PyUnicode_Check(v)) {
        if (!(s = PyUnicode_AsUTF8AndSize(v, &n)))
            return -1;
        return put_escaped(b, s, (size_t)n, form);
    }
    if (PyBytes_Check(v))
        return put_escaped(b, PyBytes_AS_STRING(v), (size_t)PyBytes_GET_SIZE(v), form);
    if (PyBool_Check(v))
        return fhp_buf_put(b, v == Py_True ? "true" : "false", v == Py_True ? 4 : 5);
    if (PyLong_Check(v) || PyFloat_Check(v)) {
        PyObject *t = PyObject_Str(v);
        if (!t)
            return -1;
        s = PyUnicode_AsUTF8AndSize(t, &n);
        int rc = s ? put_escaped(b, s, (size_t)n, form) : -1;
        Py_DECREF(t);
        return rc;
    }
    PyErr_Format(PyExc_TypeError,
                 "%s %s must be str, bytes, int, float, bool or None, not %.100s",
                 form ? "data" : "params", what, Py_TYPE(v)->tp_name);
    return -1;
}

static int put_pair(fhp_buf *b, PyObject *k, PyObject *v, int form)
{
    if (v == Py_None)
        return 0; /* None drops the key */
    if (PyList_Check(v) || PyTuple_Check(v)) {
        Py_ssize_t n = PySequence_Fast_GET_SIZE(v);
        for (Py_ssize_t i = 0; i < n; i++)
            if (put_pair(b, k, PySequence_Fast_GET_ITEM(v, i), form) < 0)
                return -1;
        return 0;
    }
    if (b->len && fhp_buf_putc(b, '&') < 0)
        return -1;
    if (put_scalar(b, k, form, "keys") < 0 || fhp_buf_putc(b, '=') < 0)
        return -1;
    return put_scalar(b, v, form, "values");
}

static int put_pairs_iter(fhp_buf *b, PyObject *src, int form)
{
    PyObject *it = PyObject_GetIter(src);
    if (!it) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError,
                         "%s must be a mapping, a list of (key, value) pairs or a str, not %.100s",
                         form ? "data" : "params", Py_TYPE(src)->tp_name);
        }
        return -1;
    }
    PyObject *item;
    int rc = 0;
    while (rc == 0 && (item = PyIter_Next(it))) {
        PyObject *pair = PySequence_Fast(item, "expected (key, value) pairs");
        if (!pair || PySequence_Fast_GET_SIZE(pair) != 2) {
            if (pair)
                PyErr_SetString(PyExc_ValueError, "expected (key, value) pairs");
            rc = -1;
        } else {
            rc = put_pair(b, PySequence_Fast_GET_ITEM(pair, 0), PySequence_Fast_GET_ITEM(pair, 1),
                          form);
        }
        Py_XDECREF(pair);
        Py_DECREF(item);
    }
    Py_DECREF(it);
    return rc < 0 || PyErr_Occurred() ? -1 : 0;
}

int fhp_encode_pairs(fhp_buf *b, PyObject *params, int form)
{
    if (!params || params == Py_None)
        return 0;
    if (PyUnicode_Check(params) || PyBytes_Check(params)) { /* already encoded */
        Py_ssize_t n;
        const char *s = PyBytes_Check(params) ? PyBytes_AS_STRING(params)
                                              : PyUnicode_AsUTF8AndSize(params, &n);
        if (!s)
            return -1;
        if (PyBytes_Check(params))
            n = PyBytes_GET_SIZE(params);
        if (n == 0)
            return 0;
        if (b->len && fhp_buf_putc(b, '&') < 0)
            return -1;
        return fhp_buf_put(b, s, (size_t)n);
    }
    if (PyDict_Check(params)) {
        PyObject *k, *v;
        Py_ssize_t pos = 0;
        while (PyDict_Next(params, &pos, &k, &v))
            if (put_pair(b, k, v, form) < 0)
                return -1;
        return 0;
    }
    if (PyObject_HasAttr(params, S.s_items)) {
        PyObject *items = PyObject_CallMethodNoArgs(params, S.s_items);
        int rc = items ? put_pairs_iter(b, items, form) : -1;
        Py_XDECREF(items);
        return rc;
    }
    return put_pairs_iter(b, params, form);
}

/* ---- URLs ------------------------------------------------------------------------ */

int fhp_url_is_absolute(const char *u, size_t n)
{
    size_t i = 0;
    while (i < n && ((u[i] >= 'a' && u[i] <= 'z') || (u[i] >= 'A' && u[i] <= 'Z') ||
                     (i > 0 && ((u[i] >= '0' && u[i] <= '9') || u[i] == '+' || u[i] == '-' ||
                                u[i] == '.'))))
        i++;
    return i > 0 && i + 3 <= n && memcmp(u + i, "://", 3) == 0;
}

static int add_query(fhp_buf *b, const char *q1, size_t q1len, PyObject *params)
{
    char *hash = memchr(b->p, '#', b->len);
    if (hash) { /* the fragment is never sent; the query goes before it */
        b->len = (size_t)(hash - b->p);
        b->p[b->len] = '\0';
    }
    char *qm = memchr(b->p, '?', b->len);
    fhp_buf q;
    fhp_buf_init(&q);
    int rc = q1len ? fhp_buf_put(&q, q1, q1len) : 0;
    if (rc == 0)
        rc = fhp_encode_pairs(&q, params, 0);
    if (rc == 0 && q.len) {
        if (!qm)
            rc = fhp_buf_putc(b, '?');
        else if (b->p[b->len - 1] != '?' && b->p[b->len - 1] != '&')
            rc = fhp_buf_putc(b, '&');
        if (rc == 0)
            rc = fhp_buf_put(b, q.p, q.len);
    }
    fhp_buf_free(&q);
    return rc;
}

PyObject *fhp_build_url(PyObject *base, PyObject *url, const char *q1, size_t q1len,
                        PyObject *params)
{
    if (!PyUnicode_Check(url)) {
        PyErr_Format(PyExc_TypeError, "url must be str, not %.100s", Py_TYPE(url)->tp_name);
        return NULL;
    }
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(url, &n);
    if (!u)
        return NULL;
    int join = base && !fhp_url_is_absolute(u, (size_t)n);
    int has_params = params && params != Py_None &&
                     !(PyDict_Check(params) && PyDict_GET_SIZE(params) == 0);
    if (!join && !q1len && !has_params)
        return Py_NewRef(url);
    fhp_buf b;
    fhp_buf_init(&b);
    int rc = 0;
    if (join) {
        Py_ssize_t bn;
        const char *bs = PyUnicode_AsUTF8AndSize(base, &bn);
        while (n > 0 && *u == '/')
            u++, n--;
        rc = bs ? fhp_buf_put(&b, bs, (size_t)bn) : -1;
    }
    if (rc == 0)
        rc = fhp_buf_put(&b, u, (size_t)n);
    if (rc == 0 && (q1len || has_params))
        rc = add_query(&b, q1, q1len, params);
    PyObject *r = rc == 0 ? PyUnicode_DecodeUTF8(b.p, (Py_ssize_t)b.len, NULL) : NULL;
    fhp_buf_free(&b);
    return r;
}
