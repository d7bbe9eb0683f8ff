/*
 * resolve.c — name resolution that never blocks the engine.
 *
 * getaddrinfo() is synchronous, so each lookup runs on its own short-lived
 * detached thread. The thread and the engine share the job through a mutex
 * and a reference count of two: the engine may drop its reference (cancel,
 * timeout) before the lookup finishes, and whichever side lets go last frees
 * the job. The wakeup pointer is only used under the mutex and is cleared by
 * fh__resolve_release(), so a released job never writes to an eventfd the
 * engine may already have closed (or reused for another file).
 */
#include "resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fasthttp/errors.h"

struct fh__resolve_job {
    pthread_mutex_t mu;
    int refs;          /* 2 while both thread and engine hold it */
    int done;          /* the thread has stored its result */
    const char *why;   /* static failure text, NULL on success */
    fh__addrs addrs;   /* result until moved out by fh__resolve_result */
    fh__wakeup *w;     /* NULL once the engine released the job */
    fh__note *note;    /* posted to w when done */
    int port;
    char host[];
};

/* ---- address lists ------------------------------------------------------ */

void fh__addrs_free(fh__addrs *a)
{
    free(a->v);
    a->v = NULL;
    a->n = 0;
}

/* Field-wise so padding (sin_zero, unused sockaddr_storage bytes) never
 * makes two equal addresses look different. */
static int addr_equal(const fh__addr *x, const fh__addr *y)
{
    if (x->ss.ss_family != y->ss.ss_family)
        return 0;
    if (x->ss.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)&x->ss, *b = (const void *)&y->ss;
        return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
    }
    if (x->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)&x->ss, *b = (const void *)&y->ss;
        return a->sin6_port == b->sin6_port && a->sin6_scope_id == b->sin6_scope_id &&
               memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0;
    }
    return x->len == y->len && memcmp(&x->ss, &y->ss, x->len) == 0;
}

/* Keeps the first occurrence of each address. Quadratic, but getaddrinfo
 * returns a handful of entries, and this avoids sorting (order matters). */
static void addrs_dedup(fh__addrs *a)
{
    size_t out = 0;
    for (size_t i = 0; i < a->n; i++) {
        size_t j = 0;
        while (j < out && !addr_equal(&a->v[j], &a->v[i]))
            j++;
        if (j == out)
            a->v[out++] = a->v[i];
    }
    a->n = out;
}

/* Index of the next entry at or after i whose family is (same ? equal to :
 * different from) fam, or n. */
static size_t next_of(const fh__addrs *a, size_t i, sa_family_t fam, int same)
{
    while (i < a->n && (a->v[i].ss.ss_family == fam) != same)
        i++;
    return i;
}

/* RFC 8305 §4: the first family is the one of the first address returned
 * (getaddrinfo already applied RFC 6724 preferences); then alternate, so a
 * broken family costs one connection-attempt delay, not all of them. */
int fh__addrs_interleave(fh__addrs *a)
{
    if (a->n < 2)
        return FH_OK;
    fh__addr *out = malloc(a->n * sizeof *out);
    if (!out)
        return FH_ENOMEM;
    addrs_dedup(a);
    sa_family_t fam = a->v[0].ss.ss_family;
    size_t i = next_of(a, 0, fam, 1), j = next_of(a, 0, fam, 0), k = 0;
    while (i < a->n || j < a->n) {
        if (i < a->n) {
            out[k++] = a->v[i];
            i = next_of(a, i + 1, fam, 1);
        }
        if (j < a->n) {
            out[k++] = a->v[j];
            j = next_of(a, j + 1, fam, 0);
        }
    }
    free(a->v);
    a->v = out;
    return FH_OK;
}

