/*
 * h1_parser.c — incremental, zero-copy HTTP/1.1 response parser
 * (RFC 9110, RFC 9112): the response head and the body framing.
 *
 * The head parser first looks for the empty line that ends the head (the
 * search resumes where it stopped, via *scan), then parses the complete head
 * in one pass. A few checks run before the head is complete so that garbage,
 * HTTP/0.9 and oversized heads fail at once instead of waiting for bytes
 * that will never make them valid. Each early check is one the complete
 * parse makes first as well, so every split of the input gives one result.
 *
 * The body parser is a byte-level state machine with no lookahead, so it
 * accepts any split of its input too.
 */
#include "h1.h"

#include <limits.h>
#include <string.h>

/* Messages for the limits name the limit (fh_limit_name), so a user can
 * tell which setting to raise. */
#define WHY_STATUS_LINE "status line too long (limit max_status_line_size)"
#define WHY_HEAD_SIZE "response head too large (limit max_header_size)"
#define WHY_HEADER_COUNT "too many header fields (limit max_header_count)"
#define WHY_TRAILER_SIZE "trailer section too large (limit max_trailer_size)"

/* A chunk-size line (size, extensions, CRLF) longer than this is refused:
 * extensions are skipped, but not without bound. */
#define CHUNK_LINE_MAX 4096
/* 16 hex digits hold 64 bits; a longer size either overflows or is padded
 * with zeros beyond any sane use. */
#define CHUNK_DIGITS_MAX 16

static const fh__h1_limits default_limits = {8192, 65536, 100, 16384};

/* tchar (RFC 9110 §5.6.2) lives in h1_writer.c, shared by both directions. */
#define tchar fh__h1_tchar

/* field-vchar / SP / HTAB (RFC 9110 §5.5): no control byte other than HTAB,
 * no DEL; obs-text (0x80-0xff) is allowed. CR and LF stop a value scan. */
