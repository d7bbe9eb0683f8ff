/*
 * test_fork.c — a forked child never uses its parent's connections
 * (docs/security.md, "Fork"), against a scripted peer (support/peer.h) and
 * a real nginx over TLS (support/nginx.h).
 *
 * The servers run in the parent (threads, a child process); a forked child
 * connects to the same listening sockets, so every connection of both
 * processes is seen by the same server. Each test forks once (or a few
 * times) and checks both sides: the child gets FH_EFORKED for what was in
 * flight and its own answers on new connections; the parent's connection
 * keeps working, so nothing was read, written, closed or shut down under it.
 *
 * The child must not return into cmocka: it reports failed checks on
 * stderr and leaves with _exit(1), which the parent asserts against.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fasthttp/fasthttp.h"
#include "support/fixtures.h"
#include "support/nginx.h"
#include "support/peer.h"

#define RESP(body) "HTTP/1.1 200 OK\r\nContent-Length: " #body "\r\n\r\n"

static fh_nginx ngx;

/* In the child: a failed check ends the process with status 1. */
#define CHILD_CHECK(cond)                                                                   \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "child %d: %s:%d: check failed: %s\n", (int)getpid(), __FILE__, \
                    __LINE__, #cond);                                                       \
            _exit(1);                                                                       \
        }                                                                                   \
    } while (0)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for the child's exit status (its exit code, 128+signal), killing it
 * after timeout_ms: -1 means it hung. */
static int wait_child(pid_t pid, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (r < 0 || now_ms() > end)
            break;
        fh_test_sleep_ms(10);
    }
    fprintf(stderr, "child %d did not exit within %d ms: killed\n", (int)pid, timeout_ms);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static fh_client *new_client(int read_timeout_ms)
{
    fh_client *c = fh_client_new();
    assert_non_null(c);
    fh_client_set_timeout(c, FH_TIMEOUT_CONNECT, 10000);
    fh_client_set_timeout(c, FH_TIMEOUT_READ, read_timeout_ms);
    return c;
}

/* One blocking GET. Returns the FH code; body (NUL-terminated, malloc'ed)
 * and whether the connection came from the pool are written out. */
static int get(fh_client *c, const char *url, char **body, int *reused)
{
    int err = 0;
    fh_request *req = fh_request_new("GET", url, &err);
    if (!req)
        return err;
    fh_response *resp = NULL;
    err = fh_client_send(c, req, &resp);
    *body = NULL;
    if (err == FH_OK) {
        size_t len = 0;
        const uint8_t *b = fh_response_body(resp, &len);
        *body = calloc(1, len + 1);
        memcpy(*body, b ? (const char *)b : "", len);
        *reused = fh_response_timings(resp)->reused;
        fh_response_free(resp);
    } else {
        fprintf(stderr, "GET %s: %s: %s\n", url, fh_strerror(err),
                fh_request_error_message(req));
    }
    fh_request_free(req);
    return err;
}

/* The path of the k-th request the peer read, and its connection index. */
static int peer_request_is(fh_peer *p, int k, const char *path, int conn)
{
    int c = -1;
    const char *raw = fh_peer_request(p, k, NULL, &c);
    char line[128];
    snprintf(line, sizeof line, "GET %s HTTP/1.1\r\n", path);
    if (raw && strncmp(raw, line, strlen(line)) == 0 && c == conn)
        return 1;
    fprintf(stderr, "request %d: wanted %s on connection %d, got connection %d: %.40s\n", k,
            path, conn, c, raw ? raw : "(none)");
    return 0;
}

/* ---- an idle pooled connection ------------------------------------------ */

/* Connection 0 is the parent's and answers twice; connection 1 is the
 * child's. Had the child reused connection 0, it would get "c0-second" and
 * the parent would find its connection closed by the script's end. */
