/*
 * fhpy.h — shared declarations of the fasthttp CPython extension.
 *
 * The extension is split by concern:
 *   module.c    module init, interned names, imported helpers, argument parsing
 *   errors.c    FH_E... codes → exception classes of fasthttp.errors
 *   headers.c   the Headers type (case-insensitive, multi-valued, ordered)
 *   urlenc.c    base_url joining, query and form encoding
 *   request.c   the Request type and request building (params, body, headers)
 *   body.c      body conversion helpers and iterator bodies
 *   formdata.c  multipart/form-data bodies (MultipartStream, files=)
 *   send.c      one exchange through fh_client_send_with, GIL released, hooks
 *   response.c  the Response type
 *   response_props.c  the request as sent, status predicates, content_type, links...
 *   text.c      encodings, text(), json() and the streaming iterators
 *   client.c    the Client type (options, methods, close)
 *   options.c   Client option conversion (timeouts, limits, TLS)
 *   policy.c    retry, redirects, auth, cookies and hooks of clients and requests
 *   cookiejar.c _CookieJar, the C base of fasthttp.cookies.CookieJar
 *   aio.c       asyncio: the engine on the running loop, awaitables (aio.h)
 *   aio_stream.c asyncio: streamed responses (aread, aiter_bytes, aclose)
 */
#ifndef FHPY_H
#define FHPY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#include <fasthttp/fasthttp.h>

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *Py_NewRef(PyObject *o)
{
    Py_INCREF(o);
    return o;
}
static inline PyObject *Py_XNewRef(PyObject *o)
{
    Py_XINCREF(o);
    return o;
}
#endif

/* ---- module state (single-phase init: one instance per process) -------- */

typedef struct fhp_state {
    /* keyword names, interned once; compared by pointer first */
    PyObject *k_url, *k_method, *k_params, *k_headers, *k_json, *k_data, *k_content,
        *k_files, *k_timeout, *k_stream, *k_cookies, *k_auth, *k_hooks,
        *k_follow_redirects, *k_http2, *k_request, *k_chunk_size, *k_response, *k_retry,
        *k_limits, *k_expect_continue, *k_encoding, *k_uds;
    /* frequently built strings */
    PyObject *s_GET, *s_POST, *s_PUT, *s_PATCH, *s_DELETE, *s_HEAD, *s_OPTIONS, *s_TRACE;
    PyObject *s_http10, *s_http11, *s_http20, *s_utf8, *s_empty, *s_items, *s_read;
    PyObject *s_connect, *s_read_t, *s_write, *s_pool, *s_total;
    PyObject *empty_bytes;
    /* helpers from the standard library */
    PyObject *json_dumps, *json_dumps_kw, *json_loads, *timedelta, *incr_decoder,
        *codecs_lookup, *reason_phrase;
    /* fasthttp.errors classes */
    PyObject *E_FastHTTPError, *E_RequestError, *E_ResponseError, *E_ConnectError,
        *E_ConnectTimeout, *E_ReadTimeout, *E_WriteTimeout, *E_TotalTimeout,
        *E_PoolTimeout, *E_TLSError, *E_CertificateError, *E_InvalidRequest,
        *E_InvalidURL, *E_UnsupportedProtocol, *E_NetworkError, *E_RemoteProtocolError,
        *E_DecodingError, *E_ResponseTooLarge, *E_RequestBodyError, *E_HTTPStatusError,
        *E_ClientClosedError, *E_StreamConsumed, *E_StreamClosed, *E_CircuitOpenError,
        *E_TooManyRedirects, *E_RedirectError, *E_BodyNotReplayable, *E_HTTP2NotAvailable,
        *E_ProxyError;
    /* fasthttp.cookies / auth / _policy, imported on first use (policy.c) */
    PyObject *CookieJar_cls, *BasicAuth_cls, *DigestAuth_cls, *policy_flow,
        *policy_normalize_hooks, *policy_drive_sync, *policy_drive_async;
    unsigned long main_thread; /* ident of the thread that handles signals */
} fhp_state;

