/*
 * test_tls.c — the OpenSSL glue against an in-process TLS server over a
 * socketpair. The test makes its own CA and server certificates (SAN
 * DNS:localhost, IP:127.0.0.1; and ones whose names are only in the CN),
 * so no network is needed; the PEM files live in a temporary directory.
 * Also the checks of CA and client certificate files (fh_ca_check,
 * fh_cert_check) and the client setters that use them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <errno.h>
#include <sys/stat.h>

#include "fasthttp/fasthttp.h"
#include "internal.h"
#include "tls.h"

/* ---- certificates ------------------------------------------------------- */

static struct {
    char dir[64];
    char ca[128];       /* CA certificate (PEM): the client's ca_file */
    char cert[128];     /* a client certificate ... */
    char key[128];      /* ... its key */
    char badkey[128];   /* a key that does not match cert */
    char combined[128]; /* cert and key in one file */
    char enckey[128];   /* the client key, encrypted with a pass phrase */
    char text[128];     /* a file that is not PEM */
    char hashdir[128];  /* a directory with the CA under its subject hash ... */
    char hashed[160];   /* ... in this file */
    SSL_CTX *srv;       /* server context, selects http/1.1 */
    SSL_CTX *srv_noalpn;
    SSL_CTX *srv_cn_only; /* CN=localhost, no subjectAltName */
    SSL_CTX *srv_ip_dns;  /* CN=127.0.0.1, SAN DNS:127.0.0.1 (no iPAddress SAN) */
} fx;

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