static void test_idle_connection_not_inherited(void **state)
{
    static const fh_peer_step s0[] = {PEER_READ, PEER_SEND(RESP(8) "c0-first"), PEER_READ,
                                      PEER_SEND(RESP(9) "c0-second"), PEER_END};
    static const fh_peer_step s1[] = {PEER_READ, PEER_SEND(RESP(8) "c1-child"), PEER_END};
    static const fh_peer_step s2[] = {PEER_READ, PEER_SEND(RESP(7) "c-extra"), PEER_END};
    const fh_peer_step *sc[] = {s0, s1, s2};
    fh_peer *p = fh_peer_start(sc, 3);
    assert_non_null(p);
    char url[128];
    fh_client *c = new_client(10000);
    char *body = NULL;
    int reused = -1;
    assert_int_equal(get(c, fh_peer_url(p, "/parent-1", url, sizeof url), &body, &reused), 0);
    assert_string_equal(body, "c0-first");
    free(body);
    unsigned long gen = fh_fork_generation();

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        CHILD_CHECK(fh_fork_generation() != gen);
        CHILD_CHECK(get(c, fh_peer_url(p, "/child", url, sizeof url), &body, &reused) == 0);
        CHILD_CHECK(strcmp(body, "c1-child") == 0);
        CHILD_CHECK(reused == 0);
        fh_pool_stats st;
        fh_client_pool_stats(c, &st);
        CHILD_CHECK(st.open == 1 && st.idle == 1); /* only the child's own connection */
        free(body);
        fh_client_free(c);
        _exit(0);
    }
    assert_int_equal(fh_fork_generation(), gen);
    assert_int_equal(wait_child(pid, 15000), 0);
    assert_int_equal(get(c, fh_peer_url(p, "/parent-2", url, sizeof url), &body, &reused), 0);
    assert_string_equal(body, "c0-second");
    assert_int_equal(reused, 1);
    free(body);
    assert_int_equal(fh_peer_connections(p), 2);
    assert_true(peer_request_is(p, 0, "/parent-1", 0));
    assert_true(peer_request_is(p, 1, "/child", 1));
    assert_true(peer_request_is(p, 2, "/parent-2", 0));
    fh_client_free(c);
    fh_peer_stop(p);
}

/* ---- a transfer in flight on an engine ---------------------------------- */

typedef struct done_rec {
    int calls;
    int status;
    fh_response *resp;
} done_rec;

static void on_done(void *ud, fh_request *req, int status, fh_response *resp)
{
    done_rec *d = ud;
    d->calls++;
    d->status = status;
    d->resp = resp;
}

/* Drives e until d's callback ran or ms passed; returns d->calls. */
static int run_until(fh_engine *e, done_rec *d, int ms)
{
    int64_t end = now_ms() + ms;
    while (!d->calls && now_ms() < end)
        if (fh_engine_poll(e, 20) < 0)
            break;
    return d->calls;
}

static fh_request *submit(fh_engine *e, const char *url, done_rec *d)
{
    int err = 0;
    fh_request *req = fh_request_new("GET", url, &err);
    if (!req)
        return NULL;
    static const fh_callbacks cb = {on_done, NULL};
    if (fh_engine_submit(e, req, &cb, d) != FH_OK) {
        fh_request_free(req);
        return NULL;
    }
    return req;
}

/* Polls e until the peer has read n requests (the request is on the wire). */
static void poll_until_sent(fh_engine *e, fh_peer *p, int n)
{
    int64_t end = now_ms() + 5000;
    while (fh_peer_request_count(p) < n && now_ms() < end)
        fh_engine_poll(e, 10);
    assert_int_equal(fh_peer_request_count(p), n);
}

/* The peer answers the parent's request only after 500 ms, while the child
 * polls the inherited engine: the child must fail the transfer with
 * FH_EFORKED without reading a byte, then make a request of its own on a
 * new connection through the same engine. */
