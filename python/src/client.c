/*
 * client.c — the Client type. One fh_client (settings, TLS context, pool)
 * per Client, shared by every thread that uses it; each call runs on its
 * own private engine (libfasthttp's blocking driver, send.c), so calls from
 * many threads proceed in parallel with the GIL released.
 *
 * Modes: `with Client() as c:` puts the client in synchronous mode, where
 * every method returns a Response. `async with` and bare use are the
 * asyncio mode (aio.c): every method returns an awaitable; a bare client
 * takes that mode at its first call, which needs a running event loop.
 */
#include "fhpy.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <structmember.h>

static const char BARE_MSG[] =
    "a Client used without `with` is asynchronous: await its methods inside a running "
    "event loop (asyncio.run(...)), or use `with Client(...) as client:` for synchronous "
    "requests";
static const char ASYNC_MSG[] =
    "this Client is asynchronous (`async with Client()` or used bare): await its methods "
    "inside a running event loop; a synchronous client is `with Client(...) as client:`";

enum { A_URL, A_PARAMS, A_HEADERS, A_JSON, A_DATA, A_CONTENT, A_FILES, A_TIMEOUT, A_STREAM,
       A_COOKIES, A_AUTH, A_HOOKS, A_FOLLOW, A_HTTP2, A_RETRY, A_LIMITS, A_EXPECT, A_UDS, A_N };

static PyObject **req_names[A_N + 1] = {
    &S.k_method, &S.k_url, &S.k_params, &S.k_headers, &S.k_json, &S.k_data, &S.k_content,
    &S.k_files, &S.k_timeout, &S.k_stream, &S.k_cookies, &S.k_auth, &S.k_hooks,
    &S.k_follow_redirects, &S.k_http2, &S.k_retry, &S.k_limits, &S.k_expect_continue,
    &S.k_uds,
};

void fhp_client_unuse(FhpClient *c)
{
    if (--c->inflight == 0 && c->closed && c->c) {
        fh_client_free(c->c);
        c->c = NULL;
    }
}

static int usable(FhpClient *self)
{
    if (self->closed) {
        PyErr_SetString(S.E_ClientClosedError,
                        "this Client is closed; create a new Client to send requests");
        return 0;
    }
    if (self->mode == FHP_MODE_SYNC)
        return 1;
    /* Asking asyncio for the running loop costs a getpid() system call on
     * Python 3.11; the awaitable asks again when it starts anyway (and
     * fails clearly without a loop), so a thread already seen running one
     * is not asked twice. */
    unsigned long tid = PyThread_get_thread_ident();
    if (self->mode == FHP_MODE_ASYNC && self->loop_thread == tid)
        return 1;
    PyObject *loop = fhp_aio_running_loop();
    if (!loop) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError,
                            self->mode == FHP_MODE_ASYNC ? ASYNC_MSG : BARE_MSG);
        return 0;
    }
    Py_DECREF(loop);
    self->mode = FHP_MODE_ASYNC;
    self->loop_thread = tid;
    return 1;
}

/* ---- one exchange -------------------------------------------------------------------- */

/*
 * The client's headers as one fh_header_set, so a request carries them with
 * no per-field conversion, check, allocation or copy. The set is made again
 * when the client's (name, value) pairs are not the very objects it was
 * made from, in the same order: a pair is a tuple of str, never changed in
 * place, and the cache holds a reference to each, so identity means the
 * same fields whatever changed Client.headers in between. NULL without an
 * exception when a field cannot go into a set: the caller then adds the
 * fields one by one, which raises the error a bad field deserves.
 */
static fh_header_set *client_header_set(FhpClient *self)
{
    PyObject *list = ((FhpHeaders *)self->headers)->list;
    Py_ssize_t n = PyList_GET_SIZE(list), i = 0;
    PyObject *from = self->hset_from;
    if (from && PyTuple_GET_SIZE(from) == n) {
        while (i < n && PyTuple_GET_ITEM(from, i) == PyList_GET_ITEM(list, i))
            i++;
        if (i == n)
            return self->hset;
    }
    fh_header stack[8];
    fh_header *f = n <= 8 ? stack : PyMem_Calloc((size_t)n, sizeof *f);
    if (!f) {
        PyErr_NoMemory();
        return NULL;
    }
    PyObject *pairs = PyList_AsTuple(list); /* before any conversion: list may not change */
    fh_header_set *set = NULL;
    int rc = pairs ? FH_OK : FH_ENOMEM;
    for (i = 0; i < n && rc == FH_OK; i++) {
        PyObject *t = PyTuple_GET_ITEM(pairs, i);
        Py_ssize_t kl, vl;
        f[i].name = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(t, 0), &kl);
        f[i].value = f[i].name ? PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(t, 1), &vl) : NULL;
        if (!f[i].value) {
            rc = FH_ENOMEM; /* the exception is set */
        } else {
            f[i].name_len = (size_t)kl;
            f[i].value_len = (size_t)vl;
        }
    }
    if (rc == FH_OK && (rc = fh_header_set_new(f, (size_t)n, &set)) == FH_ENOMEM)
        PyErr_NoMemory();
    if (f != stack)
        PyMem_Free(f);
    if (rc != FH_OK) {
        Py_XDECREF(pairs);
        return NULL;
    }
    fh_header_set_free(self->hset);
    self->hset = set;
    Py_XSETREF(self->hset_from, pairs);
    return set;
}

