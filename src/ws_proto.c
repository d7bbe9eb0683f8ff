/*
 * ws_proto.c — WebSocket messages over wslay's frame layer (RFC 6455 §5,
 * §7; RFC 7692 §6-7). See ws_proto.h. The client side only: our frames are
 * masked, the server's must not be (§5.1).
 */
#include "ws_proto.h"

#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fasthttp/errors.h"

/* ---- UTF-8 (RFC 3629 §4) ---------------------------------------------------- */

/* The state packs the continuation bytes still expected (bits 16+) and the
 * range allowed for the next one (lo in bits 8-15, hi in bits 0-7), which
 * excludes overlong forms, surrogates and code points above U+10FFFF. */
#define U8(need, lo, hi) (((uint32_t)(need) << 16) | ((uint32_t)(lo) << 8) | (uint32_t)(hi))

uint32_t fh__utf8_step(uint32_t st, const uint8_t *s, size_t n)
{
    if (st == FH__UTF8_BAD)
        return st;
    size_t i = 0;
    while (i < n) {
        if (st == 0) {
            /* ASCII runs, 8 bytes at a time */
            while (i + 8 <= n) {
                uint64_t w;
                memcpy(&w, s + i, 8);
                if (w & UINT64_C(0x8080808080808080))
                    break;
                i += 8;
            }
            if (i == n)
                break;
            uint8_t c = s[i++];
            if (c < 0x80)
                continue;
            if (c >= 0xc2 && c <= 0xdf)
                st = U8(1, 0x80, 0xbf);
            else if (c == 0xe0)
                st = U8(2, 0xa0, 0xbf);
            else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
                st = U8(2, 0x80, 0xbf);
            else if (c == 0xed)
                st = U8(2, 0x80, 0x9f);
            else if (c == 0xf0)
                st = U8(3, 0x90, 0xbf);
            else if (c >= 0xf1 && c <= 0xf3)
                st = U8(3, 0x80, 0xbf);
            else if (c == 0xf4)
                st = U8(3, 0x80, 0x8f);
            else
                return FH__UTF8_BAD;
            continue;
        }
        uint8_t c = s[i++];
        if (c < ((st >> 8) & 0xff) || c > (st & 0xff))
            return FH__UTF8_BAD;
        uint32_t need = (st >> 16) - 1;
        st = need ? U8(need, 0x80, 0xbf) : 0;
    }
    return st;
}

/* ---- setup ---------------------------------------------------------------------- */

/* wslay pulls input from what fh__wsp_feed was given. */
static ssize_t on_recv(uint8_t *buf, size_t len, int flags, void *ud)
{
    (void)flags;
    fh__wsp *p = ud;
    size_t n = p->in_len < len ? p->in_len : len;
    if (!n)
        return 0; /* wslay: WSLAY_ERR_WANT_READ */
    memcpy(buf, p->in, n);
    p->in += n;
    p->in_len -= n;
    return (ssize_t)n;
}

/* wslay pushes frame bytes into the send queue; the connection writes it. */
static ssize_t on_send(const uint8_t *data, size_t len, int flags, void *ud)
{
    (void)flags;
    fh__wsp *p = ud;
    if (fh__buf_append(&p->out, data, len) != FH_OK)
        return -1;
    return (ssize_t)len;
}

/* A fresh mask key per frame from OpenSSL's CSPRNG (§5.3), drawn 256 bytes
 * at a time. */
static int on_mask(uint8_t *buf, size_t len, void *ud)
{
    fh__wsp *p = ud;
    if (p->mask_pos + len > sizeof p->masks) {
        if (RAND_bytes(p->masks, sizeof p->masks) != 1)
            return -1;
        p->mask_pos = 0;
    }
    memcpy(buf, p->masks + p->mask_pos, len);
    p->mask_pos += len;
    return 0;
}

