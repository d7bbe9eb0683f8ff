/* test_decode.c — Content-Encoding decoder chain: round trips through the
 * real encoders, stacking, chunking, errors and a decompression bomb. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include "decode.h"
#include "fasthttp/errors.h"

typedef struct bytes {
    uint8_t *p;
    size_t n;
} bytes;

static void bytes_free(bytes *b)
{
    free(b->p);
    b->p = NULL;
    b->n = 0;
}

/* ---- encoders --------------------------------------------------------- */

/* windowBits: 15 zlib wrapper, -15 raw deflate, 31 gzip wrapper. */
static bytes z_encode(const bytes *in, int window_bits)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    bytes out = { malloc(deflateBound(&z, in->n)), 0 };
    assert_non_null(out.p);
    z.next_in = in->p;
    z.avail_in = (uInt)in->n;
    z.next_out = out.p;
    z.avail_out = (uInt)deflateBound(&z, in->n);
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.n = z.total_out;
    deflateEnd(&z);
    return out;
}

static bytes br_encode(const bytes *in)
{
    size_t cap = BrotliEncoderMaxCompressedSize(in->n) + 16;
    bytes out = { malloc(cap), cap };
    assert_non_null(out.p);
    assert_true(BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, in->n,
                                      in->p, &out.n, out.p));
    return out;
}

static bytes zstd_encode(const bytes *in)
{
    size_t cap = ZSTD_compressBound(in->n);
    bytes out = { malloc(cap), 0 };
    assert_non_null(out.p);
    out.n = ZSTD_compress(out.p, cap, in->p, in->n, 3);
    assert_false(ZSTD_isError(out.n));
    return out;
}

/* Encodes with one coding name ("raw" means raw deflate). */
static bytes encode(const char *coding, const bytes *in)
{
    if (!strcmp(coding, "gzip"))
        return z_encode(in, 16 + 15);
    if (!strcmp(coding, "deflate"))
        return z_encode(in, 15);
    if (!strcmp(coding, "raw"))
        return z_encode(in, -15);
    if (!strcmp(coding, "br"))
        return br_encode(in);
    if (!strcmp(coding, "zstd"))
        return zstd_encode(in);
    fail_msg("no encoder %s", coding);
    return (bytes){ NULL, 0 };
}

/* Applies codings left to right, as a server producing "a, b, c" would. */
static bytes encode_chain(const char *const *codings, const bytes *in)
{
    bytes cur = { malloc(in->n ? in->n : 1), in->n };
    memcpy(cur.p, in->p, in->n);
    for (; *codings; codings++) {
        bytes next = encode(*codings, &cur);
        bytes_free(&cur);
        cur = next;
    }
    return cur;
}

static bytes concat(const bytes *a, const void *b, size_t bn)
{
    bytes out = { malloc(a->n + bn + 1), a->n + bn };
    memcpy(out.p, a->p, a->n);
    memcpy(out.p + a->n, b, bn);
    return out;
}

/* ~200 KB of text with some repetition and some noise: large enough to
 * cross the 16 KiB buffers between layers and a 32 KiB deflate window. */
static bytes sample(size_t n)
{
    static const char *words[] = { "alpha ", "beta ", "gamma ", "delta\n", "{\"k\": 1} " };
    bytes b = { malloc(n), n };
    uint32_t x = 12345;
    for (size_t i = 0; i < n;) {
        x = x * 1103515245u + 12345u;
        if ((x >> 16) % 7 == 0) {
            b.p[i++] = (uint8_t)(x >> 8);
            continue;
        }
        const char *w = words[(x >> 16) % 5];
        for (size_t k = 0; w[k] && i < n; k++)
            b.p[i++] = (uint8_t)w[k];
    }
    return b;
}

/* ---- decoding driver -------------------------------------------------- */

struct result {
    int rc;                 /* 0, or the first error (feed or finish) */
    const char *why;
    bytes out;
};

/* Feeds in inchunk-sized pieces and drains into an outcap-sized buffer,
 * checking the per-call bounds and the progress guarantee. */
