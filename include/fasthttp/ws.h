/*
 * fasthttp/ws.h — WebSocket client (RFC 6455) with permessage-deflate
 * (RFC 7692).
 *
 * An fh_ws is opened from a client: the opening handshake is an ordinary
 * HTTP/1.1 request of that client (its TLS settings, timeouts, default
 * headers, cookies, credentials and redirect policy apply; ws:// is sent as
 * http://, wss:// as https://; never HTTP/2), whose 101 answer hands the
 * connection over. From then on the connection is driven by an engine, like
 * HTTP requests:
 *
 *  - blocking: fh_ws_connect() makes a private engine; fh_ws_recv(),
 *    fh_ws_send() and fh_ws_close() wait on it (running the wait hooks of
 *    fh_ws_set_wait_hooks()), and keepalive pings and the close timeout run
 *    while one of them waits;
 *  - on an event loop: fh_ws_start() on an fh_engine; nothing blocks,
 *    events arrive through one callback (only from fh_engine_socket_action()
 *    / fh_engine_poll(), never inside a call of this API), and the engine's
 *    timers run keepalive and the close timeout whether or not anybody
 *    reads.
 *
 * Received messages are reassembled from their fragments, decompressed and
 * checked (text must be UTF-8) before fh_ws_recv() returns them. A peer that
 * breaks the protocol gets a close frame with 1002, 1007 (bad UTF-8 or
 * deflate data) or 1009 (message over FH_WS_MAX_MESSAGE, counted after
 * decompression), and the calls then return FH_EWS_PROTO.
 * Every frame is masked with a fresh key from OpenSSL's CSPRNG.
 *
 * An fh_ws is used from one thread at a time. Free every fh_ws of an engine
 * before the engine; free it before its client.
 */
#ifndef FASTHTTP_WS_H
#define FASTHTTP_WS_H

#include "fasthttp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fh_ws fh_ws;
typedef struct fh_engine fh_engine; /* fasthttp/engine.h */

/* Message types (the RFC 6455 opcodes). */
#define FH_WS_TEXT 1
#define FH_WS_BINARY 2

/* States, as fh_ws_state() reports them. */
#define FH_WS_CONNECTING 0 /* handshake in flight, or not started */
#define FH_WS_OPEN 1
#define FH_WS_CLOSING 2    /* a close frame was sent or received; messages that arrived
                              before it can still be received */
#define FH_WS_CLOSED 3     /* the TCP connection is gone (or never was) */

/* Settings of one WebSocket (fh_ws_set_option), int64 values. */
typedef enum fh_ws_option {
    FH_WS_MAX_MESSAGE = 0,   /* largest message received, in bytes after
                                decompression; default 16 MiB; 1..FH_LIMIT_MAX */
    FH_WS_PING_INTERVAL = 1, /* ms between keepalive pings; 0 (default): none */
    FH_WS_PONG_TIMEOUT = 2,  /* ms a keepalive ping waits for its pong before the
                                connection is dropped (close code 1006, error message
                                "keepalive ping timeout"); default 20000; 0: no limit */
    FH_WS_CLOSE_TIMEOUT = 3, /* ms the closing handshake may take (§7.1.1: our close
                                sent, the server's close and TCP close awaited); then
                                the socket is closed anyway; default 10000 */
    FH_WS_MAX_QUEUE = 4,     /* received messages held before reading pauses (back-
                                pressure); default 16 */
    FH_WS_WRITE_LIMIT = 5    /* buffered outgoing bytes above which a blocking send waits
                                for the socket, and after which FH_WS_EV_WRITABLE is
                                reported once it drains below; default 65536 */
} fh_ws_option;
#define FH_WS_OPTIONS 6

/* Checks a value for an option as fh_ws_set_option() does: FH_OK, or
 * FH_EINVAL with a sentence starting with the option's name in msg
 * ("max_message must be between 1 and ..."). Names: max_message,
 * ping_interval, pong_timeout, close_timeout, max_queue, write_limit. */