/* How many of list's first fields are the very pairs the client's set was
 * made from: a request built by Client.get() and the like starts with a
 * copy of the client's pairs (the same objects), unless its own headers=
 * replaced one of them. Returns 0 or the set's length. */
static Py_ssize_t set_prefix(FhpClient *self, PyObject *list)
{
    PyObject *from = self->hset_from;
    Py_ssize_t n = PyTuple_GET_SIZE(from);
    if (!n || PyList_GET_SIZE(list) < n)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (PyTuple_GET_ITEM(from, i) != PyList_GET_ITEM(list, i))
            return 0;
    return n;
}

/* Adds set to req, raising InvalidRequest on failure. */
static int add_set(fh_request *req, fh_header_set *set, FhpRequest *r, const char *m,
                   const char *u)
{
    int rc = fh_request_add_header_set(req, set);
    if (rc != FH_OK) {
        fhp_raise_req(rc, req, (PyObject *)r, m, u);
        return -1;
    }
    return 0;
}

/*
 * The header fields of req: the client's unless with_defaults is 0 (when
 * the request was built with a copy of them), but none whose name the
 * request's own fields have (those win), then the request's own. Client
 * fields go as the client's set when they all go, field by field
 * otherwise.
 */
static int apply_headers(FhpClient *self, fh_request *req, FhpRequest *r, int with_defaults,
                         const char *m, const char *u)
{
    FhpHeaders *own = (FhpHeaders *)r->headers;
    fh_header_set *set = client_header_set(self);
    if (!set && PyErr_Occurred())
        return -1;
    if (with_defaults) {
        Py_ssize_t n = set ? PyTuple_GET_SIZE(self->hset_from) : 0;
        for (Py_ssize_t i = 0; set && PyList_GET_SIZE(own->list) && i < n; i++) {
            Py_ssize_t kl;
            PyObject *pair = PyTuple_GET_ITEM(self->hset_from, i);
            const char *k = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(pair, 0), &kl);
            if (!k)
                return -1;
            if (fhp_headers_has(own, k, (size_t)kl))
                set = NULL; /* the request replaces one */
        }
        if (set ? add_set(req, set, r, m, u) < 0
                : fhp_headers_apply((FhpHeaders *)self->headers, 0, req, own, (PyObject *)r,
                                    m, u) < 0)
            return -1;
        return fhp_headers_apply(own, 0, req, NULL, (PyObject *)r, m, u);
    }
    Py_ssize_t done = set ? set_prefix(self, own->list) : 0;
    if (done && add_set(req, set, r, m, u) < 0)
        return -1;
    return fhp_headers_apply(own, done, req, NULL, (PyObject *)r, m, u);
}

int fhp_request_prepare(FhpClient *self, fh_request *req, FhpRequest *r, const int64_t *ms,
                        int stream, int with_defaults, const fhp_reqpol *pol, const char *m,
                        const char *u)
{
    if (apply_headers(self, req, r, with_defaults, m, u) < 0)
        return -1;
    /* Credentials a custom auth added never follow a redirect to another
     * origin, like Authorization and Cookie. */
    if (r->sensitive && PyTuple_Check(r->sensitive)) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(r->sensitive); i++) {
            const char *name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(r->sensitive, i));
            if (!name || fh_request_mark_sensitive(req, name) == FH_ENOMEM)
                return name ? (PyErr_NoMemory(), -1) : -1;
        }
    }
    int rc = FH_OK;
    if (!r->stream && PyBytes_GET_SIZE(r->content) > 0) { /* borrowed: r outlives req */
        rc = fh_request_set_body(req, PyBytes_AS_STRING(r->content),
                                 (size_t)PyBytes_GET_SIZE(r->content), 0);
    }
    for (int i = 0; ms && i < FH_TIMEOUT_KINDS && rc == FH_OK; i++)
        rc = fh_request_set_timeout(req, (fh_timeout_kind)i, ms[i]);
    if (rc == FH_OK && stream)
        rc = fh_request_set_stream(req, 1);
    if (rc == FH_OK && pol)
        rc = fhp_reqpol_apply(pol, req);
    if (rc != FH_OK) {
        fhp_raise_req(rc, req, (PyObject *)r, m, u);
        return -1;
    }
    return 0;
}

