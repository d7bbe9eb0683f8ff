/*
 * test_external_loop.c — an engine driven by an epoll loop of the test's
 * own (as asyncio or libuv would drive it) against a real nginx: many
 * concurrent requests through a small pool, streaming with back-pressure,
 * cancellation at random points with no leaked descriptor or pool slot.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "fasthttp/fasthttp.h"
#include "support/nginx.h"

static fh_nginx g_ngx;

typedef struct eloop {
    int ep;
    int64_t timer_at_ms; /* -1: disarmed */
    int done, failed;
    int watched;         /* fds currently in the epoll set */
} eloop;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static int watch(void *ud, int fd, int events)
{
    eloop *l = ud;
    struct epoll_event ev = {0};
    ev.data.fd = fd;
    ev.events = ((events & FH_WATCH_READ) ? EPOLLIN : 0) | ((events & FH_WATCH_WRITE) ? EPOLLOUT : 0);
    if (!events) {
        l->watched--;
        return epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
    }
    if (epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev) == 0)
        return 0;
    l->watched++;
    return epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev);
}

static int timer(void *ud, int64_t ms)
{
    ((eloop *)ud)->timer_at_ms = ms < 0 ? -1 : now_ms() + ms;
    return 0;
}

static void run_once(eloop *l, fh_engine *e)
{
    int tmo = 200;
    if (l->timer_at_ms >= 0) {
        int64_t d = l->timer_at_ms - now_ms();
        tmo = d < 0 ? 0 : (d < 200 ? (int)d : 200);
    }
    struct epoll_event evs[64];
    int n = epoll_wait(l->ep, evs, 64, tmo);
    for (int i = 0; i < n; i++)
        fh_engine_socket_action(e, evs[i].data.fd,
                                ((evs[i].events & EPOLLIN) ? FH_WATCH_READ : 0) |
                                    ((evs[i].events & EPOLLOUT) ? FH_WATCH_WRITE : 0) |
                                    ((evs[i].events & (EPOLLERR | EPOLLHUP)) ? FH_WATCH_ERROR : 0));
    if (l->timer_at_ms >= 0 && now_ms() >= l->timer_at_ms) {
        l->timer_at_ms = -1;
        fh_engine_socket_action(e, FH_SOCKET_TIMEOUT, 0);
    }
}

/* After the last completion the engine keeps the freed connections hot for
 * a moment (a request submitted by then takes one without a system call)
 * and its timer asks for the action that hands them to the pool: run the
 * loop until that happened, 1 s at most. */
static void settle(eloop *l, fh_engine *e)
{
    int64_t end = now_ms() + 1000;
    while (l->watched > 1 && now_ms() < end)
        run_once(l, e);
}

static void on_done(void *ud, fh_request *req, int status, fh_response *resp)
{
    eloop *l = ud;
    l->done++;
    if (status || fh_response_status(resp) != 200) {
        l->failed++;
        fprintf(stderr, "request failed: %s\n", fh_request_error_message(req));
    } else {
        size_t len;
        fh_response_body(resp, &len);
        /* /json or the decoded /big.txt, depending on the request */
        if (len != g_ngx.json_len && len != g_ngx.big_len)
            l->failed++;
    }
    fh_response_free(resp);
}

static int group_setup(void **state)
{
    if (fh_nginx_start(&g_ngx) != 0) {
        fprintf(stderr, "nginx fixture failed: %s\n", g_ngx.error);
        return -1; /* a missing server fails the suite, never skips it */
    }
    return 0;
}

static int group_teardown(void **state)
{
    fh_nginx_stop(&g_ngx);
    return 0;
}

