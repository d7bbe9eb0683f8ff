/*
 * test_policy.c — retries, the circuit breaker, redirects and credentials
 * in the engine, against scripted raw-socket servers on loopback.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fasthttp/fasthttp.h"
#include "support/fixtures.h"
#include "support/peer.h"

#define R200 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
#define R503 "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy"

static int g_fds;

static int setup(void **state)
{
    g_fds = fh_test_count_fds();
    return 0;
}

static int teardown(void **state)
{
    assert_int_equal(fh_test_count_fds(), g_fds);
    return 0;
}

/* Sends method url with an optional body; returns the code, *resp set on success. */
static int send_req(fh_client *c, const char *method, const char *url, const char *body,
                    fh_response **resp, char *err, size_t errlen)
{
    fh_request *r = fh_request_new(method, url, NULL);
    assert_non_null(r);
    if (body) {
        fh_request_add_header(r, "Content-Type", "text/plain");
        fh_request_set_body(r, body, strlen(body), 1);
    }
    int rc = fh_client_send(c, r, resp);
    if (err)
        snprintf(err, errlen, "%s", fh_request_error_message(r));
    fh_request_free(r);
    return rc;
}

static const char *request_k(fh_peer *p, int k)
{
    const char *req = fh_peer_request(p, k, NULL, NULL);
    assert_non_null(req);
    return req;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- redirects ------------------------------------------------------------ */

static void test_relative_redirect_on_same_connection(void **state)
{
    static const fh_peer_step s[] = {
        PEER_READ, PEER_SEND("HTTP/1.1 302 Found\r\nLocation: ../b/c?x=1\r\nContent-Length: 3\r\n\r\nabc"),
        PEER_READ, PEER_SEND(R200), PEER_WAIT_CLOSE, PEER_END};
    fh_peer *p = fh_peer_start1(s);
    fh_client *c = fh_client_new();
    char url[128];
    fh_response *resp = NULL;
    assert_int_equal(send_req(c, "GET", fh_peer_url(p, "/a/start", url, sizeof url), NULL, &resp,
                              NULL, 0), FH_OK);
    assert_int_equal(fh_response_status(resp), 200);
    assert_int_equal(fh_response_history_count(resp), 1);
    assert_int_equal(fh_response_status(fh_response_history_at(resp, 0)), 302);
    assert_non_null(strstr(fh_response_url(resp), "/b/c?x=1"));
    assert_non_null(strstr(request_k(p, 1), "GET /b/c?x=1 HTTP/1.1\r\n"));
    assert_int_equal(fh_peer_connections(p), 1); /* the hop body was drained, connection kept */
    fh_response_free(resp);
    fh_client_free(c);
    fh_peer_stop(p);
}

static void test_303_turns_post_into_get(void **state)
{
    static const fh_peer_step s[] = {
        PEER_READ, PEER_SEND("HTTP/1.1 303 See Other\r\nLocation: /done\r\nContent-Length: 0\r\n\r\n"),
        PEER_READ, PEER_SEND(R200), PEER_WAIT_CLOSE, PEER_END};
    fh_peer *p = fh_peer_start1(s);
    fh_client *c = fh_client_new();
    char url[128];
    fh_response *resp = NULL;
    assert_int_equal(send_req(c, "POST", fh_peer_url(p, "/form", url, sizeof url), "payload",
                              &resp, NULL, 0), FH_OK);
    const char *second = request_k(p, 1);
    assert_non_null(strstr(second, "GET /done HTTP/1.1\r\n"));
    assert_null(strstr(second, "payload"));
    assert_null(strstr(second, "Content-Type"));
    assert_null(strstr(second, "Content-Length"));
    fh_response_free(resp);
    fh_client_free(c);
    fh_peer_stop(p);
}

/* The head rebuilt from what the response recorded (fh_response_request_*),
 * HTTP/1.1 style, must be byte for byte the head the server received. */
static void expect_recorded(const fh_response *r, const char *raw)
{
    char head[2048];
    const char *url = fh_response_request_url(r);
    const char *target = strchr(strstr(url, "://") + 3, '/');
    int n = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\n", fh_response_request_method(r),
                     target ? target : "/");
    for (size_t i = 0; i < fh_response_request_header_count(r); i++) {
        fh_header h;
        assert_int_equal(fh_response_request_header_at(r, i, &h), FH_OK);
        n += snprintf(head + n, sizeof head - (size_t)n, "%.*s: %.*s\r\n", (int)h.name_len,
                      h.name, (int)h.value_len, h.value);
    }
    snprintf(head + n, sizeof head - (size_t)n, "\r\n");
    if (strncmp(raw, head, strlen(head)) != 0)
        fail_msg("recorded:\n%s\nsent:\n%s", head, raw);
}