static int prepare(FhpClient *self, fhp_xfer *x, FhpRequest *r, const int64_t *ms, int stream,
                   int with_defaults, const fhp_reqpol *pol, const char *m, const char *u)
{
    if (fhp_request_prepare(self, x->req, r, ms, stream, with_defaults, pol, m, u) < 0)
        return -1;
    if (!r->stream)
        return 0;
    int64_t len, off;
    int fd, rc, file = fhp_body_file(r->stream, &fd, &off, &len);
    if (file < 0)
        return -1;
    if (file) {
        rc = fh_request_set_body_file(x->req, fd, off, len);
    } else {
        if (fhp_formdata_sync_length(r->stream, &len) < 0 ||
            !(x->src = fhp_bodysrc_new(r->stream)))
            return -1;
        rc = fh_request_set_body_lender(x->req, fhp_bodysrc_lend, x->src, len);
    }
    if (rc != FH_OK) {
        fhp_raise_req(rc, x->req, (PyObject *)r, m, u);
        return -1;
    }
    return 0;
}

/* fh_request_new_n refused the method or the URL: says which and why,
 * with the URL's password hidden and a NUL shown as \x00 (%R). */
static void raise_invalid(int err, FhpRequest *r, PyObject *url, const char *u, size_t ulen)
{
    PyObject *msg;
    if (err == FH_EURL || err == FH_EUNSUPPORTED) {
        char why[128];
        fh_url_check_n(u, ulen, why, sizeof why);
        PyObject *shown = fhp_redacted_url(url);
        msg = shown ? PyUnicode_FromFormat("invalid URL %R: %s", shown, why) : NULL;
        Py_XDECREF(shown);
    } else {
        msg = PyUnicode_FromFormat("invalid method %R: a method is a token (RFC 9110 section 9.1)",
                                   r->method);
    }
    const char *m = msg ? PyUnicode_AsUTF8(msg) : NULL;
    if (m)
        fhp_raise(err, m, (PyObject *)r, NULL, NULL);
    Py_XDECREF(msg);
}

static PyObject *execute(FhpClient *self, FhpRequest *r, PyObject *url, PyObject *timeout,
                         int stream, int with_defaults, fhp_reqpol *pol)
{
    Py_ssize_t ulen, mlen;
    const char *u = PyUnicode_AsUTF8AndSize(url, &ulen);
    const char *m = PyUnicode_AsUTF8AndSize(r->method, &mlen);
    int64_t ms[FH_TIMEOUT_KINDS];
    int has_tmo = timeout && timeout != Py_None;
    if (!u || !m || (has_tmo && fhp_timeout_values(timeout, ms) < 0))
        return NULL;
    if (!fhp_url_is_absolute(u, (size_t)ulen)) {
        PyObject *shown = fhp_redacted_url(url);
        PyObject *msg = shown ? PyUnicode_FromFormat(
                                    "%R is not an absolute URL (http:// or https://) and the "
                                    "Client has no base_url", shown)
                              : NULL;
        if (msg)
            fhp_raise(FH_EURL, PyUnicode_AsUTF8(msg), (PyObject *)r, NULL, NULL);
        Py_XDECREF(shown);
        Py_XDECREF(msg);
        return NULL;
    }
    int err = 0;
    /* Lengths, not NUL termination: "GET\0X" or a URL with a NUL inside
     * is refused by libfasthttp instead of being cut short. */
    fh_request *req = fh_request_new_n(m, (size_t)mlen, u, (size_t)ulen, &err);
    if (!req) {
        raise_invalid(err, r, url, u, (size_t)ulen);
        return NULL;
    }
    if (self->mode == FHP_MODE_ASYNC) {
        if (!stream)
            fhp_body_storage_set(req, NULL);
        return fhp_aio_request(self, r, url, req, has_tmo ? ms : NULL, stream, with_defaults,
                               pol);
    }
    fhp_xfer *x = PyMem_Calloc(1, sizeof *x);
    if (!x) {
        fh_request_free(req);
        return PyErr_NoMemory();
    }
    x->req = req;
    if (!stream)
        fhp_body_storage_set(req, x);
    x->start_us = fhp_now_us();
    if (prepare(self, x, r, has_tmo ? ms : NULL, stream, with_defaults, pol, m, u) < 0) {
        fhp_xfer_release(x);
        return NULL;
    }
    self->inflight++;
    int rc = fhp_xfer_send(x, self->c);
    PyObject *resp = NULL;
    if (rc == FH_OK)
        resp = fhp_response_from_xfer(x, (PyObject *)r, url, self, stream);
    else if (rc != FHP_PYERR)
        fhp_raise_req(rc, req, (PyObject *)r, m, u);
    if (resp && stream)
        return resp; /* the response owns x and this use of the client */
    fhp_xfer_release(x);
    fhp_client_unuse(self);
    return resp;
}

/* One call: the Request built for it (r, sent to url), its options, and
 * the custom auth and hooks around it (policy.c) when there are any. */
typedef struct call {
    FhpRequest *r;
    PyObject *url, *timeout;
    int stream, with_defaults;
    fhp_reqpol pol;
    int http2;        /* http2=: an fh_http2_mode, or -1 for the client's */
    int64_t expect_ms; /* expect_continue=: -1 off */
    PyObject *uds;     /* uds=, borrowed for the call */
} call;

