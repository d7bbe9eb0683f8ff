/*
 * conninfo.c — the record of what a connection is (conninfo.h), for
 * fh_response_conn_info(): fh -v, the Python binding's debug log.
 */
#include "conninfo.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"
#include "tls.h"

struct fh__conninfo {
    int refs; /* atomic: responses may be freed on any thread */
    uint64_t id;
    int port, tls_resumed;
    const char *tls_version, *cipher, *alpn; /* static strings (OpenSSL's, or ours) */
    char *subject, *issuer;                  /* malloc'd, RFC 2253 one-line form */
    char ip[INET6_ADDRSTRLEN];
};

/* RFC 2253 form ("CN=example.org,O=Example"), as curl -v shows a subject. */
static char *name_text(const X509_NAME *name)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL, *data;
    if (!b)
        return NULL;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        long n = BIO_get_mem_data(b, &data);
        if (n >= 0 && (out = malloc((size_t)n + 1))) {
            memcpy(out, data, (size_t)n);
            out[n] = '\0';
        }
    }
    BIO_free(b);
    return out;
}

/* The connected peer's address: kept from the connect when it completed at
 * once (conn.c), else asked of the socket. */
static void peer_address(fh__conninfo *ci, const struct fh__conn *c)
{
    struct sockaddr_storage ss = c->peer;
    socklen_t len = c->peer_len ? c->peer_len : sizeof ss;
    if (!c->peer_len && (c->fd < 0 || getpeername(c->fd, (struct sockaddr *)&ss, &len) != 0))
        return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, ci->ip, sizeof ci->ip);
        ci->port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ci->ip, sizeof ci->ip);
        ci->port = ntohs(a->sin6_port);
    }
}

static void tls_details(fh__conninfo *ci, SSL *ssl)
{
    ci->tls_version = SSL_get_version(ssl);
    const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);
    ci->cipher = cipher ? SSL_CIPHER_get_name(cipher) : NULL;
    ci->tls_resumed = SSL_session_reused(ssl);
    size_t n = 0;
    const char *alpn = fh__tls_alpn(ssl, &n);
    /* Only the two protocols offered can be selected; literals outlive ssl. */
    if (alpn && n == 2 && memcmp(alpn, "h2", 2) == 0)
        ci->alpn = "h2";
    else if (alpn && n == 8 && memcmp(alpn, "http/1.1", 8) == 0)
        ci->alpn = "http/1.1";
    X509 *peer = SSL_get1_peer_certificate(ssl);
    if (peer) {
        ci->subject = name_text(X509_get_subject_name(peer));
        ci->issuer = name_text(X509_get_issuer_name(peer));
        X509_free(peer);
    }
}

fh__conninfo *fh__conninfo_new(struct fh__conn *c, uint64_t id)
{
    fh__conninfo *ci = calloc(1, sizeof *ci);
    if (!ci)
        return NULL;
    ci->refs = 1;
    ci->id = id;
    peer_address(ci, c);
    if (c->ssl)
        tls_details(ci, c->ssl);
    return ci;
}

fh__conninfo *fh__conninfo_ref(fh__conninfo *ci)
{
    if (ci)
        __atomic_add_fetch(&ci->refs, 1, __ATOMIC_RELAXED);
    return ci;
}

void fh__conninfo_unref(fh__conninfo *ci)
{
    if (!ci || __atomic_sub_fetch(&ci->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    free(ci->subject);
    free(ci->issuer);
    free(ci);
}

void fh__conninfo_view(const fh__conninfo *ci, fh_conn_info *out)
{
    memset(out, 0, sizeof *out);
    if (!ci)
        return;
    out->id = ci->id;
    out->remote_ip = ci->ip[0] ? ci->ip : NULL;
    out->remote_port = ci->port;
    out->tls_version = ci->tls_version;
    out->cipher = ci->cipher;
    out->alpn = ci->alpn;
    out->peer_subject = ci->subject;
    out->peer_issuer = ci->issuer;
    out->tls_resumed = ci->tls_resumed;
}
