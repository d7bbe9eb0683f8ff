/*
 * url_resolve.c — resolving a URI reference against a base URL (RFC 3986
 * §5.2), used for Location headers, which may be relative (RFC 9110
 * §10.2.2). The result is an absolute URL string that fh__url_parse()
 * then validates like any other URL.
 */
#include "internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Drops the last segment and its preceding "/" from the output. */
static size_t pop_segment(const char *path, size_t out)
{
    while (out > 0 && path[out - 1] != '/')
        out--;
    return out > 0 ? out - 1 : 0;
}

/* RFC 3986 §5.2.4: removes "." and ".." segments from path[0..len) in
 * place and returns the new length. The output (path[0..out)) never passes
 * the input position, so one buffer serves as both. */
static size_t remove_dot_segments(char *path, size_t len)
{
    size_t in = 0, out = 0;
    while (in < len) {
        const char *p = path + in;
        size_t left = len - in;
        if (left >= 3 && !memcmp(p, "../", 3)) {
            in += 3;                                     /* rule A */
        } else if (left >= 2 && !memcmp(p, "./", 2)) {
            in += 2;                                     /* rule A */
        } else if (left >= 3 && !memcmp(p, "/./", 3)) {
            in += 2;                                     /* rule B */
        } else if (left == 2 && !memcmp(p, "/.", 2)) {
            path[++in] = '/';                            /* rule B: "/." -> "/" */
        } else if (left >= 4 && !memcmp(p, "/../", 4)) {
            in += 3;                                     /* rule C */
            out = pop_segment(path, out);
        } else if (left == 3 && !memcmp(p, "/..", 3)) {
            in += 2;                                     /* rule C: "/.." -> "/" */
            path[in] = '/';
            out = pop_segment(path, out);
        } else if ((left == 1 && p[0] == '.') || (left == 2 && !memcmp(p, "..", 2))) {
            in = len;                                    /* rule D */
        } else {
            do                                           /* rule E */
                path[out++] = path[in++];
            while (in < len && path[in] != '/');
        }
    }
    return out;
}

/* The length of a scheme at the start of ref ("http:"), or 0. */
static size_t scheme_len(const char *ref, size_t len)
{
    if (!len || !isalpha((unsigned char)ref[0]))
        return 0;
    for (size_t i = 1; i < len; i++) {
        char c = ref[i];
        if (c == ':')
            return i;
        if (!isalnum((unsigned char)c) && c != '+' && c != '-' && c != '.')
            return 0;
    }
    return 0;
}

static int append_path(fh__buf *b, const char *p, size_t n)
{
    size_t start = b->len;
    int rc = fh__buf_append(b, p, n);
    if (rc == FH_OK)
        b->len = start + remove_dot_segments((char *)b->data + start, n);
    return rc;
}

/* Merges a relative path with the base path (§5.2.3) and appends the
 * result with dot segments removed. */
static int merge(fh__buf *b, const char *base_path, size_t base_len, const char *ref, size_t n)
{
    fh__buf tmp = {0};
    const char *slash = base_len ? memrchr(base_path, '/', base_len) : NULL;
    int rc = slash ? fh__buf_append(&tmp, base_path, (size_t)(slash - base_path) + 1)
                   : fh__buf_append(&tmp, "/", 1);
    if (rc == FH_OK)
        rc = fh__buf_append(&tmp, ref, n);
    if (rc == FH_OK)
        rc = append_path(b, (const char *)tmp.data, tmp.len);
    fh__buf_free(&tmp);
    return rc;
}

static int resolve_into(fh__buf *b, const fh__url *base, const char *ref, size_t len)
{
    size_t sl = scheme_len(ref, len);
    if (sl)
        return fh__buf_append(b, ref, len);
    const char *scheme = base->tls ? "https:" : "http:";
    int rc = fh__buf_append_str(b, scheme);
    if (rc)
        return rc;
    if (len >= 2 && ref[0] == '/' && ref[1] == '/')
        return fh__buf_append(b, ref, len); /* network-path reference */
    rc = fh__buf_append(b, "//", 2);
    if (rc == FH_OK)
        rc = fh__buf_append_str(b, base->authority);
    if (rc)
        return rc;
    const char *bt = base->target;
    const char *q = strchr(bt, '?');
    size_t bpath = q ? (size_t)(q - bt) : strlen(bt);
    const char *rq = memchr(ref, '?', len);
    size_t rpath = rq ? (size_t)(rq - ref) : len;
    if (len == 0)
        return fh__buf_append_str(b, bt);
    if (rpath == 0) /* only a query: base path, new query */
        rc = fh__buf_append(b, bt, bpath);
    else if (ref[0] == '/')
        rc = append_path(b, ref, rpath);
    else
        rc = merge(b, bt, bpath, ref, rpath);
    if (rc == FH_OK && rq)
        rc = fh__buf_append(b, rq, len - rpath);
    return rc;
}

int fh__url_resolve(const fh__url *base, const char *ref, size_t len, char **out)
{
    *out = NULL;
    const char *hash = memchr(ref, '#', len);
    if (hash)
        len = (size_t)(hash - ref); /* fragments never reach the server */
    while (len && (*ref == ' ' || *ref == '\t'))
        ref++, len--;
    size_t sl = scheme_len(ref, len);
    if (sl && !((sl == 4 && !strncasecmp(ref, "http", 4)) ||
                (sl == 5 && !strncasecmp(ref, "https", 5))))
        return FH_EUNSUPPORTED;
    fh__buf b = {0};
    int rc = resolve_into(&b, base, ref, len);
    if (rc == FH_OK)
        rc = fh__buf_append(&b, "", 1);
    if (rc) {
        fh__buf_free(&b);
        return rc;
    }
    *out = (char *)b.data;
    return FH_OK;
}
