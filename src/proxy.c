/*
 * proxy.c — proxy URLs, NO_PROXY lists, CONNECT and SOCKS5 messages
 * (sans-IO; see proxy.h and docs/architecture.md, "Proxies and Unix
 * sockets"). The connection's I/O around these is proxy_conn.c.
 */
#include "proxy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "auth.h"
#include "fasthttp/errors.h"
#include "fasthttp/fasthttp.h"
#include "h1.h"
#include "url.h"

/* ---- proxy URLs ---------------------------------------------------------- */

static const struct {
    const char *scheme;
    int kind, port;
} schemes[] = {
    {"http", FH__PX_HTTP, 80},
    {"https", FH__PX_HTTPS, 443},
    {"socks5", FH__PX_SOCKS5, 1080},
    {"socks5h", FH__PX_SOCKS5H, 1080},
};

/* Whether the authority after "//" names a port: the URL parser fills in
 * the scheme's default, which for SOCKS (parsed as http) is not 1080. */
static int has_port(const char *auth, size_t len)
{
    size_t end = 0;
    while (end < len && auth[end] != '/' && auth[end] != '?' && auth[end] != '#')
        end++;
    size_t start = 0;
    for (size_t i = 0; i < end; i++)
        if (auth[i] == '@')
            start = i + 1;
    const char *h = auth + start;
    size_t n = end - start;
    if (n && h[0] == '[') {
        const char *rb = memchr(h, ']', n);
        return rb && (size_t)(rb - h) + 1 < n && rb[1] == ':';
    }
    return memchr(h, ':', n) != NULL;
}

/* The id of pool keys and messages: no password, but a hash of it so two
 * identities never share a key. */
static int make_id(fh__proxy *p, const char *scheme)
{
    char hash[20] = "";
    if (p->pass) {
        unsigned char md[SHA256_DIGEST_LENGTH];
        SHA256((const unsigned char *)p->pass, strlen(p->pass), md);
        snprintf(hash, sizeof hash, "#%02x%02x%02x%02x%02x%02x%02x%02x", md[0], md[1], md[2],
                 md[3], md[4], md[5], md[6], md[7]);
    }
    int v6 = strchr(p->host, ':') != NULL;
    size_t n = strlen(scheme) + (p->user ? strlen(p->user) : 0) + strlen(p->host) + 48;
    if (!(p->id = malloc(n)))
        return FH_ENOMEM;
    snprintf(p->id, n, "%s://%s%s%s%s%s:%d%s", scheme, p->user ? p->user : "",
             p->user ? "@" : "", v6 ? "[" : "", p->host, v6 ? "]" : "", p->port, hash);
    return FH_OK;
}

/* The URL with its scheme replaced by http(s) for the URL parser. */
static int parse_as_http(fh__url *u, int kind, const char *rest, size_t rlen, const char **why)
{
    const char *as = kind == FH__PX_HTTPS ? "https://" : "http://";
    size_t alen = strlen(as);
    char *tmp = malloc(alen + rlen + 1);
    if (!tmp)
        return FH_ENOMEM;
    memcpy(tmp, as, alen);
    memcpy(tmp + alen, rest, rlen);
    tmp[alen + rlen] = 0;
    int rc = fh__url_parse(u, tmp, alen + rlen, why);
    free(tmp);
    return rc;
}

static int fill(fh__proxy *p, fh__url *u, int kind, int port, const char **why)
{
    p->kind = kind;
    p->port = port;
    p->host_is_ip = u->host_is_ip;
    p->host = u->host;
    u->host = NULL;
    int rc = fh__url_credentials(u, &p->user, &p->pass, why);
    if (rc)
        return rc;
    if (p->user && !p->pass && !(p->pass = strdup("")))
        return FH_ENOMEM;
    if (p->user && (kind == FH__PX_HTTP || kind == FH__PX_HTTPS)) {
        fh__buf b = {0};
        rc = fh__auth_basic(&b, p->user, p->pass);
        if (rc == FH_OK && (rc = fh__buf_append(&b, "", 1)) == FH_OK)
            p->auth = (char *)b.data;
        else
            fh__buf_free(&b);
        if (rc) {
            *why = "the proxy's user name or password cannot be sent";
            return rc;
        }
    }
    return make_id(p, schemes[kind - 1].scheme);
}

