/*
 * test_h2_faults.c — how the HTTP/2 codec fails (issue 12 item 4), against
 * a scripted HTTP/2 server (support/h2peer.c) spoken to by prior knowledge
 * over a socketpair: GOAWAY and REFUSED_STREAM (never processed, so sent
 * again whatever the method; nothing the server may have processed is sent
 * twice), other resets (that stream alone fails), a connection that dies,
 * the limits (header list size and count, CONTINUATION floods, HPACK
 * bombs, Content-Length against DATA, PUSH_PROMISE, a stream window never
 * given back, PING floods), cancellation, per-stream timeouts and
 * back-pressure from a slow reader. Every test runs on one engine and
 * checks that nothing leaks (descriptors here, memory under ASan).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fasthttp/fasthttp.h"
#include "support/fixtures.h"
#include "support/h2peer.h"

/* RFC 9113 §7 error codes. */
enum { H2E_NO_ERROR = 0, H2E_PROTOCOL = 1, H2E_INTERNAL = 2, H2E_FRAME_SIZE = 6,
       H2E_REFUSED = 7, H2E_CANCEL = 8, H2E_CALM = 11 };

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the fixture: one peer, one client, one engine ----------------------------- */

typedef struct T {
    int fds;
    h2peer *p;
    fh_client *c;
    fh_engine *e;
} T;

static T t;

static int setup(void **state)
{
    (void)state;
    memset(&t, 0, sizeof t);
    t.fds = fh_test_count_fds();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fh_engine_free(t.e);
    fh_client_free(t.c);
    h2peer_stop(t.p);
    int after = fh_test_count_fds();
    if (after != t.fds)
        fprintf(stderr, "fd leak: %d open before the test, %d after\n", t.fds, after);
    return after == t.fds ? 0 : -1;
}

/* A peer running fn on each connection, a client speaking HTTP/2 to it by
 * prior knowledge, and an engine. Timeouts are generous so that a bug
 * shows as a wrong error rather than a hang; tests that time out set
 * their own. */
static void start(h2p_script fn, void *ud)
{
    t.p = h2peer_start(fn, ud);
    assert_non_null(t.p);
    t.c = fh_client_new();
    assert_non_null(t.c);
    assert_int_equal(fh_client_set_http2(t.c, FH_HTTP2_ONLY), FH_OK);
    assert_int_equal(fh_client_set_connect_hook(t.c, h2peer_connect_hook, t.p), FH_OK);
    fh_client_set_timeout(t.c, FH_TIMEOUT_CONNECT, 5000);
    fh_client_set_timeout(t.c, FH_TIMEOUT_READ, 10000);
    fh_client_set_timeout(t.c, FH_TIMEOUT_WRITE, 10000);
    t.e = fh_engine_new(t.c, NULL, NULL);
    assert_non_null(t.e);
}

static void retries(int attempts)
{
    fh_retry_policy rp;
    fh_retry_policy_init(&rp);
    rp.max_attempts = attempts;
    assert_int_equal(fh_client_set_retry(t.c, &rp), FH_OK);
}

static uint64_t connections_created(void)
{
    fh_pool_stats s;
    assert_int_equal(fh_client_pool_stats(t.c, &s), FH_OK);
    return s.created;
}

/* ---- requests on the engine -------------------------------------------------------- */

typedef struct call {
    fh_request *req;
    int stream;
    int done, err, status;
    int64_t t0, took;
    fh_response *resp; /* stream mode: kept for the test */
    char msg[300];
    char body[64]; /* the start of a buffered body */
    size_t body_len;
} call;

static void on_done(void *ud, fh_request *req, int status, fh_response *resp)
{
    call *c = ud;
    c->done = 1;
    c->err = status;
    c->took = now_ms() - c->t0;
    if (status) {
        snprintf(c->msg, sizeof c->msg, "%s", fh_request_error_message(req));
        return;
    }
    c->status = fh_response_status(resp);
    if (c->stream) {
        c->resp = resp;
        return;
    }
    size_t len = 0;
    const uint8_t *b = fh_response_body(resp, &len);
    c->body_len = len;
    snprintf(c->body, sizeof c->body, "%.*s", (int)(len < 63 ? len : 63), (const char *)b);
    fh_response_free(resp);
}

static const fh_callbacks cbs = {on_done, NULL};

static void submit(call *c, const char *method, const char *path, const char *body, size_t len)
{
    char url[300];
    snprintf(url, sizeof url, "http://h2.test%s", path);
    memset(c, 0, sizeof *c);
    c->req = fh_request_new(method, url, NULL);
    assert_non_null(c->req);
    if (body)
        assert_int_equal(fh_request_set_body(c->req, body, len, 0), FH_OK);
    c->t0 = now_ms();
}

static void go(call *c)
{
    assert_int_equal(fh_engine_submit(t.e, c->req, &cbs, c), FH_OK);
}

static void req(call *c, const char *method, const char *path, const char *body, size_t len)
{
    submit(c, method, path, body, len);
    go(c);
}

static int all_done(call *const *cs)
{
    for (int i = 0; cs[i]; i++)
        if (!cs[i]->done)
            return 0;
    return 1;
}

/* Polls until every call of the NULL-terminated list is done; a hang is a
 * failure after ms. */
static void run_calls(int ms, call *const *cs)
{
    int64_t end = now_ms() + ms;
    while (!all_done(cs)) {
        assert_true(now_ms() < end);
        assert_true(fh_engine_poll(t.e, 20) >= 0);
    }
}
#define RUN(ms, ...) run_calls((ms), (call *const[]){__VA_ARGS__, NULL})

/* Polls the engine until the client sent n frames of the kind (see
 * h2peer_frames): the engine must run for its bytes to go out. */
static int wait_frames(int n, int ms, int conn, int type, int32_t id, int64_t code)
{
    int64_t end = now_ms() + ms;
    int got;
    while ((got = h2peer_frames(t.p, conn, type, id, code)) < n && now_ms() < end)
        assert_true(fh_engine_poll(t.e, 10) >= 0);
    return got;
}

