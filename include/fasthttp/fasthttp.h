/*
 * fasthttp/fasthttp.h — the public C API of libfasthttp.
 *
 * Objects are opaque handles with _new/_free pairs:
 *   fh_client   — configuration, the TLS context and the connection pool; one
 *                 client may be used by many threads at once.
 *   fh_request  — one request (method, URL, headers, body, per-request options).
 *   fh_response — the response to one request: status, headers, body.
 *   fh_engine   — an event-loop driven executor (see fasthttp/engine.h).
 *
 * All functions that can fail return 0 or a negative FH_E... code
 * (fasthttp/errors.h). Strings passed in are copied unless stated otherwise.
 */
#ifndef FASTHTTP_H
#define FASTHTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "errors.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FH_VERSION_MAJOR 0
#define FH_VERSION_MINOR 1
#define FH_VERSION_PATCH 0
#define FH_VERSION_STRING "0.1.0"

/* The library's version string, e.g. "0.1.0". */
FH_EXTERN const char *fh_version(void);

typedef struct fh_client fh_client;
typedef struct fh_request fh_request;
typedef struct fh_response fh_response;

/* A borrowed view of one header; not NUL-terminated. Frozen: these four
 * fields for ever (docs/c-api.md, ABI). */
typedef struct fh_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} fh_header;

/* The longest time accepted anywhere, in seconds (about 31 years): any
 * timeout, backoff or recovery time. Far beyond any use, and far inside
 * int64 microseconds, so deadline arithmetic cannot overflow. */
#define FH_SECONDS_MAX 1000000000

/* Timeout kinds. Values are milliseconds; 0 means "no timeout". */
typedef enum fh_timeout_kind {
    FH_TIMEOUT_CONNECT = 0, /* DNS + TCP connect + TLS handshake */
    FH_TIMEOUT_READ = 1,    /* longest silence while waiting for response bytes */
    FH_TIMEOUT_WRITE = 2,   /* longest stall while sending the request */
    FH_TIMEOUT_POOL = 3,    /* longest wait for a free connection slot */
    FH_TIMEOUT_TOTAL = 4    /* the whole exchange, head and body */
} fh_timeout_kind;
#define FH_TIMEOUT_KINDS 5

/* Parser, decoder and size limits (see docs/security.md). Each has a
 * name, used in error messages and by the Python package
 * (fasthttp.Limits), returned by fh_limit_name(). Exceeding one fails the
 * request with a message naming the limit; none applies to bodies read in
 * stream mode, whose memory is bounded by the caller's buffer. */
typedef enum fh_limit_kind {
    FH_LIMIT_STATUS_LINE = 0,   /* max_status_line_size: bytes, default 8 KiB */
    FH_LIMIT_HEADER_BYTES = 1,  /* max_header_size: whole response head, default 64 KiB */
    FH_LIMIT_HEADER_COUNT = 2,  /* max_header_count: default 100 */
    FH_LIMIT_INTERIM = 3,       /* max_interim_responses: 1xx skipped, default 10 */
    FH_LIMIT_BODY_BYTES = 4,    /* max_body_size: buffered (non-streamed) body after
                                   decoding, default 1 GiB */
    FH_LIMIT_TRAILER_BYTES = 5, /* max_trailer_size: chunked trailers, default 16 KiB */
    FH_LIMIT_ENCODINGS = 6,     /* max_content_encodings: stacked codings, default 5 */
    FH_LIMIT_DECODED_BYTES = 7, /* max_decoded_body_size: buffered body that had a
                                   Content-Encoding, after decoding, default 128 MiB.
                                   Tighter than max_body_size because a compressed
                                   body lets a server make the client hold ~1000x
                                   (gzip) or more (br, zstd) what it sent. */
    FH_LIMIT_REQUEST_HEAD = 8   /* max_request_header_size: the request head this
                                   client writes, default 64 KiB (FH_EHEADER) */
} fh_limit_kind;
#define FH_LIMIT_KINDS 9

/* The name of a limit ("max_body_size", ...), or NULL for an unknown kind. */
FH_EXTERN const char *fh_limit_name(fh_limit_kind kind);

/* The largest value of any limit (2^62). */
#define FH_LIMIT_MAX (INT64_C(1) << 62)

/* Checks a value for a limit the way fh_client_set_limit() and
 * fh_request_set_limit() do: FH_OK, or FH_EINVAL with a sentence written
 * to msg (when msg is not NULL) that starts with the limit's name, e.g.
 * "max_body_size must be between 1 and 4611686018427387904". The
 * value itself is not in the sentence: a binding that clamped a larger
 * number to int64 adds the one its caller gave. */
FH_EXTERN int fh_limit_check(fh_limit_kind kind, int64_t value, char *msg, size_t msglen);

/* Checks a timeout given in seconds, as bindings and configuration files
 * hold them, and converts it to the milliseconds of fh_client_set_timeout()
 * (rounded up, so a positive timeout never becomes 0, "none"). Returns
 * FH_OK with *ms set (when ms is not NULL), or FH_EINVAL for NaN, a
 * negative value or more than FH_SECONDS_MAX, with a sentence to prefix
 * with the setting's name written to msg: "must be between 0 and 1000000000
 * seconds". */
