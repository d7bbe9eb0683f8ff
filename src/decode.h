/*
 * decode.h — Content-Encoding decoders (RFC 9110 §8.4): gzip, x-gzip,
 * deflate (zlib-wrapped or raw), br, zstd, identity; stacked up to a limit.
 * Streaming with bounded memory: output never exceeds the caller's buffer
 * per call, so a decompression bomb cannot exhaust memory.
 */
#ifndef FH_DECODE_H
#define FH_DECODE_H

#include <stddef.h>
#include <stdint.h>

typedef struct fh__decoder fh__decoder;

/*
 * Builds a decoder chain for a Content-Encoding field value (a comma list,
 * applied in order, so decoding runs right to left; several header lines
 * are joined with ", " by the caller). Tokens are case-insensitive;
 * "identity" is skipped. *out is NULL when nothing needs decoding. Errors:
 * FH_EDECODE for an unknown coding or more than max_layers codings (why
 * set to a static sentence), FH_ENOMEM.
 */
int fh__decoder_new(fh__decoder **out, const char *value, size_t len, int max_layers,
                    const char **why);

/*
 * Decodes. Consumes up to inlen bytes (*consumed), produces up to outcap
 * bytes (*produced). Returns 0 when more input or output room is needed, 1
 * when every layer reached its end of stream (for gzip: the end of a
 * member; further input must start another member, RFC 1952 §2.2; for the
 * other codings further input is an error: FH_EDECODE "data after the end
 * of the compressed stream"), or FH_EDECODE with why set. Call with inlen == 0 to drain buffered output.
 * Progress guarantee: if it returns 0 with *consumed == 0 and *produced == 0
 * it needs more input.
 */
int fh__decoder_feed(fh__decoder *d, const uint8_t *in, size_t inlen, size_t *consumed,
                     uint8_t *out, size_t outcap, size_t *produced, const char **why);

/* Input is over: FH_OK when every layer ended cleanly, FH_EDECODE
 * ("compressed stream truncated") otherwise. Call after draining. */
int fh__decoder_finish(fh__decoder *d, const char **why);

void fh__decoder_free(fh__decoder *d);

#endif