extern fhp_state S;

/* log.c: the `fasthttp` logger (fasthttp/_log.py hands it over). */
PyObject *fhp_mod_set_logger(PyObject *m, PyObject *logger);
/* Writes the INFO (and DEBUG) lines for a response when the logger wants
 * them; costs two dict look-ups when it does not. 0, or -1 with an
 * exception set (a handler that raised). */
int fhp_log_response(const fh_response *resp);

extern PyTypeObject FhpHeaders_Type;
extern PyTypeObject FhpRequest_Type;
extern PyTypeObject FhpResponse_Type;
extern PyTypeObject FhpClient_Type;
extern PyTypeObject FhpByteIter_Type;
extern PyTypeObject FhpTextIter_Type;
extern PyTypeObject FhpCookieJar_Type;
extern PyTypeObject FhpSender_Type;

/* ---- argument parsing (module.c) ------------------------------------------ */

/* A METH_FASTCALL|METH_KEYWORDS signature: names[i] are interned keyword
 * names; the first npos may be passed positionally, the first nreq are
 * required. Values land in out[] as borrowed references (NULL if absent). */
typedef struct fhp_sig {
    const char *fname;
    PyObject **const *names; /* pointers into S (filled at init time) */
    int n, npos, nreq;
} fhp_sig;

int fhp_parse(const fhp_sig *sig, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
              PyObject **out);

/* Monotonic clock in milliseconds and microseconds. */
int64_t fhp_now_ms(void);
int64_t fhp_now_us(void);

/* ---- growable byte buffer (urlenc.c) ------------------------------------ */

typedef struct fhp_buf {
    char *p;
    size_t len, cap;
    char small[512];
} fhp_buf;

void fhp_buf_init(fhp_buf *b);
void fhp_buf_free(fhp_buf *b);
int fhp_buf_put(fhp_buf *b, const char *s, size_t n); /* -1 + MemoryError */
int fhp_buf_putc(fhp_buf *b, char c);

/* ---- errors (errors.c) ------------------------------------------------- */

/* Raises the fasthttp.errors class for code. detail may be NULL or "" (the
 * fixed description is used then); request may be NULL. */
void fhp_raise(int code, const char *detail, PyObject *request, const char *method,
               const char *url);
PyObject *fhp_error_class(int code);
/* url (a str) with the password of its userinfo hidden (fh_url_redact), for
 * messages and reprs. New reference. */
PyObject *fhp_redacted_url(PyObject *url);

/* ---- headers (headers.c) -------------------------------------------------- */

typedef struct FhpHeaders {
    PyObject_HEAD
    PyObject *list; /* list of (name, value) tuples of str */
} FhpHeaders;

/* A compact copy of a response's reason and headers, so the fh_response can
 * be freed at once and Python objects are made only when asked for. */
typedef struct fhp_rawhdrs {
    size_t n;          /* response fields: ent[0, n) */
    size_t nreq;       /* fields of the request sent: ent[n, n + nreq) */
    int has_req;       /* the engine recorded the request (method, URL) */
    uint32_t reason_len, method_off, method_len, url_off, url_len;
    struct fhp_rawent { uint32_t name_off, name_len, value_off, value_len; } *ent;
    char *data; /* reason first, then names and values, method, URL */
} fhp_rawhdrs;

fhp_rawhdrs *fhp_rawhdrs_new(const fh_response *resp);
void fhp_rawhdrs_free(fhp_rawhdrs *raw);
/* First value of a header in raw (case-insensitive), or NULL. */
const char *fhp_rawhdrs_get(const fhp_rawhdrs *raw, const char *name, size_t *len);
PyObject *fhp_headers_from_raw(const fhp_rawhdrs *raw);
/* The fields of the request recorded in raw (raw->has_req). */
PyObject *fhp_headers_from_raw_request(const fhp_rawhdrs *raw);

PyObject *fhp_headers_new(void);
/* A new Headers from None, a Headers, a mapping or an iterable of pairs. */
PyObject *fhp_headers_from(PyObject *src);
/* Appends every field of src (anything fhp_headers_from accepts) to h;
 * with replace, earlier fields of the same name are removed first. */
