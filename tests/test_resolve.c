/* test_resolve.c — numeric hosts, resolver threads, wakeups, ordering. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fasthttp/errors.h"
#include "resolve.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits on the wakeup fd until the job is done, like the engine does. */
static int wait_result(fh__resolve_job *job, fh__wakeup *w, fh__addrs *out,
                       const char **why, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int rc = fh__resolve_result(job, out, why);
        if (rc != FH_EAGAIN)
            return rc;
        int left = (int)(deadline - now_ms());
        if (left <= 0)
            return FH_ETIMEOUT_CONNECT;
        struct pollfd p = {w->fd, POLLIN, 0};
        if (poll(&p, 1, left) > 0)
            fh__wakeup_drain(w);
    }
}

static void test_numeric_v4(void **state)
{
    (void)state;
    fh__addrs a = {0};
    assert_int_equal(fh__resolve_numeric("192.0.2.7", 8080, &a), FH_OK);
    assert_int_equal(a.n, 1);
    const struct sockaddr_in *sin = (const void *)&a.v[0].ss;
    assert_int_equal(sin->sin_family, AF_INET);
    assert_int_equal(ntohs(sin->sin_port), 8080);
    assert_int_equal(ntohl(sin->sin_addr.s_addr), 0xC0000207u);
    assert_int_equal(a.v[0].len, sizeof(struct sockaddr_in));
    fh__addrs_free(&a);
    assert_null(a.v);
    assert_int_equal(a.n, 0);
}

static void test_numeric_v6(void **state)
{
    (void)state;
    fh__addrs a = {0};
    assert_int_equal(fh__resolve_numeric("2001:db8::1", 443, &a), FH_OK);
    assert_int_equal(a.n, 1);
    const struct sockaddr_in6 *sin6 = (const void *)&a.v[0].ss;
    struct in6_addr want;
    inet_pton(AF_INET6, "2001:db8::1", &want);
    assert_int_equal(sin6->sin6_family, AF_INET6);
    assert_int_equal(ntohs(sin6->sin6_port), 443);
    assert_memory_equal(&sin6->sin6_addr, &want, sizeof want);
    assert_int_equal(a.v[0].len, sizeof(struct sockaddr_in6));
    fh__addrs_free(&a);
}

static void test_numeric_not_literal(void **state)
{
    (void)state;
    fh__addrs a = {0};
    assert_int_equal(fh__resolve_numeric("localhost", 80, &a), FH_EAGAIN);
    assert_int_equal(fh__resolve_numeric("1.2.3", 80, &a), FH_EAGAIN);
    assert_int_equal(fh__resolve_numeric("[::1]", 80, &a), FH_EAGAIN);
    assert_null(a.v);
}

static void test_wakeup_drain(void **state)
{
    (void)state;
    fh__wakeup w = {0};
    assert_int_equal(fh__wakeup_init(&w), FH_OK);
    struct pollfd p = {w.fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 0), 0);
    fh__note a = {0}, b = {0};
    fh__wakeup_post(&w, &a);
    fh__wakeup_post(&w, &b);
    fh__wakeup_post(&w, &a); /* posted once */
    assert_int_equal(poll(&p, 1, 0), 1);
    fh__wakeup_drain(&w);
    assert_int_equal(poll(&p, 1, 0), 0);
    fh__wakeup_drain(&w); /* nothing pending: must not block */
    fh__wakeup_unpost(&w, &b);
    assert_ptr_equal(fh__wakeup_pop(&w), &a);
    assert_null(fh__wakeup_pop(&w));
    assert_false(a.posted || b.posted);
    fh__wakeup_post(&w, &b); /* an empty list: the eventfd is written again */
    assert_int_equal(poll(&p, 1, 0), 1);
    assert_ptr_equal(fh__wakeup_pop(&w), &b);
    fh__wakeup_close(&w);
    assert_int_equal(w.fd, -1);
}

static void test_localhost(void **state)
{
    (void)state;
    fh__wakeup w = {0};
    fh__note note = {0};
    assert_int_equal(fh__wakeup_init(&w), FH_OK);
    fh__resolve_job *job = NULL;
    assert_int_equal(fh__resolve_start(&job, "localhost", 8443, &w, &note), FH_OK);
    fh__addrs a = {0};
    const char *why = NULL;
    assert_int_equal(wait_result(job, &w, &a, &why, 10000), FH_OK);
    assert_true(a.n >= 1);
    for (size_t i = 0; i < a.n; i++) {
        int fam = a.v[i].ss.ss_family;
        assert_true(fam == AF_INET || fam == AF_INET6);
        const struct sockaddr_in *sin = (const void *)&a.v[i].ss;
        assert_int_equal(ntohs(sin->sin_port), 8443); /* same offset in v6 */
    }
    fh__resolve_release(job);
    fh__addrs_free(&a);
    fh__wakeup_close(&w);
}

static void test_unknown_host_fails_fast(void **state)
{
    (void)state;
    fh__wakeup w = {0};
    fh__note note = {0};
    assert_int_equal(fh__wakeup_init(&w), FH_OK);
    fh__resolve_job *job = NULL;
    int64_t t0 = now_ms();
    assert_int_equal(fh__resolve_start(&job, "no-such-host.invalid", 80, &w, &note), FH_OK);
    fh__addrs a = {0};
    const char *why = NULL;
    /* RFC 6761 §6.4: .invalid never resolves; resolvers answer at once. */
    assert_int_equal(wait_result(job, &w, &a, &why, 5000), FH_ERESOLVE);
    assert_true(now_ms() - t0 < 5000);
    assert_non_null(why);
    assert_true(strlen(why) > 0);
    assert_null(a.v);
    fh__resolve_release(job);
    fh__wakeup_close(&w);
}