/* Copies the TCP-usable entries of an addrinfo list, then orders them. */
static int addrs_from_ai(const struct addrinfo *ai, fh__addrs *out)
{
    size_t n = 0;
    for (const struct addrinfo *p = ai; p; p = p->ai_next)
        n++;
    out->v = calloc(n ? n : 1, sizeof *out->v);
    out->n = 0;
    if (!out->v)
        return FH_ENOMEM;
    for (const struct addrinfo *p = ai; p; p = p->ai_next) {
        if ((p->ai_family != AF_INET && p->ai_family != AF_INET6) ||
            p->ai_addrlen > sizeof out->v[0].ss)
            continue;
        memcpy(&out->v[out->n].ss, p->ai_addr, p->ai_addrlen);
        out->v[out->n++].len = p->ai_addrlen;
    }
    int rc = fh__addrs_interleave(out);
    if (rc != FH_OK)
        fh__addrs_free(out);
    return rc;
}

/* ---- wakeup ------------------------------------------------------------- */

/* An eventfd: one fd the engine polls for any number of notes; posting to
 * a list that already has notes writes nothing, so a burst of completions
 * costs one wake-up. */
int fh__wakeup_init(fh__wakeup *w)
{
    if (!w->lock_ready) {
        if (pthread_mutex_init(&w->lock, NULL) != 0)
            return FH_ENOMEM;
        w->lock_ready = 1;
    }
    w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return w->fd < 0 ? (errno == ENOMEM ? FH_ENOMEM : FH_EIO) : FH_OK;
}

