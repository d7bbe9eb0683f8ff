/*
 * test_nginx.c — the blocking API against a real nginx (support/nginx.h)
 * over HTTP and HTTPS: methods, content decoding, keep-alive, threads,
 * certificate checks, client certificates and streaming. Every test checks
 * that it leaves no file descriptor open behind it.
 *
 * A missing nginx fails the suite (group setup), it never skips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "fasthttp/fasthttp.h"
#include "support/fixtures.h"
#include "support/nginx.h"

static fh_nginx ngx;

typedef struct tctx {
    int fds;
    fh_client *client;
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
    fh_client_free(t->client);
    int before = t->fds;
    free(t);
    return fh_test_fds_unchanged(before);
}

/* A client trusting the test CA, with generous timeouts so a bug fails
 * instead of hanging. */
static fh_client *client(tctx *t)
{
    t->client = fh_client_new();
    assert_non_null(t->client);
    assert_int_equal(fh_client_set_ca_file(t->client, ngx.ca_file), FH_OK);
    fh_client_set_timeout(t->client, FH_TIMEOUT_CONNECT, 10000);
    fh_client_set_timeout(t->client, FH_TIMEOUT_READ, 10000);
    return t->client;
}

static const char *u(const char *base, const char *path)
{
    static char buf[256];
    return fh_nginx_url(buf, sizeof buf, base, path);
}

/* GET base+path must answer 200 with exactly want/want_len. */
static void get_expect(fh_client *c, const char *base, const char *path, const uint8_t *want,
                       size_t want_len)
{
    fh_test_result r;
    int err = fh_test_get(c, u(base, path), &r);
    if (err)
        fprintf(stderr, "GET %s%s: %s (%s)\n", base, path, fh_strerror(err), r.msg);
    assert_int_equal(err, FH_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, want_len);
    assert_memory_equal(r.body, want, want_len);
    fh_test_result_free(&r);
}

/* ---- basics ---------------------------------------------------------- */

static void test_get_json_http(void **state)
{
    fh_client *c = client(*state);
    fh_test_result r;
    assert_int_equal(fh_test_get(c, u(ngx.http_url, "/json"), &r), FH_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.version, 11);
    assert_string_equal(r.content_type, "application/json");
    assert_int_equal(r.body_len, ngx.json_len);
    assert_memory_equal(r.body, ngx.json, ngx.json_len);
    fh_test_result_free(&r);
}

static void test_get_json_https(void **state)
{
    fh_client *c = client(*state);
    get_expect(c, ngx.https_url, "/json", ngx.json, ngx.json_len);
    get_expect(c, ngx.https_localhost_url, "/json", ngx.json, ngx.json_len);
}

static void test_head(void **state)
{
    fh_client *c = client(*state);
    fh_test_result r;
    assert_int_equal(fh_test_fetch(c, "HEAD", u(ngx.http_url, "/big.txt"), NULL, 0, NULL, &r),
                     FH_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    fh_test_result_free(&r);
    get_expect(c, ngx.http_url, "/json", ngx.json, ngx.json_len);
    fh_pool_stats st;
    fh_client_pool_stats(c, &st);
    assert_int_equal((int)st.created, 1); /* no body after HEAD: reused */
}

static void test_post(void **state)
{
    fh_client *c = client(*state);
    fh_test_result r;
    static const char *const hdrs[] = {"Content-Type: text/plain", NULL};
    assert_int_equal(fh_test_fetch(c, "POST", u(ngx.http_url, "/post"), "hello", 5, hdrs, &r),
                     FH_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal((char *)r.body, "posted\n");
    fh_test_result_free(&r);
    const char *form = "a=1&b=two&c=%20";
    assert_int_equal(
        fh_test_fetch(c, "POST", u(ngx.http_url, "/echo"), form, strlen(form), NULL, &r), FH_OK);
    assert_string_equal((char *)r.body, form); /* the body arrived intact */
    fh_test_result_free(&r);
    /* a big body over HTTPS, then the connection must still be in sync */
    assert_int_equal(fh_test_fetch(c, "POST", u(ngx.https_url, "/post"), ngx.big, ngx.big_len,
                                   NULL, &r),
                     FH_OK);
    assert_string_equal((char *)r.body, "posted\n");
    fh_test_result_free(&r);
    get_expect(c, ngx.https_url, "/json", ngx.json, ngx.json_len);
}

static void test_status_codes(void **state)
{
    fh_client *c = client(*state);
    static const int codes[] = {404, 500, 503, 201};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char path[32], body[32];
        snprintf(path, sizeof path, "/status/%d", codes[i]);
        snprintf(body, sizeof body, "status %d\n", codes[i]);
        fh_test_result r;
        assert_int_equal(fh_test_get(c, u(ngx.http_url, path), &r), FH_OK);
        assert_int_equal(r.status, codes[i]);
        assert_string_equal((char *)r.body, body);
        fh_test_result_free(&r);
    }
    fh_test_result r;
    assert_int_equal(fh_test_get(c, u(ngx.http_url, "/status/204"), &r), FH_OK);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.body_len, 0);
    fh_test_result_free(&r);
}

