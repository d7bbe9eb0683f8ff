/*
 * nginx.c — the nginx fixture (see nginx.h).
 *
 * nginx runs as our direct child in the foreground, single process, so
 * stopping it is one SIGTERM + waitpid and nothing outlives the test. The
 * ports are picked free just before the start; another process may grab
 * one in between, so a failed start is retried with new ports.
 */
#include "support/nginx.h"
#include "support/fixtures.h"

#include <brotli/encode.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define START_ATTEMPTS 5

static int set_error(fh_nginx *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->error, sizeof n->error, fmt, ap);
    va_end(ap);
    fprintf(stderr, "nginx fixture: %s\n", n->error);
    return -1;
}

char *fh_nginx_url(char *out, size_t cap, const char *base, const char *path)
{
    snprintf(out, cap, "%s%s", base, path ? path : "/");
    return out;
}

/* ---- content ------------------------------------------------------------ */

/* Appends printf output to a growing buffer (exits the test on OOM: a
 * fixture that cannot allocate a few MB cannot do anything useful). */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (b->p && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t ncap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
        char *np = realloc(b->p, ncap);
        if (!np)
            abort();
        b->p = np;
        b->cap = ncap;
    }
}

/* A JSON array of `items` objects; ~100 bytes each. */
static void make_json(sbuf *b, int items)
{
    sb_printf(b, "{\"name\":\"fasthttp\",\"items\":[");
    for (int i = 0; i < items; i++)
        sb_printf(b, "%s{\"id\":%d,\"label\":\"item-%05d\",\"score\":%d.%02d,\"ok\":%s}",
                  i ? "," : "", i, i * 7, (i * 37) % 100, i % 100, i % 3 ? "true" : "false");
    sb_printf(b, "],\"count\":%d}\n", items);
}

/* ~1 MiB of text lines that vary (a small LCG) so gzip has real work. */
static void make_big_text(sbuf *b)
{
    static const char *const words[] = {"alpha", "bravo", "charlie", "delta", "echo",
                                        "foxtrot", "golf", "hotel", "india", "juliet"};
    uint32_t x = 12345;
    for (int line = 0; b->len < (1u << 20); line++) {
        sb_printf(b, "%07d", line);
        for (int w = 0; w < 8; w++) {
            x = x * 1103515245u + 12345u;
            sb_printf(b, " %s%u", words[(x >> 16) % 10], (x >> 8) % 1000);
        }
        sb_printf(b, "\n");
    }
}

static int write_compressed(fh_nginx *n, const char *name, const uint8_t *in, size_t len,
                            int zstd)
{
    size_t cap = zstd ? ZSTD_compressBound(len) : BrotliEncoderMaxCompressedSize(len);
    uint8_t *out = malloc(cap);
    size_t out_len = cap;
    int ok = out != NULL;
    if (ok && zstd) {
        out_len = ZSTD_compress(out, cap, in, len, 3);
        ok = !ZSTD_isError(out_len);
    } else if (ok) {
        ok = BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, len, in,
                                   &out_len, out) == BROTLI_TRUE;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/www/%s", n->dir, name);
    ok = ok && fh_test_write_file(path, out, out_len) == 0;
    free(out);
    return ok ? 0 : set_error(n, "cannot write %s", path);
}

static int write_docroot(fh_nginx *n)
{
    char path[512];
    sbuf json = {0}, big = {0}, cjson = {0};
    make_json(&json, 10);
    make_big_text(&big);
    make_json(&cjson, 1000);
    n->json = (uint8_t *)json.p, n->json_len = json.len;
    n->big = (uint8_t *)big.p, n->big_len = big.len;
    n->cjson = (uint8_t *)cjson.p, n->cjson_len = cjson.len;
    snprintf(path, sizeof path, "%s/www", n->dir);
    if (mkdir(path, 0755) < 0)
        return set_error(n, "mkdir %s failed", path);
    const struct { const char *name; const uint8_t *p; size_t len; } files[] = {
        {"json", n->json, n->json_len},
        {"big.txt", n->big, n->big_len},
        {"cjson.json", n->cjson, n->cjson_len},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/www/%s", n->dir, files[i].name);
        if (fh_test_write_file(path, files[i].p, files[i].len) < 0)
            return set_error(n, "cannot write %s", path);
    }
    if (write_compressed(n, "br.json", n->cjson, n->cjson_len, 0) < 0)
        return -1;
    return write_compressed(n, "zstd.json", n->cjson, n->cjson_len, 1);
}

/* ---- config ------------------------------------------------------------- */

