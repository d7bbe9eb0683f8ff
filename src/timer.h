/*
 * timer.h — the engine's deadlines in one binary min-heap.
 *
 * Every object with a deadline (an exchange, a connection being opened)
 * embeds one fh__timer. The heap orders timers by `at`, the time at which
 * the heap will look at them; `due` is when the owner really wants to be
 * called. Moving a deadline later only writes `due` (the read timeout moves
 * on every read, and re-sifting each time would cost O(log n) per read);
 * when the earlier `at` comes, the timer is re-inserted at `due` instead of
 * firing ("lazy reschedule"). Moving a deadline earlier sifts it up at
 * once. So every operation is O(log n) and nothing scans all timers.
 */
#ifndef FH_TIMER_H
#define FH_TIMER_H

#include <stddef.h>
#include <stdint.h>

typedef struct fh__timer {
    int64_t at;   /* heap key, microseconds (monotonic clock) */
    int64_t due;  /* the owner's deadline; 0 when none */
    size_t idx;   /* position in the heap + 1; 0 when not in it */
    int kind;     /* the owner's tag, for the engine to dispatch on */
} fh__timer;

typedef struct fh__heap {
    fh__timer **v;
    size_t n, cap;
} fh__heap;

void fh__heap_free(fh__heap *h);

/* Makes room for n timers, so that setting them cannot fail later (the
 * engine reserves one per exchange and one per connection it may open). */
int fh__heap_reserve(fh__heap *h, size_t n);

/* Sets t's deadline (0 removes it). FH_OK or FH_ENOMEM. */
int fh__timer_set(fh__heap *h, fh__timer *t, int64_t due);

/* Removes t from the heap (no-op when it is not in it). */
void fh__timer_clear(fh__heap *h, fh__timer *t);

/* The earliest time the heap must be looked at, or 0 when it is empty. */
int64_t fh__heap_next(const fh__heap *h);

/* Pops the next timer whose deadline is due at `now`, re-inserting those
 * whose deadline moved later on the way; NULL when none is due. The popped
 * timer is out of the heap (its owner sets it again if it still needs it). */
fh__timer *fh__heap_pop_due(fh__heap *h, int64_t now);

#endif
