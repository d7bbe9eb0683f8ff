/*
 * test_proxy.c — requests through real proxies and Unix sockets to a real
 * nginx (support/nginx.h, support/proxies.h), every one on 127.0.0.1 with
 * its own configuration: tinyproxy (forward mode, CONNECT, Basic auth,
 * 407), microsocks (socks5 and socks5h, with and without a user name), an
 * HTTPS proxy (nginx's TLS front relaying to tinyproxy: TLS to the proxy,
 * then TLS to the origin inside it), a scripted proxy for refusals, and
 * nginx on Unix sockets; HTTP/1.1 and HTTP/2 (through CONNECT). What the
 * origin received is read back from nginx's /headers, so credentials are
 * asserted to reach the proxy only. NO_PROXY and the environment are
 * table-tested through fh_client_proxy_for(), and fh -x / --unix-socket run
 * as a child. Descriptors are counted around every test.
 *
 * Missing servers fail the group setup, they never skip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fasthttp/fasthttp.h"
#include "support/fixtures.h"
#include "support/nginx.h"
#include "support/proxies.h"

#define USER "alice"
#define PASS "s3cr3t"

static fh_nginx ngx;
static fh_proxyd tiny, tiny_auth, socks, socks_auth;
static char https_proxy[128], https_proxy_auth[128];

static int group_setup(void **state)
{
    (void)state;
    if (fh_tinyproxy_start(&tiny, NULL, NULL) < 0 ||
        fh_tinyproxy_start(&tiny_auth, USER, PASS) < 0 ||
        fh_microsocks_start(&socks, NULL, NULL) < 0 ||
        fh_microsocks_start(&socks_auth, USER, PASS) < 0)
        return -1;
    ngx.unix_sockets = 1;
    ngx.http2 = 1;
    ngx.tls_front_upstream = tiny_auth.port; /* https://127.0.0.1:front -> tinyproxy (auth) */
    if (fh_nginx_start(&ngx) < 0)
        return -1;
    snprintf(https_proxy, sizeof https_proxy, "https://127.0.0.1:%d", ngx.tls_front_port);
    snprintf(https_proxy_auth, sizeof https_proxy_auth, "https://%s:%s@127.0.0.1:%d", USER,
             PASS, ngx.tls_front_port);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    fh_nginx_stop(&ngx);
    fh_proxyd_stop(&tiny);
    fh_proxyd_stop(&tiny_auth);
    fh_proxyd_stop(&socks);
    fh_proxyd_stop(&socks_auth);
    return 0;
}

typedef struct tctx {
    int fds;
    fh_client *client;
    fh_test_result r;
} tctx;

static int setup(void **state)
{
    tctx *t = calloc(1, sizeof *t);
    t->fds = fh_test_count_fds();
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tctx *t = *state;
    fh_test_result_free(&t->r);
    fh_client_free(t->client);
    int before = t->fds;
    free(t);
    return fh_test_fds_unchanged(before);
}

/* A client trusting the test CA, the environment ignored, and generous
 * timeouts so a bug fails instead of hanging. */
static fh_client *client(tctx *t, const char *proxy)
{
    t->client = fh_client_new();
    assert_non_null(t->client);
    assert_int_equal(fh_client_set_trust_env(t->client, 0), FH_OK);
    assert_int_equal(fh_client_set_ca_file(t->client, ngx.ca_file), FH_OK);
    assert_int_equal(fh_client_set_timeout(t->client, FH_TIMEOUT_TOTAL, 20000), FH_OK);
    if (proxy)
        assert_int_equal(fh_client_set_proxy(t->client, "all", proxy), FH_OK);
    return t->client;
}

static const char *url(const char *base, const char *path)
{
    static char buf[4][256];
    static int i;
    i = (i + 1) % 4;
    return fh_nginx_url(buf[i], sizeof buf[i], base, path);
}

/* GET path on base; asserts the status and returns the body. */
static const char *get_ok(tctx *t, const char *base, const char *path, int status)
{
    fh_test_result_free(&t->r);
    memset(&t->r, 0, sizeof t->r);
    int rc = fh_test_get(t->client, url(base, path), &t->r);
    if (rc)
        fprintf(stderr, "GET %s%s: %s\n", base, path, t->r.msg);
    assert_int_equal(rc, FH_OK);
    assert_int_equal(t->r.status, status);
    return (const char *)t->r.body;
}

