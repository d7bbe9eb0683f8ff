/*
 * abi.h — the layouts of the public structs as the first release (0.1)
 * shipped them, and compile-time checks that the current ones still agree
 * (docs/c-api.md, ABI).
 *
 * Two kinds of public struct cross the library boundary by value:
 *  - versioned ones, which grow only at the end and whose size the caller
 *    hands over (fh_retry_policy carries it in struct_size, fh_pool_stats
 *    gets it from its inline wrapper): the library accepts every size from
 *    the 0.1 one (FH__*_SIZE_V1 below) up to its own, so each 0.1 field
 *    must keep its offset and type for ever;
 *  - frozen ones (fh_header, fh_loop_ops, fh_callbacks, fh_cookie), which
 *    never change at all; what they would need later comes as new
 *    functions.
 * fh_timings, which only the library fills and hands out by pointer, grows
 * at the end like a versioned one.
 * A change that breaks either rule stops the build here, with a message
 * that says which field moved, instead of crashing a program built against
 * an older header. One change these checks cannot see: a new field put into
 * the padding between two v1 fields (fh_retry_policy has 4 bytes after
 * max_attempts) moves nothing, yet a program built against the v1 header
 * owns those bytes. New fields go after the last v1 field; the headers say
 * so where they would be added.
 */
#ifndef FH_ABI_H
#define FH_ABI_H

#include <stddef.h>

#include "fasthttp/fasthttp.h"

/* ---- versioned ---------------------------------------------------------- */

typedef struct fh__retry_policy_v1 {
    size_t struct_size;
    int max_attempts;
    double backoff_factor;
    double backoff_max;
    int status_codes[32];
    int n_status_codes;
    int retry_non_idempotent;
    int respect_retry_after;
    double retry_after_max;
    int circuit_breaker;
    int cb_failure_threshold;
    double cb_recovery_seconds;
} fh__retry_policy_v1;
#define FH__RETRY_POLICY_SIZE_V1 sizeof(fh__retry_policy_v1)

typedef struct fh__pool_stats_v1 {
    int open;
    int idle;
    int waiting;
    uint64_t created;
    uint64_t reused;
} fh__pool_stats_v1;
#define FH__POOL_STATS_SIZE_V1 sizeof(fh__pool_stats_v1)

/* Handed out by pointer (fh_response_timings), never filled by the caller:
 * it grows at the end like the versioned ones, and an older caller simply
 * reads the prefix it knows, so no size needs to travel. */
typedef struct fh__timings_v1 {
    int64_t dns_us;
    int64_t connect_us;
    int64_t tls_us;
    int64_t sent_us;
    int64_t ttfb_us;
    int64_t total_us;
    int reused;
} fh__timings_v1;

/* ---- frozen ------------------------------------------------------------- */

typedef struct fh__header_v1 {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} fh__header_v1;

typedef struct fh__loop_ops_v1 {
    int (*watch)(void *loop_ud, int fd, int events);
    int (*timer)(void *loop_ud, int64_t ms);
} fh__loop_ops_v1;

typedef struct fh__callbacks_v1 {
    void (*on_done)(void *ud, fh_request *req, int status, fh_response *resp);
    void (*on_body)(void *ud, fh_response *resp);
} fh__callbacks_v1;

typedef struct fh__cookie_v1 {
    const char *name;
    const char *value;
    const char *domain;
    const char *path;
    int secure;
    int http_only;
    int host_only;
    int64_t expires_unix;
    const char *same_site;
    void *mem;
} fh__cookie_v1;

/* ---- checks ------------------------------------------------------------- */

/* Field f of the public struct cur sits where, and is as large as, in v1. */
#define FH__SAME_FIELD(cur, v1, f)                                                     \
    _Static_assert(offsetof(cur, f) == offsetof(v1, f) &&                              \
                       sizeof(((cur *)0)->f) == sizeof(((v1 *)0)->f),                  \
                   #cur "." #f " moved or changed size since 0.1: public structs only " \
                   "grow at the end (docs/c-api.md, ABI)")
