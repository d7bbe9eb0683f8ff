/*
 * fh — a small command-line HTTP client over libfasthttp.
 *
 *   fh [-X METHOD] [-H 'Name: value']... [-d DATA | --data-file F] [-i] [-I]
 *      [-o FILE] [--insecure] [--cacert F] [--cert F --key F] [--timeout S]
 *      [--compressed] [--http2 | --http2-prior-knowledge | --http1.1] [-v]
 *      [-L] [-u USER:PASS [--digest]] [--retry N] [-b FILE|'a=1'] [-c FILE]
 *      [-w FORMAT] [-s] [-Z] [-x PROXY] [--noproxy LIST] [--unix-socket PATH] URL...
 *
 *   fh ws [options] URL     a WebSocket client (tools/fh_ws.c)
 *
 * The body is streamed to stdout (or FILE) through a fixed buffer, so any
 * size works in bounded memory. Several URLs are fetched one after the
 * other over one client (connections reused), or all at once with -Z
 * (tools/fh_multi.c). The curl-style options are in tools/fh_curl.c, -v and
 * -w in tools/fh_info.c, the progress meter in tools/fh_progress.c. Errors
 * go to stderr with a non-zero exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fasthttp/cookies.h"
#include "fasthttp/fasthttp.h"
#include "fh.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: fh [-X METHOD] [-H 'Name: value']... [-d DATA | --data-file F] [-i] [-I]\n"
               "          [-o FILE] [--insecure] [--cacert F] [--cert F --key F]\n"
               "          [--timeout SECONDS] [--compressed]\n"
               "          [--http2 | --http2-prior-knowledge | --http1.1] [-v]\n"
               "          [-L [--max-redirs N]] [-u USER:PASS [--digest]] [--retry N]\n"
               "          [-b FILE | -b 'name=value'] [-c FILE] [-w FORMAT] [-s] [-Z]\n"
               "          [-x PROXY] [--noproxy LIST] [--unix-socket PATH] URL...\n"
               "  --http2                  offer HTTP/2 by ALPN (HTTPS), fall back to HTTP/1.1\n"
               "  --http2-prior-knowledge  HTTP/2 only (cleartext without negotiation)\n"
               "  -v                       connection, TLS, request and response heads, timings\n"
               "  -L                       follow redirects (credentials stay with their origin)\n"
               "  -u USER:PASS             Basic credentials (--digest: Digest)\n"
               "  --retry N                retry failed attempts and 408/429/5xx up to N times\n"
               "  -b FILE, -c FILE         read, write cookies (Netscape cookie file)\n"
               "  -w FORMAT                after each transfer: %%{http_code}, %%{time_connect},\n"
               "                           %%{time_total}, %%{size_download}, ... or %%{json}\n"
               "  -s                       no progress meter (shown on a terminal with -o)\n"
               "  -Z                       all URLs at once over one engine\n"
               "  -x, --proxy URL          http://, https://, socks5:// or socks5h:// proxy for\n"
               "                           every URL (\"\" for none); default from http_proxy,\n"
               "                           https_proxy, all_proxy (and HTTPS_PROXY, ALL_PROXY)\n"
               "  --noproxy LIST           hosts reached directly (NO_PROXY syntax)\n"
               "  --unix-socket PATH       connect to a Unix socket (@name: abstract)\n"
               "       fh ws [options] URL  (WebSocket; fh ws --help)\n");
}

static int parse_args(int argc, char **argv, opts *o)
{
    enum { O_DATA_FILE = 256, O_INSECURE, O_CACERT, O_CERT, O_KEY, O_TIMEOUT, O_COMPRESSED,
           O_HTTP2, O_HTTP2_PK, O_HTTP11, O_NOPROXY, O_UDS };
    static const struct option lo[] = {
        {"request", required_argument, 0, 'X'}, {"header", required_argument, 0, 'H'},
        {"data", required_argument, 0, 'd'},    {"data-file", required_argument, 0, O_DATA_FILE},
        {"include", no_argument, 0, 'i'},       {"head", no_argument, 0, 'I'},
        {"output", required_argument, 0, 'o'},  {"insecure", no_argument, 0, O_INSECURE},
        {"cacert", required_argument, 0, O_CACERT}, {"cert", required_argument, 0, O_CERT},
        {"key", required_argument, 0, O_KEY},   {"timeout", required_argument, 0, O_TIMEOUT},
        {"compressed", no_argument, 0, O_COMPRESSED}, {"help", no_argument, 0, 'h'},
        {"http2", no_argument, 0, O_HTTP2}, {"http2-prior-knowledge", no_argument, 0, O_HTTP2_PK},
        {"http1.1", no_argument, 0, O_HTTP11}, {"verbose", no_argument, 0, 'v'},
        {"proxy", required_argument, 0, 'x'}, {"noproxy", required_argument, 0, O_NOPROXY},
        {"unix-socket", required_argument, 0, O_UDS},
        {0, 0, 0, 0}};
    /* This table and fh_curl.c's, as one. */
    enum { NBASE = sizeof lo / sizeof *lo - 1, NCURL = 16 };
    struct option all[NBASE + NCURL + 1];
    memcpy(all, lo, NBASE * sizeof *lo);
    int n = 0;
    while (fh_curl_long_options[n].name && n < NCURL) {
        all[NBASE + n] = fh_curl_long_options[n];
        n++;
    }
    memset(&all[NBASE + n], 0, sizeof *all);
    int c;
    while ((c = getopt_long(argc, argv, "X:H:d:iIo:khvx:" FH_CURL_SHORT, all, NULL)) != -1) {
        int curl = fh_curl_option(c, optarg, o);
        if (curl < 0)
            return -1;
        if (curl)
            continue;
        switch (c) {
        case 'X': o->method = optarg; break;
        case 'H':
            if (o->nheaders == 128)
                return -1;
            o->headers[o->nheaders++] = optarg;
            break;
        case 'd': o->data = optarg; break;
        case O_DATA_FILE: o->data_file = optarg; break;
        case 'i': o->include = 1; break;
        case 'I': o->head = 1; break;
        case 'o': o->out = optarg; break;
        case 'k':
        case O_INSECURE: o->insecure = 1; break;
        case O_CACERT: o->cacert = optarg; break;
        case O_CERT: o->cert = optarg; break;
        case O_KEY: o->key = optarg; break;
        case O_TIMEOUT: o->timeout = strtod(optarg, NULL); break;
        case O_COMPRESSED: o->compressed = 1; break;
        case O_HTTP2: o->http2 = FH_HTTP2_ON; break;
        case O_HTTP2_PK: o->http2 = FH_HTTP2_ONLY; break;
        case O_HTTP11: o->http2 = FH_HTTP2_OFF; break;
        case 'v': o->verbose = 1; break;
        case 'x': o->proxy = optarg; break;
        case O_NOPROXY: o->noproxy = optarg; break;
        case O_UDS: o->uds = optarg; break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (optind == argc || argc - optind > FH_MAX_URLS || (o->data && o->data_file) ||
        (!o->cert != !o->key))
        return -1;
    while (optind < argc)
        o->urls[o->nurls++] = argv[optind++];
    if (!o->method)
        o->method = o->head ? "HEAD" : (o->data || o->data_file) ? "POST" : "GET";
    return 0;
}

/* The --data-file reader: counts what it hands the engine, for the meter. */
typedef struct upload {
    int fd;
    uint64_t sent;
    int64_t size; /* -1 when not a regular file */
    fh_progress *meter;
} upload;

static ssize_t read_file(void *ud, uint8_t *buf, size_t cap)
{
    upload *u = ud;
    ssize_t n;
    do
        n = read(u->fd, buf, cap);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        u->sent += (uint64_t)n;
        fh_progress_upload(u->meter, u->sent, u->size);
    }
    return n < 0 ? -1 : n;
}