static void test_response_records_request_as_sent(void **state)
{
    static const fh_peer_step s[] = {
        PEER_READ, PEER_SEND("HTTP/1.1 303 See Other\r\nLocation: /done?a b\r\n"
                             "Set-Cookie: s=1\r\nContent-Length: 0\r\n\r\n"),
        PEER_READ, PEER_SEND(R200), PEER_WAIT_CLOSE, PEER_END};
    fh_peer *p = fh_peer_start1(s);
    fh_client *c = fh_client_new();
    fh_cookie_jar *jar = fh_cookie_jar_new();
    fh_client_set_cookie_jar(c, jar);
    fh_client_set_auth(c, FH_AUTH_BASIC, "u", "pw");
    char url[128];
    fh_response *resp = NULL;
    assert_int_equal(send_req(c, "POST", fh_peer_url(p, "/form", url, sizeof url), "payload",
                              &resp, NULL, 0), FH_OK);
    const fh_response *hop = fh_response_history_at(resp, 0);
    assert_string_equal(fh_response_request_method(hop), "POST");
    assert_string_equal(fh_response_request_url(hop), url);
    assert_string_equal(fh_response_request_method(resp), "GET");
    assert_non_null(strstr(fh_response_request_url(resp), "/done?a%20b"));
    expect_recorded(hop, request_k(p, 0));
    expect_recorded(resp, request_k(p, 1));
    /* Spot checks: the framing of the POST, the jar's cookie on the GET. */
    fh_header h;
    size_t n = fh_response_request_header_count(hop);
    assert_int_equal(fh_response_request_header_at(hop, n - 1, &h), FH_OK);
    assert_string_equal(h.name, "Content-Length");
    assert_string_equal(h.value, "7");
    assert_int_equal(fh_response_request_header_at(hop, n, &h), FH_EINVAL);
    assert_non_null(strstr(request_k(p, 1), "Cookie: s=1\r\n"));
    assert_non_null(strstr(request_k(p, 1), "Authorization: Basic dTpwdw==\r\n"));
    /* Body bytes off the wire: none for the hop, two for "ok". */
    assert_int_equal(fh_response_body_bytes_received(hop), 0);
    assert_int_equal(fh_response_body_bytes_received(resp), 2);
    fh_response_free(resp);
    fh_client_free(c);
    fh_cookie_jar_free(jar);
    fh_peer_stop(p);
    assert_null(fh_response_request_method(NULL));
    assert_int_equal(fh_response_request_header_count(NULL), 0);
}

static void test_307_replays_method_and_body(void **state)
{
    static const fh_peer_step s[] = {
        PEER_READ,
        PEER_SEND("HTTP/1.1 307 Temporary Redirect\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n"),
        PEER_READ, PEER_SEND(R200), PEER_WAIT_CLOSE, PEER_END};
    fh_peer *p = fh_peer_start1(s);
    fh_client *c = fh_client_new();
    char url[128];
    fh_response *resp = NULL;
    assert_int_equal(send_req(c, "POST", fh_peer_url(p, "/x", url, sizeof url), "payload", &resp,
                              NULL, 0), FH_OK);
    const char *second = request_k(p, 1);
    assert_non_null(strstr(second, "POST /again HTTP/1.1\r\n"));
    assert_non_null(strstr(second, "\r\n\r\npayload"));
    fh_response_free(resp);
    fh_client_free(c);
    fh_peer_stop(p);
}

