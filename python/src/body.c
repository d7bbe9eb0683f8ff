/*
 * body.c — request bodies: bytes-like and str bodies become one bytes
 * object (sent with Content-Length, borrowed by libfasthttp without a copy);
 * iterators of bytes and file-like objects are streamed chunked, except
 * regular files opened in a binary mode, which the engine reads itself
 * (fh_request_set_body_file: Content-Length, pread() without the GIL).
 *
 * Streaming and the GIL: the body lender callback runs inside the engine
 * with the GIL released, so it never touches Python objects. It only lends
 * the chunk pulled earlier (the engine sends it from the bytes object, no
 * copy) and returns FH_EAGAIN when that is used up;
 * libfasthttp's blocking driver then calls send.c's on_body_paused hook,
 * which takes the GIL and pulls the next chunk with next() (or .read());
 * the driver resumes the request (asyncio: aio.c does the same per loop turn).
 */
#include "fhpy.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FILE_CHUNK 65536

int fhp_body_from(PyObject *obj, PyObject **bytes, PyObject **stream)
{
    *bytes = *stream = NULL;
    if (PyBytes_Check(obj)) {
        *bytes = Py_NewRef(obj);
        return 0;
    }
    if (PyUnicode_Check(obj)) {
        *bytes = PyUnicode_AsUTF8String(obj);
        return *bytes ? 0 : -1;
    }
    if (PyObject_CheckBuffer(obj)) {
        *bytes = PyBytes_FromObject(obj);
        return *bytes ? 0 : -1;
    }
    if (PyObject_HasAttr(obj, S.s_read) || PyIter_Check(obj) ||
        Py_TYPE(obj)->tp_iter != NULL ||
        (Py_TYPE(obj)->tp_as_async && Py_TYPE(obj)->tp_as_async->am_aiter)) {
        /* async iterables are sent by an async client (aio.c) */
        *stream = Py_NewRef(obj);
        return 0;
    }
    PyErr_Format(PyExc_TypeError,
                 "content must be bytes, str, an iterator (or async iterator) of bytes or a "
                 "binary file, not %.100s",
                 Py_TYPE(obj)->tp_name);
    return -1;
}

/* io.FileIO, io.BufferedReader and io.BufferedRandom exactly: what open()
 * returns for binary modes. A subclass may override read(), so it is read
 * through read() like any other file-like object. */
static int is_plain_binary_file(PyObject *o)
{
    static PyObject *types[3];
    if (!types[2]) { /* all three, or none yet (an import error is tried again) */
        PyObject *io = PyImport_ImportModule("io");
        if (!io)
            return -1;
        static const char *const names[3] = {"FileIO", "BufferedReader", "BufferedRandom"};
        for (int i = 0; i < 3; i++) {
            Py_XSETREF(types[i], PyObject_GetAttrString(io, names[i]));
            if (!types[i]) {
                Py_DECREF(io);
                return -1;
            }
        }
        Py_DECREF(io);
    }
    for (int i = 0; i < 3; i++)
        if ((PyObject *)Py_TYPE(o) == types[i])
            return 1;
    return 0;
}

/* A call returning an int (fileno(), tell()); -1 with an exception. */
static int64_t call_int(PyObject *o, const char *name)
{
    PyObject *v = PyObject_CallMethod(o, name, NULL);
    if (!v)
        return -1;
    int64_t n = PyLong_AsLongLong(v);
    Py_DECREF(v);
    return n == -1 && PyErr_Occurred() ? -1 : n;
}

int fhp_body_file(PyObject *obj, int *fd, int64_t *off, int64_t *len)
{
    int plain = is_plain_binary_file(obj);
    if (plain <= 0)
        return plain;
    PyObject *readable = PyObject_CallMethod(obj, "readable", NULL);
    int ok = readable ? PyObject_IsTrue(readable) : -1;
    Py_XDECREF(readable);
    if (ok <= 0)
        return ok; /* not readable: read() raises the usual error */
    int64_t f = call_int(obj, "fileno");
    if (f < 0 || f > INT_MAX)
        return PyErr_Occurred() ? -1 : 0;
    struct stat st;
    if (fstat((int)f, &st) != 0 || !S_ISREG(st.st_mode))
        return 0; /* a pipe, a device, a socket: read as a stream */
    int64_t pos = call_int(obj, "tell");
    if (pos < 0)
        return PyErr_Occurred() ? -1 : 0;
    *fd = (int)f;
    *off = pos;
    *len = st.st_size > pos ? (int64_t)st.st_size - pos : 0;
    return 1;
}