int fh_cli_route(fh_client *c, const char *proxy, const char *noproxy, const char *uds);

/* -x, --noproxy and --unix-socket, shared with fh ws (the environment's
 * proxy variables are read by the library, as curl reads them). */
int fh_cli_route(fh_client *c, const char *proxy, const char *noproxy, const char *uds)
{
    char msg[256];
    int rc = FH_OK;
    if (proxy && (rc = fh_client_set_proxy(c, "all", proxy)) == FH_OK && !*proxy) {
        fh_client_set_proxy(c, "http", ""); /* -x "": none, whatever the environment says */
        rc = fh_client_set_proxy(c, "https", "");
    } else if (proxy && rc != FH_OK && fh_proxy_check(proxy, msg, sizeof msg) != FH_OK) {
        fprintf(stderr, "fh: --proxy: %s\n", msg);
    }
    if (!rc && noproxy)
        rc = fh_client_set_no_proxy(c, noproxy);
    if (!rc && uds && (rc = fh_client_set_unix_socket(c, uds)) != FH_OK)
        fprintf(stderr, "fh: --unix-socket: path too long\n");
    return rc;
}

static int configure_client(fh_client *c, const opts *o)
{
    int rc = fh_cli_route(c, o->proxy, o->noproxy, o->uds);
    if (!rc && o->insecure)
        rc = fh_client_set_verify(c, 0);
    /* The setters check the files; the check functions say what is wrong. */
    char msg[512];
    if (!rc && o->cacert && (rc = fh_client_set_ca_file(c, o->cacert)) != FH_OK &&
        fh_ca_check(o->cacert, msg, sizeof msg) != FH_OK)
        fprintf(stderr, "fh: --cacert: %s\n", msg);
    if (!rc && o->cert && (rc = fh_client_set_client_cert(c, o->cert, o->key)) != FH_OK &&
        fh_cert_check(o->cert, o->key, msg, sizeof msg) != FH_OK)
        fprintf(stderr, "fh: --cert: %s\n", msg);
    if (!rc && o->timeout > 0)
        rc = fh_client_set_timeout(c, FH_TIMEOUT_TOTAL, (int64_t)(o->timeout * 1000));
    /* Like curl: no Accept-Encoding and no decoding unless --compressed. */
    if (!rc)
        rc = fh_client_set_decode(c, o->compressed);
    if (!rc)
        rc = fh_client_set_http2(c, (fh_http2_mode)o->http2);
    return rc;
}

