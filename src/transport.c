/*
 * transport.c — the byte pipe under a connection: a non-blocking TCP socket,
 * optionally wrapped in TLS. Reads and writes never block and never raise
 * SIGPIPE (MSG_NOSIGNAL), because a library must not change process-wide
 * signal dispositions.
 */
#include "internal.h"
#include "conninfo.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

int64_t fh__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int fh__tcp_connect(const fh__addr *addr, char *err, size_t errlen)
{
    int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return FH_ECONNECT;
    }
    /* Requests are written in one go and answered at once; Nagle's delay
     * would only add latency to small writes (RFC 896 trade-off). */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0 && errno != EINPROGRESS) {
        snprintf(err, errlen, "connect: %s", strerror(errno));
        close(fd);
        return FH_ECONNECT;
    }
    return fd;
}

int fh__tcp_connect_result(int fd, char *err, size_t errlen)
{
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
        soerr = errno;
    if (soerr == 0)
        return FH_OK;
    if (soerr == EINPROGRESS || soerr == EALREADY)
        return FH_EAGAIN;
    snprintf(err, errlen, "%s", strerror(soerr));
    return FH_ECONNECT;
}

int fh__tcp_connected_now(int fd, struct sockaddr_storage *peer, socklen_t *len)
{
    *len = sizeof *peer;
    if (getpeername(fd, (struct sockaddr *)peer, len) == 0)
        return 1;
    *len = 0; /* ENOTCONN: the handshake is still on its way (or failed) */
    return 0;
}

fh__conn *fh__conn_new(int fd)
{
    fh__conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    c->max_streams = 1;
    c->gen = fh__fork_gen();
    return c;
}

void fh__conn_close(fh__conn *c)
{
    if (!c)
        return;
    if (c->flush_due && c->engine)
        fh__engine_cancel_flush(c->engine, c);
    if (c->codec)
        c->codec->free(c);
    fh__tls_sessions_detach(c);
    if (c->ssl)
        fh__tls_conn_free(c->ssl);
    if (c->proxy_ssl) /* after the origin's session, whose close_notify goes through it */
        fh__tls_conn_free(c->proxy_ssl);
    if (c->route || c->phs)
        fh__proxy_conn_free(c);
    if (c->fd >= 0)
        close(c->fd);
    fh__buf_free(&c->rbuf);
    fh__addrs_free(&c->addrs);
    fh__conninfo_unref(c->info);
    free(c->hostname);
    free(c);
}

void fh__conn_close_quiet(fh__conn *c)
{
    if (!c)
        return;
    if (c->ssl)
        SSL_set_quiet_shutdown(c->ssl, 1); /* fh__tls_conn_free then skips SSL_shutdown */
    if (c->proxy_ssl)
        SSL_set_quiet_shutdown(c->proxy_ssl, 1);
    fh__conn_close(c);
}

/* TLS inside a proxy's TLS: reads until the origin's session wants the
 * socket (or len is filled). A single read could leave whole records in the
 * proxy session's buffer, where no socket readiness would ever announce
 * them. */
static ssize_t tunnel_read(fh__conn *c, uint8_t *buf, size_t len, int *want, char *err,
                           size_t errlen)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = fh__tls_read(c->ssl, buf + got, len - got, want, err, errlen);
        if (n <= 0)
            return got ? (ssize_t)got : n;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

ssize_t fh__conn_read(fh__conn *c, void *buf, size_t len, int *want, char *err, size_t errlen)
{
    if (c->ssl)
        return c->proxy_ssl ? tunnel_read(c, buf, len, want, err, errlen)
                            : fh__tls_read(c->ssl, buf, len, want, err, errlen);
    for (;;) {
        ssize_t n = recv(c->fd, buf, len, 0);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            *want = FH_WATCH_READ;
            return FH_EAGAIN;
        }
        snprintf(err, errlen, "recv: %s", strerror(errno));
        return errno == ECONNRESET ? FH_ECLOSED : FH_EIO;
    }
}

