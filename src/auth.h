/*
 * auth.h — HTTP authentication core (sans-IO): Basic (RFC 7617), Digest
 * (RFC 7616) and a parser for WWW-Authenticate field values (RFC 9110
 * §11.6.1, §11.2). No sockets, no engine knowledge: the engine hands in the
 * challenge field values and gets Authorization field values back.
 *
 * Typical Digest use by the engine, per client credential:
 *
 *     fh__digest_init(&d);
 *     ... a 401 arrives:
 *     fh__digest_begin(&d);
 *     for each WWW-Authenticate field value v: rc = fh__digest_challenge(&d, v, n, &why);
 *     if any call returned FH_OK: fh__digest_authorization(&d, user, pass, method, target, &out)
 *     ... every later request to the protection space: fh__digest_authorization() again
 *     fh__digest_free(&d);
 */
#ifndef FH_AUTH_H
#define FH_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* ---- Basic (RFC 7617) --------------------------------------------------- */

/*
 * Appends "Basic " base64(user ":" pass) to out; the bytes are used as
 * given (callers pass UTF-8, RFC 7617 §2.1 charset="UTF-8"). FH_EINVAL when
 * user contains ':' (RFC 7617 §2) or either contains a control byte (0x00 to
 * 0x1f or 0x7f, so CR, LF and NUL); out is then unchanged. FH_ENOMEM.
 */
int fh__auth_basic(fh__buf *out, const char *user, const char *pass);

/* ---- WWW-Authenticate parsing (RFC 9110 §11.6.1) ------------------------ */

enum fh__auth_kind {
    FH__AUTH_END = 0,       /* no more items */
    FH__AUTH_SCHEME = 1,    /* a challenge starts: name = auth-scheme */
    FH__AUTH_PARAM = 2,     /* name = value, belongs to the last scheme */
    FH__AUTH_TOKEN68 = 3    /* value = token68, belongs to the last scheme */
};

/* One item of a field value; the pointers point into the parsed value. */
typedef struct fh__auth_tok {
    const char *name;       /* scheme or parameter name (compare case-insensitively) */
    size_t name_len;
    const char *value;      /* parameter value or token68; for a quoted-string */
    size_t value_len;       /* the text between the quotes, escapes still in */
    int quoted;             /* 1 when value was a quoted-string */
} fh__auth_tok;

typedef struct fh__auth_lexer {
    const char *p, *end;
    int last;               /* enum fh__auth_kind of the previous item */
} fh__auth_lexer;

void fh__auth_lexer_init(fh__auth_lexer *lx, const char *value, size_t len);

/*
 * Reads the next item of a comma-separated challenge list: returns its kind
 * (FH__AUTH_END at the end), or FH_EPROTO on a syntax error (with *why set
 * when why is not NULL); after an error the rest of the value is unusable.
 * Empty list elements (", ,") are skipped as RFC 9110 §5.6.1 asks.
 */
int fh__auth_lex(fh__auth_lexer *lx, fh__auth_tok *t, const char **why);

/* The value of t as a new NUL-terminated string with quoted-pair escapes
 * removed (RFC 9110 §5.6.4); NULL when out of memory. Caller frees. */
char *fh__auth_tok_value(const fh__auth_tok *t);

/* 1 when value holds a challenge whose auth-scheme equals scheme (case-
 * insensitively), else 0; a syntax error stops the search (schemes before
 * it still count). */
int fh__auth_has_scheme(const char *value, size_t len, const char *scheme);

/* ---- Digest (RFC 7616) -------------------------------------------------- */

