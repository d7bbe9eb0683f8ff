/* test_pool.c — pool bookkeeping: slots, reuse, limits, waiters, expiry and
 * dead-connection detection, with socketpairs standing in for servers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

typedef struct fixture {
    fh__pool pool;
    fh__wakeup wake;
    int peers[16];
    int npeers;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    fh__pool_init(&f->pool);
    assert_int_equal(fh__wakeup_init(&f->wake), FH_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    fh__pool_destroy(&f->pool);
    fh__wakeup_close(&f->wake);
    for (int i = 0; i < f->npeers; i++)
        close(f->peers[i]);
    free(f);
    return 0;
}

/* A connection whose server end stays open in the fixture. */
static fh__conn *open_conn(fixture *f, fh__pool_host *h)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    f->peers[f->npeers++] = sv[1];
    fh__conn *c = fh__conn_new(sv[0]);
    fh__pool_opened(&f->pool, c, h);
    return c;
}

static int wake_pending(fixture *f)
{
    struct pollfd p = {f->wake.fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
}

static void test_slot_then_reuse(void **state)
{
    fixture *f = *state;
    fh__pool_host *h = fh__pool_host_get(&f->pool, "http://a:80");
    fh__waiter w = {.wake = &f->wake};
    fh__conn *c = NULL;
    assert_int_equal(fh__pool_checkout(&f->pool, h, NULL, &w, 0, 0, &c), FH__CHECKOUT_SLOT);
    c = open_conn(f, h);
    fh__pool_release(&f->pool, c, 1);
    assert_int_equal(f->pool.idle, 1);
    assert_int_equal(f->pool.open, 1);
    fh__conn *again = NULL;
    assert_int_equal(fh__pool_checkout(&f->pool, h, NULL, &w, 0, 0, &again), FH__CHECKOUT_CONN);
    assert_ptr_equal(again, c);
    assert_int_equal(f->pool.reused, 1);
    assert_int_equal(f->pool.idle, 0);
    fh__pool_release(&f->pool, again, 0); /* not reusable: closed */
    assert_int_equal(f->pool.open, 0);
}

static void test_same_host_key_shares_entry(void **state)
{
    fixture *f = *state;
    fh__pool_host *a = fh__pool_host_get(&f->pool, "https://x:443");
    for (int i = 0; i < 100; i++) {
        char key[64];
        snprintf(key, sizeof key, "http://h%d:80", i);
        assert_non_null(fh__pool_host_get(&f->pool, key));
    }
    assert_ptr_equal(fh__pool_host_get(&f->pool, "https://x:443"), a);
    assert_ptr_not_equal(fh__pool_host_get(&f->pool, "http://x:443"), a);
}

static void test_per_host_limit_queues_and_grants(void **state)
{
    fixture *f = *state;
    f->pool.max_per_host = 2;
    fh__pool_host *h = fh__pool_host_get(&f->pool, "http://a:80");
    fh__waiter w1 = {.wake = &f->wake}, w2 = {.wake = &f->wake}, w3 = {.wake = &f->wake};
    fh__conn *c = NULL;
    assert_int_equal(fh__pool_checkout(&f->pool, h, NULL, &w1, 0, 0, &c), FH__CHECKOUT_SLOT);
    fh__conn *c1 = open_conn(f, h);
    assert_int_equal(fh__pool_checkout(&f->pool, h, NULL, &w2, 0, 0, &c), FH__CHECKOUT_SLOT);
    fh__conn *c2 = open_conn(f, h);
    assert_int_equal(fh__pool_checkout(&f->pool, h, NULL, &w3, 0, 0, &c), FH_EAGAIN);
    assert_int_equal(f->pool.waiting, 1);
    assert_false(wake_pending(f));
    assert_int_equal(fh__pool_waiter_take(&f->pool, &w3, &c), FH_EAGAIN);

    fh__pool_release(&f->pool, c1, 1); /* handed straight to the waiter */
    assert_true(wake_pending(f));
    assert_int_equal(fh__pool_waiter_take(&f->pool, &w3, &c), FH__CHECKOUT_CONN);
    assert_ptr_equal(c, c1);
    assert_int_equal(f->pool.waiting, 0);
    fh__pool_release(&f->pool, c, 0);
    fh__pool_release(&f->pool, c2, 0);
    assert_int_equal(f->pool.open, 0);
}

static void test_closed_slot_is_granted(void **state)
{
    fixture *f = *state;
    f->pool.max_per_host = 1;
    fh__pool_host *h = fh__pool_host_get(&f->pool, "http://a:80");
    fh__waiter w1 = {.wake = &f->wake}, w2 = {.wake = &f->wake};
    fh__conn *c = NULL;
    assert_int_equal(fh__pool_checkout(&f->pool, h, NULL, &w1, 0, 0, &c), FH__CHECKOUT_SLOT);
    assert_int_equal(fh__pool_checkout(&f->pool, h, NULL, &w2, 0, 0, &c), FH_EAGAIN);
    fh__pool_slot_release(&f->pool, h); /* the connect failed */
    assert_int_equal(fh__pool_waiter_take(&f->pool, &w2, &c), FH__CHECKOUT_SLOT);
    assert_null(c);
    assert_int_equal(f->pool.open, 1);
    fh__pool_slot_release(&f->pool, h);
    assert_int_equal(f->pool.open, 0);
}

/* A grant taken without the inbox leaves no note listed there: left over,
 * it made the next grant to the same engine look like a repeat, which
 * signals nothing, and that waiter slept for ever (a blocking thread of a
 * shared Client, one run in thirty of 16 threads). Taken here by a look
 * before the engine drained its inbox. */
static void test_grant_taken_directly_leaves_no_note(void **state)
{
    fixture *f = *state;
    f->pool.max_per_host = 1;
    fh__pool_host *h = fh__pool_host_get(&f->pool, "http://a:80");
    fh__waiter w1 = {.wake = &f->wake}, w2 = {.wake = &f->wake};
    fh__conn *c = NULL;
    assert_int_equal(fh__pool_checkout(&f->pool, h, NULL, &w1, 0, 0, &c), FH__CHECKOUT_SLOT);
    fh__conn *c1 = open_conn(f, h);
    assert_int_equal(fh__pool_checkout(&f->pool, h, NULL, &w2, 0, 0, &c), FH_EAGAIN);
    fh__pool_release(&f->pool, c1, 1);
    assert_int_equal(fh__pool_waiter_take(&f->pool, &w2, &c), FH__CHECKOUT_CONN);
    assert_null(fh__wakeup_pop(&f->wake));
    fh__wakeup_drain(&f->wake);
    assert_false(wake_pending(f));

    /* The next wait of the same engine is woken. */
    assert_int_equal(fh__pool_checkout(&f->pool, h, NULL, &w1, 0, 0, &c), FH_EAGAIN);
    fh__pool_release(&f->pool, c1, 1);
    assert_true(wake_pending(f));
    assert_int_equal(fh__pool_waiter_take(&f->pool, &w1, &c), FH__CHECKOUT_CONN);
    fh__pool_release(&f->pool, c, 0);
    assert_int_equal(f->pool.open, 0);
}

/* A waiter served within its own checkout (it queued behind one that
 * cannot be served yet) takes the grant at once, and its note goes too. */
static void test_grant_within_checkout_leaves_no_note(void **state)
{
    fixture *f = *state;
    f->pool.max_per_host = 1;
    fh__pool_host *a = fh__pool_host_get(&f->pool, "http://a:80");
    fh__pool_host *b = fh__pool_host_get(&f->pool, "http://b:80");
    fh__waiter w1 = {.wake = &f->wake}, w2 = {.wake = &f->wake}, w3 = {.wake = &f->wake};
    fh__conn *c = NULL;
    assert_int_equal(fh__pool_checkout(&f->pool, a, NULL, &w1, 0, 0, &c), FH__CHECKOUT_SLOT);
    assert_int_equal(fh__pool_checkout(&f->pool, a, NULL, &w2, 0, 0, &c), FH_EAGAIN);
    assert_int_equal(fh__pool_checkout(&f->pool, b, NULL, &w3, 0, 0, &c), FH__CHECKOUT_SLOT);
    assert_int_equal(f->pool.waiting, 1); /* w2, still for a */
    assert_null(fh__wakeup_pop(&f->wake));
    fh__pool_slot_release(&f->pool, b);
    fh__pool_waiter_cancel(&f->pool, &w2);
    fh__pool_slot_release(&f->pool, a);
    assert_int_equal(f->pool.open, 0);
}

static void test_waiter_cancel_returns_grant(void **state)
{
    fixture *f = *state;
    f->pool.max_per_host = 1;
    fh__pool_host *h = fh__pool_host_get(&f->pool, "http://a:80");
    fh__waiter w1 = {.wake = &f->wake}, w2 = {.wake = &f->wake};
    fh__conn *c = NULL;
    assert_int_equal(fh__pool_checkout(&f->pool, h, NULL, &w1, 0, 0, &c), FH__CHECKOUT_SLOT);
    fh__conn *c1 = open_conn(f, h);
    assert_int_equal(fh__pool_checkout(&f->pool, h, NULL, &w2, 0, 0, &c), FH_EAGAIN);
    fh__pool_release(&f->pool, c1, 0); /* closed: its slot goes to w2 */
    assert_true(w2.granted);
    assert_int_equal(f->pool.open, 1);
    fh__pool_waiter_cancel(&f->pool, &w2); /* w2 gave up meanwhile */
    assert_false(w2.granted);
    assert_int_equal(f->pool.waiting, 0);
    assert_int_equal(f->pool.open, 0);
}

static void test_dead_idle_connection_is_replaced(void **state)
{
    fixture *f = *state;
    fh__pool_host *h = fh__pool_host_get(&f->pool, "http://a:80");
    fh__waiter w = {.wake = &f->wake};
    fh__conn *c = NULL;
    assert_int_equal(fh__pool_checkout(&f->pool, h, NULL, &w, 0, 0, &c), FH__CHECKOUT_SLOT);
    c = open_conn(f, h);
    fh__pool_release(&f->pool, c, 1);
    close(f->peers[--f->npeers]); /* the server closes the idle connection */
    assert_int_equal(fh__pool_checkout(&f->pool, h, NULL, &w, 0, 0, &c), FH__CHECKOUT_SLOT);
    assert_int_equal(f->pool.open, 1); /* the dead one is gone, the new slot counts */
    assert_int_equal(f->pool.idle, 0);
    fh__pool_slot_release(&f->pool, h);
}

static void test_unexpected_bytes_mark_connection_dead(void **state)
{
    fixture *f = *state;
    fh__pool_host *h = fh__pool_host_get(&f->pool, "http://a:80");
    fh__waiter w = {.wake = &f->wake};
    fh__conn *c = NULL;
    fh__pool_checkout(&f->pool, h, NULL, &w, 0, 0, &c);
    c = open_conn(f, h);
    fh__pool_release(&f->pool, c, 1);
    assert_int_equal(write(f->peers[f->npeers - 1], "x", 1), 1);
    assert_int_equal(fh__pool_checkout(&f->pool, h, NULL, &w, 0, 0, &c), FH__CHECKOUT_SLOT);
    fh__pool_slot_release(&f->pool, h);
}

static void test_idle_expiry(void **state)
{
    fixture *f = *state;
    f->pool.idle_timeout_us = 1000;
    fh__pool_host *h = fh__pool_host_get(&f->pool, "http://a:80");
    fh__waiter w = {.wake = &f->wake};
    fh__conn *c = NULL;
    fh__pool_checkout(&f->pool, h, NULL, &w, 0, 0, &c);
    c = open_conn(f, h);
    fh__pool_release(&f->pool, c, 1);
    usleep(5000);
    assert_int_equal(fh__pool_checkout(&f->pool, h, NULL, &w, 0, 0, &c), FH__CHECKOUT_SLOT);
    assert_int_equal(f->pool.idle, 0);
    assert_int_equal(f->pool.open, 1);
    fh__pool_slot_release(&f->pool, h);
}

static void test_total_limit_evicts_other_origin(void **state)
{
    fixture *f = *state;
    f->pool.max_total = 1;
    fh__pool_host *a = fh__pool_host_get(&f->pool, "http://a:80");
    fh__pool_host *b = fh__pool_host_get(&f->pool, "http://b:80");
    fh__waiter w = {.wake = &f->wake};
    fh__conn *c = NULL;
    fh__pool_checkout(&f->pool, a, NULL, &w, 0, 0, &c);
    c = open_conn(f, a);
    fh__pool_release(&f->pool, c, 1);
    assert_int_equal(fh__pool_checkout(&f->pool, b, NULL, &w, 0, 0, &c), FH__CHECKOUT_SLOT);
    assert_int_equal(f->pool.open, 1);
    assert_int_equal(f->pool.idle, 0);
    fh__pool_slot_release(&f->pool, b);
}

static void test_fresh_skips_idle_and_idle_cap(void **state)
{
    fixture *f = *state;
    f->pool.max_idle_per_host = 1;
    fh__pool_host *h = fh__pool_host_get(&f->pool, "http://a:80");
    fh__waiter w = {.wake = &f->wake};
    fh__conn *c = NULL;
    fh__pool_checkout(&f->pool, h, NULL, &w, 0, 0, &c);
    fh__conn *c1 = open_conn(f, h);
    fh__pool_checkout(&f->pool, h, NULL, &w, 0, 0, &c);
    fh__conn *c2 = open_conn(f, h);
    fh__pool_release(&f->pool, c1, 1);
    fh__pool_release(&f->pool, c2, 1); /* over the idle cap: closed */
    assert_int_equal(f->pool.idle, 1);
    assert_int_equal(f->pool.open, 1);
    assert_int_equal(fh__pool_checkout(&f->pool, h, NULL, &w, 1, 0, &c), FH__CHECKOUT_SLOT);
    assert_int_equal(f->pool.idle, 1);
    fh__pool_slot_release(&f->pool, h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_slot_then_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_host_key_shares_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_host_limit_queues_and_grants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_closed_slot_is_granted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grant_taken_directly_leaves_no_note, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grant_within_checkout_leaves_no_note, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waiter_cancel_returns_grant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_idle_connection_is_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unexpected_bytes_mark_connection_dead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_total_limit_evicts_other_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fresh_skips_idle_and_idle_cap, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
