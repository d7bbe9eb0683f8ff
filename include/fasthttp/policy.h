/*
 * fasthttp/policy.h — what the engine does between attempts and hops:
 * retries with backoff, a per-origin circuit breaker, redirects and
 * credentials. These run inside the engine, so the blocking API, the
 * event-loop API and the Python package share one implementation.
 */
#ifndef FASTHTTP_POLICY_H
#define FASTHTTP_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fh_client fh_client;
typedef struct fh_request fh_request;
typedef struct fh_response fh_response;

/* ---- retries and the circuit breaker ------------------------------------ */

/* Part of the struct's layout: never changes. */
#define FH_RETRY_MAX_STATUS 32    /* status codes one policy can list */
#define FH_RETRY_MAX_COUNT 1000000 /* largest max_attempts and cb_failure_threshold */
#define FH_RETRY_MAX_ERRORS 24    /* error codes one policy can list */

/*
 * A retry policy is filled by the caller and copied by the setters below.
 * Always start from fh_retry_policy_init() and change fields by name: the
 * defaults are the library's (bindings read them from there too). It will
 * grow (new fields are only ever added at the end), so it carries its own
 * size: fh_retry_policy_init() sets struct_size to the sizeof of the struct
 * the caller was compiled with, and the setters read only that many bytes,
 * taking defaults for fields added since. A policy that did not come from
 * fh_retry_policy_init() is refused (docs/c-api.md, ABI).
 */
typedef struct fh_retry_policy {
    size_t struct_size;       /* set by fh_retry_policy_init(); leave it alone */
    int max_attempts;         /* including the first; 1 (default) disables retries */
    double backoff_factor;    /* seconds: attempt n waits up to factor * 2^(n-1)
                                 (default 0.2) */
    double backoff_max;       /* cap on one wait, seconds (default 60; 0: no wait) */
    int status_codes[FH_RETRY_MAX_STATUS]; /* responses that are retried */
    int n_status_codes;       /* default: 408, 429, 500, 502, 503, 504 */
    int retry_non_idempotent; /* 0 (default): only GET, HEAD, PUT, DELETE,
                                 OPTIONS and TRACE are retried */
    int respect_retry_after;  /* 1 (default): a Retry-After on a retried
                                 status sets the wait (RFC 9110 §10.2.3) */
    double retry_after_max;   /* cap on a Retry-After wait, seconds (default 60; 0: none) */
    int circuit_breaker;      /* 1: per-origin breaker on (default 0) */
    int cb_failure_threshold; /* consecutive failures that open it (default 5) */
    double cb_recovery_seconds; /* open time before one trial (default 60) */
    /* Added after 0.1.0 (a policy from an older header gets the defaults): */
    int retry_errors[FH_RETRY_MAX_ERRORS]; /* FH_E... codes of failed attempts
                                 that are retried, each one fh_retry_error_allowed()
                                 accepts; default: the connection failures
                                 FH_ECONNECT, FH_ECLOSED, FH_EIO and the connect,
                                 read and write timeouts */
    int n_retry_errors;       /* how many of retry_errors are used (0: none) */
    /* New fields go here, after every field above and never into padding
     * between them: a program built against this header owns those bytes. */
} fh_retry_policy;

/* 1 when a failed attempt with this FH_E... code may be retried (and so may
 * be listed in retry_errors): failures of one attempt that another attempt
 * need not repeat — resolving, connecting, TLS and certificate errors, the
 * connection closed or failing, a malformed response, a decoding error, the
 * connect, read and write timeouts. 0 for everything else (invalid
 * requests, the total timeout, a body too large, cancellation...). */
FH_EXTERN int fh_retry_error_allowed(int code);

/* What fh_retry_policy_init() calls with the caller's sizeof(fh_retry_policy):
 * writes exactly size bytes at p, the defaults for the fields this library
 * knows and zeros after them, and sets p->struct_size = size. Bindings
 * that cannot use the inline function (ctypes, cffi ABI mode) call this. */
FH_EXTERN void fh_retry_policy_init_sized(fh_retry_policy *p, size_t size);

