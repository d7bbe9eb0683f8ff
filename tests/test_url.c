/* test_url.c — fh__url_parse: valid and invalid absolute URLs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fasthttp/fasthttp.h"
#include "url.h"

#include <pthread.h>

struct ok_case {
    const char *url;
    int tls;
    const char *host;
    int port;
    int is_ip;
    const char *target;
    const char *authority;
    const char *userinfo;       /* NULL when none */
};

static const struct ok_case ok_cases[] = {
    { "http://example.com", 0, "example.com", 80, 0, "/", "example.com", NULL },
    { "https://example.com", 1, "example.com", 443, 0, "/", "example.com", NULL },
    { "http://example.com/", 0, "example.com", 80, 0, "/", "example.com", NULL },
    { "HTTP://Example.COM/Path", 0, "example.com", 80, 0, "/Path", "example.com", NULL },
    { "HtTpS://WWW.x.org", 1, "www.x.org", 443, 0, "/", "www.x.org", NULL },
    { "http://example.com:8080/a/b?c=d", 0, "example.com", 8080, 0, "/a/b?c=d",
      "example.com:8080", NULL },
    { "http://example.com:80/", 0, "example.com", 80, 0, "/", "example.com", NULL },
    { "https://example.com:443/", 1, "example.com", 443, 0, "/", "example.com", NULL },
    { "https://example.com:80/", 1, "example.com", 80, 0, "/", "example.com:80", NULL },
    { "http://example.com:443/", 0, "example.com", 443, 0, "/", "example.com:443", NULL },
    { "http://example.com:/x", 0, "example.com", 80, 0, "/x", "example.com", NULL },
    { "https://example.com:", 1, "example.com", 443, 0, "/", "example.com", NULL },
    { "http://example.com:1", 0, "example.com", 1, 0, "/", "example.com:1", NULL },
    { "http://example.com:65535", 0, "example.com", 65535, 0, "/", "example.com:65535", NULL },
    { "http://example.com:00080/", 0, "example.com", 80, 0, "/", "example.com", NULL },
    { "http://example.com?q=1", 0, "example.com", 80, 0, "/?q=1", "example.com", NULL },
    { "http://example.com:81?q", 0, "example.com", 81, 0, "/?q", "example.com:81", NULL },
    { "http://example.com#frag", 0, "example.com", 80, 0, "/", "example.com", NULL },
    { "http://example.com/p#frag?x", 0, "example.com", 80, 0, "/p", "example.com", NULL },
    { "http://example.com/p?q#f", 0, "example.com", 80, 0, "/p?q", "example.com", NULL },
    { "http://example.com/a%20b?x=%2F", 0, "example.com", 80, 0, "/a%20b?x=%2F",
      "example.com", NULL },
    { "http://example.com//double//slash", 0, "example.com", 80, 0, "//double//slash",
      "example.com", NULL },
    { "http://example.com/a?b?c=d&e=/f:g@h", 0, "example.com", 80, 0, "/a?b?c=d&e=/f:g@h",
      "example.com", NULL },
    { "http://my_host-1.example", 0, "my_host-1.example", 80, 0, "/", "my_host-1.example",
      NULL },
    { "http://localhost", 0, "localhost", 80, 0, "/", "localhost", NULL },
    { "http://example.com./", 0, "example.com.", 80, 0, "/", "example.com.", NULL },
    { "http://1example.com", 0, "1example.com", 80, 0, "/", "1example.com", NULL },
    { "http://a.b2/", 0, "a.b2", 80, 0, "/", "a.b2", NULL },
    { "http://127.0.0.1/", 0, "127.0.0.1", 80, 1, "/", "127.0.0.1", NULL },
    { "http://127.0.0.1:8000/x", 0, "127.0.0.1", 8000, 1, "/x", "127.0.0.1:8000", NULL },
    { "https://255.255.255.255", 1, "255.255.255.255", 443, 1, "/", "255.255.255.255", NULL },
    { "http://[::1]/", 0, "::1", 80, 1, "/", "[::1]", NULL },
    { "http://[::1]:8080/", 0, "::1", 8080, 1, "/", "[::1]:8080", NULL },
    { "https://[2001:DB8::A]:443/x", 1, "2001:db8::a", 443, 1, "/x", "[2001:db8::a]", NULL },
    { "http://[::ffff:1.2.3.4]/", 0, "::ffff:1.2.3.4", 80, 1, "/", "[::ffff:1.2.3.4]", NULL },
    { "http://[::1]:/", 0, "::1", 80, 1, "/", "[::1]", NULL },
    { "http://[::1]?q", 0, "::1", 80, 1, "/?q", "[::1]", NULL },
    { "http://user@example.com/", 0, "example.com", 80, 0, "/", "example.com", "user" },
    { "http://user:pa%20ss@example.com:81/", 0, "example.com", 81, 0, "/", "example.com:81",
      "user:pa%20ss" },
    { "https://u:p;!$&'()*+,=~._-@[::1]/", 1, "::1", 443, 1, "/", "[::1]",
      "u:p;!$&'()*+,=~._-" },
    { "http://:pw@example.com", 0, "example.com", 80, 0, "/", "example.com", ":pw" },
    { "http://@example.com", 0, "example.com", 80, 0, "/", "example.com", NULL },
    { "http://EXAMPLE.com/PATH?Q=UPPER", 0, "example.com", 80, 0, "/PATH?Q=UPPER",
      "example.com", NULL },
    { "http://example.com/\xc3\xa9t\xc3\xa9?q=\xe2\x82\xac", 0, "example.com", 80, 0,
      "/%C3%A9t%C3%A9?q=%E2%82%AC", "example.com", NULL },
    { "http://example.com/\xff\x80", 0, "example.com", 80, 0, "/%FF%80", "example.com", NULL },
    { "http://example.com?\xc3\xa9", 0, "example.com", 80, 0, "/?%C3%A9", "example.com",
      NULL },
    { "http://example.com/#\xc3\xa9", 0, "example.com", 80, 0, "/", "example.com", NULL },
    { "http://example.com/[x]{y}|^`\"<>", 0, "example.com", 80, 0, "/[x]{y}|^`\"<>",
      "example.com", NULL },
    /* Spaces after the authority are percent-encoded, as browsers do. */
    { "http://example.com/a b?q=c d#e f", 0, "example.com", 80, 0, "/a%20b?q=c%20d",
      "example.com", NULL },
    { "http://example.com/ ", 0, "example.com", 80, 0, "/%20", "example.com", NULL },
    { "http://example.com? x", 0, "example.com", 80, 0, "/?%20x", "example.com", NULL },
    /* IDNA (UTS #46 non-transitional, then IDNA2008). */
    { "http://b\xc3\xbc" "cher.example/", 0, "xn--bcher-kva.example", 80, 0, "/",
      "xn--bcher-kva.example", NULL },
    { "https://B\xc3\x9c" "CHER.example:8443/x", 1, "xn--bcher-kva.example", 8443, 0, "/x",
      "xn--bcher-kva.example:8443", NULL },
    { "http://\xe4\xbe\x8b\xe3\x81\x88\xe3\x80\x82\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88/", 0,
      "xn--r8jz45g.xn--zckzah", 80, 0, "/", "xn--r8jz45g.xn--zckzah", NULL },
    { "http://fa\xc3\x9f" ".de/", 0, "xn--fa-hia.de", 80, 0, "/", "xn--fa-hia.de", NULL },
    { "http://u:p@m\xc3\xbcnchen.de/", 0, "xn--mnchen-3ya.de", 80, 0, "/",
      "xn--mnchen-3ya.de", "u:p" },
};

