/*
 * policy.c — a Client's and a request's policies, mapped onto libfasthttp
 * (fasthttp/policy.h), which carries them out inside the engine:
 *
 *   retry=            RetryPolicy → fh_client_set_retry / fh_request_set_retry
 *   follow_redirects, max_redirects → fh_client_set_redirects / fh_request_set_redirects
 *   auth=             (user, pass), BasicAuth, DigestAuth → fh_*_set_auth
 *   cookies=          the client's CookieJar → fh_client_set_cookie_jar; per request
 *                     a temporary jar (the client's cookies plus the request's)
 *                     → fh_request_set_cookie_jar
 *
 * and the Python callables that run around an exchange — custom auth
 * (AuthBase) and response hooks — through fasthttp._policy.flow, driven here
 * for the synchronous client. What happened comes back as Response.attempts,
 * Response.url (the final URL) and Response.history (the redirect hops).
 *
 * Tests reach the circuit breaker's clock through Client._set_fake_clock_us():
 * the engine calls the clock with the GIL released, so it reads a plain
 * integer, never Python.
 */
#include "fhpy.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#define AUTH_CUSTOM 100

/* ---- imports of the Python side, once --------------------------------------------- */

static PyObject *import_attr(const char *module, const char *name)
{
    PyObject *m = PyImport_ImportModule(module);
    if (!m)
        return NULL;
    PyObject *a = PyObject_GetAttrString(m, name);
    Py_DECREF(m);
    return a;
}

static int ensure_imports(void)
{
    if (S.policy_drive_sync)
        return 0;
    struct { PyObject **slot; const char *module, *name; } t[] = {
        {&S.CookieJar_cls, "fasthttp.cookies", "CookieJar"},
        {&S.BasicAuth_cls, "fasthttp.auth", "BasicAuth"},
        {&S.DigestAuth_cls, "fasthttp.auth", "DigestAuth"},
        {&S.policy_flow, "fasthttp._policy", "flow"},
        {&S.policy_normalize_hooks, "fasthttp._policy", "normalize_hooks"},
        {&S.policy_drive_async, "fasthttp._policy", "drive_async"},
        {&S.policy_drive_sync, "fasthttp._policy", "drive_sync"}, /* last: the guard */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!*t[i].slot && !(*t[i].slot = import_attr(t[i].module, t[i].name)))
            return -1;
    return 0;
}

/* ---- RetryPolicy → fh_retry_policy -------------------------------------------------- */

/* The conversions below only carry values into C; libfasthttp's
 * fh_retry_policy_check() judges them. A number too large for the C field
 * is clamped to one the check refuses, so the message still comes from C
 * (and fasthttp.retry adds the value its caller gave). */

static int attr_double(PyObject *o, const char *name, double *out)
{
    PyObject *v = PyObject_GetAttrString(o, name);
    if (!v)
        return -1;
    *out = PyFloat_AsDouble(v);
    Py_DECREF(v);
    if (*out == -1.0 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError))
            return -1;
        PyErr_Clear(); /* an int beyond any double */
        *out = HUGE_VAL;
    }
    return 0;
}

/* A Python int as a C int, clamped to INT_MIN / INT_MAX. */
static int clamp_int(PyObject *v, int *out)
{
    int overflow = 0;
    long n = PyLong_AsLongAndOverflow(v, &overflow);
    if (n == -1 && PyErr_Occurred())
        return -1;
    *out = overflow > 0 || n > INT_MAX ? INT_MAX : overflow < 0 || n < INT_MIN ? INT_MIN : (int)n;
    return 0;
}

static int attr_int(PyObject *o, const char *name, int *out)
{
    PyObject *v = PyObject_GetAttrString(o, name);
    if (!v)
        return -1;
    int rc = clamp_int(v, out);
    Py_DECREF(v);
    return rc;
}

static int attr_bool(PyObject *o, const char *name, int *out)
{
    PyObject *v = PyObject_GetAttrString(o, name);
    if (!v)
        return -1;
    *out = PyObject_IsTrue(v);
    Py_DECREF(v);
    return *out < 0 ? -1 : 0;
}

/* More codes than fit are counted, not stored: the check then says how
 * many there are and how many are allowed. */
