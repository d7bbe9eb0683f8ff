/*
 * bench_fh.c — the fasthttp modes.
 *
 *   fh-sync   one thread, fh_client_send() in a loop on one reused request.
 *   fh-async  one fh_engine driven by an epoll loop through fh_loop_ops;
 *             N requests in flight at all times (each is resubmitted from
 *             its on_done), pool limited to N connections.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "fasthttp/fasthttp.h"

/* A 2xx response, over HTTP/2 when that was asked for: a silent fallback to
 * HTTP/1.1 must not pass for an HTTP/2 figure. */
static int response_ok(const bench_cfg *cfg, fh_response *resp)
{
    int s = fh_response_status(resp);
    return s >= 200 && s < 300 && (!cfg->http2 || fh_response_version(resp) == 20);
}

static fh_client *make_client(const bench_cfg *cfg, int conns)
{
    fh_client *c = fh_client_new();
    if (c && conns > 0)
        fh_client_set_pool_limits(c, conns, conns, conns, 60000);
    if (c && cfg->http2) /* cleartext URLs speak HTTP/2 by prior knowledge */
        fh_client_set_http2(c, strncmp(cfg->url, "https:", 6) == 0 ? FH_HTTP2_ON
                                                                   : FH_HTTP2_ONLY);
    if (c && cfg->insecure)
        fh_client_set_verify(c, 0);
    else if (c && cfg->ca_file && fh_client_set_ca_file(c, cfg->ca_file) != FH_OK) {
        fh_client_free(c);
        return NULL;
    }
    return c;
}

int run_fh_sync(const bench_cfg *cfg, bench_result *r)
{
    int err = 0;
    fh_client *c = make_client(cfg, 1);
    fh_request *req = fh_request_new("GET", cfg->url, &err);
    if (req && cfg->fresh)
        fh_request_add_header(req, "Connection", "close");
    if (!c || !req) {
        snprintf(r->note, sizeof r->note, "fh_request_new: %s", fh_strerror(err));
        fh_request_free(req);
        fh_client_free(c);
        return -1;
    }
    bench_meter m;
    meter_start(&m, cfg);
    for (;;) {
        int64_t t0 = bench_now_ns();
        fh_response *resp = NULL;
        int rc = fh_client_send(c, req, &resp);
        int ok = rc == FH_OK && response_ok(cfg, resp);
        if (!ok && !r->note[0])
            snprintf(r->note, sizeof r->note, "first error: %s",
                     rc ? fh_request_error_message(req)
                        : fh_response_version(resp) != 20 && cfg->http2 ? "not over HTTP/2"
                                                                        : "non-2xx status");
        fh_response_free(resp);
        int64_t t1 = bench_now_ns();
        meter_done(&m, t0, t1, ok);
        if (meter_tick(&m, t1))
            break;
    }
    meter_finish(&m, r);
    fh_request_free(req);
    fh_client_free(c);
    return 0;
}

/* ---- fh-async over epoll ------------------------------------------------ */

typedef struct aloop aloop;
typedef struct aslot {
    aloop *l;
    fh_request *req;
    int64_t t0;
} aslot;

struct aloop {
    const bench_cfg *cfg;
    int ep;
    int64_t timer_at; /* ns, -1: disarmed */
    uint8_t *reg;     /* reg[fd]: fd is in the epoll set */
    size_t nreg;
    fh_engine *e;
    bench_meter m;
    int stopping;
    int submit_failures;
    char first_error[128];
};

static int a_watch(void *ud, int fd, int events)
{
    aloop *l = ud;
    if ((size_t)fd >= l->nreg) {
        size_t n = l->nreg ? l->nreg : 256;
        while (n <= (size_t)fd)
            n *= 2;
        uint8_t *p = realloc(l->reg, n);
        if (!p)
            return -1;
        memset(p + l->nreg, 0, n - l->nreg);
        l->reg = p;
        l->nreg = n;
    }
    if (!events) {
        if (l->reg[fd] && epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL) < 0)
            return -1;
        l->reg[fd] = 0;
        return 0;
    }
    struct epoll_event ev = {0};
    ev.data.fd = fd;
    ev.events = ((events & FH_WATCH_READ) ? EPOLLIN : 0) |
                ((events & FH_WATCH_WRITE) ? EPOLLOUT : 0);
    if (epoll_ctl(l->ep, l->reg[fd] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0)
        return -1;
    l->reg[fd] = 1;
    return 0;
}

static int a_timer(void *ud, int64_t ms)
{
    aloop *l = ud;
    l->timer_at = ms < 0 ? -1 : bench_now_ns() + ms * 1000000;
    return 0;
}

