/*
 * test_h1_parser.c — the HTTP/1.1 response parser (src/h1_parser.c).
 *
 * Every case of the corpus is parsed whole, byte by byte (prefixes of
 * growing length with *scan carried over), and in two pieces at every split
 * point; every way must give the same result. Each call sees a private copy
 * of exactly the bytes it may read, so AddressSanitizer catches any read
 * past the end. Bodies are then fed whole, in two pieces at every split
 * point and byte by byte, with the same check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h1.h"

#define MAXH 128

/* Small limits so the limit cases stay short enough to split everywhere. */
static const fh__h1_limits small = {64, 256, 5, 32};

typedef struct h1case {
    const char *name;
    const char *in;
    size_t in_len;         /* 0: strlen(in) */
    const fh__h1_limits *lim;
    int head_request;
    int rc;                /* 1: a complete head; FH_EAGAIN; or an error code */
    const char *why;       /* expected substring of out->why (errors) */
    int version, status, kind, keep_alive;
    uint64_t cl;
    size_t nheaders;
    const char *reason;    /* NULL: not checked */
    const char *body;      /* expected payload; NULL: "" */
    size_t body_len;       /* 0: strlen(body) */
    int body_rc;           /* 1: complete; FH_ECHUNKED / FH_ECLOSED */
    const char *body_why;
    const char *rest;      /* bytes after the body; NULL: "" */
} h1case;

/* ---- head ------------------------------------------------------------------ */

/* A result with pointers turned into offsets, so results from different
 * copies of the input compare equal. */
typedef struct snap {
    int rc;
    const char *why;
    int version, status, kind, keep_alive;
    uint64_t cl;
    size_t head_len, nheaders;
    size_t reason_off, reason_len;
    size_t h[MAXH][4];
} snap;

static void take_snap(snap *s, int rc, const fh__h1_head *o, const char *base)
{
    memset(s, 0, sizeof *s);
    s->rc = rc;
    if (rc == FH_EAGAIN)
        return;
    s->why = o->why;
    if (rc < 0)
        return;
    s->version = o->version;
    s->status = o->status;
    s->kind = o->body_kind;
    s->keep_alive = o->keep_alive;
    s->cl = o->content_length;
    s->head_len = o->head_len;
    s->nheaders = o->nheaders;
    s->reason_off = (size_t)(o->reason - base);
    s->reason_len = o->reason_len;
    for (size_t i = 0; i < o->nheaders && i < MAXH; i++) {
        s->h[i][0] = (size_t)(o->headers[i].name - base);
        s->h[i][1] = o->headers[i].name_len;
        s->h[i][2] = (size_t)(o->headers[i].value - base);
        s->h[i][3] = o->headers[i].value_len;
    }
}

static void assert_same(const snap *a, const snap *b, const char *name, const char *how,
                        size_t at)
{
    if (memcmp(a, b, sizeof *a) != 0) {
        print_error("case '%s': %s at %zu gave rc %d (%s), whole input rc %d (%s)\n", name,
                    how, at, b->rc, b->why ? b->why : "-", a->rc, a->why ? a->why : "-");
        fail();
    }
}

/* Parses buf[0..n) from a private exact-size copy, carrying *scan. */
static int parse_copy(const char *in, size_t n, size_t *scan, const h1case *c, snap *s)
{
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, in, n);
    fh_header hdrs[MAXH];
    fh__h1_head out;
    int rc = fh__h1_parse_head(copy, n, scan, c->lim, c->head_request, hdrs, MAXH, &out);
    assert_true(rc == FH_EAGAIN || rc < 0 || (size_t)rc == out.head_len);
    take_snap(s, rc, &out, copy);
    free(copy);
    return rc;
}

static size_t case_len(const h1case *c)
{
    return c->in_len ? c->in_len : strlen(c->in);
}

/* Byte by byte, *scan carried: every prefix gives EAGAIN until the result,
 * and every longer prefix the same result. */
static void head_bytewise(const h1case *c, const snap *whole)
{
    size_t len = case_len(c), scan = 0;
    int settled = 0;
    snap s;
    for (size_t k = 1; k <= len; k++) {
        int rc = parse_copy(c->in, k, &scan, c, &s);
        if (rc == FH_EAGAIN && !settled)
            continue;
        settled = 1;
        assert_same(whole, &s, c->name, "byte-by-byte prefix", k);
    }
    if (!settled)
        assert_same(whole, &s, c->name, "byte-by-byte prefix", len);
}

/* Two pieces at every split point: a fresh parse of the prefix, then the
 * whole input with *scan carried. */
static void head_splits(const h1case *c, const snap *whole)
{
    size_t len = case_len(c);
    snap s;
    for (size_t k = 1; k < len; k++) {
        size_t scan = 0;
        int rc = parse_copy(c->in, k, &scan, c, &s);
        if (rc == FH_EAGAIN)
            rc = parse_copy(c->in, len, &scan, c, &s);
        assert_same(whole, &s, c->name, "split", k);
    }
}

static void check_head_fields(const h1case *c, const snap *s)
{
    if (c->rc != 1) {
        if (s->rc != c->rc)
            print_error("case '%s': rc %d (%s), expected %d\n", c->name, s->rc,
                        s->why ? s->why : "-", c->rc);
        assert_int_equal(s->rc, c->rc);
        if (c->rc != FH_EAGAIN) {
            assert_non_null(s->why);
            if (c->why && !strstr(s->why, c->why))
                print_error("case '%s': why '%s', expected '%s'\n", c->name, s->why, c->why);
            assert_true(!c->why || strstr(s->why, c->why));
        }
        return;
    }
    if (s->rc <= 0)
        print_error("case '%s': rc %d (%s)\n", c->name, s->rc, s->why ? s->why : "-");
    assert_true(s->rc > 0);
    assert_null(s->why);
    assert_int_equal(s->version, c->version);
    assert_int_equal(s->status, c->status);
    assert_int_equal(s->kind, c->kind);
    assert_int_equal(s->keep_alive, c->keep_alive);
    assert_int_equal(s->nheaders, c->nheaders);
    if (c->kind == FH__FRAME_LENGTH)
        assert_int_equal(s->cl, c->cl);
    if (c->reason) {
        assert_int_equal(s->reason_len, strlen(c->reason));
        assert_memory_equal(c->in + s->reason_off, c->reason, s->reason_len);
    }
}

/* ---- body ------------------------------------------------------------------ */

typedef struct body_result {
    int rc;           /* 1, FH_ECHUNKED, FH_ECLOSED */
    const char *why;
    size_t end;       /* offset in the body input where the body ended */
    char *data;
    size_t data_len;
} body_result;

/* Feeds body[0..len) cut at the given piece lengths (the last piece takes
 * the rest), then signals EOF if the body is not complete. */
