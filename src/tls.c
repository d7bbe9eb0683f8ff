/*
 * tls.c — OpenSSL 3 glue: one SSL_CTX per client configuration, one SSL per
 * connection, driven non-blocking by the engine.
 *
 * Socket I/O goes through a small custom BIO instead of SSL_set_fd(): the
 * stock socket BIO writes with write(2), which raises SIGPIPE when the peer
 * has gone away, and a library may neither die from that nor change the
 * application's signal disposition. Our BIO sends with MSG_NOSIGNAL, so
 * SSL_write and the close_notify of SSL_shutdown fail with EPIPE instead.
 *
 * Every SSL call starts with an empty error queue: SSL_get_error() consults
 * the thread's queue, and a stale entry left by another connection (or
 * another library) on this thread would turn a harmless WANT_READ into a
 * fatal error. The per-record calls (SSL_read_ex, SSL_write_ex) look before
 * they clear (clear_queue): ERR_clear_error() walks all the queue's slots,
 * a few hundred instructions per record, while the queue is almost always
 * empty already.
 */
#include "tls.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "fasthttp/engine.h"
#include "fasthttp/errors.h"

/* ALPN protocol list in wire format (RFC 7301 §3.1: length-prefixed
 * strings, in preference order); connections that may speak HTTP/2 set
 * their own list (fh__tls_conn_new). */
static const unsigned char alpn_protos[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

/* Client-side cache entries only grow (OpenSSL never looks them up for a
 * client on its own), so keep the bound small. */
#define TLS_SESSION_CACHE_SIZE 256

/* ---- messages ----------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static void set_msg(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* The oldest entry of the queue names the root cause (e.g. "No such file or
 * directory" before "system lib"). Clears the queue. */
static int openssl_fail(int code, char *err, size_t errlen, const char *what)
{
    char buf[256];
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    else
        snprintf(buf, sizeof buf, "unknown error");
    set_msg(err, errlen, "%s: %s", what, buf);
    ERR_clear_error();
    return code;
}

/* ---- the MSG_NOSIGNAL socket BIO ---------------------------------------- */

static BIO_METHOD *nosig_method;
static pthread_once_t nosig_once = PTHREAD_ONCE_INIT;

static int bio_fd(BIO *b)
{
    return (int)(intptr_t)BIO_get_data(b);
}

static int nosig_write(BIO *b, const char *p, int n)
{
    BIO_clear_retry_flags(b);
    ssize_t r;
    do
        r = send(bio_fd(b), p, (size_t)n, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_write(b);
    return (int)r;
}

static int nosig_read(BIO *b, char *p, int n)
{
    BIO_clear_retry_flags(b);
    ssize_t r;
    do
        r = recv(bio_fd(b), p, (size_t)n, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_read(b);
    else if (r == 0)
        BIO_set_flags(b, BIO_FLAGS_IN_EOF); /* lets OpenSSL see a TCP EOF */
    return (int)r;
}

static long nosig_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    switch (cmd) {
    case BIO_C_GET_FD: /* keeps SSL_get_fd() working */
        if (ptr)
            *(int *)ptr = bio_fd(b);
        return bio_fd(b);
    case BIO_CTRL_FLUSH: /* unbuffered: nothing to flush, but must succeed */
        return 1;
    case BIO_CTRL_EOF:
        return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
    default:
        return 0;
    }
}

/* A BIO method of ours, or NULL; it lives for the process, like OpenSSL's
 * own methods. */
static BIO_METHOD *method_new(int kind, const char *name, int (*wr)(BIO *, const char *, int),
                              int (*rd)(BIO *, char *, int), long (*ctrl)(BIO *, int, long, void *))
{
    int type = BIO_get_new_index();
    BIO_METHOD *m = type < 0 ? NULL : BIO_meth_new(type | kind, name);
    if (m && (!BIO_meth_set_write(m, wr) || !BIO_meth_set_read(m, rd) ||
              !BIO_meth_set_ctrl(m, ctrl))) {
        BIO_meth_free(m);
        m = NULL;
    }
    return m;
}

static void nosig_init(void)
{
    nosig_method = method_new(BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR, "fasthttp socket",
                              nosig_write, nosig_read, nosig_ctrl);
}

/* A BIO over fd that does not own it: the transport closes the socket. */
static BIO *nosig_bio_new(int fd)
{
    pthread_once(&nosig_once, nosig_init);
    BIO *b = nosig_method ? BIO_new(nosig_method) : NULL;
    if (b) {
        BIO_set_data(b, (void *)(intptr_t)fd);
        BIO_set_init(b, 1);
    }
    return b;
}

/* ---- TLS inside TLS (a tunnel through an HTTPS proxy) -------------------- */

/* The origin's session reads and writes its records through the proxy's
 * session. A retry of the proxy's session becomes a retry of this BIO, so
 * the origin's SSL_get_error() asks for the socket readiness the proxy's
 * session needs. */
static BIO_METHOD *tunnel_method;
static pthread_once_t tunnel_once = PTHREAD_ONCE_INIT;

static int tunnel_retry(BIO *b, SSL *outer, int r)
{
    int e = SSL_get_error(outer, r);
    if (e == SSL_ERROR_WANT_READ)
        BIO_set_retry_read(b);
    else if (e == SSL_ERROR_WANT_WRITE)
        BIO_set_retry_write(b);
    else if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !ERR_peek_error())) {
        BIO_set_flags(b, BIO_FLAGS_IN_EOF);
        return 0;
    }
    return -1;
}