/* Fills p with the defaults: one attempt (no retries), breaker off, and
 * what applies once retries are enabled by raising max_attempts: waits of
 * up to 0.2 s, 0.4 s, 0.8 s ... capped at 60 s; Retry-After honoured up to
 * 60 s; the statuses 408 (Request Timeout), 429 (Too Many Requests), 500,
 * 502, 503 and 504 retried (errors that usually pass; the set the Python
 * package's seed library used); breaker threshold 5 failures, recovery
 * 60 s. Waits use full jitter: a uniformly random time in [0, cap] (the
 * AWS "full jitter" scheme), so many clients do not retry in lock-step.
 * The Python package's RetryPolicy() takes every default from here.
 * Inline, so that the size is the one of the header the caller was
 * compiled with. */
static inline void fh_retry_policy_init(fh_retry_policy *p)
{
    fh_retry_policy_init_sized(p, sizeof *p);
}

/* Checks a policy the way the setters below do. Returns FH_OK, or
 * FH_EINVAL with a sentence written to msg (when msg is not NULL) about
 * the first field that is wrong, starting with the field's name (an entry
 * of status_codes is "status_codes[i]") so a binding can name its own
 * argument and add the value its caller gave:
 *   max_attempts, cb_failure_threshold: an integer from 1 to FH_RETRY_MAX_COUNT;
 *   backoff_factor, backoff_max, retry_after_max, cb_recovery_seconds: a
 *     number of seconds from 0 to FH_SECONDS_MAX (not NaN);
 *   n_status_codes: from 0 to FH_RETRY_MAX_STATUS (a binding with more
 *     codes may set the count it has without writing past the array: the
 *     sentence then says how many it holds);
 *   status_codes[i]: an HTTP status code, 100 to 599;
 *   n_retry_errors: from 0 to FH_RETRY_MAX_ERRORS;
 *   retry_errors[i]: a code fh_retry_error_allowed() accepts.
 * e.g. "max_attempts must be between 1 and 1000000". */
FH_EXTERN int fh_retry_policy_check(const fh_retry_policy *p, char *msg, size_t msglen);

/* Sets the client's policy (copied; NULL removes it); FH_EINVAL for one
 * fh_retry_policy_check() refuses. Every attempt,
 * retries included, passes the circuit breaker and counts towards it, so
 * a retry into a circuit that opened meanwhile fails with FH_ECIRCUIT_OPEN.
 * Refused, keeping the previous policy: FH_EINVAL for a policy that
 * fh_retry_policy_init() did not fill (struct_size smaller than the first
 * release's struct) or a value out of range; FH_EUNSUPPORTED for one
 * compiled against a newer fasthttp whose struct is larger than this
 * library's, whose fields it cannot honour. */
FH_EXTERN int fh_client_set_retry(fh_client *client, const fh_retry_policy *p);
/* Per-request policy overriding the client's (copied; NULL: client's);
 * refused as by fh_client_set_retry(). */
FH_EXTERN int fh_request_set_retry(fh_request *req, const fh_retry_policy *p);

/* Monotonic clock in microseconds used by the circuit breaker, for tests
 * (NULL restores the real clock). */
FH_EXTERN int fh_client_set_clock(fh_client *client, int64_t (*now_us)(void *ud), void *ud);

/* State of the breaker for an origin "scheme://host:port": 0 closed,
 * 1 open, 2 half-open (a trial request is in flight). */
FH_EXTERN int fh_client_circuit_state(fh_client *client, const char *origin);

/* ---- redirects ----------------------------------------------------------- */

/* Follow 301, 302, 303, 307 and 308 (default on, at most 20). */
FH_EXTERN int fh_client_set_redirects(fh_client *client, int follow, int max_redirects);
/* Per request: -1 keeps the client's value. */
FH_EXTERN int fh_request_set_redirects(fh_request *req, int follow, int max_redirects);

/* ---- credentials ---------------------------------------------------------- */

/* Basic (RFC 7617) or Digest (RFC 7616) credentials. Sent only to the
 * origin of the request's URL, never across a redirect to another origin.
 * Digest answers the server's 401 challenge once per request. The request's
 * setting wins over the client's. kind: FH_AUTH_NONE removes them. */
