/*
 * errors.c — every FH_E... code of libfasthttp mapped to a class of
 * fasthttp.errors; messages say what happened and to which URL.
 */
#include "fhpy.h"

#include <string.h>

PyObject *fhp_error_class(int code)
{
    switch (code) {
    case FH_EINVAL:
    case FH_EHEADER: return S.E_InvalidRequest;
    case FH_EURL: return S.E_InvalidURL;
    case FH_EUNSUPPORTED: return S.E_UnsupportedProtocol;
    case FH_ENOMEM: return PyExc_MemoryError;
    case FH_EFILE: return PyExc_OSError;
    case FH_ERESOLVE:
    case FH_ECONNECT: return S.E_ConnectError;
    case FH_ETLS: return S.E_TLSError;
    case FH_ECERT: return S.E_CertificateError;
    case FH_EIO: return S.E_NetworkError;
    case FH_ECLOSED:
    case FH_EPROTO:
    case FH_EHEADERS_TOO_LARGE:
    case FH_ETOO_MANY_HEADERS:
    case FH_ECONTENT_LENGTH:
    case FH_ECHUNKED:
    case FH_ETRANSFER_ENCODING:
    case FH_ETOO_MANY_INTERIM: return S.E_RemoteProtocolError;
    case FH_EDECODE: return S.E_DecodingError;
    case FH_EBODY_TOO_LARGE: return S.E_ResponseTooLarge;
    case FH_ETIMEOUT_CONNECT: return S.E_ConnectTimeout;
    case FH_ETIMEOUT_READ: return S.E_ReadTimeout;
    case FH_ETIMEOUT_WRITE: return S.E_WriteTimeout;
    case FH_ETIMEOUT_POOL: return S.E_PoolTimeout;
    case FH_ETIMEOUT_TOTAL: return S.E_TotalTimeout;
    case FH_EBODY_SOURCE: return S.E_RequestBodyError;
    case FH_ECIRCUIT_OPEN: return S.E_CircuitOpenError;
    case FH_ETOO_MANY_REDIRECTS: return S.E_TooManyRedirects;
    case FH_EREDIRECT: return S.E_RedirectError;
    case FH_ENOT_REPLAYABLE: return S.E_BodyNotReplayable;
    case FH_EHTTP2: return S.E_HTTP2NotAvailable;
    case FH_EPROXY: return S.E_ProxyError;
    case FH_EFORKED: /* the request belongs to the parent: RequestError, code FH_EFORKED */
    case FH_EAGAIN:
    case FH_ECANCELED:
    case FH_ESTATE:
    case FH_ELOOP:
    default: return S.E_RequestError;
    }
}

PyObject *fhp_redacted_url(PyObject *url)
{
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(url, &n);
    if (!u)
        return NULL;
    char small[512];
    size_t len = fh_url_redact(u, (size_t)n, small, sizeof small);
    if (len < sizeof small)
        return PyUnicode_DecodeUTF8(small, (Py_ssize_t)len, "replace");
    char *big = PyMem_Malloc(len + 1);
    if (!big)
        return PyErr_NoMemory();
    fh_url_redact(u, (size_t)n, big, len + 1);
    PyObject *r = PyUnicode_DecodeUTF8(big, (Py_ssize_t)len, "replace");
    PyMem_Free(big);
    return r;
}

/* Exceptions of fasthttp.errors take (message, *, request=None, code=None);
 * MemoryError and the like only the message. */
void fhp_raise(int code, const char *detail, PyObject *request, const char *method,
               const char *url)
{
    PyObject *cls = fhp_error_class(code);
    if (!detail || !*detail)
        detail = fh_strerror(code);
    char small[512];
    if (url) { /* user:password@ never reaches a message */
        size_t len = fh_url_redact(url, strlen(url), small, sizeof small);
        if (len >= sizeof small) /* clipped: say so */
            memcpy(small + sizeof small - 4, "...", 4);
        url = small;
    }
    PyObject *msg;
    if (url && method)
        msg = PyUnicode_FromFormat("%s (%s %s)", detail, method, url);
    else if (url)
        msg = PyUnicode_FromFormat("%s (%s)", detail, url);
    else
        msg = PyUnicode_FromString(detail);
    if (!msg)
        return;
    if (!PyObject_IsSubclass(cls, S.E_FastHTTPError)) {
        PyErr_SetObject(cls, msg);
        Py_DECREF(msg);
        return;
    }
    PyObject *args = PyTuple_Pack(1, msg);
    PyObject *kw = Py_BuildValue("{s:O,s:i}", "request", request ? request : Py_None, "code",
                                 code);
    PyObject *exc = args && kw ? PyObject_Call(cls, args, kw) : NULL;
    Py_XDECREF(args);
    Py_XDECREF(kw);
    Py_DECREF(msg);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
}

void fhp_raise_req(int code, const fh_request *req, PyObject *request, const char *method,
                   const char *url)
{
    fhp_raise(code, fh_request_error_message(req), request, method, url);
    if (code != FH_EPROXY)
        return;
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    int status = fh_request_proxy_status(req);
    PyObject *st = status ? PyLong_FromLong(status) : Py_NewRef(Py_None);
    if (v && st)
        PyObject_SetAttrString(v, "status_code", st);
    Py_XDECREF(st);
    PyErr_Restore(t, v, tb);
}
