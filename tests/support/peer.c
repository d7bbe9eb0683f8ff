/*
 * peer.c — the scripted raw-socket peer (see peer.h).
 *
 * Threads: one acceptor, one worker per connection. All waits go through
 * wait_fd(), which also polls the stop pipe: once fh_peer_stop() writes to
 * it, the pipe stays readable and every thread unwinds at its next wait.
 */
#include "support/peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define MiB ((size_t)1 << 20)

typedef struct peer_conn {
    fh_peer *p;
    int fd;
    int index;
    pthread_t th;
    int started;
    char *buf; /* bytes received and not yet consumed by a READ step */
    size_t len, cap;
} peer_conn;

typedef struct peer_req {
    char *data;
    size_t len;
    int conn;
} peer_req;

struct fh_peer {
    int lfd, port;
    int stop_pipe[2];
    pthread_t acceptor;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping;
    fh_peer_step **scripts;
    size_t nscripts;
    peer_conn **conns;
    size_t nconns, capconns;
    peer_req *reqs;
    size_t nreqs, capreqs;
    uint8_t *bomb_seg; /* raw deflate of 1 MiB of zeros, ending byte-aligned */
    size_t bomb_seg_len;
};

static int debug_on(void)
{
    return getenv("FH_PEER_DEBUG") != NULL;
}

static void dbg(const peer_conn *c, const char *what)
{
    if (debug_on())
        fprintf(stderr, "peer: conn %d: %s\n", c->index, what);
}

/* ---- waiting ------------------------------------------------------------ */

/* Waits for ev on fd (fd < 0: just sleep) up to ms (-1: forever).
 * Returns 1 ready, 0 timed out, -1 stop requested. */
static int wait_fd(fh_peer *p, int fd, short ev, int ms)
{
    struct pollfd pf[2] = {{p->stop_pipe[0], POLLIN, 0}, {fd, ev, 0}};
    for (;;) {
        int r = poll(pf, 2, ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || pf[0].revents)
            return -1;
        return r > 0 ? 1 : 0;
    }
}

static int send_all(peer_conn *c, const void *data, size_t len)
{
    const char *s = data;
    while (len > 0) {
        ssize_t n = send(c->fd, s, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            s += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(c->p, c->fd, POLLOUT, -1) < 0)
                return -1;
        } else {
            dbg(c, "send failed (client gone?)");
            return -1;
        }
    }
    return 0;
}

/* Receives more bytes into c->buf. Returns >0, 0 on EOF, -1 on error/stop. */
static ssize_t recv_more(peer_conn *c)
{
    if (c->cap - c->len < 16384) {
        size_t ncap = c->cap ? c->cap * 2 : 65536;
        char *nb = realloc(c->buf, ncap + 1);
        if (!nb)
            return -1;
        c->buf = nb;
        c->cap = ncap;
    }
    for (;;) {
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
        if (n >= 0) {
            c->len += (size_t)n;
            c->buf[c->len] = '\0';
            return n;
        }
        if (errno != EAGAIN && errno != EINTR)
            return -1;
        if (wait_fd(c->p, c->fd, POLLIN, -1) < 0)
            return -1;
    }
}

/* ---- READ_REQUEST --------------------------------------------------------- */

static int fill_to(peer_conn *c, size_t need)
{
    while (c->len < need)
        if (recv_more(c) <= 0)
            return -1;
    return 0;
}

/* Finds the next CRLF at or after from; *eol is its offset. */
static int fill_line(peer_conn *c, size_t from, size_t *eol)
{
    for (;;) {
        if (c->len > from) {
            char *e = memmem(c->buf + from, c->len - from, "\r\n", 2);
            if (e) {
                *eol = (size_t)(e - c->buf);
                return 0;
            }
        }
        if (recv_more(c) <= 0)
            return -1;
    }
}

/* Value of header `name` in the head [0, head_len), or NULL. */
static const char *find_header(const char *head, size_t head_len, const char *name)
{
    size_t nl = strlen(name);
    const char *line = memmem(head, head_len, "\r\n", 2);
    while (line && (size_t)(line - head) + 2 < head_len) {
        line += 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            return v;
        }
        line = memmem(line, head_len - (size_t)(line - head), "\r\n", 2);
    }
    return NULL;
}

/* Reads a chunked body starting at pos; *end receives the offset after it. */
static int read_chunked(peer_conn *c, size_t pos, size_t *end)
{
    for (;;) {
        size_t eol;
        if (fill_line(c, pos, &eol) < 0)
            return -1;
        unsigned long long size = strtoull(c->buf + pos, NULL, 16);
        pos = eol + 2;
        if (size == 0)
            break;
        if (fill_to(c, pos + size + 2) < 0)
            return -1;
        pos += size + 2;
    }
    for (;;) { /* trailer lines up to the empty one */
        size_t eol;
        if (fill_line(c, pos, &eol) < 0)
            return -1;
        int empty = eol == pos;
        pos = eol + 2;
        if (empty)
            break;
    }
    *end = pos;
    return 0;
}