int fhp_headers_merge(FhpHeaders *h, PyObject *src, int replace);
int fhp_headers_has(FhpHeaders *h, const char *name, size_t len);
int fhp_headers_append(FhpHeaders *h, const char *name, PyObject *value);
/* The first value of name as a new reference, or NULL without error. */
PyObject *fhp_headers_first(FhpHeaders *h, const char *name, size_t len);
/* Adds the fields from index from on to req (errors raised as
 * InvalidRequest). skip: when not NULL, fields whose name is in it are
 * skipped. */
int fhp_headers_apply(FhpHeaders *h, Py_ssize_t from, fh_request *req, FhpHeaders *skip,
                      PyObject *request, const char *method, const char *url);
/* ASCII case-insensitive comparison of a str with a C string. */
int fhp_name_eq(PyObject *s, const char *name, size_t len);

/* ---- URLs and encodings (urlenc.c) -------------------------------------- */

/* Appends key=value pairs of params (a mapping, a list of pairs or a str)
 * to b, '&'-separated. form: '+' for spaces (x-www-form-urlencoded). */
int fhp_encode_pairs(fhp_buf *b, PyObject *params, int form);
/* Joins url onto base (may be NULL), then appends the encoded query parts
 * (each may be NULL or empty). Returns a new str. */
PyObject *fhp_build_url(PyObject *base, PyObject *url, const char *query1, size_t q1len,
                        PyObject *params);
/* 1 when url starts with a scheme ("http:", "https:", ...). */
int fhp_url_is_absolute(const char *url, size_t len);

/* ---- request (request.c / body.c) ----------------------------------------- */

typedef struct FhpRequest {
    PyObject_HEAD
    PyObject *method;  /* str, upper case */
    PyObject *url;     /* str */
    PyObject *headers; /* Headers */
    PyObject *content; /* bytes */
    PyObject *stream;  /* iterator body or NULL */
    PyObject *sensitive; /* names of headers a custom auth set (tuple), or NULL */
} FhpRequest;

typedef struct fhp_reqargs {
    PyObject *params, *headers, *json, *data, *content, *files;
} fhp_reqargs;

/* Builds a Request; base/query/defaults come from a client (may be NULL). */
PyObject *fhp_request_build(PyObject *method, PyObject *url, const fhp_reqargs *a,
                            PyObject *base, const char *query, size_t qlen,
                            FhpHeaders *defaults);
/* Converts a body argument: sets *bytes (new ref) or *stream (new ref). */
int fhp_body_from(PyObject *obj, PyObject **bytes, PyObject **stream);

/* An iterator body, pulled with the GIL held between engine polls. */
typedef struct fhp_bodysrc {
    PyObject *iter;    /* iterator, or a file-like object when is_file */
    int is_file;
    PyObject *chunk;   /* current chunk (bytes) */
    const char *p;
    Py_ssize_t left;
    int eof;
} fhp_bodysrc;

/* A regular file opened by open(..., "rb") (io.FileIO, io.BufferedReader,
 * io.BufferedRandom exactly, readable): 1 with its descriptor, its position
 * and the bytes from there to its end; 0 for anything else (stream it);
 * -1 with an exception (fileno() or tell() failed, e.g. a closed file). */
int fhp_body_file(PyObject *obj, int *fd, int64_t *off, int64_t *len);
fhp_bodysrc *fhp_bodysrc_new(PyObject *stream);
void fhp_bodysrc_free(fhp_bodysrc *s);
/* Pulls the next chunk (GIL held). 0, or -1 with an exception set. */
int fhp_bodysrc_pull(fhp_bodysrc *s);
/* The engine's body lender (no GIL, fh_request_set_body_lender): lends the
 * chunk, FH_EAGAIN when it is used up (the driver then pulls the next one),
 * 0 at the end. */