static void a_on_done(void *ud, fh_request *req, int status, fh_response *resp);

static void a_submit(aslot *s)
{
    static const fh_callbacks cb = {a_on_done, NULL};
    s->t0 = bench_now_ns();
    int rc = fh_engine_submit(s->l->e, s->req, &cb, s);
    if (rc != FH_OK) {
        s->l->submit_failures++;
        if (!s->l->first_error[0])
            snprintf(s->l->first_error, sizeof s->l->first_error, "submit: %s",
                     fh_strerror(rc));
    }
}

static void a_on_done(void *ud, fh_request *req, int status, fh_response *resp)
{
    aslot *s = ud;
    aloop *l = s->l;
    int ok = status == FH_OK && response_ok(l->cfg, resp);
    if (!ok && !l->first_error[0])
        snprintf(l->first_error, sizeof l->first_error, "%s",
                 status != FH_OK ? fh_request_error_message(req)
                 : l->cfg->http2 && fh_response_version(resp) != 20 ? "not over HTTP/2"
                                                                    : "non-2xx status");
    fh_response_free(resp);
    int64_t now = bench_now_ns();
    meter_done(&l->m, s->t0, now, ok);
    if (meter_tick(&l->m, now))
        l->stopping = 1;
    if (!l->stopping)
        a_submit(s);
}

int run_fh_async(const bench_cfg *cfg, bench_result *r)
{
    int n = cfg->in_flight > cfg->conns ? cfg->in_flight : cfg->conns, err = 0;
    aloop l = {0};
    l.cfg = cfg;
    l.ep = epoll_create1(EPOLL_CLOEXEC);
    l.timer_at = -1;
    fh_client *c = make_client(cfg, cfg->conns);
    fh_loop_ops ops = {a_watch, a_timer};
    l.e = c ? fh_engine_new(c, &ops, &l) : NULL;
    aslot *slots = calloc((size_t)n, sizeof *slots);
    int rc = l.ep >= 0 && l.e && slots ? 0 : -1;
    for (int i = 0; rc == 0 && i < n; i++) {
        slots[i].l = &l;
        slots[i].req = fh_request_new("GET", cfg->url, &err);
        if (!slots[i].req) {
            snprintf(r->note, sizeof r->note, "fh_request_new: %s", fh_strerror(err));
            rc = -1;
        } else if (cfg->fresh) {
            fh_request_add_header(slots[i].req, "Connection", "close");
        }
    }
    if (rc == 0) {
        meter_start(&l.m, cfg);
        for (int i = 0; i < n; i++)
            a_submit(&slots[i]);
        struct epoll_event evs[256];
        while (!l.stopping) {
            int tmo = 10; /* wake up now and then to close the window */
            if (l.timer_at >= 0) {
                int64_t d = l.timer_at - bench_now_ns();
                tmo = d <= 0 ? 0 : d < 10000000 ? (int)((d + 999999) / 1000000) : 10;
            }
            int k = epoll_wait(l.ep, evs, 256, tmo);
            if (k < 0 && errno != EINTR)
                break;
            for (int i = 0; i < k; i++) {
                uint32_t e = evs[i].events;
                int ev = ((e & EPOLLIN) ? FH_WATCH_READ : 0) |
                         ((e & EPOLLOUT) ? FH_WATCH_WRITE : 0) |
                         ((e & (EPOLLERR | EPOLLHUP)) ? FH_WATCH_ERROR : 0);
                fh_engine_socket_action(l.e, evs[i].data.fd, ev);
            }
            int64_t now = bench_now_ns();
            if (l.timer_at >= 0 && now >= l.timer_at) {
                l.timer_at = -1;
                fh_engine_socket_action(l.e, FH_SOCKET_TIMEOUT, 0);
            }
            if (meter_tick(&l.m, now))
                l.stopping = 1;
            if (fh_engine_pending(l.e) == 0 && !l.stopping)
                break; /* every submit failed */
        }
        l.stopping = 1;
        meter_finish(&l.m, r);
        if (l.first_error[0] && !r->note[0])
            snprintf(r->note, sizeof r->note, "first error: %s", l.first_error);
    } else if (!r->note[0]) {
        snprintf(r->note, sizeof r->note, "cannot set up the engine");
    }
    fh_engine_free(l.e); /* cancels what is still in flight */
    for (int i = 0; slots && i < n; i++)
        fh_request_free(slots[i].req);
    free(slots);
    fh_client_free(c);
    free(l.reg);
    if (l.ep >= 0)
        close(l.ep);
    return rc;
}
