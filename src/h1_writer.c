/*
 * h1_writer.c — the HTTP/1.1 request writer (RFC 9112 §3, §6, §7).
 *
 * Every piece of the head is validated before a single byte is appended, so
 * a request carrying CR, LF or NUL (header injection, request splitting) is
 * refused as a whole and the output buffer is left exactly as it was.
 */
#include "h1.h"

#include <stdint.h>
#include <string.h>

/*
 * tchar (RFC 9110 §5.6.2):
 *   "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 *   "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
 * One table lookup per byte; everything >= 0x80 is not a token char.
 */
const unsigned char fh__h1_tchar[256] = {
    /* 0x00 - 0x1f: controls */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* SP ! " # $ % & ' ( ) * + , - . / */
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0,
    /* 0 - 9 : ; < = > ? */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    /* @ A - O */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* P - Z [ \ ] ^ _ */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1,
    /* ` a - o */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* p - z { | } ~ DEL */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0,
    /* 0x80 - 0xff: zero-initialised */
};
#define tchar fh__h1_tchar

static int is_token(const char *s, size_t len)
{
    if (!s || len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!tchar[(unsigned char)s[i]])
            return 0;
    return 1;
}

/*
 * field-value = *field-content; field-vchar = VCHAR / obs-text
 * (RFC 9110 §5.5). SP and HTAB are allowed inside; every other control
 * byte (CR, LF and NUL above all) and DEL is refused.
 */
static int is_field_value(const char *v, size_t len)
{
    if (len && !v)
        return 0;
    const uint64_t ones = UINT64_C(0x0101010101010101);
    const uint64_t highs = UINT64_C(0x8080808080808080);
    size_t i = 0;
    /* Eight bytes at a time while none is < 0x20 or 0x7f (as the parser's
     * skip_value): a word with one of them, an HTAB included, goes to the
     * byte loop, which decides. Values are most of a head, and every
     * header is checked when added and again when written. */
    for (; len - i >= 8; i += 8) {
        uint64_t x;
        memcpy(&x, v + i, 8);
        uint64_t low = (x - ones * 0x20) & ~x & highs;
        uint64_t y = x ^ (ones * 0x7f);
        if (low | ((y - ones) & ~y & highs))
            break;
    }
    for (; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

int fh__h1_check_method(const char *m, size_t len)
{
    /* method = token (RFC 9110 §9.1) */
    return is_token(m, len) ? FH_OK : FH_EHEADER;
}

int fh__h1_check_target(const char *t, size_t len)
{
    /* The request-target is delimited by SP (RFC 9112 §3): a SP, control
     * byte or DEL inside it would let the caller smuggle a second request. */
    if (!t || len == 0)
        return FH_EHEADER;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c <= 0x20 || c == 0x7f)
            return FH_EHEADER;
    }
    return FH_OK;
}

int fh__h1_check_header(const char *name, size_t nlen, const char *value, size_t vlen)
{
    /* field-name = token (RFC 9110 §5.1) */
    if (!is_token(name, nlen) || !is_field_value(value, vlen))
        return FH_EHEADER;
    return FH_OK;
}