ssize_t fhp_bodysrc_lend(void *ud, const uint8_t **data);
/* Visits the Python objects of s (tp_traverse of its owner); s may be NULL. */
int fhp_bodysrc_traverse(fhp_bodysrc *s, visitproc visit, void *arg);

/* ---- multipart bodies (formdata.c) -------------------------------------- */

/* files= (with data= as fields): sets r->stream to a MultipartStream and the
 * Content-Type header. 0, or -1 with an exception. */
int fhp_formdata_body(FhpRequest *r, const fhp_reqargs *a);
/* The length of a stream body for the sync driver: *len is the remaining
 * bytes of a MultipartStream whose length is known, else -1. -1 with
 * TypeError for a MultipartStream with async sources. */
int fhp_formdata_sync_length(PyObject *stream, int64_t *len);
/* Parses the optional chunk_size argument of iter_bytes()/aiter_bytes(): *out
 * is 0 for None, else a positive size; *raw (when not NULL) the object given. */
int fhp_chunk_size_arg(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                       const char *fname, PyObject **raw, Py_ssize_t *out);
/* asyncio: 0 when stream is not a MultipartStream; else 1 with *len (-1:
 * unknown) and, when it has async parts, *aiter a new async iterator of its
 * bytes (fasthttp.formdata.aiter_stream); -1 with an exception. */
int fhp_formdata_async_body(PyObject *stream, int64_t *len, PyObject **aiter);
/* Adds the MultipartStream type to the module. */
int fhp_formdata_init(PyObject *module);
/* The WebSocket type and _ws_open (ws.c). */
int fhp_ws_init(PyObject *module);

/* ---- one exchange (send.c) --------------------------------------------- */

/* One synchronous exchange: the request, its body source, and the response
 * (which owns the private engine of a stream). Lives with the call, or with
 * the Response while it streams. */
typedef struct fhp_xfer {
    fh_request *req;
    fh_response *resp;
    fhp_bodysrc *src;
    int64_t start_us;  /* monotonic clock when the call began */
    PyThreadState *ts; /* while a blocking call waits with the GIL released */
    unsigned long thread; /* the thread of that call (PyThread_get_thread_ident) */
    int main;          /* that thread handles signals */
} fhp_xfer;

/* Buffered bodies of known length are received straight into the bytes
 * object that becomes Response.content (fh_body_storage, bodystore.c).
 * x: the blocking call the request belongs to (its thread may take the
 * GIL for the allocation), or NULL for the asyncio face (allocations only
 * where the GIL is held, as in the loop's polls). */
void fhp_body_storage_set(fh_request *req, fhp_xfer *x);
/* The body as a bytes object when it was received into one, else NULL. */
PyObject *fhp_body_storage_take(fh_response *resp);

/* A Python exception is set: a signal handler raised, or the body iterator
 * failed (returned by the hooks, passed on by libfasthttp). */
#define FHP_PYERR (-10000)
/* Sends x->req on c with fh_client_send_with, the GIL released while it
 * waits; the hooks check signals (main thread) and pull body chunks.
 * Returns FH_OK (x->resp set), an FH_E code, or FHP_PYERR. */
int fhp_xfer_send(fhp_xfer *x, fh_client *c);
/* Reads the streamed body, GIL released while waiting. n, 0 at the end,
 * FH_E... code, or FHP_PYERR. */
Py_ssize_t fhp_xfer_read(fhp_xfer *x, char *buf, size_t cap);
void fhp_xfer_release(fhp_xfer *x);

/* ---- response (response.c / text.c) --------------------------------------- */

typedef struct FhpClient FhpClient;