static struct result decode_with(const char *value, const bytes *in, size_t inchunk,
                                 size_t outcap)
{
    struct result r = { 0, NULL, { NULL, 0 } };
    fh__decoder *d = NULL;
    size_t cap = 1024;
    r.out.p = malloc(cap);
    r.rc = fh__decoder_new(&d, value, strlen(value), 5, &r.why);
    if (r.rc)
        return r;
    assert_non_null(d);
    uint8_t *buf = malloc(outcap);
    size_t pos = 0;
    for (;;) {
        size_t take = in->n - pos < inchunk ? in->n - pos : inchunk;
        size_t c = 7777, p = 7777;
        int rc = fh__decoder_feed(d, in->p + pos, take, &c, buf, outcap, &p, &r.why);
        assert_true(c <= take);
        assert_true(p <= outcap);
        if (r.out.n + p > cap) {
            while (r.out.n + p > cap)
                cap *= 2;
            r.out.p = realloc(r.out.p, cap);
        }
        memcpy(r.out.p + r.out.n, buf, p);
        r.out.n += p;
        pos += c;
        if (rc < 0) {
            assert_int_equal(rc, FH_EDECODE);
            assert_non_null(r.why);
            r.rc = rc;
            break;
        }
        if (rc == 1 && pos == in->n)
            break;
        if (c == 0 && p == 0) {
            /* Progress guarantee: nothing moved means it wants input. */
            assert_int_equal(rc, 0);
            assert_int_equal(pos, in->n);
            break;
        }
    }
    if (!r.rc)
        r.rc = fh__decoder_finish(d, &r.why);
    free(buf);
    fh__decoder_free(d);
    return r;
}

static void expect_roundtrip(const char *value, const bytes *enc, const bytes *plain,
                             size_t inchunk, size_t outcap)
{
    struct result r = decode_with(value, enc, inchunk, outcap);
    if (r.rc)
        fail_msg("%s in=%zu out=%zu: rc=%d %s", value, inchunk, outcap, r.rc, r.why);
    assert_int_equal(r.out.n, plain->n);
    assert_memory_equal(r.out.p, plain->p, plain->n);
    bytes_free(&r.out);
}

static void expect_error(const char *value, const bytes *enc, size_t inchunk, size_t outcap,
                         const char *why)
{
    struct result r = decode_with(value, enc, inchunk, outcap);
    if (r.rc != FH_EDECODE)
        fail_msg("%s in=%zu out=%zu: rc=%d, want FH_EDECODE", value, inchunk, outcap, r.rc);
    if (why && strcmp(r.why, why) != 0)
        fail_msg("%s: why=\"%s\", want \"%s\"", value, r.why, why);
    bytes_free(&r.out);
}

/* Round trip at several chunkings: whole, 1-byte input, 1-byte output. */
static void roundtrip_all_ways(const char *value, const char *const *chain, size_t n)
{
    bytes plain = sample(n);
    bytes enc = encode_chain(chain, &plain);
    expect_roundtrip(value, &enc, &plain, enc.n, 1 << 20);
    expect_roundtrip(value, &enc, &plain, enc.n, 4096);
    expect_roundtrip(value, &enc, &plain, 1, 65536);
    expect_roundtrip(value, &enc, &plain, 1000, 1);
    expect_roundtrip(value, &enc, &plain, 3, 7);
    bytes_free(&enc);
    bytes_free(&plain);
}

/* ---- tests ------------------------------------------------------------ */

static void test_gzip(void **state)
{
    (void)state;
    roundtrip_all_ways("gzip", (const char *const[]){ "gzip", NULL }, 200000);
    roundtrip_all_ways("x-gzip", (const char *const[]){ "gzip", NULL }, 50000);
}

static void test_deflate_zlib_and_raw(void **state)
{
    (void)state;
    roundtrip_all_ways("deflate", (const char *const[]){ "deflate", NULL }, 200000);
    roundtrip_all_ways("deflate", (const char *const[]){ "raw", NULL }, 200000);
}

static void test_br(void **state)
{
    (void)state;
    roundtrip_all_ways("br", (const char *const[]){ "br", NULL }, 200000);
}