/* Polls the engine until the server has n requests for path. */
static int wait_requests(int n, int ms, const char *path)
{
    int64_t end = now_ms() + ms;
    int got;
    while ((got = h2peer_requests(t.p, path, -1)) < n && now_ms() < end)
        assert_true(fh_engine_poll(t.e, 10) >= 0);
    return got;
}

/* Polls for ms whatever happens. */
static void spin(int ms)
{
    int64_t end = now_ms() + ms;
    while (now_ms() < end)
        assert_true(fh_engine_poll(t.e, 10) >= 0);
}

static void done_call(call *c)
{
    if (c->resp)
        fh_response_free(c->resp);
    c->resp = NULL;
    fh_request_free(c->req);
    c->req = NULL;
}

static void expect_ok(const call *c, const char *body)
{
    if (c->err)
        fprintf(stderr, "unexpected failure: %s\n", c->msg);
    assert_int_equal(c->err, FH_OK);
    assert_int_equal(c->status, 200);
    if (body)
        assert_string_equal(c->body, body);
}

static void expect_err(const call *c, int code, const char *in_msg)
{
    if (c->err != code)
        fprintf(stderr, "expected %d, got %d: %s\n", code, c->err, c->msg);
    assert_int_equal(c->err, code);
    if (in_msg && !strstr(c->msg, in_msg)) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", c->msg, in_msg);
        fail();
    }
}

/* ---- server scripts ------------------------------------------------------------------- */

/* The body a request gets: which connection answered which path. */
static void answer(h2p_conn *pc, const h2p_req *r)
{
    char b[300];
    int n = snprintf(b, sizeof b, "c%d:%s", h2p_index(pc), r->path);
    h2p_respond(pc, r->id, 200, NULL, b, (size_t)n);
}

static void serve_all_on(h2p_conn *pc, const h2p_req *r, void *ud)
{
    (void)ud;
    answer(pc, r);
}

/* A script that serves with the handler given as its argument. */
static void serve_handler(h2p_conn *pc, void *ud)
{
    h2p_serve(pc, ud);
}

/* Connection 0 collects `want` requests, then sends GOAWAY with the
 * last-stream-id of the `keep`-th lowest (0: none), answers those after
 * it, and closes if `close_after`; later connections answer everything. */
typedef struct goaway_plan {
    int want, keep, close_after, notice_first;
    int32_t ids[8];
    int n, sent, ticks;
} goaway_plan;

static void goaway_on(h2p_conn *pc, const h2p_req *r, void *ud)
{
    goaway_plan *g = ud;
    if (h2p_index(pc) > 0) {
        answer(pc, r);
        return;
    }
    if (g->n < 8)
        g->ids[g->n++] = r->id;
}

static void goaway_tick(h2p_conn *pc, void *ud)
{
    goaway_plan *g = ud;
    if (h2p_index(pc) > 0 || g->n < g->want || g->sent == 2)
        return;
    if (g->notice_first && !g->sent) {
        h2p_shutdown_notice(pc); /* RFC 9113 §6.8: the graceful two-step */
        g->sent = 1;
        return;
    }
    if (g->notice_first && ++g->ticks < 20)
        return; /* a round trip later, as a server would */
    /* RFC 9113 §6.8: last-stream-id is the highest stream processed; the
     * requests kept are the first to arrive, not always in id order (a
     * GET ends with its HEADERS, a POST only with its DATA). */
    int32_t last = 0;
    for (int i = 0; i < g->keep; i++)
        last = g->ids[i] > last ? g->ids[i] : last;
    h2p_goaway(pc, last, H2E_NO_ERROR);
    g->sent = 2;
    if (g->close_after) {
        h2p_close(pc);
        return;
    }
    for (int i = 0; i < g->n; i++)
        if (g->ids[i] <= last) {
            h2p_req r = {.id = g->ids[i]};
            snprintf(r.path, sizeof r.path, "(after goaway %d)", g->ids[i]);
            answer(pc, &r);
        }
}

static void goaway_script(h2p_conn *pc, void *ud)
{
    h2p_handler h = {.on_request = goaway_on, .on_tick = goaway_tick, .ud = ud};
    h2p_serve(pc, &h);
}

/* ---- GOAWAY ----------------------------------------------------------------------------- */

/* Streams up to last-stream-id finish on the old connection; the one above
 * it (a POST) goes again on a new connection, transparently; the old
 * connection opens no stream after the GOAWAY. */
static void test_goaway_retries_unprocessed(void **state)
{
    (void)state;
    goaway_plan g = {.want = 3, .keep = 2};
    start(goaway_script, &g);
    call a, b, c;
    req(&a, "GET", "/a", NULL, 0);
    req(&b, "POST", "/b", "bee", 3);
    req(&c, "POST", "/c", "sea", 3);
    RUN(10000, &a, &b, &c);
    expect_ok(&a, "c0:(after goaway 1)");
    expect_ok(&b, "c0:(after goaway 3)");
    expect_ok(&c, "c1:/c"); /* stream 5 > last-stream-id 3: sent again */
    assert_int_equal(h2peer_request_body(t.p, "/c", 1), 3); /* the body went again too */
    assert_int_equal(h2peer_frames(t.p, 0, H2F_HEADERS, -1, -1), 3);
    /* Later requests go to the new connection, never the old one. */
    call d;
    req(&d, "GET", "/d", NULL, 0);
    RUN(10000, &d);
    expect_ok(&d, "c1:/d");
    assert_int_equal(h2peer_frames(t.p, 0, H2F_HEADERS, -1, -1), 3);
    assert_int_equal(connections_created(), 2);
    done_call(&a), done_call(&b), done_call(&c), done_call(&d);
}

/* RFC 9113 §6.8: a shutdown notice (last-stream-id 2^31-1) first, then the
 * real GOAWAY: the same outcome. */