typedef struct FhpResponse {
    PyObject_HEAD
    int status;
    int version;         /* 10, 11, 20; 0 unknown */
    PyObject *reason;    /* str, or NULL: made from raw */
    PyObject *headers;   /* Headers, or NULL: made from raw */
    fhp_rawhdrs *raw;    /* NULL until wanted while fresp holds the head */
    fh_response *fresp;  /* a buffered response, kept until raw is made from it */
    PyObject *content;   /* bytes, or NULL while a stream is unread */
    PyObject *encoding;  /* str set by the user, or NULL: detected */
    PyObject *url;
    PyObject *request;
    PyObject *timings;   /* dict, made on demand */
    PyObject *history;   /* list of Response (redirect hops), or NULL: none */
    int attempts;        /* attempts made for this response (retries) */
    PyObject *sent;      /* the request as sent (response_props.c), made on demand */
    uint64_t downloaded; /* body bytes off the wire, once the body is done */
    fh_timings tm;
    int has_tm;
    int64_t elapsed_us;  /* -1 unknown */
    /* stream mode */
    fhp_xfer *xfer;      /* NULL when not streaming or finished */
    FhpClient *client;   /* strong ref while xfer is alive */
    PyObject *astream;   /* asyncio stream mode: the exchange (aio.h), or NULL */
    int is_stream, consumed, closed, busy;
} FhpResponse;

/* Makes a response from a finished exchange; consumes nothing. */
PyObject *fhp_response_from_xfer(fhp_xfer *x, PyObject *request, PyObject *url,
                                 FhpClient *client, int stream);
/* A redirect hop of a response's history: status, headers, URL, no body. */
PyObject *fhp_response_from_hop(const fh_response *hop, PyObject *request);
/* Releases the stream (connection back to the pool if read to the end). */
void fhp_response_release(FhpResponse *r);
/* The response's copied head (status line, fields, the request as sent),
 * made on first use; NULL with an exception set when that fails. */
const fhp_rawhdrs *fhp_response_raw(FhpResponse *r);
/* The body bytes; reads a pending stream to the end. New reference. */
PyObject *fhp_response_read_all(FhpResponse *r);
/* One chunk of at most cap bytes from a stream (exactly cap unless the
 * body ends, with fill): bytes, b"" at the end. */
PyObject *fhp_response_read_chunk(FhpResponse *r, size_t cap, int fill);
/* First value of a response header as a new str, or NULL without error. */
PyObject *fhp_response_header(FhpResponse *r, const char *name);

/* response_props.c: the request as sent, status predicates, truth,
 * content_type, num_bytes_downloaded, links. */
PyObject *fhp_response_get_request(FhpResponse *r, void *c);
/* closure: const int[2], the status range [lo, hi) */
PyObject *fhp_response_get_status_in(FhpResponse *r, void *closure);
PyObject *fhp_response_get_is_permanent_redirect(FhpResponse *r, void *c);
int fhp_response_bool(FhpResponse *r);
PyObject *fhp_response_get_content_type(FhpResponse *r, void *c);
PyObject *fhp_response_get_downloaded(FhpResponse *r, void *c);
PyObject *fhp_response_get_links(FhpResponse *r, void *c);

PyObject *fhp_response_encoding(FhpResponse *r);
PyObject *fhp_response_text(FhpResponse *r, PyObject *unused);
PyObject *fhp_response_text_method(FhpResponse *r, PyObject *const *args, Py_ssize_t nargs,
                                   PyObject *kwnames);
PyObject *fhp_response_json(FhpResponse *r, PyObject *const *args, Py_ssize_t nargs,
                            PyObject *kwnames);
PyObject *fhp_response_iter_bytes(FhpResponse *r, PyObject *const *args, Py_ssize_t nargs,
                                  PyObject *kwnames);
PyObject *fhp_response_iter_text(FhpResponse *r, PyObject *const *args, Py_ssize_t nargs,
                                 PyObject *kwnames);
PyObject *fhp_response_iter_lines(FhpResponse *r, PyObject *const *args, Py_ssize_t nargs,
                                  PyObject *kwnames);

/* asyncio side of a Response (aio_stream.c). */
void fhp_aio_stream_release(FhpResponse *r);
PyObject *fhp_response_aread(FhpResponse *r, PyObject *unused);
PyObject *fhp_response_aclose(FhpResponse *r, PyObject *unused);
PyObject *fhp_response_aiter_bytes(FhpResponse *r, PyObject *const *args, Py_ssize_t nargs,
                                   PyObject *kwnames);
