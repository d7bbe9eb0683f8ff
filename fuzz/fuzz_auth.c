/*
 * fuzz_auth.c — libFuzzer target for the WWW-Authenticate parser and the
 * Digest/Basic builders (src/auth.c).
 *
 * Input: NUL-separated fields "challenges \0 user \0 pass \0 uri"; the
 * challenge field is split at '\n' into separate field values (each passed
 * unterminated, so ASan catches reads past the end). Fields after the first
 * are optional. Checked: the lexer's items lie inside the value; results
 * are documented codes with a reason; an adopted challenge always yields an
 * Authorization value (unless user/uri hold controls) that has no control
 * bytes, re-parses as one Digest challenge-like list, and echoes realm and
 * nonce exactly; the nonce count increments.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "fasthttp/errors.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

/* Walks every item of a value and checks it stays within [v, v + n). */
static void lex_all(const char *v, size_t n)
{
    fh__auth_lexer lx;
    fh__auth_tok t;
    const char *why = NULL;
    int kind;
    fh__auth_lexer_init(&lx, v, n);
    while ((kind = fh__auth_lex(&lx, &t, &why)) > 0) {
        check(kind <= FH__AUTH_TOKEN68);
        if (t.name)
            check(t.name >= v && t.name + t.name_len <= v + n && t.name_len > 0);
        if (kind != FH__AUTH_SCHEME) {
            check(t.value >= v && t.value + t.value_len <= v + n);
            char *s = fh__auth_tok_value(&t);
            check(s && strlen(s) <= t.value_len);
            free(s);
        }
    }
    check(kind == FH__AUTH_END || (kind == FH_EPROTO && why));
}

static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* The Authorization value must be clean and parse back to what d holds. */
static void check_authorization(const fh__digest *d, const fh__buf *b)
{
    check(b->len > 7 && memcmp(b->data, "Digest ", 7) == 0);
    for (size_t i = 0; i < b->len; i++)
        check(b->data[i] == '\t' || (b->data[i] >= 0x20 && b->data[i] != 0x7f));
    fh__auth_lexer lx;
    fh__auth_tok t;
    int kind, params = 0, realm = 0, nonce = 0;
    fh__auth_lexer_init(&lx, (const char *)b->data, b->len);
    check(fh__auth_lex(&lx, &t, NULL) == FH__AUTH_SCHEME);
    while ((kind = fh__auth_lex(&lx, &t, NULL)) == FH__AUTH_PARAM) {
        params++;
        char *s = fh__auth_tok_value(&t);
        check(s != NULL);
        if (t.name_len == 5 && memcmp(t.name, "realm", 5) == 0)
            realm = strcmp(s, d->realm) == 0;
        if (t.name_len == 5 && memcmp(t.name, "nonce", 5) == 0)
            nonce = strcmp(s, d->nonce) == 0;
        free(s);
    }
    check(kind == FH__AUTH_END && params >= 5 && realm && nonce);
}

/* Splits data at NUL into up to 4 NUL-terminated fields (owned by buf). */
static int split(const uint8_t *data, size_t size, char *buf, char *f[4])
{
    memcpy(buf, data, size);
    buf[size] = '\0';
    int n = 1;
    f[0] = buf;
    for (size_t i = 0; i < size && n < 4; i++)
        if (buf[i] == '\0')
            f[n++] = buf + i + 1;
    return n;
}

static void run_digest(const char *chal, size_t chal_len, const char *user, const char *pass,
                       const char *uri)
{
    fh__digest d;
    fh__digest_init(&d);
    if (chal_len & 1)
        fh__digest_set_cnonce(&d, "fuzz\"cnonce\\");
    fh__digest_begin(&d);
    int any = 0;
    /* Each '\n'-separated line is one field value, copied to an exact-size
     * heap block so a read past its end is caught. */
    for (const char *p = chal, *end = chal + chal_len; p <= end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *v = malloc(n ? n : 1);
        memcpy(v, p, n);
        lex_all(v, n);
        (void)fh__auth_has_scheme(v, n, "Digest");
        const char *why = NULL;
        int rc = fh__digest_challenge(&d, v, n, &why);
        check(rc == FH_OK || rc == FH_EAGAIN || rc == FH_EPROTO || rc == FH_EUNSUPPORTED ||
              rc == FH_ENOMEM);
        check(rc == FH_OK || why != NULL);
        any |= rc == FH_OK;
        free(v);
        p += n + 1;
    }
    fh__buf b = { 0 };
    int rc = fh__digest_authorization(&d, user, pass, "GET", uri, &b);
    if (!any) {
        check(rc == FH_ESTATE && b.len == 0);
    } else if (has_ctl(user) || has_ctl(uri)) {
        check(rc == FH_EINVAL && b.len == 0);
    } else {
        check(rc == FH_OK);
        check_authorization(&d, &b);
        uint32_t nc = d.nc;
        b.len = 0;
        check(fh__digest_authorization(&d, user, pass, "POST", uri, &b) == FH_OK);
        check(d.nc == nc + 1);
        check_authorization(&d, &b);
    }
    fh__buf_free(&b);
    fh__digest_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *buf = malloc(size + 1);
    char *f[4];
    int n = split(data, size, buf, f);
    const char *user = n > 1 ? f[1] : "Mufasa";
    const char *pass = n > 2 ? f[2] : "Circle of Life";
    const char *uri = n > 3 ? f[3] : "/dir/index.html";
    run_digest(f[0], strlen(f[0]), user, pass, uri);

    fh__buf b = { 0 };
    int rc = fh__auth_basic(&b, user, pass);
    check(rc == FH_OK || (rc == FH_EINVAL && b.len == 0));
    if (rc == FH_OK)
        check(b.len >= 6 && memcmp(b.data, "Basic ", 6) == 0);
    fh__buf_free(&b);
    free(buf);
    return 0;
}
