/*
 * url.c — parsing of absolute http/https URLs (RFC 3986), sans-IO.
 *
 * The parser is deliberately strict: a URL that two programs could read two
 * ways (a numeric host that is not a dotted quad, a second '@', a
 * backslash, control bytes) is rejected rather than guessed at, because the
 * host decides where credentials and cookies go.
 */
#include "url.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* fasthttp.h declares fh_url_redact() with FH_EXTERN: without it here the
 * definition would be compiled hidden and missing from libfasthttp.so. */
#include "fasthttp/fasthttp.h"

/* Longest DNS name (RFC 1035 §2.3.4: 253 characters plus a final dot). */
#define FH_URL_MAX_HOST 254

static const char hexdig[] = "0123456789ABCDEF";

static int fail(const char **why, const char *msg, int code)
{
    if (why)
        *why = msg;
    return code;
}

static int is_alpha(unsigned char c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_hex(unsigned char c)
{
    return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
}

static char *dup_lower(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    for (size_t i = 0; i < n; i++)
        p[i] = lower(s[i]);
    p[n] = '\0';
    return p;
}

/* Controls are never valid in a URI (RFC 3986 §2) and stay refused, CR
 * and LF above all (request splitting). A backslash is read as '/' by
 * browsers (WHATWG), so accepting it would let the host we connect to
 * differ from the one a user sees. Spaces are judged later: refused up to
 * the end of the authority, percent-encoded after it. */
static int check_bytes(const char *s, size_t len, const char **why)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        /* NUL gets its own message: in C it would end the string early,
         * so a caller reading it as "truncated" must learn it was refused. */
        if (c == 0)
            return fail(why, "URL contains a NUL character", FH_EURL);
        if (c < 0x20 || c == 0x7f)
            return fail(why, "URL contains a space or control character", FH_EURL);
        if (c == '\\')
            return fail(why, "URL contains a backslash", FH_EURL);
    }
    return FH_OK;
}

/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1),
 * compared case-insensitively. Sets *pos past the ':'. */
static int parse_scheme(fh__url *u, const char *s, size_t len, size_t *pos,
                        const char **why)
{
    size_t i = 0;
    while (i < len && (is_alpha((unsigned char)s[i]) || (i > 0 && (is_digit((unsigned char)s[i])
                       || s[i] == '+' || s[i] == '-' || s[i] == '.'))))
        i++;
    if (i == 0 || i == len || s[i] != ':')
        return fail(why, "URL has no scheme", FH_EURL);
    if (i == 4 && strncasecmp(s, "http", 4) == 0)
        u->tls = 0;
    else if (i == 5 && strncasecmp(s, "https", 5) == 0)
        u->tls = 1;
    else
        return fail(why, "URL scheme must be http or https", FH_EUNSUPPORTED);
    *pos = i + 1;
    return FH_OK;
}

/* userinfo = *( unreserved / pct-encoded / sub-delims / ":" ) (RFC 3986
 * §3.2.1). A second '@' is rejected here: parsers disagree on which '@'
 * ends the userinfo, and the disagreement is a classic host confusion. */
static int check_userinfo(const char *s, size_t n, const char **why)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n || !is_hex((unsigned char)s[i + 1])
                || !is_hex((unsigned char)s[i + 2]))
                return fail(why, "invalid user information in URL", FH_EURL);
            i += 2;
            continue;
        }
        if (is_alpha(c) || is_digit(c) || strchr("-._~!$&'()*+,;=:", c))
            continue;
        return fail(why, "invalid user information in URL", FH_EURL);
    }
    return FH_OK;
}

/* port = *DIGIT (RFC 3986 §3.2.3); empty means the scheme's default. */
static int parse_port(fh__url *u, const char *s, size_t n, const char **why)
{
    long v = 0;
    if (n == 0) {
        u->port = u->tls ? 443 : 80;
        return FH_OK;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[i]))
            return fail(why, "invalid port in URL", FH_EURL);
        v = v * 10 + (s[i] - '0');
        if (v > 65535)
            return fail(why, "invalid port in URL", FH_EURL);
    }
    if (v == 0)
        return fail(why, "invalid port in URL", FH_EURL);
    u->port = (int)v;
    return FH_OK;
}