FH_EXTERN int fh_timeout_check(double seconds, int64_t *ms, char *msg, size_t msglen);

/* Timing points of a finished exchange, in microseconds from the start. A
 * phase that did not happen (e.g. DNS on a reused connection) is 0. Only
 * the library fills it and hands it out by pointer: fields are added at
 * the end only, and a program reads the ones its header knows. */
typedef struct fh_timings {
    int64_t dns_us;      /* name resolution finished */
    int64_t connect_us;  /* TCP connected */
    int64_t tls_us;      /* TLS handshake finished */
    int64_t sent_us;     /* last request byte written */
    int64_t ttfb_us;     /* first response byte received */
    int64_t total_us;    /* response complete (body read to the end) */
    int reused;          /* 1 when the connection came from the pool */
} fh_timings;

/* ---- client ------------------------------------------------------------ */

/* Creates a client with default settings: TLS verification on against the
 * system store, pool of 100 connections (10 per host, 10 idle per host,
 * idle connections kept 60 s), no timeouts, response decoding on.
 * Returns NULL only when out of memory. Cheap: the TLS context is built on
 * first HTTPS use and then shared by every connection of the client. */
FH_EXTERN fh_client *fh_client_new(void);

/* Closes every pooled connection and frees the client. All requests and
 * engines using the client must be finished or freed first. */
FH_EXTERN void fh_client_free(fh_client *client);

/* Default timeout of one kind for requests of this client (ms, 0 = none,
 * at most FH_SECONDS_MAX seconds). */
FH_EXTERN int fh_client_set_timeout(fh_client *client, fh_timeout_kind kind, int64_t ms);

/* Sets one limit for the client's requests (1 to FH_LIMIT_MAX, see
 * fh_limit_check()). */
FH_EXTERN int fh_client_set_limit(fh_client *client, fh_limit_kind kind, int64_t value);
/* The client's value of one limit, or a negative FH_E code. */
FH_EXTERN int64_t fh_client_limit(const fh_client *client, fh_limit_kind kind);

/* Pool limits: total open connections, open connections per origin, idle
 * connections kept per origin, and how long an idle one is kept (ms).
 * A negative value keeps the current setting, except max_idle_per_host,
 * where it means "as many as max_per_host" (the default). Values are
 * checked with fh_pool_limits_check(). */
FH_EXTERN int fh_client_set_pool_limits(fh_client *client, int max_total, int max_per_host,
                                        int max_idle_per_host, int64_t idle_timeout_ms);

/* The largest pool size (connections) fh_client_set_pool_limits() takes. */
#define FH_POOL_MAX 1000000

/* Checks the arguments of fh_client_set_pool_limits() (as int64, so a
 * binding can pass what its caller gave without truncating it): max_total
 * and max_per_host from 1 to FH_POOL_MAX, max_idle_per_host from 0 to
 * FH_POOL_MAX, idle_timeout_ms up to FH_SECONDS_MAX seconds; a negative
 * value (the setter's "keep" or "default") is fine. Returns FH_OK, or
 * FH_EINVAL with a sentence written to msg that starts with the setting's
 * name as fasthttp's bindings spell it: max_connections (max_total),
 * max_connections_per_host (max_per_host), max_keepalive_per_host
 * (max_idle_per_host), keepalive_expiry (idle_timeout_ms), e.g.
 * "max_connections must be between 1 and 1000000". */
FH_EXTERN int fh_pool_limits_check(int64_t max_total, int64_t max_per_host, int64_t max_idle_per_host,
                                   int64_t idle_timeout_ms, char *msg, size_t msglen);

/* TLS settings. They must be set before the first HTTPS request (FH_ESTATE
 * after). verify=0 turns certificate and host name checks off (on by
 * default); host names are matched against the certificate's
 * subjectAltName entries only, never its subject Common Name. */
FH_EXTERN int fh_client_set_verify(fh_client *client, int verify);

/* Trust only the CA certificates of path instead of the system store: a
 * PEM file with one or more certificates, or a directory of certificates
 * named by subject hash ("HASH.0", as made by `openssl rehash`; like
 * requests' capath). NULL returns to the system store. The path is checked
 * here with fh_ca_check(), so a missing or invalid file fails now, not at
 * the first HTTPS request; on failure the previous setting stays. */
FH_EXTERN int fh_client_set_ca_file(fh_client *client, const char *path);

/* A client certificate for TLS client authentication: cert_path is a PEM
 * file with the certificate (and its chain), key_path a PEM file with its
 * unencrypted private key, or NULL when the key is in cert_path too.
 * cert_path NULL removes the certificate. Checked here with
 * fh_cert_check(); on failure the previous setting stays. */
FH_EXTERN int fh_client_set_client_cert(fh_client *client, const char *cert_path,
                                        const char *key_path);

