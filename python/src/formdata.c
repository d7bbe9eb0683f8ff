/*
 * formdata.c — multipart/form-data bodies for Python: the MultipartStream
 * type over libfasthttp's encoder (src/multipart.c), so framing, name
 * escaping, media-type guessing and lengths are the C library's.
 *
 * fasthttp.formdata (Python) turns fields and files into parts and adds
 * them with MultipartStream._add(); this file only reads. A stream is a
 * file-like iterator of bytes: read(n) runs fh_multipart_read() into a new
 * bytes object with the GIL held, and the part readers below pull their
 * Python sources directly into that buffer:
 *
 *   bytes   borrowed from the bytes object, no copy
 *   path    opened on first read (io.open(path, "rb", buffering=0)) and
 *           read with readinto() straight into the output, closed at its end
 *   file    readinto() when the file has it, else read()
 *   iter    next() on a sync iterator of bytes
 *   async   an async file or iterator: the reader returns FH_EAGAIN and the
 *           stream remembers which part waits; an async driver
 *           (fasthttp.formdata.aiter_stream) awaits the next chunk and hands
 *           it over with _feed(). Sync reads of such a stream raise TypeError.
 *
 * As a request body (content=stream, or files= on a Client method) the
 * stream goes through body.c like any file-like body, pulled by the driver
 * as the socket takes it; fhp_formdata_sync_length() gives its length for
 * Content-Length when every part's length is known.
 */
#include "fhpy.h"

#include <string.h>

#define MP_CHUNK 65536

enum { K_BYTES = 0, K_PATH = 1, K_FILE = 2, K_ITER = 3, K_ASYNC = 4 };

typedef struct FhpMultipart FhpMultipart;

typedef struct mp_src {
    FhpMultipart *owner;
    int kind, index;
    int use_readinto; /* K_FILE */
    int eof;          /* K_ASYNC: the driver fed the end */
    PyObject *obj;    /* path, file, iterable or async source */
    PyObject *file;   /* K_PATH: the opened file; K_ITER: the iterator */
    PyObject *chunk;  /* K_ITER, K_ASYNC, K_FILE without readinto: pending bytes */
    Py_ssize_t off;
} mp_src;

struct FhpMultipart {
    PyObject_HEAD
    fh_multipart *m;
    PyObject *keep; /* list of bytes borrowed by m */
    mp_src **srcs;
    size_t nsrc, cap;
    int nparts, has_async, busy, closed;
    Py_ssize_t chunk_size;
    int64_t produced;
    mp_src *waiting; /* K_ASYNC part that returned FH_EAGAIN */
};

PyTypeObject FhpMultipart_Type;

static PyObject *io_open, *request_stream_fn;

/* ---- part readers (GIL held: they run inside MultipartStream.read) ------ */

/* Copies from the pending chunk; 0 when there is none. */
static ssize_t from_chunk(mp_src *s, uint8_t *buf, size_t cap)
{
    if (!s->chunk)
        return 0;
    Py_ssize_t left = PyBytes_GET_SIZE(s->chunk) - s->off;
    size_t n = (size_t)left < cap ? (size_t)left : cap;
    memcpy(buf, PyBytes_AS_STRING(s->chunk) + s->off, n);
    s->off += (Py_ssize_t)n;
    if (s->off == PyBytes_GET_SIZE(s->chunk))
        Py_CLEAR(s->chunk);
    return (ssize_t)n;
}

/* Makes c (new reference, consumed) the pending chunk: bytes-like or str
 * (UTF-8). 1 when it has bytes, 0 when empty, -1 on error. */
