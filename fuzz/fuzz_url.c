/*
 * fuzz_url.c — libFuzzer target for fh__url_parse.
 *
 * The input is parsed as a length-delimited string (not NUL-terminated, so
 * ASan catches any read past its end). On success the outputs must be
 * well-formed and parsing "scheme://authority target" again must give the
 * same result; on failure u must be left zeroed with a reason set.
 * Credentials (decoded userinfo), the userinfo-free copy and the redacted
 * form are checked too: no password survives redaction or stripping, and
 * redaction honours lengths and small output buffers.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fasthttp/fasthttp.h"
#include "url.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

/* Printable ASCII only: no byte <= 0x20, no DEL, nothing >= 0x80. */
static void check_clean(const char *s)
{
    check(s != NULL);
    for (; *s; s++)
        check((unsigned char)*s > 0x20 && (unsigned char)*s < 0x7f && *s != '\\');
}

static void check_ok(const fh__url *u)
{
    check_clean(u->host);
    check_clean(u->target);
    check_clean(u->authority);
    if (u->userinfo)
        check_clean(u->userinfo);
    check(u->host[0] != '\0');
    check(u->target[0] == '/');
    check(strchr(u->target, '#') == NULL);
    check(u->port >= 1 && u->port <= 65535);
    check(u->tls == 0 || u->tls == 1);
    check(u->host_is_ip == 0 || u->host_is_ip == 1);
    for (const char *p = u->host; *p; p++)
        check(!(*p >= 'A' && *p <= 'Z'));
    /* Host header: brackets around IPv6, port only when not the default. */
    char want[300];
    const char *fmt = strchr(u->host, ':') ? "[%s]" : "%s";
    int n = snprintf(want, sizeof want, fmt, u->host);
    if (u->port != (u->tls ? 443 : 80))
        snprintf(want + n, sizeof want - (size_t)n, ":%d", u->port);
    check(strcmp(want, u->authority) == 0);
}

static void check_reparse(const fh__url *u)
{
    size_t n = strlen(u->authority) + strlen(u->target) + 16;
    char *s = malloc(n);
    int len = snprintf(s, n, "%s://%s%s", u->tls ? "https" : "http", u->authority, u->target);
    fh__url v;
    check(fh__url_parse(&v, s, (size_t)len, NULL) == 0);
    check(v.tls == u->tls && v.port == u->port && v.host_is_ip == u->host_is_ip);
    check(strcmp(v.host, u->host) == 0);
    check(strcmp(v.target, u->target) == 0);
    check(strcmp(v.authority, u->authority) == 0);
    check(v.userinfo == NULL);
    fh__url_free(&v);
    free(s);
}

/* Decoded credentials have no control byte and no ':' in the user; the
 * stripped URL parses to the same origin and target without userinfo. */
static void check_credentials(const fh__url *u, const char *s, size_t size)
{
    char *user = NULL, *pass = NULL;
    const char *why = NULL;
    int rc = fh__url_credentials(u, &user, &pass, &why);
    if (rc == 0) {
        check((user != NULL) == (u->userinfo != NULL));
        for (const char *p = user; p && *p; p++)
            check((unsigned char)*p >= 0x20 && *p != 0x7f && *p != ':');
        for (const char *p = pass; p && *p; p++)
            check((unsigned char)*p >= 0x20 && *p != 0x7f);
    } else {
        check(rc == FH_EURL && why && !user && !pass);
    }
    free(user);
    free(pass);
    char *stripped = fh__url_strip_userinfo(s, size);
    fh__url v;
    check(fh__url_parse(&v, stripped, strlen(stripped), NULL) == 0);
    check(v.userinfo == NULL && v.port == u->port && strcmp(v.host, u->host) == 0);
    check(strcmp(v.target, u->target) == 0);
    fh__url_free(&v);
    free(stripped);
}

/* Whatever the input: the output is terminated, the length is what a big
 * enough buffer gets. For a parsed URL with user:password the password is
 * replaced wholesale by "***" (the length says so), for a lone user name
 * the name is. */
static void check_redact(const fh__url *u, const char *s, size_t size)
{
    size_t cap = size * 2 + 8;
    char *out = malloc(cap), small[7];
    size_t n = fh_url_redact(s, size, out, cap);
    check(n < cap && strlen(out) <= n);
    check(fh_url_redact(s, size, small, sizeof small) == n);
    check(strlen(small) < sizeof small);
    if (u && u->userinfo) {
        const char *colon = strchr(u->userinfo, ':');
        size_t secret = colon ? strlen(colon + 1) : strlen(u->userinfo);
        check(n == size - secret + 3);
        check(strstr(out, colon ? ":***@" : "//***@") != NULL);
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    memcpy(s, data, size);
    fh__url u;
    const char *why = NULL;
    int rc = fh__url_parse(&u, s, size, &why);
    if (rc == 0) {
        check_ok(&u);
        check_reparse(&u);
        check_credentials(&u, s, size);
        check_redact(&u, s, size);
        fh__url_free(&u);
        check(u.host == NULL && u.target == NULL);
    } else {
        check(rc == FH_EURL || rc == FH_EUNSUPPORTED || rc == FH_ENOMEM);
        check(why != NULL);
        check(u.host == NULL && u.target == NULL && u.authority == NULL && u.userinfo == NULL);
        check_redact(NULL, s, size);
    }
    free(s);
    return 0;
}
