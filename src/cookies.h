/* cookies.h — the cookie jar's interface to the engine (RFC 6265), plus the
 * matching rules it is built from, exposed for the unit tests. */
#ifndef FH_COOKIES_H
#define FH_COOKIES_H

#include <stddef.h>
#include <stdint.h>

#include "fasthttp/cookies.h"
#include "buf.h"
#include "url.h"

/*
 * Stores one Set-Cookie field value received in the response to a request
 * for u (RFC 6265 §5.2 parsing, §5.3 storage model). Returns FH_OK when a
 * cookie was stored, updated or deleted; otherwise the cookie is ignored and
 * the result is FH_EPROTO (malformed: no '=', empty name, control
 * characters, too long), FH_EINVAL (refused by policy: foreign or public-
 * suffix domain, Secure over http, cookie prefix rules, would shadow a
 * secure cookie) or FH_ENOMEM, with *why (when why is not NULL) set to a
 * static sentence. The engine may ignore the result.
 */
int fh__jar_store(fh_cookie_jar *jar, const fh__url *u, const char *value, size_t len,
                  const char **why);

/*
 * Appends the Cookie header value for a request to u to out ("a=1; b=2",
 * §5.4): cookies whose domain and path match, Secure ones only over https,
 * none expired; longer paths first, then earlier creation; their last-access
 * time is updated. Returns the number of cookies appended (0: nothing was
 * appended), or FH_ENOMEM with out left as it was.
 */
int fh__jar_header(fh_cookie_jar *jar, const fh__url *u, fh__buf *out);

/* ---- parsing (cookie_parse.c), shared with the jar and the tests -------- */

#define FH__COOKIE_MAX_ATTR 1024                  /* 6265bis §5.6: longer values ignored */
#define FH__COOKIE_MAX_DATE INT64_C(253402300799) /* 9999-12-31 23:59:59 */
#define FH__COOKIE_MAX_DOMAIN 255

typedef struct fh__span {
    const char *p;
    size_t n;
} fh__span;

enum { FH__COOKIE_PREFIX_SECURE = 1, FH__COOKIE_PREFIX_HOST = 2 };

/* One Set-Cookie field value parsed per §5.2. name, value and path point
 * into the field value (trimmed); the Domain attribute is copied lower-cased
 * without its leading dot. For each attribute the last valid one wins. */
typedef struct fh__setcookie {
    fh__span name, value, path;
    char domain[FH__COOKIE_MAX_ATTR + 1];
    size_t domain_len;
    int has_domain;  /* 1 even when the domain is empty ("Domain=.") */
    int has_path;    /* 0: use the default path */
    int secure, http_only;
    int has_max_age, has_expires;
    int64_t max_age; /* seconds, saturated far beyond FH__COOKIE_MAX_DATE */
    int64_t expires; /* seconds since the epoch (§5.1.1) */
    int prefix;      /* FH__COOKIE_PREFIX_* from the name, or 0 */
    const char *same_site; /* static "Strict", "Lax", "None", or NULL */
} fh__setcookie;

/* Parses a Set-Cookie field value (§5.2). FH_OK, or FH_EPROTO with *why set
 * when the cookie must be ignored: no '=' in the name-value pair, an empty
 * name, a control character in name or value, name + value over
 * FH_COOKIE_MAX_BYTES. */
int fh__setcookie_parse(const char *s, size_t len, fh__setcookie *c, const char **why);

/* 1 when p has a control character (0x00-0x1F but HTAB, or 0x7F). */
int fh__cookie_has_ctl(const char *p, size_t n);

/* A domain as a program writes it: "[::1]" read as "::1", one leading dot
 * dropped, lower-cased into out (FH__COOKIE_MAX_DOMAIN + 1 bytes). FH_EINVAL
 * for bytes no host name or address holds. NULL gives "". */
int fh__cookie_norm_domain(const char *in, char *out);

/* The cookie-date algorithm of §5.1.1. Returns 0 and the time in seconds
 * since the epoch, or -1 when s is not a date. */
int fh__cookie_parse_date(const char *s, size_t len, int64_t *out);

/* §5.1.3: 1 when host domain-matches domain (both lower case). An IP address
 * host only matches itself. */
int fh__cookie_domain_match(const char *host, int host_is_ip, const char *domain);

/* §5.1.4: 1 when the request path (the target up to '?') path-matches the
 * cookie path. */
int fh__cookie_path_match(const char *req_path, size_t req_len, const char *cookie_path);

/* §5.1.4 default-path of a request target: sets *path to the start of it
 * (within target, or a static "/") and returns its length. */
size_t fh__cookie_default_path(const char *target, const char **path);

#endif