/* The checks of fh_client_set_ca_file() and fh_client_set_client_cert(),
 * for callers that want to know what is wrong. They load the files with
 * the OpenSSL calls the TLS context uses, into a store or context that is
 * thrown away. Return:
 *   FH_OK;
 *   FH_EFILE  a file does not exist, cannot be read or is not a regular
 *             file (a directory is fine for a CA path); errno is set to
 *             the reason (ENOENT, EACCES, EISDIR, ...);
 *   FH_EINVAL the content is wrong: no PEM certificate in a CA file, no
 *             hashed names in a CA directory, no PEM certificate or key,
 *             an encrypted key, or a key that does not match the
 *             certificate (also for a NULL path);
 *   FH_ENOMEM.
 * When msg is not NULL a sentence naming the file and the problem is
 * written to it, e.g. "CA file '/etc/x.pem' does not exist" or "cannot use
 * client key 'k.pem' with certificate 'c.pem': the key does not match the
 * certificate" ("" on success). */
FH_EXTERN int fh_ca_check(const char *path, char *msg, size_t msglen);
FH_EXTERN int fh_cert_check(const char *cert_path, const char *key_path, char *msg,
                            size_t msglen);

/* Whether responses are decoded according to Content-Encoding (default 1)
 * and whether "Accept-Encoding: gzip, deflate, br, zstd" is added to
 * requests that have none (default 1). */
FH_EXTERN int fh_client_set_decode(fh_client *client, int decode);

/* Which HTTP versions a request may use (RFC 9113 §3):
 *   FH_HTTP2_OFF    HTTP/1.1 only (the default);
 *   FH_HTTP2_ON     HTTPS offers "h2" by ALPN and falls back to HTTP/1.1 when
 *                   the server picks it (the answer is remembered per origin);
 *                   cleartext stays HTTP/1.1;
 *   FH_HTTP2_ONLY   HTTP/2 or nothing: HTTPS must negotiate "h2" (else the
 *                   request fails with FH_EHTTP2), cleartext speaks HTTP/2 by
 *                   prior knowledge (§3.3).
 * Concurrent requests of one engine to an origin share an HTTP/2 connection
 * up to the server's SETTINGS_MAX_CONCURRENT_STREAMS (at most 100). */
typedef enum fh_http2_mode { FH_HTTP2_OFF = 0, FH_HTTP2_ON = 1, FH_HTTP2_ONLY = 2 } fh_http2_mode;
FH_EXTERN int fh_client_set_http2(fh_client *client, fh_http2_mode mode);

/* Default User-Agent added to requests without one; NULL for none.
 * Default "fasthttp/<version>". */
FH_EXTERN int fh_client_set_user_agent(fh_client *client, const char *ua);

/* Pool statistics, for tests and monitoring. More will come (HTTP/2
 * streams): fields are only ever added at the end, and the library writes
 * only as many bytes as the caller's struct has (docs/c-api.md, ABI). */
typedef struct fh_pool_stats {
    int open;      /* connections open (idle + in use) */
    int idle;      /* idle connections in the pool */
    int waiting;   /* requests waiting for a connection slot */
    uint64_t created; /* connections opened since the client was created */
    uint64_t reused;  /* requests that used a pooled connection */
    uint64_t tls_resumed; /* TLS connections that resumed a session instead of a full
                             handshake (tickets kept per origin, docs/c-api.md) */
    /* New fields go here, after every field above and never into padding
     * between them (docs/c-api.md, ABI). */
} fh_pool_stats;

/* What fh_client_pool_stats() calls with the caller's sizeof(fh_pool_stats):
 * writes exactly size bytes at out, the fields this library knows and zeros
 * for any it does not (a newer header's). FH_EINVAL for a NULL argument or
 * a size smaller than the first release's struct (nothing is written). */
FH_EXTERN int fh_client_pool_stats_sized(fh_client *client, fh_pool_stats *out, size_t size);

/* Fills *out with the pool's current numbers; FH_OK or FH_EINVAL. Inline,
 * so that the size is the one of the header the caller was compiled with. */
static inline int fh_client_pool_stats(fh_client *client, fh_pool_stats *out)
{
    return fh_client_pool_stats_sized(client, out, sizeof *out);
}

/* ---- proxies and Unix sockets (docs/c-api.md, "Proxies") ----------------
 *
 * Settings of a client, to be made before it sends requests (they are read,
 * not locked, by requests in flight). */

/* The proxy for one kind of URL: scheme "http" (http:// and ws:// URLs),
 * "https" (https:// and wss://) or "all" (both, when the scheme's own is
 * not set; NULL means "all"); httpx's "http://" spellings are accepted.
 * url: "http://[user:pass@]host[:port]" (an HTTP proxy: forward mode for
 * http:// URLs, CONNECT tunnels for https:// and upgrades), "https://..."
 * (the same inside TLS to the proxy, verified with the client's trust
 * store), "socks5://..." (SOCKS5, names resolved here) or "socks5h://..."
 * (the proxy resolves them); without a scheme it is http. Default ports:
 * 80, 443, 1080. Credentials are sent to the proxy only (Proxy-Authorization:
 * Basic, or RFC 1929). NULL or "" means no proxy for that scheme, even when
 * the environment names one; setting "all" also drops the environment's
 * per-scheme proxies (the environment's NO_PROXY still applies). FH_OK, FH_EINVAL (unknown scheme), FH_EURL or
 * FH_EUNSUPPORTED (a bad URL; fh_proxy_check says why), FH_ENOMEM. */