FH_EXTERN int fh_ws_option_check(fh_ws_option opt, int64_t value, char *msg, size_t msglen);
/* The default of an option, or FH_EINVAL for an unknown one. */
FH_EXTERN int64_t fh_ws_option_default(fh_ws_option opt);

/* A WebSocket to url: ws:// or wss:// (http:// and https:// are taken as
 * ws:// and wss://). Nothing is sent yet. NULL with *err (when err is not
 * NULL) FH_EURL for a URL that is not one of those, FH_ENOMEM. */
FH_EXTERN fh_ws *fh_ws_new(fh_client *client, const char *url, int *err);

/* The handshake request, to add headers, timeouts, auth, a cookie jar...
 * with the fh_request_ setters before fh_ws_connect()/fh_ws_start(). The
 * WebSocket owns it. Do not set a body, streaming or HTTP/2 on it. */
FH_EXTERN fh_request *fh_ws_request(fh_ws *ws);

/* Offers a subprotocol (Sec-WebSocket-Protocol, RFC 6455 §4.1), in order
 * of preference. A token; FH_EINVAL otherwise. */
FH_EXTERN int fh_ws_add_subprotocol(fh_ws *ws, const char *name);

/* The extensions offered (Sec-WebSocket-Extensions): NULL for the default,
 * "permessage-deflate; client_max_window_bits"; "" for none; or one
 * permessage-deflate offer with any of server_no_context_takeover,
 * client_no_context_takeover, server_max_window_bits=8..15,
 * client_max_window_bits[=8..15] (RFC 7692 §7.1). FH_EINVAL (with a
 * sentence in fh_ws_error_message()) for anything else. */
FH_EXTERN int fh_ws_set_extensions(fh_ws *ws, const char *offer);

FH_EXTERN int fh_ws_set_option(fh_ws *ws, fh_ws_option opt, int64_t value);

/* Hooks run while a blocking call of this WebSocket waits (see
 * fh_wait_hooks in fasthttp.h; on_body_paused is not used). Copied; NULL
 * removes them. A hook's negative value stops the call: fh_ws_connect()
 * then fails, fh_ws_recv()/fh_ws_send()/fh_ws_close() return it and the
 * WebSocket stays as it was. */
FH_EXTERN int fh_ws_set_wait_hooks(fh_ws *ws, const fh_wait_hooks *hooks);

/* Blocking: performs the handshake. FH_OK; FH_EWS_HANDSHAKE when the server
 * refused (fh_ws_handshake_response() has its status and headers) or
 * answered 101 with a wrong Sec-WebSocket-Accept, or a subprotocol or
 * extension that was not offered; or the HTTP request's error (connect,
 * TLS, timeouts...). fh_ws_error_message() tells the specifics. */
FH_EXTERN int fh_ws_connect(fh_ws *ws);

/* Events passed to an fh_ws_event_fn (a mask of these). */
#define FH_WS_EV_OPEN 1     /* the handshake ended: fh_ws_state() is FH_WS_OPEN, or
                               FH_WS_CLOSED with fh_ws_status() the error */
#define FH_WS_EV_MESSAGE 2  /* fh_ws_recv() has a message, or the end */
#define FH_WS_EV_WRITABLE 4 /* fh_ws_buffered() fell below FH_WS_WRITE_LIMIT */
#define FH_WS_EV_CLOSED 8   /* the connection ended (fh_ws_state() FH_WS_CLOSED) */
typedef void (*fh_ws_event_fn)(void *ud, fh_ws *ws, int events);

/* On an event loop: starts the handshake on engine (which must belong to
 * the same client) and returns at once; fn(ud, ws, FH_WS_EV_OPEN) follows.
 * The WebSocket stays on this engine. */
FH_EXTERN int fh_ws_start(fh_ws *ws, fh_engine *engine, fh_ws_event_fn fn, void *ud);

