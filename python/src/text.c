/*
 * text.c — the text side of a Response: the encoding (set by the user, else
 * Content-Type's charset, else for JSON the RFC 8259 §8.1 detection of
 * UTF-8/16/32, else UTF-8), text(), json(), and the iterators behind
 * iter_bytes(), iter_text() and iter_lines().
 */
#include "fhpy.h"

#include <string.h>

/* ---- encoding ------------------------------------------------------------------------ */

static int ci_prefix(const char *s, size_t n, const char *p)
{
    size_t pl = strlen(p);
    if (n < pl)
        return 0;
    for (size_t i = 0; i < pl; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c | 0x20);
        if (c != p[i])
            return 0;
    }
    return 1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* The charset parameter of a Content-Type value, lower-cased, if Python
 * knows the codec; NULL without an exception otherwise. */
static PyObject *charset_of(PyObject *ctype)
{
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(ctype, &n);
    if (!s) {
        PyErr_Clear();
        return NULL;
    }
    const char *end = s + n, *p = memchr(s, ';', (size_t)n);
    while (p && p < end) {
        p++;
        while (p < end && is_space(*p))
            p++;
        if (ci_prefix(p, (size_t)(end - p), "charset=")) {
            p += 8;
            int quoted = p < end && *p == '"';
            p += quoted;
            const char *v = p;
            while (p < end && *p != ';' && *p != '"' && !is_space(*p))
                p++;
            PyObject *cs = PyUnicode_DecodeLatin1(v, p - v, NULL);
            PyObject *low = cs ? PyObject_CallMethod(cs, "lower", NULL) : NULL;
            Py_XDECREF(cs);
            PyObject *info = low ? PyObject_CallOneArg(S.codecs_lookup, low) : NULL;
            if (!info) {
                PyErr_Clear();
                Py_XDECREF(low);
                return NULL;
            }
            Py_DECREF(info);
            return low;
        }
        p = memchr(p, ';', (size_t)(end - p));
    }
    return NULL;
}

static int is_json_type(PyObject *ctype)
{
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(ctype, &n);
    if (!s) {
        PyErr_Clear();
        return 0;
    }
    const char *semi = memchr(s, ';', (size_t)n);
    size_t len = semi ? (size_t)(semi - s) : (size_t)n;
    while (len && is_space(s[len - 1]))
        len--;
    if (len == 16 && ci_prefix(s, len, "application/json"))
        return 1;
    return len > 5 && ci_prefix(s + len - 5, 5, "+json");
}

/* RFC 8259 §8.1 (and the BOMs RFC 4627 readers meet): the pattern of zero
 * bytes among the first four tells UTF-16/32 and the byte order. */
static const char *json_encoding(const unsigned char *b, size_t n)
{
    if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF)
        return "utf-8-sig";
    if (n >= 4 && ((!b[0] && !b[1] && b[2] == 0xFE && b[3] == 0xFF) ||
                   (b[0] == 0xFF && b[1] == 0xFE && !b[2] && !b[3])))
        return "utf-32";
    if (n >= 2 && ((b[0] == 0xFE && b[1] == 0xFF) || (b[0] == 0xFF && b[1] == 0xFE)))
        return "utf-16";
    if (n >= 4) {
        if (!b[0] && !b[1] && !b[2] && b[3])
            return "utf-32-be";
        if (b[0] && !b[1] && !b[2] && !b[3])
            return "utf-32-le";
        if (!b[0] && b[1] && !b[2] && b[3])
            return "utf-16-be";
        if (b[0] && !b[1] && b[2] && !b[3])
            return "utf-16-le";
    } else if (n >= 2) {
        if (!b[0] && b[1])
            return "utf-16-be";
        if (b[0] && !b[1])
            return "utf-16-le";
    }
    return "utf-8";
}

PyObject *fhp_response_encoding(FhpResponse *r)
{
    if (r->encoding)
        return Py_NewRef(r->encoding);
    PyObject *ct = fhp_response_header(r, "content-type");
    if (!ct) {
        if (PyErr_Occurred())
            return NULL;
        return Py_NewRef(S.s_utf8);
    }
    PyObject *cs = charset_of(ct);
    if (!cs && is_json_type(ct) && r->content) {
        const char *e = json_encoding((const unsigned char *)PyBytes_AS_STRING(r->content),
                                      (size_t)PyBytes_GET_SIZE(r->content));
        cs = PyUnicode_FromString(e);
    }
    Py_DECREF(ct);
    return cs ? cs : Py_NewRef(S.s_utf8);
}

