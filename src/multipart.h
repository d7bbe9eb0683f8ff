/* multipart.h — internals of the multipart/form-data encoder (multipart.c),
 * shared with its tests. The public API is in fasthttp/multipart.h. */
#ifndef FH_MULTIPART_INTERNAL_H
#define FH_MULTIPART_INTERNAL_H

#include <stddef.h>

#include "buf.h"
#include "fasthttp/multipart.h"

/* Appends the n bytes of s escaped for a quoted Content-Disposition
 * parameter: '"' → %22, CR → %0D, LF → %0A, everything else unchanged. */
int fh__mp_escape(fh__buf *b, const char *s, size_t n);

/* 1 when s (n bytes) is a valid boundary (RFC 2046 §5.1.1), else 0. */
int fh__mp_boundary_ok(const char *s, size_t n);

#endif