static void test_credentials_do_not_cross_origins(void **state)
{
    static const fh_peer_step target[] = {PEER_READ, PEER_SEND(R200), PEER_WAIT_CLOSE, PEER_END};
    fh_peer *other = fh_peer_start1(target);
    char loc[200], step[256];
    fh_peer_url(other, "/landing", loc, sizeof loc);
    snprintf(step, sizeof step, "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n",
             loc);
    fh_peer_step first[] = {PEER_READ, PEER_SEND_N(step, strlen(step)), PEER_WAIT_CLOSE,
                            PEER_END};
    fh_peer *p = fh_peer_start1(first);
    fh_client *c = fh_client_new();
    fh_client_set_auth(c, FH_AUTH_BASIC, "user", "secret");
    char url[128];
    fh_request *r = fh_request_new("GET", fh_peer_url(p, "/start", url, sizeof url), NULL);
    fh_request_add_header(r, "Cookie", "session=1");
    fh_request_add_header(r, "Proxy-Authorization", "Basic eDp5");
    fh_request_add_header(r, "X-Keep", "yes");
    fh_request_add_header(r, "Host", "vhost.test");
    fh_request_add_header(r, "X-Api-Key", "k1");
    assert_int_equal(fh_request_mark_sensitive(r, "x-api-key"), FH_OK);
    fh_response *resp = NULL;
    assert_int_equal(fh_client_send(c, r, &resp), FH_OK);
    const char *a = request_k(p, 0), *b = request_k(other, 0);
    assert_non_null(strstr(a, "Authorization: Basic dXNlcjpzZWNyZXQ=\r\n"));
    assert_non_null(strstr(a, "Cookie: session=1\r\n"));
    assert_null(strstr(b, "Authorization"));
    assert_null(strstr(b, "Cookie"));
    assert_non_null(strstr(a, "Host: vhost.test\r\n"));
    assert_null(strstr(b, "vhost.test")); /* the override stays with its origin */
    assert_non_null(strstr(a, "X-Api-Key: k1\r\n"));
    assert_null(strstr(b, "X-Api-Key")); /* marked as a credential */
    assert_non_null(strstr(b, "Host: 127.0.0.1:"));
    assert_non_null(strstr(b, "X-Keep: yes\r\n"));
    fh_response_free(resp);
    fh_request_free(r);
    fh_client_free(c);
    fh_peer_stop(p);
    fh_peer_stop(other);
}

/* Credentials in the URL: sent as Basic to their origin, never in the URL,
 * never across origins; a Location's own credentials serve its origin. */
static void test_url_credentials(void **state)
{
    static const fh_peer_step target[] = {PEER_READ, PEER_SEND(R200), PEER_WAIT_CLOSE, PEER_END};
    fh_peer *other = fh_peer_start1(target);
    char step[256];
    snprintf(step, sizeof step, "HTTP/1.1 302 Found\r\nLocation: http://bob:pw%%40x@localhost:%d"
             "/landing\r\nContent-Length: 0\r\n\r\n", fh_peer_port(other));
    fh_peer_step first[] = {
        PEER_READ, PEER_SEND("HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n"),
        PEER_READ, PEER_SEND_N(step, strlen(step)), PEER_WAIT_CLOSE, PEER_END};
    fh_peer *p = fh_peer_start1(first);
    fh_client *c = fh_client_new();
    char url[160];
    snprintf(url, sizeof url, "http://alice:s3cret@127.0.0.1:%d/start", fh_peer_port(p));
    fh_request *r = fh_request_new("GET", url, NULL);
    assert_non_null(r);
    fh_response *resp = NULL;
    assert_int_equal(fh_client_send(c, r, &resp), FH_OK);
    const char *a = request_k(p, 0), *a2 = request_k(p, 1), *b = request_k(other, 0);
    assert_non_null(strstr(a, "GET /start HTTP/1.1\r\n"));
    assert_non_null(strstr(a, "Authorization: Basic YWxpY2U6czNjcmV0\r\n")); /* alice:s3cret */
    assert_null(strstr(a, "s3cret"));
    assert_null(strstr(a, "alice"));
    assert_non_null(strstr(a2, "Authorization: Basic YWxpY2U6czNjcmV0\r\n")); /* same origin */
    assert_non_null(strstr(b, "Authorization: Basic Ym9iOnB3QHg=\r\n")); /* bob:pw@x */
    assert_null(strstr(b, "YWxpY2U6czNjcmV0"));
    assert_null(strstr(fh_response_url(resp), "pw"));
    char want[96];
    snprintf(want, sizeof want, "http://localhost:%d/landing", fh_peer_port(other));
    assert_string_equal(fh_response_url(resp), want);
    assert_int_equal(fh_response_history_count(resp), 2);
    assert_null(strstr(fh_response_url(fh_response_history_at(resp, 0)), "s3cret"));
    fh_response_free(resp);
    fh_request_free(r);
    fh_client_free(c);
    fh_peer_stop(p);
    fh_peer_stop(other);
}

/* Given credentials (request, then client) and an Authorization header win
 * over those of the URL; a failure message never shows the password. */