FH_EXTERN int fh_client_set_proxy(fh_client *client, const char *scheme, const char *url);

/* Hosts reached without a proxy, as the NO_PROXY variable lists them:
 * comma- or space-separated entries "*" (every host), "example.com"
 * (itself and its subdomains; ".example.com" and "*.example.com" alike),
 * "host:port", an IPv4 or IPv6 address ("[::1]:8080" with a port), or a
 * CIDR range ("10.0.0.0/8", "fd00::/8"; matched against IP literals in
 * URLs, names are not resolved to decide). Malformed entries are skipped.
 * NULL or "" clears the list. Replaces the environment's. */
FH_EXTERN int fh_client_set_no_proxy(fh_client *client, const char *list);

/* Whether the environment's proxy variables apply (on by default, read when
 * the client is made and again by each call with on = 1). Like curl:
 * http_proxy (lower case only: HTTP_PROXY can be set by a CGI request's
 * "Proxy:" header, "httpoxy"), https_proxy or HTTPS_PROXY, all_proxy or
 * ALL_PROXY, no_proxy or NO_PROXY, the lower-case name first; empty values
 * are unset. Settings made with the calls above win over the environment.
 * A malformed proxy variable fails the requests it would apply to
 * (FH_EURL), rather than sending them direct. */
FH_EXTERN int fh_client_set_trust_env(fh_client *client, int on);

/* Sends every request of the client over this Unix domain socket (a path,
 * or "@name" for a Linux abstract socket); the URL's host still makes Host
 * and, for https, SNI and the certificate check. Proxies do not apply to
 * Unix sockets. NULL or "" for none. FH_EINVAL when the path is longer than
 * a socket address holds (107 bytes). */
FH_EXTERN int fh_client_set_unix_socket(fh_client *client, const char *path);

/* What route the client would take for url: writes "" (direct), the
 * proxy's id ("http://user@proxy:3128#<hash of the password>", never the
 * password) or "unix:<path>" into out. For tests and diagnostics. FH_OK,
 * FH_EURL, FH_EINVAL. */
FH_EXTERN int fh_client_proxy_for(fh_client *client, const char *url, char *out, size_t cap);

/* Checks a proxy URL as fh_client_set_proxy reads it: FH_OK, or an error
 * with a sentence in msg. */
FH_EXTERN int fh_proxy_check(const char *url, char *msg, size_t msglen);

/* Test/integration hook: replaces TCP connect. Called with the resolved
 * host and port; must return a connected (or connecting) non-blocking stream
 * socket, or a negative FH_E code. Lets tests run the whole engine against
 * a scripted peer over a socketpair. */
typedef int (*fh_connect_fn)(void *ud, const char *host, int port);
FH_EXTERN int fh_client_set_connect_hook(fh_client *client, fh_connect_fn fn, void *ud);

/* ---- request ----------------------------------------------------------- */

/* Creates a request. The method must be a token (RFC 9110 §5.6.2); the URL
 * is absolute http:// or https://. Both are validated here (FH_EINVAL /
 * FH_EURL via *err when err is not NULL) so nothing bad reaches the wire. */
FH_EXTERN fh_request *fh_request_new(const char *method, const char *url, int *err);
/* The same with explicit lengths, for callers whose strings are not
 * NUL-terminated or may contain NUL (Python str): a NUL inside either is
 * refused (FH_EHEADER for the method, FH_EURL for the URL), never read as
 * the end of the string.
 *
 * Credentials in the URL ("http://user:pass@host/", percent-decoded) are
 * sent as Basic credentials (RFC 7617) to the URL's origin unless auth is
 * set on the request or the client, or an Authorization header is given.
 * They never appear on the wire in the URL, in fh_request_url(),
 * fh_response_url() or error messages. A ':' in the decoded user name or a
 * control byte in either part is FH_EURL. */
FH_EXTERN fh_request *fh_request_new_n(const char *method, size_t method_len, const char *url,
                                       size_t url_len, int *err);

/* Checks a URL the way fh_request_new() does. Returns FH_OK, or FH_EURL /
 * FH_EUNSUPPORTED with a sentence saying what is wrong written to msg
 * (when msg is not NULL), e.g. "invalid port in URL". */
FH_EXTERN int fh_url_check(const char *url, char *msg, size_t msglen);
FH_EXTERN int fh_url_check_n(const char *url, size_t len, char *msg, size_t msglen);

/* Writes url (len bytes) into out (cap bytes, always NUL-terminated when
 * cap > 0) with the password of its userinfo replaced by "***"
 * ("http://alice:***@host/"); a user name without a password is replaced
 * too, since it is often a token. Returns the length of the whole redacted
 * URL (as snprintf does). Use it for anything shown or logged. */
FH_EXTERN size_t fh_url_redact(const char *url, size_t len, char *out, size_t cap);
FH_EXTERN void fh_request_free(fh_request *req);

/* Appends a header; headers are sent in the order added. Name must be a
 * token; CR, LF and NUL are rejected in both (FH_EHEADER).
 * Content-Length and Transfer-Encoding are managed by the library and
 * rejected here. A Host header replaces the one derived from the URL (for
 * virtual hosts); it is dropped when a redirect leaves the origin. */