static int add_headers(fh_request *r, const opts *o)
{
    for (int i = 0; i < o->nheaders; i++) {
        const char *h = o->headers[i];
        const char *colon = strchr(h, ':');
        if (!colon) {
            fprintf(stderr, "fh: header '%s' has no colon\n", h);
            return FH_EHEADER;
        }
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        int rc = fh_request_add_header_n(r, h, (size_t)(colon - h), v, strlen(v));
        if (rc) {
            fprintf(stderr, "fh: %s\n", fh_request_error_message(r));
            return rc;
        }
    }
    return FH_OK;
}

static int set_body(fh_request *r, const opts *o, upload *u)
{
    if (o->data)
        return fh_request_set_body(r, o->data, strlen(o->data), 0);
    if (!o->data_file)
        return FH_OK;
    struct stat st;
    u->fd = open(o->data_file, O_RDONLY | O_CLOEXEC);
    if (u->fd < 0 || fstat(u->fd, &st) < 0) {
        fprintf(stderr, "fh: cannot read %s: %s\n", o->data_file, strerror(errno));
        return FH_EINVAL;
    }
    u->size = S_ISREG(st.st_mode) ? st.st_size : -1;
    return fh_request_set_body_reader(r, read_file, u, u->size);
}

int fh_request_setup(fh_request *r, const opts *o)
{
    int rc = add_headers(r, o);
    /* -b 'a=1; b=2' is a Cookie field, as in curl (a file name has no '='). */
    if (!rc && o->cookie_in && strchr(o->cookie_in, '='))
        rc = fh_request_add_header(r, "Cookie", o->cookie_in);
    if (!rc && o->data)
        rc = fh_request_set_body(r, o->data, strlen(o->data), 0);
    if (!rc)
        rc = fh_curl_request(r, o);
    return rc;
}

static void print_head(fh_response *resp, FILE *f)
{
    size_t rlen;
    const char *reason = fh_response_reason(resp, &rlen);
    int v = fh_response_version(resp);
    if (v == 20) /* RFC 9113 §8.3.2: no reason phrase, no minor version */
        fprintf(f, "HTTP/2 %d\r\n", fh_response_status(resp));
    else
        fprintf(f, "HTTP/%d.%d %d %.*s\r\n", v / 10, v % 10, fh_response_status(resp),
                (int)rlen, reason);
    fh_header h;
    for (size_t i = 0; fh_response_header_at(resp, i, &h) == FH_OK; i++)
        fprintf(f, "%.*s: %.*s\r\n", (int)h.name_len, h.name, (int)h.value_len, h.value);
    fprintf(f, "\r\n");
}

