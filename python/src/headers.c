/*
 * headers.c — Headers: an ordered list of (name, value) fields with
 * case-insensitive access. Response headers are copied compactly from the
 * C response (fhp_rawhdrs) and turned into Python objects only when asked.
 *
 * Semantics: len() counts fields; iteration and keys() give each distinct
 * name once (first spelling seen); items() and values() give every field;
 * h[name] joins repeated fields with ", "; get_list()/getall() give each.
 */
#include "fhpy.h"

#include <stdlib.h>
#include <string.h>

/* ---- raw copies of response headers --------------------------------------- */

/* Copies name and value to raw->data at *off as entry k. */
static void put_ent(fhp_rawhdrs *raw, size_t *off, size_t k, const fh_header *h)
{
    struct fhp_rawent *e = &raw->ent[k];
    e->name_off = (uint32_t)*off, e->name_len = (uint32_t)h->name_len;
    memcpy(raw->data + *off, h->name, h->name_len);
    *off += h->name_len;
    e->value_off = (uint32_t)*off, e->value_len = (uint32_t)h->value_len;
    memcpy(raw->data + *off, h->value, h->value_len);
    *off += h->value_len;
}

static size_t put_str(fhp_rawhdrs *raw, size_t *off, const char *s, uint32_t *len)
{
    size_t at = *off;
    *len = (uint32_t)strlen(s);
    memcpy(raw->data + at, s, *len);
    *off += *len;
    return at;
}

/* One allocation: the reason, the response's fields, and the request the
 * engine sent for it (fh_response_request_*: method, URL, fields). */
fhp_rawhdrs *fhp_rawhdrs_new(const fh_response *resp)
{
    size_t n = fh_response_header_count(resp), nq = fh_response_request_header_count(resp);
    size_t rlen = 0;
    const char *reason = fh_response_reason(resp, &rlen);
    const char *method = fh_response_request_method(resp), *url = fh_response_request_url(resp);
    fh_header h;
    size_t total = rlen + (method ? strlen(method) + strlen(url) : 0);
    for (size_t i = 0; i < n; i++)
        if (fh_response_header_at(resp, i, &h) == FH_OK)
            total += h.name_len + h.value_len;
    for (size_t i = 0; i < nq; i++)
        if (fh_response_request_header_at(resp, i, &h) == FH_OK)
            total += h.name_len + h.value_len;
    size_t entsz = (n + nq) * sizeof(struct fhp_rawent);
    fhp_rawhdrs *raw = malloc(sizeof *raw + entsz + total + 1);
    if (!raw) {
        PyErr_NoMemory();
        return NULL;
    }
    raw->ent = (struct fhp_rawent *)(raw + 1);
    raw->data = (char *)raw->ent + entsz;
    memcpy(raw->data, reason ? reason : "", rlen);
    raw->reason_len = (uint32_t)rlen;
    size_t off = rlen, k = 0;
    for (size_t i = 0; i < n; i++)
        if (fh_response_header_at(resp, i, &h) == FH_OK)
            put_ent(raw, &off, k++, &h);
    raw->n = k;
    raw->has_req = method != NULL;
    if (method) {
        raw->method_off = (uint32_t)put_str(raw, &off, method, &raw->method_len);
        raw->url_off = (uint32_t)put_str(raw, &off, url, &raw->url_len);
    }
    for (size_t i = 0; i < nq; i++)
        if (fh_response_request_header_at(resp, i, &h) == FH_OK)
            put_ent(raw, &off, k++, &h);
    raw->nreq = k - raw->n;
    return raw;
}

void fhp_rawhdrs_free(fhp_rawhdrs *raw)
{
    free(raw);
}

static int ci_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x == y)
            continue;
        if ((x | 0x20) != (y | 0x20) || (x | 0x20) < 'a' || (x | 0x20) > 'z')
            return 0;
    }
    return 1;
}