int fh__wsp_init(fh__wsp *p, const fh__pmd *pmd, size_t max_message)
{
    memset(p, 0, sizeof *p);
    p->max_message = max_message;
    p->mask_pos = sizeof p->masks;
    struct wslay_frame_callbacks cb = {on_send, on_recv, on_mask};
    if (wslay_frame_context_init(&p->fr, &cb, p) != 0)
        return FH_ENOMEM;
    if (pmd && pmd->on) {
        p->pmd_on = 1;
        if (fh__pmd_stream_init(&p->pmd, pmd) != FH_OK)
            return FH_ENOMEM;
    }
    return FH_OK;
}

void fh__wsmsg_free(fh__wsmsg *m)
{
    if (!m)
        return;
    fh__buf_free(&m->data);
    free(m);
}

#define SPARE_MAX (4u << 20)

void fh__wsp_recycle(fh__wsp *p, fh__wsmsg *m)
{
    if (!m)
        return;
    if (m->data.cap > p->spare.cap && m->data.cap <= SPARE_MAX) {
        fh__buf_free(&p->spare);
        p->spare = m->data;
        p->spare.len = 0;
        memset(&m->data, 0, sizeof m->data);
    }
    fh__wsmsg_free(m);
}

void fh__wsp_free(fh__wsp *p)
{
    if (p->fr)
        wslay_frame_context_free(p->fr);
    p->fr = NULL;
    fh__pmd_stream_free(&p->pmd);
    while (p->q_head) {
        fh__wsmsg *m = p->q_head;
        p->q_head = m->next;
        fh__wsmsg_free(m);
    }
    p->q_tail = NULL;
    fh__buf_free(&p->out);
    fh__buf_free(&p->rx);
    fh__buf_free(&p->spare);
    fh__buf_free(&p->ztmp);
}

/* ---- sending -------------------------------------------------------------------- */

/* Data frames are written here rather than by wslay_frame_send, which
 * masks one byte at a time into a 4 KiB scratch buffer and hands each piece
 * to a callback: for large messages that loop cost more than everything
 * else. The header is RFC 6455 §5.2 (the shortest length encoding), the key
 * comes from the same CSPRNG pool, and the payload is copied and masked
 * (§5.3) in one pass, eight bytes at a time. Control frames (at most 125
 * bytes) still go through wslay. */
static int send_data_frame(fh__wsp *p, int op, int rsv1, int fin, const uint8_t *data,
                           size_t len)
{
    uint8_t key[4];
    if (on_mask(key, 4, p) != 0 || fh__buf_reserve(&p->out, 14 + len) != FH_OK)
        return FH_ENOMEM;
    uint8_t *o = p->out.data + p->out.len;
    size_t k = 0;
    o[k++] = (uint8_t)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | op);
    if (len < 126) {
        o[k++] = (uint8_t)(0x80 | len);
    } else if (len < 65536) {
        o[k++] = 0x80 | 126;
        o[k++] = (uint8_t)(len >> 8);
        o[k++] = (uint8_t)len;
    } else {
        o[k++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            o[k++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    memcpy(o + k, key, 4);
    k += 4;
    uint8_t *dst = o + k;
    uint64_t k8;
    uint8_t kk[8] = {key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]};
    memcpy(&k8, kk, 8);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, data + i, 8);
        w ^= k8;
        memcpy(dst + i, &w, 8);
    }
    for (; i < len; i++)
        dst[i] = data[i] ^ key[i & 3];
    p->out.len += k + len;
    return FH_OK;
}

static int send_frame(fh__wsp *p, int op, int rsv1, int fin, const uint8_t *data, size_t len)
{
    if (op < 8)
        return send_data_frame(p, op, rsv1, fin, data, len);
    struct wslay_frame_iocb io = {0};
    io.fin = (uint8_t)fin;
    io.rsv = rsv1 ? WSLAY_RSV1_BIT : 0;
    io.opcode = (uint8_t)op;
    io.mask = 1; /* §5.1: a client masks every frame */
    io.payload_length = len;
    io.data = data;
    io.data_length = len;
    ssize_t r = wslay_frame_send(p->fr, &io);
    if (r < 0 || (size_t)r != len)
        return FH_ENOMEM; /* on_send only fails when the queue cannot grow */
    return FH_OK;
}