static int status_codes(PyObject *o, fh_retry_policy *p)
{
    PyObject *v = PyObject_GetAttrString(o, "status_codes");
    PyObject *seq = v ? PySequence_Fast(v, "RetryPolicy.status_codes must be a sequence") : NULL;
    Py_XDECREF(v);
    if (!seq)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    int rc = 0;
    for (Py_ssize_t i = 0; rc == 0 && i < n && i < FH_RETRY_MAX_STATUS; i++)
        rc = clamp_int(PySequence_Fast_GET_ITEM(seq, i), &p->status_codes[i]);
    p->n_status_codes = n > INT_MAX ? INT_MAX : (int)n;
    Py_DECREF(seq);
    return rc;
}

/* retry_exceptions (a tuple of exception classes, or None for libfasthttp's
 * default) → the codes of retry_errors: every failure of an attempt that
 * libfasthttp may retry whose fasthttp.errors class is one of them or a
 * subclass (so TimeoutError picks the connect, read and write timeouts). */
static int retry_errors(PyObject *o, fh_retry_policy *p)
{
    PyObject *v = PyObject_GetAttrString(o, "retry_exceptions");
    if (!v) {
        PyErr_Clear(); /* a look-alike without it: the default */
        return 0;
    }
    int rc = 0;
    if (v != Py_None) {
        p->n_retry_errors = 0;
        for (int code = -1; rc == 0 && code >= -64; code--) {
            if (!fh_retry_error_allowed(code))
                continue;
            int match = PyObject_IsSubclass(fhp_error_class(code), v);
            if (match < 0)
                rc = -1;
            else if (match && p->n_retry_errors < FH_RETRY_MAX_ERRORS)
                p->retry_errors[p->n_retry_errors++] = code;
        }
    }
    Py_DECREF(v);
    return rc;
}

/* Fills p from a RetryPolicy (or an object with its attributes), starting
 * from libfasthttp's defaults; no range is checked here. */
