/*
 * fh_info.c — what fh tells about a transfer: -v (curl's "* / > / <" lines
 * on stderr: the connection, TLS, the request as sent and the response
 * head, then the timings) and -w FORMAT (curl's --write-out variables, and
 * %{json} for all of them at once).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fasthttp/policy.h"
#include "fh.h"

static void verbose_connection(FILE *f, const fh_response *r)
{
    fh_conn_info ci;
    if (fh_response_conn_info(r, &ci) != FH_OK)
        return;
    const fh_timings *tm = fh_response_timings(r);
    if (tm && tm->reused)
        fprintf(f, "* Re-using existing connection #%" PRIu64 " with %s port %d\n", ci.id,
                ci.remote_ip ? ci.remote_ip : "?", ci.remote_port);
    else
        fprintf(f, "* Connected to %s port %d (#%" PRIu64 ")\n", ci.remote_ip ? ci.remote_ip : "?",
                ci.remote_port, ci.id);
    if (!ci.tls_version)
        return;
    fprintf(f, "* SSL connection using %s / %s%s\n", ci.tls_version, ci.cipher ? ci.cipher : "?",
            ci.tls_resumed ? " (session resumed)" : "");
    fprintf(f, "* ALPN: server accepted %s\n", ci.alpn ? ci.alpn : "nothing (HTTP/1.1)");
    fprintf(f, "* Server certificate:\n*  subject: %s\n*  issuer: %s\n",
            ci.peer_subject ? ci.peer_subject : "?", ci.peer_issuer ? ci.peer_issuer : "?");
}

static void verbose_request(FILE *f, const fh_response *r)
{
    const char *url = fh_response_url(r), *method = fh_response_request_method(r);
    /* The request line's target: the URL's path and query. */
    const char *target = url ? strstr(url, "://") : NULL;
    target = target ? strchr(target + 3, '/') : NULL;
    fprintf(f, "> %s %s %s\n", method ? method : "?", target ? target : "/",
            fh_response_version(r) == 20 ? "HTTP/2" : "HTTP/1.1");
    fh_header h;
    for (size_t i = 0; fh_response_request_header_at(r, i, &h) == FH_OK; i++)
        fprintf(f, "> %.*s: %.*s\n", (int)h.name_len, h.name, (int)h.value_len, h.value);
    fprintf(f, ">\n");
}

static void verbose_head(FILE *f, const fh_response *r)
{
    size_t rlen;
    const char *reason = fh_response_reason(r, &rlen);
    int v = fh_response_version(r);
    if (v == 20)
        fprintf(f, "< HTTP/2 %d\n", fh_response_status(r));
    else
        fprintf(f, "< HTTP/%d.%d %d %.*s\n", v / 10, v % 10, fh_response_status(r), (int)rlen,
                reason);
    fh_header h;
    for (size_t i = 0; fh_response_header_at(r, i, &h) == FH_OK; i++)
        fprintf(f, "< %.*s: %.*s\n", (int)h.name_len, h.name, (int)h.value_len, h.value);
    fprintf(f, "<\n");
}

void fh_info_verbose(FILE *f, fh_response *resp)
{
    size_t n = fh_response_history_count(resp);
    for (size_t i = 0; i <= n; i++) {
        const fh_response *r = i < n ? fh_response_history_at(resp, i) : resp;
        verbose_connection(f, r);
        verbose_request(f, r);
        verbose_head(f, r);
        if (i < n)
            fprintf(f, "* Following redirect to %s\n",
                    fh_response_url(i + 1 < n ? fh_response_history_at(resp, i + 1) : resp));
    }
    if (fh_response_attempts(resp) > 1)
        fprintf(f, "* %d attempts (retried)\n", fh_response_attempts(resp));
}

static double secs(int64_t us)
{
    return (double)us / 1e6;
}

void fh_info_verbose_timings(FILE *f, const fh_response *resp)
{
    const fh_timings *t = fh_response_timings(resp);
    if (!t)
        return;
    fprintf(f, "* Timings (s): dns %.6f, connect %.6f, tls %.6f, sent %.6f, first byte %.6f, "
               "total %.6f%s\n", secs(t->dns_us), secs(t->connect_us), secs(t->tls_us),
            secs(t->sent_us), secs(t->ttfb_us), secs(t->total_us),
            t->reused ? " (connection reused)" : "");
}