int fh__wsp_send(fh__wsp *p, int type, const uint8_t *data, size_t len, int final)
{
    if (type != 1 && type != 2)
        return FH_EINVAL;
    if (p->close_sent)
        return FH_EWS_CLOSED;
    if (p->tx_op && p->tx_op != type)
        return FH_ESTATE;
    if (type == 1) {
        uint32_t u = fh__utf8_step(p->tx_op ? p->tx_utf8 : 0, data, len);
        if (u == FH__UTF8_BAD || (final && u != 0))
            return FH_EINVAL;
        p->tx_utf8 = u;
    }
    int first = !p->tx_op;
    int op = first ? type : WSLAY_CONTINUATION_FRAME;
    int rc;
    if (p->pmd_on && p->pmd.compress) {
        /* RFC 7692 §6.1: RSV1 on the first frame of a compressed message. */
        if (first)
            p->tx_deflated = 1;
        p->ztmp.len = 0;
        rc = fh__pmd_deflate(&p->pmd, data, len, final, &p->ztmp);
        if (rc == FH_OK)
            rc = send_frame(p, op, first, final, p->ztmp.data, p->ztmp.len);
    } else {
        rc = send_frame(p, op, 0, final, data, len);
    }
    if (rc)
        return rc;
    p->tx_op = final ? 0 : type;
    if (final)
        p->tx_utf8 = 0;
    return FH_OK;
}

int fh__wsp_ping(fh__wsp *p, const uint8_t *data, size_t len)
{
    if (len > 125)
        return FH_EINVAL;
    if (p->close_sent)
        return FH_EWS_CLOSED;
    return send_frame(p, WSLAY_PING, 0, 1, data, len);
}

/* Codes an endpoint may put in a close frame (§7.4.1, IANA registry): not
 * 1004-1006 or 1015, which are reserved for reporting. */
int fh__ws_code_valid(int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

static int queue_close(fh__wsp *p, int code, const char *reason, size_t len)
{
    uint8_t b[125];
    size_t n = 0;
    if (code) {
        b[0] = (uint8_t)(code >> 8);
        b[1] = (uint8_t)code;
        if (len)
            memcpy(b + 2, reason, len);
        n = 2 + len;
    }
    int rc = send_frame(p, WSLAY_CONNECTION_CLOSE, 0, 1, b, n);
    if (rc == FH_OK) {
        p->close_sent = 1;
        p->code_sent = code ? code : 1005;
    }
    return rc;
}

int fh__wsp_close(fh__wsp *p, int code, const char *reason, size_t len)
{
    if (p->close_sent)
        return FH_EWS_CLOSED;
    if (code && !fh__ws_code_valid(code))
        return FH_EINVAL;
    if (len > 123 || (len && !code) ||
        (len && fh__utf8_step(0, (const uint8_t *)reason, len) != 0))
        return FH_EINVAL;
    return queue_close(p, code, reason, len);
}

void fh__wsp_sent(fh__wsp *p, size_t n)
{
    p->out_pos += n;
    if (p->out_pos == p->out.len) {
        p->out.len = p->out_pos = 0;
        if (p->out.cap > (2u << 20)) { /* a big message went out: give the memory back */
            fh__buf_free(&p->out);
        }
    } else if (p->out_pos > (1u << 16) && p->out_pos > p->out.len / 2) {
        fh__buf_consume(&p->out, p->out_pos);
        p->out_pos = 0;
    }
}

/* ---- receiving ------------------------------------------------------------------ */

/* Fails the connection (§7.1.7): a close frame with code, input ignored. */
__attribute__((format(printf, 3, 4)))
static int fail(fh__wsp *p, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, sizeof p->err, fmt, ap);
    va_end(ap);
    p->failed = 1;
    if (!p->close_sent && queue_close(p, code, NULL, 0) != FH_OK)
        return FH_ENOMEM;
    p->code_sent = code;
    return FH_EWS_PROTO;
}

