/*
 * proxy.h — the sans-IO side of proxies (docs/architecture.md, "Proxies and
 * Unix sockets"): proxy URLs, NO_PROXY lists, the CONNECT request and its
 * reply (RFC 9110 §9.3.6), SOCKS5 (RFC 1928) with username/password
 * (RFC 1929). Bytes in, results out; no socket, no clock, no environment.
 */
#ifndef FH_PROXY_H
#define FH_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum fh__proxy_kind {
    FH__PX_NONE = 0,
    FH__PX_HTTP = 1,   /* http://: CONNECT tunnels, or forward mode for http:// targets */
    FH__PX_HTTPS = 2,  /* https://: the same inside TLS to the proxy */
    FH__PX_SOCKS5 = 3, /* socks5://: the client resolves the target's name */
    FH__PX_SOCKS5H = 4 /* socks5h://: the proxy resolves it */
};

/* A parsed proxy URL. Every string is owned by the struct. */
typedef struct fh__proxy {
    int kind;          /* enum fh__proxy_kind */
    char *host;        /* lower-cased; IPv6 literals without brackets */
    int port;          /* explicit, else 80 (http), 443 (https), 1080 (socks) */
    int host_is_ip;
    char *user, *pass; /* percent-decoded credentials, or NULL */
    char *auth;        /* "Basic <base64>" for HTTP proxies with credentials, or NULL */
    char *id;          /* "scheme://[user@]host:port[#hash]": shown and keyed; the hash
                          is a SHA-256 prefix of the password, never the password */
} fh__proxy;

/*
 * Parses a proxy URL: scheme http, https, socks5 or socks5h (a URL without
 * "scheme://" is http, as curl reads it), optional user[:password]@, a host
 * and optional port, and no path other than "/". FH_EURL with *why set when
 * it is not one; FH_ENOMEM.
 */
int fh__proxy_parse(fh__proxy *p, const char *s, size_t len, const char **why);
/* A deep copy of src into dst: FH_OK or FH_ENOMEM (dst zeroed then). */
int fh__proxy_copy(fh__proxy *dst, const fh__proxy *src);
/* Frees the strings (the password overwritten first) and zeroes p. */
void fh__proxy_free(fh__proxy *p);

/* ---- NO_PROXY ------------------------------------------------------------ */

typedef struct fh__noproxy_entry {
    int ip;                 /* 1: an address or CIDR range; 0: a host name */
    char *name;             /* lower-cased, without a leading "." or "*." */
    int port;               /* 0: any port */
    int family;             /* AF_INET or AF_INET6 for ip entries */
    unsigned char addr[16];
    int bits;               /* prefix length */
} fh__noproxy_entry;

typedef struct fh__noproxy {
    int all;                /* "*": no host uses a proxy */
    fh__noproxy_entry *v;
    size_t n;
} fh__noproxy;

/*
 * Parses a NO_PROXY list: entries separated by commas and/or white space.
 * An entry is "*", a host name (matching itself and its subdomains; a
 * leading "." or "*." is ignored), an IPv4 or IPv6 address (IPv6 with or
 * without brackets), a CIDR range ("10.0.0.0/8", "fd00::/8"), each
 * optionally with ":port" (IPv6 in brackets then). Entries that are none of
 * these are skipped, as curl does. FH_OK or FH_ENOMEM.
 */
int fh__noproxy_parse(fh__noproxy *np, const char *s, size_t len);
void fh__noproxy_free(fh__noproxy *np);
/* 1 when a URL's host (lower-cased, IPv6 without brackets) and port match
 * the list: names never match addresses, addresses match ip entries only
 * (no name is resolved to decide). */
int fh__noproxy_match(const fh__noproxy *np, const char *host, int port);

/* ---- CONNECT (RFC 9110 §9.3.6) ------------------------------------------- */

/* Appends "CONNECT host:port HTTP/1.1", Host, Proxy-Authorization (when p
 * has credentials) and the end of the head to out. IPv6 literals go in
 * brackets (RFC 9112 §3.2.3, authority-form). */
int fh__proxy_connect_request(fh__buf *out, const char *host, int port, const fh__proxy *p);

/*
 * Parses the proxy's reply to CONNECT in buf[0..len). Incremental like
 * fh__h1_parse_head (*scan starts at 0). Returns the length of the head
 * (> 0) with *status set (any 2xx opens the tunnel; a 1xx is an interim
 * answer the caller skips before parsing again from its end with *scan
 * reset), FH_EAGAIN for more bytes, or FH_EPROTO with *why set.
 */
int fh__proxy_connect_reply(const char *buf, size_t len, size_t *scan, int *status,
                            const char **why);

/* ---- SOCKS5 (RFC 1928, RFC 1929) ------------------------------------------- */

/* The greeting (§3): version 5 and the methods offered: "no
 * authentication", and username/password when auth. Writes 3 or 4 bytes
 * into out and returns their count. */
size_t fh__socks5_greeting(uint8_t out[4], int auth);
/* The method choice in in[0..len): 2 (consumed) with *method set, FH_EAGAIN,
 * or FH_EPROXY with *why (wrong version, no acceptable method, or a method
 * that was not offered). */
int fh__socks5_method(const uint8_t *in, size_t len, int auth, int *method, const char **why);
/* The username/password request (RFC 1929 §2); FH_EINVAL when a part is
 * longer than 255 bytes or empty user name. */
int fh__socks5_auth_request(fh__buf *out, const char *user, const char *pass);
/* The sub-negotiation's status: 2, FH_EAGAIN, or FH_EPROXY with *why. */
int fh__socks5_auth_reply(const uint8_t *in, size_t len, const char **why);
/* The CONNECT request (§4): a domain name (atyp 3, at most 255 bytes) when
 * addr is NULL, else the IPv4 (alen 4) or IPv6 (alen 16) address. */
int fh__socks5_connect_request(fh__buf *out, const char *name, const uint8_t *addr,
                               size_t alen, int port);
/* The reply (§6): its length (> 0) when complete with *rep set (0:
 * succeeded), FH_EAGAIN, or FH_EPROXY with *why (malformed). */
int fh__socks5_reply(const uint8_t *in, size_t len, int *rep, const char **why);
/* RFC 1928 §6's words for a REP code. */
const char *fh__socks5_rep_text(int rep);

#endif