int fh__proxy_parse(fh__proxy *p, const char *s, size_t len, const char **why)
{
    memset(p, 0, sizeof *p);
    *why = "not a proxy URL";
    const char *sep = len >= 3 ? memmem(s, len, "://", 3) : NULL;
    int kind = FH__PX_HTTP, port = 80;
    const char *rest = s;
    if (sep) {
        size_t sl = (size_t)(sep - s);
        kind = 0;
        for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
            if (strlen(schemes[i].scheme) == sl && strncasecmp(s, schemes[i].scheme, sl) == 0) {
                kind = schemes[i].kind;
                port = schemes[i].port;
            }
        if (!kind) {
            *why = "a proxy URL's scheme must be http, https, socks5 or socks5h";
            return FH_EUNSUPPORTED;
        }
        rest = sep + 3;
    }
    size_t rlen = len - (size_t)(rest - s);
    fh__url u = {0};
    int rc = parse_as_http(&u, kind, rest, rlen, why);
    if (rc == FH_OK && strcmp(u.target, "/") != 0) {
        *why = "a proxy URL has no path or query";
        rc = FH_EURL;
    }
    if (rc == FH_OK)
        rc = fill(p, &u, kind, has_port(rest, rlen) ? u.port : port, why);
    fh__url_free(&u);
    if (rc)
        fh__proxy_free(p);
    return rc;
}

static char *dup_or_null(const char *s, int *fail)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *fail = 1;
    return d;
}

int fh__proxy_copy(fh__proxy *dst, const fh__proxy *src)
{
    int fail = 0;
    *dst = *src;
    dst->host = dup_or_null(src->host, &fail);
    dst->user = dup_or_null(src->user, &fail);
    dst->pass = dup_or_null(src->pass, &fail);
    dst->auth = dup_or_null(src->auth, &fail);
    dst->id = dup_or_null(src->id, &fail);
    if (!fail)
        return FH_OK;
    fh__proxy_free(dst);
    return FH_ENOMEM;
}

static void free_secret(char *s)
{
    if (s)
        OPENSSL_cleanse(s, strlen(s));
    free(s);
}

void fh__proxy_free(fh__proxy *p)
{
    if (!p)
        return;
    free(p->host);
    free(p->user);
    free_secret(p->pass);
    free_secret(p->auth);
    free(p->id);
    memset(p, 0, sizeof *p);
}

/* ---- NO_PROXY ------------------------------------------------------------ */

/* "a.b.c.d[/bits]" or an IPv6 literal "x::y[/bits]" (brackets already
 * removed): 1 with e filled, 0 when it is not one. */
static int parse_ip(fh__noproxy_entry *e, const char *s, size_t n)
{
    char tmp[64];
    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;
    if (alen == 0 || alen >= sizeof tmp)
        return 0;
    memcpy(tmp, s, alen);
    tmp[alen] = 0;
    if (inet_pton(AF_INET, tmp, e->addr) == 1)
        e->family = AF_INET;
    else if (inet_pton(AF_INET6, tmp, e->addr) == 1)
        e->family = AF_INET6;
    else
        return 0;
    int max = e->family == AF_INET ? 32 : 128;
    e->bits = max;
    if (slash) {
        const char *b = slash + 1;
        size_t bl = n - alen - 1;
        if (bl == 0 || bl > 3)
            return 0;
        int v = 0;
        for (size_t i = 0; i < bl; i++) {
            if (!isdigit((unsigned char)b[i]))
                return 0;
            v = v * 10 + (b[i] - '0');
        }
        if (v > max)
            return 0;
        e->bits = v;
    }
    e->ip = 1;
    return 1;
}