/* A frame header arrived (§5.2): checks it against the message state. */
static int frame_start(fh__wsp *p, const struct wslay_frame_iocb *io)
{
    int op = io->opcode;
    if (io->mask)
        return fail(p, 1002, "the server sent a masked frame (RFC 6455 §5.1)");
    int ctrl = op >= 8;
    if (ctrl && op != WSLAY_CONNECTION_CLOSE && op != WSLAY_PING && op != WSLAY_PONG)
        return fail(p, 1002, "unknown control opcode 0x%x", op);
    if (!ctrl && op > 2)
        return fail(p, 1002, "unknown data opcode 0x%x", op);
    /* RFC 7692 §6: RSV1 marks the first frame of a compressed message; no
     * other RSV bit has a meaning without an extension (§5.2). */
    int rsv1_ok = p->pmd_on && (op == 1 || op == 2);
    if (io->rsv & ~(rsv1_ok ? WSLAY_RSV1_BIT : 0))
        return fail(p, 1002, "reserved bits 0x%x set without an extension that defines them",
                    io->rsv);
    if (op == 0 && !p->rx_op)
        return fail(p, 1002, "continuation frame without a message to continue");
    if ((op == 1 || op == 2) && p->rx_op)
        return fail(p, 1002, "new data frame before the fragmented message ended");
    if (op == 1 || op == 2) {
        if (!p->rx.cap && p->spare.cap) { /* reuse the last message's memory */
            p->rx = p->spare;
            memset(&p->spare, 0, sizeof p->spare);
        }
        p->rx_op = op;
        p->rx_deflated = (io->rsv & WSLAY_RSV1_BIT) != 0;
        p->rx_utf8 = 0;
        p->rx_checked = 0;
        p->rx.len = 0;
    }
    if (!ctrl && !p->rx_deflated && io->payload_length > p->max_message - p->rx.len)
        return fail(p, 1009, "message larger than max_message (%zu bytes)", p->max_message);
    /* The whole (checked) payload at once: no reallocation as it arrives. */
    if (!ctrl && !p->rx_deflated && io->payload_length &&
        fh__buf_reserve(&p->rx, (size_t)io->payload_length) != FH_OK)
        return FH_ENOMEM;
    p->in_frame = 1;
    p->fr_left = io->payload_length;
    p->fr_op = op;
    p->fr_fin = io->fin;
    p->cf_len = 0;
    return FH_OK;
}

/* Validates text as it grows, so invalid UTF-8 fails fast (§8.1). */
static int check_text(fh__wsp *p, int final)
{
    if (p->rx_op != 1)
        return FH_OK;
    if (p->rx.len > p->rx_checked)
        p->rx_utf8 = fh__utf8_step(p->rx_utf8, p->rx.data + p->rx_checked,
                                   p->rx.len - p->rx_checked);
    p->rx_checked = p->rx.len;
    if (p->rx_utf8 == FH__UTF8_BAD || (final && p->rx_utf8 != 0))
        return fail(p, 1007, "text message is not valid UTF-8");
    return FH_OK;
}

static int data_chunk(fh__wsp *p, const uint8_t *d, size_t n, int final)
{
    if (p->rx_deflated) {
        int rc = fh__pmd_inflate(&p->pmd, d, n, final, &p->rx, p->max_message);
        if (rc == FH_EBODY_TOO_LARGE)
            return fail(p, 1009, "decompressed message larger than max_message (%zu bytes)",
                        p->max_message);
        if (rc == FH_EDECODE)
            return fail(p, 1007, "compressed message is not valid deflate data (RFC 7692)");
        if (rc)
            return rc;
    } else if (n && fh__buf_append(&p->rx, d, n) != FH_OK) {
        return FH_ENOMEM;
    }
    return check_text(p, final);
}