/* fasthttp._aio.<name>(r, chunk_size): the async generators behind
 * aiter_text() and aiter_lines(). */
PyObject *fhp_aio_text_helper(FhpResponse *r, const char *name, PyObject *chunk_size);
/* The async byte iterator of aiter_bytes(chunk_size); cs 0: as they come. */
PyObject *fhp_aiter_bytes_new(FhpResponse *r, Py_ssize_t cs);
PyObject *fhp_response_aiter_text(FhpResponse *r, PyObject *const *args, Py_ssize_t nargs,
                                  PyObject *kwnames);
PyObject *fhp_response_aiter_lines(FhpResponse *r, PyObject *const *args, Py_ssize_t nargs,
                                   PyObject *kwnames);
PyObject *fhp_response_aenter(FhpResponse *r, PyObject *unused);
PyObject *fhp_response_aexit(FhpResponse *r, PyObject *const *args, Py_ssize_t nargs);

/* ---- client (client.c / options.c) ---------------------------------------- */

enum { FHP_MODE_NONE = 0, FHP_MODE_SYNC = 1, FHP_MODE_ASYNC = 2 };

struct FhpClient {
    PyObject_HEAD
    fh_client *c;
    int closed;
    int mode;
    unsigned long loop_thread; /* async: the thread a running loop was last seen in */
    long inflight;        /* calls in C and open streams using c */
    PyObject *base_url;   /* str or NULL */
    PyObject *headers;    /* Headers */
    /* headers as one fh_header_set, and the (name, value) pairs it was made
     * from (a tuple), or NULL: made again when the pairs differ (client.c) */
    fh_header_set *hset;
    PyObject *hset_from;
    PyObject *query;      /* bytes: the encoded client params, or NULL */
    PyObject *timeout;    /* as given */
    PyObject *verify, *cert, *limits;
    int follow_redirects, max_redirects;
    int http1;            /* Client(http1=...): 0 means HTTP/2 only */
    /* policies (policy.c) */
    PyObject *retry;      /* RetryPolicy or NULL */
    PyObject *cookies;    /* fasthttp.cookies.CookieJar (always, after __init__) */
    PyObject *auth;       /* as given (tuple, BasicAuth, DigestAuth, custom) or NULL */
    PyObject *auth_custom; /* the custom auth object, or NULL */
    PyObject *hooks;      /* tuple of response hooks, or NULL */
    int64_t fake_now_us;  /* the breaker's clock when fake_clock (tests) */
    int fake_clock;
    PyObject *aio;        /* asyncio: the AioLoop of each loop used (aio.c), or NULL */
};

/* Applies a Timeout, a number or None to the client (kind by kind). */
int fhp_timeout_values(PyObject *t, int64_t ms[FH_TIMEOUT_KINDS]);
/* Client(proxy=, proxies=, trust_env=, uds=) (proxy.c): passed to libfasthttp,
 * which validates them and reads the environment. */
int fhp_client_proxies(FhpClient *self, PyObject *proxy, PyObject *proxies,
                       PyObject *trust_env, PyObject *uds);
/* Client._proxy_for(url): the route libfasthttp picks, str or None. */
PyObject *fhp_client_proxy_for(FhpClient *self, PyObject *url);
/* uds= of a request: NULL/None, or a str; -1 with TypeError otherwise. */
int fhp_uds_arg(PyObject *uds);
/* fhp_raise for a failed request: a ProxyError also gets the proxy's
 * status_code (None when the proxy gave no HTTP status). */
void fhp_raise_req(int code, const fh_request *req, PyObject *request, const char *method,
                   const char *url);
int fhp_client_configure(FhpClient *self, PyObject *timeout, PyObject *verify, PyObject *cert,
                         PyObject *limits);
/* The size limits of a fasthttp.Limits (what names the argument in errors)
 * into out[kind]: the value, or -1 where the field is None (the default).
 * None or NULL gives all -1. 0, or -1 with TypeError for a non-Limits. */
