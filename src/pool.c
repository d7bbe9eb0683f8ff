/*
 * pool.c — keep-alive connections per origin, shared by every engine and
 * thread of a client. All state is behind one mutex; the critical sections
 * are a few pointer moves, so contention stays low.
 *
 * Each origin keeps its idle connections in a LIFO stack: the most recently
 * used connection is the one most likely still open, and the oldest ones
 * sink to the bottom where idle expiry removes them. A pool-wide list of all
 * idle connections (newest first) lets the total limit evict the oldest one
 * and lets expiry stop at the first young connection. Checkout and checkin
 * are O(1) apart from closing expired connections.
 *
 * Requests that find no slot wait in one FIFO. When a slot or a connection
 * frees up, the first waiter that can use it is granted it and its engine
 * is woken through the waiter's wakeup fd.
 *
 * Fork: the pool is stamped with the fork generation (fork.h). In a forked
 * child the first function to take the lock finds the parent's stamp and
 * forgets the parent's state (forget_parent): its idle connections are
 * copies of sockets the parent keeps using, and its queue holds waiters of
 * threads that do not exist here. Connections that were in use at the fork
 * carry the parent's generation and are closed quietly when they come back.
 *
 * The lock is in the fork registry (fork.h): nothing here takes another
 * library lock while holding it, so a fork never waits on a cycle.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "abi.h"


void fh__pool_init(fh__pool *p)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    p->gen = fh__fork_gen();
    fh__fork_register(&p->fork_node, &p->lock);
    p->max_total = 100;
    p->max_per_host = 10;
    p->max_idle_per_host = 10;
    p->idle_timeout_us = 60 * 1000000LL;
}

static uint64_t hash_key(const char *s)
{
    /* FNV-1a: short keys, no adversary controls them beyond host names. */
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

static int grow_buckets(fh__pool *p)
{
    size_t n = p->nbuckets ? p->nbuckets * 2 : 16;
    fh__pool_host **b = calloc(n, sizeof *b);
    if (!b)
        return FH_ENOMEM;
    for (size_t i = 0; i < p->nbuckets; i++) {
        fh__pool_host *h = p->buckets[i];
        while (h) {
            fh__pool_host *next = h->hnext;
            size_t j = hash_key(h->key) & (n - 1);
            h->hnext = b[j];
            b[j] = h;
            h = next;
        }
    }
    free(p->buckets);
    p->buckets = b;
    p->nbuckets = n;
    return FH_OK;
}

fh__pool_host *fh__pool_host_get(fh__pool *p, const char *key)
{
    fh__pool_lock(p);
    fh__pool_host *h = NULL;
    if (p->nbuckets) {
        for (h = p->buckets[hash_key(key) & (p->nbuckets - 1)]; h; h = h->hnext)
            if (strcmp(h->key, key) == 0)
                break;
    }
    if (!h && (p->nhosts < p->nbuckets || grow_buckets(p) == FH_OK)) {
        h = calloc(1, sizeof *h);
        if (h && !(h->key = strdup(key))) {
            free(h);
            h = NULL;
        }
        if (h) {
            size_t j = hash_key(key) & (p->nbuckets - 1);
            h->hnext = p->buckets[j];
            p->buckets[j] = h;
            p->nhosts++;
        }
    }
    fh__pool_unlock(p);
    return h;
}

/* ---- idle lists (lock held) ------------------------------------------- */

static void idle_push(fh__pool *p, fh__conn *c)
{
    fh__pool_host *h = c->host;
    c->prev = NULL;
    c->next = h->idle_top;
    if (h->idle_top)
        h->idle_top->prev = c;
    h->idle_top = c;
    h->idle++;
    c->lprev = NULL;
    c->lnext = p->lru_head;
    if (p->lru_head)
        p->lru_head->lprev = c;
    else
        p->lru_tail = c;
    p->lru_head = c;
    p->idle++;
}

