/*
 * test_h2.c — HTTP/2 (RFC 9113) against real servers: nginx over TLS
 * (ALPN h2), nginx without h2 (fallback to HTTP/1.1), and nghttpd in
 * cleartext (prior knowledge). Multiplexing is checked by connection
 * counts, GOAWAY under load (keepalive_requests) by zero failures, and
 * http2_max_concurrent_streams by queueing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fasthttp/fasthttp.h"
#include "support/fixtures.h"
#include "support/nginx.h"

static fh_client *h2_client(const fh_nginx *n, fh_http2_mode mode)
{
    fh_client *c = fh_client_new();
    assert_non_null(c);
    assert_int_equal(fh_client_set_ca_file(c, n->ca_file), FH_OK);
    assert_int_equal(fh_client_set_http2(c, mode), FH_OK);
    return c;
}

static void start_nginx(fh_nginx *n, int http2, int ka, int streams)
{
    memset(n, 0, sizeof *n);
    n->http2 = http2;
    n->keepalive_requests = ka;
    n->h2_max_streams = streams;
    if (fh_nginx_start(n) != 0)
        fail_msg("nginx: %s", n->error);
}

/* ---- one request at a time -------------------------------------------------------- */

static void test_alpn_h2_and_bodies(void **state)
{
    (void)state;
    fh_nginx n;
    start_nginx(&n, 1, 0, 0);
    fh_client *c = h2_client(&n, FH_HTTP2_ON);
    char url[160];
    fh_test_result r;
    assert_int_equal(fh_test_get(c, fh_nginx_url(url, sizeof url, n.https_localhost_url,
                                                 "/json"), &r), FH_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.version, 20);
    assert_int_equal(r.body_len, n.json_len);
    assert_memory_equal(r.body, n.json, n.json_len);
    fh_test_result_free(&r);
    /* Decoding is the same as over HTTP/1.1: gzip (nginx), br and zstd. */
    const char *paths[] = {"/big.txt", "/br.json", "/zstd.json"};
    const uint8_t *want[] = {n.big, n.cjson, n.cjson};
    size_t wlen[] = {n.big_len, n.cjson_len, n.cjson_len};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fh_test_get(c, fh_nginx_url(url, sizeof url, n.https_localhost_url,
                                                     paths[i]), &r), FH_OK);
        assert_int_equal(r.version, 20);
        assert_int_equal(r.body_len, wlen[i]);
        assert_memory_equal(r.body, want[i], wlen[i]);
        fh_test_result_free(&r);
    }
    /* A request body, and a reused connection. */
    static const char *hdrs[] = {"Content-Type: text/plain", NULL};
    assert_int_equal(fh_test_fetch(c, "POST", fh_nginx_url(url, sizeof url, n.https_localhost_url,
                                                          "/echo"), "hello h2", 8, hdrs, &r),
                     FH_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal((char *)r.body, "hello h2");
    fh_test_result_free(&r);
    /* The request as recorded is the HEADERS frame's fields: lower case,
     * "host" for :authority first, content-length last. */
    fh_request *req = fh_request_new("POST", fh_nginx_url(url, sizeof url,
                                                          n.https_localhost_url, "/echo"), NULL);
    fh_request_add_header(req, "X-Mixed-Case", "v");
    fh_request_add_header(req, "Connection", "keep-alive");
    fh_request_set_body(req, "abc", 3, 0);
    fh_response *resp = NULL;
    assert_int_equal(fh_client_send(c, req, &resp), FH_OK);
    fh_header h;
    size_t nh = fh_response_request_header_count(resp);
    assert_int_equal(fh_response_request_header_at(resp, 0, &h), FH_OK);
    assert_string_equal(h.name, "host");
    assert_non_null(strstr(url, h.value));
    assert_int_equal(fh_response_request_header_at(resp, nh - 1, &h), FH_OK);
    assert_string_equal(h.name, "content-length");
    assert_string_equal(h.value, "3");
    int mixed = 0;
    for (size_t i = 0; i < nh; i++) {
        assert_int_equal(fh_response_request_header_at(resp, i, &h), FH_OK);
        assert_string_not_equal(h.name, "connection"); /* RFC 9113 §8.2.2 */
        mixed |= strcmp(h.name, "x-mixed-case") == 0;
    }
    assert_true(mixed);
    size_t blen = 0;
    fh_response_body(resp, &blen);
    /* nginx gzips the echo: what came off the wire is the compressed size
     * (a gzip member of 3 bytes takes more than 3), not the decoded one. */
    assert_non_null(fh_response_header(resp, "content-encoding", NULL));
    assert_int_equal(blen, 3);
    assert_true(fh_response_body_bytes_received(resp) > 3);
    fh_response_free(resp);
    fh_request_free(req);
    fh_pool_stats st;
    fh_client_pool_stats(c, &st);
    assert_int_equal(st.created, 1);
    fh_client_free(c);
    fh_nginx_stop(&n);
}