static void test_url_credentials_precedence(void **state)
{
    static const fh_peer_step s[] = {PEER_READ, PEER_SEND(R200), PEER_READ, PEER_SEND(R200),
                                     PEER_READ, PEER_SEND(R200), PEER_WAIT_CLOSE, PEER_END};
    fh_peer *p = fh_peer_start1(s);
    fh_client *c = fh_client_new();
    fh_client_set_auth(c, FH_AUTH_BASIC, "user", "secret");
    char url[160];
    snprintf(url, sizeof url, "http://alice:s3cret@127.0.0.1:%d/", fh_peer_port(p));
    fh_response *resp = NULL;
    assert_int_equal(send_req(c, "GET", url, NULL, &resp, NULL, 0), FH_OK);
    fh_response_free(resp);
    fh_request *r = fh_request_new("GET", url, NULL);
    fh_request_set_auth(r, FH_AUTH_BASIC, "carol", "x");
    assert_int_equal(fh_client_send(c, r, &resp), FH_OK);
    fh_response_free(resp);
    fh_request_free(r);
    r = fh_request_new("GET", url, NULL);
    fh_request_add_header(r, "Authorization", "Bearer t");
    assert_int_equal(fh_client_send(c, r, &resp), FH_OK);
    fh_response_free(resp);
    fh_request_free(r);
    assert_non_null(strstr(request_k(p, 0), "Authorization: Basic dXNlcjpzZWNyZXQ=\r\n"));
    assert_non_null(strstr(request_k(p, 1), "Authorization: Basic Y2Fyb2w6eA==\r\n"));
    assert_non_null(strstr(request_k(p, 2), "Authorization: Bearer t\r\n"));
    assert_null(strstr(request_k(p, 2), "Basic"));
    fh_client_free(c);
    fh_peer_stop(p);
    /* Nobody listens there now: the connect error names the URL's host only. */
    char err[256];
    c = fh_client_new();
    assert_int_equal(send_req(c, "GET", url, NULL, &resp, err, sizeof err), FH_ECONNECT);
    assert_null(strstr(err, "s3cret"));
    fh_client_free(c);
}

/* Credentials that fh_auth_check refuses fail when they are set, and the
 * previous ones stay: the exchange sends the client's good credentials. */
static void test_bad_credentials_refused_when_set(void **state)
{
    static const fh_peer_step steps[] = {PEER_READ, PEER_SEND(R200), PEER_WAIT_CLOSE, PEER_END};
    fh_peer *p = fh_peer_start1(steps);
    fh_client *c = fh_client_new();
    assert_int_equal(fh_client_set_auth(c, FH_AUTH_BASIC, "user", "secret"), FH_OK);
    assert_int_equal(fh_client_set_auth(c, FH_AUTH_BASIC, "us:er", "x"), FH_EINVAL);
    assert_int_equal(fh_client_set_auth(c, FH_AUTH_BASIC, "user", "se\r\ncret"), FH_EINVAL);
    assert_int_equal(fh_client_set_auth(c, FH_AUTH_BASIC, NULL, "x"), FH_EINVAL);
    assert_int_equal(fh_client_set_auth(c, (fh_auth_kind)7, "u", "p"), FH_EINVAL);
    char url[128];
    fh_request *r = fh_request_new("GET", fh_peer_url(p, "/", url, sizeof url), NULL);
    assert_int_equal(fh_request_set_auth(r, FH_AUTH_DIGEST, "us\ner", "p"), FH_EINVAL);
    assert_int_equal(fh_request_set_auth(r, FH_AUTH_BASIC, "a:b", "p"), FH_EINVAL);
    fh_response *resp = NULL;
    assert_int_equal(fh_client_send(c, r, &resp), FH_OK);
    assert_non_null(strstr(request_k(p, 0), "Authorization: Basic dXNlcjpzZWNyZXQ=\r\n"));
    fh_response_free(resp);
    fh_request_free(r);
    fh_client_free(c);
    fh_peer_stop(p);
}

static void test_redirect_errors(void **state)
{
    static const fh_peer_step loop[] = {
        PEER_READ, PEER_SEND("HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n"),
        PEER_READ, PEER_SEND("HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n"),
        PEER_READ, PEER_SEND("HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n"),
        PEER_READ, PEER_SEND("HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n"),
        PEER_WAIT_CLOSE, PEER_END};
    static const fh_peer_step noloc[] = {
        PEER_READ, PEER_SEND("HTTP/1.1 301 Moved\r\nContent-Length: 0\r\n\r\n"), PEER_WAIT_CLOSE,
        PEER_END};
    static const fh_peer_step ftp[] = {
        PEER_READ, PEER_SEND("HTTP/1.1 301 Moved\r\nLocation: ftp://x/\r\nContent-Length: 0\r\n\r\n"),
        PEER_WAIT_CLOSE, PEER_END};
    const fh_peer_step *scripts[] = {loop, noloc, ftp};
    int expect[] = {FH_ETOO_MANY_REDIRECTS, FH_EREDIRECT, FH_EREDIRECT};
    for (int i = 0; i < 3; i++) {
        fh_peer *p = fh_peer_start1(scripts[i]);
        fh_client *c = fh_client_new();
        fh_client_set_redirects(c, 1, 2);
        char url[128], err[256];
        fh_response *resp = NULL;
        assert_int_equal(send_req(c, "GET", fh_peer_url(p, "/", url, sizeof url), NULL, &resp,
                                  err, sizeof err), expect[i]);
        assert_null(resp);
        assert_true(strlen(err) > 10);
        fh_client_free(c);
        fh_peer_stop(p);
    }
}