static void idle_unlink(fh__pool *p, fh__conn *c)
{
    fh__pool_host *h = c->host;
    if (c->prev)
        c->prev->next = c->next;
    else
        h->idle_top = c->next;
    if (c->next)
        c->next->prev = c->prev;
    h->idle--;
    if (c->lprev)
        c->lprev->lnext = c->lnext;
    else
        p->lru_head = c->lnext;
    if (c->lnext)
        c->lnext->lprev = c->lprev;
    else
        p->lru_tail = c->lprev;
    p->idle--;
    c->prev = c->next = c->lprev = c->lnext = NULL;
}

/* Gives back the slot of a connection (open or reserved) of h. */
static void free_slot(fh__pool *p, fh__pool_host *h)
{
    h->open--;
    p->open--;
}

/* Closes an idle connection and frees its slot. */
static void idle_drop(fh__pool *p, fh__conn *c)
{
    idle_unlink(p, c);
    free_slot(p, c->host);
    fh__conn_close(c);
}

static void expire_idle(fh__pool *p, int64_t now)
{
    while (p->lru_tail && now - p->lru_tail->idle_since_us > p->idle_timeout_us)
        idle_drop(p, p->lru_tail);
}

int fh__conn_fits(const fh__conn *c, int http2)
{
    if (c->codec == &fh__h2_codec)
        return http2 != FH_HTTP2_OFF;
    if (http2 != FH_HTTP2_ON)
        return http2 == FH_HTTP2_OFF;
    /* An HTTPS connection opened without offering h2 (for a request that
     * asked for HTTP/1.1) is no answer to one that prefers HTTP/2: the
     * server was never asked. Reused, the newest idle connection first, it
     * would keep the origin on HTTP/1.1 for as long as it lives. It fits
     * once the origin is known to answer ALPN with http/1.1. */
    return c->http2 != FH_HTTP2_OFF || !c->tls ||
           __atomic_load_n(&c->host->proto, __ATOMIC_RELAXED) == 11;
}

/* Pops the newest idle connection of h that fits the exchange's HTTP/2
 * mode, not yet checked for liveness. */
static fh__conn *pop_idle(fh__pool *p, fh__pool_host *h, int http2)
{
    for (fh__conn *c = h->idle_top; c; c = c->next) {
        if (fh__conn_fits(c, http2)) {
            idle_unlink(p, c);
            return c;
        }
    }
    return NULL;
}

/* Pops a live idle connection of h that fits (the newest first), closing
 * dead ones on the way. */
static fh__conn *take_idle(fh__pool *p, fh__pool_host *h, int http2)
{
    fh__conn *c;
    while ((c = pop_idle(p, h, http2))) {
        if (fh__conn_alive(c)) {
            p->reused++;
            return c;
        }
        free_slot(p, h);
        fh__conn_close(c);
    }
    return NULL;
}

/* Reserves a slot for a new connection if the limits allow; evicts the
 * oldest idle connection of another origin when only the total is full,
 * and the oldest idle one of h when h is full. */
static int reserve_slot(fh__pool *p, fh__pool_host *h)
{
    if (h->open >= p->max_per_host) {
        /* Callers come here when no idle connection of h fits the request
         * (HTTP/2 for an HTTP/1.1-only request, or the reverse): the oldest
         * of them makes room, else the request would wait for it to expire. */
        fh__conn *old = h->idle_top;
        if (!old)
            return 0;
        while (old->next)
            old = old->next;
        idle_drop(p, old);
    }
    if (p->open >= p->max_total) {
        if (!p->lru_tail)
            return 0;
        idle_drop(p, p->lru_tail);
    }
    h->open++;
    p->open++;
    return 1;
}

/* ---- waiters (lock held) ---------------------------------------------- */

static void wait_unlink(fh__pool *p, fh__waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        p->wait_head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        p->wait_tail = w->prev;
    w->prev = w->next = NULL;
    w->queued = 0;
    p->waiting--;
}

/* The grant reaches the waiting engine through its inbox, which lists
 * exactly the waiters granted, so the engine touches only those. */