/* The engine drops jobs before they finish (cancel, timeout) and may close
 * the eventfd right after; under ASan this proves the threads never touch
 * the wakeup or the job after that, and that nothing leaks. */
static void test_release_before_completion(void **state)
{
    (void)state;
    enum { N = 50 };
    fh__wakeup w = {0};
    fh__note note = {0};
    assert_int_equal(fh__wakeup_init(&w), FH_OK);
    fh__resolve_job *jobs[N];
    for (int i = 0; i < N; i++) {
        const char *host = i % 2 ? "localhost" : "no-such-host.invalid";
        assert_int_equal(fh__resolve_start(&jobs[i], host, 80 + i, &w, &note), FH_OK);
    }
    for (int i = 0; i < N; i++)
        fh__resolve_release(jobs[i]);
    fh__wakeup_close(&w);
    /* Give the detached threads time to finish before the process exits. */
    sleep_ms(500);
}

/* Released after completion without reading the result: the job still owns
 * its addresses and must free them. */
static void test_release_after_completion(void **state)
{
    (void)state;
    fh__wakeup w = {0};
    fh__note note = {0};
    assert_int_equal(fh__wakeup_init(&w), FH_OK);
    fh__resolve_job *job = NULL;
    assert_int_equal(fh__resolve_start(&job, "localhost", 80, &w, &note), FH_OK);
    struct pollfd p = {w.fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 10000), 1);
    fh__resolve_release(job);
    fh__wakeup_close(&w);
}

static fh__addr mk4(const char *ip, int port)
{
    fh__addr a;
    memset(&a, 0, sizeof a);
    struct sockaddr_in *sin = (struct sockaddr_in *)&a.ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, ip, &sin->sin_addr);
    a.len = sizeof *sin;
    return a;
}

static fh__addr mk6(const char *ip, int port)
{
    fh__addr a;
    memset(&a, 0, sizeof a);
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a.ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)port);
    inet_pton(AF_INET6, ip, &sin6->sin6_addr);
    a.len = sizeof *sin6;
    return a;
}

static fh__addrs mklist(const fh__addr *src, size_t n)
{
    fh__addrs l = {malloc(n * sizeof *src), n};
    assert_non_null(l.v);
    memcpy(l.v, src, n * sizeof *src);
    return l;
}

static void assert_list(const fh__addrs *l, const fh__addr *want, size_t n)
{
    assert_int_equal(l->n, n);
    for (size_t i = 0; i < n; i++)
        assert_memory_equal(&l->v[i].ss, &want[i].ss, want[i].len);
}

static void test_interleave_v6_first(void **state)
{
    (void)state;
    fh__addr in[] = {mk6("2001:db8::1", 80), mk6("2001:db8::2", 80), mk6("2001:db8::3", 80),
                     mk4("192.0.2.1", 80),   mk4("192.0.2.2", 80),   mk6("2001:db8::1", 80)};
    fh__addr want[] = {in[0], in[3], in[1], in[4], in[2]};
    fh__addrs l = mklist(in, 6);
    assert_int_equal(fh__addrs_interleave(&l), FH_OK);
    assert_list(&l, want, 5);
    fh__addrs_free(&l);
}

static void test_interleave_v4_first(void **state)
{
    (void)state;
    fh__addr in[] = {mk4("192.0.2.1", 80), mk4("192.0.2.1", 80), mk4("192.0.2.2", 80),
                     mk4("192.0.2.3", 80), mk6("2001:db8::1", 80)};
    fh__addr want[] = {in[0], in[4], in[2], in[3]};
    fh__addrs l = mklist(in, 5);
    assert_int_equal(fh__addrs_interleave(&l), FH_OK);
    assert_list(&l, want, 4);
    fh__addrs_free(&l);
}

static void test_interleave_one_family_and_ports(void **state)
{
    (void)state;
    /* Same address on another port is not a duplicate. */
    fh__addr in[] = {mk4("192.0.2.1", 80), mk4("192.0.2.1", 81), mk4("192.0.2.1", 80)};
    fh__addr want[] = {in[0], in[1]};
    fh__addrs l = mklist(in, 3);
    assert_int_equal(fh__addrs_interleave(&l), FH_OK);
    assert_list(&l, want, 2);
    fh__addrs_free(&l);

    fh__addrs empty = {NULL, 0};
    assert_int_equal(fh__addrs_interleave(&empty), FH_OK);
    assert_int_equal(empty.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric_v4),
        cmocka_unit_test(test_numeric_v6),
        cmocka_unit_test(test_numeric_not_literal),
        cmocka_unit_test(test_wakeup_drain),
        cmocka_unit_test(test_localhost),
        cmocka_unit_test(test_unknown_host_fails_fast),
        cmocka_unit_test(test_release_before_completion),
        cmocka_unit_test(test_release_after_completion),
        cmocka_unit_test(test_interleave_v6_first),
        cmocka_unit_test(test_interleave_v4_first),
        cmocka_unit_test(test_interleave_one_family_and_ports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
