/*
 * fasthttp/cookies.h — the cookie jar (RFC 6265).
 *
 * A jar stores the cookies servers set with Set-Cookie and gives back the
 * Cookie header for each request; a client given a jar updates it from every
 * response, redirect hops included. The same jar may also be filled and read
 * by the program (fh_cookie_jar_set / _get / _at / _delete / _clear).
 *
 * Thread safety: every function may be called from any thread at any time;
 * each jar has its own mutex. Cookies handed out are copies (fh_cookie owns
 * its strings until fh_cookie_free), so they stay valid however other threads
 * change the jar meanwhile.
 *
 * Limits: name + value at most 4096 bytes; at most 50 cookies per registrable
 * domain (eTLD+1, from the Public Suffix List); at most 3000 in the jar. When
 * a limit is exceeded the cookie used least recently is evicted (RFC 6265
 * §5.3). Expired cookies are purged before the jar is read or changed.
 */
#ifndef FASTHTTP_COOKIES_H
#define FASTHTTP_COOKIES_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FH_COOKIE_MAX_BYTES 4096    /* name + value */
#define FH_COOKIE_MAX_PER_DOMAIN 50 /* per registrable domain */
#define FH_COOKIE_MAX_TOTAL 3000

typedef struct fh_cookie_jar fh_cookie_jar;

/*
 * One cookie, copied out of a jar. The strings are NUL-terminated and owned
 * by the struct: release them with fh_cookie_free(). same_site is "Strict",
 * "Lax", "None" or NULL when the server sent no (recognised) SameSite; it is
 * kept as metadata only, a client has no "site" to enforce it against.
 * The struct is frozen (docs/c-api.md, ABI): an attribute added later gets
 * an accessor function that reads it from the private block, so a program
 * compiled against this header keeps working with a newer library.
 */
typedef struct fh_cookie {
    const char *name;
    const char *value;
    const char *domain;    /* lower case, no leading dot; "" = any host (see _set) */
    const char *path;
    int secure;            /* sent over https only */
    int http_only;
    int host_only;         /* 1: sent to exactly this host; 0: also to its subdomains */
    int64_t expires_unix;  /* seconds since the epoch; -1 for a session cookie */
    const char *same_site;
    void *mem;             /* private: the block holding the strings */
} fh_cookie;

/* Frees the strings of a cookie filled by fh_cookie_jar_at or _get and
 * zeroes it. Safe on a zeroed struct. */
FH_EXTERN void fh_cookie_free(fh_cookie *c);

/* Creates an empty jar; NULL when out of memory. */
FH_EXTERN fh_cookie_jar *fh_cookie_jar_new(void);

/* Frees the jar and every cookie in it. NULL is accepted. No other thread
 * may be using the jar. */
FH_EXTERN void fh_cookie_jar_free(fh_cookie_jar *jar);

/*
 * Stores a cookie as the program says, like Python's
 * jar.set(name, value, domain=, path=, secure=). It replaces a cookie with the
 * same name, domain and path (keeping its creation time, so header order is
 * stable), HttpOnly or Secure ones too: the program owns the jar.
 *
 *  - domain NULL or "": the cookie has no domain and is sent to EVERY host
 *    the jar's client talks to (what requests/httpx users expect of a
 *    domain-less set()); give a domain to keep it to one site.
 *  - domain given: a domain cookie for that host and its subdomains (a
 *    leading dot is ignored, case is folded, "[::1]" is read as "::1"); an IP
 *    address matches only itself. Public suffixes are not refused here: the
 *    program is trusted, unlike a server.
 *  - path NULL or "": "/"; otherwise it must start with '/'.
 *  - secure: only sent over https. http_only: metadata.
 *  - expires_unix < 0: session cookie; an expiry not after the jar's clock
 *    deletes the matching cookie instead and stores nothing.
 *
 * FH_EINVAL: empty name; a control character (0x00-0x1F but HTAB, 0x7F) or
 * ';' in name, value or path; '=' in the name; name + value over
 * FH_COOKIE_MAX_BYTES; a path not starting with '/'; a domain with bytes a
 * host name cannot have. FH_ENOMEM when out of memory.
 */
