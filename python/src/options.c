/*
 * options.c — converting Client options into libfasthttp settings:
 * timeouts (a Timeout, a number of seconds, or None), TLS verification and
 * client certificates, and pool limits.
 */
#include "fhpy.h"

#include <errno.h>
#include <math.h>
#include <string.h>

int fhp_reject_later(const char *what, PyObject *value)
{
    /* Any false value (None, False, 0, "") means "not asked for", as an
     * `if` would read it; only a true one asks for the missing feature. */
    int on = value ? PyObject_IsTrue(value) : 0;
    if (on <= 0)
        return on;
    PyErr_Format(PyExc_NotImplementedError,
                 "%s arrives in a later release of fasthttp; this one does not support it",
                 what);
    return -1;
}

/* The longest timeout accepted, in seconds (about 31 years): far beyond any
 * use, and far inside int64 milliseconds. The message below spells it. */
#define MAX_SECONDS 1e9

/* Seconds (None: no limit) → milliseconds (0: no limit, at least 1). */
static int seconds_to_ms(PyObject *v, const char *what, int64_t *ms)
{
    if (!v || v == Py_None) {
        *ms = 0;
        return 0;
    }
    double s = PyBool_Check(v) || !PyNumber_Check(v) ? -1.0 : PyFloat_AsDouble(v);
    if (s == -1.0 && PyErr_Occurred() && PyErr_ExceptionMatches(PyExc_OverflowError)) {
        PyErr_Clear(); /* an int too large for a double: out of range below */
        s = HUGE_VAL;
    }
    if (PyBool_Check(v) || !PyNumber_Check(v) || (s == -1.0 && PyErr_Occurred())) {
        PyErr_Clear(); /* e.g. a complex number: not a number of seconds either */
        PyErr_Format(PyExc_TypeError, "%s must be a number of seconds or None, not %.100s",
                     what, Py_TYPE(v)->tp_name);
        return -1;
    }
    if (!(s >= 0) || s > MAX_SECONDS) {
        PyErr_Format(PyExc_ValueError,
                     "%s must be a number of seconds between 0 and 1000000000, or None, not %R",
                     what, v);
        return -1;
    }
    *ms = (int64_t)ceil(s * 1000.0);
    if (s > 0 && *ms == 0)
        *ms = 1;
    return 0;
}

