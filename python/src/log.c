/*
 * log.c — the `fasthttp` logger of the standard logging module
 * (fasthttp/_log.py hands it over with _set_logger):
 *
 *   INFO   one line per response received, as httpx writes it:
 *          HTTP Request: GET http://127.0.0.1:8080/get "HTTP/1.1 200 OK"
 *          (each redirect hop has its own line; credentials never appear:
 *          the URLs are the engine's, which are redacted);
 *   DEBUG  what the connection did for it: opened (with the peer address
 *          and the DNS/connect/TLS times) or reused, the TLS version,
 *          cipher, ALPN and peer certificate, the attempts when it was
 *          retried, each redirect followed. They are written when the
 *          response arrives, from what the engine recorded, not while the
 *          engine works: the engine runs with the GIL released and never
 *          calls into Python for a log line.
 *
 * The cost when logging is off is the point of this file: every response
 * asks whether INFO is enabled, so the check must cost next to nothing. It
 * is Logger.isEnabledFor() without the method call: the logger's
 * `disabled` flag and its level cache (`Logger._cache`, a dict that
 * logging clears whenever a level changes anywhere, so it is never stale)
 * are read directly from their dicts; only on a cache miss is the real
 * isEnabledFor() called, which fills the cache. A logger without those
 * attributes (another logging implementation) always gets the call.
 */
#include "fhpy.h"

#define LOG_DEBUG 10
#define LOG_INFO 20

static struct {
    PyObject *logger, *dict, *cache; /* logger, its __dict__, its _cache (or NULL) */
    PyObject *lvl_debug, *lvl_info;  /* the int objects 10 and 20 */
    PyObject *s_disabled, *s_is_enabled_for, *s_info, *s_debug, *fmt_request;
} L;

PyObject *fhp_mod_set_logger(PyObject *m, PyObject *logger)
{
    if (logger == Py_None) { /* no logger at all: what scripts/bench-logging.py compares with */
        Py_CLEAR(L.logger);
        Py_CLEAR(L.dict);
        Py_CLEAR(L.cache);
        Py_RETURN_NONE;
    }
    PyObject *dict = PyObject_GetAttrString(logger, "__dict__");
    if (!dict)
        return NULL;
    PyObject *cache = PyDict_Check(dict) ? PyDict_GetItemString(dict, "_cache") : NULL;
    if (!L.s_disabled) {
        if (!(L.s_disabled = PyUnicode_InternFromString("disabled")) ||
            !(L.s_is_enabled_for = PyUnicode_InternFromString("isEnabledFor")) ||
            !(L.s_info = PyUnicode_InternFromString("info")) ||
            !(L.s_debug = PyUnicode_InternFromString("debug")) ||
            !(L.fmt_request = PyUnicode_InternFromString("HTTP Request: %s %s \"%s %d %s\"")) ||
            !(L.lvl_debug = PyLong_FromLong(LOG_DEBUG)) ||
            !(L.lvl_info = PyLong_FromLong(LOG_INFO))) {
            Py_DECREF(dict);
            return NULL;
        }
    }
    Py_XSETREF(L.logger, Py_NewRef(logger));
    Py_XSETREF(L.dict, PyDict_Check(dict) ? dict : NULL);
    if (!L.dict)
        Py_DECREF(dict);
    Py_XSETREF(L.cache, cache && PyDict_Check(cache) ? Py_NewRef(cache) : NULL);
    Py_RETURN_NONE;
}

/* 1 when the logger would handle a record of this level, 0 when not, -1 with
 * an exception. */
static int enabled(PyObject *level)
{
    if (!L.logger)
        return 0;
    if (L.dict && L.cache) {
        PyObject *off = PyDict_GetItemWithError(L.dict, L.s_disabled);
        if (off == Py_True)
            return 0;
        PyObject *v = off || !PyErr_Occurred() ? PyDict_GetItemWithError(L.cache, level) : NULL;
        if (v)
            return v == Py_True;
        if (PyErr_Occurred())
            return -1;
    }
    PyObject *r = PyObject_CallMethodObjArgs(L.logger, L.s_is_enabled_for, level, NULL);
    if (!r)
        return -1;
    int on = PyObject_IsTrue(r);
    Py_DECREF(r);
    return on;
}

/* logger.info(msg, *args) or logger.debug(...); args is a new reference (or
 * NULL after a failure), consumed. The public methods check the level again,
 * which costs nothing that matters once a line is to be written. */
