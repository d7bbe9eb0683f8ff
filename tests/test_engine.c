/*
 * test_engine.c — the whole engine (pool, state machine, callbacks, body
 * streaming, retries) against scripted peers over socketpairs. The client's
 * connect hook hands the engine one end; a peer thread runs a script on the
 * other. No network is involved, so these tests are exact and fast.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fasthttp/fasthttp.h"

/* ---- scripted peer ----------------------------------------------------- */

typedef void (*script_fn)(int fd, int conn_index);

typedef struct peer {
    script_fn scripts[4];
    int nscripts;
    int connects;
    pthread_t threads[16];
    char request[4][4096]; /* raw request bytes seen per connection */
} peer;

typedef struct peer_arg {
    peer *p;
    int fd;
    int index;
} peer_arg;

static peer *g_peer;

/* Reads one request head (and a Content-Length body if any). */
static size_t read_request(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    while (len < cap - 1) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (!end)
            continue;
        const char *cl = strcasestr(buf, "content-length:");
        size_t need = (size_t)(end + 4 - buf) + (cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0);
        if (strcasestr(buf, "transfer-encoding: chunked") && !strstr(end + 4, "0\r\n\r\n"))
            continue;
        if (len >= need)
            break;
    }
    buf[len] = 0;
    return len;
}

static void send_str(int fd, const char *s)
{
    size_t len = strlen(s);
    while (len) {
        ssize_t n = write(fd, s, len);
        if (n <= 0)
            return;
        s += n;
        len -= (size_t)n;
    }
}

static void *peer_main(void *arg)
{
    peer_arg *a = arg;
    peer *p = a->p;
    int k = a->index < p->nscripts ? a->index : p->nscripts - 1;
    p->scripts[k](a->fd, a->index);
    close(a->fd);
    free(a);
    return NULL;
}

static int hook(void *ud, const char *host, int port)
{
    peer *p = ud;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return FH_ECONNECT;
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    peer_arg *a = malloc(sizeof *a);
    *a = (peer_arg){p, sv[1], p->connects};
    pthread_create(&p->threads[p->connects++], NULL, peer_main, a);
    return sv[0];
}