/* Each exchange of a call (auth rounds send further Requests). */
static PyObject *send_one(FhpClient *self, FhpRequest *r, void *ctx)
{
    call *c = ctx;
    if (!usable(self))
        return NULL;
    if (r == c->r)
        return execute(self, r, c->url, c->timeout, c->stream, c->with_defaults, &c->pol);
    PyObject *url = fhp_build_url(self->base_url, r->url, NULL, 0, NULL);
    PyObject *resp = url ? execute(self, r, url, c->timeout, c->stream, 1, &c->pol) : NULL;
    Py_XDECREF(url);
    return resp;
}

/* asyncio: the flow's coroutine outlives run_call, so its call moves to the heap
 * and is freed with the coroutine's send(). */
static void free_call(void *ctx)
{
    call *h = ctx;
    Py_XDECREF(h->r);
    Py_XDECREF(h->url);
    Py_XDECREF(h->timeout);
    fhp_reqpol_free(&h->pol);
    PyMem_Free(h);
}

static int traverse_call(void *ctx, visitproc visit, void *arg)
{
    call *h = ctx;
    Py_VISIT((PyObject *)h->r);
    Py_VISIT(h->url);
    Py_VISIT(h->timeout);
    Py_VISIT(h->pol.user);
    Py_VISIT(h->pol.pass);
    Py_VISIT(h->pol.auth_custom);
    Py_VISIT(h->pol.hooks);
    return 0;
}

static const fhp_ctx_ops call_ops = {free_call, traverse_call};

static PyObject *run_flow_async(FhpClient *self, call *c)
{
    call *h = PyMem_Malloc(sizeof *h);
    if (!h) {
        fhp_reqpol_free(&c->pol);
        return PyErr_NoMemory();
    }
    *h = *c; /* takes the policy over */
    Py_INCREF(h->r);
    Py_INCREF(h->url);
    Py_XINCREF(h->timeout);
    h->pol.keep_jar = 1; /* every exchange of the flow reads it; freed with h */
    return fhp_policy_run_async(self, &h->pol, h->r, send_one, h, &call_ops);
}

static PyObject *run_call(FhpClient *self, call *c, PyObject *retry, PyObject *cookies,
                          PyObject *auth, PyObject *hooks, PyObject *follow, PyObject *limits)
{
    if (fhp_reqpol_init(&c->pol, self, retry, cookies, auth, hooks, follow, limits, c->url) <
        0) {
        fhp_reqpol_free(&c->pol);
        return NULL;
    }
    c->pol.http2 = c->http2;
    c->pol.expect_ms = c->expect_ms;
    c->pol.uds = c->uds && c->uds != Py_None ? Py_NewRef(c->uds) : NULL;
    if (self->mode == FHP_MODE_ASYNC && fhp_reqpol_has_flow(&c->pol))
        return run_flow_async(self, c);
    PyObject *resp = fhp_reqpol_has_flow(&c->pol)
                         ? fhp_policy_run(self, &c->pol, c->r, send_one, c)
                         : execute(self, c->r, c->url, c->timeout, c->stream, c->with_defaults,
                                   &c->pol);
    fhp_reqpol_free(&c->pol);
    return resp;
}

/* out[0] is the method, out[1..] the arguments in req_names order. */
static PyObject *do_request(FhpClient *self, PyObject **out)
{
    PyObject **a = out + 1;
    int http2 = -1;
    int64_t expect_ms;
    if (!usable(self) || fhp_http2_mode(a[A_HTTP2], self->http1, &http2) < 0 ||
        fhp_expect_arg(a[A_EXPECT], &expect_ms) < 0 || fhp_uds_arg(a[A_UDS]) < 0)
        return NULL;
    int stream = a[A_STREAM] ? PyObject_IsTrue(a[A_STREAM]) : 0;
    if (stream < 0)
        return NULL;
    fhp_reqargs ra = {a[A_PARAMS], a[A_HEADERS], a[A_JSON], a[A_DATA], a[A_CONTENT],
                      a[A_FILES]};
    const char *q = self->query ? PyBytes_AS_STRING(self->query) : NULL;
    size_t qlen = self->query ? (size_t)PyBytes_GET_SIZE(self->query) : 0;
    FhpRequest *r = (FhpRequest *)fhp_request_build(out[0], a[A_URL], &ra, self->base_url, q,
                                                    qlen, (FhpHeaders *)self->headers);
    if (!r)
        return NULL;
    call c = {.r = r, .url = r->url, .timeout = a[A_TIMEOUT], .stream = stream, .http2 = http2,
              .expect_ms = expect_ms, .uds = a[A_UDS]};
    PyObject *resp = run_call(self, &c, a[A_RETRY], a[A_COOKIES], a[A_AUTH], a[A_HOOKS],
                              a[A_FOLLOW], a[A_LIMITS]);
    Py_DECREF(r);
    return resp;
}

static PyObject *method_call(FhpClient *self, PyObject *method, const char *fname,
                             PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    fhp_sig sig = {fname, req_names + 1, A_N, 1, 1};
    PyObject *out[A_N + 1];
    out[0] = method;
    if (fhp_parse(&sig, args, nargs, kwnames, out + 1) < 0)
        return NULL;
    return do_request(self, out);
}

