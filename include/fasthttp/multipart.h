/*
 * fasthttp/multipart.h — multipart/form-data request bodies (RFC 7578).
 *
 * An fh_multipart is a list of parts, each a form field or a file, whose
 * content comes from memory or from a read callback. It produces the body
 * on demand in bounded memory (nothing is read before the socket can take
 * it), so multi-gigabyte files stream through it:
 *
 *   int err;
 *   fh_multipart *m = fh_multipart_new(NULL, &err);        // random boundary
 *   fh_multipart_add_field(m, "user_id", "123");
 *   fh_multipart_add_file(m, "meta", "meta.json", NULL, json, json_len, 1);
 *   fh_multipart_add_file_reader(m, "video", "clip.mp4", NULL, read_fn, fp, size);
 *   fh_multipart_attach(m, req);   // body reader + Content-Type on the request
 *   fh_client_send(client, req, &resp);
 *   ...
 *   fh_request_free(req);
 *   fh_multipart_free(m);          // after the request is done with it
 *
 * Wire format: for each part
 *
 *   --BOUNDARY CRLF
 *   Content-Disposition: form-data; name="NAME"[; filename="FILENAME"] CRLF
 *   [Content-Type: TYPE CRLF]
 *   CRLF
 *   CONTENT CRLF
 *
 * then "--BOUNDARY--" CRLF. No preamble, no epilogue, no other part headers.
 *
 * Names and filenames are written as quoted strings the way browsers do it
 * (WHATWG HTML "multipart/form-data encoding algorithm", RFC 7578 §4.2):
 * '"' becomes %22, CR %0D and LF %0A, so no name can end the header line or
 * the quoted string; every other byte, including non-ASCII UTF-8, is sent
 * as is. There is no filename* parameter (RFC 7578 §4.2 forbids the RFC 5987
 * encoding in form data). Contents are never altered.
 *
 * A part with a filename and no content type gets one guessed from the
 * filename's extension (fh_multipart_guess_type()); a part without a
 * filename gets a Content-Type header only when one is given.
 *
 * One fh_multipart produces its body once: it is not rewound, so, as with
 * any body reader, a request carrying it is not retried and a 307/308
 * redirect that would resend it fails with FH_ENOT_REPLAYABLE.
 * An fh_multipart is not thread-safe; it belongs to the request it feeds.
 */
#ifndef FASTHTTP_MULTIPART_H
#define FASTHTTP_MULTIPART_H

#include "fasthttp.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fh_multipart fh_multipart;

/* Longest boundary RFC 2046 §5.1.1 allows. */
#define FH_MULTIPART_BOUNDARY_MAX 70

/* Creates an empty multipart body. boundary: 1 to 70 characters from RFC
 * 2046's bchars (letters, digits, and '()+_,-./:=? plus space, not last), or
 * NULL for 32 random hexadecimal characters (OpenSSL RAND_bytes). A chosen
 * boundary must not occur in any content; a random one will not in practice.
 * Returns NULL and sets *err (when err is not NULL) to FH_EINVAL for a bad
 * boundary, FH_ENOMEM, or FH_EIO when no randomness is available. */
FH_EXTERN fh_multipart *fh_multipart_new(const char *boundary, int *err);

/* Frees m and the copies it made. Readers' user data is not touched. */
FH_EXTERN void fh_multipart_free(fh_multipart *m);

/* A text field: name="NAME", the value's bytes as content, no Content-Type.
 * The value is copied. _n takes a length (the value may hold any bytes). */
FH_EXTERN int fh_multipart_add_field(fh_multipart *m, const char *name, const char *value);
FH_EXTERN int fh_multipart_add_field_n(fh_multipart *m, const char *name, const void *value,
                                       size_t value_len);

/* A file from memory: copied when copy != 0, otherwise borrowed until m is
 * freed. filename may be NULL (no filename parameter: a plain field whose
 * content type is sent only when given). content_type NULL: guessed from
 * the filename; "": no Content-Type header. CR, LF or other control bytes
 * in content_type → FH_EHEADER. Names and filenames are NUL-terminated. */
FH_EXTERN int fh_multipart_add_file(fh_multipart *m, const char *name, const char *filename,
                                    const char *content_type, const void *data, size_t len,
                                    int copy);

/* A file from a read callback (the fh_body_read_fn contract of
 * fasthttp.h): it fills buf with up to cap bytes and returns the count, 0 at
 * the end, FH_EAGAIN when nothing is ready yet (passed on to the caller of
 * fh_multipart_read(), e.g. the engine: call fh_engine_resume() later), or
 * another negative value on failure. length >= 0 is the exact number of
 * bytes the reader gives: fewer or more fails the body (FH_EBODY_SOURCE),
 * and after that many bytes the reader is called once more and must return
 * 0. length < 0: unknown, which makes the whole body's length unknown
 * (sent chunked). filename and content_type as for fh_multipart_add_file(). */
FH_EXTERN int fh_multipart_add_file_reader(fh_multipart *m, const char *name,
                                           const char *filename, const char *content_type,
                                           fh_body_read_fn fn, void *ud, int64_t length);

/* The boundary, e.g. "9f86d081884c7d659a2feaa0c55ad015". */
FH_EXTERN const char *fh_multipart_boundary(const fh_multipart *m);

/* "multipart/form-data; boundary=..." (the boundary is quoted when it holds
 * characters that are not allowed in a token). Valid until m is freed. */
FH_EXTERN const char *fh_multipart_content_type(const fh_multipart *m);

/* The exact number of body bytes, or -1 when a part's length is unknown. */
FH_EXTERN int64_t fh_multipart_length(const fh_multipart *m);

/* Produces the next bytes of the body into buf (at most cap > 0): returns
 * the count, 0 at the end, FH_EAGAIN when a reader has nothing yet and
 * nothing was produced, or a negative code: FH_EBODY_SOURCE when a reader
 * gave fewer or more bytes than its length, otherwise the reader's own
 * negative return value. Fills buf as far as the readers allow. Errors are
 * final: later calls return the same code. No parts may be added once the
 * first byte has been produced (FH_ESTATE). */
FH_EXTERN ssize_t fh_multipart_read(fh_multipart *m, uint8_t *buf, size_t cap);

/* What went wrong after fh_multipart_read() failed ("" if nothing did),
 * e.g. "part 2 (name \"video\") ended after 100 of 4096 bytes". */
FH_EXTERN const char *fh_multipart_error_message(const fh_multipart *m);

/* Installs m as req's body: fh_request_set_body_reader() with
 * fh_multipart_length() (Content-Length when known, chunked otherwise) and
 * a "Content-Type: multipart/form-data; boundary=..." header, so req must
 * not carry a Content-Type of its own. m must outlive the exchange. */
FH_EXTERN int fh_multipart_attach(fh_multipart *m, fh_request *req);

/* The media type for a filename, from a small built-in table of common
 * extensions (case-insensitive: .txt .html .htm .css .csv .js .json .xml
 * .svg .png .jpg .jpeg .gif .webp .ico .pdf .zip .gz .tar .mp3 .mp4 .wasm
 * ...); "application/octet-stream" for anything else. Never NULL. */
FH_EXTERN const char *fh_multipart_guess_type(const char *filename);

#ifdef __cplusplus
}
#endif
#endif