static void grant(fh__pool *p, fh__waiter *w, fh__conn *c)
{
    wait_unlink(p, w);
    w->granted = 1;
    w->conn = c;
    w->note.kind = FH__NOTE_GRANT;
    fh__wakeup_post(w->wake, &w->note);
}

/* Takes a grant for its waiter: the connection (or NULL for a slot) to
 * *out, and FH__CHECKOUT_CONN or FH__CHECKOUT_SLOT. The grant's note may
 * still be listed in the engine's inbox (a waiter served within its own
 * checkout, or one that looked before its engine drained the inbox, as
 * after the eventfd was made): it leaves the list here. Left there it
 * would make the inbox look busy, so that the next grant posted to this
 * engine signals nothing and its waiter sleeps forever, and it would
 * outlive its exchange. */
static int take_grant(fh__waiter *w, fh__conn **out)
{
    if (w->wake)
        fh__wakeup_unpost(w->wake, &w->note);
    w->granted = 0;
    *out = w->conn;
    w->conn = NULL;
    return *out ? FH__CHECKOUT_CONN : FH__CHECKOUT_SLOT;
}

/* ---- shared connections (lock held) ------------------------------------ */

/* A multiplexed connection with room is listed in its origin's shared
 * list; only its engine rides on it (docs/architecture.md: a multiplexed
 * connection has one home engine, so its codec is single-threaded). */
static void shared_unlink(fh__conn *c)
{
    fh__pool_host *h = c->host;
    if (!c->sprev && h->shared != c)
        return; /* not listed */
    if (c->sprev)
        c->sprev->snext = c->snext;
    else
        h->shared = c->snext;
    if (c->snext)
        c->snext->sprev = c->sprev;
    c->snext = c->sprev = NULL;
}

static fh__conn *take_shared(fh__pool_host *h, fh_engine *e, int http2)
{
    if (http2 == FH_HTTP2_OFF)
        return NULL;
    for (fh__conn *c = h->shared; c; c = c->snext)
        if (c->engine == e && c->nex < c->max_streams)
            return c;
    return NULL;
}

/* Serves queued waiters while something can be handed over. */
static void serve_waiters(fh__pool *p)
{
    fh__waiter *w = p->wait_head;
    while (w) {
        fh__waiter *next = w->next;
        fh__conn *c = take_idle(p, w->host, w->http2);
        if (c)
            grant(p, w, c);
        else if (reserve_slot(p, w->host))
            grant(p, w, NULL);
        else if (p->open >= p->max_total && !p->lru_tail)
            break; /* nobody further back can be served either */
        w = next;
    }
}

/* ---- fork ------------------------------------------------------------- */

/*
 * The pool was inherited from the parent process. Its idle connections
 * are copies of the parent's sockets: they are closed here without a TLS
 * close_notify (it would go out on the parent's connection), and close(2)
 * of a copy leaves the parent's socket open. Counts start again from what
 * this process holds, which is nothing: connections in use at the fork
 * belong to transfers that the engines fail and drop (fh__xfer_forked), or
 * to threads that do not exist in the child. The queue's waiters belong to
 * such threads too (their memory is never freed here), so the list is
 * dropped without being walked. Hosts and their circuit breakers stay.
 */
static void forget_parent(fh__pool *p, unsigned long gen)
{
    while (p->lru_head) {
        fh__conn *c = p->lru_head;
        idle_unlink(p, c);
        fh__conn_close_quiet(c);
    }
    for (size_t i = 0; i < p->nbuckets; i++)
        for (fh__pool_host *h = p->buckets[i]; h; h = h->hnext) {
            h->open = h->idle = 0;
            h->idle_top = NULL;
            h->shared = NULL; /* driven by engines that fail and forget them */
            fh__tls_sessions_clear(h); /* the parent's tickets are the parent's */
        }
    p->open = p->idle = p->waiting = 0;
    p->wait_head = p->wait_tail = NULL;
    p->gen = gen;
}

void fh__pool_lock(fh__pool *p)
{
    pthread_mutex_lock(&p->lock);
    unsigned long gen = fh__fork_gen();
    if (p->gen != gen)
        forget_parent(p, gen);
}

