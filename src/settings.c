/*
 * settings.c — the defaults and the ranges of the settings a caller gives
 * in numbers: retry policies, timeouts, limits and pool sizes.
 *
 * They live here once, for the setters of the C API and for bindings: the
 * Python package reads RetryPolicy's defaults from fh_retry_policy_init()
 * and validates RetryPolicy, Timeout and Limits with the checks below, so
 * no range is restated elsewhere. Each check writes a sentence that starts
 * with the setting's name (timeouts excepted: the caller knows which one it
 * is) and leaves the value out, because a binding may have clamped a
 * number too large for C and should show the one its caller gave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fasthttp/fasthttp.h"

static int fail(char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *msg, size_t msglen, const char *fmt, ...)
{
    if (msg && msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
    }
    return FH_EINVAL;
}

static void ok(char *msg, size_t msglen)
{
    if (msg && msglen)
        msg[0] = 0;
}

/* ---- retry policy ------------------------------------------------------------ */

/* Retried when retries are on: a request timeout, throttling, and the
 * server errors that usually pass. 501 (never implemented) and 505 are
 * not: they would fail the same way again. */
static const int default_statuses[] = {408, 429, 500, 502, 503, 504};

/* Retried by default: the connection failed or the peer did not answer in
 * time; another connection usually works. Protocol and certificate errors
 * are not by default: they would most likely fail the same way again. */
static const int default_errors[] = {FH_ECONNECT, FH_ECLOSED, FH_EIO, FH_ETIMEOUT_CONNECT,
                                     FH_ETIMEOUT_READ, FH_ETIMEOUT_WRITE};

int fh_retry_error_allowed(int code)
{
    switch (code) {
    case FH_ERESOLVE: case FH_ECONNECT: case FH_ETLS: case FH_ECERT: case FH_ECLOSED:
    case FH_EIO: case FH_EPROTO: case FH_EHEADERS_TOO_LARGE: case FH_ETOO_MANY_HEADERS:
    case FH_ECONTENT_LENGTH: case FH_ECHUNKED: case FH_ETRANSFER_ENCODING:
    case FH_ETOO_MANY_INTERIM: case FH_EDECODE: case FH_ETIMEOUT_CONNECT:
    case FH_ETIMEOUT_READ: case FH_ETIMEOUT_WRITE:
        return 1;
    default:
        return 0;
    }
}

void fh_retry_policy_init_sized(fh_retry_policy *p, size_t size)
{
    if (!p)
        return;
    fh_retry_policy d;
    memset(&d, 0, sizeof d);
    d.struct_size = size;
    d.max_attempts = 1;
    d.backoff_factor = 0.2;
    d.backoff_max = 60;
    for (size_t i = 0; i < sizeof default_statuses / sizeof default_statuses[0]; i++)
        d.status_codes[d.n_status_codes++] = default_statuses[i];
    d.respect_retry_after = 1;
    d.retry_after_max = 60;
    d.cb_failure_threshold = 5;
    d.cb_recovery_seconds = 60;
    for (size_t i = 0; i < sizeof default_errors / sizeof default_errors[0]; i++)
        d.retry_errors[d.n_retry_errors++] = default_errors[i];
    /* The caller's struct is size bytes, which may be fewer (an older
     * header) or more (a newer one) than ours: write exactly that many. */
    size_t n = size < sizeof d ? size : sizeof d;
    memcpy(p, &d, n);
    if (size > n)
        memset((char *)p + n, 0, size - n);
}

static int count_ok(int v)
{
    return v >= 1 && v <= FH_RETRY_MAX_COUNT;
}

/* NaN fails both comparisons, so it is refused with the negatives. */
static int seconds_ok(double v)
{
    return v >= 0 && v <= FH_SECONDS_MAX;
}