/* A frozen struct: exactly as in v1. */
#define FH__FROZEN(cur, v1)                                                            \
    _Static_assert(sizeof(cur) == sizeof(v1),                                          \
                   #cur " is frozen: new data needs new functions (docs/c-api.md, ABI)")

_Static_assert(FH_RETRY_MAX_STATUS == 32, "FH_RETRY_MAX_STATUS is part of the layout");
_Static_assert(FH_RETRY_MAX_ERRORS == 24, "FH_RETRY_MAX_ERRORS is part of the layout");
_Static_assert(sizeof(fh_retry_policy) >= FH__RETRY_POLICY_SIZE_V1, "fh_retry_policy shrank");
FH__SAME_FIELD(fh_retry_policy, fh__retry_policy_v1, struct_size);
FH__SAME_FIELD(fh_retry_policy, fh__retry_policy_v1, max_attempts);
FH__SAME_FIELD(fh_retry_policy, fh__retry_policy_v1, backoff_factor);
FH__SAME_FIELD(fh_retry_policy, fh__retry_policy_v1, backoff_max);
FH__SAME_FIELD(fh_retry_policy, fh__retry_policy_v1, status_codes);
FH__SAME_FIELD(fh_retry_policy, fh__retry_policy_v1, n_status_codes);
FH__SAME_FIELD(fh_retry_policy, fh__retry_policy_v1, retry_non_idempotent);
FH__SAME_FIELD(fh_retry_policy, fh__retry_policy_v1, respect_retry_after);
FH__SAME_FIELD(fh_retry_policy, fh__retry_policy_v1, retry_after_max);
FH__SAME_FIELD(fh_retry_policy, fh__retry_policy_v1, circuit_breaker);
FH__SAME_FIELD(fh_retry_policy, fh__retry_policy_v1, cb_failure_threshold);
FH__SAME_FIELD(fh_retry_policy, fh__retry_policy_v1, cb_recovery_seconds);

_Static_assert(sizeof(fh_pool_stats) >= FH__POOL_STATS_SIZE_V1, "fh_pool_stats shrank");
FH__SAME_FIELD(fh_pool_stats, fh__pool_stats_v1, open);
FH__SAME_FIELD(fh_pool_stats, fh__pool_stats_v1, idle);
FH__SAME_FIELD(fh_pool_stats, fh__pool_stats_v1, waiting);
FH__SAME_FIELD(fh_pool_stats, fh__pool_stats_v1, created);
FH__SAME_FIELD(fh_pool_stats, fh__pool_stats_v1, reused);

_Static_assert(sizeof(fh_timings) >= sizeof(fh__timings_v1), "fh_timings shrank");
FH__SAME_FIELD(fh_timings, fh__timings_v1, dns_us);
FH__SAME_FIELD(fh_timings, fh__timings_v1, connect_us);
FH__SAME_FIELD(fh_timings, fh__timings_v1, tls_us);
FH__SAME_FIELD(fh_timings, fh__timings_v1, sent_us);
FH__SAME_FIELD(fh_timings, fh__timings_v1, ttfb_us);
FH__SAME_FIELD(fh_timings, fh__timings_v1, total_us);
FH__SAME_FIELD(fh_timings, fh__timings_v1, reused);

FH__FROZEN(fh_header, fh__header_v1);
FH__SAME_FIELD(fh_header, fh__header_v1, name);
FH__SAME_FIELD(fh_header, fh__header_v1, name_len);
FH__SAME_FIELD(fh_header, fh__header_v1, value);
FH__SAME_FIELD(fh_header, fh__header_v1, value_len);

FH__FROZEN(fh_loop_ops, fh__loop_ops_v1);
FH__SAME_FIELD(fh_loop_ops, fh__loop_ops_v1, watch);
FH__SAME_FIELD(fh_loop_ops, fh__loop_ops_v1, timer);

FH__FROZEN(fh_callbacks, fh__callbacks_v1);
FH__SAME_FIELD(fh_callbacks, fh__callbacks_v1, on_done);
FH__SAME_FIELD(fh_callbacks, fh__callbacks_v1, on_body);

FH__FROZEN(fh_cookie, fh__cookie_v1);
FH__SAME_FIELD(fh_cookie, fh__cookie_v1, name);
FH__SAME_FIELD(fh_cookie, fh__cookie_v1, value);
FH__SAME_FIELD(fh_cookie, fh__cookie_v1, domain);
FH__SAME_FIELD(fh_cookie, fh__cookie_v1, path);
FH__SAME_FIELD(fh_cookie, fh__cookie_v1, secure);
FH__SAME_FIELD(fh_cookie, fh__cookie_v1, http_only);
FH__SAME_FIELD(fh_cookie, fh__cookie_v1, host_only);
FH__SAME_FIELD(fh_cookie, fh__cookie_v1, expires_unix);
FH__SAME_FIELD(fh_cookie, fh__cookie_v1, same_site);
FH__SAME_FIELD(fh_cookie, fh__cookie_v1, mem);

#endif
