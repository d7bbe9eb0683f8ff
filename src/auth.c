/*
 * auth.c — Basic (RFC 7617) and Digest (RFC 7616) authentication, and the
 * WWW-Authenticate challenge parser (RFC 9110 §11.2, §11.6.1). Sans-IO.
 */
#include "auth.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "fasthttp/errors.h"
#include "fasthttp/policy.h"

/* ---- character classes (RFC 9110 §5.6) ---------------------------------- */

static int is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" /
 * "_" / "`" / "|" / "~" / DIGIT / ALPHA (RFC 9110 §5.6.2) */
static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 * (RFC 9110 §11.2) */
static int is_t68char(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != 0 && strchr("-._~+/", c) != NULL;
}

/* qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4) */
static int is_qdtext(unsigned char c)
{
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
           (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

/* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
static int is_qpchar(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int has_ctl(const char *s)
{
    for (; *s; s++)
        if (is_ctl((unsigned char)*s))
            return 1;
    return 0;
}

/* Case-insensitive comparison of a counted string with a literal. */
static int eq_ci(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* ---- credentials as given (RFC 7617 §2, RFC 9110 §5.6.4) --------------- */

static const char *ctl_name(unsigned char c, char buf[8])
{
    switch (c) {
    case '\r': return "CR";
    case '\n': return "LF";
    case '\t': return "HTAB";
    case 0x7f: return "DEL";
    default: snprintf(buf, 8, "0x%02x", c); return buf;
    }
}

static int ctl_check(const char *s, const char *what, char *msg, size_t msglen)
{
    char buf[8];
    for (; *s; s++) {
        if (!is_ctl((unsigned char)*s))
            continue;
        if (msg && msglen)
            snprintf(msg, msglen,
                     "the %s contains a control character (%s): credentials must not "
                     "contain CR, LF, NUL or other control characters (RFC 7617 §2, "
                     "RFC 9110 §5.6.4)",
                     what, ctl_name((unsigned char)*s, buf));
        return FH_EINVAL;
    }
    return FH_OK;
}

/* Basic sends user ":" pass; Digest puts the user name into a quoted string
 * and both into hashes. Control bytes would end or forge a header field
 * (CR, LF) or be refused by servers, so they are refused for both schemes. */
int fh_auth_check(fh_auth_kind kind, const char *user, const char *pass, char *msg,
                  size_t msglen)
{
    if (msg && msglen)
        msg[0] = '\0';
    if (kind == FH_AUTH_NONE)
        return FH_OK;
    if (kind != FH_AUTH_BASIC && kind != FH_AUTH_DIGEST) {
        if (msg && msglen)
            snprintf(msg, msglen, "unknown authentication scheme %d", (int)kind);
        return FH_EINVAL;
    }
    if (!user || !pass) {
        if (msg && msglen)
            snprintf(msg, msglen, "a user name and a password are both required");
        return FH_EINVAL;
    }
    /* RFC 7617 §2: "a user-id containing a colon character is invalid",
     * since the first colon separates it from the password. */
    if (kind == FH_AUTH_BASIC && strchr(user, ':')) {
        if (msg && msglen)
            snprintf(msg, msglen,
                     "a Basic auth user name must not contain ':' (RFC 7617 §2: the first "
                     "colon separates user name and password)");
        return FH_EINVAL;
    }
    int rc = ctl_check(user, "user name", msg, msglen);
    return rc == FH_OK ? ctl_check(pass, "password", msg, msglen) : rc;
}

/* ---- Basic (RFC 7617 §2) ------------------------------------------------- */

int fh__auth_basic(fh__buf *out, const char *user, const char *pass)
{
    /* user-id must not contain ':'; neither part may hold controls (§2). */
    if (!out || !user || !pass || strchr(user, ':') || has_ctl(user) || has_ctl(pass))
        return FH_EINVAL;
    size_t ul = strlen(user), pl = strlen(pass);
    if (ul + pl > (size_t)1 << 24)      /* keeps the int math of EVP below safe */
        return FH_EINVAL;
    size_t n = ul + 1 + pl;
    size_t b64 = 4 * ((n + 2) / 3) + 1;
    unsigned char *tmp = malloc(n + b64);
    if (!tmp)
        return FH_ENOMEM;
    memcpy(tmp, user, ul);
    tmp[ul] = ':';
    memcpy(tmp + ul + 1, pass, pl);
    unsigned char *enc = tmp + n;
    int el = EVP_EncodeBlock(enc, tmp, (int)n);   /* no line breaks in one block */
    size_t old = out->len;
    int rc = fh__buf_append_str(out, "Basic ");
    if (rc == FH_OK)
        rc = fh__buf_append(out, enc, (size_t)el);
    if (rc != FH_OK)
        out->len = old;
    OPENSSL_cleanse(tmp, n + b64);
    free(tmp);
    return rc;
}

/* ---- challenge lexer (RFC 9110 §11.6.1, §11.2) --------------------------- */
/*
 *   WWW-Authenticate = #challenge
 *   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param = token BWS "=" BWS ( token / quoted-string )
 *
 * A comma separates both challenges and auth-params: after a comma, a token
 * followed by "=" and a value is a parameter, otherwise a new scheme.
 */

void fh__auth_lexer_init(fh__auth_lexer *lx, const char *value, size_t len)
{
    lx->p = value;
    lx->end = value ? value + len : value;
    lx->last = FH__AUTH_END;
}

static int lex_fail(const char **why, const char *msg)
{
    if (why)
        *why = msg;
    return FH_EPROTO;
}

static const char *skip_ows(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static const char *skip_token(const char *p, const char *end)
{
    while (p < end && is_tchar((unsigned char)*p))
        p++;
    return p;
}

/* Scans a quoted-string starting at the opening quote; returns the position
 * after the closing quote, or NULL when it is malformed or unterminated. */
static const char *scan_quoted(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c == '\\') {
            if (++p == end || !is_qpchar((unsigned char)*p))
                return NULL;
        } else if (!is_qdtext(c)) {
            return NULL;
        }
    }
    return NULL;
}

/* Tries "token BWS = BWS (token / quoted-string)" at p. Returns 1 and fills
 * t on a parameter; 0 when the text at p is not a parameter (t untouched);
 * FH_EPROTO when it is one with a malformed quoted-string. */
static int lex_param(fh__auth_lexer *lx, const char *p, fh__auth_tok *t, const char **why)
{
    const char *name = p, *q = skip_token(p, lx->end);
    if (q == name)
        return 0;
    const char *r = skip_ows(q, lx->end);
    if (r == lx->end || *r != '=')
        return 0;
    r = skip_ows(r + 1, lx->end);
    const char *v = r, *ve;
    if (r < lx->end && *r == '"') {
        ve = scan_quoted(r, lx->end);
        if (!ve)
            return lex_fail(why, "malformed quoted-string in auth-param");
        t->value = v + 1;
        t->value_len = (size_t)(ve - v) - 2;
        t->quoted = 1;
    } else {
        ve = skip_token(r, lx->end);
        if (ve == v)
            return 0;       /* "x=" or "x==": maybe a token68 */
        t->value = v;
        t->value_len = (size_t)(ve - v);
        t->quoted = 0;
    }
    t->name = name;
    t->name_len = (size_t)(q - name);
    lx->p = ve;
    return 1;
}

/* token68 at p, to be followed by OWS and a comma or the end. */
static int lex_token68(fh__auth_lexer *lx, const char *p, fh__auth_tok *t, const char **why)
{
    const char *q = p;
    while (q < lx->end && is_t68char((unsigned char)*q))
        q++;
    if (q == p)
        return lex_fail(why, "expected an auth-param or token68 after the auth-scheme");
    while (q < lx->end && *q == '=')
        q++;
    const char *r = skip_ows(q, lx->end);
    if (r < lx->end && *r != ',')
        return lex_fail(why, "unexpected text after token68");
    t->name = NULL;
    t->name_len = 0;
    t->value = p;
    t->value_len = (size_t)(q - p);
    t->quoted = 0;
    lx->p = q;
    return FH__AUTH_TOKEN68;
}

/* The item right after an auth-scheme and its 1*SP: parameter or token68. */
static int lex_after_scheme(fh__auth_lexer *lx, const char *p, fh__auth_tok *t,
                            const char **why)
{
    int rc = lex_param(lx, p, t, why);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return lx->last = FH__AUTH_PARAM;
    rc = lex_token68(lx, p, t, why);
    if (rc > 0)
        lx->last = rc;
    return rc;
}

/* A list element after a comma (or the first one): parameter or scheme. */
static int lex_element(fh__auth_lexer *lx, const char *p, fh__auth_tok *t, const char **why)
{
    int rc = lex_param(lx, p, t, why);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        if (lx->last != FH__AUTH_SCHEME && lx->last != FH__AUTH_PARAM)
            return lex_fail(why, lx->last == FH__AUTH_END ? "auth-param before any auth-scheme"
                                                          : "auth-param after a token68");
        return lx->last = FH__AUTH_PARAM;
    }
    const char *q = skip_token(p, lx->end);
    if (q == p)
        return lex_fail(why, "expected an auth-scheme");
    if (q < lx->end && *q != ' ' && *q != '\t' && *q != ',')
        return lex_fail(why, "invalid character after auth-scheme");
    t->name = p;
    t->name_len = (size_t)(q - p);
    t->value = NULL;
    t->value_len = 0;
    t->quoted = 0;
    lx->p = q;
    return lx->last = FH__AUTH_SCHEME;
}

int fh__auth_lex(fh__auth_lexer *lx, fh__auth_tok *t, const char **why)
{
    const char *p = lx->p, *q = skip_ows(p, lx->end);
    if (q == lx->end) {
        lx->p = q;
        return FH__AUTH_END;
    }
    if (lx->last == FH__AUTH_SCHEME && q > p && *q != ',')
        return lex_after_scheme(lx, q, t, why);
    if (lx->last != FH__AUTH_END && *q != ',')
        return lex_fail(why, "expected ',' between auth-params or challenges");
    /* Skip the separator and empty list elements (RFC 9110 §5.6.1). */
    while (q < lx->end && (*q == ',' || *q == ' ' || *q == '\t'))
        q++;
    if (q == lx->end) {
        lx->p = q;
        return FH__AUTH_END;
    }
    return lex_element(lx, q, t, why);
}

char *fh__auth_tok_value(const fh__auth_tok *t)
{
    char *s = malloc(t->value_len + 1), *o = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < t->value_len; i++) {
        if (t->quoted && t->value[i] == '\\' && i + 1 < t->value_len)
            i++;
        *o++ = t->value[i];
    }
    *o = '\0';
    return s;
}

