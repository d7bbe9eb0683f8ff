/*
 * test_blocking.c — the blocking driver's hooks (fh_client_send_with,
 * fh_wait_hooks, fh_response_set_wait_hooks) against scripted peers:
 * on_wait runs every interval while a call waits and can stop it,
 * on_body_paused feeds a body reader that returned FH_EAGAIN, and a
 * streamed response's reads use the hooks too; the engines of ended calls
 * are kept by the client for its next calls, from any thread.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fasthttp/fasthttp.h"
#include "internal.h" /* the client's idle engines */
#include "support/fixtures.h"
#include "support/peer.h"

#define STOP_CODE (-4242) /* a caller's own value, returned unchanged */

static int g_fds;

static int setup(void **state)
{
    g_fds = fh_test_count_fds();
    return 0;
}

static int teardown(void **state)
{
    assert_int_equal(fh_test_count_fds(), g_fds);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What the hooks saw. */
typedef struct probe {
    int waits;         /* on_wait calls */
    int stop_after;    /* on_wait returns STOP_CODE at this call (0: never) */
    double first_wait; /* seconds from start to the first on_wait */
    double start;
    pthread_t thread;  /* the thread that must run the hooks */
    int wrong_thread;
    /* a body produced piece by piece by on_body_paused */
    const char *const *pieces;
    int next_piece;
    const char *cur;   /* what the reader hands out now (NULL: nothing) */
    int eof;
    int pauses;        /* on_body_paused calls */
    int pause_stop;    /* on_body_paused returns -7 at this call (0: never) */
} probe;

static int on_wait(void *ud)
{
    probe *p = ud;
    if (!pthread_equal(pthread_self(), p->thread))
        p->wrong_thread = 1;
    if (p->waits++ == 0)
        p->first_wait = now_s() - p->start;
    return p->stop_after && p->waits >= p->stop_after ? STOP_CODE : 0;
}

static int on_body_paused(void *ud, fh_request *req)
{
    probe *p = ud;
    assert_non_null(req);
    if (!pthread_equal(pthread_self(), p->thread))
        p->wrong_thread = 1;
    if (++p->pauses == p->pause_stop)
        return -7;
    if (p->pieces[p->next_piece])
        p->cur = p->pieces[p->next_piece++];
    else
        p->eof = 1;
    return 0;
}

/* The body reader of a caller that produces data between waits: it never
 * blocks, it says FH_EAGAIN when it has nothing. */
static ssize_t paused_reader(void *ud, uint8_t *buf, size_t cap)
{
    probe *p = ud;
    if (p->cur) {
        size_t n = strlen(p->cur);
        assert_true(n <= cap);
        memcpy(buf, p->cur, n);
        p->cur = NULL;
        return (ssize_t)n;
    }
    return p->eof ? 0 : FH_EAGAIN;
}

static void probe_init(probe *p)
{
    memset(p, 0, sizeof *p);
    p->thread = pthread_self();
    p->start = now_s();
}

static fh_wait_hooks hooks_of(probe *p, int64_t interval_ms)
{
    fh_wait_hooks h;
    fh_wait_hooks_init(&h);
    h.on_wait = on_wait;
    h.interval_ms = interval_ms;
    h.on_body_paused = on_body_paused;
    h.ud = p;
    return h;
}

/* ---- on_wait ---------------------------------------------------------------------- */

static void test_on_wait_runs_every_interval_and_stops_the_call(void **state)
{
    static const fh_peer_step s[] = {PEER_READ, PEER_HOLD, PEER_END};
    fh_peer *peer = fh_peer_start1(s);
    fh_client *c = fh_client_new();
    char url[128];
    fh_request *r = fh_request_new("GET", fh_peer_url(peer, "/", url, sizeof url), NULL);
    probe p;
    probe_init(&p);
    p.stop_after = 5;
    fh_wait_hooks h = hooks_of(&p, 20);
    fh_response *resp = (fh_response *)&p; /* must be reset */
    assert_int_equal(fh_client_send_with(c, r, &h, &resp), STOP_CODE);
    double took = now_s() - p.start;
    assert_null(resp);
    assert_int_equal(p.waits, 5);
    assert_false(p.wrong_thread);
    assert_true(p.first_wait >= 0.019);          /* not before one interval */
    assert_true(took >= 0.099 && took < 2.0);    /* five intervals, then stopped */
    assert_string_equal(fh_request_error_message(r), "stopped by a wait hook");
    fh_pool_stats st;
    fh_client_pool_stats(c, &st);
    assert_int_equal(st.open, 0); /* the cancelled request's connection was closed */
    fh_request_free(r);
    fh_client_free(c);
    fh_peer_stop(peer);
}

static void test_on_wait_not_called_for_a_quick_answer(void **state)
{
    static const fh_peer_step s[] = {
        PEER_READ, PEER_SEND("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), PEER_READ,
        PEER_SEND("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), PEER_WAIT_CLOSE, PEER_END};
    fh_peer *peer = fh_peer_start1(s);
    fh_client *c = fh_client_new();
    char url[128];
    fh_request *r = fh_request_new("GET", fh_peer_url(peer, "/", url, sizeof url), NULL);
    probe p;
    probe_init(&p);
    fh_wait_hooks h = hooks_of(&p, 10000);
    fh_response *resp = NULL;
    assert_int_equal(fh_client_send_with(c, r, &h, &resp), FH_OK);
    assert_int_equal(fh_response_status(resp), 200);
    assert_int_equal(p.waits, 0);
    assert_int_equal(p.pauses, 0);
    fh_response_free(resp);
    /* No hooks at all is fh_client_send. */
    assert_int_equal(fh_client_send_with(c, r, NULL, &resp), FH_OK);
    fh_response_free(resp);
    fh_request_free(r);
    fh_client_free(c);
    fh_peer_stop(peer);
}

/* ---- on_body_paused ------------------------------------------------------------------- */

static void test_body_paused_hook_feeds_the_reader(void **state)
{
    static const fh_peer_step s[] = {
        PEER_READ, PEER_SEND("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), PEER_WAIT_CLOSE,
        PEER_END};
    fh_peer *peer = fh_peer_start1(s);
    fh_client *c = fh_client_new();
    char url[128];
    fh_request *r = fh_request_new("POST", fh_peer_url(peer, "/up", url, sizeof url), NULL);
    static const char *const pieces[] = {"alpha", "beta", "gamma", NULL};
    probe p;
    probe_init(&p);
    p.pieces = pieces;
    assert_int_equal(fh_request_set_body_reader(r, paused_reader, &p, -1), FH_OK);
    fh_wait_hooks h = hooks_of(&p, 50);
    fh_response *resp = NULL;
    assert_int_equal(fh_client_send_with(c, r, &h, &resp), FH_OK);
    assert_int_equal(fh_response_status(resp), 200);
    assert_int_equal(p.pauses, 4); /* three pieces, then the end */
    assert_false(p.wrong_thread);
    size_t len;
    const char *req = fh_peer_request(peer, 0, &len, NULL);
    assert_non_null(req);
    const char *body = strstr(req, "\r\n\r\n");
    assert_non_null(body);
    char plain[64];
    assert_int_equal(fh_test_dechunk(body + 4, plain, sizeof plain), 14);
    assert_string_equal(plain, "alphabetagamma");
    assert_non_null(strstr(req, "Transfer-Encoding: chunked"));
    fh_response_free(resp);
    fh_request_free(r);
    fh_client_free(c);
    fh_peer_stop(peer);
}

static void test_body_paused_without_hook_fails(void **state)
{
    static const fh_peer_step s[] = {PEER_WAIT_CLOSE, PEER_END};
    fh_peer *peer = fh_peer_start1(s);
    fh_client *c = fh_client_new();
    char url[128];
    fh_request *r = fh_request_new("POST", fh_peer_url(peer, "/up", url, sizeof url), NULL);
    static const char *const none[] = {NULL};
    probe p;
    probe_init(&p);
    p.pieces = none;
    fh_request_set_body_reader(r, paused_reader, &p, -1);
    fh_response *resp = NULL;
    /* Before the hooks this call hung until a timeout; now it says why. */
    assert_int_equal(fh_client_send(c, r, &resp), FH_EBODY_SOURCE);
    assert_null(resp);
    assert_non_null(strstr(fh_request_error_message(r), "no on_body_paused hook"));
    fh_wait_hooks h = hooks_of(&p, 1000);
    h.on_body_paused = NULL;
    assert_int_equal(fh_client_send_with(c, r, &h, &resp), FH_EBODY_SOURCE);
    fh_request_free(r);
    fh_client_free(c);
    fh_peer_stop(peer);
}

static void test_body_paused_hook_stops_the_call(void **state)
{
    static const fh_peer_step s[] = {PEER_WAIT_CLOSE, PEER_END};
    fh_peer *peer = fh_peer_start1(s);
    fh_client *c = fh_client_new();
    char url[128];
    fh_request *r = fh_request_new("POST", fh_peer_url(peer, "/up", url, sizeof url), NULL);
    static const char *const pieces[] = {"one", "two", NULL};
    probe p;
    probe_init(&p);
    p.pieces = pieces;
    p.pause_stop = 2; /* the caller's iterator failed on its second chunk */
    fh_request_set_body_reader(r, paused_reader, &p, -1);
    fh_wait_hooks h = hooks_of(&p, 1000);
    fh_response *resp = NULL;
    assert_int_equal(fh_client_send_with(c, r, &h, &resp), -7);
    assert_null(resp);
    assert_int_equal(p.pauses, 2);
    fh_request_free(r);
    fh_client_free(c);
    fh_peer_stop(peer);
}

/* ---- streamed responses ----------------------------------------------------------------- */

static void test_stream_reads_use_the_hooks(void **state)
{
    static const fh_peer_step s[] = {
        PEER_READ, PEER_SEND("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"),
        PEER_SLEEP(400), PEER_SEND("world"), PEER_WAIT_CLOSE, PEER_END};
    fh_peer *peer = fh_peer_start1(s);
    fh_client *c = fh_client_new();
    char url[128];
    fh_request *r = fh_request_new("GET", fh_peer_url(peer, "/", url, sizeof url), NULL);
    fh_request_set_stream(r, 1);
    probe p;
    probe_init(&p);
    p.stop_after = 2;
    fh_wait_hooks h = hooks_of(&p, 20);
    fh_response *resp = NULL;
    assert_int_equal(fh_client_send_with(c, r, &h, &resp), FH_OK);
    uint8_t buf[16];
    size_t have = 0;
    ssize_t n;
    while (have < 5) { /* "hello" is there at once: no hook runs */
        n = fh_response_read(resp, buf + have, sizeof buf - have);
        assert_true(n > 0);
        have += (size_t)n;
    }
    assert_int_equal(have, 5);
    /* The rest is 400 ms away: the copied hooks stop the read after two
     * intervals, and nothing is lost. */
    p.waits = 0;
    assert_int_equal(fh_response_read(resp, buf + have, sizeof buf - have), STOP_CODE);
    assert_int_equal(p.waits, 2);
    /* Hooks of another reader (none that stop) replace them. */
    probe q;
    probe_init(&q);
    fh_wait_hooks hq = hooks_of(&q, 20);
    assert_int_equal(fh_response_set_wait_hooks(resp, &hq), FH_OK);
    while ((n = fh_response_read(resp, buf + have, sizeof buf - have)) > 0)
        have += (size_t)n;
    assert_int_equal(n, 0);
    assert_int_equal(have, 10);
    assert_memory_equal(buf, "helloworld", 10);
    assert_true(q.waits >= 1);
    assert_int_equal(p.waits, 2); /* the first hooks are no longer used */
    assert_int_equal(fh_response_set_wait_hooks(resp, NULL), FH_OK);
    fh_response_free(resp);
    fh_request_free(r);
    fh_client_free(c);
    fh_peer_stop(peer);
}

typedef struct engine_done {
    int done, status;
    fh_response *resp;
} engine_done;

static void on_done(void *ud, fh_request *req, int status, fh_response *resp)
{
    engine_done *d = ud;
    d->done = 1;
    d->status = status;
    d->resp = resp;
}

static void test_engine_streams_take_no_hooks(void **state)
{
    static const fh_peer_step s[] = {
        PEER_READ, PEER_SEND("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab"), PEER_HOLD,
        PEER_END};
    fh_peer *peer = fh_peer_start1(s);
    fh_client *c = fh_client_new();
    fh_engine *e = fh_engine_new(c, NULL, NULL);
    char url[128];
    fh_request *r = fh_request_new("GET", fh_peer_url(peer, "/", url, sizeof url), NULL);
    fh_request_set_stream(r, 1);
    engine_done d = {0};
    fh_callbacks cb = {on_done, NULL};
    assert_int_equal(fh_engine_submit(e, r, &cb, &d), FH_OK);
    while (!d.done)
        fh_engine_poll(e, 1000);
    assert_int_equal(d.status, FH_OK);
    fh_wait_hooks h;
    fh_wait_hooks_init(&h);
    assert_int_equal(fh_response_set_wait_hooks(d.resp, &h), FH_ESTATE);
    fh_response_free(d.resp);
    fh_engine_free(e);
    fh_request_free(r);
    fh_client_free(c);
    fh_peer_stop(peer);
}

/* ---- the engines of blocking calls ------------------------------------------------- */

#define OK2 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

static int idle_engines(fh_client *c, fh_engine **top)
{
    pthread_mutex_lock(&c->lock);
    int n = c->nidle;
    if (top)
        *top = n ? c->idle[n - 1] : NULL;
    pthread_mutex_unlock(&c->lock);
    return n;
}

static void get_ok(fh_client *c, const char *url)
{
    fh_request *r = fh_request_new("GET", url, NULL);
    fh_response *resp = NULL;
    int rc = fh_client_send(c, r, &resp);
    if (rc != FH_OK)
        fprintf(stderr, "GET %s: %s\n", url, fh_request_error_message(r));
    assert_int_equal(rc, FH_OK);
    assert_int_equal(fh_response_status(resp), 200);
    size_t len = 0;
    const uint8_t *body = fh_response_body(resp, &len);
    assert_int_equal(len, 2);
    assert_memory_equal(body, "ok", 2);
    fh_response_free(resp);
    fh_request_free(r);
}

/* An ended call leaves its engine to the client, and the next call drives
 * the same engine; a call stopped by a hook (its connection closed, its
 * exchange cancelled) leaves nothing behind that breaks the next one. */
static void test_engine_kept_for_the_next_call(void **state)
{
    static const fh_peer_step ka[] = {PEER_READ, PEER_SEND(OK2), PEER_READ, PEER_SEND(OK2),
                                      PEER_READ, PEER_SEND(OK2), PEER_WAIT_CLOSE, PEER_END};
    static const fh_peer_step hold[] = {PEER_READ, PEER_HOLD, PEER_END};
    fh_peer *peer = fh_peer_start1(ka), *held = fh_peer_start1(hold);
    fh_client *c = fh_client_new();
    char url[128], url2[128];
    fh_peer_url(peer, "/", url, sizeof url);
    assert_int_equal(idle_engines(c, NULL), 0);
    get_ok(c, url);
    fh_engine *first = NULL, *now = NULL;
    assert_int_equal(idle_engines(c, &first), 1);
    get_ok(c, url);
    assert_int_equal(idle_engines(c, &now), 1);
    assert_ptr_equal(now, first);
    fh_pool_stats st;
    fh_client_pool_stats(c, &st);
    assert_int_equal(st.reused, 1); /* its connection went back to the pool */

    fh_request *r = fh_request_new("GET", fh_peer_url(held, "/", url2, sizeof url2), NULL);
    probe p;
    probe_init(&p);
    p.stop_after = 1;
    fh_wait_hooks h = hooks_of(&p, 10);
    fh_response *resp = NULL;
    assert_int_equal(fh_client_send_with(c, r, &h, &resp), STOP_CODE);
    fh_request_free(r);
    assert_true(idle_engines(c, NULL) <= 1);
    get_ok(c, url);
    assert_int_equal(idle_engines(c, NULL), 1);
    fh_client_free(c); /* frees the idle engine: teardown counts descriptors */
    fh_peer_stop(peer);
    fh_peer_stop(held);
}

enum { CALLERS = 8, CALLS = 25 };

typedef struct caller {
    fh_client *c;
    const char *url;
} caller;

static void *call_many(void *ud)
{
    caller *k = ud;
    for (int i = 0; i < CALLS; i++)
        get_ok(k->c, k->url);
    return NULL;
}

/* Threads making calls at once on one client each take an engine of their
 * own: a kept engine goes to one call at a time, and no more are kept than
 * were ever busy at once. */
static void test_engines_shared_by_threads(void **state)
{
    /* Any connection may carry every call. */
    static fh_peer_step ka[2 * CALLERS * CALLS + 2];
    for (int i = 0; i < CALLERS * CALLS; i++) {
        ka[2 * i] = (fh_peer_step)PEER_READ;
        ka[2 * i + 1] = (fh_peer_step)PEER_SEND(OK2);
    }
    ka[2 * CALLERS * CALLS] = (fh_peer_step)PEER_WAIT_CLOSE;
    ka[2 * CALLERS * CALLS + 1] = (fh_peer_step)PEER_END;
    fh_peer *peer = fh_peer_start1(ka);
    fh_client *c = fh_client_new();
    char url[128];
    fh_peer_url(peer, "/", url, sizeof url);
    caller k = {c, url};
    pthread_t t[CALLERS];
    for (int i = 0; i < CALLERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, call_many, &k), 0);
    for (int i = 0; i < CALLERS; i++)
        pthread_join(t[i], NULL);
    int n = idle_engines(c, NULL);
    assert_true(n >= 1 && n <= CALLERS);
    fh_pool_stats st;
    fh_client_pool_stats(c, &st);
    assert_int_equal(st.created + st.reused, CALLERS * CALLS); /* every call got an answer */
    fh_client_free(c);
    fh_peer_stop(peer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_on_wait_runs_every_interval_and_stops_the_call,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_on_wait_not_called_for_a_quick_answer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_body_paused_hook_feeds_the_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_paused_without_hook_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_paused_hook_stops_the_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_reads_use_the_hooks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_streams_take_no_hooks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_kept_for_the_next_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engines_shared_by_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
