/*
 * ws_internal.h — the fh_ws object, shared by ws.c (the public API, the
 * opening handshake, blocking waits) and ws_codec.c (the connection under
 * an engine: I/O, timers, events). The protocol itself is ws_proto.c.
 */
#ifndef FH_WS_INTERNAL_H
#define FH_WS_INTERNAL_H

#include "internal.h"
#include "ws_proto.h"

#define FH__WS_IBUF 65536 /* bytes read from the socket at a time */

struct fh_ws {
    fh_client *client;
    fh_engine *engine;         /* the engine driving it (NULL before start) */
    int own_engine;            /* blocking: a private engine, freed with ws */
    fh_request *req;           /* the handshake request */
    char *url;                 /* as given (ws:// or wss://) */
    fh_response *resp;         /* the handshake's response, kept for the caller */
    fh__conn *conn;            /* the connection once open, NULL after the end */
    fh__wsp p;                 /* the protocol (valid once open) */
    int p_ready;
    int state;                 /* FH_WS_* */
    int status;                /* FH_OK or what ended it */
    int started;
    int close_code;            /* reported by fh_ws_close_code() */
    /* handshake */
    char key[32];              /* Sec-WebSocket-Key: base64 of 16 random bytes */
    fh__buf protocols;         /* offered subprotocols, "a, b" */
    fh__pmd offer;             /* offered permessage-deflate */
    char *subprotocol;         /* chosen by the server */
    char *extensions;          /* agreed */
    /* settings */
    int64_t opt[FH_WS_OPTIONS];
    fh_wait_hooks hooks;
    int has_hooks;
    /* events of fh_ws_start */
    fh_ws_event_fn fn;
    void *ud;
    fh__defer defer;
    int events;                /* pending, reported together */
    int over_limit;            /* buffered went above write_limit: WRITABLE when drained */
    /* deadlines, microseconds; 0: none */
    int64_t ping_at, pong_at, close_at;
    int pongs_seen;
    /* reading */
    uint8_t *ibuf;
    int read_paused;           /* max_queue messages wait for fh_ws_recv */
    int rwant, wwant;          /* what the socket asked for (TLS may want either) */
    fh__wsmsg *last;           /* the message fh_ws_recv returned last */
    char err[FH__ERRMSG];
    unsigned long gen;         /* fork generation it was opened in */
};

/* ws_codec.c */
/* The handshake succeeded: c (taken from the 101 response) becomes the
 * WebSocket's connection under ws->engine, with the WebSocket codec. */
int fh__ws_adopt(fh_ws *ws, fh__conn *c);
/* Writes what is queued, reads what arrived, settles state, timers and
 * interest. Safe from API calls: events are deferred. */
void fh__ws_pump(fh_ws *ws);
/* The sending half of fh__ws_pump: writes what is queued and sets the
 * interest, without reading (a send need not cost a recv that finds
 * nothing; readiness brings what arrives). */
void fh__ws_flush(fh_ws *ws);
/* Ends the connection now (socket closed); status FH_OK keeps the current. */
void fh__ws_end(fh_ws *ws, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Queues events for the callback (deferred to the end of the action). */
void fh__ws_event(fh_ws *ws, int events);
/* The closing handshake started (our close queued or theirs received):
 * its deadline starts. */
void fh__ws_closing(fh_ws *ws);

#endif
