/*
 * fuzz_h2.c — libFuzzer target for the HTTP/2 glue (src/h2_codec.c and
 * what it drives: the exchange, body, policy and pool paths) with a whole
 * client engine: arbitrary bytes from the server.
 *
 * Input: one control byte, then what the server sends. The control byte
 * picks whether a valid server preface (an empty SETTINGS and the ACK of
 * ours, RFC 9113 §3.4) comes before the bytes, how many requests (1 to 3)
 * run by prior knowledge, whether the first is streamed (read in small
 * pieces, as a slow reader would) and whether the second is a POST with a
 * body. The bytes are written into a socketpair before the engine runs and
 * the server's side is shut down for writing, so each iteration runs
 * without threads and ends at EOF at the latest: the engine must finish,
 * within a bound (a hang, or a request that fails only at its total
 * timeout, traps), with every response freed and every
 * socket closed (a leaked descriptor traps; memory leaks are LeakSanitizer's).
 * Connections opened after the first (retries of refused streams) see EOF
 * at once.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fasthttp/fasthttp.h"

#define CHECK(x)                                                                           \
    do {                                                                                   \
        if (!(x))                                                                          \
            __builtin_trap();                                                              \
    } while (0)

#define MAX_CONNS 64

typedef struct run {
    const uint8_t *data;
    size_t len;
    int preface;
    int client_fd[MAX_CONNS], server_fd[MAX_CONNS];
    int nconns;
    int open_streams;
} run;

/* The server's preface: SETTINGS (empty), then SETTINGS with ACK. */
static const uint8_t server_preface[] = {0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0};

static void put(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w <= 0)
            return; /* the buffer is full: the rest is cut, which is an input too */
        p += w;
        n -= (size_t)w;
    }
}

static int hook(void *ud, const char *host, int port)
{
    (void)host;
    (void)port;
    run *r = ud;
    int sv[2];
    if (r->nconns == MAX_CONNS ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
        return FH_ECONNECT;
    if (r->nconns == 0) {
        if (r->preface)
            put(sv[1], server_preface, sizeof server_preface);
        put(sv[1], r->data, r->len);
    }
    shutdown(sv[1], SHUT_WR); /* EOF after the input */
    r->client_fd[r->nconns] = sv[0];
    r->server_fd[r->nconns++] = sv[1];
    return sv[0];
}

/* Reads what a streamed body has now, 7 bytes at a time; frees the
 * response at its end or error. */
static void drain(run *r, fh_response *resp)
{
    uint8_t buf[7];
    for (;;) {
        ssize_t n = fh_response_read(resp, buf, sizeof buf);
        if (n == FH_EAGAIN)
            return;
        CHECK(n <= (ssize_t)sizeof buf);
        CHECK(n != FH_ETIMEOUT_TOTAL);
        if (n <= 0) {
            fh_response_free(resp);
            r->open_streams--;
            return;
        }
    }
}

typedef struct slot {
    run *r;
    int stream;
    fh_response *resp; /* a streamed response still being read */
} slot;

static void on_done(void *ud, fh_request *req, int status, fh_response *resp)
{
    (void)req;
    slot *s = ud;
    if (getenv("FUZZ_H2_DEBUG"))
        fprintf(stderr, "done %d: %s\n", status, fh_request_error_message(req));
    if (status != FH_OK) {
        CHECK(resp == NULL && status < 0);
        /* The server's side always ends in EOF, so nothing may wait for
         * a timeout: a stream left waiting is a stream nobody failed. */
        CHECK(status != FH_ETIMEOUT_TOTAL);
        return;
    }
    CHECK(fh_response_version(resp) == 20);
    if (!s->stream) {
        fh_response_free(resp);
        return;
    }
    s->resp = resp;
    s->r->open_streams++;
    drain(s->r, resp);
}

static void on_body(void *ud, fh_response *resp)
{
    slot *s = ud;
    drain(s->r, resp);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int is_open(const run *r, int fd)
{
    for (int i = 0; i < r->nconns; i++)
        if (r->server_fd[i] == fd)
            return 0; /* that number is the server's now */
    return fcntl(fd, F_GETFD) != -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    run r = {.data = data + 1, .len = size - 1, .preface = ctl & 1};
    int nreq = 1 + (ctl >> 2 & 3) % 3;
    fh_client *c = fh_client_new();
    CHECK(c);
    fh_client_set_http2(c, FH_HTTP2_ONLY);
    fh_client_set_connect_hook(c, hook, &r);
    /* Small limits reach the limit paths; the deadline bounds everything
     * (a refused stream goes again until it). */
    fh_client_set_limit(c, FH_LIMIT_HEADER_BYTES, 2048);
    fh_client_set_limit(c, FH_LIMIT_HEADER_COUNT, 20);
    fh_client_set_limit(c, FH_LIMIT_BODY_BYTES, 4096);
    fh_client_set_timeout(c, FH_TIMEOUT_TOTAL, 1000);
    fh_engine *e = fh_engine_new(c, NULL, NULL);
    CHECK(e);
    fh_request *req[3] = {0};
    slot slots[3] = {{0}};
    static const fh_callbacks cb = {on_done, on_body};
    for (int i = 0; i < nreq; i++) {
        int post = i == 1 && (ctl & 16);
        req[i] = fh_request_new(post ? "POST" : "GET", i ? "http://h2.fuzz/b" : "http://h2.fuzz/a",
                                NULL);
        CHECK(req[i]);
        if (post)
            fh_request_set_body(req[i], "field=value", 11, 0);
        slots[i] = (slot){&r, i == 0 && (ctl & 2), NULL};
        if (slots[i].stream)
            fh_request_set_stream(req[i], 1);
        CHECK(fh_engine_submit(e, req[i], &cb, &slots[i]) == FH_OK);
    }
    int64_t end = now_ms() + 5000;
    while (fh_engine_pending(e) || r.open_streams) {
        CHECK(now_ms() < end); /* a hang */
        CHECK(fh_engine_poll(e, 50) >= 0);
    }
    fh_engine_free(e);
    for (int i = 0; i < nreq; i++)
        fh_request_free(req[i]);
    fh_client_free(c);
    for (int i = 0; i < r.nconns; i++)
        CHECK(!is_open(&r, r.client_fd[i])); /* the client closed its sockets */
    for (int i = 0; i < r.nconns; i++)
        close(r.server_fd[i]);
    return 0;
}
