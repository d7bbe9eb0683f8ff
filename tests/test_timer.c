/* test_timer.c — the engine's timer heap against a plain array model:
 * random sets (earlier, later, cleared), pops in deadline order, and lazy
 * rescheduling never firing a timer before its real deadline. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "fasthttp/errors.h"
#include "timer.h"

#define N 500

static void test_order_and_lazy_moves(void **state)
{
    (void)state;
    static fh__timer t[N];
    fh__heap h = {0};
    srand(7);
    for (int round = 0; round < 20; round++) {
        int64_t now = round * 1000;
        for (int k = 0; k < 4 * N; k++) {
            fh__timer *x = &t[rand() % N];
            int64_t due = rand() % 5 == 0 ? 0 : now + 1 + rand() % 5000;
            assert_int_equal(fh__timer_set(&h, x, due), FH_OK);
        }
        /* Advance in steps: everything popped is due, nothing due stays. */
        for (int64_t at = now; at <= now + 6000; at += 250) {
            fh__timer *p;
            int64_t last = 0;
            while ((p = fh__heap_pop_due(&h, at))) {
                assert_true(p->due && p->due <= at);
                assert_int_equal(p->idx, 0);
                assert_true(p->due >= last - 250); /* roughly in order */
                last = p->due;
                p->due = 0;
            }
            for (int i = 0; i < N; i++) {
                if (t[i].due) {
                    assert_true(t[i].due > at);
                    assert_true(t[i].idx > 0); /* still in the heap */
                }
            }
            int64_t next = fh__heap_next(&h);
            for (int i = 0; i < N; i++)
                if (t[i].idx)
                    assert_true(next <= t[i].at);
        }
    }
    fh__heap_free(&h);
}

static void test_earlier_move_is_seen_at_once(void **state)
{
    (void)state;
    fh__heap h = {0};
    fh__timer a = {0}, b = {0};
    fh__timer_set(&h, &a, 100);
    fh__timer_set(&h, &b, 200);
    fh__timer_set(&h, &b, 50);
    assert_int_equal(fh__heap_next(&h), 50);
    assert_ptr_equal(fh__heap_pop_due(&h, 60), &b);
    fh__timer_set(&h, &a, 300); /* later: the heap still says 100 ... */
    assert_int_equal(fh__heap_next(&h), 100);
    assert_null(fh__heap_pop_due(&h, 150)); /* ... but nothing fires then */
    assert_int_equal(fh__heap_next(&h), 300);
    fh__timer_clear(&h, &a);
    assert_int_equal(fh__heap_next(&h), 0);
    assert_null(fh__heap_pop_due(&h, 1000));
    fh__heap_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_lazy_moves),
        cmocka_unit_test(test_earlier_move_is_seen_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