static void test_goaway_graceful_two_step(void **state)
{
    (void)state;
    goaway_plan g = {.want = 2, .keep = 1, .notice_first = 1};
    start(goaway_script, &g);
    call a, b;
    req(&a, "POST", "/a", "x", 1);
    req(&b, "POST", "/b", "y", 1);
    RUN(10000, &a, &b);
    expect_ok(&a, "c0:(after goaway 1)");
    expect_ok(&b, "c1:/b");
    assert_int_equal(h2peer_frames(t.p, 0, H2F_HEADERS, -1, -1), 2);
    done_call(&a), done_call(&b);
}

/* GOAWAY then the connection closes before answering: what the server may
 * have processed (at or below last-stream-id) is never sent again unless
 * the retry policy allows it (the GET); what it did not process is. */
static void test_goaway_then_close(void **state)
{
    (void)state;
    goaway_plan g = {.want = 3, .keep = 2, .close_after = 1};
    start(goaway_script, &g);
    retries(3);
    call a, b, c;
    req(&a, "POST", "/a", "one", 3);
    req(&b, "GET", "/b", NULL, 0);
    req(&c, "POST", "/c", "three", 5);
    RUN(10000, &a, &b, &c);
    expect_err(&a, FH_ECLOSED, "h2.test:80");
    assert_int_equal(h2peer_requests(t.p, "/a", -1), 1); /* never twice */
    expect_ok(&b, "c1:/b");                              /* idempotent: retried */
    expect_ok(&c, "c1:/c");                              /* never processed */
    done_call(&a), done_call(&b), done_call(&c);
}

/* ---- RST_STREAM ------------------------------------------------------------------------ */

typedef struct rst_plan {
    const char *path; /* the stream reset */
    uint32_t code;
    int times;        /* how many times (-1: always) */
    int done;
    int32_t pending[4]; /* answered once the reset went out */
    int npending;
} rst_plan;

static void rst_on(h2p_conn *pc, const h2p_req *r, void *ud)
{
    rst_plan *rp = ud;
    if (strcmp(r->path, rp->path) == 0 && (rp->times < 0 || rp->done < rp->times)) {
        rp->done++;
        h2p_rst(pc, r->id, rp->code);
        for (int i = 0; i < rp->npending; i++) {
            h2p_req o = {.id = rp->pending[i]};
            snprintf(o.path, sizeof o.path, "after-rst");
            answer(pc, &o);
        }
        rp->npending = 0;
        return;
    }
    if (rp->done == 0 && rp->npending < 4) {
        rp->pending[rp->npending++] = r->id; /* the others wait for the reset */
        return;
    }
    answer(pc, r);
}

static void rst_script(h2p_conn *pc, void *ud)
{
    h2p_handler h = {.on_request = rst_on, .ud = ud};
    h2p_serve(pc, &h);
}

/* REFUSED_STREAM: not processed, so a POST goes again (RFC 9113 §8.7). */
static void test_refused_stream_retried(void **state)
{
    (void)state;
    rst_plan rp = {.path = "/r", .code = H2E_REFUSED, .times = 1};
    start(rst_script, &rp);
    call ok, r;
    req(&ok, "GET", "/ok", NULL, 0);
    req(&r, "POST", "/r", "body", 4);
    RUN(10000, &ok, &r);
    expect_ok(&ok, "c0:after-rst");
    expect_ok(&r, "c0:/r");
    assert_int_equal(h2peer_requests(t.p, "/r", -1), 2);
    assert_int_equal(h2peer_request_body(t.p, "/r", 1), 4);
    done_call(&ok), done_call(&r);
}

/* A server that refuses forever: bounded (50 refusals without a total
 * timeout), then FH_EREFUSED. */
static void test_refused_forever_bounded(void **state)
{
    (void)state;
    rst_plan rp = {.path = "/r", .code = H2E_REFUSED, .times = -1};
    start(rst_script, &rp);
    call r;
    req(&r, "POST", "/r", "body", 4);
    RUN(20000, &r);
    expect_err(&r, FH_EREFUSED, "REFUSED_STREAM");
    assert_int_equal(h2peer_requests(t.p, "/r", -1), 51);
    done_call(&r);
}

/* A refused stream goes again at once on the same connection, which then
 * closes before the new stream reached the wire: never sent, so never
 * processed; it must go again (on a new connection), not hang. The test
 * holds the engine still while the server sends RST_STREAM and closes, so
 * that the client reads both in one go. */
static void refuse_close_script(h2p_conn *pc, void *ud)
{
    if (h2p_index(pc) > 0) {
        h2p_handler h = {.on_request = serve_all_on, .ud = ud};
        h2p_serve(pc, &h);
        return;
    }
    int32_t id;
    if (h2p_raw_handshake(pc) < 0 || h2p_raw_wait_streams(pc, 1, &id, 5000) < 0)
        return;
    h2p_raw_drain(pc, 300); /* the test stops polling meanwhile */
    uint8_t code[4] = {0, 0, 0, H2E_REFUSED};
    h2p_raw_frame(pc, H2F_RST_STREAM, 0, id, code, 4);
}

static void test_refused_then_closed_before_resent(void **state)
{
    (void)state;
    start(refuse_close_script, NULL);
    call r;
    req(&r, "POST", "/r", "body", 4);
    assert_int_equal(wait_frames(1, 5000, 0, H2F_HEADERS, -1, -1), 1);
    fh_test_sleep_ms(700); /* the RST_STREAM and the close are both waiting now */
    RUN(5000, &r);
    expect_ok(&r, "c1:/r");
    assert_int_equal(h2peer_frames(t.p, 0, H2F_HEADERS, -1, -1), 1);
    done_call(&r);
}

/* Any other reset fails that request alone, with the code in the message;
 * the others on the connection go on, and it is not sent again. */
static void test_rst_stream_fails_one(void **state)
{
    (void)state;
    rst_plan rp = {.path = "/bad", .code = H2E_INTERNAL, .times = -1};
    start(rst_script, &rp);
    retries(3);
    call a, bad, b;
    req(&a, "GET", "/a", NULL, 0);
    req(&bad, "GET", "/bad", NULL, 0);
    req(&b, "GET", "/b", NULL, 0);
    RUN(10000, &a, &bad, &b);
    expect_err(&bad, FH_EPROTO, "INTERNAL_ERROR");
    expect_ok(&a, "c0:after-rst");
    expect_ok(&b, "c0:/b");
    assert_int_equal(h2peer_requests(t.p, "/bad", -1), 1);
    call c;
    req(&c, "GET", "/c", NULL, 0);
    RUN(10000, &c);
    expect_ok(&c, "c0:/c");
    assert_int_equal(connections_created(), 1);
    done_call(&a), done_call(&bad), done_call(&b), done_call(&c);
}