int fh__auth_has_scheme(const char *value, size_t len, const char *scheme)
{
    if (!value || !scheme)
        return 0;
    fh__auth_lexer lx;
    fh__auth_tok t;
    int kind;
    fh__auth_lexer_init(&lx, value, len);
    while ((kind = fh__auth_lex(&lx, &t, NULL)) > 0)
        if (kind == FH__AUTH_SCHEME && eq_ci(t.name, t.name_len, scheme))
            return 1;
    return 0;
}

/* ---- hashing (RFC 7616 §3.4.1, §6.1) ------------------------------------- */

/* Algorithm index (1-based) = strength rank used for the selection. */
enum { ALG_NONE, ALG_MD5, ALG_SHA256, ALG_SHA512_256 };

static const char *const alg_names[] = { NULL, "MD5", "SHA-256", "SHA-512-256" };

static const EVP_MD *alg_md(int alg)
{
    switch (alg) {
    case ALG_MD5: return EVP_md5();
    case ALG_SHA256: return EVP_sha256();
    case ALG_SHA512_256: return EVP_sha512_256();
    default: return NULL;
    }
}

/* hex = lower-case hex of H(a ":" b ":" ...), the parts ending with NULL.
 * hex has room for 65 bytes (all supported hashes are <= 32 bytes). */
