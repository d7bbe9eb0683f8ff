/*
 * links.c — the Link header field (RFC 8288 §3), sans-IO:
 *
 *   Link       = #link-value
 *   link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
 *   link-param = token BWS [ "=" BWS ( token / quoted-string ) ]
 *
 * Parsing is lenient where servers commonly stray and strict where the
 * grammar is unambiguous: an unquoted value runs to the next ';', ',' or
 * whitespace (servers write type=text/html, which is not a token), while a
 * link-value without "<target>" or with a nameless parameter is dropped as a
 * whole (up to the next comma outside quotes and brackets) rather than
 * guessed at. Targets are resolved against the response's URL (§3.1).
 * Everything lands in one allocation.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fasthttp/links.h"

struct fh_links {
    size_t n;
    fh_link *links;
};

/* Offsets into the string buffer while parsing; pointers only at the end. */
typedef struct raw_param {
    size_t name, value;
} raw_param;

typedef struct raw_link {
    size_t target, first, nparams;
} raw_link;

typedef struct parser {
    const char *p, *end;
    fh__buf str;    /* NUL-terminated strings */
    fh__buf params; /* raw_param */
    fh__buf links;  /* raw_link */
    const fh__url *base;
} parser;

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static void skip_ows(parser *ps)
{
    while (ps->p < ps->end && is_ows(*ps->p))
        ps->p++;
}

/* Appends n bytes and a NUL; *off gets where they start. */
static int put_str(parser *ps, const char *s, size_t n, size_t *off)
{
    *off = ps->str.len;
    int rc = fh__buf_append(&ps->str, s, n);
    return rc ? rc : fh__buf_append(&ps->str, "", 1);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 8187 §3.2: ext-value = charset "'" [ language ] "'" value-chars.
 * Decodes into str when the charset is UTF-8 or ISO-8859-1 (as UTF-8) and
 * the percent-encoding is valid; returns 0 when it did not. */
static int put_ext_value(parser *ps, const char *v, size_t n, size_t *off)
{
    const char *q1 = memchr(v, '\'', n);
    const char *q2 = q1 ? memchr(q1 + 1, '\'', (size_t)(v + n - q1 - 1)) : NULL;
    if (!q2)
        return 0;
    size_t cl = (size_t)(q1 - v);
    int latin1 = cl == 10 && strncasecmp(v, "iso-8859-1", 10) == 0;
    if (!latin1 && !(cl == 5 && strncasecmp(v, "utf-8", 5) == 0))
        return 0;
    size_t start = ps->str.len;
    for (const char *s = q2 + 1; s < v + n; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '%') {
            int hi = s + 2 < v + n ? hexval(s[1]) : -1, lo = hi >= 0 ? hexval(s[2]) : -1;
            if (lo < 0) {
                ps->str.len = start;
                return 0;
            }
            c = (unsigned char)(hi << 4 | lo);
            s += 2;
        }
        unsigned char u[2] = {(unsigned char)(0xc0 | c >> 6), (unsigned char)(0x80 | (c & 0x3f))};
        int rc = latin1 && c >= 0x80 ? fh__buf_append(&ps->str, u, 2)
                                     : fh__buf_append(&ps->str, &c, 1);
        if (rc)
            return rc;
    }
    *off = start;
    return fh__buf_append(&ps->str, "", 1) ? FH_ENOMEM : 1;
}

/* A quoted-string (RFC 9110 §5.6.4) at ps->p, unescaped into str. 1 ok,
 * 0 unterminated, FH_ENOMEM. */
static int put_quoted(parser *ps, size_t *off)
{
    *off = ps->str.len;
    for (ps->p++; ps->p < ps->end; ps->p++) {
        char c = *ps->p;
        if (c == '"') {
            ps->p++;
            return fh__buf_append(&ps->str, "", 1) ? FH_ENOMEM : 1;
        }
        if (c == '\\' && ps->p + 1 < ps->end)
            c = *++ps->p;
        if (fh__buf_append(&ps->str, &c, 1))
            return FH_ENOMEM;
    }
    return 0;
}

/* One link-param after ';' and OWS. 1 ok, 0 malformed, FH_ENOMEM. */
static int parse_param(parser *ps)
{
    const char *name = ps->p;
    while (ps->p < ps->end && fh__h1_tchar[(unsigned char)*ps->p])
        ps->p++;
    size_t nlen = (size_t)(ps->p - name);
    if (nlen == 0)
        return 0;
    raw_param rp;
    int rc = put_str(ps, name, nlen, &rp.name);
    if (rc)
        return rc;
    for (size_t i = 0; i < nlen; i++) { /* names are case-insensitive (§3) */
        char *c = (char *)ps->str.data + rp.name + i;
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c | 0x20);
    }
    skip_ows(ps);
    if (ps->p < ps->end && *ps->p == '=') {
        ps->p++;
        skip_ows(ps);
        if (ps->p < ps->end && *ps->p == '"') {
            if ((rc = put_quoted(ps, &rp.value)) != 1)
                return rc;
        } else {
            const char *v = ps->p;
            while (ps->p < ps->end && *ps->p != ';' && *ps->p != ',' && !is_ows(*ps->p))
                ps->p++;
            size_t vlen = (size_t)(ps->p - v);
            rc = name[nlen - 1] == '*' ? put_ext_value(ps, v, vlen, &rp.value) : 0;
            if (rc < 0 || (rc == 0 && (rc = put_str(ps, v, vlen, &rp.value)) != FH_OK))
                return rc;
        }
    } else if ((rc = put_str(ps, "", 0, &rp.value)) != FH_OK) {
        return rc;
    }
    return fh__buf_append(&ps->params, &rp, sizeof rp) ? FH_ENOMEM : 1;
}

