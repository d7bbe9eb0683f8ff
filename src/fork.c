/*
 * fork.c — the fork generation and the registry of shared mutexes (see
 * fork.h for why both exist).
 *
 * The registry is a doubly-linked list of nodes embedded in the objects
 * that own the mutexes (clients, pools, cookie jars), so registering and
 * unregistering are O(1) and allocate nothing; the atfork prepare handler
 * walks it head to tail taking every mutex, and the parent and child
 * handlers walk it back tail to head releasing them.
 *
 * The handlers unlock in the child what the prepare handler locked in the
 * parent. That is allowed for the default mutex type used everywhere in
 * the library (no owner check), and it is what makes every registered
 * mutex free in the child whatever the other threads were doing.
 */
#include "fork.h"

#include "fasthttp/fasthttp.h"

_Atomic unsigned long fh__fork_generation;

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static fh__fork_lock *reg_head, *reg_tail;

static void on_prepare(void)
{
    pthread_mutex_lock(&reg_lock);
    for (fh__fork_lock *n = reg_head; n; n = n->next)
        pthread_mutex_lock(n->mu);
}

static void release_all(void)
{
    for (fh__fork_lock *n = reg_tail; n; n = n->prev)
        pthread_mutex_unlock(n->mu);
    pthread_mutex_unlock(&reg_lock);
}

static void on_parent(void)
{
    release_all();
}

static void on_child(void)
{
    /* The child has one thread now: nothing else reads the counter yet. */
    atomic_fetch_add_explicit(&fh__fork_generation, 1, memory_order_relaxed);
    release_all();
}

static void install(void)
{
    /* Only ENOMEM can fail here, at library start-up; without handlers the
     * generation never changes and children behave as before, which is
     * all that can be done without a way to report it. */
    (void)pthread_atfork(on_prepare, on_parent, on_child);
}

void fh__fork_init(void)
{
    pthread_once(&fork_once, install);
}

unsigned long fh_fork_generation(void)
{
    fh__fork_init();
    return fh__fork_gen();
}

void fh__fork_register(fh__fork_lock *node, pthread_mutex_t *mu)
{
    fh__fork_init();
    pthread_mutex_lock(&reg_lock);
    node->mu = mu;
    node->next = NULL;
    node->prev = reg_tail;
    if (reg_tail)
        reg_tail->next = node;
    else
        reg_head = node;
    reg_tail = node;
    pthread_mutex_unlock(&reg_lock);
}

void fh__fork_unregister(fh__fork_lock *node)
{
    if (!node->mu)
        return;
    pthread_mutex_lock(&reg_lock);
    if (node->prev)
        node->prev->next = node->next;
    else
        reg_head = node->next;
    if (node->next)
        node->next->prev = node->prev;
    else
        reg_tail = node->prev;
    node->prev = node->next = NULL;
    node->mu = NULL;
    pthread_mutex_unlock(&reg_lock);
}
