/*
 * shared.c — the client's shared engine: where blocking calls meet on
 * multiplexed connections (docs/architecture.md, "Which engine drives a
 * shared connection").
 *
 * A blocking call runs a private engine for the length of the call, too
 * short-lived to be the home of an HTTP/2 connection that other threads'
 * requests should ride on. So a blocking call that may use HTTP/2 (its
 * mode is not FH_HTTP2_OFF, the origin is not known to answer HTTP/1.1,
 * and its response is buffered and its body in memory) is handed to one
 * engine per client, run by a client-owned thread started on first need:
 * the call posts a note to that engine's inbox, the engine submits the
 * request, and its completion wakes the calling thread through a condition
 * variable. The calling thread runs its wait hooks meanwhile (Python checks
 * for signals there), and a hook that stops the call cancels it in the
 * shared engine. 16 threads on one client thus share one connection.
 *
 * Everything else (streamed responses, reader bodies, HTTP/1.1 origins)
 * stays on the caller's private engine, without a thread hop.
 */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One blocking call handed over; it lives on the caller's stack, and the
 * shared thread touches it only until it says done (under mu). */
typedef struct fh__call {
    fh__note submit, cancel;
    fh_request *req;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;              /* on_done came (or the submit failed) */
    int cancel_posted, cancel_seen;
    int status;
    int stop_code;         /* the hook's value, when a hook stopped the call */
    fh_response *resp;
} fh__call;

struct fh__shared {
    pthread_mutex_t lock;  /* guards starting and stopping (fork-registered) */
    fh__fork_lock fork_node;
    pthread_t thread;
    fh_engine *engine;
    fh__note stop;
    int running, stopping;
    unsigned long gen;     /* fork generation the thread runs in */
};

#define CALL(n, member) ((fh__call *)(void *)((char *)(n) - offsetof(fh__call, member)))