const char *fhp_rawhdrs_get(const fhp_rawhdrs *raw, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (size_t i = 0; raw && i < raw->n; i++) {
        const struct fhp_rawent *e = &raw->ent[i];
        if (e->name_len == nl && ci_eq(raw->data + e->name_off, name, nl)) {
            *len = e->value_len;
            return raw->data + e->value_off;
        }
    }
    return NULL;
}

/* Values are UTF-8 when they decode as such, otherwise ISO-8859-1. */
static PyObject *decode_value(const char *s, size_t n)
{
    PyObject *v = PyUnicode_DecodeUTF8(s, (Py_ssize_t)n, NULL);
    if (!v && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        PyErr_Clear();
        v = PyUnicode_DecodeLatin1(s, (Py_ssize_t)n, NULL);
    }
    return v;
}

/* Headers of the n entries of raw from first on. */
static PyObject *headers_of(const fhp_rawhdrs *raw, size_t first, size_t n)
{
    FhpHeaders *h = (FhpHeaders *)FhpHeaders_Type.tp_alloc(&FhpHeaders_Type, 0);
    if (!h)
        return NULL;
    if (!(h->list = PyList_New((Py_ssize_t)n))) {
        Py_DECREF(h);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const struct fhp_rawent *e = &raw->ent[first + i];
        PyObject *k = PyUnicode_DecodeLatin1(raw->data + e->name_off, e->name_len, NULL);
        PyObject *v = k ? decode_value(raw->data + e->value_off, e->value_len) : NULL;
        PyObject *t = v ? PyTuple_Pack(2, k, v) : NULL;
        Py_XDECREF(k);
        Py_XDECREF(v);
        if (!t) {
            Py_DECREF(h);
            return NULL;
        }
        PyList_SET_ITEM(h->list, (Py_ssize_t)i, t);
    }
    return (PyObject *)h;
}

PyObject *fhp_headers_from_raw(const fhp_rawhdrs *raw)
{
    return headers_of(raw, 0, raw ? raw->n : 0);
}

PyObject *fhp_headers_from_raw_request(const fhp_rawhdrs *raw)
{
    return headers_of(raw, raw->n, raw->nreq);
}

/* ---- helpers ---------------------------------------------------------------- */

int fhp_name_eq(PyObject *s, const char *name, size_t len)
{
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    if (!u) {
        PyErr_Clear();
        return 0;
    }
    return (size_t)n == len && ci_eq(u, name, len);
}

static int names_eq(PyObject *a, PyObject *b)
{
    if (a == b)
        return 1;
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(b, &n);
    if (!u) {
        PyErr_Clear();
        return 0;
    }
    return fhp_name_eq(a, u, (size_t)n);
}

#define FIELD_NAME(h, i) PyTuple_GET_ITEM(PyList_GET_ITEM((h)->list, (i)), 0)
#define FIELD_VALUE(h, i) PyTuple_GET_ITEM(PyList_GET_ITEM((h)->list, (i)), 1)

/* Names and values must be str (bytes are taken as ISO-8859-1). */
static PyObject *to_str(PyObject *o, const char *what)
{
    if (PyUnicode_Check(o))
        return Py_NewRef(o);
    if (PyBytes_Check(o))
        return PyUnicode_DecodeLatin1(PyBytes_AS_STRING(o), PyBytes_GET_SIZE(o), NULL);
    if (PyLong_Check(o) && !PyBool_Check(o) && what[0] == 'v')
        return PyObject_Str(o);
    PyErr_Format(PyExc_TypeError, "header %s must be str, not %.100s", what,
                 Py_TYPE(o)->tp_name);
    return NULL;
}

static int append_pair(FhpHeaders *h, PyObject *name, PyObject *value)
{
    PyObject *k = to_str(name, "name");
    PyObject *v = k ? to_str(value, "value") : NULL;
    PyObject *t = v ? PyTuple_Pack(2, k, v) : NULL;
    Py_XDECREF(k);
    Py_XDECREF(v);
    if (!t)
        return -1;
    int rc = PyList_Append(h->list, t);
    Py_DECREF(t);
    return rc;
}