typedef enum fh_auth_kind { FH_AUTH_NONE = 0, FH_AUTH_BASIC = 1, FH_AUTH_DIGEST = 2 } fh_auth_kind;
/* Both refuse credentials that fh_auth_check() refuses (FH_EINVAL), and
 * then keep the previous setting. */
FH_EXTERN int fh_client_set_auth(fh_client *client, fh_auth_kind kind, const char *user,
                                 const char *pass);
FH_EXTERN int fh_request_set_auth(fh_request *req, fh_auth_kind kind, const char *user,
                                  const char *pass);

/* Checks credentials the way the setters above do. Returns FH_OK, or
 * FH_EINVAL with a sentence saying what is wrong written to msg (when msg
 * is not NULL): an unknown kind; user or pass NULL (for Basic and Digest);
 * a ':' in a Basic user name (RFC 7617 §2: the first colon ends the
 * user-id); a control character (0x00-0x1f or 0x7f: CR, LF, HTAB...) in
 * the user name or the password, for both schemes (RFC 7617 §2; Digest
 * sends the user name in a quoted-string, RFC 9110 §5.6.4). Strings are
 * used as UTF-8 bytes. NUL ends a C string: bindings that hold counted
 * strings must refuse an embedded NUL themselves. FH_AUTH_NONE is FH_OK. */
FH_EXTERN int fh_auth_check(fh_auth_kind kind, const char *user, const char *pass, char *msg,
                            size_t msglen);

/* Digest: answer only challenges whose algorithm is this one ("MD5",
 * "SHA-256", "SHA-512-256", each optionally with "-sess"; case-insensitive),
 * as RFC 7616 §3.7 lets a client choose among the challenges it gets; a 401
 * that offers no such challenge is returned to the caller unanswered. NULL:
 * the strongest one offered (the default). The request's setting, once
 * made, wins over the client's. FH_EINVAL for another name (the previous
 * setting stays); fh_digest_algorithm_check() tells without setting. */
FH_EXTERN int fh_client_set_digest_algorithm(fh_client *client, const char *algorithm);
FH_EXTERN int fh_request_set_digest_algorithm(fh_request *req, const char *algorithm);
FH_EXTERN int fh_digest_algorithm_check(const char *algorithm);

/* Marks a header name of this request as a credential (e.g. "X-API-Key"
 * set by a custom auth scheme): like Authorization and Cookie, it is not
 * sent once a redirect leaves the request's origin. */
FH_EXTERN int fh_request_mark_sensitive(fh_request *req, const char *name);

/* ---- cookies ---------------------------------------------------------------- */

typedef struct fh_cookie_jar fh_cookie_jar; /* also in cookies.h; identical typedefs are fine in C11 */

/* The client's jar (borrowed: it must outlive the client; NULL: none). Its
 * cookies are sent with every request and every hop (re-derived per hop for
 * the hop's URL), and every response, redirect hops included, updates it. */
FH_EXTERN int fh_client_set_cookie_jar(fh_client *client, fh_cookie_jar *jar);
/* A jar for this request only: its cookies are sent instead of the
 * client's; Set-Cookie still updates the client's jar. A Cookie header set
 * by the caller replaces jar cookies (one Cookie field, RFC 6265 §5.4). */
FH_EXTERN int fh_request_set_cookie_jar(fh_request *req, fh_cookie_jar *jar);

/* ---- what happened --------------------------------------------------------- */

/* Attempts made for the final response (1 without retries). */
FH_EXTERN int fh_response_attempts(const fh_response *resp);
/* The URL of the final response (after redirects). */
FH_EXTERN const char *fh_response_url(const fh_response *resp);
/* Redirect hops before the final response, oldest first; each is a
 * response with status, headers and URL but no body, owned by resp. */
FH_EXTERN size_t fh_response_history_count(const fh_response *resp);
FH_EXTERN const fh_response *fh_response_history_at(const fh_response *resp, size_t i);

#ifdef __cplusplus
}
#endif
#endif
