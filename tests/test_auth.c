/* test_auth.c — Basic (RFC 7617), Digest (RFC 7616) and the WWW-Authenticate
 * parser (RFC 9110 §11.6.1). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "auth.h"
#include "fasthttp/errors.h"
#include "fasthttp/fasthttp.h"
#include "fasthttp/policy.h"

/* ---- helpers ------------------------------------------------------------ */

/* NUL-terminated copy of the buffer contents (static; one at a time). */
static const char *str(const fh__buf *b)
{
    static char s[4096];
    assert_true(b->len < sizeof s);
    memcpy(s, b->data, b->len);
    s[b->len] = '\0';
    return s;
}

/* hex of H(s), computed directly with EVP (the test's own reference). */
static void hhex(const EVP_MD *md, const char *s, char out[65])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(s, strlen(s), d, &n, md, NULL), 1);
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

/* hex of H(a:b:...), the parts ending with NULL. */
static void hjoin(const EVP_MD *md, char out[65], ...)
{
    char s[1024] = "";
    va_list ap;
    va_start(ap, out);
    for (const char *p = va_arg(ap, const char *), *sep = ""; p;
         p = va_arg(ap, const char *), sep = ":") {
        strcat(s, sep);
        strcat(s, p);
    }
    va_end(ap);
    hhex(md, s, out);
}

static int challenge(fh__digest *d, const char *v)
{
    const char *why = NULL;
    int rc = fh__digest_challenge(d, v, strlen(v), &why);
    if (rc != FH_OK)
        assert_non_null(why);
    return rc;
}

static const char *authorize(fh__digest *d, const char *user, const char *pass,
                             const char *method, const char *uri)
{
    static fh__buf b;
    b.len = 0;
    assert_int_equal(fh__digest_authorization(d, user, pass, method, uri, &b), FH_OK);
    return str(&b);
}

/* The value of parameter name in an Authorization value (static copy). */
static const char *param(const char *auth, const char *name)
{
    static char v[512];
    char key[64];
    snprintf(key, sizeof key, " %s=", name);
    const char *p = strstr(auth, key);
    if (!p)
        return NULL;
    p += strlen(key);
    size_t n = 0;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\')
                p++;
            v[n++] = *p;
        }
    } else {
        while (*p && *p != ',')
            v[n++] = *p++;
    }
    v[n] = '\0';
    return v;
}

/* RFC 7616 §3.9.1 */
#define REALM "http-auth@example.org"
#define NONCE "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define OPAQUE "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
#define CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define CHAL(alg) "Digest realm=\"" REALM "\", qop=\"auth, auth-int\", algorithm=" alg \
    ", nonce=\"" NONCE "\", opaque=\"" OPAQUE "\""
#define AUTH_PREFIX "Digest username=\"Mufasa\", realm=\"" REALM "\", uri=\"/dir/index.html\""
#define AUTH_MID ", nonce=\"" NONCE "\", nc=00000001, cnonce=\"" CNONCE "\", qop=auth"

/* ---- Basic -------------------------------------------------------------- */