static void conf_locations(sbuf *b, int http_port)
{
    static const int codes[] = {200, 201, 204, 301, 302, 400, 401, 403, 404, 500, 502, 503};
    sb_printf(b, "    location = /json { default_type application/json; }\n"
                 /* gzip off: the files are already encoded; nginx must not
                  * encode them a second time. */
                 "    location = /br.json { gzip off; types {} default_type application/json;"
                 " add_header Content-Encoding br; }\n"
                 "    location = /zstd.json { gzip off; types {} default_type application/json;"
                 " add_header Content-Encoding zstd; }\n"
                 "    location = /post { default_type text/plain; return 200 \"posted\\n\"; }\n"
                 "    location = /mtls {\n"
                 "      default_type text/plain;\n"
                 "      if ($ssl_client_verify != SUCCESS) { return 403; }\n"
                 "      return 200 \"mtls ok\\n\";\n"
                 "    }\n");
    /* $request_body is only filled when nginx reads the body for an
     * upstream, so /echo proxies to itself and hands the body over in a
     * header; good for small single-line bodies. */
    sb_printf(b, "    location = /echo {\n"
                 "      client_body_buffer_size 64k; client_body_in_single_buffer on;\n"
                 "      proxy_set_header X-Echo-Body $request_body;\n"
                 "      proxy_pass http://127.0.0.1:%d/echo-inner;\n"
                 "    }\n"
                 "    location = /echo-inner { default_type text/plain;"
                 " return 200 $http_x_echo_body; }\n",
              http_port);
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        int c = codes[i];
        if (c == 301 || c == 302)
            sb_printf(b, "    location = /status/%d { return %d /json; }\n", c, c);
        else if (c == 204)
            sb_printf(b, "    location = /status/204 { return 204; }\n");
        else
            sb_printf(b, "    location = /status/%d { default_type text/plain;"
                         " return %d \"status %d\\n\"; }\n", c, c, c);
    }
}

static int write_config(fh_nginx *n)
{
    const char *d = n->dir;
    sbuf b = {0};
    if (n->tls_front_upstream)
        sb_printf(&b, "load_module /usr/lib/nginx/modules/ngx_stream_module.so;\n");
    sb_printf(&b, "daemon off;\nmaster_process off;\nworker_processes 1;\n"
                  "pid %s/nginx.pid;\nerror_log %s/error.log warn;\n"
                  "events { worker_connections 1024; }\n", d, d);
    sb_printf(&b, "http {\n  access_log %s/access.log;\n"
                  "  client_body_temp_path %s/tmp/body;\n  proxy_temp_path %s/tmp/proxy;\n"
                  "  fastcgi_temp_path %s/tmp/fastcgi;\n  uwsgi_temp_path %s/tmp/uwsgi;\n"
                  "  scgi_temp_path %s/tmp/scgi;\n", d, d, d, d, d, d);
    sb_printf(&b, "  types { application/json json; text/plain txt; }\n"
                  "  default_type application/octet-stream;\n"
                  "  keepalive_timeout 65s;\n  keepalive_requests %d;\n"
                  "  client_max_body_size 64m;\n"
                  "  gzip on;\n  gzip_types text/plain application/json;\n"
                  "  gzip_min_length 0;\n  http2_max_concurrent_streams %d;\n",
              n->keepalive_requests ? n->keepalive_requests : 100000,
              n->h2_max_streams ? n->h2_max_streams : 128);
    sb_printf(&b, "  server {\n    listen 127.0.0.1:%d;\n    listen 127.0.0.1:%d ssl%s;\n"
                  "    server_name localhost;\n    root %s/www;\n"
                  "    ssl_certificate %s/server.pem;\n    ssl_certificate_key %s/server.key;\n"
                  "    ssl_client_certificate %s/ca.pem;\n    ssl_verify_client optional;\n",
              n->http_port, n->https_port, n->http2 ? " http2" : "", d, d, d, d);
    if (n->unix_sockets)
        sb_printf(&b, "    listen unix:%s;\n    listen unix:%s ssl%s;\n", n->unix_http,
                  n->unix_https, n->http2 ? " http2" : "");
    conf_locations(&b, n->http_port);
    sb_printf(&b, "    location = /headers { default_type text/plain; return 200 "
                  "\"via=$http_via pa=$http_proxy_authorization auth=$http_authorization "
                  "host=$host\\n\"; }\n");
    if (n->upstream_port) /* a 101 from the upstream goes through (RFC 9110 §7.8) */
        sb_printf(&b, "    location /upgrade {\n"
                      "      proxy_pass http://127.0.0.1:%d;\n"
                      "      proxy_http_version 1.1;\n"
                      "      proxy_set_header Upgrade $http_upgrade;\n"
                      "      proxy_set_header Connection \"upgrade\";\n"
                      "      proxy_read_timeout 30s;\n"
                      "    }\n", n->upstream_port);
    sb_printf(&b, "  }\n}\n");
    if (n->tls_front_upstream)
        sb_printf(&b, "stream {\n  server {\n    listen 127.0.0.1:%d ssl;\n"
                      "    ssl_certificate %s/server.pem;\n    ssl_certificate_key %s/server.key;\n"
                      "    proxy_pass 127.0.0.1:%d;\n  }\n}\n",
                  n->tls_front_port, d, d, n->tls_front_upstream);
    char path[512];
    snprintf(path, sizeof path, "%s/nginx.conf", d);
    int rc = fh_test_write_file(path, b.p, b.len);
    free(b.p);
    return rc == 0 ? 0 : set_error(n, "cannot write %s", path);
}