/* ---- text() and json() ----------------------------------------------------------------- */

PyObject *fhp_response_text(FhpResponse *r, PyObject *unused)
{
    PyObject *content = fhp_response_read_all(r);
    PyObject *enc = content ? fhp_response_encoding(r) : NULL;
    PyObject *s = NULL;
    const char *e = enc ? PyUnicode_AsUTF8(enc) : NULL;
    if (e)
        s = PyUnicode_Decode(PyBytes_AS_STRING(content), PyBytes_GET_SIZE(content), e,
                             "replace");
    Py_XDECREF(content);
    Py_XDECREF(enc);
    return s;
}

/* text(encoding=None): the original library's argument decodes with that
 * codec once, without changing response.encoding. */
PyObject *fhp_response_text_method(FhpResponse *r, PyObject *const *args, Py_ssize_t nargs,
                                   PyObject *kwnames)
{
    static PyObject **names[] = {&S.k_encoding};
    fhp_sig sig = {"text", names, 1, 1, 0};
    PyObject *enc;
    if (fhp_parse(&sig, args, nargs, kwnames, &enc) < 0)
        return NULL;
    if (!enc || enc == Py_None)
        return fhp_response_text(r, NULL);
    if (!PyUnicode_Check(enc)) {
        PyErr_Format(PyExc_TypeError, "text(): encoding must be a str or None, not %.100s",
                     Py_TYPE(enc)->tp_name);
        return NULL;
    }
    PyObject *content = fhp_response_read_all(r);
    const char *e = content ? PyUnicode_AsUTF8(enc) : NULL;
    PyObject *s = e ? PyUnicode_Decode(PyBytes_AS_STRING(content), PyBytes_GET_SIZE(content), e,
                                       "replace")
                    : NULL;
    Py_XDECREF(content);
    return s;
}

PyObject *fhp_response_json(FhpResponse *r, PyObject *const *args, Py_ssize_t nargs,
                            PyObject *kwnames)
{
    if (nargs) {
        PyErr_SetString(PyExc_TypeError, "json() takes only keyword arguments");
        return NULL;
    }
    PyObject *doc = fhp_response_read_all(r);
    if (!doc)
        return NULL;
    /* json.loads() detects UTF-8/16/32 in bytes itself; text is decoded
     * first only when an encoding was set or declared. */
    int as_text = r->encoding != NULL;
    if (!as_text) {
        PyObject *ct = fhp_response_header(r, "content-type");
        PyObject *cs = ct ? charset_of(ct) : NULL;
        as_text = cs && PyUnicode_CompareWithASCIIString(cs, "utf-8") != 0 &&
                  PyUnicode_CompareWithASCIIString(cs, "utf8") != 0;
        Py_XDECREF(ct);
        Py_XDECREF(cs);
    }
    if (as_text) {
        Py_DECREF(doc);
        if (!(doc = fhp_response_text(r, NULL)))
            return NULL;
    }
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    PyObject *stack[16];
    if (nkw > 15) {
        Py_DECREF(doc);
        PyErr_SetString(PyExc_TypeError, "json(): too many keyword arguments");
        return NULL;
    }
    stack[0] = doc;
    for (Py_ssize_t i = 0; i < nkw; i++)
        stack[1 + i] = args[i];
    PyObject *res = PyObject_Vectorcall(S.json_loads, stack, 1, kwnames);
    Py_DECREF(doc);
    return res;
}

/* ---- iter_bytes() ---------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    FhpResponse *resp;
    Py_ssize_t chunk_size; /* 0: as the bytes arrive */
    Py_ssize_t pos;        /* offset in resp->content when buffered */
} ByteIter;

/* `async for` over what iter_bytes(), iter_text() or iter_lines() returned
 * (the original library's iterators were async): the response's
 * aiter_bytes(), aiter_text() or aiter_lines() with the same chunk size. */