fhp_bodysrc *fhp_bodysrc_new(PyObject *stream)
{
    fhp_bodysrc *s = calloc(1, sizeof *s);
    if (!s) {
        PyErr_NoMemory();
        return NULL;
    }
    if (!PyObject_HasAttr(stream, S.s_read) && Py_TYPE(stream)->tp_iter == NULL &&
        Py_TYPE(stream)->tp_as_async && Py_TYPE(stream)->tp_as_async->am_aiter) {
        free(s);
        PyErr_SetString(PyExc_TypeError,
                        "content is an async iterator: send it with an asynchronous Client "
                        "(`async with Client()`), or pass a sync iterator of bytes");
        return NULL;
    }
    if (PyObject_HasAttr(stream, S.s_read)) {
        s->is_file = 1;
        s->iter = Py_NewRef(stream);
    } else if (!(s->iter = PyObject_GetIter(stream))) {
        free(s);
        return NULL;
    }
    return s;
}

void fhp_bodysrc_free(fhp_bodysrc *s)
{
    if (!s)
        return;
    Py_XDECREF(s->iter);
    Py_XDECREF(s->chunk);
    free(s);
}

/* Takes one chunk; sets eof at the end. 0 or -1 with an exception. */
static int take(fhp_bodysrc *s, PyObject *c)
{
    if (PyUnicode_Check(c)) {
        PyObject *b = PyUnicode_AsUTF8String(c);
        Py_DECREF(c);
        if (!b)
            return -1;
        c = b;
    } else if (!PyBytes_Check(c)) {
        if (!PyObject_CheckBuffer(c)) {
            PyErr_Format(PyExc_TypeError, "request body chunks must be bytes, not %.100s",
                         Py_TYPE(c)->tp_name);
            Py_DECREF(c);
            return -1;
        }
        PyObject *b = PyBytes_FromObject(c);
        Py_DECREF(c);
        if (!b)
            return -1;
        c = b;
    }
    Py_XSETREF(s->chunk, c);
    s->p = PyBytes_AS_STRING(c);
    s->left = PyBytes_GET_SIZE(c);
    return 0;
}

int fhp_bodysrc_pull(fhp_bodysrc *s)
{
    while (!s->eof && s->left == 0) {
        PyObject *c;
        if (s->is_file) {
            c = PyObject_CallMethod(s->iter, "read", "n", (Py_ssize_t)FILE_CHUNK);
            if (!c)
                return -1;
            if ((PyBytes_Check(c) && PyBytes_GET_SIZE(c) == 0) ||
                (PyUnicode_Check(c) && PyUnicode_GET_LENGTH(c) == 0)) {
                Py_DECREF(c);
                s->eof = 1;
                break;
            }
        } else if (!(c = PyIter_Next(s->iter))) {
            if (PyErr_Occurred())
                return -1;
            s->eof = 1;
            break;
        }
        if (take(s, c) < 0)
            return -1;
    }
    return 0;
}

/* The engine's body lender: no Python calls here (no GIL). The chunk is
 * lent whole; it stays alive until the next call, since only a pull
 * (after this returned FH_EAGAIN) replaces it. */
ssize_t fhp_bodysrc_lend(void *ud, const uint8_t **data)
{
    fhp_bodysrc *s = ud;
    if (s->left > 0) {
        Py_ssize_t n = s->left;
        *data = (const uint8_t *)s->p;
        s->p += n;
        s->left = 0;
        return (ssize_t)n;
    }
    return s->eof ? 0 : FH_EAGAIN;
}

int fhp_bodysrc_traverse(fhp_bodysrc *s, visitproc visit, void *arg)
{
    if (s) {
        Py_VISIT(s->iter);
        Py_VISIT(s->chunk);
    }
    return 0;
}