static void test_fallback_and_required(void **state)
{
    (void)state;
    fh_nginx n;
    start_nginx(&n, 0, 0, 0); /* no h2: ALPN answers http/1.1 */
    char url[160];
    fh_nginx_url(url, sizeof url, n.https_localhost_url, "/json");
    fh_client *c = h2_client(&n, FH_HTTP2_ON);
    fh_test_result r;
    assert_int_equal(fh_test_get(c, url, &r), FH_OK);
    assert_int_equal(r.version, 11);
    fh_test_result_free(&r);
    fh_client_free(c);
    c = h2_client(&n, FH_HTTP2_ONLY);
    assert_int_equal(fh_test_get(c, url, &r), FH_EHTTP2);
    assert_non_null(strstr(r.msg, "did not agree to HTTP/2"));
    fh_test_result_free(&r);
    /* Per request: HTTP/1.1 forced on an HTTP/2 client. */
    fh_request *req = fh_request_new("GET", url, NULL);
    assert_int_equal(fh_request_set_http2(req, FH_HTTP2_OFF), FH_OK);
    assert_int_equal(fh_test_send(c, req, &r), FH_OK);
    assert_int_equal(r.version, 11);
    fh_test_result_free(&r);
    fh_request_free(req);
    fh_client_free(c);
    fh_nginx_stop(&n);
}

/* ---- many at once on one engine ---------------------------------------------------- */

typedef struct batch {
    int done, ok, failed, v20;
    char first_error[256];
} batch;

static void on_done(void *ud, fh_request *req, int status, fh_response *resp)
{
    batch *b = ud;
    b->done++;
    if (status == FH_OK && fh_response_status(resp) == 200) {
        b->ok++;
        b->v20 += fh_response_version(resp) == 20;
    } else {
        b->failed++;
        if (!b->first_error[0])
            snprintf(b->first_error, sizeof b->first_error, "%s",
                     status ? fh_request_error_message(req) : "not 200");
    }
    fh_response_free(resp);
}

/* n requests at once on one engine (the built-in loop); returns the batch. */
static batch run_batch(fh_client *c, const char *url, int n)
{
    fh_engine *e = fh_engine_new(c, NULL, NULL);
    fh_request **reqs = calloc((size_t)n, sizeof *reqs);
    batch b = {0};
    static const fh_callbacks cb = {on_done, NULL};
    for (int i = 0; i < n; i++) {
        reqs[i] = fh_request_new("GET", url, NULL);
        fh_request_set_timeout(reqs[i], FH_TIMEOUT_TOTAL, 30000);
        assert_int_equal(fh_engine_submit(e, reqs[i], &cb, &b), FH_OK);
    }
    while (b.done < n)
        assert_true(fh_engine_poll(e, 1000) >= 0);
    fh_engine_free(e);
    for (int i = 0; i < n; i++)
        fh_request_free(reqs[i]);
    free(reqs);
    return b;
}