static int retry_convert(PyObject *o, fh_retry_policy *p)
{
    fh_retry_policy_init(p);
    if (!PyObject_HasAttrString(o, "max_attempts") ||
        !PyObject_HasAttrString(o, "cb_failure_threshold")) {
        PyErr_Format(PyExc_TypeError, "retry must be a fasthttp.retry.RetryPolicy, not %.100s",
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    return attr_int(o, "max_attempts", &p->max_attempts) < 0 ||
                   attr_double(o, "backoff_factor", &p->backoff_factor) < 0 ||
                   attr_double(o, "backoff_max", &p->backoff_max) < 0 ||
                   status_codes(o, p) < 0 ||
                   attr_bool(o, "retry_non_idempotent", &p->retry_non_idempotent) < 0 ||
                   attr_bool(o, "respect_retry_after", &p->respect_retry_after) < 0 ||
                   attr_double(o, "retry_after_max", &p->retry_after_max) < 0 ||
                   attr_bool(o, "circuit_breaker", &p->circuit_breaker) < 0 ||
                   attr_int(o, "cb_failure_threshold", &p->cb_failure_threshold) < 0 ||
                   attr_double(o, "cb_recovery_seconds", &p->cb_recovery_seconds) < 0 ||
                   retry_errors(o, p) < 0
               ? -1
               : 0;
}

/* A policy given to a Client or a request: RetryPolicy validated itself
 * when it was made, so this refuses only look-alikes and mutated ones. */
static int retry_from(PyObject *o, fh_retry_policy *p)
{
    if (retry_convert(o, p) < 0)
        return -1;
    char msg[160];
    if (fh_retry_policy_check(p, msg, sizeof msg) == FH_OK)
        return 0;
    PyErr_Format(PyExc_ValueError, "retry: RetryPolicy.%s", msg);
    return -1;
}

PyObject *fhp_mod_retry_check(PyObject *m, PyObject *policy)
{
    fh_retry_policy p;
    char msg[160];
    if (retry_convert(policy, &p) < 0)
        return NULL;
    if (fh_retry_policy_check(&p, msg, sizeof msg) == FH_OK)
        Py_RETURN_NONE;
    return PyUnicode_FromString(msg);
}

PyObject *fhp_mod_retry_defaults(PyObject *m, PyObject *unused)
{
    fh_retry_policy p;
    fh_retry_policy_init(&p);
    PyObject *codes = PyTuple_New(p.n_status_codes);
    for (int i = 0; codes && i < p.n_status_codes; i++) {
        PyObject *c = PyLong_FromLong(p.status_codes[i]);
        if (!c)
            Py_CLEAR(codes);
        else
            PyTuple_SET_ITEM(codes, i, c);
    }
    if (!codes)
        return NULL;
    return Py_BuildValue("{s:i,s:d,s:d,s:N,s:O,s:O,s:d,s:O,s:i,s:d}", "max_attempts",
                         p.max_attempts, "backoff_factor", p.backoff_factor, "backoff_max",
                         p.backoff_max, "status_codes", codes, "retry_non_idempotent",
                         p.retry_non_idempotent ? Py_True : Py_False, "respect_retry_after",
                         p.respect_retry_after ? Py_True : Py_False, "retry_after_max",
                         p.retry_after_max, "circuit_breaker",
                         p.circuit_breaker ? Py_True : Py_False, "cb_failure_threshold",
                         p.cb_failure_threshold, "cb_recovery_seconds", p.cb_recovery_seconds);
}

/* ---- auth= ------------------------------------------------------------------------------ */

static int credential(PyObject *v, const char *what, PyObject **out)
{
    if (!PyUnicode_Check(v)) {
        PyErr_Format(PyExc_TypeError, "auth %s must be a str, not %.100s", what,
                     Py_TYPE(v)->tp_name);
        return -1;
    }
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(v, &n);
    if (!s)
        return -1;
    if ((size_t)n != strlen(s)) {
        PyErr_Format(PyExc_ValueError, "auth %s contains a NUL character", what);
        return -1;
    }
    *out = Py_NewRef(v);
    return 0;
}

static int credentials_of(PyObject *a, PyObject **user, PyObject **pass)
{
    PyObject *u = PyObject_GetAttrString(a, "username");
    PyObject *p = u ? PyObject_GetAttrString(a, "password") : NULL;
    int rc = u && p && credential(u, "username", user) == 0 && credential(p, "password", pass) == 0
                 ? 0
                 : -1;
    Py_XDECREF(u);
    Py_XDECREF(p);
    return rc;
}

/* libfasthttp's rules for credentials (fh_auth_check: no ':' in a Basic
 * user name, no control characters), as a ValueError naming auth=. */
static int check_credentials(int kind, PyObject *user, PyObject *pass)
{
    const char *u = PyUnicode_AsUTF8(user), *p = u ? PyUnicode_AsUTF8(pass) : NULL;
    if (!p)
        return -1;
    char msg[256];
    if (fh_auth_check((fh_auth_kind)kind, u, p, msg, sizeof msg) == FH_OK)
        return 0;
    PyErr_Format(PyExc_ValueError, "auth: %s", msg);
    return -1;
}

PyObject *fhp_mod_check_digest_algorithm(PyObject *m, PyObject *alg)
{
    const char *s = PyUnicode_Check(alg) ? PyUnicode_AsUTF8(alg) : NULL;
    if (!s && !PyErr_Occurred())
        PyErr_SetString(PyExc_TypeError, "algorithm must be a str");
    if (!s)
        return NULL;
    if (strlen(s) == (size_t)PyUnicode_GET_LENGTH(alg) && fh_digest_algorithm_check(s) == FH_OK)
        Py_RETURN_NONE;
    PyErr_Format(PyExc_ValueError, "DigestAuth: unsupported algorithm %R (MD5, SHA-256 or "
                 "SHA-512-256, each optionally with -sess)", alg);
    return NULL;
}

PyObject *fhp_mod_check_auth(PyObject *m, PyObject *args)
{
    int kind;
    PyObject *user, *pass, *u = NULL, *p = NULL;
    if (!PyArg_ParseTuple(args, "iOO:_check_auth", &kind, &user, &pass))
        return NULL;
    int rc = credential(user, "username", &u) == 0 && credential(pass, "password", &p) == 0
                 ? check_credentials(kind, u, p)
                 : -1;
    Py_XDECREF(u);
    Py_XDECREF(p);
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

/* Sorts an auth= value: 0 none; FH_AUTH_BASIC / FH_AUTH_DIGEST with new
 * references in *user, *pass; AUTH_CUSTOM (Python runs it); -1 error. */
static int auth_kind(PyObject *a, PyObject **user, PyObject **pass)
{
    *user = *pass = NULL;
    if (!a || a == Py_None)
        return 0;
    if (ensure_imports() < 0)
        return -1;
    int kind = -1;
    if (PyTuple_Check(a)) {
        if (PyTuple_GET_SIZE(a) != 2) {
            PyErr_SetString(PyExc_TypeError, "auth=(user, password) takes two strings");
            return -1;
        }
        kind = credential(PyTuple_GET_ITEM(a, 0), "user", user) == 0 &&
                       credential(PyTuple_GET_ITEM(a, 1), "password", pass) == 0
                   ? FH_AUTH_BASIC
                   : -1;
    } else {
        int basic = PyObject_IsInstance(a, S.BasicAuth_cls);
        int digest = basic == 0 ? PyObject_IsInstance(a, S.DigestAuth_cls) : 0;
        if (basic < 0 || digest < 0)
            return -1;
        if (!basic && !digest) {
            if (PyObject_HasAttrString(a, "on_request") ||
                PyObject_HasAttrString(a, "on_response") || PyCallable_Check(a))
                return AUTH_CUSTOM;
            PyErr_Format(PyExc_TypeError,
                         "auth must be a (user, password) tuple, BasicAuth, DigestAuth, an "
                         "AuthBase or a callable, not %.100s",
                         Py_TYPE(a)->tp_name);
            return -1;
        }
        kind = credentials_of(a, user, pass) < 0 ? -1 : basic ? FH_AUTH_BASIC : FH_AUTH_DIGEST;
    }
    if (kind > 0 && check_credentials(kind, *user, *pass) < 0)
        kind = -1;
    if (kind < 0) {
        Py_CLEAR(*user);
        Py_CLEAR(*pass);
    }
    return kind;
}

/* DigestAuth(algorithm=...) as a str, or NULL for any; checked when the
 * DigestAuth was made, and again here (libfasthttp's names). */
static int digest_algorithm(PyObject *auth, PyObject **out)
{
    *out = NULL;
    PyObject *a = PyObject_GetAttrString(auth, "algorithm");
    if (!a) {
        PyErr_Clear(); /* a DigestAuth look-alike without one: any */
        return 0;
    }
    if (a == Py_None) {
        Py_DECREF(a);
        return 0;
    }
    const char *s = PyUnicode_Check(a) ? PyUnicode_AsUTF8(a) : NULL;
    if (!s || fh_digest_algorithm_check(s) != FH_OK) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_ValueError, "auth: unsupported Digest algorithm %R (MD5, "
                         "SHA-256, SHA-512-256, each optionally with -sess)", a);
        Py_DECREF(a);
        return -1;
    }
    *out = a;
    return 0;
}

/* ---- cookies= ------------------------------------------------------------------------- */

/* The host of an absolute URL, lower case, brackets kept for IPv6 ("" if none). */
static void url_host(const char *u, char *out, size_t cap)
{
    out[0] = 0;
    const char *p = strstr(u, "://");
    if (!p)
        return;
    p += 3;
    size_t end = strcspn(p, "/?#");
    const char *at = memchr(p, '@', end);
    if (at) {
        end -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    size_t n = end;
    if (*p == '[') {
        const char *rb = memchr(p, ']', end);
        n = rb ? (size_t)(rb - p) + 1 : end;
    } else {
        const char *colon = memchr(p, ':', end);
        if (colon)
            n = (size_t)(colon - p);
    }
    if (n >= cap)
        return;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
    out[n] = 0;
}

/* A request's dict cookies: each replaces the client's cookies of that name. */
static int fill_from_mapping(fh_cookie_jar *jar, PyObject *cookies, const char *domain)
{
    PyObject *items = PyMapping_Items(cookies);
    if (!items)
        return -1;
    int rc = 0;
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(items); i++) {
        PyObject *kv = PyList_GET_ITEM(items, i);
        if (!PyTuple_Check(kv) || PyTuple_GET_SIZE(kv) != 2) {
            PyErr_SetString(PyExc_TypeError, "cookies must map names to values");
            rc = -1;
        } else {
            PyObject *name = PyTuple_GET_ITEM(kv, 0);
            const char *n = PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
            if (n)
                fh_cookie_jar_delete(jar, n, NULL, NULL);
            rc = fhp_jar_set(jar, name, PyTuple_GET_ITEM(kv, 1), domain);
        }
    }
    Py_DECREF(items);
    return rc;
}

static int cookies_type_error(PyObject *cookies)
{
    PyErr_Format(PyExc_TypeError, "cookies must be a fasthttp.cookies.CookieJar or a dict, not "
                 "%.100s", Py_TYPE(cookies)->tp_name);
    return -1;
}

/* ---- the Client's policies ------------------------------------------------------------- */

static int64_t fake_clock(void *ud)
{
    return __atomic_load_n(&((FhpClient *)ud)->fake_now_us, __ATOMIC_RELAXED);
}

int fhp_client_policies(FhpClient *self, PyObject *follow, PyObject *max_redirects,
                        PyObject *retry, PyObject *cookies, PyObject *auth, PyObject *hooks)
{
    if (ensure_imports() < 0)
        return -1;
    int fl = follow && follow != Py_None ? PyObject_IsTrue(follow) : 1;
    if (fl < 0)
        return -1;
    long maxr = 20;
    if (max_redirects && max_redirects != Py_None) {
        if (PyBool_Check(max_redirects) || !PyLong_Check(max_redirects)) {
            PyErr_Format(PyExc_TypeError, "max_redirects must be an int, not %.100s",
                         Py_TYPE(max_redirects)->tp_name);
            return -1;
        }
        int overflow;
        maxr = PyLong_AsLongAndOverflow(max_redirects, &overflow);
        if (maxr == -1 && PyErr_Occurred())
            return -1;
        if (overflow || maxr < 0 || maxr > 1000) {
            PyErr_Format(PyExc_ValueError, "max_redirects must be an int between 0 and 1000, "
                         "not %R", max_redirects);
            return -1;
        }
    }
    self->follow_redirects = fl;
    self->max_redirects = (int)maxr;
    if (fh_client_set_redirects(self->c, fl, (int)maxr) != FH_OK)
        return PyErr_NoMemory(), -1;

    if (retry && retry != Py_None) {
        fh_retry_policy p;
        if (retry_from(retry, &p) < 0)
            return -1;
        int rc = fh_client_set_retry(self->c, &p);
        if (rc != FH_OK) {
            fhp_raise(rc, "cannot set the retry policy", NULL, NULL, NULL);
            return -1;
        }
        self->retry = Py_NewRef(retry);
    }

    if (cookies && cookies != Py_None && fhp_jar_of(cookies))
        self->cookies = Py_NewRef(cookies); /* shared with the program, as given */
    else if (!cookies || cookies == Py_None || PyObject_HasAttr(cookies, S.s_items))
        self->cookies = cookies && cookies != Py_None
                            ? PyObject_CallOneArg(S.CookieJar_cls, cookies)
                            : PyObject_CallNoArgs(S.CookieJar_cls);
    else
        return cookies_type_error(cookies);
    if (!self->cookies)
        return -1;
    fh_client_set_cookie_jar(self->c, fhp_jar_of(self->cookies));

    PyObject *user, *pass;
    int kind = auth_kind(auth, &user, &pass);
    if (kind < 0)
        return -1;
    if (kind == FH_AUTH_BASIC || kind == FH_AUTH_DIGEST) {
        int rc = fh_client_set_auth(self->c, (fh_auth_kind)kind, PyUnicode_AsUTF8(user),
                                    PyUnicode_AsUTF8(pass));
        Py_DECREF(user);
        Py_DECREF(pass);
        PyObject *alg = NULL;
        if (rc == FH_OK && kind == FH_AUTH_DIGEST) {
            if (digest_algorithm(auth, &alg) < 0)
                return -1;
            rc = fh_client_set_digest_algorithm(self->c, alg ? PyUnicode_AsUTF8(alg) : NULL);
            Py_XDECREF(alg);
        }
        if (rc != FH_OK) {
            fhp_raise(rc, "cannot set the credentials", NULL, NULL, NULL);
            return -1;
        }
    } else if (kind == AUTH_CUSTOM) {
        self->auth_custom = Py_NewRef(auth);
    }
    if (kind)
        self->auth = Py_NewRef(auth);

    if (hooks && hooks != Py_None) {
        PyObject *t = PyObject_CallOneArg(S.policy_normalize_hooks, hooks);
        if (!t)
            return -1;
        if (PyTuple_GET_SIZE(t) > 0)
            self->hooks = t;
        else
            Py_DECREF(t);
    }
    return 0;
}

void fhp_client_policies_clear(FhpClient *self)
{
    Py_CLEAR(self->retry);
    Py_CLEAR(self->auth);
    Py_CLEAR(self->auth_custom);
    Py_CLEAR(self->hooks);
    if (self->cookies) {
        if (self->c)
            fh_client_set_cookie_jar(self->c, NULL); /* the jar may go with the object */
        Py_CLEAR(self->cookies);
    }
}

int fhp_client_policies_traverse(FhpClient *self, visitproc visit, void *arg)
{
    Py_VISIT(self->retry);
    Py_VISIT(self->auth);
    Py_VISIT(self->auth_custom);
    Py_VISIT(self->hooks);
    Py_VISIT(self->cookies);
    return 0;
}

PyObject *fhp_client_get_cookies(FhpClient *self, void *c)
{
    if (!self->cookies) {
        PyErr_SetString(PyExc_RuntimeError, "the Client was not initialised");
        return NULL;
    }
    return Py_NewRef(self->cookies);
}

PyObject *fhp_client_get_follow(FhpClient *self, void *c)
{
    return PyBool_FromLong(self->follow_redirects);
}

PyObject *fhp_client__set_fake_clock_us(FhpClient *self, PyObject *arg)
{
    if (!self->c) {
        PyErr_SetString(S.E_ClientClosedError, "this Client is closed");
        return NULL;
    }
    if (arg == Py_None) {
        self->fake_clock = 0;
        fh_client_set_clock(self->c, NULL, NULL);
        Py_RETURN_NONE;
    }
    long long us = PyLong_AsLongLong(arg);
    if (us == -1 && PyErr_Occurred())
        return NULL;
    __atomic_store_n(&self->fake_now_us, (int64_t)us, __ATOMIC_RELAXED);
    if (!self->fake_clock) {
        self->fake_clock = 1;
        fh_client_set_clock(self->c, fake_clock, self);
    }
    Py_RETURN_NONE;
}

PyObject *fhp_client__circuit_state(FhpClient *self, PyObject *arg)
{
    const char *origin = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;
    if (!origin) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "_circuit_state() takes 'scheme://host:port'");
        return NULL;
    }
    if (!self->c) {
        PyErr_SetString(S.E_ClientClosedError, "this Client is closed");
        return NULL;
    }
    int s = fh_client_circuit_state(self->c, origin);
    static const char *names[] = {"closed", "open", "half-open"};
    if (s < 0 || s > 2) {
        fhp_raise(s < 0 ? s : FH_EINVAL, "cannot read the circuit state", NULL, NULL, NULL);
        return NULL;
    }
    return PyUnicode_FromString(names[s]);
}