static void test_redirects_off(void **state)
{
    static const fh_peer_step s[] = {
        PEER_READ, PEER_SEND("HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n"),
        PEER_WAIT_CLOSE, PEER_END};
    fh_peer *p = fh_peer_start1(s);
    fh_client *c = fh_client_new();
    fh_client_set_redirects(c, 0, 20);
    char url[128];
    fh_response *resp = NULL;
    assert_int_equal(send_req(c, "GET", fh_peer_url(p, "/", url, sizeof url), NULL, &resp, NULL,
                              0), FH_OK);
    assert_int_equal(fh_response_status(resp), 302);
    assert_int_equal(fh_response_history_count(resp), 0);
    fh_response_free(resp);
    fh_client_free(c);
    fh_peer_stop(p);
}

/* ---- retries --------------------------------------------------------------- */

static fh_retry_policy retry_503(int attempts)
{
    fh_retry_policy rp;
    fh_retry_policy_init(&rp);
    rp.max_attempts = attempts;
    rp.status_codes[0] = 503;
    rp.n_status_codes = 1;
    return rp;
}

static void test_retry_on_status_until_success(void **state)
{
    static const fh_peer_step s[] = {PEER_READ, PEER_SEND(R503), PEER_READ, PEER_SEND(R503),
                                     PEER_READ, PEER_SEND(R200), PEER_WAIT_CLOSE, PEER_END};
    fh_peer *p = fh_peer_start1(s);
    fh_client *c = fh_client_new();
    fh_retry_policy rp = retry_503(5);
    fh_client_set_retry(c, &rp);
    char url[128];
    fh_response *resp = NULL;
    assert_int_equal(send_req(c, "GET", fh_peer_url(p, "/", url, sizeof url), NULL, &resp, NULL,
                              0), FH_OK);
    assert_int_equal(fh_response_status(resp), 200);
    assert_int_equal(fh_response_attempts(resp), 3);
    fh_response_free(resp);
    fh_client_free(c);
    fh_peer_stop(p);
}

static void test_retry_exhausted_returns_last_response(void **state)
{
    static const fh_peer_step s[] = {PEER_READ, PEER_SEND(R503), PEER_READ, PEER_SEND(R503),
                                     PEER_WAIT_CLOSE, PEER_END};
    fh_peer *p = fh_peer_start1(s);
    fh_client *c = fh_client_new();
    fh_retry_policy rp = retry_503(2);
    fh_client_set_retry(c, &rp);
    char url[128];
    fh_response *resp = NULL;
    assert_int_equal(send_req(c, "GET", fh_peer_url(p, "/", url, sizeof url), NULL, &resp, NULL,
                              0), FH_OK);
    assert_int_equal(fh_response_status(resp), 503);
    assert_int_equal(fh_response_attempts(resp), 2);
    size_t len;
    assert_memory_equal(fh_response_body(resp, &len), "busy", 4);
    fh_response_free(resp);
    fh_client_free(c);
    fh_peer_stop(p);
}

static void test_post_not_retried_unless_allowed(void **state)
{
    static const fh_peer_step s[] = {PEER_READ, PEER_SEND(R503), PEER_READ, PEER_SEND(R200),
                                     PEER_WAIT_CLOSE, PEER_END};
    for (int allow = 0; allow < 2; allow++) {
        fh_peer *p = fh_peer_start1(s);
        fh_client *c = fh_client_new();
        fh_retry_policy rp = retry_503(3);
        rp.retry_non_idempotent = allow;
        fh_client_set_retry(c, &rp);
        char url[128];
        fh_response *resp = NULL;
        assert_int_equal(send_req(c, "POST", fh_peer_url(p, "/", url, sizeof url), "b", &resp,
                                  NULL, 0), FH_OK);
        assert_int_equal(fh_response_status(resp), allow ? 200 : 503);
        assert_int_equal(fh_response_attempts(resp), allow ? 2 : 1);
        fh_response_free(resp);
        fh_client_free(c);
        fh_peer_stop(p);
    }
}