static void test_zstd(void **state)
{
    (void)state;
    roundtrip_all_ways("zstd", (const char *const[]){ "zstd", NULL }, 200000);
}

static void test_stacked(void **state)
{
    (void)state;
    /* "gzip, br": gzip was applied first, so br is undone first. */
    roundtrip_all_ways("gzip, br", (const char *const[]){ "gzip", "br", NULL }, 100000);
    roundtrip_all_ways("deflate, gzip, zstd",
                       (const char *const[]){ "deflate", "gzip", "zstd", NULL }, 100000);
    roundtrip_all_ways("br,zstd ,\tgzip", (const char *const[]){ "br", "zstd", "gzip", NULL },
                       30000);
    roundtrip_all_ways("gzip, identity, br", (const char *const[]){ "gzip", "br", NULL }, 30000);
    /* Decoding in the wrong order fails. */
    bytes plain = sample(1000);
    bytes enc = encode_chain((const char *const[]){ "gzip", "br", NULL }, &plain);
    expect_error("br, gzip", &enc, enc.n, 4096, NULL);
    bytes_free(&enc);
    bytes_free(&plain);
}

static void test_upper_case(void **state)
{
    (void)state;
    roundtrip_all_ways("GZIP", (const char *const[]){ "gzip", NULL }, 5000);
    roundtrip_all_ways("X-Gzip", (const char *const[]){ "gzip", NULL }, 5000);
    roundtrip_all_ways("DeFlate", (const char *const[]){ "raw", NULL }, 5000);
    roundtrip_all_ways("BR", (const char *const[]){ "br", NULL }, 5000);
    roundtrip_all_ways("ZStd, GZip", (const char *const[]){ "zstd", "gzip", NULL }, 5000);
}

static void test_identity_and_empty(void **state)
{
    (void)state;
    static const char *vals[] = { "identity", "IDENTITY", "", " ", ",", " , identity ,",
                                  "identity, identity" };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        fh__decoder *d = (fh__decoder *)&d;
        assert_int_equal(fh__decoder_new(&d, vals[i], strlen(vals[i]), 5, NULL), 0);
        assert_null(d);
    }
    fh__decoder *d = NULL;
    assert_int_equal(fh__decoder_new(&d, NULL, 0, 5, NULL), 0);
    assert_null(d);
}

static void test_empty_payloads(void **state)
{
    (void)state;
    /* A compressed empty body round-trips to nothing. */
    bytes none = { (uint8_t *)"", 0 };
    const char *codings[] = { "gzip", "deflate", "raw", "br", "zstd" };
    const char *values[] = { "gzip", "deflate", "deflate", "br", "zstd" };
    for (size_t i = 0; i < 5; i++) {
        bytes enc = encode(codings[i], &none);
        expect_roundtrip(values[i], &enc, &none, 1, 1);
        bytes_free(&enc);
    }
    /* No body at all with a Content-Encoding header: nothing to truncate. */
    struct result r = decode_with("gzip, br", &none, 1, 16);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.out.n, 0);
    bytes_free(&r.out);
}

static void test_truncated(void **state)
{
    (void)state;
    bytes plain = sample(40000);
    const char *codings[] = { "gzip", "deflate", "raw", "br", "zstd" };
    const char *values[] = { "gzip", "deflate", "deflate", "br", "zstd" };
    for (size_t i = 0; i < 5; i++) {
        bytes enc = encode(codings[i], &plain);
        size_t full = enc.n;
        size_t cuts[] = { 1, 2, 5, full / 2, full - 4, full - 1 };
        for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
            enc.n = cuts[k];
            expect_error(values[i], &enc, enc.n, 65536, NULL);
            expect_error(values[i], &enc, 1, 1, NULL);
        }
        enc.n = full - 1;
        expect_error(values[i], &enc, enc.n, 1 << 20, "compressed stream truncated");
        bytes_free(&enc);
    }
    /* Truncating the outer stream of a stack. */
    bytes enc = encode_chain((const char *const[]){ "gzip", "br", NULL }, &plain);
    enc.n -= 1;
    expect_error("gzip, br", &enc, 100, 100, "compressed stream truncated");
    bytes_free(&enc);
    bytes_free(&plain);
}