static int set_chunk(mp_src *s, PyObject *c, const char *what)
{
    if (PyUnicode_Check(c)) {
        if (s->kind == K_FILE || s->kind == K_PATH) {
            Py_DECREF(c);
            PyErr_SetString(PyExc_TypeError,
                            "a file in files= must be opened in binary mode ('rb'): its "
                            "read() returned str");
            return -1;
        }
        PyObject *b = PyUnicode_AsUTF8String(c);
        Py_DECREF(c);
        if (!(c = b))
            return -1;
    } else if (!PyBytes_Check(c)) {
        if (!PyObject_CheckBuffer(c)) {
            PyErr_Format(PyExc_TypeError, "%s must give bytes, not %.100s", what,
                         Py_TYPE(c)->tp_name);
            Py_DECREF(c);
            return -1;
        }
        PyObject *b = PyBytes_FromObject(c);
        Py_DECREF(c);
        if (!(c = b))
            return -1;
    }
    if (PyBytes_GET_SIZE(c) == 0) {
        Py_DECREF(c);
        return 0;
    }
    Py_XSETREF(s->chunk, c);
    s->off = 0;
    return 1;
}

static void close_file(mp_src *s)
{
    if (!s->file || s->kind != K_PATH)
        return;
    PyObject *r = PyObject_CallMethod(s->file, "close", NULL);
    if (r)
        Py_DECREF(r);
    else
        PyErr_Clear();
    Py_CLEAR(s->file);
}

static ssize_t read_file(mp_src *s, PyObject *f, uint8_t *buf, size_t cap)
{
    if (s->use_readinto) {
        PyObject *mv = PyMemoryView_FromMemory((char *)buf, (Py_ssize_t)cap, PyBUF_WRITE);
        if (!mv)
            return -1;
        PyObject *r = PyObject_CallMethod(f, "readinto", "O", mv);
        PyObject *rel = PyObject_CallMethod(mv, "release", NULL);
        Py_DECREF(mv);
        if (!rel) {
            Py_XDECREF(r);
            return -1;
        }
        Py_DECREF(rel);
        if (!r)
            return -1;
        if (r == Py_None) {
            Py_DECREF(r);
            PyErr_SetString(PyExc_TypeError,
                            "a file in files= is non-blocking and had no data to read");
            return -1;
        }
        Py_ssize_t n = PyLong_AsSsize_t(r);
        Py_DECREF(r);
        if (n == -1 && PyErr_Occurred())
            return -1;
        if (n < 0 || (size_t)n > cap) {
            PyErr_SetString(PyExc_ValueError, "readinto() returned an invalid count");
            return -1;
        }
        return n;
    }
    for (;;) {
        ssize_t n = from_chunk(s, buf, cap);
        if (n > 0)
            return n;
        PyObject *c = PyObject_CallMethod(f, "read", "n", (Py_ssize_t)cap);
        if (!c)
            return -1;
        int rc = set_chunk(s, c, "a file's read()");
        if (rc <= 0)
            return rc; /* b"": the end */
    }
}

static ssize_t src_read(void *ud, uint8_t *buf, size_t cap)
{
    mp_src *s = ud;
    switch (s->kind) {
    case K_PATH: {
        if (!s->file) {
            if (s->eof)
                return 0;
            if (!(s->file = PyObject_CallFunction(io_open, "Osi", s->obj, "rb", 0)))
                return -1;
        }
        ssize_t n = read_file(s, s->file, buf, cap);
        if (n == 0) {
            s->eof = 1;
            close_file(s);
        }
        return n;
    }
    case K_FILE:
        return read_file(s, s->obj, buf, cap);
    case K_ITER:
        if (!s->file && !(s->file = PyObject_GetIter(s->obj)))
            return -1;
        for (;;) {
            ssize_t n = from_chunk(s, buf, cap);
            if (n > 0 || s->eof)
                return n;
            PyObject *c = PyIter_Next(s->file);
            if (!c) {
                if (PyErr_Occurred())
                    return -1;
                s->eof = 1;
                return 0;
            }
            if (set_chunk(s, c, "an iterator in files=") < 0)
                return -1;
        }
    case K_ASYNC: {
        ssize_t n = from_chunk(s, buf, cap);
        if (n > 0 || s->eof)
            return n;
        s->owner->waiting = s;
        return FH_EAGAIN;
    }
    default:
        return -1;
    }
}

