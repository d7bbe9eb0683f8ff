/*
 * fuzz_proxy.c — libFuzzer target for the proxy parsers (src/proxy.c): the
 * reply to CONNECT (RFC 9110 §9.3.6), the SOCKS5 method choice, the RFC
 * 1929 status and the CONNECT reply (RFC 1928 §6), proxy URLs and NO_PROXY
 * lists with their matching.
 *
 * The first input byte picks the parser; the rest is the input, handed over
 * as a length-delimited copy so ASan sees any read past it. Checked: nothing
 * crashes or leaks; a complete answer never claims more bytes than it was
 * given; the CONNECT reply gives the same result fed whole and fed at a
 * split point (incremental parsing); a parsed proxy URL has a host, a port
 * in range and an id without its password; a NO_PROXY list of "*" matches.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fasthttp/errors.h"
#include "proxy.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

static void connect_reply(const uint8_t *d, size_t n)
{
    size_t scan = 0;
    int status = 0;
    const char *why = NULL;
    int whole = fh__proxy_connect_reply((const char *)d, n, &scan, &status, &why);
    check(whole == FH_EAGAIN || whole == FH_EPROTO || (whole > 0 && (size_t)whole <= n));
    if (whole > 0)
        check(status >= 100 && status <= 999);
    /* The same bytes in two pieces. */
    size_t cut = n ? d[0] % (n + 1) : 0;
    size_t scan2 = 0;
    int status2 = 0;
    int first = fh__proxy_connect_reply((const char *)d, cut, &scan2, &status2, &why);
    int second = first == FH_EAGAIN
                     ? fh__proxy_connect_reply((const char *)d, n, &scan2, &status2, &why)
                     : first;
    if (first == FH_EAGAIN)
        check(second == whole && (whole <= 0 || status2 == status));
}

static void socks(const uint8_t *d, size_t n)
{
    int method = -1, rep = -1;
    const char *why = NULL;
    int rc = fh__socks5_method(d, n, n & 1, &method, &why);
    check(rc == FH_EAGAIN || rc == FH_EPROXY || (rc == 2 && (method == 0 || method == 2)));
    rc = fh__socks5_auth_reply(d, n, &why);
    check(rc == FH_EAGAIN || rc == FH_EPROXY || rc == 2);
    rc = fh__socks5_reply(d, n, &rep, &why);
    check(rc == FH_EAGAIN || rc == FH_EPROXY || (rc > 0 && (size_t)rc <= n && rep >= 0));
    if (rc > 0)
        check(fh__socks5_rep_text(rep) != NULL);
}

static void proxy_url(const char *s, size_t n)
{
    fh__proxy p;
    const char *why = NULL;
    if (fh__proxy_parse(&p, s, n, &why) == FH_OK) {
        check(p.host && *p.host && p.port > 0 && p.port <= 65535 && p.id);
        if (p.pass && *p.pass) { /* the id never carries "user:password@" */
            size_t k = strlen(p.user) + strlen(p.pass) + 3;
            char *up = malloc(k);
            check(up != NULL);
            strcpy(up, p.user);
            strcat(up, ":");
            strcat(up, p.pass);
            strcat(up, "@");
            check(strstr(p.id, up) == NULL);
            free(up);
        }
        fh__proxy q;
        check(fh__proxy_copy(&q, &p) == FH_OK && strcmp(q.id, p.id) == 0);
        fh__proxy_free(&q);
    }
    fh__proxy_free(&p);
}

static void no_proxy(const char *s, size_t n)
{
    fh__noproxy np;
    if (fh__noproxy_parse(&np, s, n) != FH_OK)
        return;
    static const char *const hosts[] = {"example.com", "a.example.com", "127.0.0.1", "::1",
                                        "10.1.2.3", "fd00::1", "localhost"};
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        int m = fh__noproxy_match(&np, hosts[i], 80 + (int)i);
        check(m == 0 || m == 1);
        if (np.all)
            check(m == 1);
    }
    fh__noproxy_free(&np);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n = size - 1;
    uint8_t *d = malloc(n ? n : 1);
    if (!d)
        return 0;
    memcpy(d, data + 1, n);
    switch (data[0] % 4) {
    case 0: connect_reply(d, n); break;
    case 1: socks(d, n); break;
    case 2: proxy_url((const char *)d, n); break;
    default: no_proxy((const char *)d, n); break;
    }
    free(d);
    return 0;
}
