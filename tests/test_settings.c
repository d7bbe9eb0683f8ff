/*
 * test_settings.c — the defaults and checks of numeric settings
 * (src/settings.c): fh_retry_policy_init/fh_retry_policy_check,
 * fh_timeout_check, fh_limit_check, fh_pool_limits_check, and the setters
 * that use them. Bindings take their defaults and ranges from these, so
 * every message must name the setting first.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fasthttp/fasthttp.h"

/* ---- retry policy --------------------------------------------------------------- */

static void test_retry_defaults(void **state)
{
    fh_retry_policy p;
    memset(&p, 0xAB, sizeof p); /* init must set every byte it owns */
    fh_retry_policy_init(&p);
    assert_int_equal(p.max_attempts, 1);
    assert_true(p.backoff_factor == 0.2);
    assert_true(p.backoff_max == 60);
    static const int codes[] = {408, 429, 500, 502, 503, 504};
    assert_int_equal(p.n_status_codes, 6);
    assert_memory_equal(p.status_codes, codes, sizeof codes);
    for (int i = 6; i < FH_RETRY_MAX_STATUS; i++)
        assert_int_equal(p.status_codes[i], 0);
    assert_int_equal(p.retry_non_idempotent, 0);
    assert_int_equal(p.respect_retry_after, 1);
    assert_true(p.retry_after_max == 60);
    assert_int_equal(p.circuit_breaker, 0);
    assert_int_equal(p.cb_failure_threshold, 5);
    assert_true(p.cb_recovery_seconds == 60);
    char msg[128] = "x";
    assert_int_equal(fh_retry_policy_check(&p, msg, sizeof msg), FH_OK);
    assert_string_equal(msg, "");
}

/* A policy with one field changed must be refused with a sentence that
 * starts with that field's name. */
static void refused(void (*change)(fh_retry_policy *), const char *sentence)
{
    fh_retry_policy p;
    fh_retry_policy_init(&p);
    change(&p);
    char msg[160];
    assert_int_equal(fh_retry_policy_check(&p, msg, sizeof msg), FH_EINVAL);
    assert_string_equal(msg, sentence);
    /* The setters apply the same check and keep what they had. */
    fh_client *c = fh_client_new();
    fh_request *r = fh_request_new("GET", "http://example.com/", NULL);
    assert_int_equal(fh_client_set_retry(c, &p), FH_EINVAL);
    assert_int_equal(fh_request_set_retry(r, &p), FH_EINVAL);
    fh_request_free(r);
    fh_client_free(c);
}

static void attempts_0(fh_retry_policy *p) { p->max_attempts = 0; }
static void attempts_big(fh_retry_policy *p) { p->max_attempts = FH_RETRY_MAX_COUNT + 1; }
static void factor_neg(fh_retry_policy *p) { p->backoff_factor = -0.5; }
static void factor_nan(fh_retry_policy *p) { p->backoff_factor = NAN; }
static void bmax_inf(fh_retry_policy *p) { p->backoff_max = INFINITY; }
static void ramax_big(fh_retry_policy *p) { p->retry_after_max = FH_SECONDS_MAX + 1.0; }
static void recovery_neg(fh_retry_policy *p) { p->cb_recovery_seconds = -1; }
static void threshold_0(fh_retry_policy *p) { p->cb_failure_threshold = 0; }
static void codes_many(fh_retry_policy *p) { p->n_status_codes = FH_RETRY_MAX_STATUS + 1; }
static void codes_neg(fh_retry_policy *p) { p->n_status_codes = -1; }
static void code_99(fh_retry_policy *p) { p->status_codes[2] = 99; }
static void code_600(fh_retry_policy *p)
{
    p->status_codes[p->n_status_codes++] = 600;
}

static void test_retry_check_names_the_field(void **state)
{
    refused(attempts_0, "max_attempts must be between 1 and 1000000");
    refused(attempts_big, "max_attempts must be between 1 and 1000000");
    refused(factor_neg, "backoff_factor must be between 0 and 1000000000 seconds");
    refused(factor_nan, "backoff_factor must be between 0 and 1000000000 seconds");
    refused(bmax_inf, "backoff_max must be between 0 and 1000000000 seconds");
    refused(ramax_big, "retry_after_max must be between 0 and 1000000000 seconds");
    refused(recovery_neg, "cb_recovery_seconds must be between 0 and 1000000000 seconds");
    refused(threshold_0, "cb_failure_threshold must be between 1 and 1000000");
    refused(codes_many, "status_codes holds 33 codes; at most 32 are allowed");
    refused(codes_neg, "status_codes holds -1 codes; at most 32 are allowed");
    refused(code_99, "status_codes[2] must be an HTTP status code, between 100 and 599");
    refused(code_600, "status_codes[6] must be an HTTP status code, between 100 and 599");
}