size_t fh__h1_format_u64(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* Adds b to *acc, reporting size_t overflow (absurdly large inputs). */
static int add_size(size_t *acc, size_t b)
{
    if (b > SIZE_MAX - *acc)
        return -1;
    *acc += b;
    return 0;
}

/* Validates every part of the head; FH_OK or FH_EHEADER / FH_EINVAL. */
static int check_all(const char *method, size_t mlen, const char *target, size_t tlen,
                     const char *authority, size_t alen, const fh_header *hdrs, size_t nhdrs,
                     int64_t body_len)
{
    if (body_len < 0 && body_len != FH__BODY_NONE && body_len != FH__BODY_CHUNKED)
        return FH_EINVAL;
    if (nhdrs && !hdrs)
        return FH_EINVAL;
    if (fh__h1_check_method(method, mlen) || fh__h1_check_target(target, tlen))
        return FH_EHEADER;
    /* The Host value travels as a field value (RFC 9112 §3.2). */
    if (authority && !is_field_value(authority, alen))
        return FH_EHEADER;
    for (size_t i = 0; i < nhdrs; i++)
        if (fh__h1_check_header(hdrs[i].name, hdrs[i].name_len, hdrs[i].value,
                                hdrs[i].value_len))
            return FH_EHEADER;
    return FH_OK;
}

/* Bytes the head will take, or 0 on size_t overflow. */
static size_t head_size(size_t mlen, size_t tlen, const char *authority, size_t alen,
                        const fh_header *hdrs, size_t nhdrs)
{
    size_t n = 0;
    int bad = add_size(&n, mlen) | add_size(&n, tlen);
    bad |= add_size(&n, sizeof(" ") - 1 + sizeof(" HTTP/1.1\r\n") - 1);
    if (authority)
        bad |= add_size(&n, sizeof("Host: \r\n") - 1) | add_size(&n, alen);
    for (size_t i = 0; i < nhdrs; i++) {
        bad |= add_size(&n, hdrs[i].name_len) | add_size(&n, hdrs[i].value_len);
        bad |= add_size(&n, sizeof(": \r\n") - 1);
    }
    /* the longest framing line plus the final CRLF */
    bad |= add_size(&n, sizeof("Transfer-Encoding: chunked\r\n") - 1 + 2);
    return bad ? 0 : n;
}

static char *put(char *p, const void *s, size_t n)
{
    if (n)
        memcpy(p, s, n);
    return p + n;
}

#define PUT_LIT(p, lit) put((p), (lit), sizeof(lit) - 1)

/* The framing line: Content-Length (RFC 9110 §8.6) or chunked (RFC 9112 §7.1). */
static char *put_framing(char *p, int64_t body_len)
{
    if (body_len == FH__BODY_CHUNKED)
        return PUT_LIT(p, "Transfer-Encoding: chunked\r\n");
    if (body_len >= 0) {
        p = PUT_LIT(p, "Content-Length: ");
        p += fh__h1_format_u64(p, (uint64_t)body_len);
        p = PUT_LIT(p, "\r\n");
    }
    return p;
}

int fh__h1_write_head(fh__buf *out, const char *method, size_t mlen, const char *target,
                      size_t tlen, const char *authority, size_t alen, const fh_header *hdrs,
                      size_t nhdrs, int64_t body_len)
{
    return fh__h1_write_head_n(out, method, mlen, target, tlen, authority, alen, hdrs, nhdrs, 0,
                               body_len);
}

int fh__h1_write_head_n(fh__buf *out, const char *method, size_t mlen, const char *target,
                        size_t tlen, const char *authority, size_t alen, const fh_header *hdrs,
                        size_t nhdrs, size_t nchecked, int64_t body_len)
{
    if (nchecked > nhdrs)
        return FH_EINVAL;
    int rc = check_all(method, mlen, target, tlen, authority, alen,
                       hdrs ? hdrs + nchecked : NULL, nhdrs - nchecked, body_len);
    if (rc)
        return rc;
    size_t need = head_size(mlen, tlen, authority, alen, hdrs, nhdrs);
    /* Reserve once: a failed allocation leaves out untouched as well. */
    if (need == 0 || fh__buf_reserve(out, need))
        return FH_ENOMEM;

    char *start = (char *)out->data + out->len;
    char *p = start;
    /* request-line = method SP request-target SP HTTP-version (RFC 9112 §3) */
    p = put(p, method, mlen);
    p = PUT_LIT(p, " ");
    p = put(p, target, tlen);
    p = PUT_LIT(p, " HTTP/1.1\r\n");
    if (authority) {
        /* Host comes first, as RFC 9112 §3.2 asks of user agents. */
        p = PUT_LIT(p, "Host: ");
        p = put(p, authority, alen);
        p = PUT_LIT(p, "\r\n");
    }
    for (size_t i = 0; i < nhdrs; i++) {
        p = put(p, hdrs[i].name, hdrs[i].name_len);
        p = PUT_LIT(p, ": ");
        p = put(p, hdrs[i].value, hdrs[i].value_len);
        p = PUT_LIT(p, "\r\n");
    }
    p = put_framing(p, body_len);
    p = PUT_LIT(p, "\r\n");
    out->len += (size_t)(p - start);
    return FH_OK;
}

size_t fh__h1_chunk_prefix(char *out, size_t n)
{
    /* chunk-size = 1*HEXDIG (RFC 9112 §7.1) */
    static const char hex[] = "0123456789abcdef";
    char tmp[2 * sizeof(size_t)];
    size_t k = 0;
    do {
        tmp[k++] = hex[n & 0xf];
        n >>= 4;
    } while (n);
    for (size_t i = 0; i < k; i++)
        out[i] = tmp[k - 1 - i];
    out[k] = '\r';
    out[k + 1] = '\n';
    return k + 2;
}