/* IP-literal = "[" IPv6address "]" (RFC 3986 §3.2.2). IPvFuture and zone
 * ids (RFC 6874) are not accepted: inet_pton rejects them. */
static int parse_ipv6(fh__url *u, const char *s, size_t n, const char **why)
{
    char tmp[INET6_ADDRSTRLEN];
    unsigned char bin[16];
    if (n == 0)
        return fail(why, "URL has no host", FH_EURL);
    if (n >= sizeof tmp)
        return fail(why, "invalid IPv6 address in URL", FH_EURL);
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (inet_pton(AF_INET6, tmp, bin) != 1)
        return fail(why, "invalid IPv6 address in URL", FH_EURL);
    u->host_is_ip = 1;
    u->host = dup_lower(s, n);
    return u->host ? FH_OK : fail(why, "out of memory", FH_ENOMEM);
}

/* A host whose last label is numeric (decimal or 0x-hex) would be read as
 * an IPv4 address by inet_aton-style resolvers ("127.1", "0x7f.1"), so it
 * must be a plain dotted quad or it is rejected (cf. WHATWG URL §3.5). */
static int last_label_numeric(const char *s, size_t n)
{
    if (n > 0 && s[n - 1] == '.')
        n--;
    size_t b = n;
    while (b > 0 && s[b - 1] != '.')
        b--;
    const char *l = s + b;
    size_t ln = n - b, i = 0;
    if (ln == 0)
        return 0;
    if (ln >= 2 && l[0] == '0' && (l[1] | 0x20) == 'x')
        for (i = 2; i < ln && is_hex((unsigned char)l[i]); i++)
            ;
    else
        for (i = 0; i < ln && is_digit((unsigned char)l[i]); i++)
            ;
    return i == ln;
}

static int parse_ipv4(fh__url *u, const char *s, size_t n, const char **why)
{
    char tmp[INET_ADDRSTRLEN];
    unsigned char bin[4];
    if (n >= sizeof tmp)
        return fail(why, "invalid IPv4 address in URL", FH_EURL);
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    /* glibc's inet_pton takes only four decimal octets without leading
     * zeros, which is exactly the RFC 3986 §3.2.2 dec-octet grammar. */
    if (inet_pton(AF_INET, tmp, bin) != 1)
        return fail(why, "invalid IPv4 address in URL", FH_EURL);
    u->host_is_ip = 1;
    u->host = dup_lower(s, n);
    return u->host ? FH_OK : fail(why, "out of memory", FH_ENOMEM);
}

/* reg-name restricted to what DNS can carry: letters, digits, '-', '.',
 * '_'. Percent-encoding is refused (a host that two parsers could decode
 * two ways decides where credentials go). Empty labels other than a final
 * root dot are refused too. */
static int parse_ascii_host(fh__url *u, const char *s, size_t n, const char **why)
{
    if (n == 0)
        return fail(why, "URL has no host", FH_EURL);
    if (n > FH_URL_MAX_HOST)
        return fail(why, "URL host name too long", FH_EURL);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_'))
            return fail(why, "invalid character in URL host", FH_EURL);
        if (c == '.' && (i == 0 || s[i - 1] == '.'))
            return fail(why, "invalid character in URL host", FH_EURL);
    }
    if (last_label_numeric(s, n))
        return parse_ipv4(u, s, n, why);
    u->host = dup_lower(s, n);
    return u->host ? FH_OK : fail(why, "out of memory", FH_ENOMEM);
}

/* An internationalised domain name (bytes >= 0x80, read as UTF-8) becomes
 * its A-label form (RFC 5890 §2.3.2.1) the way browsers do it: UTS #46
 * non-transitional processing (case folding, U+3002 and other full stops
 * mapped to '.', NFC) then IDNA2008 (RFC 5891), by libidn2. The result
 * must then pass the ASCII rules like any other host. */
static int parse_idn(fh__url *u, const char *s, size_t n, const char **why)
{
    char tmp[4 * FH_URL_MAX_HOST + 1];
    if (n >= sizeof tmp)
        return fail(why, "URL host name too long", FH_EURL);
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *ascii = NULL;
    int rc = idn2_to_ascii_8z(tmp, &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc == IDN2_MALLOC)
        return fail(why, "out of memory", FH_ENOMEM);
    if (rc != IDN2_OK) {
        idn2_free(ascii);
        return fail(why, "invalid international domain name in URL host (IDNA)", FH_EURL);
    }
    rc = parse_ascii_host(u, ascii, strlen(ascii), why);
    idn2_free(ascii);
    if (rc == FH_OK && u->host_is_ip) /* a full-width "１２７.０.０.１" */
        return fail(why, "invalid international domain name in URL host (IDNA)", FH_EURL);
    u->idn = rc == FH_OK;
    return rc;
}