/* GET that must fail with FH_EPROXY and the given proxy status. */
static void get_refused(tctx *t, const char *target, int status)
{
    fh_request *req = fh_request_new("GET", target, NULL);
    assert_non_null(req);
    fh_test_result_free(&t->r);
    memset(&t->r, 0, sizeof t->r);
    assert_int_equal(fh_test_send(t->client, req, &t->r), FH_EPROXY);
    assert_int_equal(fh_request_proxy_status(req), status);
    assert_non_null(strstr(t->r.msg, "proxy"));
    fh_request_free(req);
}

/* ---- tinyproxy: forward mode and CONNECT ------------------------------------ */

static void test_forward_http(void **state)
{
    tctx *t = *state;
    client(t, tiny.url);
    const char *b = get_ok(t, ngx.http_url, "/headers", 200);
    assert_non_null(strstr(b, "tinyproxy")); /* Via: the proxy carried it */
    assert_non_null(strstr(b, "pa= "));
    get_ok(t, ngx.http_url, "/json", 200);
    assert_memory_equal(t->r.body, ngx.json, ngx.json_len);
    /* tinyproxy answers in HTTP/1.0 and closes: no reuse to assert here
     * (test_pool_keys_separate_identities does, through CONNECT tunnels). */
}

static void test_connect_https(void **state)
{
    tctx *t = *state;
    client(t, tiny.url);
    assert_int_equal(fh_client_set_http2(t->client, FH_HTTP2_OFF), FH_OK);
    const char *b = get_ok(t, ngx.https_url, "/headers", 200);
    assert_non_null(strstr(b, "via= ")); /* a tunnel: the proxy saw no request */
    get_ok(t, ngx.https_localhost_url, "/big.txt", 200);
    assert_int_equal(t->r.body_len, ngx.big_len);
    assert_int_equal(t->r.version, 11);
}

static void test_connect_http2(void **state)
{
    tctx *t = *state;
    client(t, tiny.url);
    assert_int_equal(fh_client_set_http2(t->client, FH_HTTP2_ON), FH_OK);
    get_ok(t, ngx.https_url, "/json", 200);
    assert_int_equal(t->r.version, 20);
    assert_memory_equal(t->r.body, ngx.json, ngx.json_len);
}

static void test_basic_auth_goes_to_the_proxy_only(void **state)
{
    tctx *t = *state;
    char u[160];
    snprintf(u, sizeof u, "%s", tiny_auth.url);
    client(t, u);
    const char *b = get_ok(t, ngx.https_url, "/headers", 200); /* CONNECT */
    assert_non_null(strstr(b, "pa= auth= "));
    b = get_ok(t, ngx.http_url, "/headers", 200); /* forward mode */
    assert_non_null(strstr(b, "tinyproxy"));
    assert_null(strstr(b, "Basic"));
}

static void test_407(void **state)
{
    tctx *t = *state;
    char u[160];
    snprintf(u, sizeof u, "http://127.0.0.1:%d", tiny_auth.port);
    client(t, u);
    get_refused(t, url(ngx.https_url, "/json"), 407); /* CONNECT */
    get_refused(t, url(ngx.http_url, "/json"), 407);  /* forward mode */
    fh_client_free(t->client);
    snprintf(u, sizeof u, "http://%s:wrong@127.0.0.1:%d", USER, tiny_auth.port);
    client(t, u);
    /* tinyproxy answers wrong credentials with 401 (not 407): whatever the
     * proxy says is what the caller gets. */
    get_refused(t, url(ngx.https_url, "/json"), 401);
    assert_non_null(strstr(t->r.msg, "answered 401 to CONNECT"));
}

/* ---- SOCKS5 -------------------------------------------------------------- */

static void test_socks5(void **state)
{
    tctx *t = *state;
    client(t, socks.url);
    get_ok(t, ngx.http_url, "/json", 200);
    assert_memory_equal(t->r.body, ngx.json, ngx.json_len);
    get_ok(t, ngx.https_localhost_url, "/json", 200); /* "localhost" resolved here */
    fh_client_free(t->client);
    char u[160];
    snprintf(u, sizeof u, "socks5h://127.0.0.1:%d", socks.port);
    client(t, u);
    assert_int_equal(fh_client_set_http2(t->client, FH_HTTP2_ON), FH_OK);
    get_ok(t, ngx.https_localhost_url, "/json", 200); /* the proxy resolves it */
    assert_int_equal(t->r.version, 20);
}

