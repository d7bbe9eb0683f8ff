/*
 * fuzz_h1_parser.c — libFuzzer target for the HTTP/1.1 response parser.
 *
 * The input is a response as it comes off the wire. It is parsed whole, in
 * two pieces at a few split points and byte by byte, and all results must
 * agree; a complete head's body is then fed whole and in small pieces, and
 * the payloads and outcomes must agree too. Every view the parser hands out
 * must lie inside the bytes it was given. Runs with the default limits and
 * with small ones (to reach the limit paths), for GET and HEAD.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *     fuzz/fuzz_h1_parser.c src/h1_parser.c src/h1_writer.c src/buf.c src/errors.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "h1.h"

#define CHECK(x)                                                                           \
    do {                                                                                   \
        if (!(x))                                                                          \
            __builtin_trap();                                                              \
    } while (0)

#define CAP 128

static const fh__h1_limits small_limits = {48, 200, 6, 24};
static const fh__h1_limits default_limits = {8192, 65536, 100, 16384}; /* lim == NULL */

typedef struct result {
    int rc;
    const char *why;
    int version, status, kind, keep_alive;
    uint64_t cl;
    size_t head_len, nheaders, reason_off, reason_len;
    size_t hdr[CAP][4];
} result;

static int known_head_error(int rc)
{
    return rc == FH_EPROTO || rc == FH_EHEADERS_TOO_LARGE || rc == FH_ETOO_MANY_HEADERS ||
           rc == FH_ECONTENT_LENGTH || rc == FH_ETRANSFER_ENCODING;
}

static int within(const char *p, size_t n, const char *base, size_t len)
{
    return p >= base && p <= base + len && n <= (size_t)(base + len - p);
}

/* Checks the invariants of one parse of base[0..len) and records it. */
static void record(result *r, int rc, const fh__h1_head *o, const char *base, size_t len,
                   const fh__h1_limits *lim)
{
    if (!lim)
        lim = &default_limits;
    memset(r, 0, sizeof *r);
    r->rc = rc;
    if (rc == FH_EAGAIN)
        return;
    if (rc < 0) {
        CHECK(known_head_error(rc));
        CHECK(o->why != NULL);
        r->why = o->why;
        return;
    }
    CHECK(o->why == NULL);
    CHECK((size_t)rc == o->head_len && o->head_len <= len);
    CHECK(o->head_len <= lim->header_bytes);
    CHECK(o->version == 10 || o->version == 11);
    CHECK(o->status >= 100 && o->status <= 999);
    CHECK(o->body_kind >= FH__FRAME_NONE && o->body_kind <= FH__FRAME_CLOSE);
    CHECK(o->keep_alive == 0 || o->keep_alive == 1);
    CHECK(o->body_kind != FH__FRAME_CLOSE || o->keep_alive == 0);
    CHECK(o->body_kind != FH__FRAME_LENGTH || o->content_length > 0);
    CHECK(o->nheaders <= CAP && o->nheaders <= lim->header_count);
    CHECK(within(o->reason, o->reason_len, base, o->head_len));
    r->version = o->version;
    r->status = o->status;
    r->kind = o->body_kind;
    r->keep_alive = o->keep_alive;
    r->cl = o->content_length;
    r->head_len = o->head_len;
    r->nheaders = o->nheaders;
    r->reason_off = (size_t)(o->reason - base);
    r->reason_len = o->reason_len;
    for (size_t i = 0; i < o->nheaders; i++) {
        const fh_header *h = &o->headers[i];
        CHECK(h->name_len > 0);
        CHECK(within(h->name, h->name_len, base, o->head_len));
        CHECK(within(h->value, h->value_len, base, o->head_len));
        CHECK(memchr(h->value, '\n', h->value_len) == NULL);
        CHECK(memchr(h->value, '\r', h->value_len) == NULL);
        r->hdr[i][0] = (size_t)(h->name - base);
        r->hdr[i][1] = h->name_len;
        r->hdr[i][2] = (size_t)(h->value - base);
        r->hdr[i][3] = h->value_len;
    }
}

/* Parses an exact-size private copy of in[0..n), carrying *scan. */
static int parse_copy(const uint8_t *in, size_t n, size_t *scan, const fh__h1_limits *lim,
                      int head_req, result *r)
{
    char *copy = malloc(n ? n : 1);
    CHECK(copy != NULL);
    if (n)
        memcpy(copy, in, n);
    fh_header hdrs[CAP];
    fh__h1_head out;
    size_t before = *scan;
    int rc = fh__h1_parse_head(copy, n, scan, lim, head_req, hdrs, CAP, &out);
    CHECK(*scan <= n && (*scan >= before || before > n));
    record(r, rc, &out, copy, n, lim);
    free(copy);
    return rc;
}

/* ---- body ---------------------------------------------------------------- */

typedef struct body_out {
    int rc;
    const char *why;
    size_t end;
    uint8_t *data;
    size_t data_len;
} body_out;