static void feed_pieces(const fh__h1_head *head, const h1case *c, const char *body, size_t len,
                        const size_t *cuts, size_t ncuts, body_result *r)
{
    fh__h1_body b;
    fh__h1_body_init(&b, head, c->lim);
    memset(r, 0, sizeof *r);
    r->data = malloc(len + 1);
    assert_non_null(r->data);
    size_t off = 0, piece = 0;
    int rc = 0;
    while (rc == 0 && off < len) {
        size_t n = piece < ncuts ? cuts[piece] : len - off;
        if (n > len - off)
            n = len - off;
        piece++;
        uint8_t *copy = malloc(n ? n : 1);
        assert_non_null(copy);
        memcpy(copy, body + off, n);
        size_t used = 0;
        while (rc == 0 && used < n) {
            size_t consumed;
            const uint8_t *data;
            size_t data_len;
            rc = fh__h1_body_feed(&b, copy + used, n - used, &consumed, &data, &data_len);
            assert_true(consumed <= n - used);
            assert_true(data >= copy + used && data + data_len <= copy + used + consumed);
            if (rc == 0)
                assert_true(consumed > 0); /* progress guaranteed */
            memcpy(r->data + r->data_len, data, data_len);
            r->data_len += data_len;
            used += consumed;
        }
        free(copy);
        off += used;
    }
    if (rc == 0)
        rc = fh__h1_body_done(&b) ? 1 : fh__h1_body_eof(&b);
    if (rc == 1)
        assert_int_equal(fh__h1_body_done(&b), 1);
    r->rc = rc;
    r->why = rc < 0 ? b.why : NULL;
    r->end = off;
}

static void assert_same_body(const body_result *a, const body_result *b, const char *name,
                             const char *how, size_t at)
{
    /* where an error stopped the feeding depends on the pieces; where a
     * complete body ended does not */
    if (a->rc != b->rc || a->why != b->why || (a->rc == 1 && a->end != b->end) ||
        a->data_len != b->data_len ||
        memcmp(a->data, b->data, a->data_len) != 0) {
        print_error("case '%s' body: %s at %zu gave rc %d (%s) end %zu, whole rc %d (%s) end %zu\n",
                    name, how, at, b->rc, b->why ? b->why : "-", b->end, a->rc,
                    a->why ? a->why : "-", a->end);
        fail();
    }
}

static void check_body(const h1case *c, const fh__h1_head *head, const char *body, size_t len)
{
    body_result whole, r;
    feed_pieces(head, c, body, len, NULL, 0, &whole);

    const char *want = c->body ? c->body : "";
    size_t want_len = c->body_len ? c->body_len : strlen(want);
    if (whole.rc != c->body_rc)
        print_error("case '%s': body rc %d (%s), expected %d\n", c->name, whole.rc,
                    whole.why ? whole.why : "-", c->body_rc);
    assert_int_equal(whole.rc, c->body_rc);
    assert_int_equal(whole.data_len, want_len);
    assert_memory_equal(whole.data, want, want_len);
    if (c->body_why) {
        assert_non_null(whole.why);
        assert_non_null(strstr(whole.why, c->body_why));
    }
    if (c->body_rc < 0)
        assert_non_null(whole.why);
    const char *rest = c->rest ? c->rest : "";
    if (whole.rc == 1) {
        assert_int_equal(len - whole.end, strlen(rest));
        assert_memory_equal(body + whole.end, rest, strlen(rest));
    }

    for (size_t k = 1; k < len; k++) {
        size_t cuts[1] = {k};
        feed_pieces(head, c, body, len, cuts, 1, &r);
        assert_same_body(&whole, &r, c->name, "split", k);
        free(r.data);
    }
    size_t *ones = malloc((len ? len : 1) * sizeof *ones);
    assert_non_null(ones);
    for (size_t k = 0; k < len; k++)
        ones[k] = 1;
    feed_pieces(head, c, body, len, ones, len, &r);
    assert_same_body(&whole, &r, c->name, "byte-by-byte", 0);
    free(r.data);
    free(ones);
    free(whole.data);
}

/* ---- the driver -------------------------------------------------------------- */

static void run_case(const h1case *c)
{
    size_t len = case_len(c), scan = 0;
    snap whole;
    parse_copy(c->in, len, &scan, c, &whole);
    check_head_fields(c, &whole);
    head_bytewise(c, &whole);
    head_splits(c, &whole);
    if (whole.rc <= 0)
        return;

    /* Parse in place to get a head whose pointers refer to c->in. */
    fh_header hdrs[MAXH];
    fh__h1_head head;
    scan = 0;
    assert_int_equal(fh__h1_parse_head(c->in, len, &scan, c->lim, c->head_request, hdrs, MAXH,
                                       &head),
                     whole.rc);
    check_body(c, &head, c->in + head.head_len, len - head.head_len);
}

static void run_cases(const h1case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        run_case(&cases[i]);
}

#define OK11 .rc = 1, .version = 11, .status = 200
#define NCASES(a) (sizeof(a) / sizeof((a)[0]))

/* ---- valid responses ----------------------------------------------------------- */