static void test_inflight_fails_in_child(void **state)
{
    static const fh_peer_step s0[] = {PEER_READ, PEER_SLEEP(500),
                                      PEER_SEND(RESP(6) "parent"), PEER_END};
    static const fh_peer_step s1[] = {PEER_READ, PEER_SEND(RESP(5) "child"), PEER_END};
    const fh_peer_step *sc[] = {s0, s1};
    fh_peer *p = fh_peer_start(sc, 2);
    assert_non_null(p);
    char url[128];
    fh_client *c = new_client(3000);
    fh_engine *e = fh_engine_new(c, NULL, NULL);
    assert_non_null(e);
    done_rec pd = {0};
    fh_request *req = submit(e, fh_peer_url(p, "/inflight", url, sizeof url), &pd);
    assert_non_null(req);
    poll_until_sent(e, p, 1);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        CHILD_CHECK(fh_engine_pending(e) == 1);
        CHILD_CHECK(run_until(e, &pd, 3000) == 1);
        CHILD_CHECK(pd.status == FH_EFORKED);
        CHILD_CHECK(pd.resp == NULL);
        CHILD_CHECK(strstr(fh_request_error_message(req), "fork") != NULL);
        CHILD_CHECK(fh_engine_pending(e) == 0);
        done_rec cd = {0};
        fh_request *creq = submit(e, fh_peer_url(p, "/child", url, sizeof url), &cd);
        CHILD_CHECK(creq != NULL);
        CHILD_CHECK(run_until(e, &cd, 5000) == 1);
        CHILD_CHECK(cd.status == FH_OK);
        size_t len = 0;
        const uint8_t *b = fh_response_body(cd.resp, &len);
        CHILD_CHECK(len == 5 && memcmp(b, "child", 5) == 0);
        CHILD_CHECK(fh_response_timings(cd.resp)->reused == 0);
        fh_response_free(cd.resp);
        fh_request_free(creq);
        fh_engine_free(e);
        fh_request_free(req);
        fh_client_free(c);
        _exit(0);
    }
    assert_int_equal(run_until(e, &pd, 5000), 1);
    if (pd.status)
        fprintf(stderr, "parent: %s\n", fh_request_error_message(req));
    assert_int_equal(pd.status, FH_OK);
    size_t len = 0;
    const uint8_t *b = fh_response_body(pd.resp, &len);
    assert_int_equal(len, 6);
    assert_memory_equal(b, "parent", 6);
    fh_response_free(pd.resp);
    assert_int_equal(wait_child(pid, 15000), 0);
    assert_int_equal(fh_peer_connections(p), 2);
    assert_true(peer_request_is(p, 0, "/inflight", 0));
    assert_true(peer_request_is(p, 1, "/child", 1));
    fh_request_free(req);
    fh_engine_free(e);
    fh_client_free(c);
    fh_peer_stop(p);
}

/* The engine's epoll backend is one epoll instance shared by parent and
 * child. A child that frees its inherited engine must not remove the
 * parent's socket from it (EPOLL_CTL_DEL works on the shared instance):
 * the parent would then wait for its response until the read timeout. */
static void test_epoll_backend_not_touched(void **state)
{
    static const fh_peer_step s0[] = {PEER_READ, PEER_SLEEP(300),
                                      PEER_SEND(RESP(6) "parent"), PEER_END};
    fh_peer *p = fh_peer_start1(s0);
    assert_non_null(p);
    char url[128];
    fh_client *c = new_client(3000);
    fh_engine *e = fh_engine_new(c, NULL, NULL);
    assert_non_null(e);
    assert_true(fh_engine_backend_fd(e) >= 0);
    done_rec pd = {0};
    fh_request *req = submit(e, fh_peer_url(p, "/epoll", url, sizeof url), &pd);
    assert_non_null(req);
    poll_until_sent(e, p, 1);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fh_engine_free(e);
        fh_request_free(req);
        fh_client_free(c);
        _exit(0);
    }
    assert_int_equal(wait_child(pid, 15000), 0);
    assert_int_equal(run_until(e, &pd, 5000), 1);
    if (pd.status)
        fprintf(stderr, "parent: %s\n", fh_request_error_message(req));
    assert_int_equal(pd.status, FH_OK);
    fh_response_free(pd.resp);
    fh_request_free(req);
    fh_engine_free(e);
    fh_client_free(c);
    fh_peer_stop(p);
}

/* ---- an engine on an external loop -------------------------------------- */

/* A small poll(2) loop behind fh_loop_ops that counts the calls it gets. */
typedef struct mini_loop {
    int events[256];   /* watched interest per fd */
    int64_t timer_at;  /* ms, -1: disarmed */
    int watch_calls;
} mini_loop;

static int ml_watch(void *ud, int fd, int events)
{
    mini_loop *l = ud;
    l->watch_calls++;
    if (fd < 0 || fd >= 256)
        return -1;
    l->events[fd] = events;
    return 0;
}

static int ml_timer(void *ud, int64_t ms)
{
    ((mini_loop *)ud)->timer_at = ms < 0 ? -1 : now_ms() + ms;
    return 0;
}

static const fh_loop_ops ml_ops = {ml_watch, ml_timer};

static void ml_init(mini_loop *l)
{
    memset(l, 0, sizeof *l);
    l->timer_at = -1;
}

/* One turn: poll the watched fds (at most 20 ms), report what is ready and
 * a timer that is due. */