int fhp_headers_append(FhpHeaders *h, const char *name, PyObject *value)
{
    PyObject *k = PyUnicode_FromString(name);
    if (!k)
        return -1;
    int rc = append_pair(h, k, value);
    Py_DECREF(k);
    return rc;
}

int fhp_headers_has(FhpHeaders *h, const char *name, size_t len)
{
    Py_ssize_t n = PyList_GET_SIZE(h->list);
    for (Py_ssize_t i = 0; i < n; i++)
        if (fhp_name_eq(FIELD_NAME(h, i), name, len))
            return 1;
    return 0;
}

PyObject *fhp_headers_first(FhpHeaders *h, const char *name, size_t len)
{
    Py_ssize_t n = PyList_GET_SIZE(h->list);
    for (Py_ssize_t i = 0; i < n; i++)
        if (fhp_name_eq(FIELD_NAME(h, i), name, len))
            return Py_NewRef(FIELD_VALUE(h, i));
    return NULL;
}

static int has_name(FhpHeaders *h, PyObject *name)
{
    Py_ssize_t n = PyList_GET_SIZE(h->list);
    for (Py_ssize_t i = 0; i < n; i++)
        if (names_eq(FIELD_NAME(h, i), name))
            return 1;
    return 0;
}

/* Removes every field named name; returns how many were removed. */
static Py_ssize_t remove_name(FhpHeaders *h, PyObject *name)
{
    Py_ssize_t n = PyList_GET_SIZE(h->list), removed = 0;
    for (Py_ssize_t i = n - 1; i >= 0; i--) {
        if (names_eq(FIELD_NAME(h, i), name)) {
            if (PySequence_DelItem(h->list, i) < 0)
                return -1;
            removed++;
        }
    }
    return removed;
}

PyObject *fhp_headers_new(void)
{
    FhpHeaders *h = (FhpHeaders *)FhpHeaders_Type.tp_alloc(&FhpHeaders_Type, 0);
    if (h && !(h->list = PyList_New(0)))
        Py_CLEAR(h);
    return (PyObject *)h;
}

static int add_from_iterable(FhpHeaders *h, PyObject *it_src)
{
    PyObject *it = PyObject_GetIter(it_src);
    if (!it) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError,
                         "headers must be a mapping or (name, value) pairs, not %.100s",
                         Py_TYPE(it_src)->tp_name);
        }
        return -1;
    }
    PyObject *item;
    while ((item = PyIter_Next(it))) {
        PyObject *pair = PySequence_Fast(item, "headers must be pairs of (name, value)");
        int rc = -1;
        if (pair && PySequence_Fast_GET_SIZE(pair) == 2)
            rc = append_pair(h, PySequence_Fast_GET_ITEM(pair, 0),
                             PySequence_Fast_GET_ITEM(pair, 1));
        else if (pair)
            PyErr_SetString(PyExc_ValueError, "headers must be pairs of (name, value)");
        Py_XDECREF(pair);
        Py_DECREF(item);
        if (rc < 0) {
            Py_DECREF(it);
            return -1;
        }
    }
    Py_DECREF(it);
    return PyErr_Occurred() ? -1 : 0;
}