static void test_retry_after_is_honoured_and_capped(void **state)
{
    static const fh_peer_step s[] = {
        PEER_READ, PEER_SEND("HTTP/1.1 503 Busy\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"),
        PEER_READ, PEER_SEND(R200), PEER_WAIT_CLOSE, PEER_END};
    fh_peer *p = fh_peer_start1(s);
    fh_client *c = fh_client_new();
    fh_retry_policy rp = retry_503(2);
    fh_client_set_retry(c, &rp);
    char url[128];
    fh_response *resp = NULL;
    double t0 = now_s();
    assert_int_equal(send_req(c, "GET", fh_peer_url(p, "/", url, sizeof url), NULL, &resp, NULL,
                              0), FH_OK);
    assert_true(now_s() - t0 >= 0.95); /* a lower bound: the wait really happened */
    assert_int_equal(fh_response_status(resp), 200);
    fh_response_free(resp);
    fh_client_free(c);
    fh_peer_stop(p);

    /* An HTTP-date far ahead is capped by retry_after_max. */
    static const fh_peer_step far[] = {
        PEER_READ,
        PEER_SEND("HTTP/1.1 503 Busy\r\nRetry-After: Fri, 31 Dec 2100 23:59:59 GMT\r\n"
                  "Content-Length: 0\r\n\r\n"),
        PEER_READ, PEER_SEND(R200), PEER_WAIT_CLOSE, PEER_END};
    p = fh_peer_start1(far);
    c = fh_client_new();
    rp.retry_after_max = 0.05;
    fh_client_set_retry(c, &rp);
    assert_int_equal(send_req(c, "GET", fh_peer_url(p, "/", url, sizeof url), NULL, &resp, NULL,
                              0), FH_OK);
    assert_int_equal(fh_response_status(resp), 200);
    fh_response_free(resp);
    fh_client_free(c);
    fh_peer_stop(p);
}

static void test_retries_stop_at_total_timeout(void **state)
{
    static const fh_peer_step s[] = {
        PEER_READ, PEER_SEND("HTTP/1.1 503 Busy\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n"),
        PEER_WAIT_CLOSE, PEER_END};
    fh_peer *p = fh_peer_start1(s);
    fh_client *c = fh_client_new();
    fh_retry_policy rp = retry_503(3);
    fh_client_set_retry(c, &rp);
    fh_client_set_timeout(c, FH_TIMEOUT_TOTAL, 2000);
    char url[128];
    fh_response *resp = NULL;
    assert_int_equal(send_req(c, "GET", fh_peer_url(p, "/", url, sizeof url), NULL, &resp, NULL,
                              0), FH_OK);
    assert_int_equal(fh_response_status(resp), 503); /* the wait would pass the deadline */
    assert_int_equal(fh_response_attempts(resp), 1);
    fh_response_free(resp);
    fh_client_free(c);
    fh_peer_stop(p);
}

static void test_connection_error_retried(void **state)
{
    static const fh_peer_step drop[] = {PEER_READ, PEER_CLOSE, PEER_END};
    static const fh_peer_step ok[] = {PEER_READ, PEER_SEND(R200), PEER_WAIT_CLOSE, PEER_END};
    const fh_peer_step *scripts[] = {drop, ok};
    fh_peer *p = fh_peer_start(scripts, 2);
    fh_client *c = fh_client_new();
    fh_retry_policy rp = retry_503(2);
    fh_client_set_retry(c, &rp);
    char url[128];
    fh_response *resp = NULL;
    assert_int_equal(send_req(c, "GET", fh_peer_url(p, "/", url, sizeof url), NULL, &resp, NULL,
                              0), FH_OK);
    assert_int_equal(fh_response_status(resp), 200);
    assert_int_equal(fh_response_attempts(resp), 2);
    assert_int_equal(fh_peer_connections(p), 2);
    fh_response_free(resp);
    fh_client_free(c);
    fh_peer_stop(p);
}

/* retry_errors chooses which failures are retried: a malformed response is
 * not by default, is when listed; a dropped connection then is not. */
