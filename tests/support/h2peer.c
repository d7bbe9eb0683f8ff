/*
 * h2peer.c — the scripted HTTP/2 server (see h2peer.h).
 *
 * Threads: one per connection, started by the connect hook. Every byte the
 * client sends passes a small frame splitter (the "tap") that logs each
 * frame, before nghttp2's server session (h2p_serve) or the raw helpers
 * look at it. Waits poll the stop pipe, which stays readable once
 * h2peer_stop() wrote to it, so every thread unwinds at its next wait.
 */
#include "support/h2peer.h"

#include <errno.h>
#include <fcntl.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PREFACE_LEN 24 /* "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" (RFC 9113 §3.4) */
#define MAX_IDS 256

typedef struct ev {
    int conn;
    uint8_t type;
    int32_t id;
    uint32_t code;
} ev;

typedef struct rq {
    int conn;
    int32_t id;
    char path[256];
    size_t body, sent;
} rq;

struct h2peer {
    h2p_script fn;
    void *ud;
    int stop_pipe[2];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping;
    h2p_conn **conns;
    size_t nconns, capconns;
    ev *evs;
    size_t nev, capev;
    rq *rqs;
    size_t nrq, caprq;
};

/* A stream of h2p_serve: the request as it arrives, the response body. */
typedef struct sstream {
    struct sstream *next;
    int32_t id;
    h2p_req req;
    long rq;           /* index in p->rqs once complete, else -1 */
    uint8_t *body;     /* NULL: pattern bytes */
    size_t len, off, allowed;
    int starve;
} sstream;