static const h1case valid[] = {
    {.name = "content-length", OK11, .kind = FH__FRAME_LENGTH, .keep_alive = 1, .cl = 5,
     .nheaders = 2, .reason = "OK", .body_rc = 1, .body = "hello",
     .in = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"},
    {.name = "content-length then a pipelined response", OK11, .kind = FH__FRAME_LENGTH,
     .keep_alive = 1, .cl = 3, .nheaders = 1, .body_rc = 1, .body = "abc",
     .rest = "HTTP/1.1 204 No Content\r\n\r\n",
     .in = "HTTP/1.1 200 OK\r\ncontent-LENGTH: 3\r\n\r\nabcHTTP/1.1 204 No Content\r\n\r\n"},
    {.name = "content-length zero", OK11, .kind = FH__FRAME_NONE, .keep_alive = 1,
     .nheaders = 1, .body_rc = 1, .rest = "next",
     .in = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nnext"},
    {.name = "content-length list of equal values", OK11, .kind = FH__FRAME_LENGTH,
     .keep_alive = 1, .cl = 2, .nheaders = 3, .body_rc = 1, .body = "hi",
     .in = "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 002\r\n"
           "Content-Length:2\r\n\r\nhi"},
    {.name = "largest content-length", OK11, .kind = FH__FRAME_LENGTH, .keep_alive = 1,
     .cl = UINT64_C(9223372036854775807), .nheaders = 1, .body_rc = FH_ECLOSED,
     .body = "abc", .body_why = "closed",
     .in = "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\nabc"},
    {.name = "chunked with extensions and trailers", OK11, .kind = FH__FRAME_CHUNKED,
     .keep_alive = 1, .nheaders = 2, .body_rc = 1, .body = "hello world0123456789",
     .rest = "HTTP/1.1",
     .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
           "5;foo=bar\r\nhello\r\n6 ; a=\"b c\";d\r\n world\r\n000A\r\n0123456789\r\n"
           "0;last\r\nX-Sum: 1\r\nY: z\r\n\r\nHTTP/1.1"},
    {.name = "chunked data holding CRLF", OK11, .kind = FH__FRAME_CHUNKED, .keep_alive = 1,
     .nheaders = 1, .body_rc = 1, .body = "\r\n\r\n",
     .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n\r\n\r\n\r\n0\r\n\r\n"},
    {.name = "chunked, uppercase hex", OK11, .kind = FH__FRAME_CHUNKED, .keep_alive = 1,
     .nheaders = 1, .body_rc = 1, .body = "0123456789abcdef0123456789",
     .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
           "1A\r\n0123456789abcdef0123456789\r\n0\r\n\r\n"},
    {.name = "chunked, 16 hex digits", OK11, .kind = FH__FRAME_CHUNKED, .keep_alive = 1,
     .nheaders = 1, .body_rc = 1, .body = "ab",
     .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           "0000000000000002\r\nab\r\n0\r\n\r\n"},
    {.name = "transfer codings over two lines", OK11, .kind = FH__FRAME_CHUNKED,
     .keep_alive = 1, .nheaders = 2, .body_rc = 1, .body = "x",
     .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\nTransfer-Encoding: , chunked\r\n\r\n"
           "1\r\nx\r\n0\r\n\r\n"},
    {.name = "chunked and content-length: chunked wins, no reuse", OK11,
     .kind = FH__FRAME_CHUNKED, .keep_alive = 0, .nheaders = 2, .body_rc = 1, .body = "abc",
     .in = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
           "3\r\nabc\r\n0\r\n\r\n"},
    {.name = "close-delimited", OK11, .kind = FH__FRAME_CLOSE, .keep_alive = 0, .nheaders = 1,
     .body_rc = 1, .body = "all of this until the end\r\n\r\n",
     .in = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
           "all of this until the end\r\n\r\n"},
    {.name = "HTTP/1.0 close-delimited, no headers", .rc = 1, .version = 10, .status = 200,
     .kind = FH__FRAME_CLOSE, .keep_alive = 0, .nheaders = 0, .body_rc = 1, .body = "abc",
     .in = "HTTP/1.0 200 OK\r\n\r\nabc"},
    {.name = "HEAD response with a length", OK11, .head_request = 1, .kind = FH__FRAME_NONE,
     .keep_alive = 1, .nheaders = 1, .body_rc = 1, .rest = "HTTP/1.1 200 OK\r\n",
     .in = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\nHTTP/1.1 200 OK\r\n"},
    {.name = "HEAD response, chunked", OK11, .head_request = 1, .kind = FH__FRAME_NONE,
     .keep_alive = 1, .nheaders = 1, .body_rc = 1,
     .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"},
    {.name = "HEAD response, no framing headers", OK11, .head_request = 1,
     .kind = FH__FRAME_NONE, .keep_alive = 1, .nheaders = 0, .body_rc = 1,
     .in = "HTTP/1.1 200 OK\r\n\r\n"},
    {.name = "204 ignores framing headers", .rc = 1, .version = 11, .status = 204,
     .kind = FH__FRAME_NONE, .keep_alive = 1, .nheaders = 1, .body_rc = 1, .rest = "X",
     .reason = "No Content", .in = "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\nX"},
    {.name = "304", .rc = 1, .version = 11, .status = 304, .kind = FH__FRAME_NONE,
     .keep_alive = 1, .nheaders = 2, .body_rc = 1,
     .in = "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nTransfer-Encoding: chunked\r\n\r\n"},
    {.name = "100 Continue then the final response", .rc = 1, .version = 11, .status = 100,
     .kind = FH__FRAME_NONE, .keep_alive = 1, .nheaders = 0, .body_rc = 1,
     .reason = "Continue", .rest = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
     .in = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
    {.name = "103 Early Hints", .rc = 1, .version = 11, .status = 103, .kind = FH__FRAME_NONE,
     .keep_alive = 1, .nheaders = 2, .body_rc = 1,
     .in = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n"
           "Link: </b.js>; rel=preload\r\n\r\n"},
    {.name = "101 Switching Protocols", .rc = 1, .version = 11, .status = 101,
     .kind = FH__FRAME_NONE, .keep_alive = 1, .nheaders = 2, .body_rc = 1,
     .rest = "\x81\x05hello",
     .in = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
           "\x81\x05hello"},
    {.name = "HTTP/1.0 keep-alive", .rc = 1, .version = 10, .status = 200,
     .kind = FH__FRAME_LENGTH, .keep_alive = 1, .cl = 2, .nheaders = 2, .body_rc = 1,
     .body = "hi",
     .in = "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nhi"},
    {.name = "HTTP/1.0 without keep-alive", .rc = 1, .version = 10, .status = 200,
     .kind = FH__FRAME_LENGTH, .keep_alive = 0, .cl = 2, .nheaders = 1, .body_rc = 1,
     .body = "hi", .in = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi"},
    {.name = "HTTP/1.0 chunked: no reuse", .rc = 1, .version = 10, .status = 200,
     .kind = FH__FRAME_CHUNKED, .keep_alive = 0, .nheaders = 2, .body_rc = 1, .body = "a",
     .in = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
           "1\r\na\r\n0\r\n\r\n"},
    {.name = "Connection close among tokens on several lines", OK11, .kind = FH__FRAME_LENGTH,
     .keep_alive = 0, .cl = 1, .nheaders = 3, .body_rc = 1, .body = "z",
     .in = "HTTP/1.1 200 OK\r\nConnection: upgrade, foo\r\nConnection: bar ,CLOSE\r\n"
           "Content-Length: 1\r\n\r\nz"},
    {.name = "closely named tokens do not count", OK11, .kind = FH__FRAME_LENGTH,
     .keep_alive = 1, .cl = 1, .nheaders = 2, .body_rc = 1, .body = "z",
     .in = "HTTP/1.1 200 OK\r\nConnection: closed, x-close\r\nContent-Length: 1\r\n\r\nz"},
    {.name = "multi-valued headers", OK11, .kind = FH__FRAME_LENGTH, .keep_alive = 1, .cl = 1,
     .nheaders = 4, .body_rc = 1, .body = "!",
     .in = "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2; Path=/\r\n"
           "Vary: Accept, Accept-Encoding\r\nContent-Length: 1\r\n\r\n!"},
    {.name = "empty reason with SP", OK11, .kind = FH__FRAME_NONE, .keep_alive = 1,
     .nheaders = 1, .reason = "", .body_rc = 1,
     .in = "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"},
    {.name = "empty reason without SP", OK11, .kind = FH__FRAME_NONE, .keep_alive = 1,
     .nheaders = 1, .reason = "", .body_rc = 1,
     .in = "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"},
    {.name = "reason with tab, spaces and obs-text", .rc = 1, .version = 11, .status = 999,
     .kind = FH__FRAME_CLOSE, .keep_alive = 0, .nheaders = 0, .reason = "Odd\t Reason \xe9",
     .body_rc = 1, .in = "HTTP/1.1 999 Odd\t Reason \xe9\r\n\r\n"},
    {.name = "bare LF line ends", OK11, .kind = FH__FRAME_LENGTH, .keep_alive = 1, .cl = 2,
     .nheaders = 2, .reason = "OK", .body_rc = 1, .body = "hi",
     .in = "HTTP/1.1 200 OK\nContent-Length: 2\nX: y\n\nhi"},
    {.name = "mixed line ends", OK11, .kind = FH__FRAME_LENGTH, .keep_alive = 1, .cl = 2,
     .nheaders = 2, .body_rc = 1, .body = "hi",
     .in = "HTTP/1.1 200 OK\r\nContent-Length: 2\nX: y\r\n\nhi"},
    {.name = "OWS trimmed, empty values, obs-text", OK11, .kind = FH__FRAME_LENGTH,
     .keep_alive = 1, .cl = 1, .nheaders = 4, .body_rc = 1, .body = "1",
     .in = "HTTP/1.1 200 OK\r\nX-A: \t v a l \t \r\nX-Empty:\r\nX-Sp:   \r\n"
           "Content-Length: 1\r\n\r\n1"},
    {.name = "obs-text in a value", OK11, .kind = FH__FRAME_NONE, .keep_alive = 1,
     .nheaders = 2, .body_rc = 1,
     .in = "HTTP/1.1 200 OK\r\nX-Name: caf\xc3\xa9 \xff\r\nContent-Length: 0\r\n\r\n"},
    {.name = "long values with tabs and obs-text", OK11, .kind = FH__FRAME_NONE,
     .keep_alive = 1, .nheaders = 3, .body_rc = 1,
     .in = "HTTP/1.1 200 OK\r\nX-Long: 0123456789\tabcdefgh\xc3\xa9\xff\x80" "ABCDEFGHIJKLMNOP ~!\r\n"
           "X-Tabs: \t\t\t\t\t\t\t\t\t\tx\t\t\t\t\t\t\t\t\t\t\r\nContent-Length: 0\r\n\r\n"},
    {.name = "header count at the limit", .lim = &small, OK11, .kind = FH__FRAME_NONE,
     .keep_alive = 1, .nheaders = 5, .body_rc = 1,
     .in = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nContent-Length: 0\r\n\r\n"},
    {.name = "status line at the limit", .lim = &small, OK11, .kind = FH__FRAME_NONE,
     .keep_alive = 1, .nheaders = 0, .head_request = 1, .body_rc = 1,
     .in = "HTTP/1.1 200 012345678901234567890123456789012345678901234567890\r\n\r\n"},
    {.name = "head at the limit", .lim = &small, OK11, .kind = FH__FRAME_CLOSE,
     .keep_alive = 0, .nheaders = 5, .body_rc = 1, .body = "x",
     .in = "HTTP/1.1 200 OK\r\nA: 0123456789012345678901234567890123456789012345678901\r\n"
           "B: 0123456789012345678901234567890123456789012345678901\r\n"
           "C: 0123456789012345678901234567890123456789012345678901\r\n"
           "D: 0123456789012345678901234567890123456789012345678901\r\n"
           "E: 1234\r\n\r\nx"},
    {.name = "trailers at the limit", .lim = &small, OK11, .kind = FH__FRAME_CHUNKED,
     .keep_alive = 1, .nheaders = 1, .body_rc = 1, .body = "a",
     .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           "1\r\na\r\n0\r\nX-Trailer-1: 0123456\r\nX-T: 123\r\n\r\n"},
};

/* ---- invalid heads ------------------------------------------------------------- */

#define BAD(n, input, code, w) {.name = (n), .in = (input), .rc = (code), .why = (w)}

static const h1case invalid[] = {
    BAD("HTTP/0.9 body", "hello", FH_EPROTO, "HTTP/0.9"),
    BAD("HTML instead of a status line", "<html>\r\n\r\n", FH_EPROTO, "HTTP/0.9"),
    BAD("TLS bytes on a plain connection", "\x16\x03\x01\x02\x00\x01", FH_EPROTO, "garbage"),
    BAD("lower-case protocol name", "http/1.1 200 OK\r\n\r\n", FH_EPROTO, "HTTP/0.9"),
    BAD("leading empty line", "\r\nHTTP/1.1 200 OK\r\n\r\n", FH_EPROTO, "garbage"),
    BAD("HTTP/2 status line", "HTTP/2 200\r\n\r\n", FH_EPROTO, "version"),
    BAD("HTTP/2.0 status line", "HTTP/2.0 200 OK\r\n\r\n", FH_EPROTO, "unsupported HTTP version"),
    BAD("HTTP/1.2", "HTTP/1.2 200 OK\r\n\r\n", FH_EPROTO, "unsupported HTTP version"),
    BAD("HTTP/0.9 status line", "HTTP/0.9 200 OK\r\n\r\n", FH_EPROTO, "unsupported"),
    BAD("two-digit minor", "HTTP/1.10 200 OK\r\n\r\n", FH_EPROTO, "status code"),
    BAD("version only", "HTTP/1.1\r\n\r\n", FH_EPROTO, "status code"),
    BAD("two-digit status", "HTTP/1.1 20 OK\r\n\r\n", FH_EPROTO, "three digits"),
    BAD("four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", FH_EPROTO, "three digits"),
    BAD("letters in status", "HTTP/1.1 2x0 OK\r\n\r\n", FH_EPROTO, "three digits"),
    BAD("status below 100", "HTTP/1.1 099 OK\r\n\r\n", FH_EPROTO, "below 100"),
    BAD("two spaces before status", "HTTP/1.1  200 OK\r\n\r\n", FH_EPROTO, "three digits"),
    BAD("tab before status", "HTTP/1.1\t200 OK\r\n\r\n", FH_EPROTO, "three digits"),
    BAD("control byte in reason", "HTTP/1.1 200 O\x01K\r\n\r\n", FH_EPROTO, "control"),
    BAD("bare CR in the status line", "HTTP/1.1 200 OK\rX: y\r\n\r\n", FH_EPROTO, "control"),
    BAD("obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n  b\r\nContent-Length: 0\r\n\r\n", FH_EPROTO,
        "obs-fold"),
    BAD("obs-fold with tab", "HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\n\r\n", FH_EPROTO, "obs-fold"),
    BAD("space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello", FH_EPROTO,
        "whitespace between header name and colon"),
    BAD("tab before colon", "HTTP/1.1 200 OK\r\nX\t: 5\r\n\r\n", FH_EPROTO, "whitespace"),
    BAD("empty name", "HTTP/1.1 200 OK\r\n: v\r\n\r\n", FH_EPROTO, "empty header name"),
    BAD("no colon", "HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n", FH_EPROTO, "without a colon"),
    BAD("bad name char", "HTTP/1.1 200 OK\r\nX(y): 1\r\n\r\n", FH_EPROTO, "header name"),
    BAD("non-ASCII name", "HTTP/1.1 200 OK\r\nX\xc3\xa9: 1\r\n\r\n", FH_EPROTO, "header name"),
    BAD("bare CR in a header line", "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", FH_EPROTO, "control"),
    BAD("bare CR line", "HTTP/1.1 200 OK\r\n\rX: 1\r\n\r\n", FH_EPROTO, "header name"),
    BAD("control byte in value", "HTTP/1.1 200 OK\r\nX: a\x01z\r\n\r\n", FH_EPROTO, "control"),
    BAD("escape in value", "HTTP/1.1 200 OK\r\nX: \x1b[31m\r\n\r\n", FH_EPROTO, "control"),
    BAD("control byte deep in a long value",
        "HTTP/1.1 200 OK\r\nX: 0123456789abcdef\x01ghijklmnopqrstuvwxyz\r\n\r\n", FH_EPROTO,
        "control"),
    BAD("DEL deep in a long value",
        "HTTP/1.1 200 OK\r\nX: 0123456789\x7f" "abcdefghijklmnopqrstuvwxyz\r\n\r\n", FH_EPROTO,
        "control"),
    BAD("bare CR deep in a long value",
        "HTTP/1.1 200 OK\r\nX: 0123456789abc\rdefghijklmnopqrstuvwxyz0123456789\r\n\r\n",
        FH_EPROTO, "control"),
    BAD("DEL in value", "HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n", FH_EPROTO, "control"),
    {.name = "NUL in value", .in = "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n", .in_len = 27,
     .rc = FH_EPROTO, .why = "control"},
    BAD("conflicting Content-Length fields",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        FH_ECONTENT_LENGTH, "conflicting Content-Length values"),
    BAD("conflicting Content-Length list", "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n",
        FH_ECONTENT_LENGTH, "conflicting"),
    BAD("plus sign", "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello", FH_ECONTENT_LENGTH,
        "decimal"),
    BAD("minus sign", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", FH_ECONTENT_LENGTH,
        "decimal"),
    BAD("hex Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\n",
        FH_ECONTENT_LENGTH, "decimal"),
    BAD("space inside Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
        FH_ECONTENT_LENGTH, "decimal"),
    BAD("Arabic-Indic digit", "HTTP/1.1 200 OK\r\nContent-Length: \xd9\xa5\r\n\r\n",
        FH_ECONTENT_LENGTH, "decimal"),
    BAD("full-width digit", "HTTP/1.1 200 OK\r\nContent-Length: \xef\xbc\x95\r\n\r\n",
        FH_ECONTENT_LENGTH, "decimal"),
    BAD("empty Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
        FH_ECONTENT_LENGTH, "empty"),
    BAD("empty list element", "HTTP/1.1 200 OK\r\nContent-Length: 5,\r\n\r\nhello",
        FH_ECONTENT_LENGTH, "empty"),
    BAD("Content-Length over 2^63-1",
        "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n", FH_ECONTENT_LENGTH,
        "overflows"),
    BAD("Content-Length over 2^64",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        FH_ECONTENT_LENGTH, "overflows"),
    BAD("Transfer-Encoding gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx",
        FH_ETRANSFER_ENCODING, "chunked"),
    BAD("a transfer coding before chunked",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
        FH_ETRANSFER_ENCODING, "other than chunked"),
    BAD("chunked not last", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        FH_ETRANSFER_ENCODING, "does not end with chunked"),
    BAD("chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n",
        FH_ETRANSFER_ENCODING, "twice"),
    BAD("chunked with a parameter", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;q=1\r\n\r\n",
        FH_ETRANSFER_ENCODING, "chunked"),
    BAD("empty Transfer-Encoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n",
        FH_ETRANSFER_ENCODING, "chunked"),
    {.name = "invalid Content-Length on a HEAD response too", .head_request = 1,
     .in = "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", .rc = FH_ECONTENT_LENGTH,
     .why = "decimal"},
    {.name = "status line too long", .lim = &small, .rc = FH_EHEADERS_TOO_LARGE,
     .why = "status line too long",
     .in = "HTTP/1.1 200 0123456789012345678901234567890123456789012345678901\r\n\r\n"},
    {.name = "status line too long, never ends", .lim = &small, .rc = FH_EHEADERS_TOO_LARGE,
     .why = "status line too long",
     .in = "HTTP/1.1 200 0123456789012345678901234567890123456789012345678901234567"},
    {.name = "head too large", .lim = &small, .rc = FH_EHEADERS_TOO_LARGE, .why = "too large",
     .in = "HTTP/1.1 200 OK\r\nA: 0123456789012345678901234567890123456789012345678901\r\n"
           "B: 0123456789012345678901234567890123456789012345678901\r\n"
           "C: 0123456789012345678901234567890123456789012345678901\r\n"
           "D: 0123456789012345678901234567890123456789012345678901\r\n"
           "E: 12345\r\n\r\n"},
    {.name = "head too large, never ends", .lim = &small, .rc = FH_EHEADERS_TOO_LARGE,
     .why = "too large",
     .in = "HTTP/1.1 200 OK\r\nA: 0123456789012345678901234567890123456789012345678901\r\n"
           "B: 0123456789012345678901234567890123456789012345678901\r\n"
           "C: 0123456789012345678901234567890123456789012345678901\r\n"
           "D: 0123456789012345678901234567890123456789012345678901\r\n"
           "E: 0123456789012345678901234567890123456789012345678901\r\n"},
    {.name = "too many headers", .lim = &small, .rc = FH_ETOO_MANY_HEADERS,
     .why = "too many",
     .in = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\n\r\n"},
    BAD("incomplete head", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r", FH_EAGAIN, NULL),
};

/* Errors that only apply to responses with a body. */
static const h1case invalid_but_no_body[] = {
    {.name = "gzip on a HEAD response is fine", .in = "HTTP/1.1 200 OK\r\n"
                                                      "Transfer-Encoding: gzip\r\n\r\n",
     .head_request = 1, OK11, .kind = FH__FRAME_NONE, .keep_alive = 1, .nheaders = 1,
     .body_rc = 1},
};

/* ---- invalid bodies -------------------------------------------------------------- */

#define CHUNKED_HEAD "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
#define BADBODY(n, body_in, data, code, w)                                                 \
    {.name = (n), .in = CHUNKED_HEAD body_in, OK11, .kind = FH__FRAME_CHUNKED,              \
     .keep_alive = 1, .nheaders = 1, .body = (data), .body_rc = (code), .body_why = (w)}

static const h1case bad_bodies[] = {
    BADBODY("bad hex chunk size", "zz\r\n", "", FH_ECHUNKED, "hexadecimal"),
    BADBODY("empty chunk size", "\r\nabc", "", FH_ECHUNKED, "hexadecimal"),
    BADBODY("signed chunk size", "+5\r\nhello\r\n0\r\n\r\n", "", FH_ECHUNKED, "hexadecimal"),
    BADBODY("0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", "", FH_ECHUNKED, "hexadecimal"),
    BADBODY("junk after BWS", "5 x\r\nhello\r\n0\r\n\r\n", "", FH_ECHUNKED, "after chunk size"),
    BADBODY("overflowing chunk size", "10000000000000000\r\n", "", FH_ECHUNKED, "overflows"),
    BADBODY("huge chunk size", "fffffffffffffffffffff\r\n", "", FH_ECHUNKED, "overflows"),
    BADBODY("missing CRLF after chunk data", "5\r\nhelloX\r\n0\r\n\r\n", "hello", FH_ECHUNKED,
            "missing CRLF after chunk data"),
    BADBODY("bare LF after chunk data", "5\r\nhello\n0\r\n\r\n", "hello", FH_ECHUNKED,
            "missing CRLF after chunk data"),
    BADBODY("CR without LF after chunk data", "5\r\nhello\r0\r\n\r\n", "hello", FH_ECHUNKED,
            "missing CRLF after chunk data"),
    BADBODY("chunk longer than its size", "3\r\nhello\r\n0\r\n\r\n", "hel", FH_ECHUNKED,
            "missing CRLF"),
    BADBODY("bare LF after chunk size", "5\nhello\r\n0\r\n\r\n", "", FH_ECHUNKED, "CRLF"),
    BADBODY("bare LF in extension", "5;a\nhello\r\n0\r\n\r\n", "", FH_ECHUNKED, "CRLF"),
    BADBODY("CR then junk after size", "5\rXhello\r\n0\r\n\r\n", "", FH_ECHUNKED, "CRLF"),
    {.name = "NUL in extension", .in = CHUNKED_HEAD "5;a=\0\r\nhello\r\n0\r\n\r\n",
     .in_len = sizeof(CHUNKED_HEAD "5;a=\0\r\nhello\r\n0\r\n\r\n") - 1, OK11,
     .kind = FH__FRAME_CHUNKED, .keep_alive = 1, .nheaders = 1, .body_rc = FH_ECHUNKED,
     .body_why = "control"},
    BADBODY("junk after the last chunk", "0\r\n\rX", "", FH_ECHUNKED, "CRLF"),
    BADBODY("bare LF in trailer", "0\r\nX: 1\n\r\n", "", FH_ECHUNKED, "trailer"),
    BADBODY("truncated chunk", "5\r\nhel", "hel", FH_ECLOSED, "closed"),
    BADBODY("no last chunk", "1\r\na\r\n", "a", FH_ECLOSED, "closed"),
    BADBODY("no final CRLF", "0\r\nX: y\r\n", "", FH_ECLOSED, "closed"),
    {.name = "oversize trailers", .lim = &small, .in = CHUNKED_HEAD "0\r\nX-Trailer-1: 0123456\r\n"
                                                     "X-T: 1234\r\n\r\n",
     OK11, .kind = FH__FRAME_CHUNKED, .keep_alive = 1, .nheaders = 1, .body_rc = FH_ECHUNKED,
     .body_why = "trailer section too large"},
    {.name = "truncated content-length body", .in = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n"
                                                  "\r\n0123",
     OK11, .kind = FH__FRAME_LENGTH, .cl = 10, .keep_alive = 1, .nheaders = 1, .body = "0123",
     .body_rc = FH_ECLOSED, .body_why = "closed"},
};

/* Parses in (len bytes, a private copy) whole; returns rc, fills out. */
static int head_of(const char *in, size_t len, fh__h1_head *out, fh_header *hdrs)
{
    char *copy = malloc(len);
    memcpy(copy, in, len);
    size_t scan = 0;
    int rc = fh__h1_parse_head(copy, len, &scan, NULL, 0, hdrs, MAXH, out);
    free(copy);
    return rc;
}

/*
 * The word-at-a-time paths (names four bytes per test, values eight, the
 * framing names compared eight at a time with bit 0x20 set): every byte
 * value at every position of values and names of lengths 1 to 24 decides
 * as the byte-by-byte rules say, and the framing names are recognised in
 * any case and never when one byte differs.
 */
static void test_word_paths(void **state)
{
    (void)state;
    fh_header hdrs[MAXH];
    fh__h1_head out;
    char in[256];
    for (size_t vlen = 1; vlen <= 24; vlen++) {
        for (size_t pos = 0; pos < vlen; pos++) {
            for (int b = 0; b < 256; b++) {
                char v[32];
                memset(v, 'v', vlen);
                v[pos] = (char)b;
                int n = snprintf(in, sizeof in, "HTTP/1.1 200 OK\r\nX: ");
                memcpy(in + n, v, vlen);
                n += (int)vlen;
                n += snprintf(in + n, sizeof in - (size_t)n, "\r\nContent-Length: 0\r\n\r\n");
                int ok = !((b < 0x20 && b != '\t') || b == 0x7f);
                int rc = head_of(in, (size_t)n, &out, hdrs);
                if (b == '\n') /* a bare LF ends the line (RFC 9112 §2.2): other cases */
                    continue;
                if (b == '\r') /* a bare CR */
                    assert_true(rc < 0);
                else if (ok != (rc > 0))
                    fail_msg("value byte 0x%02x at %zu of %zu: rc %d", b, pos, vlen, rc);
                if (rc > 0 && !(b == '\t' || b == ' ') ) /* OWS is trimmed at the ends */
                    assert_int_equal(hdrs[0].value_len, vlen);
                /* The same byte in a name of this length. */
                n = snprintf(in, sizeof in, "HTTP/1.1 200 OK\r\n");
                memset(in + n, 'n', vlen);
                in[n + (int)pos] = (char)b;
                n += (int)vlen;
                n += snprintf(in + n, sizeof in - (size_t)n, ": 1\r\nContent-Length: 0\r\n\r\n");
                int token = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') ||
                            (b >= 'A' && b <= 'Z') || (b && strchr("!#$%&'*+-.^_`|~", b));
                rc = head_of(in, (size_t)n, &out, hdrs);
                if (b == ':') /* a shorter name, or none */
                    assert_true(pos ? rc > 0 && hdrs[0].name_len == pos : rc < 0);
                else if (token != (rc > 0))
                    fail_msg("name byte 0x%02x at %zu of %zu: rc %d", b, pos, vlen, rc);
                if (rc > 0 && b != ':')
                    assert_int_equal(hdrs[0].name_len, vlen);
            }
        }
    }
    /* Content-Length (14 bytes: a word and six more) in any case. */
    static const char *const names[] = {"Content-Length", "CONTENT-LENGTH", "content-length",
                                        "cONTENT-lENGTh"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int n = snprintf(in, sizeof in, "HTTP/1.1 200 OK\r\n%s: 7\r\n\r\n", names[i]);
        assert_true(head_of(in, (size_t)n, &out, hdrs) > 0);
        assert_int_equal(out.body_kind, FH__FRAME_LENGTH);
        assert_int_equal(out.content_length, 7);
    }
    /* One token byte off anywhere: not Content-Length (read to close
     * instead); '^' and '`' are letters' neighbours less bit 0x20, '|' and
     * '~' with it, '_' a byte the test would take for DEL. */
    static const char subst[] = "_`^~|0!#";
    for (size_t pos = 0; pos < 14; pos++) {
        for (const char *c = subst; *c; c++) {
            char name[15];
            memcpy(name, "content-length", 15);
            if (name[pos] == *c || (name[pos] | 0x20) == (*c | 0x20))
                continue;
            name[pos] = *c;
            int n = snprintf(in, sizeof in, "HTTP/1.1 200 OK\r\n%s: 7\r\n\r\n", name);
            assert_true(head_of(in, (size_t)n, &out, hdrs) > 0);
            if (out.body_kind != FH__FRAME_CLOSE)
                fail_msg("%s taken for Content-Length", name);
        }
    }
    /* Transfer-Encoding (17 bytes: two words and one more) and its value. */
    int n = snprintf(in, sizeof in,
                     "HTTP/1.1 200 OK\r\nTRANSFER-encoding: CHUNKED\r\nConnection: Keep-Alive, "
                     "CLOSE\r\n\r\n");
    assert_true(head_of(in, (size_t)n, &out, hdrs) > 0);
    assert_int_equal(out.body_kind, FH__FRAME_CHUNKED);
    assert_int_equal(out.keep_alive, 0);
}

static void test_valid(void **state)
{
    (void)state;
    run_cases(valid, NCASES(valid));
}

static void test_invalid_heads(void **state)
{
    (void)state;
    run_cases(invalid, NCASES(invalid));
    run_cases(invalid_but_no_body, NCASES(invalid_but_no_body));
}

static void test_invalid_bodies(void **state)
{
    (void)state;
    run_cases(bad_bodies, NCASES(bad_bodies));
}

/* ---- individual cases ----------------------------------------------------------- */

static int parse(const char *s, size_t len, const fh__h1_limits *lim, fh__h1_head *out)
{
    static fh_header hdrs[256];
    size_t scan = 0;
    return fh__h1_parse_head(s, len, &scan, lim, 0, hdrs, 256, out);
}

/* A long chunk extension, over the 4 KiB line limit. */
static void test_long_chunk_extension(void **state)
{
    (void)state;
    static char in[6000];
    int n = snprintf(in, sizeof in, CHUNKED_HEAD "5;x=");
    memset(in + n, 'a', 4200);
    memcpy(in + n + 4200, "\r\nhello\r\n0\r\n\r\n", 15);
    h1case c = {.name = "long chunk extension", .in = in, OK11, .kind = FH__FRAME_CHUNKED,
                .keep_alive = 1, .nheaders = 1, .body_rc = FH_ECHUNKED,
                .body_why = "chunk extension too long"};
    run_case(&c);
    /* just under the limit it passes */
    memset(in + n, 'a', 4000);
    memcpy(in + n + 4000, "\r\nhello\r\n0\r\n\r\n", 15);
    c.body_rc = 1;
    c.body_why = NULL;
    c.body = "hello";
    run_case(&c);
}

/* The default limits: 8 KiB status line, 64 KiB head, 100 headers. */
static void test_default_limits(void **state)
{
    (void)state;
    size_t cap = 80000;
    char *in = malloc(cap);
    assert_non_null(in);
    fh__h1_head out;
    size_t scan;

    /* a status line of 9000 bytes, with and without its end */
    memcpy(in, "HTTP/1.1 200 ", 13);
    memset(in + 13, 'r', 9000);
    memcpy(in + 9013, "\r\n\r\n", 4);
    assert_int_equal(parse(in, 9017, NULL, &out), FH_EHEADERS_TOO_LARGE);
    assert_int_equal(parse(in, 9013, NULL, &out), FH_EHEADERS_TOO_LARGE);
    /* 8193 bytes without LF may still be 8192 and a CR; one more may not */
    assert_int_equal(parse(in, 8193, NULL, &out), FH_EAGAIN);
    assert_int_equal(parse(in, 8194, NULL, &out), FH_EHEADERS_TOO_LARGE);
    in[8192] = '\r';
    assert_int_equal(parse(in, 8193, NULL, &out), FH_EAGAIN);
    /* 8192 bytes of status line pass */
    memcpy(in + 8192, "\r\n\r\n", 4);
    assert_int_equal(parse(in, 8196, NULL, &out), 8196);

    /* a 70000-byte head */
    size_t n = (size_t)snprintf(in, cap, "HTTP/1.1 200 OK\r\n");
    while (n < 70000)
        n += (size_t)snprintf(in + n, cap - n, "X-Filler: %0900d\r\n", 0);
    assert_int_equal(parse(in, n, NULL, &out), FH_EHEADERS_TOO_LARGE);
    memcpy(in + n, "\r\n", 2);
    assert_int_equal(parse(in, n + 2, NULL, &out), FH_EHEADERS_TOO_LARGE);
    /* fed in 1000-byte steps it fails as soon as 64 KiB have arrived */
    scan = 0;
    int rc = FH_EAGAIN;
    size_t k;
    fh_header hdrs[100];
    for (k = 1000; k <= n + 2 && rc == FH_EAGAIN; k += 1000)
        rc = fh__h1_parse_head(in, k, &scan, NULL, 0, hdrs, 100, &out);
    assert_int_equal(rc, FH_EHEADERS_TOO_LARGE);
    assert_true(k - 1000 > 65536 && k - 1000 <= 65536 + 1000);

    /* 100 headers pass, 101 do not */
    n = (size_t)snprintf(in, cap, "HTTP/1.1 204 No Content\r\n");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(in + n, cap - n, "H%d: %d\r\n", i, i);
    memcpy(in + n, "\r\n", 2);
    assert_int_equal(parse(in, n + 2, NULL, &out), (int)(n + 2));
    assert_int_equal(out.nheaders, 100);
    n += (size_t)snprintf(in + n, cap - n, "H100: x\r\n\r\n");
    assert_int_equal(parse(in, n, NULL, &out), FH_ETOO_MANY_HEADERS);
    assert_non_null(strstr(out.why, "too many"));
    /* a caller array smaller than the limit bounds the count too */
    scan = 0;
    assert_int_equal(fh__h1_parse_head(in, n, &scan, NULL, 0, hdrs, 10, &out),
                     FH_ETOO_MANY_HEADERS);
    free(in);
}

/* An unfinished head fails as soon as it is one byte over the limit. */
static void test_head_limit_boundary(void **state)
{
    (void)state;
    char in[400];
    fh__h1_head out;
    memcpy(in, "HTTP/1.1 200 OK\r\n", 17);
    for (size_t i = 17; i < sizeof in; i++)
        in[i] = (i % 20 == 19) ? '\n' : 'a';
    in[17] = 'X';
    in[18] = ':';
    assert_int_equal(parse(in, 256, &small, &out), FH_EAGAIN);
    assert_int_equal(parse(in, 257, &small, &out), FH_EHEADERS_TOO_LARGE);
    assert_non_null(strstr(out.why, "too large"));
    /* the same while the status line is still arriving */
    fh__h1_limits wide = {1024, 256, 5, 32};
    memset(in + 13, 'r', sizeof in - 13);
    assert_int_equal(parse(in, 256, &wide, &out), FH_EAGAIN);
    assert_int_equal(parse(in, 257, &wide, &out), FH_EHEADERS_TOO_LARGE);
}

/* The head's views point into the caller's buffer. */
static void test_zero_copy_views(void **state)
{
    (void)state;
    static const char in[] = "HTTP/1.1 404 Not Found\r\nServer: t\r\nX-Two:  a b \r\n\r\n";
    fh__h1_head out;
    assert_int_equal(parse(in, sizeof in - 1, NULL, &out), (int)(sizeof in - 1));
    assert_int_equal(out.status, 404);
    assert_ptr_equal(out.reason, in + 13);
    assert_int_equal(out.reason_len, 9);
    assert_int_equal(out.nheaders, 2);
    assert_ptr_equal(out.headers[0].name, in + 24);
    assert_int_equal(out.headers[0].name_len, 6);
    assert_ptr_equal(out.headers[0].value, in + 32);
    assert_int_equal(out.headers[0].value_len, 1);
    assert_int_equal(out.headers[1].value_len, 3);
    assert_memory_equal(out.headers[1].value, "a b", 3);
    assert_int_equal(out.head_len, sizeof in - 1);
    assert_int_equal(out.body_kind, FH__FRAME_CLOSE);
    assert_int_equal(out.keep_alive, 0);
}

/* *scan makes the end-of-head search resume instead of starting over. */
static void test_scan_resumes(void **state)
{
    (void)state;
    static const char in[] = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n";
    fh_header hdrs[8];
    fh__h1_head out;
    size_t scan = 0;
    assert_int_equal(fh__h1_parse_head(in, 20, &scan, NULL, 0, hdrs, 8, &out), FH_EAGAIN);
    assert_true(scan >= 16 && scan <= 20);
    size_t before = scan;
    assert_int_equal(fh__h1_parse_head(in, 29, &scan, NULL, 0, hdrs, 8, &out), FH_EAGAIN);
    assert_true(scan > before);
    assert_int_equal(fh__h1_parse_head(in, sizeof in - 1, &scan, NULL, 0, hdrs, 8, &out),
                     (int)(sizeof in - 1));
    assert_int_equal(out.nheaders, 2);
}

/* The body parser gives back one data span per call and stops at the end. */
static void test_body_spans(void **state)
{
    (void)state;
    fh__h1_head head = {.body_kind = FH__FRAME_CHUNKED};
    fh__h1_body b;
    fh__h1_body_init(&b, &head, NULL);
    static const uint8_t in[] = "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nNEXT";
    size_t len = sizeof in - 1, consumed;
    const uint8_t *data;
    size_t data_len;
    assert_int_equal(fh__h1_body_feed(&b, in, len, &consumed, &data, &data_len), 0);
    assert_int_equal(consumed, 6);
    assert_ptr_equal(data, in + 3);
    assert_int_equal(data_len, 3);
    assert_int_equal(fh__h1_body_feed(&b, in + 6, len - 6, &consumed, &data, &data_len), 0);
    assert_int_equal(consumed, 7);
    assert_ptr_equal(data, in + 11);
    assert_int_equal(data_len, 2);
    assert_int_equal(fh__h1_body_feed(&b, in + 13, len - 13, &consumed, &data, &data_len), 1);
    assert_int_equal(consumed, 7);
    assert_int_equal(data_len, 0);
    assert_int_equal(b.received, 5);
    assert_int_equal(fh__h1_body_done(&b), 1);
    /* complete: further calls consume nothing */
    assert_int_equal(fh__h1_body_feed(&b, in + 20, 4, &consumed, &data, &data_len), 1);
    assert_int_equal(consumed, 0);
    assert_int_equal(fh__h1_body_eof(&b), 1);
    /* errors stick */
    fh__h1_body_init(&b, &head, NULL);
    assert_int_equal(fh__h1_body_feed(&b, (const uint8_t *)"g", 1, &consumed, &data, &data_len),
                     FH_ECHUNKED);
    assert_int_equal(fh__h1_body_feed(&b, in, len, &consumed, &data, &data_len), FH_ECHUNKED);
    assert_int_equal(fh__h1_body_eof(&b), FH_ECLOSED);
    assert_non_null(b.why);
}

static void test_body_length_and_none(void **state)
{
    (void)state;
    fh__h1_head head = {.body_kind = FH__FRAME_NONE};
    fh__h1_body b;
    size_t consumed, data_len;
    const uint8_t *data;
    fh__h1_body_init(&b, &head, NULL);
    assert_int_equal(fh__h1_body_done(&b), 1);
    assert_int_equal(fh__h1_body_feed(&b, (const uint8_t *)"xy", 2, &consumed, &data,
                                      &data_len),
                     1);
    assert_int_equal(consumed, 0);
    assert_int_equal(fh__h1_body_eof(&b), 1);

    head.body_kind = FH__FRAME_LENGTH;
    head.content_length = 3;
    fh__h1_body_init(&b, &head, NULL);
    assert_int_equal(fh__h1_body_done(&b), 0);
    assert_int_equal(fh__h1_body_feed(&b, (const uint8_t *)"ab", 2, &consumed, &data,
                                      &data_len),
                     0);
    assert_int_equal(fh__h1_body_eof(&b), FH_ECLOSED);

    head.body_kind = FH__FRAME_CLOSE;
    fh__h1_body_init(&b, &head, NULL);
    assert_int_equal(fh__h1_body_feed(&b, (const uint8_t *)"ab", 2, &consumed, &data,
                                      &data_len),
                     0);
    assert_int_equal(data_len, 2);
    assert_int_equal(fh__h1_body_done(&b), 0);
    assert_int_equal(fh__h1_body_eof(&b), 1);
    assert_int_equal(fh__h1_body_done(&b), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_word_paths),
        cmocka_unit_test(test_invalid_heads),
        cmocka_unit_test(test_invalid_bodies),
        cmocka_unit_test(test_long_chunk_extension),
        cmocka_unit_test(test_default_limits),
        cmocka_unit_test(test_head_limit_boundary),
        cmocka_unit_test(test_zero_copy_views),
        cmocka_unit_test(test_scan_resumes),
        cmocka_unit_test(test_body_spans),
        cmocka_unit_test(test_body_length_and_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
