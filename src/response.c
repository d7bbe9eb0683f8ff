/*
 * response.c — fh_response: status, headers (a copy of the head bytes with
 * views into it, so lookups allocate nothing), the buffered body or the
 * streaming reader.
 */
#include "internal.h"
#include "conninfo.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One allocation holds the response, its n header views, the head's bytes
 * (head_size) and its URL: a response costs one malloc and one free, which
 * matters with hundreds in flight, where malloc's per-thread caches run
 * dry. */
static fh_response *response_alloc(size_t n, size_t head_size, const char *url,
                                   size_t inline_cap)
{
    size_t views = (n ? n : 1) * sizeof(fh_header), ulen = strlen(url) + 1;
    fh_response *r = malloc(sizeof *r + views + head_size + ulen + inline_cap);
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    r->hdrs = (fh_header *)(r + 1);
    r->head = (char *)r->hdrs + views;
    r->url = memcpy(r->head + head_size, url, ulen);
    if (inline_cap) {
        r->inline_body = (uint8_t *)r->url + ulen;
        r->inline_cap = inline_cap;
    }
    return r;
}

fh_response *fh__response_new(const fh__h1_head *h, const char *raw, const char *url,
                              size_t inline_cap)
{
    fh_response *r = response_alloc(h->nheaders, h->head_len + 1, url, inline_cap);
    if (!r)
        return NULL;
    memcpy(r->head, raw, h->head_len);
    r->head[h->head_len] = 0;
    r->head_len = h->head_len;
    /* Re-base the parser's views from the read buffer onto our copy. */
    for (size_t i = 0; i < h->nheaders; i++) {
        r->hdrs[i] = h->headers[i];
        r->hdrs[i].name = r->head + (h->headers[i].name - raw);
        r->hdrs[i].value = r->head + (h->headers[i].value - raw);
    }
    r->nhdrs = h->nheaders;
    r->reason = r->head + (h->reason - raw);
    r->reason_len = h->reason_len;
    r->status = h->status;
    r->version = h->version;
    return r;
}

int fh__response_field_add(fh__buf *fields, const char *name, size_t nlen, const char *value,
                           size_t vlen)
{
    uint32_t len[2] = {(uint32_t)nlen, (uint32_t)vlen};
    if (nlen > UINT32_MAX || vlen > UINT32_MAX ||
        fh__buf_reserve(fields, sizeof len + nlen + vlen + 2) != FH_OK)
        return FH_ENOMEM;
    uint8_t *o = fields->data + fields->len;
    memcpy(o, len, sizeof len);
    o += sizeof len;
    memcpy(o, name, nlen);
    o[nlen] = 0;
    memcpy(o + nlen + 1, value, vlen);
    o[nlen + 1 + vlen] = 0;
    fields->len += sizeof len + nlen + vlen + 2;
    return FH_OK;
}

fh_response *fh__response_new_fields(int status, int version, const fh__buf *fields, size_t n,
                                     const char *url)
{
    size_t len = fields->len;
    fh_response *r = response_alloc(n, len + 1, url, 0);
    if (!r)
        return NULL;
    if (len)
        memcpy(r->head, fields->data, len);
    r->head[len] = 0;
    r->head_len = len;
    size_t pos = 0;
    for (size_t i = 0; i < n && pos + 2 * sizeof(uint32_t) <= len; i++) {
        uint32_t l[2];
        memcpy(l, r->head + pos, sizeof l);
        const char *name = r->head + pos + sizeof l;
        const char *value = name + l[0] + 1;
        r->hdrs[i] = (fh_header){name, l[0], value, l[1]};
        pos += sizeof l + l[0] + l[1] + 2;
        r->nhdrs = i + 1;
    }
    r->reason = r->head + len; /* "" */
    r->reason_len = 0;
    r->status = status;
    r->version = version;
    return r;
}

int fh_response_status(const fh_response *r)
{
    return r ? r->status : 0;
}

int fh_response_version(const fh_response *r)
{
    return r ? r->version : 0;
}

const char *fh_response_reason(const fh_response *r, size_t *len)
{
    if (len)
        *len = r ? r->reason_len : 0;
    return r ? r->reason : NULL;
}

size_t fh_response_header_count(const fh_response *r)
{
    return r ? r->nhdrs : 0;
}

int fh_response_header_at(const fh_response *r, size_t i, fh_header *out)
{
    if (!r || !out || i >= r->nhdrs)
        return FH_EINVAL;
    *out = r->hdrs[i];
    return FH_OK;
}

int fh_response_header_next(const fh_response *r, const char *name, size_t *pos, fh_header *out)
{
    if (!r || !name || !pos)
        return FH_EINVAL;
    size_t len = strlen(name);
    for (size_t i = *pos; i < r->nhdrs; i++) {
        if (r->hdrs[i].name_len == len && strncasecmp(r->hdrs[i].name, name, len) == 0) {
            if (out)
                *out = r->hdrs[i];
            *pos = i + 1;
            return FH_OK;
        }
    }
    *pos = r->nhdrs;
    return FH_EAGAIN;
}