FH_EXTERN int fh_request_add_header(fh_request *req, const char *name, const char *value);
FH_EXTERN int fh_request_add_header_n(fh_request *req, const char *name, size_t name_len,
                                      const char *value, size_t value_len);

/* A header set: fields checked and copied once (the rules of
 * fh_request_add_header), then carried by any number of requests without
 * being checked or copied again. Made for the fields a client sends with
 * every request (User-Agent, Accept, an API key). A set never changes
 * once made; it may be shared by requests on any threads (its reference
 * count is atomic).
 *
 * fh_header_set_new copies hdrs[0, n) into *out: FH_OK, FH_EINVAL (out
 * NULL, or hdrs NULL with n > 0), FH_EHEADER (a field fh_request_add_header
 * would refuse; *out is NULL and nothing is kept) or FH_ENOMEM.
 * fh_header_set_free drops the caller's reference: requests that carry the
 * set keep theirs until they are freed. NULL is ignored. */
typedef struct fh_header_set fh_header_set;
FH_EXTERN int fh_header_set_new(const fh_header *hdrs, size_t n, fh_header_set **out);
FH_EXTERN void fh_header_set_free(fh_header_set *set);
/* Appends the fields of set to req, in order, as fh_request_add_header_n
 * would one by one, without a copy: req takes a reference to set. FH_OK,
 * FH_EINVAL (req or set NULL) or FH_ENOMEM. */
FH_EXTERN int fh_request_add_header_set(fh_request *req, fh_header_set *set);

/* Body from memory; copied when copy != 0, otherwise borrowed until the
 * request is freed. Sent with Content-Length. */
FH_EXTERN int fh_request_set_body(fh_request *req, const void *data, size_t len, int copy);

/* Body from a callback. It fills buf (up to cap bytes) and returns the
 * number of bytes written, 0 at the end, or a negative value on failure
 * (the request then fails with FH_EBODY_SOURCE). With length >= 0 the body
 * is sent with that Content-Length (a mismatch fails the request); with
 * length < 0 it is sent chunked. The callback may block in the blocking API;
 * with an engine it must not (return FH_EAGAIN and call fh_engine_resume()
 * when more data is ready). */
typedef ssize_t (*fh_body_read_fn)(void *ud, uint8_t *buf, size_t cap);
FH_EXTERN int fh_request_set_body_reader(fh_request *req, fh_body_read_fn fn, void *ud,
                                         int64_t length);

/* Body from a callback that lends its bytes instead of copying them: the
 * zero-copy twin of fh_request_set_body_reader, with the same rules for
 * length, failure, blocking and FH_EAGAIN / fh_engine_resume(). The
 * callback sets *data to the next bytes of the body and returns how many
 * (> 0), 0 at the end, or a negative value on failure. The bytes must stay
 * valid and unchanged until the callback is called again or the request is
 * done (completed, failed or freed): over HTTP/1.1 they go from there to
 * the socket, each piece as one chunk when the body is chunked; HTTP/2
 * copies them into its DATA frames. FH_OK, FH_EINVAL (req or fn NULL) or
 * FH_ESTATE (the request is in flight). */
typedef ssize_t (*fh_body_lend_fn)(void *ud, const uint8_t **data);
FH_EXTERN int fh_request_set_body_lender(fh_request *req, fh_body_lend_fn fn, void *ud,
                                         int64_t length);

/* Body from an open file: the length bytes at offset of fd, sent with
 * Content-Length. They are read with pread() inside the engine, at explicit
 * offsets: the file position is neither used nor moved, and no callback
 * runs per piece. fd must stay open until the request is done; a file that
 * ends before offset + length fails the request with FH_EBODY_SOURCE (a
 * file that grew sends only length bytes). FH_OK, FH_EINVAL (req NULL, fd
 * negative, offset or length negative) or FH_ESTATE (in flight). */
FH_EXTERN int fh_request_set_body_file(fh_request *req, int fd, int64_t offset, int64_t length);

/* Sends "Expect: 100-continue" and holds the body back until the server
 * answers 100 (RFC 9110 §10.1.1), or until wait_ms passed without an
 * answer (then the body is sent anyway; 0 picks 1000 ms). A final response
 * that arrives first is returned without sending the body, and the
 * connection is then closed. Useful for large uploads the server may
 * refuse. on = 0 turns it off (the default). */
FH_EXTERN int fh_request_set_expect_continue(fh_request *req, int on, int64_t wait_ms);

/* Per-request limit overriding the client's (1 to FH_LIMIT_MAX, or -1 for
 * the client's). */
FH_EXTERN int fh_request_set_limit(fh_request *req, fh_limit_kind kind, int64_t value);

/* Per-request timeout overriding the client's (ms, 0 = none, -1 = client's;
 * at most FH_SECONDS_MAX seconds). */
FH_EXTERN int fh_request_set_timeout(fh_request *req, fh_timeout_kind kind, int64_t ms);

/* With stream != 0 the response is returned once its head is read and the
 * body is pulled with fh_response_read(). Otherwise the body is buffered. */
FH_EXTERN int fh_request_set_stream(fh_request *req, int stream);