void fh__pool_unlock(fh__pool *p)
{
    pthread_mutex_unlock(&p->lock);
}

/* A waiter queued before the fork: its queue was dropped with the parent's
 * state, and what it was granted is a copy of a parent's connection. */
static void forget_waiter(fh__waiter *w)
{
    if (w->granted && w->conn)
        fh__conn_close_quiet(w->conn);
    w->prev = w->next = NULL;
    w->queued = w->granted = 0;
    w->conn = NULL;
    w->note.posted = 0; /* its inbox was forgotten with the engine's */
    w->note.next = NULL;
}

/* ---- public to the engine --------------------------------------------- */

/* One try of fh__pool_checkout under the lock; an idle connection taken
 * goes to *idle, unchecked (and already counted as reused). */
static int checkout_locked(fh__pool *p, fh__pool_host *h, fh_engine *e, fh__waiter *w,
                           int fresh, int http2, fh__conn **out, fh__conn **idle)
{
    int rc = FH_EAGAIN;
    *out = NULL;
    fh__pool_lock(p);
    expire_idle(p, fh__now_us());
    w->http2 = http2;
    if (!fresh && (*out = take_shared(h, e, http2))) {
        rc = FH__CHECKOUT_SHARED; /* no slot needed: a stream on a connection */
    } else if (!fresh && !p->wait_head && (*idle = pop_idle(p, h, http2))) {
        p->reused++;
        rc = FH__CHECKOUT_CONN;
    } else if (!p->wait_head && reserve_slot(p, h)) {
        rc = FH__CHECKOUT_SLOT;
    } else {
        /* FIFO fairness: join the queue behind earlier waiters. */
        w->host = h;
        w->gen = p->gen;
        w->granted = 0;
        w->conn = NULL;
        w->next = NULL;
        w->prev = p->wait_tail;
        if (p->wait_tail)
            p->wait_tail->next = w;
        else
            p->wait_head = w;
        p->wait_tail = w;
        w->queued = 1;
        p->waiting++;
        serve_waiters(p);
        if (w->granted)
            rc = take_grant(w, out);
    }
    fh__pool_unlock(p);
    return rc;
}

/*
 * An idle connection is checked for liveness (a system call) after the
 * lock is released: every thread of a busy client takes this lock for
 * each request, and none should wait while another is in the kernel. A
 * dead one gives its slot back (which may serve a waiter) and is closed
 * outside the lock too, since a TLS close does I/O; then the checkout
 * starts over.
 */
int fh__pool_checkout(fh__pool *p, fh__pool_host *h, fh_engine *e, fh__waiter *w, int fresh,
                      int http2, fh__conn **out)
{
    for (;;) {
        fh__conn *idle = NULL;
        int rc = checkout_locked(p, h, e, w, fresh, http2, out, &idle);
        if (!idle)
            return rc;
        if (fh__conn_alive(idle)) {
            *out = idle;
            return rc;
        }
        fh__pool_lock(p);
        p->reused--;
        free_slot(p, h);
        serve_waiters(p);
        fh__pool_unlock(p);
        fh__conn_close(idle);
    }
}

int fh__pool_waiter_take(fh__pool *p, fh__waiter *w, fh__conn **out)
{
    int rc = FH_EAGAIN;
    fh__pool_lock(p);
    if (w->gen != p->gen)
        forget_waiter(w); /* never served here; the engine fails its transfer */
    else if (w->granted)
        rc = take_grant(w, out);
    fh__pool_unlock(p);
    return rc;
}

void fh__pool_waiter_cancel(fh__pool *p, fh__waiter *w)
{
    fh__pool_lock(p);
    if (w->gen != p->gen) {
        forget_waiter(w);
        fh__pool_unlock(p);
        return;
    }
    if (w->queued)
        wait_unlink(p, w);
    if (w->wake)
        fh__wakeup_unpost(w->wake, &w->note);
    if (w->granted) {
        w->granted = 0;
        if (w->conn) {
            w->conn->idle_since_us = fh__now_us();
            idle_push(p, w->conn);
        } else {
            free_slot(p, w->host);
        }
        w->conn = NULL;
        serve_waiters(p);
    }
    fh__pool_unlock(p);
}