/* ---- one call's policies --------------------------------------------------------------- */

int fhp_reqpol_init(fhp_reqpol *p, FhpClient *c, PyObject *retry, PyObject *cookies,
                    PyObject *auth, PyObject *hooks, PyObject *follow, PyObject *limits,
                    PyObject *url)
{
    memset(p, 0, sizeof *p);
    p->follow = -1;
    p->auth_kind = -1;
    p->http2 = -1;
    p->expect_ms = -1;
    if (fhp_limits_request(limits, p->limit) < 0)
        return -1;
    if (retry && retry != Py_None) {
        if (retry_from(retry, &p->retry) < 0)
            return -1;
        p->has_retry = 1;
    }
    if (follow && follow != Py_None && (p->follow = PyObject_IsTrue(follow)) < 0)
        return -1;

    int kind = auth_kind(auth, &p->user, &p->pass);
    if (kind < 0)
        return -1;
    if (kind == AUTH_CUSTOM) {
        p->auth_kind = FH_AUTH_NONE; /* the request's auth wins over the client's */
        p->auth_custom = Py_NewRef(auth);
    } else if (kind) {
        p->auth_kind = kind; /* and the client's custom auth does not run */
        if (kind == FH_AUTH_DIGEST && digest_algorithm(auth, &p->digest_alg) < 0)
            return -1;
    } else {
        p->auth_custom = Py_XNewRef(c->auth_custom);
    }

    if (hooks && hooks != Py_None) {
        if (ensure_imports() < 0)
            return -1;
        PyObject *t = PyObject_CallOneArg(S.policy_normalize_hooks, hooks);
        if (!t)
            return -1;
        if (c->hooks && PyTuple_GET_SIZE(t) > 0)
            Py_SETREF(t, PySequence_Concat(c->hooks, t)); /* the client's first */
        else if (c->hooks)
            Py_SETREF(t, Py_NewRef(c->hooks));
        if (!t)
            return -1;
        p->hooks = t;
    } else {
        p->hooks = Py_XNewRef(c->hooks);
    }
    if (p->hooks && PyTuple_GET_SIZE(p->hooks) == 0)
        Py_CLEAR(p->hooks);

    if (cookies && cookies != Py_None) {
        fh_cookie_jar *src = fhp_jar_of(cookies);
        if (!src && !PyObject_HasAttr(cookies, S.s_items))
            return cookies_type_error(cookies);
        if (!(p->jar = fh_cookie_jar_new())) {
            PyErr_NoMemory();
            return -1;
        }
        /* The client's cookies, then the request's on top. */
        fh_cookie_jar *own = c->cookies ? fhp_jar_of(c->cookies) : NULL;
        if (own && fhp_jar_merge(p->jar, own) < 0)
            return -1;
        if (src)
            return fhp_jar_merge(p->jar, src);
        char host[256];
        const char *u = url && PyUnicode_Check(url) ? PyUnicode_AsUTF8(url) : NULL;
        if (url && !u)
            return -1;
        url_host(u ? u : "", host, sizeof host);
        return fill_from_mapping(p->jar, cookies, host[0] ? host : NULL);
    }
    return 0;
}

