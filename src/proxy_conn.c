/*
 * proxy_conn.c — a connection's way through a proxy (docs/architecture.md,
 * "Proxies and Unix sockets"): the route it copies when it is opened, TLS
 * to an HTTPS proxy (PROXY_TLS), and the handshake (PROXY) — CONNECT, or
 * SOCKS5's greeting, sub-negotiation and CONNECT — as a loop of "write what
 * proxy.c produced, read until it says the step is done". When the tunnel
 * stands, conn.c goes on with TLS to the origin (fh__conn_tunnel_ready).
 */
#include "internal.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

struct fh__conn_route {
    int kind;      /* FH__ROUTE_PROXY or FH__ROUTE_UNIX */
    int forward;
    fh__proxy px;  /* a copy: the connection may outlive the request */
    char *uds;
};

enum hs_step { HS_CONNECT = 1, HS_S5_METHOD, HS_S5_AUTH, HS_S5_RESOLVE, HS_S5_CONNECT };

struct fh__proxy_hs {
    int step;      /* enum hs_step */
    fh__buf out;   /* bytes of the current step still to write */
    size_t out_pos;
    fh__buf in;    /* the proxy's answer so far */
    size_t scan;   /* CONNECT reply: how far the head search got */
};

#define HS_READ 4096 /* a proxy's answers are small */

/* ---- the route ------------------------------------------------------------- */

static int unix_addr(fh__addrs *a, const char *path)
{
    if (!(a->v = calloc(1, sizeof *a->v)))
        return FH_ENOMEM;
    struct sockaddr_un *sa = (struct sockaddr_un *)&a->v[0].ss;
    size_t n = strlen(path);
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, path, n);
    /* "@name" is an abstract socket (Linux unix(7)): the name starts with
     * a NUL and its length is the address length, no terminator. */
    if (path[0] == '@') {
        sa->sun_path[0] = 0;
        a->v[0].len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        a->v[0].len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    }
    a->n = 1;
    return FH_OK;
}

int fh__proxy_conn_setup(fh__conn *c, const fh__route *r)
{
    struct fh__conn_route *cr = calloc(1, sizeof *cr);
    if (!cr)
        return FH_ENOMEM;
    cr->kind = r->kind;
    cr->forward = r->forward;
    int rc = FH_OK;
    if (r->kind == FH__ROUTE_UNIX) {
        if (!(cr->uds = strdup(r->uds)))
            rc = FH_ENOMEM;
        else
            rc = unix_addr(&c->addrs, r->uds);
    } else {
        rc = fh__proxy_copy(&cr->px, r->proxy);
    }
    c->route = cr;
    return rc;
}

void fh__proxy_conn_free(fh__conn *c)
{
    if (c->phs) {
        fh__buf_free(&c->phs->out);
        fh__buf_free(&c->phs->in);
        free(c->phs);
        c->phs = NULL;
    }
    if (c->route) {
        fh__proxy_free(&c->route->px);
        free(c->route->uds);
        free(c->route);
        c->route = NULL;
    }
}

int fh__conn_is_unix(const fh__conn *c)
{
    return c->route && c->route->kind == FH__ROUTE_UNIX;
}

const char *fh__conn_dial(const fh__conn *c, int *port)
{
    if (c->route && c->route->kind == FH__ROUTE_PROXY) {
        *port = c->route->px.port;
        return c->route->px.host;
    }
    *port = c->port;
    return c->hostname;
}

const char *fh__conn_peer(const fh__conn *c, char *buf, size_t len)
{
    if (fh__conn_is_unix(c))
        snprintf(buf, len, "Unix socket %s", c->route->uds);
    else if (c->route)
        snprintf(buf, len, "proxy %s", c->route->px.id);
    else
        snprintf(buf, len, "%s:%d", c->hostname, c->port);
    return buf;
}

/* ---- the handshake ------------------------------------------------------------ */

static void hs_done(fh__conn *c)
{
    fh__proxy_hs *hs = c->phs;
    int extra = hs->in.len > 0;
    fh__buf_free(&hs->out);
    fh__buf_free(&hs->in);
    free(hs);
    c->phs = NULL;
    if (extra) {
        /* Nothing may come from the tunnel before we speak: the origin's TLS
         * (or HTTP) exchange starts with the client. */
        fh__conn_fail(c, FH_EPROXY, "proxy %s sent bytes past its answer before the request",
                      c->route->px.id);
        return;
    }
    fh__conn_tunnel_ready(c);
}

/* Queues the SOCKS5 CONNECT request for the origin: its name (socks5h),
 * or an address (socks5: resolved here first, or an IP literal). */
static int s5_connect(fh__conn *c, const fh__addr *a)
{
    fh__proxy_hs *hs = c->phs;
    hs->out.len = hs->out_pos = 0;
    hs->step = HS_S5_CONNECT;
    if (!a)
        return fh__socks5_connect_request(&hs->out, c->hostname, NULL, 0, c->port);
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
        return fh__socks5_connect_request(&hs->out, NULL, (const uint8_t *)&in->sin_addr, 4,
                                          c->port);
    }
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;
    return fh__socks5_connect_request(&hs->out, NULL, (const uint8_t *)&in6->sin6_addr, 16,
                                      c->port);
}