static void test_socks5_auth(void **state)
{
    tctx *t = *state;
    client(t, socks_auth.url);
    get_ok(t, ngx.https_url, "/json", 200);
    fh_client_free(t->client);
    char u[160];
    snprintf(u, sizeof u, "socks5://127.0.0.1:%d", socks_auth.port);
    client(t, u);
    get_refused(t, url(ngx.http_url, "/json"), 0);
    assert_non_null(strstr(t->r.msg, "requires authentication"));
    fh_client_free(t->client);
    snprintf(u, sizeof u, "socks5h://%s:nope@127.0.0.1:%d", USER, socks_auth.port);
    client(t, u);
    get_refused(t, url(ngx.http_url, "/json"), 0);
    assert_non_null(strstr(t->r.msg, "rejected the user name"));
}

/* ---- HTTPS proxy: TLS to the proxy, TLS to the origin inside it ------------- */

static void test_https_proxy(void **state)
{
    tctx *t = *state;
    client(t, https_proxy_auth);
    const char *b = get_ok(t, ngx.http_url, "/headers", 200); /* forward, inside TLS */
    assert_non_null(strstr(b, "tinyproxy"));
    assert_null(strstr(b, "Basic"));
    assert_int_equal(fh_client_set_http2(t->client, FH_HTTP2_OFF), FH_OK);
    get_ok(t, ngx.https_url, "/big.txt", 200); /* TLS in TLS, 1 MiB */
    assert_int_equal(t->r.body_len, ngx.big_len);
    assert_memory_equal(t->r.body, ngx.big, ngx.big_len);
    b = get_ok(t, ngx.https_url, "/headers", 200);
    assert_non_null(strstr(b, "pa= auth= "));
    assert_int_equal(fh_client_set_http2(t->client, FH_HTTP2_ON), FH_OK);
    get_ok(t, ngx.https_localhost_url, "/json", 200);
    assert_int_equal(t->r.version, 20);
    fh_client_free(t->client);
    client(t, https_proxy); /* no credentials: the proxy behind the front wants them */
    get_refused(t, url(ngx.https_url, "/json"), 407);
}

static void test_https_proxy_verified(void **state)
{
    tctx *t = *state;
    client(t, https_proxy_auth);
    fh_client_free(t->client);
    t->client = fh_client_new(); /* the system store does not know the test CA */
    fh_client_set_trust_env(t->client, 0);
    fh_client_set_proxy(t->client, NULL, https_proxy_auth);
    fh_test_result_free(&t->r);
    memset(&t->r, 0, sizeof t->r);
    assert_int_equal(fh_test_get(t->client, url(ngx.http_url, "/json"), &t->r), FH_ECERT);
    assert_non_null(strstr(t->r.msg, "proxy"));
}

/* ---- refusals ------------------------------------------------------------ */

static void test_refusals(void **state)
{
    tctx *t = *state;
    static const int codes[] = {403, 407, 502};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        fh_refuser r;
        assert_int_equal(fh_refuser_start(&r, codes[i]), 0);
        client(t, r.url);
        get_refused(t, url(ngx.https_url, "/json"), codes[i]);
        fh_client_free(t->client);
        t->client = NULL;
        fh_refuser_stop(&r);
    }
    fh_refuser r;
    assert_int_equal(fh_refuser_start(&r, -1), 0); /* closes without an answer */
    client(t, r.url);
    get_refused(t, url(ngx.https_url, "/json"), 0);
    fh_client_free(t->client);
    t->client = NULL;
    fh_refuser_stop(&r);
    assert_int_equal(fh_refuser_start(&r, 0), 0); /* 200, then the tunnel closes */
    client(t, r.url);
    fh_test_result_free(&t->r);
    memset(&t->r, 0, sizeof t->r);
    int rc = fh_test_get(t->client, url(ngx.https_url, "/json"), &t->r);
    assert_true(rc == FH_ETLS || rc == FH_ECLOSED);
    fh_refuser_stop(&r);
}

