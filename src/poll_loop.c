/*
 * poll_loop.c — the built-in driver: one poll(2) over the engine's watched
 * fds. It serves the blocking API, where a call has one or a few sockets, so
 * poll's O(n) scan costs nothing and no epoll instance has to be created
 * per call. Engines with many sockets are better driven by an external
 * loop (epoll, libuv, asyncio) through fh_loop_ops, or switch the
 * built-in loop to its epoll backend (fh_engine_backend_fd) and let an
 * outer loop watch that single descriptor.
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Fills *pfds with the watched fds. *pfds starts as a stack array of *cap
 * entries and moves to the heap only when more fds are watched. The scan
 * stops at fd_hi, lowered here past fds no longer watched: the table has at
 * least 64 entries, and a blocking call watches one or two low fds. */
static int collect(fh_engine *e, struct pollfd **pfds, size_t *cap, struct pollfd *stackbuf)
{
    int n = 0;
    while (e->fd_hi && !e->fds[e->fd_hi - 1].events)
        e->fd_hi--;
    for (size_t fd = 0; fd < e->fd_hi; fd++) {
        int ev = e->fds[fd].events;
        if (!ev)
            continue;
        if ((size_t)n == *cap) {
            size_t nc = *cap * 2;
            struct pollfd *p = malloc(nc * sizeof *p);
            if (!p)
                return FH_ENOMEM;
            memcpy(p, *pfds, (size_t)n * sizeof *p);
            if (*pfds != stackbuf)
                free(*pfds);
            *pfds = p;
            *cap = nc;
        }
        (*pfds)[n].fd = (int)fd;
        (*pfds)[n].events = (short)(((ev & FH_WATCH_READ) ? POLLIN : 0) |
                                    ((ev & FH_WATCH_WRITE) ? POLLOUT : 0));
        (*pfds)[n].revents = 0;
        n++;
    }
    return n;
}

static int poll_timeout(fh_engine *e, int64_t timeout_ms)
{
    if (!e->timer_at)
        return timeout_ms < 0 ? -1 : (int)timeout_ms;
    int64_t now = fh__now_us();
    int64_t ms = e->timer_at <= now ? 0 : (e->timer_at - now + 999) / 1000;
    if (timeout_ms >= 0 && timeout_ms < ms)
        ms = timeout_ms;
    return ms > 60000 ? 60000 : (int)ms;
}

int fh_engine_backend_fd(fh_engine *e)
{
    if (!e || !e->builtin)
        return FH_EINVAL;
    fh__engine_check_fork(e); /* an inherited epoll instance is the parent's */
    if (e->epfd >= 0)
        return e->epfd;
    e->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (e->epfd < 0)
        return FH_ELOOP;
    /* Register what is already watched; later changes go through epoll_ctl. */
    for (size_t fd = 0; fd < e->nfds; fd++) {
        int ev = e->fds[fd].events;
        struct epoll_event ee = {0};
        ee.data.fd = (int)fd;
        ee.events = ((ev & FH_WATCH_READ) ? EPOLLIN : 0) | ((ev & FH_WATCH_WRITE) ? EPOLLOUT : 0);
        if (ev && epoll_ctl(e->epfd, EPOLL_CTL_ADD, (int)fd, &ee) < 0)
            return FH_ELOOP;
    }
    return e->epfd;
}

int64_t fh_engine_timeout(const fh_engine *e)
{
    if (e && e->gen != fh__fork_gen())
        return 0; /* inherited: the next poll fails what was in flight */
    if (!e || !e->timer_at)
        return -1;
    int64_t now = fh__now_us();
    return e->timer_at <= now ? 0 : (e->timer_at - now + 999) / 1000;
}

static int to_events(uint32_t re)
{
    return ((re & EPOLLIN) ? FH_WATCH_READ : 0) | ((re & EPOLLOUT) ? FH_WATCH_WRITE : 0) |
           ((re & (EPOLLERR | EPOLLHUP)) ? FH_WATCH_ERROR : 0);
}

