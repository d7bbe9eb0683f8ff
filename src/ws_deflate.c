/*
 * ws_deflate.c — permessage-deflate (RFC 7692) on zlib: negotiation and
 * bounded (de)compression of messages. See ws_deflate.h.
 */
#include "ws_deflate.h"

#include <stdio.h>
#include <string.h>

#include "fasthttp/errors.h"

/* ---- Sec-WebSocket-Extensions grammar (RFC 6455 §9.1, RFC 9110 §5.6) --------- */

typedef struct scan {
    const char *p, *end;
} scan;

static void ows(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t'))
        s->p++;
}

static int tchar(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

/* A token, or a quoted-string whose content is copied unescaped into val. */
static int token(scan *s, char *val, size_t cap, int quoted_ok)
{
    size_t n = 0;
    if (quoted_ok && s->p < s->end && *s->p == '"') {
        s->p++;
        while (s->p < s->end && *s->p != '"') {
            if (*s->p == '\\' && s->p + 1 < s->end)
                s->p++;
            if (n + 1 >= cap || (unsigned char)*s->p < 0x20)
                return -1;
            val[n++] = *s->p++;
        }
        if (s->p == s->end)
            return -1;
        s->p++;
        val[n] = 0;
        return 0;
    }
    while (s->p < s->end && tchar((unsigned char)*s->p)) {
        if (n + 1 >= cap)
            return -1;
        val[n++] = *s->p++;
    }
    val[n] = 0;
    return n ? 0 : -1;
}

/* Window bits: a decimal 8..15 without leading zeros (RFC 7692 §7.1.2). */
static int window_bits(const char *v)
{
    if (strlen(v) == 1 && v[0] >= '8' && v[0] <= '9')
        return v[0] - '0';
    if (strlen(v) == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5')
        return 10 + v[1] - '0';
    return -1;
}

/* One parameter name=value of permessage-deflate into out. */
static int set_param(fh__pmd *out, const char *name, const char *val, int has_val, int answer,
                     char *err, size_t errlen)
{
    int *flag = NULL, *bits = NULL;
    if (strcmp(name, "server_no_context_takeover") == 0)
        flag = &out->server_nct;
    else if (strcmp(name, "client_no_context_takeover") == 0)
        flag = &out->client_nct;
    else if (strcmp(name, "server_max_window_bits") == 0)
        bits = &out->server_bits;
    else if (strcmp(name, "client_max_window_bits") == 0)
        bits = &out->client_bits;
    else {
        snprintf(err, errlen, "unknown permessage-deflate parameter '%s'", name);
        return FH_EINVAL;
    }
    if ((flag && *flag) || (bits && *bits)) {
        snprintf(err, errlen, "permessage-deflate parameter '%s' given twice", name);
        return FH_EINVAL; /* §7.1: a duplicate parameter makes the element invalid */
    }
    if (flag) {
        if (has_val) {
            snprintf(err, errlen, "permessage-deflate parameter '%s' takes no value", name);
            return FH_EINVAL;
        }
        *flag = 1;
        return FH_OK;
    }
    /* §7.1.2.2: an offer may name client_max_window_bits without a value;
     * every other use needs one. */
    if (!has_val && !answer && bits == &out->client_bits) {
        *bits = -1;
        return FH_OK;
    }
    int b = has_val ? window_bits(val) : -1;
    if (b < 0) {
        snprintf(err, errlen, "permessage-deflate parameter '%s' needs a value from 8 to 15",
                 name);
        return FH_EINVAL;
    }
    *bits = b;
    return FH_OK;
}

int fh__pmd_parse(const char *str, size_t n, int answer, fh__pmd *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    scan s = {str, str + n};
    char name[64], val[64];
    ows(&s);
    if (s.p == s.end)
        return FH_OK;
    if (token(&s, name, sizeof name, 0) < 0) {
        snprintf(err, errlen, "malformed Sec-WebSocket-Extensions value");
        return FH_EINVAL;
    }
    if (strcmp(name, "permessage-deflate") != 0) {
        snprintf(err, errlen, "unsupported WebSocket extension '%s' (only permessage-deflate)",
                 name);
        return FH_EINVAL;
    }
    out->on = 1;
    for (;;) {
        ows(&s);
        if (s.p == s.end)
            return FH_OK;
        if (*s.p == ',') {
            snprintf(err, errlen, answer ? "the server answered more than one extension"
                                         : "more than one extension offered");
            return FH_EINVAL;
        }
        if (*s.p != ';')
            break;
        s.p++;
        ows(&s);
        if (token(&s, name, sizeof name, 0) < 0)
            break;
        ows(&s);
        int has_val = 0;
        val[0] = 0;
        if (s.p < s.end && *s.p == '=') {
            s.p++;
            ows(&s);
            if (token(&s, val, sizeof val, 1) < 0)
                break;
            has_val = 1;
        }
        int rc = set_param(out, name, val, has_val, answer, err, errlen);
        if (rc)
            return rc;
    }
    snprintf(err, errlen, "malformed Sec-WebSocket-Extensions value");
    return FH_EINVAL;
}

int fh__pmd_check_answer(const fh__pmd *offer, const fh__pmd *ans, char *err, size_t errlen)
{
    if (!ans->on)
        return FH_OK;
    if (!offer->on) {
        snprintf(err, errlen, "the server agreed to permessage-deflate, which was not offered");
        return FH_EINVAL;
    }
    /* §7.1.2.2: client_max_window_bits in an answer only if offered, and
     * not above the offered value. */
    if (ans->client_bits && !offer->client_bits) {
        snprintf(err, errlen, "the server set client_max_window_bits, which was not offered");
        return FH_EINVAL;
    }
    if (ans->client_bits && offer->client_bits > 0 && ans->client_bits > offer->client_bits) {
        snprintf(err, errlen, "the server raised client_max_window_bits above the offer");
        return FH_EINVAL;
    }
    /* §7.1.2.1: server_max_window_bits not above an offered limit. */
    if (offer->server_bits && (!ans->server_bits || ans->server_bits > offer->server_bits)) {
        snprintf(err, errlen, "the server did not honour server_max_window_bits=%d",
                 offer->server_bits);
        return FH_EINVAL;
    }
    /* §7.1.1.1: a requested server_no_context_takeover must be agreed. */
    if (offer->server_nct && !ans->server_nct) {
        snprintf(err, errlen, "the server did not agree to server_no_context_takeover");
        return FH_EINVAL;
    }
    return FH_OK;
}

size_t fh__pmd_format(const fh__pmd *p, char *out, size_t cap)
{
    if (!p->on)
        return (size_t)snprintf(out, cap, "%s", "");
    char cb[40] = "", sb[40] = "";
    if (p->client_bits < 0)
        snprintf(cb, sizeof cb, "; client_max_window_bits");
    else if (p->client_bits)
        snprintf(cb, sizeof cb, "; client_max_window_bits=%d", p->client_bits);
    if (p->server_bits)
        snprintf(sb, sizeof sb, "; server_max_window_bits=%d", p->server_bits);
    return (size_t)snprintf(out, cap, "permessage-deflate%s%s%s%s",
                            p->server_nct ? "; server_no_context_takeover" : "",
                            p->client_nct ? "; client_no_context_takeover" : "", sb, cb);
}

/* ---- compression ----------------------------------------------------------------- */

int fh__pmd_stream_init(fh__pmd_stream *st, const fh__pmd *agreed)
{
    memset(st, 0, sizeof *st);
    st->def_reset = agreed->client_nct;
    st->inf_reset = agreed->server_nct;
    st->def_bits = agreed->client_bits > 0 ? agreed->client_bits : 15;
    /* zlib's raw deflate cannot keep a 256-byte window (windowBits 8): with
     * client_max_window_bits=8 messages are sent uncompressed, which RFC
     * 7692 §6 allows (RSV1 clear). */
    st->compress = st->def_bits >= 9;
    /* Incoming: a 32 KiB window inflates whatever window the server used. */
    if (inflateInit2(&st->inf, -15) != Z_OK)
        return FH_ENOMEM;
    st->inf_ready = 1;
    if (st->compress) {
        if (deflateInit2(&st->def, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -st->def_bits, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            return FH_ENOMEM;
        st->def_ready = 1;
    }
    return FH_OK;
}

void fh__pmd_stream_free(fh__pmd_stream *st)
{
    if (st->def_ready)
        deflateEnd(&st->def);
    if (st->inf_ready)
        inflateEnd(&st->inf);
    st->def_ready = st->inf_ready = 0;
}

int fh__pmd_deflate(fh__pmd_stream *st, const uint8_t *in, size_t n, int final, fh__buf *out)
{
    z_stream *z = &st->def;
    z->next_in = (Bytef *)in;
    z->avail_in = (uInt)n;
    /* A sync flush ends every piece on a byte boundary with an empty stored
     * block (00 00 ff ff), so a fragment can go out at once (§7.2.1). */
    for (;;) {
        size_t room = n / 2 + 64;
        if (fh__buf_reserve(out, room) != FH_OK)
            return FH_ENOMEM;
        z->next_out = out->data + out->len;
        z->avail_out = (uInt)(out->cap - out->len);
        int rc = deflate(z, Z_SYNC_FLUSH);
        out->len = out->cap - z->avail_out;
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            return FH_EIO;
        if (z->avail_in == 0 && z->avail_out > 0)
            break;
    }
    if (final) {
        if (out->len >= 4 && memcmp(out->data + out->len - 4, "\x00\x00\xff\xff", 4) == 0)
            out->len -= 4;
        if (st->def_reset)
            deflateReset(z);
    }
    return FH_OK;
}

int fh__pmd_inflate(fh__pmd_stream *st, const uint8_t *in, size_t n, int final, fh__buf *out,
                    size_t max)
{
    static const uint8_t tail[4] = {0x00, 0x00, 0xff, 0xff};
    z_stream *z = &st->inf;
    for (int part = 0; part < (final ? 2 : 1); part++) {
        z->next_in = (Bytef *)(part ? tail : in);
        z->avail_in = (uInt)(part ? sizeof tail : n);
        while (z->avail_in > 0) {
            if (out->len >= max) {
                /* Full: only more output would come from here on. */
                uint8_t probe;
                z->next_out = &probe;
                z->avail_out = 1;
                int rc = inflate(z, Z_SYNC_FLUSH);
                if (z->avail_out == 0)
                    return FH_EBODY_TOO_LARGE;
                if (rc == Z_BUF_ERROR && z->avail_in == 0)
                    break;
                if (rc != Z_OK && rc != Z_BUF_ERROR)
                    return FH_EDECODE;
                continue;
            }
            size_t want = n * 4 + 256;
            if (want > max - out->len)
                want = max - out->len;
            if (want > 1u << 20)
                want = 1u << 20;
            if (fh__buf_reserve(out, want) != FH_OK)
                return FH_ENOMEM;
            size_t room = out->cap - out->len;
            if (room > max - out->len)
                room = max - out->len;
            z->next_out = out->data + out->len;
            z->avail_out = (uInt)room;
            int rc = inflate(z, Z_SYNC_FLUSH);
            out->len += room - z->avail_out;
            if (rc == Z_STREAM_END) {
                /* A final deflate block (BFINAL) ends the stream; RFC 7692
                 * §7.2.3.3 allows it: the next message starts a new one. */
                inflateReset(z);
                continue;
            }
            if (rc == Z_BUF_ERROR && z->avail_out > 0)
                break; /* no progress possible: input used up */
            if (rc != Z_OK && rc != Z_BUF_ERROR)
                return FH_EDECODE;
        }
    }
    if (final && st->inf_reset)
        inflateReset(z);
    return FH_OK;
}
