/*
 * internal.h — the objects behind the opaque public handles and the
 * interfaces between the engine's modules. Nothing here is public API.
 *
 * Layering (see docs/architecture.md):
 *   protocol cores (url, h1, decode, ...) — sans-IO
 *   exchange (one request and its response: exchange.c, body.c, policy.c)
 *   connection (socket, TLS, buffers, the exchanges it carries: conn.c)
 *   codec (the protocol behind a connection: h1_codec.c)
 *   pool (per client, thread-safe, keyed by origin)
 *   engine (fd table, timer heap, queues, inbox) + drivers (poll loop,
 *   external loop through fh_loop_ops)
 */
#ifndef FH_INTERNAL_H
#define FH_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/uio.h>

#include "fasthttp/fasthttp.h"
#include "buf.h"
#include "decode.h"
#include "fork.h"
#include "h1.h"
#include "proxy.h"
#include "resolve.h"
#include "timer.h"
#include "tls.h"
#include "url.h"

/* Resolves a URI reference (e.g. a Location value) against base (RFC 3986
 * §5.2) into a new absolute URL string in *out (malloc'd). FH_EURL when
 * ref is not a valid reference, FH_EUNSUPPORTED for non-http(s) schemes. */
int fh__url_resolve(const fh__url *base, const char *ref, size_t len, char **out);

#define FH__ERRMSG 256
#define FH__READ_CHUNK 65536      /* bytes asked from the socket per read */
#define FH__RBUF_MAX (256 * 1024) /* unconsumed bytes held before reading pauses */
#define FH__HAPPY_EYEBALLS_MS 250 /* RFC 8305 §5 connection attempt delay */

/* Monotonic clock in microseconds. */
int64_t fh__now_us(void);

/* ---- connection -------------------------------------------------------- */

typedef struct fh__conn fh__conn;
typedef struct fh__exchange fh__exchange;
typedef struct fh__codec fh__codec;

#define FH__TLS_SESSIONS 4 /* sessions kept per origin */

/* One origin of the pool. Guarded by the pool's lock. */
typedef struct fh__pool_host {
    struct fh__pool_host *hnext; /* hash chain */
    char *key;
    int open;                    /* connections open or being opened */
    int idle;
    int proto;                   /* what its servers answered by ALPN: 0 unknown, 11, 20 */
    int h2_budget;               /* streams an HTTP/2 connection of it served before its
                                    GOAWAY (nginx keepalive_requests), 0 unknown; read
                                    and written with relaxed atomics */
    fh__conn *idle_top;          /* LIFO stack of idle connections */
    fh__conn *shared;            /* busy connections with room (multiplexed), any engine */
    /* TLS sessions to resume, oldest first (tls_session.c) */
    SSL_SESSION *tls_sessions[FH__TLS_SESSIONS];
    int ntls_sessions;
    /* circuit breaker of this origin (retry.c) */
    int cb_state;                /* 0 closed, 1 open, 2 half-open */
    int cb_failures;             /* consecutive failures */
    int64_t cb_opened_at;        /* us, client clock */
} fh__pool_host;

enum fh__conn_state {
    FH__C_RESOLVING = 0, /* waiting for the resolver thread */
    FH__C_CONNECTING,    /* TCP attempts in flight (RFC 8305) */
    FH__C_PROXY_TLS,     /* TLS handshake with an HTTPS proxy */
    FH__C_PROXY,         /* CONNECT or SOCKS5 handshake with the proxy */
    FH__C_TLS,           /* TLS handshake */
    FH__C_READY,         /* a codec carries exchanges, or idle in the pool */
    FH__C_TAKEN          /* handed over after 101: no longer ours */
};

#define FH__MAX_ATTEMPTS 4 /* connection attempts in flight (Happy Eyeballs) */

/* A connection (docs/architecture.md, "Three objects"): the socket, TLS,
 * buffers and origin; the engine that drives it; the exchanges it carries
 * (or that wait for it while it opens) and how many more it may take. */
struct fh__conn {
    int fd;                        /* -1 until a connection attempt won */
    SSL *ssl;                      /* NULL for plain TCP */
    int state;                     /* enum fh__conn_state */
    fh__pool_host *host;           /* origin this connection belongs to */
    struct fh__pool *pool;         /* set while its SSL may store a session there */
    char *hostname;                /* where it goes (a copy: openers may go away) */
    int port, tls, host_is_ip;
    int http2;                     /* fh_http2_mode it was opened with (ALPN offer) */
    fh_engine *engine;             /* the engine driving it; NULL while idle */
    struct fh__conn *eprev, *enext;/* the engine's list of connections it drives */
    /* pool */
    struct fh__conn *prev, *next;  /* per-origin idle stack; engine's hot list */
    struct fh__conn *lprev, *lnext;/* pool-wide idle list (oldest at tail) */
    struct fh__conn *snext, *sprev;/* origin's shared list (busy with capacity) */
    struct fh__conn *fnext;        /* engine's list of deferred flushes */
    int64_t hot_since_us;          /* when its engine kept it hot (engine.c) */
    int flush_due;                 /* on that list */
    int64_t idle_since_us;
    uint64_t uses;                 /* exchanges completed on it */
    unsigned long gen;             /* fork generation it was opened in (fork.h) */
    /* what it carries */
    const fh__codec *codec;        /* NULL until READY */
    void *cs;                      /* the codec's state */
    fh__exchange *ex;              /* exchanges carried, or waiting while it opens */
    int nex;                       /* how many */
    int max_streams;               /* capacity: 1 for HTTP/1.1 */
    int watch;                     /* events registered for fd */
    fh__buf rbuf;                  /* bytes received and not yet consumed */
    size_t rpos;                   /* parse offset into rbuf */
    int lowat;                     /* SO_RCVLOWAT we set; 0 or 1: the kernel's default */
    int lowat_off;                 /* not for the rest of this response (transport.c) */
    /* opening */
    fh__resolve_job *job;
    fh__note note;                 /* the resolver's completion, posted to the engine */
    fh__addrs addrs;
    size_t next_addr;
    int attempt_fd[FH__MAX_ATTEMPTS];
    int nattempts;
    struct sockaddr_storage peer;  /* getpeername() of a connect done at once (conninfo) */
    socklen_t peer_len;            /* 0: not known yet */
    fh__timer timer;               /* next Happy Eyeballs attempt */
    int last_err;
    char err[160];                 /* why opening failed */
    struct fh__conninfo *info;     /* what it is, made when ready (conninfo.h) */
    /* proxies and Unix sockets (proxy_conn.c); all NULL/0 for direct ones */
    struct fh__conn_route *route;  /* how it reaches the origin */
    SSL *proxy_ssl;                /* TLS to an HTTPS proxy, under ssl (the origin's) */
    struct fh__proxy_hs *phs;      /* the proxy handshake in progress */
    int proxy_status;              /* the proxy's non-2xx answer to CONNECT */
};