static int hash_join(int alg, char hex[65], ...)
{
    fh__buf b = { 0 };
    va_list ap;
    va_start(ap, hex);
    const char *s = va_arg(ap, const char *);
    int rc = FH_OK;
    for (int i = 0; s && rc == FH_OK; i++, s = va_arg(ap, const char *)) {
        if (i)
            rc = fh__buf_append(&b, ":", 1);
        if (rc == FH_OK)
            rc = fh__buf_append_str(&b, s);
    }
    va_end(ap);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    const EVP_MD *type = alg_md(alg);
    if (rc == FH_OK && (!type || !EVP_Digest(b.data ? (void *)b.data : (void *)"", b.len, md,
                                            &mdlen, type, NULL) || mdlen > 32))
        rc = FH_EUNSUPPORTED;
    if (b.data)
        OPENSSL_cleanse(b.data, b.cap);     /* it may hold the password */
    fh__buf_free(&b);
    if (rc != FH_OK)
        return rc;
    for (unsigned int i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    hex[2 * mdlen] = '\0';
    return FH_OK;
}

/* ---- Digest challenge (RFC 7616 §3.3) ------------------------------------ */

void fh__digest_init(fh__digest *d)
{
    memset(d, 0, sizeof *d);
}

void fh__digest_free(fh__digest *d)
{
    free(d->realm);
    free(d->nonce);
    free(d->opaque);
    free(d->fixed_cnonce);
    /* Zeroes it, wiping the HA1 cache; a state no challenge ever reached
     * (most requests) holds nothing to wipe. */
    if (d->realm || d->ha1_valid || d->alg)
        OPENSSL_cleanse(d, sizeof *d);
}

void fh__digest_begin(fh__digest *d)
{
    d->round_rank = 0;
}

void fh__digest_set_cnonce(fh__digest *d, const char *cnonce)
{
    free(d->fixed_cnonce);
    d->fixed_cnonce = NULL;
    if (cnonce) {
        size_t n = strlen(cnonce) + 1;
        d->fixed_cnonce = malloc(n);        /* NULL when out of memory: random */
        if (d->fixed_cnonce)
            memcpy(d->fixed_cnonce, cnonce, n);
    }
}

/* Parameters of one Digest challenge that the client uses. */
enum { P_REALM, P_NONCE, P_OPAQUE, P_ALGORITHM, P_QOP, P_STALE, P_USERHASH, P_COUNT };
static const char *const param_names[P_COUNT] = {
    "realm", "nonce", "opaque", "algorithm", "qop", "stale", "userhash"
};

typedef struct challenge {
    int present;                    /* a Digest challenge is being collected */
    fh__auth_tok p[P_COUNT];
    unsigned seen;                  /* bit per P_* */
    const char *bad;                /* why it is malformed, or NULL */
} challenge;

/* Outcome of evaluating one challenge. */
typedef struct choice {
    int alg, sess, qop, stale, userhash;
    const challenge *from;
} choice;

static void challenge_param(challenge *c, const fh__auth_tok *t)
{
    for (int i = 0; i < P_COUNT; i++) {
        if (!eq_ci(t->name, t->name_len, param_names[i]))
            continue;
        /* Each parameter name only once per challenge (RFC 9110 §11.2). */
        if (c->seen & (1u << i))
            c->bad = "Digest challenge repeats a parameter";
        c->seen |= 1u << i;
        c->p[i] = *t;
    }
}

static int tok_is(const challenge *c, int i, const char *lit)
{
    return (c->seen & (1u << i)) && eq_ci(c->p[i].value, c->p[i].value_len, lit);
}

/* Does the qop-options list (RFC 7616 §3.3) offer "auth"? Elements are
 * tokens separated by commas; quoted-pair escapes are taken literally. */
static int qop_offers_auth(const fh__auth_tok *t)
{
    const char *p = t->value, *end = t->value + t->value_len;
    while (p < end) {
        while (p < end && (*p == ',' || *p == ' ' || *p == '\t'))
            p++;
        const char *q = p;
        while (q < end && *q != ',' && *q != ' ' && *q != '\t')
            q++;
        if (q > p && eq_ci(p, (size_t)(q - p), "auth"))
            return 1;
        p = q;
    }
    return 0;
}

/* An algorithm name (§3.3, case-insensitive) to ALG_* and -sess. */
static int algorithm_of(const char *v, size_t n, int *sess)
{
    *sess = 0;
    if (n > 5 && eq_ci(v + n - 5, 5, "-sess")) {
        *sess = 1;
        n -= 5;
    }
    for (int a = ALG_MD5; a <= ALG_SHA512_256; a++)
        if (eq_ci(v, n, alg_names[a]))
            return a;
    return ALG_NONE;
}

/* Maps the algorithm parameter (default MD5) to ALG_* and -sess (§3.3). */
static int parse_algorithm(const challenge *c, int *sess)
{
    *sess = 0;
    if (!(c->seen & (1u << P_ALGORITHM)))
        return ALG_MD5;
    return algorithm_of(c->p[P_ALGORITHM].value, c->p[P_ALGORITHM].value_len, sess);
}

/* fh__digest.want: the algorithm and -sess in one positive number. */
static int want_code(int alg, int sess)
{
    return alg * 2 + sess;
}

int fh__digest_algorithm(const char *name)
{
    if (!name)
        return 0;
    int sess, alg = algorithm_of(name, strlen(name), &sess);
    return alg == ALG_NONE ? FH_EINVAL : want_code(alg, sess);
}

/* Evaluates a collected challenge: 1 usable (ch filled), else FH_EPROTO or
 * FH_EUNSUPPORTED with *why set. want: fh__digest.want. */
static int challenge_eval(const challenge *c, int want, choice *ch, const char **why)
{
    if (c->bad)
        return *why = c->bad, FH_EPROTO;
    if (!(c->seen & (1u << P_REALM)) || !(c->seen & (1u << P_NONCE)))
        return *why = "Digest challenge without realm or nonce", FH_EPROTO;
    ch->alg = parse_algorithm(c, &ch->sess);
    if (ch->alg == ALG_NONE)
        return *why = "Digest challenge with an unsupported algorithm", FH_EUNSUPPORTED;
    if (want && want_code(ch->alg, ch->sess) != want)
        return *why = "Digest challenge with another algorithm than the one asked for",
               FH_EUNSUPPORTED;
    ch->qop = (c->seen & (1u << P_QOP)) != 0;
    if (ch->qop && !qop_offers_auth(&c->p[P_QOP]))
        return *why = "Digest challenge offers no qop=auth (auth-int is unsupported)",
               FH_EUNSUPPORTED;
    /* -sess needs a cnonce, which only exists with qop (RFC 7616 §3.4.2). */
    if (ch->sess && !ch->qop)
        return *why = "Digest -sess algorithm without qop", FH_EUNSUPPORTED;
    ch->stale = tok_is(c, P_STALE, "true");
    ch->userhash = tok_is(c, P_USERHASH, "true");
    ch->from = c;
    return 1;
}

/* Copies the chosen challenge into d (RFC 7616 §3.3: a new nonce restarts
 * the nonce count; any new challenge voids the -sess HA1). */
static int digest_adopt(fh__digest *d, const choice *ch)
{
    const challenge *c = ch->from;
    char *realm = fh__auth_tok_value(&c->p[P_REALM]);
    char *nonce = fh__auth_tok_value(&c->p[P_NONCE]);
    char *opaque = (c->seen & (1u << P_OPAQUE)) ? fh__auth_tok_value(&c->p[P_OPAQUE]) : NULL;
    if (!realm || !nonce || ((c->seen & (1u << P_OPAQUE)) && !opaque)) {
        free(realm);
        free(nonce);
        free(opaque);
        return FH_ENOMEM;
    }
    if (!d->nonce || strcmp(d->nonce, nonce) != 0)
        d->nc = 0;
    free(d->realm);
    free(d->nonce);
    free(d->opaque);
    d->realm = realm;
    d->nonce = nonce;
    d->opaque = opaque;
    d->alg = ch->alg;
    d->sess = ch->sess;
    d->alg_sent = (c->seen & (1u << P_ALGORITHM)) != 0;
    d->qop = ch->qop;
    d->stale = ch->stale;
    d->userhash = ch->userhash;
    d->round_rank = ch->alg;
    d->ha1_valid = 0;
    OPENSSL_cleanse(d->ha1_sess, sizeof d->ha1_sess);
    return FH_OK;
}

/* Challenge-selection state across the items of one field value. */
typedef struct selection {
    challenge cur, best;
    choice best_choice;
    int have_best;
    int err;                        /* worst error seen: FH_EPROTO > FH_EUNSUPPORTED */
    const char *why;
} selection;

/* Called when a challenge ends: keeps it when stronger than the best so far
 * (on a tie the first one wins). */
static void selection_close(selection *s, int want)
{
    if (!s->cur.present)
        return;
    choice ch;
    const char *why = NULL;
    int rc = challenge_eval(&s->cur, want, &ch, &why);
    if (rc == 1) {
        if (!s->have_best || ch.alg > s->best_choice.alg) {
            s->best = s->cur;
            s->best_choice = ch;
            s->best_choice.from = &s->best;
            s->have_best = 1;
        }
    } else if (s->err == 0 || (rc == FH_EPROTO && s->err != FH_EPROTO)) {
        s->err = rc;
        s->why = why;
    }
    memset(&s->cur, 0, sizeof s->cur);
}

int fh__digest_challenge(fh__digest *d, const char *value, size_t len, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!d || (!value && len))
        return *why = "no challenge", FH_EINVAL;
    selection s;
    memset(&s, 0, sizeof s);
    fh__auth_lexer lx;
    fh__auth_tok t;
    int kind;
    fh__auth_lexer_init(&lx, value, len);
    while ((kind = fh__auth_lex(&lx, &t, why)) > 0) {
        if (kind == FH__AUTH_SCHEME) {
            selection_close(&s, d->want);
            s.cur.present = eq_ci(t.name, t.name_len, "Digest");
        } else if (s.cur.present && kind == FH__AUTH_PARAM) {
            challenge_param(&s.cur, &t);
        } else if (s.cur.present && kind == FH__AUTH_TOKEN68) {
            s.cur.bad = "Digest challenge with a token68";
        }
    }
    if (kind < 0)
        return kind;            /* syntax error: nothing in this value is trusted */
    selection_close(&s, d->want);
    if (s.have_best) {
        if (s.best_choice.alg > d->round_rank)
            return digest_adopt(d, &s.best_choice);
        return FH_OK;           /* a stronger one was already chosen in this round */
    }
    if (s.err)
        return *why = s.why, s.err;
    return *why = "no Digest challenge", FH_EAGAIN;
}

