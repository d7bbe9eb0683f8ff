/*
 * fork.h — what the library knows about fork(2): a process-wide fork
 * generation, and a registry of the mutexes that must not be held by a
 * thread that does not exist in the child.
 *
 * A forked child inherits the parent's memory, so it inherits its pools,
 * engines and their descriptors, which are copies of the parent's: the same
 * sockets, the same epoll instance, the same eventfd. The child must never
 * use them (docs/security.md, "Fork"). Every object that owns such things
 * stamps itself with fh__fork_gen() when created and compares the stamp at
 * its entry points; a mismatch means "I was inherited", and the object
 * forgets what belongs to the parent without touching it.
 *
 * Only the thread that called fork() exists in the child. A mutex that
 * another thread held at that moment would stay locked there forever, so
 * each library mutex that threads share is registered here: the atfork
 * prepare handler takes every one of them (so none is held by anyone else
 * at the fork), and the parent and child handlers release them.
 */
#ifndef FH_FORK_H
#define FH_FORK_H

#include <pthread.h>
#include <stdatomic.h>

/* The current generation: 0 in the process that loaded the library, one
 * more in each forked child than in its parent. Written only by the child
 * handler, while the child has a single thread. */
extern _Atomic unsigned long fh__fork_generation;

/* Read on every entry point of pools and engines: one relaxed load. */
static inline unsigned long fh__fork_gen(void)
{
    return atomic_load_explicit(&fh__fork_generation, memory_order_relaxed);
}

/* Installs the atfork handlers once per process (pthread_once). Called when
 * the first client or cookie jar is created, and by fh_fork_generation(). */
void fh__fork_init(void);

/*
 * A registered mutex. Embedded in the object owning the mutex, so
 * registering allocates nothing and cannot fail.
 *
 * Rule that keeps the atfork handlers free of deadlocks: no code path of
 * the library holds two registered mutexes at once, and none registers or
 * unregisters while holding one. The prepare handler takes the registry's
 * own lock first and then each mutex; a thread holding one mutex therefore
 * never waits for another, and the handler only waits for critical
 * sections that end by themselves. Callbacks that run under a registered
 * mutex (a cookie jar's clock) must not call into the library or fork.
 */
typedef struct fh__fork_lock {
    pthread_mutex_t *mu;
    struct fh__fork_lock *prev, *next;
} fh__fork_lock;

/* Registers mu (initialised, not held by the caller) in node. */
void fh__fork_register(fh__fork_lock *node, pthread_mutex_t *mu);
/* Removes node; call before the mutex is destroyed. A node that was never
 * registered (mu NULL) is ignored. */
void fh__fork_unregister(fh__fork_lock *node);

#endif