/* href: the URL as used (messages, fh_request_url, Response.url). */
static void test_href(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        { "http://example.com/a b?q=c d#e f", "http://example.com/a%20b?q=c%20d#e%20f" },
        { "HTTP://Example.COM:80/x", "HTTP://Example.COM:80/x" },
        { "http://u:p@b\xc3\xbc" "cher.example:81/\xc3\xa9 x?\xe2\x82\xac#\xc3\xa9" "",
          "http://u:p@xn--bcher-kva.example:81/%C3%A9%20x?%E2%82%AC#%C3%A9" },
        { "http://[::1]:8080", "http://[::1]:8080" },
        { "http://h?a=%20", "http://h?a=%20" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fh__url u;
        assert_int_equal(fh__url_parse(&u, cases[i][0], strlen(cases[i][0]), NULL), 0);
        assert_string_equal(u.href, cases[i][1]);
        fh__url_free(&u);
    }
    /* fh_request_url shows it without the credentials. */
    int err;
    fh_request *r = fh_request_new("GET", "http://u:p@m\xc3\xbcnchen.de/a b", &err);
    assert_non_null(r);
    assert_string_equal(fh_request_url(r), "http://xn--mnchen-3ya.de/a%20b");
    fh_request_free(r);
}

static void check_ok(const struct ok_case *c)
{
    fh__url u;
    const char *why = NULL;
    int rc = fh__url_parse(&u, c->url, strlen(c->url), &why);
    if (rc != 0)
        fail_msg("%s: rc=%d why=%s", c->url, rc, why ? why : "(null)");
    assert_int_equal(u.tls, c->tls);
    assert_string_equal(u.host, c->host);
    assert_int_equal(u.port, c->port);
    assert_int_equal(u.host_is_ip, c->is_ip);
    assert_string_equal(u.target, c->target);
    assert_string_equal(u.authority, c->authority);
    if (c->userinfo)
        assert_string_equal(u.userinfo, c->userinfo);
    else
        assert_null(u.userinfo);
    fh__url_free(&u);
    assert_null(u.host);
    assert_null(u.target);
}