/* issuer == NULL: self-signed CA. Otherwise a leaf with the given SANs. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey,
                       const char *san)
{
    static long serial = 1;
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    if (!issuer) {
        add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_ext(x, x, NID_subject_key_identifier, "hash");
    } else {
        add_ext(x, issuer, NID_basic_constraints, "CA:FALSE");
        add_ext(x, issuer, NID_ext_key_usage, "serverAuth,clientAuth");
        if (san)
            add_ext(x, issuer, NID_subject_alt_name, san);
    }
    assert_true(X509_sign(x, ikey ? ikey : key, EVP_sha256()) > 0);
    return x;
}

static void write_pem(const char *path, X509 *x, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    if (x)
        assert_int_equal(PEM_write_X509(f, x), 1);
    if (key)
        assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int alpn_select(SSL *s, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    static const unsigned char mine[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    (void)s;
    (void)arg;
    if (SSL_select_next_proto((unsigned char **)out, outlen, mine, sizeof mine, in, inlen) ==
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_OK;
    return SSL_TLSEXT_ERR_NOACK;
}

static SSL_CTX *server_ctx(X509 *cert, EVP_PKEY *key, int alpn)
{
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    assert_non_null(c);
    assert_int_equal(SSL_CTX_use_certificate(c, cert), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(c, key), 1);
    if (alpn)
        SSL_CTX_set_alpn_select_cb(c, alpn_select, NULL);
    return c;
}

static int setup(void **state)
{
    (void)state;
    strcpy(fx.dir, "/tmp/fh_tls_XXXXXX");
    assert_non_null(mkdtemp(fx.dir));
    snprintf(fx.ca, sizeof fx.ca, "%s/ca.pem", fx.dir);
    snprintf(fx.cert, sizeof fx.cert, "%s/client.pem", fx.dir);
    snprintf(fx.key, sizeof fx.key, "%s/client.key", fx.dir);
    snprintf(fx.badkey, sizeof fx.badkey, "%s/other.key", fx.dir);
    snprintf(fx.combined, sizeof fx.combined, "%s/combined.pem", fx.dir);
    snprintf(fx.enckey, sizeof fx.enckey, "%s/encrypted.key", fx.dir);
    snprintf(fx.text, sizeof fx.text, "%s/notes.txt", fx.dir);
    snprintf(fx.hashdir, sizeof fx.hashdir, "%s/hashed", fx.dir);

    EVP_PKEY *cakey = EVP_EC_gen("P-256"), *skey = EVP_EC_gen("P-256");
    EVP_PKEY *ckey = EVP_EC_gen("P-256"), *okey = EVP_EC_gen("P-256");
    assert_true(cakey && skey && ckey && okey);
    X509 *ca = make_cert(cakey, "fasthttp test CA", NULL, NULL, NULL);
    X509 *srv = make_cert(skey, "localhost", ca, cakey, "DNS:localhost,IP:127.0.0.1");
    X509 *cli = make_cert(ckey, "client", ca, cakey, NULL);
    X509 *cn_only = make_cert(skey, "localhost", ca, cakey, NULL);
    X509 *ip_dns = make_cert(skey, "127.0.0.1", ca, cakey, "DNS:127.0.0.1");
    write_pem(fx.ca, ca, NULL);
    write_pem(fx.cert, cli, NULL);
    write_pem(fx.key, NULL, ckey);
    write_pem(fx.badkey, NULL, okey);
    write_pem(fx.combined, cli, ckey);
    FILE *f = fopen(fx.enckey, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_PrivateKey(f, ckey, EVP_aes_128_cbc(),
                                          (const unsigned char *)"secret", 6, NULL, NULL), 1);
    fclose(f);
    write_text(fx.text, "not a certificate\n");
    assert_int_equal(mkdir(fx.hashdir, 0700), 0);
    snprintf(fx.hashed, sizeof fx.hashed, "%s/%08lx.0", fx.hashdir, X509_subject_name_hash(ca));
    write_pem(fx.hashed, ca, NULL);
    fx.srv = server_ctx(srv, skey, 1);
    fx.srv_noalpn = server_ctx(srv, skey, 0);
    fx.srv_cn_only = server_ctx(cn_only, skey, 1);
    fx.srv_ip_dns = server_ctx(ip_dns, skey, 1);
    X509_free(ca);
    X509_free(srv);
    X509_free(cli);
    X509_free(cn_only);
    X509_free(ip_dns);
    EVP_PKEY_free(cakey);
    EVP_PKEY_free(skey);
    EVP_PKEY_free(ckey);
    EVP_PKEY_free(okey);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    SSL_CTX_free(fx.srv);
    SSL_CTX_free(fx.srv_noalpn);
    SSL_CTX_free(fx.srv_cn_only);
    SSL_CTX_free(fx.srv_ip_dns);
    const char *files[] = {fx.ca,      fx.cert,    fx.key,  fx.badkey, fx.combined,
                           fx.enckey, fx.text, fx.hashed};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(files[i]);
    rmdir(fx.hashdir);
    rmdir(fx.dir);
    return 0;
}

/* ---- the test server ---------------------------------------------------- */

enum srv_mode {
    SRV_ECHO_CLOSE_NOTIFY, /* handshake, echo one read, close_notify, close */
    SRV_ECHO_ABRUPT,       /* same, but close TCP without close_notify */
    SRV_HANDSHAKE_CLOSE,   /* handshake, then close at once */
    SRV_NOT_TLS,           /* answer in plain text */
    SRV_CLOSE              /* close before any byte */
};

typedef struct server {
    SSL_CTX *ctx;
    int fd;
    enum srv_mode mode;
    int handshake_ok;
    pthread_t thread;
} server;

static void server_session(server *s, SSL *ssl)
{
    char buf[256];
    if (s->mode == SRV_HANDSHAKE_CLOSE)
        return;
    int n = SSL_read(ssl, buf, sizeof buf);
    if (n > 0)
        SSL_write(ssl, buf, n);
    if (s->mode == SRV_ECHO_CLOSE_NOTIFY)
        SSL_shutdown(ssl);
}