/* ":port" at the end of s[0..*n): the port (1..65535) with *n shortened,
 * 0 when there is none, -1 when it is malformed. */
static int cut_port(const char *s, size_t *n)
{
    const char *colon = NULL;
    for (size_t i = *n; i > 0; i--)
        if (s[i - 1] == ':') {
            colon = s + i - 1;
            break;
        }
    if (!colon)
        return 0;
    size_t dl = *n - (size_t)(colon - s) - 1;
    if (dl == 0 || dl > 5)
        return -1;
    int v = 0;
    for (size_t i = 0; i < dl; i++) {
        if (!isdigit((unsigned char)colon[1 + i]))
            return -1;
        v = v * 10 + (colon[1 + i] - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    *n = (size_t)(colon - s);
    return v;
}

static int valid_name(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!(isalnum(ch) || ch == '-' || ch == '.' || ch == '_'))
            return 0;
    }
    return n > 0;
}

/* One entry: 1 when e was filled, 0 to skip it, FH_ENOMEM. */
static int parse_entry(fh__noproxy_entry *e, const char *s, size_t n)
{
    memset(e, 0, sizeof *e);
    if (n && s[0] == '[') { /* [v6] or [v6]:port or [v6/bits] */
        const char *rb = memchr(s, ']', n);
        if (!rb)
            return 0;
        size_t rest = n - (size_t)(rb - s) - 1;
        if (rest) {
            size_t pn = rest;
            int port = cut_port(rb + 1, &pn);
            if (port <= 0 || pn != 0)
                return 0;
            e->port = port;
        }
        return parse_ip(e, s + 1, (size_t)(rb - s) - 1) && e->family == AF_INET6;
    }
    if (parse_ip(e, s, n))
        return 1; /* a bare IPv6 literal or an IPv4 one, no port */
    size_t hn = n;
    int port = cut_port(s, &hn);
    if (port < 0)
        return 0;
    e->port = port;
    if (port && parse_ip(e, s, hn))
        return e->family == AF_INET;
    if (hn >= 2 && s[0] == '*' && s[1] == '.') {
        s += 2;
        hn -= 2;
    }
    while (hn && s[0] == '.') {
        s++;
        hn--;
    }
    while (hn && s[hn - 1] == '.')
        hn--;
    if (!valid_name(s, hn))
        return 0;
    if (!(e->name = strndup(s, hn)))
        return FH_ENOMEM;
    for (char *p = e->name; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return 1;
}

int fh__noproxy_parse(fh__noproxy *np, const char *s, size_t len)
{
    memset(np, 0, sizeof *np);
    size_t i = 0;
    while (i < len) {
        while (i < len && (s[i] == ',' || isspace((unsigned char)s[i])))
            i++;
        size_t start = i;
        while (i < len && s[i] != ',' && !isspace((unsigned char)s[i]))
            i++;
        size_t n = i - start;
        if (!n)
            continue;
        if (n == 1 && s[start] == '*') {
            np->all = 1;
            continue;
        }
        fh__noproxy_entry *v = realloc(np->v, (np->n + 1) * sizeof *v);
        if (!v) {
            fh__noproxy_free(np);
            return FH_ENOMEM;
        }
        np->v = v;
        int rc = parse_entry(&v[np->n], s + start, n);
        if (rc < 0) {
            fh__noproxy_free(np);
            return rc;
        }
        np->n += (size_t)rc;
    }
    return FH_OK;
}

void fh__noproxy_free(fh__noproxy *np)
{
    for (size_t i = 0; i < np->n; i++)
        free(np->v[i].name);
    free(np->v);
    memset(np, 0, sizeof *np);
}

static int prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)whole) != 0)
        return 0;
    if (!rest)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

/* A host name matches an entry naming it or one of its parent domains. */
static int name_match(const char *host, size_t hl, const char *name)
{
    size_t nl = strlen(name);
    if (hl == nl)
        return memcmp(host, name, nl) == 0;
    return hl > nl && host[hl - nl - 1] == '.' && memcmp(host + hl - nl, name, nl) == 0;
}

