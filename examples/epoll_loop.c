/*
 * epoll_loop.c — drives a libfasthttp engine from a plain epoll loop, the
 * way any event loop (libuv, asyncio, ...) can: the engine tells the loop
 * which fds to watch and when its one timer should fire; the loop reports
 * readiness back with fh_engine_socket_action().
 *
 *   fh_epoll_example URL [URL...]   fetches all URLs concurrently and prints
 *                                   "<status> <body bytes> <url>" per URL.
 */
/* clock_gettime() is POSIX: strict -std=c11 hides it without this. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>

#include "fasthttp/fasthttp.h"

typedef struct loop {
    int ep;
    int64_t timer_at_ms; /* -1: not armed */
    int failures;
} loop;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* fh_loop_ops.watch: add, modify or delete the fd in the epoll set. */
static int watch(void *ud, int fd, int events)
{
    loop *l = ud;
    struct epoll_event ev = {0};
    ev.data.fd = fd;
    ev.events = ((events & FH_WATCH_READ) ? EPOLLIN : 0) | ((events & FH_WATCH_WRITE) ? EPOLLOUT : 0);
    if (!events)
        return epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL) == 0 ? 0 : -1;
    if (epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev) == 0)
        return 0;
    return epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -1;
}

/* fh_loop_ops.timer: remember when the engine wants its timer. */
static int timer(void *ud, int64_t ms)
{
    loop *l = ud;
    l->timer_at_ms = ms < 0 ? -1 : now_ms() + ms;
    return 0;
}

static void on_done(void *ud, fh_request *req, int status, fh_response *resp)
{
    loop *l = ud;
    if (status) {
        printf("error %s %s: %s\n", fh_request_url(req), fh_strerror(status),
               fh_request_error_message(req));
        l->failures++;
        return;
    }
    size_t len;
    fh_response_body(resp, &len);
    printf("%d %zu %s\n", fh_response_status(resp), len, fh_request_url(req));
    fh_response_free(resp);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [URL...]\n", argv[0]);
        return 2;
    }
    loop l = {epoll_create1(EPOLL_CLOEXEC), -1, 0};
    fh_client *client = fh_client_new();
    fh_loop_ops ops = {watch, timer};
    fh_engine *e = fh_engine_new(client, &ops, &l);
    fh_request **reqs = calloc((size_t)argc, sizeof *reqs);
    fh_callbacks cb = {on_done, NULL};
    for (int i = 1; i < argc; i++) {
        int rc;
        reqs[i] = fh_request_new("GET", argv[i], &rc);
        if (!reqs[i] || (rc = fh_engine_submit(e, reqs[i], &cb, &l)) != FH_OK) {
            printf("error %s %s\n", argv[i], fh_strerror(rc));
            l.failures++;
        }
    }
    while (fh_engine_pending(e) > 0) {
        int tmo = -1;
        if (l.timer_at_ms >= 0) {
            int64_t d = l.timer_at_ms - now_ms();
            tmo = d < 0 ? 0 : (int)d;
        }
        struct epoll_event evs[64];
        int n = epoll_wait(l.ep, evs, 64, tmo);
        for (int i = 0; i < n; i++) {
            int ev = ((evs[i].events & EPOLLIN) ? FH_WATCH_READ : 0) |
                     ((evs[i].events & EPOLLOUT) ? FH_WATCH_WRITE : 0) |
                     ((evs[i].events & (EPOLLERR | EPOLLHUP)) ? FH_WATCH_ERROR : 0);
            fh_engine_socket_action(e, evs[i].data.fd, ev);
        }
        if (l.timer_at_ms >= 0 && now_ms() >= l.timer_at_ms) {
            l.timer_at_ms = -1;
            fh_engine_socket_action(e, FH_SOCKET_TIMEOUT, 0);
        }
    }
    fh_engine_free(e);
    for (int i = 1; i < argc; i++)
        fh_request_free(reqs[i]);
    free(reqs);
    fh_client_free(client);
    return l.failures ? 1 : 0;
}
