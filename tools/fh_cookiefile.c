/*
 * fh_cookiefile.c — cookie files in the Netscape format that curl (-b/-c),
 * wget and browsers' exporters use: one cookie per line, seven fields
 * separated by tabs:
 *
 *   domain  include-subdomains  path  secure  expires  name  value
 *
 * domain has a leading dot when the cookie is sent to subdomains too;
 * booleans are TRUE/FALSE; expires is seconds since the epoch, 0 for a
 * session cookie. A line starting with "#HttpOnly_" is an HttpOnly cookie;
 * other lines starting with '#' and blank lines are comments.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fasthttp/cookies.h"
#include "fh.h"

#define HTTPONLY_PREFIX "#HttpOnly_"

/* Splits line into 7 tab-separated fields in place; 0 on success. */
static int split_fields(char *line, char *f[7])
{
    for (int i = 0; i < 7; i++) {
        f[i] = line;
        char *tab = strchr(line, '\t');
        if (i < 6) {
            if (!tab)
                return -1;
            *tab = '\0';
            line = tab + 1;
        } else if (tab) {
            return -1;
        }
    }
    return 0;
}

static int load_line(fh_cookie_jar *jar, char *line, const char *path, int lineno)
{
    int http_only = 0;
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, HTTPONLY_PREFIX, strlen(HTTPONLY_PREFIX)) == 0) {
        http_only = 1;
        line += strlen(HTTPONLY_PREFIX);
    } else if (line[0] == '#' || line[0] == '\0') {
        return 0;
    }
    char *f[7];
    if (split_fields(line, f) != 0) {
        fprintf(stderr, "fh: %s:%d: not a cookie line (7 tab-separated fields)\n", path, lineno);
        return -1;
    }
    fh_cookie c = {0};
    c.domain = f[0][0] == '.' ? f[0] + 1 : f[0];
    c.host_only = strcmp(f[1], "TRUE") != 0;
    c.path = f[2];
    c.secure = strcmp(f[3], "TRUE") == 0;
    long long exp = strtoll(f[4], NULL, 10);
    c.expires_unix = exp > 0 ? exp : -1;
    c.name = f[5];
    c.value = f[6];
    c.http_only = http_only;
    int rc = fh_cookie_jar_add(jar, &c);
    if (rc) {
        fprintf(stderr, "fh: %s:%d: cookie refused: %s\n", path, lineno, fh_strerror(rc));
        return -1;
    }
    return 0;
}

int fh_cookiefile_load(fh_cookie_jar *jar, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) /* curl: a -b file that does not exist starts an empty jar */
        return errno == ENOENT ? 0 : (fprintf(stderr, "fh: %s: %s\n", path, strerror(errno)), -1);
    char line[8192];
    int rc = 0;
    for (int n = 1; rc == 0 && fgets(line, sizeof line, f); n++)
        rc = load_line(jar, line, path, n);
    fclose(f);
    return rc;
}

int fh_cookiefile_save(fh_cookie_jar *jar, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "# Netscape HTTP Cookie File\n# Written by fh (libfasthttp %s).\n\n",
            fh_version());
    fh_cookie c;
    for (size_t i = 0; fh_cookie_jar_at(jar, i, &c) == FH_OK; i++) {
        fprintf(f, "%s%s%s\t%s\t%s\t%s\t%lld\t%s\t%s\n", c.http_only ? HTTPONLY_PREFIX : "",
                c.host_only ? "" : ".", c.domain, c.host_only ? "FALSE" : "TRUE", c.path,
                c.secure ? "TRUE" : "FALSE",
                (long long)(c.expires_unix < 0 ? 0 : c.expires_unix), c.name, c.value);
        fh_cookie_free(&c);
    }
    return fclose(f) == 0 ? 0 : -1;
}