static int tunnel_write(BIO *b, const char *p, int n)
{
    BIO_clear_retry_flags(b);
    SSL *outer = BIO_get_data(b);
    int r = SSL_write(outer, p, n);
    if (r > 0)
        return r;
    tunnel_retry(b, outer, r);
    return -1;
}

static int tunnel_read(BIO *b, char *p, int n)
{
    BIO_clear_retry_flags(b);
    SSL *outer = BIO_get_data(b);
    int r = SSL_read(outer, p, n);
    return r > 0 ? r : tunnel_retry(b, outer, r);
}

static long tunnel_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    switch (cmd) {
    case BIO_C_GET_FD: {
        int fd = SSL_get_fd(BIO_get_data(b));
        if (ptr)
            *(int *)ptr = fd;
        return fd;
    }
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_EOF: return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
    default: return 0;
    }
}

static void tunnel_init(void)
{
    tunnel_method = method_new(BIO_TYPE_SOURCE_SINK, "fasthttp tunnel", tunnel_write,
                               tunnel_read, tunnel_ctrl);
}

/* A BIO over the proxy's session, which it does not own. */
static BIO *tunnel_bio_new(SSL *outer)
{
    pthread_once(&tunnel_once, tunnel_init);
    BIO *b = tunnel_method ? BIO_new(tunnel_method) : NULL;
    if (b) {
        BIO_set_data(b, outer);
        BIO_set_init(b, 1);
    }
    return b;
}

/* ---- context ------------------------------------------------------------ */

/* A custom CA replaces the system store (DESIGN: safe defaults). The CA file
 * is loaded even with verify off so a wrong path is reported either way;
 * the system store is only loaded when it will be used. */
static int ctx_load_trust(SSL_CTX *ctx, const fh__tls_config *cfg, char *err, size_t errlen)
{
    char what[PATH_MAX + 32];
    if (cfg->ca_file) {
        int ok = cfg->ca_is_dir ? SSL_CTX_load_verify_dir(ctx, cfg->ca_file)
                                : SSL_CTX_load_verify_file(ctx, cfg->ca_file);
        if (ok == 1)
            return FH_OK;
        snprintf(what, sizeof what, "cannot load CA file %s", cfg->ca_file);
        return openssl_fail(FH_ETLS, err, errlen, what);
    }
    if (cfg->verify && SSL_CTX_set_default_verify_paths(ctx) != 1)
        return openssl_fail(FH_ETLS, err, errlen, "cannot load the system CA store");
    return FH_OK;
}

/* What went wrong with a PEM file expected to hold a kind of object ("a
 * certificate"). The reasons a user can act on get a sentence wherever they
 * are in the queue (OpenSSL 3's decoders stack several entries); others get
 * OpenSSL's text of the oldest entry. Clears the queue. */
static const char *pem_reason(const char *kind, char *buf, size_t len)
{
    unsigned long first = 0, e;
    int no_pem = 0, encrypted = 0, mismatch = 0;
    while ((e = ERR_get_error()) != 0) {
        int lib = ERR_GET_LIB(e), reason = ERR_GET_REASON(e);
        if (!first)
            first = e;
        no_pem |= (lib == ERR_LIB_PEM && reason == PEM_R_NO_START_LINE) ||
                  (lib == ERR_LIB_OSSL_DECODER && reason == ERR_R_UNSUPPORTED);
        encrypted |= lib == ERR_LIB_PEM && (reason == PEM_R_BAD_PASSWORD_READ ||
                                            reason == PEM_R_PROBLEMS_GETTING_PASSWORD);
        mismatch |= lib == ERR_LIB_X509 && reason == X509_R_KEY_VALUES_MISMATCH;
    }
    if (encrypted)
        return "the key is encrypted (only unencrypted keys are supported)";
    if (mismatch)
        return "the key does not match the certificate";
    if (no_pem) {
        snprintf(buf, len, "the file holds no PEM %s", kind);
        return buf;
    }
    if (!first)
        return "unknown error";
    ERR_error_string_n(first, buf, len);
    return buf;
}