/* ---- the connection dies ------------------------------------------------------------ */

typedef struct die_plan {
    int n;
    int32_t stream_id;
} die_plan;

/* Connection 0: the streamed /s gets its head and part of its body; once
 * three requests are in, the server closes the socket. Later connections
 * answer. */
static void die_on(h2p_conn *pc, const h2p_req *r, void *ud)
{
    die_plan *d = ud;
    if (h2p_index(pc) > 0) {
        answer(pc, r);
        return;
    }
    if (strcmp(r->path, "/s") == 0)
        h2p_respond_held(pc, r->id, 200, 100000, 0), h2p_release(pc, r->id, 1000);
    if (++d->n == 3)
        h2p_close(pc);
}

static void die_script(h2p_conn *pc, void *ud)
{
    h2p_handler h = {.on_request = die_on, .ud = ud};
    h2p_serve(pc, &h);
}

static ssize_t read_some(call *c, uint8_t *buf, size_t cap, int ms)
{
    int64_t end = now_ms() + ms;
    for (;;) {
        ssize_t n = fh_response_read(c->resp, buf, cap);
        if (n != FH_EAGAIN)
            return n;
        assert_true(now_ms() < end);
        assert_true(fh_engine_poll(t.e, 20) >= 0);
    }
}

static void test_connection_closed(void **state)
{
    (void)state;
    die_plan d = {0};
    start(die_script, &d);
    retries(2);
    call s, get, post;
    submit(&s, "GET", "/s", NULL, 0);
    s.stream = 1;
    fh_request_set_stream(s.req, 1);
    go(&s);
    req(&get, "GET", "/get", NULL, 0);
    req(&post, "POST", "/post", "data", 4);
    RUN(10000, &s, &get, &post);
    expect_err(&post, FH_ECLOSED, "h2.test:80");
    expect_ok(&get, "c1:/get"); /* idempotent: the retry policy sent it again */
    /* The streamed one got its head before the close (often in the same
     * read): the head is delivered, and its read fails: the body was cut,
     * never a clean end. */
    expect_ok(&s, NULL);
    uint8_t buf[4096];
    ssize_t n, total = 0;
    while ((n = read_some(&s, buf, sizeof buf, 5000)) > 0)
        total += n;
    assert_int_equal(n, FH_ECLOSED);
    assert_true(total <= 1000);
    assert_non_null(strstr(fh_request_error_message(s.req), "h2.test:80"));
    assert_int_equal(h2peer_requests(t.p, "/post", -1), 1);
    done_call(&s), done_call(&get), done_call(&post);
}

/* Garbage where a frame should be: a connection error (RFC 9113 §5.4.1)
 * fails every stream at once, not at a timeout, and the client says
 * GOAWAY. */
static void garbage_script(h2p_conn *pc, void *ud)
{
    (void)ud;
    int32_t ids[2];
    if (h2p_raw_handshake(pc) < 0 || h2p_raw_wait_streams(pc, 2, ids, 5000) < 0)
        return;
    static const uint8_t status200 = 0x88; /* HPACK static index 8: ":status: 200" */
    h2p_raw_frame(pc, H2F_HEADERS, H2_END_HEADERS, ids[0], &status200, 1);
    h2p_raw_frame(pc, H2F_DATA, 0, ids[0], "0123456789", 10);
    /* An HTTP/1.1 answer: read as a frame of 4.7 MB, over the 16 KiB
     * SETTINGS_MAX_FRAME_SIZE (§4.2: FRAME_SIZE_ERROR). */
    static const char junk[] = "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n";
    h2p_raw_send(pc, junk, sizeof junk - 1);
    h2p_raw_drain(pc, 3000);
}

static void test_garbage_mid_stream(void **state)
{
    (void)state;
    start(garbage_script, NULL);
    fh_client_set_timeout(t.c, FH_TIMEOUT_READ, 8000);
    call s, b;
    submit(&s, "GET", "/s", NULL, 0);
    s.stream = 1;
    fh_request_set_stream(s.req, 1);
    go(&s);
    req(&b, "POST", "/b", "x", 1);
    RUN(10000, &s, &b);
    expect_err(&b, FH_EPROTO, "protocol error");
    expect_err(&b, FH_EPROTO, "FRAME_SIZE_ERROR");
    assert_true(b.took < 3000); /* at once, not at the read timeout */
    if (s.err == FH_OK) { /* its head came before the garbage: its read fails */
        uint8_t buf[64];
        ssize_t n;
        while ((n = read_some(&s, buf, sizeof buf, 5000)) > 0)
            ;
        assert_int_equal(n, FH_EPROTO);
    } else {
        expect_err(&s, FH_EPROTO, "FRAME_SIZE_ERROR");
    }
    assert_int_equal(wait_frames(1, 2000, 0, H2F_GOAWAY, -1, H2E_FRAME_SIZE), 1);
    done_call(&s), done_call(&b);
}

/* ---- limits ------------------------------------------------------------------------------- */

/* /many answers 150 fields, /big 20 fields of 300 bytes; others answer. */
static void limits_on(h2p_conn *pc, const h2p_req *r, void *ud)
{
    (void)ud;
    static const char *many[301], *big[41];
    static char names[150][16], value[301];
    if (!many[0]) {
        for (int i = 0; i < 150; i++) {
            snprintf(names[i], sizeof names[i], "x-f%d", i);
            many[2 * i] = names[i];
            many[2 * i + 1] = "v";
        }
        memset(value, 'v', 300);
        for (int i = 0; i < 20; i++) {
            big[2 * i] = names[i];
            big[2 * i + 1] = value;
        }
    }
    if (strcmp(r->path, "/many") == 0)
        h2p_respond(pc, r->id, 200, many, "m", 1);
    else if (strcmp(r->path, "/big") == 0)
        h2p_respond(pc, r->id, 200, big, "b", 1);
    else if (strcmp(r->path, "/short") == 0)
        h2p_respond(pc, r->id, 200, (const char *[]){"content-length", "10", NULL}, "12345", 5);
    else if (strcmp(r->path, "/long") == 0)
        h2p_respond(pc, r->id, 200, (const char *[]){"content-length", "3", NULL}, "1234567890",
                    10);
    else
        answer(pc, r);
}

