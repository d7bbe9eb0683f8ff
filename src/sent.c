/*
 * sent.c — the request a response answers, as the engine wrote it: method,
 * URL and header fields after the policies had their say (cookies from the
 * jar, credentials, User-Agent, Accept-Encoding, Expect, a 303's GET) and
 * with the fields the codec adds (Host, the framing field). Kept with each
 * response, redirect hops included, so a program (Python's Response.request)
 * sees exactly what went out rather than what it asked for.
 *
 * One allocation per response: the field views, then the strings.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct sent_field {
    const char *name, *value;
    size_t name_len, value_len;
} sent_field;

/* The caller's Host among the fields (it replaces the URL's authority). */
static const fh_header *caller_host(const fh__exchange *x)
{
    for (size_t i = 0; i < x->nhdrs; i++)
        if (x->hdrs[i].name_len == 4 && strncasecmp(x->hdrs[i].name, "host", 4) == 0)
            return &x->hdrs[i];
    return NULL;
}

/* Lists the fields in the order the codec writes them into f (room for
 * x->nhdrs + 2) and returns their number. HTTP/1.1 (RFC 9112 §3.2): Host
 * first, then the fields, then the framing field (RFC 9110 §8.6, RFC 9112
 * §6.1). HTTP/2 (RFC 9113 §8.2.2, §8.3.1): what h2_codec.c submits, names
 * in lower case, :authority shown as "host", connection-specific fields
 * left out. */
static size_t list_fields(const fh__exchange *x, int h2, sent_field *f, char *cl)
{
    size_t n = 0;
    const fh_header *ch = x->authority || !h2 ? NULL : caller_host(x);
    if (x->authority || ch) {
        const char *v = x->authority ? x->authority : ch->value;
        size_t vl = x->authority ? x->authority_len : ch->value_len;
        f[n++] = (sent_field){h2 ? "host" : "Host", v, 4, vl};
    }
    for (size_t i = 0; i < x->nhdrs; i++) {
        if (h2 && fh__h2_field_dropped(&x->hdrs[i]))
            continue;
        f[n++] = (sent_field){x->hdrs[i].name, x->hdrs[i].value, x->hdrs[i].name_len,
                              x->hdrs[i].value_len};
    }
    if (x->framing >= 0) {
        size_t len = fh__h1_format_u64(cl, (uint64_t)x->framing); /* cl: 24 bytes */
        f[n++] = (sent_field){h2 ? "content-length" : "Content-Length", cl, 14, len};
    } else if (x->framing == FH__BODY_CHUNKED && !h2) {
        f[n++] = (sent_field){"Transfer-Encoding", "chunked", 17, 7};
    }
    return n;
}

int fh__response_record_request(fh_response *r, const fh__exchange *x, const char *url)
{
    int h2 = r->version == 20;
    char cl[24];
    sent_field small[32], *f = small;
    if (x->nhdrs + 2 > sizeof small / sizeof small[0] &&
        !(f = malloc((x->nhdrs + 2) * sizeof *f)))
        return FH_ENOMEM;
    size_t n = list_fields(x, h2, f, cl);
    size_t ulen = strlen(url), size = n * sizeof(fh_header) + x->method_len + ulen + 2;
    for (size_t i = 0; i < n; i++)
        size += f[i].name_len + f[i].value_len + 2;
    char *mem = malloc(size);
    if (!mem) {
        if (f != small)
            free(f);
        return FH_ENOMEM;
    }
    fh_header *h = (fh_header *)(void *)mem;
    char *p = mem + n * sizeof(fh_header);
    r->sent_method = p;
    memcpy(p, x->method, x->method_len);
    p += x->method_len;
    *p++ = '\0';
    r->sent_url = p;
    memcpy(p, url, ulen + 1);
    p += ulen + 1;
    for (size_t i = 0; i < n; i++) {
        h[i].name = p;
        h[i].name_len = f[i].name_len;
        if (!h2)
            memcpy(p, f[i].name, f[i].name_len);
        for (size_t k = 0; h2 && k < f[i].name_len; k++) /* RFC 9113 §8.2.1 */
            p[k] = (char)(f[i].name[k] >= 'A' && f[i].name[k] <= 'Z' ? f[i].name[k] | 0x20
                                                                    : f[i].name[k]);
        p[f[i].name_len] = '\0';
        p += f[i].name_len + 1;
        h[i].value = p;
        h[i].value_len = f[i].value_len;
        if (f[i].value_len)
            memcpy(p, f[i].value, f[i].value_len);
        p[f[i].value_len] = '\0';
        p += f[i].value_len + 1;
    }
    if (f != small)
        free(f);
    free(r->sent);
    r->sent = mem;
    r->sent_hdrs = h;
    r->nsent = n;
    return FH_OK;
}

const char *fh_response_request_method(const fh_response *r)
{
    return r && r->sent ? r->sent_method : NULL;
}

const char *fh_response_request_url(const fh_response *r)
{
    return r && r->sent ? r->sent_url : NULL;
}

size_t fh_response_request_header_count(const fh_response *r)
{
    return r && r->sent ? r->nsent : 0;
}

int fh_response_request_header_at(const fh_response *r, size_t i, fh_header *out)
{
    if (!r || !out || !r->sent || i >= r->nsent)
        return FH_EINVAL;
    *out = r->sent_hdrs[i];
    return FH_OK;
}

uint64_t fh_response_body_bytes_received(const fh_response *r)
{
    return r ? r->wire_bytes : 0;
}