int fhp_limits_sizes(PyObject *limits, const char *what, int64_t out[FH_LIMIT_KINDS]);
/* The same for a request's limits=, where pool fields are refused. */
int fhp_limits_request(PyObject *limits, int64_t out[FH_LIMIT_KINDS]);
/* Validation of fasthttp.Timeout, fasthttp.Limits and fasthttp.retry.RetryPolicy
 * by libfasthttp's checks (fh_timeout_check, fh_limit_check,
 * fh_pool_limits_check, fh_retry_policy_check): each returns None, or the
 * sentence saying what is wrong, for the Python class to raise with its
 * caller's value. _retry_defaults() is fh_retry_policy_init() as a dict. */
PyObject *fhp_mod_timeout_check(PyObject *m, PyObject *seconds);
PyObject *fhp_mod_limit_check(PyObject *m, PyObject *args);
PyObject *fhp_mod_pool_check(PyObject *m, PyObject *args);
PyObject *fhp_mod_retry_check(PyObject *m, PyObject *policy);
PyObject *fhp_mod_retry_defaults(PyObject *m, PyObject *unused);
/* The fh_http2_mode of a call's http2= (None: -1, the client's), given
 * the client's http1 setting. -1 with an exception set on error: *out is
 * -2 then. */
int fhp_http2_mode(PyObject *http2, int http1, int *out);
/* expect_continue= of a call: None/False -1 (off), True 0 (libfasthttp's
 * wait), seconds > 0 as milliseconds. -1 with an exception on error. */
int fhp_expect_arg(PyObject *v, int64_t *ms);
/* Drops one use of the client; frees the C client after close(). */
void fhp_client_unuse(FhpClient *c);
typedef struct fhp_reqpol fhp_reqpol; /* defined with the policies below */
/* Headers, a bytes body, timeouts, stream mode and the call's policies
 * (pol may be NULL) onto req (not an iterator body). 0, or -1 with an
 * exception. */
int fhp_request_prepare(FhpClient *self, fh_request *req, FhpRequest *r, const int64_t *ms,
                        int stream, int with_defaults, const fhp_reqpol *pol, const char *m,
                        const char *u);

/* ---- asyncio (aio.c) -------------------------------------------------------------------- */

/* The running event loop of this thread (new reference), or NULL: with an
 * exception on failure, without one when no loop runs. */
PyObject *fhp_aio_running_loop(void);
/* The awaitable of one request; takes req over (freed on failure). */
PyObject *fhp_aio_request(FhpClient *self, FhpRequest *r, PyObject *url, fh_request *req,
                          const int64_t *ms, int stream, int with_defaults, fhp_reqpol *pol);
/* Cancels what the client still runs on event loops and frees its engines. */
void fhp_aio_client_close(FhpClient *self);
/* An awaitable that returns value at once. */
PyObject *fhp_aio_done(PyObject *value);

/* ---- policies (policy.c / cookiejar.c) ------------------------------------- */

typedef struct FhpCookieJar {
    PyObject_HEAD
    fh_cookie_jar *jar;
    int64_t fake_now; /* the jar's clock in tests (_set_fake_time) */
} FhpCookieJar;

/* The fh_cookie_jar of a CookieJar, or NULL when o is none. */
fh_cookie_jar *fhp_jar_of(PyObject *o);
/* Stores name=value (str) in jar for domain (NULL: any host). -1 + error. */
int fhp_jar_set(fh_cookie_jar *jar, PyObject *name, PyObject *value, const char *domain);
/* Copies every cookie of src into dst. -1 + error. */
int fhp_jar_merge(fh_cookie_jar *dst, fh_cookie_jar *src);

/* What one call adds to the client's policies: per-request retry, redirect,
 * auth and cookie settings for libfasthttp, and the Python callables (custom
 * auth, hooks) that run around the exchange. */
