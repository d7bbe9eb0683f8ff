/* test_abi.c — the versioned public structs across header versions
 * (docs/c-api.md, ABI). A caller compiled against another fasthttp header
 * hands the library a struct of another size: the library must read and
 * write exactly that many bytes, take defaults for what the caller's
 * header lacks, and refuse clearly what it cannot honour. The caller
 * structs live in heap blocks of exactly their size, so the ASan build
 * catches any access past them; canary bytes catch it in the plain build. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "internal.h"

#define CANARY 0xA5
#define EXTRA 16 /* bytes a newer header might have added */

/* A block of size bytes followed by EXTRA canary bytes. */
static unsigned char *block(size_t size)
{
    unsigned char *b = malloc(size + EXTRA);
    assert_non_null(b);
    memset(b, CANARY, size + EXTRA);
    return b;
}

static void assert_canary(const unsigned char *b, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        assert_int_equal(b[i], CANARY);
}

/* ---- fh_retry_policy ----------------------------------------------------- */

static void test_retry_init_sets_size_and_defaults(void **state)
{
    (void)state;
    fh_retry_policy p;
    memset(&p, 0xff, sizeof p);
    fh_retry_policy_init(&p);
    assert_int_equal(p.struct_size, sizeof p);
    assert_int_equal(p.max_attempts, 1);
    assert_int_equal(p.n_status_codes, 6); /* 408 429 500 502 503 504 */
    assert_true(p.backoff_max == 60 && p.retry_after_max == 60);
    assert_int_equal(p.respect_retry_after, 1);
    assert_int_equal(p.cb_failure_threshold, 5);
    /* The connection failures, as before retry_errors existed. */
    assert_int_equal(p.n_retry_errors, 6);
    assert_int_equal(p.retry_errors[0], FH_ECONNECT);
}

/* init_sized writes exactly the caller's size: defaults up to our struct,
 * zeros after it, nothing past the end. */
static void test_retry_init_writes_exactly_size(void **state)
{
    (void)state;
    size_t sizes[] = {FH__RETRY_POLICY_SIZE_V1, sizeof(fh_retry_policy),
                      sizeof(fh_retry_policy) + 8};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t size = sizes[k];
        unsigned char *b = block(size);
        fh_retry_policy_init_sized((fh_retry_policy *)b, size);
        assert_int_equal(((fh_retry_policy *)b)->struct_size, size);
        assert_int_equal(((fh__retry_policy_v1 *)b)->max_attempts, 1);
        for (size_t i = sizeof(fh_retry_policy); i < size; i++)
            assert_int_equal(b[i], 0);
        assert_canary(b, size, size + EXTRA);
        free(b);
    }
}

/* A program compiled against the first header (the v1 layout) gets its
 * fields taken and defaults for every field added since. */
static void test_retry_older_caller_accepted(void **state)
{
    (void)state;
    fh_client *c = fh_client_new();
    fh_request *r = fh_request_new("GET", "http://example.test/", NULL);
    assert_non_null(c);
    assert_non_null(r);
    size_t size = FH__RETRY_POLICY_SIZE_V1;
    unsigned char *b = block(size);
    fh__retry_policy_v1 *old = (fh__retry_policy_v1 *)b;
    fh_retry_policy_init_sized((fh_retry_policy *)b, size);
    old->max_attempts = 4;
    old->status_codes[0] = 503;
    old->n_status_codes = 1;
    old->cb_recovery_seconds = 7;
    assert_int_equal(fh_client_set_retry(c, (fh_retry_policy *)b), FH_OK);
    assert_int_equal(fh_request_set_retry(r, (fh_retry_policy *)b), FH_OK);
    assert_canary(b, size, size + EXTRA);

    fh_retry_policy fresh;
    fh_retry_policy_init(&fresh);
    const fh_retry_policy *kept[] = {&c->retry, &r->retry};
    for (int k = 0; k < 2; k++) {
        const fh_retry_policy *p = kept[k];
        assert_int_equal(p->struct_size, sizeof *p);
        assert_int_equal(p->max_attempts, 4);
        assert_int_equal(p->status_codes[0], 503);
        assert_int_equal(p->n_status_codes, 1);
        assert_true(p->cb_recovery_seconds == 7);
        assert_int_equal(p->cb_failure_threshold, 5);
        /* Fields after the v1 ones (retry_errors) hold the defaults. */
        assert_memory_equal((const char *)p + size, (const char *)&fresh + size,
                            sizeof *p - size);
    }
    free(b);
    fh_request_free(r);
    fh_client_free(c);
}