/* One -w variable; 0 when name is not one. */
static int variable(FILE *f, const char *name, size_t len, const fh_response *r,
                    uint64_t down, uint64_t up)
{
    static const fh_timings none;
    const fh_timings *t = r && fh_response_timings(r) ? fh_response_timings(r) : &none;
    fh_conn_info ci;
    if (!r || fh_response_conn_info(r, &ci) != FH_OK)
        memset(&ci, 0, sizeof ci);
    int v = r ? fh_response_version(r) : 0;
#define IS(s) (len == strlen(s) && memcmp(name, s, len) == 0)
    if (IS("http_code") || IS("response_code"))
        fprintf(f, "%03d", r ? fh_response_status(r) : 0);
    else if (IS("http_version"))
        fprintf(f, "%s", v == 20 ? "2" : v == 10 ? "1.0" : v ? "1.1" : "0");
    else if (IS("time_namelookup"))
        fprintf(f, "%.6f", secs(t->dns_us));
    else if (IS("time_connect"))
        fprintf(f, "%.6f", secs(t->connect_us));
    else if (IS("time_appconnect"))
        fprintf(f, "%.6f", secs(t->tls_us));
    else if (IS("time_pretransfer"))
        fprintf(f, "%.6f", secs(t->sent_us));
    else if (IS("time_starttransfer"))
        fprintf(f, "%.6f", secs(t->ttfb_us));
    else if (IS("time_total"))
        fprintf(f, "%.6f", secs(t->total_us));
    else if (IS("size_download"))
        fprintf(f, "%" PRIu64, down);
    else if (IS("size_upload"))
        fprintf(f, "%" PRIu64, up);
    else if (IS("num_redirects"))
        fprintf(f, "%zu", r ? fh_response_history_count(r) : 0);
    else if (IS("num_retries"))
        fprintf(f, "%d", r ? fh_response_attempts(r) - 1 : 0);
    else if (IS("url_effective"))
        fprintf(f, "%s", r && fh_response_url(r) ? fh_response_url(r) : "");
    else if (IS("remote_ip"))
        fprintf(f, "%s", ci.remote_ip ? ci.remote_ip : "");
    else if (IS("remote_port"))
        fprintf(f, "%d", ci.remote_port);
    else if (IS("ssl_version"))
        fprintf(f, "%s", ci.tls_version ? ci.tls_version : "");
    else if (IS("ssl_cipher"))
        fprintf(f, "%s", ci.cipher ? ci.cipher : "");
    else if (IS("connection_reused"))
        fprintf(f, "%d", t->reused);
    else
        return 0;
#undef IS
    return 1;
}

static const char *const JSON_NUMBERS[] = {
    "time_namelookup", "time_connect", "time_appconnect", "time_pretransfer",
    "time_starttransfer", "time_total", "size_download", "size_upload", "num_redirects",
    "num_retries", "remote_port", "connection_reused"};
static const char *const JSON_STRINGS[] = {"http_code", "http_version", "url_effective",
                                           "remote_ip", "ssl_version", "ssl_cipher"};

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void json_string(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* %{json}: every variable in one JSON object. */
static void json(FILE *f, const fh_response *r, uint64_t down, uint64_t up)
{
    fputc('{', f);
    for (size_t i = 0; i < sizeof JSON_STRINGS / sizeof *JSON_STRINGS; i++) {
        char *text = NULL;
        size_t n = 0;
        FILE *m = open_memstream(&text, &n);
        if (m) {
            variable(m, JSON_STRINGS[i], strlen(JSON_STRINGS[i]), r, down, up);
            fclose(m);
        }
        fprintf(f, "%s\"%s\":", i ? "," : "", JSON_STRINGS[i]);
        json_string(f, text ? text : "", text ? n : 0);
        free(text);
    }
    for (size_t i = 0; i < sizeof JSON_NUMBERS / sizeof *JSON_NUMBERS; i++) {
        fprintf(f, ",\"%s\":", JSON_NUMBERS[i]);
        variable(f, JSON_NUMBERS[i], strlen(JSON_NUMBERS[i]), r, down, up);
    }
    fputc('}', f);
}

void fh_info_write_out(FILE *f, const char *fmt, const fh_response *r, uint64_t down,
                       uint64_t up)
{
    for (const char *p = fmt; *p; p++) {
        if (p[0] == '\\' && p[1]) { /* curl's escapes: \n, \r, \t, \\ */
            p++;
            fputc(*p == 'n' ? '\n' : *p == 'r' ? '\r' : *p == 't' ? '\t' : *p, f);
            continue;
        }
        const char *end = p[0] == '%' && p[1] == '{' ? strchr(p + 2, '}') : NULL;
        if (!end) {
            fputc(*p, f);
            continue;
        }
        const char *name = p + 2;
        size_t len = (size_t)(end - name);
        if (len == 4 && memcmp(name, "json", 4) == 0)
            json(f, r, down, up);
        else if (!variable(f, name, len, r, down, up))
            fprintf(stderr, "fh: -w: unknown variable %%{%.*s}\n", (int)len, name);
        p = end;
    }
    fflush(f);
}
