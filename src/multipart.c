/*
 * multipart.c — the multipart/form-data encoder (RFC 7578 over RFC 2046
 * §5.1). Sans-IO: it turns parts into body bytes on request and never
 * touches a socket.
 *
 * Each part's head (delimiter line, Content-Disposition, Content-Type and
 * the blank line) is built once when the part is added, so the body's
 * length is known up front whenever every content length is. Producing the
 * body is then a walk over the parts — head, content, CRLF — ending with
 * the close delimiter. Readers write straight into the caller's buffer:
 * nothing is buffered beyond it, whatever the size of a part.
 */
#include "multipart.h"

#include <limits.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { K_MEM, K_READER };
enum { S_HEAD, S_BODY, S_CRLF, S_CLOSE, S_DONE };

typedef struct mp_part {
    char *head;
    size_t head_len;
    int kind;
    const uint8_t *data; /* K_MEM */
    uint8_t *owned;
    size_t len;
    fh_body_read_fn fn; /* K_READER */
    void *ud;
    int64_t length; /* -1: unknown */
    char label[80]; /* for error messages: the (escaped, shortened) name */
} mp_part;

struct fh_multipart {
    char boundary[FH_MULTIPART_BOUNDARY_MAX + 1];
    size_t blen;
    char *ctype;
    char *close; /* "--BOUNDARY--\r\n" */
    size_t close_len;
    mp_part *parts;
    size_t n, cap;
    int64_t total; /* bytes of the body so far, when known */
    int unknown;   /* a part has an unknown length */
    /* production */
    int started, state, err;
    size_t idx;   /* current part */
    uint64_t off; /* within the head, a memory content, the CRLF or close */
    int64_t got;  /* bytes from the current reader */
    char errmsg[256];
};

/* ---- names, boundaries and media types -------------------------------- */

int fh__mp_escape(fh__buf *b, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = s[i] == '"' ? "%22" : s[i] == '\r' ? "%0D" : s[i] == '\n' ? "%0A" : NULL;
        if (!rep)
            continue;
        int rc = fh__buf_append(b, s + start, i - start);
        if (!rc)
            rc = fh__buf_append(b, rep, 3);
        if (rc)
            return rc;
        start = i + 1;
    }
    return fh__buf_append(b, s + start, n - start);
}

static int is_bchar_nospace(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("'()+_,-./:=?", c) != NULL);
}

int fh__mp_boundary_ok(const char *s, size_t n)
{
    if (n == 0 || n > FH_MULTIPART_BOUNDARY_MAX || s[n - 1] == ' ')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && !is_bchar_nospace((unsigned char)s[i]))
            return 0;
    return 1;
}

/* RFC 9110 §5.6.2 tchar. */
static int is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static const struct {
    const char *ext, *type;
} TYPES[] = {
    {"txt", "text/plain"},        {"text", "text/plain"},     {"log", "text/plain"},
    {"htm", "text/html"},         {"html", "text/html"},      {"css", "text/css"},
    {"csv", "text/csv"},          {"md", "text/markdown"},    {"js", "text/javascript"},
    {"mjs", "text/javascript"},   {"json", "application/json"},
    {"xml", "application/xml"},   {"yaml", "application/yaml"},
    {"yml", "application/yaml"},  {"svg", "image/svg+xml"},   {"png", "image/png"},
    {"jpg", "image/jpeg"},        {"jpeg", "image/jpeg"},     {"gif", "image/gif"},
    {"webp", "image/webp"},       {"avif", "image/avif"},     {"bmp", "image/bmp"},
    {"ico", "image/vnd.microsoft.icon"},                      {"tif", "image/tiff"},
    {"tiff", "image/tiff"},       {"pdf", "application/pdf"}, {"zip", "application/zip"},
    {"gz", "application/gzip"},   {"tgz", "application/gzip"},
    {"tar", "application/x-tar"}, {"7z", "application/x-7z-compressed"},
    {"mp3", "audio/mpeg"},        {"wav", "audio/wav"},       {"ogg", "audio/ogg"},
    {"mp4", "video/mp4"},         {"webm", "video/webm"},     {"wasm", "application/wasm"},
    {"bin", "application/octet-stream"},
};