int fhp_reqpol_has_flow(const fhp_reqpol *p)
{
    return p->auth_custom || p->hooks;
}

int fhp_reqpol_apply(const fhp_reqpol *p, fh_request *req)
{
    int rc = FH_OK;
    if (p->has_retry)
        rc = fh_request_set_retry(req, &p->retry);
    if (rc == FH_OK && p->follow >= 0)
        rc = fh_request_set_redirects(req, p->follow, -1);
    if (rc == FH_OK && p->auth_kind >= 0)
        rc = fh_request_set_auth(req, (fh_auth_kind)p->auth_kind,
                                 p->user ? PyUnicode_AsUTF8(p->user) : NULL,
                                 p->pass ? PyUnicode_AsUTF8(p->pass) : NULL);
    if (rc == FH_OK && p->jar)
        rc = fh_request_set_cookie_jar(req, p->jar);
    for (int k = 0; rc == FH_OK && k < FH_LIMIT_KINDS; k++)
        if (p->limit[k] > 0)
            rc = fh_request_set_limit(req, (fh_limit_kind)k, p->limit[k]);
    if (rc == FH_OK && p->http2 >= 0)
        rc = fh_request_set_http2(req, p->http2);
    if (rc == FH_OK && p->expect_ms >= 0)
        rc = fh_request_set_expect_continue(req, 1, p->expect_ms);
    if (rc == FH_OK && p->uds)
        rc = fh_request_set_unix_socket(req, PyUnicode_AsUTF8(p->uds));
    if (rc == FH_OK && p->auth_kind == FH_AUTH_DIGEST)
        rc = fh_request_set_digest_algorithm(req, p->digest_alg ? PyUnicode_AsUTF8(p->digest_alg)
                                                                : NULL);
    return rc;
}