__attribute__((format(printf, 5, 6)))
static int pem_fail(int code, char *err, size_t errlen, const char *kind, const char *fmt, ...)
{
    char what[PATH_MAX + 64], buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    set_msg(err, errlen, "%s: %s", what, pem_reason(kind, buf, sizeof buf));
    return code;
}

/* A library must never ask for a pass phrase on the terminal (OpenSSL's
 * default callback does): an encrypted key fails instead. */
static int no_password(char *buf, int size, int rwflag, void *ud)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)ud;
    return -1;
}

/* The key may live in the certificate file (as with requests' cert=path). */
static int ctx_load_client_cert(SSL_CTX *ctx, const fh__tls_config *cfg, char *err,
                                size_t errlen)
{
    const char *key = cfg->key_file ? cfg->key_file : cfg->cert_file;
    if (!cfg->cert_file)
        return FH_OK;
    SSL_CTX_set_default_passwd_cb(ctx, no_password);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1)
        return pem_fail(FH_ETLS, err, errlen, "certificate",
                        "cannot load client certificate '%s'", cfg->cert_file);
    /* use_PrivateKey_file already compares the key with the certificate
     * (X509_R_KEY_VALUES_MISMATCH); check_private_key is the explicit check. */
    int ok = SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1;
    if (ok && SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        ERR_raise(ERR_LIB_X509, X509_R_KEY_VALUES_MISMATCH);
        ok = 0;
    }
    if (!ok)
        return pem_fail(FH_ETLS, err, errlen, "private key",
                        "cannot use client key '%s' with certificate '%s'", key, cfg->cert_file);
    return FH_OK;
}