static void *server_main(void *arg)
{
    server *s = arg;
    /* This side uses OpenSSL's stock socket BIO, which can raise SIGPIPE;
     * block it on this thread only, so the client side (the code under
     * test) still dies if it ever raised one. */
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, NULL);
    if (s->mode == SRV_NOT_TLS) {
        char buf[512];
        (void)!read(s->fd, buf, sizeof buf);
        static const char resp[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        (void)!write(s->fd, resp, sizeof resp - 1);
    } else if (s->mode != SRV_CLOSE) {
        SSL *ssl = SSL_new(s->ctx);
        SSL_set_fd(ssl, s->fd);
        s->handshake_ok = SSL_accept(ssl) == 1;
        if (s->handshake_ok)
            server_session(s, ssl);
        SSL_free(ssl);
    }
    close(s->fd);
    ERR_clear_error();
    return NULL;
}

/* Starts a server on one end of a socketpair; returns the client end,
 * non-blocking as the engine's sockets are. */
static int server_start(server *s, SSL_CTX *ctx, enum srv_mode mode)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
    s->ctx = ctx;
    s->fd = sv[1];
    s->mode = mode;
    s->handshake_ok = 0;
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
    return sv[0];
}

/* ---- client helpers ----------------------------------------------------- */

static void wait_fd(int fd, int want)
{
    struct pollfd p = {fd, want == FH_WATCH_WRITE ? POLLOUT : POLLIN, 0};
    assert_int_equal(poll(&p, 1, 5000), 1);
}

static SSL_CTX *client_ctx(int verify, const char *ca)
{
    fh__tls_config cfg = {.verify = verify, .ca_file = (char *)ca};
    SSL_CTX *ctx = NULL;
    char err[256] = "";
    assert_int_equal(fh__tls_ctx_new(&ctx, &cfg, err, sizeof err), FH_OK);
    return ctx;
}

/* Runs the handshake to completion the way the engine does. */
static int handshake(SSL *ssl, int fd, char *err, size_t errlen)
{
    for (;;) {
        int want = 0;
        int rc = fh__tls_handshake(ssl, &want, err, errlen);
        if (rc != FH_EAGAIN)
            return rc;
        assert_true(want == FH_WATCH_READ || want == FH_WATCH_WRITE);
        wait_fd(fd, want);
    }
}

static ssize_t read_some(SSL *ssl, int fd, void *buf, size_t len, char *err, size_t errlen)
{
    for (;;) {
        int want = 0;
        ssize_t n = fh__tls_read(ssl, buf, len, &want, err, errlen);
        if (n != FH_EAGAIN)
            return n;
        wait_fd(fd, want);
    }
}

static ssize_t write_some(SSL *ssl, int fd, const void *buf, size_t len, char *err,
                          size_t errlen)
{
    for (;;) {
        int want = 0;
        ssize_t n = fh__tls_write(ssl, buf, len, &want, err, errlen);
        if (n != FH_EAGAIN)
            return n;
        wait_fd(fd, want);
    }
}

/* One connection: handshake against a server in mode; returns the result
 * and, when it succeeded, leaves the SSL in *out (else frees it). */
typedef struct conn {
    server srv;
    int fd;
    SSL *ssl;
    char err[256];
} conn;

static int conn_open(conn *c, SSL_CTX *cctx, SSL_CTX *sctx, enum srv_mode mode,
                     const char *host, int is_ip, int verify)
{
    memset(c, 0, sizeof *c);
    c->fd = server_start(&c->srv, sctx, mode);
    assert_int_equal(fh__tls_conn_new(&c->ssl, cctx, c->fd, NULL, host, is_ip, verify, 0, c->err,
                                      sizeof c->err), FH_OK);
    return handshake(c->ssl, c->fd, c->err, sizeof c->err);
}

static void conn_close(conn *c)
{
    fh__tls_conn_free(c->ssl);
    close(c->fd);
    pthread_join(c->srv.thread, NULL);
}

/* ---- context tests ------------------------------------------------------ */