void fhp_reqpol_free(fhp_reqpol *p)
{
    Py_CLEAR(p->digest_alg);
    Py_CLEAR(p->uds);
    Py_CLEAR(p->user);
    Py_CLEAR(p->pass);
    Py_CLEAR(p->auth_custom);
    Py_CLEAR(p->hooks);
    /* Only the engine's redirect and retry steps read a request's jar; they
     * are over when the call returns, even for a streamed response. */
    fh_cookie_jar_free(p->jar);
    p->jar = NULL;
}

/* ---- custom auth and hooks: fasthttp._policy.flow, driven synchronously -------------- */

/* The send() handed to fasthttp._policy.drive_sync: valid during one call only. */
typedef struct FhpSender {
    PyObject_HEAD
    FhpClient *client; /* borrowed (sync: the call holds it) or strong (asyncio) */
    fhp_send_fn send;  /* NULL once the call is over */
    void *ctx;
    const fhp_ctx_ops *ops; /* asyncio: ctx is the sender's (freed, visited by the GC) */
} FhpSender;

static PyObject *Sender_call(FhpSender *s, PyObject *args, PyObject *kw)
{
    PyObject *r;
    if (!PyArg_ParseTuple(args, "O!:send", &FhpRequest_Type, &r))
        return NULL;
    if (!s->send) {
        PyErr_SetString(PyExc_RuntimeError, "this request's exchange is over");
        return NULL;
    }
    return s->send(s->client, (FhpRequest *)r, s->ctx);
}