static int ctx_configure(SSL_CTX *ctx, const fh__tls_config *cfg, char *err, size_t errlen)
{
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
        return openssl_fail(FH_ETLS, err, errlen, "cannot set TLS 1.2 minimum");
    /* Partial writes let the engine count progress like a plain socket;
     * a moving buffer lets it retry from a reallocated buffer. No
     * SSL_MODE_RELEASE_BUFFERS: re-allocating per idle period costs more
     * than the memory saved on keep-alive connections. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
    SSL_CTX_sess_set_cache_size(ctx, TLS_SESSION_CACHE_SIZE);
    /* SSL_CTX_set_alpn_protos returns 0 on success. */
    if (SSL_CTX_set_alpn_protos(ctx, alpn_protos, sizeof alpn_protos) != 0)
        return openssl_fail(FH_ETLS, err, errlen, "cannot set ALPN protocols");
    SSL_CTX_set_verify(ctx, cfg->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    int rc = ctx_load_trust(ctx, cfg, err, errlen);
    return rc == FH_OK ? ctx_load_client_cert(ctx, cfg, err, errlen) : rc;
}

int fh__tls_ctx_new(SSL_CTX **out, const fh__tls_config *cfg, char *err, size_t errlen)
{
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return openssl_fail(FH_ETLS, err, errlen, "cannot create TLS context");
    int rc = ctx_configure(ctx, cfg, err, errlen);
    if (rc != FH_OK) {
        SSL_CTX_free(ctx);
        return rc;
    }
    *out = ctx;
    return FH_OK;
}

/* ---- checking files before they are stored ------------------------------ */

/* errno is the caller's answer to "why" after FH_EFILE, so it is set last. */
static int file_fail(int e, char *err, size_t errlen, const char *what, const char *path)
{
    if (e == ENOENT || e == ENOTDIR)
        set_msg(err, errlen, "%s '%s' does not exist", what, path);
    else if (e == EACCES || e == EPERM)
        set_msg(err, errlen, "%s '%s' cannot be read: permission denied", what, path);
    else if (e == EISDIR)
        set_msg(err, errlen, "%s '%s' is a directory, not a file", what, path);
    else if (e == EINVAL)
        set_msg(err, errlen, "%s '%s' is not a regular file", what, path);
    else
        set_msg(err, errlen, "%s '%s' cannot be opened: %s", what, path, strerror(e));
    errno = e;
    return FH_EFILE;
}

/* Opens path the way OpenSSL will read it. O_NONBLOCK keeps a FIFO from
 * blocking the caller; only regular files (and directories, when allowed)
 * pass. */
static int path_check(const char *what, const char *path, int dir_ok, int *is_dir, char *err,
                      size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return file_fail(errno, err, errlen, what, path);
    struct stat st;
    int rc = fstat(fd, &st);
    int e = errno;
    close(fd);
    if (rc != 0)
        return file_fail(e, err, errlen, what, path);
    *is_dir = S_ISDIR(st.st_mode);
    if (*is_dir && !dir_ok)
        return file_fail(EISDIR, err, errlen, what, path);
    if (!*is_dir && !S_ISREG(st.st_mode))
        return file_fail(EINVAL, err, errlen, what, path);
    return FH_OK;
}

/* "3513523f.0": eight hex digits, a dot, a number (openssl rehash, c_rehash). */
static int is_hashed_name(const char *n)
{
    for (int i = 0; i < 8; i++)
        if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
            return 0;
    if (n[8] != '.' || !n[9])
        return 0;
    for (const char *p = n + 9; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

/* OpenSSL reads a CA directory lazily, by subject hash, during each
 * verification; so a directory without hashed names would only show up as
 * failed verifications. Listing it is cheap; parsing every file is not. */
static int ca_dir_check(const char *path, char *err, size_t errlen)
{
    DIR *d = opendir(path);
    if (!d)
        return file_fail(errno, err, errlen, "CA directory", path);
    int found = 0;
    struct dirent *ent;
    while (!found && (ent = readdir(d)))
        found = is_hashed_name(ent->d_name);
    closedir(d);
    if (found)
        return FH_OK;
    set_msg(err, errlen,
            "CA directory '%s' holds no hashed certificate names (HASH.0; create them with "
            "'openssl rehash')",
            path);
    return FH_EINVAL;
}

int fh__tls_check_ca(const char *path, int *is_dir, char *err, size_t errlen)
{
    int rc = path_check("CA file", path, 1, is_dir, err, errlen);
    if (rc != FH_OK || *is_dir)
        return rc != FH_OK ? rc : ca_dir_check(path, err, errlen);
    /* The loader the context uses, into a store that is thrown away. */
    ERR_clear_error();
    X509_STORE *store = X509_STORE_new();
    if (!store)
        return openssl_fail(FH_ENOMEM, err, errlen, "cannot check the CA file");
    int ok = X509_STORE_load_file(store, path) == 1;
    X509_STORE_free(store);
    if (ok)
        return FH_OK;
    set_msg(err, errlen, "CA file '%s' holds no PEM certificate", path);
    ERR_clear_error();
    return FH_EINVAL;
}

int fh__tls_check_client_cert(const char *cert, const char *key, char *err, size_t errlen)
{
    int is_dir;
    int rc = path_check("client certificate", cert, 0, &is_dir, err, errlen);
    if (rc == FH_OK && key)
        rc = path_check("client key", key, 0, &is_dir, err, errlen);
    if (rc != FH_OK)
        return rc;
    /* The context's own loading code, on a context that is thrown away: the
     * same parsing and the same key check as at the first HTTPS request. */
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return openssl_fail(FH_ENOMEM, err, errlen, "cannot check the client certificate");
    fh__tls_config cfg = {.cert_file = (char *)cert, .key_file = (char *)key};
    rc = ctx_load_client_cert(ctx, &cfg, err, errlen);
    SSL_CTX_free(ctx);
    return rc == FH_ETLS ? FH_EINVAL : rc;
}

/* ---- connection --------------------------------------------------------- */

/* Partial wildcards ("w*.example.com") are refused: a wildcard must be the
 * whole left-most label (RFC 9525 §6.3). IP literals must match an
 * iPAddress SAN exactly (RFC 2818 §3.1, RFC 9525 §6.2), hence set1_ip_asc,
 * not set1_host: X509_check_ip never looks at dNSName SANs or the CN. */
static int conn_set_peer(SSL *ssl, const char *host, int host_is_ip, char *err,
                         size_t errlen)
{
    X509_VERIFY_PARAM *p = SSL_get0_param(ssl);
    /* Names match subjectAltName entries only: a certificate without a
     * dNSName SAN is refused even when its CN equals the host (RFC 6125
     * §6.4.4, RFC 9525 §6.3, the CA/Browser Forum Baseline Requirements, as
     * browsers do). OpenSSL would otherwise fall back to the CN. */
    X509_VERIFY_PARAM_set_hostflags(p, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
                                           X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
    int ok = host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(p, host)
                        : X509_VERIFY_PARAM_set1_host(p, host, 0);
    if (ok == 1)
        return FH_OK;
    set_msg(err, errlen, "invalid host name for verification: %s", host);
    ERR_clear_error();
    return FH_ETLS;
}

/* ALPN offers per connection (RFC 7301 §3.1), in preference order: a
 * connection opened for a request that may use HTTP/2 offers h2 first.
 * http/1.1 is offered even when HTTP/2 is required, so that a server
 * without h2 answers it rather than failing the handshake, and the request
 * fails with a clear FH_EHTTP2 (conn.c). */
static const unsigned char alpn_h2[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

int fh__tls_conn_new(SSL **out, SSL_CTX *ctx, int fd, SSL *outer, const char *host,
                     int host_is_ip, int verify, int http2, char *err, size_t errlen)
{
    ERR_clear_error();
    SSL *ssl = SSL_new(ctx);
    BIO *bio = !ssl ? NULL : outer ? tunnel_bio_new(outer) : nosig_bio_new(fd);
    if (!bio) {
        SSL_free(ssl);
        set_msg(err, errlen, "cannot create TLS connection: out of memory");
        ERR_clear_error();
        return FH_ENOMEM;
    }
    SSL_set_bio(ssl, bio, bio); /* one reference, consumed by ssl */
    SSL_set_connect_state(ssl);
    /* SSL_set_alpn_protos returns 0 on success. */
    if (http2 && SSL_set_alpn_protos(ssl, alpn_h2, sizeof alpn_h2) != 0) {
        SSL_free(ssl);
        return openssl_fail(FH_ETLS, err, errlen, "cannot set ALPN protocols");
    }
    /* RFC 6066 §3: SNI carries host names only, never IP literals. */
    if (!host_is_ip && SSL_set_tlsext_host_name(ssl, host) != 1) {
        SSL_free(ssl);
        return openssl_fail(FH_ETLS, err, errlen, "cannot set server name");
    }
    if (verify) {
        int rc = conn_set_peer(ssl, host, host_is_ip, err, errlen);
        if (rc != FH_OK) {
            SSL_free(ssl);
            return rc;
        }
    }
    *out = ssl;
    return FH_OK;
}

/* After a fatal error OpenSSL forbids SSL_shutdown(); quiet shutdown makes
 * the later fh__tls_conn_free skip the close_notify. */
static int fatal(SSL *ssl, int code)
{
    SSL_set_quiet_shutdown(ssl, 1);
    return code;
}

static int want_io(int e, int *want)
{
    *want = e == SSL_ERROR_WANT_WRITE ? FH_WATCH_WRITE : FH_WATCH_READ;
    return FH_EAGAIN;
}

/* SSL_ERROR_SYSCALL: a socket error (errno) or, with errno 0 and an empty
 * queue, the peer closed TCP. eof_rc is what that EOF means to the caller,
 * io_rc what a socket error means (the handshake reports only FH_ETLS). */
static int syscall_fail(SSL *ssl, int saved_errno, int eof_rc, int io_rc, const char *what,
                        char *err, size_t errlen)
{
    if (ERR_peek_error())
        return fatal(ssl, openssl_fail(FH_ETLS, err, errlen, what));
    if (saved_errno == 0) {
        if (eof_rc != FH_OK)
            set_msg(err, errlen, "%s: connection closed by peer", what);
        return fatal(ssl, eof_rc);
    }
    set_msg(err, errlen, "%s: %s", what, strerror(saved_errno));
    return fatal(ssl, io_rc);
}

/* Handshake failures caused by the certificate (chain or host name) are
 * FH_ECERT; SSL_get_verify_result() says which check failed. */
static int handshake_fail(SSL *ssl, int e, int saved_errno, char *err, size_t errlen)
{
    long vr = SSL_get_verify_result(ssl);
    int verifying = SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER;
    if (e == SSL_ERROR_SSL && vr != X509_V_OK && verifying) {
        set_msg(err, errlen, "certificate verify failed: %s",
                X509_verify_cert_error_string(vr));
        ERR_clear_error();
        return fatal(ssl, FH_ECERT);
    }
    if (e == SSL_ERROR_SYSCALL)
        return syscall_fail(ssl, saved_errno, FH_ETLS, FH_ETLS, "TLS handshake failed", err,
                            errlen);
    return fatal(ssl, openssl_fail(FH_ETLS, err, errlen, "TLS handshake failed"));
}

int fh__tls_handshake(SSL *ssl, int *want, char *err, size_t errlen)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(ssl);
    int saved_errno = errno;
    if (r == 1)
        return FH_OK;
    int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return want_io(e, want);
    return handshake_fail(ssl, e, saved_errno, err, errlen);
}

/* A peer that closes TCP without close_notify is treated as EOF, not as an
 * error: many HTTP servers do it, and the HTTP framing (Content-Length,
 * chunked terminator) already detects a truncated body — the same choice
 * as SSL_OP_IGNORE_UNEXPECTED_EOF, made here so other SSL errors stay
 * errors. OpenSSL 3 reports it as SSL_R_UNEXPECTED_EOF_WHILE_READING when
 * the BIO signals EOF, or as SSL_ERROR_SYSCALL with errno 0. */
static int is_unexpected_eof(int e)
{
    unsigned long q = ERR_peek_error();
    return e == SSL_ERROR_SSL && ERR_GET_LIB(q) == ERR_LIB_SSL &&
           ERR_GET_REASON(q) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

/* Empties the thread's error queue, cheaply when it is empty already. */
static void clear_queue(void)
{
    if (ERR_peek_error())
        ERR_clear_error();
}

ssize_t fh__tls_read(SSL *ssl, void *buf, size_t len, int *want, char *err, size_t errlen)
{
    size_t n = 0;
    clear_queue();
    errno = 0;
    int r = SSL_read_ex(ssl, buf, len, &n);
    int saved_errno = errno;
    if (r == 1)
        return (ssize_t)n;
    int e = SSL_get_error(ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: /* TLS 1.2 renegotiation may need to write */
        return want_io(e, want);
    case SSL_ERROR_ZERO_RETURN: /* close_notify received */
        return 0;
    case SSL_ERROR_SYSCALL:
        return syscall_fail(ssl, saved_errno, FH_OK, FH_EIO, "TLS read failed", err, errlen);
    default:
        if (is_unexpected_eof(e)) {
            ERR_clear_error();
            return fatal(ssl, 0);
        }
        return fatal(ssl, openssl_fail(FH_ETLS, err, errlen, "TLS read failed"));
    }
}

/* With SSL_MODE_ENABLE_PARTIAL_WRITE a record-sized piece may be reported
 * written before the rest. After FH_EAGAIN the caller must retry with the
 * same bytes (the buffer may move: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER). */
ssize_t fh__tls_write(SSL *ssl, const void *buf, size_t len, int *want, char *err,
                      size_t errlen)
{
    size_t n = 0;
    if (len == 0)
        return 0;
    clear_queue();
    errno = 0;
    int r = SSL_write_ex(ssl, buf, len, &n);
    int saved_errno = errno;
    if (r == 1)
        return (ssize_t)n;
    int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return want_io(e, want);
    if (e == SSL_ERROR_SYSCALL)
        return syscall_fail(ssl, saved_errno, FH_EIO, FH_EIO, "TLS write failed", err, errlen);
    if (e == SSL_ERROR_ZERO_RETURN) {
        set_msg(err, errlen, "TLS write failed: connection closed by peer");
        return fatal(ssl, FH_EIO);
    }
    return fatal(ssl, openssl_fail(FH_ETLS, err, errlen, "TLS write failed"));
}

const char *fh__tls_alpn(SSL *ssl, size_t *len)
{
    const unsigned char *p = NULL;
    unsigned int n = 0;
    SSL_get0_alpn_selected(ssl, &p, &n);
    if (len)
        *len = n;
    return n ? (const char *)p : NULL;
}

/* One non-blocking SSL_shutdown sends close_notify if the socket takes it;
 * the peer's reply is not awaited (RFC 5246 §7.2.1 allows closing without
 * it). Skipped before the handshake finished and after fatal errors.
 * Through the MSG_NOSIGNAL BIO this cannot raise SIGPIPE. */
void fh__tls_conn_free(SSL *ssl)
{
    if (!ssl)
        return;
    ERR_clear_error();
    if (SSL_is_init_finished(ssl) && !SSL_get_quiet_shutdown(ssl))
        SSL_shutdown(ssl);
    ERR_clear_error();
    SSL_free(ssl);
}
