/* buf.h — a growable byte buffer used for request heads and bodies. */
#ifndef FH_BUF_H
#define FH_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct fh__buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} fh__buf;

/* Ensures room for extra more bytes; FH_ENOMEM on failure. */
int fh__buf_reserve(fh__buf *b, size_t extra);
int fh__buf_append(fh__buf *b, const void *p, size_t n);
int fh__buf_append_str(fh__buf *b, const char *s);
/* Drops the first n bytes, moving the rest to the front. */
void fh__buf_consume(fh__buf *b, size_t n);
void fh__buf_free(fh__buf *b);

#endif