/* ---- start / stop ------------------------------------------------------- */

static void print_log(const fh_nginx *n, const char *name)
{
    char path[512];
    uint8_t *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", n->dir, name);
    if (fh_test_read_file(path, &text, &len) == 0 && len > 0)
        fprintf(stderr, "---- %s ----\n%s\n----\n", path, (char *)text);
    free(text);
}

/* One attempt on fresh ports: 0 when both ports accept. */
static int try_start(fh_nginx *n, const char *nginx)
{
    n->http_port = fh_test_free_port();
    n->https_port = fh_test_free_port();
    if (n->tls_front_upstream)
        n->tls_front_port = fh_test_free_port();
    if (n->http_port < 0 || n->https_port < 0 || n->http_port == n->https_port)
        return -1;
    if (write_config(n) < 0)
        return -1;
    char conf[512], log[512], errlog[512];
    snprintf(conf, sizeof conf, "%s/nginx.conf", n->dir);
    snprintf(log, sizeof log, "%s/nginx.out", n->dir);
    snprintf(errlog, sizeof errlog, "%s/error.log", n->dir);
    /* -e: the startup error log must not default to a path under /var. */
    char *argv[] = {(char *)nginx, "-p", n->dir, "-c", conf, "-e", errlog, NULL};
    n->pid = fh_test_spawn(argv, log);
    if (n->pid < 0)
        return -1;
    if (fh_test_wait_port(n->http_port, 15000, n->pid) == 0 &&
        fh_test_wait_port(n->https_port, 15000, n->pid) == 0 &&
        (!n->tls_front_upstream || fh_test_wait_port(n->tls_front_port, 15000, n->pid) == 0))
        return 0;
    fh_test_kill_wait(n->pid, SIGKILL, 1000); /* harmless if already reaped */
    n->pid = 0;
    print_log(n, "nginx.out");
    print_log(n, "error.log");
    return -1;
}

static int prepare_dir(fh_nginx *n)
{
    char path[512];
    if (fh_test_mkdtemp("nginx", n->dir, sizeof n->dir) < 0)
        return set_error(n, "cannot create a temp dir");
    snprintf(path, sizeof path, "%s/tmp", n->dir);
    if (mkdir(path, 0777) < 0)
        return set_error(n, "mkdir %s failed", path);
    if (fh_test_make_certs(n->dir) < 0)
        return set_error(n, "cannot create test certificates in %s", n->dir);
    snprintf(n->ca_file, sizeof n->ca_file, "%s/ca.pem", n->dir);
    snprintf(n->client_cert, sizeof n->client_cert, "%s/client.pem", n->dir);
    snprintf(n->client_key, sizeof n->client_key, "%s/client.key", n->dir);
    snprintf(n->unix_http, sizeof n->unix_http, "%s/http.sock", n->dir);
    snprintf(n->unix_https, sizeof n->unix_https, "%s/https.sock", n->dir);
    return write_docroot(n);
}

int fh_nginx_start(fh_nginx *n)
{
    int upstream = n->upstream_port, http2 = n->http2, ka = n->keepalive_requests;
    int streams = n->h2_max_streams, unix_sockets = n->unix_sockets;
    int front = n->tls_front_upstream;
    memset(n, 0, sizeof *n);
    n->unix_sockets = unix_sockets;
    n->tls_front_upstream = front;
    n->upstream_port = upstream;
    n->http2 = http2;
    n->keepalive_requests = ka;
    n->h2_max_streams = streams;
    const char *nginx = fh_test_nginx_path();
    const char *env = getenv("FH_NGINX");
    if (!nginx && env && *env)
        return set_error(n, "FH_NGINX=%s is not an executable nginx", env);
    if (!nginx)
        return set_error(n, "nginx not found at /usr/sbin/nginx or in PATH: install it "
                            "(Debian: nginx-light) to run this test");
    if (prepare_dir(n) < 0) {
        fh_nginx_stop(n);
        return -1;
    }
    for (int i = 0; i < START_ATTEMPTS; i++) {
        if (try_start(n, nginx) == 0) {
            snprintf(n->http_url, sizeof n->http_url, "http://127.0.0.1:%d", n->http_port);
            snprintf(n->https_url, sizeof n->https_url, "https://127.0.0.1:%d", n->https_port);
            snprintf(n->https_localhost_url, sizeof n->https_localhost_url,
                     "https://localhost:%d", n->https_port);
            return 0;
        }
    }
    set_error(n, "%s did not start after %d attempts (log above)", nginx, START_ATTEMPTS);
    fh_nginx_stop(n);
    return -1;
}

void fh_nginx_stop(fh_nginx *n)
{
    if (n->pid > 0)
        fh_test_kill_wait(n->pid, SIGTERM, 10000);
    n->pid = 0;
    if (n->dir[0] && !getenv("FH_KEEP_TMP"))
        fh_test_rmtree(n->dir);
    n->dir[0] = 0;
    free(n->json);
    free(n->big);
    free(n->cjson);
    n->json = n->big = n->cjson = NULL;
    n->json_len = n->big_len = n->cjson_len = 0;
}
