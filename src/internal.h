/*
 * internal.h — the objects behind the opaque public handles and the
 * interfaces between the engine's modules. Nothing here is public API.
 *
 * Layering (see docs/architecture.md):
 *   protocol cores (url, h1, decode)  — sans-IO
 *   transport (conn: TCP or TLS socket, read buffer)
 *   pool (per client, thread-safe, keyed by origin)
 *   engine (xfer state machines, timers, fd table) + drivers (poll loop,
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
#include "resolve.h"
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

/* One origin of the pool. Guarded by the pool's lock. */
typedef struct fh__pool_host {
    struct fh__pool_host *hnext; /* hash chain */
    char *key;
    int open;                    /* connections open or being opened */
    int idle;
    fh__conn *idle_top;          /* LIFO stack of idle connections */
    /* circuit breaker of this origin (retry.c) */
    int cb_state;                /* 0 closed, 1 open, 2 half-open */
    int cb_failures;             /* consecutive failures */
    int64_t cb_opened_at;        /* us, client clock */
} fh__pool_host;

struct fh__conn {
    int fd;
    SSL *ssl;                      /* NULL for plain TCP */
    fh__pool_host *host;           /* origin this connection belongs to */
    struct fh__conn *prev, *next;  /* per-origin idle stack */
    struct fh__conn *lprev, *lnext;/* pool-wide idle list (oldest at tail) */
    int64_t idle_since_us;
    uint64_t uses;                 /* exchanges completed on it */
    fh__buf rbuf;                  /* bytes received and not yet parsed */
    size_t rpos;                   /* parse offset into rbuf */
    /* HTTP/2 later: a connection may carry many streams; the pool keeps it
     * checked out while streams < max_streams. HTTP/1.1 has max_streams 1. */
    int max_streams;
    int streams;
    unsigned long gen;             /* fork generation it was opened in (fork.h) */
};

/* Opens a non-blocking TCP socket and starts connecting to addr. Returns the
 * fd, or a negative FH_E code (message in err). */
int fh__tcp_connect(const fh__addr *addr, char *err, size_t errlen);
/* Checks a connect in progress: 0 connected, FH_EAGAIN, or FH_ECONNECT. */
int fh__tcp_connect_result(int fd, char *err, size_t errlen);
/* Reads from the connection (TCP or TLS): bytes, 0 on EOF, FH_EAGAIN with
 * *want set, or FH_EIO/FH_ETLS with err set. */
ssize_t fh__conn_read(fh__conn *c, void *buf, size_t len, int *want, char *err, size_t errlen);
/* Writes an iovec array: bytes written, FH_EAGAIN with *want, or an error. */
ssize_t fh__conn_writev(fh__conn *c, const struct iovec *iov, int iovcnt, int *want, char *err,
                        size_t errlen);
/* 1 when an idle connection is still usable: no EOF, no unexpected bytes. */
int fh__conn_alive(fh__conn *c);
fh__conn *fh__conn_new(int fd);
/* Closes the socket (TLS shutdown best-effort) and frees the connection. */
void fh__conn_close(fh__conn *c);
/* Closes this process's copy of an inherited connection (fork): no TLS
 * close_notify and no shutdown(2), both of which would act on the socket
 * the parent still uses; close(2) of a copy leaves the parent's intact. */
void fh__conn_close_quiet(fh__conn *c);

/* ---- pool -------------------------------------------------------------- */

typedef struct fh__waiter {
    struct fh__waiter *prev, *next;
    fh__pool_host *host;
    fh__wakeup *wake;  /* signalled when the waiter is granted something */
    int queued;
    int granted;       /* 1: a slot or a connection was handed over */
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
} fh__pool;

void fh__pool_init(fh__pool *p);
void fh__pool_destroy(fh__pool *p);

/* Takes the pool's lock. In a forked child, the first caller finds the
 * pool stamped with the parent's generation and makes it forget the
 * parent's state first (pool.c, forget_parent). Every function that
 * touches the pool's shared state locks through this. */
void fh__pool_lock(fh__pool *p);
void fh__pool_unlock(fh__pool *p);

/* Finds or creates the origin entry for key (e.g. "https://host:443"). */
fh__pool_host *fh__pool_host_get(fh__pool *p, const char *key);

enum { FH__CHECKOUT_CONN = 0, FH__CHECKOUT_SLOT = 1 };
/*
 * Gets a live idle connection (FH__CHECKOUT_CONN, *out set), or reserves a
 * slot for a new one (FH__CHECKOUT_SLOT), or queues w (FH_EAGAIN) until
 * fh__pool_waiter_take() can hand one over. fresh: never reuse an idle
 * connection (retry after a failed reused one).
 */
