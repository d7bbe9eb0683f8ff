/*
 * options.c — converting Client options into libfasthttp settings:
 * timeouts (a Timeout, a number of seconds, or None), TLS verification and
 * client certificates, and pool limits.
 */
#include "fhpy.h"

#include <math.h>

int fhp_reject_later(const char *what, PyObject *value)
{
    if (!value || value == Py_None || value == Py_False)
        return 0;
    PyErr_Format(PyExc_NotImplementedError,
                 "%s arrives in a later release of fasthttp; this one does not support it",
                 what);
    return -1;
}

/* Seconds (None: no limit) → milliseconds (0: no limit, at least 1). */
static int seconds_to_ms(PyObject *v, const char *what, int64_t *ms)
{
    if (!v || v == Py_None) {
        *ms = 0;
        return 0;
    }
    if (PyBool_Check(v) || !PyNumber_Check(v)) {
        PyErr_Format(PyExc_TypeError, "%s must be a number of seconds or None", what);
        return -1;
    }
    double s = PyFloat_AsDouble(v);
    if (s == -1.0 && PyErr_Occurred())
        return -1;
    if (!(s >= 0) || isinf(s) || s > 1e9) {
        PyErr_Format(PyExc_ValueError, "%s must be a non-negative number of seconds", what);
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

static int configure_verify(fh_client *c, PyObject *verify)
{
    if (!verify || verify == Py_True)
        return 0;
    if (verify == Py_False)
        return check(fh_client_set_verify(c, 0), "verify");
    PyObject *path = PyOS_FSPath(verify);
    if (!path) {
        PyErr_SetString(PyExc_TypeError, "verify must be True, False or a CA bundle path");
        return -1;
    }
    PyObject *b = NULL;
    int rc = PyUnicode_FSConverter(path, &b) ? 0 : -1;
    Py_DECREF(path);
    if (rc == 0)
        rc = check(fh_client_set_ca_file(c, PyBytes_AS_STRING(b)), "verify");
    Py_XDECREF(b);
    return rc;
}

static int fs_path(PyObject *o, PyObject **out)
{
    return PyUnicode_FSConverter(o, out) ? 0 : -1;
}

static int configure_cert(fh_client *c, PyObject *cert)
{
    if (!cert || cert == Py_None)
        return 0;
    PyObject *cp = NULL, *kp = NULL;
    int rc;
    if (PyTuple_Check(cert) && PyTuple_GET_SIZE(cert) == 2) {
        rc = fs_path(PyTuple_GET_ITEM(cert, 0), &cp);
        if (rc == 0)
            rc = fs_path(PyTuple_GET_ITEM(cert, 1), &kp);
    } else {
        rc = fs_path(cert, &cp); /* one PEM file with the certificate and the key */
        kp = Py_XNewRef(cp);
    }
    if (rc == 0)
        rc = check(fh_client_set_client_cert(c, PyBytes_AS_STRING(cp), PyBytes_AS_STRING(kp)),
                   "cert");
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