static void test_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++)
        check_ok(&ok_cases[i]);
}

struct bad_case {
    const char *url;
    int rc;
    const char *why;            /* NULL: any sentence */
};

static const struct bad_case bad_cases[] = {
    { "", FH_EURL, "URL has no scheme" },
    { "example.com", FH_EURL, "URL has no scheme" },
    { "/path", FH_EURL, "URL has no scheme" },
    { "://example.com", FH_EURL, "URL has no scheme" },
    { "1http://example.com", FH_EURL, "URL has no scheme" },
    { "ftp://example.com/", FH_EUNSUPPORTED, "URL scheme must be http or https" },
    { "ws://example.com/", FH_EUNSUPPORTED, "URL scheme must be http or https" },
    { "httpx://example.com/", FH_EUNSUPPORTED, "URL scheme must be http or https" },
    { "file:///etc/passwd", FH_EUNSUPPORTED, "URL scheme must be http or https" },
    { "http:example.com", FH_EURL, "URL has no host" },
    { "http:/example.com", FH_EURL, "URL has no host" },
    { "http:", FH_EURL, "URL has no host" },
    { "http://", FH_EURL, "URL has no host" },
    { "http:///path", FH_EURL, "URL has no host" },
    { "http://?q", FH_EURL, "URL has no host" },
    { "http://#f", FH_EURL, "URL has no host" },
    { "http://:80/", FH_EURL, "URL has no host" },
    { "http://user@/", FH_EURL, "URL has no host" },
    { "http://[]/", FH_EURL, "URL has no host" },
    { "http://example.com:0/", FH_EURL, "invalid port in URL" },
    { "http://example.com:65536/", FH_EURL, "invalid port in URL" },
    { "http://example.com:99999999999999999999/", FH_EURL, "invalid port in URL" },
    { "http://example.com:-1/", FH_EURL, "invalid port in URL" },
    { "http://example.com:8a/", FH_EURL, "invalid port in URL" },
    { "http://example.com:+80/", FH_EURL, "invalid port in URL" },
    { "http://example.com:80:81/", FH_EURL, "invalid port in URL" },
    { "http://[::1]x/", FH_EURL, "invalid port in URL" },
    { "http://[::1]:x/", FH_EURL, "invalid port in URL" },
    { "http://::1/", FH_EURL, NULL },
    { "http://[::1/", FH_EURL, "invalid IPv6 address in URL" },
    { "http://[::g]/", FH_EURL, "invalid IPv6 address in URL" },
    { "http://[1.2.3.4]/", FH_EURL, "invalid IPv6 address in URL" },
    { "http://[fe80::1%25eth0]/", FH_EURL, "invalid IPv6 address in URL" },
    { "http://[v1.fe]/", FH_EURL, "invalid IPv6 address in URL" },
    { "http://[1:2:3:4:5:6:7:8:9:10:11:12:13:14:15:16]/", FH_EURL,
      "invalid IPv6 address in URL" },
    { "http://256.1.1.1/", FH_EURL, "invalid IPv4 address in URL" },
    { "http://1.2.3/", FH_EURL, "invalid IPv4 address in URL" },
    { "http://127.1/", FH_EURL, "invalid IPv4 address in URL" },
    { "http://2130706433/", FH_EURL, "invalid IPv4 address in URL" },
    { "http://0x7f.0.0.1/", FH_EURL, "invalid IPv4 address in URL" },
    { "http://foo.0x10/", FH_EURL, "invalid IPv4 address in URL" },
    { "http://1.2.3.4.5/", FH_EURL, "invalid IPv4 address in URL" },
    { "http://01.2.3.4/", FH_EURL, "invalid IPv4 address in URL" },
    { "http://example.123/", FH_EURL, "invalid IPv4 address in URL" },
    { "http://exa%6dple.com/", FH_EURL, "invalid character in URL host" },
    { "http://exa!mple.com/", FH_EURL, "invalid character in URL host" },
    { "http://.example.com/", FH_EURL, "invalid character in URL host" },
    { "http://a..b/", FH_EURL, "invalid character in URL host" },
    { "http://a@b@c/", FH_EURL, "invalid user information in URL" },
    { "http://us er@host/", FH_EURL, "URL contains a space or control character" },
    { "http://u%zz@host/", FH_EURL, "invalid user information in URL" },
    { "http://u%2@host/", FH_EURL, "invalid user information in URL" },
    { "http://u[x]@host/", FH_EURL, "invalid user information in URL" },
    { " http://example.com/", FH_EURL, "URL contains a space or control character" },
    { "http://example.com/\t", FH_EURL, "URL contains a space or control character" },
    { "http://example.com/\r\nX: y", FH_EURL, "URL contains a space or control character" },
    { "http://example.com/\x7f", FH_EURL, "URL contains a space or control character" },
    { "http://host:8 0/", FH_EURL, "URL contains a space or control character" },
    { "http://ho st/", FH_EURL, "URL contains a space or control character" },
    { "http://example.com/a\tb", FH_EURL, "URL contains a space or control character" },
    { "http://example.com/a b\r\n", FH_EURL, "URL contains a space or control character" },
    { "http://example.com?q=\n", FH_EURL, "URL contains a space or control character" },
    { "http://ex\xc3" "mple.com/", FH_EURL, "invalid international domain name in URL host (IDNA)" },
    { "http://\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.0.0.1/", FH_EURL,
      "invalid international domain name in URL host (IDNA)" },
    { "http://a\xe2\x80\x8b" "b..c/", FH_EURL, NULL },
    { "http://example.com\\@evil.com/", FH_EURL, "URL contains a backslash" },
    { "http://example.com/a\\b", FH_EURL, "URL contains a backslash" },
    { "http:\\\\example.com/", FH_EURL, "URL contains a backslash" },
};