static void store_request(peer_conn *c, size_t len)
{
    fh_peer *p = c->p;
    char *copy = malloc(len + 1);
    if (!copy)
        return;
    memcpy(copy, c->buf, len);
    copy[len] = '\0';
    pthread_mutex_lock(&p->mu);
    if (p->nreqs == p->capreqs) {
        size_t ncap = p->capreqs ? p->capreqs * 2 : 16;
        peer_req *nr = realloc(p->reqs, ncap * sizeof *nr);
        if (!nr) {
            pthread_mutex_unlock(&p->mu);
            free(copy);
            return;
        }
        p->reqs = nr;
        p->capreqs = ncap;
    }
    p->reqs[p->nreqs++] = (peer_req){copy, len, c->index};
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static int read_request(peer_conn *c)
{
    char *e;
    while (!(e = c->len ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL))
        if (recv_more(c) <= 0)
            return -1;
    size_t head_len = (size_t)(e - c->buf) + 4, end = head_len;
    const char *te = find_header(c->buf, head_len, "Transfer-Encoding");
    const char *cl = find_header(c->buf, head_len, "Content-Length");
    if (te && strncasecmp(te, "chunked", 7) == 0) {
        if (read_chunked(c, head_len, &end) < 0)
            return -1;
    } else if (cl) {
        end = head_len + (size_t)strtoull(cl, NULL, 10);
        if (fill_to(c, end) < 0)
            return -1;
    }
    store_request(c, end);
    memmove(c->buf, c->buf + end, c->len - end); /* keep pipelined bytes */
    c->len -= end;
    return 0;
}

/* Bytes of another protocol after an upgrade: exactly n, recorded. */
static int read_raw(peer_conn *c, size_t n)
{
    if (fill_to(c, n) < 0)
        return -1;
    store_request(c, n);
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
    return 0;
}

/* ---- the other steps ------------------------------------------------------ */

static int send_slow(peer_conn *c, const char *data, size_t len, int ms)
{
    for (size_t i = 0; i < len; i++) {
        if (send_all(c, data + i, 1) < 0)
            return -1;
        if (wait_fd(c->p, -1, 0, ms) < 0)
            return -1;
    }
    return 0;
}

/* Reads and discards until the client closes (HOLD, WAIT_PEER_CLOSE). */
static int wait_close(peer_conn *c)
{
    for (;;) {
        ssize_t n = recv_more(c);
        if (n <= 0)
            return n == 0 ? 0 : -1;
        c->len = 0;
    }
}

/* One raw-deflate segment for 1 MiB of zeros, flushed with Z_FULL_FLUSH:
 * it ends byte-aligned, is not final and refers to nothing before it, so
 * N copies form the deflate data for N MiB. Built once per peer. */
static int bomb_segment(fh_peer *p)
{
    pthread_mutex_lock(&p->mu);
    int ok = p->bomb_seg != NULL;
    if (!ok) {
        uint8_t *zeros = calloc(1, MiB), *out = malloc(64 * 1024);
        z_stream z;
        memset(&z, 0, sizeof z);
        if (zeros && out && deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) == Z_OK) {
            z.next_in = zeros;
            z.avail_in = (uInt)MiB;
            z.next_out = out;
            z.avail_out = 64 * 1024;
            if (deflate(&z, Z_FULL_FLUSH) == Z_OK && z.avail_in == 0 && z.avail_out > 0) {
                p->bomb_seg = out;
                p->bomb_seg_len = 64 * 1024 - z.avail_out;
                out = NULL;
                ok = 1;
            }
            deflateEnd(&z);
        }
        free(zeros);
        free(out);
    }
    pthread_mutex_unlock(&p->mu);
    return ok ? 0 : -1;
}

static int send_piece(peer_conn *c, const void *data, size_t len, int chunked)
{
    char pre[32];
    if (chunked && send_all(c, pre, (size_t)snprintf(pre, sizeof pre, "%zx\r\n", len)) < 0)
        return -1;
    if (send_all(c, data, len) < 0)
        return -1;
    return chunked ? send_all(c, "\r\n", 2) : 0;
}