static void ml_turn(mini_loop *l, fh_engine *e)
{
    struct pollfd p[256];
    int n = 0;
    for (int fd = 0; fd < 256; fd++)
        if (l->events[fd])
            p[n++] = (struct pollfd){fd, (short)(((l->events[fd] & FH_WATCH_READ) ? POLLIN : 0) |
                                                 ((l->events[fd] & FH_WATCH_WRITE) ? POLLOUT : 0)),
                                     0};
    int64_t wait = 20, now = now_ms();
    if (l->timer_at >= 0 && l->timer_at - now < wait)
        wait = l->timer_at <= now ? 0 : l->timer_at - now;
    poll(p, (nfds_t)n, (int)wait);
    for (int i = 0; i < n; i++)
        if (p[i].revents && l->events[p[i].fd])
            fh_engine_socket_action(e, p[i].fd,
                                    ((p[i].revents & POLLIN) ? FH_WATCH_READ : 0) |
                                        ((p[i].revents & POLLOUT) ? FH_WATCH_WRITE : 0) |
                                        ((p[i].revents & (POLLERR | POLLHUP)) ? FH_WATCH_ERROR : 0));
    if (l->timer_at >= 0 && l->timer_at <= now_ms()) {
        l->timer_at = -1;
        fh_engine_socket_action(e, FH_SOCKET_TIMEOUT, 0);
    }
}

static int ml_run_until(mini_loop *l, fh_engine *e, done_rec *d, int ms)
{
    int64_t end = now_ms() + ms;
    while (!d->calls && now_ms() < end)
        ml_turn(l, e);
    return d->calls;
}

/* The external loop of the parent may itself be built on an epoll
 * instance the child shares, so the child's engine must not tell it to
 * stop watching inherited fds either: not while failing the transfer, not
 * when freed. A new engine on a loop of the child's own works. */
static void test_external_loop_not_told_in_child(void **state)
{
    static const fh_peer_step s0[] = {PEER_READ, PEER_SLEEP(300),
                                      PEER_SEND(RESP(6) "parent"), PEER_END};
    static const fh_peer_step s1[] = {PEER_READ, PEER_SEND(RESP(5) "child"), PEER_END};
    const fh_peer_step *sc[] = {s0, s1};
    fh_peer *p = fh_peer_start(sc, 2);
    assert_non_null(p);
    char url[128];
    fh_client *c = new_client(3000);
    mini_loop l;
    ml_init(&l);
    fh_engine *e = fh_engine_new(c, &ml_ops, &l);
    assert_non_null(e);
    done_rec pd = {0};
    fh_request *req = submit(e, fh_peer_url(p, "/external", url, sizeof url), &pd);
    assert_non_null(req);
    int64_t end = now_ms() + 5000;
    while (fh_peer_request_count(p) < 1 && now_ms() < end)
        ml_turn(&l, e);
    assert_int_equal(fh_peer_request_count(p), 1);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        l.watch_calls = 0;
        fh_engine_socket_action(e, FH_SOCKET_TIMEOUT, 0);
        CHILD_CHECK(pd.calls == 1 && pd.status == FH_EFORKED);
        fh_engine_free(e);
        CHILD_CHECK(l.watch_calls == 0);
        mini_loop l2;
        ml_init(&l2);
        fh_engine *e2 = fh_engine_new(c, &ml_ops, &l2);
        done_rec cd = {0};
        fh_request *creq = submit(e2, fh_peer_url(p, "/child", url, sizeof url), &cd);
        CHILD_CHECK(creq != NULL);
        CHILD_CHECK(ml_run_until(&l2, e2, &cd, 5000) == 1);
        CHILD_CHECK(cd.status == FH_OK);
        size_t len = 0;
        const uint8_t *b = fh_response_body(cd.resp, &len);
        CHILD_CHECK(len == 5 && memcmp(b, "child", 5) == 0);
        fh_response_free(cd.resp);
        fh_request_free(creq);
        fh_engine_free(e2);
        fh_request_free(req);
        fh_client_free(c);
        _exit(0);
    }
    assert_int_equal(ml_run_until(&l, e, &pd, 5000), 1);
    assert_int_equal(pd.status, FH_OK);
    fh_response_free(pd.resp);
    assert_int_equal(wait_child(pid, 15000), 0);
    assert_true(peer_request_is(p, 0, "/external", 0));
    assert_true(peer_request_is(p, 1, "/child", 1));
    fh_request_free(req);
    fh_engine_free(e);
    fh_client_free(c);
    fh_peer_stop(p);
}

/* ---- TLS: no close_notify from the child -------------------------------- */

static fh_client *tls_client(void)
{
    fh_client *c = new_client(10000);
    assert_int_equal(fh_client_set_ca_file(c, ngx.ca_file), FH_OK);
    return c;
}

