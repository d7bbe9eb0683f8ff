/*
 * retry.h — the arithmetic of retries (sans-IO): which responses are
 * retried, how long to wait (full-jitter backoff, Retry-After), and the
 * per-origin circuit breaker's transitions.
 */
#ifndef FH_RETRY_H
#define FH_RETRY_H

#include <stddef.h>
#include <stdint.h>

#include "fasthttp/policy.h"

struct fh__pool;
struct fh__pool_host;

int fh__retry_status_listed(const fh_retry_policy *p, int status);

/* Wait before retry number n (1 = after the first attempt): uniform in
 * [0, min(backoff_max, factor * 2^(n-1))] seconds, in microseconds. */
int64_t fh__retry_backoff_us(const fh_retry_policy *p, int n, uint64_t *rng);

/* Parses a Retry-After value (RFC 9110 §10.2.3: delay-seconds or an
 * HTTP-date) into a wait in microseconds from now_unix (seconds since the
 * epoch); FH_EINVAL when it is neither. A date in the past is 0. */
int fh__retry_after_us(const char *v, size_t len, int64_t now_unix, int64_t *out);

/* Circuit breaker (under the pool lock). admit: FH_OK, and *trial = 1 when
 * this request is the half-open trial; FH_ECIRCUIT_OPEN when refused.
 * record: the outcome of an admitted request. */
enum { FH__CB_CLOSED = 0, FH__CB_OPEN = 1, FH__CB_HALF_OPEN = 2 };
int fh__breaker_admit(struct fh__pool *p, struct fh__pool_host *h, const fh_retry_policy *pol,
                      int64_t now_us, int *trial);
void fh__breaker_record(struct fh__pool *p, struct fh__pool_host *h, const fh_retry_policy *pol,
                        int failed, int trial, int64_t now_us);
/* A trial that ended without an outcome (cancelled) lets the next one in. */
void fh__breaker_abandon(struct fh__pool *p, struct fh__pool_host *h);

#endif