static int ascii_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
        if (x >= 'A' && x <= 'Z')
            x += 32;
        if (x != y)
            return 0;
    }
    return *a == *b;
}

const char *fh_multipart_guess_type(const char *filename)
{
    const char *def = "application/octet-stream";
    if (!filename)
        return def;
    const char *base = filename;
    for (const char *p = filename; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return def; /* no extension, or a dotfile like ".json" */
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (ascii_ieq(dot + 1, TYPES[i].ext))
            return TYPES[i].type;
    return def;
}

/* ---- building --------------------------------------------------------- */

fh_multipart *fh_multipart_new(const char *boundary, int *err)
{
    int e = FH_OK;
    fh_multipart *m = calloc(1, sizeof *m);
    if (!m) {
        e = FH_ENOMEM;
        goto out;
    }
    if (boundary) {
        size_t n = strlen(boundary);
        if (!fh__mp_boundary_ok(boundary, n)) {
            e = FH_EINVAL;
            goto out;
        }
        memcpy(m->boundary, boundary, n + 1);
        m->blen = n;
    } else {
        unsigned char r[16];
        if (RAND_bytes(r, sizeof r) != 1) {
            e = FH_EIO;
            goto out;
        }
        for (int i = 0; i < 16; i++)
            snprintf(m->boundary + 2 * i, 3, "%02x", r[i]);
        m->blen = 32;
    }
    int quote = 0;
    for (size_t i = 0; i < m->blen; i++)
        quote |= !is_tchar((unsigned char)m->boundary[i]);
    size_t cap = sizeof "multipart/form-data; boundary=\"\"" + m->blen;
    m->close_len = m->blen + 6;
    if (!(m->ctype = malloc(cap)) || !(m->close = malloc(m->close_len + 1))) {
        e = FH_ENOMEM;
        goto out;
    }
    snprintf(m->ctype, cap, quote ? "multipart/form-data; boundary=\"%s\""
                                  : "multipart/form-data; boundary=%s",
             m->boundary);
    snprintf(m->close, m->close_len + 1, "--%s--\r\n", m->boundary);
    m->total = (int64_t)m->close_len;
out:
    if (err)
        *err = e;
    if (e != FH_OK) {
        fh_multipart_free(m);
        return NULL;
    }
    return m;
}

void fh_multipart_free(fh_multipart *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->parts[i].head);
        free(m->parts[i].owned);
    }
    free(m->parts);
    free(m->ctype);
    free(m->close);
    free(m);
}