static void test_retry_errors_listed(void **state)
{
    static const fh_peer_step garbage[] = {PEER_READ, PEER_SEND("NOT HTTP AT ALL\r\n\r\n"),
                                           PEER_WAIT_CLOSE, PEER_END};
    static const fh_peer_step drop[] = {PEER_READ, PEER_CLOSE, PEER_END};
    static const fh_peer_step ok[] = {PEER_READ, PEER_SEND(R200), PEER_WAIT_CLOSE, PEER_END};
    char url[128];
    fh_response *resp = NULL;
    for (int listed = 0; listed < 2; listed++) {
        const fh_peer_step *scripts[] = {garbage, ok};
        fh_peer *p = fh_peer_start(scripts, 2);
        fh_client *c = fh_client_new();
        fh_retry_policy rp = retry_503(2);
        if (listed) {
            rp.retry_errors[0] = FH_EPROTO;
            rp.n_retry_errors = 1;
        }
        assert_int_equal(fh_client_set_retry(c, &rp), FH_OK);
        int rc = send_req(c, "GET", fh_peer_url(p, "/", url, sizeof url), NULL, &resp, NULL, 0);
        assert_int_equal(rc, listed ? FH_OK : FH_EPROTO);
        if (listed) {
            assert_int_equal(fh_response_attempts(resp), 2);
            fh_response_free(resp);
        }
        fh_client_free(c);
        fh_peer_stop(p);
    }
    const fh_peer_step *scripts[] = {drop, ok};
    fh_peer *p = fh_peer_start(scripts, 2);
    fh_client *c = fh_client_new();
    fh_retry_policy rp = retry_503(2);
    rp.retry_errors[0] = FH_EPROTO;
    rp.n_retry_errors = 1;
    fh_client_set_retry(c, &rp);
    assert_int_equal(send_req(c, "GET", fh_peer_url(p, "/", url, sizeof url), NULL, &resp, NULL,
                              0), FH_ECLOSED);
    assert_int_equal(fh_peer_connections(p), 1);
    fh_client_free(c);
    fh_peer_stop(p);
    /* Only failures of an attempt may be listed. */
    rp.retry_errors[0] = FH_ETIMEOUT_TOTAL;
    char msg[200];
    assert_int_equal(fh_retry_policy_check(&rp, msg, sizeof msg), FH_EINVAL);
    assert_non_null(strstr(msg, "retry_errors[0] must be"));
    rp.n_retry_errors = FH_RETRY_MAX_ERRORS + 1;
    assert_int_equal(fh_retry_policy_check(&rp, msg, sizeof msg), FH_EINVAL);
    assert_true(fh_retry_error_allowed(FH_ECERT) && !fh_retry_error_allowed(FH_EINVAL));
}

/* ---- circuit breaker ---------------------------------------------------------- */

static int64_t fake_now;
static int64_t fake_clock(void *ud)
{
    return fake_now;
}

static void test_circuit_breaker_cycle(void **state)
{
    static const fh_peer_step s503[] = {PEER_READ, PEER_SEND(R503), PEER_READ, PEER_SEND(R503),
                                        PEER_READ, PEER_SEND(R503), PEER_READ, PEER_SEND(R200),
                                        PEER_WAIT_CLOSE, PEER_END};
    fh_peer *p = fh_peer_start1(s503);
    fh_client *c = fh_client_new();
    fake_now = 1000000;
    fh_client_set_clock(c, fake_clock, NULL);
    fh_retry_policy rp = retry_503(1);
    rp.circuit_breaker = 1;
    rp.cb_failure_threshold = 2;
    rp.cb_recovery_seconds = 60;
    fh_client_set_retry(c, &rp);
    char url[128], origin[64], err[256];
    fh_peer_url(p, "/", url, sizeof url);
    snprintf(origin, sizeof origin, "http://127.0.0.1:%d", fh_peer_port(p));
    fh_response *resp = NULL;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(send_req(c, "GET", url, NULL, &resp, NULL, 0), FH_OK);
        assert_int_equal(fh_response_status(resp), 503);
        fh_response_free(resp);
    }
    assert_int_equal(fh_client_circuit_state(c, origin), 1); /* open */
    assert_int_equal(send_req(c, "GET", url, NULL, &resp, err, sizeof err), FH_ECIRCUIT_OPEN);
    assert_non_null(strstr(err, "circuit breaker open"));
    assert_int_equal(fh_peer_request_count(p), 2); /* refused without touching the network */
    fake_now += 61 * 1000000LL;
    /* Half-open: one trial; it fails, so the circuit opens again. */
    assert_int_equal(send_req(c, "GET", url, NULL, &resp, NULL, 0), FH_OK);
    assert_int_equal(fh_response_status(resp), 503);
    fh_response_free(resp);
    assert_int_equal(fh_client_circuit_state(c, origin), 1);
    assert_int_equal(send_req(c, "GET", url, NULL, &resp, NULL, 0), FH_ECIRCUIT_OPEN);
    fake_now += 61 * 1000000LL;
    /* The next trial succeeds and closes it. */
    assert_int_equal(send_req(c, "GET", url, NULL, &resp, NULL, 0), FH_OK);
    assert_int_equal(fh_response_status(resp), 200);
    fh_response_free(resp);
    assert_int_equal(fh_client_circuit_state(c, origin), 0);
    fh_client_free(c);
    fh_peer_stop(p);
}

