/*
 * test_proxy_proto.c — the sans-IO proxy messages (src/proxy.c): proxy URLs,
 * the CONNECT request and its reply fed at every split point, SOCKS5's
 * greeting, method choice, RFC 1929 sub-negotiation and the variable-length
 * CONNECT reply at every split point, and NO_PROXY parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "fasthttp/errors.h"
#include "proxy.h"

static void test_proxy_urls(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc, kind, port;
        const char *host, *user, *pass, *id;
    } rows[] = {
        {"http://proxy:3128", FH_OK, FH__PX_HTTP, 3128, "proxy", NULL, NULL,
         "http://proxy:3128"},
        {"proxy:3128", FH_OK, FH__PX_HTTP, 3128, "proxy", NULL, NULL, "http://proxy:3128"},
        {"HTTPS://Proxy.Example/", FH_OK, FH__PX_HTTPS, 443, "proxy.example", NULL, NULL,
         "https://proxy.example:443"},
        {"socks5://u:p%40ss@[::1]", FH_OK, FH__PX_SOCKS5, 1080, "::1", "u", "p@ss", NULL},
        {"socks5h://10.0.0.1:80", FH_OK, FH__PX_SOCKS5H, 80, "10.0.0.1", NULL, NULL,
         "socks5h://10.0.0.1:80"},
        {"http://user@p", FH_OK, FH__PX_HTTP, 80, "p", "user", "", NULL},
        {"ftp://p", FH_EUNSUPPORTED, 0, 0, NULL, NULL, NULL, NULL},
        {"http://p/path", FH_EURL, 0, 0, NULL, NULL, NULL, NULL},
        {"http://p?q=1", FH_EURL, 0, 0, NULL, NULL, NULL, NULL},
        {"http://", FH_EURL, 0, 0, NULL, NULL, NULL, NULL},
        {"http://p:99999", FH_EURL, 0, 0, NULL, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        fh__proxy p;
        const char *why = NULL;
        int rc = fh__proxy_parse(&p, rows[i].in, strlen(rows[i].in), &why);
        if (rc != rows[i].rc)
            fail_msg("%s: %d (%s)", rows[i].in, rc, why ? why : "");
        if (rc == FH_OK) {
            assert_int_equal(p.kind, rows[i].kind);
            assert_int_equal(p.port, rows[i].port);
            assert_string_equal(p.host, rows[i].host);
            if (rows[i].user) {
                assert_string_equal(p.user, rows[i].user);
                assert_string_equal(p.pass, rows[i].pass);
            } else {
                assert_null(p.user);
            }
            if (rows[i].id)
                assert_string_equal(p.id, rows[i].id);
        } else {
            assert_non_null(why);
        }
        fh__proxy_free(&p);
    }
    fh__proxy p;
    const char *why;
    assert_int_equal(fh__proxy_parse(&p, "http://al:s3cret@p:1", 20, &why), FH_OK);
    assert_string_equal(p.auth, "Basic YWw6czNjcmV0");
    assert_null(strstr(p.id, "s3cret"));
    assert_non_null(strstr(p.id, "http://al@p:1#"));
    fh__proxy_free(&p);
}

static void test_connect_request(void **state)
{
    (void)state;
    fh__proxy p;
    const char *why;
    assert_int_equal(fh__proxy_parse(&p, "http://al:s3cret@p:1", 20, &why), FH_OK);
    fh__buf b = {0};
    assert_int_equal(fh__proxy_connect_request(&b, "::1", 8443, &p), FH_OK);
    assert_int_equal(fh__buf_append(&b, "", 1), FH_OK);
    const char *s = (const char *)b.data;
    assert_true(strncmp(s, "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n", 46) == 0);
    assert_non_null(strstr(s, "\r\nProxy-Authorization: Basic YWw6czNjcmV0\r\n"));
    assert_non_null(strstr(s, "\r\n\r\n"));
    fh__buf_free(&b);
    fh__proxy_free(&p);
}

/* The reply at every split point gives what the whole gives; interim 1xx
 * heads are skipped as proxy_conn.c skips them. Returns the final length. */
static int final_reply(const char *in, size_t cut, size_t n, int *status)
{
    size_t off = 0, scan = 0;
    const char *why = NULL;
    for (;;) {
        size_t have = cut > off ? cut - off : 0;
        int rc = fh__proxy_connect_reply(in + off, have, &scan, status, &why);
        if (rc == FH_EAGAIN && cut < n) {
            cut = n; /* the rest arrives */
            continue;
        }
        if (rc < 0)
            return rc;
        off += (size_t)rc;
        scan = 0;
        if (*status >= 200)
            return (int)off;
    }
}

static void reply_splits(const char *in, int want_rc, int want_status)
{
    size_t n = strlen(in);
    for (size_t cut = 0; cut <= n; cut++) {
        int status = 0;
        int rc = final_reply(in, cut, n, &status);
        assert_int_equal(rc, want_rc);
        if (rc > 0)
            assert_int_equal(status, want_status);
    }
}

static void test_connect_reply(void **state)
{
    (void)state;
    const char *ok = "HTTP/1.1 200 Connection established\r\n\r\n";
    reply_splits(ok, (int)strlen(ok), 200);
    const char *interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 204 No Content\r\nX: y\r\n\r\n";
    reply_splits(interim, (int)strlen(interim), 204);
    const char *refused = "HTTP/1.1 407 Proxy Authentication Required\r\n"
                          "Proxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 5\r\n\r\n";
    reply_splits(refused, (int)strlen(refused), 407);
    reply_splits("SSH-2.0-OpenSSH\r\n\r\n", FH_EPROTO, 0);
    size_t scan = 0;
    int status;
    const char *why = NULL;
    /* Bytes after the head are not the reply's (the caller checks them). */
    const char *extra = "HTTP/1.1 200 OK\r\n\r\n\x16\x03\x01";
    assert_int_equal(fh__proxy_connect_reply(extra, strlen(extra), &scan, &status, &why), 19);
}