#define METHOD(lower, upper)                                                              \
    static PyObject *Client_##lower(FhpClient *self, PyObject *const *args, Py_ssize_t nargs, \
                                    PyObject *kwnames)                                    \
    {                                                                                     \
        return method_call(self, S.s_##upper, #lower, args, nargs, kwnames);              \
    }
METHOD(get, GET)
METHOD(post, POST)
METHOD(put, PUT)
METHOD(patch, PATCH)
METHOD(delete, DELETE)
METHOD(head, HEAD)
METHOD(options, OPTIONS)
METHOD(trace, TRACE)

static PyObject *Client_request(FhpClient *self, PyObject *const *args, Py_ssize_t nargs,
                                PyObject *kwnames)
{
    fhp_sig sig = {"request", req_names, A_N + 1, 2, 2};
    PyObject *out[A_N + 1];
    if (fhp_parse(&sig, args, nargs, kwnames, out) < 0)
        return NULL;
    return do_request(self, out);
}

static PyObject *Client_send(FhpClient *self, PyObject *const *args, Py_ssize_t nargs,
                             PyObject *kwnames)
{
    static PyObject **names[] = {&S.k_request, &S.k_stream, &S.k_timeout, &S.k_auth,
                                 &S.k_follow_redirects, &S.k_hooks, &S.k_retry, &S.k_cookies,
                                 &S.k_limits};
    fhp_sig sig = {"send", names, 9, 1, 1};
    PyObject *a[9];
    if (fhp_parse(&sig, args, nargs, kwnames, a) < 0)
        return NULL;
    if (!Py_IS_TYPE(a[0], &FhpRequest_Type)) {
        PyErr_SetString(PyExc_TypeError, "send() takes a fasthttp.Request");
        return NULL;
    }
    if (!usable(self))
        return NULL;
    int stream = a[1] ? PyObject_IsTrue(a[1]) : 0;
    if (stream < 0)
        return NULL;
    FhpRequest *r = (FhpRequest *)a[0];
    PyObject *url = fhp_build_url(self->base_url, r->url, NULL, 0, NULL);
    if (!url)
        return NULL;
    call c = {.r = r, .url = url, .timeout = a[2], .stream = stream, .with_defaults = 1,
              .http2 = -1, .expect_ms = -1};
    PyObject *resp = run_call(self, &c, a[6], a[7], a[3], a[5], a[4], a[8]);
    Py_DECREF(url);
    return resp;
}

/* ---- lifecycle ------------------------------------------------------------------------ */

/* Returns an awaitable (done at once), so `await client.close()` works;
 * synchronous code just ignores it. */
static PyObject *Client_close(FhpClient *self, PyObject *unused)
{
    if (!self->closed) {
        self->closed = 1;
        fhp_aio_client_close(self); /* cancels what runs on event loops */
        self->inflight++;
        fhp_client_unuse(self); /* frees now unless calls or streams are open */
    }
    return fhp_aio_done(Py_None);
}

static PyObject *Client_enter(FhpClient *self, PyObject *unused)
{
    if (self->closed) {
        PyErr_SetString(S.E_ClientClosedError, "this Client is closed; create a new Client");
        return NULL;
    }
    if (self->mode == FHP_MODE_ASYNC) {
        PyErr_SetString(PyExc_RuntimeError,
                        "this Client is asynchronous (`async with` or used bare); it cannot "
                        "be entered with `with`: create a separate Client for synchronous use");
        return NULL;
    }
    self->mode = FHP_MODE_SYNC;
    return Py_NewRef((PyObject *)self);
}

static PyObject *Client_exit(FhpClient *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *res = Client_close(self, NULL);
    if (!res)
        return NULL;
    Py_DECREF(res);
    Py_RETURN_NONE;
}

static PyObject *Client_aenter(FhpClient *self, PyObject *unused)
{
    if (self->closed) {
        PyErr_SetString(S.E_ClientClosedError, "this Client is closed; create a new Client");
        return NULL;
    }
    if (self->mode == FHP_MODE_SYNC) {
        PyErr_SetString(PyExc_RuntimeError,
                        "this Client is synchronous (entered with `with`); it cannot be entered "
                        "with `async with`: create a separate Client for asyncio");
        return NULL;
    }
    self->mode = FHP_MODE_ASYNC;
    return fhp_aio_done((PyObject *)self);
}

static PyObject *Client_aexit(FhpClient *self, PyObject *const *args, Py_ssize_t nargs)
{
    return Client_close(self, NULL);
}

static PyObject *Client_pool_stats(FhpClient *self, PyObject *unused)
{
    fh_pool_stats st = {0};
    if (self->c)
        fh_client_pool_stats(self->c, &st);
    return Py_BuildValue("{s:i,s:i,s:i,s:K,s:K}", "open", st.open, "idle", st.idle, "waiting",
                         st.waiting, "created", (unsigned long long)st.created, "reused",
                         (unsigned long long)st.reused);
}

/* base_url must be absolute, without query or fragment; its path gets a
 * trailing '/' so relative URLs are appended to it. */
/* base_url must be absolute, valid (libfasthttp checks it, NUL included),
 * without query or fragment; its path gets a trailing '/' so relative URLs
 * are appended to it. */
static int set_base_url(FhpClient *self, PyObject *base)
{
    if (!base || base == Py_None)
        return 0;
    if (!PyUnicode_Check(base)) {
        PyErr_Format(PyExc_TypeError, "base_url must be a str, not %.100s",
                     Py_TYPE(base)->tp_name);
        return -1;
    }
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(base, &n);
    if (!s)
        return -1;
    char why[128] = "";
    const char *bad = NULL;
    /* ws:// and wss:// base URLs serve websocket() (checked as http(s)). */
    int ws = n > 5 && (strncasecmp(s, "ws://", 5) == 0 || strncasecmp(s, "wss://", 6) == 0);
    char *as_http = ws ? PyMem_Malloc((size_t)n + 3) : NULL;
    if (ws && !as_http)
        return PyErr_NoMemory(), -1;
    if (as_http) {
        memcpy(as_http, "http", 4);
        memcpy(as_http + 4, s + 2, (size_t)n - 2);
    }
    if (!fhp_url_is_absolute(s, (size_t)n))
        bad = "it must be an absolute http://, https://, ws:// or wss:// URL";
    else if (fh_url_check_n(as_http ? as_http : s, (size_t)n + (ws ? 2 : 0), why, sizeof why) !=
             FH_OK)
        bad = why;
    else if (memchr(s, '?', (size_t)n) || memchr(s, '#', (size_t)n))
        bad = "it must not have a query or fragment (use params=)";
    PyMem_Free(as_http);
    if (bad) {
        PyObject *shown = fhp_redacted_url(base);
        if (shown)
            PyErr_Format(S.E_InvalidURL, "invalid base_url %R: %s", shown, bad);
        Py_XDECREF(shown);
        return -1;
    }
    const char *path = strchr(strstr(s, "://") + 3, '/');
    int slash = path && s[n - 1] == '/';
    self->base_url = slash ? Py_NewRef(base) : PyUnicode_FromFormat("%U/", base);
    return self->base_url ? 0 : -1;
}

static int set_defaults(FhpClient *self, PyObject *headers, PyObject *params)
{
    FhpHeaders *h = (FhpHeaders *)fhp_headers_new();
    if (!h)
        return -1;
    Py_XSETREF(self->headers, (PyObject *)h);
    PyObject *ua = PyUnicode_FromFormat("fasthttp/%s", FH_VERSION_STRING);
    PyObject *accept = PyUnicode_FromString("*/*");
    PyObject *ae = PyUnicode_FromString("gzip, deflate, br, zstd");
    int rc = ua && accept && ae ? 0 : -1;
    if (rc == 0)
        rc = fhp_headers_append(h, "User-Agent", ua);
    if (rc == 0)
        rc = fhp_headers_append(h, "Accept", accept);
    if (rc == 0)
        rc = fhp_headers_append(h, "Accept-Encoding", ae);
    Py_XDECREF(ua);
    Py_XDECREF(accept);
    Py_XDECREF(ae);
    if (rc == 0 && headers && headers != Py_None)
        rc = fhp_headers_merge(h, headers, 1);
    if (rc == 0 && params && params != Py_None) {
        fhp_buf b;
        fhp_buf_init(&b);
        rc = fhp_encode_pairs(&b, params, 0);
        if (rc == 0 && b.len)
            rc = (self->query = PyBytes_FromStringAndSize(b.p, (Py_ssize_t)b.len)) ? 0 : -1;
        fhp_buf_free(&b);
    }
    return rc;
}

/* user_agent= replaces the default User-Agent (and one in headers=): it is
 * the more specific of the two. A request's headers= still win. */
static int set_user_agent(FhpClient *self, PyObject *ua)
{
    if (!ua || ua == Py_None)
        return 0;
    if (!PyUnicode_Check(ua)) {
        PyErr_Format(PyExc_TypeError, "user_agent must be a str or None, not %.100s",
                     Py_TYPE(ua)->tp_name);
        return -1;
    }
    PyObject *pair = Py_BuildValue("{s:O}", "User-Agent", ua);
    int rc = pair ? fhp_headers_merge((FhpHeaders *)self->headers, pair, 1) : -1;
    Py_XDECREF(pair);
    return rc;
}

static int Client_init(FhpClient *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"base_url", "headers", "params", "timeout", "verify", "cert",
                             "limits", "follow_redirects", "max_redirects", "retry",
                             "cookies", "auth", "hooks", "http2", "http1", "user_agent",
                             "proxy", "proxies", "trust_env", "uds", NULL};
    PyObject *base = NULL, *headers = NULL, *params = NULL, *timeout = NULL, *verify = NULL,
             *cert = NULL, *limits = NULL, *follow = NULL, *max_redirects = NULL,
             *retry = NULL, *cookies = NULL, *auth = NULL, *hooks = NULL, *http2 = NULL,
             *http1 = NULL, *ua = NULL, *proxy = NULL, *proxies = NULL, *trust_env = NULL,
             *uds = NULL;
    /* base_url may be positional, as in the original library's Client. */
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O$OOOOOOOOOOOOOOOOOOO:Client", kwlist, &base,
                                     &headers, &params, &timeout, &verify, &cert, &limits,
                                     &follow, &max_redirects, &retry, &cookies, &auth, &hooks,
                                     &http2, &http1, &ua, &proxy, &proxies, &trust_env, &uds))
        return -1;
    if (!self->c || self->timeout) {
        PyErr_SetString(PyExc_RuntimeError, "Client.__init__ may only run once");
        return -1;
    }
    int h1 = http1 && http1 != Py_None ? PyObject_IsTrue(http1) : 1, h2 = -1;
    if (h1 < 0 || fhp_http2_mode(http2, h1, &h2) < 0)
        return -1;
    if (!h1 && h2 <= FH_HTTP2_OFF) {
        PyErr_SetString(PyExc_ValueError,
                        "http1=False needs http2=True: a client must speak HTTP/1.1 or HTTP/2");
        return -1;
    }
    self->http1 = h1;
    if ((h2 > 0 && fh_client_set_http2(self->c, (fh_http2_mode)h2) != FH_OK) ||
        fhp_client_policies(self, follow, max_redirects, retry, cookies, auth, hooks) < 0)
        return -1;
    if (fh_client_set_user_agent(self->c, NULL) != FH_OK || /* ours is in self->headers */
        fhp_client_proxies(self, proxy, proxies, trust_env, uds) < 0)
        return -1;
    self->timeout = Py_NewRef(timeout ? timeout : Py_None);
    self->verify = Py_NewRef(verify ? verify : Py_True);
    self->cert = Py_NewRef(cert ? cert : Py_None);
    self->limits = Py_NewRef(limits ? limits : Py_None);
    if (set_base_url(self, base) < 0 || set_defaults(self, headers, params) < 0 ||
        set_user_agent(self, ua) < 0)
        return -1;
    return fhp_client_configure(self, timeout, verify, cert, limits);
}