static PyObject *async_view(FhpResponse *r, Py_ssize_t chunk_size, const char *helper)
{
    if (!r) {
        PyErr_SetString(PyExc_RuntimeError, "this iterator is exhausted");
        return NULL;
    }
    if (!helper)
        return fhp_aiter_bytes_new(r, chunk_size);
    PyObject *cs = chunk_size ? PyLong_FromSsize_t(chunk_size) : Py_NewRef(Py_None);
    PyObject *res = cs ? fhp_aio_text_helper(r, helper, cs) : NULL;
    Py_XDECREF(cs);
    return res;
}

/* GC: the iterator holds its Response, which user code can make point
 * back at it (an attribute of a subclass, a closure in a hook...). */
static int ByteIter_traverse(ByteIter *it, visitproc visit, void *arg)
{
    Py_VISIT(it->resp);
    return 0;
}

static int ByteIter_clear(ByteIter *it)
{
    Py_CLEAR(it->resp);
    return 0;
}

static void ByteIter_dealloc(ByteIter *it)
{
    PyObject_GC_UnTrack(it);
    ByteIter_clear(it);
    PyObject_GC_Del(it);
}

static PyObject *ByteIter_next(ByteIter *it)
{
    FhpResponse *r = it->resp;
    if (!r)
        return NULL; /* cleared by the GC: exhausted */
    if (r->content) {
        Py_ssize_t n = PyBytes_GET_SIZE(r->content), left = n - it->pos;
        if (left <= 0)
            return NULL;
        Py_ssize_t take = it->chunk_size && it->chunk_size < left ? it->chunk_size : left;
        PyObject *b = take == n ? Py_NewRef(r->content)
                                : PyBytes_FromStringAndSize(
                                      PyBytes_AS_STRING(r->content) + it->pos, take);
        it->pos += take;
        return b;
    }
    PyObject *b = fhp_response_read_chunk(r, it->chunk_size ? (size_t)it->chunk_size : 65536,
                                          it->chunk_size != 0);
    if (b && PyBytes_GET_SIZE(b) == 0)
        Py_CLEAR(b); /* the end */
    return b;
}

static PyObject *ByteIter_aiter(ByteIter *it)
{
    return async_view(it->resp, it->chunk_size, NULL);
}

static PyAsyncMethods ByteIter_async = {
    .am_aiter = (unaryfunc)ByteIter_aiter,
};

PyTypeObject FhpByteIter_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fasthttp._fasthttp.ByteIterator",
    .tp_basicsize = sizeof(ByteIter),
    .tp_dealloc = (destructor)ByteIter_dealloc,
    .tp_as_async = &ByteIter_async,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)ByteIter_traverse,
    .tp_clear = (inquiry)ByteIter_clear,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)ByteIter_next,
};

int fhp_chunk_size_arg(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                       const char *fname, PyObject **raw, Py_ssize_t *out)
{
    static PyObject **names[] = {&S.k_chunk_size};
    fhp_sig sig = {fname, names, 1, 1, 0};
    PyObject *v;
    if (fhp_parse(&sig, args, nargs, kwnames, &v) < 0)
        return -1;
    if (raw)
        *raw = v ? v : Py_None;
    *out = 0;
    if (v && v != Py_None) {
        *out = PyLong_AsSsize_t(v);
        if (*out == -1 && PyErr_Occurred())
            return -1;
        if (*out <= 0) {
            PyErr_SetString(PyExc_ValueError, "chunk_size must be positive or None");
            return -1;
        }
    }
    return 0;
}

static PyObject *byte_iter(FhpResponse *r, Py_ssize_t chunk_size)
{
    /* A stream on an event loop is consumed when `async for` starts
     * (aiter_bytes()); a plain `for` is refused by the read itself. */
    if (!r->content && !r->astream) {
        if (r->consumed) {
            PyErr_SetString(S.E_StreamConsumed, "the response body was already consumed");
            return NULL;
        }
        if (r->closed) {
            PyErr_SetString(S.E_StreamClosed, "the response was closed before it was read");
            return NULL;
        }
        r->consumed = 1;
    }
    ByteIter *it = PyObject_GC_New(ByteIter, &FhpByteIter_Type);
    if (!it)
        return NULL;
    it->resp = (FhpResponse *)Py_NewRef((PyObject *)r);
    it->chunk_size = chunk_size;
    it->pos = 0;
    PyObject_GC_Track(it);
    return (PyObject *)it;
}