static int add_all(FhpHeaders *h, PyObject *src)
{
    if (src == NULL || src == Py_None)
        return 0;
    if (Py_IS_TYPE(src, &FhpHeaders_Type)) {
        FhpHeaders *o = (FhpHeaders *)src;
        Py_ssize_t n = PyList_GET_SIZE(o->list);
        for (Py_ssize_t i = 0; i < n; i++)
            if (PyList_Append(h->list, PyList_GET_ITEM(o->list, i)) < 0)
                return -1;
        return 0;
    }
    if (PyDict_Check(src)) {
        PyObject *k, *v;
        Py_ssize_t pos = 0;
        while (PyDict_Next(src, &pos, &k, &v))
            if (append_pair(h, k, v) < 0)
                return -1;
        return 0;
    }
    if (PyUnicode_Check(src) || PyBytes_Check(src)) {
        PyErr_SetString(PyExc_TypeError, "headers must be a mapping or pairs, not a string");
        return -1;
    }
    if (PyObject_HasAttr(src, S.s_items)) {
        PyObject *items = PyObject_CallMethodNoArgs(src, S.s_items);
        int rc = items ? add_from_iterable(h, items) : -1;
        Py_XDECREF(items);
        return rc;
    }
    return add_from_iterable(h, src);
}

PyObject *fhp_headers_from(PyObject *src)
{
    if (src && Py_IS_TYPE(src, &FhpHeaders_Type)) {
        /* A copy of a Headers (a client's, into each request): one slice of
         * the same pair objects, which also lets the request carry the
         * client's header set (client.c, set_prefix). */
        FhpHeaders *h = (FhpHeaders *)FhpHeaders_Type.tp_alloc(&FhpHeaders_Type, 0);
        PyObject *list = ((FhpHeaders *)src)->list;
        if (h && !(h->list = PyList_GetSlice(list, 0, PyList_GET_SIZE(list))))
            Py_CLEAR(h);
        return (PyObject *)h;
    }
    PyObject *h = fhp_headers_new();
    if (h && add_all((FhpHeaders *)h, src) < 0)
        Py_CLEAR(h);
    return h;
}

int fhp_headers_merge(FhpHeaders *h, PyObject *src, int replace)
{
    FhpHeaders *tmp = (FhpHeaders *)fhp_headers_from(src);
    if (!tmp)
        return -1;
    Py_ssize_t n = PyList_GET_SIZE(tmp->list);
    for (Py_ssize_t i = 0; replace && i < n; i++) {
        if (remove_name(h, FIELD_NAME(tmp, i)) < 0) {
            Py_DECREF(tmp);
            return -1;
        }
    }
    int rc = 0;
    for (Py_ssize_t i = 0; i < n && rc == 0; i++)
        rc = PyList_Append(h->list, PyList_GET_ITEM(tmp->list, i));
    Py_DECREF(tmp);
    return rc;
}

int fhp_headers_apply(FhpHeaders *h, Py_ssize_t from, fh_request *req, FhpHeaders *skip,
                      PyObject *request, const char *method, const char *url)
{
    Py_ssize_t n = PyList_GET_SIZE(h->list);
    for (Py_ssize_t i = from; i < n; i++) {
        PyObject *k = FIELD_NAME(h, i), *v = FIELD_VALUE(h, i);
        Py_ssize_t kl, vl;
        const char *ks = PyUnicode_AsUTF8AndSize(k, &kl);
        const char *vs = ks ? PyUnicode_AsUTF8AndSize(v, &vl) : NULL;
        if (!vs)
            return -1;
        if (skip && fhp_headers_has(skip, ks, (size_t)kl))
            continue;
        int rc = fh_request_add_header_n(req, ks, (size_t)kl, vs, (size_t)vl);
        if (rc != FH_OK) {
            fhp_raise(rc, fh_request_error_message(req), request, method, url);
            return -1;
        }
    }
    return 0;
}

/* ---- the type ------------------------------------------------------------------ */

static int Headers_init(FhpHeaders *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"headers", NULL};
    PyObject *src = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:Headers", kwlist, &src))
        return -1;
    if (PyList_SetSlice(self->list, 0, PyList_GET_SIZE(self->list), NULL) < 0)
        return -1;
    return add_all(self, src);
}

static PyObject *Headers_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    return fhp_headers_new();
}

/* GC: values may be str subclasses, whose attributes can lead back here. */
static int Headers_traverse(FhpHeaders *self, visitproc visit, void *arg)
{
    Py_VISIT(self->list);
    return 0;
}