/* ---- Digest Authorization (RFC 7616 §3.4) -------------------------------- */

/* Appends s as a quoted-string, escaping '"' and '\' (RFC 9110 §5.6.4). */
static int put_quoted(fh__buf *b, const char *s)
{
    int rc = fh__buf_append(b, "\"", 1);
    for (const char *p = s; rc == FH_OK && *p; p++) {
        if (*p == '"' || *p == '\\')
            rc = fh__buf_append(b, "\\", 1);
        if (rc == FH_OK)
            rc = fh__buf_append(b, p, 1);
    }
    return rc ? rc : fh__buf_append(b, "\"", 1);
}

#define DIGEST_PREFIX "Digest "

/* Appends ", name=value" (no comma right after DIGEST_PREFIX, with which the
 * buffer starts), the value quoted or as is. */
static int put_param(fh__buf *b, const char *name, const char *value, int quoted)
{
    int rc = fh__buf_append_str(b, b->len > strlen(DIGEST_PREFIX) ? ", " : "");
    if (rc == FH_OK)
        rc = fh__buf_append_str(b, name);
    if (rc == FH_OK)
        rc = fh__buf_append(b, "=", 1);
    if (rc == FH_OK)
        rc = quoted ? put_quoted(b, value) : fh__buf_append_str(b, value);
    return rc;
}