/* The epoll backend: one epoll_wait, then every ready socket. */
static int poll_epoll(fh_engine *e, int64_t timeout_ms)
{
    struct epoll_event evs[64];
    int r = epoll_wait(e->epfd, evs, 64, poll_timeout(e, timeout_ms));
    if (r < 0 && errno != EINTR)
        return FH_ELOOP;
    for (int i = 0; i < r; i++) {
        int fd = evs[i].data.fd;
        if ((size_t)fd < e->nfds && e->fds[fd].events)
            fh_engine_socket_action(e, fd, to_events(evs[i].events));
    }
    if (r <= 0 || (e->timer_at && e->timer_at <= fh__now_us()))
        fh_engine_socket_action(e, FH_SOCKET_TIMEOUT, 0);
    return (int)e->nlive;
}

int fh_engine_poll(fh_engine *e, int64_t timeout_ms)
{
    if (!e || !e->builtin)
        return FH_EINVAL;
    fh__engine_check_fork(e);
    if (e->epfd >= 0)
        return poll_epoll(e, timeout_ms);
    struct pollfd stackbuf[8];
    struct pollfd *pfds = stackbuf;
    size_t cap = 8;
    int n = collect(e, &pfds, &cap, stackbuf);
    if (n < 0) {
        if (pfds != stackbuf)
            free(pfds);
        return n;
    }
    int tmo = poll_timeout(e, timeout_ms);
    int r = poll(pfds, (nfds_t)n, tmo);
    if (r < 0 && errno != EINTR) {
        if (pfds != stackbuf)
            free(pfds);
        return FH_ELOOP;
    }
    for (int i = 0; r > 0 && i < n; i++) {
        short re = pfds[i].revents;
        if (!re)
            continue;
        int ev = ((re & POLLIN) ? FH_WATCH_READ : 0) | ((re & POLLOUT) ? FH_WATCH_WRITE : 0) |
                 ((re & (POLLERR | POLLHUP | POLLNVAL)) ? FH_WATCH_ERROR : 0);
        /* An earlier callback in this batch may have stopped watching it. */
        if ((size_t)pfds[i].fd < e->nfds && e->fds[pfds[i].fd].events)
            fh_engine_socket_action(e, pfds[i].fd, ev);
    }
    if (pfds != stackbuf)
        free(pfds);
    /* Due timers and transfers started from callbacks run here. */
    if (r <= 0 || (e->timer_at && e->timer_at <= fh__now_us()))
        fh_engine_socket_action(e, FH_SOCKET_TIMEOUT, 0);
    return (int)e->nlive;
}

/* ---- blocking calls -------------------------------------------------------- */

/*
 * A blocking call (fh_client_send_with, fh_response_read of a blocking
 * stream) runs its private engine here, one turn at a time, and between
 * turns runs the caller's hooks on the caller's thread: on_wait when its
 * interval passed, on_body_paused when the request's body reader returned
 * FH_EAGAIN. The poll never sleeps past the next on_wait, so a caller that
 * must react to signals does within one interval; without on_wait it
 * sleeps until the engine has something to do.
 */
void fh__block_begin(fh__block *b, fh_engine *e, fh_request *req, const fh_wait_hooks *hooks)
{
    b->engine = e;
    b->req = req;
    b->hooks = hooks && (hooks->on_wait || hooks->on_body_paused) ? hooks : NULL;
    b->why = NULL;
    b->next_us = b->hooks && b->hooks->on_wait && b->hooks->interval_ms > 0
                     ? fh__now_us() + b->hooks->interval_ms * 1000
                     : 0;
}

int fh__block_wait(fh__block *b)
{
    const fh_wait_hooks *h = b->hooks;
    fh__exchange *x = b->req ? b->req->xfer : NULL;
    if (x && x->body_paused && x->engine == b->engine) {
        if (!h || !h->on_body_paused) {
            b->why = "the request body reader returned FH_EAGAIN in a blocking call that "
                     "has no on_body_paused hook";
            return FH_EBODY_SOURCE;
        }
        int rc = h->on_body_paused(h->ud, b->req);
        if (rc < 0)
            return rc;
        return fh_engine_resume(b->engine, b->req) == FH_OK ? FH_OK : FH_ELOOP;
    }
    int64_t ms = -1;
    if (b->next_us) {
        int64_t now = fh__now_us();
        if (now >= b->next_us) {
            int rc = h->on_wait(h->ud);
            if (rc < 0)
                return rc;
            now = fh__now_us();
            b->next_us = now + h->interval_ms * 1000;
        }
        ms = (b->next_us - now + 999) / 1000;
    }
    return fh_engine_poll(b->engine, ms) < 0 ? FH_ELOOP : FH_OK;
}