/* Empties the fields in place: the methods never see a NULL list. */
static int Headers_clear(FhpHeaders *self)
{
    if (self->list && PyList_SetSlice(self->list, 0, PyList_GET_SIZE(self->list), NULL) < 0)
        PyErr_Clear();
    return 0;
}

static void Headers_dealloc(FhpHeaders *self)
{
    PyObject_GC_UnTrack(self);
    Py_CLEAR(self->list);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static Py_ssize_t Headers_len(FhpHeaders *self)
{
    return PyList_GET_SIZE(self->list);
}

static PyObject *joined(FhpHeaders *self, PyObject *name)
{
    PyObject *first = NULL, *parts = NULL;
    Py_ssize_t n = PyList_GET_SIZE(self->list);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!names_eq(FIELD_NAME(self, i), name))
            continue;
        PyObject *v = FIELD_VALUE(self, i);
        if (!first) {
            first = v;
            continue;
        }
        if (!parts && !(parts = PyList_New(0)))
            return NULL;
        if (PyList_GET_SIZE(parts) == 0 && PyList_Append(parts, first) < 0) {
            Py_DECREF(parts);
            return NULL;
        }
        if (PyList_Append(parts, v) < 0) {
            Py_DECREF(parts);
            return NULL;
        }
    }
    if (!parts)
        return first ? Py_NewRef(first) : NULL;
    PyObject *sep = PyUnicode_FromString(", ");
    PyObject *r = sep ? PyUnicode_Join(sep, parts) : NULL;
    Py_XDECREF(sep);
    Py_DECREF(parts);
    return r;
}

static PyObject *Headers_getitem(FhpHeaders *self, PyObject *name)
{
    if (!PyUnicode_Check(name)) {
        PyErr_SetObject(PyExc_KeyError, name);
        return NULL;
    }
    PyObject *v = joined(self, name);
    if (!v && !PyErr_Occurred())
        PyErr_SetObject(PyExc_KeyError, name);
    return v;
}

static int Headers_setitem(FhpHeaders *self, PyObject *name, PyObject *value)
{
    if (!PyUnicode_Check(name)) {
        PyErr_SetString(PyExc_TypeError, "header names must be str");
        return -1;
    }
    if (value == NULL) {
        Py_ssize_t r = remove_name(self, name);
        if (r == 0)
            PyErr_SetObject(PyExc_KeyError, name);
        return r > 0 ? 0 : -1;
    }
    PyObject *v = to_str(value, "value");
    if (!v)
        return -1;
    /* Replace the first field of that name in place, drop the others. */
    Py_ssize_t n = PyList_GET_SIZE(self->list), at = -1;
    for (Py_ssize_t i = 0; i < n && at < 0; i++)
        if (names_eq(FIELD_NAME(self, i), name))
            at = i;
    int rc;
    if (at < 0) {
        rc = append_pair(self, name, v);
    } else {
        PyObject *t = PyTuple_Pack(2, FIELD_NAME(self, at), v);
        rc = t ? PyList_SetItem(self->list, at, t) : -1;
        for (Py_ssize_t i = PyList_GET_SIZE(self->list) - 1; rc == 0 && i > at; i--)
            if (names_eq(FIELD_NAME(self, i), name))
                rc = PySequence_DelItem(self->list, i);
    }
    Py_DECREF(v);
    return rc;
}

static int Headers_contains(FhpHeaders *self, PyObject *name)
{
    return PyUnicode_Check(name) ? has_name(self, name) : 0;
}

static PyObject *Headers_keys(FhpHeaders *self, PyObject *unused)
{
    PyObject *keys = PyList_New(0);
    Py_ssize_t n = PyList_GET_SIZE(self->list);
    for (Py_ssize_t i = 0; keys && i < n; i++) {
        PyObject *k = FIELD_NAME(self, i);
        int seen = 0;
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(keys) && !seen; j++)
            seen = names_eq(PyList_GET_ITEM(keys, j), k);
        if (!seen && PyList_Append(keys, k) < 0)
            Py_CLEAR(keys);
    }
    return keys;
}