static void limits_script(h2p_conn *pc, void *ud)
{
    h2p_handler h = {.on_request = limits_on, .ud = ud};
    h2p_serve(pc, &h);
}

static void test_header_count_and_size(void **state)
{
    (void)state;
    start(limits_script, NULL);
    call many, big, ok;
    req(&many, "GET", "/many", NULL, 0); /* max_header_count: 100 by default */
    submit(&big, "GET", "/big", NULL, 0);
    fh_request_set_limit(big.req, FH_LIMIT_HEADER_BYTES, 4096);
    go(&big);
    req(&ok, "GET", "/ok", NULL, 0);
    RUN(10000, &many, &big, &ok);
    expect_err(&many, FH_ETOO_MANY_HEADERS, "max_header_count");
    expect_err(&big, FH_EHEADERS_TOO_LARGE, "max_header_size");
    expect_ok(&ok, "c0:/ok");
    /* The client reset those streams; the connection went on. */
    assert_int_equal(connections_created(), 1);
    done_call(&many), done_call(&big), done_call(&ok);
}

/* RFC 9113 §8.1.1: Content-Length that disagrees with the DATA is malformed. */
static void test_content_length_mismatch(void **state)
{
    (void)state;
    start(limits_script, NULL);
    call sh, lo, ok;
    req(&sh, "GET", "/short", NULL, 0);
    req(&lo, "GET", "/long", NULL, 0);
    req(&ok, "GET", "/ok", NULL, 0);
    RUN(10000, &sh, &lo, &ok);
    expect_err(&sh, FH_EPROTO, "malformed response");
    expect_err(&lo, FH_EPROTO, "malformed response");
    expect_ok(&ok, "c0:/ok");
    assert_int_equal(connections_created(), 1);
    done_call(&sh), done_call(&lo), done_call(&ok);
}

/* A header block that never ends (HEADERS without END_HEADERS, then
 * CONTINUATION after CONTINUATION, each with a field), or that carries
 * nothing at all (empty CONTINUATIONs, the 2024 "CONTINUATION flood"): the
 * client stops it early, whatever the limits; nothing waits for a timeout. */
typedef struct flood_plan {
    int empty;
    int stalled, completed;
} flood_plan;

static void flood_script(h2p_conn *pc, void *ud)
{
    flood_plan *fp = ud;
    int32_t ids[2];
    if (h2p_raw_handshake(pc) < 0 || h2p_raw_wait_streams(pc, 2, ids, 5000) < 0)
        return;
    static const uint8_t status200 = 0x88;
    h2p_raw_frame(pc, H2F_HEADERS, 0, ids[0], &status200, 1);
    uint8_t frame[9 + 200];
    char value[100];
    memset(value, 'f', sizeof value);
    size_t len = fp->empty ? 0 : h2p_hpack_literal(frame + 9, "x-flood", value, 100, 0);
    uint8_t h[9] = {0, (uint8_t)(len >> 8), (uint8_t)len, H2F_CONTINUATION, 0,
                    (uint8_t)(ids[0] >> 24), (uint8_t)(ids[0] >> 16), (uint8_t)(ids[0] >> 8),
                    (uint8_t)ids[0]};
    memcpy(frame, h, 9);
    for (int i = 0; i < 200000; i++) {
        int r = h2p_raw_send_or_stall(pc, frame, 9 + len, 2000);
        if (r) {
            fp->stalled = 1; /* cut off: the client stopped reading or closed */
            return;
        }
    }
    fp->completed = 1;
    h2p_raw_drain(pc, 3000);
}

static void run_flood(int empty)
{
    flood_plan fp = {.empty = empty};
    start(flood_script, &fp);
    fh_client_set_timeout(t.c, FH_TIMEOUT_READ, 20000);
    call a, b;
    req(&a, "GET", "/a", NULL, 0);
    req(&b, "GET", "/b", NULL, 0);
    RUN(15000, &a, &b);
    assert_true(a.err == FH_EPROTO || a.err == FH_EHEADERS_TOO_LARGE);
    assert_true(a.took < 5000);
    assert_true(b.err < 0); /* the block never ended: the connection is gone */
    fh_engine_free(t.e);
    t.e = NULL;
    h2peer_stop(t.p); /* joins the server thread */
    t.p = NULL;
    assert_false(fp.completed); /* 200000 frames: the client did not take them all */
    done_call(&a), done_call(&b);
}

static void test_continuation_flood(void **state)
{
    (void)state;
    run_flood(0);
}

static void test_continuation_flood_empty(void **state)
{
    (void)state;
    run_flood(1);
}

/* HPACK bomb (RFC 7541 §7.3 on memory): one 4000-byte entry put in the
 * dynamic table, then referenced 8000 times with one byte each: 8 KB on
 * the wire, 32 MB of header list. The list limit stops it at its first
 * 64 KiB; the HPACK state stays in step, so the next stream is answered
 * on the same connection. */
