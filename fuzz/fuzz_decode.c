/*
 * fuzz_decode.c — libFuzzer target for the Content-Encoding decoder chain.
 *
 * The first input byte is a selector: bits 0-2 pick the coding chain, bits
 * 3-4 the output buffer size, bits 5-6 the input chunk size. The rest is
 * the payload. The decoder must never crash, overrun the caller's output
 * buffer, or stall while claiming it needs input it was given.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "fasthttp/errors.h"

static const char *const chains[8] = {
    "gzip", "deflate", "br", "zstd",
    "gzip, br", "deflate, gzip, zstd", "x-gzip, identity, zstd", "br, deflate",
};
static const size_t outcaps[4] = { 1, 7, 256, 16384 };
static const size_t chunks[4] = { 1, 13, 1024, (size_t)-1 };

/* Decoding stops after this much output or this many calls, to keep each
 * run fast: for bombs, what matters is that every call stays bounded, and
 * that is checked per call. */
#define OUTPUT_LIMIT (4u << 20)
#define CALL_LIMIT 100000

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t sel = data[0];
    const char *value = chains[sel & 7];
    size_t outcap = outcaps[(sel >> 3) & 3], chunk = chunks[(sel >> 5) & 3];
    data++;
    size--;

    fh__decoder *d = NULL;
    const char *why = NULL;
    check(fh__decoder_new(&d, value, strlen(value), 5, &why) == 0 && d != NULL);
    uint8_t *out = malloc(outcap);
    size_t pos = 0, total = 0, calls = 0;
    int rc = 0;
    while (total < OUTPUT_LIMIT && calls++ < CALL_LIMIT) {
        size_t take = size - pos < chunk ? size - pos : chunk;
        size_t c = 0, p = 0;
        why = NULL;
        rc = fh__decoder_feed(d, data + pos, take, &c, out, outcap, &p, &why);
        check(c <= take && p <= outcap);
        pos += c;
        total += p;
        if (rc < 0) {
            check(rc == FH_EDECODE || rc == FH_ENOMEM);
            check(why != NULL);
            break;
        }
        check(rc == 0 || rc == 1);
        if (rc == 1 && pos == size)
            break;
        if (c == 0 && p == 0) {
            /* "Nothing moved" must mean "give me more input". */
            check(rc == 0 && pos == size);
            break;
        }
    }
    if (rc >= 0 && total < OUTPUT_LIMIT && calls <= CALL_LIMIT) {
        int f = fh__decoder_finish(d, &why);
        check(f == 0 || f == FH_EDECODE);
        check(f != 0 || rc == 1 || size == 0);
    }
    free(out);
    fh__decoder_free(d);
    return 0;
}
