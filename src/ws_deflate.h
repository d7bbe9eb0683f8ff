/*
 * ws_deflate.h — permessage-deflate (RFC 7692), sans-IO: the negotiation
 * (parsing and checking Sec-WebSocket-Extensions offers and answers) and
 * the compressor / bounded decompressor of messages, on zlib.
 *
 * wslay frames bytes and knows nothing of compression; this module turns a
 * message's payload into the compressed bytes of its frames and back. The
 * decompressor never produces more than the caller's limit, so a deflate
 * bomb ends as "too big" (close 1009) with bounded memory.
 */
#ifndef FH_WS_DEFLATE_H
#define FH_WS_DEFLATE_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "buf.h"

/* Parameters of one permessage-deflate offer or answer (RFC 7692 §7.1).
 * Window bits: 0 absent; 8..15 a value; for client_max_window_bits in an
 * offer, -1 means "offered without a value" (§7.1.2.2). */
typedef struct fh__pmd {
    int on;            /* permessage-deflate offered / agreed */
    int server_nct;    /* server_no_context_takeover */
    int client_nct;    /* client_no_context_takeover */
    int server_bits;   /* server_max_window_bits */
    int client_bits;   /* client_max_window_bits */
} fh__pmd;

/* Parses a Sec-WebSocket-Extensions value (RFC 6455 §9.1 grammar) that holds
 * at most one extension, permessage-deflate, with its parameters. answer=1
 * parses a server's answer (client_max_window_bits needs a value there),
 * answer=0 an offer of ours. "" (or only spaces) is "no extension" (on=0).
 * FH_OK, or FH_EINVAL with a sentence in err. */
int fh__pmd_parse(const char *s, size_t n, int answer, fh__pmd *out, char *err, size_t errlen);

/* Checks a server's answer against our offer (RFC 7692 §7.1): parameters
 * the server may add, window bits not above what was offered, and
 * client_max_window_bits only when offered. FH_OK or FH_EINVAL (err set). */
int fh__pmd_check_answer(const fh__pmd *offer, const fh__pmd *answer, char *err, size_t errlen);

/* Writes p as a header value ("permessage-deflate; client_max_window_bits");
 * returns its length (snprintf style). */
size_t fh__pmd_format(const fh__pmd *p, char *out, size_t cap);

/* The compression state of one connection (client side). */
typedef struct fh__pmd_stream {
    z_stream def, inf;
    int def_ready, inf_ready;
    int compress;      /* outgoing messages are compressed */
    int def_reset;     /* client_no_context_takeover: fresh context per message */
    int inf_reset;     /* server_no_context_takeover */
    int def_bits;      /* our window (client_max_window_bits) */
} fh__pmd_stream;

/* Sets up compression for the agreed parameters. FH_OK or FH_ENOMEM. */
int fh__pmd_stream_init(fh__pmd_stream *st, const fh__pmd *agreed);
void fh__pmd_stream_free(fh__pmd_stream *st);

/* Compresses the next piece of an outgoing message and appends it to out.
 * final: the message ends with this piece, whose trailing 00 00 ff ff is
 * removed (§7.2.1). FH_OK, FH_ENOMEM or FH_EIO (zlib failed). */
int fh__pmd_deflate(fh__pmd_stream *st, const uint8_t *in, size_t n, int final, fh__buf *out);

/* Decompresses the next piece of an incoming message's payload, appending
 * to out; final: the message ended (the 00 00 ff ff tail is fed, §7.2.2).
 * out never grows past max bytes: FH_EBODY_TOO_LARGE when the message
 * would. FH_EDECODE for corrupt data, FH_ENOMEM. */
int fh__pmd_inflate(fh__pmd_stream *st, const uint8_t *in, size_t n, int final, fh__buf *out,
                    size_t max);

#endif