static void test_trailing_garbage(void **state)
{
    (void)state;
    bytes plain = sample(20000);
    const char *codings[] = { "gzip", "deflate", "raw", "br", "zstd" };
    const char *values[] = { "gzip", "deflate", "deflate", "br", "zstd" };
    const char *msg = "data after the end of the compressed stream";
    for (size_t i = 0; i < 5; i++) {
        bytes enc = encode(codings[i], &plain);
        bytes bad = concat(&enc, "x", 1);
        expect_error(values[i], &bad, bad.n, 1 << 20, msg);  /* same call */
        expect_error(values[i], &bad, 1, 1 << 20, msg);      /* separate call */
        expect_error(values[i], &bad, 1, 1, msg);
        bytes_free(&bad);
        /* The same stream twice: a second zlib/deflate/brotli stream or
         * zstd frame is refused (one stream per layer, see decode.c); a
         * second gzip member is not (test_gzip_members). */
        if (strcmp(codings[i], "gzip") != 0) {
            bytes twice = concat(&enc, enc.p, enc.n);
            expect_error(values[i], &twice, twice.n, 1 << 20, msg);
            bytes_free(&twice);
        }
        bytes_free(&enc);
    }
    /* Garbage after the inner stream of a stack, inside the outer one. */
    bytes inner = encode("gzip", &plain);
    bytes junk = concat(&inner, "junk", 4);
    bytes outer = encode("br", &junk);
    expect_error("gzip, br", &outer, outer.n, 1 << 20, msg);
    expect_error("gzip, br", &outer, 1, 1, msg);
    bytes_free(&outer);
    bytes_free(&junk);
    bytes_free(&inner);
    bytes_free(&plain);
}

/* RFC 1952 §2.2: a gzip body may be several members; it decodes to the
 * concatenation of their contents, at every split of input and output. */
static void test_gzip_members(void **state)
{
    (void)state;
    bytes a = sample(30000), b = sample(7), c = sample(0);
    bytes ea = encode("gzip", &a), eb = encode("gzip", &b), ec = encode("gzip", &c);
    bytes ab = concat(&ea, eb.p, eb.n), abc = concat(&ab, ec.p, ec.n);
    bytes abca = concat(&abc, ea.p, ea.n);
    bytes plain = concat(&a, b.p, b.n), plain2 = concat(&plain, a.p, a.n);
    const char *values[] = { "gzip", "x-gzip" };
    size_t ins[] = { abca.n, 1, 3, 1000 }, outs[] = { 1 << 20, 1, 7, 4096 };
    for (size_t v = 0; v < 2; v++)
        for (size_t i = 0; i < 4; i++)
            expect_roundtrip(values[v], &abca, &plain2, ins[i], outs[i]);
    /* Every split point of a two-member body, fed in two calls. */
    for (size_t cut = 0; cut <= ab.n; cut += 97) {
        fh__decoder *d = NULL;
        const char *why = NULL;
        assert_int_equal(fh__decoder_new(&d, "gzip", 4, 5, &why), 0);
        uint8_t *out = malloc(plain.n + 1);
        size_t got = 0, pos = 0, used, made;
        while (pos < ab.n) {
            size_t end = pos < cut ? cut : ab.n;
            int rc = fh__decoder_feed(d, ab.p + pos, end - pos, &used, out + got,
                                      plain.n + 1 - got, &made, &why);
            assert_true(rc >= 0);
            pos += used;
            got += made;
        }
        assert_int_equal(fh__decoder_feed(d, NULL, 0, &used, out + got, plain.n + 1 - got,
                                          &made, &why), 1);
        got += made;
        assert_int_equal(fh__decoder_finish(d, &why), 0);
        assert_int_equal(got, plain.n);
        assert_memory_equal(out, plain.p, plain.n);
        free(out);
        fh__decoder_free(d);
    }
    /* Under another coding, as the outer layer of a stack. */
    bytes outer = encode("br", &abca);
    expect_roundtrip("gzip, br", &outer, &plain2, 5, 3);
    bytes_free(&outer);
    /* After a member: trailing bytes that start no member, a second member
     * cut short, a corrupt second member. */
    bytes junk = concat(&ea, "\0\0", 2);
    expect_error("gzip", &junk, junk.n, 1 << 20, "data after the end of the compressed stream");
    expect_error("gzip", &junk, 1, 1, "data after the end of the compressed stream");
    bytes cut = concat(&ab, "", 0);
    cut.n -= 3;
    expect_error("gzip", &cut, cut.n, 1 << 20, "compressed stream truncated");
    bytes half = concat(&ea, "\x1f", 1);
    expect_error("gzip", &half, 1, 1 << 20, "compressed stream truncated");
    bytes bad = concat(&ab, "", 0);
    bad.p[ea.n + 3] ^= 0xff; /* the second member's FLG: reserved bits */
    expect_error("gzip", &bad, bad.n, 1 << 20, "corrupt gzip data");
    bytes_free(&junk), bytes_free(&cut), bytes_free(&half), bytes_free(&bad);
    bytes_free(&plain), bytes_free(&plain2), bytes_free(&abca), bytes_free(&abc);
    bytes_free(&ab), bytes_free(&ea), bytes_free(&eb), bytes_free(&ec);
    bytes_free(&a), bytes_free(&b), bytes_free(&c);
}