int fh__noproxy_match(const fh__noproxy *np, const char *host, int port)
{
    if (!np)
        return 0;
    if (np->all)
        return 1;
    unsigned char addr[16];
    int family = 0;
    if (inet_pton(AF_INET, host, addr) == 1)
        family = AF_INET;
    else if (inet_pton(AF_INET6, host, addr) == 1)
        family = AF_INET6;
    size_t hl = strlen(host);
    while (hl && host[hl - 1] == '.')
        hl--;
    for (size_t i = 0; i < np->n; i++) {
        const fh__noproxy_entry *e = &np->v[i];
        if (e->port && e->port != port)
            continue;
        if (e->ip ? family == e->family && prefix_match(addr, e->addr, e->bits)
                  : !family && name_match(host, hl, e->name))
            return 1;
    }
    return 0;
}

/* ---- CONNECT ------------------------------------------------------------- */

int fh__proxy_connect_request(fh__buf *out, const char *host, int port, const fh__proxy *p)
{
    char line[600];
    int v6 = strchr(host, ':') != NULL;
    int n = snprintf(line, sizeof line, "%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", port);
    if (n < 0 || (size_t)n >= sizeof line)
        return FH_EURL;
    /* RFC 9110 §9.3.6: the target is the authority-form, and so is Host
     * (RFC 9112 §3.2). */
    int rc = fh__buf_append_str(out, "CONNECT ");
    if (!rc)
        rc = fh__buf_append(out, line, (size_t)n);
    if (!rc)
        rc = fh__buf_append_str(out, " HTTP/1.1\r\nHost: ");
    if (!rc)
        rc = fh__buf_append(out, line, (size_t)n);
    if (!rc && p && p->auth) {
        rc = fh__buf_append_str(out, "\r\nProxy-Authorization: ");
        if (!rc)
            rc = fh__buf_append_str(out, p->auth);
    }
    if (!rc)
        rc = fh__buf_append_str(out, "\r\nUser-Agent: fasthttp/" FH_VERSION_STRING "\r\n\r\n");
    return rc;
}

int fh__proxy_connect_reply(const char *buf, size_t len, size_t *scan, int *status,
                            const char **why)
{
    /* A proxy's answer is small; these bounds refuse a proxy that streams
     * an endless head. */
    static const fh__h1_limits lim = {8192, 16384, 64, 0};
    fh_header hdrs[64];
    fh__h1_head h = {0};
    int rc = fh__h1_parse_head(buf, len, scan, &lim, 1, hdrs, 64, &h);
    if (rc == FH_EAGAIN)
        return rc;
    if (rc < 0) {
        *why = h.why ? h.why : "malformed reply";
        return FH_EPROTO;
    }
    *status = h.status;
    return rc;
}

/* ---- SOCKS5 -------------------------------------------------------------- */

size_t fh__socks5_greeting(uint8_t out[4], int auth)
{
    /* VER, NMETHODS, METHODS (RFC 1928 §3): 0x00 no authentication,
     * 0x02 username/password (RFC 1929). */
    out[0] = 5;
    out[1] = auth ? 2 : 1;
    out[2] = 0;
    if (!auth)
        return 3;
    out[3] = 2;
    return 4;
}

int fh__socks5_method(const uint8_t *in, size_t len, int auth, int *method, const char **why)
{
    if (len < 2)
        return FH_EAGAIN;
    if (in[0] != 5) {
        *why = "the SOCKS proxy answered with a version other than 5";
        return FH_EPROXY;
    }
    if (in[1] == 0xff) { /* §3: NO ACCEPTABLE METHODS */
        *why = auth ? "the SOCKS5 proxy accepts neither no authentication nor a user name "
                      "and password"
                    : "the SOCKS5 proxy requires authentication and the proxy URL has no "
                      "credentials";
        return FH_EPROXY;
    }
    if (in[1] != 0 && !(auth && in[1] == 2)) {
        *why = "the SOCKS5 proxy chose an authentication method that was not offered";
        return FH_EPROXY;
    }
    *method = in[1];
    return 2;
}