static PyObject *Client_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    FhpClient *self = (FhpClient *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    self->max_redirects = 20;
    self->http1 = 1;
    if (!(self->c = fh_client_new()) || !(self->headers = fhp_headers_new())) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

static int Client_traverse(FhpClient *self, visitproc visit, void *arg)
{
    Py_VISIT(self->base_url);
    Py_VISIT(self->headers);
    Py_VISIT(self->hset_from);
    Py_VISIT(self->query);
    Py_VISIT(self->timeout);
    Py_VISIT(self->verify);
    Py_VISIT(self->cert);
    Py_VISIT(self->limits);
    Py_VISIT(self->aio); /* the first AioLoop; each visits the next */
    return fhp_client_policies_traverse(self, visit, arg);
}

static int Client_clear(FhpClient *self)
{
    /* The AioLoops (and through them the event loops) are what a cycle
     * most likely runs through: detach them as close() does. */
    fhp_aio_client_close(self);
    Py_CLEAR(self->base_url);
    Py_CLEAR(self->headers);
    Py_CLEAR(self->hset_from);
    fh_header_set_free(self->hset); /* requests in flight keep their references */
    self->hset = NULL;
    Py_CLEAR(self->query);
    Py_CLEAR(self->timeout);
    Py_CLEAR(self->verify);
    Py_CLEAR(self->cert);
    Py_CLEAR(self->limits);
    fhp_client_policies_clear(self);
    return 0;
}

static void Client_dealloc(FhpClient *self)
{
    PyObject_GC_UnTrack(self);
    fhp_aio_client_close(self); /* engines on event loops go before the client */
    Client_clear(self);
    if (self->c) /* no call or stream can be open: each holds a reference */
        fh_client_free(self->c);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *get_is_closed(FhpClient *self, void *c)
{
    return PyBool_FromLong(self->closed);
}

static PyObject *get_headers(FhpClient *self, void *c)
{
    return Py_NewRef(self->headers);
}

static int set_headers(FhpClient *self, PyObject *v, void *c)
{
    PyObject *h = v ? fhp_headers_from(v) : NULL;
    if (!h) {
        if (!v)
            PyErr_SetString(PyExc_AttributeError, "cannot delete Client.headers");
        return -1;
    }
    Py_SETREF(self->headers, h);
    return 0;
}

static PyGetSetDef Client_getset[] = {
    {"is_closed", (getter)get_is_closed, NULL, "True after close().", NULL},
    {"headers", (getter)get_headers, (setter)set_headers,
     "Default headers sent with every request (a mutable Headers).", NULL},
    {"cookies", (getter)fhp_client_get_cookies, NULL,
     "The client's CookieJar: sent with requests, updated from every response.", NULL},
    {"follow_redirects", (getter)fhp_client_get_follow, NULL,
     "Whether redirects are followed by default.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef Client_members[] = {
    {"base_url", T_OBJECT, offsetof(FhpClient, base_url), READONLY, "Base URL or None."},
    {"timeout", T_OBJECT, offsetof(FhpClient, timeout), READONLY, "The timeout given."},
    {"max_redirects", T_INT, offsetof(FhpClient, max_redirects), READONLY,
     "Most redirects followed for one request."},
    {"retry", T_OBJECT, offsetof(FhpClient, retry), READONLY, "The RetryPolicy, or None."},
    {"auth", T_OBJECT, offsetof(FhpClient, auth), READONLY, "The auth given, or None."},
    {NULL, 0, 0, 0, NULL},
};

#define FASTKW(f) (PyCFunction)(void (*)(void))(f), METH_FASTCALL | METH_KEYWORDS

/* websocket(url, *, headers=None, subprotocols=None, extensions=None, timeout=None):
 * fasthttp.websocket._client_websocket does the choosing (sync or async face)
 * and calls the C _ws_open. */
static PyObject *Client_websocket(FhpClient *self, PyObject *args, PyObject *kw)
{
    PyObject *mod = PyImport_ImportModule("fasthttp.websocket");
    PyObject *fn = mod ? PyObject_GetAttrString(mod, "_client_websocket") : NULL;
    Py_XDECREF(mod);
    if (!fn)
        return NULL;
    PyObject *all = PyTuple_New(PyTuple_GET_SIZE(args) + 1);
    if (all) {
        PyTuple_SET_ITEM(all, 0, Py_NewRef((PyObject *)self));
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(args); i++)
            PyTuple_SET_ITEM(all, i + 1, Py_NewRef(PyTuple_GET_ITEM(args, i)));
    }
    PyObject *r = all ? PyObject_Call(fn, all, kw) : NULL;
    Py_XDECREF(all);
    Py_DECREF(fn);
    return r;
}

static PyObject *Client_proxy_for(FhpClient *self, PyObject *url)
{
    return fhp_client_proxy_for(self, url);
}

static PyMethodDef Client_methods[] = {
    {"_proxy_for", (PyCFunction)Client_proxy_for, METH_O,
     "_proxy_for(url): the proxy id (never its password), 'unix:<path>', or None (direct) "
     "that a request to url would use; for tests and diagnostics."},
    {"websocket", (PyCFunction)(void (*)(void))Client_websocket, METH_VARARGS | METH_KEYWORDS,
     "websocket(url, *, headers=None, subprotocols=None, extensions=None, timeout=None): a "
     "WebSocket to url (relative to base_url; http(s) is taken as ws(s)). Inside `with "
     "Client()` a connected SyncWebSocket, else an awaitable of a WebSocket."},
    {"get", FASTKW(Client_get), "get(url, **kw) -> Response"},
    {"post", FASTKW(Client_post), "post(url, **kw) -> Response"},
    {"put", FASTKW(Client_put), "put(url, **kw) -> Response"},
    {"patch", FASTKW(Client_patch), "patch(url, **kw) -> Response"},
    {"delete", FASTKW(Client_delete), "delete(url, **kw) -> Response"},
    {"head", FASTKW(Client_head), "head(url, **kw) -> Response"},
    {"options", FASTKW(Client_options), "options(url, **kw) -> Response"},
    {"trace", FASTKW(Client_trace), "trace(url, **kw) -> Response"},
    {"request", FASTKW(Client_request), "request(method, url, **kw) -> Response"},
    {"send", FASTKW(Client_send),
     "send(request, *, stream=False, timeout=None, auth=None, follow_redirects=None, "
     "hooks=None, retry=None, cookies=None, limits=None) -> Response"},
    {"close", (PyCFunction)Client_close, METH_NOARGS,
     "Closes the pooled connections (asyncio: cancels what is left); returns an awaitable."},
    {"pool_stats", (PyCFunction)Client_pool_stats, METH_NOARGS,
     "Connection pool counters: open, idle, waiting, created, reused."},
    {"_set_fake_clock_us", (PyCFunction)fhp_client__set_fake_clock_us, METH_O,
     "For tests: the circuit breaker's clock in microseconds (None: the real one)."},
    {"_circuit_state", (PyCFunction)fhp_client__circuit_state, METH_O,
     "For tests: 'closed', 'open' or 'half-open' for an origin 'scheme://host:port'."},
    {"__enter__", (PyCFunction)Client_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))Client_exit, METH_FASTCALL, NULL},
    {"__aenter__", (PyCFunction)Client_aenter, METH_NOARGS, NULL},
    {"__aexit__", (PyCFunction)(void (*)(void))Client_aexit, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

PyTypeObject FhpClient_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fasthttp.Client",
    .tp_basicsize = sizeof(FhpClient),
    .tp_dealloc = (destructor)Client_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Client(base_url=None, *, headers=None, params=None, timeout=None, verify=True, "
              "cert=None, limits=None, user_agent=None, ...): an HTTP client with a connection "
              "pool.",
    .tp_traverse = (traverseproc)Client_traverse,
    .tp_clear = (inquiry)Client_clear,
    .tp_methods = Client_methods,
    .tp_members = Client_members,
    .tp_getset = Client_getset,
    .tp_init = (initproc)Client_init,
    .tp_new = Client_new,
};
