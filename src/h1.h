/*
 * h1.h — the HTTP/1.1 protocol core (RFC 9110, RFC 9112): request writer,
 * incremental response-head parser and body framing. Sans-IO: bytes in,
 * results out; no sockets, no clock, no allocation in the parser.
 */
#ifndef FH_H1_H
#define FH_H1_H

#include <stddef.h>
#include <stdint.h>

#include "fasthttp/fasthttp.h"
#include "buf.h"

/* tchar of RFC 9110 §5.6.2: 1 for the bytes a token (method, field name)
 * may hold. One table for the writer and the parser. */
extern const unsigned char fh__h1_tchar[256];

/* ---- request writer ---------------------------------------------------- */

/* FH_OK, or FH_EHEADER when the method is empty or not a token (§5.6.2). */
int fh__h1_check_method(const char *m, size_t len);
/* FH_OK, or FH_EHEADER when the target has bytes <= 0x20, 0x7f or is empty. */
int fh__h1_check_target(const char *t, size_t len);
/* FH_OK, or FH_EHEADER when the name is not a token, or the value holds
 * CR, LF, NUL or another control byte other than HTAB (§5.5). */
int fh__h1_check_header(const char *name, size_t nlen, const char *value, size_t vlen);

#define FH__BODY_NONE (-1)    /* no body, no framing header */
#define FH__BODY_CHUNKED (-2) /* Transfer-Encoding: chunked */

/*
 * Appends a complete request head to out:
 *   METHOD SP target SP HTTP/1.1 CRLF
 *   Host: authority CRLF
 *   caller's headers in order CRLF
 *   Content-Length: n  (body_len >= 0) | Transfer-Encoding: chunked (FH__BODY_CHUNKED)
 *   CRLF
 * Everything is validated first; on FH_EHEADER nothing is appended.
 * authority == NULL omits the Host line (the caller sends its own Host).
 */
int fh__h1_write_head(fh__buf *out, const char *method, size_t mlen, const char *target,
                      size_t tlen, const char *authority, size_t alen, const fh_header *hdrs,
                      size_t nhdrs, int64_t body_len);
/* The same, when hdrs[0, nchecked) passed fh__h1_check_header already (a
 * request's fields, checked when added): only the others are checked. */
int fh__h1_write_head_n(fh__buf *out, const char *method, size_t mlen, const char *target,
                        size_t tlen, const char *authority, size_t alen, const fh_header *hdrs,
                        size_t nhdrs, size_t nchecked, int64_t body_len);

/* Decimal digits of v into out (>= 20 bytes, no NUL); returns the length. */
size_t fh__h1_format_u64(char *out, uint64_t v);

/* Writes "<hex>\r\n" for a chunk of n bytes (n > 0) into out (>= 20 bytes);
 * returns its length. The last chunk is the literal "0\r\n\r\n". */
size_t fh__h1_chunk_prefix(char *out, size_t n);

/* ---- response head ----------------------------------------------------- */

typedef struct fh__h1_limits {
    size_t status_line;   /* default 8192 */
    size_t header_bytes;  /* default 65536: whole head incl. status line */
    size_t header_count;  /* default 100 */
    size_t trailer_bytes; /* default 16384 */
} fh__h1_limits;

enum fh__body_kind {
    FH__FRAME_NONE = 0,    /* no body (HEAD, 1xx, 204, 304, or Content-Length: 0) */
    FH__FRAME_LENGTH = 1,  /* Content-Length bytes */
    FH__FRAME_CHUNKED = 2, /* chunked transfer coding */
    FH__FRAME_CLOSE = 3    /* read until the peer closes */
};

