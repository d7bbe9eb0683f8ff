/*
 * h2_mem.c — a small-block allocator for one nghttp2 session.
 *
 * nghttp2 allocates a few objects per stream (the stream, outbound frame
 * items, header blocks) and frees them when the stream ends. With a
 * hundred streams in flight these sizes outnumber what malloc's
 * per-thread caches hold, so every allocation took malloc's slow path;
 * callgrind showed malloc and free as the largest cost of a request after
 * nghttp2 itself. Here, blocks up to 2 KiB come in six power-of-two
 * classes, and a freed block waits on its class's list for the next
 * allocation of that class. The lists are capped, so memory kept is
 * bounded (at most FREE_MAX blocks per class) whatever the traffic was.
 *
 * Each block starts with a 16-byte header holding its class (or LARGE for
 * a block from malloc as is), so free and realloc need no size.
 */
#include "h2_mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MIN_SHIFT 6   /* the smallest class: 64 bytes */
#define HDR 16        /* keeps the user's pointer 16-byte aligned */
#define LARGE 0xff
#define FREE_MAX 128  /* blocks kept per class: at most 504 KiB in all */

static int class_of(size_t n)
{
    size_t total = n + HDR;
    for (int k = 0; k < FH__H2_MEM_CLASSES; k++)
        if (total <= (size_t)1 << (MIN_SHIFT + k))
            return k;
    return LARGE;
}

static void *block_alloc(fh__h2_mem *m, size_t n)
{
    int k = class_of(n);
    uint8_t *b;
    if (k != LARGE && m->free_list[k]) {
        b = m->free_list[k];
        m->free_list[k] = *(void **)(b + HDR);
        m->nfree[k]--;
    } else {
        b = malloc(k == LARGE ? n + HDR : (size_t)1 << (MIN_SHIFT + k));
        if (!b)
            return NULL;
    }
    b[0] = (uint8_t)k;
    return b + HDR;
}

static void block_free(fh__h2_mem *m, void *p)
{
    if (!p)
        return;
    uint8_t *b = (uint8_t *)p - HDR;
    int k = b[0];
    if (k == LARGE || m->nfree[k] >= FREE_MAX) {
        free(b);
        return;
    }
    *(void **)p = m->free_list[k];
    m->free_list[k] = b;
    m->nfree[k]++;
}

static size_t block_size(const void *p)
{
    const uint8_t *b = (const uint8_t *)p - HDR;
    return b[0] == LARGE ? SIZE_MAX : ((size_t)1 << (MIN_SHIFT + b[0])) - HDR;
}

static void *mem_malloc(size_t n, void *ud)
{
    return block_alloc(ud, n);
}

static void mem_free(void *p, void *ud)
{
    block_free(ud, p);
}

static void *mem_calloc(size_t count, size_t size, void *ud)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = block_alloc(ud, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

static void *mem_realloc(void *p, size_t n, void *ud)
{
    fh__h2_mem *m = ud;
    if (!p)
        return block_alloc(m, n);
    if (n == 0) {
        block_free(m, p);
        return NULL;
    }
    uint8_t *b = (uint8_t *)p - HDR;
    if (b[0] == LARGE && class_of(n) == LARGE) {
        uint8_t *nb = realloc(b, n + HDR);
        return nb ? nb + HDR : NULL;
    }
    size_t have = block_size(p);
    if (b[0] != LARGE && n <= have)
        return p;
    void *q = block_alloc(m, n);
    if (!q)
        return NULL;
    /* A LARGE block holds at least n' > 2 KiB - HDR bytes, more than any
     * small class; copy what both can hold. */
    size_t keep = b[0] == LARGE ? n : have;
    memcpy(q, p, keep < n ? keep : n);
    block_free(m, p);
    return q;
}

void fh__h2_mem_init(fh__h2_mem *m, nghttp2_mem *out)
{
    out->mem_user_data = m;
    out->malloc = mem_malloc;
    out->free = mem_free;
    out->calloc = mem_calloc;
    out->realloc = mem_realloc;
}

void fh__h2_mem_free(fh__h2_mem *m)
{
    for (int k = 0; k < FH__H2_MEM_CLASSES; k++) {
        while (m->free_list[k]) {
            uint8_t *b = m->free_list[k];
            m->free_list[k] = *(void **)(b + HDR);
            free(b);
        }
        m->nfree[k] = 0;
    }
}
