/*
 * h2peer.h — a scripted HTTP/2 server for the fault tests (cleartext, the
 * client speaking HTTP/2 by prior knowledge, RFC 9113 §3.3).
 *
 * Each connection the client opens through h2peer_connect_hook() (one end
 * of a socketpair) runs the test's script function in a thread of its
 * own, with the connection's index (0, 1, ...). A script either serves
 * with nghttp2's own server session (h2p_serve: the test answers each
 * request from a handler, and may reset streams, send GOAWAY, hold or
 * trickle responses), or writes raw frames (h2p_raw_*) for what a
 * conforming server would never send: CONTINUATION floods, HPACK bombs,
 * PUSH_PROMISE after push was disabled, PING floods, garbage.
 *
 * Whatever the mode, every frame the client sends is logged (type, stream,
 * error code) as it arrives, so a test can check what the client did on
 * the wire: which streams it opened on which connection, which it reset
 * and with which code. Every wait polls a stop pipe: h2peer_stop() never
 * hangs on a client that is still connected.
 */
#ifndef FH_TEST_H2PEER_H
#define FH_TEST_H2PEER_H

#include <stddef.h>
#include <stdint.h>

typedef struct h2peer h2peer;
typedef struct h2p_conn h2p_conn;

/* Runs on each connection, in its own thread; the connection closes when
 * it returns. */
typedef void (*h2p_script)(h2p_conn *pc, void *ud);

h2peer *h2peer_start(h2p_script fn, void *ud);
/* Wakes and joins every connection thread, closes their sockets, frees p. */
void h2peer_stop(h2peer *p);
/* fh_connect_fn: a socketpair, one end to a new connection thread. */
int h2peer_connect_hook(void *peer, const char *host, int port);
int h2peer_connections(h2peer *p);

int h2p_index(const h2p_conn *pc);
h2peer *h2p_peer(const h2p_conn *pc);

/* ---- what the client sent (logged for every connection) ----------------- */

/* RFC 9113 §6 frame types. */
enum {
    H2F_DATA = 0, H2F_HEADERS = 1, H2F_PRIORITY = 2, H2F_RST_STREAM = 3, H2F_SETTINGS = 4,
    H2F_PUSH_PROMISE = 5, H2F_PING = 6, H2F_GOAWAY = 7, H2F_WINDOW_UPDATE = 8,
    H2F_CONTINUATION = 9
};
enum { H2_END_STREAM = 0x1, H2_ACK = 0x1, H2_END_HEADERS = 0x4 };

/* Frames of this type the client sent, on connection conn (-1: any), on
 * stream id (-1: any), with error code code (-1: any; RST_STREAM and
 * GOAWAY carry one). */
int h2peer_frames(h2peer *p, int conn, int type, int32_t id, int64_t code);
/* Waits up to ms for h2peer_frames(...) >= n; returns the count reached. */
int h2peer_wait_frames(h2peer *p, int n, int ms, int conn, int type, int32_t id, int64_t code);

/* Complete requests served by h2p_serve whose :path is path (NULL: any),
 * on connection conn (-1: any). */
int h2peer_requests(h2peer *p, const char *path, int conn);
int h2peer_wait_requests(h2peer *p, int n, int ms, const char *path, int conn);
/* Stream id of the k-th request for path (arrival order), or -1. */
int32_t h2peer_request_id(h2peer *p, const char *path, int k, int *conn);
/* Request body bytes received for the k-th request for path. */
size_t h2peer_request_body(h2peer *p, const char *path, int k);
/* Response body bytes h2p_serve has sent so far for the k-th request for path. */
size_t h2peer_sent(h2peer *p, const char *path, int k);

/* ---- serving with nghttp2's server session ------------------------------- */

typedef struct h2p_req {
    int32_t id;
    char method[16];
    char path[256];
    size_t body_len;
} h2p_req;

typedef struct h2p_handler {
    /* A request arrived whole (END_STREAM). Answer it now or later (from
     * on_tick), or never. */
    void (*on_request)(h2p_conn *pc, const h2p_req *r, void *ud);
    /* Called about every 5 ms while serving. */
    void (*on_tick)(h2p_conn *pc, void *ud);
    void *ud;
    uint32_t max_streams;    /* SETTINGS_MAX_CONCURRENT_STREAMS (0: not sent) */
    uint32_t initial_window; /* SETTINGS_INITIAL_WINDOW_SIZE (0: the default 65535) */
    /* Streams of this :path never get their stream window back (RFC 9113
     * §6.9): the client's request body stalls on it. NULL: none. */
    const char *starve_path;
} h2p_handler;

/* Serves until the client closes, the script calls h2p_close, or stop. */
void h2p_serve(h2p_conn *pc, const h2p_handler *h);

/* Inside h2p_serve (handler or tick). headers: NULL-terminated list of
 * name, value, name, value... (lower case), may be NULL. The body is
 * copied. */
void h2p_respond(h2p_conn *pc, int32_t id, int status, const char *const *headers,
                 const void *body, size_t len);
/* A body of len pattern bytes of which only what h2p_release allows is
 * sent (all of it with release_all). */
void h2p_respond_held(h2p_conn *pc, int32_t id, int status, size_t len, int release_all);
void h2p_release(h2p_conn *pc, int32_t id, size_t n);
void h2p_rst(h2p_conn *pc, int32_t id, uint32_t code);
void h2p_goaway(h2p_conn *pc, int32_t last_id, uint32_t code);
/* RFC 9113 §6.8: a GOAWAY with last-stream-id 2^31-1 announcing the real one. */
void h2p_shutdown_notice(h2p_conn *pc);
/* Sends what is queued, then closes the connection (ends h2p_serve). */
void h2p_close(h2p_conn *pc);
/* Requests served on this connection so far. */
int h2p_served(const h2p_conn *pc);

/* ---- raw frames ------------------------------------------------------------- */

/* Reads the client's preface and SETTINGS, sends an empty SETTINGS and
 * acknowledges the client's (RFC 9113 §3.4). 0, or -1 (client gone). */
int h2p_raw_handshake(h2p_conn *pc);
/* Reads frames until the client has opened n streams in all (HEADERS
 * frames on this connection); their ids go to ids (may be NULL). 0 or -1. */
int h2p_raw_wait_streams(h2p_conn *pc, int n, int32_t *ids, int ms);
/* Reads and logs whatever the client sends for ms; 1 if it closed. */
int h2p_raw_drain(h2p_conn *pc, int ms);
int h2p_raw_frame(h2p_conn *pc, int type, int flags, int32_t id, const void *payload,
                  size_t len);
int h2p_raw_send(h2p_conn *pc, const void *data, size_t len);
/* Like send, but gives up (returning 1) when the client stops reading for
 * ms: for floods the client is expected to cut off. */
int h2p_raw_send_or_stall(h2p_conn *pc, const void *data, size_t len, int ms);

/* HPACK (RFC 7541 §6.2.2): a literal field without indexing, new name;
 * with incremental indexing (§6.2.1) when index != 0. Returns bytes written
 * at out (which must hold name and value plus 12). */
size_t h2p_hpack_literal(uint8_t *out, const char *name, const char *value, size_t vlen,
                         int index);
/* §5.1 integer with an n-bit prefix whose high bits are first. */
size_t h2p_hpack_int(uint8_t *out, uint8_t first, int nbits, size_t v);

#endif
