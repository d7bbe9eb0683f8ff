/*
 * decode.c — Content-Encoding decoder chain (RFC 9110 §8.4), sans-IO.
 *
 * Each coding is a small vtable (init / run / fini) over one library
 * stream. The chain holds the layers in decoding order (the rightmost
 * coding of the field value first, RFC 9110 §8.4) with one fixed 16 KiB
 * buffer between neighbouring layers, so memory never grows with the
 * input: a layer that cannot place its output simply stops and is resumed
 * once the next layer (ultimately the caller) has drained the buffer.
 *
 * Decisions:
 *  - gzip is a series of members (RFC 1952 §2.2: "a gzip file consists of
 *    a series of members"), which gzip(1) and Python's gzip module decode
 *    to the concatenation, and servers do send (bodies assembled from
 *    pre-compressed pieces): after a member ends, the next byte must start
 *    another member (ID1 = 0x1f, §2.3.1) and the same zlib stream is reset
 *    for it, so memory stays that of one member. "Returned 1" then means
 *    "at the end of a member": the framing, not the decoder, says when the
 *    body is over.
 *  - Every other coding is exactly one stream per layer. Bytes after the
 *    end of a zlib/deflate stream, a brotli stream or a zstd frame, and
 *    bytes after a gzip member that do not start one, are an error ("data
 *    after the end of the compressed stream"); concatenated zstd frames
 *    (RFC 8878 §3) are rejected.
 *  - A chain that never received a single byte finishes cleanly: servers
 *    send "Content-Encoding: gzip" on empty bodies, and an empty body has
 *    nothing to truncate.
 *  - zstd windows are limited to 8 MiB as RFC 9659 §3 allows HTTP
 *    recipients to do; brotli windows are at most 16 MiB by format
 *    (RFC 7932 §9.1, large windows are not enabled).
 */
#include "decode.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "fasthttp/errors.h"

#define MID_CAP (16 * 1024)     /* bytes buffered between two layers */
#define ZSTD_WINDOW_LOG_MAX 23  /* 8 MiB, RFC 9659 §3 */

/* Input and output of one step; run() advances both. */
struct io {
    const uint8_t *in;
    size_t inlen;
    uint8_t *out;
    size_t outlen;
};

struct layer;

struct coding {
    const char *name;
    const char *corrupt;        /* static message for bad data */
    int (*init)(struct layer *l);
    /* 0: more input or room needed; 1: end of stream; < 0: FH_E... */
    int (*run)(struct layer *l, struct io *io, const char **why);
    void (*fini)(struct layer *l);
    /* Bytes (first one given) follow the end of a stream: FH_OK when they
     * start another one and the layer is ready for it, else an error.
     * NULL: one stream per layer. */
    int (*next)(struct layer *l, uint8_t first, const char **why);
};

struct layer {
    const struct coding *c;
    int ended;
    int zinit;                  /* z is initialised (deflate sniffs first) */
    uint8_t hdr[2];             /* deflate: first two bytes, for sniffing */
    unsigned nhdr, hoff;
    z_stream z;
    BrotliDecoderState *br;
    ZSTD_DStream *zs;
};

/* Bytes flowing from layer i to layer i + 1. */
struct mid {
    uint8_t *buf;
    size_t start, end;
};

struct fh__decoder {
    int n;
    struct layer *layers;       /* decoding order */
    struct mid *mids;           /* n - 1 of them */
    uint8_t *midmem;
    int err;                    /* sticky error */
    const char *errwhy;
    unsigned long long total_in;
};

static int fail(const char **why, const char *msg, int code)
{
    if (why)
        *why = msg;
    return code;
}

/* ---- zlib: gzip (RFC 1952) and deflate (RFC 1950 / RFC 1951) ---------- */

static int z_inflate(struct layer *l, const uint8_t *in, size_t *inlen, struct io *io,
                     const char **why)
{
    uInt ai = *inlen > UINT_MAX ? UINT_MAX : (uInt)*inlen;
    uInt ao = io->outlen > UINT_MAX ? UINT_MAX : (uInt)io->outlen;
    l->z.next_in = (Bytef *)in;
    l->z.avail_in = ai;
    l->z.next_out = io->out;
    l->z.avail_out = ao;
    int rc = inflate(&l->z, Z_NO_FLUSH);
    *inlen -= ai - l->z.avail_in;
    io->out += ao - l->z.avail_out;
    io->outlen -= ao - l->z.avail_out;
    switch (rc) {
    case Z_STREAM_END: return 1;
    case Z_OK:
    case Z_BUF_ERROR: return 0;     /* no progress possible: needs input */
    case Z_MEM_ERROR: return fail(why, "out of memory", FH_ENOMEM);
    case Z_NEED_DICT: return fail(why, "deflate stream needs a preset dictionary", FH_EDECODE);
    default: return fail(why, l->c->corrupt, FH_EDECODE);
    }
}

