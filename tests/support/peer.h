/*
 * peer.h — a scripted raw-socket HTTP peer for fault tests.
 *
 * The peer listens on 127.0.0.1 (a free port) in a thread. The k-th
 * connection it accepts runs the k-th script (the last script is reused for
 * later connections), each connection in its own thread so a held
 * connection never blocks the next one. Every wait polls a stop pipe, so
 * fh_peer_stop() returns promptly even while a client is still connected.
 *
 * A script is an array of steps ending with PEER_END, written inline:
 *
 *     static const fh_peer_step s[] = {
 *         PEER_READ,
 *         PEER_SEND("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
 *         PEER_END,
 *     };
 *     fh_peer *p = fh_peer_start1(s);
 *
 * Scripts are copied (data included) by fh_peer_start. After the last step
 * the connection is closed.
 */
#ifndef FH_TEST_PEER_H
#define FH_TEST_PEER_H

#include <stddef.h>
#include <stdint.h>

typedef enum fh_peer_op {
    FH_PEER_END = 0,         /* end of the script: close the connection */
    FH_PEER_READ_REQUEST,    /* read one request (head + Content-Length or chunked body) */
    FH_PEER_SEND,            /* send data/len */
    FH_PEER_SEND_SLOW,       /* send data/len one byte at a time, ms after each byte */
    FH_PEER_SLEEP,           /* wait ms */
    FH_PEER_CLOSE,           /* close the connection (ends the script) */
    FH_PEER_HALF_CLOSE,      /* shutdown(SHUT_WR): the client sees EOF, we can still read */
    FH_PEER_WAIT_PEER_CLOSE, /* read and discard until the client closes */
    FH_PEER_SEND_GZIP_BOMB,  /* 200 response, Content-Encoding: gzip, len MiB of zeros */
    FH_PEER_HOLD,            /* never answer; wait until the client closes or stop */
    FH_PEER_READ_RAW         /* read exactly len bytes (after an upgrade), recorded
                                as a request */
} fh_peer_op;

typedef struct fh_peer_step {
    fh_peer_op op;
    const char *data; /* SEND, SEND_SLOW */
    size_t len;       /* SEND, SEND_SLOW: bytes; SEND_GZIP_BOMB: MiB of zeros */
    int ms;           /* SEND_SLOW: delay after each byte; SLEEP: duration */
    int chunked;      /* SEND_GZIP_BOMB: 1 = chunked framing, 0 = Content-Length */
} fh_peer_step;

/* Step constructors. PEER_SEND/PEER_SEND_SLOW take string literals. */
#define PEER_END {FH_PEER_END, NULL, 0, 0, 0}
#define PEER_READ {FH_PEER_READ_REQUEST, NULL, 0, 0, 0}
#define PEER_SEND(lit) {FH_PEER_SEND, (lit), sizeof(lit) - 1, 0, 0}
#define PEER_SEND_N(ptr, n) {FH_PEER_SEND, (const char *)(ptr), (n), 0, 0}
#define PEER_SEND_SLOW(lit, ms_) {FH_PEER_SEND_SLOW, (lit), sizeof(lit) - 1, (ms_), 0}
#define PEER_SLEEP(ms_) {FH_PEER_SLEEP, NULL, 0, (ms_), 0}
#define PEER_CLOSE {FH_PEER_CLOSE, NULL, 0, 0, 0}
#define PEER_HALF_CLOSE {FH_PEER_HALF_CLOSE, NULL, 0, 0, 0}
#define PEER_WAIT_CLOSE {FH_PEER_WAIT_PEER_CLOSE, NULL, 0, 0, 0}
#define PEER_GZIP_BOMB(mib, is_chunked) {FH_PEER_SEND_GZIP_BOMB, NULL, (mib), 0, (is_chunked)}
#define PEER_HOLD {FH_PEER_HOLD, NULL, 0, 0, 0}
#define PEER_READ_RAW(n) {FH_PEER_READ_RAW, NULL, (n), 0, 0}

typedef struct fh_peer fh_peer;

/* Starts a peer running scripts[0..n) (n >= 1). NULL on failure (printed). */
fh_peer *fh_peer_start(const fh_peer_step *const *scripts, size_t n);
/* The common case: one script for every connection. */
fh_peer *fh_peer_start1(const fh_peer_step *script);

/* Stops the peer: wakes and joins every thread, closes every socket and
 * frees it. Never hangs on a connected client. NULL is ignored. */
void fh_peer_stop(fh_peer *p);

/* The TCP port the peer listens on, and "http://127.0.0.1:PORT" + path
 * written into out (returns out). */
int fh_peer_port(const fh_peer *p);
char *fh_peer_url(const fh_peer *p, const char *path, char *out, size_t cap);

/* Connections accepted (or adopted) so far. */
int fh_peer_connections(fh_peer *p);

/* Complete requests read so far (by READ_REQUEST steps, all connections). */
int fh_peer_request_count(fh_peer *p);
/* The raw bytes of the k-th request (0-based, arrival order), NUL-terminated
 * copy owned by the peer until fh_peer_stop; NULL if there is no such
 * request. *conn (optional) receives the index of its connection. */
const char *fh_peer_request(fh_peer *p, int k, size_t *len, int *conn);

/* An fh_connect_fn for fh_client_set_connect_hook(client, fh_peer_connect_hook,
 * peer): instead of TCP, hands one end of a socketpair to the peer (which
 * runs the next script on it) and returns the other, non-blocking end. */
int fh_peer_connect_hook(void *peer, const char *host, int port);

/* Waits up to timeout_ms for the peer to have accepted at least n
 * connections / read at least n requests; returns the count reached. Use it
 * instead of sleeping when a test must see the peer catch up. */
int fh_peer_wait_connections(fh_peer *p, int n, int timeout_ms);
int fh_peer_wait_requests(fh_peer *p, int n, int timeout_ms);

#endif
