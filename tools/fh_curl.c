/*
 * fh_curl.c — the options of fh that follow curl's: -L (redirects, with the
 * library's rules for credentials across origins), -u user:pass (Basic, or
 * Digest with --digest), --retry N, -b/-c cookie files, -w FORMAT, -Z and
 * -s. Each maps onto a client setting of libfasthttp, which owns the
 * defaults and the checks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fasthttp/cookies.h"
#include "fasthttp/policy.h"
#include "fh.h"

enum { O_DIGEST = 512, O_BASIC, O_RETRY, O_MAX_REDIRS, O_PARALLEL_MAX };

const struct option fh_curl_long_options[] = {
    {"location", no_argument, 0, 'L'},      {"max-redirs", required_argument, 0, O_MAX_REDIRS},
    {"user", required_argument, 0, 'u'},    {"digest", no_argument, 0, O_DIGEST},
    {"basic", no_argument, 0, O_BASIC},     {"retry", required_argument, 0, O_RETRY},
    {"cookie", required_argument, 0, 'b'},  {"cookie-jar", required_argument, 0, 'c'},
    {"write-out", required_argument, 0, 'w'}, {"parallel", no_argument, 0, 'Z'},
    {"silent", no_argument, 0, 's'},        {0, 0, 0, 0}};

static int count_arg(const char *arg, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

int fh_curl_option(int c, const char *arg, opts *o)
{
    switch (c) {
    case 'L': o->location = 1; return 1;
    case O_MAX_REDIRS: return count_arg(arg, 0, 1000, &o->max_redirs) ? -1 : 1;
    case 'u': o->user = arg; return 1;
    case O_DIGEST: o->digest = 1; return 1;
    case O_BASIC: o->digest = 0; return 1;
    case O_RETRY: return count_arg(arg, 0, FH_RETRY_MAX_COUNT - 1, &o->retry) ? -1 : 1;
    case 'b': o->cookie_in = arg; return 1;
    case 'c': o->cookie_out = arg; return 1;
    case 'w': o->write_out = arg; return 1;
    case 'Z': o->parallel = 1; return 1;
    case 's': o->silent = 1; return 1;
    default: return 0;
    }
}

static int set_auth(fh_client *c, const opts *o)
{
    const char *colon = strchr(o->user, ':');
    if (!colon) {
        fprintf(stderr, "fh: -u needs user:password (no password prompt here)\n");
        return FH_EINVAL;
    }
    char *user = strndup(o->user, (size_t)(colon - o->user)), msg[256];
    if (!user)
        return FH_ENOMEM;
    fh_auth_kind kind = o->digest ? FH_AUTH_DIGEST : FH_AUTH_BASIC;
    int rc = fh_auth_check(kind, user, colon + 1, msg, sizeof msg);
    if (rc)
        fprintf(stderr, "fh: -u: %s\n", msg);
    else
        rc = fh_client_set_auth(c, kind, user, colon + 1);
    free(user);
    return rc;
}

static int set_retry(fh_client *c, const opts *o)
{
    fh_retry_policy p;
    fh_retry_policy_init(&p);
    /* curl's --retry N: N more attempts after the first. */
    p.max_attempts = o->retry + 1;
    return fh_client_set_retry(c, &p);
}

int fh_curl_configure(fh_client *c, const opts *o, fh_cookie_jar **jar)
{
    int rc = FH_OK;
    *jar = NULL;
    if (o->user)
        rc = set_auth(c, o);
    if (!rc && o->retry > 0)
        rc = set_retry(c, o);
    /* -b FILE reads cookies (and turns the jar on, as curl does: a file that
     * does not exist yet is an empty jar); -c FILE alone turns it on too. A
     * -b value with '=' is a Cookie header (curl's -b 'a=1; b=2'), which
     * fh.c adds as a header. */
    int cookie_file = o->cookie_in && !strchr(o->cookie_in, '=');
    if (!rc && (cookie_file || o->cookie_out)) {
        if (!(*jar = fh_cookie_jar_new()))
            return FH_ENOMEM;
        if (cookie_file && fh_cookiefile_load(*jar, o->cookie_in) != 0)
            rc = FH_EINVAL;
        if (!rc)
            rc = fh_client_set_cookie_jar(c, *jar);
    }
    return rc;
}

int fh_curl_request(fh_request *req, const opts *o)
{
    /* As curl: redirects only with -L; -1 keeps the library's maximum. */
    return fh_request_set_redirects(req, o->location, o->max_redirs);
}

int fh_curl_save_cookies(const opts *o, fh_cookie_jar *jar)
{
    if (!o->cookie_out || !jar)
        return 0;
    if (fh_cookiefile_save(jar, o->cookie_out) != 0) {
        fprintf(stderr, "fh: cannot write cookies to %s: %s\n", o->cookie_out, strerror(errno));
        return 1;
    }
    return 0;
}