static void bomb_script(h2p_conn *pc, void *ud)
{
    (void)ud;
    int32_t ids[2];
    if (h2p_raw_handshake(pc) < 0 || h2p_raw_wait_streams(pc, 2, ids, 5000) < 0)
        return;
    size_t n = 0, refs = 8000;
    uint8_t *block = malloc(5000 + refs);
    char value[4000];
    memset(value, 'b', sizeof value);
    block[n++] = 0x88;
    n += h2p_hpack_literal(block + n, "x-bomb", value, sizeof value, 1);
    for (size_t i = 0; i < refs; i++)
        block[n++] = 0x80 | 62; /* §6.1: indexed, the newest dynamic entry */
    /* §4.2: frames of at most 16 KiB: the block in HEADERS + CONTINUATION. */
    size_t first = n < 16384 ? n : 16384;
    h2p_raw_frame(pc, H2F_HEADERS, H2_END_STREAM | (first == n ? H2_END_HEADERS : 0), ids[0],
                  block, first);
    if (first < n)
        h2p_raw_frame(pc, H2F_CONTINUATION, H2_END_HEADERS, ids[0], block + first, n - first);
    free(block);
    static const uint8_t ok[] = {0x88}; /* :status 200, no body */
    h2p_raw_frame(pc, H2F_HEADERS, H2_END_STREAM | H2_END_HEADERS, ids[1], ok, 1);
    h2p_raw_drain(pc, 3000);
}

static void test_hpack_bomb(void **state)
{
    (void)state;
    start(bomb_script, NULL);
    call a, b;
    req(&a, "GET", "/a", NULL, 0);
    req(&b, "GET", "/b", NULL, 0);
    RUN(10000, &a, &b);
    assert_true(a.err == FH_EHEADERS_TOO_LARGE || a.err == FH_ETOO_MANY_HEADERS);
    expect_ok(&b, "");
    assert_int_equal(h2peer_frames(t.p, 0, H2F_GOAWAY, -1, -1), 0);
    done_call(&a), done_call(&b);
}

/* Push is off in our SETTINGS (RFC 9113 §6.5.2), so a PUSH_PROMISE is a
 * connection error of type PROTOCOL_ERROR (§6.6, §8.4). */
static void push_script(h2p_conn *pc, void *ud)
{
    (void)ud;
    int32_t ids[2];
    if (h2p_raw_handshake(pc) < 0 || h2p_raw_wait_streams(pc, 2, ids, 5000) < 0)
        return;
    h2p_raw_drain(pc, 100); /* our SETTINGS ACK reached the client */
    uint8_t p[64];
    size_t n = 0;
    p[n++] = 0, p[n++] = 0, p[n++] = 0, p[n++] = 2; /* promised stream 2 */
    p[n++] = 0x82; /* :method GET */
    p[n++] = 0x86; /* :scheme http */
    p[n++] = 0x84; /* :path / */
    n += h2p_hpack_literal(p + n, ":authority", "h2.test", 7, 0);
    h2p_raw_frame(pc, H2F_PUSH_PROMISE, H2_END_HEADERS, ids[0], p, n);
    h2p_raw_drain(pc, 3000);
}

static void test_push_promise_is_connection_error(void **state)
{
    (void)state;
    start(push_script, NULL);
    call a, b;
    req(&a, "GET", "/a", NULL, 0);
    req(&b, "POST", "/b", "x", 1);
    RUN(10000, &a, &b);
    expect_err(&a, FH_EPROTO, "PROTOCOL_ERROR");
    expect_err(&b, FH_EPROTO, "PROTOCOL_ERROR");
    assert_true(a.took < 3000 && b.took < 3000);
    assert_int_equal(wait_frames(1, 2000, 0, H2F_GOAWAY, -1, H2E_PROTOCOL), 1);
    done_call(&a), done_call(&b);
}

/* A PING flood: acknowledgements pile up faster than they can go out;
 * nghttp2 caps them (1000 queued) and the connection is closed. */
typedef struct ping_plan {
    int stalled;
} ping_plan;

static void ping_script(h2p_conn *pc, void *ud)
{
    ping_plan *pp = ud;
    int32_t ids[1];
    if (h2p_raw_handshake(pc) < 0 || h2p_raw_wait_streams(pc, 1, ids, 5000) < 0)
        return;
    size_t count = 20000, fl = 17;
    uint8_t *pings = calloc(count, fl);
    for (size_t i = 0; i < count; i++) {
        uint8_t *f = pings + i * fl;
        f[2] = 8, f[3] = H2F_PING; /* length 8, stream 0, opaque data zeros */
    }
    pp->stalled = h2p_raw_send_or_stall(pc, pings, count * fl, 2000) != 0;
    free(pings);
    static const uint8_t ok[] = {0x88}; /* still alive? then it gets its answer */
    h2p_raw_frame(pc, H2F_HEADERS, H2_END_STREAM | H2_END_HEADERS, ids[0], ok, 1);
    h2p_raw_drain(pc, 3000);
}

static void test_ping_flood(void **state)
{
    (void)state;
    ping_plan pp = {0};
    start(ping_script, &pp);
    call a;
    req(&a, "GET", "/a", NULL, 0);
    RUN(10000, &a);
    expect_err(&a, FH_EPROTO, "Flooding");
    /* Far fewer acknowledgements than PINGs went out. */
    assert_true(h2peer_frames(t.p, 0, H2F_PING, 0, -1) < 20000);
    done_call(&a);
}

/* ---- flow control: a window never given back ------------------------------------- */

static void test_stream_window_never_updated(void **state)
{
    (void)state;
    h2p_handler h = {.on_request = serve_all_on, .initial_window = 16384,
                     .starve_path = "/up"};
    start(serve_handler, &h);
    size_t big = 256 * 1024;
    char *body = calloc(1, big);
    call up, a, b;
    submit(&up, "POST", "/up", body, big);
    fh_request_set_timeout(up.req, FH_TIMEOUT_WRITE, 300);
    go(&up);
    req(&a, "GET", "/a", NULL, 0);
    RUN(10000, &up, &a);
    expect_err(&up, FH_ETIMEOUT_WRITE, "sending the request");
    expect_ok(&a, "c0:/a");
    /* The server saw the reset of that stream alone; the connection goes on. */
    int32_t id = 1;
    assert_int_equal(wait_frames(1, 2000, 0, H2F_RST_STREAM, id, H2E_CANCEL), 1);
    req(&b, "GET", "/b", NULL, 0);
    RUN(10000, &b);
    expect_ok(&b, "c0:/b");
    assert_int_equal(connections_created(), 1);
    free(body);
    done_call(&up), done_call(&a), done_call(&b);
}