static void peer_join(peer *p)
{
    for (int i = 0; i < p->connects; i++)
        pthread_join(p->threads[i], NULL);
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

/* ---- scripts ----------------------------------------------------------- */

#define OK_RESPONSE "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"

/* Serves requests on the connection until the client closes it. */
static void serve_ok(int fd, int index)
{
    char buf[4096];
    while (read_request(fd, buf, sizeof buf) > 0) {
        if (index < 4)
            memcpy(g_peer->request[index], buf, sizeof buf);
        send_str(fd, OK_RESPONSE);
    }
}

/* Reads the request and closes without answering (a stale keep-alive). */
static void close_after_request(int fd, int index)
{
    char buf[4096];
    read_request(fd, buf, sizeof buf);
}

/* Answers one request, then the next one is read and dropped. */
static void ok_then_drop(int fd, int index)
{
    char buf[4096];
    read_request(fd, buf, sizeof buf);
    send_str(fd, OK_RESPONSE);
    read_request(fd, buf, sizeof buf);
}

/* Sends a response one byte per write. */
static void drip_chunked(int fd, int index)
{
    char buf[4096];
    read_request(fd, buf, sizeof buf);
    const char *r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
                    "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
    for (const char *c = r; *c; c++) {
        if (write(fd, c, 1) != 1)
            return;
        usleep(200);
    }
    read_request(fd, buf, sizeof buf);
}

/* Reads exactly one request head (up to CRLF CRLF), byte by byte, so a
 * held-back body is not consumed. */
static size_t read_head_only(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    while (len < cap - 1 && read(fd, buf + len, 1) == 1) {
        len++;
        buf[len] = 0;
        if (len >= 4 && memcmp(buf + len - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    return len;
}

static void read_n(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = 0;
}

/* 100 Continue, then the body, then the final answer. */
static void continue_then_ok(int fd, int index)
{
    char head[4096], body[64];
    read_head_only(fd, head, sizeof head);
    memcpy(g_peer->request[0], head, sizeof head);
    send_str(fd, "HTTP/1.1 100 Continue\r\n\r\n");
    read_n(fd, body, 5);
    memcpy(g_peer->request[1], body, sizeof body);
    send_str(fd, OK_RESPONSE);
}

/* Refuses the upload before it is sent; the client must not send it. */
static void refuse_upload(int fd, int index)
{
    char head[4096], extra[16];
    read_head_only(fd, head, sizeof head);
    send_str(fd, "HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n");
    /* Whatever arrives before the client closes would be a sent body. */
    ssize_t n = read(fd, extra, sizeof extra);
    snprintf(g_peer->request[1], 32, "%zd", n);
}

/* Ignores Expect: the client sends the body after its wait. */
static void silent_then_ok(int fd, int index)
{
    char head[4096], body[64];
    read_head_only(fd, head, sizeof head);
    read_n(fd, body, 5);
    memcpy(g_peer->request[1], body, sizeof body);
    send_str(fd, OK_RESPONSE);
}

/* ---- a tiny external loop over poll(2) --------------------------------- */

typedef struct ext_loop {
    int fds[64];
    int events[64];
    int n;
    int64_t timer_ms; /* -1: disarmed */
    int in_submit;    /* set while the test is inside fh_engine_submit */
    int callback_in_submit;
    int done, status;
    fh_response *resp;
    int body_events;
} ext_loop;

static int ext_watch(void *ud, int fd, int events)
{
    ext_loop *l = ud;
    for (int i = 0; i < l->n; i++) {
        if (l->fds[i] == fd) {
            if (!events) {
                l->fds[i] = l->fds[--l->n];
                l->events[i] = l->events[l->n];
            } else {
                l->events[i] = events;
            }
            return 0;
        }
    }
    if (events) {
        l->fds[l->n] = fd;
        l->events[l->n++] = events;
    }
    return 0;
}

static int ext_timer(void *ud, int64_t ms)
{
    ((ext_loop *)ud)->timer_ms = ms;
    return 0;
}

static void ext_done(void *ud, fh_request *req, int status, fh_response *resp)
{
    ext_loop *l = ud;
    if (l->in_submit)
        l->callback_in_submit = 1;
    l->done++;
    l->status = status;
    l->resp = resp;
}

static void ext_body(void *ud, fh_response *resp)
{
    ((ext_loop *)ud)->body_events++;
}

/* One iteration: poll the watched fds, report them, fire the timer. */
static void ext_run_once(ext_loop *l, fh_engine *e)
{
    struct pollfd p[64];
    int n = l->n;
    for (int i = 0; i < n; i++)
        p[i] = (struct pollfd){l->fds[i],
                               (short)(((l->events[i] & FH_WATCH_READ) ? POLLIN : 0) |
                                       ((l->events[i] & FH_WATCH_WRITE) ? POLLOUT : 0)),
                               0};
    int tmo = l->timer_ms < 0 ? 1000 : (int)l->timer_ms;
    int r = poll(p, (nfds_t)n, tmo);
    for (int i = 0; i < n && r > 0; i++)
        if (p[i].revents)
            fh_engine_socket_action(e, p[i].fd,
                                    ((p[i].revents & POLLIN) ? FH_WATCH_READ : 0) |
                                        ((p[i].revents & POLLOUT) ? FH_WATCH_WRITE : 0) |
                                        ((p[i].revents & (POLLERR | POLLHUP)) ? FH_WATCH_ERROR : 0));
    if (l->timer_ms >= 0 && r == 0) {
        l->timer_ms = -1;
        fh_engine_socket_action(e, FH_SOCKET_TIMEOUT, 0);
    } else if (l->timer_ms == 0) {
        l->timer_ms = -1;
        fh_engine_socket_action(e, FH_SOCKET_TIMEOUT, 0);
    }
}

static fh_client *client_for(peer *p)
{
    g_peer = p;
    fh_client *c = fh_client_new();
    fh_client_set_connect_hook(c, hook, p);
    fh_client_set_timeout(c, FH_TIMEOUT_TOTAL, 10000);
    return c;
}

/* ---- tests ------------------------------------------------------------- */

static void test_external_loop_get(void **state)
{
    int fds_before = count_fds();
    peer p = {.scripts = {serve_ok}, .nscripts = 1};
    fh_client *c = client_for(&p);
    ext_loop l = {.timer_ms = -1};
    fh_loop_ops ops = {ext_watch, ext_timer};
    fh_engine *e = fh_engine_new(c, &ops, &l);
    fh_request *r = fh_request_new("GET", "http://example.test/a?b=1", NULL);
    fh_callbacks cb = {ext_done, NULL};
    l.in_submit = 1;
    assert_int_equal(fh_engine_submit(e, r, &cb, &l), FH_OK);
    l.in_submit = 0;
    assert_int_equal(l.timer_ms, 0); /* the first step is deferred to the loop */
    while (!l.done)
        ext_run_once(&l, e);
    assert_false(l.callback_in_submit);
    assert_int_equal(l.status, FH_OK);
    size_t len;
    const uint8_t *body = fh_response_body(l.resp, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(body, "hello", 5);
    assert_non_null(strstr(p.request[0], "GET /a?b=1 HTTP/1.1\r\nHost: example.test\r\n"));
    assert_non_null(strstr(p.request[0], "User-Agent: fasthttp/"));
    fh_response_free(l.resp);
    assert_int_equal(fh_engine_pending(e), 0);
    fh_engine_free(e);
    fh_request_free(r);
    fh_client_free(c);
    peer_join(&p);
    assert_int_equal(count_fds(), fds_before);
}

static void test_keep_alive_reuse_and_order(void **state)
{
    peer p = {.scripts = {serve_ok}, .nscripts = 1};
    fh_client *c = client_for(&p);
    for (int i = 0; i < 5; i++) {
        fh_request *r = fh_request_new("GET", "http://example.test/", NULL);
        fh_request_add_header(r, "X-First", "1");
        fh_request_add_header(r, "x-second", "2");
        fh_response *resp = NULL;
        assert_int_equal(fh_client_send(c, r, &resp), FH_OK);
        assert_int_equal(fh_response_status(resp), 200);
        assert_int_equal(fh_response_timings(resp)->reused, i > 0);
        fh_response_free(resp);
        fh_request_free(r);
    }
    assert_int_equal(p.connects, 1);
    assert_non_null(strstr(p.request[0], "X-First: 1\r\nx-second: 2\r\n"));
    fh_pool_stats st;
    fh_client_pool_stats(c, &st);
    assert_int_equal(st.created, 1);
    assert_int_equal(st.reused, 4);
    fh_client_free(c);
    peer_join(&p);
}

static void test_split_response_streamed(void **state)
{
    peer p = {.scripts = {drip_chunked}, .nscripts = 1};
    fh_client *c = client_for(&p);
    ext_loop l = {.timer_ms = -1};
    fh_loop_ops ops = {ext_watch, ext_timer};
    fh_engine *e = fh_engine_new(c, &ops, &l);
    fh_request *r = fh_request_new("GET", "http://example.test/", NULL);
    fh_request_set_stream(r, 1);
    fh_callbacks cb = {ext_done, ext_body};
    assert_int_equal(fh_engine_submit(e, r, &cb, &l), FH_OK);
    while (!l.done)
        ext_run_once(&l, e);
    assert_int_equal(l.status, FH_OK);
    assert_string_equal(fh_response_header(l.resp, "x-a", NULL) ? "1" : "", "1");
    char body[64] = "";
    size_t len = 0;
    for (int spins = 0; spins < 10000; spins++) {
        uint8_t buf[3]; /* tiny buffer: many reads */
        ssize_t n = fh_response_read(l.resp, buf, sizeof buf);
        if (n == 0)
            break;
        if (n == FH_EAGAIN) {
            ext_run_once(&l, e);
            continue;
        }
        assert_true(n > 0 && n <= 3);
        memcpy(body + len, buf, (size_t)n);
        len += (size_t)n;
    }
    assert_string_equal(body, "hello world");
    assert_true(l.body_events > 0);
    fh_response_free(l.resp); /* read to the end: the connection is pooled */
    fh_pool_stats st;
    fh_client_pool_stats(c, &st);
    assert_int_equal(st.idle, 1);
    fh_engine_free(e);
    fh_request_free(r);
    fh_client_free(c);
    peer_join(&p);
}

static void test_stale_connection_retried_for_get_only(void **state)
{
    peer p = {.scripts = {ok_then_drop, serve_ok}, .nscripts = 2};
    fh_client *c = client_for(&p);
    fh_response *resp = NULL;
    fh_request *r = fh_request_new("GET", "http://example.test/", NULL);
    assert_int_equal(fh_client_send(c, r, &resp), FH_OK);
    fh_response_free(resp);
    /* The pooled connection dies after the next request is written; GET is
     * idempotent and goes again on a fresh connection. */
    assert_int_equal(fh_client_send(c, r, &resp), FH_OK);
    assert_int_equal(fh_response_status(resp), 200);
    assert_int_equal(p.connects, 2);
    fh_response_free(resp);
    fh_request_free(r);
    fh_client_free(c);
    peer_join(&p);

    peer q = {.scripts = {ok_then_drop}, .nscripts = 1};
    c = client_for(&q);
    r = fh_request_new("POST", "http://example.test/", NULL);
    fh_request_set_body(r, "x", 1, 0);
    assert_int_equal(fh_client_send(c, r, &resp), FH_OK);
    fh_response_free(resp);
    assert_int_equal(fh_client_send(c, r, &resp), FH_ECLOSED);
    assert_null(resp);
    assert_int_equal(q.connects, 1); /* POST is never replayed */
    fh_request_free(r);
    fh_client_free(c);
    peer_join(&q);
}

static void test_cancel_frees_everything(void **state)
{
    int fds_before = count_fds();
    peer p = {.scripts = {close_after_request}, .nscripts = 1};
    fh_client *c = client_for(&p);
    ext_loop l = {.timer_ms = -1};
    fh_loop_ops ops = {ext_watch, ext_timer};
    fh_engine *e = fh_engine_new(c, &ops, &l);
    fh_request *r = fh_request_new("GET", "http://example.test/", NULL);
    fh_callbacks cb = {ext_done, NULL};
    assert_int_equal(fh_engine_submit(e, r, &cb, &l), FH_OK);
    ext_run_once(&l, e); /* starts: connected and request written */
    assert_int_equal(fh_engine_cancel(e, r), FH_OK);
    assert_int_equal(fh_engine_pending(e), 0);
    assert_int_equal(l.n, 0); /* nothing watched any more */
    for (int i = 0; i < 3; i++)
        ext_run_once(&l, e);
    assert_int_equal(l.done, 0); /* no callback after cancel */
    fh_pool_stats st;
    fh_client_pool_stats(c, &st);
    assert_int_equal(st.open, 0);
    fh_engine_free(e);
    fh_request_free(r);
    fh_client_free(c);
    peer_join(&p);
    assert_int_equal(count_fds(), fds_before);
}

typedef struct body_src {
    int calls;
    int paused_once;
} body_src;

static ssize_t pausing_reader(void *ud, uint8_t *buf, size_t cap)
{
    body_src *s = ud;
    s->calls++;
    if (s->calls == 2 && !s->paused_once) {
        s->paused_once = 1;
        return FH_EAGAIN;
    }
    if (s->calls > 3)
        return 0;
    memcpy(buf, "abc", 3);
    return 3;
}

/* The lender's twin of pausing_reader: lends "abc" three times, saying
 * FH_EAGAIN once between the first and the second. */
static ssize_t pausing_lender(void *ud, const uint8_t **data)
{
    body_src *s = ud;
    s->calls++;
    if (s->calls == 2 && !s->paused_once) {
        s->paused_once = 1;
        return FH_EAGAIN;
    }
    if (s->calls > 4)
        return 0;
    *data = (const uint8_t *)"abc";
    return 3;
}

/* A chunked upload whose source says FH_EAGAIN once, as a reader and as a
 * lender: the engine waits for fh_engine_resume() without asking the
 * source again, then sends the rest. The reader's pieces are copied (one
 * chunk each); the lender's go out as lent. */
static void chunked_upload_with_pause(int lend)
{
    peer p = {.scripts = {serve_ok}, .nscripts = 1};
    fh_client *c = client_for(&p);
    ext_loop l = {.timer_ms = -1};
    fh_loop_ops ops = {ext_watch, ext_timer};
    fh_engine *e = fh_engine_new(c, &ops, &l);
    fh_request *r = fh_request_new("POST", "http://example.test/up", NULL);
    body_src src = {0};
    assert_int_equal(lend ? fh_request_set_body_lender(r, pausing_lender, &src, -1)
                          : fh_request_set_body_reader(r, pausing_reader, &src, -1),
                     FH_OK);
    fh_callbacks cb = {ext_done, NULL};
    assert_int_equal(fh_engine_submit(e, r, &cb, &l), FH_OK);
    for (int i = 0; i < 20 && !src.paused_once; i++)
        ext_run_once(&l, e);
    assert_true(src.paused_once);
    assert_int_equal(src.calls, 2); /* nothing asked of a paused source */
    assert_int_equal(fh_engine_resume(e, r), FH_OK);
    while (!l.done)
        ext_run_once(&l, e);
    assert_int_equal(l.status, FH_OK);
    assert_non_null(strstr(p.request[0], "Transfer-Encoding: chunked\r\n"));
    assert_non_null(strstr(p.request[0], lend ? "\r\n\r\n3\r\nabc\r\n3\r\nabc\r\n3\r\nabc\r\n0\r\n\r\n"
                                              : "\r\n\r\n3\r\nabc\r\n3\r\nabc\r\n0\r\n\r\n"));
    fh_response_free(l.resp);
    fh_engine_free(e);
    fh_request_free(r);
    fh_client_free(c);
    peer_join(&p);
}

static void test_chunked_upload_with_pause(void **state)
{
    chunked_upload_with_pause(0);
}

static void test_chunked_lent_upload_with_pause(void **state)
{
    chunked_upload_with_pause(1);
}

/* A TCP connect to a listener on loopback completes inside connect(): the
 * engine notices (getpeername) and writes the request in the same step,
 * so after the first turn the socket is watched for the answer, not for
 * the connect. The listener never accepts before that: the kernel finishes
 * the handshake for connections in its backlog. */
static void test_loopback_connect_goes_on_at_once(void **state)
{
    (void)state;
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(ls, 4), 0);
    assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", ntohs(a.sin_port));
    fh_client *c = fh_client_new();
    ext_loop l = {.timer_ms = -1};
    fh_loop_ops ops = {ext_watch, ext_timer};
    fh_engine *e = fh_engine_new(c, &ops, &l);
    fh_request *r = fh_request_new("GET", url, NULL);
    fh_callbacks cb = {ext_done, NULL};
    assert_int_equal(fh_engine_submit(e, r, &cb, &l), FH_OK);
    l.timer_ms = -1;
    fh_engine_socket_action(e, FH_SOCKET_TIMEOUT, 0); /* the deferred first step */
    assert_int_equal(l.n, 1);
    assert_int_equal(l.events[0], FH_WATCH_READ); /* the request is out already */
    int s = accept(ls, NULL, NULL);
    assert_true(s >= 0);
    char req[512];
    ssize_t n = recv(s, req, sizeof req - 1, 0);
    assert_true(n > 0);
    req[n] = 0;
    assert_non_null(strstr(req, "GET /x HTTP/1.1\r\n"));
    const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    assert_int_equal(send(s, answer, sizeof answer - 1, 0), (ssize_t)(sizeof answer - 1));
    while (!l.done)
        ext_run_once(&l, e);
    assert_int_equal(l.status, FH_OK);
    fh_conn_info ci;
    fh_response_conn_info(l.resp, &ci);
    assert_string_equal(ci.remote_ip, "127.0.0.1"); /* the address kept from the connect */
    assert_int_equal(ci.remote_port, ntohs(a.sin_port));
    fh_response_free(l.resp);
    fh_engine_free(e);
    fh_request_free(r);
    fh_client_free(c);
    close(s);
    close(ls);
}

static void test_invalid_header_rejected_before_connect(void **state)
{
    peer p = {.scripts = {serve_ok}, .nscripts = 1};
    fh_client *c = client_for(&p);
    fh_request *r = fh_request_new("GET", "http://example.test/", NULL);
    assert_int_equal(fh_request_add_header(r, "X-Bad", "a\r\nInjected: 1"), FH_EHEADER);
    assert_int_equal(fh_request_add_header(r, "Bad Name", "v"), FH_EHEADER);
    assert_int_equal(fh_request_add_header(r, "X-Nul", "a\x01"), FH_EHEADER);
    int err = 0;
    assert_null(fh_request_new("GE T", "http://example.test/", &err));
    assert_int_equal(err, FH_EHEADER);
    assert_null(fh_request_new("GET", "http://exa mple.test/", &err));
    assert_int_equal(err, FH_EURL);
    fh_response *resp = NULL;
    assert_int_equal(fh_client_send(c, r, &resp), FH_OK);
    fh_response_free(resp);
    assert_null(strstr(p.request[0], "Injected"));
    fh_request_free(r);
    fh_client_free(c);
    peer_join(&p);
}

static void test_host_override_and_url_check(void **state)
{
    peer p = {.scripts = {serve_ok}, .nscripts = 1};
    fh_client *c = client_for(&p);
    fh_request *r = fh_request_new("GET", "http://example.test:8080/", NULL);
    assert_int_equal(fh_request_add_header(r, "Host", "virtual.test"), FH_OK);
    fh_response *resp = NULL;
    assert_int_equal(fh_client_send(c, r, &resp), FH_OK);
    fh_response_free(resp);
    assert_non_null(strstr(p.request[0], "GET / HTTP/1.1\r\nHost: virtual.test\r\n"));
    assert_null(strstr(p.request[0], "example.test")); /* exactly one Host field */
    char msg[128];
    assert_int_equal(fh_url_check("http://h:99999/", msg, sizeof msg), FH_EURL);
    assert_non_null(strstr(msg, "port"));
    assert_int_equal(fh_url_check("ftp://h/", msg, sizeof msg), FH_EUNSUPPORTED);
    assert_int_equal(fh_url_check("https://h/x", msg, sizeof msg), FH_OK);
    fh_request_free(r);
    fh_client_free(c);
    peer_join(&p);
}

static void test_expect_continue(void **state)
{
    script_fn scripts[] = {continue_then_ok, refuse_upload, silent_then_ok};
    int want_status[] = {200, 413, 200};
    for (int i = 0; i < 3; i++) {
        peer p = {.scripts = {scripts[i]}, .nscripts = 1};
        fh_client *c = client_for(&p);
        fh_request *r = fh_request_new("PUT", "http://example.test/up", NULL);
        fh_request_set_body(r, "hello", 5, 0);
        fh_request_set_expect_continue(r, 1, 150);
        fh_response *resp = NULL;
        assert_int_equal(fh_client_send(c, r, &resp), FH_OK);
        assert_int_equal(fh_response_status(resp), want_status[i]);
        fh_response_free(resp);
        fh_pool_stats st;
        fh_client_pool_stats(c, &st);
        assert_int_equal(st.idle, i == 1 ? 0 : 1); /* refused: the connection is closed */
        fh_request_free(r);
        fh_client_free(c);
        peer_join(&p);
        if (i == 0)
            assert_non_null(strstr(p.request[0], "Expect: 100-continue\r\n"));
        if (i != 1)
            assert_string_equal(p.request[1], "hello");
        else
            assert_string_equal(p.request[1], "0"); /* EOF: the body was never sent */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_external_loop_get),
        cmocka_unit_test(test_keep_alive_reuse_and_order),
        cmocka_unit_test(test_split_response_streamed),
        cmocka_unit_test(test_stale_connection_retried_for_get_only),
        cmocka_unit_test(test_cancel_frees_everything),
        cmocka_unit_test(test_chunked_upload_with_pause),
        cmocka_unit_test(test_chunked_lent_upload_with_pause),
        cmocka_unit_test(test_loopback_connect_goes_on_at_once),
        cmocka_unit_test(test_invalid_header_rejected_before_connect),
        cmocka_unit_test(test_host_override_and_url_check),
        cmocka_unit_test(test_expect_continue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
