/*
 * test_ws_proto.c — the sans-IO WebSocket core (src/ws_proto.c) and
 * permessage-deflate (src/ws_deflate.c): every input fed at every split
 * point gives the same messages, each protocol violation gives its close
 * code (RFC 6455 §7.4.1), UTF-8 by RFC 3629, the RFC 7692 negotiation
 * rules, compression round trips with and without context takeover, and a
 * deflate bomb stopped at the limit with bounded memory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fasthttp/errors.h"
#include "ws_proto.h"

/* A server frame (unmasked), or masked with key 01 02 03 04. */
static size_t frame(uint8_t *out, int fin, int rsv, int op, const void *data, size_t n, int mask)
{
    size_t k = 0;
    out[k++] = (uint8_t)((fin ? 0x80 : 0) | (rsv << 4) | op);
    uint8_t m = mask ? 0x80 : 0;
    if (n < 126) {
        out[k++] = (uint8_t)(m | n);
    } else if (n < 65536) {
        out[k++] = m | 126;
        out[k++] = (uint8_t)(n >> 8);
        out[k++] = (uint8_t)n;
    } else {
        out[k++] = m | 127;
        for (int i = 7; i >= 0; i--)
            out[k++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    const uint8_t key[4] = {1, 2, 3, 4};
    if (mask) {
        memcpy(out + k, key, 4);
        k += 4;
    }
    for (size_t i = 0; i < n; i++)
        out[k + i] = ((const uint8_t *)data)[i] ^ (mask ? key[i % 4] : 0);
    return k + n;
}

static void test_utf8(void **state)
{
    (void)state;
    static const struct { const char *s; int ok; } cases[] = {
        {"plain ascii text that is long enough", 1}, {"h\xc3\xa9llo", 1},
        {"\xe2\x82\xac", 1}, {"\xf0\x9f\x98\x80", 1}, {"\xf4\x8f\xbf\xbf", 1},
        {"\xc0\xaf", 0},           /* overlong */
        {"\xe0\x80\xaf", 0},       /* overlong */
        {"\xed\xa0\x80", 0},       /* surrogate U+D800 */
        {"\xf4\x90\x80\x80", 0},   /* above U+10FFFF */
        {"\xf5\x80\x80\x80", 0}, {"\xff", 0}, {"\x80", 0}, {"\xc3", -1}, /* -1: incomplete */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint8_t *s = (const uint8_t *)cases[i].s;
        size_t n = strlen(cases[i].s);
        uint32_t st = fh__utf8_step(0, s, n);
        if (cases[i].ok == 1)
            assert_int_equal(st, 0);
        else if (cases[i].ok == 0)
            assert_int_equal(st, FH__UTF8_BAD);
        else
            assert_true(st != 0 && st != FH__UTF8_BAD);
        /* the same at every split */
        for (size_t cut = 0; cut <= n; cut++) {
            uint32_t t = fh__utf8_step(fh__utf8_step(0, s, cut), s + cut, n - cut);
            assert_int_equal(t, st);
        }
    }
}

/* Feeds in[0..n) in pieces of sizes cut, n-cut; returns what feed returned last. */
static int feed_split(fh__wsp *p, const uint8_t *in, size_t n, size_t cut)
{
    int rc = fh__wsp_feed(p, in, cut);
    if (rc)
        return rc;
    return fh__wsp_feed(p, in + cut, n - cut);
}

static void test_messages_at_every_split(void **state)
{
    (void)state;
    uint8_t in[600];
    size_t n = 0;
    n += frame(in + n, 0, 0, 1, "Hel", 3, 0);
    n += frame(in + n, 1, 0, 9, "pi", 2, 0);        /* a ping between fragments */
    n += frame(in + n, 1, 0, 0, "lo \xc3\xa9", 5, 0);
    uint8_t big[300];
    memset(big, 'b', sizeof big);
    n += frame(in + n, 1, 0, 2, big, sizeof big, 0); /* 16-bit length */
    n += frame(in + n, 1, 0, 1, "", 0, 0);
    n += frame(in + n, 1, 0, 8, "\x03\xe8" "bye", 5, 0);
    for (size_t cut = 0; cut <= n; cut++) {
        fh__wsp p;
        assert_int_equal(fh__wsp_init(&p, NULL, 1 << 20), FH_OK);
        assert_int_equal(feed_split(&p, in, n, cut), FH_OK);
        fh__wsmsg *m = fh__wsp_pop(&p);
        assert_non_null(m);
        assert_int_equal(m->type, 1);
        assert_int_equal(m->data.len, 8);
        assert_memory_equal(m->data.data, "Hello \xc3\xa9", 8);
        fh__wsmsg_free(m);
        m = fh__wsp_pop(&p);
        assert_int_equal(m->type, 2);
        assert_int_equal(m->data.len, 300);
        fh__wsmsg_free(m);
        m = fh__wsp_pop(&p);
        assert_int_equal(m->data.len, 0);
        fh__wsmsg_free(m);
        assert_null(fh__wsp_pop(&p));
        assert_int_equal(p.code_received, 1000);
        assert_int_equal(p.reason_len, 3);
        assert_true(p.close_received && p.close_sent); /* echoed (§5.5.1) */
        /* out: a pong (masked, payload "pi") then the close echo */
        assert_int_equal(p.out.data[0], 0x8a);
        assert_int_equal(p.out.data[1], 0x80 | 2);
        assert_int_equal(p.out.data[2 + 4] ^ p.out.data[2], 'p');
        fh__wsp_free(&p);
    }
}

/* A violation: its close code is what the client sends. */
static void violation(const uint8_t *in, size_t n, int code, int pmd_on, size_t max)
{
    for (size_t cut = 0; cut <= n; cut += (n > 64 ? n / 16 : 1)) {
        fh__wsp p;
        fh__pmd pmd = {pmd_on, 0, 0, 0, 0};
        assert_int_equal(fh__wsp_init(&p, &pmd, max), FH_OK);
        assert_int_equal(feed_split(&p, in, n, cut), FH_EWS_PROTO);
        assert_true(p.failed);
        assert_int_equal(p.code_sent, code);
        /* the close frame went out: 0x88, masked, the code */
        assert_int_equal(p.out.data[p.out.len - 8], 0x88);
        uint8_t *k = p.out.data + p.out.len - 6;
        assert_int_equal(((k[4] ^ k[0]) << 8) | (k[5] ^ k[1]), code);
        /* more input is ignored */
        assert_int_equal(fh__wsp_feed(&p, in, n), FH_EWS_PROTO);
        fh__wsp_free(&p);
    }
}

static void test_violations(void **state)
{
    (void)state;
    uint8_t in[512];
    size_t n;
    n = frame(in, 1, 0, 1, "x", 1, 1);
    violation(in, n, 1002, 0, 100); /* masked server frame */
    n = frame(in, 1, 2, 1, "x", 1, 0);
    violation(in, n, 1002, 0, 100); /* RSV2 */
    n = frame(in, 1, 4, 1, "x", 1, 0);
    violation(in, n, 1002, 0, 100); /* RSV1 without permessage-deflate */
    n = frame(in, 1, 4, 9, "x", 1, 0);
    violation(in, n, 1002, 1, 100); /* RSV1 on a control frame */
    n = frame(in, 1, 0, 3, "x", 1, 0);
    violation(in, n, 1002, 0, 100); /* reserved data opcode */
    n = frame(in, 1, 0, 0xb, "x", 1, 0);
    violation(in, n, 1002, 0, 100); /* reserved control opcode */
    n = frame(in, 0, 0, 9, "x", 1, 0);
    violation(in, n, 1002, 0, 100); /* fragmented ping */
    uint8_t big[126];
    memset(big, 'x', sizeof big);
    n = frame(in, 1, 0, 10, big, 126, 0);
    violation(in, n, 1002, 0, 1000); /* control frame > 125 */
    n = frame(in, 1, 0, 0, "x", 1, 0);
    violation(in, n, 1002, 0, 100); /* orphan continuation */
    n = frame(in, 0, 0, 1, "a", 1, 0);
    n += frame(in + n, 1, 0, 2, "b", 1, 0);
    violation(in, n, 1002, 0, 100); /* new message inside a fragmented one */
    n = frame(in, 1, 0, 1, "\xed\xa0\x80", 3, 0);
    violation(in, n, 1007, 0, 100); /* invalid UTF-8 */
    n = frame(in, 0, 0, 1, "\xe2\x82", 2, 0);
    n += frame(in + n, 1, 0, 0, "", 0, 0);
    violation(in, n, 1007, 0, 100); /* text ends inside a code point */
    n = frame(in, 1, 0, 8, "\x03\xed", 2, 0);
    violation(in, n, 1002, 0, 100); /* close code 1005 on the wire */
    n = frame(in, 1, 0, 8, "\x03", 1, 0);
    violation(in, n, 1002, 0, 100); /* 1-byte close payload */
    n = frame(in, 1, 0, 8, "\x03\xe8\xff", 3, 0);
    violation(in, n, 1007, 0, 100); /* close reason not UTF-8 */
    static const uint8_t huge[] = {0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}; /* 2^63 */
    violation(huge, sizeof huge, 1002, 0, 100);
    static const uint8_t nonmin[] = {0x82, 0x7e, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'};
    violation(nonmin, sizeof nonmin, 1002, 0, 100); /* 16-bit length for 5 bytes */
    n = frame(in, 1, 0, 2, big, 101, 0);
    violation(in, n, 1009, 0, 100); /* over max_message */
}

static void test_close_3000_is_valid(void **state)
{
    (void)state;
    uint8_t in[16];
    size_t n = frame(in, 1, 0, 8, "\x0b\xb8", 2, 0);
    fh__wsp p;
    assert_int_equal(fh__wsp_init(&p, NULL, 100), FH_OK);
    assert_int_equal(fh__wsp_feed(&p, in, n), FH_OK);
    assert_int_equal(p.code_received, 3000);
    assert_int_equal(p.code_sent, 3000);
    fh__wsp_free(&p);
}

static void test_sending(void **state)
{
    (void)state;
    fh__wsp p;
    assert_int_equal(fh__wsp_init(&p, NULL, 100), FH_OK);
    assert_int_equal(fh__wsp_send(&p, 1, (const uint8_t *)"\xe2\x82", 2, 0), FH_OK);
    assert_int_equal(fh__wsp_send(&p, 2, (const uint8_t *)"x", 1, 1), FH_ESTATE);
    assert_int_equal(fh__wsp_send(&p, 1, (const uint8_t *)"\xac", 1, 1), FH_OK); /* € split */
    assert_int_equal(fh__wsp_send(&p, 1, (const uint8_t *)"\xff", 1, 1), FH_EINVAL);
    assert_int_equal(fh__wsp_send(&p, 3, (const uint8_t *)"x", 1, 1), FH_EINVAL);
    /* first frame: text, not final; second: continuation, final; both masked */
    assert_int_equal(p.out.data[0], 0x01);
    assert_int_equal(p.out.data[1], 0x82);
    assert_int_equal(p.out.data[8], 0x80);
    assert_int_equal(p.out.data[9], 0x81);
    /* a fresh mask per frame */
    assert_memory_not_equal(p.out.data + 2, p.out.data + 10, 4);
    uint8_t payload[126] = {0};
    assert_int_equal(fh__wsp_ping(&p, payload, 126), FH_EINVAL);
    assert_int_equal(fh__wsp_close(&p, 1005, NULL, 0), FH_EINVAL);
    assert_int_equal(fh__wsp_close(&p, 999, NULL, 0), FH_EINVAL);
    char r[124];
    memset(r, 'r', sizeof r);
    assert_int_equal(fh__wsp_close(&p, 1000, r, 124), FH_EINVAL);
    assert_int_equal(fh__wsp_close(&p, 4000, r, 123), FH_OK);
    assert_int_equal(fh__wsp_close(&p, 1000, NULL, 0), FH_EWS_CLOSED);
    assert_int_equal(fh__wsp_send(&p, 1, (const uint8_t *)"x", 1, 1), FH_EWS_CLOSED);
    fh__wsp_free(&p);
}

/* ---- permessage-deflate ------------------------------------------------------ */

static void test_pmd_parse(void **state)
{
    (void)state;
    char err[160];
    fh__pmd p;
    const char *s = "permessage-deflate; client_max_window_bits; server_max_window_bits=10";
    assert_int_equal(fh__pmd_parse(s, strlen(s), 0, &p, err, sizeof err), FH_OK);
    assert_true(p.on && p.client_bits == -1 && p.server_bits == 10);
    s = " permessage-deflate ;server_no_context_takeover; client_max_window_bits=\"9\"";
    assert_int_equal(fh__pmd_parse(s, strlen(s), 1, &p, err, sizeof err), FH_OK);
    assert_true(p.server_nct && p.client_bits == 9);
    assert_int_equal(fh__pmd_parse("", 0, 1, &p, err, sizeof err), FH_OK);
    assert_false(p.on);
    static const char *bad[] = {
        "x-webkit-deflate-frame", "permessage-deflate; client_max_window_bits", /* answer */
        "permessage-deflate; server_max_window_bits=16", "permessage-deflate; foo",
        "permessage-deflate; server_max_window_bits=08", "permessage-deflate, permessage-deflate",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_max_window_bits=\"10", "permessage-deflate;",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fh__pmd_parse(bad[i], strlen(bad[i]), 1, &p, err, sizeof err),
                         FH_EINVAL);
    /* answers against offers (RFC 7692 §7.1) */
    fh__pmd offer = {1, 0, 0, 0, -1}, ans = {1, 0, 0, 0, 12};
    assert_int_equal(fh__pmd_check_answer(&offer, &ans, err, sizeof err), FH_OK);
    offer.client_bits = 0;
    assert_int_equal(fh__pmd_check_answer(&offer, &ans, err, sizeof err), FH_EINVAL);
    offer = (fh__pmd){1, 0, 0, 10, 0};
    ans = (fh__pmd){1, 0, 0, 11, 0};
    assert_int_equal(fh__pmd_check_answer(&offer, &ans, err, sizeof err), FH_EINVAL);
    offer = (fh__pmd){1, 1, 0, 0, 0};
    ans = (fh__pmd){1, 0, 0, 0, 0};
    assert_int_equal(fh__pmd_check_answer(&offer, &ans, err, sizeof err), FH_EINVAL);
    offer.on = 0;
    ans.on = 1;
    assert_int_equal(fh__pmd_check_answer(&offer, &ans, err, sizeof err), FH_EINVAL);
    char out[160];
    fh__pmd f = {1, 1, 1, 10, -1};
    fh__pmd_format(&f, out, sizeof out);
    assert_string_equal(out, "permessage-deflate; server_no_context_takeover; "
                             "client_no_context_takeover; server_max_window_bits=10; "
                             "client_max_window_bits");
}

/* What the client sends compressed, a peer inflates back (and the other way). */
static void roundtrip(int nct)
{
    fh__pmd agreed = {1, nct, nct, 0, 0};
    fh__pmd_stream a, b;
    assert_int_equal(fh__pmd_stream_init(&a, &agreed), FH_OK);
    assert_int_equal(fh__pmd_stream_init(&b, &agreed), FH_OK);
    for (int msg = 0; msg < 3; msg++) {
        char text[2000];
        for (size_t i = 0; i < sizeof text; i++)
            text[i] = (char)('a' + (i * 7 + (size_t)msg) % 26);
        fh__buf z = {0}, out = {0};
        /* in two fragments */
        assert_int_equal(fh__pmd_deflate(&a, (uint8_t *)text, 700, 0, &z),
                         FH_OK);
        assert_int_equal(fh__pmd_deflate(&a, (uint8_t *)text + 700, sizeof text - 700, 1, &z),
                         FH_OK);
        assert_true(z.len < sizeof text);
        assert_int_equal(fh__pmd_inflate(&b, z.data, z.len, 1, &out, 1 << 20), FH_OK);
        assert_int_equal(out.len, sizeof text);
        assert_memory_equal(out.data, text, sizeof text);
        fh__buf_free(&z);
        fh__buf_free(&out);
    }
    fh__pmd_stream_free(&a);
    fh__pmd_stream_free(&b);
}

static void test_pmd_roundtrip(void **state)
{
    (void)state;
    roundtrip(0);
    roundtrip(1);
}

/* 1 GiB of zeros compresses to about 1 MiB; inflating stops at the limit
 * with no more memory than the limit (and zlib's window). */
static void test_pmd_bomb(void **state)
{
    (void)state;
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
    static uint8_t zeros[1 << 16];
    fh__buf bomb = {0};
    for (int i = 0; i < (1 << 14); i++) { /* 1 GiB */
        z.next_in = zeros;
        z.avail_in = sizeof zeros;
        do {
            assert_int_equal(fh__buf_reserve(&bomb, 1 << 16), FH_OK);
            z.next_out = bomb.data + bomb.len;
            z.avail_out = (uInt)(bomb.cap - bomb.len);
            deflate(&z, i == (1 << 14) - 1 ? Z_SYNC_FLUSH : Z_NO_FLUSH);
            bomb.len = bomb.cap - z.avail_out;
        } while (z.avail_out == 0);
    }
    deflateEnd(&z);
    assert_true(bomb.len < (2u << 20));
    fh__wsp p;
    fh__pmd pmd = {1, 0, 0, 0, 0};
    assert_int_equal(fh__wsp_init(&p, &pmd, 16 << 20), FH_OK);
    uint8_t head[10] = {0xc2, 127};
    for (int i = 0; i < 8; i++)
        head[2 + i] = (uint8_t)((uint64_t)bomb.len >> (8 * (7 - i)));
    assert_int_equal(fh__wsp_feed(&p, head, sizeof head), FH_OK);
    int rc = FH_OK;
    for (size_t off = 0; off < bomb.len && rc == FH_OK; off += 4096) {
        size_t n = bomb.len - off < 4096 ? bomb.len - off : 4096;
        rc = fh__wsp_feed(&p, bomb.data + off, n);
        assert_true(p.rx.cap <= (16u << 20)); /* never past the limit */
    }
    assert_int_equal(rc, FH_EWS_PROTO);
    assert_int_equal(p.code_sent, 1009);
    fh__wsp_free(&p);
    fh__buf_free(&bomb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_messages_at_every_split),
        cmocka_unit_test(test_violations),
        cmocka_unit_test(test_close_3000_is_valid),
        cmocka_unit_test(test_sending),
        cmocka_unit_test(test_pmd_parse),
        cmocka_unit_test(test_pmd_roundtrip),
        cmocka_unit_test(test_pmd_bomb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