/*
 * Caller-supplied storage for a buffered body, so it is received straight
 * into the object that will hold it (a language runtime's string, a
 * mapped file) and never copied out of a library buffer. Used only for a
 * body of known length (Content-Length, HTTP/1.1 or HTTP/2) that is not
 * content-decoded, is at least min_size bytes and within the body limit;
 * any other body goes to the library's own buffer as before.
 *
 *   alloc(ud, size, &handle): storage of size + 1 writable bytes (the
 *     library may write one byte past the body; the caller's terminator,
 *     if any, goes there after the body ends), or NULL to let the library
 *     allocate. A handle left NULL means the storage pointer itself. Runs on the thread driving the request, inside the engine
 *     (for fh_client_send: that call's thread), so it must not block or
 *     call into the library.
 *   release(ud, handle): storage the caller never took (the request failed,
 *     or the response was freed first). Runs where fh_response_free() or
 *     the failing engine runs.
 *
 * fh_response_body() reads the storage as usual; take it with
 * fh_response_take_body_storage(). The struct is copied; NULL removes it.
 */
typedef struct fh_body_storage {
    void *(*alloc)(void *ud, size_t size, void **handle);
    void (*release)(void *ud, void *handle);
    void *ud;
    size_t min_size; /* smaller bodies use the library's buffer */
} fh_body_storage;

FH_EXTERN int fh_request_set_body_storage(fh_request *req, const fh_body_storage *storage);

/* Overrides the client's decode setting for this request (0 raw, 1 decode). */
FH_EXTERN int fh_request_set_decode(fh_request *req, int decode);

/* Overrides the client's HTTP/2 mode for this request (-1: the client's). */
FH_EXTERN int fh_request_set_http2(fh_request *req, int mode);

/* This request's own proxy URL, replacing the client's: "" means no proxy
 * for this request, NULL gives it the client's again. The client's
 * NO_PROXY still applies. FH_EURL/FH_EUNSUPPORTED with the message set. */
FH_EXTERN int fh_request_set_proxy(fh_request *req, const char *url);
/* This request's own Unix socket (see fh_client_set_unix_socket). */
FH_EXTERN int fh_request_set_unix_socket(fh_request *req, const char *path);
/* After FH_EPROXY: the status the proxy answered to CONNECT (407: it wants
 * or refused credentials; 403, 502, ...), or 0 when the failure was not an
 * HTTP status (SOCKS5, a malformed answer, a closed tunnel). */
FH_EXTERN int fh_request_proxy_status(const fh_request *req);

/* The message describing the last failure of this request ("" if none). */
FH_EXTERN const char *fh_request_error_message(const fh_request *req);
/* The request's URL as given, without user:password@ (see fh_request_new_n). */
FH_EXTERN const char *fh_request_url(const fh_request *req);
FH_EXTERN const char *fh_request_method(const fh_request *req);

/* ---- blocking API ------------------------------------------------------ */

/* Sends the request and waits for the response head (stream mode) or the
 * whole response. Thread-safe: many threads may call it on one client. On
 * success *out is a response to free with fh_response_free(); on failure
 * *out is NULL and fh_request_error_message() tells what happened. The
 * request may be sent again afterwards (bodies from callbacks excepted).
 * It is fh_client_send_with() without hooks: it waits without waking up,
 * and a body reader must not return FH_EAGAIN (it may block instead). */
FH_EXTERN int fh_client_send(fh_client *client, fh_request *req, fh_response **out);

/*
 * Hooks of a blocking call: code the caller runs while fh_client_send_with()
 * waits, and while fh_response_read() waits for the body of the streamed
 * response it returned. A language runtime needs them: Python's main thread
 * checks for signals every 100 ms (taking its interpreter lock only for
 * that) and cancels the request when a handler raised, and it produces an
 * iterator's next chunk of a request body on the calling thread, under that
 * lock, between two waits. Hooks run on the thread of the blocking call,
 * between two polls of its private engine, never inside the engine: they
 * may take locks the engine's callbacks must not. Start from
 * fh_wait_hooks_init() and set what you use; the struct is copied.
 */
typedef struct fh_wait_hooks {
    /* Called once interval_ms of waiting have passed, then every
     * interval_ms (measured from its return) until the call returns; a
     * call that finishes sooner never calls it. NULL, or interval_ms <= 0:
     * the call waits without waking up. Return 0 to go on waiting, or a
     * negative value to stop: fh_client_send_with() cancels the request
     * (its connection is closed) and returns that value;
     * fh_response_read() returns it and the stream stays as it was (no
     * byte is lost; read again or free the response). */
    int (*on_wait)(void *ud);
    int64_t interval_ms;
    /* The request's body reader returned FH_EAGAIN: make its next piece
     * (or its end) available and return 0, and the request goes on
     * (fh_engine_resume() is done for you); a negative value stops the
     * call as on_wait does. NULL: a reader that returns FH_EAGAIN fails
     * the request with FH_EBODY_SOURCE. */
    int (*on_body_paused)(void *ud, fh_request *req);
    void *ud; /* passed to both; must stay valid while the calls may run them */
} fh_wait_hooks;