int fh_retry_policy_check(const fh_retry_policy *p, char *msg, size_t msglen)
{
    if (!p)
        return fail(msg, msglen, "the policy is NULL");
    if (!count_ok(p->max_attempts))
        return fail(msg, msglen, "max_attempts must be between 1 and %d",
                    FH_RETRY_MAX_COUNT);
    struct { const char *name; double v; } secs[] = {
        {"backoff_factor", p->backoff_factor},
        {"backoff_max", p->backoff_max},
        {"retry_after_max", p->retry_after_max},
        {"cb_recovery_seconds", p->cb_recovery_seconds},
    };
    for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++)
        if (!seconds_ok(secs[i].v))
            return fail(msg, msglen, "%s must be between 0 and %d seconds", secs[i].name,
                        FH_SECONDS_MAX);
    if (p->n_status_codes < 0 || p->n_status_codes > FH_RETRY_MAX_STATUS)
        return fail(msg, msglen, "status_codes holds %d codes; at most %d are allowed",
                    p->n_status_codes, FH_RETRY_MAX_STATUS);
    for (int i = 0; i < p->n_status_codes; i++)
        if (p->status_codes[i] < 100 || p->status_codes[i] > 599)
            return fail(msg, msglen,
                        "status_codes[%d] must be an HTTP status code, between 100 and 599", i);
    if (!count_ok(p->cb_failure_threshold))
        return fail(msg, msglen, "cb_failure_threshold must be between 1 and %d",
                    FH_RETRY_MAX_COUNT);
    if (p->n_retry_errors < 0 || p->n_retry_errors > FH_RETRY_MAX_ERRORS)
        return fail(msg, msglen, "retry_errors holds %d codes; at most %d are allowed",
                    p->n_retry_errors, FH_RETRY_MAX_ERRORS);
    for (int i = 0; i < p->n_retry_errors; i++)
        if (!fh_retry_error_allowed(p->retry_errors[i]))
            return fail(msg, msglen, "retry_errors[%d] must be an error another attempt may "
                        "not repeat (a connection, TLS, protocol or decoding failure, or a "
                        "connect, read or write timeout)", i);
    ok(msg, msglen);
    return FH_OK;
}

/* ---- timeouts ---------------------------------------------------------------- */

int fh_timeout_check(double seconds, int64_t *ms, char *msg, size_t msglen)
{
    if (!seconds_ok(seconds))
        return fail(msg, msglen, "must be between 0 and %d seconds", FH_SECONDS_MAX);
    double x = seconds * 1000.0;
    int64_t v = (int64_t)x; /* in range: at most 1e12 */
    if ((double)v < x)
        v++; /* rounded up, so a tiny positive timeout is not 0, "none" */
    if (ms)
        *ms = v;
    ok(msg, msglen);
    return FH_OK;
}

/* ---- limits and the pool ------------------------------------------------------- */

int fh_limit_check(fh_limit_kind kind, int64_t value, char *msg, size_t msglen)
{
    const char *name = fh_limit_name(kind);
    if (!name)
        return fail(msg, msglen, "unknown limit kind %d", (int)kind);
    if (value < 1 || value > FH_LIMIT_MAX)
        return fail(msg, msglen, "%s must be between 1 and %lld", name,
                    (long long)FH_LIMIT_MAX);
    ok(msg, msglen);
    return FH_OK;
}

int fh_pool_limits_check(int64_t max_total, int64_t max_per_host, int64_t max_idle_per_host,
                         int64_t idle_timeout_ms, char *msg, size_t msglen)
{
    struct { const char *name; int64_t v, low; } sizes[] = {
        {"max_connections", max_total, 1},
        {"max_connections_per_host", max_per_host, 1},
        {"max_keepalive_per_host", max_idle_per_host, 0},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int64_t v = sizes[i].v;
        if (v >= 0 && (v < sizes[i].low || v > FH_POOL_MAX))
            return fail(msg, msglen, "%s must be between %lld and %d", sizes[i].name,
                        (long long)sizes[i].low, FH_POOL_MAX);
    }
    if (idle_timeout_ms > (int64_t)FH_SECONDS_MAX * 1000)
        return fail(msg, msglen, "keepalive_expiry must be between 0 and %d seconds", FH_SECONDS_MAX);
    ok(msg, msglen);
    return FH_OK;
}