int fh__socks5_auth_request(fh__buf *out, const char *user, const char *pass)
{
    size_t ul = strlen(user), pl = strlen(pass);
    if (ul == 0 || ul > 255 || pl > 255)
        return FH_EINVAL;
    /* VER 1, ULEN, UNAME, PLEN, PASSWD (RFC 1929 §2) */
    uint8_t u = (uint8_t)ul, p = (uint8_t)pl, v = 1;
    int rc = fh__buf_append(out, &v, 1);
    if (!rc)
        rc = fh__buf_append(out, &u, 1);
    if (!rc)
        rc = fh__buf_append(out, user, ul);
    if (!rc)
        rc = fh__buf_append(out, &p, 1);
    if (!rc)
        rc = fh__buf_append(out, pass, pl);
    return rc;
}

int fh__socks5_auth_reply(const uint8_t *in, size_t len, const char **why)
{
    if (len < 2)
        return FH_EAGAIN;
    if (in[0] != 1) {
        *why = "malformed reply to the SOCKS5 user name and password";
        return FH_EPROXY;
    }
    if (in[1] != 0) { /* RFC 1929 §2: any other status is a failure */
        *why = "the SOCKS5 proxy rejected the user name and password";
        return FH_EPROXY;
    }
    return 2;
}

int fh__socks5_connect_request(fh__buf *out, const char *name, const uint8_t *addr,
                               size_t alen, int port)
{
    /* VER 5, CMD 1 (CONNECT), RSV, ATYP, DST.ADDR, DST.PORT (§4) */
    uint8_t head[5] = {5, 1, 0, 0, 0};
    size_t hl = 4;
    if (!addr) {
        size_t nl = strlen(name);
        if (nl == 0 || nl > 255)
            return FH_EINVAL;
        head[3] = 3;
        head[4] = (uint8_t)nl;
        hl = 5;
        addr = (const uint8_t *)name;
        alen = nl;
    } else if (alen == 4 || alen == 16) {
        head[3] = alen == 4 ? 1 : 4;
    } else {
        return FH_EINVAL;
    }
    uint8_t pb[2] = {(uint8_t)(port >> 8), (uint8_t)port};
    int rc = fh__buf_append(out, head, hl);
    if (!rc)
        rc = fh__buf_append(out, addr, alen);
    if (!rc)
        rc = fh__buf_append(out, pb, 2);
    return rc;
}

int fh__socks5_reply(const uint8_t *in, size_t len, int *rep, const char **why)
{
    /* VER, REP, RSV, ATYP, BND.ADDR, BND.PORT (§6) */
    if (len < 5)
        return FH_EAGAIN;
    if (in[0] != 5) {
        *why = "the SOCKS proxy answered with a version other than 5";
        return FH_EPROXY;
    }
    size_t alen;
    switch (in[3]) {
    case 1: alen = 4; break;
    case 4: alen = 16; break;
    case 3: alen = 1 + (size_t)in[4]; break;
    default:
        *why = "the SOCKS5 proxy's reply has an unknown address type";
        return FH_EPROXY;
    }
    size_t need = 4 + alen + 2;
    if (len < need)
        return FH_EAGAIN;
    *rep = in[1];
    return (int)need;
}

const char *fh__socks5_rep_text(int rep)
{
    static const char *const text[] = {
        "succeeded",
        "general SOCKS server failure",
        "connection not allowed by ruleset",
        "network unreachable",
        "host unreachable",
        "connection refused",
        "TTL expired",
        "command not supported",
        "address type not supported",
    };
    if (rep >= 0 && rep < (int)(sizeof text / sizeof text[0]))
        return text[rep];
    return "unassigned reply code";
}