static PyObject *Headers_iter(FhpHeaders *self)
{
    PyObject *keys = Headers_keys(self, NULL);
    PyObject *it = keys ? PyObject_GetIter(keys) : NULL;
    Py_XDECREF(keys);
    return it;
}

static PyObject *Headers_items(FhpHeaders *self, PyObject *unused)
{
    return PyList_GetSlice(self->list, 0, PyList_GET_SIZE(self->list));
}

static PyObject *Headers_values(FhpHeaders *self, PyObject *unused)
{
    Py_ssize_t n = PyList_GET_SIZE(self->list);
    PyObject *r = PyList_New(n);
    for (Py_ssize_t i = 0; r && i < n; i++)
        PyList_SET_ITEM(r, i, Py_NewRef(FIELD_VALUE(self, i)));
    return r;
}

static PyObject *Headers_get(FhpHeaders *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "get() takes a str name and an optional default");
        return NULL;
    }
    PyObject *v = joined(self, args[0]);
    if (v || PyErr_Occurred())
        return v;
    return Py_NewRef(nargs == 2 ? args[1] : Py_None);
}

static PyObject *Headers_get_list(FhpHeaders *self, PyObject *name)
{
    if (!PyUnicode_Check(name)) {
        PyErr_SetString(PyExc_TypeError, "header names must be str");
        return NULL;
    }
    PyObject *r = PyList_New(0);
    Py_ssize_t n = PyList_GET_SIZE(self->list);
    for (Py_ssize_t i = 0; r && i < n; i++)
        if (names_eq(FIELD_NAME(self, i), name) && PyList_Append(r, FIELD_VALUE(self, i)) < 0)
            Py_CLEAR(r);
    return r;
}

static PyObject *Headers_add(FhpHeaders *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "add() takes a name and a value");
        return NULL;
    }
    return append_pair(self, args[0], args[1]) < 0 ? NULL : Py_NewRef(Py_None);
}

static PyObject *Headers_update(FhpHeaders *self, PyObject *src)
{
    return fhp_headers_merge(self, src, 1) < 0 ? NULL : Py_NewRef(Py_None);
}

static PyObject *Headers_copy(FhpHeaders *self, PyObject *unused)
{
    return fhp_headers_from((PyObject *)self);
}

static PyObject *Headers_pop(FhpHeaders *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "pop() takes a str name and an optional default");
        return NULL;
    }
    PyObject *v = joined(self, args[0]);
    if (v) {
        if (remove_name(self, args[0]) < 0)
            Py_CLEAR(v);
        return v;
    }
    if (PyErr_Occurred())
        return NULL;
    if (nargs == 2)
        return Py_NewRef(args[1]);
    PyErr_SetObject(PyExc_KeyError, args[0]);
    return NULL;
}

static PyObject *Headers_setdefault(FhpHeaders *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "setdefault() takes a str name and a value");
        return NULL;
    }
    PyObject *v = joined(self, args[0]);
    if (v || PyErr_Occurred())
        return v;
    if (append_pair(self, args[0], args[1]) < 0)
        return NULL;
    return joined(self, args[0]);
}

/* Lower-cased names, sorted: equality ignores name case and order. */
static PyObject *normalized(FhpHeaders *h)
{
    Py_ssize_t n = PyList_GET_SIZE(h->list);
    PyObject *r = PyList_New(n);
    for (Py_ssize_t i = 0; r && i < n; i++) {
        PyObject *low = PyObject_CallMethod(FIELD_NAME(h, i), "lower", NULL);
        PyObject *t = low ? PyTuple_Pack(2, low, FIELD_VALUE(h, i)) : NULL;
        Py_XDECREF(low);
        if (!t) {
            Py_CLEAR(r);
            break;
        }
        PyList_SET_ITEM(r, i, t);
    }
    if (r && PyList_Sort(r) < 0)
        Py_CLEAR(r);
    return r;
}