/* ---- routes: proxies and Unix sockets (proxy_route.c, proxy_conn.c) ------ */

enum { FH__ROUTE_DIRECT = 0, FH__ROUTE_PROXY = 1, FH__ROUTE_UNIX = 2 };

/* The route of one hop (docs/architecture.md, "Proxies and Unix sockets");
 * the strings are borrowed from the client's or request's settings. */
typedef struct fh__route {
    int kind;                /* FH__ROUTE_* */
    int forward;             /* proxy in forward mode (plain http:// target) */
    const fh__proxy *proxy;  /* FH__ROUTE_PROXY */
    const char *uds;         /* FH__ROUTE_UNIX: a path, or "@name" (abstract) */
} fh__route;

typedef struct fh__proxy_config fh__proxy_config;
typedef struct fh__proxy_hs fh__proxy_hs;
struct fh__req_route;
struct fh__xroute;

void fh__proxy_config_free(fh__proxy_config *cfg);
void fh__req_route_free(struct fh__req_route *rr);
void fh__xroute_free(struct fh__xroute *rt);
/* Picks the route of x's hop; for a non-direct one sets x->host_key, and in
 * forward mode x->target (absolute form), HTTP/1.1 and the hop's
 * Proxy-Authorization field at x->hdrs[*n] (room for one is reserved).
 * FH_OK, or an error with the request's message set. */
int fh__route_prepare(fh__exchange *x, size_t *n);
/* The route of x's hop when it is not direct, else NULL. */
const fh__route *fh__ex_route(const fh__exchange *x);

/* c copies r (a Unix socket's address goes into c->addrs). */
int fh__proxy_conn_setup(fh__conn *c, const fh__route *r);
void fh__proxy_conn_free(fh__conn *c);
int fh__conn_is_unix(const fh__conn *c);
/* Where c connects to: the proxy, or the origin. */
const char *fh__conn_dial(const fh__conn *c, int *port);
/* "host:port", "proxy <id>" or "Unix socket <path>", for messages. */
const char *fh__conn_peer(const fh__conn *c, char *buf, size_t len);
/* TCP to the proxy is up: TLS to it, then the handshake; forward mode is
 * ready at once. */
void fh__proxy_conn_connected(fh__conn *c);
/* Readiness in PROXY_TLS or PROXY. */
void fh__proxy_conn_io(fh__conn *c);
/* The origin's addresses for a SOCKS5 (local resolution) target arrived:
 * the CONNECT request goes out (a is freed). */
void fh__proxy_conn_resolved(fh__conn *c, fh__addrs *a);
/* conn.c: advances c's TLS handshake (the proxy's in PROXY_TLS, else the
 * origin's): 1 when it is done; 0 while it waits, or after it failed and
 * failed c. */
