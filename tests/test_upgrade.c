/*
 * test_upgrade.c — protocol upgrades (RFC 9110 §7.8, §15.2.2): a 101 to a
 * request that asked to upgrade hands its connection over with the bytes
 * already read past the head (fh_response_take_socket); the pool stops
 * counting it and never pools it; a 101 nobody asked for is a protocol
 * error. Against scripted peers and, through a real nginx that passes the
 * upgrade on to a scripted upstream, over HTTP and HTTPS.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "fasthttp/fasthttp.h"
#include "support/fixtures.h"
#include "support/nginx.h"
#include "support/peer.h"

#define SWITCH "HTTP/1.1 101 Switching Protocols\r\nUpgrade: fh-test\r\nConnection: Upgrade\r\n\r\n"

static int g_fds;

static int setup(void **state)
{
    (void)state;
    g_fds = fh_test_count_fds();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(fh_test_count_fds(), g_fds);
    return 0;
}

static fh_request *upgrade_request(const char *url)
{
    fh_request *r = fh_request_new("GET", url, NULL);
    assert_non_null(r);
    assert_int_equal(fh_request_add_header(r, "Connection", "Upgrade"), FH_OK);
    assert_int_equal(fh_request_add_header(r, "Upgrade", "fh-test"), FH_OK);
    return r;
}

/* Reads exactly n bytes from s, waiting on its fd (TLS may want either). */
static void read_exact(fh_socket *s, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        int want = 0;
        ssize_t r = fh_socket_read(s, buf + got, n - got, &want);
        if (r == FH_EAGAIN) {
            struct pollfd p = {fh_socket_fd(s), (short)(want == FH_WATCH_WRITE ? POLLOUT : POLLIN),
                               0};
            assert_true(poll(&p, 1, 5000) == 1);
            continue;
        }
        assert_true(r > 0);
        got += (size_t)r;
    }
}

static void write_all(fh_socket *s, const char *buf, size_t n)
{
    size_t put = 0;
    while (put < n) {
        int want = 0;
        ssize_t w = fh_socket_write(s, buf + put, n - put, &want);
        if (w == FH_EAGAIN) {
            struct pollfd p = {fh_socket_fd(s), (short)(want == FH_WATCH_READ ? POLLIN : POLLOUT),
                               0};
            assert_true(poll(&p, 1, 5000) == 1);
            continue;
        }
        assert_true(w > 0);
        put += (size_t)w;
    }
}

/* The bytes sent with the 101 head are the new protocol's; the socket then
 * carries both directions; the pool no longer counts the connection. */
static void take_over(int stream)
{
    static const fh_peer_step s[] = {
        PEER_READ, PEER_SEND(SWITCH "hello"), PEER_READ_RAW(4), PEER_SEND("world"),
        PEER_WAIT_CLOSE, PEER_END};
    fh_peer *p = fh_peer_start1(s);
    fh_client *c = fh_client_new();
    char url[128];
    fh_request *r = upgrade_request(fh_peer_url(p, "/up", url, sizeof url));
    fh_request_set_stream(r, stream);
    fh_response *resp = NULL;
    assert_int_equal(fh_client_send(c, r, &resp), FH_OK);
    assert_int_equal(fh_response_status(resp), 101);
    fh_pool_stats st;
    fh_socket *sock = NULL;
    assert_int_equal(fh_response_take_socket(resp, &sock), FH_OK);
    fh_socket *again = NULL;
    assert_int_equal(fh_response_take_socket(resp, &again), FH_ESTATE); /* taken once */
    fh_response_free(resp);
    fh_client_pool_stats(c, &st);
    assert_int_equal(st.open, 0); /* not the pool's any more */
    assert_int_equal(st.idle, 0);
    assert_int_equal(fh_socket_pending(sock), 5);
    assert_null(fh_socket_ssl(sock));
    char buf[8] = {0};
    read_exact(sock, buf, 5);
    assert_string_equal(buf, "hello");
    write_all(sock, "ping", 4);
    memset(buf, 0, sizeof buf);
    read_exact(sock, buf, 5);
    assert_string_equal(buf, "world");
    assert_int_equal(fh_peer_wait_requests(p, 2, 5000), 2);
    assert_string_equal(fh_peer_request(p, 1, NULL, NULL), "ping");
    fh_socket_free(sock);
    fh_request_free(r);
    fh_client_free(c);
    fh_peer_stop(p);
}

static void test_take_over_buffered(void **state)
{
    (void)state;
    take_over(0);
}

static void test_take_over_streamed(void **state)
{
    (void)state;
    take_over(1);
}

/* A 101 to a request that asked for no upgrade is a protocol error, and
 * the connection is not reused (the next request opens another). */