int fh__pool_checkout(fh__pool *p, fh__pool_host *h, fh__waiter *w, int fresh, fh__conn **out);
/* After w's wakeup fired: like checkout's results, or FH_EAGAIN if not yet. */
int fh__pool_waiter_take(fh__pool *p, fh__waiter *w, fh__conn **out);
/* Leaves the queue; anything granted meanwhile is given back. */
void fh__pool_waiter_cancel(fh__pool *p, fh__waiter *w);
/* A new connection was opened in a reserved slot. */
void fh__pool_opened(fh__pool *p, fh__conn *c, fh__pool_host *h);
/* Returns a connection: kept idle when reusable, else closed; either way
 * a waiter may be served. */
void fh__pool_release(fh__pool *p, fh__conn *c, int reusable);
/* Gives back a reserved slot whose connection attempt failed. Slots
 * reserved before a fork are never given back in the child: the engine
 * forgets them (fh__xfer_forked) and the pool reset its counts. */
void fh__pool_slot_release(fh__pool *p, fh__pool_host *h);

/* ---- client, request, response ---------------------------------------- */

struct fh_client {
    pthread_mutex_t lock;           /* guards lazy TLS context creation */
    fh__fork_lock fork_node;        /* the lock's entry in the fork registry */
    int64_t timeout_ms[FH_TIMEOUT_KINDS];
    int64_t limit[FH_LIMIT_KINDS];
    int decode;
    char *user_agent;
    fh__tls_config tls;
    SSL_CTX *ssl_ctx;               /* built once, shared by all connections */
    int used;                       /* a request was sent: TLS settings frozen */
    fh__pool pool;
    fh_connect_fn connect_hook;
    void *connect_ud;
    /* policies (policy.c, retry.c) */
    fh_retry_policy retry;
    int has_retry;
    int follow_redirects;
    int max_redirects;
    int auth_kind;
    char *auth_user, *auth_pass;
    fh_cookie_jar *jar;             /* borrowed */
    int64_t (*clock)(void *ud);     /* breaker clock (us), NULL: monotonic */
    void *clock_ud;
};

/* The breaker clock of the client. */
int64_t fh__client_now(const fh_client *c);

/* Returns the shared SSL_CTX, building it on first use (thread-safe). */
int fh__client_ssl_ctx(fh_client *c, SSL_CTX **out, char *err, size_t errlen);

typedef struct fh__hdr {
    char *name;   /* name and value in one allocation */
    size_t name_len;
    char *value;
    size_t value_len;
} fh__hdr;

struct fh_request {
    char *method;
    size_t method_len;
    char *url_str;           /* the URL as given, without user:password@ */
    fh__url url;
    char *url_user, *url_pass; /* decoded credentials from the URL, or NULL */
    char *pool_key;
    fh__hdr *hdrs;
    size_t nhdrs, hdr_cap;
    const uint8_t *body;     /* memory body */
    size_t body_len;
    uint8_t *body_owned;
    int has_body;
    fh_body_read_fn body_fn; /* streamed body */
    void *body_ud;
    int64_t body_fn_len;     /* -1: chunked */
    int64_t timeout_ms[FH_TIMEOUT_KINDS]; /* -1: client's default */
    int64_t limit[FH_LIMIT_KINDS];        /* -1: client's */
    int stream;
    int expect_continue;     /* 1: Expect: 100-continue */
    int64_t expect_wait_ms;
    int decode;              /* -1: client's default */
    int head;                /* method is HEAD */
    int idempotent;          /* RFC 9110 §9.2.2 */
    fh_retry_policy retry;
    int has_retry;           /* 1: retry overrides the client's */
    int follow_redirects;    /* -1: client's */
    int max_redirects;       /* -1: client's */
    fh_cookie_jar *jar;      /* NULL: client's */
    int auth_kind;           /* -1: client's */
    char *auth_user, *auth_pass;
    char **sensitive;        /* extra header names dropped across origins */
    size_t nsensitive;
    char errmsg[FH__ERRMSG];
    struct fh__xfer *xfer;   /* the exchange in flight, if any */
};

int fh__request_has_header(const fh_request *req, const char *name);
int fh__request_is_sensitive(const fh_request *req, const char *name, size_t len);

