/*
 * request.c — fh_request: method, URL, headers and body source. Everything
 * that can be validated is validated here, when the caller adds it, so a bad
 * request never reaches the wire (RFC 9110 §5.5: CR, LF and NUL are not
 * allowed in field values).
 */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void fh__request_fail(fh_request *req, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(req->errmsg, sizeof req->errmsg, fmt, ap);
    va_end(ap);
}

/* RFC 9110 §9.2.2: methods whose repetition has the same effect. */
static int is_idempotent(const char *m)
{
    static const char *const list[] = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"};
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        if (strcmp(m, list[i]) == 0)
            return 1;
    return 0;
}

/* Writes "invalid URL '<url, password hidden>': why" into req's message. */
static void url_fail(fh_request *r, const char *url, size_t len, const char *why)
{
    char shown[FH__ERRMSG];
    fh_url_redact(url, len, shown, sizeof shown);
    fh__request_fail(r, "invalid URL '%s': %s", shown, why);
}

/* Parses the URL; credentials in it (user:pass@) are taken out: they are
 * sent as Basic credentials (policy.c), never as part of a URL, so url_str
 * (what messages, fh_response_url and Python's Response.url show) and the
 * pool key are free of them. */
static int set_url(fh_request *r, const char *url, size_t len)
{
    const char *why = NULL;
    int rc = fh__url_shared_get(url, len, &r->url_shared, &r->url, &why);
    if (rc == FH_OK) { /* parsed before on this thread, or kept for the next */
        r->url = *fh__url_shared_url(r->url_shared);
        r->url_str = fh__url_shared_str(r->url_shared);
        r->pool_key = fh__url_shared_pool_key(r->url_shared);
        return FH_OK;
    }
    if (rc != FH_EAGAIN) {
        url_fail(r, url, len, why ? why : fh_strerror(rc));
        return rc;
    }
    why = NULL; /* FH_EAGAIN: r->url is the request's own parse, with credentials */
    rc = fh__url_credentials(&r->url, &r->url_user, &r->url_pass, &why);
    if (rc) {
        url_fail(r, url, len, why ? why : fh_strerror(rc));
        return rc;
    }
    /* The URL as used (an IDN host in ASCII, spaces and UTF-8 encoded). */
    r->url_str = fh__url_strip_userinfo(r->url.href, strlen(r->url.href));
    r->pool_key = fh__url_pool_key(&r->url);
    if (!r->url_str || !r->pool_key)
        return FH_ENOMEM;
    return FH_OK;
}

int fh_url_check_n(const char *url, size_t len, char *msg, size_t msglen)
{
    if (!url)
        return FH_EINVAL;
    fh__url u = {0};
    char *user = NULL, *pass = NULL;
    const char *why = NULL;
    int rc = fh__url_parse(&u, url, len, &why);
    if (rc == FH_OK)
        rc = fh__url_credentials(&u, &user, &pass, &why);
    free(user);
    free(pass);
    fh__url_free(&u);
    if (msg && msglen)
        snprintf(msg, msglen, "%s", rc ? (why ? why : fh_strerror(rc)) : "");
    return rc;
}

int fh_url_check(const char *url, char *msg, size_t msglen)
{
    return fh_url_check_n(url, url ? strlen(url) : 0, msg, msglen);
}