static void test_ctx_defaults(void **state)
{
    (void)state;
    SSL_CTX *ctx = client_ctx(1, NULL);
    assert_int_equal(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER);
    assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
    long mode = SSL_CTX_get_mode(ctx);
    assert_true(mode & SSL_MODE_ENABLE_PARTIAL_WRITE);
    assert_true(mode & SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    assert_false(mode & SSL_MODE_RELEASE_BUFFERS);
    assert_true(SSL_CTX_get_session_cache_mode(ctx) & SSL_SESS_CACHE_CLIENT);
    SSL_CTX_free(ctx);

    ctx = client_ctx(0, NULL);
    assert_int_equal(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE);
    SSL_CTX_free(ctx);
}

static void test_ctx_missing_ca(void **state)
{
    (void)state;
    fh__tls_config cfg = {.verify = 1, .ca_file = "/nonexistent/fh-ca.pem"};
    SSL_CTX *ctx = NULL;
    char err[256] = "";
    assert_int_equal(fh__tls_ctx_new(&ctx, &cfg, err, sizeof err), FH_ETLS);
    assert_null(ctx);
    assert_non_null(strstr(err, "cannot load CA file /nonexistent/fh-ca.pem"));
    assert_int_equal(ERR_peek_error(), 0); /* nothing left for the next call */
}

static void test_ctx_client_cert(void **state)
{
    (void)state;
    fh__tls_config cfg = {.verify = 1, .ca_file = fx.ca, .cert_file = fx.cert,
                          .key_file = fx.key};
    SSL_CTX *ctx = NULL;
    char err[256] = "";
    assert_int_equal(fh__tls_ctx_new(&ctx, &cfg, err, sizeof err), FH_OK);
    SSL_CTX_free(ctx);
    /* the key inside the cert file */
    fh__tls_config both = {.verify = 1, .ca_file = fx.ca, .cert_file = fx.combined};
    assert_int_equal(fh__tls_ctx_new(&ctx, &both, err, sizeof err), FH_OK);
    SSL_CTX_free(ctx);
}

static void test_ctx_mismatched_key(void **state)
{
    (void)state;
    fh__tls_config cfg = {.verify = 1, .cert_file = fx.cert, .key_file = fx.badkey};
    SSL_CTX *ctx = NULL;
    char err[256] = "";
    assert_int_equal(fh__tls_ctx_new(&ctx, &cfg, err, sizeof err), FH_ETLS);
    assert_non_null(strstr(err, fx.badkey));
    assert_non_null(strstr(err, "does not match"));
}

static void test_ctx_missing_cert(void **state)
{
    (void)state;
    fh__tls_config cfg = {.verify = 1, .cert_file = "/nonexistent/cert.pem"};
    SSL_CTX *ctx = NULL;
    char err[256] = "";
    assert_int_equal(fh__tls_ctx_new(&ctx, &cfg, err, sizeof err), FH_ETLS);
    assert_non_null(strstr(err, "cannot load client certificate '/nonexistent/cert.pem'"));
}

/* ---- handshake and I/O -------------------------------------------------- */

/* Echo "hello", then a clean close_notify -> 0. A stale error left in the
 * thread's queue must not turn a would-block read into a failure. */
static void test_verify_localhost_echo(void **state)
{
    (void)state;
    SSL_CTX *cctx = client_ctx(1, fx.ca);
    conn c;
    assert_int_equal(conn_open(&c, cctx, fx.srv, SRV_ECHO_CLOSE_NOTIFY, "localhost", 0, 1),
                     FH_OK);
    assert_int_equal(SSL_get_fd(c.ssl), c.fd); /* the custom BIO answers it */
    size_t len = 0;
    const char *alpn = fh__tls_alpn(c.ssl, &len);
    assert_non_null(alpn);
    assert_int_equal(len, 8);
    assert_memory_equal(alpn, "http/1.1", 8);

    char buf[64];
    int want = 0;
    ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
    assert_int_equal(fh__tls_read(c.ssl, buf, sizeof buf, &want, c.err, sizeof c.err),
                     FH_EAGAIN);
    assert_int_equal(want, FH_WATCH_READ);

    assert_int_equal(write_some(c.ssl, c.fd, "hello", 5, c.err, sizeof c.err), 5);
    assert_int_equal(read_some(c.ssl, c.fd, buf, sizeof buf, c.err, sizeof c.err), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(read_some(c.ssl, c.fd, buf, sizeof buf, c.err, sizeof c.err), 0);
    conn_close(&c);
    assert_true(c.srv.handshake_ok);
    SSL_CTX_free(cctx);
}

static void test_verify_ip_literal(void **state)
{
    (void)state;
    SSL_CTX *cctx = client_ctx(1, fx.ca);
    conn c;
    assert_int_equal(conn_open(&c, cctx, fx.srv, SRV_HANDSHAKE_CLOSE, "127.0.0.1", 1, 1),
                     FH_OK);
    conn_close(&c);
    SSL_CTX_free(cctx);
}

static void test_wrong_host(void **state)
{
    (void)state;
    SSL_CTX *cctx = client_ctx(1, fx.ca);
    conn c;
    assert_int_equal(conn_open(&c, cctx, fx.srv, SRV_HANDSHAKE_CLOSE, "example.com", 0, 1),
                     FH_ECERT);
    assert_string_equal(c.err, "certificate verify failed: hostname mismatch");
    conn_close(&c);
    assert_false(c.srv.handshake_ok);
    SSL_CTX_free(cctx);
}

static void test_wrong_ip(void **state)
{
    (void)state;
    SSL_CTX *cctx = client_ctx(1, fx.ca);
    conn c;
    assert_int_equal(conn_open(&c, cctx, fx.srv, SRV_HANDSHAKE_CLOSE, "127.0.0.2", 1, 1),
                     FH_ECERT);
    assert_string_equal(c.err, "certificate verify failed: IP address mismatch");
    conn_close(&c);
    SSL_CTX_free(cctx);
}

/* The test CA is not in the system store. */
static void test_unknown_ca(void **state)
{
    (void)state;
    SSL_CTX *cctx = client_ctx(1, NULL);
    conn c;
    assert_int_equal(conn_open(&c, cctx, fx.srv, SRV_HANDSHAKE_CLOSE, "localhost", 0, 1),
                     FH_ECERT);
    assert_non_null(strstr(c.err, "certificate verify failed: "));
    assert_null(strstr(c.err, "mismatch"));
    conn_close(&c);
    SSL_CTX_free(cctx);
}

static void test_verify_off(void **state)
{
    (void)state;
    SSL_CTX *cctx = client_ctx(0, NULL);
    conn c;
    assert_int_equal(conn_open(&c, cctx, fx.srv, SRV_ECHO_ABRUPT, "example.com", 0, 0), FH_OK);
    char buf[16];
    assert_int_equal(write_some(c.ssl, c.fd, "abc", 3, c.err, sizeof c.err), 3);
    assert_int_equal(read_some(c.ssl, c.fd, buf, sizeof buf, c.err, sizeof c.err), 3);
    /* TCP EOF without close_notify is EOF too; HTTP framing catches
     * truncation. */
    assert_int_equal(read_some(c.ssl, c.fd, buf, sizeof buf, c.err, sizeof c.err), 0);
    conn_close(&c);
    SSL_CTX_free(cctx);
}

static void test_no_alpn(void **state)
{
    (void)state;
    SSL_CTX *cctx = client_ctx(1, fx.ca);
    conn c;
    int rc = conn_open(&c, cctx, fx.srv_noalpn, SRV_HANDSHAKE_CLOSE, "localhost", 0, 1);
    assert_int_equal(rc, FH_OK);
    size_t len = 99;
    assert_null(fh__tls_alpn(c.ssl, &len));
    assert_int_equal(len, 0);
    conn_close(&c);
    SSL_CTX_free(cctx);
}

/* Writing to a peer that has gone must fail with FH_EIO, not SIGPIPE (which
 * would kill this process: SIGPIPE is not blocked on this thread). */
static void test_write_after_peer_closed(void **state)
{
    (void)state;
    SSL_CTX *cctx = client_ctx(1, fx.ca);
    conn c;
    assert_int_equal(conn_open(&c, cctx, fx.srv, SRV_HANDSHAKE_CLOSE, "localhost", 0, 1),
                     FH_OK);
    pthread_join(c.srv.thread, NULL);
    static char block[16384];
    ssize_t n = 1;
    for (int i = 0; i < 100 && n > 0; i++)
        n = write_some(c.ssl, c.fd, block, sizeof block, c.err, sizeof c.err);
    assert_int_equal(n, FH_EIO);
    assert_non_null(strstr(c.err, "TLS write failed"));
    fh__tls_conn_free(c.ssl); /* no close_notify after a fatal error */
    close(c.fd);
    SSL_CTX_free(cctx);
}

/* close_notify from fh__tls_conn_free to a peer that has closed must not
 * raise SIGPIPE either. */
static void test_free_after_peer_closed(void **state)
{
    (void)state;
    SSL_CTX *cctx = client_ctx(1, fx.ca);
    conn c;
    assert_int_equal(conn_open(&c, cctx, fx.srv, SRV_HANDSHAKE_CLOSE, "localhost", 0, 1),
                     FH_OK);
    pthread_join(c.srv.thread, NULL);
    fh__tls_conn_free(c.ssl);
    close(c.fd);
    assert_int_equal(ERR_peek_error(), 0);
    SSL_CTX_free(cctx);
}

static void test_not_tls(void **state)
{
    (void)state;
    SSL_CTX *cctx = client_ctx(1, fx.ca);
    conn c;
    assert_int_equal(conn_open(&c, cctx, fx.srv, SRV_NOT_TLS, "localhost", 0, 1), FH_ETLS);
    assert_non_null(strstr(c.err, "TLS handshake failed: "));
    conn_close(&c);
    SSL_CTX_free(cctx);
}

static void test_closed_during_handshake(void **state)
{
    (void)state;
    SSL_CTX *cctx = client_ctx(1, fx.ca);
    conn c;
    assert_int_equal(conn_open(&c, cctx, fx.srv, SRV_CLOSE, "localhost", 0, 1), FH_ETLS);
    assert_non_null(strstr(c.err, "TLS handshake failed: "));
    conn_close(&c);
    SSL_CTX_free(cctx);
}

/* RFC 6125 §6.4.4, RFC 9525 §6.3: a certificate that names the host only in
 * its subject CN is refused; OpenSSL's default would accept it. */
static void test_cn_only_refused(void **state)
{
    (void)state;
    SSL_CTX *cctx = client_ctx(1, fx.ca);
    conn c;
    assert_int_equal(conn_open(&c, cctx, fx.srv_cn_only, SRV_HANDSHAKE_CLOSE, "localhost", 0,
                               1),
                     FH_ECERT);
    assert_string_equal(c.err, "certificate verify failed: hostname mismatch");
    conn_close(&c);
    assert_false(c.srv.handshake_ok);
    SSL_CTX_free(cctx);
}

/* An IP literal matches iPAddress SANs only: neither the CN nor a dNSName
 * SAN spelling the address counts (RFC 9525 §6.2). */
static void test_ip_needs_ip_san(void **state)
{
    (void)state;
    SSL_CTX *cctx = client_ctx(1, fx.ca);
    conn c;
    assert_int_equal(conn_open(&c, cctx, fx.srv_ip_dns, SRV_HANDSHAKE_CLOSE, "127.0.0.1", 1, 1),
                     FH_ECERT);
    assert_string_equal(c.err, "certificate verify failed: IP address mismatch");
    conn_close(&c);
    SSL_CTX_free(cctx);
}

/* ---- checking CA and client certificate files --------------------------- */

static void expect_fail(int rc, int want, const char *msg, const char *part1,
                        const char *part2)
{
    assert_int_equal(rc, want);
    if (part1 && !strstr(msg, part1))
        fail_msg("'%s' not in '%s'", part1, msg);
    if (part2 && !strstr(msg, part2))
        fail_msg("'%s' not in '%s'", part2, msg);
}

static void test_ca_check(void **state)
{
    (void)state;
    char msg[512] = "x";
    assert_int_equal(fh_ca_check(fx.ca, msg, sizeof msg), FH_OK);
    assert_string_equal(msg, "");
    assert_int_equal(fh_ca_check(fx.ca, NULL, 0), FH_OK);

    errno = 0;
    int rc = fh_ca_check("/nonexistent/ca.pem", msg, sizeof msg);
    assert_int_equal(errno, ENOENT);
    expect_fail(rc, FH_EFILE, msg, "'/nonexistent/ca.pem'", "does not exist");
    expect_fail(fh_ca_check(fx.text, msg, sizeof msg), FH_EINVAL, msg, fx.text,
                "holds no PEM certificate");
    expect_fail(fh_ca_check(fx.key, msg, sizeof msg), FH_EINVAL, msg, fx.key,
                "holds no PEM certificate");
    expect_fail(fh_ca_check("/dev/null", msg, sizeof msg), FH_EFILE, msg, "/dev/null",
                "not a regular file");
    /* A directory: fine with hashed names, refused without. */
    assert_int_equal(fh_ca_check(fx.hashdir, msg, sizeof msg), FH_OK);
    expect_fail(fh_ca_check(fx.dir, msg, sizeof msg), FH_EINVAL, msg, fx.dir,
                "no hashed certificate names");
    assert_int_equal(fh_ca_check(NULL, msg, sizeof msg), FH_EINVAL);
}

static void test_cert_check(void **state)
{
    (void)state;
    char msg[512] = "x";
    assert_int_equal(fh_cert_check(fx.cert, fx.key, msg, sizeof msg), FH_OK);
    assert_string_equal(msg, "");
    assert_int_equal(fh_cert_check(fx.combined, NULL, msg, sizeof msg), FH_OK);

    errno = 0;
    int rc = fh_cert_check("/nonexistent/c.pem", fx.key, msg, sizeof msg);
    assert_int_equal(errno, ENOENT);
    expect_fail(rc, FH_EFILE, msg, "client certificate '/nonexistent/c.pem'",
                "does not exist");
    expect_fail(fh_cert_check(fx.cert, "/nonexistent/k.pem", msg, sizeof msg), FH_EFILE, msg,
                "client key '/nonexistent/k.pem'", "does not exist");
    errno = 0;
    rc = fh_cert_check(fx.dir, NULL, msg, sizeof msg);
    assert_int_equal(errno, EISDIR);
    expect_fail(rc, FH_EFILE, msg, fx.dir, "is a directory");
    expect_fail(fh_cert_check(fx.text, fx.key, msg, sizeof msg), FH_EINVAL, msg, fx.text,
                "holds no PEM certificate");
    expect_fail(fh_cert_check(fx.cert, fx.text, msg, sizeof msg), FH_EINVAL, msg, fx.text,
                "holds no PEM private key");
    /* A certificate file without the key, used as both. */
    expect_fail(fh_cert_check(fx.cert, NULL, msg, sizeof msg), FH_EINVAL, msg, fx.cert,
                "holds no PEM private key");
    expect_fail(fh_cert_check(fx.cert, fx.badkey, msg, sizeof msg), FH_EINVAL, msg, fx.badkey,
                "does not match the certificate");
    /* Never a pass phrase prompt: an encrypted key fails. */
    expect_fail(fh_cert_check(fx.cert, fx.enckey, msg, sizeof msg), FH_EINVAL, msg, fx.enckey,
                "encrypted");
    assert_int_equal(fh_cert_check(NULL, fx.key, msg, sizeof msg), FH_EINVAL);
    assert_int_equal(ERR_peek_error(), 0);
}

/* The setters check at once and keep the previous setting on failure. */
static void test_client_setters_check(void **state)
{
    (void)state;
    fh_client *c = fh_client_new();
    assert_non_null(c);
    assert_int_equal(fh_client_set_ca_file(c, fx.ca), FH_OK);
    errno = 0;
    assert_int_equal(fh_client_set_ca_file(c, "/nonexistent/ca.pem"), FH_EFILE);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(fh_client_set_ca_file(c, fx.text), FH_EINVAL);
    assert_string_equal(c->tls.ca_file, fx.ca);
    assert_int_equal(fh_client_set_ca_file(c, fx.hashdir), FH_OK);
    assert_true(c->tls.ca_is_dir);
    assert_int_equal(fh_client_set_ca_file(c, NULL), FH_OK);
    assert_null(c->tls.ca_file);

    assert_int_equal(fh_client_set_client_cert(c, fx.cert, fx.key), FH_OK);
    assert_int_equal(fh_client_set_client_cert(c, fx.cert, fx.badkey), FH_EINVAL);
    assert_int_equal(fh_client_set_client_cert(c, "/nonexistent/c.pem", NULL), FH_EFILE);
    assert_int_equal(fh_client_set_client_cert(c, NULL, fx.key), FH_EINVAL);
    assert_string_equal(c->tls.cert_file, fx.cert);
    assert_string_equal(c->tls.key_file, fx.key);
    assert_int_equal(fh_client_set_client_cert(c, fx.combined, NULL), FH_OK);
    assert_null(c->tls.key_file);
    assert_int_equal(fh_client_set_client_cert(c, NULL, NULL), FH_OK);
    assert_null(c->tls.cert_file);
    fh_client_free(c);
}

/* A hashed directory is a working trust store, and the only one. */
static void test_verify_with_ca_dir(void **state)
{
    (void)state;
    fh__tls_config cfg = {.verify = 1, .ca_file = fx.hashdir, .ca_is_dir = 1};
    SSL_CTX *cctx = NULL;
    char err[256] = "";
    assert_int_equal(fh__tls_ctx_new(&cctx, &cfg, err, sizeof err), FH_OK);
    conn c;
    assert_int_equal(conn_open(&c, cctx, fx.srv, SRV_HANDSHAKE_CLOSE, "localhost", 0, 1),
                     FH_OK);
    conn_close(&c);
    SSL_CTX_free(cctx);

    cfg.ca_file = fx.dir; /* no hashed names: nothing is trusted */
    assert_int_equal(fh__tls_ctx_new(&cctx, &cfg, err, sizeof err), FH_OK);
    assert_int_equal(conn_open(&c, cctx, fx.srv, SRV_HANDSHAKE_CLOSE, "localhost", 0, 1),
                     FH_ECERT);
    conn_close(&c);
    SSL_CTX_free(cctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctx_defaults),
        cmocka_unit_test(test_ctx_missing_ca),
        cmocka_unit_test(test_ctx_client_cert),
        cmocka_unit_test(test_ctx_mismatched_key),
        cmocka_unit_test(test_ctx_missing_cert),
        cmocka_unit_test(test_verify_localhost_echo),
        cmocka_unit_test(test_verify_ip_literal),
        cmocka_unit_test(test_wrong_host),
        cmocka_unit_test(test_wrong_ip),
        cmocka_unit_test(test_unknown_ca),
        cmocka_unit_test(test_verify_off),
        cmocka_unit_test(test_no_alpn),
        cmocka_unit_test(test_write_after_peer_closed),
        cmocka_unit_test(test_free_after_peer_closed),
        cmocka_unit_test(test_not_tls),
        cmocka_unit_test(test_closed_during_handshake),
        cmocka_unit_test(test_cn_only_refused),
        cmocka_unit_test(test_ip_needs_ip_san),
        cmocka_unit_test(test_ca_check),
        cmocka_unit_test(test_cert_check),
        cmocka_unit_test(test_client_setters_check),
        cmocka_unit_test(test_verify_with_ca_dir),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
