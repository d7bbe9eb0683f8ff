/*
 * test_ws.c — fh_ws on an engine against a WebSocket peer written here (a
 * thread on a loopback port: RFC 6455 handshake, then echo or a fault):
 * the blocking API, an external loop through fh_loop_ops, keepalive pings
 * and the pong timeout run by the engine's timers while nobody reads, the
 * close timeout, a refused handshake, wait hooks, and a deflate bomb ending
 * in 1009 with bounded memory. Descriptors are counted around every test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "fasthttp/fasthttp.h"
#include "support/fixtures.h"

enum { ECHO, NO_PONG, NO_CLOSE_ANSWER, REFUSE, BOMB };

typedef struct peer {
    int lfd, port, mode;
    pthread_t th;
    int pings, close_code, messages;
} peer;

static int g_fds;

static int setup(void **state)
{
    (void)state;
    g_fds = fh_test_count_fds();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(fh_test_count_fds(), g_fds);
    return 0;
}

static int read_n(int fd, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 10000) != 1)
            return -1;
        ssize_t r = recv(fd, buf + got, n - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static void send_frame(int fd, int op, const uint8_t *d, size_t n, int rsv1)
{
    uint8_t h[10];
    size_t k = 0;
    h[k++] = (uint8_t)(0x80 | (rsv1 ? 0x40 : 0) | op);
    if (n < 126) {
        h[k++] = (uint8_t)n;
    } else if (n < 65536) {
        h[k++] = 126;
        h[k++] = (uint8_t)(n >> 8);
        h[k++] = (uint8_t)n;
    } else {
        h[k++] = 127;
        for (int i = 7; i >= 0; i--)
            h[k++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    (void)!send(fd, h, k, MSG_NOSIGNAL);
    if (n)
        (void)!send(fd, d, n, MSG_NOSIGNAL);
}

/* RFC 6455 §4.2.2: the server's answer to the client's key. */
static int handshake(peer *p, int fd)
{
    char req[4096] = "";
    size_t n = 0;
    while (!strstr(req, "\r\n\r\n")) {
        ssize_t r = recv(fd, req + n, sizeof req - 1 - n, 0);
        if (r <= 0)
            return -1;
        n += (size_t)r;
        req[n] = 0;
    }
    if (p->mode == REFUSE) {
        const char *no = "HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\nX-Why: test\r\n\r\nno";
        (void)!send(fd, no, strlen(no), MSG_NOSIGNAL);
        return -1;
    }
    char *k = strcasestr(req, "sec-websocket-key:");
    if (!k)
        return -1;
    k += 18;
    while (*k == ' ')
        k++;
    char key[64] = {0};
    size_t kl = strcspn(k, "\r\n");
    memcpy(key, k, kl < 63 ? kl : 63);
    strcat(key, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    unsigned char md[20];
    unsigned int mdl;
    EVP_Digest(key, strlen(key), md, &mdl, EVP_sha1(), NULL);
    char acc[40];
    EVP_EncodeBlock((unsigned char *)acc, md, 20);
    char resp[512];
    snprintf(resp, sizeof resp,
             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: %s\r\n%s\r\n",
             acc, p->mode == BOMB ? "Sec-WebSocket-Extensions: permessage-deflate\r\n" : "");
    (void)!send(fd, resp, strlen(resp), MSG_NOSIGNAL);
    return 0;
}

/* 256 MiB of zeros as one compressed message (about 256 KiB). */
static void send_bomb(int fd)
{
    z_stream z = {0};
    deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY);
    static uint8_t zeros[1 << 16];
    size_t cap = 1 << 20, len = 0;
    uint8_t *out = malloc(cap);
    for (int i = 0; i < 4096; i++) {
        z.next_in = zeros;
        z.avail_in = sizeof zeros;
        do {
            if (cap - len < 65536)
                out = realloc(out, cap *= 2);
            z.next_out = out + len;
            z.avail_out = (uInt)(cap - len);
            deflate(&z, i == 4095 ? Z_SYNC_FLUSH : Z_NO_FLUSH);
            len = cap - z.avail_out;
        } while (z.avail_out == 0);
    }
    deflateEnd(&z);
    send_frame(fd, 2, out, len - 4, 1);
    free(out);
}