/* The target, resolved against the base when that gives an http(s) URL. */
static int put_target(parser *ps, const char *t, size_t n, size_t *off)
{
    char *abs = NULL;
    fh__url u;
    if (ps->base && fh__url_resolve(ps->base, t, n, &abs) == FH_OK &&
        fh__url_parse(&u, abs, strlen(abs), NULL) == FH_OK) {
        int rc = put_str(ps, u.href, strlen(u.href), off);
        fh__url_free(&u);
        free(abs);
        return rc;
    }
    free(abs);
    return put_str(ps, t, n, off);
}

/* One link-value at ps->p. 1 ok, 0 malformed, FH_ENOMEM. */
static int parse_link(parser *ps, raw_link *l)
{
    if (*ps->p != '<')
        return 0;
    const char *t = ps->p + 1, *gt = memchr(t, '>', (size_t)(ps->end - t));
    if (!gt)
        return 0;
    int rc = put_target(ps, t, (size_t)(gt - t), &l->target);
    if (rc)
        return rc;
    ps->p = gt + 1;
    l->first = ps->params.len / sizeof(raw_param);
    for (;;) {
        skip_ows(ps);
        if (ps->p == ps->end || *ps->p == ',')
            break;
        if (*ps->p != ';')
            return 0;
        ps->p++;
        skip_ows(ps);
        if (ps->p == ps->end || *ps->p == ',' || *ps->p == ';')
            continue; /* an empty parameter: "<a>;" */
        if ((rc = parse_param(ps)) != 1)
            return rc;
    }
    l->nparams = ps->params.len / sizeof(raw_param) - l->first;
    return 1;
}

/* After a malformed link-value: on to the next comma outside quotes and
 * angle brackets. */
static void skip_link(parser *ps)
{
    int quoted = 0, angle = 0;
    for (; ps->p < ps->end; ps->p++) {
        char c = *ps->p;
        if (quoted && c == '\\' && ps->p + 1 < ps->end)
            ps->p++;
        else if (c == '"' && !angle)
            quoted = !quoted;
        else if (!quoted && c == '<')
            angle = 1;
        else if (!quoted && c == '>')
            angle = 0;
        else if (!quoted && !angle && c == ',')
            return;
    }
}

static int parse_all(parser *ps)
{
    while (ps->p < ps->end) {
        while (ps->p < ps->end && (is_ows(*ps->p) || *ps->p == ','))
            ps->p++;
        if (ps->p == ps->end)
            break;
        size_t str = ps->str.len, params = ps->params.len;
        raw_link l;
        int rc = parse_link(ps, &l);
        if (rc < 0)
            return rc;
        if (rc == 0) { /* forget what this link-value left behind */
            ps->str.len = str;
            ps->params.len = params;
            skip_link(ps);
        } else if (fh__buf_append(&ps->links, &l, sizeof l)) {
            return FH_ENOMEM;
        }
    }
    return FH_OK;
}

/* One block: the struct, the links, the params, the strings. */
static fh_links *assemble(const parser *ps)
{
    size_t nl = ps->links.len / sizeof(raw_link), np = ps->params.len / sizeof(raw_param);
    size_t size = sizeof(fh_links) + nl * sizeof(fh_link) + np * sizeof(fh_link_param);
    fh_links *l = malloc(size + ps->str.len + 1);
    if (!l)
        return NULL;
    fh_link *links = (fh_link *)(void *)(l + 1);
    fh_link_param *params = (fh_link_param *)(void *)(links + nl);
    char *str = (char *)(params + np);
    if (ps->str.len)
        memcpy(str, ps->str.data, ps->str.len);
    const raw_param *rp = (const raw_param *)(const void *)ps->params.data;
    for (size_t i = 0; i < np; i++)
        params[i] = (fh_link_param){str + rp[i].name, str + rp[i].value};
    const raw_link *rl = (const raw_link *)(const void *)ps->links.data;
    for (size_t i = 0; i < nl; i++)
        links[i] = (fh_link){str + rl[i].target, params + rl[i].first, rl[i].nparams};
    l->n = nl;
    l->links = links;
    return l;
}

int fh_links_parse(const char *value, size_t len, const char *base_url, fh_links **out)
{
    if (!out || (!value && len))
        return FH_EINVAL;
    *out = NULL;
    fh__url base;
    int has_base = base_url && fh__url_parse(&base, base_url, strlen(base_url), NULL) == FH_OK;
    parser ps = {value, value ? value + len : value, {0}, {0}, {0}, has_base ? &base : NULL};
    int rc = parse_all(&ps);
    if (rc == FH_OK && !(*out = assemble(&ps)))
        rc = FH_ENOMEM;
    fh__buf_free(&ps.str);
    fh__buf_free(&ps.params);
    fh__buf_free(&ps.links);
    if (has_base)
        fh__url_free(&base);
    return rc;
}

size_t fh_links_count(const fh_links *l)
{
    return l ? l->n : 0;
}

const fh_link *fh_links_at(const fh_links *l, size_t i)
{
    return l && i < l->n ? &l->links[i] : NULL;
}

void fh_links_free(fh_links *l)
{
    free(l);
}
