/*
 * nginx.h — a real nginx on 127.0.0.1 for integration tests.
 *
 * fh_nginx_start() makes a temp dir with certificates (support/fixtures.h),
 * a docroot and a config, and runs nginx in the foreground as our child
 * (daemon off, master_process off; every path, log and temp dir inside the
 * temp dir, so it needs nothing from /etc or /var and runs as root or not).
 *
 * HTTP and HTTPS servers serve the same locations:
 *   /json            ~1 KB JSON document (application/json)
 *   /big.txt         ~1 MiB of text; gzip-encoded when the client asks
 *   /cjson.json      the ~100 KB JSON that /br.json and /zstd.json hold
 *   /br.json         that JSON compressed with brotli, Content-Encoding: br
 *   /zstd.json       that JSON compressed with zstd, Content-Encoding: zstd
 *   /post            "posted\n" (any method)
 *   /echo            POST: answers the request body (small, single-line bodies)
 *   /status/N        an empty response with status N, for N in
 *                    200 201 204 301 302 400 401 403 404 500 502 503
 *   /mtls (HTTPS)    200 "mtls ok\n" with a client certificate signed by
 *                    the test CA, 403 without
 *   /headers         "via=<Via> pa=<Proxy-Authorization> auth=<Authorization>
 *                    host=<Host>": what a request carried through proxies
 *   /upgrade...      with upstream_port set: proxied to 127.0.0.1:upstream_port,
 *                    protocol upgrades (101) passed through
 */
#ifndef FH_TEST_NGINX_H
#define FH_TEST_NGINX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct fh_nginx {
    pid_t pid;
    int http_port;
    int https_port;
    char dir[256];          /* temp dir holding everything */
    char ca_file[320];      /* the test CA (PEM) */
    char client_cert[320];  /* client certificate signed by the CA */
    char client_key[320];
    char http_url[64];      /* "http://127.0.0.1:PORT" (no trailing slash) */
    char https_url[64];     /* "https://127.0.0.1:PORT" */
    char https_localhost_url[64]; /* "https://localhost:PORT" */
    uint8_t *json;          /* the served originals, for comparisons */
    size_t json_len;
    uint8_t *big;
    size_t big_len;
    uint8_t *cjson;
    size_t cjson_len;
    char error[512];        /* why fh_nginx_start failed */
    int upstream_port;      /* set before start: /upgrade proxies there, upgrades
                               passed through (Upgrade, Connection: upgrade) */
    int http2;              /* set before start: HTTPS also speaks HTTP/2 (ALPN h2) */
    int keepalive_requests; /* set before start: requests per connection (0: 100000);
                               HTTP/2 connections end with GOAWAY after them */
    int h2_max_streams;     /* set before start: http2_max_concurrent_streams (0: 128) */
    int unix_sockets;       /* set before start: also listen on unix_http (HTTP) and
                               unix_https (HTTPS) in the temp dir */
    char unix_http[320];
    char unix_https[320];
    int tls_front_upstream; /* set before start: a TLS front (the stream module) on
                               tls_front_port relays to 127.0.0.1:tls_front_upstream
                               (an HTTPS proxy made of a TLS front and a plain one) */
    int tls_front_port;
} fh_nginx;

/* Starts nginx. Returns 0, or -1 with n->error set (nginx missing,
 * certificates, config or start failure; the nginx log is printed). */
int fh_nginx_start(fh_nginx *n);

/* Stops nginx (SIGTERM, then SIGKILL), reaps it, removes the temp dir and
 * frees the buffers. Safe on a failed or already stopped fixture. */
void fh_nginx_stop(fh_nginx *n);

/* snprintf(out, "%s%s", base, path) for base = n->http_url etc. */
char *fh_nginx_url(char *out, size_t cap, const char *base, const char *path);

#endif
