/*
 * ws_proto.h — the WebSocket protocol of one client connection (RFC 6455,
 * with permessage-deflate of RFC 7692), sans-IO: bytes in, messages and
 * bytes to send out. No socket, no clock.
 *
 * wslay's frame layer (wslay_frame_recv / wslay_frame_send) parses and
 * writes frame headers, checks lengths (minimal encoding, the 2^63 bit,
 * control frames of at most 125 bytes and never fragmented) and masks our
 * payloads. Above it, this module keeps the rules of messages: opcodes and
 * continuation, RSV bits, unmasked server frames, UTF-8 of text (also after
 * decompression) and of close reasons, close codes, the limit on a
 * message's (decompressed) size, automatic pongs and the closing handshake.
 * A violation fails the connection (§7.1.7): a close frame with 1002, 1007
 * or 1009 is queued and input is ignored from then on.
 */
#ifndef FH_WS_PROTO_H
#define FH_WS_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <wslay/wslay.h>

#include "buf.h"
#include "ws_deflate.h"

/* A received message, reassembled (and decompressed). */
typedef struct fh__wsmsg {
    struct fh__wsmsg *next;
    int type;   /* 1 text, 2 binary */
    fh__buf data;
} fh__wsmsg;

typedef struct fh__wsp {
    wslay_frame_context_ptr fr;
    /* input handed to fh__wsp_feed, pulled by wslay's recv callback */
    const uint8_t *in;
    size_t in_len;
    /* frames to send */
    fh__buf out;
    size_t out_pos;
    /* the frame being received */
    uint64_t fr_left;      /* payload bytes of it still to come */
    int in_frame;
    int fr_op;
    int fr_fin;
    /* the data message being received */
    int rx_op;             /* 0 none, 1 text, 2 binary */
    int rx_deflated;       /* RSV1 on its first frame */
    uint32_t rx_utf8;      /* UTF-8 validator state */
    size_t rx_checked;     /* bytes of rx validated */
    fh__buf rx;
    fh__buf spare;         /* a delivered message's buffer, reused by the next one */
    /* the control frame being received */
    uint8_t cf[125];
    size_t cf_len;
    /* the message being sent in fragments: its type, 0 none */
    int tx_op;
    int tx_deflated;
    uint32_t tx_utf8;
    fh__buf ztmp;          /* compressed payload scratch */
    /* received messages, oldest first */
    fh__wsmsg *q_head, *q_tail;
    size_t q_count, q_bytes;
    /* closing (§7) */
    int close_sent, close_received, failed;
    int code_sent, code_received;
    char reason[124];
    size_t reason_len;
    int pongs;             /* pong frames received */
    size_t max_message;
    int pmd_on;
    fh__pmd_stream pmd;
    uint8_t masks[256];    /* CSPRNG output for mask keys (§5.3), used 4 bytes a frame */
    size_t mask_pos;
    char err[160];
} fh__wsp;

/* Sets up a client session; pmd: the agreed permessage-deflate parameters
 * (NULL or on=0: none). FH_OK or FH_ENOMEM. */
int fh__wsp_init(fh__wsp *p, const fh__pmd *pmd, size_t max_message);
void fh__wsp_free(fh__wsp *p);

/* Processes received bytes (all of them are consumed): complete messages
 * are queued, pongs and close answers go to p->out. FH_OK; FH_EWS_PROTO
 * when the peer broke the protocol (p->err, p->code_sent; the close frame
 * is queued); FH_ENOMEM. Input after a close or a failure is ignored. */
int fh__wsp_feed(fh__wsp *p, const uint8_t *data, size_t len);

/* Queues a data frame: type 1 text or 2 binary for a message's first
 * frame (later fragments must repeat the message's type), final=0 to send
 * more fragments. Text must be UTF-8 (checked across fragments). FH_OK,
 * FH_EINVAL (bad type or UTF-8), FH_ESTATE (a fragmented message of the
 * other type is in progress), FH_EWS_CLOSED (close sent), FH_ENOMEM. */
int fh__wsp_send(fh__wsp *p, int type, const uint8_t *data, size_t len, int final);
/* Queues a ping (payload <= 125 bytes). */
int fh__wsp_ping(fh__wsp *p, const uint8_t *data, size_t len);
/* Queues a close frame (§5.5.1): code 0 sends none; reason <= 123 bytes of
 * UTF-8. FH_EINVAL for a code that may not be sent (§7.4). FH_EWS_CLOSED
 * when one was sent already. */
int fh__wsp_close(fh__wsp *p, int code, const char *reason, size_t len);

/* Pops the oldest received message (the caller frees it), or NULL. */
fh__wsmsg *fh__wsp_pop(fh__wsp *p);
void fh__wsmsg_free(fh__wsmsg *m);
/* Frees a delivered message, keeping its buffer (up to 4 MiB) for the next
 * message: a fresh large buffer costs a page fault per 4 KiB written. */
void fh__wsp_recycle(fh__wsp *p, fh__wsmsg *m);

/* Bytes queued to send and not yet written. */
static inline size_t fh__wsp_pending(const fh__wsp *p)
{
    return p->out.len - p->out_pos;
}
/* n bytes of the queue were written. */
void fh__wsp_sent(fh__wsp *p, size_t n);

/* A close code the peer may send (§7.4.1, §7.4.2): 1000-1003, 1007-1014,
 * 3000-4999. */
int fh__ws_code_valid(int code);

/* Incremental UTF-8 validation (RFC 3629): state 0 starts; returns the new
 * state, FH__UTF8_BAD once invalid; 0 at the end means complete. */
#define FH__UTF8_BAD 0xffffffffu
uint32_t fh__utf8_step(uint32_t state, const uint8_t *s, size_t n);

#endif