static void concurrent(const char *base, int n, int pool)
{
    int fds_before = count_fds();
    eloop l = {epoll_create1(EPOLL_CLOEXEC), -1, 0, 0, 0};
    fh_client *c = fh_client_new();
    fh_client_set_ca_file(c, g_ngx.ca_file);
    fh_client_set_pool_limits(c, pool, pool, pool, 60000);
    fh_client_set_timeout(c, FH_TIMEOUT_TOTAL, 30000);
    fh_loop_ops ops = {watch, timer};
    fh_engine *e = fh_engine_new(c, &ops, &l);
    fh_request **reqs = calloc((size_t)n, sizeof *reqs);
    char url[128];
    fh_nginx_url(url, sizeof url, base, "/json");
    fh_callbacks cb = {on_done, NULL};
    for (int i = 0; i < n; i++) {
        reqs[i] = fh_request_new("GET", url, NULL);
        assert_int_equal(fh_engine_submit(e, reqs[i], &cb, &l), FH_OK);
    }
    for (int spins = 0; l.done < n && spins < 100000; spins++)
        run_once(&l, e);
    assert_int_equal(l.done, n);
    assert_int_equal(l.failed, 0);
    settle(&l, e);
    fh_pool_stats st;
    fh_client_pool_stats(c, &st);
    assert_true(st.created <= (uint64_t)pool);
    assert_int_equal(st.waiting, 0);
    assert_true(l.watched <= 1); /* at most the engine's wakeup fd is left */
    fh_engine_free(e);
    assert_int_equal(l.watched, 0); /* every fd was unregistered */
    for (int i = 0; i < n; i++)
        fh_request_free(reqs[i]);
    free(reqs);
    fh_client_free(c);
    close(l.ep);
    assert_int_equal(count_fds(), fds_before);
}

static void test_many_concurrent_http(void **state)
{
    concurrent(g_ngx.http_url, 500, 16);
}

static void test_many_concurrent_https(void **state)
{
    concurrent(g_ngx.https_localhost_url, 200, 8);
}

/* Cancels requests at pseudo-random moments: pool and fds must recover. */
static void test_random_cancellation(void **state)
{
    int fds_before = count_fds();
    enum { N = 300 };
    eloop l = {epoll_create1(EPOLL_CLOEXEC), -1, 0, 0, 0};
    fh_client *c = fh_client_new();
    fh_client_set_ca_file(c, g_ngx.ca_file);
    fh_client_set_pool_limits(c, 8, 8, 8, 60000);
    fh_loop_ops ops = {watch, timer};
    fh_engine *e = fh_engine_new(c, &ops, &l);
    static fh_request *reqs[N];
    fh_callbacks cb = {on_done, NULL};
    char url[2][128];
    fh_nginx_url(url[0], sizeof url[0], g_ngx.http_url, "/big.txt");
    fh_nginx_url(url[1], sizeof url[1], g_ngx.https_url, "/json");
    srand(12345);
    for (int i = 0; i < N; i++) {
        reqs[i] = fh_request_new("GET", url[i % 2], NULL);
        assert_int_equal(fh_engine_submit(e, reqs[i], &cb, &l), FH_OK);
    }
    int cancelled = 0;
    for (int spins = 0; fh_engine_pending(e) > 0 && spins < 100000; spins++) {
        run_once(&l, e);
        for (int k = 0; k < 3; k++) {
            int i = rand() % N;
            if (fh_engine_cancel(e, reqs[i]) == FH_OK)
                cancelled++;
        }
    }
    assert_int_equal(fh_engine_pending(e), 0);
    assert_true(cancelled > 0);
    assert_int_equal(l.done + cancelled, N);
    assert_int_equal(l.failed, 0);
    settle(&l, e);
    fh_pool_stats st;
    fh_client_pool_stats(c, &st);
    assert_int_equal(st.waiting, 0);
    assert_int_equal(st.open, st.idle); /* nothing checked out is left behind */
    assert_true(l.watched <= 1);
    fh_engine_free(e);
    assert_int_equal(l.watched, 0);
    for (int i = 0; i < N; i++)
        fh_request_free(reqs[i]);
    fh_client_free(c);
    close(l.ep);
    assert_int_equal(count_fds(), fds_before);
}

typedef struct streamer {
    eloop *l;
    fh_response *resp;
    size_t got;
    int ended, err;
} streamer;

static void stream_done(void *ud, fh_request *req, int status, fh_response *resp)
{
    streamer *s = ud;
    s->l->done++;
    s->err = status;
    s->resp = resp;
}