/* ---- reading ------------------------------------------------------------ */

static int check_usable(FhpMultipart *self)
{
    if (self->closed) {
        PyErr_SetString(S.E_StreamClosed, "this multipart stream is closed");
        return 0;
    }
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError,
                        "this multipart stream is already being read (by another thread, or "
                        "by one of its own sources)");
        return 0;
    }
    return 1;
}

static void raise_async(FhpMultipart *self)
{
    PyErr_Format(PyExc_TypeError,
                 "this multipart body has an async source (part %d): it can only be read by "
                 "aiter_bytes() or sent by a Client in async mode (`async with Client()`)",
                 self->waiting ? self->waiting->index + 1 : 0);
}

/* One read of at most size bytes: bytes, or Py_None when an async part
 * waits (async_ok) — else TypeError. */
static PyObject *read_some(FhpMultipart *self, Py_ssize_t size, int async_ok)
{
    if (!check_usable(self))
        return NULL;
    if (size == 0)
        return Py_NewRef(S.empty_bytes);
    PyObject *b = PyBytes_FromStringAndSize(NULL, size);
    if (!b)
        return NULL;
    self->busy = 1;
    self->waiting = NULL;
    ssize_t n = fh_multipart_read(self->m, (uint8_t *)PyBytes_AS_STRING(b), (size_t)size);
    self->busy = 0;
    if (n == FH_EAGAIN) {
        Py_DECREF(b);
        if (async_ok && self->waiting)
            Py_RETURN_NONE;
        raise_async(self);
        return NULL;
    }
    if (n < 0) {
        Py_DECREF(b);
        if (!PyErr_Occurred()) /* a length mismatch, or a source failed earlier */
            fhp_raise(FH_EBODY_SOURCE, fh_multipart_error_message(self->m), NULL, NULL, NULL);
        return NULL;
    }
    if (PyErr_Occurred()) { /* cannot happen: a failing reader fails the read */
        Py_DECREF(b);
        return NULL;
    }
    self->produced += n;
    if (n < size && _PyBytes_Resize(&b, (Py_ssize_t)n) < 0)
        return NULL;
    return b;
}

static PyObject *read_all(FhpMultipart *self)
{
    PyObject *parts = PyList_New(0);
    if (!parts)
        return NULL;
    for (;;) {
        PyObject *c = read_some(self, MP_CHUNK, 0);
        if (!c || PyBytes_GET_SIZE(c) == 0 || PyList_Append(parts, c) < 0) {
            int ok = c != NULL && !PyErr_Occurred();
            Py_XDECREF(c);
            if (!ok) {
                Py_DECREF(parts);
                return NULL;
            }
            break;
        }
        Py_DECREF(c);
    }
    PyObject *r = _PyBytes_Join(S.empty_bytes, parts);
    Py_DECREF(parts);
    return r;
}

static PyObject *MP_read(FhpMultipart *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t size = -1;
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "read() takes at most one argument");
        return NULL;
    }
    if (nargs == 1 && args[0] != Py_None) {
        size = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
        if (size == -1 && PyErr_Occurred())
            return NULL;
    }
    return size < 0 ? read_all(self) : read_some(self, size, 0);
}

static PyObject *MP_read_async(FhpMultipart *self, PyObject *arg)
{
    Py_ssize_t size = PyNumber_AsSsize_t(arg, PyExc_OverflowError);
    if (size == -1 && PyErr_Occurred())
        return NULL;
    if (size <= 0) {
        PyErr_SetString(PyExc_ValueError, "size must be positive");
        return NULL;
    }
    return read_some(self, size, 1);
}

static PyObject *MP_waiting(FhpMultipart *self, PyObject *unused)
{
    if (!self->waiting)
        Py_RETURN_NONE;
    return Py_BuildValue("(iO)", self->waiting->index, self->waiting->obj);
}