/* After the method (and the credentials): the CONNECT request, once the
 * origin's address is known. 1: queued; 0: resolving first; < 0 failed. */
static int s5_next(fh__conn *c)
{
    fh__addrs a = {0};
    int rc;
    if (c->route->px.kind == FH__PX_SOCKS5H && !c->host_is_ip) {
        rc = s5_connect(c, NULL);
    } else if (fh__resolve_numeric(c->hostname, c->port, &a) == FH_OK) {
        rc = s5_connect(c, &a.v[0]);
        fh__addrs_free(&a);
    } else {
        c->phs->step = HS_S5_RESOLVE;
        rc = fh__engine_wake_fd(c->engine);
        if (rc == FH_OK)
            rc = fh__resolve_start(&c->job, c->hostname, c->port, &c->engine->wake, &c->note);
        if (rc == FH_OK) {
            fh__conn_watch(c, 0);
            return 0;
        }
        fh__conn_fail(c, rc, "cannot start resolving '%s'", c->hostname);
        return -1;
    }
    if (rc) {
        fh__conn_fail(c, FH_EPROXY, "cannot ask SOCKS5 proxy %s for %s:%d: %s", c->route->px.id,
                      c->hostname, c->port, rc == FH_EINVAL ? "name too long" : fh_strerror(rc));
        return -1;
    }
    return 1;
}

static int fail_connect_status(fh__conn *c, int status)
{
    c->proxy_status = status;
    if (status == 407)
        fh__conn_fail(c, FH_EPROXY, "proxy %s requires authentication (407 Proxy "
                      "Authentication Required)%s", c->route->px.id,
                      c->route->px.user ? ": the credentials were refused" : "");
    else
        fh__conn_fail(c, FH_EPROXY, "proxy %s answered %d to CONNECT %s:%d", c->route->px.id,
                      status, c->hostname, c->port);
    return -1;
}

/* Parses what arrived for the current step: 1 when the step is done (the
 * next one queued, or the handshake complete: c->phs->step 0), 0 for more
 * bytes, -1 when c failed. */
static int hs_parse(fh__conn *c)
{
    fh__proxy_hs *hs = c->phs;
    const fh__proxy *px = &c->route->px;
    const uint8_t *in = hs->in.data;
    size_t len = hs->in.len;
    const char *why = "malformed answer";
    int rc = 0, status = 0, method = 0;
    switch (hs->step) {
    case HS_CONNECT:
        rc = fh__proxy_connect_reply((const char *)in, len, &hs->scan, &status, &why);
        break;
    case HS_S5_METHOD: rc = fh__socks5_method(in, len, px->user != NULL, &method, &why); break;
    case HS_S5_AUTH: rc = fh__socks5_auth_reply(in, len, &why); break;
    case HS_S5_CONNECT: rc = fh__socks5_reply(in, len, &status, &why); break;
    default: return 0; /* HS_S5_RESOLVE: the resolver answers */
    }
    if (rc == FH_EAGAIN)
        return 0;
    if (rc < 0) {
        fh__conn_fail(c, FH_EPROXY, "proxy %s: %s", px->id, why);
        return -1;
    }
    fh__buf_consume(&hs->in, (size_t)rc);
    hs->scan = 0;
    hs->out.len = hs->out_pos = 0;
    switch (hs->step) {
    case HS_CONNECT: /* RFC 9110 §9.3.6: any 2xx opens the tunnel */
        if (status >= 100 && status < 200 && status != 101)
            return 1; /* an interim answer (RFC 9110 §15.2): the next head follows */
        if (status < 200 || status > 299)
            return fail_connect_status(c, status);
        hs->step = 0;
        return 1;
    case HS_S5_METHOD:
        if (method != 2)
            return s5_next(c);
        hs->step = HS_S5_AUTH;
        if (fh__socks5_auth_request(&hs->out, px->user, px->pass) != FH_OK) {
            fh__conn_fail(c, FH_EPROXY, "proxy %s: a SOCKS5 user name must have 1 to 255 bytes "
                          "and a password at most 255", px->id);
            return -1;
        }
        return 1;
    case HS_S5_AUTH: return s5_next(c);
    default:
        if (status != 0) {
            fh__conn_fail(c, FH_EPROXY, "SOCKS5 proxy %s could not connect to %s:%d: %s",
                          px->id, c->hostname, c->port, fh__socks5_rep_text(status));
            return -1;
        }
        hs->step = 0;
        return 1;
    }
}

/* Writes the step's bytes: 1 when all are out, 0 waiting, -1 failed. */
static int hs_write(fh__conn *c)
{
    fh__proxy_hs *hs = c->phs;
    while (hs->out_pos < hs->out.len) {
        struct iovec iov = {hs->out.data + hs->out_pos, hs->out.len - hs->out_pos};
        int want = 0;
        char err[128] = "";
        ssize_t w = fh__conn_writev(c, &iov, 1, &want, err, sizeof err);
        if (w == FH_EAGAIN) {
            if (fh__conn_watch(c, want) == FH_OK)
                return 0;
            fh__conn_fail(c, FH_ELOOP, "event loop refused to watch a socket");
            return -1;
        }
        if (w < 0) {
            fh__conn_fail(c, FH_EPROXY, "sending to proxy %s failed: %s", c->route->px.id, err);
            return -1;
        }
        hs->out_pos += (size_t)w;
    }
    return 1;
}