int fh__conn_handshake(fh__conn *c);
/* conn.c: the tunnel stands (or there is none): TLS to the origin, or READY. */
void fh__conn_tunnel_ready(fh__conn *c);
/* conn.c: opening c failed; every exchange waiting on it fails. */
void fh__conn_fail(fh__conn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Opens a non-blocking TCP socket and starts connecting to addr. Returns the
 * fd, or a negative FH_E code (message in err). */
int fh__tcp_connect(const fh__addr *addr, char *err, size_t errlen);
/* Checks a connect in progress: 0 connected, FH_EAGAIN, or FH_ECONNECT. */
int fh__tcp_connect_result(int fd, char *err, size_t errlen);
/* 1 when fd's connect already completed (getpeername() succeeds; the
 * peer's address is stored), else 0 with *len 0. */
int fh__tcp_connected_now(int fd, struct sockaddr_storage *peer, socklen_t *len);
/* Reads from the connection (TCP or TLS): bytes, 0 on EOF, FH_EAGAIN with
 * *want set, or FH_EIO/FH_ETLS with err set. */
ssize_t fh__conn_read(fh__conn *c, void *buf, size_t len, int *want, char *err, size_t errlen);
/* Writes an iovec array: bytes written, FH_EAGAIN with *want, or an error. */
ssize_t fh__conn_writev(fh__conn *c, const struct iovec *iov, int iovcnt, int *want, char *err,
                        size_t errlen);
/* 1 when an idle connection is still usable: no EOF, no unexpected bytes. */
int fh__conn_alive(fh__conn *c);
/* Large bodies: the socket is reported readable only once `bytes` are
 * queued (SO_RCVLOWAT), or at the first byte again when bytes <= 1. The
 * caller keeps bytes <= what the peer still has to send, so the wait always
 * ends (docs/architecture.md, "Large bodies: one wake-up per 64 KiB").
 * Returns 0, or -1 when the mark could not be put back to 1 (the
 * connection must not be reused then). A no-op where unsupported. */
int fh__conn_set_lowat(fh__conn *c, int bytes);
/* A read timeout while a raised mark holds back bytes that did arrive:
 * 1 when there were some (the mark is dropped for the rest of the response
 * and the socket reads as ready, so it is progress, not a timeout). */
int fh__conn_lowat_rescue(fh__conn *c);
fh__conn *fh__conn_new(int fd);
/* Closes the socket (TLS shutdown best-effort) and frees the connection. */
void fh__conn_close(fh__conn *c);
/* Closes this process's copy of an inherited connection (fork): no TLS
 * close_notify and no shutdown(2), both of which would act on the socket
 * the parent still uses; close(2) of a copy leaves the parent's intact. */
void fh__conn_close_quiet(fh__conn *c);

/* conn.c: opening, driving and releasing connections. */
/* Opens a connection to x's origin in a slot the pool reserved; x waits on
 * it (WAIT) and is started on it once it is ready. */
void fh__conn_open(fh_engine *e, fh__exchange *x);
/* Puts a ready connection (idle from the pool, or hot) under engine e. */
void fh__conn_adopt(fh_engine *e, fh__conn *c);
/* x starts on the ready connection c (the codec writes its request). */
void fh__conn_attach(fh__conn *c, fh__exchange *x);
/* x no longer rides on c: clean means its response was read to its end.
 * The codec decides what becomes of c (pooled, kept, closed). */
void fh__conn_detach(fh__conn *c, fh__exchange *x, int clean);
/* Readiness of one of c's descriptors (its socket or an attempt). */
void fh__conn_on_ready(fh__conn *c, int fd, int events);
/* The resolver's note arrived for c. */
void fh__conn_on_resolved(fh__conn *c);
/* c's Happy Eyeballs timer fired. */
void fh__conn_on_timer(fh__conn *c, int64_t now);
/* Registers interest in c's socket (0: none). FH_OK or FH_ELOOP. */
int fh__conn_watch(fh__conn *c, int events);
/* The codec is done with c: back to the pool when reusable, else closed;
 * kept hot in the engine while an action runs. */
void fh__conn_release(fh__conn *c, int reusable);
/* In a forked child: c is the parent's; forget it without a byte sent. */
void fh__conn_forget(fh__conn *c);
/* A connection this engine is opening to x's origin that may turn out to be
 * HTTP/2 and has room for another waiter, or NULL. */
fh__conn *fh__engine_pending_conn(fh_engine *e, const fh__exchange *x);
/* x waits on c, which is being opened, instead of opening another. */
void fh__conn_join(fh__conn *c, fh__exchange *x);
/* After a 101 to a request that asked to upgrade: c leaves the engine and
 * the pool's books and belongs to resp until taken or freed. */
void fh__conn_take_over(fh__conn *c, fh_response *resp);

/* ---- pool -------------------------------------------------------------- */

typedef struct fh__waiter {
    struct fh__waiter *prev, *next;
    fh__pool_host *host;
    fh__wakeup *wake;  /* the waiting engine's inbox */
    fh__note note;     /* posted to it when the waiter is granted something */
    int queued;
    int granted;       /* 1: a slot or a connection was handed over */
    int http2;         /* the waiting exchange's fh_http2_mode: what it can use */
    fh__conn *conn;    /* handed-over idle connection, or NULL for a slot */
    unsigned long gen; /* fork generation it was queued in */
} fh__waiter;

typedef struct fh__pool {
    pthread_mutex_t lock;
    fh__fork_lock fork_node;       /* the lock's entry in the fork registry */
    unsigned long gen;             /* fork generation of the state below */
    fh__pool_host **buckets;
    size_t nbuckets, nhosts;
    fh__conn *lru_head, *lru_tail; /* every idle connection, newest first */
    fh__waiter *wait_head, *wait_tail;
    int open, idle, waiting;
    int max_total, max_per_host, max_idle_per_host;
    int64_t idle_timeout_us;
    uint64_t created, reused;
    uint64_t tls_resumed;          /* handshakes that resumed a session (atomic) */
    uint64_t conn_ids;             /* the last connection number given (atomic) */
} fh__pool;

void fh__pool_init(fh__pool *p);
void fh__pool_destroy(fh__pool *p);

/* Takes the pool's lock. In a forked child, the first caller finds the
 * pool stamped with the parent's generation and makes it forget the
 * parent's state first (pool.c, forget_parent). Every function that
 * touches the pool's shared state locks through this. */
void fh__pool_lock(fh__pool *p);
void fh__pool_unlock(fh__pool *p);

/* TLS session resumption (tls_session.c). setup: ctx keeps the sessions
 * servers give; attach: c (whose SSL exists, for its host) offers one and
 * keeps what it gets in p; detach: before c's SSL goes; clear: drops h's
 * sessions, pool lock held. */
int fh__tls_sessions_setup(SSL_CTX *ctx);
void fh__tls_sessions_attach(fh__conn *c, struct fh__pool *p);
void fh__tls_sessions_detach(fh__conn *c);
void fh__tls_sessions_clear(fh__pool_host *h);

/* Finds or creates the origin entry for key (e.g. "https://host:443"). */
fh__pool_host *fh__pool_host_get(fh__pool *p, const char *key);

enum { FH__CHECKOUT_CONN = 0, FH__CHECKOUT_SLOT = 1, FH__CHECKOUT_SHARED = 2 };
/*
 * Gets, in this order: a shared connection of engine e with room
 * (FH__CHECKOUT_SHARED, *out set: busy-with-capacity, multiplexed), a live
 * idle connection (FH__CHECKOUT_CONN, *out set, exclusive), a reserved slot
 * for a new one (FH__CHECKOUT_SLOT), or queues w (FH_EAGAIN) until
 * fh__pool_waiter_take() can hand one over; the grant is posted to w's
 * inbox. fresh: never reuse a connection (retry after a failed reused one).
 */
int fh__pool_checkout(fh__pool *p, fh__pool_host *h, fh_engine *e, fh__waiter *w, int fresh,
                      int http2, fh__conn **out);
/* A connection fits an exchange's fh_http2_mode: HTTP/2 connections for ON
 * and ONLY, HTTP/1.1 ones for OFF and ON. */
int fh__conn_fits(const fh__conn *c, int http2);
/* Remembers what an origin answered by ALPN (11 or 20). */
void fh__pool_note_proto(fh__pool *p, fh__pool_host *h, int proto);
/* After w's note arrived: like checkout's results, or FH_EAGAIN if not yet. */
int fh__pool_waiter_take(fh__pool *p, fh__waiter *w, fh__conn **out);
/* Leaves the queue; anything granted meanwhile is given back. */
void fh__pool_waiter_cancel(fh__pool *p, fh__waiter *w);
/* A new connection was opened in a reserved slot. */
void fh__pool_opened(fh__pool *p, fh__conn *c, fh__pool_host *h);
/* Returns a connection: kept idle when reusable, else closed; either way
 * a waiter may be served. A connection on the shared list leaves it. */
void fh__pool_release(fh__pool *p, fh__conn *c, int reusable);
/* A multiplexed connection of its engine has room (listed: further requests
 * of that engine ride on it) or not (unlisted). */
void fh__pool_share(fh__pool *p, fh__conn *c, int has_room);
/* Forgets a connection that was handed over (101): it leaves the pool's
 * counts and limits, and a waiter may be served. */
void fh__pool_forget(fh__pool *p, fh__conn *c);
/* Gives back a reserved slot whose connection attempt failed. Slots
 * reserved before a fork are never given back in the child: the engine
 * forgets them and the pool reset its counts. */
void fh__pool_slot_release(fh__pool *p, fh__pool_host *h);

/* ---- client, request, response ---------------------------------------- */

/* Engines a client keeps for its next blocking calls (client.c): enough for
 * the threads of a busy application, each with no descriptor unless it
 * once waited for DNS or a pool slot (its eventfd). */
#define FH__IDLE_ENGINES 32

struct fh_client {
    uint64_t id;                    /* unique in the process, from 1 */
    pthread_mutex_t lock;           /* guards lazy TLS context creation, idle[] */
    fh__fork_lock fork_node;        /* the lock's entry in the fork registry */
    int64_t timeout_ms[FH_TIMEOUT_KINDS];
    int64_t limit[FH_LIMIT_KINDS];
    int decode;
    int http2;                      /* fh_http2_mode */
    char *user_agent;
    fh__tls_config tls;
    SSL_CTX *ssl_ctx;               /* built once, shared by all connections */
    int used;                       /* a request was sent: TLS settings frozen */
    fh__pool pool;
    fh_connect_fn connect_hook;
    void *connect_ud;
    struct fh__shared *shared;      /* the shared engine of blocking calls (shared.c) */
    fh_engine *idle[FH__IDLE_ENGINES]; /* engines of ended blocking calls, under lock */
    int nidle;
    /* policies (policy.c, retry.c) */
    fh_retry_policy retry;
    int has_retry;
    int follow_redirects;
    int max_redirects;
    int auth_kind;
    char *auth_user, *auth_pass;
    int digest_alg;          /* Digest algorithm asked for (auth.h), 0: any */
    fh_cookie_jar *jar;             /* borrowed */
    int64_t (*clock)(void *ud);     /* breaker clock (us), NULL: monotonic */
    void *clock_ud;
    fh__proxy_config *px;           /* proxies, NO_PROXY, Unix socket; NULL: none */
};

/* shared.c: blocking calls that may use HTTP/2 run on one engine per client. */
typedef struct fh__shared fh__shared;
int fh__shared_init(fh_client *cl);
void fh__shared_free(fh_client *cl);
/* 1 when a blocking call should go to the shared engine: HTTP/2 allowed,
 * the origin not known to answer HTTP/1.1, the response buffered, the body
 * in memory. */
int fh__shared_wanted(fh_client *cl, const fh_request *req);
int fh__shared_send(fh_client *cl, fh_request *req, const fh_wait_hooks *hooks,
                    fh_response **out);

/* The breaker clock of the client. */
int64_t fh__client_now(const fh_client *c);

/* Returns the shared SSL_CTX, building it on first use (thread-safe). */
int fh__client_ssl_ctx(fh_client *c, SSL_CTX **out, char *err, size_t errlen);

typedef struct fh__hdr {
    char *name;   /* name and value in one allocation, or in a header set's */
    size_t name_len;
    char *value;
    size_t value_len;
    int borrowed;          /* the strings are a header set's (request.c) */
    fh_header_set *set;    /* on the first field of a set: the request's reference */
} fh__hdr;

typedef struct fh__url_shared fh__url_shared; /* url_cache.c */

struct fh_request {
    char *method;
    size_t method_len;
    char *url_str;           /* the URL as given, without user:password@ */
    fh__url url;
    fh__url_shared *url_shared; /* url, url_str and pool_key belong to it, or NULL */
    char *url_user, *url_pass; /* decoded credentials from the URL, or NULL */
    char *pool_key;
    /* The pool's entry for pool_key in the client whose id is host_client:
     * a request sent again skips the lookup (entries live as long as their
     * client; ids are never reused, addresses may be). */
    struct fh__pool_host *host;
    uint64_t host_client;
    fh__hdr *hdrs;
    size_t nhdrs, hdr_cap;
    const uint8_t *body;     /* memory body */
    size_t body_len;
    uint8_t *body_owned;
    int has_body;
    fh_body_read_fn body_fn; /* streamed body */
    void *body_ud;
    int64_t body_fn_len;     /* -1: chunked */
    /* A lent body (fh_request_set_body_lender): body_fn is then
     * fh__body_lent_copy, which copies from the lent piece for the codecs
     * that need a copy (HTTP/2); HTTP/1.1 sends the pieces as they are. */
    fh_body_lend_fn lend_fn;
    void *lend_ud;
    const uint8_t *lent;     /* the rest of the current piece (copy path) */
    size_t lent_len;
    /* A file body (fh_request_set_body_file): body_fn is fh__body_file_read. */
    int file_fd, file_err;
    int64_t file_off, file_done;
    int64_t timeout_ms[FH_TIMEOUT_KINDS]; /* -1: client's default */
    int64_t limit[FH_LIMIT_KINDS];        /* -1: client's */
    int stream;
    fh_body_storage storage; /* alloc NULL: none */
    int expect_continue;     /* 1: Expect: 100-continue */
    int64_t expect_wait_ms;
    int decode;              /* -1: client's default */
    int http2;               /* -1: client's; else fh_http2_mode */
    int head;                /* method is HEAD */
    int idempotent;          /* RFC 9110 §9.2.2 */
    fh_retry_policy retry;
    int has_retry;           /* 1: retry overrides the client's */
    int follow_redirects;    /* -1: client's */
    int max_redirects;       /* -1: client's */
    fh_cookie_jar *jar;      /* NULL: client's */
    int auth_kind;           /* -1: client's */
    char *auth_user, *auth_pass;
    int digest_alg;          /* -1: client's; else as fh_client's */
    char **sensitive;        /* extra header names dropped across origins */
    size_t nsensitive;
    char errmsg[FH__ERRMSG];
    fh__exchange *xfer;      /* the exchange in flight, if any */
    struct fh__req_route *route; /* the request's own proxy or socket, NULL: client's */
    int proxy_status;        /* the proxy's answer when it refused a CONNECT */
};

int fh__request_has_header(const fh_request *req, const char *name);
/* Room for more fields in req->hdrs: FH_OK or FH_ENOMEM. */
int fh__request_reserve_hdrs(fh_request *req, size_t more);
/* 1 for the fields the library owns (Content-Length, Transfer-Encoding). */
int fh__request_is_managed(const char *name, size_t len);

/* url_cache.c: a parsed URL shared by requests with the same bytes (each
 * thread remembers its last). fh__url_shared_get gives a new reference, or
 * FH_EAGAIN for a URL with user:password@, which is never shared: it is
 * then parsed into *own for the request alone (the caller frees it), or
 * FH_EURL/FH_EUNSUPPORTED/FH_ENOMEM with *why as fh__url_parse sets it.
 * The strings are read-only and live as long as a reference does. */
int fh__url_shared_get(const char *s, size_t len, fh__url_shared **out, fh__url *own,
                       const char **why);
void fh__url_shared_unref(fh__url_shared *s);
const fh__url *fh__url_shared_url(const fh__url_shared *s);
char *fh__url_shared_str(const fh__url_shared *s);
char *fh__url_shared_pool_key(const fh__url_shared *s);
int fh__request_is_sensitive(const fh_request *req, const char *name, size_t len);

/* Sets req's message from a printf format. */
void fh__request_fail(fh_request *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct fh_response {
    int status;
    int attempts;
    char *url;               /* URL this response came from (in its own block) */
    fh_response **history;   /* redirect hops, oldest first */
    size_t nhistory;
    int version;
    char *head;              /* copy of the response head (HTTP/2: its fields) */
    size_t head_len;
    const char *reason;
    size_t reason_len;
    fh_header *hdrs;         /* views into head; both in the response's own block */
    size_t nhdrs;
    fh__buf body;            /* buffered body */
    /* body.data is the caller's storage (fh_body_storage) when handle is set. */
    fh_body_storage storage;
    void *storage_handle;
    /* Room for a small body of known length in the response's own block
     * (response.c), used when neither storage nor decoding applies. */
    uint8_t *inline_body;
    size_t inline_cap;
    int has_body;            /* the framing announced a body */
    uint64_t content_length; /* announced length, UINT64_MAX when unknown */
    fh_timings timings;
    fh__exchange *xfer;      /* stream mode: the exchange still reading */
    fh_engine *owned_engine; /* blocking stream mode: private engine to free */
    fh_wait_hooks wait;      /* blocking stream mode: hooks of fh_response_read */
    fh__conn *upgraded;      /* after 101: the connection, until taken or freed */
    /* The request this response answers, as written (sent.c): one block. */
    char *sent;
    const char *sent_method, *sent_url;
    fh_header *sent_hdrs;
    size_t nsent;
    uint64_t wire_bytes;     /* body bytes received, before content decoding */
    struct fh__conninfo *conn_info; /* the connection it came over (conninfo.h) */
};

/* sent.c: records on r the request x wrote for it (method, url as shown,
 * the header fields in the order and form the codec wrote them). */
int fh__response_record_request(fh_response *r, const fh__exchange *x, const char *url);
/* response.c: frees the buffered body, or releases the caller's storage
 * (fh_body_storage) nobody took. */
void fh__response_drop_body(fh_response *r);
/* h2_codec.c: 1 when HTTP/2 does not carry the field (RFC 9113 §8.2.2). */
int fh__h2_field_dropped(const fh_header *f);

/* Builds a response from a parsed head (copies the head bytes) that came
 * from url (the hop's, without credentials; copied too). */
/* 1 when r's body lives in the room of r's own block (it cannot grow and
 * is not freed on its own). */
static inline int fh__response_body_inline(const fh_response *r)
{
    return r->inline_body && r->body.data == r->inline_body;
}
fh_response *fh__response_new(const fh__h1_head *h, const char *raw, const char *url,
                              size_t inline_cap);
/* Appends one field to a buffer of fields for fh__response_new_fields
 * (each stored as two 32-bit lengths, then name NUL value NUL). */
int fh__response_field_add(fh__buf *fields, const char *name, size_t nlen, const char *value,
                           size_t vlen);
/* Builds a response from the n fields in fields (HTTP/2: no reason
 * phrase) that came from url, both copied into the response's own block;
 * NULL when out of memory. */
fh_response *fh__response_new_fields(int status, int version, const fh__buf *fields, size_t n,
                                     const char *url);

/* poll_loop.c: one blocking call (fh_client_send_with, a blocking
 * fh_response_read) waiting on its private engine, running its hooks. */
typedef struct fh__block {
    fh_engine *engine;
    fh_request *req;            /* whose body reader may pause */
    const fh_wait_hooks *hooks; /* NULL: none */
    int64_t next_us;            /* when on_wait is due */
    const char *why;            /* set when the wait failed on its own */
} fh__block;

void fh__block_begin(fh__block *b, fh_engine *e, fh_request *req, const fh_wait_hooks *hooks);
/* One turn: serves a paused body reader (on_body_paused, then resume),
 * or polls until the next on_wait is due (or forever without one) and
 * runs on_wait when due. FH_OK, a hook's negative value, FH_ELOOP, or
 * FH_EBODY_SOURCE (b->why set) for a paused reader without a hook. */
int fh__block_wait(fh__block *b);

/* ---- exchange ------------------------------------------------------------ */

/* policy.c: the decisions between attempts and hops. */
int fh__policy_init(fh__exchange *x);
void fh__policy_free(fh__exchange *x);
/* Adds the headers the policy owns for this hop (Cookie, Authorization)
 * and says which of the caller's headers to leave out. */
int fh__policy_headers(fh__exchange *x, fh_header *extra, size_t *nextra);
int fh__policy_skip_header(const fh__exchange *x, const char *name, size_t len);
/* Before the first step: FH_ECIRCUIT_OPEN when the breaker refuses. */
int fh__policy_admit(fh__exchange *x);
/* A final head arrived: 1 when the policy takes over (redirect, retry,
 * auth challenge) and the exchange continues, 0 to deliver it, <0 error. */
int fh__policy_on_head(fh__exchange *x);
/* The exchange failed with code: 1 when a retry was scheduled. */
int fh__policy_on_error(fh__exchange *x, int code);
/* The URL of the current hop. */
const char *fh__policy_url(const fh__exchange *x);
/* The wait before the next attempt (us), consumed by the caller. */
int64_t fh__policy_delay(fh__exchange *x);

enum fh__ex_state {
    FH__X_START = 0, /* on the run queue for its first step of an attempt */
    FH__X_WAIT,      /* waiting for a connection: the pool's queue, or one being opened */
    FH__X_ACTIVE,    /* a connection carries it: request out, response in */
    FH__X_STREAMING, /* head delivered; the user pulls the body */
    FH__X_BACKOFF,   /* waiting before the next attempt */
    FH__X_DONE
};

/* An exchange (docs/architecture.md, "Three objects"): one request and its
 * response, whatever connection and codec carry it. */
struct fh__exchange {
    struct fh__exchange *prev, *next;   /* engine's list of live exchanges */
    struct fh__exchange *qnext;         /* engine's run queue or callback queue */
    struct fh__exchange *cprev, *cnext; /* the connection's exchanges */
    fh_engine *engine;
    fh_request *req;
    /* The current hop: the request's own URL and method, or a redirect's. */
    const fh__url *url;
    const char *pool_key;         /* the origin, as the policy compares them */
    const char *host_key;         /* the pool's key: pool_key, or with the route */
    const char *target;           /* the request-target written: the URL's, or the
                                     absolute form through a forward proxy */
    size_t target_len;            /* strlen(target), measured once per hop */
    struct fh__xroute *rt;        /* the hop's route when the client or request has
                                     proxy settings, else NULL */
    const char *method;
    size_t method_len;
    int send_body;                /* 0 once a 301/302/303 dropped the body */
    struct fh__policy *pol;       /* retries, redirects, auth (policy.c) */
    struct fh__policy *pol_mem;   /* its memory, kept while x is recycled */
    fh_callbacks cb;
    void *ud;
    int state;                    /* enum fh__ex_state */
    int result;                   /* final code once DONE (or a stream's error) */
    int done_code;                /* what on_done reports: result when x finished (a
                                     stream that fails before on_done ran still
                                     delivers its head; reads then fail) */
    int completed;                /* on_done is queued or was called */
    int queued;                   /* on the engine's callback queue */
    int runq;                     /* on the engine's run queue */
    int notify_done;              /* on_done is due */
    int notify_body;              /* on_body is due */
    /* deadlines */
    fh__timer timer;              /* the nearest of the deadlines below */
    int64_t t_start;
    int64_t total_deadline;       /* 0: none */
    int64_t phase_deadline;       /* current phase's timeout, 0: none */
    int phase_error;              /* code when phase_deadline passes */
    int64_t tmo[FH_TIMEOUT_KINDS];/* effective timeouts, microseconds */
    int64_t limit[FH_LIMIT_KINDS];/* effective limits (request's or client's) */
    /* connection */
    fh__pool_host *host;
    fh__waiter waiter;
    int fresh_only;               /* the next checkout must not reuse a connection */
    fh__conn *conn;               /* carrying it, or being opened for it */
    int reused;                   /* conn came from the pool */
    int retried;                  /* already retried once on a fresh connection */
    int upgrade;                  /* the request asks to switch protocols (101) */
    int http2;                    /* fh_http2_mode in effect */
    void *cx;                     /* the codec's state for this exchange (an HTTP/2 stream) */
    /* the current hop's request header fields (fh__ex_prepare) */
    fh_header *hdrs;
    size_t nhdrs, hdr_cap;
    size_t nchecked;              /* hdrs[0, nchecked) are the request's, checked when added */
    const char *authority;        /* Host value, or NULL when the caller sends Host */
    size_t authority_len;         /* its length (0 when NULL) */
    int64_t framing;              /* body length, or FH__BODY_NONE / FH__BODY_CHUNKED */
    int in_queue;                 /* the waiter may be in the pool's queue */
    /* request body source */
    int64_t body_sent;            /* bytes from the body reader */
    int body_paused;              /* the reader said FH_EAGAIN */
    /* response */
    int got_bytes;                /* any response byte arrived on this attempt */
    int decode;
    fh__decoder *dec;
    int dec_done;                 /* decoder drained */
    int body_complete;            /* body read to the end and validated */
    int want_read;                /* stream mode: the user waits for bytes */
    int discard;                  /* reading a hop's body only to reuse the connection */
    uint64_t discarded;
    fh_response *resp;
    int resp_given;               /* on_done handed resp to the user */
    fh_timings tm;
};

/* exchange.c */
int fh__ex_init(fh__exchange *x, fh_engine *e, fh_request *req);
/* Ends x: what it holds is released and x goes to its engine's spares. */
void fh__ex_free(fh__exchange *x);
/* A zeroed exchange, recycled when the engine has one (its header array
 * and policy memory kept), else allocated; NULL when out of memory. */
fh__exchange *fh__ex_new(fh_engine *e);
/* Frees an exchange for good (the engine's spares when it is freed). */
void fh__ex_destroy(fh__exchange *x);
/* Runs the next step of a START exchange (from the engine's run queue). */
void fh__ex_step(fh__exchange *x);
/* x's waiter note arrived: the pool granted a slot or a connection. */
void fh__ex_on_grant(fh__exchange *x);
/* x's timer fired at now. */
void fh__ex_on_timer(fh__exchange *x, int64_t now);
/* Arms the deadline of the phase that starts now (kind < 0: none). */
void fh__ex_set_phase(fh__exchange *x, int kind, int err);
/* Recomputes x's timer from its deadlines. */
void fh__ex_arm(fh__exchange *x);
/* Fails x with a printf message (the retry policy may take over first). */
void fh__ex_fail(fh__exchange *x, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fails with the message already in req->errmsg. */
void fh__ex_fail_code(fh__exchange *x, int code);
/* A connection-level failure before any response byte: a stale pooled
 * connection is retried once on a fresh one (RFC 9112 §9.3.1), else x
 * fails. Returns 1 when retried. */
int fh__ex_io_error(fh__exchange *x, int code, const char *what, const char *detail);
/* A streamed body failed after the head was delivered. */
void fh__ex_stream_fail(fh__exchange *x, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The policy took over after a head, or a retry was scheduled: drop the
 * attempt's I/O, then restart (now or after the backoff). */
void fh__ex_continue(fh__exchange *x);
/* Delivers x to on_done (queued, run at the end of the engine's action). */
void fh__ex_finish(fh__exchange *x, int code);
/* Queues on_body for a streaming exchange. */
void fh__ex_notify_body(fh__exchange *x);
/* The process forked while x was live (see fh__engine_check_fork). */
void fh__ex_forked(fh__exchange *x);
/* Elapsed time since x started, for fh_timings. */
static inline int64_t fh__ex_elapsed(const fh__exchange *x)
{
    return fh__now_us() - x->t_start;
}
/* The request body of the current hop: memory (x->req->body) or a reader. */
static inline int fh__ex_has_body(const fh__exchange *x)
{
    return x->send_body && x->req->has_body;
}
/* Pulls the next piece of a reader body: n > 0 bytes, 0 at its end, FH_EAGAIN
 * when paused (fh_engine_resume continues), or FH_EBODY_SOURCE (message set). */
ssize_t fh__ex_body_read(fh__exchange *x, uint8_t *buf, size_t cap);
/* The next piece of a lent body (fh_request_set_body_lender) without a
 * copy: *data and its length, 0 at the end, FH_EAGAIN (body_paused set) or
 * FH_EBODY_SOURCE; counted and checked as fh__ex_body_read counts. */
ssize_t fh__ex_body_lend(fh__exchange *x, const uint8_t **data);
ssize_t fh__body_lent_copy(void *ud, uint8_t *buf, size_t cap);
ssize_t fh__body_file_read(void *ud, uint8_t *buf, size_t cap);

/* body.c: the response body, whatever the codec. */
/* A final head arrived in x->resp (the codec parsed it); the policy decides
 * whether it is delivered, drained for the next hop, or retried. The codec
 * must not touch the connection after this returns: x may have ended and
 * released it. */
void fh__ex_on_head(fh__exchange *x);
/* More body bytes can be pulled (the codec read some, or the body ended).
 * Same rule as fh__ex_on_head for the connection. */
void fh__ex_on_data(fh__exchange *x);
/* Stream mode: up to cap decoded bytes (fh_response_read). */
ssize_t fh__ex_read_body(fh__exchange *x, uint8_t *buf, size_t cap);

/* The request fields of the current hop in x->hdrs: the caller's (minus
 * those the hop drops), the policy's (Cookie, Authorization) and the
 * defaults; the body framing in x->framing. FH_EHEADER (message set) when
 * the head would exceed max_request_header_size. Run before a connection
 * is taken, so a refused request costs none. */
int fh__ex_prepare(fh__exchange *x);

/* ---- codec ----------------------------------------------------------------- */

#define FH__SPAN_END 2 /* codec span(): the body ended, validated */
#define FH__DIRECT_NO (-100000) /* codec read_into(): use span() instead */
#define FH__DIRECT_MIN 16384    /* read_into() only for reads at least this large */
#define FH__LOWAT 65536         /* read_into(): wake up per this many bytes (transport.c) */

/* The protocol behind a connection (docs/architecture.md, "Three objects").
 * Calls come from the engine's thread only. */
struct fh__codec {
    const char *name;
    /* c just became READY with this codec: set up c->cs and max_streams. */
    int (*init)(fh__conn *c);
    void (*free)(fh__conn *c);
    /* x (linked in c->ex) begins on c: write its request. */
    void (*start)(fh__conn *c, fh__exchange *x);
    /* c's socket is ready for events. */
    void (*io)(fh__conn *c, int events);
    /* The next span of x's de-framed response body: 1 with p and n set, 0
     * when no bytes are there yet (it reads the socket first, never
     * blocking), FH__SPAN_END at the validated end, or < 0 (message set). */
    int (*span)(fh__conn *c, fh__exchange *x, const uint8_t **p, size_t *n);
    void (*consume)(fh__conn *c, fh__exchange *x, size_t n);
    /* Optional: reads x's body from the socket straight into dst (up to
     * cap), skipping the connection's buffer: > 0 bytes, FH_EAGAIN, < 0 on
     * error (message set), or FH__DIRECT_NO when spans must be used (bytes
     * are buffered, the framing needs parsing, or too little is left). */
    ssize_t (*read_into)(fh__conn *c, fh__exchange *x, uint8_t *dst, size_t cap);
    /* Stream mode: x waits for body bytes (on) or does not (off). */
    int (*want_body)(fh__conn *c, fh__exchange *x, int on);
    /* x's body reader has data again, or its 100-continue wait expired. */
    void (*resume)(fh__conn *c, fh__exchange *x);
    /* x left c (already unlinked): clean = its response was read to its
     * validated end. The codec decides c's fate (fh__conn_release, ...). */
    void (*leave)(fh__conn *c, fh__exchange *x, int clean);
    /* A 100-continue wait or similar codec deadline of x passed. */
    void (*on_timer)(fh__conn *c, fh__exchange *x);
    /* Writes what the codec held back for the end of the engine's action
     * (fh__engine_defer_flush); NULL for a codec that never defers. */
    void (*flush)(fh__conn *c);
    /* The connection's own timer (c->timer) fired while it is READY: a
     * codec whose deadlines belong to the connection rather than to an
     * exchange (WebSocket keepalive and close timeout). NULL: unused. */
    void (*tick)(fh__conn *c, int64_t now);
};

extern const fh__codec fh__h1_codec;
extern const fh__codec fh__h2_codec;
/* The codec of an open WebSocket (ws_codec.c): a connection taken over
 * after 101 and put back under an engine, c->cs is its fh_ws. */
extern const fh__codec fh__ws_codec;
/* Streams a new HTTP/2 connection to this origin may carry (h2_codec.c). */
int fh__h2_origin_cap(const fh__pool_host *host);
/* Whether an idle HTTP/2 connection may be reused (its waiting frames
 * taken by nghttp2); the pool's liveness check for HTTP/2. */
int fh__h2_alive(fh__conn *c);

/* ---- engine ------------------------------------------------------------ */

/* A call the engine makes at the end of the current action, with the
 * exchanges' callbacks (never inside the API call that queued it). What is
 * not an exchange but reports to user code (a WebSocket's events) queues
 * one of these. */
typedef struct fh__defer {
    struct fh__defer *next;
    void (*fn)(struct fh__defer *d);
    int queued;
} fh__defer;

struct fh_engine {
    fh_client *client;
    fh_loop_ops ops;
    void *loop_ud;
    int builtin;
    int epfd;                     /* built-in loop's epoll backend, -1: poll(2) */
    fh__wakeup wake;              /* inbox: resolver results and pool grants */
    fh__exchange *live;           /* exchanges in flight */
    size_t nlive;                 /* of those, not completed yet */
    size_t nall;                  /* all of them (streams included) */
    fh__exchange *run_head, *run_tail;   /* exchanges whose next step is due */
    fh__exchange *done_head, *done_tail; /* callbacks to run */
    fh__defer *defer_head, *defer_tail;  /* deferred calls (WebSocket events) */
    fh__conn *conns;              /* connections this engine drives */
    /* fd table: which connection an fd belongs to and what is watched */
    struct fh__fdent { fh__conn *c; int events; } *fds;
    size_t nfds;
    size_t fd_hi;                 /* no fd at or above it is watched (poll_loop.c) */
    fh__heap timers;              /* deadlines of exchanges and connections */
    int64_t timer_at;             /* armed deadline in us, 0 none, 1 at once */
    int in_action;                /* re-entrancy guard */
    fh__conn *hot;                /* connections freed during this action, still watched */
    fh__conn *flushes;            /* connections whose writes wait for the action's end */
    fh__exchange *spare;          /* freed exchanges kept for the next submits */
    int nspare;
    unsigned long gen;            /* fork generation of the fds above (fork.h) */
    /* Notes of other kinds than the engine's own (the shared engine's calls). */
    void (*note_hook)(fh_engine *e, fh__note *n);
    void *note_ud;
    int no_hot;                   /* release freed connections to the pool at once */
};

/* engine.c: glue used by exchanges, connections and codecs. */
/* Keeps a reusable connection in the engine until the current action ends,
 * so a request submitted from a callback can take it without a pool round
 * trip, a liveness probe and two epoll_ctl calls. Returns 0 when the engine
 * is not inside an action (the caller then pools it). */
int fh__engine_keep_hot(fh_engine *e, fh__conn *c);
/* c (driven by e, inside an action) has frames to write that may wait until
 * the action ends: requests started in one action then go out in one write
 * (one TLS record, one segment) instead of one each. */
void fh__engine_defer_flush(fh_engine *e, fh__conn *c);
/* c leaves e or closes: off the deferred-flush list, unwritten. */
void fh__engine_cancel_flush(fh_engine *e, fh__conn *c);
/* A hot connection of that origin that fits the fh_http2_mode, or NULL. */
fh__conn *fh__engine_take_hot(fh_engine *e, fh__pool_host *h, int http2);
/* Maps fd to c with the given interest (0: watched by nobody). */
int fh__engine_watch(fh_engine *e, fh__conn *c, int fd, int events);
void fh__engine_unwatch(fh_engine *e, int fd);
/* The inbox's eventfd, created on first need. */
int fh__engine_wake_fd(fh_engine *e);
/* The blocking call that drove e (built-in loop) has ended: hands its hot
 * connections to the pool and returns 1 when nothing of the call is left,
 * so the client may keep e for its next blocking call (client.c); 0 when e
 * must be freed instead. */
int fh__engine_park(fh_engine *e);
/* Queues x for its next step on the next turn. */
void fh__engine_run(fh_engine *e, fh__exchange *x);
/* Queues x's callback. */
void fh__engine_queue_done(fh_engine *e, fh__exchange *x);
/* Queues d to run at the end of the current action (or of the next one:
 * the loop is asked for an immediate turn); no-op when queued already. */
void fh__engine_defer(fh_engine *e, fh__defer *d);
/* Takes d off the queue (its owner is going away). */
void fh__engine_undefer(fh_engine *e, fh__defer *d);
/* Sets a timer of the engine's heap (0 removes it). */
void fh__engine_timer(fh_engine *e, fh__timer *t, int64_t due);
/* Recomputes the engine's timer (the external loop's, or timer_at of the
 * built-in loop) after a change outside socket_action/poll. */
void fh__engine_rearm(fh_engine *e);
/* Frees an exchange and takes it off the engine's lists (cancel, a
 * response freed while streaming). */
void fh__engine_free_exchange(fh__exchange *x);
/* At every entry point: 1 when e was inherited from the parent process and
 * has just dropped everything that belongs to the parent (engine.c,
 * after_fork), 0 otherwise. */
int fh__engine_check_fork(fh_engine *e);

#endif