/* GC: an asyncio sender owns its call (the Request, hooks, auth: user
 * objects) and the client; a synchronous one owns nothing (its call lives
 * on the C stack of the Client method). */
static int Sender_traverse(FhpSender *s, visitproc visit, void *arg)
{
    if (!s->ops)
        return 0;
    Py_VISIT((PyObject *)s->client);
    return s->ops->traverse(s->ctx, visit, arg);
}

static int Sender_clear(FhpSender *s)
{
    s->send = NULL;
    if (s->ops) {
        const fhp_ctx_ops *ops = s->ops;
        s->ops = NULL;
        ops->free(s->ctx);
        s->ctx = NULL;
        Py_CLEAR(s->client);
    }
    return 0;
}

static void Sender_dealloc(FhpSender *s)
{
    PyObject_GC_UnTrack(s);
    Sender_clear(s);
    PyObject_GC_Del(s);
}

PyTypeObject FhpSender_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fasthttp._fasthttp._Sender",
    .tp_basicsize = sizeof(FhpSender),
    .tp_dealloc = (destructor)Sender_dealloc,
    .tp_call = (ternaryfunc)Sender_call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Sends one request of a Client call (internal).",
    .tp_traverse = (traverseproc)Sender_traverse,
    .tp_clear = (inquiry)Sender_clear,
};

