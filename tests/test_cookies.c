/* test_cookies.c — the cookie jar: Set-Cookie parsing, storage, matching,
 * expiry, limits, the Cookie header and the programmatic API (RFC 6265). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cookies.h"
#include "fasthttp/errors.h"

#define T0 INT64_C(1700000000)

static int64_t fake_now(void *ud)
{
    return *(const int64_t *)ud;
}

typedef struct fx {
    fh_cookie_jar *jar;
    int64_t now;
    char hdr[16384];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->jar = fh_cookie_jar_new();
    f->now = T0;
    fh_cookie_jar_set_clock(f->jar, fake_now, &f->now);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    fh_cookie_jar_free(f->jar);
    free(f);
    return 0;
}

static void parse_url(fh__url *u, const char *url)
{
    const char *why = NULL;
    if (fh__url_parse(u, url, strlen(url), &why) != 0)
        fail_msg("bad test URL %s: %s", url, why);
}

/* Stores a Set-Cookie value (length-delimited) received from url. */
static int store_n(fx *f, const char *url, const char *sc, size_t len)
{
    fh__url u;
    const char *why = NULL;
    parse_url(&u, url);
    int rc = fh__jar_store(f->jar, &u, sc, len, &why);
    if (rc != FH_OK)
        assert_non_null(why);
    fh__url_free(&u);
    return rc;
}

static int store(fx *f, const char *url, const char *sc)
{
    return store_n(f, url, sc, strlen(sc));
}

/* The Cookie header for url ("" when none); checks the returned count. */
static const char *header(fx *f, const char *url)
{
    fh__url u;
    fh__buf b = { 0 };
    parse_url(&u, url);
    int n = fh__jar_header(f->jar, &u, &b);
    assert_true(n >= 0);
    assert_true(b.len < sizeof f->hdr);
    memcpy(f->hdr, b.data ? (const char *)b.data : "", b.len);
    f->hdr[b.len] = '\0';
    int pairs = b.len ? 1 : 0;
    for (const char *p = f->hdr; (p = strstr(p, "; ")) != NULL; p += 2)
        pairs++;
    assert_int_equal(n, pairs);
    fh__buf_free(&b);
    fh__url_free(&u);
    return f->hdr;
}

/* Gets the only cookie named name; fails the test when there is none. */
static void get1(fx *f, const char *name, fh_cookie *c)
{
    assert_int_equal(fh_cookie_jar_get(f->jar, name, NULL, NULL, c), 1);
}

/* ---- parsing -------------------------------------------------------------- */

static void test_parse_name_value(void **state)
{
    fx *f = *state;
    fh_cookie c;
    assert_int_equal(store(f, "http://example.com/", " a = b c ; Path=/"), FH_OK);
    assert_int_equal(store(f, "http://example.com/", "e=x=y"), FH_OK);
    assert_int_equal(store(f, "http://example.com/", "q=\"quoted, value\""), FH_OK);
    assert_int_equal(store(f, "http://example.com/", "t=a\tb"), FH_OK); /* HTAB is fine */
    assert_int_equal(store(f, "http://example.com/", "empty="), FH_OK);
    assert_int_equal(store(f, "http://example.com/", "u=\xc3\xa9t\xc3\xa9"), FH_OK);
    get1(f, "a", &c);
    assert_string_equal(c.value, "b c");
    assert_string_equal(c.domain, "example.com");
    assert_int_equal(c.host_only, 1);
    assert_int_equal(c.expires_unix, -1);
    assert_null(c.same_site);
    fh_cookie_free(&c);
    assert_null(c.name);
    fh_cookie_free(&c); /* twice is harmless */
    assert_string_equal(header(f, "http://example.com/"),
                        "a=b c; e=x=y; q=\"quoted, value\"; t=a\tb; empty=; u=\xc3\xa9t\xc3\xa9");
}

static void test_parse_rejects(void **state)
{
    fx *f = *state;
    static const char *const bad[] = {
        "", "novalue", "=v", " =v", ";a=b", "a;=b", "a\x01=b", "a=b\x01", "a=b\x7f",
        "a\x7f=b", "a=b\rc", "a=b\nc", "\x1f=b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(store(f, "http://example.com/", bad[i]), FH_EPROTO);
    assert_int_equal(store_n(f, "http://example.com/", "a=b\0c", 5), FH_EPROTO);
    assert_int_equal(store_n(f, "http://example.com/", "a\0=b", 4), FH_EPROTO);
    assert_int_equal(fh_cookie_jar_count(f->jar), 0);
    /* NULL value with length 0 is an empty header, not a crash. */
    fh__url u;
    parse_url(&u, "http://example.com/");
    assert_int_equal(fh__jar_store(f->jar, &u, NULL, 0, NULL), FH_EPROTO);
    assert_int_equal(fh__jar_store(NULL, &u, "a=b", 3, NULL), FH_EINVAL);
    fh__url_free(&u);
}

static void test_parse_size_limit(void **state)
{
    fx *f = *state;
    char *s = malloc(FH_COOKIE_MAX_BYTES + 32);
    /* name "n" + 4095 bytes of value = 4096: accepted */
    memset(s, 'v', FH_COOKIE_MAX_BYTES + 31);
    memcpy(s, "n=", 2);
    assert_int_equal(store_n(f, "http://example.com/", s, 2 + FH_COOKIE_MAX_BYTES - 1), FH_OK);
    assert_int_equal(store_n(f, "http://example.com/", s, 2 + FH_COOKIE_MAX_BYTES), FH_EPROTO);
    /* Attributes do not count towards the 4096. */
    memcpy(s + 2 + FH_COOKIE_MAX_BYTES - 1, "; Path=/", 8);
    assert_int_equal(store_n(f, "http://example.com/", s, 2 + FH_COOKIE_MAX_BYTES - 1 + 8),
                     FH_OK);
    free(s);
    assert_int_equal(fh_cookie_jar_count(f->jar), 1);
}

static void test_attributes(void **state)
{
    fx *f = *state;
    fh_cookie c;
    assert_int_equal(store(f, "https://www.example.com/x/y",
                           "a=b; SECURE; hTTpOnLy; PATH=/x; DoMaIn=EXAMPLE.com; "
                           "MAX-AGE=10; SameSite=lax; Foo=bar; ; Version=1;"),
                     FH_OK);
    get1(f, "a", &c);
    assert_int_equal(c.secure, 1);
    assert_int_equal(c.http_only, 1);
    assert_string_equal(c.path, "/x");
    assert_string_equal(c.domain, "example.com");
    assert_int_equal(c.host_only, 0);
    assert_int_equal(c.expires_unix, T0 + 10);
    assert_string_equal(c.same_site, "Lax");
    fh_cookie_free(&c);
    static const char *const ss[][2] = {
        { "s=1; SameSite=Strict", "Strict" }, { "s=1; samesite=NONE", "None" },
        { "s=1; SameSite=bogus", NULL },      { "s=1; SameSite", NULL },
    };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(store(f, "https://example.com/", ss[i][0]), FH_OK);
        get1(f, "s", &c);
        if (ss[i][1])
            assert_string_equal(c.same_site, ss[i][1]);
        else
            assert_null(c.same_site);
        fh_cookie_free(&c);
    }
}