/* Sends a message, or one fragment of it (final = 0: more follow, with the
 * same type; RFC 6455 §5.4). Text must be UTF-8 (checked across fragments:
 * FH_EINVAL). Blocking: returns once fh_ws_buffered() is at most
 * FH_WS_WRITE_LIMIT. Engine: queues the frame, writes what the socket takes
 * now and returns. FH_EWS_CLOSED after a close was sent or the connection
 * ended; FH_ESTATE before the handshake or while a fragmented message of the
 * other type is being sent. Compressed when permessage-deflate was agreed. */
FH_EXTERN int fh_ws_send(fh_ws *ws, int type, const void *data, size_t len, int final);

/* Receives the next message: *type FH_WS_TEXT or FH_WS_BINARY, *data and
 * *len valid until the next fh_ws_recv() or fh_ws_free(). Messages that
 * arrived before the close are returned first. Then FH_EWS_CLOSED (closed
 * by either side, or the TCP connection ended: fh_ws_close_code()), or
 * FH_EWS_PROTO (the peer broke the protocol; fh_ws_error_message()), or the
 * error that ended the connection (FH_EIO...). Blocking: waits;
 * engine: FH_EAGAIN when nothing is there yet (FH_WS_EV_MESSAGE follows). */
FH_EXTERN int fh_ws_recv(fh_ws *ws, int *type, const uint8_t **data, size_t *len);

/* Sends a ping (payload ≤ 125 bytes; pongs are answered automatically). */
FH_EXTERN int fh_ws_ping(fh_ws *ws, const void *data, size_t len);

/* Starts the closing handshake (§7.1.2): code 1000-1003, 1007-1014 or
 * 3000-4999 (0: no code), reason ≤ 123 bytes of UTF-8. Blocking: waits for
 * the server's close and the end of the connection, at most
 * FH_WS_CLOSE_TIMEOUT. Engine: returns at once; FH_WS_EV_CLOSED follows.
 * Closing again, or after the connection ended, returns FH_OK. */
FH_EXTERN int fh_ws_close(fh_ws *ws, int code, const char *reason, size_t len);

FH_EXTERN int fh_ws_state(const fh_ws *ws);
/* FH_OK, or the error that ended the WebSocket (failed handshake, protocol
 * violation, I/O error, keepalive timeout). */
FH_EXTERN int fh_ws_status(const fh_ws *ws);
/* Outgoing bytes not written to the socket yet. */
FH_EXTERN size_t fh_ws_buffered(const fh_ws *ws);
/* The subprotocol the server chose, or NULL. */
FH_EXTERN const char *fh_ws_subprotocol(const fh_ws *ws);
/* The extensions agreed (the server's Sec-WebSocket-Extensions), or NULL. */
FH_EXTERN const char *fh_ws_extensions(const fh_ws *ws);
/* The close code the server sent; 1005 when its close frame had none; 1006
 * when the connection ended without one; 0 while none of that happened. */
FH_EXTERN int fh_ws_close_code(const fh_ws *ws);
/* Its reason (UTF-8, not NUL-terminated; "" when none). */
FH_EXTERN const char *fh_ws_close_reason(const fh_ws *ws, size_t *len);
/* The close code we sent (1002/1007/1009 when we failed the connection), 0
 * when none. */
FH_EXTERN int fh_ws_close_code_sent(const fh_ws *ws);
/* What went wrong, in a sentence ("" when nothing did). */
FH_EXTERN const char *fh_ws_error_message(const fh_ws *ws);
/* The handshake's HTTP response (the 101, or the refusal with its status and
 * headers), borrowed until fh_ws_free(); NULL before one arrived. */
FH_EXTERN const fh_response *fh_ws_handshake_response(const fh_ws *ws);

/* Closes the socket at once (no closing handshake: call fh_ws_close() first
 * for a clean close), cancels a handshake in flight, and frees ws. */
FH_EXTERN void fh_ws_free(fh_ws *ws);

#ifdef __cplusplus
}
#endif
#endif