static void test_invalid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *c = &bad_cases[i];
        fh__url u;
        const char *why = NULL;
        int rc = fh__url_parse(&u, c->url, strlen(c->url), &why);
        if (rc != c->rc)
            fail_msg("%s: rc=%d, want %d (why=%s)", c->url, rc, c->rc, why ? why : "(null)");
        assert_non_null(why);
        if (c->why && strcmp(why, c->why) != 0)
            fail_msg("%s: why=\"%s\", want \"%s\"", c->url, why, c->why);
        /* u is left zeroed, so freeing it again is harmless. */
        assert_null(u.host);
        assert_null(u.target);
        assert_null(u.authority);
        assert_null(u.userinfo);
        fh__url_free(&u);
    }
}

static void test_embedded_nul(void **state)
{
    (void)state;
    static const char s[] = "http://example.com/a\0b";
    fh__url u;
    const char *why = NULL;
    assert_int_equal(fh__url_parse(&u, s, sizeof s - 1, &why), FH_EURL);
    assert_string_equal(why, "URL contains a NUL character");
    /* A NUL in the host would truncate what the resolver sees. */
    static const char h[] = "http://evil.com\0.example.com/";
    assert_int_equal(fh__url_parse(&u, h, sizeof h - 1, NULL), FH_EURL);
}