static void test_basic_rfc_example(void **state)
{
    fh__buf b = { 0 };
    assert_int_equal(fh__auth_basic(&b, "Aladdin", "open sesame"), FH_OK);
    assert_string_equal(str(&b), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    /* appends */
    assert_int_equal(fh__auth_basic(&b, "a", ""), FH_OK);
    assert_string_equal(str(&b), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==Basic YTo=");
    fh__buf_free(&b);
}

static void test_basic_utf8(void **state)
{
    fh__buf b = { 0 };
    /* RFC 7617 §2.1: "test" / "123£" in UTF-8 */
    assert_int_equal(fh__auth_basic(&b, "test", "123\xc2\xa3"), FH_OK);
    assert_string_equal(str(&b), "Basic dGVzdDoxMjPCow==");
    b.len = 0;
    assert_int_equal(fh__auth_basic(&b, "", ""), FH_OK);
    assert_string_equal(str(&b), "Basic Og==");
    b.len = 0;
    assert_int_equal(fh__auth_basic(&b, "u", "pa:ss"), FH_OK);   /* ':' fine in password */
    assert_string_equal(str(&b), "Basic dTpwYTpzcw==");
    fh__buf_free(&b);
}

static void test_basic_rejects(void **state)
{
    fh__buf b = { 0 };
    assert_int_equal(fh__buf_append_str(&b, "keep"), FH_OK);
    assert_int_equal(fh__auth_basic(&b, "al:addin", "x"), FH_EINVAL);
    assert_int_equal(fh__auth_basic(&b, "user\r\n", "x"), FH_EINVAL);
    assert_int_equal(fh__auth_basic(&b, "user", "pa\nss"), FH_EINVAL);
    assert_int_equal(fh__auth_basic(&b, "user", "pa\rss"), FH_EINVAL);
    assert_int_equal(fh__auth_basic(&b, "us\x7f", "x"), FH_EINVAL);
    assert_int_equal(fh__auth_basic(&b, "us\tr", "x"), FH_EINVAL);
    assert_int_equal(fh__auth_basic(&b, NULL, "x"), FH_EINVAL);
    assert_int_equal(fh__auth_basic(&b, "u", NULL), FH_EINVAL);
    assert_string_equal(str(&b), "keep");
    fh__buf_free(&b);
}

/* ---- challenge lexer ---------------------------------------------------- */

static void test_lexer_rfc9110_example(void **state)
{
    /* RFC 9110 §11.6.1 */
    const char *v = "Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\"";
    fh__auth_lexer lx;
    fh__auth_tok t;
    const char *why = NULL;
    fh__auth_lexer_init(&lx, v, strlen(v));
    assert_int_equal(fh__auth_lex(&lx, &t, &why), FH__AUTH_SCHEME);
    assert_int_equal(t.name_len, 7);
    assert_memory_equal(t.name, "Newauth", 7);
    assert_int_equal(fh__auth_lex(&lx, &t, &why), FH__AUTH_PARAM);
    assert_memory_equal(t.name, "realm", 5);
    assert_int_equal(t.quoted, 1);
    assert_int_equal(fh__auth_lex(&lx, &t, &why), FH__AUTH_PARAM);
    assert_memory_equal(t.name, "type", 4);
    assert_int_equal(t.quoted, 0);
    assert_int_equal(t.value_len, 1);
    assert_int_equal(fh__auth_lex(&lx, &t, &why), FH__AUTH_PARAM);
    char *s = fh__auth_tok_value(&t);
    assert_string_equal(s, "Login to \"apps\"");
    free(s);
    assert_int_equal(fh__auth_lex(&lx, &t, &why), FH__AUTH_SCHEME);
    assert_memory_equal(t.name, "Basic", 5);
    assert_int_equal(fh__auth_lex(&lx, &t, &why), FH__AUTH_PARAM);
    s = fh__auth_tok_value(&t);
    assert_string_equal(s, "simple");
    free(s);
    assert_int_equal(fh__auth_lex(&lx, &t, &why), FH__AUTH_END);
    assert_int_equal(fh__auth_lex(&lx, &t, &why), FH__AUTH_END);
}

static void test_lexer_token68_and_empty_elements(void **state)
{
    const char *v = " , Bearer abc.DEF-_~+/==  ,, Negotiate ,Basic, Digest a = \"x,y\" ,";
    fh__auth_lexer lx;
    fh__auth_tok t;
    fh__auth_lexer_init(&lx, v, strlen(v));
    assert_int_equal(fh__auth_lex(&lx, &t, NULL), FH__AUTH_SCHEME);
    assert_int_equal(fh__auth_lex(&lx, &t, NULL), FH__AUTH_TOKEN68);
    assert_int_equal(t.value_len, strlen("abc.DEF-_~+/=="));
    assert_memory_equal(t.value, "abc.DEF-_~+/==", t.value_len);
    assert_int_equal(fh__auth_lex(&lx, &t, NULL), FH__AUTH_SCHEME);   /* Negotiate */
    assert_int_equal(fh__auth_lex(&lx, &t, NULL), FH__AUTH_SCHEME);   /* Basic */
    assert_int_equal(fh__auth_lex(&lx, &t, NULL), FH__AUTH_SCHEME);   /* Digest */
    assert_int_equal(fh__auth_lex(&lx, &t, NULL), FH__AUTH_PARAM);    /* BWS around = */
    assert_int_equal(t.value_len, 3);
    assert_memory_equal(t.value, "x,y", 3);
    assert_int_equal(fh__auth_lex(&lx, &t, NULL), FH__AUTH_END);
}

static void test_lexer_errors(void **state)
{
    static const char *const bad[] = {
        "realm=x",                              /* param before any scheme */
        "Basic abc==, realm=x",                 /* param after token68 */
        "Basic abc== def",                      /* junk after token68 */
        "Digest realm=\"x\" nonce=\"y\"",       /* missing comma */
        "Digest realm=\"unterminated",
        "Digest realm=\"bad\\",                 /* escape at the end */
        "Digest realm=\"ctl\x01\"",             /* control byte in quoted-string */
        "Digest realm=\"cr\r\n\"",
        "Basic\"x\"",                           /* junk after scheme */
        "Digest @",
        "\"quoted\"",
        "Digest realm=x, , =y",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fh__auth_lexer lx;
        fh__auth_tok t;
        const char *why = NULL;
        int rc;
        fh__auth_lexer_init(&lx, bad[i], strlen(bad[i]));
        while ((rc = fh__auth_lex(&lx, &t, &why)) > 0)
            ;
        if (rc != FH_EPROTO)
            fail_msg("accepted: %s", bad[i]);
        assert_non_null(why);
    }
}

static void test_has_scheme(void **state)
{
    const char *v = "Newauth realm=\"apps\", type=1, title=\"Login, \\\"Digest\\\"\", "
                    "Basic realm=\"simple\"";
    assert_int_equal(fh__auth_has_scheme(v, strlen(v), "basic"), 1);
    assert_int_equal(fh__auth_has_scheme(v, strlen(v), "NEWAUTH"), 1);
    assert_int_equal(fh__auth_has_scheme(v, strlen(v), "Digest"), 0);   /* only quoted */
    assert_int_equal(fh__auth_has_scheme(v, strlen(v), "type"), 0);
    assert_int_equal(fh__auth_has_scheme(v, strlen(v), "realm"), 0);
    assert_int_equal(fh__auth_has_scheme("Bearer", 6, "Bearer"), 1);
    assert_int_equal(fh__auth_has_scheme("Bearer", 4, "Bearer"), 0);    /* length honoured */
    assert_int_equal(fh__auth_has_scheme("", 0, "Basic"), 0);
    assert_int_equal(fh__auth_has_scheme("Basic x y, Digest", 17, "Digest"), 0);
    assert_int_equal(fh__auth_has_scheme(NULL, 0, "Basic"), 0);
}

/* ---- Digest: RFC 7616 vectors ------------------------------------------- */

static void test_digest_rfc_md5(void **state)
{
    fh__digest d;
    fh__digest_init(&d);
    fh__digest_set_cnonce(&d, CNONCE);
    assert_int_equal(challenge(&d, CHAL("MD5")), FH_OK);
    assert_int_equal(d.stale, 0);
    assert_string_equal(authorize(&d, "Mufasa", "Circle of Life", "GET", "/dir/index.html"),
                        AUTH_PREFIX ", algorithm=MD5" AUTH_MID
                        ", response=\"8ca523f5e9506fed4657c9700eebdbec\""
                        ", opaque=\"" OPAQUE "\"");
    fh__digest_free(&d);
}

static void test_digest_rfc_sha256(void **state)
{
    static const char *const want =
        AUTH_PREFIX ", algorithm=SHA-256" AUTH_MID
        ", response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\""
        ", opaque=\"" OPAQUE "\"";
    fh__digest d;
    fh__digest_init(&d);
    fh__digest_set_cnonce(&d, CNONCE);
    /* The RFC sends both challenges as separate fields, SHA-256 first. */
    fh__digest_begin(&d);
    assert_int_equal(challenge(&d, CHAL("SHA-256")), FH_OK);
    assert_int_equal(challenge(&d, CHAL("MD5")), FH_OK);
    assert_string_equal(authorize(&d, "Mufasa", "Circle of Life", "GET", "/dir/index.html"),
                        want);
    fh__digest_free(&d);

    /* MD5 first, in one field value: SHA-256 is still preferred. */
    fh__digest_init(&d);
    fh__digest_set_cnonce(&d, CNONCE);
    assert_int_equal(challenge(&d, CHAL("MD5") ", " CHAL("SHA-256")), FH_OK);
    assert_string_equal(authorize(&d, "Mufasa", "Circle of Life", "GET", "/dir/index.html"),
                        want);
    fh__digest_free(&d);
}

/* Expected -sess response per RFC 7616 §3.4.2 with HA1 from first_cnonce. */
static void sess_expect(const EVP_MD *md, const char *first_cnonce, const char *cnonce,
                        const char *nc, char resp[65])
{
    char inner[65], ha1[65], ha2[65];
    hjoin(md, inner, "Mufasa", REALM, "Circle of Life", (char *)NULL);
    hjoin(md, ha1, inner, NONCE, first_cnonce, (char *)NULL);
    hjoin(md, ha2, "GET", "/dir/index.html", (char *)NULL);
    hjoin(md, resp, ha1, NONCE, nc, cnonce, "auth", ha2, (char *)NULL);
}

static void check_sess(const char *alg, const EVP_MD *md)
{
    char chal[512], want[65];
    snprintf(chal, sizeof chal, CHAL("%s"), alg);
    fh__digest d;
    fh__digest_init(&d);
    fh__digest_set_cnonce(&d, CNONCE);
    assert_int_equal(challenge(&d, chal), FH_OK);
    const char *a = authorize(&d, "Mufasa", "Circle of Life", "GET", "/dir/index.html");
    assert_string_equal(param(a, "algorithm"), alg);
    sess_expect(md, CNONCE, CNONCE, "00000001", want);
    assert_string_equal(param(a, "response"), want);

    /* HA1 is computed once per challenge: the next request keeps it. */
    fh__digest_set_cnonce(&d, "second");
    a = authorize(&d, "Mufasa", "Circle of Life", "GET", "/dir/index.html");
    assert_string_equal(param(a, "cnonce"), "second");
    sess_expect(md, CNONCE, "second", "00000002", want);
    assert_string_equal(param(a, "response"), want);

    /* A new challenge (same nonce) recomputes it with the current cnonce. */
    fh__digest_begin(&d);
    assert_int_equal(challenge(&d, chal), FH_OK);
    a = authorize(&d, "Mufasa", "Circle of Life", "GET", "/dir/index.html");
    assert_string_equal(param(a, "nc"), "00000003");
    sess_expect(md, "second", "second", "00000003", want);
    assert_string_equal(param(a, "response"), want);
    fh__digest_free(&d);
}

static void test_digest_sess(void **state)
{
    check_sess("MD5-sess", EVP_md5());
    check_sess("SHA-256-sess", EVP_sha256());
    check_sess("SHA-512-256-sess", EVP_sha512_256());
}

static void test_digest_sha512_256(void **state)
{
    char ha1[65], ha2[65], want[65];
    fh__digest d;
    fh__digest_init(&d);
    fh__digest_set_cnonce(&d, CNONCE);
    fh__digest_begin(&d);
    assert_int_equal(challenge(&d, CHAL("SHA-256")), FH_OK);
    assert_int_equal(challenge(&d, CHAL("SHA-512-256")), FH_OK);
    const char *a = authorize(&d, "Mufasa", "Circle of Life", "GET", "/dir/index.html");
    assert_string_equal(param(a, "algorithm"), "SHA-512-256");
    hjoin(EVP_sha512_256(), ha1, "Mufasa", REALM, "Circle of Life", (char *)NULL);
    hjoin(EVP_sha512_256(), ha2, "GET", "/dir/index.html", (char *)NULL);
    hjoin(EVP_sha512_256(), want, ha1, NONCE, "00000001", CNONCE, "auth", ha2, (char *)NULL);
    assert_string_equal(param(a, "response"), want);
    fh__digest_free(&d);
}

/* ---- Digest: nonce count, stale, selection ------------------------------ */

static void test_digest_nc(void **state)
{
    fh__digest d;
    fh__digest_init(&d);
    assert_int_equal(challenge(&d, CHAL("MD5")), FH_OK);
    assert_string_equal(param(authorize(&d, "u", "p", "GET", "/"), "nc"), "00000001");
    assert_string_equal(param(authorize(&d, "u", "p", "GET", "/"), "nc"), "00000002");
    assert_string_equal(param(authorize(&d, "u", "p", "GET", "/"), "nc"), "00000003");
    /* the same nonce again: the count goes on */
    fh__digest_begin(&d);
    assert_int_equal(challenge(&d, CHAL("MD5")), FH_OK);
    assert_string_equal(param(authorize(&d, "u", "p", "GET", "/"), "nc"), "00000004");
    /* a new nonce restarts it */
    fh__digest_begin(&d);
    assert_int_equal(challenge(&d, "Digest realm=\"r\", nonce=\"other\", qop=auth"), FH_OK);
    const char *a = authorize(&d, "u", "p", "GET", "/");
    assert_string_equal(param(a, "nc"), "00000001");
    assert_string_equal(param(a, "nonce"), "other");
    assert_null(param(a, "opaque"));                /* old opaque is gone */
    /* hex, and the count is exhausted at 0xffffffff */
    d.nc = 0x1a;
    assert_string_equal(param(authorize(&d, "u", "p", "GET", "/"), "nc"), "0000001b");
    d.nc = UINT32_MAX - 1;
    assert_string_equal(param(authorize(&d, "u", "p", "GET", "/"), "nc"), "ffffffff");
    fh__buf b = { 0 };
    assert_int_equal(fh__digest_authorization(&d, "u", "p", "GET", "/", &b), FH_ESTATE);
    fh__digest_free(&d);
}

static void test_digest_stale(void **state)
{
    fh__digest d;
    fh__digest_init(&d);
    assert_int_equal(challenge(&d, "Digest realm=\"r\", nonce=\"n1\", qop=auth"), FH_OK);
    assert_int_equal(d.stale, 0);
    authorize(&d, "u", "p", "GET", "/");
    authorize(&d, "u", "p", "GET", "/");
    fh__digest_begin(&d);
    assert_int_equal(challenge(&d, "Digest realm=\"r\", nonce=\"n2\", qop=auth, stale=TRUE"),
                     FH_OK);
    assert_int_equal(d.stale, 1);
    const char *a = authorize(&d, "u", "p", "GET", "/");
    assert_string_equal(param(a, "nc"), "00000001");
    assert_string_equal(param(a, "nonce"), "n2");
    fh__digest_begin(&d);
    assert_int_equal(challenge(&d, "Digest realm=\"r\", nonce=\"n3\", qop=auth, stale=\"false\""),
                     FH_OK);
    assert_int_equal(d.stale, 0);
    fh__digest_free(&d);
}

static void test_digest_selection_across_values(void **state)
{
    fh__digest d;
    fh__digest_init(&d);
    fh__digest_begin(&d);
    assert_int_equal(challenge(&d, "Basic realm=\"x\""), FH_EAGAIN);
    assert_int_equal(challenge(&d, "Bearer realm=\"x\", error=\"invalid_token\""), FH_EAGAIN);
    assert_int_equal(challenge(&d, "Negotiate abc=="), FH_EAGAIN);
    assert_int_equal(challenge(&d, ""), FH_EAGAIN);
    assert_int_equal(challenge(&d, "Digest realm=\"r\", nonce=\"n\", qop=auth"), FH_OK);
    assert_string_equal(param(authorize(&d, "u", "p", "GET", "/"), "algorithm"), "MD5");

    /* MD5 then SHA-256 in separate values of one response: SHA-256. */
    fh__digest_begin(&d);
    assert_int_equal(challenge(&d, "Digest realm=\"r\", nonce=\"a\", qop=auth, algorithm=MD5"),
                     FH_OK);
    assert_int_equal(challenge(&d, "Digest realm=\"r\", nonce=\"b\", qop=auth, algorithm=SHA-256"),
                     FH_OK);
    assert_string_equal(param(authorize(&d, "u", "p", "GET", "/"), "nonce"), "b");
    /* a later response offering only MD5 is followed */
    fh__digest_begin(&d);
    assert_int_equal(challenge(&d, "Digest realm=\"r\", nonce=\"c\", qop=auth"), FH_OK);
    const char *a = authorize(&d, "u", "p", "GET", "/");
    assert_string_equal(param(a, "algorithm"), "MD5");
    assert_string_equal(param(a, "nonce"), "c");
    /* equal strength: the first wins */
    fh__digest_begin(&d);
    assert_int_equal(challenge(&d, "Digest realm=\"r\", nonce=\"d\", qop=auth, "
                                   "Digest realm=\"r\", nonce=\"e\", qop=auth, algorithm=md5-SESS"),
                     FH_OK);
    assert_int_equal(challenge(&d, "Digest realm=\"r\", nonce=\"f\", qop=auth"), FH_OK);
    a = authorize(&d, "u", "p", "GET", "/");
    assert_string_equal(param(a, "nonce"), "d");
    fh__digest_free(&d);
}

/* An algorithm asked for (DigestAuth(algorithm=...)): only challenges
 * with it are answered, the strongest one offered is not taken instead. */
static void test_digest_algorithm_asked(void **state)
{
    fh__digest d;
    fh__digest_init(&d);
    d.want = fh__digest_algorithm("md5");
    assert_true(d.want > 0);
    fh__digest_begin(&d);
    assert_int_equal(challenge(&d, "Digest realm=\"r\", nonce=\"a\", qop=auth, algorithm=SHA-256, "
                                   "Digest realm=\"r\", nonce=\"b\", qop=auth"), FH_OK);
    const char *a = authorize(&d, "u", "p", "GET", "/");
    assert_string_equal(param(a, "nonce"), "b");
    assert_string_equal(param(a, "algorithm"), "MD5");
    fh__digest_free(&d);

    fh__digest_init(&d);
    d.want = fh__digest_algorithm("SHA-256-sess");
    fh__digest_begin(&d);
    /* Neither SHA-256 nor MD5-sess is SHA-256-sess. */
    assert_int_equal(challenge(&d, "Digest realm=\"r\", nonce=\"a\", qop=auth, algorithm=SHA-256, "
                                   "Digest realm=\"r\", nonce=\"b\", qop=auth, algorithm=MD5-sess"),
                     FH_EUNSUPPORTED);
    assert_int_equal(challenge(&d, "Digest realm=\"r\", nonce=\"c\", qop=auth, "
                                   "algorithm=sha-256-SESS"), FH_OK);
    assert_string_equal(param(authorize(&d, "u", "p", "GET", "/"), "algorithm"), "SHA-256-sess");
    fh__digest_free(&d);

    assert_int_equal(fh__digest_algorithm(NULL), 0);
    assert_int_equal(fh__digest_algorithm("SHA-1"), FH_EINVAL);
    assert_int_equal(fh__digest_algorithm("-sess"), FH_EINVAL);
    assert_int_equal(fh_digest_algorithm_check("SHA-512-256"), FH_OK);
    assert_int_equal(fh_digest_algorithm_check("sha512"), FH_EINVAL);
    fh_client *c = fh_client_new();
    assert_int_equal(fh_client_set_digest_algorithm(c, "bogus"), FH_EINVAL);
    assert_int_equal(fh_client_set_digest_algorithm(c, "SHA-256"), FH_OK);
    fh_client_free(c);
}

static void test_digest_multiple_in_one_value(void **state)
{
    fh__digest d;
    fh__digest_init(&d);
    const char *v = "Basic realm=\"Digest realm=\\\"fake\\\", nonce=1\", "
                    "Digest realm=\"one\", nonce=\"n1\", qop=\"auth\", algorithm=SHA-1, "
                    "Newauth token=abc, "
                    "Digest realm=\"two\", nonce=\"n2\", qop=\"auth-int,auth\", "
                    "algorithm=SHA-256, charset=UTF-8, domain=\"/a /b\", "
                    "Bearer xyz==";
    assert_int_equal(challenge(&d, v), FH_OK);
    const char *a = authorize(&d, "u", "p", "GET", "/");
    assert_string_equal(param(a, "realm"), "two");
    assert_string_equal(param(a, "algorithm"), "SHA-256");
    assert_string_equal(param(a, "qop"), "auth");
    fh__digest_free(&d);
}

static void test_digest_quoted_values(void **state)
{
    char ha1[65], ha2[65], want[65];
    fh__digest d;
    fh__digest_init(&d);
    fh__digest_set_cnonce(&d, "c");
    const char *v = "Digest realm = \"a, b \\\"c\\\" \\\\d\" , nonce=\"n,=\\x\", "
                    "opaque=\"o\\\"p\", qop=auth";
    assert_int_equal(challenge(&d, v), FH_OK);
    assert_string_equal(d.realm, "a, b \"c\" \\d");
    assert_string_equal(d.nonce, "n,=x");
    assert_string_equal(d.opaque, "o\"p");
    const char *a = authorize(&d, "u", "p", "GET", "/q?x=\"y\"");
    /* re-quoted with escapes */
    assert_non_null(strstr(a, "realm=\"a, b \\\"c\\\" \\\\d\""));
    assert_non_null(strstr(a, "nonce=\"n,=x\""));
    assert_non_null(strstr(a, "opaque=\"o\\\"p\""));
    assert_non_null(strstr(a, "uri=\"/q?x=\\\"y\\\"\""));
    hjoin(EVP_md5(), ha1, "u", "a, b \"c\" \\d", "p", (char *)NULL);
    hjoin(EVP_md5(), ha2, "GET", "/q?x=\"y\"", (char *)NULL);
    hjoin(EVP_md5(), want, ha1, "n,=x", "00000001", "c", "auth", ha2, (char *)NULL);
    assert_string_equal(param(a, "response"), want);
    /* token (unquoted) values are accepted too */
    fh__digest_begin(&d);
    assert_int_equal(challenge(&d, "DIGEST REALM=r,NONCE=n,QOP=auth,ALGORITHM=sha-256"), FH_OK);
    assert_string_equal(d.realm, "r");
    a = authorize(&d, "u", "p", "GET", "/");
    assert_string_equal(param(a, "algorithm"), "SHA-256");
    fh__digest_free(&d);
}

/* ---- Digest: errors ----------------------------------------------------- */

static void test_digest_malformed(void **state)
{
    static const char *const bad[] = {
        "Digest realm=\"r\", qop=auth",                         /* no nonce */
        "Digest nonce=\"n\", qop=auth",                         /* no realm */
        "Digest",
        "Digest realm=\"r\", nonce=\"n\", realm=\"s\"",         /* repeated */
        "Digest realm=\"r\", nonce=\"n\", NONCE=\"m\"",
        "Digest abcdef==",                                      /* token68 */
        "Digest realm=\"r\" nonce=\"n\"",                       /* syntax */
        "Digest realm=\"r\", nonce=\"n",
        "Digest realm=\"r\", nonce=\"n\x7f\"",
        "Digest realm=\"r\", nonce=\"n\", qop=auth\r\nX: y",
        "realm=\"r\", nonce=\"n\"",
        /* a malformed Digest wins over an unsupported one */
        "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-1, Digest realm=\"r\"",
    };
    fh__digest d;
    fh__digest_init(&d);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (challenge(&d, bad[i]) != FH_EPROTO)
            fail_msg("not FH_EPROTO: %s", bad[i]);
    }
    /* NUL inside the value */
    const char *why = NULL;
    static const char nul[] = "Digest realm=\"r\0\", nonce=n";
    assert_int_equal(fh__digest_challenge(&d, nul, sizeof nul - 1, &why), FH_EPROTO);
    /* nothing was adopted */
    fh__buf b = { 0 };
    assert_int_equal(fh__digest_authorization(&d, "u", "p", "GET", "/", &b), FH_ESTATE);

    /* a malformed challenge leaves the adopted one alone */
    assert_int_equal(challenge(&d, "Digest realm=\"r\", nonce=\"good\", qop=auth"), FH_OK);
    fh__digest_begin(&d);
    assert_int_equal(challenge(&d, "Digest realm=\"r2\""), FH_EPROTO);
    assert_string_equal(param(authorize(&d, "u", "p", "GET", "/"), "nonce"), "good");
    /* a malformed one beside a good one: the good one is used */
    fh__digest_begin(&d);
    assert_int_equal(challenge(&d, "Digest realm=\"x\", Digest realm=\"y\", nonce=\"z\", qop=auth"),
                     FH_OK);
    assert_string_equal(param(authorize(&d, "u", "p", "GET", "/"), "realm"), "y");
    fh__digest_free(&d);
}

static void test_digest_unsupported(void **state)
{
    static const char *const unsup[] = {
        "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"",
        "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int, auth-conf\"",
        "Digest realm=\"r\", nonce=\"n\", qop=\"\"",
        "Digest realm=\"r\", nonce=\"n\", qop=auth, algorithm=SHA-1",
        "Digest realm=\"r\", nonce=\"n\", qop=auth, algorithm=MD5-foo",
        "Digest realm=\"r\", nonce=\"n\", qop=auth, algorithm=-sess",
        "Digest realm=\"r\", nonce=\"n\", qop=auth, algorithm=\"\"",
        "Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess",  /* -sess needs qop */
        "Basic realm=\"b\", Digest realm=\"r\", nonce=\"n\", qop=auth-int",
    };
    fh__digest d;
    fh__digest_init(&d);
    for (size_t i = 0; i < sizeof unsup / sizeof unsup[0]; i++) {
        if (challenge(&d, unsup[i]) != FH_EUNSUPPORTED)
            fail_msg("not FH_EUNSUPPORTED: %s", unsup[i]);
    }
    fh__buf b = { 0 };
    assert_int_equal(fh__digest_authorization(&d, "u", "p", "GET", "/", &b), FH_ESTATE);
    /* auth offered beside auth-int is fine; an unknown one beside a known one too */
    assert_int_equal(challenge(&d, "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int,auth\""), FH_OK);
    assert_int_equal(challenge(&d, "Digest realm=\"r\", nonce=\"n\", qop=auth, algorithm=SHA-1, "
                                   "Digest realm=\"r\", nonce=\"n\", qop=auth, algorithm=MD5"),
                     FH_OK);
    fh__digest_free(&d);
}

static void test_digest_authorization_errors(void **state)
{
    fh__digest d;
    fh__digest_init(&d);
    fh__buf b = { 0 };
    assert_int_equal(fh__buf_append_str(&b, "keep"), FH_OK);
    assert_int_equal(fh__digest_authorization(&d, "u", "p", "GET", "/", &b), FH_ESTATE);
    assert_int_equal(challenge(&d, CHAL("MD5")), FH_OK);
    assert_int_equal(fh__digest_authorization(&d, "u\r\n", "p", "GET", "/", &b), FH_EINVAL);
    assert_int_equal(fh__digest_authorization(&d, "u", "p", "GE T", "/", &b), FH_EINVAL);
    assert_int_equal(fh__digest_authorization(&d, "u", "p", "", "/", &b), FH_EINVAL);
    assert_int_equal(fh__digest_authorization(&d, "u", "p", "GET", "/\nx", &b), FH_EINVAL);
    assert_int_equal(fh__digest_authorization(&d, NULL, "p", "GET", "/", &b), FH_EINVAL);
    assert_string_equal(str(&b), "keep");
    /* failures did not consume a nonce count */
    assert_int_equal(fh__digest_authorization(&d, "u", "p", "GET", "/", &b), FH_OK);
    assert_non_null(strstr(str(&b), "nc=00000001"));
    assert_memory_equal(b.data, "keepDigest ", 11);
    fh__buf_free(&b);
    fh__digest_free(&d);
}

/* ---- Digest: forms ------------------------------------------------------ */

static void test_digest_legacy_rfc2069(void **state)
{
    char ha1[65], ha2[65], want[65], got[512];
    fh__digest d;
    fh__digest_init(&d);
    assert_int_equal(challenge(&d, "Digest realm=\"testrealm@host.com\", "
                                   "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
                                   "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""), FH_OK);
    hjoin(EVP_md5(), ha1, "Mufasa", "testrealm@host.com", "Circle Of Life", (char *)NULL);
    hjoin(EVP_md5(), ha2, "GET", "/dir/index.html", (char *)NULL);
    hjoin(EVP_md5(), want, ha1, "dcd98b7102dd2f0e8b11d0f600bfb0c093", ha2, (char *)NULL);
    snprintf(got, sizeof got,
             "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", uri=\"/dir/index.html\", "
             "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", response=\"%s\", "
             "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"", want);
    assert_string_equal(authorize(&d, "Mufasa", "Circle Of Life", "GET", "/dir/index.html"), got);
    /* no nc/cnonce/qop; the same response again (no counter in the hash) */
    assert_string_equal(authorize(&d, "Mufasa", "Circle Of Life", "GET", "/dir/index.html"), got);

    /* algorithm is echoed only when the server named it */
    fh__digest_begin(&d);
    assert_int_equal(challenge(&d, "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256"), FH_OK);
    const char *a = authorize(&d, "u", "p", "GET", "/");
    assert_string_equal(param(a, "algorithm"), "SHA-256");
    assert_null(param(a, "qop"));
    assert_null(param(a, "nc"));
    assert_null(param(a, "cnonce"));
    hjoin(EVP_sha256(), ha1, "u", "r", "p", (char *)NULL);
    hjoin(EVP_sha256(), ha2, "GET", "/", (char *)NULL);
    hjoin(EVP_sha256(), want, ha1, "n", ha2, (char *)NULL);
    assert_string_equal(param(a, "response"), want);
    fh__digest_free(&d);
}

static void test_digest_username_star(void **state)
{
    char ha1[65], ha2[65], want[65];
    fh__digest d;
    fh__digest_init(&d);
    fh__digest_set_cnonce(&d, CNONCE);
    assert_int_equal(challenge(&d, CHAL("SHA-256")), FH_OK);
    /* RFC 7616 §3.9.2: "Jäsøn Doe" */
    const char *a = authorize(&d, "J\xc3\xa4s\xc3\xb8n Doe", "Secret, or not?", "GET",
                              "/doe.json");
    assert_non_null(strstr(a, "Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm="));
    assert_null(strstr(a, "username=\""));
    assert_null(param(a, "userhash"));
    hjoin(EVP_sha256(), ha1, "J\xc3\xa4s\xc3\xb8n Doe", REALM, "Secret, or not?", (char *)NULL);
    hjoin(EVP_sha256(), ha2, "GET", "/doe.json", (char *)NULL);
    hjoin(EVP_sha256(), want, ha1, NONCE, "00000001", CNONCE, "auth", ha2, (char *)NULL);
    assert_string_equal(param(a, "response"), want);

    a = authorize(&d, "say \"hi\"\\", "p", "GET", "/");
    assert_non_null(strstr(a, "username*=UTF-8''say%20%22hi%22%5C, "));
    a = authorize(&d, "a!#$&+-.^_`|~z%'*", "p", "GET", "/");
    assert_non_null(strstr(a, "username=\"a!#$&+-.^_`|~z%'*\""));     /* plain ASCII stays */
    fh__digest_free(&d);
}

static void test_digest_userhash(void **state)
{
    char uh[65];
    fh__digest d;
    fh__digest_init(&d);
    fh__digest_set_cnonce(&d, "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v");
    /* RFC 7616 §3.9.2 challenge */
    assert_int_equal(challenge(&d, "Digest realm=\"api@example.org\", qop=\"auth\", "
                                   "algorithm=SHA-512-256, "
                                   "nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", "
                                   "opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", "
                                   "charset=UTF-8, userhash=true"), FH_OK);
    const char *a = authorize(&d, "J\xc3\xa4s\xc3\xb8n Doe", "Secret, or not?", "GET", "/doe.json");
    hjoin(EVP_sha512_256(), uh, "J\xc3\xa4s\xc3\xb8n Doe", "api@example.org", (char *)NULL);
    assert_string_equal(param(a, "username"), uh);
    assert_null(strstr(a, "username*"));
    assert_string_equal(param(a, "userhash"), "true");
    assert_string_equal(param(a, "algorithm"), "SHA-512-256");
    assert_string_equal(param(a, "opaque"), "HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS");
    fh__digest_free(&d);
}

static void test_digest_random_cnonce(void **state)
{
    char c1[64], c2[64];
    fh__digest d;
    fh__digest_init(&d);
    fh__digest_set_cnonce(&d, "fixed");
    fh__digest_set_cnonce(&d, NULL);
    assert_int_equal(challenge(&d, CHAL("MD5")), FH_OK);
    snprintf(c1, sizeof c1, "%s", param(authorize(&d, "u", "p", "GET", "/"), "cnonce"));
    snprintf(c2, sizeof c2, "%s", param(authorize(&d, "u", "p", "GET", "/"), "cnonce"));
    assert_int_equal(strlen(c1), 32);
    assert_int_equal(strspn(c1, "0123456789abcdef"), 32);
    assert_int_equal(strlen(c2), 32);
    assert_string_not_equal(c1, c2);
    fh__digest_free(&d);
    fh__digest_free(&d);        /* safe twice */
}

/* ---- fh_auth_check --------------------------------------------------------- */

static void expect_refused(fh_auth_kind k, const char *u, const char *p, const char *part)
{
    char msg[256] = "";
    assert_int_equal(fh_auth_check(k, u, p, msg, sizeof msg), FH_EINVAL);
    if (!strstr(msg, part))
        fail_msg("'%s' not in '%s'", part, msg);
}

static void test_auth_check(void **state)
{
    (void)state;
    char msg[256] = "x";
    assert_int_equal(fh_auth_check(FH_AUTH_BASIC, "user", "p:ss w\xc3\xb6rd", msg, sizeof msg),
                     FH_OK);
    assert_string_equal(msg, "");
    assert_int_equal(fh_auth_check(FH_AUTH_DIGEST, "us:er \"q\"", "", NULL, 0), FH_OK);
    assert_int_equal(fh_auth_check(FH_AUTH_NONE, NULL, NULL, NULL, 0), FH_OK);
    /* RFC 7617 §2: the first colon separates user-id and password. */
    expect_refused(FH_AUTH_BASIC, "us:er", "p", "must not contain ':'");
    expect_refused(FH_AUTH_BASIC, "user", "a\r\nX-Injected: 1", "password contains a control "
                                                                 "character (CR)");
    expect_refused(FH_AUTH_BASIC, "us\ner", "p", "user name contains a control character (LF)");
    expect_refused(FH_AUTH_DIGEST, "user", "p\x01", "password contains a control character "
                                                    "(0x01)");
    expect_refused(FH_AUTH_DIGEST, "u\tser", "p", "(HTAB)");
    expect_refused(FH_AUTH_DIGEST, "u\x7f", "p", "(DEL)");
    expect_refused(FH_AUTH_BASIC, NULL, "p", "both required");
    expect_refused(FH_AUTH_DIGEST, "u", NULL, "both required");
    expect_refused((fh_auth_kind)3, "u", "p", "unknown authentication scheme 3");
    assert_int_equal(fh_auth_check(FH_AUTH_BASIC, "a:b", "c", NULL, 0), FH_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_rfc_example),
        cmocka_unit_test(test_basic_utf8),
        cmocka_unit_test(test_basic_rejects),
        cmocka_unit_test(test_lexer_rfc9110_example),
        cmocka_unit_test(test_lexer_token68_and_empty_elements),
        cmocka_unit_test(test_lexer_errors),
        cmocka_unit_test(test_has_scheme),
        cmocka_unit_test(test_digest_rfc_md5),
        cmocka_unit_test(test_digest_rfc_sha256),
        cmocka_unit_test(test_digest_sess),
        cmocka_unit_test(test_digest_sha512_256),
        cmocka_unit_test(test_digest_nc),
        cmocka_unit_test(test_digest_stale),
        cmocka_unit_test(test_digest_selection_across_values),
        cmocka_unit_test(test_digest_algorithm_asked),
        cmocka_unit_test(test_digest_multiple_in_one_value),
        cmocka_unit_test(test_digest_quoted_values),
        cmocka_unit_test(test_digest_malformed),
        cmocka_unit_test(test_digest_unsupported),
        cmocka_unit_test(test_digest_authorization_errors),
        cmocka_unit_test(test_digest_legacy_rfc2069),
        cmocka_unit_test(test_digest_username_star),
        cmocka_unit_test(test_digest_userhash),
        cmocka_unit_test(test_digest_random_cnonce),
        cmocka_unit_test(test_auth_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