static void test_retry_check_edges_accepted(void **state)
{
    fh_retry_policy p;
    fh_retry_policy_init(&p);
    p.max_attempts = FH_RETRY_MAX_COUNT;
    p.cb_failure_threshold = FH_RETRY_MAX_COUNT;
    p.backoff_factor = 0;
    p.backoff_max = FH_SECONDS_MAX;
    p.retry_after_max = 0;
    p.cb_recovery_seconds = FH_SECONDS_MAX;
    p.n_status_codes = FH_RETRY_MAX_STATUS;
    for (int i = 0; i < FH_RETRY_MAX_STATUS; i++)
        p.status_codes[i] = i % 2 ? 100 : 599;
    assert_int_equal(fh_retry_policy_check(&p, NULL, 0), FH_OK);
    p.n_status_codes = 0;
    assert_int_equal(fh_retry_policy_check(&p, NULL, 0), FH_OK);
    char msg[8];
    assert_int_equal(fh_retry_policy_check(NULL, msg, sizeof msg), FH_EINVAL);
    assert_int_equal(strlen(msg), 7); /* truncated, terminated */
}

/* ---- timeouts ------------------------------------------------------------------- */

static void test_timeout_check(void **state)
{
    struct { double s; int64_t ms; } good[] = {
        {0, 0}, {1e-9, 1}, {0.001, 1}, {0.0011, 2}, {1.5, 1500}, {30, 30000},
        {FH_SECONDS_MAX, (int64_t)FH_SECONDS_MAX * 1000},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t ms = -5;
        char msg[100] = "x";
        assert_int_equal(fh_timeout_check(good[i].s, &ms, msg, sizeof msg), FH_OK);
        assert_int_equal(ms, good[i].ms);
        assert_string_equal(msg, "");
    }
    double bad[] = {-1, -1e-9, NAN, INFINITY, -INFINITY, FH_SECONDS_MAX + 0.5, 1e300};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = -5;
        char msg[100];
        assert_int_equal(fh_timeout_check(bad[i], &ms, msg, sizeof msg), FH_EINVAL);
        assert_int_equal(ms, -5); /* untouched */
        assert_string_equal(msg, "must be between 0 and 1000000000 seconds");
    }
    assert_int_equal(fh_timeout_check(2, NULL, NULL, 0), FH_OK);
}

static void test_timeout_setters_bounded(void **state)
{
    fh_client *c = fh_client_new();
    fh_request *r = fh_request_new("GET", "http://example.com/", NULL);
    int64_t max = (int64_t)FH_SECONDS_MAX * 1000;
    for (int k = 0; k < FH_TIMEOUT_KINDS; k++) {
        assert_int_equal(fh_client_set_timeout(c, (fh_timeout_kind)k, max), FH_OK);
        assert_int_equal(fh_client_set_timeout(c, (fh_timeout_kind)k, max + 1), FH_EINVAL);
        assert_int_equal(fh_client_set_timeout(c, (fh_timeout_kind)k, INT64_MAX), FH_EINVAL);
        assert_int_equal(fh_request_set_timeout(r, (fh_timeout_kind)k, max), FH_OK);
        assert_int_equal(fh_request_set_timeout(r, (fh_timeout_kind)k, max + 1), FH_EINVAL);
        assert_int_equal(fh_request_set_timeout(r, (fh_timeout_kind)k, -1), FH_OK);
    }
    fh_request_free(r);
    fh_client_free(c);
}

/* ---- limits and the pool ------------------------------------------------------------ */