static PyObject *MP_feed(FhpMultipart *self, PyObject *chunk)
{
    mp_src *s = self->waiting;
    if (!s || self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "no async part of this stream waits for data");
        return NULL;
    }
    if (chunk == Py_None) {
        s->eof = 1;
    } else if (set_chunk(s, Py_NewRef(chunk), "an async source in files=") < 0) {
        return NULL;
    }
    self->waiting = NULL;
    Py_RETURN_NONE;
}

static PyObject *MP_iternext(FhpMultipart *self)
{
    PyObject *c = read_some(self, self->chunk_size, 0);
    if (c && PyBytes_GET_SIZE(c) == 0) {
        Py_DECREF(c);
        return NULL; /* StopIteration */
    }
    return c;
}

static PyObject *MP_close(FhpMultipart *self, PyObject *unused)
{
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "close() while the stream is being read");
        return NULL;
    }
    self->closed = 1;
    for (size_t i = 0; i < self->nsrc; i++)
        close_file(self->srcs[i]);
    Py_RETURN_NONE;
}

/* ---- building ----------------------------------------------------------- */

static int utf8_arg(PyObject *o, const char *what, const char **out)
{
    if (o == Py_None) {
        *out = NULL;
        return 0;
    }
    if (!PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what, Py_TYPE(o)->tp_name);
        return -1;
    }
    Py_ssize_t n;
    if (!(*out = PyUnicode_AsUTF8AndSize(o, &n)))
        return -1;
    if (strlen(*out) != (size_t)n) {
        PyErr_Format(PyExc_ValueError, "%s must not contain NUL characters", what);
        return -1;
    }
    return 0;
}

static mp_src *new_src(FhpMultipart *self, int kind, PyObject *obj)
{
    if (self->nsrc == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 4;
        mp_src **p = PyMem_Realloc(self->srcs, cap * sizeof *p);
        if (!p) {
            PyErr_NoMemory();
            return NULL;
        }
        self->srcs = p;
        self->cap = cap;
    }
    mp_src *s = PyMem_Calloc(1, sizeof *s);
    if (!s) {
        PyErr_NoMemory();
        return NULL;
    }
    s->owner = self;
    s->kind = kind;
    s->index = self->nparts;
    s->obj = Py_NewRef(obj);
    self->srcs[self->nsrc++] = s;
    return s;
}

/* _add(name, filename, content_type, kind, source, length) */
static PyObject *MP_add(FhpMultipart *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError,
                        "_add(name, filename, content_type, kind, source, length)");
        return NULL;
    }
    const char *name, *filename, *ctype;
    if (args[0] == Py_None) {
        PyErr_SetString(PyExc_TypeError, "a part's name must be str, not None");
        return NULL;
    }
    if (utf8_arg(args[0], "a part's name", &name) < 0 ||
        utf8_arg(args[1], "a filename", &filename) < 0 ||
        utf8_arg(args[2], "a content type", &ctype) < 0)
        return NULL;
    int kind = PyLong_AsLong(args[3]);
    if (kind == -1 && PyErr_Occurred())
        return NULL;
    PyObject *src = args[4];
    long long length = PyLong_AsLongLong(args[5]);
    if (length == -1 && PyErr_Occurred())
        return NULL;
    int rc;
    if (kind == K_BYTES) {
        if (!PyBytes_Check(src)) {
            PyErr_SetString(PyExc_TypeError, "_add: bytes expected");
            return NULL;
        }
        if (PyList_Append(self->keep, src) < 0)
            return NULL;
        rc = fh_multipart_add_file(self->m, name, filename, ctype ? ctype : filename ? NULL : "",
                                   PyBytes_AS_STRING(src), (size_t)PyBytes_GET_SIZE(src), 0);
    } else if (kind >= K_PATH && kind <= K_ASYNC) {
        mp_src *s = new_src(self, kind, src);
        if (!s)
            return NULL;
        if (kind == K_FILE)
            s->use_readinto = PyObject_HasAttrString(src, "readinto");
        else if (kind == K_PATH)
            s->use_readinto = 1; /* io.FileIO */
        rc = fh_multipart_add_file_reader(self->m, name, filename,
                                          ctype ? ctype : filename ? NULL : "", src_read, s,
                                          length);
        if (rc != FH_OK) {
            self->nsrc--;
            Py_DECREF(s->obj);
            PyMem_Free(s);
        } else if (kind == K_ASYNC) {
            self->has_async = 1;
        }
    } else {
        PyErr_Format(PyExc_ValueError, "_add: unknown kind %d", kind);
        return NULL;
    }
    if (rc == FH_EHEADER) {
        PyErr_Format(PyExc_ValueError, "invalid content type %R: control characters", args[2]);
        return NULL;
    }
    if (rc == FH_ESTATE) {
        PyErr_SetString(PyExc_RuntimeError, "parts cannot be added once reading has begun");
        return NULL;
    }
    if (rc != FH_OK) {
        fhp_raise(rc, NULL, NULL, NULL, NULL);
        return NULL;
    }
    self->nparts++;
    Py_RETURN_NONE;
}