static int emit(PyObject *method, PyObject *msg, PyObject *args)
{
    PyObject *r = NULL, *call = NULL, *meth = args ? PyObject_GetAttr(L.logger, method) : NULL;
    Py_ssize_t n = args ? PyTuple_GET_SIZE(args) : 0;
    if (meth && (call = PyTuple_New(n + 1))) {
        PyTuple_SET_ITEM(call, 0, Py_NewRef(msg));
        for (Py_ssize_t i = 0; i < n; i++)
            PyTuple_SET_ITEM(call, i + 1, Py_NewRef(PyTuple_GET_ITEM(args, i)));
        r = PyObject_Call(meth, call, NULL);
    }
    Py_XDECREF(call);
    Py_XDECREF(meth);
    Py_XDECREF(args);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

static int debugf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    PyObject *msg = PyUnicode_FromFormatV(fmt, ap);
    va_end(ap);
    if (!msg)
        return -1;
    int rc = emit(L.s_debug, msg, PyTuple_New(0));
    Py_DECREF(msg);
    return rc;
}

static const char *version_text(int v)
{
    return v == 20 ? "HTTP/2" : v == 10 ? "HTTP/1.0" : "HTTP/1.1";
}

static int log_request_line(const fh_response *r)
{
    size_t rlen = 0;
    const char *reason = fh_response_reason(r, &rlen);
    PyObject *why = rlen ? PyUnicode_DecodeLatin1(reason, (Py_ssize_t)rlen, NULL) : NULL;
    if (!why && !rlen) { /* HTTP/2 has no reason phrase: the standard one */
        PyObject *st = PyObject_CallFunction(S.reason_phrase, "i", fh_response_status(r));
        why = st ? PyObject_GetAttrString(st, "phrase") : NULL;
        Py_XDECREF(st);
        if (!why) {
            PyErr_Clear();
            why = Py_NewRef(S.s_empty);
        }
    }
    if (!why)
        return -1;
    const char *method = fh_response_request_method(r), *url = fh_response_url(r);
    PyObject *args = Py_BuildValue("(ssziN)", method ? method : "?", url ? url : "?",
                                   version_text(fh_response_version(r)),
                                   fh_response_status(r), why);
    return emit(L.s_info, L.fmt_request, args);
}

static int log_connection(const fh_response *r)
{
    fh_conn_info ci;
    if (fh_response_conn_info(r, &ci) != FH_OK)
        return 0;
    const fh_timings *tm = fh_response_timings(r);
    const char *ip = ci.remote_ip ? ci.remote_ip : "?";
    int rc;
    if (tm && tm->reused)
        rc = debugf("connection #%llu to %s port %d reused", (unsigned long long)ci.id, ip,
                    ci.remote_port);
    else
        rc = debugf("connection #%llu to %s port %d opened (resolved at +%lld us, connected "
                    "at +%lld us, TLS done at +%lld us)", (unsigned long long)ci.id, ip,
                    ci.remote_port, (long long)(tm ? tm->dns_us : 0), (long long)(tm ? tm->connect_us : 0),
                    (long long)(tm ? tm->tls_us : 0));
    if (rc == 0 && ci.tls_version)
        rc = debugf("connection #%llu: %s %s, ALPN %s%s, server certificate %s (issuer %s)",
                    (unsigned long long)ci.id, ci.tls_version, ci.cipher ? ci.cipher : "?",
                    ci.alpn ? ci.alpn : "none", ci.tls_resumed ? ", session resumed" : "",
                    ci.peer_subject ? ci.peer_subject : "?",
                    ci.peer_issuer ? ci.peer_issuer : "?");
    return rc;
}

/* One response as received: its hops (redirects followed), then itself. */
int fhp_log_response(const fh_response *resp)
{
    int info = enabled(L.lvl_info);
    if (info <= 0)
        return info < 0 ? -1 : 0;
    int debug = enabled(L.lvl_debug);
    if (debug < 0)
        return -1;
    size_t n = fh_response_history_count(resp);
    for (size_t i = 0; i <= n; i++) {
        const fh_response *r = i < n ? fh_response_history_at(resp, i) : resp;
        if (debug && log_connection(r) < 0)
            return -1;
        if (log_request_line(r) < 0)
            return -1;
        if (debug && i < n) {
            const char *to = fh_response_url(i + 1 < n ? fh_response_history_at(resp, i + 1)
                                                        : resp);
            if (debugf("redirect: %d to %s", fh_response_status(r), to ? to : "?") < 0)
                return -1;
        }
    }
    int attempts = fh_response_attempts(resp);
    if (debug && attempts > 1 && debugf("retried: %d attempts for %s", attempts,
                                        fh_response_url(resp) ? fh_response_url(resp) : "?") < 0)
        return -1;
    return 0;
}