typedef struct fh__digest {
    /* Private to auth.c, except that the engine may read stale. */
    char *realm, *nonce, *opaque;   /* unquoted, owned; opaque may be NULL */
    int alg;                        /* private algorithm index; 0 = none selected */
    int sess;                       /* the -sess variant (RFC 7616 §3.4.2) */
    int alg_sent;                   /* the server named the algorithm */
    int qop;                        /* 1: qop=auth; 0: legacy RFC 2069 form */
    int userhash;                   /* server asked userhash=true (§3.4.4) */
    int stale;                      /* stale=true in the selected challenge (§3.3) */
    int round_rank;                 /* strength selected since fh__digest_begin */
    int want;                       /* fh__digest_algorithm() asked for, 0: any */
    uint32_t nc;                    /* nonce count of the last Authorization */
    char *fixed_cnonce;             /* tests only */
    /* -sess HA1 cache: computed once per challenge (§3.4.2) */
    int ha1_valid;
    char ha1_inner[65];             /* H(user:realm:pass) it was derived from */
    char ha1_sess[65];
} fh__digest;

/* An algorithm name of RFC 7616 §3.3 ("MD5", "SHA-256", "SHA-512-256", each
 * optionally with "-sess"; case-insensitive) as a positive code for
 * fh__digest.want; 0 for NULL (any); FH_EINVAL for another name. */
int fh__digest_algorithm(const char *name);

void fh__digest_init(fh__digest *d);
/* Frees the strings and, when a challenge ever reached d, wipes it (HA1
 * cache included). d needs fh__digest_init before it is used again. */
void fh__digest_free(fh__digest *d);

/*
 * Starts the challenge selection for a new 401 response: the following
 * fh__digest_challenge() calls choose among that response's challenges only
 * (the nonce and nonce count stay until a different nonce is adopted).
 */
void fh__digest_begin(fh__digest *d);

/*
 * Parses one WWW-Authenticate field value (call once per field line; a value
 * may hold several challenges). Among the Digest challenges with a usable
 * algorithm and qop the strongest is adopted (SHA-512-256 > SHA-256 > MD5,
 * each with or without -sess; on a tie the first one, also across the calls
 * since fh__digest_begin()); qop must offer "auth" (auth-int is not
 * supported); without qop the legacy RFC 2069 form is used (not for -sess).
 * When d->want is set, only challenges with that algorithm (and -sess or
 * not, as asked) are usable: the client chooses among the challenges it
 * got (RFC 7616 §3.7), and one that asked for SHA-256 never answers with
 * MD5. A nonce other than the current one resets the nonce count to 0;
 * d->stale is set from stale=true.
 *
 * Returns FH_OK when this value held a usable Digest challenge; otherwise d
 * is unchanged and the result is FH_EPROTO for a syntax error in the value
 * or a malformed Digest challenge (no realm or nonce, a parameter twice, a
 * token68), else FH_EUNSUPPORTED when the Digest challenges use an unknown
 * algorithm or only auth-int, else FH_EAGAIN (no Digest challenge, e.g. only
 * Basic or Bearer). *why (when why is not NULL) says why on any error.
 */
int fh__digest_challenge(fh__digest *d, const char *value, size_t len, const char **why);

/*
 * Appends the Authorization field value for a request (RFC 7616 §3.4):
 * "Digest username=..., realm, uri, algorithm, nonce, nc, cnonce, qop=auth,
 * response, opaque, userhash" — uri is the request-target as sent in the
 * request line. Each call increments the nonce count and draws a fresh
 * cnonce (16 random bytes in hex). A username with bytes >= 0x80, '"' or '\'
 * is sent as username*=UTF-8''<percent-encoded> (§3.4.4), or hashed when the
 * server asked for userhash. Returns FH_ESTATE when no challenge was adopted
 * (or the nonce count is exhausted), FH_EINVAL for a control byte in user,
 * method or uri or a method that is not a token, FH_EUNSUPPORTED when the
 * hash is unavailable, FH_EIO when the random generator fails, FH_ENOMEM;
 * out is unchanged on error.
 */
int fh__digest_authorization(fh__digest *d, const char *user, const char *pass,
                             const char *method, const char *uri, fh__buf *out);

/* For tests: a fixed cnonce instead of a random one (NULL = random again). */
void fh__digest_set_cnonce(fh__digest *d, const char *cnonce);

#endif