static void test_socks5(void **state)
{
    (void)state;
    uint8_t g[4];
    assert_int_equal(fh__socks5_greeting(g, 0), 3);
    assert_memory_equal(g, "\x05\x01\x00", 3);
    assert_int_equal(fh__socks5_greeting(g, 1), 4);
    assert_memory_equal(g, "\x05\x02\x00\x02", 4);
    int method = -1;
    const char *why = NULL;
    assert_int_equal(fh__socks5_method((const uint8_t *)"\x05", 1, 0, &method, &why), FH_EAGAIN);
    assert_int_equal(fh__socks5_method((const uint8_t *)"\x05\x00", 2, 0, &method, &why), 2);
    assert_int_equal(method, 0);
    assert_int_equal(fh__socks5_method((const uint8_t *)"\x05\x02", 2, 1, &method, &why), 2);
    assert_int_equal(method, 2);
    assert_int_equal(fh__socks5_method((const uint8_t *)"\x05\x02", 2, 0, &method, &why),
                     FH_EPROXY);
    assert_int_equal(fh__socks5_method((const uint8_t *)"\x05\xff", 2, 0, &method, &why),
                     FH_EPROXY);
    assert_non_null(strstr(why, "requires authentication"));
    assert_int_equal(fh__socks5_method((const uint8_t *)"\x04\x00", 2, 0, &method, &why),
                     FH_EPROXY);
    fh__buf b = {0};
    assert_int_equal(fh__socks5_auth_request(&b, "al", "pw"), FH_OK);
    assert_int_equal(b.len, 7);
    assert_memory_equal(b.data, "\x01\x02" "al" "\x02" "pw", 7);
    b.len = 0;
    assert_int_equal(fh__socks5_auth_request(&b, "", "pw"), FH_EINVAL);
    assert_int_equal(fh__socks5_auth_reply((const uint8_t *)"\x01\x00", 2, &why), 2);
    assert_int_equal(fh__socks5_auth_reply((const uint8_t *)"\x01\x01", 2, &why), FH_EPROXY);
    b.len = 0;
    assert_int_equal(fh__socks5_connect_request(&b, "example.com", NULL, 0, 443), FH_OK);
    assert_int_equal(b.len, 7 + 11);
    assert_memory_equal(b.data, "\x05\x01\x00\x03\x0b" "example.com" "\x01\xbb", 18);
    b.len = 0;
    const uint8_t v4[4] = {127, 0, 0, 1};
    assert_int_equal(fh__socks5_connect_request(&b, NULL, v4, 4, 80), FH_OK);
    assert_memory_equal(b.data, "\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50", 10);
    fh__buf_free(&b);
    static const struct {
        const char *in;
        size_t len;
        int rc, rep;
    } replies[] = {
        {"\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38", 10, 10, 0},
        {"\x05\x05\x00\x03\x03" "abc" "\x00\x50", 10, 10, 5},
        {"\x05\x00\x00\x04" "0123456789abcdef" "\x00\x50", 22, 22, 0},
        {"\x05\x00\x00\x09\x00\x00", 6, FH_EPROXY, 0},
        {"\x04\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10, FH_EPROXY, 0},
    };
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
        for (size_t cut = 0; cut <= replies[i].len; cut++) {
            int rep = -1;
            int rc = fh__socks5_reply((const uint8_t *)replies[i].in, cut, &rep, &why);
            if (cut < replies[i].len && rc == FH_EAGAIN)
                continue;
            assert_int_equal(rc, replies[i].rc);
            if (rc > 0)
                assert_int_equal(rep, replies[i].rep);
            break;
        }
    }
    assert_string_equal(fh__socks5_rep_text(5), "connection refused");
    assert_string_equal(fh__socks5_rep_text(99), "unassigned reply code");
}

static void test_no_proxy_parse(void **state)
{
    (void)state;
    fh__noproxy np;
    const char *list = " a.com,, .B.org\t*.c.net:8080 10.0.0.0/8,[::1]:443 fd00::/8 bad!name "
                       "1.2.3.4/40 [::1 ";
    assert_int_equal(fh__noproxy_parse(&np, list, strlen(list)), FH_OK);
    assert_int_equal(np.all, 0);
    assert_int_equal(np.n, 6); /* the three malformed entries are skipped */
    assert_true(fh__noproxy_match(&np, "x.b.org", 1));
    assert_true(fh__noproxy_match(&np, "c.net", 8080));
    assert_false(fh__noproxy_match(&np, "c.net", 80));
    assert_true(fh__noproxy_match(&np, "::1", 443));
    assert_false(fh__noproxy_match(&np, "::1", 80));
    assert_true(fh__noproxy_match(&np, "fdff::2", 80));
    assert_true(fh__noproxy_match(&np, "a.com.", 80)); /* a trailing dot is the same name */
    fh__noproxy_free(&np);
    assert_int_equal(fh__noproxy_parse(&np, "*", 1), FH_OK);
    assert_true(fh__noproxy_match(&np, "anything", 1));
    fh__noproxy_free(&np);
    assert_false(fh__noproxy_match(NULL, "a", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proxy_urls),
        cmocka_unit_test(test_connect_request),
        cmocka_unit_test(test_connect_reply),
        cmocka_unit_test(test_socks5),
        cmocka_unit_test(test_no_proxy_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