static PyObject *Headers_richcompare(FhpHeaders *self, PyObject *other, int op)
{
    if (op != Py_EQ && op != Py_NE)
        Py_RETURN_NOTIMPLEMENTED;
    if (!Py_IS_TYPE(other, &FhpHeaders_Type) && !PyDict_Check(other) &&
        !PyList_Check(other))
        Py_RETURN_NOTIMPLEMENTED;
    FhpHeaders *o = (FhpHeaders *)fhp_headers_from(other);
    if (!o)
        return NULL;
    PyObject *a = normalized(self), *b = normalized(o);
    Py_DECREF(o);
    PyObject *r = a && b ? PyObject_RichCompare(a, b, op) : NULL;
    Py_XDECREF(a);
    Py_XDECREF(b);
    return r;
}

static PyObject *Headers_repr(FhpHeaders *self)
{
    return PyUnicode_FromFormat("Headers(%R)", self->list);
}

static PyMappingMethods Headers_as_mapping = {
    (lenfunc)Headers_len, (binaryfunc)Headers_getitem, (objobjargproc)Headers_setitem,
};

static PySequenceMethods Headers_as_sequence = {
    .sq_contains = (objobjproc)Headers_contains,
};

static PyMethodDef Headers_methods[] = {
    {"get", (PyCFunction)(void (*)(void))Headers_get, METH_FASTCALL,
     "get(name, default=None): the value(s) of name joined with ', ', or default."},
    {"get_list", (PyCFunction)Headers_get_list, METH_O, "Every value of name, in order."},
    {"getall", (PyCFunction)Headers_get_list, METH_O, "Alias of get_list()."},
    {"keys", (PyCFunction)Headers_keys, METH_NOARGS, "Distinct names, in order."},
    {"values", (PyCFunction)Headers_values, METH_NOARGS, "Every value, in order."},
    {"items", (PyCFunction)Headers_items, METH_NOARGS, "Every (name, value) field."},
    {"multi_items", (PyCFunction)Headers_items, METH_NOARGS, "Alias of items()."},
    {"add", (PyCFunction)(void (*)(void))Headers_add, METH_FASTCALL,
     "add(name, value): appends a field, keeping those of the same name."},
    {"update", (PyCFunction)Headers_update, METH_O,
     "Replaces the fields named in the argument with its fields."},
    {"copy", (PyCFunction)Headers_copy, METH_NOARGS, "A shallow copy."},
    {"pop", (PyCFunction)(void (*)(void))Headers_pop, METH_FASTCALL,
     "pop(name[, default]): removes every field of name, returns the joined value."},
    {"setdefault", (PyCFunction)(void (*)(void))Headers_setdefault, METH_FASTCALL,
     "setdefault(name, value): adds the field if name is absent; returns the value."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject FhpHeaders_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fasthttp.Headers",
    .tp_basicsize = sizeof(FhpHeaders),
    .tp_dealloc = (destructor)Headers_dealloc,
    .tp_repr = (reprfunc)Headers_repr,
    .tp_as_sequence = &Headers_as_sequence,
    .tp_as_mapping = &Headers_as_mapping,
    .tp_hash = PyObject_HashNotImplemented,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)Headers_traverse,
    .tp_clear = (inquiry)Headers_clear,
    .tp_doc = "Headers(headers=None): HTTP header fields, ordered, multi-valued and "
              "case-insensitive.",
    .tp_richcompare = (richcmpfunc)Headers_richcompare,
    .tp_iter = (getiterfunc)Headers_iter,
    .tp_methods = Headers_methods,
    .tp_init = (initproc)Headers_init,
    .tp_new = Headers_new,
};
