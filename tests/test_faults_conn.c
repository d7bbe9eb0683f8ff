/*
 * test_faults_conn.c — the blocking API against a scripted raw-socket peer
 * (support/peer.h): when connections are reused, retried or replaced, and
 * the exact bytes the client writes (nothing at all for invalid input).
 *
 * Every test runs between setup() and teardown(): teardown frees the client
 * and stops the peer, then checks that no file descriptor leaked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fasthttp/fasthttp.h"
#include "support/fixtures.h"
#include "support/peer.h"

#define OK_RESP "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

#include "support/fault_ctx.h"

/* ---- connection reuse and retries ------------------------------------- */

static void get_ok(tctx *t, const char *path, const char *body)
{
    fh_test_result r;
    int err = fh_test_get(t->client, url(t, path), &r);
    if (err)
        fprintf(stderr, "GET %s failed: %s\n", path, r.msg);
    assert_int_equal(err, FH_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal((char *)r.body, body);
    fh_test_result_free(&r);
}

static void test_idle_connection_closed_by_server(void **state)
{
    tctx *t = *state;
    static const fh_peer_step s1[] = {PEER_READ, PEER_SEND(OK_RESP), PEER_SLEEP(100),
                                      PEER_CLOSE, PEER_END};
    static const fh_peer_step s2[] = {PEER_READ, PEER_SEND(OK_RESP), PEER_END};
    const fh_peer_step *sc[] = {s1, s2};
    peer(t, sc, 2);
    client(t);
    get_ok(t, "/1", "ok");
    fh_test_sleep_ms(300); /* the server has closed the idle connection by now */
    get_ok(t, "/2", "ok");
    assert_int_equal(fh_peer_connections(t->peer), 2);
}

/* Connection 0 answers once, then takes the next request and closes. */
static const fh_peer_step stale1[] = {PEER_READ, PEER_SEND(OK_RESP), PEER_READ, PEER_CLOSE,
                                      PEER_END};
static const fh_peer_step stale2[] = {PEER_READ, PEER_SEND(OK_RESP), PEER_END};

static void test_stale_connection_get_retried(void **state)
{
    tctx *t = *state;
    const fh_peer_step *sc[] = {stale1, stale2};
    peer(t, sc, 2);
    client(t);
    get_ok(t, "/1", "ok");
    get_ok(t, "/2", "ok"); /* sent on the stale one, then once on a fresh one */
    assert_int_equal(fh_peer_connections(t->peer), 2);
    assert_int_equal(fh_peer_request_count(t->peer), 3);
}

static void test_stale_connection_post_not_retried(void **state)
{
    tctx *t = *state;
    const fh_peer_step *sc[] = {stale1, stale2};
    peer(t, sc, 2);
    client(t);
    get_ok(t, "/1", "ok");
    fh_test_result r;
    assert_int_equal(fh_test_fetch(t->client, "POST", url(t, "/2"), "data", 4, NULL, &r),
                     FH_ECLOSED);
    fh_test_result_free(&r);
    /* not idempotent: no second connection may appear */
    assert_int_equal(fh_peer_wait_connections(t->peer, 2, 300), 1);
}

static void two_gets_expect_connections(tctx *t, const fh_peer_step *s1, int conns)
{
    static const fh_peer_step s2[] = {PEER_READ, PEER_SEND(OK_RESP), PEER_END};
    const fh_peer_step *sc[] = {s1, s2};
    peer(t, sc, 2);
    client(t);
    get_ok(t, "/1", "ok");
    get_ok(t, "/2", "ok");
    assert_int_equal(fh_peer_connections(t->peer), conns);
    fh_pool_stats st;
    fh_client_pool_stats(t->client, &st);
    assert_int_equal((int)st.created, conns);
    assert_int_equal((int)st.reused, 2 - conns);
}

static void test_connection_close_not_reused(void **state)
{
    static const fh_peer_step s1[] = {
        PEER_READ, PEER_SEND("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"),
        PEER_WAIT_CLOSE, PEER_END};
    two_gets_expect_connections(*state, s1, 2);
}

static void test_http10_not_reused(void **state)
{
    static const fh_peer_step s1[] = {
        PEER_READ, PEER_SEND("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        PEER_WAIT_CLOSE, PEER_END};
    two_gets_expect_connections(*state, s1, 2);
}

static void test_http10_keep_alive_reused(void **state)
{
    static const fh_peer_step s1[] = {
        PEER_READ,
        PEER_SEND("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"),
        PEER_READ, PEER_SEND(OK_RESP), PEER_END};
    two_gets_expect_connections(*state, s1, 1);
}

static void test_head_with_content_length_reused(void **state)
{
    tctx *t = *state;
    static const fh_peer_step s[] = {
        PEER_READ, PEER_SEND("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"),
        PEER_READ, PEER_SEND(OK_RESP), PEER_END};
    peer(t, (const fh_peer_step *const[]){s}, 1);
    client(t);
    fh_test_result r;
    assert_int_equal(fh_test_fetch(t->client, "HEAD", url(t, "/"), NULL, 0, NULL, &r), FH_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    fh_test_result_free(&r);
    get_ok(t, "/", "ok"); /* the HEAD response had no body: same connection */
    assert_int_equal(fh_peer_connections(t->peer), 1);
    fh_pool_stats st;
    fh_client_pool_stats(t->client, &st);
    assert_int_equal((int)st.reused, 1);
}

static void test_chunked_trailers_reused(void **state)
{
    static const fh_peer_step s1[] = {
        PEER_READ,
        PEER_SEND("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "1;ext=1\r\no\r\n1\r\nk\r\n0\r\nX-Trailer: 1\r\n\r\n"),
        PEER_READ, PEER_SEND(OK_RESP), PEER_END};
    two_gets_expect_connections(*state, s1, 1);
}

static void test_half_close_not_reused(void **state)
{
    static const fh_peer_step s1[] = {PEER_READ, PEER_SEND(OK_RESP), PEER_HALF_CLOSE,
                                      PEER_WAIT_CLOSE, PEER_END};
    tctx *t = *state;
    static const fh_peer_step s2[] = {PEER_READ, PEER_SEND(OK_RESP), PEER_END};
    const fh_peer_step *sc[] = {s1, s2};
    peer(t, sc, 2);
    client(t);
    get_ok(t, "/1", "ok");
    fh_peer_wait_connections(t->peer, 1, 1000);
    fh_test_sleep_ms(100); /* let the FIN arrive */
    get_ok(t, "/2", "ok");
    assert_int_equal(fh_peer_connections(t->peer), 2);
}

static void test_cl_and_chunked(void **state)
{
    static const fh_peer_step s1[] = {
        PEER_READ,
        PEER_SEND("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "2\r\nok\r\n0\r\n\r\n"),
        PEER_WAIT_CLOSE, PEER_END};
    two_gets_expect_connections(*state, s1, 2);
}

static void test_bare_lf(void **state)
{
    static const fh_peer_step s1[] = {
        PEER_READ, PEER_SEND("HTTP/1.1 200 OK\nContent-Length: 2\n\nok"),
        PEER_READ, PEER_SEND(OK_RESP), PEER_END};
    two_gets_expect_connections(*state, s1, 1);
}

/* ---- what goes on the wire --------------------------------------------- */

/* Runs req against a peer that answers OK and returns the captured bytes. */
static const char *capture(tctx *t, fh_request *req)
{
    fh_test_result r;
    int err = fh_test_send(t->client, req, &r);
    if (err)
        fprintf(stderr, "send failed: %s\n", r.msg);
    assert_int_equal(err, FH_OK);
    fh_test_result_free(&r);
    const char *got = fh_peer_request(t->peer, fh_peer_request_count(t->peer) - 1, NULL, NULL);
    assert_non_null(got);
    return got;
}

/* A client that adds nothing of its own, so the bytes are fully known. */
static fh_client *bare_client(tctx *t)
{
    peer(t, (const fh_peer_step *const[]){answer_ok}, 1);
    fh_client *c = client(t);
    fh_client_set_user_agent(c, NULL);
    fh_client_set_decode(c, 0);
    return c;
}

static void test_request_bytes_get(void **state)
{
    tctx *t = *state;
    bare_client(t);
    fh_request *req = fh_request_new("GET", url(t, "/path/x?q=1&r=%20"), NULL);
    assert_int_equal(fh_request_add_header(req, "X-First", "1"), FH_OK);
    assert_int_equal(fh_request_add_header(req, "x-second", "two  words"), FH_OK);
    assert_int_equal(fh_request_add_header(req, "X-First", "again"), FH_OK);
    char want[512];
    snprintf(want, sizeof want,
             "GET /path/x?q=1&r=%%20 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
             "X-First: 1\r\nx-second: two  words\r\nX-First: again\r\n\r\n",
             fh_peer_port(t->peer));
    assert_string_equal(capture(t, req), want);
    fh_request_free(req);
}

static void test_request_bytes_defaults(void **state)
{
    tctx *t = *state;
    peer(t, (const fh_peer_step *const[]){answer_ok}, 1);
    client(t);
    fh_request *req = fh_request_new("GET", url(t, "/"), NULL);
    const char *got = capture(t, req);
    assert_non_null(strstr(got, "\r\nUser-Agent: fasthttp/" FH_VERSION_STRING "\r\n"));
    assert_non_null(strstr(got, "\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n"));
    fh_request_free(req);
}

static void test_request_bytes_post(void **state)
{
    tctx *t = *state;
    bare_client(t);
    fh_request *req = fh_request_new("POST", url(t, "/submit"), NULL);
    fh_request_add_header(req, "Content-Type", "text/plain");
    fh_request_set_body(req, "hello", 5, 0);
    char want[256];
    snprintf(want, sizeof want,
             "POST /submit HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: text/plain\r\n"
             "Content-Length: 5\r\n\r\nhello",
             fh_peer_port(t->peer));
    assert_string_equal(capture(t, req), want);
    fh_request_free(req);
}

static void test_request_bytes_chunked_reader(void **state)
{
    tctx *t = *state;
    bare_client(t);
    static const char *const parts[] = {"abc", "defgh", "i", NULL};
    fh_test_pieces src = {parts, 0};
    fh_request *req = fh_request_new("PUT", url(t, "/up"), NULL);
    fh_request_set_body_reader(req, fh_test_pieces_read, &src, -1);
    char want_head[256];
    snprintf(want_head, sizeof want_head,
             "PUT /up HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nTransfer-Encoding: chunked\r\n\r\n",
             fh_peer_port(t->peer));
    const char *got = capture(t, req);
    size_t hl = strlen(want_head);
    assert_memory_equal(got, want_head, hl);
    char body[64];
    assert_int_equal(fh_test_dechunk(got + hl, body, sizeof body), 9);
    assert_string_equal(body, "abcdefghi");
    fh_request_free(req);
}

/* A body of declared length from a reader, then from a lender: the same
 * bytes, with Content-Length. */
static void test_request_bytes_sized_reader_and_lender(void **state)
{
    tctx *t = *state;
    for (int lend = 0; lend <= 1; lend++) {
        bare_client(t);
        static const char *const parts[] = {"12345", "678", NULL};
        fh_test_pieces src = {parts, 0};
        fh_request *req = fh_request_new("POST", url(t, "/up"), NULL);
        assert_int_equal(lend ? fh_request_set_body_lender(req, fh_test_pieces_lend, &src, 8)
                              : fh_request_set_body_reader(req, fh_test_pieces_read, &src, 8),
                         FH_OK);
        char want[256];
        snprintf(want, sizeof want,
                 "POST /up HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 8\r\n\r\n12345678",
                 fh_peer_port(t->peer));
        assert_string_equal(capture(t, req), want);
        fh_request_free(req);
        fh_client_free(t->client);
        t->client = NULL;
        fh_peer_stop(t->peer);
        t->peer = NULL;
    }
}

/* A lent body goes out as lent: each piece one chunk, framed exactly as
 * RFC 9112 §7.1 has it, with no copy in between. */
static void test_request_bytes_chunked_lender(void **state)
{
    tctx *t = *state;
    bare_client(t);
    static const char *const parts[] = {"abc", "defgh", "i", NULL};
    fh_test_pieces src = {parts, 0};
    fh_request *req = fh_request_new("PUT", url(t, "/up"), NULL);
    assert_int_equal(fh_request_set_body_lender(req, fh_test_pieces_lend, &src, -1), FH_OK);
    char want[256];
    snprintf(want, sizeof want,
             "PUT /up HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nTransfer-Encoding: chunked\r\n\r\n"
             "3\r\nabc\r\n5\r\ndefgh\r\n1\r\ni\r\n0\r\n\r\n",
             fh_peer_port(t->peer));
    assert_string_equal(capture(t, req), want);
    fh_request_free(req);
}

/* A lender that refills one buffer per call and spoils the previous piece
 * first: the body arrives intact only if every piece was sent whole before
 * the next call, as the contract says, through the partial writes of
 * pieces larger than the socket buffers. */
typedef struct spoiling_lender {
    char *buf;
    size_t piece, pieces, i;
} spoiling_lender;

static char piece_byte(size_t piece, size_t k)
{
    return (char)('a' + (piece * 7 + k) % 26);
}

static ssize_t spoiling_lend(void *ud, const uint8_t **data)
{
    spoiling_lender *s = ud;
    memset(s->buf, 'X', s->piece);
    if (s->i == s->pieces)
        return 0;
    for (size_t k = 0; k < s->piece; k++)
        s->buf[k] = piece_byte(s->i, k);
    s->i++;
    *data = (const uint8_t *)s->buf;
    return (ssize_t)s->piece;
}

static void test_large_lent_body_sent_whole(void **state)
{
    tctx *t = *state;
    const size_t piece = 1 << 20, pieces = 8, total = piece * pieces;
    char *want = malloc(total + 1), *got = malloc(total + 1);
    assert_non_null(want);
    assert_non_null(got);
    for (size_t i = 0; i < pieces; i++)
        for (size_t k = 0; k < piece; k++)
            want[i * piece + k] = piece_byte(i, k);
    for (int chunked = 0; chunked <= 1; chunked++) {
        /* A socketpair's buffers (about 200 KiB) are far smaller than a
         * piece, so every piece goes out in several partial writes. */
        fh_client *c = bare_client(t);
        fh_client_set_connect_hook(c, fh_peer_connect_hook, t->peer);
        spoiling_lender src = {malloc(piece), piece, pieces, 0};
        assert_non_null(src.buf);
        fh_request *req = fh_request_new("POST", url(t, "/up"), NULL);
        fh_request_set_body_lender(req, spoiling_lend, &src, chunked ? -1 : (int64_t)total);
        size_t len = 0;
        fh_test_result r;
        assert_int_equal(fh_test_send(t->client, req, &r), FH_OK);
        fh_test_result_free(&r);
        const char *raw = fh_peer_request(t->peer, 0, &len, NULL);
        assert_non_null(raw);
        const char *body = strstr(raw, "\r\n\r\n");
        assert_non_null(body);
        body += 4;
        if (chunked) {
            assert_int_equal(fh_test_dechunk(body, got, total + 1), (ssize_t)total);
        } else {
            assert_int_equal(len - (size_t)(body - raw), total);
            memcpy(got, body, total);
        }
        assert_memory_equal(got, want, total);
        assert_int_equal(src.i, pieces);
        fh_request_free(req);
        free(src.buf);
        fh_client_free(t->client);
        t->client = NULL;
        fh_peer_stop(t->peer);
        t->peer = NULL;
    }
    free(want);
    free(got);
}

/* The lender's answers are held to the same rules as a reader's. */
static ssize_t too_long_lend(void *ud, const uint8_t **data)
{
    (void)ud;
    *data = (const uint8_t *)"0123456789";
    return 10;
}

static ssize_t null_piece_lend(void *ud, const uint8_t **data)
{
    (void)ud;
    (void)data; /* leaves *data NULL */
    return 4;
}

static void test_lender_errors(void **state)
{
    tctx *t = *state;
    peer(t, (const fh_peer_step *const[]){answer_ok}, 1);
    client(t);
    fh_request *req = fh_request_new("POST", url(t, "/up"), NULL);
    assert_int_equal(fh_request_set_body_lender(NULL, too_long_lend, NULL, 4), FH_EINVAL);
    assert_int_equal(fh_request_set_body_lender(req, NULL, NULL, 4), FH_EINVAL);
    assert_int_equal(fh_request_set_body_lender(req, too_long_lend, NULL, 4), FH_OK);
    fh_test_result r;
    assert_int_equal(fh_test_send(t->client, req, &r), FH_EBODY_SOURCE);
    assert_non_null(strstr(r.msg, "Content-Length is 4"));
    fh_test_result_free(&r);
    assert_int_equal(fh_request_set_body_lender(req, null_piece_lend, NULL, -1), FH_OK);
    assert_int_equal(fh_test_send(t->client, req, &r), FH_EBODY_SOURCE);
    fh_test_result_free(&r);
    fh_request_free(req);
}

/* A file body: the bytes at an offset, with Content-Length, read by the
 * engine at explicit offsets (the file position is not moved). */
static void test_request_bytes_file_body(void **state)
{
    tctx *t = *state;
    bare_client(t);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fputs("0123456789abcdef", tmp);
    fflush(tmp);
    int fd = fileno(tmp);
    assert_int_equal(lseek(fd, 5, SEEK_SET), 5);
    fh_request *req = fh_request_new("POST", url(t, "/up"), NULL);
    assert_int_equal(fh_request_set_body_file(req, fd, 3, 10), FH_OK);
    char want[256];
    snprintf(want, sizeof want,
             "POST /up HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 10\r\n\r\n3456789abc",
             fh_peer_port(t->peer));
    assert_string_equal(capture(t, req), want);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 5);
    fh_request_free(req);
    fclose(tmp);
}

static void test_file_body_errors(void **state)
{
    tctx *t = *state;
    static const fh_peer_step s[] = {PEER_READ, PEER_SEND(OK_RESP), PEER_END};
    peer(t, (const fh_peer_step *const[]){s, s}, 2);
    client(t);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fputs("short", tmp);
    fflush(tmp);
    fh_request *req = fh_request_new("POST", url(t, "/up"), NULL);
    assert_int_equal(fh_request_set_body_file(NULL, 0, 0, 1), FH_EINVAL);
    assert_int_equal(fh_request_set_body_file(req, -1, 0, 1), FH_EINVAL);
    assert_int_equal(fh_request_set_body_file(req, fileno(tmp), -1, 1), FH_EINVAL);
    assert_int_equal(fh_request_set_body_file(req, fileno(tmp), 0, -1), FH_EINVAL);
    /* The file ends before the length it was sent with. */
    assert_int_equal(fh_request_set_body_file(req, fileno(tmp), 1, 100), FH_OK);
    fh_test_result r;
    assert_int_equal(fh_test_send(t->client, req, &r), FH_EBODY_SOURCE);
    assert_non_null(strstr(r.msg, "the request body file ended after 4 of 100 bytes"));
    fh_test_result_free(&r);
    /* A descriptor that is not open for reading. */
    int wfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    assert_true(wfd >= 0);
    assert_int_equal(fh_request_set_body_file(req, wfd, 0, 10), FH_OK);
    assert_int_equal(fh_test_send(t->client, req, &r), FH_EBODY_SOURCE);
    assert_non_null(strstr(r.msg, "reading the request body file: Bad file descriptor"));
    fh_test_result_free(&r);
    close(wfd);
    fh_request_free(req);
    fclose(tmp);
}

static void test_header_injection_rejected(void **state)
{
    tctx *t = *state;
    peer(t, (const fh_peer_step *const[]){answer_ok}, 1);
    client(t);
    int err = 0;
    fh_request *req = fh_request_new("GET", url(t, "/"), &err);
    assert_non_null(req);
    assert_int_equal(fh_request_add_header(req, "X-Bad", "a\r\nInjected: 1"), FH_EHEADER);
    assert_int_equal(fh_request_add_header(req, "X-Bad", "a\nb"), FH_EHEADER);
    assert_int_equal(fh_request_add_header(req, "X-Bad", "a\rb"), FH_EHEADER);
    assert_int_equal(fh_request_add_header_n(req, "X-Bad", 5, "a\0b", 3), FH_EHEADER);
    assert_int_equal(fh_request_add_header(req, "X Bad", "v"), FH_EHEADER);
    assert_int_equal(fh_request_add_header(req, "X-Bad\r\nY", "v"), FH_EHEADER);
    assert_true(fh_request_add_header(req, "Content-Length", "5") < 0); /* framing is ours */
    assert_true(fh_request_add_header(req, "Host", "a\r\nb") < 0);
    fh_request_free(req);
    err = 0;
    assert_null(fh_request_new("GET\r\nX: y", url(t, "/"), &err));
    assert_true(err < 0);
    err = 0;
    assert_null(fh_request_new("GET", "http://127.0.0.1/a\r\nX: y", &err));
    assert_true(err < 0);
    /* nothing was ever written: the peer saw no connection at all */
    assert_int_equal(fh_peer_wait_connections(t->peer, 1, 200), 0);
}

/* A header set's fields go out as if added one by one, in order, with the
 * request's own fields around them; the set may be freed by its maker
 * while requests still carry it, and carried by several at once. */
static void test_request_bytes_header_set(void **state)
{
    tctx *t = *state;
    bare_client(t);
    const fh_header f[] = {{"User-Agent", 10, "me/1", 4}, {"Accept", 6, "*/*", 3},
                           {"X-Empty", 7, "", 0}};
    fh_header_set *set = NULL;
    assert_int_equal(fh_header_set_new(f, 3, &set), FH_OK);
    fh_request *a = fh_request_new("GET", url(t, "/a"), NULL);
    fh_request *b = fh_request_new("GET", url(t, "/b"), NULL);
    assert_int_equal(fh_request_add_header(a, "X-Before", "1"), FH_OK);
    assert_int_equal(fh_request_add_header_set(a, set), FH_OK);
    assert_int_equal(fh_request_add_header(a, "X-After", "2"), FH_OK);
    assert_int_equal(fh_request_add_header_set(b, set), FH_OK);
    fh_header_set_free(set); /* the requests keep theirs */
    char want[512];
    snprintf(want, sizeof want,
             "GET /a HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Before: 1\r\nUser-Agent: me/1\r\n"
             "Accept: */*\r\nX-Empty: \r\nX-After: 2\r\n\r\n",
             fh_peer_port(t->peer));
    assert_string_equal(capture(t, a), want);
    fh_request_free(a);
    snprintf(want, sizeof want,
             "GET /b HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: me/1\r\nAccept: */*\r\n"
             "X-Empty: \r\n\r\n",
             fh_peer_port(t->peer));
    assert_string_equal(capture(t, b), want);
    fh_request_free(b);
    /* An empty set adds nothing. */
    assert_int_equal(fh_header_set_new(NULL, 0, &set), FH_OK);
    fh_request *c = fh_request_new("GET", url(t, "/c"), NULL);
    assert_int_equal(fh_request_add_header_set(c, set), FH_OK);
    fh_header_set_free(set);
    snprintf(want, sizeof want, "GET /c HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
             fh_peer_port(t->peer));
    assert_string_equal(capture(t, c), want);
    fh_request_free(c);
}

/* A set is checked as fh_request_add_header checks: nothing is made from a
 * field that could not be added one by one. */
static void test_header_set_rejected(void **state)
{
    const fh_header bad[][1] = {
        {{"X-Bad", 5, "a\r\nInjected: 1", 14}}, {{"X-Bad", 5, "a\0b", 3}},
        {{"X Bad", 5, "v", 1}},                 {{"", 0, "v", 1}},
        {{"Content-Length", 14, "5", 1}},       {{"transfer-encoding", 17, "chunked", 7}},
        {{NULL, 0, "v", 1}},                    {{"X-Null", 6, NULL, 3}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fh_header_set *set = (fh_header_set *)bad; /* must be reset */
        const fh_header two[2] = {{"X-Good", 6, "1", 1}, bad[i][0]};
        assert_int_equal(fh_header_set_new(two, 2, &set), FH_EHEADER);
        assert_null(set);
    }
    fh_header_set *set = NULL;
    assert_int_equal(fh_header_set_new(NULL, 1, &set), FH_EINVAL);
    assert_int_equal(fh_header_set_new(NULL, 0, NULL), FH_EINVAL);
    assert_int_equal(fh_request_add_header_set(NULL, NULL), FH_EINVAL);
    fh_header_set_free(NULL);
}

/* The peer can also be reached through the connect hook (a socketpair,
 * no TCP and no DNS): the host name is only used for the Host header. */
static void test_connect_hook_socketpair(void **state)
{
    tctx *t = *state;
    peer(t, (const fh_peer_step *const[]){answer_ok}, 1);
    client(t);
    fh_client_set_connect_hook(t->client, fh_peer_connect_hook, t->peer);
    fh_client_set_user_agent(t->client, NULL);
    fh_client_set_decode(t->client, 0);
    fh_request *req = fh_request_new("GET", "http://peer.test/x", NULL);
    assert_string_equal(capture(t, req), "GET /x HTTP/1.1\r\nHost: peer.test\r\n\r\n");
    assert_int_equal(fh_peer_connections(t->peer), 1);
    fh_request_free(req);
}

/* ---- group -------------------------------------------------------------- */

/* One exchange before the tests, so lazily created process-wide
 * descriptors (resolver, randomness) do not count as leaks of a test. */
static int group_setup(void **state)
{
    tctx t = {0};
    fh_test_result r;
    peer(&t, (const fh_peer_step *const[]){answer_ok}, 1);
    int err = fh_test_get(client(&t), url(&t, "/"), &r);
    if (err)
        fprintf(stderr, "warm-up request failed: %s\n", r.msg);
    fh_test_result_free(&r);
    fh_client_free(t.client);
    fh_peer_stop(t.peer);
    return err == 0 ? 0 : -1;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_idle_connection_closed_by_server),
        T(test_stale_connection_get_retried),
        T(test_stale_connection_post_not_retried),
        T(test_connection_close_not_reused),
        T(test_http10_not_reused),
        T(test_http10_keep_alive_reused),
        T(test_head_with_content_length_reused),
        T(test_chunked_trailers_reused),
        T(test_half_close_not_reused),
        T(test_cl_and_chunked),
        T(test_bare_lf),
        T(test_request_bytes_get),
        T(test_request_bytes_defaults),
        T(test_request_bytes_post),
        T(test_request_bytes_chunked_reader),
        T(test_request_bytes_sized_reader_and_lender),
        T(test_request_bytes_chunked_lender),
        T(test_large_lent_body_sent_whole),
        T(test_lender_errors),
        T(test_request_bytes_file_body),
        T(test_file_body_errors),
        T(test_header_injection_rejected),
        T(test_request_bytes_header_set),
        T(test_header_set_rejected),
        T(test_connect_hook_socketpair),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