static int parse_regname(fh__url *u, const char *s, size_t n, const char **why)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return parse_idn(u, s, n, why);
    return parse_ascii_host(u, s, n, why);
}

/* authority = [ userinfo "@" ] host [ ":" port ] (RFC 3986 §3.2). *host_at
 * and *host_len tell where the host is written (brackets included). */
static int parse_authority(fh__url *u, const char *s, size_t n, size_t *host_at,
                           size_t *host_len, const char **why)
{
    const char *start = s;
    const char *at = NULL;
    for (size_t i = n; i > 0 && !at; i--)
        if (s[i - 1] == '@')
            at = s + i - 1;       /* the last '@': any earlier one is refused */
    if (at) {
        size_t un = (size_t)(at - s);
        int rc = check_userinfo(s, un, why);
        if (rc)
            return rc;
        if (un > 0 && !(u->userinfo = strndup(s, un)))
            return fail(why, "out of memory", FH_ENOMEM);
        n -= un + 1;
        s = at + 1;
    }
    size_t hn;
    int rc;
    if (n > 0 && s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        if (!rb)
            return fail(why, "invalid IPv6 address in URL", FH_EURL);
        hn = (size_t)(rb - s) + 1;
        if (hn < n && s[hn] != ':')
            return fail(why, "invalid port in URL", FH_EURL);
        rc = parse_ipv6(u, s + 1, hn - 2, why);
    } else {
        const char *colon = memchr(s, ':', n);
        hn = colon ? (size_t)(colon - s) : n;
        rc = parse_regname(u, s, hn, why);
    }
    if (rc)
        return rc;
    *host_at = (size_t)(s - start);
    *host_len = hn;
    if (hn == n)
        return parse_port(u, s, 0, why);
    return parse_port(u, s + hn + 1, n - hn - 1, why);
}

/* Bytes of a path, query or fragment that are percent-encoded as they are
 * (UTF-8 octets, RFC 3986 §2.1, §2.5): a space, which a user types and a
 * browser or httpx encodes (WHATWG URL: path and query percent-encode
 * sets), and every byte >= 0x80. Every other byte is passed unchanged. */
static int needs_pct(unsigned char c)
{
    return c == ' ' || c >= 0x80;
}

static size_t put_encoded(char *t, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (needs_pct(c)) {
            t[o++] = '%';
            t[o++] = hexdig[c >> 4];
            t[o++] = hexdig[c & 15];
        } else {
            t[o++] = (char)c;
        }
    }
    return o;
}

static size_t encoded_len(const char *s, size_t n)
{
    size_t extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += needs_pct((unsigned char)s[i]) ? 2 : 0;
    return n + extra;
}

/* origin-form = absolute-path [ "?" query ] (RFC 9112 §3.2.1); an empty
 * path is sent as "/" (RFC 9110 §4.2.1 / §7.1). The fragment is never
 * sent (RFC 9110 §7.1). */
static int build_target(fh__url *u, const char *s, size_t n, const char **why)
{
    const char *hash = memchr(s, '#', n);
    if (hash)
        n = (size_t)(hash - s);
    char *t = malloc(encoded_len(s, n) + 2);
    if (!t)
        return fail(why, "out of memory", FH_ENOMEM);
    size_t o = 0;
    if (n == 0 || s[0] != '/')
        t[o++] = '/';
    o += put_encoded(t + o, s, n);
    t[o] = '\0';
    u->target = t;
    return FH_OK;
}

/* The URL as used: s[0, hs) + host + s[he, rest) + the rest encoded, where
 * [hs, he) is the host as written and is replaced only for an IDN. */