static int z_run(struct layer *l, struct io *io, const char **why)
{
    size_t left = io->inlen;
    int rc = z_inflate(l, io->in, &left, io, why);
    io->in += io->inlen - left;
    io->inlen = left;
    return rc;
}

static void z_fini(struct layer *l)
{
    if (l->zinit)
        inflateEnd(&l->z);
}

static int gzip_init(struct layer *l)
{
    /* windowBits 16 + 15 asks zlib for the gzip wrapper only. */
    if (inflateInit2(&l->z, 16 + MAX_WBITS) != Z_OK)
        return FH_ENOMEM;
    l->zinit = 1;
    return FH_OK;
}

/* RFC 1952 §2.2/§2.3.1: another member starts with ID1 = 0x1f; anything
 * else after a member is trailing data. inflateReset keeps the window
 * already allocated, so each member decodes in the same memory. */
static int gzip_next(struct layer *l, uint8_t first, const char **why)
{
    if (first != 0x1f)
        return fail(why, "data after the end of the compressed stream", FH_EDECODE);
    if (inflateReset(&l->z) != Z_OK)
        return fail(why, l->c->corrupt, FH_EDECODE);
    return FH_OK;
}

static int deflate_init(struct layer *l)
{
    (void)l;                    /* zlib is set up once the header is seen */
    return FH_OK;
}

/* RFC 1950 §2.2: CM = 8, CINFO <= 7 and CMF*256 + FLG divisible by 31. */
static int zlib_header_ok(const uint8_t h[2])
{
    return (h[0] & 0x0f) == 8 && (h[0] >> 4) <= 7 && ((h[0] << 8) | h[1]) % 31 == 0;
}

/* RFC 9110 §8.4.1.2 says "deflate" is the zlib format, but some servers
 * send raw deflate; the first two bytes tell the two apart. */
static int deflate_run(struct layer *l, struct io *io, const char **why)
{
    while (!l->zinit && l->nhdr < 2 && io->inlen > 0) {
        l->hdr[l->nhdr++] = *io->in++;
        io->inlen--;
    }
    if (l->nhdr < 2)
        return 0;
    if (!l->zinit) {
        int wbits = zlib_header_ok(l->hdr) ? MAX_WBITS : -MAX_WBITS;
        if (inflateInit2(&l->z, wbits) != Z_OK)
            return fail(why, "out of memory", FH_ENOMEM);
        l->zinit = 1;
    }
    if (l->hoff < 2) {
        size_t left = 2 - l->hoff;
        int rc = z_inflate(l, l->hdr + l->hoff, &left, io, why);
        l->hoff = 2 - (unsigned)left;
        if (rc != 0 || l->hoff < 2)
            return rc;
    }
    return z_run(l, io, why);
}

/* ---- brotli (RFC 7932) ------------------------------------------------ */

static int br_init(struct layer *l)
{
    l->br = BrotliDecoderCreateInstance(NULL, NULL, NULL);
    return l->br ? FH_OK : FH_ENOMEM;
}

static int br_run(struct layer *l, struct io *io, const char **why)
{
    size_t ai = io->inlen, ao = io->outlen;
    const uint8_t *ni = io->in;
    uint8_t *no = io->out;
    BrotliDecoderResult r = BrotliDecoderDecompressStream(l->br, &ai, &ni, &ao, &no, NULL);
    io->in = ni;
    io->inlen = ai;
    io->out = no;
    io->outlen = ao;
    if (r == BROTLI_DECODER_RESULT_SUCCESS)
        return 1;
    if (r != BROTLI_DECODER_RESULT_ERROR)
        return 0;
    BrotliDecoderErrorCode e = BrotliDecoderGetErrorCode(l->br);
    if (e <= BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES
        && e >= BROTLI_DECODER_ERROR_ALLOC_BLOCK_TYPE_TREES)
        return fail(why, "out of memory", FH_ENOMEM);
    return fail(why, l->c->corrupt, FH_EDECODE);
}

static void br_fini(struct layer *l)
{
    BrotliDecoderDestroyInstance(l->br);
}

/* ---- zstd (RFC 8878) -------------------------------------------------- */

static int zstd_init(struct layer *l)
{
    l->zs = ZSTD_createDStream();
    if (!l->zs)
        return FH_ENOMEM;
    ZSTD_DCtx_setParameter(l->zs, ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG_MAX);
    return FH_OK;
}