static PyObject *MP_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"boundary", "chunk_size", NULL};
    const char *boundary = NULL;
    Py_ssize_t chunk = MP_CHUNK;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|z$n:MultipartStream", kwlist, &boundary,
                                     &chunk))
        return NULL;
    if (chunk <= 0) {
        PyErr_SetString(PyExc_ValueError, "chunk_size must be positive");
        return NULL;
    }
    int err = 0;
    fh_multipart *m = fh_multipart_new(boundary, &err);
    if (!m) {
        if (err == FH_EINVAL)
            PyErr_Format(PyExc_ValueError,
                         "invalid multipart boundary %R: 1 to 70 letters, digits or "
                         "'()+_,-./:=? and spaces (not last)",
                         PyTuple_GET_SIZE(args) ? PyTuple_GET_ITEM(args, 0) : Py_None);
        else
            fhp_raise(err, NULL, NULL, NULL, NULL);
        return NULL;
    }
    FhpMultipart *self = (FhpMultipart *)type->tp_alloc(type, 0);
    if (!self || !(self->keep = PyList_New(0))) {
        fh_multipart_free(m);
        Py_XDECREF(self);
        return NULL;
    }
    self->m = m;
    self->chunk_size = chunk;
    return (PyObject *)self;
}

static int MP_traverse(FhpMultipart *self, visitproc visit, void *arg)
{
    Py_VISIT(self->keep);
    for (size_t i = 0; i < self->nsrc; i++) {
        Py_VISIT(self->srcs[i]->obj);
        Py_VISIT(self->srcs[i]->file);
        Py_VISIT(self->srcs[i]->chunk);
    }
    return 0;
}

static int MP_clear(FhpMultipart *self)
{
    for (size_t i = 0; i < self->nsrc; i++) {
        Py_CLEAR(self->srcs[i]->obj);
        Py_CLEAR(self->srcs[i]->file);
        Py_CLEAR(self->srcs[i]->chunk);
    }
    return 0;
}