static int build_href(fh__url *u, const char *s, size_t len, size_t hs, size_t he, size_t rest,
                      const char **why)
{
    const char *host = u->idn ? u->host : s + hs;
    size_t hn = u->idn ? strlen(u->host) : he - hs;
    char *h = malloc(hs + hn + (rest - he) + encoded_len(s + rest, len - rest) + 1);
    if (!h)
        return fail(why, "out of memory", FH_ENOMEM);
    memcpy(h, s, hs);
    memcpy(h + hs, host, hn);
    memcpy(h + hs + hn, s + he, rest - he);
    size_t o = hs + hn + (rest - he);
    o += put_encoded(h + o, s + rest, len - rest);
    h[o] = '\0';
    u->href = h;
    return FH_OK;
}

/* Writes port in decimal at p and returns the end. By hand, as snprintf
 * costs more than the rest of a request's URL work (every request parses
 * its URL). */
static char *put_port(char *p, int port)
{
    char d[8];
    int n = 0;
    do
        d[n++] = (char)('0' + port % 10);
    while ((port /= 10) > 0 && n < (int)sizeof d);
    while (n > 0)
        *p++ = d[--n];
    return p;
}

/* Host header value (RFC 9110 §7.2): the port only when not the default. */
static int build_authority(fh__url *u, const char **why)
{
    int dflt = u->tls ? 443 : 80;
    int v6 = strchr(u->host, ':') != NULL;
    size_t hlen = strlen(u->host);
    char *a = malloc(hlen + 2 + 7), *p = a;
    if (!a)
        return fail(why, "out of memory", FH_ENOMEM);
    if (v6)
        *p++ = '[';
    memcpy(p, u->host, hlen);
    p += hlen;
    if (v6)
        *p++ = ']';
    if (u->port != dflt) {
        *p++ = ':';
        p = put_port(p, u->port);
    }
    *p = '\0';
    u->authority = a;
    return FH_OK;
}

char *fh__url_pool_key(const fh__url *u)
{
    const char *scheme = u->tls ? "https://" : "http://";
    size_t slen = u->tls ? 8 : 7, hlen = strlen(u->host);
    char *key = malloc(slen + hlen + 8), *p = key;
    if (!key)
        return NULL;
    memcpy(p, scheme, slen);
    p += slen;
    memcpy(p, u->host, hlen);
    p += hlen;
    *p++ = ':';
    p = put_port(p, u->port);
    *p = '\0';
    return key;
}

/* Where the path (or query, or fragment) starts: after "scheme://" and the
 * authority; len when there is no "://" (then nothing is a path). */
