/*
 * proxy.c — Client(proxy=, proxies=, trust_env=, uds=) and uds= per request,
 * passed to libfasthttp, which parses and checks them, reads the
 * environment and picks the route (docs/python.md, "Proxies"). Only the
 * mapping's keys are read here.
 */
#include "fhpy.h"

#include <string.h>

/* A setting must be a str (or None where allowed). */
static const char *str_arg(PyObject *v, const char *what)
{
    if (!PyUnicode_Check(v)) {
        PyErr_Format(PyExc_TypeError, "%s must be a str or None, not %.100s", what,
                     Py_TYPE(v)->tp_name);
        return NULL;
    }
    return PyUnicode_AsUTF8(v);
}

/* fh_client_set_proxy's answer as an exception naming the argument. */
static int set_proxy(FhpClient *self, const char *scheme, PyObject *url, const char *what)
{
    const char *u = "";
    if (url != Py_None && !(u = str_arg(url, what)))
        return -1;
    int rc = fh_client_set_proxy(self->c, scheme, u);
    if (rc == FH_OK)
        return 0;
    if (rc == FH_ENOMEM) {
        PyErr_NoMemory();
        return -1;
    }
    char why[200] = "", shown[200], msg[480];
    if (rc == FH_EINVAL)
        snprintf(why, sizeof why, "unknown scheme '%s' (http, https or all)", scheme);
    else
        fh_proxy_check(u, why, sizeof why);
    fh_url_redact(u, strlen(u), shown, sizeof shown);
    snprintf(msg, sizeof msg, "%s: %s ('%s')", what, why, shown);
    fhp_raise(rc == FH_EINVAL ? FH_EINVAL : FH_EURL, msg, NULL, NULL, NULL);
    return -1;
}

/* proxies={"http://": ..., "https://": ..., "all://": ...} (httpx) or
 * {"http": ..., "https": ..., "all": ...} (requests). */
static int set_proxies(FhpClient *self, PyObject *proxies)
{
    if (!PyDict_Check(proxies)) {
        PyErr_Format(PyExc_TypeError, "proxies must be a dict, not %.100s",
                     Py_TYPE(proxies)->tp_name);
        return -1;
    }
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(proxies, &pos, &k, &v)) {
        const char *scheme = str_arg(k, "a proxies key");
        if (!scheme || set_proxy(self, scheme, v, "a proxies value") < 0)
            return -1;
    }
    return 0;
}

int fhp_uds_arg(PyObject *uds)
{
    if (!uds || uds == Py_None)
        return 0;
    const char *p = str_arg(uds, "uds");
    if (!p)
        return -1;
    fh_request *probe = fh_request_new("GET", "http://localhost/", NULL);
    int rc = probe ? fh_request_set_unix_socket(probe, p) : FH_ENOMEM;
    fh_request_free(probe);
    if (rc == FH_OK)
        return 0;
    if (rc == FH_ENOMEM)
        PyErr_NoMemory();
    else
        PyErr_Format(PyExc_ValueError, "uds: not a usable Unix socket path "
                     "(1 to 107 bytes; \"@name\" for an abstract socket): %.200s", p);
    return -1;
}

int fhp_client_proxies(FhpClient *self, PyObject *proxy, PyObject *proxies,
                       PyObject *trust_env, PyObject *uds)
{
    int env = trust_env && trust_env != Py_None ? PyObject_IsTrue(trust_env) : 1;
    if (env < 0)
        return -1;
    if (!env && fh_client_set_trust_env(self->c, 0) != FH_OK) {
        PyErr_NoMemory();
        return -1;
    }
    if (proxy && proxy != Py_None && set_proxy(self, "all", proxy, "proxy") < 0)
        return -1;
    if (proxies && proxies != Py_None && set_proxies(self, proxies) < 0)
        return -1;
    if (fhp_uds_arg(uds) < 0)
        return -1;
    if (uds && uds != Py_None && fh_client_set_unix_socket(self->c, PyUnicode_AsUTF8(uds)) != FH_OK) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

PyObject *fhp_client_proxy_for(FhpClient *self, PyObject *url)
{
    const char *u = str_arg(url, "url");
    if (!u)
        return NULL;
    if (!self->c) {
        PyErr_SetString(S.E_ClientClosedError, "this Client is closed");
        return NULL;
    }
    char out[512];
    int rc = fh_client_proxy_for(self->c, u, out, sizeof out);
    if (rc != FH_OK) {
        fhp_raise(rc, NULL, NULL, NULL, u);
        return NULL;
    }
    return *out ? PyUnicode_FromString(out) : Py_NewRef(Py_None);
}