const char *fh_response_header(const fh_response *r, const char *name, size_t *len)
{
    size_t pos = 0;
    fh_header h;
    if (fh_response_header_next(r, name, &pos, &h) != FH_OK)
        return NULL;
    if (len)
        *len = h.value_len;
    return h.value;
}

const uint8_t *fh_response_body(const fh_response *r, size_t *len)
{
    if (len)
        *len = r ? r->body.len : 0;
    return r && r->body.len ? r->body.data : NULL;
}

void *fh_response_take_body_storage(fh_response *r, size_t *len)
{
    void *h = r ? r->storage_handle : NULL;
    if (len)
        *len = h ? r->body.len : 0;
    if (h) {
        r->storage_handle = NULL;
        r->body = (fh__buf){0};
    }
    return h;
}

/* Storage nobody took goes back to its owner; the library's own buffer is
 * freed. */
void fh__response_drop_body(fh_response *r)
{
    if (r->storage_handle)
        r->storage.release(r->storage.ud, r->storage_handle);
    else if (!fh__response_body_inline(r))
        fh__buf_free(&r->body);
    r->storage_handle = NULL;
    r->body = (fh__buf){0};
}

ssize_t fh_response_read(fh_response *r, uint8_t *buf, size_t cap)
{
    if (!r || (!buf && cap))
        return FH_EINVAL;
    if (!r->xfer)
        return 0; /* buffered responses have nothing left to stream */
    /* In a forked child the rest of the body belongs to the parent: the
     * check fails the transfer (FH_EFORKED) before a byte is read. */
    fh__engine_check_fork(r->xfer->engine);
    fh__block b;
    if (r->owned_engine)
        fh__block_begin(&b, r->owned_engine, r->xfer->req, &r->wait);
    for (;;) {
        ssize_t n = fh__ex_read_body(r->xfer, buf, cap);
        if (n != FH_EAGAIN || !r->owned_engine)
            return n;
        /* Blocking mode: run the private loop until bytes, a timeout, or a
         * hook that stops the wait (the stream is left as it is then). */
        int rc = fh__block_wait(&b);
        if (rc == FH_EBODY_SOURCE && b.why) {
            fh__ex_stream_fail(r->xfer, rc, "%s", b.why);
            return rc;
        }
        if (rc < 0)
            return rc;
    }
}

int fh_response_set_wait_hooks(fh_response *r, const fh_wait_hooks *hooks)
{
    if (!r)
        return FH_EINVAL;
    if (!r->owned_engine)
        return r->xfer ? FH_ESTATE : FH_OK; /* an engine's stream never waits */
    if (hooks)
        r->wait = *hooks;
    else
        fh_wait_hooks_init(&r->wait);
    return FH_OK;
}

const fh_timings *fh_response_timings(const fh_response *r)
{
    return r ? &r->timings : NULL;
}

void fh_response_free(fh_response *r)
{
    if (!r)
        return;
    if (r->xfer) {
        /* In a forked child the check closes the connection quietly first. */
        fh__engine_check_fork(r->xfer->engine);
        fh__engine_free_exchange(r->xfer); /* returns or closes the connection */
    }
    if (r->owned_engine)
        fh_engine_free(r->owned_engine);
    if (r->upgraded)
        fh__conn_close(r->upgraded); /* a 101 connection nobody took */
    for (size_t i = 0; i < r->nhistory; i++)
        fh_response_free(r->history[i]);
    free(r->history);
    fh__conninfo_unref(r->conn_info);
    free(r->sent);
    fh__response_drop_body(r);
    free(r);
}

int fh_response_attempts(const fh_response *r)
{
    return r ? (r->attempts ? r->attempts : 1) : 0;
}

const char *fh_response_url(const fh_response *r)
{
    return r ? r->url : NULL;
}

size_t fh_response_history_count(const fh_response *r)
{
    return r ? r->nhistory : 0;
}

const fh_response *fh_response_history_at(const fh_response *r, size_t i)
{
    return r && i < r->nhistory ? r->history[i] : NULL;
}

/* The first release's fh_conn_info ends after tls_resumed. */
#define CONN_INFO_SIZE_V1 (offsetof(fh_conn_info, tls_resumed) + sizeof(int))

int fh_response_conn_info_sized(const fh_response *r, fh_conn_info *out, size_t size)
{
    if (!out || size < CONN_INFO_SIZE_V1)
        return FH_EINVAL;
    fh_conn_info ci;
    fh__conninfo_view(r ? r->conn_info : NULL, &ci);
    size_t n = size < sizeof ci ? size : sizeof ci;
    memcpy(out, &ci, n);
    if (size > n)
        memset((char *)out + n, 0, size - n);
    return r && r->conn_info ? FH_OK : FH_EINVAL;
}