static size_t path_start(const char *s, size_t len)
{
    size_t i = 0;
    while (i + 2 < len && !(s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/'))
        i++;
    if (i + 2 >= len)
        return len;
    for (i += 3; i < len && s[i] != '/' && s[i] != '?' && s[i] != '#'; i++)
        ;
    return i;
}

int fh__url_parse(fh__url *u, const char *s, size_t len, const char **why)
{
    size_t pos = 0;
    memset(u, 0, sizeof *u);
    if (!s)
        return fail(why, "URL has no scheme", FH_EURL);
    int rc = check_bytes(s, len, why);
    /* A space cannot be part of a scheme, userinfo, host or port. */
    if (!rc && memchr(s, ' ', path_start(s, len)))
        rc = fail(why, "URL contains a space or control character", FH_EURL);
    if (!rc)
        rc = parse_scheme(u, s, len, &pos, why);
    /* hier-part must be "//" authority for http(s) (RFC 9110 §4.2.1). */
    if (!rc && (len - pos < 2 || s[pos] != '/' || s[pos + 1] != '/'))
        rc = fail(why, "URL has no host", FH_EURL);
    size_t a = pos + 2, e = a, hat = 0, hlen = 0;
    while (!rc && e < len && s[e] != '/' && s[e] != '?' && s[e] != '#')
        e++;
    if (!rc)
        rc = parse_authority(u, s + a, e - a, &hat, &hlen, why);
    if (!rc)
        rc = build_target(u, s + e, len - e, why);
    if (!rc)
        rc = build_authority(u, why);
    if (!rc)
        rc = build_href(u, s, len, a + hat, a + hat + hlen, e, why);
    if (rc)
        fh__url_free(u);
    return rc;
}

void fh__url_free(fh__url *u)
{
    if (!u)
        return;
    free(u->host);
    free(u->target);
    free(u->authority);
    free(u->userinfo);
    free(u->href);
    memset(u, 0, sizeof *u);
}

/* ---- credentials in the URL ---------------------------------------------- */

static int hexval(unsigned char c)
{
    return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Percent-decodes n bytes (validated by check_userinfo) into a new string.
 * Control bytes in the result are refused: they could not travel in a
 * credential, and NUL would silently shorten it. */
static int decode_part(const char *s, size_t n, char **out, const char **why)
{
    char *d = malloc(n + 1);
    size_t o = 0;
    if (!d)
        return fail(why, "out of memory", FH_ENOMEM);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && i + 2 < n) { /* check_userinfo saw two hex digits */
            c = (unsigned char)(hexval((unsigned char)s[i + 1]) << 4 |
                                hexval((unsigned char)s[i + 2]));
            i += 2;
        }
        if (c < 0x20 || c == 0x7f) {
            free(d);
            return fail(why, "user information in URL contains a control character", FH_EURL);
        }
        d[o++] = (char)c;
    }
    d[o] = '\0';
    *out = d;
    return FH_OK;
}

int fh__url_credentials(const fh__url *u, char **user, char **pass, const char **why)
{
    *user = *pass = NULL;
    if (!u->userinfo)
        return FH_OK;
    const char *s = u->userinfo, *colon = strchr(s, ':');
    size_t un = colon ? (size_t)(colon - s) : strlen(s);
    int rc = decode_part(s, un, user, why);
    if (rc == FH_OK && colon)
        rc = decode_part(colon + 1, strlen(colon + 1), pass, why);
    /* RFC 7617 §2: a Basic user-id cannot contain ':' (it ends the user). */
    if (rc == FH_OK && strchr(*user, ':'))
        rc = fail(why, "user name in URL contains ':'", FH_EURL);
    if (rc != FH_OK) {
        free(*user);
        free(*pass);
        *user = *pass = NULL;
    }
    return rc;
}

/* The span [*a, *e) of "userinfo@" in s: after "scheme://", or from the
 * start when there is no "://" (curl reads "user:pass@host/" that way, and
 * a message must not show it either). The userinfo ends at the last '@'
 * before the path, as in parse_authority. */
static int userinfo_span(const char *s, size_t len, size_t *a, size_t *e)
{
    size_t start = 0;
    for (size_t i = 0; i + 3 <= len; i++) {
        if (s[i] == '/' || s[i] == '?' || s[i] == '#' || s[i] == '@')
            break; /* no scheme before the authority */
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
            start = i + 3;
            break;
        }
    }
    size_t end = start;
    while (end < len && s[end] != '/' && s[end] != '?' && s[end] != '#')
        end++;
    size_t at = end;
    while (at > start && s[at - 1] != '@')
        at--;
    if (at == start)
        return 0;
    *a = start;
    *e = at; /* just past the '@' */
    return 1;
}

char *fh__url_strip_userinfo(const char *s, size_t len)
{
    size_t a = 0, e = 0;
    int has = userinfo_span(s, len, &a, &e);
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    if (has) {
        memcpy(out, s, a);
        memcpy(out + a, s + e, len - e);
        out[len - (e - a)] = '\0';
    } else {
        memcpy(out, s, len);
        out[len] = '\0';
    }
    return out;
}

/* Appends n bytes at *o, writing only what fits before the final NUL. */
static void put_clipped(char *out, size_t cap, size_t *o, const char *p, size_t n)
{
    if (n && *o + 1 < cap) {
        size_t room = cap - 1 - *o;
        memcpy(out + *o, p, n < room ? n : room);
    }
    *o += n;
}

size_t fh_url_redact(const char *url, size_t len, char *out, size_t cap)
{
    size_t a = 0, e = 0, o = 0;
    if (!url)
        len = 0;
    if (len && userinfo_span(url, len, &a, &e)) {
        /* The user name stays when a password follows it; a lone user name
         * is often a token (https://TOKEN@host/) and is hidden as a
         * password is. */
        const char *colon = memchr(url + a, ':', e - 1 - a);
        size_t keep = colon ? (size_t)(colon - url) + 1 : a;
        put_clipped(out, cap, &o, url, keep);
        put_clipped(out, cap, &o, "***", 3);
        put_clipped(out, cap, &o, url + e - 1, len - (e - 1)); /* from the '@' on */
    } else {
        put_clipped(out, cap, &o, url, len);
    }
    if (cap)
        out[o < cap ? o : cap - 1] = '\0';
    return o;
}
