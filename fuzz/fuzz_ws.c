/*
 * fuzz_ws.c — libFuzzer target for the WebSocket parsers: frames and
 * messages (src/ws_proto.c over wslay's frame layer, with and without
 * permessage-deflate) and the Sec-WebSocket-Extensions grammar with the
 * RFC 7692 answer checks (src/ws_deflate.c).
 *
 * Byte 0 selects: bit 0 permessage-deflate agreed, bits 1-2 the input chunk
 * size, bit 3 a small max_message (bombs hit the limit), bit 4 also parse
 * the input as an extensions header. The rest is what a server sends after
 * the 101. Invariants: no crash or leak; a failure always queues a close
 * frame with 1002, 1007 or 1009; no message is larger than max_message;
 * the inflated buffer never grows past it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fasthttp/errors.h"
#include "ws_proto.h"

static const size_t chunks[4] = {1, 7, 4096, (size_t)-1};

static void check(int ok)
{
    if (!ok)
        abort();
}

static void extensions(const uint8_t *d, size_t n)
{
    char err[160];
    fh__pmd offer = {1, 0, 0, 0, -1}, p;
    for (int answer = 0; answer < 2; answer++)
        if (fh__pmd_parse((const char *)d, n, answer, &p, err, sizeof err) == FH_OK && answer) {
            (void)fh__pmd_check_answer(&offer, &p, err, sizeof err);
            char out[200];
            fh__pmd_format(&p, out, sizeof out);
            fh__pmd q;
            /* what we format parses back to the same parameters */
            p.client_bits = p.client_bits < 0 ? 0 : p.client_bits;
            if (p.on) {
                check(fh__pmd_parse(out, strlen(out), 1, &q, err, sizeof err) == FH_OK);
                check(memcmp(&p, &q, sizeof p) == 0);
            }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t sel = data[0];
    data++, size--;
    if (sel & 16)
        extensions(data, size);
    size_t max = (sel & 8) ? 1000 : (1u << 20);
    fh__pmd pmd = {sel & 1, 0, 0, 0, 0};
    fh__wsp p;
    if (fh__wsp_init(&p, &pmd, max) != FH_OK)
        return 0;
    size_t step = chunks[(sel >> 1) & 3];
    int rc = FH_OK;
    for (size_t off = 0; off < size && rc == FH_OK; off += step) {
        size_t n = size - off < step ? size - off : step;
        rc = fh__wsp_feed(&p, data + off, n);
        check(p.rx.len <= max);
    }
    if (rc == FH_EWS_PROTO)
        check(p.failed && (p.code_sent == 1002 || p.code_sent == 1007 || p.code_sent == 1009) &&
              p.close_sent && fh__wsp_pending(&p) >= 8);
    fh__wsmsg *m;
    while ((m = fh__wsp_pop(&p))) {
        check(m->data.len <= max && (m->type == 1 || m->type == 2));
        if (m->type == 1)
            check(fh__utf8_step(0, m->data.data, m->data.len) == 0);
        fh__wsmsg_free(m);
    }
    fh__wsp_free(&p);
    return 0;
}