static const unsigned char vchar[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, /* HTAB only */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* not DEL */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* obs-text */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

static int is_value_byte(unsigned char c)
{
    return vchar[c];
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/*
 * Case-insensitive comparison with a literal of lower-case letters, digits
 * and '-', eight bytes at a time. Setting bit 0x20 of a byte maps 'A'-'Z'
 * onto 'a'-'z' and leaves those, the digits and '-' as they are; the only
 * other bytes it maps onto such a literal byte are control bytes (0x0D onto
 * '-', 0x10-0x19 onto the digits), which never reach here: names are
 * tokens and values have been checked for control bytes.
 */
static int ieq_n(const char *s, size_t len, const char *lit, size_t n)
{
    if (len != n)
        return 0;
    const uint64_t bits = UINT64_C(0x2020202020202020);
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t a, b;
        memcpy(&a, s + i, 8);
        memcpy(&b, lit + i, 8);
        if ((a | bits) != b)
            return 0;
    }
    for (; i < n; i++)
        if (((unsigned char)s[i] | 0x20) != (unsigned char)lit[i])
            return 0;
    return 1;
}

#define ieq(s, len, lit) ieq_n((s), (len), "" lit, sizeof(lit) - 1)

static int fail(fh__h1_head *out, int code, const char *why)
{
    out->why = why;
    return code;
}

/* ---- finding the end of the head ---------------------------------------- */

/*
 * The head ends with an empty line: an LF followed by LF or by CR LF
 * (RFC 9112 §2.1, with bare LF accepted as §2.2 allows). Searches from
 * *scan, which always rests on an LF whose following bytes have not all
 * arrived, or on the first unsearched byte. Returns 1 and the head length
 * when found.
 */
static int find_head_end(const char *buf, size_t len, size_t *scan, size_t *head_len)
{
    size_t i = *scan;
    while (i < len) {
        const char *lf = memchr(buf + i, '\n', len - i);
        if (!lf)
            break;
        i = (size_t)(lf - buf);
        if (i + 1 >= len || (buf[i + 1] == '\r' && i + 2 >= len)) {
            *scan = i; /* decide once the next bytes are here */
            return 0;
        }
        if (buf[i + 1] == '\n' || (buf[i + 1] == '\r' && buf[i + 2] == '\n')) {
            *scan = i;
            *head_len = i + (buf[i + 1] == '\n' ? 2 : 3);
            return 1;
        }
        i++;
    }
    *scan = len;
    return 0;
}

/* ---- status line --------------------------------------------------------- */

/* "HTTP/" must open the response: anything else is HTTP/0.9 (a bare body)
 * or garbage. Checked on every call so it fails with the first bad byte. */
static int check_prefix(const char *buf, size_t len, fh__h1_head *out)
{
    static const char name[] = "HTTP/";
    size_t n = len < 5 ? len : 5;
    if (memcmp(buf, name, n) != 0)
        return fail(out, FH_EPROTO,
                    "response does not start with an HTTP/1.x status line "
                    "(HTTP/0.9 or garbage)");
    return FH_OK;
}

/* Length of a line's content: without its LF and a CR right before it. */
static size_t content_len(const char *line, size_t lf)
{
    return (lf > 0 && line[lf - 1] == '\r') ? lf - 1 : lf;
}

/* HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3); only 1.0 and 1.1
 * use this framing (HTTP/2 and later never send a text status line). */
static int parse_version(const char *s, size_t len, fh__h1_head *out)
{
    if (len < 8 || s[5] < '0' || s[5] > '9' || s[6] != '.' || s[7] < '0' || s[7] > '9')
        return fail(out, FH_EPROTO, "malformed HTTP version in the status line");
    if (s[5] != '1' || (s[7] != '0' && s[7] != '1'))
        return fail(out, FH_EPROTO, "unsupported HTTP version (only HTTP/1.0 and 1.1)");
    out->version = 10 + (s[7] - '0');
    return FH_OK;
}

/* status-code = 3DIGIT (RFC 9110 §15); 100..999 as the contract says. */
static int parse_status(const char *s, size_t len, fh__h1_head *out)
{
    if (len < 12 || s[8] != ' ')
        return fail(out, FH_EPROTO, "status code is not three digits");
    for (int i = 9; i < 12; i++)
        if (s[i] < '0' || s[i] > '9')
            return fail(out, FH_EPROTO, "status code is not three digits");
    if (s[9] == '0')
        return fail(out, FH_EPROTO, "status code below 100");
    out->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    return FH_OK;
}

/*
 * status-line = HTTP-version SP status-code SP [ reason-phrase ]
 * (RFC 9112 §4); the SP before an empty reason may be missing (§4 asks
 * clients to accept that). reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ).
 */
static int parse_status_line(const char *s, size_t len, fh__h1_head *out)
{
    int rc = parse_version(s, len, out);
    if (!rc)
        rc = parse_status(s, len, out);
    if (rc)
        return rc;
    if (len > 12 && s[12] != ' ')
        return fail(out, FH_EPROTO, "status code is not three digits");
    size_t start = len > 12 ? 13 : 12;
    for (size_t i = start; i < len; i++)
        if (!is_value_byte((unsigned char)s[i]))
            return fail(out, FH_EPROTO, "control character in the status line");
    out->reason = s + start;
    out->reason_len = len - start;
    return FH_OK;
}

/*
 * Checks the status line as soon as its LF is here (and its length while it
 * is not). Returns FH_OK and the index of its LF in *lf, FH_EAGAIN, or an
 * error.
 */
static int check_status_line(const char *buf, size_t len, const fh__h1_limits *lim,
                             size_t *lf, fh__h1_head *out)
{
    const char *p = memchr(buf, '\n', len);
    if (!p) {
        /* At most one trailing byte (a CR) is not content. */
        if (len >= 2 && len - 1 > lim->status_line)
            return fail(out, FH_EHEADERS_TOO_LARGE, WHY_STATUS_LINE);
        if (len > lim->header_bytes)
            return fail(out, FH_EHEADERS_TOO_LARGE, WHY_HEAD_SIZE);
        return FH_EAGAIN;
    }
    *lf = (size_t)(p - buf);
    if (content_len(buf, *lf) > lim->status_line)
        return fail(out, FH_EHEADERS_TOO_LARGE, WHY_STATUS_LINE);
    if (*lf + 1 > lim->header_bytes)
        return fail(out, FH_EHEADERS_TOO_LARGE, WHY_HEAD_SIZE);
    return parse_status_line(buf, content_len(buf, *lf), out);
}

/* ---- header fields ------------------------------------------------------- */

/* What the framing headers said, gathered while the fields are parsed. */
typedef struct framing {
    int cl_seen;
    uint64_t cl;
    int te_seen;          /* a Transfer-Encoding field was present */
    int te_last_chunked;  /* the final coding so far is chunked */
    int te_chunked_twice; /* a coding followed chunked */
    int te_other;         /* a coding other than chunked was listed */
    int conn_close;
    int conn_keep_alive;
} framing;

/* Iterates the elements of a comma list (RFC 9110 §5.6.1), each one
 * OWS-trimmed. An empty value yields one empty element. */
typedef struct list_iter {
    const char *p, *end;
    int done;
} list_iter;

static int list_next(list_iter *it, const char **el, size_t *el_len)
{
    if (it->done)
        return 0;
    const char *s = it->p;
    const char *c = memchr(s, ',', (size_t)(it->end - s));
    const char *e = c ? c : it->end;
    if (c)
        it->p = c + 1;
    else
        it->done = 1;
    while (s < e && is_ows(*s))
        s++;
    while (e > s && is_ows(e[-1]))
        e--;
    *el = s;
    *el_len = (size_t)(e - s);
    return 1;
}

/*
 * Content-Length = 1*DIGIT (RFC 9110 §8.6). A list of identical values
 * ("5, 5", or repeated fields) may be accepted as one; anything else —
 * different values, signs, spaces inside, non-ASCII digits, an empty value,
 * more than 2^63-1 — is refused, since a wrong length desynchronises the
 * connection (RFC 9112 §6.3 item 5).
 */
static int on_content_length(framing *f, const char *v, size_t vlen, fh__h1_head *out)
{
    list_iter it = {v, v + vlen, 0};
    const char *el;
    size_t n;
    while (list_next(&it, &el, &n)) {
        if (n == 0)
            return fail(out, FH_ECONTENT_LENGTH, "empty Content-Length value");
        uint64_t x = 0;
        for (size_t i = 0; i < n; i++) {
            if (el[i] < '0' || el[i] > '9')
                return fail(out, FH_ECONTENT_LENGTH, "Content-Length is not a decimal number");
            unsigned d = (unsigned)(el[i] - '0');
            if (x > (UINT64_C(0x7fffffffffffffff) - d) / 10)
                return fail(out, FH_ECONTENT_LENGTH, "Content-Length overflows");
            x = x * 10 + d;
        }
        if (f->cl_seen && x != f->cl)
            return fail(out, FH_ECONTENT_LENGTH, "conflicting Content-Length values");
        f->cl_seen = 1;
        f->cl = x;
    }
    return FH_OK;
}

/* Transfer-Encoding = #transfer-coding (RFC 9112 §6.1); several fields form
 * one list in order. Empty elements are ignored (RFC 9110 §5.6.1). */
static void on_transfer_encoding(framing *f, const char *v, size_t vlen)
{
    list_iter it = {v, v + vlen, 0};
    const char *el;
    size_t n;
    f->te_seen = 1;
    while (list_next(&it, &el, &n)) {
        if (n == 0)
            continue;
        if (f->te_last_chunked)
            f->te_chunked_twice = 1; /* a coding after chunked */
        f->te_last_chunked = ieq(el, n, "chunked");
        f->te_other |= !f->te_last_chunked;
    }
}

/* Connection = #connection-option (RFC 9110 §7.6.1). */
static void on_connection(framing *f, const char *v, size_t vlen)
{
    list_iter it = {v, v + vlen, 0};
    const char *el;
    size_t n;
    while (list_next(&it, &el, &n)) {
        if (ieq(el, n, "close"))
            f->conn_close = 1;
        else if (ieq(el, n, "keep-alive"))
            f->conn_keep_alive = 1;
    }
}

static int on_field(framing *f, const fh_header *h, fh__h1_head *out)
{
    switch (h->name_len) {
    case 10:
        if (ieq(h->name, 10, "connection"))
            on_connection(f, h->value, h->value_len);
        return FH_OK;
    case 14:
        if (ieq(h->name, 14, "content-length"))
            return on_content_length(f, h->value, h->value_len, out);
        return FH_OK;
    case 17:
        if (ieq(h->name, 17, "transfer-encoding"))
            on_transfer_encoding(f, h->value, h->value_len);
        return FH_OK;
    default:
        return FH_OK;
    }
}

/*
 * Skips value bytes from p, stopping at the first byte that is not one
 * (CR, LF, another control byte or DEL); never reads at or past lim, and
 * the caller guarantees such a byte exists before lim. Eight bytes at a
 * time while none of them is < 0x20 or 0x7f (an HTAB sends that word to
 * the byte loop): values are most of a head.
 */
static const char *skip_value(const char *p, const char *lim)
{
    const uint64_t ones = UINT64_C(0x0101010101010101);
    const uint64_t highs = UINT64_C(0x8080808080808080);
    while (lim - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        /* any byte < 0x20 (bytes >= 0x80 are masked out by ~x) */
        uint64_t low = (x - ones * 0x20) & ~x & highs;
        /* any byte == 0x7f */
        uint64_t y = x ^ (ones * 0x7f);
        uint64_t del = (y - ones) & ~y & highs;
        if (low | del) {
            /* The lowest flagged byte is exact (a borrow only flags bytes
             * above a true one): start the byte loop there. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            p += (size_t)__builtin_ctzll(low | del) / 8;
#endif
            break;
        }
        p += 8;
    }
    while (vchar[(unsigned char)*p])
        p++;
    return p;
}

/* Line end at p: 2 for CR LF, 1 for a bare LF (RFC 9112 §2.2), 0 if none. */
static size_t eol_len(const char *p)
{
    if (p[0] == '\n')
        return 1;
    return (p[0] == '\r' && p[1] == '\n') ? 2 : 0;
}

/* Why a field name stopped at c, which is not ':'. */
static const char *bad_name_why(const char *c)
{
    if (is_ows(*c))
        return "whitespace between header name and colon";
    if (eol_len(c))
        return "header line without a colon";
    return "invalid character in header name";
}

/*
 * field-line = field-name ":" OWS field-value OWS (RFC 9112 §5), parsed in
 * one scan from s; the head is complete, so an LF stops every loop. Sets
 * *used to the line's bytes including its line end. No whitespace is
 * allowed between name and colon (§5.1: it has been used for request
 * smuggling); a line opening with SP or HTAB is obs-fold (§5.2), which a
 * client may reject — we do, since joining lines changes meaning.
 */
static int parse_field_line(const char *s, const char *lim, fh_header *h, size_t *used,
                            fh__h1_head *out)
{
    if (is_ows(s[0]))
        return fail(out, FH_EPROTO, "header line folding (obs-fold) is not allowed");
    const char *p = s;
    while (tchar[(unsigned char)*p])
        p++;
    if (*p != ':')
        return fail(out, FH_EPROTO, bad_name_why(p));
    if (p == s)
        return fail(out, FH_EPROTO, "empty header name");
    h->name = s;
    h->name_len = (size_t)(p - s);
    for (p++; is_ows(*p); p++)
        ;
    const char *v = p;
    p = skip_value(p, lim);
    size_t eol = eol_len(p);
    if (!eol) /* a control byte, DEL or a bare CR */
        return fail(out, FH_EPROTO, "control character in header value");
    const char *ve = p;
    while (ve > v && is_ows(ve[-1]))
        ve--;
    h->value = v;
    h->value_len = (size_t)(ve - v);
    *used = (size_t)(p + eol - s);
    return FH_OK;
}

/* Parses the field lines in buf[from..end) (end is the start of the final
 * empty line) into out->headers, noting the framing fields in f. */
static int parse_fields(const char *buf, size_t from, size_t end, size_t cap, framing *f,
                        fh__h1_head *out)
{
    size_t p = from;
    while (p < end) {
        if (out->nheaders >= cap)
            return fail(out, FH_ETOO_MANY_HEADERS, WHY_HEADER_COUNT);
        fh_header *h = &out->headers[out->nheaders];
        size_t used = 0;
        int rc = parse_field_line(buf + p, buf + end, h, &used, out);
        if (!rc)
            rc = on_field(f, h, out);
        if (rc)
            return rc;
        out->nheaders++;
        p += used;
    }
    return FH_OK;
}

/* ---- framing ------------------------------------------------------------- */

/*
 * Message body length, RFC 9112 §6.3, in its order: no body for HEAD, 1xx,
 * 204 and 304 (item 1); Transfer-Encoding with chunked last (item 4; a
 * final coding other than chunked is refused here rather than read to
 * close); Content-Length (item 6); otherwise read until close (item 8).
 */
static int decide_framing(const framing *f, int head_request, fh__h1_head *out)
{
    int no_body = head_request || out->status < 200 || out->status == 204 ||
                  out->status == 304;
    /* TE and CL together may be a smuggling attempt: TE wins, and the
     * connection is not reused (§6.3 item 3). HTTP/1.0 does not know TE,
     * so such a message must close the connection too (§6.1). */
    if (f->te_seen && (f->cl_seen || out->version == 10))
        out->keep_alive = 0;
    out->content_length = f->cl_seen ? f->cl : 0;
    if (no_body) {
        out->body_kind = FH__FRAME_NONE;
        return FH_OK;
    }
    if (f->te_seen) {
        if (!f->te_last_chunked)
            return fail(out, FH_ETRANSFER_ENCODING,
                        "Transfer-Encoding does not end with chunked");
        if (f->te_chunked_twice)
            return fail(out, FH_ETRANSFER_ENCODING, "chunked transfer coding applied twice");
        /* Transfer codings other than chunked are never requested (no TE
         * header is sent, RFC 9110 §10.1.4) and nothing here undoes them, so
         * accepting one would hand back a still-encoded body. */
        if (f->te_other)
            return fail(out, FH_ETRANSFER_ENCODING,
                        "Transfer-Encoding other than chunked is not supported");
        out->body_kind = FH__FRAME_CHUNKED;
        out->content_length = 0;
        return FH_OK;
    }
    if (f->cl_seen) {
        out->body_kind = f->cl ? FH__FRAME_LENGTH : FH__FRAME_NONE;
        return FH_OK;
    }
    out->body_kind = FH__FRAME_CLOSE;
    out->keep_alive = 0;
    return FH_OK;
}

/* Persistence (RFC 9112 §9.3): HTTP/1.1 stays open unless "close";
 * HTTP/1.0 closes unless "keep-alive" (and "close" beats both). */
static void decide_keep_alive(const framing *f, fh__h1_head *out)
{
    if (f->conn_close)
        out->keep_alive = 0;
    else if (out->version == 11)
        out->keep_alive = 1;
    else
        out->keep_alive = f->conn_keep_alive;
}

/* ---- the head ------------------------------------------------------------ */

static void reset_head(fh__h1_head *out, fh_header *hdrs)
{
    out->version = 0;
    out->status = 0;
    out->reason = NULL;
    out->reason_len = 0;
    out->headers = hdrs;
    out->nheaders = 0;
    out->head_len = 0;
    out->body_kind = FH__FRAME_NONE;
    out->content_length = 0;
    out->keep_alive = 0;
    out->why = NULL;
}

/* Parses the complete head buf[0..head_len); status line ends at status_lf. */
static int parse_complete(const char *buf, size_t head_len, size_t status_lf,
                          const fh__h1_limits *lim, int head_request, size_t cap,
                          fh__h1_head *out)
{
    if (head_len > lim->header_bytes)
        return fail(out, FH_EHEADERS_TOO_LARGE, WHY_HEAD_SIZE);
    /* The final empty line is LF or CR LF: its start is where fields end. */
    size_t end = head_len - (buf[head_len - 2] == '\r' ? 2 : 1);
    framing f = {0};
    if (cap > lim->header_count)
        cap = lim->header_count;
    int rc = status_lf + 1 < end ? parse_fields(buf, status_lf + 1, end, cap, &f, out)
                                 : FH_OK;
    if (rc)
        return rc;
    decide_keep_alive(&f, out);
    rc = decide_framing(&f, head_request, out);
    if (rc)
        return rc;
    out->head_len = head_len;
    return (int)head_len;
}

/*
 * The part that runs on every call: the early checks and the search for the
 * end. Returns FH_OK with *head_len and *status_lf set once the head is
 * complete, FH_EAGAIN, or an error.
 *
 * *scan == 0 means the status line has not been seen whole yet (its LF is
 * never at 0: "HTTP/" comes first). Re-finding it on each call costs at most
 * status_line bytes; once it is checked, the end-of-head search starts at
 * its LF and then resumes from *scan.
 */
static int find_head(const char *buf, size_t len, size_t *scan, const fh__h1_limits *lim,
                     size_t *status_lf, size_t *head_len, fh__h1_head *out)
{
    int rc = check_prefix(buf, len, out);
    if (rc)
        return rc;
    if (*scan == 0) {
        rc = check_status_line(buf, len, lim, status_lf, out);
        if (rc)
            return rc;
        *scan = *status_lf;
    }
    if (!find_head_end(buf, len, scan, head_len)) {
        if (len > lim->header_bytes)
            return fail(out, FH_EHEADERS_TOO_LARGE, WHY_HEAD_SIZE);
        return FH_EAGAIN;
    }
    /* Complete: fill in the status line (checked before, so it passes). */
    if (*status_lf == 0)
        return check_status_line(buf, len, lim, status_lf, out);
    return FH_OK;
}

int fh__h1_parse_head(const char *buf, size_t len, size_t *scan, const fh__h1_limits *lim,
                      int head_request, fh_header *hdrs, size_t hdr_cap, fh__h1_head *out)
{
    if (!lim)
        lim = &default_limits;
    if (!hdrs)
        hdr_cap = 0;
    reset_head(out, hdrs);
    if (len == 0)
        return FH_EAGAIN;
    size_t status_lf = 0, head_len = 0;
    int rc = find_head(buf, len, scan, lim, &status_lf, &head_len, out);
    if (rc)
        return rc;
    /* The return value is an int: a head over INT_MAX is too large anyway. */
    if (head_len > INT_MAX)
        return fail(out, FH_EHEADERS_TOO_LARGE, WHY_HEAD_SIZE);
    return parse_complete(buf, head_len, status_lf, lim, head_request, hdr_cap, out);
}

/* ---- the body ------------------------------------------------------------ */

enum {
    B_SIZE,      /* chunk-size hex digits */
    B_SIZE_WS,   /* BWS after the size, before ';' or CR */
    B_EXT,       /* chunk extensions, skipped up to CR */
    B_SIZE_LF,   /* the LF of the chunk-size line */
    B_DATA,      /* chunk data */
    B_DATA_CR,   /* the CR after chunk data */
    B_DATA_LF,   /* the LF after chunk data */
    B_TRAILER,   /* start of a trailer line, or of the final CRLF */
    B_TRAILER_LINE,
    B_TRAILER_LF,
    B_END_LF,    /* the LF of the final CRLF */
    B_DONE,
    B_ERROR
};

void fh__h1_body_init(fh__h1_body *b, const fh__h1_head *head, const fh__h1_limits *lim)
{
    if (!lim)
        lim = &default_limits;
    memset(b, 0, sizeof *b);
    b->kind = head->body_kind;
    b->expected = head->body_kind == FH__FRAME_LENGTH ? head->content_length : 0;
    b->trailer_limit = lim->trailer_bytes;
    b->state = b->kind == FH__FRAME_CHUNKED ? B_SIZE : B_DATA;
    if (b->kind == FH__FRAME_NONE || (b->kind == FH__FRAME_LENGTH && b->expected == 0))
        b->state = B_DONE;
}

static int body_fail(fh__h1_body *b, const char *why)
{
    b->state = B_ERROR;
    b->why = why;
    return FH_ECHUNKED;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* chunk-size = 1*HEXDIG, then BWS and extensions (RFC 9112 §7.1, §7.1.1).
 * While in B_SIZE every byte of the line so far is a digit, so line_len
 * (already counting c) is also the digit count. */
static int on_size_byte(fh__h1_body *b, unsigned char c)
{
    int d = hex_value(c);
    if (d >= 0) {
        if (b->line_len > CHUNK_DIGITS_MAX)
            return body_fail(b, "chunk size overflows");
        b->chunk_left = (b->chunk_left << 4) | (uint64_t)d;
        return FH_OK;
    }
    if (b->line_len == 1)
        return body_fail(b, "chunk size is not a hexadecimal number");
    if (c == '\r')
        b->state = B_SIZE_LF;
    else if (c == ';')
        b->state = B_EXT;
    else if (is_ows((char)c))
        b->state = B_SIZE_WS;
    else
        return body_fail(b, "chunk size is not a hexadecimal number");
    return FH_OK;
}

static int on_size_ws_byte(fh__h1_body *b, unsigned char c)
{
    if (c == '\r')
        b->state = B_SIZE_LF;
    else if (c == ';')
        b->state = B_EXT;
    else if (!is_ows((char)c))
        return body_fail(b, "invalid character after chunk size");
    return FH_OK;
}

/* Extensions are not interpreted, only bounded and kept free of controls
 * (a bare LF here is a known smuggling vector). */
static int on_ext_byte(fh__h1_body *b, unsigned char c)
{
    if (c == '\r')
        b->state = B_SIZE_LF;
    else if (!is_value_byte(c))
        return body_fail(b, "control character in chunk extension");
    return FH_OK;
}

/* The chunk-size line ended: the size is final. */
static int on_size_lf(fh__h1_body *b, unsigned char c)
{
    if (c != '\n')
        return body_fail(b, "chunk size line does not end with CRLF");
    if (b->chunk_left > UINT64_MAX - b->received)
        return body_fail(b, "chunked body length overflows");
    b->line_len = 0;
    b->state = b->chunk_left ? B_DATA : B_TRAILER; /* last-chunk: trailers */
    return FH_OK;
}

/* trailer-section = *( field-line CRLF ), then CRLF (RFC 9112 §7.1.2).
 * Trailer fields are skipped, bounded by trailer_limit. */
static int on_trailer_byte(fh__h1_body *b, unsigned char c)
{
    if (b->state == B_TRAILER && c == '\r') {
        b->state = B_END_LF;
        return FH_OK;
    }
    if (++b->trailer_bytes > b->trailer_limit)
        return body_fail(b, WHY_TRAILER_SIZE);
    if (b->state == B_TRAILER_LF) {
        if (c != '\n')
            return body_fail(b, "trailer line does not end with CRLF");
        b->state = B_TRAILER;
    } else if (c == '\r') {
        b->state = B_TRAILER_LF;
    } else if (c == '\n') {
        return body_fail(b, "trailer line does not end with CRLF");
    } else {
        b->state = B_TRAILER_LINE;
    }
    return FH_OK;
}

/* One framing byte (anything but chunk data). */
static int chunk_byte(fh__h1_body *b, unsigned char c)
{
    /* line_len counts the bytes of the chunk-size line so far; the line
     * must end in CRLF (RFC 9112 §7.1), a bare LF is refused. */
    if (b->state <= B_EXT) {
        if (++b->line_len > CHUNK_LINE_MAX)
            return body_fail(b, "chunk extension too long");
        if (c == '\n')
            return body_fail(b, "chunk size line does not end with CRLF");
    }
    switch (b->state) {
    case B_SIZE: return on_size_byte(b, c);
    case B_SIZE_WS: return on_size_ws_byte(b, c);
    case B_EXT: return on_ext_byte(b, c);
    case B_SIZE_LF: return on_size_lf(b, c);
    case B_DATA_CR:
        if (c != '\r')
            return body_fail(b, "missing CRLF after chunk data");
        b->state = B_DATA_LF;
        return FH_OK;
    case B_DATA_LF:
        if (c != '\n')
            return body_fail(b, "missing CRLF after chunk data");
        b->state = B_SIZE;
        return FH_OK;
    case B_END_LF:
        if (c != '\n')
            return body_fail(b, "chunked body does not end with CRLF");
        b->state = B_DONE;
        return FH_OK;
    default: return on_trailer_byte(b, c);
    }
}

static int feed_chunked(fh__h1_body *b, const uint8_t *in, size_t len, size_t *consumed,
                        const uint8_t **data, size_t *data_len)
{
    size_t i = 0;
    while (i < len && b->state != B_DONE) {
        if (b->state == B_DATA) {
            size_t n = len - i;
            if ((uint64_t)n > b->chunk_left)
                n = (size_t)b->chunk_left;
            *data = in + i;
            *data_len = n;
            b->chunk_left -= n;
            b->received += n;
            if (b->chunk_left == 0)
                b->state = B_DATA_CR;
            *consumed = i + n;
            return 0;
        }
        int rc = chunk_byte(b, in[i]);
        if (rc)
            return rc;
        i++;
    }
    *consumed = i;
    return b->state == B_DONE;
}

int fh__h1_body_feed(fh__h1_body *b, const uint8_t *in, size_t len, size_t *consumed,
                     const uint8_t **data, size_t *data_len)
{
    *consumed = 0;
    *data = in;
    *data_len = 0;
    if (b->state == B_ERROR)
        return FH_ECHUNKED;
    if (b->state == B_DONE)
        return 1;
    if (b->kind == FH__FRAME_CHUNKED)
        return feed_chunked(b, in, len, consumed, data, data_len);
    size_t n = len;
    if (b->kind == FH__FRAME_LENGTH && (uint64_t)n > b->expected - b->received)
        n = (size_t)(b->expected - b->received);
    *data_len = n;
    *consumed = n;
    b->received += n;
    if (b->kind == FH__FRAME_LENGTH && b->received == b->expected) {
        b->state = B_DONE;
        return 1;
    }
    return 0;
}

int fh__h1_body_eof(fh__h1_body *b)
{
    if (b->state == B_DONE)
        return 1;
    /* Only a close-delimited body may end with the connection
     * (RFC 9112 §6.3 item 8); anything else was cut short (§8). */
    if (b->kind == FH__FRAME_CLOSE && b->state != B_ERROR) {
        b->state = B_DONE;
        return 1;
    }
    if (b->state != B_ERROR)
        b->why = "connection closed before the response body was complete";
    return FH_ECLOSED;
}

int fh__h1_body_done(const fh__h1_body *b)
{
    return b->state == B_DONE;
}