static void test_corrupt(void **state)
{
    (void)state;
    bytes plain = sample(40000);
    const char *codings[] = { "gzip", "deflate", "br", "zstd" };
    for (size_t i = 0; i < 4; i++) {
        bytes enc = encode(codings[i], &plain);
        for (size_t at = 0; at < enc.n; at += enc.n / 7 + 1) {
            bytes bad = concat(&enc, "", 0);
            bad.p[at] ^= 0x55;
            bad.p[enc.n / 2] ^= 0xff;
            struct result r = decode_with(codings[i], &bad, 512, 4096);
            /* gzip (CRC-32) and zlib (Adler-32) must notice; brotli and
             * zstd without a checksum may decode to other bytes, but
             * must never crash or overrun. */
            if (i < 2)
                assert_int_equal(r.rc, FH_EDECODE);
            bytes_free(&r.out);
            bytes_free(&bad);
        }
        bytes_free(&enc);
    }
    /* Plain text labelled as compressed. */
    bytes text = { (uint8_t *)"hello, this is not compressed at all", 36 };
    expect_error("gzip", &text, text.n, 100, "corrupt gzip data");
    expect_error("br", &text, text.n, 100, "corrupt brotli data");
    expect_error("zstd", &text, text.n, 100, "corrupt zstd data");
    expect_error("deflate", &text, text.n, 100, "corrupt deflate data");
    bytes_free(&plain);
}

static void test_error_is_sticky(void **state)
{
    (void)state;
    fh__decoder *d = NULL;
    const char *why = NULL;
    uint8_t out[64];
    size_t c, p;
    assert_int_equal(fh__decoder_new(&d, "gzip", 4, 5, &why), 0);
    assert_int_equal(fh__decoder_feed(d, (const uint8_t *)"garbage!", 8, &c, out, sizeof out,
                                      &p, &why), FH_EDECODE);
    assert_string_equal(why, "corrupt gzip data");
    why = NULL;
    assert_int_equal(fh__decoder_feed(d, NULL, 0, &c, out, sizeof out, &p, &why), FH_EDECODE);
    assert_int_equal(c, 0);
    assert_int_equal(p, 0);
    assert_string_equal(why, "corrupt gzip data");
    assert_int_equal(fh__decoder_finish(d, &why), FH_EDECODE);
    fh__decoder_free(d);
}