int fhp_timeout_values(PyObject *t, int64_t ms[FH_TIMEOUT_KINDS])
{
    if (!t || t == Py_None || (PyNumber_Check(t) && !PyBool_Check(t))) {
        if (seconds_to_ms(t, "timeout", &ms[0]) < 0)
            return -1;
        for (int i = 1; i < FH_TIMEOUT_KINDS; i++)
            ms[i] = ms[0];
        return 0;
    }
    /* A Timeout (or anything with the same attributes). */
    PyObject *names[FH_TIMEOUT_KINDS] = {S.s_connect, S.s_read_t, S.s_write, S.s_pool,
                                         S.s_total};
    static const char *what[] = {"Timeout.connect", "Timeout.read", "Timeout.write",
                                 "Timeout.pool", "Timeout.total"};
    for (int i = 0; i < FH_TIMEOUT_KINDS; i++) {
        PyObject *v = PyObject_GetAttr(t, names[i]);
        if (!v) {
            PyErr_Format(PyExc_TypeError,
                         "timeout must be a fasthttp.timeouts.Timeout, a number or None, "
                         "not %.100s",
                         Py_TYPE(t)->tp_name);
            return -1;
        }
        int rc = seconds_to_ms(v, what[i], &ms[i]);
        Py_DECREF(v);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int check(int rc, const char *what)
{
    if (rc == FH_OK)
        return 0;
    PyErr_Format(PyExc_ValueError, "%s: %s", what, fh_strerror(rc));
    return -1;
}

/* A TLS file setting failed (rc from the setter): the check function
 * (fh_ca_check / fh_cert_check) says which file and what is wrong. Missing
 * or unreadable files are OSError (FileNotFoundError, PermissionError,
 * IsADirectoryError from errno), wrong content ValueError; the message
 * starts with the argument's name and names the file. */
static int tls_file_error(int rc, const char *arg, const char *msg, int err)
{
    if (rc == FH_ENOMEM) {
        PyErr_NoMemory();
        return -1;
    }
    PyObject *text = PyUnicode_FromFormat("%s: %s", arg, *msg ? msg : fh_strerror(rc));
    if (!text)
        return -1;
    if (rc != FH_EFILE) {
        PyErr_SetObject(PyExc_ValueError, text);
        Py_DECREF(text);
        return -1;
    }
    /* OSError(errno, text) is the subclass errno calls for. No filename:
     * the text names the file already, and str() would repeat it. */
    PyObject *exc = PyObject_CallFunction(PyExc_OSError, "iO", err, text);
    Py_DECREF(text);
    if (exc)
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_XDECREF(exc);
    return -1;
}

/* A path argument as bytes for C: str, bytes or os.PathLike. */
static int fs_path(PyObject *o, const char *arg, PyObject **out)
{
    *out = NULL;
    if (!PyUnicode_Check(o) && !PyBytes_Check(o) && !PyObject_HasAttrString(o, "__fspath__")) {
        PyErr_Format(PyExc_TypeError,
                     "%s must be a path (str, bytes or os.PathLike)%s, not %.100s", arg,
                     strcmp(arg, "verify") == 0 ? ", True or False" : "", Py_TYPE(o)->tp_name);
        return -1;
    }
    if (PyUnicode_FSConverter(o, out))
        return 0;
    if (PyErr_ExceptionMatches(PyExc_ValueError)) { /* "embedded null byte" */
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "%s: the path contains a NUL character", arg);
    }
    return -1;
}

static int configure_verify(fh_client *c, PyObject *verify)
{
    if (!verify || verify == Py_True)
        return 0;
    if (verify == Py_False)
        return check(fh_client_set_verify(c, 0), "verify");
    /* Only True and False switch verification: a 0 or None given by
     * mistake must not turn it off, so they are TypeErrors like any other
     * value that is not a path. */
    PyObject *b;
    if (fs_path(verify, "verify", &b) < 0)
        return -1;
    const char *path = PyBytes_AS_STRING(b);
    int rc = fh_client_set_ca_file(c, path);
    if (rc != FH_OK) {
        char msg[1024];
        rc = fh_ca_check(path, msg, sizeof msg);
        int err = errno;
        tls_file_error(rc != FH_OK ? rc : FH_EINVAL, "verify", msg, err);
        rc = -1;
    }
    Py_DECREF(b);
    return rc;
}

static int configure_cert(fh_client *c, PyObject *cert)
{
    if (!cert || cert == Py_None)
        return 0;
    PyObject *cp = NULL, *kp = NULL, *key = NULL;
    int rc;
    if (PyTuple_Check(cert)) {
        if (PyTuple_GET_SIZE(cert) != 2) {
            PyErr_Format(PyExc_TypeError,
                         "cert must be a path or a (certificate, key) tuple of paths, not a "
                         "tuple of %zd items",
                         PyTuple_GET_SIZE(cert));
            return -1;
        }
        key = PyTuple_GET_ITEM(cert, 1);
        rc = fs_path(PyTuple_GET_ITEM(cert, 0), "cert", &cp);
        if (rc == 0 && key != Py_None)
            rc = fs_path(key, "cert", &kp);
    } else {
        rc = fs_path(cert, "cert", &cp); /* one PEM file with the certificate and the key */
    }
    if (rc == 0) {
        const char *cpath = PyBytes_AS_STRING(cp), *kpath = kp ? PyBytes_AS_STRING(kp) : NULL;
        rc = fh_client_set_client_cert(c, cpath, kpath);
        if (rc != FH_OK) {
            char msg[1024];
            rc = fh_cert_check(cpath, kpath, msg, sizeof msg);
            int err = errno;
            tls_file_error(rc != FH_OK ? rc : FH_EINVAL, "cert", msg, err);
            rc = -1;
        }
    }
    Py_XDECREF(cp);
    Py_XDECREF(kp);
    return rc;
}

static int int_attr(PyObject *o, const char *name, int *out)
{
    PyObject *v = PyObject_GetAttrString(o, name);
    if (!v)
        return -1;
    long n = PyLong_AsLong(v);
    Py_DECREF(v);
    if (n == -1 && PyErr_Occurred())
        return -1;
    if (n < 0 || n > 1000000) {
        PyErr_Format(PyExc_ValueError, "Limits.%s must be between 0 and 1000000", name);
        return -1;
    }
    *out = (int)n;
    return 0;
}

static int configure_limits(fh_client *c, PyObject *limits)
{
    if (!limits || limits == Py_None)
        return 0;
    if (!PyObject_HasAttrString(limits, "max_connections")) {
        PyErr_Format(PyExc_TypeError, "limits must be a fasthttp.Limits or None, not %.100s",
                     Py_TYPE(limits)->tp_name);
        return -1;
    }
    int total, per_host, idle;
    int64_t expiry;
    PyObject *e = NULL;
    if (int_attr(limits, "max_connections", &total) < 0 ||
        int_attr(limits, "max_connections_per_host", &per_host) < 0 ||
        int_attr(limits, "max_keepalive_per_host", &idle) < 0 ||
        !(e = PyObject_GetAttrString(limits, "keepalive_expiry")))
        return -1;
    int rc = seconds_to_ms(e, "Limits.keepalive_expiry", &expiry);
    Py_DECREF(e);
    if (rc < 0)
        return -1;
    return check(fh_client_set_pool_limits(c, total, per_host, idle, expiry), "limits");
}

int fhp_client_configure(FhpClient *self, PyObject *timeout, PyObject *verify, PyObject *cert,
                         PyObject *limits)
{
    int64_t ms[FH_TIMEOUT_KINDS];
    if (fhp_timeout_values(timeout, ms) < 0)
        return -1;
    for (int i = 0; i < FH_TIMEOUT_KINDS; i++)
        if (check(fh_client_set_timeout(self->c, (fh_timeout_kind)i, ms[i]), "timeout") < 0)
            return -1;
    return configure_verify(self->c, verify) < 0 || configure_cert(self->c, cert) < 0 ||
                   configure_limits(self->c, limits) < 0
               ? -1
               : 0;
}