static void signal_fd(int fd)
{
    uint64_t one = 1;
    /* EAGAIN only if the counter is about to overflow: it is signalled
     * anyway, so nothing is lost by ignoring it. */
    while (write(fd, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

void fh__wakeup_post(fh__wakeup *w, fh__note *n)
{
    pthread_mutex_lock(&w->lock);
    int was_empty = w->head == NULL;
    if (!n->posted) {
        n->posted = 1;
        n->next = NULL;
        if (w->tail)
            w->tail->next = n;
        else
            w->head = n;
        w->tail = n;
    }
    if (was_empty)
        signal_fd(w->fd); /* under the lock: close() cannot race with it */
    pthread_mutex_unlock(&w->lock);
}

void fh__wakeup_unpost(fh__wakeup *w, fh__note *n)
{
    if (!w->lock_ready)
        return;
    pthread_mutex_lock(&w->lock);
    if (n->posted) {
        fh__note **pp = &w->head, *prev = NULL;
        while (*pp && *pp != n) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        if (*pp)
            *pp = n->next;
        if (w->tail == n)
            w->tail = prev;
        n->posted = 0;
        n->next = NULL;
    }
    pthread_mutex_unlock(&w->lock);
}

void fh__wakeup_drain(fh__wakeup *w)
{
    uint64_t v;
    /* Without EFD_SEMAPHORE one read returns the whole count and resets it. */
    while (read(w->fd, &v, sizeof v) < 0 && errno == EINTR) {
    }
}

fh__note *fh__wakeup_pop(fh__wakeup *w)
{
    pthread_mutex_lock(&w->lock);
    fh__note *n = w->head;
    if (n) {
        w->head = n->next;
        if (!w->head)
            w->tail = NULL;
        n->next = NULL;
        n->posted = 0; /* its owner may post it again once it is handled */
    }
    pthread_mutex_unlock(&w->lock);
    return n;
}

void fh__wakeup_close(fh__wakeup *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    if (w->lock_ready)
        pthread_mutex_destroy(&w->lock);
    w->lock_ready = 0;
    w->head = w->tail = NULL;
}

void fh__wakeup_forget(fh__wakeup *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    w->lock_ready = 0; /* may be held by a thread of the parent: made anew */
    w->head = w->tail = NULL;
}

/* ---- numeric hosts ------------------------------------------------------ */

int fh__resolve_numeric(const char *host, int port, fh__addrs *out)
{
    struct in_addr a4;
    struct in6_addr a6;
    int is4 = inet_pton(AF_INET, host, &a4) == 1;
    if (!is4 && inet_pton(AF_INET6, host, &a6) != 1)
        return FH_EAGAIN; /* a name (or a form only getaddrinfo accepts) */
    out->v = calloc(1, sizeof *out->v);
    if (!out->v)
        return FH_ENOMEM;
    out->n = 1;
    if (is4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&out->v[0].ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        sin->sin_addr = a4;
        out->v[0].len = sizeof *sin;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->v[0].ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sin6->sin6_addr = a6;
        out->v[0].len = sizeof *sin6;
    }
    return FH_OK;
}

/* ---- resolver jobs ------------------------------------------------------ */

static void job_free(fh__resolve_job *job)
{
    pthread_mutex_destroy(&job->mu);
    fh__addrs_free(&job->addrs);
    free(job);
}

/* Drops one reference under the lock; the last holder frees the job. */
static void job_unref_locked(fh__resolve_job *job)
{
    int last = --job->refs == 0;
    pthread_mutex_unlock(&job->mu);
    if (last)
        job_free(job);
}

static void job_finish(fh__resolve_job *job, fh__addrs *addrs, const char *why)
{
    pthread_mutex_lock(&job->mu);
    job->addrs = *addrs;
    job->why = why;
    job->done = 1;
    /* Posted under the lock: release() cannot clear w (and the engine
     * cannot close its inbox) between the check and the post. */
    if (job->w)
        fh__wakeup_post(job->w, job->note);
    job_unref_locked(job);
}

static void *resolve_thread(void *arg)
{
    fh__resolve_job *job = arg;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    /* AI_ADDRCONFIG: no IPv6 answers on a host without IPv6, which would
     * only cost failed connection attempts. */
    hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
    char port[16];
    snprintf(port, sizeof port, "%d", job->port);

    fh__addrs addrs = {NULL, 0};
    const char *why = NULL;
    int rc = getaddrinfo(job->host, port, &hints, &res);
    if (rc != 0)
        why = gai_strerror(rc); /* static strings in glibc: safe to keep */
    else if (addrs_from_ai(res, &addrs) != FH_OK)
        why = "out of memory";
    else if (addrs.n == 0)
        why = "no IPv4 or IPv6 address for host";
    if (res)
        freeaddrinfo(res);
    if (why)
        fh__addrs_free(&addrs);
    job_finish(job, &addrs, why);
    return NULL;
}

/* Detached, and with every signal blocked: the application's signal handlers
 * (Python's SIGINT among them) must run on its own threads, not ours. */
static int spawn(fh__resolve_job *job)
{
    pthread_attr_t attr;
    sigset_t all, old;
    if (pthread_attr_init(&attr) != 0)
        return FH_ENOMEM;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    int e = pthread_create(&t, &attr, resolve_thread, job);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (e == 0)
        return FH_OK;
    return e == EAGAIN || e == ENOMEM ? FH_ENOMEM : FH_ERESOLVE;
}

int fh__resolve_start(fh__resolve_job **out, const char *host, int port, fh__wakeup *w,
                      fh__note *note)
{
    size_t hl = strlen(host);
    fh__resolve_job *job = calloc(1, sizeof *job + hl + 1);
    if (!job)
        return FH_ENOMEM;
    memcpy(job->host, host, hl + 1);
    job->port = port;
    job->w = w;
    job->note = note;
    job->refs = 2;
    if (pthread_mutex_init(&job->mu, NULL) != 0) {
        free(job);
        return FH_ENOMEM;
    }
    int rc = spawn(job);
    if (rc != FH_OK) {
        job_free(job);
        return rc;
    }
    *out = job;
    return FH_OK;
}

/* Call once the job is done; the address list is moved out, so a second
 * call after success yields an empty list. */
int fh__resolve_result(fh__resolve_job *job, fh__addrs *out, const char **why)
{
    pthread_mutex_lock(&job->mu);
    int rc = FH_EAGAIN;
    if (job->done && job->why) {
        if (why)
            *why = job->why;
        rc = FH_ERESOLVE;
    } else if (job->done) {
        *out = job->addrs;
        job->addrs.v = NULL;
        job->addrs.n = 0;
        rc = FH_OK;
    }
    pthread_mutex_unlock(&job->mu);
    return rc;
}

void fh__resolve_release(fh__resolve_job *job)
{
    if (!job)
        return;
    pthread_mutex_lock(&job->mu);
    job->w = NULL;
    job_unref_locked(job);
}
