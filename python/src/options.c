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
        PyErr_Format(PyExc_TypeError, "%s must be a fasthttp.Limits, not %.100s", what,
                     Py_TYPE(limits)->tp_name);
    return ok == 1 ? 0 : -1;
}

/* An int field of a Limits: *out = value, or dflt when None. */
static int limit_attr(PyObject *o, const char *name, int64_t dflt, int64_t *out)
{
    PyObject *v = PyObject_GetAttrString(o, name);
    if (!v)
        return -1;
    *out = dflt;
    if (v != Py_None) {
        *out = PyLong_AsLongLong(v);
        if (*out == -1 && PyErr_Occurred())
            PyErr_Format(PyExc_ValueError, "Limits.%s is out of range", name);
    }
    Py_DECREF(v);
    return PyErr_Occurred() ? -1 : 0;
}

int fhp_limits_sizes(PyObject *limits, const char *what, int64_t out[FH_LIMIT_KINDS])
{
    for (int k = 0; k < FH_LIMIT_KINDS; k++)
        out[k] = -1;
    if (!limits || limits == Py_None)
        return 0;
    if (check_limits(limits, what) < 0)
        return -1;
    for (int k = 0; k < FH_LIMIT_KINDS; k++)
        if (limit_attr(limits, fh_limit_name((fh_limit_kind)k), -1, &out[k]) < 0)
            return -1;
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
    if (fhp_limits_sizes(limits, "limits", sizes) < 0)
        return -1;
    if (!limits || limits == Py_None)
        return 0;
    for (int k = 0; k < FH_LIMIT_KINDS; k++)
        if (sizes[k] > 0 && check(fh_client_set_limit(c, (fh_limit_kind)k, sizes[k]), "limits") < 0)
            return -1;
    PyObject *e = NULL;
    if (limit_attr(limits, "max_connections", -1, &total) < 0 ||
        limit_attr(limits, "max_connections_per_host", -1, &per_host) < 0 ||
        limit_attr(limits, "max_keepalive_per_host", -1, &idle) < 0 ||
        !(e = PyObject_GetAttrString(limits, "keepalive_expiry")))
        return -1;
    int rc = e == Py_None ? 0 : seconds_to_ms(e, "Limits.keepalive_expiry", &expiry);
    Py_DECREF(e);
    if (rc < 0)
        return -1;
    if (total > 1000000 || per_host > 1000000 || idle > 1000000) {
        PyErr_SetString(PyExc_ValueError, "limits: pool sizes must be at most 1000000");
        return -1;
    }
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
