/*
 * socket.c — fh_socket: a connection handed over after 101 Switching
 * Protocols (RFC 9110 §15.2.2). The HTTP/1.1 codec stopped reading right
 * after the 101 head; whatever the server sent after it is the new
 * protocol's and is returned first by fh_socket_read().
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

struct fh_socket {
    fh__conn *c;
};

int fh_response_take_socket(fh_response *resp, fh_socket **out)
{
    if (!resp || !out)
        return FH_EINVAL;
    *out = NULL;
    if (resp->xfer && resp->status == 101) {
        /* Stream mode: the (empty) body ends here, which hands the
         * connection from the codec to the response. */
        uint8_t b;
        ssize_t n = fh__ex_read_body(resp->xfer, &b, 1);
        if (n < 0)
            return (int)n;
        fh__engine_free_exchange(resp->xfer);
    }
    if (!resp->upgraded)
        return FH_ESTATE;
    fh_socket *s = malloc(sizeof *s);
    if (!s)
        return FH_ENOMEM;
    s->c = resp->upgraded;
    resp->upgraded = NULL;
    *out = s;
    return FH_OK;
}

int fh_socket_fd(const fh_socket *s)
{
    return s ? s->c->fd : FH_EINVAL;
}

void *fh_socket_ssl(const fh_socket *s)
{
    return s ? (void *)s->c->ssl : NULL;
}

size_t fh_socket_pending(const fh_socket *s)
{
    return s ? s->c->rbuf.len - s->c->rpos : 0;
}

ssize_t fh_socket_read(fh_socket *s, void *buf, size_t cap, int *want)
{
    if (!s || (!buf && cap))
        return FH_EINVAL;
    fh__conn *c = s->c;
    size_t have = c->rbuf.len - c->rpos;
    if (have) {
        size_t n = have < cap ? have : cap;
        memcpy(buf, c->rbuf.data + c->rpos, n);
        c->rpos += n;
        return (ssize_t)n;
    }
    int w = 0;
    char err[128];
    ssize_t n = fh__conn_read(c, buf, cap, &w, err, sizeof err);
    if (want)
        *want = w;
    return n;
}

ssize_t fh_socket_write(fh_socket *s, const void *buf, size_t len, int *want)
{
    if (!s || (!buf && len))
        return FH_EINVAL;
    struct iovec iov = {(void *)buf, len};
    int w = 0;
    char err[128];
    ssize_t n = fh__conn_writev(s->c, &iov, 1, &w, err, sizeof err);
    if (want)
        *want = w;
    return n;
}

void fh_socket_free(fh_socket *s)
{
    if (!s)
        return;
    fh__conn_close(s->c);
    free(s);
}
