/*
 * tls.h — OpenSSL glue: one SSL_CTX per client configuration, one SSL per
 * connection, non-blocking handshake, read and write on a socket fd.
 */
#ifndef FH_TLS_H
#define FH_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

typedef struct fh__tls_config {
    int verify;        /* 1: verify chain and host name (default) */
    char *ca_file;     /* PEM bundle (or hashed directory) replacing the system store */
    char *cert_file;   /* client certificate (PEM), or NULL */
    char *key_file;    /* client private key (PEM), or NULL */
    int ca_is_dir;     /* 1: ca_file is a directory of HASH.N certificates */
} fh__tls_config;

/*
 * Builds the context: TLS 1.2 minimum, the system default verify paths
 * unless ca_file is set (then only ca_file), SSL_VERIFY_PEER when verify,
 * client cert/key when given (checked to match), ALPN offering "http/1.1",
 * session cache on the client side. On failure returns FH_ETLS and writes a
 * message ("cannot load CA file /x: ...") into err.
 */
int fh__tls_ctx_new(SSL_CTX **out, const fh__tls_config *cfg, char *err, size_t errlen);

/*
 * Check the files of a configuration before it is stored, with the same
 * OpenSSL calls the context uses, so a wrong path or file fails when it is
 * set rather than at the first HTTPS request. They return FH_OK, FH_EFILE
 * (missing, unreadable, or not a regular file; errno tells why), FH_EINVAL
 * (the content is wrong) or FH_ENOMEM, and write a sentence naming the file
 * and the problem into err. fh__tls_check_ca sets *is_dir when path is a
 * directory of hashed certificates (openssl rehash). key may be NULL: the
 * key is then read from the certificate file.
 */
int fh__tls_check_ca(const char *path, int *is_dir, char *err, size_t errlen);
int fh__tls_check_client_cert(const char *cert, const char *key, char *err, size_t errlen);

/*
 * Creates the SSL for one connection on a connected non-blocking fd, or,
 * when outer is not NULL, inside the TLS session outer (a CONNECT tunnel
 * through an HTTPS proxy): its records are then read and written with
 * SSL_read/SSL_write on outer. Sets
 * SNI (not for IP literals, RFC 6066 §3) and, when verify, the expected
 * host name or IP address (X509_VERIFY_PARAM_set1_host / set1_ip_asc) so
 * OpenSSL checks it during the handshake: names against dNSName SANs, IP
 * literals against iPAddress SANs, never against the subject's CN.
 */
int fh__tls_conn_new(SSL **out, SSL_CTX *ctx, int fd, SSL *outer, const char *host,
                     int host_is_ip, int verify, int http2, char *err, size_t errlen);

/*
 * Advances the handshake. Returns 0 when done, FH_EAGAIN with *want set to
 * FH_WATCH_READ or FH_WATCH_WRITE, FH_ECERT when verification failed (err
 * says why, e.g. "certificate verify failed: self-signed certificate" or
 * "hostname mismatch"), or FH_ETLS for other failures (err says why).
 */
int fh__tls_handshake(SSL *ssl, int *want, char *err, size_t errlen);

/* Reads up to len bytes: > 0 bytes read, 0 on a clean close (close_notify
 * or TCP EOF without close_notify — treated as EOF; HTTP framing detects
 * truncation), FH_EAGAIN with *want set, or FH_ETLS/FH_EIO with err set. */
ssize_t fh__tls_read(SSL *ssl, void *buf, size_t len, int *want, char *err, size_t errlen);

/* Writes up to len bytes: > 0 bytes written, FH_EAGAIN with *want set, or
 * FH_ETLS/FH_EIO with err set. Uses SSL_MODE_ENABLE_PARTIAL_WRITE and
 * SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER (set on the context). */
ssize_t fh__tls_write(SSL *ssl, const void *buf, size_t len, int *want, char *err,
                      size_t errlen);

/* The ALPN protocol the server selected ("http/1.1", "h2"), or NULL. */
const char *fh__tls_alpn(SSL *ssl, size_t *len);

/* Frees the SSL without a blocking shutdown (sends close_notify best-effort). */
void fh__tls_conn_free(SSL *ssl);

#endif