/* Sets req's message from a printf format. */
void fh__request_fail(fh_request *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct fh_response {
    int status;
    int attempts;
    char *url;               /* URL this response came from */
    fh_response **history;   /* redirect hops, oldest first */
    size_t nhistory;
    int version;
    char *head;              /* copy of the response head; views point in */
    size_t head_len;
    const char *reason;
    size_t reason_len;
    fh_header *hdrs;
    size_t nhdrs;
    fh__buf body;            /* buffered body */
    fh_timings timings;
    struct fh__xfer *xfer;   /* stream mode: the exchange still reading */
    fh_engine *owned_engine; /* blocking stream mode: private engine to free */
};

/* Builds a response from a parsed head (copies the head bytes). */
fh_response *fh__response_new(const fh__h1_head *h, const char *raw);

/* ---- engine ------------------------------------------------------------ */

struct fh__xfer;
/* policy.c: the decisions between attempts and hops. */
int fh__policy_init(struct fh__xfer *x);
void fh__policy_free(struct fh__xfer *x);
/* Adds the headers the policy owns for this hop (Cookie, Authorization)
 * and says which of the caller's headers to leave out. */
int fh__policy_headers(struct fh__xfer *x, fh_header *extra, size_t *nextra);
int fh__policy_skip_header(const struct fh__xfer *x, const char *name, size_t len);
/* Before the first step: FH_ECIRCUIT_OPEN when the breaker refuses. */
int fh__policy_admit(struct fh__xfer *x);
/* A final head arrived: 1 when the policy takes over (redirect, retry,
 * auth challenge) and the exchange continues, 0 to deliver it, <0 error. */
int fh__policy_on_head(struct fh__xfer *x);
/* The exchange failed with code: 1 when a retry was scheduled. */
int fh__policy_on_error(struct fh__xfer *x, int code);
/* The URL of the current hop. */
const char *fh__policy_url(const struct fh__xfer *x);
/* The wait before the next attempt (us), consumed by the caller. */
int64_t fh__policy_delay(struct fh__xfer *x);

enum fh__xfer_state {
    FH__X_START = 0,
    FH__X_POOL_WAIT,
    FH__X_RESOLVING,
    FH__X_CONNECTING,
    FH__X_TLS,
    FH__X_SENDING,
    FH__X_RECV_HEAD,
    FH__X_RECV_BODY,  /* buffered mode: engine reads the whole body */
    FH__X_STREAMING,  /* stream mode: the user pulls the body */
    FH__X_BACKOFF,    /* waiting before the next attempt */
    FH__X_DONE
};

#define FH__MAX_ATTEMPTS 4 /* connection attempts in flight (Happy Eyeballs) */

typedef struct fh__xfer {
    struct fh__xfer *prev, *next; /* engine's list of live transfers */
    struct fh__xfer *cnext;       /* completion queue */
    fh_engine *engine;
    fh_request *req;
    /* The current hop: the request's own URL and method, or a redirect's. */
    const fh__url *url;
    const char *pool_key;
    const char *method;
    size_t method_len;
    int send_body;                /* 0 once a 301/302/303 dropped the body */
    struct fh__policy *pol;       /* retries, redirects, auth (policy.c) */
    fh_callbacks cb;
    void *ud;
    int state;
    int result;                   /* final code once DONE */
    int completed;                /* on_done is queued or was called */
    int queued;                   /* on the engine's notification queue */
    int notify_done;              /* on_done is due */
    int notify_body;              /* on_body is due */
    int cancelled;
    int64_t t_start;
    int64_t total_deadline;       /* 0: none */
    int64_t phase_deadline;       /* current phase's timeout, 0: none */
    int phase_error;              /* code when phase_deadline passes */
    int64_t tmo[FH_TIMEOUT_KINDS];/* effective timeouts, microseconds */
    int64_t limit[FH_LIMIT_KINDS];/* effective limits (request's or client's) */
    /* pool */
    fh__pool_host *host;
    fh__waiter waiter;
    int have_slot;
    int fresh_only;
    /* resolve + connect */
    fh__resolve_job *job;
    fh__addrs addrs;
    size_t next_addr;
    int attempt_fd[FH__MAX_ATTEMPTS];
    int nattempts;
    int64_t next_attempt_at;
    int last_connect_err;
    /* connection */
    fh__conn *conn;
    int reused;
    int retried;
    int watch_events;             /* interest currently registered for conn->fd */
    /* sending */
    fh__buf out;                  /* request head (+ small body, chunk frames) */
    size_t out_pos;
    size_t body_pos;              /* memory body bytes sent */
    int body_phase;               /* 0 head, 1 body, 2 done */
    int64_t body_sent;            /* bytes from the body reader */
    int body_eof;
    int body_paused;              /* reader said FH_EAGAIN */
    int body_phase0;              /* body_phase to restart from on a retry */
    int awaiting_continue;        /* head sent, body held until 100 Continue */
    int expect_done;              /* the 100-continue wait happened for this attempt */
    int body_unsent;              /* a final response came before the body went out */
    uint8_t *chunk;               /* scratch for the body reader */
    /* receiving */
    fh__h1_limits lim;
    size_t head_scan;
    int interim;
    int got_bytes;                /* any response byte arrived */
    fh_header *hdr_store;
    fh__h1_head head;
    fh__h1_body body;
    fh__decoder *dec;
    int decode;
    int body_done;                /* framing complete */
    int dec_done;                 /* decoder drained */
    int keep_alive;
    int want_read;                /* stream mode: user waits for bytes */
    int discard;                  /* reading a hop's body only to reuse the connection */
    uint64_t discarded;
    int peer_eof;                 /* the server closed its side */
    int body_complete;            /* body read to the end and validated */
    size_t pay_off, pay_len;      /* payload span in conn->rbuf not yet consumed */
    fh_response *resp;
    int resp_given;               /* on_done handed resp to the user */
    fh_timings tm;
} fh__xfer;

struct fh_engine {
    fh_client *client;
    fh_loop_ops ops;
    void *loop_ud;
    int builtin;
    int epfd;                     /* built-in loop's epoll backend, -1: poll(2) */
    fh__wakeup wake;              /* resolver and pool notifications */
    int wake_registered;
    fh__xfer *live;               /* transfers in flight */
    size_t nlive;
    fh__xfer *done_head, *done_tail;
    /* fd table: which transfer owns an fd and what is watched */
    struct fh__fdent { fh__xfer *x; int events; } *fds;
    size_t nfds;
    int64_t timer_at;             /* armed deadline in us, 0 none */
    int in_action;                /* re-entrancy guard */
    fh__conn *hot;                /* connections freed during this action, still watched */
    int start_pending;            /* a submitted transfer awaits its first step */
    unsigned long gen;            /* fork generation of the fds above (fork.h) */
};

/* engine.c: fd table and timer glue used by the state machine. */
/* Keeps a reusable connection in the engine until the current action ends,
 * so a request submitted from a callback can take it without a pool round
 * trip, a liveness probe and two epoll_ctl calls. Returns 0 when the engine
 * is not inside an action (the caller then pools it). */
int fh__engine_keep_hot(fh_engine *e, fh__conn *c);
/* A hot connection of that origin, or NULL. */
fh__conn *fh__engine_take_hot(fh_engine *e, fh__pool_host *h);
int fh__engine_watch(fh_engine *e, fh__xfer *x, int fd, int events);
void fh__engine_unwatch(fh_engine *e, int fd);
void fh__xfer_finish(fh__xfer *x, int code);
/* Queues an on_body notification for a streaming transfer. */
void fh__xfer_notify_body(fh__xfer *x);
int fh__engine_wake_fd(fh_engine *e);
/* Recomputes the engine's timer (the external loop's, or timer_at of the
 * built-in loop) after a change outside socket_action/poll. */
void fh__engine_rearm(fh_engine *e);
/* At every entry point: 1 when e was inherited from the parent process and
 * has just dropped everything that belongs to the parent (engine.c,
 * after_fork), 0 otherwise. */
int fh__engine_check_fork(fh_engine *e);

/* engine_io.c: the state machine. */
int fh__xfer_init(fh__xfer *x, fh_engine *e, fh_request *req);
void fh__xfer_step(fh__xfer *x, int fd, int events);
void fh__xfer_on_timeout(fh__xfer *x, int64_t now);
void fh__xfer_on_wake(fh__xfer *x);
int64_t fh__xfer_deadline(const fh__xfer *x);
void fh__xfer_cleanup(fh__xfer *x, int reusable);
ssize_t fh__xfer_read_body(fh__xfer *x, uint8_t *buf, size_t cap);
void fh__xfer_free(fh__xfer *x);
/* The process forked while x was live: forgets its connection, pool slot
 * or place in the queue and its resolver job without touching them, and
 * fails it with FH_EFORKED (see fh__engine_check_fork). */
void fh__xfer_forked(fh__xfer *x);

/* Shared by engine_io.c and engine_recv.c. */
static inline int64_t fh__xfer_elapsed(const fh__xfer *x)
{
    return fh__now_us() - x->t_start; /* for fh_timings */
}
void fh__xfer_fail(fh__xfer *x, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fails with the message already in req->errmsg. */
void fh__xfer_fail_code(fh__xfer *x, int code);
void fh__xfer_set_phase(fh__xfer *x, int kind, int err);
int fh__xfer_io_error(fh__xfer *x, int code, const char *what, const char *detail);
void fh__xfer_begin_recv(fh__xfer *x);
void fh__xfer_recv(fh__xfer *x);
void fh__xfer_stream_fail(fh__xfer *x, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void fh__xfer_release_conn(fh__xfer *x, int reusable);
/* Sends the held-back body after 100 Continue (or the wait expired). */
void fh__xfer_resume_send(fh__xfer *x);
/* Writes the current hop's request head into x->out. */
int fh__xfer_build_head(fh__xfer *x);
/* Starts (again) from the pool checkout: the next attempt or hop. */
void fh__xfer_restart(fh__xfer *x);
/* The policy took over after a head: discard the body, then go on. */
void fh__xfer_continue(fh__xfer *x);

#endif