/* ---- content coding ------------------------------------------------- */

/* Inflates a gzip member; returns a malloc'ed buffer. */
static uint8_t *gunzip(const uint8_t *in, size_t len, size_t *out_len)
{
    size_t cap = 4 * 1024 * 1024;
    uint8_t *out = malloc(cap);
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 31), Z_OK);
    z.next_in = (uint8_t *)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = cap - z.avail_out;
    inflateEnd(&z);
    return out;
}

static void test_gzip(void **state)
{
    fh_client *c = client(*state);
    get_expect(c, ngx.http_url, "/big.txt", ngx.big, ngx.big_len);
    /* decoding off: the bytes on the wire are gzip and inflate to the file */
    fh_request *req = fh_request_new("GET", u(ngx.http_url, "/big.txt"), NULL);
    fh_request_set_decode(req, 0);
    fh_request_add_header(req, "Accept-Encoding", "gzip");
    fh_test_result r;
    assert_int_equal(fh_test_send(c, req, &r), FH_OK);
    assert_string_equal(r.content_encoding, "gzip");
    assert_true(r.body_len > 2 && r.body[0] == 0x1f && r.body[1] == 0x8b);
    assert_true(r.body_len < ngx.big_len);
    size_t n;
    uint8_t *plain = gunzip(r.body, r.body_len, &n);
    assert_int_equal(n, ngx.big_len);
    assert_memory_equal(plain, ngx.big, n);
    free(plain);
    fh_test_result_free(&r);
    fh_request_free(req);
}

/* The raw bytes of a pre-compressed file equal the file; decoded, the JSON. */
static void check_precompressed(fh_client *c, const char *file, const char *coding)
{
    char path[512], p[64];
    snprintf(path, sizeof path, "%s/www/%s", ngx.dir, file);
    snprintf(p, sizeof p, "/%s", file);
    uint8_t *disk;
    size_t disk_len;
    assert_int_equal(fh_test_read_file(path, &disk, &disk_len), 0);
    get_expect(c, ngx.http_url, p, ngx.cjson, ngx.cjson_len);
    fh_request *req = fh_request_new("GET", u(ngx.https_url, p), NULL);
    fh_request_set_decode(req, 0);
    fh_test_result r;
    assert_int_equal(fh_test_send(c, req, &r), FH_OK);
    assert_string_equal(r.content_encoding, coding);
    assert_int_equal(r.body_len, disk_len);
    assert_memory_equal(r.body, disk, disk_len);
    fh_test_result_free(&r);
    fh_request_free(req);
    free(disk);
}

static void test_brotli(void **state)
{
    check_precompressed(client(*state), "br.json", "br");
}

static void test_zstd(void **state)
{
    check_precompressed(client(*state), "zstd.json", "zstd");
}

/* Caller storage (fh_body_storage) over HTTP and HTTPS against nginx: a
 * 1 MiB identity body lands in it, exactly; a compressed body, a body
 * under min_size and a refusing allocator use the library's buffer. */
