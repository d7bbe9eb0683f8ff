/* url.h — parsing of absolute http/https URLs (sans-IO; RFC 3986). */
#ifndef FH_URL_H
#define FH_URL_H

#include <stddef.h>

typedef struct fh__url {
    int tls;            /* 1 for https */
    char *host;         /* lower-cased; IPv6 literals without brackets; NUL-terminated */
    int port;           /* explicit port, or 80/443 */
    int host_is_ip;     /* 1 for IPv4 or IPv6 literals */
    int idn;            /* 1 when host is the ASCII form of an internationalised name */
    char *target;       /* origin-form request target: path[?query], never empty */
    char *authority;    /* Host header value: host[:port], IPv6 in brackets, default port omitted */
    char *userinfo;     /* "user[:password]" still percent-encoded, or NULL */
    char *href;         /* the whole URL as it is used: the input with an IDN host in
                           its ASCII form and spaces and bytes >= 0x80 of the path,
                           query and fragment percent-encoded (userinfo kept) */
} fh__url;

/*
 * Parses an absolute URL into u (all strings are owned by u). Accepts the
 * schemes http and https (case-insensitively). Rejects: missing or empty
 * host, bad ports (0, > 65535, non-digits), control bytes (0x00-0x1f, 0x7f,
 * CR and LF included) anywhere, and spaces before the path. A space or a
 * byte >= 0x80 in the path, query or fragment is percent-encoded (UTF-8
 * octets, as browsers and httpx do, WHATWG URL "path/query percent-encode
 * set"); a host with bytes >= 0x80 is an internationalised domain name,
 * converted to its ASCII "xn--" form (IDNA2008 with the UTS #46 mapping,
 * libidn2). The fragment is dropped from the target. On failure returns
 * FH_EURL (or FH_EUNSUPPORTED for other schemes, FH_ENOMEM) and, when why
 * is not NULL, sets *why to a static sentence saying what is wrong.
 */
int fh__url_parse(fh__url *u, const char *s, size_t len, const char **why);

/*
 * The user name and password of u->userinfo, percent-decoded (RFC 3986
 * §3.2.1), as new strings in *user and *pass (*pass is NULL when the
 * userinfo has no ':'; both NULL without userinfo). FH_EURL with *why when
 * a decoded part contains a control byte or the user name a ':' (RFC 7617
 * §2), FH_ENOMEM.
 */
int fh__url_credentials(const fh__url *u, char **user, char **pass, const char **why);

/* A malloc'd copy of the URL s (len bytes) without its "userinfo@", as
 * shown to users and sent nowhere: "http://a:b@h/x" gives "http://h/x". */
char *fh__url_strip_userinfo(const char *s, size_t len);

/* A malloc'd pool key for u's origin, "scheme://host:port" (IPv6 hosts
 * without brackets, the port always written); NULL when out of memory. */
char *fh__url_pool_key(const fh__url *u);

/* Frees the strings of u and zeroes it. Safe on a zeroed struct. */
void fh__url_free(fh__url *u);

#endif