static int write_body(fh_response *resp, fh_request *req, FILE *f, fh_progress *meter,
                      uint64_t *got)
{
    static uint8_t buf[65536];
    /* The meter's total: the announced length, unless the body is encoded
     * (it may be decoded here, and then the length says nothing). */
    const char *cl = fh_response_header(resp, "Content-Length", NULL);
    int64_t total = cl && !fh_response_header(resp, "Content-Encoding", NULL)
                        ? strtoll(cl, NULL, 10) : -1;
    for (;;) {
        ssize_t n = fh_response_read(resp, buf, sizeof buf);
        if (n == 0)
            return 0;
        if (n < 0) {
            fprintf(stderr, "fh: %s: %s\n", fh_strerror((int)n), fh_request_error_message(req));
            return 1;
        }
        if (fwrite(buf, 1, (size_t)n, f) != (size_t)n) {
            fprintf(stderr, "fh: write failed: %s\n", strerror(errno));
            return 1;
        }
        *got += (uint64_t)n;
        fh_progress_download(meter, *got, total);
    }
}

/* The upload's meter is redrawn while the engine waits for the socket. */
static int on_wait(void *ud)
{
    upload *u = ud;
    fh_progress_upload(u->meter, u->sent, u->size);
    return 0;
}

static int run(const opts *o, fh_client *c, const char *url, FILE *out)
{
    int rc, status = 1;
    upload up = {.fd = -1, .size = -1};
    uint64_t got = 0;
    fh_request *req = fh_request_new(o->method, url, &rc);
    if (!req) {
        char shown[512], why[128] = "";
        fh_url_redact(url, strlen(url), shown, sizeof shown);
        if (rc == FH_EURL || rc == FH_EUNSUPPORTED)
            fh_url_check(url, why, sizeof why);
        fprintf(stderr, "fh: %s: %s%s%s\n", fh_strerror(rc), shown, *why ? ": " : "", why);
        return 2;
    }
    fh_response *resp = NULL;
    /* The meter only when the body goes to a file (curl shows none when it
     * writes to the terminal), and for uploads. */
    fh_progress *meter = o->out || o->data_file ? fh_progress_new(o) : NULL;
    up.meter = meter;
    if (fh_request_setup(req, o) || set_body(req, o, &up) || fh_request_set_stream(req, 1))
        goto done;
    fh_wait_hooks hooks;
    fh_wait_hooks_init(&hooks);
    if (meter && o->data_file) {
        hooks.on_wait = on_wait;
        hooks.interval_ms = 200;
        hooks.ud = &up;
    }
    rc = fh_client_send_with(c, req, &hooks, &resp);
    if (rc) {
        fprintf(stderr, "fh: %s: %s\n", fh_strerror(rc), fh_request_error_message(req));
        goto done;
    }
    if (o->verbose)
        fh_info_verbose(stderr, resp);
    if (o->include || o->head)
        print_head(resp, out);
    status = o->head ? 0 : write_body(resp, req, out, meter, &got);
    if (o->verbose)
        fh_info_verbose_timings(stderr, resp);
done:
    fh_progress_end(meter);
    if (o->write_out)
        fh_info_write_out(stdout, o->write_out, resp, got, up.sent);
    fh_response_free(resp);
    fh_request_free(req);
    if (up.fd >= 0)
        close(up.fd);
    return status;
}

int fh_ws_main(int argc, char **argv); /* fh_ws.c */

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "ws") == 0)
        return fh_ws_main(argc - 1, argv + 1);
    opts o = {.max_redirs = -1};
    if (parse_args(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    fh_client *c = fh_client_new();
    fh_cookie_jar *jar = NULL;
    if (!c || configure_client(c, &o) || fh_curl_configure(c, &o, &jar)) {
        fprintf(stderr, "fh: cannot set up the client\n");
        fh_client_free(c);
        fh_cookie_jar_free(jar);
        return 2;
    }
    FILE *out = stdout;
    if (o.out && !(out = fopen(o.out, "wb"))) {
        fprintf(stderr, "fh: cannot open %s: %s\n", o.out, strerror(errno));
        fh_client_free(c);
        fh_cookie_jar_free(jar);
        return 2;
    }
    int status = 0;
    if (o.parallel && o.nurls > 1)
        status = fh_multi_run(&o, c, out);
    else /* one after the other over one client: connections are reused */
        for (int i = 0; i < o.nurls; i++) {
            int s = run(&o, c, o.urls[i], out);
            status = s > status ? s : status;
        }
    if (out != stdout && fclose(out) != 0 && !status) {
        fprintf(stderr, "fh: cannot write %s\n", o.out);
        status = 1;
    }
    fh_client_free(c);
    if (fh_curl_save_cookies(&o, jar) && !status)
        status = 1;
    fh_cookie_jar_free(jar);
    return status;
}