static int ctype_ok(const char *t)
{
    for (; *t; t++) {
        unsigned char c = (unsigned char)*t;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

/* Appends a part with its head built; the caller fills in the content. */
static int add_part(fh_multipart *m, const char *name, const char *filename,
                    const char *content_type, int64_t length, mp_part **out)
{
    if (!m || !name)
        return FH_EINVAL;
    if (m->started)
        return FH_ESTATE;
    if (content_type && !ctype_ok(content_type))
        return FH_EHEADER;
    if (!content_type && filename)
        content_type = fh_multipart_guess_type(filename);
    if (content_type && !*content_type)
        content_type = NULL; /* "": no Content-Type header at all */
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 4;
        mp_part *p = realloc(m->parts, cap * sizeof *p);
        if (!p)
            return FH_ENOMEM;
        m->parts = p;
        m->cap = cap;
    }
    fh__buf b = {0};
    int rc = fh__buf_append(&b, "--", 2);
    if (!rc)
        rc = fh__buf_append(&b, m->boundary, m->blen);
    if (!rc)
        rc = fh__buf_append_str(&b, "\r\nContent-Disposition: form-data; name=\"");
    size_t name_at = b.len;
    if (!rc)
        rc = fh__mp_escape(&b, name, strlen(name));
    size_t name_end = b.len;
    if (!rc && filename) {
        rc = fh__buf_append_str(&b, "\"; filename=\"");
        if (!rc)
            rc = fh__mp_escape(&b, filename, strlen(filename));
    }
    if (!rc)
        rc = fh__buf_append(&b, "\"\r\n", 3);
    if (!rc && content_type) {
        rc = fh__buf_append_str(&b, "Content-Type: ");
        if (!rc)
            rc = fh__buf_append_str(&b, content_type);
        if (!rc)
            rc = fh__buf_append(&b, "\r\n", 2);
    }
    if (!rc)
        rc = fh__buf_append(&b, "\r\n", 2);
    int64_t add = (int64_t)b.len + 2; /* head, content, CRLF */
    if (!rc && !m->unknown && length >= 0 &&
        (length > INT64_MAX - add || m->total > INT64_MAX - add - length))
        rc = FH_EINVAL; /* the body's length would not fit */
    if (rc) {
        fh__buf_free(&b);
        return rc;
    }
    mp_part *p = &m->parts[m->n++];
    memset(p, 0, sizeof *p);
    p->head = (char *)b.data;
    p->head_len = b.len;
    p->length = length;
    size_t ln = name_end - name_at, keep = ln;
    if (keep > 60) /* shortened at a UTF-8 character boundary */
        for (keep = 60; keep > 0 && ((unsigned char)p->head[name_at + keep] & 0xc0) == 0x80;)
            keep--;
    snprintf(p->label, sizeof p->label, "name \"%.*s%s\"", (int)keep, p->head + name_at,
             keep < ln ? "..." : "");
    if (length < 0)
        m->unknown = 1;
    else if (!m->unknown)
        m->total += add + length;
    *out = p;
    return FH_OK;
}

int fh_multipart_add_file(fh_multipart *m, const char *name, const char *filename,
                          const char *content_type, const void *data, size_t len, int copy)
{
    if ((!data && len) || len > (size_t)INT64_MAX)
        return FH_EINVAL;
    uint8_t *owned = NULL;
    if (copy && len) {
        if (!(owned = malloc(len)))
            return FH_ENOMEM;
        memcpy(owned, data, len);
    }
    mp_part *p;
    int rc = add_part(m, name, filename, content_type, (int64_t)len, &p);
    if (rc) {
        free(owned);
        return rc;
    }
    p->kind = K_MEM;
    p->owned = owned;
    p->data = owned ? owned : data;
    p->len = len;
    return FH_OK;
}

int fh_multipart_add_field_n(fh_multipart *m, const char *name, const void *value,
                             size_t value_len)
{
    /* No filename and no content type: a form field (text/plain implied). */
    return fh_multipart_add_file(m, name, NULL, "", value, value_len, 1);
}

int fh_multipart_add_field(fh_multipart *m, const char *name, const char *value)
{
    if (!value)
        return FH_EINVAL;
    return fh_multipart_add_field_n(m, name, value, strlen(value));
}

int fh_multipart_add_file_reader(fh_multipart *m, const char *name, const char *filename,
                                 const char *content_type, fh_body_read_fn fn, void *ud,
                                 int64_t length)
{
    if (!fn)
        return FH_EINVAL;
    mp_part *p;
    int rc = add_part(m, name, filename, content_type, length < 0 ? -1 : length, &p);
    if (rc)
        return rc;
    p->kind = K_READER;
    p->fn = fn;
    p->ud = ud;
    return FH_OK;
}

const char *fh_multipart_boundary(const fh_multipart *m)
{
    return m ? m->boundary : "";
}

const char *fh_multipart_content_type(const fh_multipart *m)
{
    return m ? m->ctype : "";
}

int64_t fh_multipart_length(const fh_multipart *m)
{
    return !m || m->unknown ? -1 : m->total;
}

const char *fh_multipart_error_message(const fh_multipart *m)
{
    return m ? m->errmsg : "";
}

/* ---- producing -------------------------------------------------------- */

static ssize_t fail(fh_multipart *m, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->errmsg, sizeof m->errmsg, fmt, ap);
    va_end(ap);
    m->err = code;
    m->state = S_DONE;
    return code;
}

