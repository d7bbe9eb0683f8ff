/* timer.c — a binary min-heap of deadlines with lazy rescheduling (timer.h). */
#include "timer.h"

#include <stdlib.h>

#include "fasthttp/errors.h"

static void place(fh__heap *h, size_t i, fh__timer *t)
{
    h->v[i] = t;
    t->idx = i + 1;
}

static void sift_up(fh__heap *h, size_t i)
{
    fh__timer *t = h->v[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->v[parent]->at <= t->at)
            break;
        place(h, i, h->v[parent]);
        i = parent;
    }
    place(h, i, t);
}

static void sift_down(fh__heap *h, size_t i)
{
    fh__timer *t = h->v[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->v[c + 1]->at < h->v[c]->at)
            c++;
        if (t->at <= h->v[c]->at)
            break;
        place(h, i, h->v[c]);
        i = c;
    }
    place(h, i, t);
}

int fh__heap_reserve(fh__heap *h, size_t n)
{
    if (n <= h->cap)
        return FH_OK;
    size_t cap = h->cap ? h->cap : 64;
    while (cap < n)
        cap *= 2;
    fh__timer **v = realloc(h->v, cap * sizeof *v);
    if (!v)
        return FH_ENOMEM;
    h->v = v;
    h->cap = cap;
    return FH_OK;
}

static int push(fh__heap *h, fh__timer *t)
{
    if (h->n == h->cap && fh__heap_reserve(h, h->n + 1) != FH_OK)
        return FH_ENOMEM;
    place(h, h->n++, t);
    sift_up(h, h->n - 1);
    return FH_OK;
}

/* Takes the entry at i out, keeping the heap ordered. */
static void remove_at(fh__heap *h, size_t i)
{
    fh__timer *t = h->v[i];
    t->idx = 0;
    if (--h->n == i)
        return;
    place(h, i, h->v[h->n]);
    if (i > 0 && h->v[i]->at < h->v[(i - 1) / 2]->at)
        sift_up(h, i);
    else
        sift_down(h, i);
}

void fh__heap_free(fh__heap *h)
{
    for (size_t i = 0; i < h->n; i++)
        h->v[i]->idx = 0;
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}

int fh__timer_set(fh__heap *h, fh__timer *t, int64_t due)
{
    t->due = due;
    if (!due) {
        fh__timer_clear(h, t);
        return FH_OK;
    }
    if (!t->idx) {
        t->at = due;
        return push(h, t);
    }
    if (due < t->at) { /* earlier: the heap must know now */
        t->at = due;
        sift_up(h, t->idx - 1);
    }
    return FH_OK; /* later: found out when `at` comes */
}

void fh__timer_clear(fh__heap *h, fh__timer *t)
{
    if (t->idx)
        remove_at(h, t->idx - 1);
}

int64_t fh__heap_next(const fh__heap *h)
{
    return h->n ? h->v[0]->at : 0;
}

fh__timer *fh__heap_pop_due(fh__heap *h, int64_t now)
{
    while (h->n && h->v[0]->at <= now) {
        fh__timer *t = h->v[0];
        if (t->due > now) {     /* moved later meanwhile: look again then */
            t->at = t->due;
            sift_down(h, 0);
            continue;
        }
        remove_at(h, 0);
        return t;
    }
    return NULL;
}
