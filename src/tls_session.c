/*
 * tls_session.c — TLS session resumption across the connections of a pool
 * (RFC 8446 §2.2 tickets, RFC 5077 for TLS 1.2).
 *
 * A full handshake costs an ECDHE exchange and a certificate chain check:
 * by instructions, several hundred requests' worth. OpenSSL keeps no
 * client-side cache it would consult by itself, so each origin of the pool
 * (fh__pool_host) keeps a few sessions the server gave, and a new
 * connection to that origin offers one (SSL_set_session).
 *
 * - A TLS 1.3 ticket is used once (RFC 8446 §C.4: reuse would let the
 *   connections be linked): taking it removes it; the resumed connection
 *   gets fresh tickets from the server. A TLS 1.2 session stays until a
 *   newer one replaces it.
 * - Sessions belong to the client's one SSL_CTX, whose settings are frozen
 *   once it exists (client.c, tls_settable): a session made under one
 *   verification setting is never offered under another.
 * - The server's session callback may run on any engine's thread (tickets
 *   come after the handshake, in the middle of reads), so the store is
 *   under the pool's lock; a forked child drops what it inherited.
 */
#include "internal.h"

#include <pthread.h>
#include <string.h>

static int conn_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void make_index(void)
{
    conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* Drops the oldest of h's sessions. Pool lock held. */
static void drop_oldest(fh__pool_host *h)
{
    SSL_SESSION_free(h->tls_sessions[0]);
    memmove(h->tls_sessions, h->tls_sessions + 1,
            (size_t)(h->ntls_sessions - 1) * sizeof h->tls_sessions[0]);
    h->ntls_sessions--;
}

/* OpenSSL's new-session callback: 1 keeps the reference it passed. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
    fh__conn *c = conn_index >= 0 ? SSL_get_ex_data(ssl, conn_index) : NULL;
    if (!c || !c->pool || !SSL_SESSION_is_resumable(sess))
        return 0;
    fh__pool_lock(c->pool);
    fh__pool_host *h = c->host;
    if (h->ntls_sessions == FH__TLS_SESSIONS)
        drop_oldest(h);
    h->tls_sessions[h->ntls_sessions++] = sess;
    fh__pool_unlock(c->pool);
    return 1;
}

int fh__tls_sessions_setup(SSL_CTX *ctx)
{
    pthread_once(&index_once, make_index);
    if (conn_index < 0)
        return FH_ENOMEM;
    SSL_CTX_sess_set_new_cb(ctx, on_new_session);
    return FH_OK;
}

void fh__tls_sessions_attach(fh__conn *c, fh__pool *p)
{
    if (conn_index < 0 || SSL_set_ex_data(c->ssl, conn_index, c) != 1)
        return; /* no resumption, and no session kept from it either */
    c->pool = p;
    SSL_SESSION *s = NULL;
    fh__pool_lock(p);
    fh__pool_host *h = c->host;
    if (h->ntls_sessions) {
        s = h->tls_sessions[h->ntls_sessions - 1]; /* the newest */
        if (SSL_SESSION_get_protocol_version(s) >= TLS1_3_VERSION)
            h->ntls_sessions--; /* ours now: a ticket is used once */
        else
            SSL_SESSION_up_ref(s);
    }
    fh__pool_unlock(p);
    if (s) {
        SSL_set_session(c->ssl, s); /* takes its own reference; a failure only
                                      means a full handshake */
        SSL_SESSION_free(s);
    }
}

void fh__tls_sessions_detach(fh__conn *c)
{
    if (c->ssl && c->pool && conn_index >= 0)
        SSL_set_ex_data(c->ssl, conn_index, NULL);
    c->pool = NULL;
}

void fh__tls_sessions_clear(fh__pool_host *h)
{
    while (h->ntls_sessions)
        SSL_SESSION_free(h->tls_sessions[--h->ntls_sessions]);
}