/* Attribute values with control bytes or over 1024 bytes are ignored
 * (6265bis), so the default path applies. */
static void test_attribute_values_ignored(void **state)
{
    fx *f = *state;
    fh_cookie c;
    char big[1200] = "a=1; Path=/";
    memset(big + 11, 'p', 1050);
    assert_int_equal(store(f, "http://example.com/d/e", big), FH_OK);
    get1(f, "a", &c);
    assert_string_equal(c.path, "/d");
    fh_cookie_free(&c);
    assert_int_equal(store_n(f, "http://example.com/d/e", "b=1; Path=/x\x01", 13), FH_OK);
    get1(f, "b", &c);
    assert_string_equal(c.path, "/d");
    fh_cookie_free(&c);
    /* A flag with a strange value is still the flag. */
    assert_int_equal(store(f, "https://example.com/", "c=1; Secure=\x01no"), FH_OK);
    get1(f, "c", &c);
    assert_int_equal(c.secure, 1);
    fh_cookie_free(&c);
}

/* ---- domains ------------------------------------------------------------- */

struct domain_case {
    const char *url, *attr; /* attr: the Domain attribute, or NULL */
    int ok, host_only;
    const char *domain;
};

static void test_domain_attribute(void **state)
{
    fx *f = *state;
    static const struct domain_case cases[] = {
        { "http://www.example.com/", NULL, 1, 1, "www.example.com" },
        { "http://www.example.com/", "example.com", 1, 0, "example.com" },
        { "http://www.example.com/", ".example.com", 1, 0, "example.com" },
        { "http://www.example.com/", "EXAMPLE.Com", 1, 0, "example.com" },
        { "http://www.example.com/", "www.example.com", 1, 0, "www.example.com" },
        { "http://www.example.com/", "", 1, 1, "www.example.com" },  /* ignored */
        { "http://www.example.com/", ".", 1, 1, "www.example.com" }, /* empty: host-only */
        { "http://www.example.com/", "other.com", 0, 0, NULL },
        { "http://www.example.com/", "ample.com", 0, 0, NULL },
        { "http://www.example.com/", "sub.www.example.com", 0, 0, NULL },
        { "http://www.example.com/", "example.com.", 0, 0, NULL },
        { "http://www.example.com/", "..example.com", 0, 0, NULL },
        { "http://example.com/", "www.example.com", 0, 0, NULL },
        /* public suffixes (ICANN and private, PSL_TYPE_ANY) */
        { "http://www.example.com/", "com", 0, 0, NULL },
        { "http://www.example.co.uk/", "co.uk", 0, 0, NULL },
        { "http://www.example.co.uk/", "uk", 0, 0, NULL },
        { "http://www.example.co.uk/", "example.co.uk", 1, 0, "example.co.uk" },
        { "http://www.example.co.uk./", "co.uk.", 0, 0, NULL },
        { "http://foo.github.io/", "github.io", 0, 0, NULL },
        { "http://foo.github.io/", "foo.github.io", 1, 0, "foo.github.io" },
        /* a public suffix that is the host itself: host-only (§5.3 step 5) */
        { "http://com/", "com", 1, 1, "com" },
        { "http://co.uk/", "CO.UK", 1, 1, "co.uk" },
        { "http://github.io/", ".github.io", 1, 1, "github.io" },
        /* IP addresses: host-only, Domain may only repeat the address */
        { "http://127.0.0.1/", NULL, 1, 1, "127.0.0.1" },
        { "http://127.0.0.1/", "127.0.0.1", 1, 1, "127.0.0.1" },
        { "http://127.0.0.1/", "0.0.1", 0, 0, NULL },
        { "http://127.0.0.1/", "1", 0, 0, NULL },
        { "http://[::1]:8080/", "::1", 1, 1, "::1" },
        { "http://[::1]/", "[::1]", 0, 0, NULL },
        { "http://[2001:db8::1]/", "db8::1", 0, 0, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const struct domain_case *t = &cases[i];
        char sc[128];
        if (t->attr)
            snprintf(sc, sizeof sc, "d=1; Domain=%s", t->attr);
        else
            snprintf(sc, sizeof sc, "d=1");
        fh_cookie_jar_clear(f->jar);
        int rc = store(f, t->url, sc);
        if (!t->ok) {
            if (rc != FH_EINVAL)
                fail_msg("case %zu (%s, %s): stored", i, t->url, sc);
            assert_int_equal(fh_cookie_jar_count(f->jar), 0);
            continue;
        }
        if (rc != FH_OK)
            fail_msg("case %zu (%s, %s): refused", i, t->url, sc);
        fh_cookie c;
        get1(f, "d", &c);
        assert_string_equal(c.domain, t->domain);
        assert_int_equal(c.host_only, t->host_only);
        fh_cookie_free(&c);
    }
}

static void test_domain_last_wins(void **state)
{
    fx *f = *state;
    const char *u = "http://www.example.com/";
    assert_int_equal(store(f, u, "a=1; Domain=other.com; Domain=example.com"), FH_OK);
    assert_int_equal(store(f, u, "b=1; Domain=example.com; Domain=other.com"), FH_EINVAL);
    /* An empty Domain is ignored, so the earlier one still counts. */
    assert_int_equal(store(f, u, "c=1; Domain=example.com; Domain="), FH_OK);
    assert_string_equal(header(f, "http://x.example.com/"), "a=1; c=1");
}

static void test_domain_match_table(void **state)
{
    (void)state;
    static const struct {
        const char *host;
        int ip;
        const char *domain;
        int match;
    } t[] = {
        { "example.com", 0, "example.com", 1 },     { "www.example.com", 0, "example.com", 1 },
        { "a.b.example.com", 0, "example.com", 1 }, { "example.com", 0, "www.example.com", 0 },
        { "wwwexample.com", 0, "example.com", 0 },  { "example.com.", 0, "example.com", 0 },
        { "example.com", 0, "com", 1 },             { "example.com", 0, "", 0 },
        { "127.0.0.1", 1, "127.0.0.1", 1 },         { "127.0.0.1", 1, "0.0.1", 0 },
        { "10.0.0.1", 1, "1", 0 },                  { "::1", 1, "::1", 1 },
        { "2001:db8::1", 1, "db8::1", 0 },          { "x.example.com", 0, ".example.com", 0 },
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        if (fh__cookie_domain_match(t[i].host, t[i].ip, t[i].domain) != t[i].match)
            fail_msg("domain-match(%s, %s) != %d", t[i].host, t[i].domain, t[i].match);
}

static void test_host_only_vs_domain(void **state)
{
    fx *f = *state;
    assert_int_equal(store(f, "http://www.example.com/", "host=1"), FH_OK);
    assert_int_equal(store(f, "http://www.example.com/", "dom=1; Domain=www.example.com"), FH_OK);
    assert_int_equal(store(f, "http://www.example.com/", "top=1; Domain=example.com"), FH_OK);
    assert_string_equal(header(f, "http://www.example.com/"), "host=1; dom=1; top=1");
    assert_string_equal(header(f, "http://WWW.Example.COM/"), "host=1; dom=1; top=1");
    assert_string_equal(header(f, "http://a.www.example.com/"), "dom=1; top=1");
    assert_string_equal(header(f, "http://example.com/"), "top=1");
    assert_string_equal(header(f, "http://other.example.com/"), "top=1");
    assert_string_equal(header(f, "http://notexample.com/"), "");
    assert_string_equal(header(f, "http://example.com.evil.org/"), "");
    assert_string_equal(header(f, "http://www.example.com./"), "");
    /* Ports do not separate cookies (RFC 6265 §8.5). */
    assert_string_equal(header(f, "http://www.example.com:8080/"), "host=1; dom=1; top=1");
}

static void test_ip_hosts(void **state)
{
    fx *f = *state;
    assert_int_equal(store(f, "http://127.0.0.1:8000/", "a=1"), FH_OK);
    assert_int_equal(store(f, "http://127.0.0.1/", "b=1; Domain=127.0.0.1"), FH_OK);
    assert_int_equal(store(f, "http://[::1]/", "c=1"), FH_OK);
    assert_string_equal(header(f, "http://127.0.0.1/"), "a=1; b=1");
    assert_string_equal(header(f, "http://127.0.0.2/"), "");
    assert_string_equal(header(f, "http://1.127.0.0.1.example/"), "");
    assert_string_equal(header(f, "http://[::1]:9/"), "c=1");
    assert_string_equal(header(f, "http://[::2]/"), "");
}

/* ---- paths --------------------------------------------------------------- */

static void test_default_path(void **state)
{
    (void)state;
    static const char *const t[][2] = {
        { "/", "/" },          { "/a", "/" },         { "/a/", "/a" },
        { "/a/b", "/a" },      { "/a/b/", "/a/b" },   { "/a/b/c?x=/y/z", "/a/b" },
        { "/a?x=/y/z", "/" },  { "//", "/" },         { "/?q", "/" },
        { "*", "/" },          { "", "/" },
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        const char *p;
        size_t n = fh__cookie_default_path(t[i][0], &p);
        if (n != strlen(t[i][1]) || memcmp(p, t[i][1], n) != 0)
            fail_msg("default-path(%s) = %.*s", t[i][0], (int)n, p);
    }
}

static void test_path_match_table(void **state)
{
    (void)state;
    static const struct {
        const char *req, *cookie;
        int match;
    } t[] = {
        { "/", "/", 1 },      { "/a", "/", 1 },       { "/a", "/a", 1 },
        { "/a/b", "/a", 1 },  { "/a/", "/a", 1 },     { "/ab", "/a", 0 },
        { "/a", "/a/", 0 },   { "/a/", "/a/", 1 },    { "/a/b", "/a/", 1 },
        { "/A", "/a", 0 },    { "/", "/a", 0 },       { "/a/bc", "/a/b", 0 },
        { "/a%2Fb", "/a", 0 },
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        if (fh__cookie_path_match(t[i].req, strlen(t[i].req), t[i].cookie) != t[i].match)
            fail_msg("path-match(%s, %s) != %d", t[i].req, t[i].cookie, t[i].match);
}

static void test_path_attribute(void **state)
{
    fx *f = *state;
    fh_cookie c;
    assert_int_equal(store(f, "http://example.com/d/page", "def=1"), FH_OK);
    assert_int_equal(store(f, "http://example.com/d/page", "rel=1; Path=x/y"), FH_OK);
    assert_int_equal(store(f, "http://example.com/d/page", "empty=1; Path="), FH_OK);
    assert_int_equal(store(f, "http://example.com/", "p=1; Path=/p"), FH_OK);
    assert_int_equal(store(f, "http://example.com/", "last=1; Path=/p; Path=nope"), FH_OK);
    get1(f, "rel", &c);
    assert_string_equal(c.path, "/d");
    fh_cookie_free(&c);
    get1(f, "last", &c);
    assert_string_equal(c.path, "/");
    fh_cookie_free(&c);
    assert_string_equal(header(f, "http://example.com/d"), "def=1; rel=1; empty=1; last=1");
    assert_string_equal(header(f, "http://example.com/d/x?y"), "def=1; rel=1; empty=1; last=1");
    assert_string_equal(header(f, "http://example.com/dd"), "last=1");
    assert_string_equal(header(f, "http://example.com/p/q"), "p=1; last=1");
    assert_string_equal(header(f, "http://example.com/pq"), "last=1");
    assert_string_equal(header(f, "http://example.com/p?x=1"), "p=1; last=1");
}

/* ---- secure --------------------------------------------------------------- */

static void test_secure(void **state)
{
    fx *f = *state;
    assert_int_equal(store(f, "http://example.com/", "s=1; Secure"), FH_EINVAL);
    assert_int_equal(store(f, "https://example.com/", "s=1; Secure"), FH_OK);
    assert_int_equal(store(f, "https://example.com/", "p=1"), FH_OK);
    assert_string_equal(header(f, "https://example.com/"), "s=1; p=1");
    assert_string_equal(header(f, "http://example.com/"), "p=1");
    assert_string_equal(header(f, "http://example.com:443/"), "p=1");
}

/* 6265bis §5.7: plain http may not overwrite or shadow a Secure cookie. */
static void test_secure_not_shadowed(void **state)
{
    fx *f = *state;
    assert_int_equal(store(f, "https://www.example.com/", "s=1; Secure; Domain=example.com"),
                     FH_OK);
    assert_int_equal(store(f, "http://www.example.com/", "s=2"), FH_EINVAL);
    assert_int_equal(store(f, "http://www.example.com/", "s=2; Path=/deeper"), FH_EINVAL);
    assert_int_equal(store(f, "http://example.com/", "s=2; Domain=example.com"), FH_EINVAL);
    assert_int_equal(store(f, "http://other.com/", "s=2"), FH_OK);        /* unrelated */
    assert_int_equal(store(f, "http://www.example.com/", "t=2"), FH_OK);  /* other name */
    assert_int_equal(store(f, "https://www.example.com/", "s=3"), FH_OK); /* secure origin */
    assert_string_equal(header(f, "https://www.example.com/"), "s=1; t=2; s=3");
    /* A narrower secure path does not block a cookie outside it. */
    assert_int_equal(store(f, "https://a.test/", "k=1; Secure; Path=/admin"), FH_OK);
    assert_int_equal(store(f, "http://a.test/", "k=2; Path=/"), FH_OK);
    assert_int_equal(store(f, "http://a.test/", "k=3; Path=/admin/x"), FH_EINVAL);
}

static void test_prefixes(void **state)
{
    fx *f = *state;
    const char *u = "https://example.com/a/b";
    assert_int_equal(store(f, u, "__Secure-a=1"), FH_EINVAL);
    assert_int_equal(store(f, u, "__secure-a=1"), FH_EINVAL);
    assert_int_equal(store(f, u, "__Secure-a=1; Secure"), FH_OK);
    assert_int_equal(store(f, u, "__Host-b=1; Secure"), FH_EINVAL); /* no Path=/ */
    assert_int_equal(store(f, u, "__Host-b=1; Path=/"), FH_EINVAL);
    assert_int_equal(store(f, u, "__Host-b=1; Secure; Path=/; Domain=example.com"), FH_EINVAL);
    assert_int_equal(store(f, u, "__Host-b=1; Secure; Path=/x"), FH_EINVAL);
    assert_int_equal(store(f, u, "__HOST-b=1; Secure; Path=/"), FH_OK);
    assert_int_equal(fh_cookie_jar_count(f->jar), 2);
}

/* ---- expiry ---------------------------------------------------------------- */

static void test_dates(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t t; /* INT64_MIN: not a date */
    } t[] = {
        { "Sun, 06 Nov 1994 08:49:37 GMT", 784111777 },    /* RFC 1123 */
        { "Sunday, 06-Nov-94 08:49:37 GMT", 784111777 },   /* RFC 850 */
        { "Sun Nov  6 08:49:37 1994", 784111777 },         /* asctime */
        { "sun, 06 nov 1994 08:49:37 gmt", 784111777 },
        { "06 November 1994 8:49:37", 784111777 },
        { "Nov 6 08:49:37 1994 GMT; junk", 784111777 },
        { "Wed, 09 Jun 2021 10:18:14 GMT", 1623233894 },
        { "Thu, 01 Jan 1970 00:00:00 GMT", 0 },
        { "Sat, 29 Feb 2020 00:00:00 GMT", 1582934400 },
        { "29 Feb 2000 00:00:00", 951782400 },
        { "01-Jan-69 00:00:00", INT64_C(3124224000) },      /* 69 -> 2069 */
        { "01-Jan-70 00:00:00", 0 },                        /* 70 -> 1970 */
        { "19 Jan 2038 03:14:08 GMT", INT64_C(2147483648) },
        { "Fri, 31 Dec 9999 23:59:59 GMT", INT64_C(253402300799) },
        { "01 Jan 1601 00:00:00", INT64_C(-11644473600) },
        { "", INT64_MIN },
        { "garbage", INT64_MIN },
        { "Sun, 06 Nov 1994", INT64_MIN },                  /* no time */
        { "Sun, Nov 1994 08:49:37", INT64_MIN },            /* no day */
        { "06 1994 08:49:37", INT64_MIN },                  /* no month */
        { "06 Nov 08:49:37", INT64_MIN },                   /* no year */
        { "30 Feb 2020 00:00:00", INT64_MIN },
        { "29 Feb 1900 00:00:00", INT64_MIN },
        { "32 Jan 2020 00:00:00", INT64_MIN },
        { "00 Jan 2020 00:00:00", INT64_MIN },
        { "01 Jan 1600 00:00:00", INT64_MIN },
        { "01 Jan 2020 24:00:00", INT64_MIN },
        { "01 Jan 2020 00:60:00", INT64_MIN },
        { "01 Jan 2020 00:00:60", INT64_MIN },
        { "001 Jan 2020 00:00:00", INT64_MIN },             /* 3-digit day */
        { "01 Jan 20201 00:00:00", INT64_MIN },             /* 5-digit year */
        { "1994-11-06 08:49:37", INT64_MIN },
        { "01 Jan 2020 000:00:00", INT64_MIN },
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        int64_t v = INT64_MIN;
        int rc = fh__cookie_parse_date(t[i].s, strlen(t[i].s), &v);
        if ((rc == 0 ? v : INT64_MIN) != t[i].t)
            fail_msg("date '%s': rc %d value %lld", t[i].s, rc, (long long)v);
    }
}

static void test_expires_and_max_age(void **state)
{
    fx *f = *state;
    static const struct {
        const char *sc;
        int64_t expires;
    } t[] = {
        { "a=1; Expires=Wed, 09 Jun 2100 10:18:14 GMT", INT64_C(4116219494) },
        { "a=1; Expires=junk", -1 },
        { "a=1; Max-Age=100", T0 + 100 },
        { "a=1; Max-Age=100; Expires=Wed, 09 Jun 2100 10:18:14 GMT", T0 + 100 },
        { "a=1; Expires=Wed, 09 Jun 2100 10:18:14 GMT; Max-Age=100", T0 + 100 },
        { "a=1; Max-Age=abc", -1 },
        { "a=1; Max-Age=1x", -1 },
        { "a=1; Max-Age=", -1 },
        { "a=1; Max-Age=-", -1 },
        { "a=1; Max-Age=+5", -1 },
        { "a=1; Max-Age=5; Max-Age=7", T0 + 7 },
        { "a=1; Max-Age=99999999999999999999999", INT64_C(253402300799) },
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        fh_cookie c;
        assert_int_equal(store(f, "http://example.com/", t[i].sc), FH_OK);
        get1(f, "a", &c);
        if (c.expires_unix != t[i].expires)
            fail_msg("'%s': expires %lld", t[i].sc, (long long)c.expires_unix);
        fh_cookie_free(&c);
    }
}

static void test_delete_by_expiry(void **state)
{
    fx *f = *state;
    const char *u = "http://example.com/";
    static const char *const del[] = {
        "a=x; Max-Age=0", "a=x; Max-Age=-5", "a=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
        "a=x; Expires=Tue, 01 Jan 1601 00:00:00 GMT",
        "a=x; Max-Age=0; Expires=Wed, 09 Jun 2100 10:18:14 GMT",
    };
    for (size_t i = 0; i < sizeof del / sizeof *del; i++) {
        assert_int_equal(store(f, u, "a=1"), FH_OK);
        assert_int_equal(store(f, u, "b=1"), FH_OK);
        assert_int_equal(fh_cookie_jar_count(f->jar), 2);
        assert_int_equal(store(f, u, del[i]), FH_OK);
        assert_string_equal(header(f, u), "b=1");
        assert_int_equal(fh_cookie_jar_count(f->jar), 1);
    }
    /* Deleting a cookie that is not there stores nothing. */
    assert_int_equal(store(f, u, "zz=1; Max-Age=0"), FH_OK);
    assert_int_equal(fh_cookie_jar_count(f->jar), 1);
}

static void test_expiry_clock(void **state)
{
    fx *f = *state;
    const char *u = "http://example.com/";
    assert_int_equal(store(f, u, "short=1; Max-Age=60"), FH_OK);
    assert_int_equal(store(f, u, "abs=1; Expires=Tue, 14 Nov 2023 22:15:00 GMT"), FH_OK);
    assert_int_equal(store(f, u, "session=1"), FH_OK); /* T0 is 22:13:20 that day */
    assert_string_equal(header(f, u), "short=1; abs=1; session=1");
    f->now = T0 + 59;
    assert_int_equal(fh_cookie_jar_count(f->jar), 3);
    f->now = T0 + 60;
    assert_string_equal(header(f, u), "abs=1; session=1");
    assert_int_equal(fh_cookie_jar_count(f->jar), 2);
    f->now = T0 + 100;
    assert_string_equal(header(f, u), "session=1");
    f->now = T0 + 1000000000;
    assert_int_equal(fh_cookie_jar_count(f->jar), 1);
    /* An Expires already in the past stores nothing. */
    assert_int_equal(store(f, u, "old=1; Expires=Tue, 14 Nov 2023 22:15:00 GMT"), FH_OK);
    assert_int_equal(fh_cookie_jar_count(f->jar), 1);
    /* Back to the default clock: real time is well past 2023. */
    fh_cookie_jar_set_clock(f->jar, NULL, NULL);
    assert_int_equal(store(f, u, "old=1; Expires=Tue, 14 Nov 2023 22:15:00 GMT"), FH_OK);
    assert_int_equal(fh_cookie_jar_count(f->jar), 1);
}

/* ---- replacement, order, limits -------------------------------------------- */

static void test_replace_keeps_creation(void **state)
{
    fx *f = *state;
    const char *u = "http://example.com/";
    fh_cookie c;
    assert_int_equal(store(f, u, "a=1"), FH_OK);
    assert_int_equal(store(f, u, "b=1"), FH_OK);
    assert_int_equal(store(f, u, "a=2; HttpOnly"), FH_OK);
    assert_int_equal(fh_cookie_jar_count(f->jar), 2);
    assert_string_equal(header(f, u), "a=2; b=1");
    assert_int_equal(fh_cookie_jar_at(f->jar, 0, &c), FH_OK);
    assert_string_equal(c.name, "a");
    assert_string_equal(c.value, "2");
    assert_int_equal(c.http_only, 1);
    fh_cookie_free(&c);
    /* Same name, other host or path: a separate cookie. */
    assert_int_equal(store(f, "http://www.example.com/x/", "a=3"), FH_OK);
    assert_int_equal(fh_cookie_jar_count(f->jar), 3);
    assert_string_equal(header(f, "http://www.example.com/x/y"), "a=3");
    /* The key is (name, domain, path): a domain cookie for example.com
     * replaces the host-only one, in its place. */
    assert_int_equal(store(f, "http://www.example.com/", "a=4; Domain=example.com"), FH_OK);
    assert_int_equal(fh_cookie_jar_count(f->jar), 3);
    assert_string_equal(header(f, "http://www.example.com/x/y"), "a=3; a=4");
    assert_string_equal(header(f, "http://example.com/"), "a=4; b=1");
    assert_int_equal(fh_cookie_jar_at(f->jar, 0, &c), FH_OK);
    assert_string_equal(c.value, "4");
    assert_int_equal(c.host_only, 0);
    assert_int_equal(c.http_only, 0);
    fh_cookie_free(&c);
}

static void test_header_order(void **state)
{
    fx *f = *state;
    const char *u = "http://example.com/a/b/c";
    assert_int_equal(store(f, u, "root=1; Path=/"), FH_OK);
    assert_int_equal(store(f, u, "ab=1; Path=/a/b"), FH_OK);
    assert_int_equal(store(f, u, "a=1; Path=/a"), FH_OK);
    assert_int_equal(store(f, u, "root2=1; Path=/"), FH_OK);
    assert_int_equal(store(f, u, "ab2=1; Path=/a/b"), FH_OK);
    assert_string_equal(header(f, u), "ab=1; ab2=1; a=1; root=1; root2=1");
    /* Appends after what is in the buffer; nothing when no cookie matches. */
    fh__url url;
    fh__buf b = { 0 };
    parse_url(&url, "http://other.org/");
    fh__buf_append_str(&b, "x");
    assert_int_equal(fh__jar_header(f->jar, &url, &b), 0);
    assert_int_equal(b.len, 1);
    fh__url_free(&url);
    parse_url(&url, "http://example.com/");
    assert_int_equal(fh__jar_header(f->jar, &url, &b), 2);
    assert_int_equal(b.len, strlen("xroot=1; root2=1"));
    assert_memory_equal(b.data, "xroot=1; root2=1", b.len);
    fh__url_free(&url);
    fh__buf_free(&b);
}

static int has_cookie(fx *f, const char *name)
{
    fh_cookie c;
    int rc = fh_cookie_jar_get(f->jar, name, NULL, NULL, &c);
    fh_cookie_free(&c);
    return rc;
}

/* §5.3: over 50 per registrable domain, the least recently used goes. */
static void test_per_domain_limit(void **state)
{
    fx *f = *state;
    char sc[64], url[64];
    for (int i = 0; i < FH_COOKIE_MAX_PER_DOMAIN; i++) {
        /* two hosts of one registrable domain, each cookie on its own path */
        snprintf(url, sizeof url, "http://%s.example.co.uk/", i % 2 ? "a" : "b");
        snprintf(sc, sizeof sc, "c%d=1; Path=/p%d", i, i);
        assert_int_equal(store(f, url, sc), FH_OK);
    }
    assert_int_equal(store(f, "http://example.org/", "other=1"), FH_OK);
    assert_string_equal(header(f, "http://b.example.co.uk/p0"), "c0=1"); /* c0 used now */
    assert_int_equal(store(f, "http://example.co.uk/", "new=1"), FH_OK);
    assert_int_equal(fh_cookie_jar_count(f->jar), FH_COOKIE_MAX_PER_DOMAIN + 1);
    assert_int_equal(has_cookie(f, "c0"), 1);
    assert_int_equal(has_cookie(f, "c1"), 0); /* least recently used */
    assert_int_equal(has_cookie(f, "new"), 1);
    assert_int_equal(has_cookie(f, "other"), 1);
    /* Private suffixes separate sites: foo.github.io and bar.github.io. */
    fh_cookie_jar_clear(f->jar);
    for (int i = 0; i < FH_COOKIE_MAX_PER_DOMAIN; i++) {
        snprintf(sc, sizeof sc, "f%d=1", i);
        assert_int_equal(store(f, "http://foo.github.io/", sc), FH_OK);
        snprintf(sc, sizeof sc, "b%d=1", i);
        assert_int_equal(store(f, "http://bar.github.io/", sc), FH_OK);
    }
    assert_int_equal(fh_cookie_jar_count(f->jar), 2 * FH_COOKIE_MAX_PER_DOMAIN);
}

static void test_total_limit(void **state)
{
    fx *f = *state;
    char sc[64], url[64];
    int domains = FH_COOKIE_MAX_TOTAL / FH_COOKIE_MAX_PER_DOMAIN;
    for (int d = 0; d < domains; d++) {
        snprintf(url, sizeof url, "http://d%d.example/", d);
        for (int i = 0; i < FH_COOKIE_MAX_PER_DOMAIN; i++) {
            snprintf(sc, sizeof sc, "c%d_%d=1", d, i);
            assert_int_equal(store(f, url, sc), FH_OK);
        }
    }
    assert_int_equal(fh_cookie_jar_count(f->jar), FH_COOKIE_MAX_TOTAL);
    const char *h = header(f, "http://d0.example/"); /* all 50, in creation order */
    assert_int_equal(strncmp(h, "c0_0=1; c0_1=1; c0_2=1; ", 24), 0);
    assert_non_null(strstr(h, "; c0_48=1; c0_49=1"));
    assert_int_equal(store(f, "http://new.example/", "n=1"), FH_OK);
    assert_int_equal(fh_cookie_jar_count(f->jar), FH_COOKIE_MAX_TOTAL);
    assert_int_equal(has_cookie(f, "c1_0"), 0); /* d0's were used by the header */
    assert_int_equal(has_cookie(f, "c0_0"), 1);
    assert_int_equal(has_cookie(f, "n"), 1);
}

/* ---- the programmatic API ----------------------------------------------- */

static void test_set_seed_example(void **state)
{
    fx *f = *state;
    fh_cookie c;
    assert_int_equal(fh_cookie_jar_set(f->jar, "session_id", "abc123", "example.com", "/", 1, 0,
                                       -1),
                     FH_OK);
    assert_int_equal(fh_cookie_jar_count(f->jar), 1);
    get1(f, "session_id", &c);
    assert_string_equal(c.value, "abc123");
    assert_string_equal(c.domain, "example.com");
    assert_string_equal(c.path, "/");
    assert_int_equal(c.secure, 1);
    assert_int_equal(c.host_only, 0);
    assert_int_equal(c.expires_unix, -1);
    fh_cookie_free(&c);
    assert_string_equal(header(f, "https://example.com/protected"), "session_id=abc123");
    assert_string_equal(header(f, "https://api.example.com/"), "session_id=abc123");
    assert_string_equal(header(f, "http://example.com/protected"), "");
    assert_string_equal(header(f, "https://other.com/"), "");
}

static void test_set_domains(void **state)
{
    fx *f = *state;
    fh_cookie c;
    assert_int_equal(fh_cookie_jar_set(f->jar, "any", "1", NULL, NULL, 0, 0, -1), FH_OK);
    assert_int_equal(fh_cookie_jar_set(f->jar, "any2", "1", "", "", 0, 0, -1), FH_OK);
    assert_int_equal(fh_cookie_jar_set(f->jar, "dot", "1", ".Example.COM", "/", 0, 0, -1), FH_OK);
    assert_int_equal(fh_cookie_jar_set(f->jar, "ip", "1", "127.0.0.1", "/", 0, 0, -1), FH_OK);
    assert_int_equal(fh_cookie_jar_set(f->jar, "v6", "1", "[::1]", "/", 0, 0, -1), FH_OK);
    assert_int_equal(fh_cookie_jar_set(f->jar, "p", "1", "example.com", "/a", 0, 1, -1), FH_OK);
    assert_int_equal(fh_cookie_jar_get(f->jar, "dot", "EXAMPLE.com", "/", &c), 1);
    assert_string_equal(c.domain, "example.com");
    fh_cookie_free(&c);
    assert_int_equal(fh_cookie_jar_get(f->jar, "any", "", NULL, &c), 1);
    assert_string_equal(c.domain, "");
    assert_int_equal(c.host_only, 0);
    fh_cookie_free(&c);
    assert_int_equal(fh_cookie_jar_get(f->jar, "ip", NULL, NULL, &c), 1);
    assert_int_equal(c.host_only, 1);
    fh_cookie_free(&c);
    assert_int_equal(fh_cookie_jar_get(f->jar, "v6", "::1", NULL, &c), 1);
    fh_cookie_free(&c);
    assert_string_equal(header(f, "http://a.test/"), "any=1; any2=1");
    assert_string_equal(header(f, "http://127.0.0.1/"), "any=1; any2=1; ip=1");
    assert_string_equal(header(f, "http://[::1]/"), "any=1; any2=1; v6=1");
    assert_string_equal(header(f, "http://www.example.com/a"), "p=1; any=1; any2=1; dot=1");
}

/* fh_cookie_jar_add keeps host_only and same_site; a cookie copied out
 * goes back in unchanged. */
static void test_add_round_trip(void **state)
{
    fx *f = *state;
    fh_cookie in = {"h", "1", "Example.com", "/p", 1, 1, 1, 4102444800, "lax", NULL}, out;
    assert_int_equal(fh_cookie_jar_add(f->jar, &in), FH_OK);
    get1(f, "h", &out);
    assert_string_equal(out.domain, "example.com");
    assert_int_equal(out.host_only, 1);
    assert_int_equal(out.secure, 1);
    assert_int_equal(out.http_only, 1);
    assert_string_equal(out.same_site, "Lax");
    assert_int_equal(out.expires_unix, 4102444800);
    assert_string_equal(header(f, "https://example.com/p/x"), "h=1");
    assert_string_equal(header(f, "https://www.example.com/p/x"), ""); /* host-only */
    fh_cookie_jar_clear(f->jar);
    assert_int_equal(fh_cookie_jar_add(f->jar, &out), FH_OK);
    fh_cookie again;
    get1(f, "h", &again);
    assert_int_equal(again.host_only, 1);
    assert_string_equal(again.same_site, "Lax");
    fh_cookie_free(&again);
    fh_cookie_free(&out);
    in.same_site = "sometimes";
    assert_int_equal(fh_cookie_jar_add(f->jar, &in), FH_EINVAL);
    in.same_site = NULL;
    in.domain = NULL; /* host_only means nothing without a domain */
    assert_int_equal(fh_cookie_jar_add(f->jar, &in), FH_OK);
    assert_int_equal(fh_cookie_jar_add(f->jar, NULL), FH_EINVAL);
}

/* The public form of what a client does with Set-Cookie and Cookie. */
static void test_store_and_header_by_url(void **state)
{
    fx *f = *state;
    const char *v = "sid=abc; Path=/app";
    assert_int_equal(fh_cookie_jar_store(f->jar, "https://shop.example.com/app/x", v,
                                         strlen(v)), FH_OK);
    v = "wide=1; Domain=example.com";
    assert_int_equal(fh_cookie_jar_store(f->jar, "https://shop.example.com/", v, strlen(v)),
                     FH_OK);
    v = "bad=1; Domain=co.uk";
    assert_int_equal(fh_cookie_jar_store(f->jar, "https://shop.co.uk/", v, strlen(v)),
                     FH_EINVAL);
    assert_int_equal(fh_cookie_jar_store(f->jar, "https://h/", "novalue", 7), FH_EPROTO);
    assert_int_equal(fh_cookie_jar_store(f->jar, "not a url", "a=1", 3), FH_EINVAL);
    char buf[64];
    assert_int_equal(fh_cookie_jar_header(f->jar, "https://shop.example.com/app/y", buf,
                                          sizeof buf), 15);
    assert_string_equal(buf, "sid=abc; wide=1");
    assert_int_equal(fh_cookie_jar_header(f->jar, "https://www.example.com/", buf, sizeof buf),
                     6);
    assert_string_equal(buf, "wide=1");
    /* Too small a buffer: cut, NUL-terminated, full length returned. */
    assert_int_equal(fh_cookie_jar_header(f->jar, "https://shop.example.com/app/", buf, 5), 15);
    assert_string_equal(buf, "sid=");
    assert_int_equal(fh_cookie_jar_header(f->jar, "https://other.test/", buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    assert_int_equal(fh_cookie_jar_header(f->jar, "mailto:x", buf, sizeof buf), 0);
}

static void test_set_invalid(void **state)
{
    fx *f = *state;
    fh_cookie_jar *j = f->jar;
    char *big = malloc(FH_COOKIE_MAX_BYTES + 1);
    memset(big, 'v', FH_COOKIE_MAX_BYTES);
    big[FH_COOKIE_MAX_BYTES] = '\0';
    assert_int_equal(fh_cookie_jar_set(j, "", "v", NULL, NULL, 0, 0, -1), FH_EINVAL);
    assert_int_equal(fh_cookie_jar_set(j, NULL, "v", NULL, NULL, 0, 0, -1), FH_EINVAL);
    assert_int_equal(fh_cookie_jar_set(j, "n", NULL, NULL, NULL, 0, 0, -1), FH_EINVAL);
    assert_int_equal(fh_cookie_jar_set(NULL, "n", "v", NULL, NULL, 0, 0, -1), FH_EINVAL);
    assert_int_equal(fh_cookie_jar_set(j, "a;b", "v", NULL, NULL, 0, 0, -1), FH_EINVAL);
    assert_int_equal(fh_cookie_jar_set(j, "a=b", "v", NULL, NULL, 0, 0, -1), FH_EINVAL);
    assert_int_equal(fh_cookie_jar_set(j, "a", "v;w", NULL, NULL, 0, 0, -1), FH_EINVAL);
    assert_int_equal(fh_cookie_jar_set(j, "a", "v\r\n", NULL, NULL, 0, 0, -1), FH_EINVAL);
    assert_int_equal(fh_cookie_jar_set(j, "a\x7f", "v", NULL, NULL, 0, 0, -1), FH_EINVAL);
    assert_int_equal(fh_cookie_jar_set(j, "a", "v", NULL, "rel", 0, 0, -1), FH_EINVAL);
    assert_int_equal(fh_cookie_jar_set(j, "a", "v", NULL, "/x;y", 0, 0, -1), FH_EINVAL);
    assert_int_equal(fh_cookie_jar_set(j, "a", "v", "exa mple.com", NULL, 0, 0, -1), FH_EINVAL);
    assert_int_equal(fh_cookie_jar_set(j, "a", "v", "a/b", NULL, 0, 0, -1), FH_EINVAL);
    assert_int_equal(fh_cookie_jar_set(j, "a", big, NULL, NULL, 0, 0, -1), FH_EINVAL);
    assert_int_equal(fh_cookie_jar_set(j, "a", big + 2, NULL, NULL, 0, 0, -1), FH_OK);
    assert_int_equal(fh_cookie_jar_set(j, "a", "v\tw", NULL, NULL, 0, 0, -1), FH_OK);
    assert_int_equal(fh_cookie_jar_count(j), 1);
    free(big);
}

static void test_set_expiry_and_replace(void **state)
{
    fx *f = *state;
    fh_cookie c;
    assert_int_equal(fh_cookie_jar_set(f->jar, "a", "1", "example.com", "/", 0, 0, T0 + 10), FH_OK);
    assert_int_equal(fh_cookie_jar_set(f->jar, "b", "1", "example.com", "/", 0, 0, -1), FH_OK);
    assert_int_equal(fh_cookie_jar_set(f->jar, "a", "2", "example.com", "/", 0, 0, T0 + 20), FH_OK);
    assert_int_equal(fh_cookie_jar_count(f->jar), 2);
    get1(f, "a", &c);
    assert_string_equal(c.value, "2");
    assert_int_equal(c.expires_unix, T0 + 20);
    fh_cookie_free(&c);
    assert_string_equal(header(f, "http://example.com/"), "a=2; b=1");
    f->now = T0 + 20;
    assert_int_equal(fh_cookie_jar_count(f->jar), 1);
    /* An expiry not after now deletes. */
    assert_int_equal(fh_cookie_jar_set(f->jar, "b", "x", "example.com", "/", 0, 0, T0), FH_OK);
    assert_int_equal(fh_cookie_jar_count(f->jar), 0);
}

static void test_get_delete_at_clear(void **state)
{
    fx *f = *state;
    fh_cookie c;
    assert_int_equal(fh_cookie_jar_set(f->jar, "n", "1", "a.com", "/", 0, 0, -1), FH_OK);
    assert_int_equal(fh_cookie_jar_set(f->jar, "n", "2", "b.com", "/x", 0, 0, -1), FH_OK);
    assert_int_equal(fh_cookie_jar_set(f->jar, "m", "3", "a.com", "/", 0, 0, -1), FH_OK);
    assert_int_equal(store(f, "http://b.com/", "m=4"), FH_OK);
    assert_int_equal(fh_cookie_jar_count(f->jar), 4);
    static const char *const order[][2] = {
        { "n", "1" }, { "n", "2" }, { "m", "3" }, { "m", "4" },
    };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(fh_cookie_jar_at(f->jar, i, &c), FH_OK);
        assert_string_equal(c.name, order[i][0]);
        assert_string_equal(c.value, order[i][1]);
        fh_cookie_free(&c);
    }
    assert_int_equal(fh_cookie_jar_at(f->jar, 4, &c), FH_EINVAL);
    assert_null(c.name);
    assert_int_equal(fh_cookie_jar_get(f->jar, "n", NULL, "/x", &c), 1);
    assert_string_equal(c.value, "2");
    fh_cookie_free(&c);
    assert_int_equal(fh_cookie_jar_get(f->jar, "n", ".B.com", NULL, &c), 1);
    fh_cookie_free(&c);
    assert_int_equal(fh_cookie_jar_get(f->jar, "n", "c.com", NULL, &c), 0);
    assert_null(c.name);
    assert_int_equal(fh_cookie_jar_get(f->jar, "n", "a.com", "/x", &c), 0);
    assert_int_equal(fh_cookie_jar_get(f->jar, "zz", NULL, NULL, &c), 0);
    assert_int_equal(fh_cookie_jar_get(f->jar, NULL, NULL, NULL, &c), FH_EINVAL);
    assert_int_equal(fh_cookie_jar_get(f->jar, "n", "bad domain", NULL, &c), FH_EINVAL);
    assert_int_equal(fh_cookie_jar_delete(f->jar, "zz", NULL, NULL), 0);
    assert_int_equal(fh_cookie_jar_delete(f->jar, "n", NULL, NULL), 2);
    assert_int_equal(fh_cookie_jar_delete(f->jar, NULL, "b.com", NULL), 1);
    assert_int_equal(fh_cookie_jar_count(f->jar), 1);
    assert_int_equal(fh_cookie_jar_at(f->jar, 0, &c), FH_OK);
    assert_string_equal(c.value, "3");
    fh_cookie_free(&c);
    assert_int_equal(fh_cookie_jar_set(f->jar, "n", "1", "a.com", "/", 0, 0, -1), FH_OK);
    fh_cookie_jar_clear(f->jar);
    assert_int_equal(fh_cookie_jar_count(f->jar), 0);
    assert_string_equal(header(f, "http://a.com/"), "");
    fh_cookie_free(NULL);
    fh_cookie_jar_free(NULL);
}

/* A cookie copied out stays valid while the jar changes. */
static void test_copies_outlive_changes(void **state)
{
    fx *f = *state;
    fh_cookie c;
    assert_int_equal(store(f, "https://example.com/p", "a=1; Secure; SameSite=Strict"), FH_OK);
    get1(f, "a", &c);
    fh_cookie_jar_clear(f->jar);
    assert_int_equal(store(f, "https://example.com/", "a=2"), FH_OK);
    assert_string_equal(c.value, "1");
    assert_string_equal(c.path, "/");
    assert_string_equal(c.same_site, "Strict");
    fh_cookie_free(&c);
}

/* ---- threads ---------------------------------------------------------------- */

typedef struct worker {
    fh_cookie_jar *jar;
    int id;
    int failures;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    char url[64], sc[64];
    fh__url u;
    snprintf(url, sizeof url, "https://h%d.example.com/", w->id % 2);
    if (fh__url_parse(&u, url, strlen(url), NULL) != 0)
        return NULL;
    for (int i = 0; i < 2000; i++) {
        int n = snprintf(sc, sizeof sc, "t%d_%d=%d; Domain=example.com; Max-Age=%d", w->id,
                         i % 40, i, i % 7);
        fh__buf b = { 0 };
        w->failures += fh__jar_store(w->jar, &u, sc, (size_t)n, NULL) != FH_OK;
        w->failures += fh__jar_header(w->jar, &u, &b) < 0;
        fh__buf_free(&b);
        if (i % 100 == 0) {
            fh_cookie c;
            if (fh_cookie_jar_at(w->jar, 0, &c) == FH_OK)
                fh_cookie_free(&c);
            (void)fh_cookie_jar_count(w->jar);
            fh_cookie_jar_set(w->jar, "prog", "1", "example.com", "/", 0, 0, -1);
            fh_cookie_jar_delete(w->jar, "prog", NULL, NULL);
        }
    }
    fh__url_free(&u);
    return NULL;
}

static void test_threads(void **state)
{
    fx *f = *state;
    pthread_t t[4];
    worker w[4];
    fh_cookie_jar_set_clock(f->jar, NULL, NULL);
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){ f->jar, i, 0 };
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    assert_true(fh_cookie_jar_count(f->jar) <= FH_COOKIE_MAX_PER_DOMAIN);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_parse_name_value),
        T(test_parse_rejects),
        T(test_parse_size_limit),
        T(test_attributes),
        T(test_attribute_values_ignored),
        T(test_domain_attribute),
        T(test_domain_last_wins),
        T(test_domain_match_table),
        T(test_host_only_vs_domain),
        T(test_ip_hosts),
        T(test_default_path),
        T(test_path_match_table),
        T(test_path_attribute),
        T(test_secure),
        T(test_secure_not_shadowed),
        T(test_prefixes),
        T(test_dates),
        T(test_expires_and_max_age),
        T(test_delete_by_expiry),
        T(test_expiry_clock),
        T(test_replace_keeps_creation),
        T(test_header_order),
        T(test_per_domain_limit),
        T(test_total_limit),
        T(test_set_seed_example),
        T(test_set_domains),
        T(test_set_invalid),
        T(test_add_round_trip),
        T(test_store_and_header_by_url),
        T(test_set_expiry_and_replace),
        T(test_get_delete_at_clear),
        T(test_copies_outlive_changes),
        T(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
