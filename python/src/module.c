/*
 * module.c — fasthttp._fasthttp: module init, interned names, the helpers
 * taken from the standard library, and keyword-argument parsing for the
 * METH_FASTCALL|METH_KEYWORDS methods.
 */
#include "fhpy.h"

#include <string.h>
#include <time.h>

fhp_state S;

int64_t fhp_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t fhp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- argument parsing ------------------------------------------------------ */

static int find_kw(const fhp_sig *sig, PyObject *key)
{
    for (int i = 0; i < sig->n; i++)
        if (*sig->names[i] == key)
            return i;
    /* Names not interned by the caller (e.g. **kwargs built at run time). */
    for (int i = 0; i < sig->n; i++) {
        int eq = PyUnicode_Compare(*sig->names[i], key);
        if (eq == 0)
            return i;
        if (eq == -1 && PyErr_Occurred())
            return -2;
    }
    return -1;
}

int fhp_parse(const fhp_sig *sig, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
              PyObject **out)
{
    for (int i = 0; i < sig->n; i++)
        out[i] = NULL;
    if (nargs > sig->npos) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %d positional argument%s (%zd given)",
                     sig->fname, sig->npos, sig->npos == 1 ? "" : "s", nargs);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++)
        out[i] = args[i];
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        int i = find_kw(sig, key);
        if (i == -2)
            return -1;
        if (i < 0) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'",
                         sig->fname, key);
            return -1;
        }
        if (out[i]) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%U'",
                         sig->fname, key);
            return -1;
        }
        out[i] = args[nargs + k];
    }
    for (int i = 0; i < sig->nreq; i++) {
        if (!out[i]) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%U'", sig->fname,
                         *sig->names[i]);
            return -1;
        }
    }
    return 0;
}

/* ---- init ------------------------------------------------------------------ */