/* attr-char of RFC 8187 §3.2.1: the bytes sent unencoded in username*. */
static int is_attr_char(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != 0 && strchr("!#$&+-.^_`|~", c) != NULL;
}

/* A username that cannot go into a plain quoted-string (RFC 7616 §3.4.4). */
static int needs_ext_value(const char *user)
{
    for (const unsigned char *p = (const unsigned char *)user; *p; p++)
        if (*p >= 0x80 || *p == '"' || *p == '\\')
            return 1;
    return 0;
}

/* Appends "username*=UTF-8''" + percent-encoded user (RFC 8187 §3.2). */
static int put_username_ext(fh__buf *b, const char *user)
{
    int rc = put_param(b, "username*", "UTF-8''", 0);
    for (const unsigned char *p = (const unsigned char *)user; rc == FH_OK && *p; p++) {
        char enc[4];
        if (is_attr_char(*p)) {
            rc = fh__buf_append(b, p, 1);
        } else {
            snprintf(enc, sizeof enc, "%%%02X", *p);
            rc = fh__buf_append(b, enc, 3);
        }
    }
    return rc;
}

/* The username parameter: hashed (userhash), username*, or quoted. */
static int put_username(fh__buf *b, const fh__digest *d, const char *user)
{
    if (d->userhash) {
        char uh[65];
        int rc = hash_join(d->alg, uh, user, d->realm, (const char *)NULL);
        return rc ? rc : put_param(b, "username", uh, 1);
    }
    if (needs_ext_value(user))
        return put_username_ext(b, user);
    return put_param(b, "username", user, 1);
}