static void test_body_storage(void **state)
{
    fh_client *c = client(*state);
    const char *bases[] = {ngx.http_url, ngx.https_url};
    for (int i = 0; i < 2; i++) {
        fh_test_storage st;
        fh_test_storage_init(&st, 4096);
        fh_request *req = fh_request_new("GET", u(bases[i], "/big.txt"), NULL);
        fh_request_add_header(req, "Accept-Encoding", "identity");
        fh_request_set_body_storage(req, &st.api);
        fh_response *resp = NULL;
        assert_int_equal(fh_client_send(c, req, &resp), FH_OK);
        assert_int_equal(st.allocs, 1);
        assert_int_equal(st.last_size, ngx.big_len);
        size_t len = 0;
        uint8_t *h = fh_response_take_body_storage(resp, &len);
        assert_non_null(h);
        assert_int_equal(len, ngx.big_len);
        assert_memory_equal(h, ngx.big, len);
        free(h);
        fh_response_free(resp);
        fh_request_free(req);

        fh_test_result r;
        const char *paths[] = {"/big.txt", "/json", "/big.txt"}; /* gzip, small, refused */
        for (int k = 0; k < 3; k++) {
            fh_test_storage_init(&st, 4096);
            st.refuse = k == 2;
            req = fh_request_new("GET", u(bases[i], paths[k]), NULL);
            if (k == 2)
                fh_request_add_header(req, "Accept-Encoding", "identity");
            fh_request_set_body_storage(req, &st.api);
            assert_int_equal(fh_test_send(c, req, &r), FH_OK);
            assert_int_equal(st.allocs, 0);
            assert_int_equal(st.releases, 0);
            size_t want = k == 1 ? ngx.json_len : ngx.big_len;
            assert_int_equal(r.body_len, want);
            assert_memory_equal(r.body, k == 1 ? ngx.json : ngx.big, want);
            fh_test_result_free(&r);
            fh_request_free(req);
        }
    }
}

static void test_stream_big_in_pieces(void **state)
{
    fh_client *c = client(*state);
    const char *bases[] = {ngx.http_url, ngx.https_url};
    for (int i = 0; i < 2; i++) {
        fh_request *req = fh_request_new("GET", u(bases[i], "/big.txt"), NULL);
        fh_request_set_stream(req, 1);
        fh_response *resp = NULL;
        assert_int_equal(fh_client_send(c, req, &resp), FH_OK);
        assert_int_equal(fh_response_status(resp), 200);
        uint8_t *all;
        size_t len;
        assert_int_equal(fh_test_read_all(resp, 4096, &all, &len), FH_OK);
        assert_int_equal(len, ngx.big_len);
        assert_memory_equal(all, ngx.big, len);
        free(all);
        fh_response_free(resp);
        fh_request_free(req);
    }
}

/* ---- connections ------------------------------------------------------ */

static void test_keep_alive_reuse(void **state)
{
    fh_client *c = client(*state);
    for (int i = 0; i < 10; i++)
        get_expect(c, ngx.https_url, "/json", ngx.json, ngx.json_len);
    fh_pool_stats st;
    fh_client_pool_stats(c, &st);
    assert_int_equal((int)st.created, 1);
    assert_int_equal((int)st.reused, 9);
    assert_int_equal(st.open, 1);
    assert_int_equal(st.idle, 1);
}

/* fh_response_conn_info: the peer, TLS and the connection's number, the
 * same on a reused connection; nothing TLS on plain HTTP; a new number and
 * tls_resumed on the next connection; the sized call refuses a size
 * smaller than the first release's struct. What a response said, copied
 * out (its strings live only as long as the response). */
typedef struct seen {
    uint64_t id;
    char ip[64], subject[256];
    int port, tls, cipher, resumed, reused;
} seen;

static seen conn_info_of(fh_client *c, const char *url)
{
    fh_request *req = fh_request_new("GET", url, NULL);
    fh_response *resp = NULL;
    assert_int_equal(fh_client_send(c, req, &resp), FH_OK);
    fh_conn_info ci, small;
    assert_int_equal(fh_response_conn_info(resp, &ci), FH_OK);
    assert_int_equal(fh_response_conn_info_sized(resp, &small, sizeof(uint64_t)), FH_EINVAL);
    seen s = {.id = ci.id, .port = ci.remote_port, .tls = ci.tls_version != NULL,
              .cipher = ci.cipher != NULL, .resumed = ci.tls_resumed,
              .reused = fh_response_timings(resp)->reused};
    snprintf(s.ip, sizeof s.ip, "%s", ci.remote_ip ? ci.remote_ip : "");
    snprintf(s.subject, sizeof s.subject, "%s", ci.peer_subject ? ci.peer_subject : "");
    fh_response_free(resp);
    fh_request_free(req);
    return s;
}