static int intern_all(void)
{
    struct { PyObject **slot; const char *s; } t[] = {
        {&S.k_url, "url"}, {&S.k_method, "method"}, {&S.k_params, "params"},
        {&S.k_headers, "headers"}, {&S.k_json, "json"}, {&S.k_data, "data"},
        {&S.k_content, "content"}, {&S.k_files, "files"}, {&S.k_timeout, "timeout"},
        {&S.k_stream, "stream"}, {&S.k_cookies, "cookies"}, {&S.k_auth, "auth"},
        {&S.k_hooks, "hooks"}, {&S.k_follow_redirects, "follow_redirects"},
        {&S.k_http2, "http2"}, {&S.k_request, "request"}, {&S.k_chunk_size, "chunk_size"},
        {&S.k_response, "response"}, {&S.k_retry, "retry"}, {&S.k_limits, "limits"},
        {&S.k_expect_continue, "expect_continue"}, {&S.k_uds, "uds"}, {&S.s_TRACE, "TRACE"},
        {&S.k_encoding, "encoding"},
        {&S.s_GET, "GET"}, {&S.s_POST, "POST"}, {&S.s_PUT, "PUT"}, {&S.s_PATCH, "PATCH"},
        {&S.s_DELETE, "DELETE"}, {&S.s_HEAD, "HEAD"}, {&S.s_OPTIONS, "OPTIONS"},
        {&S.s_http10, "HTTP/1.0"}, {&S.s_http11, "HTTP/1.1"}, {&S.s_http20, "HTTP/2"},
        {&S.s_utf8, "utf-8"}, {&S.s_empty, ""}, {&S.s_items, "items"}, {&S.s_read, "read"},
        {&S.s_connect, "connect"}, {&S.s_read_t, "read"}, {&S.s_write, "write"},
        {&S.s_pool, "pool"}, {&S.s_total, "total"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!(*t[i].slot = PyUnicode_InternFromString(t[i].s)))
            return -1;
    S.empty_bytes = PyBytes_FromStringAndSize(NULL, 0);
    return S.empty_bytes ? 0 : -1;
}

static PyObject *import_attr(const char *module, const char *name)
{
    PyObject *m = PyImport_ImportModule(module);
    if (!m)
        return NULL;
    PyObject *a = PyObject_GetAttrString(m, name);
    Py_DECREF(m);
    return a;
}

static int import_stdlib(void)
{
    if (!(S.json_dumps = import_attr("json", "dumps")) ||
        !(S.json_loads = import_attr("json", "loads")) ||
        !(S.timedelta = import_attr("fasthttp._elapsed", "Elapsed")) ||
        !(S.incr_decoder = import_attr("codecs", "getincrementaldecoder")) ||
        !(S.codecs_lookup = import_attr("codecs", "lookup")) ||
        !(S.reason_phrase = import_attr("http", "HTTPStatus")))
        return -1;
    /* json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False):
     * NaN and infinities are not JSON (RFC 8259 §6), so they are refused
     * instead of sent as the bare words NaN and Infinity. */
    S.json_dumps_kw = Py_BuildValue("{s:(ss),s:O,s:O}", "separators", ",", ":", "ensure_ascii",
                                    Py_False, "allow_nan", Py_False);
    if (!S.json_dumps_kw)
        return -1;
    PyObject *main_thread = import_attr("threading", "main_thread");
    if (!main_thread)
        return -1;
    PyObject *t = PyObject_CallNoArgs(main_thread);
    Py_DECREF(main_thread);
    PyObject *ident = t ? PyObject_GetAttrString(t, "ident") : NULL;
    Py_XDECREF(t);
    if (!ident)
        return -1;
    S.main_thread = PyLong_AsUnsignedLong(ident);
    Py_DECREF(ident);
    return PyErr_Occurred() ? -1 : 0;
}

static int import_errors(void)
{
    PyObject *m = PyImport_ImportModule("fasthttp.errors");
    if (!m)
        return -1;
    struct { PyObject **slot; const char *name; } t[] = {
        {&S.E_FastHTTPError, "FastHTTPError"}, {&S.E_RequestError, "RequestError"},
        {&S.E_ResponseError, "ResponseError"}, {&S.E_ConnectError, "ConnectError"},
        {&S.E_ConnectTimeout, "ConnectTimeout"}, {&S.E_ReadTimeout, "ReadTimeout"},
        {&S.E_WriteTimeout, "WriteTimeout"}, {&S.E_TotalTimeout, "TotalTimeout"},
        {&S.E_PoolTimeout, "PoolTimeout"}, {&S.E_TLSError, "TLSError"},
        {&S.E_CertificateError, "CertificateError"}, {&S.E_InvalidRequest, "InvalidRequest"},
        {&S.E_InvalidURL, "InvalidURL"}, {&S.E_UnsupportedProtocol, "UnsupportedProtocol"},
        {&S.E_NetworkError, "NetworkError"}, {&S.E_RemoteProtocolError, "RemoteProtocolError"},
        {&S.E_DecodingError, "DecodingError"}, {&S.E_ResponseTooLarge, "ResponseTooLarge"},
        {&S.E_RequestBodyError, "RequestBodyError"}, {&S.E_HTTPStatusError, "HTTPStatusError"},
        {&S.E_ClientClosedError, "ClientClosedError"}, {&S.E_StreamConsumed, "StreamConsumed"},
        {&S.E_StreamClosed, "StreamClosed"}, {&S.E_CircuitOpenError, "CircuitOpenError"},
        {&S.E_TooManyRedirects, "TooManyRedirects"}, {&S.E_RedirectError, "RedirectError"},
        {&S.E_BodyNotReplayable, "BodyNotReplayable"},
        {&S.E_HTTP2NotAvailable, "HTTP2NotAvailable"}, {&S.E_ProxyError, "ProxyError"},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof t / sizeof t[0] && rc == 0; i++)
        if (!(*t[i].slot = PyObject_GetAttrString(m, t[i].name)))
            rc = -1;
    Py_DECREF(m);
    return rc;
}

static PyObject *mod_version(PyObject *m, PyObject *unused)
{
    return PyUnicode_FromString(fh_version());
}

static PyObject *mod_strerror(PyObject *m, PyObject *arg)
{
    int code = PyLong_AsLong(arg);
    if (code == -1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(fh_strerror(code));
}

/* {name: default} of every size limit, read from a fresh libfasthttp
 * client: fasthttp.Limits.defaults() restates nothing. */
static PyObject *mod_limit_defaults(PyObject *m, PyObject *unused)
{
    fh_client *c = fh_client_new();
    if (!c)
        return PyErr_NoMemory();
    PyObject *d = PyDict_New();
    for (int k = 0; d && k < FH_LIMIT_KINDS; k++) {
        PyObject *v = PyLong_FromLongLong(fh_client_limit(c, (fh_limit_kind)k));
        if (!v || PyDict_SetItemString(d, fh_limit_name((fh_limit_kind)k), v) < 0)
            Py_CLEAR(d);
        Py_XDECREF(v);
    }
    fh_client_free(c);
    return d;
}

static PyMethodDef module_methods[] = {
    {"_limit_defaults", mod_limit_defaults, METH_NOARGS,
     "Default of every size limit of libfasthttp, by fasthttp.Limits field name."},
    {"_retry_defaults", fhp_mod_retry_defaults, METH_NOARGS,
     "libfasthttp's default retry policy (fh_retry_policy_init), by RetryPolicy field name."},
    {"_retry_check", fhp_mod_retry_check, METH_O,
     "_retry_check(policy): None, or what libfasthttp finds wrong with it (a sentence that "
     "starts with the field's name)."},
    {"_timeout_check", fhp_mod_timeout_check, METH_O,
     "_timeout_check(seconds): None, or what is wrong with it as a timeout ('must be ...')."},
    {"_limit_check", fhp_mod_limit_check, METH_VARARGS,
     "_limit_check(name, value): None, or what is wrong with value for that size limit."},
    {"_pool_check", fhp_mod_pool_check, METH_VARARGS,
     "_pool_check(max_connections, max_connections_per_host, max_keepalive_per_host): None "
     "(each may be None), or what is wrong."},
    {"_set_logger", fhp_mod_set_logger, METH_O,
     "Sets the logger for request lines (fasthttp._log does, with the 'fasthttp' logger)."},
    {"libfasthttp_version", mod_version, METH_NOARGS, "Version of the linked libfasthttp."},
    {"strerror", mod_strerror, METH_O, "Fixed description of an FH_E... error code."},
    {"_check_auth", fhp_mod_check_auth, METH_VARARGS,
     "_check_auth(kind, user, password): ValueError when libfasthttp refuses the credentials "
     "(kind 1 Basic, 2 Digest)."},
    {"_check_digest_algorithm", fhp_mod_check_digest_algorithm, METH_O,
     "_check_digest_algorithm(name): ValueError when libfasthttp does not know the Digest "
     "algorithm."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "fasthttp._fasthttp",
    "The C core of fasthttp: Client, Request, Response and Headers over libfasthttp.", -1,
    module_methods, NULL, NULL, NULL, NULL,
};

static int add_codes(PyObject *m)
{
    struct { const char *name; int code; } codes[] = {
        {"FH_EINVAL", FH_EINVAL}, {"FH_EURL", FH_EURL}, {"FH_EHEADER", FH_EHEADER},
        {"FH_ECONNECT", FH_ECONNECT}, {"FH_ETIMEOUT_READ", FH_ETIMEOUT_READ},
        {"FH_ECIRCUIT_OPEN", FH_ECIRCUIT_OPEN},
        {"FH_ETOO_MANY_REDIRECTS", FH_ETOO_MANY_REDIRECTS},
        {"FH_EREDIRECT", FH_EREDIRECT}, {"FH_ENOT_REPLAYABLE", FH_ENOT_REPLAYABLE},
        {"FH_EFORKED", FH_EFORKED}, {"FH_RETRY_MAX_STATUS", FH_RETRY_MAX_STATUS},
        {"FH_EPROTO", FH_EPROTO}, {"FH_EREFUSED", FH_EREFUSED}, {"FH_EHTTP2", FH_EHTTP2},
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (PyModule_AddIntConstant(m, codes[i].name, codes[i].code) < 0)
            return -1;
    return 0;
}

PyMODINIT_FUNC PyInit__fasthttp(void)
{
    PyTypeObject *types[] = {&FhpHeaders_Type, &FhpRequest_Type, &FhpResponse_Type,
                             &FhpClient_Type, &FhpByteIter_Type, &FhpTextIter_Type,
                             &FhpCookieJar_Type, &FhpSender_Type};
    if (intern_all() < 0 || import_stdlib() < 0 || import_errors() < 0)
        return NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (PyType_Ready(types[i]) < 0)
            return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    const char *names[] = {"Headers", "Request", "Response", "Client"};
    for (size_t i = 0; i < 4; i++) {
        Py_INCREF(types[i]);
        if (PyModule_AddObject(m, names[i], (PyObject *)types[i]) < 0) {
            Py_DECREF(types[i]);
            Py_DECREF(m);
            return NULL;
        }
    }
    Py_INCREF(&FhpCookieJar_Type);
    if (PyModule_AddObject(m, "_CookieJar", (PyObject *)&FhpCookieJar_Type) < 0) {
        Py_DECREF(&FhpCookieJar_Type);
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddStringConstant(m, "__version__", FH_VERSION_STRING) < 0 ||
        add_codes(m) < 0 || fhp_formdata_init(m) < 0 || fhp_ws_init(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