static void stream_body(void *ud, fh_response *resp)
{
    streamer *s = ud;
    uint8_t buf[1000];
    ssize_t n;
    while ((n = fh_response_read(resp, buf, sizeof buf)) > 0)
        s->got += (size_t)n;
    if (n == 0)
        s->ended = 1;
    else if (n != FH_EAGAIN)
        s->err = (int)n;
}

static void test_streaming_from_loop(void **state)
{
    eloop l = {epoll_create1(EPOLL_CLOEXEC), -1, 0, 0, 0};
    fh_client *c = fh_client_new();
    fh_loop_ops ops = {watch, timer};
    fh_engine *e = fh_engine_new(c, &ops, &l);
    char url[128];
    fh_nginx_url(url, sizeof url, g_ngx.http_url, "/big.txt");
    fh_request *r = fh_request_new("GET", url, NULL);
    fh_request_set_stream(r, 1);
    streamer s = {&l, NULL, 0, 0, 0};
    fh_callbacks cb = {stream_done, stream_body};
    assert_int_equal(fh_engine_submit(e, r, &cb, &s), FH_OK);
    while (!l.done)
        run_once(&l, e);
    assert_int_equal(s.err, FH_OK);
    stream_body(&s, s.resp); /* start pulling; on_body continues */
    for (int spins = 0; !s.ended && !s.err && spins < 100000; spins++)
        run_once(&l, e);
    assert_int_equal(s.err, FH_OK);
    assert_true(s.ended);
    assert_int_equal(s.got, g_ngx.big_len); /* decoded gzip, byte count matches */
    fh_response_free(s.resp);
    fh_engine_free(e);
    fh_request_free(r);
    fh_client_free(c);
    close(l.ep);
}

/* The built-in loop's epoll backend embedded in an outer loop: the outer
 * loop watches one fd and calls fh_engine_poll(e, 0) when it is ready. */
static void test_backend_fd_embedded(void **state)
{
    int fds_before = count_fds();
    enum { N = 300 };
    eloop l = {-1, -1, 0, 0, 0};
    fh_client *c = fh_client_new();
    fh_client_set_pool_limits(c, 16, 16, 16, 60000);
    fh_engine *e = fh_engine_new(c, NULL, NULL);
    static fh_request *reqs[N];
    char url[128];
    fh_nginx_url(url, sizeof url, g_ngx.http_url, "/json");
    fh_callbacks cb = {on_done, NULL};
    for (int i = 0; i < N / 2; i++) {
        reqs[i] = fh_request_new("GET", url, NULL);
        assert_int_equal(fh_engine_submit(e, reqs[i], &cb, &l), FH_OK);
    }
    int bfd = fh_engine_backend_fd(e); /* switching with work already queued */
    assert_true(bfd >= 0);
    for (int i = N / 2; i < N; i++) {
        reqs[i] = fh_request_new("GET", url, NULL);
        assert_int_equal(fh_engine_submit(e, reqs[i], &cb, &l), FH_OK);
    }
    int outer = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = bfd};
    assert_int_equal(epoll_ctl(outer, EPOLL_CTL_ADD, bfd, &ev), 0);
    for (int spins = 0; fh_engine_pending(e) > 0 && spins < 100000; spins++) {
        int64_t t = fh_engine_timeout(e);
        struct epoll_event got;
        epoll_wait(outer, &got, 1, t < 0 || t > 1000 ? 1000 : (int)t);
        fh_engine_poll(e, 0);
    }
    assert_int_equal(l.done, N);
    assert_int_equal(l.failed, 0);
    fh_engine_free(e);
    for (int i = 0; i < N; i++)
        fh_request_free(reqs[i]);
    fh_client_free(c);
    close(outer);
    assert_int_equal(count_fds(), fds_before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_concurrent_http),
        cmocka_unit_test(test_many_concurrent_https),
        cmocka_unit_test(test_random_cancellation),
        cmocka_unit_test(test_streaming_from_loop),
        cmocka_unit_test(test_backend_fd_embedded),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