fh_request *fh_request_new_n(const char *method, size_t method_len, const char *url,
                             size_t url_len, int *err)
{
    int rc = FH_EINVAL;
    fh_request *r = NULL;
    if (!method || !url)
        goto fail;
    rc = FH_ENOMEM;
    if (!(r = calloc(1, sizeof *r)))
        goto fail;
    for (int i = 0; i < FH_TIMEOUT_KINDS; i++)
        r->timeout_ms[i] = -1;
    for (int i = 0; i < FH_LIMIT_KINDS; i++)
        r->limit[i] = -1;
    r->decode = -1;
    r->http2 = -1;
    r->follow_redirects = -1;
    r->max_redirects = -1;
    r->auth_kind = -1;
    r->digest_alg = -1;
    r->method_len = method_len;
    /* A token has no NUL, so the length the caller gave is the length
     * that is sent; "GET\0X" is refused, never shortened to "GET". */
    rc = fh__h1_check_method(method, method_len);
    if (rc)
        goto fail;
    rc = FH_ENOMEM;
    if (!(r->method = strndup(method, method_len)))
        goto fail;
    rc = set_url(r, url, url_len);
    if (rc)
        goto fail;
    r->head = strcmp(r->method, "HEAD") == 0;
    r->idempotent = is_idempotent(r->method);
    if (err)
        *err = FH_OK;
    return r;
fail:
    if (err)
        *err = rc;
    fh_request_free(r);
    return NULL;
}

fh_request *fh_request_new(const char *method, const char *url, int *err)
{
    if (!method || !url) {
        if (err)
            *err = FH_EINVAL;
        return NULL;
    }
    return fh_request_new_n(method, strlen(method), url, strlen(url), err);
}

void fh_request_free(fh_request *req)
{
    if (!req)
        return;
    for (size_t i = 0; i < req->nhdrs; i++) {
        if (!req->hdrs[i].borrowed)
            free(req->hdrs[i].name);
        else if (req->hdrs[i].set)
            fh_header_set_free(req->hdrs[i].set);
    }
    free(req->hdrs);
    free(req->method);
    if (req->url_shared) {
        fh__url_shared_unref(req->url_shared);
        req->url = (fh__url){0};
    } else {
        free(req->url_str);
        free(req->pool_key);
    }
    free(req->body_owned);
    if (req->route)
        fh__req_route_free(req->route);
    free(req->auth_user);
    free(req->auth_pass);
    if (req->url_pass)
        memset(req->url_pass, 0, strlen(req->url_pass));
    free(req->url_user);
    free(req->url_pass);
    for (size_t i = 0; i < req->nsensitive; i++)
        free(req->sensitive[i]);
    free(req->sensitive);
    fh__url_free(&req->url);
    free(req);
}

/* Headers whose framing role the library owns (RFC 9112 §6). */
int fh__request_is_managed(const char *n, size_t len)
{
    return (len == 14 && strncasecmp(n, "content-length", 14) == 0) ||
           (len == 17 && strncasecmp(n, "transfer-encoding", 17) == 0);
}

int fh_request_add_header_n(fh_request *req, const char *name, size_t nlen, const char *value,
                            size_t vlen)
{
    if (!req || !name || !value)
        return FH_EINVAL;
    if (fh__h1_check_header(name, nlen, value, vlen) != FH_OK) {
        fh__request_fail(req, "invalid header '%.*s': names must be tokens and values must not "
                         "contain CR, LF, NUL or control bytes", (int)(nlen > 64 ? 64 : nlen), name);
        return FH_EHEADER;
    }
    if (fh__request_is_managed(name, nlen)) {
        fh__request_fail(req, "header '%.*s' is set by the library", (int)nlen, name);
        return FH_EHEADER;
    }
    if (fh__request_reserve_hdrs(req, 1) != FH_OK)
        return FH_ENOMEM;
    char *mem = malloc(nlen + vlen + 2);
    if (!mem)
        return FH_ENOMEM;
    memcpy(mem, name, nlen);
    mem[nlen] = 0;
    memcpy(mem + nlen + 1, value, vlen);
    mem[nlen + 1 + vlen] = 0;
    req->hdrs[req->nhdrs++] = (fh__hdr){mem, nlen, mem + nlen + 1, vlen, 0, NULL};
    return FH_OK;
}

