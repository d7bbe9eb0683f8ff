/* url.h — parsing of absolute http/https URLs (sans-IO; RFC 3986). */
#ifndef FH_URL_H
#define FH_URL_H

#include <stddef.h>

typedef struct fh__url {
    int tls;            /* 1 for https */
    char *host;         /* lower-cased; IPv6 literals without brackets; NUL-terminated */
    int port;           /* explicit port, or 80/443 */
    int host_is_ip;     /* 1 for IPv4 or IPv6 literals */
    char *target;       /* origin-form request target: path[?query], never empty */
    char *authority;    /* Host header value: host[:port], IPv6 in brackets, default port omitted */
    char *userinfo;     /* "user[:password]" still percent-encoded, or NULL */
} fh__url;

/*
 * Parses an absolute URL into u (all strings are owned by u). Accepts the
 * schemes http and https (case-insensitively). Rejects: missing or empty
 * host, bad ports (0, > 65535, non-digits), control bytes, spaces, and any
 * byte < 0x21 or 0x7f anywhere; a fragment is dropped; bytes >= 0x80 in the
 * path or query are percent-encoded. On failure returns FH_EURL (or
 * FH_EUNSUPPORTED for other schemes, FH_ENOMEM) and, when why is not NULL,
 * sets *why to a static sentence saying what is wrong.
 */
int fh__url_parse(fh__url *u, const char *s, size_t len, const char **why);

/* Frees the strings of u and zeroes it. Safe on a zeroed struct. */
void fh__url_free(fh__url *u);

#endif