static void test_length_not_nul(void **state)
{
    (void)state;
    /* Only len bytes are read: the rest of the buffer is ignored. */
    const char *s = "http://example.com/abcdef";
    fh__url u;
    assert_int_equal(fh__url_parse(&u, s, 20, NULL), 0);
    assert_string_equal(u.target, "/a");
    fh__url_free(&u);
    assert_int_equal(fh__url_parse(&u, s, 18, NULL), 0);
    assert_string_equal(u.host, "example.com");
    assert_string_equal(u.target, "/");
    fh__url_free(&u);
}

static void test_null_why_and_free_zeroed(void **state)
{
    (void)state;
    fh__url u;
    memset(&u, 0, sizeof u);
    fh__url_free(&u);
    assert_int_equal(fh__url_parse(&u, "nope", 4, NULL), FH_EURL);
    assert_int_equal(fh__url_parse(&u, "gopher://x", 10, NULL), FH_EUNSUPPORTED);
    assert_int_equal(fh__url_parse(&u, NULL, 0, NULL), FH_EURL);
}

static void test_host_length(void **state)
{
    (void)state;
    char buf[400];
    fh__url u;
    const char *why = NULL;
    /* 254 characters (253 plus a root dot) is the DNS maximum. */
    strcpy(buf, "http://");
    memset(buf + 7, 'a', 254);
    buf[7 + 254] = '\0';
    assert_int_equal(fh__url_parse(&u, buf, strlen(buf), &why), 0);
    assert_int_equal(strlen(u.host), 254);
    fh__url_free(&u);
    memset(buf + 7, 'a', 255);
    strcpy(buf + 7 + 255, "/");
    assert_int_equal(fh__url_parse(&u, buf, strlen(buf), &why), FH_EURL);
    assert_string_equal(why, "URL host name too long");
}

