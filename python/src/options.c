/*
 * options.c — converting Client options into libfasthttp settings:
 * timeouts (a Timeout, a number of seconds, or None), TLS verification and
 * client certificates, and pool limits.
 */
#include "fhpy.h"

#include <errno.h>
#include <math.h>
#include <string.h>

int fhp_http2_mode(PyObject *http2, int http1, int *out)
{
    *out = -1;
    if (!http2 || http2 == Py_None)
        return 0;
    /* The truth of any value, as an `if` reads it: false is HTTP/1.1 only. */
    int on = PyObject_IsTrue(http2);
    if (on < 0) {
        *out = -2;
        return -1;
    }
    *out = !on ? FH_HTTP2_OFF : http1 ? FH_HTTP2_ON : FH_HTTP2_ONLY;
    return 0;
}

/* A number of seconds as a double for libfasthttp's checks: an int beyond
 * any double becomes infinity (refused there). 0, or -1 with TypeError
 * naming what for anything that is not a number (bool included). */
static int seconds_of(PyObject *v, const char *what, double *out)
{
    if (!PyBool_Check(v) && PyNumber_Check(v)) {
        *out = PyFloat_AsDouble(v);
        if (*out != -1.0 || !PyErr_Occurred())
            return 0;
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            PyErr_Clear();
            *out = HUGE_VAL;
            return 0;
        }
        PyErr_Clear(); /* e.g. a complex number: not a number of seconds either */
    }
    PyErr_Format(PyExc_TypeError, "%s must be a number of seconds or None, not %.100s", what,
                 Py_TYPE(v)->tp_name);
    return -1;
}

/* Seconds (None: no limit) → milliseconds (0: no limit), ranges from
 * fh_timeout_check(). */
static int seconds_to_ms(PyObject *v, const char *what, int64_t *ms)
{
    *ms = 0;
    if (!v || v == Py_None)
        return 0;
    double s;
    char msg[128];
    if (seconds_of(v, what, &s) < 0)
        return -1;
    if (fh_timeout_check(s, ms, msg, sizeof msg) == FH_OK)
        return 0;
    PyErr_Format(PyExc_ValueError, "%s %s, or None, not %R", what, msg, v);
    return -1;
}

int fhp_expect_arg(PyObject *v, int64_t *ms)
{
    *ms = -1;
    if (!v || v == Py_None || v == Py_False)
        return 0;
    if (v == Py_True) {
        *ms = 0; /* libfasthttp's wait (fh_request_set_expect_continue) */
        return 0;
    }
    if (seconds_to_ms(v, "expect_continue", ms) < 0)
        return -1;
    if (*ms == 0) { /* 0 s would mean "no wait": then there is no point asking */
        PyErr_Format(PyExc_ValueError, "expect_continue must be True, False, None or a "
                     "number of seconds above 0, not %R", v);
        return -1;
    }
    return 0;
}