static int send_gzip_bomb(peer_conn *c, size_t mib, int chunked)
{
    fh_peer *p = c->p;
    if (bomb_segment(p) < 0)
        return -1;
    static const uint8_t gz_head[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    static const uint8_t final_block[2] = {0x03, 0x00}; /* empty final fixed block */
    uint8_t *zeros = calloc(1, MiB);
    if (!zeros)
        return -1;
    uLong one = crc32(0, zeros, (uInt)MiB), crc = 0;
    free(zeros);
    for (size_t i = 0; i < mib; i++)
        crc = i == 0 ? one : crc32_combine(crc, one, (z_off_t)MiB);
    uint64_t isize = (uint64_t)mib * MiB;
    uint8_t trailer[8];
    for (int i = 0; i < 4; i++) {
        trailer[i] = (uint8_t)(crc >> (8 * i));
        trailer[4 + i] = (uint8_t)(isize >> (8 * i));
    }
    char head[256];
    size_t body = sizeof gz_head + mib * p->bomb_seg_len + sizeof final_block + sizeof trailer;
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                      "Content-Encoding: gzip\r\n%s%zu\r\n\r\n",
                      chunked ? "Transfer-Encoding: chunked\r\nX-Bomb-Size: " : "Content-Length: ",
                      body);
    if (send_all(c, head, (size_t)hl) < 0 || send_piece(c, gz_head, sizeof gz_head, chunked) < 0)
        return -1;
    for (size_t i = 0; i < mib; i++)
        if (send_piece(c, p->bomb_seg, p->bomb_seg_len, chunked) < 0)
            return -1;
    if (send_piece(c, final_block, 2, chunked) < 0 || send_piece(c, trailer, 8, chunked) < 0)
        return -1;
    return chunked ? send_all(c, "0\r\n\r\n", 5) : 0;
}

/* Runs one step: 0 to go on, 1 when the script ends here, -1 on failure. */
static int run_step(peer_conn *c, const fh_peer_step *s)
{
    switch (s->op) {
    case FH_PEER_END:
    case FH_PEER_CLOSE: return 1;
    case FH_PEER_READ_REQUEST: return read_request(c);
    case FH_PEER_READ_RAW: return read_raw(c, s->len);
    case FH_PEER_SEND: return send_all(c, s->data, s->len);
    case FH_PEER_SEND_SLOW: return send_slow(c, s->data, s->len, s->ms);
    case FH_PEER_SLEEP: return wait_fd(c->p, -1, 0, s->ms) < 0 ? -1 : 0;
    case FH_PEER_HALF_CLOSE: return shutdown(c->fd, SHUT_WR);
    case FH_PEER_WAIT_PEER_CLOSE:
    case FH_PEER_HOLD: return wait_close(c) < 0 ? -1 : 1;
    case FH_PEER_SEND_GZIP_BOMB: return send_gzip_bomb(c, s->len, s->chunked);
    }
    return -1;
}

static void *conn_main(void *arg)
{
    peer_conn *c = arg;
    fh_peer *p = c->p;
    size_t k = (size_t)c->index < p->nscripts ? (size_t)c->index : p->nscripts - 1;
    const fh_peer_step *s = p->scripts[k];
    for (int i = 0;; i++) {
        int r = run_step(c, &s[i]);
        if (r < 0) {
            char msg[64];
            snprintf(msg, sizeof msg, "script %zu stopped at step %d", k, i);
            dbg(c, msg);
        }
        if (r != 0)
            break;
    }
    close(c->fd);
    c->fd = -1;
    return NULL;
}

/* ---- connections ------------------------------------------------------- */

/* Registers fd as the next connection and starts its worker. */
static int spawn_conn(fh_peer *p, int fd)
{
    peer_conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return -1;
    }
    c->p = p;
    c->fd = fd;
    pthread_mutex_lock(&p->mu);
    if (p->stopping || (p->nconns == p->capconns && p->capconns >= 4096)) {
        pthread_mutex_unlock(&p->mu);
        close(fd);
        free(c);
        return -1;
    }
    if (p->nconns == p->capconns) {
        size_t ncap = p->capconns ? p->capconns * 2 : 16;
        peer_conn **nc = realloc(p->conns, ncap * sizeof *nc);
        if (!nc) {
            pthread_mutex_unlock(&p->mu);
            close(fd);
            free(c);
            return -1;
        }
        p->conns = nc;
        p->capconns = ncap;
    }
    c->index = (int)p->nconns;
    p->conns[p->nconns++] = c;
    c->started = pthread_create(&c->th, NULL, conn_main, c) == 0;
    if (!c->started) {
        close(fd);
        c->fd = -1;
    }
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return c->started ? 0 : -1;
}

static void *accept_main(void *arg)
{
    fh_peer *p = arg;
    for (;;) {
        if (wait_fd(p, p->lfd, POLLIN, -1) < 0)
            return NULL;
        int fd = accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0)
            spawn_conn(p, fd);
        else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
            return NULL;
    }
}

int fh_peer_connect_hook(void *peer, const char *host, int port)
{
    (void)host;
    (void)port;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
        return -6; /* FH_ECONNECT, without pulling in the library header */
    if (spawn_conn(peer, sv[1]) < 0) {
        close(sv[0]);
        return -6;
    }
    return sv[0];
}

/* ---- start / stop ------------------------------------------------------- */