static void test_all_high_bytes_encoded(void **state)
{
    (void)state;
    char in[16 + 128 + 1], want[1 + 3 * 128 + 1];
    size_t n = 0, w = 0;
    memcpy(in, "http://h/", 9);
    n = 9;
    want[w++] = '/';
    for (int c = 0x80; c <= 0xff; c++) {
        in[n++] = (char)c;
        w += (size_t)snprintf(want + w, 4, "%%%02X", c);
    }
    fh__url u;
    assert_int_equal(fh__url_parse(&u, in, n, NULL), 0);
    assert_string_equal(u.target, want);
    for (const char *p = u.target; *p; p++)
        assert_true((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f);
    fh__url_free(&u);
}

static void test_every_low_byte_rejected(void **state)
{
    (void)state;
    for (int c = 0; c <= 0x20; c++) {
        char s[32];
        int n = snprintf(s, sizeof s, "http://h/x");
        s[n - 1] = (char)c;
        fh__url u;
        /* A space in the path is percent-encoded; controls stay refused. */
        assert_int_equal(fh__url_parse(&u, s, (size_t)n, NULL), c == ' ' ? FH_OK : FH_EURL);
        if (c == ' ') {
            assert_string_equal(u.target, "/%20");
            fh__url_free(&u);
        }
        s[n - 1] = 'x';
        s[7] = (char)c;         /* in the host */
        assert_int_equal(fh__url_parse(&u, s, (size_t)n, NULL), FH_EURL);
    }
}

/* RFC 3986 §5.4: reference resolution examples (base http://a/b/c/d;p?q). */
int fh__url_resolve(const fh__url *base, const char *ref, size_t len, char **out);

static void test_resolve_rfc3986_examples(void **state)
{
    static const char *const cases[][2] = {
        {"g", "http://a/b/c/g"},        {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"},      {"/g", "http://a/g"},
        {"//g", "http://g"},            {"?y", "http://a/b/c/d;p?y"},
        {"g?y", "http://a/b/c/g?y"},    {"#s", "http://a/b/c/d;p?q"},
        {"g#s", "http://a/b/c/g"},      {";x", "http://a/b/c/;x"},
        {"", "http://a/b/c/d;p?q"},     {".", "http://a/b/c/"},
        {"./", "http://a/b/c/"},        {"..", "http://a/b/"},
        {"../", "http://a/b/"},         {"../g", "http://a/b/g"},
        {"../..", "http://a/"},         {"../../g", "http://a/g"},
        {"../../../g", "http://a/g"},   {"/./g", "http://a/g"},
        {"/../g", "http://a/g"},        {"g.", "http://a/b/c/g."},
        {"..g", "http://a/b/c/..g"},    {"./../g", "http://a/b/g"},
        {"g/./h", "http://a/b/c/g/h"},  {"g/../h", "http://a/b/c/h"},
        {"https://x:8443/p", "https://x:8443/p"}, {"HTTP://a/B", "HTTP://a/B"},
    };
    fh__url base = {0};
    const char *b = "http://a/b/c/d;p?q";
    assert_int_equal(fh__url_parse(&base, b, strlen(b), NULL), FH_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        assert_int_equal(fh__url_resolve(&base, cases[i][0], strlen(cases[i][0]), &out), FH_OK);
        if (strcmp(out, cases[i][1]) != 0)
            fail_msg("resolve '%s': got '%s', want '%s'", cases[i][0], out, cases[i][1]);
        free(out);
    }
    char *out = NULL;
    assert_int_equal(fh__url_resolve(&base, "ftp://x/", 8, &out), FH_EUNSUPPORTED);
    assert_int_equal(fh__url_resolve(&base, "javascript:alert(1)", 19, &out), FH_EUNSUPPORTED);
    assert_null(out);
    fh__url_free(&base);
}

/* ---- credentials in URLs ---------------------------------------------------- */

static void creds(const char *url, int rc, const char *user, const char *pass)
{
    fh__url u;
    char *cu = NULL, *cp = NULL;
    const char *why = NULL;
    assert_int_equal(fh__url_parse(&u, url, strlen(url), NULL), FH_OK);
    int got = fh__url_credentials(&u, &cu, &cp, &why);
    if (got != rc)
        fail_msg("%s: rc %d, want %d (%s)", url, got, rc, why ? why : "");
    if (rc == FH_OK) {
        if (user)
            assert_string_equal(cu, user);
        else
            assert_null(cu);
        if (pass)
            assert_string_equal(cp, pass);
        else
            assert_null(cp);
    } else {
        assert_null(cu);
        assert_null(cp);
        assert_non_null(why);
    }
    free(cu);
    free(cp);
    fh__url_free(&u);
}

static void test_credentials(void **state)
{
    (void)state;
    creds("http://h/", FH_OK, NULL, NULL);
    creds("http://alice:s3cret@h/", FH_OK, "alice", "s3cret");
    creds("http://alice@h/", FH_OK, "alice", NULL);
    creds("http://alice:@h/", FH_OK, "alice", "");
    creds("http://:pw@h/", FH_OK, "", "pw");
    creds("http://a%40b:p%3Aw%25@h/", FH_OK, "a@b", "p:w%");
    creds("http://a:b:c@h/", FH_OK, "a", "b:c");   /* only the first ':' splits */
    creds("http://a%3Ab:c@h/", FH_EURL, NULL, NULL); /* RFC 7617 §2: no ':' in a user-id */
    creds("http://a:b%00c@h/", FH_EURL, NULL, NULL); /* NUL would shorten the password */
    creds("http://a%0d%0a:b@h/", FH_EURL, NULL, NULL);
    creds("http://a:%7f@h/", FH_EURL, NULL, NULL);
    creds("http://%C3%A9:%E2%82%AC@h/", FH_OK, "\xc3\xa9", "\xe2\x82\xac"); /* UTF-8 kept */
}

static void strip(const char *in, const char *want)
{
    char *out = fh__url_strip_userinfo(in, strlen(in));
    assert_non_null(out);
    if (strcmp(out, want) != 0)
        fail_msg("strip '%s': got '%s', want '%s'", in, out, want);
    free(out);
}

static void test_strip_userinfo(void **state)
{
    (void)state;
    strip("http://alice:s3cret@h:8080/p?q#f", "http://h:8080/p?q#f");
    strip("https://tok@h", "https://h");
    strip("http://h/a@b", "http://h/a@b"); /* an '@' in the path is not userinfo */
    strip("http://h?x=a@b", "http://h?x=a@b");
    strip("http://a@b@h/", "http://h/");
    strip("http://h/", "http://h/");
    strip("not a url", "not a url");
    strip("http://h/x?a://b@c", "http://h/x?a://b@c");
}

static void redact(const char *in, const char *want)
{
    char out[128];
    size_t n = fh_url_redact(in, strlen(in), out, sizeof out);
    if (strcmp(out, want) != 0)
        fail_msg("redact '%s': got '%s', want '%s'", in, out, want);
    assert_int_equal(n, strlen(want));
}

static void test_redact(void **state)
{
    (void)state;
    redact("http://alice:s3cret@h/", "http://alice:***@h/");
    redact("http://alice:@h/", "http://alice:***@h/");
    redact("https://ghp_token@h/x", "https://***@h/x"); /* a lone user name is a token */
    redact("http://h/a:b@c", "http://h/a:b@c");
    redact("http://a:b@c:d@h/", "http://a:***@h/"); /* invalid, but nothing leaks */
    redact("http://h/", "http://h/");
    redact("alice:s3cret@example.com/x", "alice:***@example.com/x"); /* no scheme */
    redact("tok@h/a@b", "***@h/a@b");
    redact("/a@b", "/a@b");
    redact("", "");
    /* Clipped output stays terminated; the return value is the full length. */
    char small[12];
    size_t n = fh_url_redact("http://a:b@host/", 16, small, sizeof small);
    assert_int_equal(n, strlen("http://a:***@host/"));
    assert_string_equal(small, "http://a:**");
    assert_int_equal(fh_url_redact("http://a:b@h", 12, NULL, 0), strlen("http://a:***@h"));
    /* Lengths are honoured: the bytes after a NUL are part of the URL. */
    static const char nul[] = "http://u:p\0w@h/";
    char out[64];
    fh_url_redact(nul, sizeof nul - 1, out, sizeof out);
    assert_string_equal(out, "http://u:***@h/");
}

static void test_request_new_n(void **state)
{
    (void)state;
    int err = 0;
    static const char m[] = "GET\0X", u[] = "http://127.0.0.1\0.evil.example:8080/";
    assert_null(fh_request_new_n(m, sizeof m - 1, "http://h/", 9, &err));
    assert_int_equal(err, FH_EHEADER);
    assert_null(fh_request_new_n("GET", 3, u, sizeof u - 1, &err));
    assert_int_equal(err, FH_EURL);
    static const char p[] = "http://h/public\0/../admin";
    assert_null(fh_request_new_n("GET", 3, p, sizeof p - 1, &err));
    assert_int_equal(err, FH_EURL);
    char msg[64];
    assert_int_equal(fh_url_check_n(p, sizeof p - 1, msg, sizeof msg), FH_EURL);
    assert_string_equal(msg, "URL contains a NUL character");
    /* Not NUL-terminated: only the given bytes count. */
    fh_request *r = fh_request_new_n("GETX", 3, "http://h/abcdef", 11, &err);
    assert_non_null(r);
    assert_string_equal(fh_request_method(r), "GET");
    assert_string_equal(fh_request_url(r), "http://h/ab");
    fh_request_free(r);
    /* Credentials are taken out of the URL the request shows. */
    r = fh_request_new("GET", "http://alice:s3cret@h:81/x", &err);
    assert_non_null(r);
    assert_string_equal(fh_request_url(r), "http://h:81/x");
    fh_request_free(r);
    assert_null(fh_request_new("GET", "http://a%3Ab:c@h/", &err));
    assert_int_equal(err, FH_EURL);
    assert_int_equal(fh_url_check("http://a:b%0A@h/", msg, sizeof msg), FH_EURL);
    assert_string_equal(msg, "user information in URL contains a control character");
}

/* Requests with the same URL share one parsed copy (url_cache.c): the
 * same strings, alive as long as any of them; a URL with credentials is
 * never shared; a request made on a thread that has ended stays whole. */
static void *make_on_thread(void *arg)
{
    return fh_request_new("GET", arg, NULL);
}

static void test_shared_between_requests(void **state)
{
    (void)state;
    const char *a = "http://example.com/a?x=1#frag";
    fh_request *r1 = fh_request_new("GET", a, NULL);
    fh_request *r2 = fh_request_new("POST", a, NULL);
    assert_non_null(r1);
    assert_non_null(r2);
    assert_ptr_equal(fh_request_url(r1), fh_request_url(r2));
    assert_string_equal(fh_request_url(r2), "http://example.com/a?x=1#frag");
    fh_request_free(r1);
    assert_string_equal(fh_request_url(r2), "http://example.com/a?x=1#frag"); /* still alive */
    fh_request *r3 = fh_request_new("GET", "http://example.com/b", NULL);
    assert_ptr_not_equal(fh_request_url(r3), fh_request_url(r2));
    fh_request *r4 = fh_request_new("GET", a, NULL); /* the last one is remembered: parsed anew */
    assert_string_equal(fh_request_url(r4), fh_request_url(r2));
    fh_request_free(r2);
    fh_request_free(r3);
    fh_request_free(r4);
    /* Credentials: each request its own, and never in the URL shown. */
    const char *c = "http://user:pw@example.com/c";
    fh_request *c1 = fh_request_new("GET", c, NULL), *c2 = fh_request_new("GET", c, NULL);
    assert_ptr_not_equal(fh_request_url(c1), fh_request_url(c2));
    assert_string_equal(fh_request_url(c1), "http://example.com/c");
    fh_request_free(c1);
    fh_request_free(c2);
    /* An empty userinfo is stripped from the URL shown, shared or not. */
    fh_request *e1 = fh_request_new("GET", "http://@example.com/e", NULL);
    char *want = fh__url_strip_userinfo("http://@example.com/e", 21);
    assert_string_equal(fh_request_url(e1), want);
    free(want);
    fh_request_free(e1);
    /* A bad URL is refused the same way twice (nothing cached). */
    for (int i = 0; i < 2; i++) {
        int err = 0;
        assert_null(fh_request_new("GET", "http://exa mple.com/", &err));
        assert_int_equal(err, FH_EURL);
    }
    /* Made on a thread that ended (its memory of the URL dropped). */
    pthread_t t;
    void *made = NULL;
    const char *d = "https://example.org:8443/d";
    assert_int_equal(pthread_create(&t, NULL, make_on_thread, (void *)d), 0);
    assert_int_equal(pthread_join(t, &made), 0);
    fh_request *d2 = fh_request_new("GET", d, NULL);
    assert_string_equal(fh_request_url(made), "https://example.org:8443/d");
    assert_string_equal(fh_request_url(d2), fh_request_url(made));
    fh_request_free(made);
    fh_request_free(d2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_href),
        cmocka_unit_test(test_shared_between_requests),
        cmocka_unit_test(test_resolve_rfc3986_examples),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_length_not_nul),
        cmocka_unit_test(test_null_why_and_free_zeroed),
        cmocka_unit_test(test_host_length),
        cmocka_unit_test(test_all_high_bytes_encoded),
        cmocka_unit_test(test_every_low_byte_rejected),
        cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_strip_userinfo),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_request_new_n),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
