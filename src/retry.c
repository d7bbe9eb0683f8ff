/*
 * retry.c — retry arithmetic and the circuit breaker.
 *
 * Backoff uses "full jitter": the wait is uniformly random between 0 and
 * the exponential cap, which spreads retries of many clients better than a
 * fixed exponential delay. The breaker follows the classic closed → open →
 * half-open cycle; its state lives on the pool's origin entry, so every
 * engine and thread of a client shares it.
 */
#include "retry.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

int fh__retry_status_listed(const fh_retry_policy *p, int status)
{
    for (int i = 0; i < p->n_status_codes && i < FH_RETRY_MAX_STATUS; i++)
        if (p->status_codes[i] == status)
            return 1;
    return 0;
}

/* xorshift64*: jitter needs spread, not cryptographic strength. */
static uint64_t next_random(uint64_t *s)
{
    if (!*s)
        *s = 0x9E3779B97F4A7C15ULL;
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

int64_t fh__retry_backoff_us(const fh_retry_policy *p, int n, uint64_t *rng)
{
    if (p->backoff_factor <= 0 || n < 1)
        return 0;
    double cap = p->backoff_factor * (double)(1ULL << (n > 30 ? 30 : n - 1));
    double max = p->backoff_max; /* fh_retry_policy_init() sets 60 */
    if (cap > max)
        cap = max;
    double u = (double)(next_random(rng) >> 11) / (double)(1ULL << 53);
    return (int64_t)(u * cap * 1e6);
}

/* HTTP-date (RFC 9110 §5.6.7): IMF-fixdate, and the obsolete RFC 850 and
 * asctime forms recipients must accept. */
static int parse_http_date(const char *s, int64_t *out)
{
    static const char *const formats[] = {"%a, %d %b %Y %H:%M:%S GMT",
                                          "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"};
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        const char *end = strptime(s, formats[i], &tm);
        if (end && *end == 0) {
            *out = (int64_t)timegm(&tm);
            return 0;
        }
    }
    return -1;
}

int fh__retry_after_us(const char *v, size_t len, int64_t now_unix, int64_t *out)
{
    while (len && (*v == ' ' || *v == '\t'))
        v++, len--;
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    if (len == 0 || len > 64)
        return FH_EINVAL;
    char buf[65];
    memcpy(buf, v, len);
    buf[len] = 0;
    size_t i = 0;
    while (i < len && isdigit((unsigned char)buf[i]))
        i++;
    if (i == len) { /* delay-seconds = 1*DIGIT */
        if (len > 9)
            len = 9; /* ~31 years: any cap applies long before */
        buf[len] = 0;
        *out = (int64_t)strtol(buf, NULL, 10) * 1000000;
        return FH_OK;
    }
    int64_t when;
    if (parse_http_date(buf, &when) < 0)
        return FH_EINVAL;
    *out = when > now_unix ? (when - now_unix) * 1000000 : 0;
    return FH_OK;
}

int fh__breaker_admit(fh__pool *p, fh__pool_host *h, const fh_retry_policy *pol, int64_t now,
                      int *trial)
{
    int rc = FH_OK;
    *trial = 0;
    fh__pool_lock(p);
    if (h->cb_state == FH__CB_OPEN &&
        now - h->cb_opened_at >= (int64_t)(pol->cb_recovery_seconds * 1e6)) {
        h->cb_state = FH__CB_HALF_OPEN; /* let exactly one trial through */
        *trial = 1;
    } else if (h->cb_state != FH__CB_CLOSED) {
        rc = FH_ECIRCUIT_OPEN;
    }
    fh__pool_unlock(p);
    return rc;
}

void fh__breaker_record(fh__pool *p, fh__pool_host *h, const fh_retry_policy *pol, int failed,
                        int trial, int64_t now)
{
    fh__pool_lock(p);
    if (!failed) {
        /* A success closes the circuit; only the trial may close it from
         * half-open, but any success proves the origin is back. */
        h->cb_failures = 0;
        h->cb_state = FH__CB_CLOSED;
    } else if (trial || h->cb_state == FH__CB_CLOSED) {
        h->cb_failures++;
        if (trial || h->cb_failures >= pol->cb_failure_threshold) {
            h->cb_state = FH__CB_OPEN;
            h->cb_opened_at = now;
        }
    }
    fh__pool_unlock(p);
}

void fh__breaker_abandon(fh__pool *p, fh__pool_host *h)
{
    fh__pool_lock(p);
    if (h->cb_state == FH__CB_HALF_OPEN) {
        h->cb_state = FH__CB_OPEN;
        h->cb_opened_at = INT64_MIN / 2; /* recovery already over: next one is a trial */
    }
    fh__pool_unlock(p);
}
