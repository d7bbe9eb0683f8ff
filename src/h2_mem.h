/*
 * h2_mem.h — the allocator one HTTP/2 session gives nghttp2 (h2_mem.c).
 */
#ifndef FH_H2_MEM_H
#define FH_H2_MEM_H

#include <nghttp2/nghttp2.h>
#include <stddef.h>

#define FH__H2_MEM_CLASSES 6 /* blocks of 64, 128, ..., 2048 bytes */

typedef struct fh__h2_mem {
    void *free_list[FH__H2_MEM_CLASSES]; /* freed blocks, per size class */
    int nfree[FH__H2_MEM_CLASSES];
} fh__h2_mem;

/* Fills out with allocation functions over m (zeroed by the caller), for
 * nghttp2_session_client_new3. The session must be used by one thread at a
 * time, as every nghttp2 session must. */
void fh__h2_mem_init(fh__h2_mem *m, nghttp2_mem *out);
/* Frees the blocks m keeps; after nghttp2_session_del. */
void fh__h2_mem_free(fh__h2_mem *m);

#endif