static int message_end(fh__wsp *p)
{
    fh__wsmsg *m = calloc(1, sizeof *m);
    if (!m)
        return FH_ENOMEM;
    m->type = p->rx_op;
    m->data = p->rx; /* the buffer moves to the message: no copy */
    memset(&p->rx, 0, sizeof p->rx);
    if (p->q_tail)
        p->q_tail->next = m;
    else
        p->q_head = m;
    p->q_tail = m;
    p->q_count++;
    p->q_bytes += m->data.len;
    p->rx_op = 0;
    return FH_OK;
}

static int close_received(fh__wsp *p)
{
    p->close_received = 1;
    if (p->cf_len == 1)
        return fail(p, 1002, "close frame with a 1-byte payload (RFC 6455 §5.5.1)");
    int code = 1005; /* §7.1.5: no status code received */
    if (p->cf_len >= 2) {
        code = (p->cf[0] << 8) | p->cf[1];
        if (!fh__ws_code_valid(code))
            return fail(p, 1002, "invalid close code %d", code);
        if (fh__utf8_step(0, p->cf + 2, p->cf_len - 2) != 0)
            return fail(p, 1007, "close reason is not valid UTF-8");
        p->reason_len = p->cf_len - 2;
        if (p->reason_len)
            memcpy(p->reason, p->cf + 2, p->reason_len);
    }
    p->code_received = code;
    /* §5.5.1: answer with a close frame, echoing the status code. */
    if (!p->close_sent)
        return queue_close(p, code == 1005 ? 0 : code, NULL, 0);
    return FH_OK;
}

static int control_end(fh__wsp *p)
{
    switch (p->fr_op) {
    case WSLAY_PING: /* §5.5.2: a pong with the same payload, unless closing */
        return p->close_sent ? FH_OK : send_frame(p, WSLAY_PONG, 0, 1, p->cf, p->cf_len);
    case WSLAY_PONG:
        p->pongs++;
        return FH_OK;
    default:
        return close_received(p);
    }
}

/* One piece of a frame's payload, as wslay hands it over (≤ 4 KiB). */
static int frame_data(fh__wsp *p, const struct wslay_frame_iocb *io)
{
    p->fr_left -= io->data_length;
    int end = p->fr_left == 0;
    if (p->fr_op >= 8) {
        if (io->data_length)
            memcpy(p->cf + p->cf_len, io->data, io->data_length);
        p->cf_len += io->data_length;
        if (!end)
            return FH_OK;
        p->in_frame = 0;
        return control_end(p);
    }
    int last = end && p->fr_fin;
    int rc = data_chunk(p, io->data, io->data_length, last);
    if (rc)
        return rc;
    if (!end)
        return FH_OK;
    p->in_frame = 0;
    return last ? message_end(p) : FH_OK;
}

int fh__wsp_feed(fh__wsp *p, const uint8_t *data, size_t len)
{
    p->in = data;
    p->in_len = len;
    while (!p->failed && !p->close_received) {
        struct wslay_frame_iocb io;
        memset(&io, 0, sizeof io);
        ssize_t r = wslay_frame_recv(p->fr, &io);
        if (r == WSLAY_ERR_WANT_READ)
            break;
        if (r < 0)
            return fail(p, 1002, "malformed frame (length encoding or control frame rules, "
                                 "RFC 6455 §5.2, §5.5)");
        if (!p->in_frame) {
            int rc = frame_start(p, &io);
            if (rc)
                return rc;
        }
        int rc = frame_data(p, &io);
        if (rc)
            return rc;
    }
    p->in = NULL;
    p->in_len = 0;
    return p->failed ? FH_EWS_PROTO : FH_OK;
}

fh__wsmsg *fh__wsp_pop(fh__wsp *p)
{
    fh__wsmsg *m = p->q_head;
    if (!m)
        return NULL;
    p->q_head = m->next;
    if (!p->q_head)
        p->q_tail = NULL;
    m->next = NULL;
    p->q_count--;
    p->q_bytes -= m->data.len;
    return m;
}