static void *peer_main(void *arg)
{
    peer *p = arg;
    struct pollfd lp = {p->lfd, POLLIN, 0};
    if (poll(&lp, 1, 10000) != 1)
        return NULL;
    int fd = accept(p->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    if (handshake(p, fd) == 0) {
        if (p->mode == BOMB)
            send_bomb(fd);
        for (;;) {
            uint8_t h[14];
            if (read_n(fd, h, 2) < 0)
                break;
            int op = h[0] & 15;
            uint64_t n = h[1] & 127;
            if (n == 126 && read_n(fd, h + 2, 2) == 0)
                n = (uint64_t)(h[2] << 8 | h[3]);
            else if (n == 127 && read_n(fd, h + 2, 8) == 0)
                for (int i = 0, j = 2; i < 8; i++, j++)
                    n = (i ? n << 8 : 0) | h[j];
            uint8_t mk[4];
            uint8_t *d = malloc(n ? n : 1);
            if (read_n(fd, mk, 4) < 0 || read_n(fd, d, n) < 0) {
                free(d);
                break;
            }
            for (uint64_t i = 0; i < n; i++)
                d[i] ^= mk[i % 4];
            if (op == 9) {
                p->pings++;
                if (p->mode != NO_PONG)
                    send_frame(fd, 10, d, n, 0);
            } else if (op == 8) {
                p->close_code = n >= 2 ? (d[0] << 8 | d[1]) : 1005;
                if (p->mode != NO_CLOSE_ANSWER) {
                    send_frame(fd, 8, d, n >= 2 ? 2 : 0, 0);
                    free(d);
                    break;
                }
            } else if (op == 1 || op == 2 || op == 0) {
                p->messages++;
                if (p->mode == ECHO)
                    send_frame(fd, op, d, n, 0);
            }
            free(d);
        }
    }
    close(fd);
    return NULL;
}

static peer *peer_start(int mode)
{
    peer *p = calloc(1, sizeof *p);
    p->mode = mode;
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(p->lfd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname(p->lfd, (struct sockaddr *)&a, &al);
    p->port = ntohs(a.sin_port);
    listen(p->lfd, 4);
    pthread_create(&p->th, NULL, peer_main, p);
    return p;
}

static void peer_stop(peer *p)
{
    pthread_join(p->th, NULL);
    close(p->lfd);
    free(p);
}

static fh_ws *ws_for(fh_client *c, peer *p)
{
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/t", p->port);
    int err = 0;
    fh_ws *ws = fh_ws_new(c, url, &err);
    assert_non_null(ws);
    return ws;
}

/* ---- blocking ---------------------------------------------------------------- */

static void test_blocking_echo(void **state)
{
    (void)state;
    peer *p = peer_start(ECHO);
    fh_client *c = fh_client_new();
    fh_ws *ws = ws_for(c, p);
    assert_int_equal(fh_ws_set_extensions(ws, ""), FH_OK);
    assert_int_equal(fh_ws_state(ws), FH_WS_CONNECTING);
    assert_int_equal(fh_ws_connect(ws), FH_OK);
    assert_int_equal(fh_ws_state(ws), FH_WS_OPEN);
    assert_null(fh_ws_subprotocol(ws));
    assert_null(fh_ws_extensions(ws));
    int type;
    const uint8_t *d;
    size_t n;
    assert_int_equal(fh_ws_send(ws, FH_WS_TEXT, "hello", 5, 1), FH_OK);
    assert_int_equal(fh_ws_recv(ws, &type, &d, &n), FH_OK);
    assert_int_equal(type, FH_WS_TEXT);
    assert_int_equal(n, 5);
    assert_memory_equal(d, "hello", 5);
    static uint8_t big[300000];
    memset(big, 7, sizeof big);
    assert_int_equal(fh_ws_send(ws, FH_WS_BINARY, big, sizeof big, 1), FH_OK);
    assert_int_equal(fh_ws_recv(ws, &type, &d, &n), FH_OK);
    assert_int_equal(type, FH_WS_BINARY);
    assert_int_equal(n, sizeof big);
    assert_int_equal(fh_ws_close(ws, 1000, "done", 4), FH_OK);
    assert_int_equal(fh_ws_state(ws), FH_WS_CLOSED);
    assert_int_equal(fh_ws_close_code(ws), 1000);
    assert_int_equal(fh_ws_recv(ws, &type, &d, &n), FH_EWS_CLOSED);
    assert_int_equal(fh_ws_send(ws, FH_WS_TEXT, "x", 1, 1), FH_EWS_CLOSED);
    assert_int_equal(fh_ws_close(ws, 1000, NULL, 0), FH_OK); /* again: harmless */
    fh_ws_free(ws);
    fh_client_free(c);
    peer_stop(p);
}

static void test_refused(void **state)
{
    (void)state;
    peer *p = peer_start(REFUSE);
    fh_client *c = fh_client_new();
    fh_ws *ws = ws_for(c, p);
    assert_int_equal(fh_ws_connect(ws), FH_EWS_HANDSHAKE);
    assert_int_equal(fh_ws_state(ws), FH_WS_CLOSED);
    const fh_response *r = fh_ws_handshake_response(ws);
    assert_non_null(r);
    assert_int_equal(fh_response_status(r), 403);
    size_t n;
    assert_non_null(fh_response_header(r, "x-why", &n));
    assert_non_null(strstr(fh_ws_error_message(ws), "403"));
    fh_ws_free(ws);
    fh_client_free(c);
    peer_stop(p);
}

static void test_bad_urls_and_options(void **state)
{
    (void)state;
    fh_client *c = fh_client_new();
    int err = 0;
    assert_null(fh_ws_new(c, "ftp://x/", &err));
    assert_int_equal(err, FH_EURL);
    assert_null(fh_ws_new(c, "ws://x/#frag", &err));
    assert_int_equal(err, FH_EURL);
    fh_ws *ws = fh_ws_new(c, "WSS://example.org/a?b", &err);
    assert_non_null(ws);
    assert_int_equal(fh_ws_add_subprotocol(ws, "bad proto"), FH_EINVAL);
    assert_int_equal(fh_ws_set_extensions(ws, "x-foo"), FH_EINVAL);
    assert_int_equal(fh_ws_set_option(ws, FH_WS_MAX_MESSAGE, 0), FH_EINVAL);
    assert_non_null(strstr(fh_ws_error_message(ws), "max_message"));
    assert_int_equal(fh_ws_option_default(FH_WS_MAX_MESSAGE), 16 << 20);
    int type;
    const uint8_t *d;
    size_t n;
    assert_int_equal(fh_ws_recv(ws, &type, &d, &n), FH_ESTATE);
    assert_int_equal(fh_ws_send(ws, FH_WS_TEXT, "x", 1, 1), FH_ESTATE);
    fh_ws_free(ws);
    fh_client_free(c);
}

static int stop_after_two(void *ud)
{
    int *calls = ud;
    return ++*calls >= 2 ? -77 : 0;
}

static void test_wait_hook_stops_recv(void **state)
{
    (void)state;
    peer *p = peer_start(ECHO);
    fh_client *c = fh_client_new();
    fh_ws *ws = ws_for(c, p);
    assert_int_equal(fh_ws_connect(ws), FH_OK);
    int calls = 0;
    fh_wait_hooks h;
    fh_wait_hooks_init(&h);
    h.on_wait = stop_after_two;
    h.interval_ms = 20;
    h.ud = &calls;
    fh_ws_set_wait_hooks(ws, &h);
    int type;
    const uint8_t *d;
    size_t n;
    assert_int_equal(fh_ws_recv(ws, &type, &d, &n), -77);
    assert_int_equal(fh_ws_state(ws), FH_WS_OPEN); /* nothing lost */
    fh_ws_set_wait_hooks(ws, NULL);
    assert_int_equal(fh_ws_send(ws, FH_WS_TEXT, "still", 5, 1), FH_OK);
    assert_int_equal(fh_ws_recv(ws, &type, &d, &n), FH_OK);
    assert_int_equal(n, 5);
    fh_ws_close(ws, 1000, NULL, 0);
    fh_ws_free(ws);
    fh_client_free(c);
    peer_stop(p);
}

/* ---- an external loop (fh_loop_ops over poll) --------------------------------- */

typedef struct loop {
    int fd[16], ev[16], n;
    int64_t timer_ms; /* -1 none */
} loop;

static int lw(void *ud, int fd, int events)
{
    loop *l = ud;
    for (int i = 0; i < l->n; i++)
        if (l->fd[i] == fd) {
            if (!events) {
                l->fd[i] = l->fd[--l->n];
                l->ev[i] = l->ev[l->n];
            } else {
                l->ev[i] = events;
            }
            return 0;
        }
    if (events) {
        l->fd[l->n] = fd;
        l->ev[l->n++] = events;
    }
    return 0;
}

static int lt(void *ud, int64_t ms)
{
    ((loop *)ud)->timer_ms = ms;
    return 0;
}

static void loop_turn(loop *l, fh_engine *e)
{
    struct pollfd p[16];
    for (int i = 0; i < l->n; i++)
        p[i] = (struct pollfd){l->fd[i],
                               (short)(((l->ev[i] & FH_WATCH_READ) ? POLLIN : 0) |
                                       ((l->ev[i] & FH_WATCH_WRITE) ? POLLOUT : 0)),
                               0};
    int n = l->n;
    int r = poll(p, (nfds_t)n, l->timer_ms < 0 ? 1000 : (int)l->timer_ms);
    for (int i = 0; r > 0 && i < n; i++)
        if (p[i].revents)
            fh_engine_socket_action(e, p[i].fd,
                                    ((p[i].revents & POLLIN) ? FH_WATCH_READ : 0) |
                                        ((p[i].revents & POLLOUT) ? FH_WATCH_WRITE : 0));
    if (r == 0 && l->timer_ms >= 0) {
        l->timer_ms = -1;
        fh_engine_socket_action(e, FH_SOCKET_TIMEOUT, 0);
    }
}

typedef struct evlog {
    int open, closed, messages, all;
    char last[32];
} evlog;

static void on_ev(void *ud, fh_ws *ws, int ev)
{
    evlog *g = ud;
    g->all |= ev;
    if (ev & FH_WS_EV_OPEN)
        g->open++;
    if (ev & FH_WS_EV_CLOSED)
        g->closed++;
    int type;
    const uint8_t *d;
    size_t n;
    while (fh_ws_recv(ws, &type, &d, &n) == FH_OK) {
        g->messages++;
        snprintf(g->last, sizeof g->last, "%.*s", (int)n, (const char *)d);
    }
}

static void test_external_loop(void **state)
{
    (void)state;
    peer *p = peer_start(ECHO);
    fh_client *c = fh_client_new();
    loop l = {.timer_ms = -1};
    fh_loop_ops ops = {lw, lt};
    fh_engine *e = fh_engine_new(c, &ops, &l);
    fh_ws *ws = ws_for(c, p);
    evlog g = {0};
    assert_int_equal(fh_ws_start(ws, e, on_ev, &g), FH_OK);
    assert_int_equal(g.open, 0); /* never inside the call */
    for (int i = 0; i < 200 && !g.open; i++)
        loop_turn(&l, e);
    assert_int_equal(g.open, 1);
    assert_int_equal(fh_ws_state(ws), FH_WS_OPEN);
    for (int k = 0; k < 3; k++) {
        char m[16];
        snprintf(m, sizeof m, "msg %d", k);
        assert_int_equal(fh_ws_send(ws, FH_WS_TEXT, m, strlen(m), 1), FH_OK);
    }
    for (int i = 0; i < 200 && g.messages < 3; i++)
        loop_turn(&l, e);
    assert_int_equal(g.messages, 3);
    assert_string_equal(g.last, "msg 2");
    assert_int_equal(fh_ws_close(ws, 1001, NULL, 0), FH_OK); /* returns at once */
    for (int i = 0; i < 200 && !g.closed; i++)
        loop_turn(&l, e);
    assert_int_equal(g.closed, 1);
    assert_int_equal(fh_ws_close_code(ws), 1001);
    assert_int_equal(l.n, 0); /* nothing left watched */
    fh_ws_free(ws);
    fh_engine_free(e);
    fh_client_free(c);
    peer_stop(p);
}

/* ---- timers: keepalive and close timeout --------------------------------------- */

static void test_keepalive_detects_a_dead_peer(void **state)
{
    (void)state;
    peer *p = peer_start(NO_PONG);
    fh_client *c = fh_client_new();
    fh_engine *e = fh_engine_new(c, NULL, NULL);
    fh_ws *ws = ws_for(c, p);
    fh_ws_set_option(ws, FH_WS_PING_INTERVAL, 50);
    fh_ws_set_option(ws, FH_WS_PONG_TIMEOUT, 150);
    evlog g = {0};
    assert_int_equal(fh_ws_start(ws, e, on_ev, &g), FH_OK);
    /* Nobody calls fh_ws_recv: only the engine runs. */
    for (int i = 0; i < 100 && !g.closed; i++)
        fh_engine_poll(e, 100);
    assert_int_equal(g.closed, 1);
    assert_int_equal(fh_ws_status(ws), FH_ETIMEOUT_READ);
    assert_int_equal(fh_ws_close_code(ws), 1006);
    assert_non_null(strstr(fh_ws_error_message(ws), "keepalive"));
    fh_ws_free(ws);
    fh_engine_free(e);
    fh_client_free(c);
    peer_stop(p);
    /* p is freed: the ping count was checked by the close having happened */
}

static void test_keepalive_keeps_a_live_peer(void **state)
{
    (void)state;
    peer *p = peer_start(ECHO);
    fh_client *c = fh_client_new();
    fh_engine *e = fh_engine_new(c, NULL, NULL);
    fh_ws *ws = ws_for(c, p);
    fh_ws_set_option(ws, FH_WS_PING_INTERVAL, 20);
    fh_ws_set_option(ws, FH_WS_PONG_TIMEOUT, 500);
    evlog g = {0};
    assert_int_equal(fh_ws_start(ws, e, on_ev, &g), FH_OK);
    for (int i = 0; i < 40; i++)
        fh_engine_poll(e, 10);
    assert_int_equal(fh_ws_state(ws), FH_WS_OPEN);
    assert_true(p->pings >= 5);
    fh_ws_free(ws);
    fh_engine_free(e);
    fh_client_free(c);
    peer_stop(p);
}

static void test_close_timeout(void **state)
{
    (void)state;
    peer *p = peer_start(NO_CLOSE_ANSWER);
    fh_client *c = fh_client_new();
    fh_ws *ws = ws_for(c, p);
    fh_ws_set_option(ws, FH_WS_CLOSE_TIMEOUT, 200);
    assert_int_equal(fh_ws_connect(ws), FH_OK);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(fh_ws_close(ws, 1000, NULL, 0), FH_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms >= 150 && ms < 2000);
    assert_int_equal(fh_ws_state(ws), FH_WS_CLOSED);
    assert_int_equal(fh_ws_close_code(ws), 1006); /* no close frame came back */
    assert_int_equal(fh_ws_close_code_sent(ws), 1000);
    fh_ws_free(ws);
    fh_client_free(c);
    peer_stop(p);
}

/* ---- a deflate bomb ------------------------------------------------------------- */

static void test_deflate_bomb_bounded(void **state)
{
    (void)state;
    peer *p = peer_start(BOMB);
    fh_client *c = fh_client_new();
    fh_ws *ws = ws_for(c, p);
    long before = fh_test_maxrss_kib();
    assert_int_equal(fh_ws_connect(ws), FH_OK);
    assert_non_null(fh_ws_extensions(ws));
    int type;
    const uint8_t *d;
    size_t n;
    assert_int_equal(fh_ws_recv(ws, &type, &d, &n), FH_EWS_PROTO);
    assert_int_equal(fh_ws_close_code_sent(ws), 1009);
    long grown = fh_test_maxrss_kib() - before;
    assert_true(grown < 48 * 1024); /* 256 MiB inflated would be far more */
    fh_ws_close(ws, 1000, NULL, 0);
    fh_ws_free(ws);
    fh_client_free(c);
    peer_stop(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_blocking_echo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_urls_and_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_hook_stops_recv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_external_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keepalive_detects_a_dead_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keepalive_keeps_a_live_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deflate_bomb_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
