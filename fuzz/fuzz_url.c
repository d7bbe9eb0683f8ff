/*
 * fuzz_url.c — libFuzzer target for fh__url_parse.
 *
 * The input is parsed as a length-delimited string (not NUL-terminated, so
 * ASan catches any read past its end). On success the outputs must be
 * well-formed and parsing "scheme://authority target" again must give the
 * same result; on failure u must be left zeroed with a reason set.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fasthttp/errors.h"
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
        fh__url_free(&u);
        check(u.host == NULL && u.target == NULL);
    } else {
        check(rc == FH_EURL || rc == FH_EUNSUPPORTED || rc == FH_ENOMEM);
        check(why != NULL);
        check(u.host == NULL && u.target == NULL && u.authority == NULL && u.userinfo == NULL);
    }
    free(s);
    return 0;
}