static void test_null_buffers(void **state)
{
    (void)state;
    bytes plain = sample(3000);
    bytes enc = encode("br", &plain);
    fh__decoder *d = NULL;
    const char *why = NULL;
    uint8_t *out = malloc(plain.n);
    size_t c = 1, p = 1;
    assert_int_equal(fh__decoder_new(&d, "br", 2, 5, &why), 0);
    /* No input and no output room: nothing happens, nothing breaks. */
    assert_int_equal(fh__decoder_feed(d, NULL, 0, &c, NULL, 0, &p, &why), 0);
    assert_int_equal(c + p, 0);
    assert_int_equal(fh__decoder_feed(d, enc.p, enc.n, &c, NULL, 0, &p, &why), 0);
    assert_int_equal(p, 0);
    size_t pos = c;
    /* Input without room is held back; draining with NULL input works. */
    assert_int_equal(fh__decoder_feed(d, enc.p + pos, enc.n - pos, &c, out, plain.n, &p, &why),
                     1);
    assert_int_equal(pos + c, enc.n);
    assert_int_equal(p, plain.n);
    assert_memory_equal(out, plain.p, plain.n);
    assert_int_equal(fh__decoder_feed(d, NULL, 0, &c, out, plain.n, &p, &why), 1);
    assert_int_equal(c + p, 0);
    assert_int_equal(fh__decoder_finish(d, &why), 0);
    fh__decoder_free(d);
    free(out);
    bytes_free(&enc);
    bytes_free(&plain);
}

static void test_unknown_coding(void **state)
{
    (void)state;
    static const char *vals[] = { "compress", "x-compress", "sdch", "gzip, foo", "gzipx",
                                  "gzi", "gzip;q=1", "br zstd", "\"gzip\"", "aes128gcm" };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        fh__decoder *d = (fh__decoder *)&d;
        const char *why = NULL;
        assert_int_equal(fh__decoder_new(&d, vals[i], strlen(vals[i]), 5, &why), FH_EDECODE);
        assert_null(d);
        assert_string_equal(why, "unsupported Content-Encoding");
    }
}

static void test_too_many_layers(void **state)
{
    (void)state;
    const char *five = "gzip, gzip, br, identity, zstd, deflate";
    const char *six = "gzip, gzip, br, zstd, deflate, gzip";
    fh__decoder *d = NULL;
    const char *why = NULL;
    assert_int_equal(fh__decoder_new(&d, five, strlen(five), 5, &why), 0);
    assert_non_null(d);
    fh__decoder_free(d);
    assert_int_equal(fh__decoder_new(&d, six, strlen(six), 5, &why), FH_EDECODE);
    assert_null(d);
    assert_string_equal(why, "too many Content-Encoding layers (limit max_content_encodings)");
    assert_int_equal(fh__decoder_new(&d, "gzip, br", 8, 1, &why), FH_EDECODE);
    assert_int_equal(fh__decoder_new(&d, "gzip", 4, 1, &why), 0);
    fh__decoder_free(d);
    fh__decoder_free(NULL);
}

static void test_zstd_window_limit(void **state)
{
    (void)state;
    /* A frame declaring a 16 MiB window (size unknown up front) is refused
     * (RFC 9659 caps zstd windows for HTTP at 8 MiB). */
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, 24)));
    uint8_t src[100] = { 0 }, dst[512];
    ZSTD_inBuffer ib = { src, sizeof src, 0 };
    ZSTD_outBuffer ob = { dst, sizeof dst, 0 };
    assert_false(ZSTD_isError(ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_continue)));
    ZSTD_inBuffer none = { src, 0, 0 };
    assert_int_equal(ZSTD_compressStream2(cc, &ob, &none, ZSTD_e_end), 0);
    ZSTD_freeCCtx(cc);
    bytes enc = { dst, ob.pos };
    expect_error("zstd", &enc, enc.n, 4096, "zstd window larger than 8 MiB");
}

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* 1 GiB of zeros, gzip-compressed while streaming (about 1 MB). */
static bytes gzip_zeros(size_t total)
{
    static uint8_t zeros[1 << 16];
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = total / 1000 + 65536;
    bytes out = { malloc(cap), 0 };
    assert_non_null(out.p);
    z.next_out = out.p;
    z.avail_out = (uInt)cap;
    for (size_t left = total; left > 0;) {
        size_t n = left < sizeof zeros ? left : sizeof zeros;
        z.next_in = zeros;
        z.avail_in = (uInt)n;
        left -= n;
        assert_int_equal(deflate(&z, left ? Z_NO_FLUSH : Z_FINISH), left ? Z_OK : Z_STREAM_END);
        assert_int_equal(z.avail_in, 0);
    }
    out.n = z.total_out;
    deflateEnd(&z);
    return out;
}