static void test_multiplexing(void **state)
{
    (void)state;
    fh_nginx n;
    start_nginx(&n, 1, 0, 0);
    char url[160];
    fh_nginx_url(url, sizeof url, n.https_localhost_url, "/json");
    fh_client *c = h2_client(&n, FH_HTTP2_ON);
    batch b = run_batch(c, url, 300);
    if (b.failed)
        fail_msg("%d failed: %s", b.failed, b.first_error);
    assert_int_equal(b.v20, 300);
    fh_pool_stats st;
    fh_client_pool_stats(c, &st);
    /* 300 at once: nginx allows 128 streams, so three connections at most,
     * and never one per request. */
    assert_true(st.created >= 1 && st.created <= 3);
    fh_client_free(c);
    fh_nginx_stop(&n);
}

static void test_max_concurrent_streams_queue(void **state)
{
    (void)state;
    fh_nginx n;
    start_nginx(&n, 1, 0, 2); /* two streams per connection */
    char url[160];
    fh_nginx_url(url, sizeof url, n.https_localhost_url, "/json");
    fh_client *c = h2_client(&n, FH_HTTP2_ON);
    fh_client_set_pool_limits(c, 100, 4, -1, -1);
    batch b = run_batch(c, url, 60);
    if (b.failed)
        fail_msg("%d failed: %s", b.failed, b.first_error);
    fh_pool_stats st;
    fh_client_pool_stats(c, &st);
    assert_true(st.created <= 4); /* the per-host limit holds; the rest queued */
    fh_client_free(c);
    fh_nginx_stop(&n);
}

/* nginx ends each connection with GOAWAY after 10 requests: with 100 in
 * flight, every request above a GOAWAY's last-stream-id is sent again on
 * another connection, and none fails. */
static void test_goaway_under_load(void **state)
{
    (void)state;
    fh_nginx n;
    start_nginx(&n, 1, 10, 0);
    char url[160];
    fh_nginx_url(url, sizeof url, n.https_localhost_url, "/json");
    fh_client *c = h2_client(&n, FH_HTTP2_ON);
    for (int round = 0; round < 3; round++) {
        batch b = run_batch(c, url, 100);
        if (b.failed)
            fail_msg("round %d: %d failed: %s", round, b.failed, b.first_error);
        assert_int_equal(b.ok, 100);
    }
    fh_client_free(c);
    fh_nginx_stop(&n);
}

/* ---- cleartext by prior knowledge (nghttpd) ---------------------------------------- */

static void test_prior_knowledge_nghttpd(void **state)
{
    (void)state;
    char dir[256], path[320];
    assert_int_equal(fh_test_mkdtemp("h2", dir, sizeof dir), 0);
    assert_int_equal(fh_test_write_file(fh_test_path(path, sizeof path, dir, "hello"), "h2c\n",
                                        4), 0);
    int port = fh_test_free_port();
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        execlp("nghttpd", "nghttpd", "-a", "127.0.0.1", "-d", dir, "--no-tls", portstr,
               (char *)NULL);
        _exit(127);
    }
    if (fh_test_wait_port(port, 5000, pid) != 0)
        fail_msg("nghttpd did not start (nghttp2-server installed?)");
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hello", port);
    fh_client *c = fh_client_new();
    fh_client_set_http2(c, FH_HTTP2_ONLY);
    fh_test_result r;
    assert_int_equal(fh_test_get(c, url, &r), FH_OK);
    assert_int_equal(r.version, 20);
    assert_string_equal((char *)r.body, "h2c\n");
    fh_test_result_free(&r);
    batch b = run_batch(c, url, 200);
    assert_int_equal(b.ok, 200);
    fh_pool_stats st;
    fh_client_pool_stats(c, &st);
    assert_true(st.created <= 3);
    /* FH_HTTP2_ON never uses HTTP/2 in cleartext: nghttpd then refuses. */
    fh_client_free(c);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    fh_test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alpn_h2_and_bodies),
        cmocka_unit_test(test_fallback_and_required),
        cmocka_unit_test(test_multiplexing),
        cmocka_unit_test(test_max_concurrent_streams_queue),
        cmocka_unit_test(test_goaway_under_load),
        cmocka_unit_test(test_prior_knowledge_nghttpd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