static void test_conn_info(void **state)
{
    fh_client *c = client(*state);
    assert_int_equal(fh_client_set_pool_limits(c, 10, 10, 0, 60000), FH_OK);
    seen a = conn_info_of(c, u(ngx.http_url, "/json"));
    assert_int_equal(a.id, 1);
    assert_string_equal(a.ip, "127.0.0.1");
    assert_int_equal(a.port, ngx.http_port);
    assert_false(a.tls || a.cipher || a.subject[0]);
    /* No idle connections kept: each HTTPS request opens one. */
    a = conn_info_of(c, u(ngx.https_url, "/json"));
    assert_int_equal(a.reused, 0);
    assert_int_equal(a.id, 2);
    assert_true(a.tls && a.cipher);
    assert_non_null(strstr(a.subject, "CN="));
    assert_int_equal(a.resumed, 0);
    seen b = conn_info_of(c, u(ngx.https_url, "/json"));
    assert_int_equal(b.id, 3);
    assert_int_equal(b.resumed, 1);
    /* Kept idle: the same connection, the same number. */
    assert_int_equal(fh_client_set_pool_limits(c, 10, 10, 10, 60000), FH_OK);
    a = conn_info_of(c, u(ngx.https_url, "/json"));
    b = conn_info_of(c, u(ngx.https_url, "/json"));
    assert_int_equal(b.reused, 1);
    assert_int_equal(a.id, b.id);
    fh_conn_info none;
    assert_int_equal(fh_response_conn_info(NULL, &none), FH_EINVAL);
    assert_int_equal(none.id, 0);
}

/* A new connection to an origin the client has met resumes a session
 * (RFC 8446 §2.2) instead of a full handshake; with no idle connection
 * kept, every request opens one. Another client starts from nothing. */
static void test_tls_session_resumption(void **state)
{
    fh_client *c = client(*state);
    assert_int_equal(fh_client_set_pool_limits(c, 10, 10, 0, 60000), FH_OK);
    for (int i = 0; i < 6; i++)
        get_expect(c, ngx.https_url, "/json", ngx.json, ngx.json_len);
    fh_pool_stats st;
    fh_client_pool_stats(c, &st);
    assert_int_equal((int)st.created, 6);
    assert_int_equal((int)st.tls_resumed, 5); /* all but the first */
    /* HTTP/2 connections resume the same way (the session is the origin's). */
    fh_client_set_http2(c, FH_HTTP2_ON);
    get_expect(c, ngx.https_url, "/json", ngx.json, ngx.json_len);
    fh_client_pool_stats(c, &st);
    assert_int_equal((int)st.tls_resumed, 6);

    fh_client *other = fh_client_new();
    assert_int_equal(fh_client_set_ca_file(other, ngx.ca_file), FH_OK);
    get_expect(other, ngx.https_url, "/json", ngx.json, ngx.json_len);
    fh_client_pool_stats(other, &st);
    assert_int_equal((int)st.tls_resumed, 0);
    fh_client_free(other);
}

#define THREADS 8
#define PER_THREAD 50

typedef struct worker {
    fh_client *c;
    const char *base;
    int ok;
    char err[768];
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    char url[256];
    fh_nginx_url(url, sizeof url, w->base, "/json");
    for (int i = 0; i < PER_THREAD; i++) {
        fh_test_result r;
        int err = fh_test_get(w->c, url, &r);
        if (err == 0 && r.status == 200 && r.body_len == ngx.json_len &&
            memcmp(r.body, ngx.json, r.body_len) == 0)
            w->ok++;
        else if (!w->err[0])
            snprintf(w->err, sizeof w->err, "%s: status %d, %zu bytes: %s", fh_strerror(err),
                     r.status, r.body_len, r.msg);
        fh_test_result_free(&r);
    }
    return NULL;
}

