/*
 * resolve.h — name resolution that never blocks the engine. A job runs
 * getaddrinfo() on a short-lived detached thread and signals a wakeup fd
 * when done; IP literals are resolved inline without a thread.
 */
#ifndef FH_RESOLVE_H
#define FH_RESOLVE_H

#include <stddef.h>
#include <sys/socket.h>

typedef struct fh__addr {
    struct sockaddr_storage ss;
    socklen_t len;
} fh__addr;

/* An ordered address list: families interleaved starting with the first
 * family getaddrinfo returned (RFC 8305 §4), duplicates removed. */
typedef struct fh__addrs {
    fh__addr *v;
    size_t n;
} fh__addrs;

void fh__addrs_free(fh__addrs *a);

/* Puts a into the order above in place: removes duplicates (same family,
 * address, port and scope), then alternates between the family of the first
 * entry and the others, keeping the relative order within each. Used by the
 * resolver thread; exposed for tests. FH_OK or FH_ENOMEM (a unchanged). */
int fh__addrs_interleave(fh__addrs *a);

/* Signalled (an eventfd written) when a job completes. Owned by the engine. */
typedef struct fh__wakeup {
    int fd;
} fh__wakeup;
int fh__wakeup_init(fh__wakeup *w);
void fh__wakeup_signal(fh__wakeup *w);
/* Reads the eventfd counter back to zero. */
void fh__wakeup_drain(fh__wakeup *w);
void fh__wakeup_close(fh__wakeup *w);

/* Resolves an IP literal without blocking: FH_OK with out filled, or
 * FH_EAGAIN when host is not a literal. */
int fh__resolve_numeric(const char *host, int port, fh__addrs *out);

typedef struct fh__resolve_job fh__resolve_job;

/* Starts resolving host:port (AF_UNSPEC, SOCK_STREAM, AI_ADDRCONFIG) on a
 * background thread; w is signalled when done (unless the job was released
 * first). FH_ENOMEM or FH_ERESOLVE if the thread cannot be started. */
int fh__resolve_start(fh__resolve_job **out, const char *host, int port, fh__wakeup *w);

/* FH_EAGAIN while running; FH_OK with out filled (moved to the caller);
 * FH_ERESOLVE with *why set to gai_strerror text. */
int fh__resolve_result(fh__resolve_job *job, fh__addrs *out, const char **why);

/* Drops the engine's reference: after this the job never touches w; the
 * job's memory is freed when the thread also finishes. */
void fh__resolve_release(fh__resolve_job *job);

#endif
