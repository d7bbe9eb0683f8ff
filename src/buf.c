/* buf.c — growable byte buffer. */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include "fasthttp/errors.h"

int fh__buf_reserve(fh__buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return FH_OK;
    if (extra > SIZE_MAX / 2 - b->len)
        return FH_ENOMEM;
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return FH_ENOMEM;
    b->data = p;
    b->cap = cap;
    return FH_OK;
}

int fh__buf_append(fh__buf *b, const void *p, size_t n)
{
    if (n == 0)
        return FH_OK;
    int rc = fh__buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return FH_OK;
}

int fh__buf_append_str(fh__buf *b, const char *s)
{
    return fh__buf_append(b, s, strlen(s));
}

void fh__buf_consume(fh__buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void fh__buf_free(fh__buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
