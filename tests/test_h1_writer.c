/*
 * test_h1_writer.c — the HTTP/1.1 request writer (src/h1_writer.c): exact
 * bytes of request heads, and refusal of anything that could split a
 * request, with the output buffer left untouched.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "h1.h"

#define S(lit) (lit), (sizeof(lit) - 1)
#define H(n, v) {(n), sizeof(n) - 1, (v), sizeof(v) - 1}

static void assert_buf(const fh__buf *b, const char *want)
{
    size_t n = strlen(want);
    if (b->len != n || memcmp(b->data, want, n) != 0) {
        print_error("got  '%.*s'\nwant '%s'\n", (int)b->len, (const char *)b->data, want);
        fail();
    }
}

static void test_simple_get(void **state)
{
    (void)state;
    fh__buf b = {0};
    assert_int_equal(fh__h1_write_head(&b, S("GET"), S("/"), S("example.com"), NULL, 0,
                                       FH__BODY_NONE),
                     FH_OK);
    assert_buf(&b, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
    fh__buf_free(&b);
}

static void test_header_order_kept(void **state)
{
    (void)state;
    fh__buf b = {0};
    const fh_header h[] = {
        H("User-Agent", "fasthttp/0.1"),
        H("accept", "*/*"),
        H("X-Dup", "1"),
        H("X-Empty", ""),
        H("X-Dup", "2"),
        H("X-Utf8", "caf\xc3\xa9\tok"),
    };
    assert_int_equal(fh__h1_write_head(&b, S("GET"), S("/a/b?c=d&e"), S("[::1]:8080"), h, 6,
                                       FH__BODY_NONE),
                     FH_OK);
    assert_buf(&b, "GET /a/b?c=d&e HTTP/1.1\r\n"
                   "Host: [::1]:8080\r\n"
                   "User-Agent: fasthttp/0.1\r\n"
                   "accept: */*\r\n"
                   "X-Dup: 1\r\n"
                   "X-Empty: \r\n"
                   "X-Dup: 2\r\n"
                   "X-Utf8: caf\xc3\xa9\tok\r\n"
                   "\r\n");
    fh__buf_free(&b);
}