PyObject *fhp_response_iter_bytes(FhpResponse *r, PyObject *const *args, Py_ssize_t nargs,
                                  PyObject *kwnames)
{
    Py_ssize_t cs;
    if (fhp_chunk_size_arg(args, nargs, kwnames, "iter_bytes", NULL, &cs) < 0)
        return NULL;
    return byte_iter(r, cs);
}

/* ---- iter_text() and iter_lines() ---------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    FhpResponse *resp; /* for `async for` */
    Py_ssize_t chunk_size;
    PyObject *src;     /* ByteIterator (text mode) or text iterator (lines mode) */
    PyObject *decoder; /* incremental decoder (text mode) */
    PyObject *pending; /* lines mode: text after the last line break */
    PyObject *ready;   /* lines mode: complete lines not yet returned */
    Py_ssize_t ready_pos;
    int lines, done;
} TextIter;

static int TextIter_traverse(TextIter *it, visitproc visit, void *arg)
{
    Py_VISIT((PyObject *)it->resp);
    Py_VISIT(it->src);
    Py_VISIT(it->decoder);
    Py_VISIT(it->pending);
    Py_VISIT(it->ready);
    return 0;
}

/* Leaves an exhausted iterator: no source, nothing pending. */
static int TextIter_clear(TextIter *it)
{
    it->done = 1;
    Py_CLEAR(it->resp);
    Py_CLEAR(it->src);
    Py_CLEAR(it->decoder);
    Py_CLEAR(it->ready);
    Py_CLEAR(it->pending);
    return 0;
}

static void TextIter_dealloc(TextIter *it)
{
    PyObject_GC_UnTrack(it);
    TextIter_clear(it);
    PyObject_GC_Del(it);
}

static PyObject *next_text(TextIter *it)
{
    while (!it->done) {
        PyObject *chunk = PyIter_Next(it->src);
        if (!chunk) {
            if (PyErr_Occurred())
                return NULL;
            it->done = 1;
            PyObject *s = PyObject_CallMethod(it->decoder, "decode", "yO", "", Py_True);
            if (!s || PyUnicode_GET_LENGTH(s) > 0)
                return s;
            Py_DECREF(s);
            return NULL;
        }
        PyObject *s = PyObject_CallMethod(it->decoder, "decode", "O", chunk);
        Py_DECREF(chunk);
        if (!s || PyUnicode_GET_LENGTH(s) > 0)
            return s;
        Py_DECREF(s);
    }
    return NULL;
}

/* Splits pending at \n, \r\n and \r into ready; a final \r stays pending
 * in case its \n is in the next chunk. */
static int split_lines(TextIter *it)
{
    PyObject *s = it->pending;
    Py_ssize_t n = PyUnicode_GET_LENGTH(s), start = 0;
    int kind = PyUnicode_KIND(s);
    const void *d = PyUnicode_DATA(s);
    PyObject *ready = PyList_New(0);
    if (!ready)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, d, i);
        if (c != '\n' && c != '\r')
            continue;
        if (c == '\r' && i + 1 == n && !it->done)
            break;
        PyObject *line = PyUnicode_Substring(s, start, i);
        if (!line || PyList_Append(ready, line) < 0) {
            Py_XDECREF(line);
            Py_DECREF(ready);
            return -1;
        }
        Py_DECREF(line);
        if (c == '\r' && i + 1 < n && PyUnicode_READ(kind, d, i + 1) == '\n')
            i++;
        start = i + 1;
    }
    PyObject *rest = PyUnicode_Substring(s, start, n);
    if (!rest) {
        Py_DECREF(ready);
        return -1;
    }
    Py_SETREF(it->pending, rest);
    Py_XSETREF(it->ready, ready);
    it->ready_pos = 0;
    return 0;
}