static void test_bomb(void **state)
{
    (void)state;
    const size_t total = (size_t)1 << 30;
    const size_t outcap = 64 * 1024;
    bytes enc = gzip_zeros(total);
    assert_true(enc.n < 2 * 1024 * 1024);
    static uint8_t out[64 * 1024];
    memset(out, 1, sizeof out);         /* touch it before measuring */
    fh__decoder *d = NULL;
    const char *why = NULL;
    long before = maxrss_kb();
    assert_int_equal(fh__decoder_new(&d, "gzip", 4, 5, &why), 0);
    size_t pos = 0, got = 0;
    int rc = 0;
    while (rc == 0) {
        size_t c, p;
        rc = fh__decoder_feed(d, enc.p + pos, enc.n - pos, &c, out, outcap, &p, &why);
        assert_true(rc >= 0);
        assert_true(p <= outcap);
        /* Every byte comes out as zero; spot-check to keep it fast. */
        if (p)
            assert_int_equal(out[p - 1] | out[0], 0);
        pos += c;
        got += p;
        if (rc == 0 && c == 0 && p == 0)
            break;
    }
    assert_int_equal(rc, 1);
    assert_int_equal(fh__decoder_finish(d, &why), 0);
    fh__decoder_free(d);
    long after = maxrss_kb();
    assert_int_equal(got, total);
    assert_int_equal(pos, enc.n);
    if (after - before > 4 * 1024)
        fail_msg("resident memory grew by %ld KiB", after - before);
    bytes_free(&enc);
}

/* 16 members of 16 MiB of zeros each: the concatenation (256 MiB) comes
 * out through a 64 KiB buffer while resident memory stays flat, since each
 * member reuses the one inflate state. */
static void test_gzip_members_bounded(void **state)
{
    (void)state;
    const size_t member = (size_t)16 << 20, count = 16, outcap = 64 * 1024;
    bytes one = gzip_zeros(member);
    bytes all = { malloc(one.n * count), 0 };
    assert_non_null(all.p);
    for (size_t i = 0; i < count; i++, all.n += one.n)
        memcpy(all.p + all.n, one.p, one.n);
    static uint8_t out[64 * 1024];
    memset(out, 1, sizeof out);
    fh__decoder *d = NULL;
    const char *why = NULL;
    long before = maxrss_kb();
    assert_int_equal(fh__decoder_new(&d, "gzip", 4, 5, &why), 0);
    size_t pos = 0, got = 0;
    for (;;) {
        size_t c, p;
        int rc = fh__decoder_feed(d, all.p + pos, all.n - pos, &c, out, outcap, &p, &why);
        assert_true(rc >= 0);
        if (p)
            assert_int_equal(out[p - 1] | out[0], 0);
        pos += c;
        got += p;
        if (c == 0 && p == 0)
            break;
    }
    assert_int_equal(fh__decoder_finish(d, &why), 0);
    fh__decoder_free(d);
    assert_int_equal(pos, all.n);
    assert_int_equal(got, member * count);
    long after = maxrss_kb();
    if (after - before > 4 * 1024)
        fail_msg("resident memory grew by %ld KiB", after - before);
    bytes_free(&all);
    bytes_free(&one);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_deflate_zlib_and_raw),
        cmocka_unit_test(test_br),
        cmocka_unit_test(test_zstd),
        cmocka_unit_test(test_stacked),
        cmocka_unit_test(test_upper_case),
        cmocka_unit_test(test_identity_and_empty),
        cmocka_unit_test(test_empty_payloads),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_trailing_garbage),
        cmocka_unit_test(test_gzip_members),
        cmocka_unit_test(test_gzip_members_bounded),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_error_is_sticky),
        cmocka_unit_test(test_null_buffers),
        cmocka_unit_test(test_unknown_coding),
        cmocka_unit_test(test_too_many_layers),
        cmocka_unit_test(test_zstd_window_limit),
        cmocka_unit_test(test_bomb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