int fh__request_reserve_hdrs(fh_request *req, size_t more)
{
    if (more <= req->hdr_cap - req->nhdrs)
        return FH_OK;
    if (more > SIZE_MAX / 2 / sizeof(fh__hdr) - req->nhdrs)
        return FH_ENOMEM; /* the doubling below could overflow */
    size_t cap = req->hdr_cap ? req->hdr_cap : 8;
    while (cap - req->nhdrs < more)
        cap *= 2;
    fh__hdr *h = realloc(req->hdrs, cap * sizeof *h);
    if (!h)
        return FH_ENOMEM;
    req->hdrs = h;
    req->hdr_cap = cap;
    return FH_OK;
}

int fh_request_add_header(fh_request *req, const char *name, const char *value)
{
    if (!name || !value)
        return FH_EINVAL;
    return fh_request_add_header_n(req, name, strlen(name), value, strlen(value));
}

/* 1 when the caller already set a header with this name. */
int fh__request_has_header(const fh_request *req, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < req->nhdrs; i++)
        if (req->hdrs[i].name_len == len && strcasecmp(req->hdrs[i].name, name) == 0)
            return 1;
    return 0;
}

int fh_request_mark_sensitive(fh_request *req, const char *name)
{
    if (!req || !name || fh__h1_check_header(name, strlen(name), "", 0) != FH_OK)
        return FH_EINVAL;
    if (fh__request_is_sensitive(req, name, strlen(name)))
        return FH_OK;
    char **v = realloc(req->sensitive, (req->nsensitive + 1) * sizeof *v);
    if (!v)
        return FH_ENOMEM;
    req->sensitive = v;
    if (!(v[req->nsensitive] = strdup(name)))
        return FH_ENOMEM;
    req->nsensitive++;
    return FH_OK;
}

int fh__request_is_sensitive(const fh_request *req, const char *name, size_t len)
{
    for (size_t i = 0; i < req->nsensitive; i++)
        if (strlen(req->sensitive[i]) == len && strncasecmp(req->sensitive[i], name, len) == 0)
            return 1;
    return 0;
}

int fh_request_set_body(fh_request *req, const void *data, size_t len, int copy)
{
    if (!req || (!data && len))
        return FH_EINVAL;
    if (req->xfer)
        return FH_ESTATE;
    free(req->body_owned);
    req->body_owned = NULL;
    req->body = data;
    if (copy && len) {
        if (!(req->body_owned = malloc(len)))
            return FH_ENOMEM;
        memcpy(req->body_owned, data, len);
        req->body = req->body_owned;
    }
    req->body_len = len;
    req->has_body = 1;
    req->body_fn = NULL;
    req->lend_fn = NULL;
    return FH_OK;
}

int fh_request_set_body_reader(fh_request *req, fh_body_read_fn fn, void *ud, int64_t length)
{
    if (!req || !fn)
        return FH_EINVAL;
    if (req->xfer)
        return FH_ESTATE;
    req->lend_fn = NULL;
    req->body_fn = fn;
    req->body_ud = ud;
    req->body_fn_len = length < 0 ? -1 : length;
    req->has_body = 1;
    req->body = NULL;
    req->body_len = 0;
    return FH_OK;
}

/* The reader of a lent body for the codecs that copy (HTTP/2): copies from
 * the current piece, asking the lender for the next one when it is used up. */
ssize_t fh__body_lent_copy(void *ud, uint8_t *buf, size_t cap)
{
    fh_request *req = ud;
    if (req->lent_len == 0) {
        const uint8_t *p = NULL;
        ssize_t n = req->lend_fn(req->lend_ud, &p);
        if (n <= 0)
            return n; /* the end, FH_EAGAIN or a failure */
        if (!p)
            return FH_EBODY_SOURCE;
        req->lent = p;
        req->lent_len = (size_t)n;
    }
    size_t k = req->lent_len < cap ? req->lent_len : cap;
    memcpy(buf, req->lent, k);
    req->lent += k;
    req->lent_len -= k;
    return (ssize_t)k;
}