typedef struct fh__h1_head {
    int version;             /* 10 or 11 */
    int status;              /* 100..999 */
    const char *reason;      /* points into the input; may be empty */
    size_t reason_len;
    fh_header *headers;      /* caller's array, entries point into the input */
    size_t nheaders;
    size_t head_len;         /* bytes of the head including the final CRLF CRLF */
    int body_kind;           /* enum fh__body_kind */
    uint64_t content_length; /* for FH__FRAME_LENGTH */
    int keep_alive;          /* the connection may be reused after the body */
    const char *why;         /* on error: static sentence saying what is wrong */
} fh__h1_head;

/*
 * Parses a response head from buf[0..len). Incremental: call again with the
 * same buffer grown by more bytes; *scan (start at 0) remembers how far the
 * end-of-head search got so bytes are not scanned twice. Any split of the
 * input gives the same result.
 *
 * head_request: the request method was HEAD (no body, RFC 9110 §9.3.2).
 * hdrs/hdr_cap: storage for header views (hdr_cap >= limits->header_count).
 *
 * Returns the head length (> 0) when complete, FH_EAGAIN when more bytes are
 * needed, or a negative error (FH_EPROTO, FH_EHEADERS_TOO_LARGE,
 * FH_ETOO_MANY_HEADERS, FH_ECONTENT_LENGTH, FH_ETRANSFER_ENCODING) with
 * out->why set. 1xx responses are returned like any other (status < 200,
 * body_kind NONE); the caller skips them.
 *
 * Rules: status line "HTTP/1.x SP 3DIGIT SP reason" (reason may be empty,
 * the SP before it may be missing); HTTP/0.9 and other versions rejected;
 * lines end in CRLF (a bare LF is accepted, a bare CR is not); obs-fold and
 * control bytes other than HTAB in values rejected; names must be tokens
 * with no whitespace before the colon; OWS around values trimmed.
 * Content-Length: every value (also comma lists) must be the same decimal
 * number without sign and fit in 63 bits. Transfer-Encoding: the final
 * coding must be chunked (else FH_ETRANSFER_ENCODING); with Content-Length
 * too, chunked wins and keep_alive is 0 (RFC 9112 §6.3). keep_alive follows
 * the version and Connection tokens (close / keep-alive, §9.3).
 */
int fh__h1_parse_head(const char *buf, size_t len, size_t *scan, const fh__h1_limits *lim,
                      int head_request, fh_header *hdrs, size_t hdr_cap, fh__h1_head *out);

/* ---- response body ----------------------------------------------------- */

typedef struct fh__h1_body {
    int kind;               /* enum fh__body_kind */
    int state;              /* private */
    uint64_t expected;      /* content length (LENGTH) */
    uint64_t received;      /* payload bytes delivered so far */
    uint64_t chunk_left;    /* private: bytes left in the current chunk */
    size_t line_len;        /* private: length of the size/trailer line so far */
    size_t trailer_bytes;   /* private */
    size_t trailer_limit;
    const char *why;        /* on error: static sentence */
} fh__h1_body;

void fh__h1_body_init(fh__h1_body *b, const fh__h1_head *head, const fh__h1_limits *lim);

/*
 * Feeds body bytes. Sets *consumed to the bytes used from in, and
 * *data and *data_len to payload bytes (a span inside in, possibly empty).
 * Returns 0 when more body is expected, 1 when the body is complete (bytes
 * after *consumed belong to the next response), or FH_ECHUNKED on a chunked
 * syntax error (why set). Chunk sizes are hex with overflow checked;
 * extensions are skipped; exactly CRLF must follow chunk data; trailers are
 * skipped within trailer_limit. Call in a loop until all input is consumed.
 */
int fh__h1_body_feed(fh__h1_body *b, const uint8_t *in, size_t len, size_t *consumed,
                     const uint8_t **data, size_t *data_len);

/* The peer closed the connection: returns 1 when that ends the body
 * correctly (close-delimited, or already complete), else FH_ECLOSED. */
int fh__h1_body_eof(fh__h1_body *b);

/* 1 when the body is complete. */
int fh__h1_body_done(const fh__h1_body *b);

#endif