/* Fills h with "no hooks". */
FH_EXTERN void fh_wait_hooks_init(fh_wait_hooks *h);

/* fh_client_send() with hooks (NULL: none). In stream mode the response
 * keeps a copy of them for fh_response_read(); change them there with
 * fh_response_set_wait_hooks() (e.g. when another thread reads it).
 * Returns FH_OK, an FH_E code, or the negative value a hook stopped with. */
FH_EXTERN int fh_client_send_with(fh_client *client, fh_request *req, const fh_wait_hooks *hooks,
                                  fh_response **out);

/* ---- response ---------------------------------------------------------- */

FH_EXTERN int fh_response_status(const fh_response *resp);
/* HTTP version as 10, 11 or 20 (HTTP/2). */
FH_EXTERN int fh_response_version(const fh_response *resp);
FH_EXTERN const char *fh_response_reason(const fh_response *resp, size_t *len);

FH_EXTERN size_t fh_response_header_count(const fh_response *resp);
/* The i-th header in arrival order, with its original case. */
FH_EXTERN int fh_response_header_at(const fh_response *resp, size_t i, fh_header *out);
/* Finds the next header named name (case-insensitive) at index >= *pos;
 * on success sets *pos to the index after it. Returns FH_OK, or FH_EAGAIN
 * when there are no more. Use it to walk multi-valued headers. */
FH_EXTERN int fh_response_header_next(const fh_response *resp, const char *name, size_t *pos,
                                      fh_header *out);
/* Value of the first header named name, or NULL. Not NUL-terminated. */
FH_EXTERN const char *fh_response_header(const fh_response *resp, const char *name,
                                         size_t *len);

/* The buffered body (non-stream mode); NULL/0 in stream mode. */
FH_EXTERN const uint8_t *fh_response_body(const fh_response *resp, size_t *len);
/* When the buffered body is in storage from fh_request_set_body_storage():
 * hands it over (its handle, *len set to the body's length) and the
 * response forgets it (fh_response_body() is then NULL/0, and release() is
 * not called for it). NULL when the body is in the library's buffer. */
FH_EXTERN void *fh_response_take_body_storage(fh_response *resp, size_t *len);

/* Streams the body: fills buf with up to cap bytes (decoded unless decoding
 * is off) and returns the count, 0 at the end of the body, or a negative
 * FH_E code. Never produces more than cap bytes per call, whatever the
 * compression ratio. For responses from fh_client_send it blocks, running
 * the response's wait hooks (fh_client_send_with), and returns the negative
 * value a hook stopped with; for responses from an engine it returns
 * FH_EAGAIN when nothing is available (the engine calls the request's body
 * callback when there is more). With cap >= 64 KiB and at least that much
 * of an HTTP/1.1 body of known length still to come, a wait ends once 64 KiB
 * have arrived, not at the first segment (docs/architecture.md, "Large
 * bodies: one wake-up per 64 KiB"). */
FH_EXTERN ssize_t fh_response_read(fh_response *resp, uint8_t *buf, size_t cap);

/* Replaces the wait hooks of a streamed response from fh_client_send or
 * fh_client_send_with (copied; NULL: none), for reads from now on: e.g.
 * hooks whose ud belongs to the thread that reads it. FH_ESTATE for a
 * response of an engine, which never waits. */
FH_EXTERN int fh_response_set_wait_hooks(fh_response *resp, const fh_wait_hooks *hooks);

/* Timings of the exchange (total_us is set once the body is complete). */
FH_EXTERN const fh_timings *fh_response_timings(const fh_response *resp);

/* The request this response answers, as the engine wrote it: for the final
 * response of a redirected request the last hop's (a 303 after a POST shows
 * GET), for each response of fh_response_history_at() its own hop's. The
 * method; the URL (fh_response_url(): without credentials, percent-encoded
 * as sent); and the header fields in the order written, with the values
 * sent: Host first, the caller's fields (minus those a redirect to another
 * origin dropped, RFC 9110 §15.4), Cookie from the jar, Authorization from
 * Basic/Digest/URL credentials, User-Agent, Accept-Encoding, Expect, and
 * the framing field last (Content-Length, or Transfer-Encoding: chunked).
 * Over HTTP/2 the fields are those of the HEADERS frame: names in lower
 * case, "host" standing for :authority, connection-specific fields and
 * Transfer-Encoding absent (RFC 9113 §8.2.2, §8.3.1). Strings are
 * NUL-terminated and live as long as resp; NULL / 0 / FH_EINVAL for a
 * response the engine did not make or an index past the end. */
FH_EXTERN const char *fh_response_request_method(const fh_response *resp);
FH_EXTERN const char *fh_response_request_url(const fh_response *resp);
FH_EXTERN size_t fh_response_request_header_count(const fh_response *resp);
FH_EXTERN int fh_response_request_header_at(const fh_response *resp, size_t i,
                                            fh_header *out);

/* Body bytes received for this response so far, as they came off the wire
 * after the transfer framing (chunked, DATA frames) and before content
 * decoding (gzip, br...): the whole compressed size once a buffered body is
 * complete, the count so far while a stream is read. */
FH_EXTERN uint64_t fh_response_body_bytes_received(const fh_response *resp);