static void test_limit_check(void **state)
{
    fh_client *c = fh_client_new();
    fh_request *r = fh_request_new("GET", "http://example.com/", NULL);
    for (int k = 0; k < FH_LIMIT_KINDS; k++) {
        char msg[128], want[128];
        snprintf(want, sizeof want, "%s must be between 1 and 4611686018427387904",
                 fh_limit_name((fh_limit_kind)k));
        int64_t bad[] = {0, -1, FH_LIMIT_MAX + 1, INT64_MAX, INT64_MIN};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            assert_int_equal(fh_limit_check((fh_limit_kind)k, bad[i], msg, sizeof msg),
                             FH_EINVAL);
            assert_string_equal(msg, want);
            assert_int_equal(fh_client_set_limit(c, (fh_limit_kind)k, bad[i]), FH_EINVAL);
        }
        assert_int_equal(fh_limit_check((fh_limit_kind)k, 1, msg, sizeof msg), FH_OK);
        assert_int_equal(fh_limit_check((fh_limit_kind)k, FH_LIMIT_MAX, NULL, 0), FH_OK);
        assert_int_equal(fh_client_set_limit(c, (fh_limit_kind)k, FH_LIMIT_MAX), FH_OK);
        assert_int_equal(fh_client_limit(c, (fh_limit_kind)k), FH_LIMIT_MAX);
        assert_int_equal(fh_request_set_limit(r, (fh_limit_kind)k, 0), FH_EINVAL);
        assert_int_equal(fh_request_set_limit(r, (fh_limit_kind)k, FH_LIMIT_MAX + 1),
                         FH_EINVAL);
        assert_int_equal(fh_request_set_limit(r, (fh_limit_kind)k, -1), FH_OK);
    }
    char msg[64];
    assert_int_equal(fh_limit_check((fh_limit_kind)FH_LIMIT_KINDS, 5, msg, sizeof msg),
                     FH_EINVAL);
    assert_string_equal(msg, "unknown limit kind 9");
    assert_int_equal(fh_request_set_limit(r, (fh_limit_kind)FH_LIMIT_KINDS, -1), FH_EINVAL);
    fh_request_free(r);
    fh_client_free(c);
}

static void test_pool_limits_check(void **state)
{
    char msg[128];
    /* negatives are the setter's "keep" / "as per host" */
    assert_int_equal(fh_pool_limits_check(-1, -1, -1, -1, msg, sizeof msg), FH_OK);
    assert_int_equal(fh_pool_limits_check(1, 1, 0, 0, msg, sizeof msg), FH_OK);
    assert_int_equal(fh_pool_limits_check(FH_POOL_MAX, FH_POOL_MAX, FH_POOL_MAX,
                                          (int64_t)FH_SECONDS_MAX * 1000, NULL, 0), FH_OK);
    struct { int64_t a[4]; const char *msg; } bad[] = {
        {{0, -1, -1, -1}, "max_connections must be between 1 and 1000000"},
        {{FH_POOL_MAX + 1, -1, -1, -1}, "max_connections must be between 1 and 1000000"},
        {{-1, 0, -1, -1}, "max_connections_per_host must be between 1 and 1000000"},
        {{-1, INT64_MAX, -1, -1}, "max_connections_per_host must be between 1 and 1000000"},
        {{-1, -1, FH_POOL_MAX + 1, -1}, "max_keepalive_per_host must be between 0 and 1000000"},
        {{-1, -1, -1, (int64_t)FH_SECONDS_MAX * 1000 + 1},
         "keepalive_expiry must be between 0 and 1000000000 seconds"},
    };
    fh_client *c = fh_client_new();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const int64_t *a = bad[i].a;
        assert_int_equal(fh_pool_limits_check(a[0], a[1], a[2], a[3], msg, sizeof msg),
                         FH_EINVAL);
        assert_string_equal(msg, bad[i].msg);
        if (a[0] <= INT32_MAX && a[1] <= INT32_MAX && a[2] <= INT32_MAX)
            assert_int_equal(fh_client_set_pool_limits(c, (int)a[0], (int)a[1], (int)a[2], a[3]),
                             FH_EINVAL);
    }
    assert_int_equal(fh_client_set_pool_limits(c, 5, 2, 0, 1000), FH_OK);
    fh_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_defaults),
        cmocka_unit_test(test_retry_check_names_the_field),
        cmocka_unit_test(test_retry_check_edges_accepted),
        cmocka_unit_test(test_timeout_check),
        cmocka_unit_test(test_timeout_setters_bounded),
        cmocka_unit_test(test_limit_check),
        cmocka_unit_test(test_pool_limits_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
