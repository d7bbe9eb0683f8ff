/*
 * url_cache.c — a parsed request URL shared by the requests that use the
 * same one, and each thread's memory of the last one.
 *
 * A client sends the same URL again and again (an API endpoint, a file);
 * parsing it, building its target, Host value, pool key and the URL shown
 * in messages took seven allocations and about 3,000 instructions per
 * request. A URL is parsed once per thread while it stays the same: the
 * next request with the same bytes takes a reference to the same immutable
 * block. Parsing is a pure function of the bytes, so sharing changes no
 * result. URLs with credentials (user:pass@) are never kept: their secrets
 * stay with the request that carried them.
 */
#include "internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct fh__url_shared {
    atomic_int refs;
    fh__url url;
    char *url_str;  /* the URL as used, without user:password@ */
    char *pool_key;
    size_t len;     /* the input's bytes follow */
    char input[];
};

static _Thread_local fh__url_shared *last; /* this thread's, one reference */
static pthread_key_t last_key;             /* drops it when the thread ends */
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

void fh__url_shared_unref(fh__url_shared *s)
{
    if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    fh__url_free(&s->url);
    free(s->url_str);
    free(s->pool_key);
    free(s);
}

static void thread_end(void *p)
{
    fh__url_shared_unref(p);
    last = NULL;
}

static void make_key(void)
{
    if (pthread_key_create(&last_key, thread_end) != 0)
        last_key = (pthread_key_t)-1;
}

/* Remembers s as this thread's last URL (taking a reference). */
static void remember(fh__url_shared *s)
{
    pthread_once(&key_once, make_key);
    if (last_key == (pthread_key_t)-1)
        return; /* no destructor: keeping it would leak at thread exit */
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    fh__url_shared_unref(last);
    last = s;
    pthread_setspecific(last_key, s);
}

int fh__url_shared_get(const char *s, size_t len, fh__url_shared **out, fh__url *own,
                       const char **why)
{
    fh__url_shared *l = last;
    if (l && l->len == len && memcmp(l->input, s, len) == 0) {
        atomic_fetch_add_explicit(&l->refs, 1, memory_order_relaxed);
        *out = l;
        return FH_OK;
    }
    *out = NULL;
    fh__url_shared *n = malloc(sizeof *n + len + 1);
    if (!n)
        return FH_ENOMEM;
    memset(n, 0, sizeof *n);
    atomic_init(&n->refs, 1);
    int rc = fh__url_parse(&n->url, s, len, why);
    if (rc == FH_OK && n->url.userinfo) {
        *own = n->url; /* credentials: the parse is the caller's alone */
        free(n);
        return FH_EAGAIN;
    }
    if (rc == FH_OK) {
        n->url_str = fh__url_strip_userinfo(n->url.href, strlen(n->url.href));
        n->pool_key = fh__url_pool_key(&n->url);
        if (!n->url_str || !n->pool_key)
            rc = FH_ENOMEM;
    }
    if (rc != FH_OK) {
        fh__url_shared_unref(n);
        return rc;
    }
    memcpy(n->input, s, len);
    n->input[len] = '\0';
    n->len = len;
    remember(n);
    *out = n;
    return FH_OK;
}

const fh__url *fh__url_shared_url(const fh__url_shared *s)
{
    return &s->url;
}

char *fh__url_shared_str(const fh__url_shared *s)
{
    return s->url_str;
}

char *fh__url_shared_pool_key(const fh__url_shared *s)
{
    return s->pool_key;
}