/* cnonce: the test override, or 16 random bytes in hex. */
static int make_cnonce(const fh__digest *d, char out[33], const char **cnonce)
{
    if (d->fixed_cnonce) {
        *cnonce = d->fixed_cnonce;
        return FH_OK;
    }
    unsigned char r[16];
    if (RAND_bytes(r, sizeof r) != 1)
        return FH_EIO;
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    *cnonce = out;
    return FH_OK;
}

/* HA1 = H(A1) (§3.4.2). For -sess, H(H(user:realm:pass):nonce:cnonce) is
 * computed once per challenge and reused while the credentials match. */
static int digest_ha1(fh__digest *d, const char *user, const char *pass,
                      const char *cnonce, char ha1[65])
{
    char inner[65];
    int rc = hash_join(d->alg, inner, user, d->realm, pass, (const char *)NULL);
    if (rc || !d->sess) {
        memcpy(ha1, inner, sizeof inner);
        OPENSSL_cleanse(inner, sizeof inner);
        return rc;
    }
    if (!d->ha1_valid || strcmp(d->ha1_inner, inner) != 0) {
        rc = hash_join(d->alg, d->ha1_sess, inner, d->nonce, cnonce, (const char *)NULL);
        if (rc)
            return rc;
        memcpy(d->ha1_inner, inner, sizeof inner);
        d->ha1_valid = 1;
    }
    memcpy(ha1, d->ha1_sess, sizeof d->ha1_sess);
    OPENSSL_cleanse(inner, sizeof inner);
    return FH_OK;
}