static FhpSender *sender_new(FhpClient *client, fhp_send_fn send, void *ctx,
                             const fhp_ctx_ops *ops)
{
    FhpSender *s = PyObject_GC_New(FhpSender, &FhpSender_Type);
    if (!s)
        return NULL;
    s->client = ops ? (FhpClient *)Py_NewRef((PyObject *)client) : client;
    s->send = send;
    s->ctx = ctx;
    s->ops = ops;
    PyObject_GC_Track(s);
    return s;
}

PyObject *fhp_policy_run(FhpClient *self, const fhp_reqpol *p, FhpRequest *r, fhp_send_fn send,
                         void *ctx)
{
    if (ensure_imports() < 0)
        return NULL;
    FhpSender *s = sender_new(self, send, ctx, NULL);
    if (!s)
        return NULL;
    PyObject *hooks = p->hooks ? p->hooks : PyTuple_New(0);
    PyObject *gen = hooks ? PyObject_CallFunctionObjArgs(S.policy_flow, (PyObject *)r,
                                                         p->auth_custom ? p->auth_custom : Py_None,
                                                         hooks, NULL)
                          : NULL;
    if (!p->hooks)
        Py_XDECREF(hooks);
    PyObject *resp = gen ? PyObject_CallFunctionObjArgs(S.policy_drive_sync, gen, (PyObject *)s,
                                                        NULL)
                         : NULL;
    s->send = NULL;
    Py_XDECREF(gen);
    Py_DECREF(s);
    return resp;
}

/* asyncio: the same flow driven by fasthttp._policy.drive_async; returns its
 * coroutine. The sender owns ctx (ops->free) and keeps the client. */
PyObject *fhp_policy_run_async(FhpClient *self, const fhp_reqpol *p, FhpRequest *r,
                               fhp_send_fn send, void *ctx, const fhp_ctx_ops *ops)
{
    FhpSender *s = ensure_imports() < 0 ? NULL : sender_new(self, send, ctx, ops);
    if (!s) {
        ops->free(ctx);
        return NULL;
    }
    PyObject *hooks = p->hooks ? Py_NewRef(p->hooks) : PyTuple_New(0);
    PyObject *gen = hooks ? PyObject_CallFunctionObjArgs(S.policy_flow, (PyObject *)r,
                                                         p->auth_custom ? p->auth_custom : Py_None,
                                                         hooks, NULL)
                          : NULL;
    Py_XDECREF(hooks);
    PyObject *coro = gen ? PyObject_CallFunctionObjArgs(S.policy_drive_async, gen, (PyObject *)s,
                                                        NULL)
                         : NULL;
    Py_XDECREF(gen);
    Py_DECREF(s); /* the coroutine holds it until it finishes */
    return coro;
}

/* ---- what happened: attempts, final URL, redirect history ------------------------------ */

/* Each hop keeps the Request given (its body, when the hop sent one); its
 * request as sent comes from libfasthttp's record (Response.request). */
static PyObject *history(const fh_response *resp, PyObject *request, size_t n)
{
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        const fh_response *hop = fh_response_history_at(resp, i);
        PyObject *h = hop ? fhp_response_from_hop(hop, request) : NULL;
        if (!h) {
            if (!hop)
                PyErr_SetString(PyExc_RuntimeError, "libfasthttp lost a redirect hop");
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, h);
    }
    return list;
}

int fhp_response_policy(FhpResponse *r, const fh_response *resp)
{
    int attempts = fh_response_attempts(resp);
    r->attempts = attempts > 0 ? attempts : 1;
    const char *final = fh_response_url(resp);
    if (final && (!r->url || !PyUnicode_Check(r->url) ||
                  PyUnicode_CompareWithASCIIString(r->url, final) != 0)) {
        PyObject *u = PyUnicode_FromString(final);
        if (!u)
            return -1;
        Py_XSETREF(r->url, u);
    }
    size_t n = fh_response_history_count(resp);
    if (n && !(r->history = history(resp, r->request, n)))
        return -1;
    return 0;
}