/* ---- Unix sockets ----------------------------------------------------------- */

static void test_unix_socket(void **state)
{
    tctx *t = *state;
    client(t, NULL);
    assert_int_equal(fh_client_set_unix_socket(t->client, ngx.unix_http), FH_OK);
    const char *b = get_ok(t, "http://example.test", "/headers", 200);
    assert_non_null(strstr(b, "host=example.test")); /* Host from the URL */
    fh_client_free(t->client);
    client(t, tiny.url); /* proxies never apply to Unix sockets */
    assert_int_equal(fh_client_set_unix_socket(t->client, ngx.unix_https), FH_OK);
    assert_int_equal(fh_client_set_http2(t->client, FH_HTTP2_ON), FH_OK);
    b = get_ok(t, "https://localhost", "/headers", 200); /* SNI and check: localhost */
    assert_non_null(strstr(b, "via= "));
    assert_int_equal(t->r.version, 20);
    /* Per request, on a client without a socket. */
    fh_client_free(t->client);
    client(t, NULL);
    fh_request *req = fh_request_new("GET", "http://localhost/json", NULL);
    assert_int_equal(fh_request_set_unix_socket(req, ngx.unix_http), FH_OK);
    fh_test_result_free(&t->r);
    memset(&t->r, 0, sizeof t->r);
    assert_int_equal(fh_test_send(t->client, req, &t->r), FH_OK);
    assert_int_equal(t->r.status, 200);
    fh_request_free(req);
    assert_int_equal(fh_client_set_unix_socket(t->client, "/nonexistent/x.sock"), FH_OK);
    fh_test_result_free(&t->r);
    memset(&t->r, 0, sizeof t->r);
    assert_int_equal(fh_test_get(t->client, "http://localhost/", &t->r), FH_ECONNECT);
    assert_non_null(strstr(t->r.msg, "Unix socket /nonexistent/x.sock"));
}

/* A one-response HTTP server on a Linux abstract socket. */
typedef struct abstract_srv {
    int lfd;
    pthread_t th;
    char name[64];
} abstract_srv;

static void *abstract_main(void *arg)
{
    abstract_srv *s = arg;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    char buf[2048];
    fh_test_recv_head(fd, buf, sizeof buf);
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\n"
                               "abstract";
    (void)send(fd, resp, sizeof resp - 1, MSG_NOSIGNAL);
    close(fd);
    return NULL;
}

static void test_abstract_unix_socket(void **state)
{
    tctx *t = *state;
    abstract_srv s = {0};
    snprintf(s.name, sizeof s.name, "@fasthttp-test-%d", (int)getpid());
    s.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {0};
    sa.sun_family = AF_UNIX;
    size_t n = strlen(s.name);
    memcpy(sa.sun_path + 1, s.name + 1, n - 1);
    assert_int_equal(bind(s.lfd, (struct sockaddr *)&sa,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)), 0);
    assert_int_equal(listen(s.lfd, 4), 0);
    pthread_create(&s.th, NULL, abstract_main, &s);
    client(t, NULL);
    assert_int_equal(fh_client_set_unix_socket(t->client, s.name), FH_OK);
    const char *b = get_ok(t, "http://abstract.test", "/", 200);
    assert_string_equal(b, "abstract");
    pthread_join(s.th, NULL);
    close(s.lfd);
}

/* ---- pool keys ---------------------------------------------------------------- */

static void test_pool_keys_separate_identities(void **state)
{
    tctx *t = *state;
    client(t, NULL);
    assert_int_equal(fh_client_set_http2(t->client, FH_HTTP2_OFF), FH_OK);
    const char *proxies[] = {tiny.url, tiny_auth.url, tiny.url, socks.url, tiny_auth.url, NULL};
    const uint64_t created[] = {1, 2, 2, 3, 3};
    for (int i = 0; proxies[i]; i++) {
        fh_request *req = fh_request_new("GET", url(ngx.https_url, "/json"), NULL);
        assert_int_equal(fh_request_set_proxy(req, proxies[i]), FH_OK);
        fh_test_result_free(&t->r);
        memset(&t->r, 0, sizeof t->r);
        assert_int_equal(fh_test_send(t->client, req, &t->r), FH_OK);
        fh_request_free(req);
        fh_pool_stats st;
        fh_client_pool_stats(t->client, &st);
        assert_int_equal(st.created, created[i]);
    }
    /* The same proxy with another password is another identity. */
    char other[160];
    snprintf(other, sizeof other, "http://%s:other@127.0.0.1:%d", USER, tiny_auth.port);
    char a[128], b[128];
    fh_client_set_proxy(t->client, "https", tiny_auth.url);
    assert_int_equal(fh_client_proxy_for(t->client, "https://h/", a, sizeof a), FH_OK);
    fh_client_set_proxy(t->client, "https", other);
    assert_int_equal(fh_client_proxy_for(t->client, "https://h/", b, sizeof b), FH_OK);
    assert_string_not_equal(a, b);
    assert_null(strstr(a, PASS));
    assert_null(strstr(b, "other"));
}