/* ---- cancellation ------------------------------------------------------------------------ */

/* /hold is never answered; /big is a large body; the rest answer. */
static void hold_on(h2p_conn *pc, const h2p_req *r, void *ud)
{
    (void)ud;
    if (strcmp(r->path, "/hold") == 0)
        return;
    if (strcmp(r->path, "/big") == 0 || strcmp(r->path, "/slow") == 0) {
        h2p_respond_held(pc, r->id, 200, 4 << 20, 1);
        return;
    }
    answer(pc, r);
}

static void hold_script(h2p_conn *pc, void *ud)
{
    h2p_handler h = {.on_request = hold_on, .ud = ud};
    h2p_serve(pc, &h);
}

static void stream_req(call *c, const char *path)
{
    submit(c, "GET", path, NULL, 0);
    c->stream = 1;
    fh_request_set_stream(c->req, 1);
    go(c);
}

/* fh_engine_cancel, and a streamed response freed before its end, reset
 * their stream with CANCEL (RFC 9113 §8.7); the connection carries on with
 * the others and takes new requests: no new connection. */
static void test_cancel_sends_rst(void **state)
{
    (void)state;
    start(hold_script, NULL);
    call h1, h2, a;
    req(&h1, "GET", "/hold", NULL, 0);
    req(&h2, "GET", "/hold", NULL, 0);
    assert_int_equal(wait_requests(2, 2000, "/hold"), 2);
    int32_t id1 = h2peer_request_id(t.p, "/hold", 0, NULL);
    assert_int_equal(fh_engine_cancel(t.e, h1.req), FH_OK);
    assert_int_equal(wait_frames(1, 2000, 0, H2F_RST_STREAM, id1, H2E_CANCEL), 1);
    req(&a, "GET", "/a", NULL, 0);
    RUN(10000, &a);
    expect_ok(&a, "c0:/a");
    call big, b;
    stream_req(&big, "/big");
    RUN(10000, &big);
    assert_int_equal(big.err, FH_OK);
    uint8_t buf[1000];
    assert_true(read_some(&big, buf, sizeof buf, 5000) > 0);
    int32_t bid = h2peer_request_id(t.p, "/big", 0, NULL);
    fh_response_free(big.resp);
    big.resp = NULL;
    assert_int_equal(wait_frames(1, 2000, 0, H2F_RST_STREAM, bid, H2E_CANCEL), 1);
    req(&b, "GET", "/b", NULL, 0);
    RUN(10000, &b);
    expect_ok(&b, "c0:/b");
    assert_int_equal(connections_created(), 1);
    assert_true(h2peer_sent(t.p, "/big", 0) < (4 << 20)); /* it stopped */
    assert_false(h2.done);
    assert_int_equal(fh_engine_cancel(t.e, h2.req), FH_OK);
    done_call(&h1), done_call(&h2), done_call(&a), done_call(&big), done_call(&b);
}

/* The same when the cancelled stream was the connection's last: the
 * connection goes idle while the server's DATA for it is still on the way
 * (and a PING may come), which is no reason to drop it (RFC 9113 §6.1:
 * DATA on a stream we reset is discarded, not an error). */
static void test_idle_connection_reused_after_cancel(void **state)
{
    (void)state;
    start(hold_script, NULL);
    call big, b;
    stream_req(&big, "/big");
    RUN(10000, &big);
    assert_int_equal(big.err, FH_OK);
    uint8_t buf[1000];
    assert_true(read_some(&big, buf, sizeof buf, 5000) > 0);
    int32_t bid = h2peer_request_id(t.p, "/big", 0, NULL);
    fh_response_free(big.resp);
    big.resp = NULL;
    assert_int_equal(wait_frames(1, 2000, 0, H2F_RST_STREAM, bid, H2E_CANCEL), 1);
    fh_test_sleep_ms(100); /* the server's DATA in flight lands on the idle connection */
    req(&b, "GET", "/b", NULL, 0);
    RUN(10000, &b);
    expect_ok(&b, "c0:/b");
    assert_int_equal(connections_created(), 1);
    done_call(&big), done_call(&b);
}

/* ---- timeouts, per stream --------------------------------------------------------------- */

typedef struct trickle {
    int32_t id;
    int left;
} trickle;

static void trickle_on(h2p_conn *pc, const h2p_req *r, void *ud)
{
    trickle *tr = ud;
    if (strcmp(r->path, "/trickle") == 0) {
        tr->id = r->id;
        tr->left = 200; /* 200 ticks of about 5 ms: about a second */
        h2p_respond_held(pc, r->id, 200, 200, 0);
        return;
    }
    hold_on(pc, r, NULL);
}

static void trickle_tick(h2p_conn *pc, void *ud)
{
    trickle *tr = ud;
    if (tr->id && tr->left > 0) {
        tr->left--;
        h2p_release(pc, tr->id, 1);
    }
}

static void trickle_script(h2p_conn *pc, void *ud)
{
    h2p_handler h = {.on_request = trickle_on, .on_tick = trickle_tick, .ud = ud};
    h2p_serve(pc, &h);
}

/* The read timeout is each stream's own: progress on one stream does not
 * keep a silent one alive, and a silent one does not fail the others. */
static void test_read_timeout_per_stream(void **state)
{
    (void)state;
    trickle tr = {0};
    start(trickle_script, &tr);
    fh_client_set_timeout(t.c, FH_TIMEOUT_READ, 300);
    call hold, tk, a;
    req(&hold, "GET", "/hold", NULL, 0);
    req(&tk, "GET", "/trickle", NULL, 0);
    req(&a, "GET", "/a", NULL, 0);
    RUN(10000, &hold, &tk, &a);
    expect_err(&hold, FH_ETIMEOUT_READ, "waiting for the response head");
    assert_true(hold.took < 900);
    expect_ok(&a, "c0:/a");
    expect_ok(&tk, NULL);
    assert_int_equal(tk.body_len, 200);
    assert_true(tk.took >= 600); /* it trickled longer than the read timeout */
    assert_int_equal(connections_created(), 1);
    done_call(&hold), done_call(&tk), done_call(&a);
}

