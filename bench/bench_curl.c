/*
 * bench_curl.c — the libcurl modes, set up like the fasthttp ones.
 *
 *   curl-easy   one easy handle, curl_easy_perform() in a loop (the handle
 *               keeps its connection alive between transfers).
 *   curl-multi  N easy handles in one multi, driven by
 *               curl_multi_socket_action() over epoll — the same loop shape
 *               as fh-async — with CURLMOPT_MAX_TOTAL_CONNECTIONS = N; a
 *               finished handle is removed and added again at once.
 *
 * With --http2: CURL_HTTP_VERSION_2TLS (h2 by ALPN; prior knowledge for
 * http URLs), the multi multiplexes (CURLPIPE_MULTIPLEX) and curl-multi runs
 * as many handles as fh-async has requests in flight over at most as many
 * connections, each handle waiting for a connection it can multiplex on
 * (PIPEWAIT) rather than opening its own. A response over another version
 * counts as an error.
 *
 * Bodies are counted and dropped by the write callback (libcurl never
 * buffers a body itself; fasthttp's buffered mode does, which is extra work
 * on fasthttp's side).
 */
#include "bench.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    *(size_t *)ud += size * n;
    return size * n;
}

static CURL *make_easy(const bench_cfg *cfg, size_t *bytes)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    curl_easy_setopt(h, CURLOPT_URL, cfg->url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, bytes);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, (long)cfg->fresh);
    if (cfg->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (cfg->ca_file) {
        curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
    }
    if (cfg->http2) {
        long v = strncmp(cfg->url, "https:", 6) == 0 ? CURL_HTTP_VERSION_2TLS
                                                     : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, v);
        curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
    }
    return h;
}

static int code_ok(const bench_cfg *cfg, CURL *h)
{
    long code = 0, version = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (cfg->http2)
        curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
    return code >= 200 && code < 300 && (!cfg->http2 || version == CURL_HTTP_VERSION_2_0);
}

int run_curl_easy(const bench_cfg *cfg, bench_result *r)
{
    size_t bytes = 0;
    if (cfg->http2 && !(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_HTTP2)) {
        snprintf(r->note, sizeof r->note, "this libcurl has no HTTP/2 (no nghttp2)");
        return -1;
    }
    CURL *h = make_easy(cfg, &bytes);
    if (!h) {
        snprintf(r->note, sizeof r->note, "curl_easy_init failed");
        return -1;
    }
    bench_meter m;
    meter_start(&m, cfg);
    for (;;) {
        int64_t t0 = bench_now_ns();
        CURLcode rc = curl_easy_perform(h);
        int ok = rc == CURLE_OK && code_ok(cfg, h);
        int64_t t1 = bench_now_ns();
        meter_done(&m, t0, t1, ok);
        if (rc != CURLE_OK && !r->note[0])
            snprintf(r->note, sizeof r->note, "first error: %s", curl_easy_strerror(rc));
        if (meter_tick(&m, t1))
            break;
    }
    meter_finish(&m, r);
    curl_easy_cleanup(h);
    return 0;
}

/* ---- curl-multi over epoll ---------------------------------------------- */

typedef struct cslot {
    CURL *h;
    int64_t t0;
    size_t bytes;
} cslot;

typedef struct cloop {
    const bench_cfg *cfg;
    int ep;
    int64_t timer_at; /* ns, -1: disarmed */
    uint8_t *reg;
    size_t nreg;
    CURLM *multi;
    bench_meter m;
    int stopping;
    char first_error[128];
} cloop;

static int c_socket(CURL *easy, curl_socket_t s, int what, void *ud, void *sockp)
{
    (void)easy;
    (void)sockp;
    cloop *l = ud;
    if ((size_t)s >= l->nreg) {
        size_t n = l->nreg ? l->nreg : 256;
        while (n <= (size_t)s)
            n *= 2;
        uint8_t *p = realloc(l->reg, n);
        if (!p)
            return -1;
        memset(p + l->nreg, 0, n - l->nreg);
        l->reg = p;
        l->nreg = n;
    }
    if (what == CURL_POLL_REMOVE) {
        if (l->reg[s])
            epoll_ctl(l->ep, EPOLL_CTL_DEL, s, NULL);
        l->reg[s] = 0;
        return 0;
    }
    struct epoll_event ev = {0};
    ev.data.fd = s;
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
    if (epoll_ctl(l->ep, l->reg[s] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) < 0)
        return -1;
    l->reg[s] = 1;
    return 0;
}

static int c_timer(CURLM *multi, long ms, void *ud)
{
    (void)multi;
    cloop *l = ud;
    l->timer_at = ms < 0 ? -1 : bench_now_ns() + (int64_t)ms * 1000000;
    return 0;
}