/* Feeds body[0..len) in pieces of the given sizes, cycling (0: whole). */
static void feed(const fh__h1_head *head, const fh__h1_limits *lim, const uint8_t *body,
                 size_t len, const size_t *sizes, size_t nsizes, body_out *o)
{
    fh__h1_body b;
    fh__h1_body_init(&b, head, lim);
    memset(o, 0, sizeof *o);
    o->data = malloc(len ? len : 1);
    CHECK(o->data != NULL);
    size_t off = 0, k = 0;
    int rc = 0;
    while (rc == 0 && off < len) {
        size_t n = nsizes ? sizes[k++ % nsizes] : len;
        if (n > len - off)
            n = len - off;
        uint8_t *piece = malloc(n);
        CHECK(piece != NULL);
        memcpy(piece, body + off, n);
        size_t used = 0;
        while (rc == 0 && used < n) {
            size_t consumed = (size_t)-1, dl = (size_t)-1;
            const uint8_t *d = NULL;
            rc = fh__h1_body_feed(&b, piece + used, n - used, &consumed, &d, &dl);
            CHECK(rc == 0 || rc == 1 || rc == FH_ECHUNKED);
            CHECK(consumed <= n - used);
            CHECK(dl <= consumed && d >= piece + used && d + dl <= piece + used + consumed);
            CHECK(rc != 0 || consumed > 0);
            CHECK(rc != FH_ECHUNKED || b.why != NULL);
            memcpy(o->data + o->data_len, d, dl);
            o->data_len += dl;
            CHECK(b.received == o->data_len);
            used += consumed;
        }
        free(piece);
        off += used;
    }
    /* a body with nothing to read (NONE) is complete without a call */
    CHECK(fh__h1_body_done(&b) == (rc == 1) || (rc == 0 && len == 0));
    if (rc == 0)
        rc = fh__h1_body_done(&b) ? 1 : fh__h1_body_eof(&b);
    CHECK(rc == 1 || rc == FH_ECHUNKED || rc == FH_ECLOSED);
    CHECK(rc != 1 || fh__h1_body_done(&b));
    CHECK(rc == 1 || b.why != NULL);
    if (head->body_kind == FH__FRAME_LENGTH && rc == 1)
        CHECK(o->data_len == head->content_length);
    o->rc = rc;
    o->why = rc < 0 ? b.why : NULL;
    o->end = off;
}

static void same_body(const body_out *a, const body_out *b)
{
    CHECK(a->rc == b->rc && a->why == b->why && a->data_len == b->data_len);
    CHECK(a->rc != 1 || a->end == b->end);
    CHECK(memcmp(a->data, b->data, a->data_len) == 0);
}

static void run_body(const uint8_t *in, size_t len, const fh__h1_limits *lim, int head_req)
{
    fh_header hdrs[CAP];
    fh__h1_head head;
    size_t scan = 0;
    int rc = fh__h1_parse_head((const char *)in, len, &scan, lim, head_req, hdrs, CAP, &head);
    CHECK(rc > 0);
    const uint8_t *body = in + head.head_len;
    size_t blen = len - head.head_len;

    static const size_t ones[] = {1};
    static const size_t mixed[] = {3, 1, 7, 2, 64, 5};
    body_out whole, other;
    feed(&head, lim, body, blen, NULL, 0, &whole);
    feed(&head, lim, body, blen, ones, 1, &other);
    same_body(&whole, &other);
    free(other.data);
    feed(&head, lim, body, blen, mixed, 6, &other);
    same_body(&whole, &other);
    free(other.data);
    free(whole.data);
}

/* ---- the head ------------------------------------------------------------ */

static void run(const uint8_t *in, size_t len, const fh__h1_limits *lim, int head_req)
{
    result whole, r;
    size_t scan = 0;
    parse_copy(in, len, &scan, lim, head_req, &whole);

    /* two pieces at a few split points */
    size_t splits[] = {1, 2, len / 3, len / 2, len > 1 ? len - 1 : 0, len > 2 ? len - 2 : 0};
    for (size_t i = 0; i < sizeof splits / sizeof splits[0]; i++) {
        size_t k = splits[i];
        if (k == 0 || k >= len)
            continue;
        scan = 0;
        if (parse_copy(in, k, &scan, lim, head_req, &r) == FH_EAGAIN)
            parse_copy(in, len, &scan, lim, head_req, &r);
        CHECK(memcmp(&whole, &r, sizeof r) == 0);
    }

    /* byte by byte over one growing buffer; the result, once there, stays */
    if (len <= 4096) {
        fh_header hdrs[CAP];
        fh__h1_head out;
        int settled = 0;
        scan = 0;
        for (size_t k = 1; k <= len; k++) {
            int rc = fh__h1_parse_head((const char *)in, k, &scan, lim, head_req, hdrs, CAP,
                                       &out);
            if (rc == FH_EAGAIN && !settled)
                continue;
            settled = 1;
            record(&r, rc, &out, (const char *)in, k, lim);
            CHECK(memcmp(&whole, &r, sizeof r) == 0);
        }
        if (!settled)
            CHECK(whole.rc == FH_EAGAIN);
    }

    if (whole.rc > 0)
        run_body(in, len, lim, head_req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int head_req = 0; head_req < 2; head_req++) {
        run(data, size, NULL, head_req);
        run(data, size, &small_limits, head_req);
    }
    return 0;
}