/* request-digest (§3.4.1): KD(HA1, nonce:nc:cnonce:qop:HA2) with qop, or
 * the RFC 2069 form H(HA1:nonce:HA2) without. */
static int digest_response(fh__digest *d, const char *user, const char *pass,
                           const char *method, const char *uri, const char *nc,
                           const char *cnonce, char resp[65])
{
    char ha1[65], ha2[65];
    int rc = digest_ha1(d, user, pass, cnonce, ha1);
    if (rc == FH_OK)
        rc = hash_join(d->alg, ha2, method, uri, (const char *)NULL);
    if (rc == FH_OK && d->qop)
        rc = hash_join(d->alg, resp, ha1, d->nonce, nc, cnonce, "auth", ha2, (const char *)NULL);
    else if (rc == FH_OK)
        rc = hash_join(d->alg, resp, ha1, d->nonce, ha2, (const char *)NULL);
    OPENSSL_cleanse(ha1, sizeof ha1);
    return rc;
}

static int is_token(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s))
            return 0;
    return 1;
}

/* The parameters in the order of the RFC 7616 §3.9.1 example. */
static int put_digest_params(fh__buf *b, const fh__digest *d, const char *user,
                             const char *uri, const char *nc, const char *cnonce,
                             const char *resp)
{
    char alg[20];
    snprintf(alg, sizeof alg, "%s%s", alg_names[d->alg], d->sess ? "-sess" : "");
    int rc = put_username(b, d, user);
    if (rc == FH_OK)
        rc = put_param(b, "realm", d->realm, 1);
    if (rc == FH_OK)
        rc = put_param(b, "uri", uri, 1);
    if (rc == FH_OK && (d->qop || d->alg_sent))
        rc = put_param(b, "algorithm", alg, 0);
    if (rc == FH_OK)
        rc = put_param(b, "nonce", d->nonce, 1);
    if (rc == FH_OK && d->qop) {
        rc = put_param(b, "nc", nc, 0);
        if (rc == FH_OK)
            rc = put_param(b, "cnonce", cnonce, 1);
        if (rc == FH_OK)
            rc = put_param(b, "qop", "auth", 0);
    }
    if (rc == FH_OK)
        rc = put_param(b, "response", resp, 1);
    if (rc == FH_OK && d->opaque)
        rc = put_param(b, "opaque", d->opaque, 1);
    if (rc == FH_OK && d->userhash)
        rc = put_param(b, "userhash", "true", 0);
    return rc;
}

