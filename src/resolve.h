/*
 * resolve.h — name resolution that never blocks the engine. A job runs
 * getaddrinfo() on a short-lived detached thread and signals a wakeup fd
 * when done; IP literals are resolved inline without a thread.
 */
#ifndef FH_RESOLVE_H
#define FH_RESOLVE_H

#include <pthread.h>
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

/* Something another thread tells an engine: a resolver job finished, the
 * pool granted a waiter a connection. Embedded in what it is about. */
typedef struct fh__note {
    struct fh__note *next;
    int posted;        /* on an inbox list; guarded by that inbox's lock */
    int kind;          /* the owner's tag (FH__NOTE_...) */
} fh__note;

enum {
    FH__NOTE_GRANT = 1,    /* the pool granted an exchange a slot or a connection */
    FH__NOTE_RESOLVED = 2, /* a connection's resolver job finished */
    FH__NOTE_SUBMIT = 3,   /* shared engine: a blocking call to run (shared.c) */
    FH__NOTE_CANCEL = 4,   /* shared engine: a blocking call to stop */
    FH__NOTE_STOP = 5      /* shared engine: its thread is to end */
};

/* An engine's inbox: a list of notes under a mutex, and an eventfd the
 * engine's loop watches. Posting to an empty list writes the eventfd once;
 * the engine takes the whole list per wake-up, so it touches only what
 * became ready (never a scan of everything in flight). Owned by the engine;
 * the lock is never held while taking another lock. */
typedef struct fh__wakeup {
    int fd;            /* -1 until created */
    pthread_mutex_t lock;
    int lock_ready;
    fh__note *head, *tail;
} fh__wakeup;
int fh__wakeup_init(fh__wakeup *w);
/* Posts n (once: a posted note is not posted twice) and wakes the engine. */
void fh__wakeup_post(fh__wakeup *w, fh__note *n);
/* Removes n when it is still posted (its owner goes away). */
void fh__wakeup_unpost(fh__wakeup *w, fh__note *n);
/* Resets the eventfd's counter (before the notes are popped, so a note
 * posted meanwhile signals it again). */
void fh__wakeup_drain(fh__wakeup *w);
/* The oldest posted note, taken off the list; NULL when none. */
fh__note *fh__wakeup_pop(fh__wakeup *w);
void fh__wakeup_close(fh__wakeup *w);
/* In a forked child: forgets the inherited eventfd and list without a
 * read or a lock (both are the parent's), ready to be created again. */
void fh__wakeup_forget(fh__wakeup *w);

/* Resolves an IP literal without blocking: FH_OK with out filled, or
 * FH_EAGAIN when host is not a literal. */
int fh__resolve_numeric(const char *host, int port, fh__addrs *out);

typedef struct fh__resolve_job fh__resolve_job;

/* Starts resolving host:port (AF_UNSPEC, SOCK_STREAM, AI_ADDRCONFIG) on a
 * background thread; note is posted to w when done (unless the job was
 * released first). FH_ENOMEM or FH_ERESOLVE if the thread cannot start. */
int fh__resolve_start(fh__resolve_job **out, const char *host, int port, fh__wakeup *w,
                      fh__note *note);

/* FH_EAGAIN while running; FH_OK with out filled (moved to the caller);
 * FH_ERESOLVE with *why set to gai_strerror text. */
int fh__resolve_result(fh__resolve_job *job, fh__addrs *out, const char **why);

/* Drops the engine's reference: after this the job never touches w; the
 * job's memory is freed when the thread also finishes. */
void fh__resolve_release(fh__resolve_job *job);

#endif