/* Reads what the proxy sent: 1 read some, 0 waiting, -1 failed. */
static int hs_read(fh__conn *c)
{
    fh__proxy_hs *hs = c->phs;
    if (hs->in.len >= 65536) {
        fh__conn_fail(c, FH_EPROXY, "proxy %s: answer too large", c->route->px.id);
        return -1;
    }
    if (fh__buf_reserve(&hs->in, HS_READ) != FH_OK) {
        fh__conn_fail(c, FH_ENOMEM, "out of memory");
        return -1;
    }
    int want = 0;
    char err[128] = "";
    ssize_t n = fh__conn_read(c, hs->in.data + hs->in.len, HS_READ, &want, err, sizeof err);
    if (n == FH_EAGAIN) {
        if (fh__conn_watch(c, want) != FH_OK) {
            fh__conn_fail(c, FH_ELOOP, "event loop refused to watch a socket");
            return -1;
        }
        return 0;
    }
    if (n <= 0) {
        fh__conn_fail(c, FH_EPROXY, "proxy %s closed the connection during the %s handshake%s%s",
                      c->route->px.id, hs->step == HS_CONNECT ? "CONNECT" : "SOCKS5",
                      n < 0 ? ": " : "", n < 0 ? err : "");
        return -1;
    }
    hs->in.len += (size_t)n;
    return 1;
}

static void hs_run(fh__conn *c)
{
    for (;;) {
        int rc = hs_write(c);
        if (rc <= 0)
            return;
        rc = hs_parse(c);
        if (rc < 0)
            return;
        if (rc > 0 && c->phs->step == 0) {
            hs_done(c);
            return;
        }
        if (rc > 0)
            continue;
        if (c->phs->step == HS_S5_RESOLVE || hs_read(c) <= 0)
            return;
    }
}

static void hs_begin(fh__conn *c)
{
    fh__proxy_hs *hs = calloc(1, sizeof *hs);
    if (!hs) {
        fh__conn_fail(c, FH_ENOMEM, "out of memory");
        return;
    }
    c->phs = hs;
    c->state = FH__C_PROXY;
    const fh__proxy *px = &c->route->px;
    int rc;
    if (px->kind == FH__PX_HTTP || px->kind == FH__PX_HTTPS) {
        hs->step = HS_CONNECT;
        rc = fh__proxy_connect_request(&hs->out, c->hostname, c->port, px);
    } else {
        uint8_t g[4];
        hs->step = HS_S5_METHOD;
        rc = fh__buf_append(&hs->out, g, fh__socks5_greeting(g, px->user != NULL));
    }
    if (rc) {
        fh__conn_fail(c, rc, "cannot write the request to proxy %s", px->id);
        return;
    }
    hs_run(c);
}

void fh__proxy_conn_resolved(fh__conn *c, fh__addrs *a)
{
    int rc = s5_connect(c, &a->v[0]);
    fh__addrs_free(a);
    if (rc) {
        fh__conn_fail(c, rc, "out of memory");
        return;
    }
    hs_run(c);
}

/* ---- TLS to an HTTPS proxy ----------------------------------------------------- */

/* After the proxy's TLS (or TCP): forward mode is ready, else the
 * handshake begins. */
static void after_proxy_tls(fh__conn *c)
{
    if (c->route->forward)
        fh__conn_tunnel_ready(c);
    else
        hs_begin(c);
}

static void proxy_tls_step(fh__conn *c)
{
    if (fh__conn_handshake(c))
        after_proxy_tls(c);
}

void fh__proxy_conn_connected(fh__conn *c)
{
    const fh__proxy *px = &c->route->px;
    if (px->kind != FH__PX_HTTPS) {
        after_proxy_tls(c);
        return;
    }
    char err[200] = "";
    SSL_CTX *ctx = NULL;
    fh_client *cl = c->engine->client;
    /* The proxy is verified like any server, against its own name, with the
     * client's trust store; it is spoken to in HTTP/1.1 only. */
    int rc = fh__client_ssl_ctx(cl, &ctx, err, sizeof err);
    if (rc == FH_OK)
        rc = fh__tls_conn_new(&c->ssl, ctx, c->fd, NULL, px->host, px->host_is_ip,
                              cl->tls.verify, 0, err, sizeof err);
    if (rc) {
        fh__conn_fail(c, rc, "TLS setup for proxy %s failed: %s", px->id, err);
        return;
    }
    c->state = FH__C_PROXY_TLS;
    proxy_tls_step(c);
}

void fh__proxy_conn_io(fh__conn *c)
{
    if (c->state == FH__C_PROXY_TLS)
        proxy_tls_step(c);
    else if (c->phs)
        hs_run(c);
}