static int zstd_run(struct layer *l, struct io *io, const char **why)
{
    ZSTD_inBuffer ib = { io->in, io->inlen, 0 };
    ZSTD_outBuffer ob = { io->out, io->outlen, 0 };
    size_t r = ZSTD_decompressStream(l->zs, &ob, &ib);
    io->in += ib.pos;
    io->inlen -= ib.pos;
    io->out += ob.pos;
    io->outlen -= ob.pos;
    if (!ZSTD_isError(r))
        return r == 0;          /* 0: frame complete and fully flushed */
    switch (ZSTD_getErrorCode(r)) {
    case ZSTD_error_memory_allocation: return fail(why, "out of memory", FH_ENOMEM);
    case ZSTD_error_frameParameter_windowTooLarge:
        return fail(why, "zstd window larger than 8 MiB", FH_EDECODE);
    default: return fail(why, l->c->corrupt, FH_EDECODE);
    }
}

static void zstd_fini(struct layer *l)
{
    ZSTD_freeDStream(l->zs);
}

/* ---- coding table ----------------------------------------------------- */

static const struct coding codings[] = {
    { "gzip", "corrupt gzip data", gzip_init, z_run, z_fini, gzip_next },
    { "x-gzip", "corrupt gzip data", gzip_init, z_run, z_fini, gzip_next }, /* RFC 9110 §8.4.1.3 */
    { "deflate", "corrupt deflate data", deflate_init, deflate_run, z_fini, NULL },
    { "br", "corrupt brotli data", br_init, br_run, br_fini, NULL },
    { "zstd", "corrupt zstd data", zstd_init, zstd_run, zstd_fini, NULL },
};

/* NULL for "identity" (RFC 9110 §8.4.1 lists it, it changes nothing). */
static int lookup(const char *t, size_t n, const struct coding **c)
{
    *c = NULL;
    if (n == 8 && strncasecmp(t, "identity", 8) == 0)
        return FH_OK;
    for (size_t i = 0; i < sizeof codings / sizeof codings[0]; i++) {
        if (strlen(codings[i].name) == n && strncasecmp(t, codings[i].name, n) == 0) {
            *c = &codings[i];
            return FH_OK;
        }
    }
    return FH_EDECODE;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Walks the #content-coding list (RFC 9110 §5.6.1: empty elements and
 * OWS around commas are allowed). Stores each non-identity coding, left
 * to right, in list (when not NULL) and counts them in *n. */
static int each_coding(const char *v, size_t len, int max, const struct coding **list,
                       int *n, const char **why)
{
    size_t i = 0;
    *n = 0;
    while (i < len) {
        while (i < len && (is_ows(v[i]) || v[i] == ','))
            i++;
        size_t b = i;
        while (i < len && v[i] != ',')
            i++;
        size_t e = i;
        while (e > b && is_ows(v[e - 1]))
            e--;
        if (e == b)
            continue;
        const struct coding *c;
        if (lookup(v + b, e - b, &c))
            return fail(why, "unsupported Content-Encoding", FH_EDECODE);
        if (!c)
            continue;
        if (*n >= max)
            return fail(why, "too many Content-Encoding layers (limit max_content_encodings)",
                        FH_EDECODE);
        if (list)
            list[*n] = c;
        (*n)++;
    }
    return FH_OK;
}

/* ---- chain ------------------------------------------------------------ */

void fh__decoder_free(fh__decoder *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->n; i++)
        if (d->layers[i].c)
            d->layers[i].c->fini(&d->layers[i]);
    free(d->layers);
    free(d->mids);
    free(d->midmem);
    free(d);
}

static int alloc_chain(fh__decoder **out, int n)
{
    fh__decoder *d = calloc(1, sizeof *d);
    if (!d)
        return FH_ENOMEM;
    *out = d;
    d->layers = calloc((size_t)n, sizeof *d->layers);
    d->mids = calloc((size_t)n, sizeof *d->mids);
    d->midmem = n > 1 ? malloc((size_t)(n - 1) * MID_CAP) : NULL;
    if (!d->layers || !d->mids || (n > 1 && !d->midmem))
        return FH_ENOMEM;
    for (int i = 0; i + 1 < n; i++)
        d->mids[i].buf = d->midmem + (size_t)i * MID_CAP;
    return FH_OK;
}

int fh__decoder_new(fh__decoder **out, const char *value, size_t len, int max_layers,
                    const char **why)
{
    int n;
    *out = NULL;
    int rc = each_coding(value, len, max_layers, NULL, &n, why);
    if (rc || n == 0)
        return rc;
    const struct coding **list = calloc((size_t)n, sizeof *list);
    fh__decoder *d = NULL;
    rc = list ? alloc_chain(&d, n) : FH_ENOMEM;
    if (!rc)
        rc = each_coding(value, len, max_layers, list, &n, why);
    /* The last coding applied is undone first (RFC 9110 §8.4). */
    for (int i = 0; !rc && i < n; i++) {
        struct layer *l = &d->layers[i];
        l->c = list[n - 1 - i];
        d->n = i + 1;
        rc = l->c->init(l);
        if (rc)
            l->c = NULL;
    }
    free(list);
    if (rc) {
        fh__decoder_free(d);
        return rc == FH_ENOMEM ? fail(why, "out of memory", FH_ENOMEM) : rc;
    }
    *out = d;
    return FH_OK;
}