struct h2p_conn {
    h2peer *p;
    int fd, index;
    pthread_t th;
    /* the tap */
    size_t preface_left;
    uint8_t hdr[9];
    size_t hdr_have, payload_left;
    uint8_t pay[8];
    size_t pay_have;
    int settings_seen;
    int32_t ids[MAX_IDS];
    int nids;
    /* h2p_serve */
    nghttp2_session *s;
    const h2p_handler *h;
    sstream *streams;
    int closing, served;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the log ------------------------------------------------------------------ */

static void log_frame(h2p_conn *pc, uint8_t type, int32_t id, uint32_t code)
{
    h2peer *p = pc->p;
    if (getenv("FH_H2PEER_DEBUG"))
        fprintf(stderr, "h2peer: conn %d: client sent frame type %d stream %d code %u\n",
                pc->index, type, (int)id, code);
    pthread_mutex_lock(&p->mu);
    if (p->nev == p->capev) {
        size_t ncap = p->capev ? p->capev * 2 : 256;
        ev *n = realloc(p->evs, ncap * sizeof *n);
        if (!n) {
            pthread_mutex_unlock(&p->mu);
            return;
        }
        p->evs = n;
        p->capev = ncap;
    }
    p->evs[p->nev++] = (ev){pc->index, type, id, code};
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void frame_done(h2p_conn *pc)
{
    uint8_t type = pc->hdr[3];
    int32_t id = (int32_t)(be32(pc->hdr + 5) & 0x7fffffff);
    uint32_t code = 0;
    if (type == H2F_RST_STREAM && pc->pay_have >= 4)
        code = be32(pc->pay);
    if (type == H2F_GOAWAY && pc->pay_have >= 8)
        code = be32(pc->pay + 4);
    if (type == H2F_SETTINGS && !(pc->hdr[4] & H2_ACK))
        pc->settings_seen++;
    if (type == H2F_HEADERS && pc->nids < MAX_IDS)
        pc->ids[pc->nids++] = id;
    log_frame(pc, type, id, code);
}

/* Splits the client's bytes into frames (RFC 9113 §4.1) and logs each. */
static void tap(h2p_conn *pc, const uint8_t *d, size_t n)
{
    while (n) {
        if (pc->preface_left) {
            size_t k = n < pc->preface_left ? n : pc->preface_left;
            pc->preface_left -= k;
            d += k;
            n -= k;
            continue;
        }
        if (pc->hdr_have < 9) {
            pc->hdr[pc->hdr_have++] = *d++;
            n--;
            if (pc->hdr_have == 9) {
                pc->payload_left = (size_t)pc->hdr[0] << 16 | (size_t)pc->hdr[1] << 8 | pc->hdr[2];
                pc->pay_have = 0;
                if (!pc->payload_left) {
                    frame_done(pc);
                    pc->hdr_have = 0;
                }
            }
            continue;
        }
        size_t k = n < pc->payload_left ? n : pc->payload_left;
        for (size_t i = 0; i < k && pc->pay_have < sizeof pc->pay; i++)
            pc->pay[pc->pay_have++] = d[i];
        d += k;
        n -= k;
        pc->payload_left -= k;
        if (!pc->payload_left) {
            frame_done(pc);
            pc->hdr_have = 0;
        }
    }
}

/* ---- waiting and sending -------------------------------------------------------- */

/* 1 ready, 0 timed out, -1 stop requested. */
static int wait_fd(h2p_conn *pc, short events, int ms)
{
    struct pollfd pf[2] = {{pc->p->stop_pipe[0], POLLIN, 0}, {pc->fd, events, 0}};
    for (;;) {
        int r = poll(pf, 2, ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || pf[0].revents)
            return -1;
        return r > 0;
    }
}

/* Gives up after ms without progress (ms < 0: never): 1 stalled, 0 sent,
 * -1 the client is gone or stop. */
static int send_bytes(h2p_conn *pc, const void *data, size_t len, int ms)
{
    const uint8_t *s = data;
    while (len) {
        ssize_t n = send(pc->fd, s, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            s += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            int r = wait_fd(pc, POLLOUT, ms);
            if (r < 0)
                return -1;
            if (r == 0)
                return 1;
            continue;
        }
        return -1;
    }
    return 0;
}

int h2p_raw_send(h2p_conn *pc, const void *data, size_t len)
{
    return send_bytes(pc, data, len, -1) ? -1 : 0;
}

int h2p_raw_send_or_stall(h2p_conn *pc, const void *data, size_t len, int ms)
{
    return send_bytes(pc, data, len, ms);
}

/* Reads what is there (waiting up to ms), through the tap and, when
 * serving, nghttp2. 1 read, 0 nothing in time, -1 closed or stop. */
static int pump(h2p_conn *pc, short events, int ms)
{
    int r = wait_fd(pc, events, ms);
    if (r <= 0)
        return r;
    uint8_t buf[16384];
    ssize_t n = recv(pc->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0)
        return -1;
    tap(pc, buf, (size_t)n);
    if (pc->s && nghttp2_session_mem_recv(pc->s, buf, (size_t)n) < 0)
        return -1;
    return 1;
}

/* ---- queries ------------------------------------------------------------------ */

static int count_frames(h2peer *p, int conn, int type, int32_t id, int64_t code)
{
    int n = 0;
    for (size_t i = 0; i < p->nev; i++) {
        const ev *e = &p->evs[i];
        n += (conn < 0 || e->conn == conn) && e->type == type && (id < 0 || e->id == id) &&
             (code < 0 || e->code == (uint32_t)code);
    }
    return n;
}

int h2peer_frames(h2peer *p, int conn, int type, int32_t id, int64_t code)
{
    pthread_mutex_lock(&p->mu);
    int n = count_frames(p, conn, type, id, code);
    pthread_mutex_unlock(&p->mu);
    return n;
}

static void deadline_of(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int h2peer_wait_frames(h2peer *p, int n, int ms, int conn, int type, int32_t id, int64_t code)
{
    struct timespec ts;
    deadline_of(&ts, ms);
    pthread_mutex_lock(&p->mu);
    int c;
    while ((c = count_frames(p, conn, type, id, code)) < n)
        if (pthread_cond_timedwait(&p->cv, &p->mu, &ts) != 0)
            break;
    c = count_frames(p, conn, type, id, code);
    pthread_mutex_unlock(&p->mu);
    return c;
}

static int match_rq(const rq *r, const char *path, int conn)
{
    return (!path || strcmp(r->path, path) == 0) && (conn < 0 || r->conn == conn);
}

static int count_rq(h2peer *p, const char *path, int conn)
{
    int n = 0;
    for (size_t i = 0; i < p->nrq; i++)
        n += match_rq(&p->rqs[i], path, conn);
    return n;
}

int h2peer_requests(h2peer *p, const char *path, int conn)
{
    pthread_mutex_lock(&p->mu);
    int n = count_rq(p, path, conn);
    pthread_mutex_unlock(&p->mu);
    return n;
}

int h2peer_wait_requests(h2peer *p, int n, int ms, const char *path, int conn)
{
    struct timespec ts;
    deadline_of(&ts, ms);
    pthread_mutex_lock(&p->mu);
    while (count_rq(p, path, conn) < n)
        if (pthread_cond_timedwait(&p->cv, &p->mu, &ts) != 0)
            break;
    int c = count_rq(p, path, conn);
    pthread_mutex_unlock(&p->mu);
    return c;
}

/* The k-th request for path, under the lock, or NULL. */
static rq *kth(h2peer *p, const char *path, int k)
{
    for (size_t i = 0; i < p->nrq; i++)
        if (match_rq(&p->rqs[i], path, -1) && k-- == 0)
            return &p->rqs[i];
    return NULL;
}

int32_t h2peer_request_id(h2peer *p, const char *path, int k, int *conn)
{
    pthread_mutex_lock(&p->mu);
    rq *r = kth(p, path, k);
    int32_t id = r ? r->id : -1;
    if (conn)
        *conn = r ? r->conn : -1;
    pthread_mutex_unlock(&p->mu);
    return id;
}

size_t h2peer_request_body(h2peer *p, const char *path, int k)
{
    pthread_mutex_lock(&p->mu);
    rq *r = kth(p, path, k);
    size_t n = r ? r->body : 0;
    pthread_mutex_unlock(&p->mu);
    return n;
}

size_t h2peer_sent(h2peer *p, const char *path, int k)
{
    pthread_mutex_lock(&p->mu);
    rq *r = kth(p, path, k);
    size_t n = r ? r->sent : 0;
    pthread_mutex_unlock(&p->mu);
    return n;
}

int h2peer_connections(h2peer *p)
{
    pthread_mutex_lock(&p->mu);
    int n = (int)p->nconns;
    pthread_mutex_unlock(&p->mu);
    return n;
}

int h2p_index(const h2p_conn *pc)
{
    return pc->index;
}

h2peer *h2p_peer(const h2p_conn *pc)
{
    return pc->p;
}

int h2p_served(const h2p_conn *pc)
{
    return pc->served;
}

/* ---- serving -------------------------------------------------------------------- */

static sstream *stream_of(h2p_conn *pc, int32_t id)
{
    return pc->s ? nghttp2_session_get_stream_user_data(pc->s, id) : NULL;
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    h2p_conn *pc = ud;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    sstream *st = calloc(1, sizeof *st);
    if (!st)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    st->id = f->hd.stream_id;
    st->req.id = st->id;
    st->rq = -1;
    st->next = pc->streams;
    pc->streams = st;
    nghttp2_session_set_stream_user_data(s, st->id, st);
    return 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
                     size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
    (void)s;
    (void)flags;
    sstream *st = stream_of(ud, f->hd.stream_id);
    if (!st)
        return 0;
    if (nlen == 7 && memcmp(name, ":method", 7) == 0)
        snprintf(st->req.method, sizeof st->req.method, "%.*s", (int)vlen, value);
    else if (nlen == 5 && memcmp(name, ":path", 5) == 0)
        snprintf(st->req.path, sizeof st->req.path, "%.*s", (int)vlen, value);
    return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                   void *ud)
{
    (void)flags;
    (void)data;
    h2p_conn *pc = ud;
    sstream *st = stream_of(pc, id);
    /* Windows by hand, so that one stream can be starved (RFC 9113 §6.9). */
    nghttp2_session_consume_connection(s, len);
    if (st)
        st->req.body_len += len;
    const char *starve = pc->h->starve_path;
    if (!(st && starve && strcmp(st->req.path, starve) == 0))
        nghttp2_session_consume_stream(s, id, len);
    return 0;
}

static void record_request(h2p_conn *pc, sstream *st)
{
    h2peer *p = pc->p;
    pthread_mutex_lock(&p->mu);
    if (p->nrq == p->caprq) {
        size_t ncap = p->caprq ? p->caprq * 2 : 64;
        rq *n = realloc(p->rqs, ncap * sizeof *n);
        if (!n) {
            pthread_mutex_unlock(&p->mu);
            return;
        }
        p->rqs = n;
        p->caprq = ncap;
    }
    rq *r = &p->rqs[p->nrq];
    *r = (rq){pc->index, st->id, "", st->req.body_len, 0};
    snprintf(r->path, sizeof r->path, "%s", st->req.path);
    st->rq = (long)p->nrq++;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    (void)s;
    h2p_conn *pc = ud;
    if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
        !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    sstream *st = stream_of(pc, f->hd.stream_id);
    if (!st || st->rq >= 0)
        return 0;
    record_request(pc, st);
    pc->served++;
    if (pc->h->on_request)
        pc->h->on_request(pc, &st->req, pc->h->ud);
    return 0;
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
                         uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    (void)s;
    (void)id;
    h2p_conn *pc = ud;
    sstream *st = src->ptr;
    size_t lim = st->allowed < st->len ? st->allowed : st->len;
    size_t n = lim - st->off < len ? lim - st->off : len;
    if (!n && st->off < st->len)
        return NGHTTP2_ERR_DEFERRED;
    for (size_t i = 0; i < n; i++)
        buf[i] = st->body ? st->body[st->off + i] : (uint8_t)('a' + (st->off + i) % 26);
    st->off += n;
    if (st->off == st->len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (st->rq >= 0) {
        pthread_mutex_lock(&pc->p->mu);
        pc->p->rqs[st->rq].sent = st->off;
        pthread_mutex_unlock(&pc->p->mu);
    }
    return (ssize_t)n;
}

static void submit_response(h2p_conn *pc, sstream *st, int32_t id, int status,
                            const char *const *headers)
{
    nghttp2_nv nv[256];
    char code[8];
    size_t n = 0;
    snprintf(code, sizeof code, "%d", status);
    nv[n++] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)code, 7, strlen(code),
                           NGHTTP2_NV_FLAG_NONE};
    for (size_t i = 0; headers && headers[i] && headers[i + 1] && n < 256; i += 2)
        nv[n++] = (nghttp2_nv){(uint8_t *)headers[i], (uint8_t *)headers[i + 1],
                               strlen(headers[i]), strlen(headers[i + 1]), NGHTTP2_NV_FLAG_NONE};
    nghttp2_data_provider prd = {{.ptr = st}, read_body};
    nghttp2_submit_response(pc->s, id, nv, n, st && st->len ? &prd : NULL);
}

void h2p_respond(h2p_conn *pc, int32_t id, int status, const char *const *headers,
                 const void *body, size_t len)
{
    sstream *st = stream_of(pc, id);
    if (!st)
        return;
    if (len) {
        free(st->body);
        st->body = malloc(len);
        if (!st->body)
            return;
        memcpy(st->body, body, len);
    }
    st->len = st->allowed = len;
    submit_response(pc, st, id, status, headers);
}

void h2p_respond_held(h2p_conn *pc, int32_t id, int status, size_t len, int release_all)
{
    sstream *st = stream_of(pc, id);
    if (!st)
        return;
    st->len = len;
    st->allowed = release_all ? len : 0;
    submit_response(pc, st, id, status, NULL);
}

void h2p_release(h2p_conn *pc, int32_t id, size_t n)
{
    sstream *st = stream_of(pc, id);
    if (!st)
        return;
    st->allowed += n;
    nghttp2_session_resume_data(pc->s, id);
}

void h2p_rst(h2p_conn *pc, int32_t id, uint32_t code)
{
    nghttp2_submit_rst_stream(pc->s, NGHTTP2_FLAG_NONE, id, code);
}

void h2p_goaway(h2p_conn *pc, int32_t last_id, uint32_t code)
{
    nghttp2_submit_goaway(pc->s, NGHTTP2_FLAG_NONE, last_id, code, NULL, 0);
}

void h2p_shutdown_notice(h2p_conn *pc)
{
    nghttp2_submit_shutdown_notice(pc->s);
}

void h2p_close(h2p_conn *pc)
{
    pc->closing = 1;
}

/* Sends what nghttp2 has without blocking, keeping the rest in out:
 * the server must go on reading while the client does not (a slow reader,
 * a cancelled stream), or the client's RST_STREAM would never be read.
 * 0, or -1 when the client is gone. */
typedef struct outq {
    uint8_t *d;
    size_t len, off, cap;
} outq;

static int flush_session(h2p_conn *pc, outq *q)
{
    for (;;) {
        if (q->off == q->len) {
            q->off = q->len = 0;
            const uint8_t *d;
            ssize_t n = nghttp2_session_mem_send(pc->s, &d);
            if (n < 0)
                return -1;
            if (n == 0)
                return 0;
            if ((size_t)n > q->cap) {
                uint8_t *nd = realloc(q->d, (size_t)n);
                if (!nd)
                    return -1;
                q->d = nd;
                q->cap = (size_t)n;
            }
            memcpy(q->d, d, (size_t)n);
            q->len = (size_t)n;
        }
        ssize_t w = send(pc->fd, q->d + q->off, q->len - q->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        if (w <= 0)
            return -1;
        q->off += (size_t)w;
    }
}

void h2p_serve(h2p_conn *pc, const h2p_handler *h)
{
    nghttp2_session_callbacks *cb;
    nghttp2_option *opt;
    if (nghttp2_session_callbacks_new(&cb) != 0)
        return;
    if (nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cb);
        return;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_option_set_no_auto_window_update(opt, 1);
    pc->h = h;
    int rc = nghttp2_session_server_new2(&pc->s, cb, pc, opt);
    nghttp2_session_callbacks_del(cb);
    nghttp2_option_del(opt);
    if (rc != 0)
        return;
    nghttp2_settings_entry set[2];
    size_t ns = 0;
    if (h->max_streams)
        set[ns++] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS,
                                             h->max_streams};
    if (h->initial_window)
        set[ns++] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE,
                                             h->initial_window};
    nghttp2_submit_settings(pc->s, NGHTTP2_FLAG_NONE, set, ns);
    outq q = {0};
    for (;;) {
        if (flush_session(pc, &q) < 0)
            break;
        int pending = q.off < q.len;
        if (pc->closing && !pending)
            break;
        if (!pending && !nghttp2_session_want_read(pc->s) && !nghttp2_session_want_write(pc->s))
            break;
        if (pump(pc, pending ? POLLIN | POLLOUT : POLLIN, 5) < 0)
            break;
        if (h->on_tick)
            h->on_tick(pc, h->ud);
    }
    free(q.d);
    nghttp2_session_del(pc->s);
    pc->s = NULL;
    while (pc->streams) {
        sstream *st = pc->streams;
        pc->streams = st->next;
        free(st->body);
        free(st);
    }
}

/* ---- raw frames ----------------------------------------------------------------- */

int h2p_raw_frame(h2p_conn *pc, int type, int flags, int32_t id, const void *payload, size_t len)
{
    uint8_t h[9] = {(uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len, (uint8_t)type,
                    (uint8_t)flags, (uint8_t)((uint32_t)id >> 24 & 0x7f), (uint8_t)(id >> 16),
                    (uint8_t)(id >> 8), (uint8_t)id};
    if (h2p_raw_send(pc, h, 9) < 0)
        return -1;
    return len ? h2p_raw_send(pc, payload, len) : 0;
}

int h2p_raw_handshake(h2p_conn *pc)
{
    int64_t end = now_ms() + 5000;
    while (!pc->settings_seen) {
        if (now_ms() > end || pump(pc, POLLIN, 50) < 0)
            return -1;
    }
    if (h2p_raw_frame(pc, H2F_SETTINGS, 0, 0, NULL, 0) < 0)
        return -1;
    return h2p_raw_frame(pc, H2F_SETTINGS, H2_ACK, 0, NULL, 0);
}

int h2p_raw_wait_streams(h2p_conn *pc, int n, int32_t *ids, int ms)
{
    int64_t end = now_ms() + ms;
    while (pc->nids < n) {
        if (now_ms() > end || pump(pc, POLLIN, 20) < 0)
            return -1;
    }
    for (int i = 0; ids && i < n; i++)
        ids[i] = pc->ids[i];
    return 0;
}

int h2p_raw_drain(h2p_conn *pc, int ms)
{
    int64_t end = now_ms() + ms;
    while (now_ms() < end)
        if (pump(pc, POLLIN, 10) < 0)
            return 1;
    return 0;
}

size_t h2p_hpack_int(uint8_t *out, uint8_t first, int nbits, size_t v)
{
    size_t max = ((size_t)1 << nbits) - 1, n = 0;
    if (v < max) {
        out[n++] = (uint8_t)(first | v);
        return n;
    }
    out[n++] = (uint8_t)(first | max);
    v -= max;
    while (v >= 128) {
        out[n++] = (uint8_t)(v % 128 + 128);
        v /= 128;
    }
    out[n++] = (uint8_t)v;
    return n;
}

size_t h2p_hpack_literal(uint8_t *out, const char *name, const char *value, size_t vlen,
                         int index)
{
    size_t nl = strlen(name), n = 0;
    out[n++] = index ? 0x40 : 0x00; /* §6.2.1 / §6.2.2, new name */
    n += h2p_hpack_int(out + n, 0, 7, nl); /* H = 0: no Huffman */
    memcpy(out + n, name, nl);
    n += nl;
    n += h2p_hpack_int(out + n, 0, 7, vlen);
    memcpy(out + n, value, vlen);
    return n + vlen;
}

/* ---- connections --------------------------------------------------------------- */

static void *conn_main(void *arg)
{
    h2p_conn *pc = arg;
    pc->p->fn(pc, pc->p->ud);
    /* Shut down first: the client sees the end now, even if a copy of the
     * socket lived on somewhere. */
    shutdown(pc->fd, SHUT_RDWR);
    close(pc->fd);
    pc->fd = -1;
    return NULL;
}

int h2peer_connect_hook(void *peer, const char *host, int port)
{
    (void)host;
    (void)port;
    h2peer *p = peer;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
        return -6; /* FH_ECONNECT */
    h2p_conn *pc = calloc(1, sizeof *pc);
    if (!pc)
        goto fail;
    pc->p = p;
    pc->fd = sv[1];
    pc->preface_left = PREFACE_LEN;
    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        pthread_mutex_unlock(&p->mu);
        free(pc);
        goto fail;
    }
    if (p->nconns == p->capconns) {
        size_t ncap = p->capconns ? p->capconns * 2 : 16;
        h2p_conn **n = realloc(p->conns, ncap * sizeof *n);
        if (!n) {
            pthread_mutex_unlock(&p->mu);
            free(pc);
            goto fail;
        }
        p->conns = n;
        p->capconns = ncap;
    }
    pc->index = (int)p->nconns;
    if (pthread_create(&pc->th, NULL, conn_main, pc) != 0) {
        pthread_mutex_unlock(&p->mu);
        free(pc);
        goto fail;
    }
    p->conns[p->nconns++] = pc;
    pthread_mutex_unlock(&p->mu);
    return sv[0];
fail:
    close(sv[0]);
    close(sv[1]);
    return -6;
}

h2peer *h2peer_start(h2p_script fn, void *ud)
{
    h2peer *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (pipe2(p->stop_pipe, O_CLOEXEC) < 0) {
        free(p);
        return NULL;
    }
    p->fn = fn;
    p->ud = ud;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    return p;
}

void h2peer_stop(h2peer *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_mutex_unlock(&p->mu);
    ssize_t w = write(p->stop_pipe[1], "x", 1);
    (void)w;
    for (size_t i = 0; i < p->nconns; i++) {
        pthread_join(p->conns[i]->th, NULL);
        free(p->conns[i]);
    }
    free(p->conns);
    close(p->stop_pipe[0]);
    close(p->stop_pipe[1]);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->evs);
    free(p->rqs);
    free(p);
}