static void finish(fh__call *c, int status, fh_response *resp)
{
    pthread_mutex_lock(&c->mu);
    c->status = status;
    c->resp = resp;
    c->done = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void on_done(void *ud, fh_request *req, int status, fh_response *resp)
{
    (void)req;
    finish(ud, status, resp); /* the call is the caller's from here on */
}

static const fh_callbacks callbacks = {on_done, NULL};

/* The shared engine's notes: a call to submit or cancel, or stop. */
static void on_note(fh_engine *e, fh__note *n)
{
    fh__shared *s = e->note_ud;
    if (n == &s->stop) {
        s->stopping = 1;
        return;
    }
    if (n->kind == FH__NOTE_SUBMIT) {
        fh__call *c = CALL(n, submit);
        int rc = fh_engine_submit(e, c->req, &callbacks, c);
        if (rc != FH_OK)
            finish(c, rc, NULL);
        return;
    }
    fh__call *c = CALL(n, cancel);
    pthread_mutex_lock(&c->mu);
    if (!c->done && c->req->xfer && c->req->xfer->engine == e) {
        fh_engine_cancel(e, c->req); /* no callback follows */
        c->done = 1;
        c->status = c->stop_code;
    }
    c->cancel_seen = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void *run(void *arg)
{
    fh__shared *s = arg;
    while (!s->stopping)
        if (fh_engine_poll(s->engine, -1) < 0)
            break;
    return NULL;
}

/* Starts the thread and its engine (lock held). In a forked child the
 * parent's thread does not exist: its engine is dropped (fork-safe) and a
 * new pair started. */
static int start(fh_client *cl, fh__shared *s)
{
    if (s->running && s->gen == fh__fork_gen())
        return FH_OK;
    if (s->running) { /* inherited: the thread was the parent's */
        fh_engine_free(s->engine);
        s->engine = NULL;
        s->running = 0;
    }
    fh_engine *e = fh_engine_new(cl, NULL, NULL);
    if (!e)
        return FH_ENOMEM;
    e->note_hook = on_note;
    e->note_ud = s;
    /* Its callbacks wake callers on other threads, whose next request
     * looks in the pool: a connection kept hot until the action ends
     * would not be there yet, and they would open another. */
    e->no_hot = 1;
    int rc = fh__engine_wake_fd(e);
    if (rc == FH_OK && fh_engine_backend_fd(e) < 0)
        rc = FH_ELOOP;
    if (rc != FH_OK) {
        fh_engine_free(e);
        return rc;
    }
    /* Signals stay with the application's threads (as for resolver threads). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    s->engine = e;
    s->stopping = 0;
    int err = pthread_create(&s->thread, NULL, run, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        fh_engine_free(e);
        s->engine = NULL;
        return FH_ENOMEM;
    }
    s->running = 1;
    s->gen = fh__fork_gen();
    return FH_OK;
}

int fh__shared_wanted(fh_client *cl, const fh_request *req)
{
    int mode = req->http2 >= 0 ? req->http2 : cl->http2;
    if (mode == FH_HTTP2_OFF || req->stream || req->body_fn || req->expect_continue)
        return 0;
    if (!req->url.tls && mode != FH_HTTP2_ONLY)
        return 0; /* cleartext HTTP/2 only by prior knowledge */
    fh__pool_host *h = fh__pool_host_get(&cl->pool, req->pool_key);
    return h && __atomic_load_n(&h->proto, __ATOMIC_RELAXED) != 11;
}

static int64_t now_ms(void)
{
    return fh__now_us() / 1000;
}

/* Waits for c to be done, running on_wait every interval. */
static void wait_call(fh__call *c, fh__shared *s, const fh_wait_hooks *hooks)
{
    int64_t every = hooks && hooks->on_wait && hooks->interval_ms > 0 ? hooks->interval_ms : 0;
    int64_t next = every ? now_ms() + every : 0;
    pthread_mutex_lock(&c->mu);
    while (!c->done || (c->cancel_posted && !c->cancel_seen)) {
        if (!next || c->cancel_posted) {
            pthread_cond_wait(&c->cv, &c->mu);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t left = next - now_ms();
        if (left > 0) {
            ts.tv_sec += left / 1000;
            ts.tv_nsec += (left % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) != ETIMEDOUT)
                continue;
        }
        pthread_mutex_unlock(&c->mu);
        int rc = hooks->on_wait(hooks->ud); /* the caller's code: no lock held */
        pthread_mutex_lock(&c->mu);
        next = now_ms() + every;
        if (rc < 0 && !c->done) {
            c->stop_code = rc;
            c->cancel_posted = 1;
            fh__wakeup_post(&s->engine->wake, &c->cancel);
        }
    }
    pthread_mutex_unlock(&c->mu);
}

int fh__shared_send(fh_client *cl, fh_request *req, const fh_wait_hooks *hooks,
                    fh_response **out)
{
    fh__shared *s = cl->shared;
    pthread_mutex_lock(&s->lock);
    int rc = start(cl, s);
    pthread_mutex_unlock(&s->lock);
    if (rc != FH_OK)
        return rc;
    fh__call c;
    memset(&c, 0, sizeof c);
    c.req = req;
    c.submit.kind = FH__NOTE_SUBMIT;
    c.cancel.kind = FH__NOTE_CANCEL;
    pthread_mutex_init(&c.mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c.cv, &ca);
    pthread_condattr_destroy(&ca);
    fh__wakeup_post(&s->engine->wake, &c.submit);
    wait_call(&c, s, hooks);
    pthread_cond_destroy(&c.cv);
    pthread_mutex_destroy(&c.mu);
    if (c.status == c.stop_code && c.stop_code)
        fh__request_fail(req, "stopped by a wait hook");
    *out = c.status == FH_OK ? c.resp : NULL;
    return c.status;
}

int fh__shared_init(fh_client *cl)
{
    fh__shared *s = calloc(1, sizeof *s);
    if (!s || pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        return FH_ENOMEM;
    }
    fh__fork_register(&s->fork_node, &s->lock);
    s->stop.kind = FH__NOTE_STOP;
    cl->shared = s;
    return FH_OK;
}

void fh__shared_free(fh_client *cl)
{
    fh__shared *s = cl->shared;
    if (!s)
        return;
    if (s->running && s->gen == fh__fork_gen()) {
        fh__wakeup_post(&s->engine->wake, &s->stop);
        pthread_join(s->thread, NULL);
    }
    if (s->engine)
        fh_engine_free(s->engine); /* in a forked child: drops the parent's, touches nothing */
    fh__fork_unregister(&s->fork_node);
    pthread_mutex_destroy(&s->lock);
    free(s);
    cl->shared = NULL;
}