static void MP_dealloc(FhpMultipart *self)
{
    PyObject_GC_UnTrack(self);
    if (self->nsrc) { /* close the files opened for paths, without ResourceWarnings */
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        for (size_t i = 0; i < self->nsrc; i++)
            close_file(self->srcs[i]);
        PyErr_Restore(t, v, tb);
    }
    MP_clear(self);
    Py_CLEAR(self->keep);
    for (size_t i = 0; i < self->nsrc; i++)
        PyMem_Free(self->srcs[i]);
    PyMem_Free(self->srcs);
    fh_multipart_free(self->m);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *get_content_type(FhpMultipart *self, void *c)
{
    return PyUnicode_FromString(fh_multipart_content_type(self->m));
}

static PyObject *get_boundary(FhpMultipart *self, void *c)
{
    return PyUnicode_FromString(fh_multipart_boundary(self->m));
}

static PyObject *get_content_length(FhpMultipart *self, void *c)
{
    int64_t n = fh_multipart_length(self->m);
    if (n < 0)
        Py_RETURN_NONE;
    return PyLong_FromLongLong((long long)n);
}

static PyObject *get_has_async(FhpMultipart *self, void *c)
{
    return PyBool_FromLong(self->has_async);
}

static PyObject *get_closed(FhpMultipart *self, void *c)
{
    return PyBool_FromLong(self->closed);
}

static PyObject *MP_repr(FhpMultipart *self)
{
    int64_t n = fh_multipart_length(self->m);
    if (n < 0)
        return PyUnicode_FromFormat("<MultipartStream boundary=%s, %d parts, length unknown>",
                                    fh_multipart_boundary(self->m), self->nparts);
    return PyUnicode_FromFormat("<MultipartStream boundary=%s, %d parts, %lld bytes>",
                                fh_multipart_boundary(self->m), self->nparts, (long long)n);
}

static PyGetSetDef MP_getset[] = {
    {"content_type", (getter)get_content_type, NULL,
     "'multipart/form-data; boundary=...' for the Content-Type header.", NULL},
    {"content_length", (getter)get_content_length, NULL,
     "Total body bytes, or None when a part's length is unknown.", NULL},
    {"boundary", (getter)get_boundary, NULL, "The boundary.", NULL},
    {"has_async", (getter)get_has_async, NULL,
     "True when a part is an async source (readable only in async mode).", NULL},
    {"closed", (getter)get_closed, NULL, "True after close().", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef MP_methods[] = {
    {"read", (PyCFunction)(void (*)(void))MP_read, METH_FASTCALL,
     "read(size=-1) -> bytes: the next bytes of the body (b'' at the end)."},
    {"close", (PyCFunction)MP_close, METH_NOARGS,
     "Closes the files this stream opened (paths); further reads raise StreamClosed."},
    {"_add", (PyCFunction)(void (*)(void))MP_add, METH_FASTCALL,
     "_add(name, filename, content_type, kind, source, length): used by fasthttp.formdata."},
    {"_read_async", (PyCFunction)MP_read_async, METH_O,
     "_read_async(size) -> bytes, or None when an async part waits for _feed()."},
    {"_waiting", (PyCFunction)MP_waiting, METH_NOARGS,
     "(part index, source) of the async part waiting for data, or None."},
    {"_feed", (PyCFunction)MP_feed, METH_O,
     "_feed(chunk): the next bytes of the waiting async part (None: its end)."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject FhpMultipart_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fasthttp.formdata.MultipartStream",
    .tp_basicsize = sizeof(FhpMultipart),
    .tp_dealloc = (destructor)MP_dealloc,
    .tp_repr = (reprfunc)MP_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A multipart/form-data body being produced: an iterator of bytes and a "
              "binary file-like object (read()). Made by MultipartEncoder.iter_bytes().",
    .tp_traverse = (traverseproc)MP_traverse,
    .tp_clear = (inquiry)MP_clear,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)MP_iternext,
    .tp_methods = MP_methods,
    .tp_getset = MP_getset,
    .tp_new = MP_new,
};

/* ---- the request side ----------------------------------------------------- */

int fhp_formdata_async_body(PyObject *stream, int64_t *len, PyObject **aiter)
{
    *len = -1;
    *aiter = NULL;
    if (!Py_IS_TYPE(stream, &FhpMultipart_Type))
        return 0;
    FhpMultipart *self = (FhpMultipart *)stream;
    int64_t total = fh_multipart_length(self->m);
    if (total >= 0)
        *len = total - self->produced;
    if (!self->has_async)
        return 1;
    /* Async parts: fasthttp.formdata.aiter_stream awaits them and feeds
     * the stream; the client sends what it yields. */
    PyObject *mod = PyImport_ImportModule("fasthttp.formdata");
    PyObject *fn = mod ? PyObject_GetAttrString(mod, "aiter_stream") : NULL;
    Py_XDECREF(mod);
    PyObject *agen = fn ? PyObject_CallOneArg(fn, stream) : NULL;
    Py_XDECREF(fn);
    if (!agen)
        return -1;
    *aiter = agen;
    return 1;
}

int fhp_formdata_sync_length(PyObject *stream, int64_t *len)
{
    *len = -1;
    if (!Py_IS_TYPE(stream, &FhpMultipart_Type))
        return 0;
    FhpMultipart *self = (FhpMultipart *)stream;
    if (self->has_async) {
        PyErr_SetString(PyExc_TypeError,
                        "files= holds an async file or async iterator: send it with a Client "
                        "in async mode (`async with Client()`), or pass a path, bytes, a "
                        "binary file or a sync iterator");
        return -1;
    }
    int64_t total = fh_multipart_length(self->m);
    if (total >= 0)
        *len = total - self->produced;
    return 0;
}

int fhp_formdata_body(FhpRequest *r, const fhp_reqargs *a)
{
    if ((a->json && a->json != Py_None) || (a->content && a->content != Py_None)) {
        PyErr_SetString(PyExc_ValueError,
                        "files= goes with data= (form fields), not with json= or content=");
        return -1;
    }
    if (!request_stream_fn) {
        PyObject *m = PyImport_ImportModule("fasthttp.formdata");
        if (!m)
            return -1;
        request_stream_fn = PyObject_GetAttrString(m, "_request_stream");
        Py_DECREF(m);
        if (!request_stream_fn)
            return -1;
    }
    FhpHeaders *h = (FhpHeaders *)r->headers;
    PyObject *ct = fhp_headers_first(h, "content-type", 12);
    if (!ct && PyErr_Occurred())
        return -1;
    PyObject *res = PyObject_CallFunctionObjArgs(request_stream_fn, a->data ? a->data : Py_None,
                                                 a->files, ct ? ct : Py_None, NULL);
    Py_XDECREF(ct);
    if (!res)
        return -1;
    /* (stream, Content-Type to set or None) */
    if (!PyTuple_Check(res) || PyTuple_GET_SIZE(res) != 2 ||
        !Py_IS_TYPE(PyTuple_GET_ITEM(res, 0), &FhpMultipart_Type)) {
        Py_DECREF(res);
        PyErr_SetString(PyExc_TypeError, "fasthttp.formdata._request_stream() misbehaved");
        return -1;
    }
    int rc = 0;
    PyObject *set = PyTuple_GET_ITEM(res, 1);
    if (set != Py_None) {
        PyObject *field = Py_BuildValue("[(sO)]", "Content-Type", set);
        rc = field ? fhp_headers_merge(h, field, 1) : -1;
        Py_XDECREF(field);
    }
    if (rc == 0)
        r->stream = Py_NewRef(PyTuple_GET_ITEM(res, 0));
    Py_DECREF(res);
    return rc;
}

int fhp_formdata_init(PyObject *module)
{
    PyObject *io = PyImport_ImportModule("io");
    if (!io)
        return -1;
    io_open = PyObject_GetAttrString(io, "open");
    Py_DECREF(io);
    if (!io_open || PyType_Ready(&FhpMultipart_Type) < 0)
        return -1;
    Py_INCREF(&FhpMultipart_Type);
    if (PyModule_AddObject(module, "MultipartStream", (PyObject *)&FhpMultipart_Type) < 0) {
        Py_DECREF(&FhpMultipart_Type);
        return -1;
    }
    return 0;
}