PyObject *fhp_mod_timeout_check(PyObject *m, PyObject *v)
{
    double s;
    char msg[128];
    if (seconds_of(v, "a timeout", &s) < 0)
        return NULL;
    if (fh_timeout_check(s, NULL, msg, sizeof msg) == FH_OK)
        Py_RETURN_NONE;
    return PyUnicode_FromString(msg);
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

/* ---- limits ------------------------------------------------------------------------ */

static PyObject *limits_cls; /* fasthttp.limits.Limits, imported on first use */

/* limits must be a fasthttp.Limits (its __init__ validated the fields). */
static int check_limits(PyObject *limits, const char *what)
{
    if (!limits_cls) {
        PyObject *m = PyImport_ImportModule("fasthttp.limits");
        limits_cls = m ? PyObject_GetAttrString(m, "Limits") : NULL;
        Py_XDECREF(m);
        if (!limits_cls)
            return -1;
    }
    int ok = PyObject_IsInstance(limits, limits_cls);
    if (ok == 0)
        PyErr_Format(PyExc_TypeError, "%s must be a fasthttp.Limits or None, not %.100s", what,
                     Py_TYPE(limits)->tp_name);
    return ok == 1 ? 0 : -1;
}

/* A Limits changed after it was made (its fields are plain attributes):
 * libfasthttp's checks say what is wrong. */
static int limits_error(const char *msg)
{
    PyErr_Format(PyExc_ValueError, "limits: Limits.%s", msg);
    return -1;
}

/* A Python int as int64, clamped to INT64_MIN / INT64_MAX: libfasthttp's
 * checks refuse what is out of range and say why. */
static int clamp_int64(PyObject *v, int64_t *out)
{
    int overflow = 0;
    long long n = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (n == -1 && PyErr_Occurred())
        return -1;
    *out = overflow > 0 ? INT64_MAX : overflow < 0 ? INT64_MIN : (int64_t)n;
    return 0;
}

/* A pool size of a Limits: -1 for None (the C setter's "keep"); a negative
 * value becomes INT64_MAX, which fh_pool_limits_check() refuses, since for
 * the setter any negative would mean "keep". */
static int pool_value(PyObject *v, int64_t *out)
{
    *out = -1;
    if (v == Py_None)
        return 0;
    if (clamp_int64(v, out) < 0)
        return -1;
    if (*out < 0)
        *out = INT64_MAX;
    return 0;
}

static int pool_attr(PyObject *o, const char *name, int64_t *out)
{
    PyObject *v = PyObject_GetAttrString(o, name);
    if (!v)
        return -1;
    int rc = pool_value(v, out);
    Py_DECREF(v);
    return rc;
}

/* fasthttp.Limits' validation: None, or the sentence of fh_limit_check(). */
PyObject *fhp_mod_limit_check(PyObject *m, PyObject *args)
{
    const char *name;
    PyObject *v;
    int64_t value;
    if (!PyArg_ParseTuple(args, "sO:_limit_check", &name, &v) || clamp_int64(v, &value) < 0)
        return NULL;
    for (int k = 0; k < FH_LIMIT_KINDS; k++) {
        if (strcmp(fh_limit_name((fh_limit_kind)k), name) != 0)
            continue;
        char msg[160];
        if (fh_limit_check((fh_limit_kind)k, value, msg, sizeof msg) == FH_OK)
            Py_RETURN_NONE;
        return PyUnicode_FromString(msg);
    }
    PyErr_Format(PyExc_ValueError, "no limit is named %.100s", name);
    return NULL;
}

/* The same for the pool sizes (None: the default), fh_pool_limits_check(). */
PyObject *fhp_mod_pool_check(PyObject *m, PyObject *args)
{
    PyObject *v[3];
    int64_t n[3];
    if (!PyArg_ParseTuple(args, "OOO:_pool_check", &v[0], &v[1], &v[2]))
        return NULL;
    for (int i = 0; i < 3; i++)
        if (pool_value(v[i], &n[i]) < 0)
            return NULL;
    char msg[160];
    if (fh_pool_limits_check(n[0], n[1], n[2], -1, msg, sizeof msg) == FH_OK)
        Py_RETURN_NONE;
    return PyUnicode_FromString(msg);
}

int fhp_limits_sizes(PyObject *limits, const char *what, int64_t out[FH_LIMIT_KINDS])
{
    for (int k = 0; k < FH_LIMIT_KINDS; k++)
        out[k] = -1;
    if (!limits || limits == Py_None)
        return 0;
    if (check_limits(limits, what) < 0)
        return -1;
    for (int k = 0; k < FH_LIMIT_KINDS; k++) {
        PyObject *v = PyObject_GetAttrString(limits, fh_limit_name((fh_limit_kind)k));
        int rc = v && v != Py_None ? clamp_int64(v, &out[k]) : v ? 0 : -1;
        char msg[160];
        /* Limits checked itself when made; its fields may change later. */
        if (rc == 0 && v != Py_None &&
            fh_limit_check((fh_limit_kind)k, out[k], msg, sizeof msg) != FH_OK)
            rc = limits_error(msg);
        Py_XDECREF(v);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int fhp_limits_request(PyObject *limits, int64_t out[FH_LIMIT_KINDS])
{
    static const char *const pool[] = {"max_connections", "max_connections_per_host",
                                       "max_keepalive_per_host", "keepalive_expiry"};
    if (fhp_limits_sizes(limits, "limits", out) < 0)
        return -1;
    for (size_t i = 0; limits && limits != Py_None && i < 4; i++) {
        PyObject *v = PyObject_GetAttrString(limits, pool[i]);
        if (!v)
            return -1;
        int set = v != Py_None;
        Py_DECREF(v);
        if (set) {
            PyErr_Format(PyExc_ValueError,
                         "limits: %s applies to the Client's pool (Client(limits=...)), not to "
                         "one request",
                         pool[i]);
            return -1;
        }
    }
    return 0;
}

static int configure_limits(fh_client *c, PyObject *limits)
{
    int64_t sizes[FH_LIMIT_KINDS], total, per_host, idle, expiry = -1;
    char msg[160];
    if (fhp_limits_sizes(limits, "limits", sizes) < 0)
        return -1;
    if (!limits || limits == Py_None)
        return 0;
    for (int k = 0; k < FH_LIMIT_KINDS; k++)
        if (sizes[k] > 0 && check(fh_client_set_limit(c, (fh_limit_kind)k, sizes[k]), "limits") < 0)
            return -1;
    PyObject *e = NULL;
    if (pool_attr(limits, "max_connections", &total) < 0 ||
        pool_attr(limits, "max_connections_per_host", &per_host) < 0 ||
        pool_attr(limits, "max_keepalive_per_host", &idle) < 0 ||
        !(e = PyObject_GetAttrString(limits, "keepalive_expiry")))
        return -1;
    int rc = e == Py_None ? 0 : seconds_to_ms(e, "Limits.keepalive_expiry", &expiry);
    Py_DECREF(e);
    if (rc < 0)
        return -1;
    if (fh_pool_limits_check(total, per_host, idle, expiry, msg, sizeof msg) != FH_OK)
        return limits_error(msg);
    return check(fh_client_set_pool_limits(c, (int)total, (int)per_host, (int)idle, expiry),
                 "limits");
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
