/*
 * fuzz_cookies.c — libFuzzer target for the cookie jar.
 *
 * The input is split at '\n' into Set-Cookie field values; the first byte
 * of each line picks the request URL it is received from (http and https,
 * host names, a public suffix, IP addresses). Then the Cookie header is
 * built for every URL and the jar is walked. Checked: nothing crashes or
 * leaks, headers hold no control bytes and exactly n-1 separators for n
 * cookies, stored cookies respect the limits and the RFC 6265 invariants,
 * and the cookie-date parser stays in its range.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cookies.h"
#include "fasthttp/errors.h"

static const char *const urls[] = {
    "http://example.com/",          "https://www.example.com/a/b?c=/d",
    "https://a.b.example.com/a/",   "http://co.uk/x/y",
    "https://foo.github.io/",       "http://127.0.0.1:8080/p/q",
    "https://[::1]/",               "http://www.example.co.uk./deep/er/path",
};
#define NURLS (sizeof urls / sizeof *urls)

static void check(int ok)
{
    if (!ok)
        abort();
}

static int64_t fixed_now(void *ud)
{
    (void)ud;
    return 1700000000;
}

static void check_header(const fh__buf *b, int n)
{
    size_t semis = 0;
    check(n >= 0);
    check((n == 0) == (b->len == 0));
    for (size_t i = 0; i < b->len; i++) {
        unsigned char c = b->data[i];
        check(!((c < 0x20 && c != '\t') || c == 0x7f));
        if (c == ';') {
            check(i + 1 < b->len && b->data[i + 1] == ' ');
            semis++;
        }
    }
    check(n == 0 || semis == (size_t)n - 1);
}

static void check_cookie(const fh_cookie *c, const fh__url *u)
{
    size_t nl = strlen(c->name), vl = strlen(c->value);
    check(nl > 0 && nl + vl <= FH_COOKIE_MAX_BYTES);
    check(!strpbrk(c->name, ";=") && !strchr(c->value, ';'));
    check(c->path[0] == '/');
    check(c->expires_unix == -1 || c->expires_unix > 1700000000);
    check(c->domain[0] != '\0' && c->domain[0] != '.');
    for (const char *p = c->domain; *p; p++)
        check(!(*p >= 'A' && *p <= 'Z'));
    /* Every domain is one of the hosts or a parent of one. */
    int found = 0;
    for (size_t i = 0; i < NURLS; i++)
        found |= c->host_only ? strcmp(c->domain, u[i].host) == 0
                              : fh__cookie_domain_match(u[i].host, u[i].host_is_ip, c->domain);
    check(found);
}

static void walk(fh_cookie_jar *jar, const fh__url *u)
{
    size_t n = fh_cookie_jar_count(jar);
    check(n <= FH_COOKIE_MAX_TOTAL);
    for (size_t i = 0; i < n; i++) {
        fh_cookie c;
        check(fh_cookie_jar_at(jar, i, &c) == FH_OK);
        check_cookie(&c, u);
        fh_cookie g;
        check(fh_cookie_jar_get(jar, c.name, c.domain, c.path, &g) == 1);
        fh_cookie_free(&g);
        fh_cookie_free(&c);
    }
}

static void store_lines(fh_cookie_jar *jar, fh__url *u, const uint8_t *data, size_t size)
{
    size_t i = 0;
    while (i < size) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t end = nl ? (size_t)(nl - data) : size;
        if (end > i) {
            const char *why = NULL;
            /* A copy of exactly the line, so ASan sees any read past it. */
            size_t len = end - i - 1;
            char *line = malloc(len ? len : 1);
            memcpy(line, data + i + 1, len);
            int rc = fh__jar_store(jar, &u[data[i] % NURLS], line, len, &why);
            check(rc == FH_OK || (why != NULL && (rc == FH_EPROTO || rc == FH_EINVAL)));
            free(line);
        }
        i = end + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fh__url u[NURLS];
    static int ready;
    if (!ready) {
        for (size_t i = 0; i < NURLS; i++)
            check(fh__url_parse(&u[i], urls[i], strlen(urls[i]), NULL) == 0);
        ready = 1;
    }
    int64_t t;
    if (fh__cookie_parse_date((const char *)data, size, &t) == 0)
        check(t >= INT64_C(-11644473600) && t <= INT64_C(253402300799));

    fh_cookie_jar *jar = fh_cookie_jar_new();
    check(jar != NULL);
    fh_cookie_jar_set_clock(jar, fixed_now, NULL);
    store_lines(jar, u, data, size);
    for (size_t i = 0; i < NURLS; i++) {
        fh__buf b = { 0 };
        check_header(&b, fh__jar_header(jar, &u[i], &b));
        fh__buf_free(&b);
    }
    walk(jar, u);
    fh_cookie_jar_free(jar);
    return 0;
}