static int listen_loopback(fh_peer *p)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t al = sizeof a;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(p->lfd, 128) < 0 || getsockname(p->lfd, (struct sockaddr *)&a, &al) < 0)
        return -1;
    p->port = ntohs(a.sin_port);
    return 0;
}

static fh_peer_step *copy_script(const fh_peer_step *s)
{
    size_t n = 0;
    while (s[n].op != FH_PEER_END)
        n++;
    fh_peer_step *out = calloc(n + 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++) {
        out[i] = s[i];
        if (s[i].data) {
            char *d = malloc(s[i].len + 1);
            if (!d)
                return out; /* the step keeps NULL data: sends nothing */
            memcpy(d, s[i].data, s[i].len);
            out[i].data = d;
        }
    }
    return out;
}

static void free_scripts(fh_peer *p)
{
    for (size_t k = 0; p->scripts && k < p->nscripts; k++) {
        for (size_t i = 0; p->scripts[k] && p->scripts[k][i].op != FH_PEER_END; i++)
            free((void *)p->scripts[k][i].data);
        free(p->scripts[k]);
    }
    free(p->scripts);
}

static void free_peer(fh_peer *p)
{
    if (p->lfd >= 0)
        close(p->lfd);
    for (int i = 0; i < 2; i++)
        if (p->stop_pipe[i] >= 0)
            close(p->stop_pipe[i]);
    free_scripts(p);
    for (size_t i = 0; i < p->nreqs; i++)
        free(p->reqs[i].data);
    free(p->reqs);
    free(p->conns);
    free(p->bomb_seg);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

fh_peer *fh_peer_start(const fh_peer_step *const *scripts, size_t n)
{
    fh_peer *p = calloc(1, sizeof *p);
    if (!p || n == 0)
        return free(p), NULL;
    p->lfd = p->stop_pipe[0] = p->stop_pipe[1] = -1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->scripts = calloc(n, sizeof *p->scripts);
    p->nscripts = n;
    int ok = p->scripts != NULL;
    for (size_t k = 0; ok && k < n; k++)
        ok = (p->scripts[k] = copy_script(scripts[k])) != NULL;
    ok = ok && pipe2(p->stop_pipe, O_CLOEXEC) == 0 && listen_loopback(p) == 0;
    if (!ok || pthread_create(&p->acceptor, NULL, accept_main, p) != 0) {
        perror("fh_peer_start");
        free_peer(p);
        return NULL;
    }
    return p;
}

fh_peer *fh_peer_start1(const fh_peer_step *script)
{
    return fh_peer_start(&script, 1);
}

void fh_peer_stop(fh_peer *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_mutex_unlock(&p->mu);
    if (write(p->stop_pipe[1], "x", 1) != 1)
        perror("fh_peer_stop");
    pthread_join(p->acceptor, NULL);
    for (size_t i = 0; i < p->nconns; i++) { /* no new conns: stopping is set */
        peer_conn *c = p->conns[i];
        if (c->started)
            pthread_join(c->th, NULL);
        free(c->buf);
        free(c);
    }
    free_peer(p);
}

/* ---- queries ----------------------------------------------------------- */

int fh_peer_port(const fh_peer *p)
{
    return p->port;
}

char *fh_peer_url(const fh_peer *p, const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", p->port, path ? path : "/");
    return out;
}

int fh_peer_connections(fh_peer *p)
{
    pthread_mutex_lock(&p->mu);
    int n = (int)p->nconns;
    pthread_mutex_unlock(&p->mu);
    return n;
}

int fh_peer_request_count(fh_peer *p)
{
    pthread_mutex_lock(&p->mu);
    int n = (int)p->nreqs;
    pthread_mutex_unlock(&p->mu);
    return n;
}

const char *fh_peer_request(fh_peer *p, int k, size_t *len, int *conn)
{
    const char *d = NULL;
    pthread_mutex_lock(&p->mu);
    if (k >= 0 && (size_t)k < p->nreqs) {
        d = p->reqs[k].data; /* never moved or freed before stop */
        if (len)
            *len = p->reqs[k].len;
        if (conn)
            *conn = p->reqs[k].conn;
    }
    pthread_mutex_unlock(&p->mu);
    return d;
}

static int wait_count(fh_peer *p, const size_t *field, int n, int timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    while (*field < (size_t)n && pthread_cond_timedwait(&p->cv, &p->mu, &dl) == 0)
        ;
    int got = (int)*field;
    pthread_mutex_unlock(&p->mu);
    return got;
}

int fh_peer_wait_connections(fh_peer *p, int n, int timeout_ms)
{
    return wait_count(p, &p->nconns, n, timeout_ms);
}

int fh_peer_wait_requests(fh_peer *p, int n, int timeout_ms)
{
    return wait_count(p, &p->nreqs, n, timeout_ms);
}