static void run_threads(fh_client *c, const char *base)
{
    pthread_t th[THREADS];
    worker w[THREADS];
    fh_pool_stats st0, st;
    fh_client_pool_stats(c, &st0);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){c, base, 0, ""};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        if (w[i].err[0])
            fprintf(stderr, "thread %d: %s\n", i, w[i].err);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(w[i].ok, PER_THREAD);
    fh_client_pool_stats(c, &st);
    assert_true(st.created - st0.created <= 10); /* the default per-host limit */
    assert_int_equal(st.waiting, 0);
}

static void test_many_threads(void **state)
{
    fh_client *c = client(*state);
    run_threads(c, ngx.http_url);
    run_threads(c, ngx.https_url);
}

/* ---- TLS ---------------------------------------------------------------- */

static void test_https_system_store_rejects(void **state)
{
    tctx *t = *state;
    t->client = fh_client_new(); /* default: the system store only */
    fh_test_result r;
    assert_int_equal(fh_test_get(t->client, u(ngx.https_url, "/json"), &r), FH_ECERT);
    assert_true(r.msg[0] != '\0');
    fh_test_result_free(&r);
}

static void test_https_verify_off(void **state)
{
    tctx *t = *state;
    t->client = fh_client_new();
    assert_int_equal(fh_client_set_verify(t->client, 0), FH_OK);
    get_expect(t->client, ngx.https_url, "/json", ngx.json, ngx.json_len);
}

/* Connects every host name to nginx's HTTPS port, so a name the
 * certificate does not list can be tried without DNS. */
static int connect_to_nginx(void *ud, const char *host, int port)
{
    (void)ud;
    (void)host;
    (void)port;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)ngx.https_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        if (fd >= 0)
            close(fd);
        return FH_ECONNECT;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void test_https_wrong_host_name(void **state)
{
    fh_client *c = client(*state);
    fh_client_set_connect_hook(c, connect_to_nginx, NULL);
    char url[128];
    snprintf(url, sizeof url, "https://wrong.test:%d/json", ngx.https_port);
    fh_test_result r;
    assert_int_equal(fh_test_get(c, url, &r), FH_ECERT);
    fh_test_result_free(&r);
    /* the same route with a listed name works: only the name was wrong */
    get_expect(c, ngx.https_localhost_url, "/json", ngx.json, ngx.json_len);
}

static void test_client_certificate(void **state)
{
    tctx *t = *state;
    fh_client *c = client(t);
    fh_test_result r;
    assert_int_equal(fh_test_get(c, u(ngx.https_url, "/mtls"), &r), FH_OK);
    assert_int_equal(r.status, 403);
    fh_test_result_free(&r);
    fh_client_free(c);
    c = client(t);
    assert_int_equal(fh_client_set_client_cert(c, ngx.client_cert, ngx.client_key), FH_OK);
    assert_int_equal(fh_test_get(c, u(ngx.https_url, "/mtls"), &r), FH_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal((char *)r.body, "mtls ok\n");
    fh_test_result_free(&r);
}

/* ---- group -------------------------------------------------------------- */

static int group_setup(void **state)
{
    if (fh_nginx_start(&ngx) != 0) {
        fprintf(stderr, "nginx fixture failed: %s\n", ngx.error);
        return -1; /* a missing server fails the suite, never skips it */
    }
    /* Warm-up over HTTP and HTTPS: process-wide lazy state (resolver, TLS
     * library) is created here, not counted as a leak of the first test. */
    tctx t = {0};
    fh_test_result r;
    int err = fh_test_get(client(&t), u(ngx.http_url, "/json"), &r);
    fh_test_result_free(&r);
    if (err == 0)
        err = fh_test_get(t.client, u(ngx.https_url, "/json"), &r);
    if (err)
        fprintf(stderr, "warm-up request failed: %s\n", r.msg);
    fh_test_result_free(&r);
    fh_client_free(t.client);
    return err == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    fh_nginx_stop(&ngx);
    return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_get_json_http),
        T(test_get_json_https),
        T(test_conn_info),
        T(test_head),
        T(test_post),
        T(test_status_codes),
        T(test_gzip),
        T(test_brotli),
        T(test_zstd),
        T(test_stream_big_in_pieces),
        T(test_body_storage),
        T(test_keep_alive_reuse),
        T(test_tls_session_resumption),
        T(test_many_threads),
        T(test_https_system_store_rejects),
        T(test_https_verify_off),
        T(test_https_wrong_host_name),
        T(test_client_certificate),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