/* Where layer i reads from: the caller's input or the previous buffer. */
static void step_src(fh__decoder *d, int i, struct io *top, struct io *io)
{
    if (i == 0) {
        io->in = top->in;
        io->inlen = top->inlen;
    } else {
        struct mid *m = &d->mids[i - 1];
        io->in = m->buf + m->start;
        io->inlen = m->end - m->start;
    }
}

/* Where layer i writes: the caller's output or the next buffer, compacted
 * first so the buffer never needs to grow. */
static void step_dst(fh__decoder *d, int i, struct io *top, struct io *io)
{
    if (i == d->n - 1) {
        io->out = top->out;
        io->outlen = top->outlen;
        return;
    }
    struct mid *m = &d->mids[i];
    if (m->start == m->end) {
        m->start = m->end = 0;
    } else if (m->end == MID_CAP && m->start > 0) {
        memmove(m->buf, m->buf + m->start, m->end - m->start);
        m->end -= m->start;
        m->start = 0;
    }
    io->out = m->buf + m->end;
    io->outlen = MID_CAP - m->end;
}

static void step_commit(fh__decoder *d, int i, struct io *top, size_t used, size_t made)
{
    if (i == 0) {
        top->in += used;
        top->inlen -= used;
    } else {
        d->mids[i - 1].start += used;
    }
    if (i == d->n - 1) {
        top->out += made;
        top->outlen -= made;
    } else {
        d->mids[i].end += made;
    }
}

/* Runs layer i once; sets *progress when any byte moved. */
static int step(fh__decoder *d, int i, struct io *top, int *progress, const char **why)
{
    struct layer *l = &d->layers[i];
    struct io io;
    step_src(d, i, top, &io);
    if (l->ended && !io.inlen)
        return 0;
    if (l->ended) {
        int rc = l->c->next ? l->c->next(l, io.in[0], why)
                            : fail(why, "data after the end of the compressed stream", FH_EDECODE);
        if (rc)
            return rc;
        l->ended = 0;
    }
    step_dst(d, i, top, &io);
    if (io.outlen == 0)
        return 0;
    size_t inlen = io.inlen, outlen = io.outlen;
    int rc = l->c->run(l, &io, why);
    size_t used = inlen - io.inlen, made = outlen - io.outlen;
    step_commit(d, i, top, used, made);
    if (used || made)
        *progress = 1;
    if (rc < 0)
        return rc;
    if (rc == 1) {
        l->ended = 1; /* bytes left over are judged by the next step */
        if (io.inlen && !l->c->next)
            return fail(why, "data after the end of the compressed stream", FH_EDECODE);
    }
    return 0;
}

/* Every layer saw its end of stream (step() has already refused any byte
 * left over between layers, so nothing is pending). */
static int all_ended(const fh__decoder *d)
{
    for (int i = 0; i < d->n; i++)
        if (!d->layers[i].ended)
            return 0;
    return 1;
}

static int sticky(fh__decoder *d, int rc, const char *msg, const char **why)
{
    d->err = rc;
    d->errwhy = msg;
    return fail(why, msg, rc);
}

int fh__decoder_feed(fh__decoder *d, const uint8_t *in, size_t inlen, size_t *consumed,
                     uint8_t *out, size_t outcap, size_t *produced, const char **why)
{
    static uint8_t none;        /* stands in for NULL: no arithmetic on NULL */
    struct io top = { in ? in : &none, in ? inlen : 0, out ? out : &none, out ? outcap : 0 };
    int progress;
    *consumed = *produced = 0;
    inlen = top.inlen;
    outcap = top.outlen;
    if (d->err)
        return fail(why, d->errwhy, d->err);
    do {
        progress = 0;
        for (int i = 0; i < d->n; i++) {
            const char *msg = "corrupt compressed data";
            int rc = step(d, i, &top, &progress, &msg);
            if (rc) {
                *consumed = inlen - top.inlen;
                *produced = outcap - top.outlen;
                return sticky(d, rc, msg, why);
            }
        }
    } while (progress);
    *consumed = inlen - top.inlen;
    *produced = outcap - top.outlen;
    d->total_in += *consumed;
    return all_ended(d);
}

int fh__decoder_finish(fh__decoder *d, const char **why)
{
    if (d->err)
        return fail(why, d->errwhy, d->err);
    if (all_ended(d) || d->total_in == 0)
        return FH_OK;
    return fail(why, "compressed stream truncated", FH_EDECODE);
}