/* The reader of a file body: pread() at the request's own offset. */
ssize_t fh__body_file_read(void *ud, uint8_t *buf, size_t cap)
{
    fh_request *req = ud;
    int64_t left = req->body_fn_len - req->file_done;
    if (left <= 0)
        return 0;
    size_t want = (uint64_t)left < cap ? (size_t)left : cap;
    for (;;) {
        ssize_t n = pread(req->file_fd, buf, want, (off_t)(req->file_off + req->file_done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            req->file_err = errno; /* the exchange words the failure (count_body) */
            return FH_EBODY_SOURCE;
        }
        req->file_done += n; /* 0: the file ended early, which the length check reports */
        return n;
    }
}

int fh_request_set_body_file(fh_request *req, int fd, int64_t offset, int64_t length)
{
    if (!req || fd < 0 || offset < 0 || length < 0)
        return FH_EINVAL;
    int rc = fh_request_set_body_reader(req, fh__body_file_read, req, length);
    if (rc == FH_OK) {
        req->file_fd = fd;
        req->file_off = offset;
        req->file_done = 0;
    }
    return rc;
}

int fh_request_set_body_lender(fh_request *req, fh_body_lend_fn fn, void *ud, int64_t length)
{
    if (!req || !fn)
        return FH_EINVAL;
    int rc = fh_request_set_body_reader(req, fh__body_lent_copy, req, length);
    if (rc == FH_OK) {
        req->lend_fn = fn;
        req->lend_ud = ud;
        req->lent = NULL;
        req->lent_len = 0;
    }
    return rc;
}

int fh_request_set_limit(fh_request *req, fh_limit_kind kind, int64_t value)
{
    if (!req || (value != -1 && fh_limit_check(kind, value, NULL, 0) != FH_OK) ||
        (unsigned)kind >= FH_LIMIT_KINDS)
        return FH_EINVAL;
    req->limit[kind] = value;
    return FH_OK;
}

int fh_request_set_timeout(fh_request *req, fh_timeout_kind kind, int64_t ms)
{
    if (!req || (unsigned)kind >= FH_TIMEOUT_KINDS || ms < -1 || ms > FH_SECONDS_MAX * 1000LL)
        return FH_EINVAL;
    req->timeout_ms[kind] = ms;
    return FH_OK;
}

int fh_request_set_expect_continue(fh_request *req, int on, int64_t wait_ms)
{
    if (!req || wait_ms < 0)
        return FH_EINVAL;
    req->expect_continue = on != 0;
    req->expect_wait_ms = wait_ms ? wait_ms : 1000;
    return FH_OK;
}

int fh_request_set_stream(fh_request *req, int stream)
{
    if (!req)
        return FH_EINVAL;
    req->stream = stream != 0;
    return FH_OK;
}

int fh_request_set_body_storage(fh_request *req, const fh_body_storage *storage)
{
    if (!req || (storage && (!storage->alloc || !storage->release)))
        return FH_EINVAL;
    req->storage = storage ? *storage : (fh_body_storage){0};
    return FH_OK;
}

int fh_request_set_decode(fh_request *req, int decode)
{
    if (!req)
        return FH_EINVAL;
    req->decode = decode < 0 ? -1 : decode != 0;
    return FH_OK;
}

int fh_request_set_http2(fh_request *req, int mode)
{
    if (!req || mode < -1 || mode > FH_HTTP2_ONLY)
        return FH_EINVAL;
    req->http2 = mode;
    return FH_OK;
}

int fh_request_proxy_status(const fh_request *req)
{
    return req ? req->proxy_status : 0;
}

const char *fh_request_error_message(const fh_request *req)
{
    return req ? req->errmsg : "";
}

const char *fh_request_url(const fh_request *req)
{
    return req ? req->url_str : NULL;
}

const char *fh_request_method(const fh_request *req)
{
    return req ? req->method : NULL;
}