/* A struct that fh_retry_policy_init() never filled (struct_size 0) and one
 * from a newer header are refused, and the previous policy stays. */
static void test_retry_refused_clearly(void **state)
{
    (void)state;
    fh_client *c = fh_client_new();
    fh_request *r = fh_request_new("GET", "http://example.test/", NULL);
    assert_non_null(c);
    assert_non_null(r);
    fh_retry_policy good;
    fh_retry_policy_init(&good);
    good.max_attempts = 3;
    assert_int_equal(fh_client_set_retry(c, &good), FH_OK);
    assert_int_equal(fh_request_set_retry(r, &good), FH_OK);

    fh_retry_policy zeroed;
    memset(&zeroed, 0, sizeof zeroed);
    zeroed.max_attempts = 5;
    zeroed.cb_failure_threshold = 5;
    assert_int_equal(fh_client_set_retry(c, &zeroed), FH_EINVAL);
    assert_int_equal(fh_request_set_retry(r, &zeroed), FH_EINVAL);

    fh_retry_policy small = good;
    small.struct_size = FH__RETRY_POLICY_SIZE_V1 - 1;
    assert_int_equal(fh_client_set_retry(c, &small), FH_EINVAL);

    size_t size = sizeof(fh_retry_policy) + 8;
    unsigned char *b = block(size);
    fh_retry_policy_init_sized((fh_retry_policy *)b, size);
    ((fh_retry_policy *)b)->max_attempts = 5;
    assert_int_equal(fh_client_set_retry(c, (fh_retry_policy *)b), FH_EUNSUPPORTED);
    assert_int_equal(fh_request_set_retry(r, (fh_retry_policy *)b), FH_EUNSUPPORTED);
    free(b);

    /* The range checks still apply to a well-sized policy. */
    fh_retry_policy bad = good;
    bad.max_attempts = 0;
    assert_int_equal(fh_client_set_retry(c, &bad), FH_EINVAL);

    assert_true(c->has_retry && r->has_retry);
    assert_int_equal(c->retry.max_attempts, 3);
    assert_int_equal(r->retry.max_attempts, 3);
    assert_int_equal(fh_client_set_retry(c, NULL), FH_OK);
    assert_false(c->has_retry);
    fh_request_free(r);
    fh_client_free(c);
}

/* ---- fh_pool_stats --------------------------------------------------------- */

static void test_pool_stats_sizes(void **state)
{
    (void)state;
    fh_client *c = fh_client_new();
    assert_non_null(c);
    c->pool.created = 7; /* something to see in the copy */

    fh_pool_stats st;
    memset(&st, 0xff, sizeof st);
    assert_int_equal(fh_client_pool_stats(c, &st), FH_OK);
    assert_int_equal(st.open, 0);
    assert_int_equal(st.created, 7);

    size_t sizes[] = {FH__POOL_STATS_SIZE_V1, sizeof(fh_pool_stats),
                      sizeof(fh_pool_stats) + 8};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t size = sizes[k];
        unsigned char *b = block(size);
        assert_int_equal(fh_client_pool_stats_sized(c, (fh_pool_stats *)b, size), FH_OK);
        assert_int_equal(((fh__pool_stats_v1 *)b)->created, 7);
        for (size_t i = sizeof(fh_pool_stats); i < size; i++)
            assert_int_equal(b[i], 0); /* a newer header's fields: unknown here, 0 */
        assert_canary(b, size, size + EXTRA);
        free(b);
    }

    unsigned char *b = block(FH__POOL_STATS_SIZE_V1);
    assert_int_equal(fh_client_pool_stats_sized(c, (fh_pool_stats *)b, FH__POOL_STATS_SIZE_V1 - 1),
                     FH_EINVAL);
    assert_canary(b, 0, FH__POOL_STATS_SIZE_V1 + EXTRA); /* refused: nothing written */
    assert_int_equal(fh_client_pool_stats_sized(NULL, (fh_pool_stats *)b, FH__POOL_STATS_SIZE_V1),
                     FH_EINVAL);
    assert_int_equal(fh_client_pool_stats(c, NULL), FH_EINVAL);
    free(b);
    fh_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_init_sets_size_and_defaults),
        cmocka_unit_test(test_retry_init_writes_exactly_size),
        cmocka_unit_test(test_retry_older_caller_accepted),
        cmocka_unit_test(test_retry_refused_clearly),
        cmocka_unit_test(test_pool_stats_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