void fh__pool_opened(fh__pool *p, fh__conn *c, fh__pool_host *h)
{
    c->host = h;
    fh__pool_lock(p);
    p->created++;
    fh__pool_unlock(p);
}

void fh__pool_release(fh__pool *p, fh__conn *c, int reusable)
{
    fh__pool_lock(p);
    if (c->gen != p->gen) {
        /* In use when the process forked: the parent's, and not counted
         * here (forget_parent reset the counts). */
        fh__pool_unlock(p);
        fh__conn_close_quiet(c);
        return;
    }
    fh__pool_host *h = c->host;
    shared_unlink(c);
    if (reusable && h->idle < p->max_idle_per_host) {
        c->idle_since_us = fh__now_us();
        c->rbuf.len = c->rpos = 0;
        idle_push(p, c);
        c = NULL;
    } else {
        free_slot(p, h);
    }
    serve_waiters(p);
    fh__pool_unlock(p);
    if (c)
        fh__conn_close(c); /* outside the lock: TLS shutdown does I/O */
}

void fh__pool_share(fh__pool *p, fh__conn *c, int has_room)
{
    fh__pool_lock(p);
    if (c->gen == p->gen) {
        shared_unlink(c);
        if (has_room) {
            c->sprev = NULL;
            c->snext = c->host->shared;
            if (c->snext)
                c->snext->sprev = c;
            c->host->shared = c;
        }
    }
    fh__pool_unlock(p);
}

void fh__pool_note_proto(fh__pool *p, fh__pool_host *h, int proto)
{
    __atomic_store_n(&h->proto, proto, __ATOMIC_RELAXED); /* read without the lock */
}

void fh__pool_forget(fh__pool *p, fh__conn *c)
{
    fh__pool_lock(p);
    if (c->gen == p->gen) {
        shared_unlink(c);
        free_slot(p, c->host);
        serve_waiters(p);
    }
    fh__pool_unlock(p);
}

void fh__pool_slot_release(fh__pool *p, fh__pool_host *h)
{
    fh__pool_lock(p);
    free_slot(p, h);
    serve_waiters(p);
    fh__pool_unlock(p);
}

void fh__pool_destroy(fh__pool *p)
{
    /* A client freed in a forked child sends nothing on the parent's
     * connections: they are forgotten (closed quietly) first. */
    unsigned long gen = fh__fork_gen();
    if (p->gen != gen)
        forget_parent(p, gen);
    while (p->lru_head)
        idle_drop(p, p->lru_head);
    for (size_t i = 0; i < p->nbuckets; i++) {
        fh__pool_host *h = p->buckets[i];
        while (h) {
            fh__pool_host *next = h->hnext;
            fh__tls_sessions_clear(h);
            free(h->key);
            free(h);
            h = next;
        }
    }
    free(p->buckets);
    fh__fork_unregister(&p->fork_node);
    pthread_mutex_destroy(&p->lock);
}

int fh_client_pool_stats_sized(fh_client *client, fh_pool_stats *out, size_t size)
{
    if (!client || !out || size < FH__POOL_STATS_SIZE_V1)
        return FH_EINVAL;
    fh_pool_stats st;
    memset(&st, 0, sizeof st);
    fh__pool *p = &client->pool;
    fh__pool_lock(p);
    st.open = p->open;
    st.idle = p->idle;
    st.waiting = p->waiting;
    st.created = p->created;
    st.reused = p->reused;
    st.tls_resumed = __atomic_load_n(&p->tls_resumed, __ATOMIC_RELAXED);
    fh__pool_unlock(p);
    /* The caller's struct is size bytes: an older header's is smaller, a
     * newer one's larger (its fields unknown here read 0). */
    size_t n = size < sizeof st ? size : sizeof st;
    memcpy(out, &st, n);
    if (size > n)
        memset((char *)out + n, 0, size - n);
    return FH_OK;
}