/* Copies what is left of src (from m->off) into dst; 1 when src is used up. */
static int copy_out(fh_multipart *m, const void *src, size_t len, uint8_t *dst, size_t room,
                    size_t *n)
{
    size_t left = len - (size_t)m->off;
    size_t k = left < room ? left : room;
    if (k)
        memcpy(dst, (const uint8_t *)src + m->off, k);
    m->off += k;
    *n += k;
    return m->off == len;
}

/* One call of the current part's reader: >0 bytes written to dst, 0 when
 * the content is complete (and checked), FH_EAGAIN, or an error. */
static ssize_t from_reader(fh_multipart *m, mp_part *p, uint8_t *dst, size_t room)
{
    size_t ask = room;
    if (p->length >= 0 && m->got < p->length && (uint64_t)(p->length - m->got) < ask)
        ask = (size_t)(p->length - m->got);
    ssize_t r = p->fn(p->ud, dst, ask);
    if (r == FH_EAGAIN)
        return r;
    if (r < 0)
        return fail(m, r < INT_MIN ? FH_EBODY_SOURCE : (int)r, "part %zu (%s): reader failed",
                    m->idx + 1, p->label);
    if ((size_t)r > ask)
        return fail(m, FH_EBODY_SOURCE,
                    "part %zu (%s): reader returned %zd bytes for a %zu-byte buffer",
                    m->idx + 1, p->label, r, ask);
    if (r == 0) {
        if (p->length >= 0 && m->got != p->length)
            return fail(m, FH_EBODY_SOURCE, "part %zu (%s) ended after %lld of %lld bytes",
                        m->idx + 1, p->label, (long long)m->got, (long long)p->length);
        return 0;
    }
    if (p->length >= 0 && m->got == p->length)
        return fail(m, FH_EBODY_SOURCE, "part %zu (%s) gave more than its %lld bytes",
                    m->idx + 1, p->label, (long long)p->length);
    m->got += r;
    return r;
}

ssize_t fh_multipart_read(fh_multipart *m, uint8_t *buf, size_t cap)
{
    if (!m || !buf || cap == 0 || cap > SSIZE_MAX)
        return FH_EINVAL;
    if (m->err)
        return m->err;
    if (!m->started) {
        m->started = 1;
        m->state = m->n ? S_HEAD : S_CLOSE;
        m->off = 0;
    }
    size_t n = 0;
    while (n < cap && m->state != S_DONE) {
        mp_part *p = m->idx < m->n ? &m->parts[m->idx] : NULL;
        switch (m->state) {
        case S_HEAD:
            if (copy_out(m, p->head, p->head_len, buf + n, cap - n, &n)) {
                m->state = S_BODY;
                m->off = 0;
                m->got = 0;
            }
            break;
        case S_BODY:
            if (p->kind == K_MEM) {
                if (copy_out(m, p->data, p->len, buf + n, cap - n, &n)) {
                    m->state = S_CRLF;
                    m->off = 0;
                }
                break;
            } else {
                ssize_t r = from_reader(m, p, buf + n, cap - n);
                if (r == FH_EAGAIN)
                    return n ? (ssize_t)n : FH_EAGAIN;
                if (r < 0)
                    return r;
                if (r == 0) {
                    m->state = S_CRLF;
                    m->off = 0;
                }
                n += (size_t)r;
            }
            break;
        case S_CRLF:
            if (copy_out(m, "\r\n", 2, buf + n, cap - n, &n)) {
                m->idx++;
                m->state = m->idx < m->n ? S_HEAD : S_CLOSE;
                m->off = 0;
            }
            break;
        case S_CLOSE:
            if (copy_out(m, m->close, m->close_len, buf + n, cap - n, &n))
                m->state = S_DONE;
            break;
        default:
            break;
        }
    }
    return (ssize_t)n;
}

static ssize_t attach_reader(void *ud, uint8_t *buf, size_t cap)
{
    return fh_multipart_read(ud, buf, cap);
}

int fh_multipart_attach(fh_multipart *m, fh_request *req)
{
    if (!m || !req)
        return FH_EINVAL;
    int rc = fh_request_set_body_reader(req, attach_reader, m, fh_multipart_length(m));
    if (rc == FH_OK)
        rc = fh_request_add_header(req, "Content-Type", m->ctype);
    return rc;
}