typedef struct fhp_reqpol {
    fh_retry_policy retry;
    int has_retry;
    int follow;             /* -1: the client's */
    int auth_kind;          /* -1: the client's; else an fh_auth_kind */
    PyObject *user, *pass;  /* str, for auth_kind BASIC / DIGEST */
    PyObject *auth_custom;  /* custom auth to run (request's or client's), or NULL */
    PyObject *hooks;        /* tuple: the client's hooks then the request's, or NULL */
    fh_cookie_jar *jar;     /* this request's jar (owned), or NULL: the client's */
    int64_t limit[FH_LIMIT_KINDS]; /* limits=: a value, or -1 for the client's */
    int http2;              /* http2=: an fh_http2_mode, or -1 for the client's */
    int64_t expect_ms;      /* expect_continue=: -1 off, else the wait (0: default) */
    PyObject *uds;          /* uds=: this request's Unix socket (str), or NULL */
    PyObject *digest_alg;   /* DigestAuth.algorithm of the request's auth, or NULL */
    int keep_jar;           /* asyncio flow: jar outlives the exchanges, keep it here */
} fhp_reqpol;

/* fasthttp._fasthttp._check_auth(kind, user, password): libfasthttp's
 * credential rules (fh_auth_check) as a ValueError; for BasicAuth/DigestAuth. */
PyObject *fhp_mod_check_auth(PyObject *m, PyObject *args);
/* _check_digest_algorithm(name): ValueError unless libfasthttp knows it. */
PyObject *fhp_mod_check_digest_algorithm(PyObject *m, PyObject *alg);
/* Client(...) options: follow_redirects, max_redirects, retry, cookies, auth, hooks. */
int fhp_client_policies(FhpClient *self, PyObject *follow, PyObject *max_redirects,
                        PyObject *retry, PyObject *cookies, PyObject *auth, PyObject *hooks);
void fhp_client_policies_clear(FhpClient *self);
int fhp_client_policies_traverse(FhpClient *self, visitproc visit, void *arg);
/* Per-call options; url is the request's URL (per-request dict cookies are
 * scoped to its host). Every argument may be NULL. */
int fhp_reqpol_init(fhp_reqpol *p, FhpClient *c, PyObject *retry, PyObject *cookies,
                    PyObject *auth, PyObject *hooks, PyObject *follow, PyObject *limits,
                    PyObject *url);
/* 1 when Python callables must run around the exchange (fhp_policy_run). */
int fhp_reqpol_has_flow(const fhp_reqpol *p);
/* Applies the libfasthttp settings to req: FH_OK or an FH_E... code. */
int fhp_reqpol_apply(const fhp_reqpol *p, fh_request *req);
void fhp_reqpol_free(fhp_reqpol *p);

/* One exchange of a call: what client.c runs for each request of a flow. */
typedef PyObject *(*fhp_send_fn)(FhpClient *self, FhpRequest *r, void *ctx);
/* Runs custom auth and hooks around send (fasthttp._policy.flow). */
PyObject *fhp_policy_run(FhpClient *self, const fhp_reqpol *p, FhpRequest *r, fhp_send_fn send,
                         void *ctx);
/* What owns a ctx that outlives the call: frees it, and shows its Python
 * references to the GC. */
typedef struct fhp_ctx_ops {
    void (*free)(void *ctx);
    int (*traverse)(void *ctx, visitproc visit, void *arg);
} fhp_ctx_ops;
/* asyncio: the flow as a coroutine (drive_async); ctx is freed by ops->free
 * when the coroutine is done with it (also on failure here). */
PyObject *fhp_policy_run_async(FhpClient *self, const fhp_reqpol *p, FhpRequest *r,
                               fhp_send_fn send, void *ctx, const fhp_ctx_ops *ops);
/* Sets attempts, the final URL and the history of a response made from resp. */
int fhp_response_policy(FhpResponse *r, const fh_response *resp);

PyObject *fhp_client_get_cookies(FhpClient *self, void *c);
PyObject *fhp_client_get_follow(FhpClient *self, void *c);
PyObject *fhp_client__set_fake_clock_us(FhpClient *self, PyObject *arg);
PyObject *fhp_client__circuit_state(FhpClient *self, PyObject *arg);

#endif