int fh__digest_authorization(fh__digest *d, const char *user, const char *pass,
                             const char *method, const char *uri, fh__buf *out)
{
    if (!d || !user || !pass || !method || !uri || !out)
        return FH_EINVAL;
    if (!d->nonce || d->alg == ALG_NONE || d->nc == UINT32_MAX)
        return FH_ESTATE;
    if (has_ctl(user) || has_ctl(uri) || !is_token(method))
        return FH_EINVAL;
    char cbuf[33], nc[9], resp[65];
    const char *cnonce;
    int rc = make_cnonce(d, cbuf, &cnonce);
    if (rc)
        return rc;
    snprintf(nc, sizeof nc, "%08x", (unsigned)(d->nc + 1));
    rc = digest_response(d, user, pass, method, uri, nc, cnonce, resp);
    if (rc)
        return rc;
    size_t old = out->len;
    fh__buf b = { 0 };
    rc = fh__buf_append_str(&b, DIGEST_PREFIX);
    if (rc == FH_OK)
        rc = put_digest_params(&b, d, user, uri, nc, cnonce, resp);
    if (rc == FH_OK)
        rc = fh__buf_append(out, b.data, b.len);
    fh__buf_free(&b);
    if (rc != FH_OK) {
        out->len = old;
        return rc;
    }
    d->nc++;
    return FH_OK;
}