/* The parent's pooled TLS connection to nginx must still be the one its
 * next request uses after the child ran: a child that sent close_notify
 * (SSL_shutdown on its copy) or wrote a request on it would have made nginx
 * close it. child_request: the child also sends a request of its own. */
static void tls_parent_connection_survives(int child_request)
{
    char url[256];
    fh_nginx_url(url, sizeof url, ngx.https_url, "/json");
    fh_client *c = tls_client();
    char *body = NULL;
    int reused = -1;
    assert_int_equal(get(c, url, &body, &reused), 0);
    assert_int_equal(strlen(body), ngx.json_len);
    free(body);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (child_request) {
            CHILD_CHECK(get(c, url, &body, &reused) == 0);
            CHILD_CHECK(strlen(body) == ngx.json_len);
            CHILD_CHECK(reused == 0);
            free(body);
        }
        fh_client_free(c);
        _exit(0);
    }
    assert_int_equal(wait_child(pid, 15000), 0);
    fh_test_sleep_ms(200); /* time for nginx to close a connection told to */
    assert_int_equal(get(c, url, &body, &reused), 0);
    assert_int_equal(strlen(body), ngx.json_len);
    free(body);
    assert_int_equal(reused, 1);
    fh_pool_stats st;
    fh_client_pool_stats(c, &st);
    assert_int_equal((int)st.created, 1);
    fh_client_free(c);
}

static void test_tls_child_frees_client(void **state)
{
    tls_parent_connection_survives(0);
}

static void test_tls_child_makes_request(void **state)
{
    tls_parent_connection_survives(1);
}

/* ---- library mutexes held by other threads at the fork ----------------- */

typedef struct locker {
    fh_client *c;
    fh_cookie_jar *jar;
    volatile int stop;
} locker;

/* Takes the pool lock, the cookie jar lock and the client lock in a tight
 * loop, so a fork very likely happens while this thread holds one. */
static void *lock_loop(void *arg)
{
    locker *l = arg;
    fh_pool_stats st;
    fh_cookie c;
    while (!l->stop) {
        fh_client_pool_stats(l->c, &st);
        fh_cookie_jar_set(l->jar, "a", "b", "example.com", "/", 0, 0, -1);
        if (fh_cookie_jar_get(l->jar, "a", NULL, NULL, &c) == 1)
            fh_cookie_free(&c);
        fh_client_set_verify(l->c, 1);
    }
    return NULL;
}

/* Without the atfork handlers a child finds a mutex locked by a thread
 * that does not exist in it, and its first call into the library hangs. */
static void test_no_deadlock_on_locks_held_at_fork(void **state)
{
    locker l = {fh_client_new(), fh_cookie_jar_new(), 0};
    assert_non_null(l.c);
    assert_non_null(l.jar);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, lock_loop, &l), 0);
    fh_test_sleep_ms(20);
    int failed = 0;
    for (int i = 0; i < 40 && !failed; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            fh_pool_stats st;
            fh_client_pool_stats(l.c, &st);
            fh_cookie_jar_set(l.jar, "x", "y", "example.com", "/", 0, 0, -1);
            fh_client_set_verify(l.c, 1);
            fh_client_free(l.c);
            fh_cookie_jar_free(l.jar);
            _exit(0);
        }
        failed = pid < 0 || wait_child(pid, 5000) != 0;
    }
    l.stop = 1;
    pthread_join(th, NULL);
    fh_client_free(l.c);
    fh_cookie_jar_free(l.jar);
    assert_false(failed);
}

/* ---- runner ------------------------------------------------------------- */

static int group_setup(void **state)
{
    if (fh_nginx_start(&ngx) != 0) {
        fprintf(stderr, "nginx fixture: %s\n", ngx.error);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    fh_nginx_stop(&ngx);
    return 0;
}

static int fds_before;

static int setup(void **state)
{
    fds_before = fh_test_count_fds();
    return 0;
}

static int teardown(void **state)
{
    int after = fh_test_count_fds();
    if (after != fds_before)
        fprintf(stderr, "fd leak: %d open before the test, %d after\n", fds_before, after);
    return after == fds_before ? 0 : -1;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_idle_connection_not_inherited),
        T(test_inflight_fails_in_child),
        T(test_epoll_backend_not_touched),
        T(test_external_loop_not_told_in_child),
        T(test_tls_child_frees_client),
        T(test_tls_child_makes_request),
        T(test_no_deadlock_on_locks_held_at_fork),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