static void test_total_timeout_per_stream(void **state)
{
    (void)state;
    start(hold_script, NULL);
    call hold, a;
    submit(&hold, "GET", "/hold", NULL, 0);
    fh_request_set_timeout(hold.req, FH_TIMEOUT_TOTAL, 300);
    go(&hold);
    req(&a, "GET", "/a", NULL, 0);
    RUN(10000, &hold, &a);
    expect_err(&hold, FH_ETIMEOUT_TOTAL, NULL);
    expect_ok(&a, "c0:/a");
    int32_t id = h2peer_request_id(t.p, "/hold", 0, NULL);
    assert_int_equal(wait_frames(1, 2000, 0, H2F_RST_STREAM, id, H2E_CANCEL), 1);
    done_call(&hold), done_call(&a);
}

/* The only connection allowed carries its one stream (the server allows
 * one): the next request waits in the pool and its pool timeout fires. */
static void test_pool_timeout(void **state)
{
    (void)state;
    h2p_handler h = {.on_request = hold_on, .max_streams = 1};
    start(serve_handler, &h);
    fh_client_set_pool_limits(t.c, -1, 1, -1, -1);
    call hold, a;
    req(&hold, "GET", "/hold", NULL, 0);
    assert_int_equal(wait_requests(1, 5000, "/hold"), 1);
    spin(50); /* our SETTINGS were acknowledged, theirs taken */
    submit(&a, "GET", "/a", NULL, 0);
    fh_request_set_timeout(a.req, FH_TIMEOUT_POOL, 200);
    go(&a);
    RUN(5000, &a);
    expect_err(&a, FH_ETIMEOUT_POOL, NULL);
    assert_false(hold.done);
    assert_int_equal(connections_created(), 1);
    assert_int_equal(fh_engine_cancel(t.e, hold.req), FH_OK);
    done_call(&hold), done_call(&a);
}

/* A connection that never connects: every stream waiting on it fails at
 * its connect timeout. The hook hands out a socket that never becomes
 * writable (its buffer full, its peer never reading). */
static int stuck_peer_fd = -1, stuck_hook_calls;

static int stuck_hook(void *ud, const char *host, int port)
{
    (void)ud, (void)host, (void)port;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
        return FH_ECONNECT;
    char junk[4096] = {0};
    while (send(sv[0], junk, sizeof junk, MSG_DONTWAIT) > 0)
        ;
    stuck_peer_fd = sv[1];
    stuck_hook_calls++;
    return sv[0];
}

static void test_connect_timeout(void **state)
{
    (void)state;
    t.c = fh_client_new();
    fh_client_set_http2(t.c, FH_HTTP2_ONLY);
    fh_client_set_connect_hook(t.c, stuck_hook, NULL);
    fh_client_set_timeout(t.c, FH_TIMEOUT_CONNECT, 200);
    t.e = fh_engine_new(t.c, NULL, NULL);
    stuck_hook_calls = 0;
    call a, b;
    req(&a, "GET", "/a", NULL, 0);
    req(&b, "GET", "/b", NULL, 0);
    RUN(5000, &a, &b);
    expect_err(&a, FH_ETIMEOUT_CONNECT, "connecting");
    expect_err(&b, FH_ETIMEOUT_CONNECT, "connecting");
    assert_int_equal(stuck_hook_calls, 1); /* b waited on a's connection */
    fh_engine_free(t.e);
    t.e = NULL;
    close(stuck_peer_fd);
    done_call(&a), done_call(&b);
}

/* ---- back-pressure ------------------------------------------------------------------------ */

/* A streamed response nobody reads holds back its own stream only: the
 * server stops at the stream window (1 MiB) and other streams, started
 * after, complete; then the slow one is read to its end. */
static void test_slow_reader_holds_only_its_stream(void **state)
{
    (void)state;
    start(hold_script, NULL);
    call slow;
    submit(&slow, "GET", "/slow", NULL, 0);
    slow.stream = 1;
    fh_request_set_stream(slow.req, 1);
    go(&slow);
    RUN(10000, &slow);
    assert_int_equal(slow.err, FH_OK);
    /* Wait until the server is blocked on the window. */
    size_t last = 0;
    for (int still = 0; still < 10;) {
        spin(20);
        size_t now = h2peer_sent(t.p, "/slow", 0);
        still = now == last && now > 0 ? still + 1 : 0;
        last = now;
    }
    assert_true(last <= (1 << 20) + 65536);
    call f[5];
    char path[16];
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "/f%d", i);
        req(&f[i], "GET", path, NULL, 0);
    }
    RUN(10000, &f[0], &f[1], &f[2], &f[3], &f[4]);
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "c0:/f%d", i);
        expect_ok(&f[i], path);
    }
    assert_true(h2peer_sent(t.p, "/slow", 0) <= (1 << 20) + 65536); /* still held */
    size_t got = 0;
    uint8_t buf[16384];
    ssize_t n;
    while ((n = read_some(&slow, buf, sizeof buf, 10000)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            assert_int_equal(buf[i], 'a' + (got + (size_t)i) % 26);
        got += (size_t)n;
    }
    assert_int_equal(n, 0);
    assert_int_equal(got, 4 << 20);
    assert_int_equal(connections_created(), 1);
    done_call(&slow);
    for (int i = 0; i < 5; i++)
        done_call(&f[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_goaway_retries_unprocessed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_goaway_graceful_two_step, setup, teardown),
        cmocka_unit_test_setup_teardown(test_goaway_then_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_stream_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_forever_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_then_closed_before_resent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rst_stream_fails_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_mid_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_count_and_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_content_length_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_continuation_flood, setup, teardown),
        cmocka_unit_test_setup_teardown(test_continuation_flood_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hpack_bomb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_push_promise_is_connection_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping_flood, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_window_never_updated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_sends_rst, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_connection_reused_after_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_timeout_per_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_total_timeout_per_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_reader_holds_only_its_stream, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