FH_EXTERN int fh_cookie_jar_set(fh_cookie_jar *jar, const char *name, const char *value,
                                const char *domain, const char *path, int secure, int http_only,
                                int64_t expires_unix);

/*
 * Stores a copy of *c as fh_cookie_jar_set() does, with the attributes set
 * does not take: host_only (1: sent to exactly c->domain, not its
 * subdomains; ignored without a domain) and same_site ("Strict", "Lax",
 * "None" in any case, or NULL; kept as metadata). c->mem is not read. A
 * cookie copied out with fh_cookie_jar_at/_get goes in unchanged. Errors as
 * for fh_cookie_jar_set(), plus FH_EINVAL for another same_site value.
 */
FH_EXTERN int fh_cookie_jar_add(fh_cookie_jar *jar, const fh_cookie *c);

/*
 * Stores one Set-Cookie field value (len bytes) as received in a response
 * to url, the way a client does for every response (RFC 6265 §5.2, §5.3:
 * default domain and path from the URL, public suffixes and foreign
 * domains refused, Secure only from https, cookie prefixes). For programs
 * that fetch responses some other way. Returns FH_OK when a cookie was
 * stored, updated or deleted; FH_EPROTO when the value is malformed (no
 * '=', empty name, control characters, too long), FH_EINVAL when it is
 * refused by those rules or url is not an http(s) URL, FH_ENOMEM.
 */
FH_EXTERN int fh_cookie_jar_store(fh_cookie_jar *jar, const char *url, const char *set_cookie,
                                  size_t len);

/*
 * The Cookie header value a client would send with a request to url
 * ("a=1; b=2", RFC 6265 §5.4: domain and path matching, Secure cookies only
 * over https, longer paths first), written to out (cap bytes, always
 * NUL-terminated when cap > 0). Returns the length of the whole value (as
 * snprintf does: call again with a larger buffer when it is >= cap), 0
 * when no cookie matches or url is not an http(s) URL. Like a request, it
 * updates the matching cookies' last-access time (eviction order).
 */
FH_EXTERN size_t fh_cookie_jar_header(fh_cookie_jar *jar, const char *url, char *out,
                                      size_t cap);

/* Number of cookies in the jar after purging the expired ones. */
FH_EXTERN size_t fh_cookie_jar_count(fh_cookie_jar *jar);

/*
 * Copies the i-th cookie in storage order (the order cookies were first
 * created) into *out; release it with fh_cookie_free(). It does not purge, so
 * indices agree with the last fh_cookie_jar_count() unless the jar changed in
 * between. FH_EINVAL when i is past the end (iterate until then), FH_ENOMEM.
 */
FH_EXTERN int fh_cookie_jar_at(fh_cookie_jar *jar, size_t i, fh_cookie *out);

/*
 * Finds the first cookie (storage order) named name whose domain equals
 * domain (leading dot and case ignored; NULL: any domain; "" the domain-less
 * ones) and whose path equals path (NULL: any). Returns 1 and copies it into
 * *out (release with fh_cookie_free), 0 when there is none, or FH_EINVAL
 * (name NULL) / FH_ENOMEM. Expired cookies are purged first.
 */
FH_EXTERN int fh_cookie_jar_get(fh_cookie_jar *jar, const char *name, const char *domain,
                                const char *path, fh_cookie *out);

/* Removes every cookie matching name, domain and path as in _get (each may be
 * NULL: any). Returns how many were removed (0 or more), or FH_EINVAL. */
FH_EXTERN int fh_cookie_jar_delete(fh_cookie_jar *jar, const char *name, const char *domain,
                                   const char *path);

/* Removes every cookie. */
FH_EXTERN void fh_cookie_jar_clear(fh_cookie_jar *jar);

/*
 * For tests: the clock used for expiry, in seconds since the epoch; NULL
 * restores the default time(NULL). It is called with the jar's mutex held and
 * must not call back into the library (the jar or any client) nor fork: the
 * library never holds two of its locks at once, which is what keeps fork()
 * from deadlocking (see fh_fork_generation()).
 */
FH_EXTERN void fh_cookie_jar_set_clock(fh_cookie_jar *jar, int64_t (*now)(void *ud), void *ud);

#ifdef __cplusplus
}
#endif
#endif