/* ---- auth ------------------------------------------------------------------------ */

static void test_digest_challenge_answered_once(void **state)
{
    static const fh_peer_step s[] = {
        PEER_READ,
        PEER_SEND("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\", Digest "
                  "realm=\"r\", nonce=\"n1\", qop=\"auth\", algorithm=SHA-256\r\n"
                  "Content-Length: 0\r\n\r\n"),
        PEER_READ,
        PEER_SEND("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"r\", "
                  "nonce=\"n2\", qop=\"auth\"\r\nContent-Length: 6\r\n\r\ndenied"),
        PEER_WAIT_CLOSE, PEER_END};
    fh_peer *p = fh_peer_start1(s);
    fh_client *c = fh_client_new();
    char url[128];
    fh_request *r = fh_request_new("GET", fh_peer_url(p, "/secret?a=b", url, sizeof url), NULL);
    fh_request_set_auth(r, FH_AUTH_DIGEST, "user", "pass");
    fh_response *resp = NULL;
    assert_int_equal(fh_client_send(c, r, &resp), FH_OK);
    assert_int_equal(fh_response_status(resp), 401); /* the second 401 is the caller's */
    assert_int_equal(fh_peer_request_count(p), 2);
    assert_null(strstr(request_k(p, 0), "Authorization"));
    const char *second = request_k(p, 1);
    assert_non_null(strstr(second, "Authorization: Digest "));
    assert_non_null(strstr(second, "uri=\"/secret?a=b\""));
    assert_non_null(strstr(second, "algorithm=SHA-256"));
    assert_non_null(strstr(second, "nc=00000001"));
    fh_response_free(resp);
    fh_request_free(r);
    fh_client_free(c);
    fh_peer_stop(p);
}

/* ---- cookies ----------------------------------------------------------------- */

static void test_cookies_follow_hops_but_not_hosts(void **state)
{
    static const fh_peer_step other_s[] = {PEER_READ, PEER_SEND(R200), PEER_WAIT_CLOSE, PEER_END};
    fh_peer *other = fh_peer_start1(other_s);
    char step1[160], step2[256];
    snprintf(step1, sizeof step1, "HTTP/1.1 302 Found\r\nSet-Cookie: sid=abc; Path=/\r\n"
             "Location: /two\r\nContent-Length: 0\r\n\r\n");
    snprintf(step2, sizeof step2, "HTTP/1.1 302 Found\r\nSet-Cookie: more=1\r\n"
             "Location: http://localhost:%d/three\r\nContent-Length: 0\r\n\r\n",
             fh_peer_port(other));
    fh_peer_step s[] = {PEER_READ, PEER_SEND_N(step1, strlen(step1)), PEER_READ,
                        PEER_SEND_N(step2, strlen(step2)), PEER_WAIT_CLOSE, PEER_END};
    fh_peer *p = fh_peer_start1(s);
    fh_cookie_jar *jar = fh_cookie_jar_new();
    fh_client *c = fh_client_new();
    fh_client_set_cookie_jar(c, jar);
    char url[128];
    fh_response *resp = NULL;
    assert_int_equal(send_req(c, "GET", fh_peer_url(p, "/one", url, sizeof url), NULL, &resp,
                              NULL, 0), FH_OK);
    assert_int_equal(fh_response_status(resp), 200);
    assert_int_equal(fh_response_history_count(resp), 2);
    assert_null(strstr(request_k(p, 0), "Cookie:"));
    assert_non_null(strstr(request_k(p, 1), "Cookie: sid=abc\r\n")); /* set by the hop */
    assert_null(strstr(request_k(other, 0), "Cookie:")); /* another host gets none */
    assert_int_equal(fh_cookie_jar_count(jar), 2);
    fh_response_free(resp);
    fh_client_free(c);
    fh_cookie_jar_free(jar);
    fh_peer_stop(p);
    fh_peer_stop(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_relative_redirect_on_same_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_303_turns_post_into_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_records_request_as_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_307_replays_method_and_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_credentials_do_not_cross_origins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_url_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_url_credentials_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirect_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirects_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_on_status_until_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_exhausted_returns_last_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_not_retried_unless_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_is_honoured_and_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retries_stop_at_total_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_error_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_errors_listed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_circuit_breaker_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_digest_challenge_answered_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cookies_follow_hops_but_not_hosts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_credentials_refused_when_set, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