static PyObject *next_line(TextIter *it)
{
    for (;;) {
        if (it->ready && it->ready_pos < PyList_GET_SIZE(it->ready))
            return Py_NewRef(PyList_GET_ITEM(it->ready, it->ready_pos++));
        if (it->done) {
            if (PyUnicode_GET_LENGTH(it->pending) == 0)
                return NULL;
            PyObject *last = it->pending;
            it->pending = Py_NewRef(S.s_empty);
            return last;
        }
        PyObject *t = PyIter_Next(it->src);
        if (!t) {
            if (PyErr_Occurred())
                return NULL;
            it->done = 1;
        } else {
            PyObject *joined = PyUnicode_Concat(it->pending, t);
            Py_DECREF(t);
            if (!joined)
                return NULL;
            Py_SETREF(it->pending, joined);
        }
        if (split_lines(it) < 0)
            return NULL;
    }
}

static PyObject *TextIter_next(TextIter *it)
{
    if (!it->src)
        return NULL; /* cleared by the GC: exhausted */
    return it->lines ? next_line(it) : next_text(it);
}

static PyObject *TextIter_aiter(TextIter *it)
{
    return async_view(it->resp, it->chunk_size, it->lines ? "aiter_lines" : "aiter_text");
}

static PyAsyncMethods TextIter_async = {
    .am_aiter = (unaryfunc)TextIter_aiter,
};

PyTypeObject FhpTextIter_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fasthttp._fasthttp.TextIterator",
    .tp_basicsize = sizeof(TextIter),
    .tp_dealloc = (destructor)TextIter_dealloc,
    .tp_as_async = &TextIter_async,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)TextIter_traverse,
    .tp_clear = (inquiry)TextIter_clear,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)TextIter_next,
};

static PyObject *text_iter(FhpResponse *r, Py_ssize_t chunk_size)
{
    PyObject *enc = fhp_response_encoding(r);
    const char *e = enc ? PyUnicode_AsUTF8(enc) : NULL;
    PyObject *cls = e ? PyObject_CallFunction(S.incr_decoder, "s", e) : NULL;
    PyObject *dec = cls ? PyObject_CallFunction(cls, "s", "replace") : NULL;
    Py_XDECREF(enc);
    Py_XDECREF(cls);
    PyObject *src = dec ? byte_iter(r, chunk_size) : NULL;
    TextIter *it = src ? PyObject_GC_New(TextIter, &FhpTextIter_Type) : NULL;
    if (!it) {
        Py_XDECREF(dec);
        Py_XDECREF(src);
        return NULL;
    }
    it->resp = (FhpResponse *)Py_NewRef((PyObject *)r);
    it->chunk_size = chunk_size;
    it->src = src;
    it->decoder = dec;
    it->pending = it->ready = NULL;
    it->ready_pos = 0;
    it->lines = it->done = 0;
    PyObject_GC_Track(it);
    return (PyObject *)it;
}

PyObject *fhp_response_iter_text(FhpResponse *r, PyObject *const *args, Py_ssize_t nargs,
                                 PyObject *kwnames)
{
    Py_ssize_t cs;
    if (fhp_chunk_size_arg(args, nargs, kwnames, "iter_text", NULL, &cs) < 0)
        return NULL;
    return text_iter(r, cs);
}

/* iter_lines(chunk_size=None): the original library took the size of the
 * pieces read; lines come out as they complete whatever it is. */
PyObject *fhp_response_iter_lines(FhpResponse *r, PyObject *const *args, Py_ssize_t nargs,
                                  PyObject *kwnames)
{
    Py_ssize_t cs;
    if (fhp_chunk_size_arg(args, nargs, kwnames, "iter_lines", NULL, &cs) < 0)
        return NULL;
    PyObject *src = text_iter(r, cs);
    TextIter *it = src ? PyObject_GC_New(TextIter, &FhpTextIter_Type) : NULL;
    if (!it) {
        Py_XDECREF(src);
        return NULL;
    }
    it->resp = (FhpResponse *)Py_NewRef((PyObject *)r);
    it->chunk_size = cs;
    it->src = src;
    it->decoder = NULL;
    it->pending = Py_NewRef(S.s_empty);
    it->ready = NULL;
    it->ready_pos = 0;
    it->lines = 1;
    it->done = 0;
    PyObject_GC_Track(it);
    return (PyObject *)it;
}