/* ---- NO_PROXY and the environment ------------------------------------------------ */

static const char *route(fh_client *c, const char *u)
{
    static char out[256];
    assert_int_equal(fh_client_proxy_for(c, u, out, sizeof out), FH_OK);
    return out;
}

static void test_no_proxy_rules(void **state)
{
    tctx *t = *state;
    client(t, "http://p:3128");
    static const struct {
        const char *list, *url;
        int direct;
    } rows[] = {
        {"example.com", "http://example.com/", 1},
        {"example.com", "http://www.example.com/", 1},
        {"example.com", "http://notexample.com/", 0},
        {".example.com", "http://example.com/", 1},
        {".example.com", "http://a.b.example.com/", 1},
        {"*.example.com", "http://a.example.com/", 1},
        {"EXAMPLE.com", "http://Example.COM/", 1},
        {"*", "http://anything/", 1},
        {"a, *", "http://anything/", 1},
        {"example.com:8080", "http://example.com:8080/", 1},
        {"example.com:8080", "http://example.com/", 0},
        {"10.0.0.1", "http://10.0.0.1/", 1},
        {"10.0.0.1", "http://10.0.0.2/", 0},
        {"10.0.0.0/8", "http://10.200.3.4:81/", 1},
        {"10.0.0.0/8", "http://11.0.0.1/", 0},
        {"192.168.1.0/24", "http://192.168.1.77/", 1},
        {"::1", "http://[::1]:8080/", 1},
        {"[::1]", "http://[::1]/", 1},
        {"[::1]:8080", "http://[::1]:8080/", 1},
        {"[::1]:8080", "http://[::1]:8081/", 0},
        {"fd00::/8", "http://[fd12::1]/", 1},
        {"fd00::/8", "http://[fe80::1]/", 0},
        {"127.0.0.1", "http://localhost/", 0}, /* names are not resolved to decide */
        {"localhost", "http://127.0.0.1/", 0},
        {"a.com b.com,c.com", "http://b.com/", 1},
        {"bad entry!, ok.com", "http://ok.com/", 1},
        {"", "http://example.com/", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_int_equal(fh_client_set_no_proxy(t->client, rows[i].list), FH_OK);
        const char *r = route(t->client, rows[i].url);
        if ((*r == 0) != rows[i].direct)
            fail_msg("NO_PROXY=%s, %s: got '%s'", rows[i].list, rows[i].url, r);
    }
}

static void test_environment(void **state)
{
    tctx *t = *state;
    setenv("HTTP_PROXY", "http://upper:1", 1); /* ignored: httpoxy */
    setenv("https_proxy", "http://lower-https:2", 1);
    setenv("HTTPS_PROXY", "http://upper-https:3", 1);
    setenv("ALL_PROXY", "socks5h://all:4", 1);
    setenv("NO_PROXY", "skip.test,10.0.0.0/8", 1);
    t->client = fh_client_new();
    assert_string_equal(route(t->client, "http://a.test/"), "socks5h://all:4");
    assert_string_equal(route(t->client, "https://a.test/"), "http://lower-https:2");
    assert_string_equal(route(t->client, "https://x.skip.test/"), "");
    assert_string_equal(route(t->client, "http://10.1.2.3/"), "");
    setenv("http_proxy", "http://lower:5", 1);
    assert_int_equal(fh_client_set_trust_env(t->client, 1), FH_OK); /* read again */
    assert_string_equal(route(t->client, "http://a.test/"), "http://lower:5");
    /* The caller's settings win over the environment. */
    assert_int_equal(fh_client_set_proxy(t->client, "http", ""), FH_OK);
    assert_string_equal(route(t->client, "http://a.test/"), "");
    assert_int_equal(fh_client_set_trust_env(t->client, 0), FH_OK);
    assert_string_equal(route(t->client, "https://a.test/"), "");
    /* A malformed variable fails requests rather than sending them direct. */
    setenv("https_proxy", "ftp://nope", 1);
    fh_client *c2 = fh_client_new();
    char out[64];
    assert_int_equal(fh_client_proxy_for(c2, "https://a.test/", out, sizeof out), FH_EURL);
    fh_client_free(c2);
    unsetenv("HTTP_PROXY");
    unsetenv("http_proxy");
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("ALL_PROXY");
    unsetenv("NO_PROXY");
    c2 = fh_client_new();
    assert_string_equal(route(c2, "https://a.test/"), "");
    fh_client_free(c2);
}

static void test_bad_settings(void **state)
{
    (void)state;
    fh_client *c = fh_client_new();
    char msg[128];
    assert_int_equal(fh_client_set_proxy(c, "gopher", "http://p"), FH_EINVAL);
    assert_int_equal(fh_client_set_proxy(c, "all", "ftp://p"), FH_EUNSUPPORTED);
    assert_int_equal(fh_proxy_check("http://p/path", msg, sizeof msg), FH_EURL);
    assert_non_null(strstr(msg, "path"));
    assert_int_equal(fh_proxy_check("p:3128", msg, sizeof msg), FH_OK);
    char big[200];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_int_equal(fh_client_set_unix_socket(c, big), FH_EINVAL);
    fh_client_free(c);
}

/* ---- fh -x, --noproxy, --unix-socket -------------------------------------------- */

static void run_fh(const char *const *args, int status, const char *want)
{
    char fh[512];
    const char *bin = getenv("FH_BINARY_DIR");
    snprintf(fh, sizeof fh, "%s/fh", bin ? bin : ".");
    char *argv[16] = {fh};
    int n = 1;
    for (; args[n - 1]; n++)
        argv[n] = (char *)args[n - 1];
    argv[n] = NULL;
    char *out = NULL;
    size_t len = 0;
    int rc = fh_test_run(argv, &out, &len);
    if (rc != status || (want && !strstr(out ? out : "", want)))
        fail_msg("fh %s ...: exit %d, output:\n%s", args[0], rc, out ? out : "");
    free(out);
}

static void test_fh_cli(void **state)
{
    (void)state;
    char ca[400];
    snprintf(ca, sizeof ca, "%s", ngx.ca_file);
    const char *h = url(ngx.http_url, "/headers"), *s = url(ngx.https_url, "/json");
    run_fh((const char *const[]){"-x", tiny.url, h, NULL}, 0, "tinyproxy");
    run_fh((const char *const[]){"--cacert", ca, "-x", tiny_auth.url, s, NULL}, 0, "\"");
    run_fh((const char *const[]){"--cacert", ca, "-x", socks_auth.url, s, NULL}, 0, "\"");
    run_fh((const char *const[]){"--cacert", ca, "-x", https_proxy_auth, "--http2", s, NULL}, 0,
           "\"");
    run_fh((const char *const[]){"-x", tiny.url, "--noproxy", "127.0.0.1", h, NULL}, 0, "via= ");
    run_fh((const char *const[]){"--unix-socket", ngx.unix_http, "http://sock.test/headers",
                                 NULL}, 0, "host=sock.test");
    run_fh((const char *const[]){"-x", "ftp://x", h, NULL}, 2, "scheme");
    char refuse[128];
    snprintf(refuse, sizeof refuse, "http://127.0.0.1:%d", tiny_auth.port);
    run_fh((const char *const[]){"--cacert", ca, "-x", refuse, s, NULL}, 1, "407");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_forward_http, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_https, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_http2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_basic_auth_goes_to_the_proxy_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_407, setup, teardown),
        cmocka_unit_test_setup_teardown(test_socks5, setup, teardown),
        cmocka_unit_test_setup_teardown(test_socks5_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_https_proxy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_https_proxy_verified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unix_socket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abstract_unix_socket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_keys_separate_identities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_proxy_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fh_cli, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