/* Collects finished transfers and starts each handle again. */
static void c_drain(cloop *l)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(l->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *h = msg->easy_handle;
        CURLcode rc = msg->data.result;
        cslot *s = NULL;
        curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&s);
        int ok = rc == CURLE_OK && code_ok(l->cfg, h);
        if (!ok && !l->first_error[0])
            snprintf(l->first_error, sizeof l->first_error, "%s",
                     rc != CURLE_OK ? curl_easy_strerror(rc) : "non-2xx or not over HTTP/2");
        int64_t now = bench_now_ns();
        meter_done(&l->m, s->t0, now, ok);
        if (meter_tick(&l->m, now))
            l->stopping = 1;
        curl_multi_remove_handle(l->multi, h);
        if (!l->stopping) {
            s->t0 = bench_now_ns();
            curl_multi_add_handle(l->multi, h);
        }
    }
}

int run_curl_multi(const bench_cfg *cfg, bench_result *r)
{
    /* Over HTTP/1.1 a handle is a connection; over HTTP/2 the handles are the
     * requests in flight, multiplexed over at most conns connections. */
    int n = cfg->http2 ? cfg->in_flight : cfg->conns, running = 0;
    long conns = cfg->conns;
    if (cfg->http2 && !(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_HTTP2)) {
        snprintf(r->note, sizeof r->note, "this libcurl has no HTTP/2 (no nghttp2)");
        return -1;
    }
    cloop l = {0};
    l.cfg = cfg;
    l.ep = epoll_create1(EPOLL_CLOEXEC);
    l.timer_at = -1;
    l.multi = curl_multi_init();
    cslot *slots = calloc((size_t)n, sizeof *slots);
    int rc = l.ep >= 0 && l.multi && slots ? 0 : -1;
    if (rc == 0) {
        curl_multi_setopt(l.multi, CURLMOPT_SOCKETFUNCTION, c_socket);
        curl_multi_setopt(l.multi, CURLMOPT_SOCKETDATA, &l);
        curl_multi_setopt(l.multi, CURLMOPT_TIMERFUNCTION, c_timer);
        curl_multi_setopt(l.multi, CURLMOPT_TIMERDATA, &l);
        curl_multi_setopt(l.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, conns);
        curl_multi_setopt(l.multi, CURLMOPT_MAX_HOST_CONNECTIONS, conns);
        curl_multi_setopt(l.multi, CURLMOPT_MAXCONNECTS, conns);
        if (cfg->http2) {
            curl_multi_setopt(l.multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
            /* libcurl's own cap is 100 streams a connection; let it use what
             * nginx allows, as fh-async and h2load do */
            curl_multi_setopt(l.multi, CURLMOPT_MAX_CONCURRENT_STREAMS,
                              (long)bench_streams_per_conn(cfg));
        }
    }
    for (int i = 0; rc == 0 && i < n; i++) {
        slots[i].h = make_easy(cfg, &slots[i].bytes);
        if (!slots[i].h)
            rc = -1;
        else
            curl_easy_setopt(slots[i].h, CURLOPT_PRIVATE, &slots[i]);
    }
    if (rc == 0) {
        meter_start(&l.m, cfg);
        for (int i = 0; i < n; i++) {
            slots[i].t0 = bench_now_ns();
            curl_multi_add_handle(l.multi, slots[i].h);
        }
        struct epoll_event evs[256];
        while (!l.stopping) {
            int tmo = 10;
            if (l.timer_at >= 0) {
                int64_t d = l.timer_at - bench_now_ns();
                tmo = d <= 0 ? 0 : d < 10000000 ? (int)((d + 999999) / 1000000) : 10;
            }
            int k = epoll_wait(l.ep, evs, 256, tmo);
            if (k < 0 && errno != EINTR)
                break;
            for (int i = 0; i < k; i++) {
                uint32_t e = evs[i].events;
                int ev = ((e & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                         ((e & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                         ((e & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
                curl_multi_socket_action(l.multi, evs[i].data.fd, ev, &running);
                c_drain(&l);
            }
            int64_t now = bench_now_ns();
            if (l.timer_at >= 0 && now >= l.timer_at) {
                l.timer_at = -1;
                curl_multi_socket_action(l.multi, CURL_SOCKET_TIMEOUT, 0, &running);
                c_drain(&l);
            }
            if (meter_tick(&l.m, now))
                l.stopping = 1;
        }
        meter_finish(&l.m, r);
        if (l.first_error[0])
            snprintf(r->note, sizeof r->note, "first error: %s", l.first_error);
    } else {
        snprintf(r->note, sizeof r->note, "cannot set up curl multi");
    }
    for (int i = 0; slots && i < n; i++) {
        if (slots[i].h) {
            curl_multi_remove_handle(l.multi, slots[i].h);
            curl_easy_cleanup(slots[i].h);
        }
    }
    free(slots);
    if (l.multi)
        curl_multi_cleanup(l.multi);
    free(l.reg);
    if (l.ep >= 0)
        close(l.ep);
    return rc;
}