static ssize_t tls_writev(fh__conn *c, const struct iovec *iov, int iovcnt, int *want, char *err,
                          size_t errlen)
{
    /* TLS records are built per SSL_write; writing the first non-empty
     * buffer is enough because the caller loops until everything is sent. */
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len)
            return fh__tls_write(c->ssl, iov[i].iov_base, iov[i].iov_len, want, err, errlen);
    }
    return 0;
}

ssize_t fh__conn_writev(fh__conn *c, const struct iovec *iov, int iovcnt, int *want, char *err,
                        size_t errlen)
{
    if (c->ssl)
        return tls_writev(c, iov, iovcnt, want, err, errlen);
    struct msghdr msg = {0};
    msg.msg_iov = (struct iovec *)iov;
    msg.msg_iovlen = (size_t)iovcnt;
    for (;;) {
        ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            *want = FH_WATCH_WRITE;
            return FH_EAGAIN;
        }
        snprintf(err, errlen, "send: %s", strerror(errno));
        return (errno == EPIPE || errno == ECONNRESET) ? FH_ECLOSED : FH_EIO;
    }
}

int fh__conn_alive(fh__conn *c)
{
    if (c->codec == &fh__h2_codec)
        return fh__h2_alive(c);
    /* An idle HTTP/1.1 connection must have nothing to read: EOF means the
     * server closed it, and bytes (or a TLS alert) mean it is about to. */
    if (c->rbuf.len > c->rpos)
        return 0;
    char b;
    ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* ---- the receive low-water mark ---------------------------------------------------------- */

/* Reading a large body as fast as it arrives wakes the reader for every few
 * segments: on loopback and in virtual machines the wake-up (an IPI, a VM
 * exit on the sender's CPU) costs more than the copy, and the sender slows
 * down waiting for it. With SO_RCVLOWAT raised, poll/epoll report the socket
 * only once that many bytes are queued, and since Linux 4.18 the kernel also
 * skips the wake-ups below the mark (tcp_data_ready), grows the receive
 * buffer so the mark fits in the window, and acknowledges at once while
 * below it, so the sender never waits for a window the mark holds shut.
 * Older kernels lack those guarantees, so the mark is left alone there. */
static int lowat_supported(void)
{
#ifdef __linux__
    /* 0 unknown, 1 yes, -1 no; engines on several threads may race to
     * compute it, which is harmless, but the accesses must be atomic. */
    static int known;
    int k = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (!k) {
        struct utsname u;
        int major = 0, minor = 0;
        k = (uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
             (major > 4 || (major == 4 && minor >= 18)))
                ? 1
                : -1;
        __atomic_store_n(&known, k, __ATOMIC_RELAXED);
    }
    return k > 0;
#else
    return 0;
#endif
}

int fh__conn_set_lowat(fh__conn *c, int bytes)
{
    int now = c->lowat > 1 ? c->lowat : 1;
    if (bytes < 1)
        bytes = 1;
    if (bytes == now || (bytes > 1 && (c->lowat_off || c->fd < 0 || !lowat_supported())))
        return 0;
    if (setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes) == 0) {
        c->lowat = bytes;
        return 0;
    }
    c->lowat_off = 1; /* not raised: nothing held back; not lowered: unusable */
    return bytes > 1 ? 0 : -1;
}

int fh__conn_lowat_rescue(fh__conn *c)
{
    int queued = 0;
    if (c->lowat <= 1 || ioctl(c->fd, FIONREAD, &queued) < 0 || queued <= 0)
        return 0;
    /* Setting the mark wakes the socket's waiters when bytes are queued
     * (tcp_set_rcvlowat calls tcp_data_ready), so the loop reads them. */
    if (fh__conn_set_lowat(c, 1) < 0)
        return 0;
    c->lowat_off = 1;
    return 1;
}