static void test_content_length(void **state)
{
    (void)state;
    fh__buf b = {0};
    const fh_header h[] = {H("Content-Type", "application/json")};
    assert_int_equal(fh__h1_write_head(&b, S("POST"), S("/submit"), S("h"), h, 1, 13), FH_OK);
    assert_buf(&b, "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
                   "Content-Length: 13\r\n\r\n");
    b.len = 0;
    assert_int_equal(fh__h1_write_head(&b, S("PUT"), S("/"), S("h"), NULL, 0, 0), FH_OK);
    assert_buf(&b, "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
    b.len = 0;
    assert_int_equal(fh__h1_write_head(&b, S("PUT"), S("/"), S("h"), NULL, 0, INT64_MAX),
                     FH_OK);
    assert_buf(&b, "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n");
    fh__buf_free(&b);
}

static void test_chunked(void **state)
{
    (void)state;
    fh__buf b = {0};
    assert_int_equal(fh__h1_write_head(&b, S("POST"), S("/up"), S("h:81"), NULL, 0,
                                       FH__BODY_CHUNKED),
                     FH_OK);
    assert_buf(&b, "POST /up HTTP/1.1\r\nHost: h:81\r\nTransfer-Encoding: chunked\r\n\r\n");
    fh__buf_free(&b);
}

static void test_appends_and_omits_host(void **state)
{
    (void)state;
    fh__buf b = {0};
    assert_int_equal(fh__buf_append_str(&b, "previous"), FH_OK);
    const fh_header h[] = {H("Host", "override.example")};
    assert_int_equal(fh__h1_write_head(&b, S("OPTIONS"), S("*"), NULL, 0, h, 1, FH__BODY_NONE),
                     FH_OK);
    assert_buf(&b, "previousOPTIONS * HTTP/1.1\r\nHost: override.example\r\n\r\n");
    /* an empty authority still sends Host (RFC 9112 §3.2) */
    b.len = 0;
    assert_int_equal(fh__h1_write_head(&b, S("GET"), S("/"), "", 0, NULL, 0, FH__BODY_NONE),
                     FH_OK);
    assert_buf(&b, "GET / HTTP/1.1\r\nHost: \r\n\r\n");
    fh__buf_free(&b);
}

/* Fields checked when they were added are not checked again: only those
 * after the first nchecked are (fh__h1_write_head_n). */
static void test_checked_fields_skipped(void **state)
{
    (void)state;
    fh__buf b = {0};
    const fh_header h[] = {H("A", "1"), H("B", "2"), H("Bad Name", "v")};
    assert_int_equal(fh__h1_write_head_n(&b, S("GET"), S("/"), S("h"), h, 2, 2, FH__BODY_NONE),
                     FH_OK);
    assert_buf(&b, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n");
    b.len = 0;
    /* the third is not in the checked part: refused, nothing written */
    assert_int_equal(fh__h1_write_head_n(&b, S("GET"), S("/"), S("h"), h, 3, 2, FH__BODY_NONE),
                     FH_EHEADER);
    assert_int_equal(b.len, 0);
    assert_int_equal(fh__h1_write_head_n(&b, S("GET"), S("/"), S("h"), h, 2, 3, FH__BODY_NONE),
                     FH_EINVAL);
    assert_int_equal(fh__h1_write_head_n(&b, S("GET"), S("/"), S("h"), NULL, 0, 0, 0), FH_OK);
    fh__buf_free(&b);
}

static void test_large_head(void **state)
{
    (void)state;
    static char big[100000];
    memset(big, 'v', sizeof big);
    fh_header h[3] = {{"A", 1, big, sizeof big}, {"B", 1, big, 10}, {"C", 1, big, 0}};
    fh__buf b = {0};
    assert_int_equal(fh__h1_write_head(&b, S("GET"), S("/"), S("h"), h, 3, 5), FH_OK);
    assert_int_equal(b.len, strlen("GET / HTTP/1.1\r\nHost: h\r\n") + 5 + sizeof big + 5 + 10 +
                                5 + strlen("Content-Length: 5\r\n\r\n"));
    fh__buf_free(&b);
}

/* A head that must be refused: FH_EHEADER (or rc) with b untouched. */
static void expect_refused(const char *m, size_t ml, const char *t, size_t tl, const char *a,
                           size_t al, const fh_header *h, size_t nh, int64_t body, int rc)
{
    fh__buf b = {0};
    assert_int_equal(fh__buf_append_str(&b, "keep"), FH_OK);
    uint8_t *data = b.data;
    size_t cap = b.cap;
    assert_int_equal(fh__h1_write_head(&b, m, ml, t, tl, a, al, h, nh, body), rc);
    assert_int_equal(b.len, 4);
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.cap, cap);
    assert_memory_equal(b.data, "keep", 4);
    fh__buf_free(&b);
}

static void test_bad_method(void **state)
{
    (void)state;
    static const char *bad[] = {"",     "GE T", "GET\r\n", "GET\n",   "G\0T", "GET\t",
                                "G(T)", "G\"T", "G:T",     "G\xc3\xa9", "G/T",  "G@T"};
    static const size_t len[] = {0, 4, 5, 4, 3, 4, 4, 3, 3, 3, 3, 3};
    for (size_t i = 0; i < sizeof len / sizeof len[0]; i++) {
        assert_int_equal(fh__h1_check_method(bad[i], len[i]), FH_EHEADER);
        expect_refused(bad[i], len[i], S("/"), S("h"), NULL, 0, FH__BODY_NONE, FH_EHEADER);
    }
    assert_int_equal(fh__h1_check_method(S("GET")), FH_OK);
    assert_int_equal(fh__h1_check_method(S("M-SEARCH")), FH_OK);
    assert_int_equal(fh__h1_check_method(S("!#$%&'*+-.^_`|~09azAZ")), FH_OK);
    assert_int_equal(fh__h1_check_method(NULL, 0), FH_EHEADER);
}

static void test_bad_target(void **state)
{
    (void)state;
    static const char *bad[] = {"", "/a b", "/a\r\nX: y", "/a\n", "/a\0b", "/\t", "/\x7f",
                                "/\x01"};
    static const size_t len[] = {0, 4, 8, 3, 4, 2, 2, 2};
    for (size_t i = 0; i < sizeof len / sizeof len[0]; i++) {
        assert_int_equal(fh__h1_check_target(bad[i], len[i]), FH_EHEADER);
        expect_refused(S("GET"), bad[i], len[i], S("h"), NULL, 0, FH__BODY_NONE, FH_EHEADER);
    }
    assert_int_equal(fh__h1_check_target(S("/p?q=%20&r=[x]#")), FH_OK);
    assert_int_equal(fh__h1_check_target(S("http://h/x")), FH_OK);
}

static void test_bad_header(void **state)
{
    (void)state;
    const fh_header bad[] = {
        H("", "v"),
        H("X Y", "v"),
        H("X:", "v"),
        H("X\r\nY", "v"),
        H("X\n", "v"),
        {"X\0Y", 3, "v", 1},
        H("X\t", "v"),
        H("X(", "v"),
        H("\xc3\xa9", "v"),
        H("X", "a\r\nEvil: 1"),
        H("X", "a\rb"),
        H("X", "a\nb"),
        {"X", 1, "a\0b", 3},
        H("X", "\x01"),
        H("X", "\x1f"),
        H("X", "a\x7f"),
        H("X", "\r\n"),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(fh__h1_check_header(bad[i].name, bad[i].name_len, bad[i].value,
                                             bad[i].value_len),
                         FH_EHEADER);
        /* the bad header last: the good ones before it are not written */
        const fh_header hs[2] = {H("Accept", "*/*"), bad[i]};
        expect_refused(S("GET"), S("/"), S("h"), hs, 2, FH__BODY_NONE, FH_EHEADER);
    }
    assert_int_equal(fh__h1_check_header(S("X"), S("")), FH_OK);
    assert_int_equal(fh__h1_check_header(S("X"), S(" a\tb \x80\xff ~")), FH_OK);
}

/* Every byte value at every position of values shorter and longer than a
 * machine word (the check goes eight bytes at a time): only HTAB, SP,
 * VCHAR and obs-text pass (RFC 9110 §5.5). */
static void test_field_value_every_byte(void **state)
{
    (void)state;
    char v[27];
    for (size_t len = 1; len <= sizeof v; len += 5) {
        for (size_t pos = 0; pos < len; pos++) {
            for (int c = 0; c < 256; c++) {
                memset(v, 'a', sizeof v);
                v[pos] = (char)c;
                int ok = c == '\t' || (c >= 0x20 && c != 0x7f);
                int rc = fh__h1_check_header("X", 1, v, len);
                if (rc != (ok ? FH_OK : FH_EHEADER))
                    fail_msg("byte 0x%02x at %zu of %zu: %d", c, pos, len, rc);
            }
        }
    }
    assert_int_equal(fh__h1_check_header("X", 1, "", 0), FH_OK);
}

static void test_bad_authority_and_body(void **state)
{
    (void)state;
    expect_refused(S("GET"), S("/"), S("h\r\nX: y"), NULL, 0, FH__BODY_NONE, FH_EHEADER);
    expect_refused(S("GET"), S("/"), "h\0", 2, NULL, 0, FH__BODY_NONE, FH_EHEADER);
    expect_refused(S("GET"), S("/"), S("h"), NULL, 0, -3, FH_EINVAL);
    expect_refused(S("GET"), S("/"), S("h"), NULL, 0, INT64_MIN, FH_EINVAL);
}

static void test_chunk_prefix(void **state)
{
    (void)state;
    char out[20];
    assert_int_equal(fh__h1_chunk_prefix(out, 1), 3);
    assert_memory_equal(out, "1\r\n", 3);
    assert_int_equal(fh__h1_chunk_prefix(out, 255), 4);
    assert_memory_equal(out, "ff\r\n", 4);
    assert_int_equal(fh__h1_chunk_prefix(out, 4096), 6);
    assert_memory_equal(out, "1000\r\n", 6);
    assert_int_equal(fh__h1_chunk_prefix(out, 0x10abcdef), 10);
    assert_memory_equal(out, "10abcdef\r\n", 10);
    assert_int_equal(fh__h1_chunk_prefix(out, SIZE_MAX), 2 * sizeof(size_t) + 2);
    assert_memory_equal(out, "ffffffff", 8);
}

/* What the writer emits, the parser-side rules accept: a round trip of a
 * chunked body through fh__h1_chunk_prefix and the body parser. */
static void test_chunk_round_trip(void **state)
{
    (void)state;
    char wire[256];
    size_t n = 0;
    static const char *parts[] = {"hello", " ", "world, this is a longer chunk"};
    for (size_t i = 0; i < 3; i++) {
        size_t l = strlen(parts[i]);
        n += fh__h1_chunk_prefix(wire + n, l);
        memcpy(wire + n, parts[i], l);
        n += l;
        memcpy(wire + n, "\r\n", 2);
        n += 2;
    }
    memcpy(wire + n, "0\r\n\r\n", 5);
    n += 5;
    fh__h1_head head = {.body_kind = FH__FRAME_CHUNKED};
    fh__h1_body b;
    fh__h1_body_init(&b, &head, NULL);
    char got[64];
    size_t got_len = 0, off = 0;
    int rc = 0;
    while (rc == 0 && off < n) {
        size_t consumed, dl;
        const uint8_t *d;
        rc = fh__h1_body_feed(&b, (const uint8_t *)wire + off, n - off, &consumed, &d, &dl);
        memcpy(got + got_len, d, dl);
        got_len += dl;
        off += consumed;
    }
    assert_int_equal(rc, 1);
    assert_int_equal(off, n);
    assert_int_equal(got_len, strlen("hello world, this is a longer chunk"));
    assert_memory_equal(got, "hello world, this is a longer chunk", got_len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_header_order_kept),
        cmocka_unit_test(test_content_length),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_appends_and_omits_host),
        cmocka_unit_test(test_large_head),
        cmocka_unit_test(test_checked_fields_skipped),
        cmocka_unit_test(test_bad_method),
        cmocka_unit_test(test_bad_target),
        cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_field_value_every_byte),
        cmocka_unit_test(test_bad_authority_and_body),
        cmocka_unit_test(test_chunk_prefix),
        cmocka_unit_test(test_chunk_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