static void test_unasked_101_refused(void **state)
{
    (void)state;
    static const fh_peer_step bad[] = {PEER_READ, PEER_SEND(SWITCH "junk"), PEER_WAIT_CLOSE,
                                       PEER_END};
    static const fh_peer_step ok[] = {
        PEER_READ, PEER_SEND("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), PEER_WAIT_CLOSE,
        PEER_END};
    fh_peer *p = fh_peer_start((const fh_peer_step *const[]){bad, ok}, 2);
    fh_client *c = fh_client_new();
    char url[128];
    fh_test_result res;
    assert_int_equal(fh_test_get(c, fh_peer_url(p, "/", url, sizeof url), &res), FH_EPROTO);
    assert_non_null(strstr(res.msg, "101 Switching Protocols to a request that asked for no "
                                    "upgrade"));
    fh_test_result_free(&res);
    assert_int_equal(fh_test_get(c, url, &res), FH_OK);
    assert_int_equal(res.status, 200);
    fh_test_result_free(&res);
    assert_int_equal(fh_peer_connections(p), 2);
    fh_client_free(c);
    fh_peer_stop(p);
}

/* A 101 nobody takes is closed with its response, never pooled; a
 * response that is not a 101 has no socket to take. */
static void test_untaken_101_closed(void **state)
{
    (void)state;
    static const fh_peer_step up[] = {PEER_READ, PEER_SEND(SWITCH), PEER_WAIT_CLOSE, PEER_END};
    static const fh_peer_step ok[] = {
        PEER_READ, PEER_SEND("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        PEER_READ, PEER_SEND("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), PEER_WAIT_CLOSE,
        PEER_END};
    fh_peer *p = fh_peer_start((const fh_peer_step *const[]){up, ok}, 2);
    fh_client *c = fh_client_new();
    char url[128];
    fh_request *r = upgrade_request(fh_peer_url(p, "/", url, sizeof url));
    fh_response *resp = NULL;
    assert_int_equal(fh_client_send(c, r, &resp), FH_OK);
    assert_int_equal(fh_response_status(resp), 101);
    fh_response_free(resp); /* closes the connection */
    fh_request_free(r);
    fh_test_result res;
    assert_int_equal(fh_test_get(c, url, &res), FH_OK);
    assert_int_equal(fh_peer_connections(p), 2); /* a new connection, not the 101 one */
    fh_test_result_free(&res);
    fh_request *plain = fh_request_new("GET", url, NULL);
    assert_int_equal(fh_client_send(c, plain, &resp), FH_OK);
    fh_socket *sock = NULL;
    assert_int_equal(fh_response_take_socket(resp, &sock), FH_ESTATE);
    assert_null(sock);
    fh_response_free(resp);
    fh_request_free(plain);
    fh_client_free(c);
    fh_peer_stop(p);
}

/* Through a real server: nginx passes the upgrade on to a scripted upstream
 * and the two sides then talk through it, over HTTP and HTTPS. */
static void through_nginx(int tls)
{
    static const fh_peer_step s[] = {
        PEER_READ, PEER_SEND(SWITCH "hello"), PEER_READ_RAW(4), PEER_SEND("world"),
        PEER_WAIT_CLOSE, PEER_END};
    fh_peer *p = fh_peer_start1(s);
    static fh_nginx ngx;
    ngx.upstream_port = fh_peer_port(p);
    if (fh_nginx_start(&ngx) != 0)
        fail_msg("nginx: %s", ngx.error);
    fh_client *c = fh_client_new();
    fh_client_set_ca_file(c, ngx.ca_file);
    char url[160];
    fh_nginx_url(url, sizeof url, tls ? ngx.https_localhost_url : ngx.http_url, "/upgrade/x");
    fh_request *r = upgrade_request(url);
    fh_response *resp = NULL;
    int rc = fh_client_send(c, r, &resp);
    if (rc)
        fail_msg("%s", fh_request_error_message(r));
    assert_int_equal(fh_response_status(resp), 101);
    fh_socket *sock = NULL;
    assert_int_equal(fh_response_take_socket(resp, &sock), FH_OK);
    fh_response_free(resp);
    assert_true((fh_socket_ssl(sock) != NULL) == (tls != 0));
    char buf[8] = {0};
    read_exact(sock, buf, 5);
    assert_string_equal(buf, "hello");
    write_all(sock, "ping", 4);
    memset(buf, 0, sizeof buf);
    read_exact(sock, buf, 5);
    assert_string_equal(buf, "world");
    assert_int_equal(fh_peer_wait_requests(p, 2, 5000), 2);
    assert_string_equal(fh_peer_request(p, 1, NULL, NULL), "ping");
    const char *head = fh_peer_request(p, 0, NULL, NULL);
    assert_non_null(strstr(head, "GET /upgrade/x HTTP/1.1\r\n"));
    assert_non_null(strstr(head, "Upgrade: fh-test\r\n"));
    fh_socket_free(sock);
    fh_request_free(r);
    fh_client_free(c);
    fh_nginx_stop(&ngx);
    fh_peer_stop(p);
}

static void test_through_nginx_http(void **state)
{
    (void)state;
    through_nginx(0);
}

static void test_through_nginx_https(void **state)
{
    (void)state;
    through_nginx(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_take_over_buffered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_take_over_streamed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unasked_101_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_untaken_101_closed, setup, teardown),
        cmocka_unit_test(test_through_nginx_http),
        cmocka_unit_test(test_through_nginx_https),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