/* The connection a response came over, as it was when it became ready:
 * for fh -v, logs and monitoring. Strings are NUL-terminated, live as long
 * as the response, and are NULL when they do not apply (every TLS field on
 * plain TCP; alpn when none was negotiated). Recorded once per connection,
 * so asking costs nothing per request. Fields are only ever added at the end
 * (docs/c-api.md, ABI). */
typedef struct fh_conn_info {
    uint64_t id;              /* the connection's number in its client, from 1: two
                                 responses with the same id came over one connection */
    const char *remote_ip;    /* the peer's address, "127.0.0.1" or "::1" */
    int remote_port;
    const char *tls_version;  /* "TLSv1.3", "TLSv1.2" (OpenSSL's names) */
    const char *cipher;       /* "TLS_AES_256_GCM_SHA384" (OpenSSL's names) */
    const char *alpn;         /* "h2" or "http/1.1" */
    const char *peer_subject; /* the server certificate's subject, RFC 2253 ("CN=a,O=b") */
    const char *peer_issuer;  /* its issuer, the same form */
    int tls_resumed;          /* 1 when the handshake resumed a session */
    /* New fields go here (docs/c-api.md, ABI). */
} fh_conn_info;

/* What fh_response_conn_info() calls with the caller's sizeof(fh_conn_info):
 * writes size bytes at out (zeros for fields this library does not know).
 * FH_OK, or FH_EINVAL for a NULL argument, a size below the first release's
 * struct, or a response that no connection carried (one the caller built;
 * *out is then zeroed when size allows). Redirect hops of
 * fh_response_history_at() have their own. */
FH_EXTERN int fh_response_conn_info_sized(const fh_response *resp, fh_conn_info *out,
                                          size_t size);
static inline int fh_response_conn_info(const fh_response *resp, fh_conn_info *out)
{
    return fh_response_conn_info_sized(resp, out, sizeof *out);
}

/* Frees the response. If its body was read to the end the connection goes
 * back to the pool; otherwise it is closed. */
FH_EXTERN void fh_response_free(fh_response *resp);

/* ---- fork -------------------------------------------------------------- */

/*
 * The process's fork generation: a number that is different in every
 * forked child from what it was in its parent (it counts the fork(2)
 * calls on the way from the process that loaded the library, through
 * pthread_atfork). Clients, engines and pools created before a fork notice
 * it by themselves: in the child they drop every inherited connection
 * without closing or shutting it down (the parent still uses it), fail the
 * requests that were in flight with FH_EFORKED, and then work normally on
 * new connections. Bindings that keep state of their own per event loop
 * compare this number to tell an inherited loop from the current one.
 * Forks that skip the atfork handlers (_Fork(), a raw clone) are not seen.
 */
FH_EXTERN unsigned long fh_fork_generation(void);

/* ---- protocol upgrades (101) ------------------------------------------- */

/* A connection taken over after "101 Switching Protocols" (RFC 9110
 * §15.2.2): the non-blocking socket, its TLS session (https), and the bytes
 * the server sent right after the 101 head, which belong to the new
 * protocol. From then on the library neither counts nor touches it. */
typedef struct fh_socket fh_socket;

/* Takes the connection of a 101 response to a request that asked to
 * upgrade (an Upgrade header and "Connection: upgrade", RFC 9110 §7.8).
 * FH_ESTATE for any other response, or when it was taken already. A 101 to
 * a request that asked for no upgrade fails the request with FH_EPROTO,
 * and a connection that answered 101 is never pooled. The response may be
 * freed afterwards; freeing it without taking the socket closes it. */
FH_EXTERN int fh_response_take_socket(fh_response *resp, fh_socket **out);
FH_EXTERN int fh_socket_fd(const fh_socket *s);
/* The connection's OpenSSL SSL* (cast it) for https, or NULL. */
FH_EXTERN void *fh_socket_ssl(const fh_socket *s);
/* Bytes read past the 101 head that fh_socket_read() has not returned yet. */
FH_EXTERN size_t fh_socket_pending(const fh_socket *s);
/* Reads what was buffered first, then from the socket (decrypted); never
 * blocks. Returns n > 0, 0 at the end of the stream, FH_EAGAIN with *want
 * set to the FH_WATCH_READ/FH_WATCH_WRITE event to wait for (TLS may need
 * either), or a negative FH_E code. Read until FH_EAGAIN before waiting on
 * fh_socket_fd(): over TLS, the rest of a record read only in part is held
 * by OpenSSL, where the descriptor does not show it. */
FH_EXTERN ssize_t fh_socket_read(fh_socket *s, void *buf, size_t cap, int *want);
/* Writes up to len bytes without blocking: n > 0, FH_EAGAIN with *want, or
 * a negative FH_E code. */
FH_EXTERN ssize_t fh_socket_write(fh_socket *s, const void *buf, size_t len, int *want);
/* Closes the connection (TLS close_notify best effort) and frees s. */
FH_EXTERN void fh_socket_free(fh_socket *s);

#ifdef __cplusplus
}
#endif

#include "engine.h"
#include "policy.h"
#include "cookies.h"
#include "multipart.h"
#include "links.h"
#include "ws.h"

#endif
