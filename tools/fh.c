/*
 * fh — a small command-line HTTP client over libfasthttp.
 *
 *   fh [-X METHOD] [-H 'Name: value']... [-d DATA | --data-file F] [-i] [-I]
 *      [-o FILE] [--insecure] [--cacert F] [--cert F --key F] [--timeout S]
 *      [--compressed] [--http2 | --http2-prior-knowledge | --http1.1]
 *      [-x PROXY] [--noproxy LIST] [--unix-socket PATH] [-v] URL
 *
 *   fh ws [options] URL     a WebSocket client (tools/fh_ws.c)
 *
 * The body is streamed to stdout (or FILE) through a fixed buffer, so any
 * size works in bounded memory. Errors go to stderr with a non-zero exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fasthttp/fasthttp.h"

typedef struct opts {
    const char *method, *url, *data, *data_file, *out, *cacert, *cert, *key;
    const char *proxy, *noproxy, *uds;
    const char *headers[128];
    int nheaders, include, head, insecure, compressed, http2, verbose;
    double timeout;
} opts;

static void usage(FILE *f)
{
    fprintf(f, "usage: fh [-X METHOD] [-H 'Name: value']... [-d DATA | --data-file F] [-i] [-I]\n"
               "          [-o FILE] [--insecure] [--cacert F] [--cert F --key F]\n"
               "          [--timeout SECONDS] [--compressed]\n"
               "          [--http2 | --http2-prior-knowledge | --http1.1]\n"
               "          [-x PROXY] [--noproxy LIST] [--unix-socket PATH] [-v] URL\n"
               "  --http2                  offer HTTP/2 by ALPN (HTTPS), fall back to HTTP/1.1\n"
               "  --http2-prior-knowledge  HTTP/2 only (cleartext without negotiation)\n"
               "  -x, --proxy URL          http://, https://, socks5:// or socks5h:// proxy for\n"
               "                           every URL (\"\" for none); default from http_proxy,\n"
               "                           https_proxy, all_proxy (and HTTPS_PROXY, ALL_PROXY)\n"
               "  --noproxy LIST           hosts reached directly (NO_PROXY syntax)\n"
               "  --unix-socket PATH       connect to a Unix socket (@name: abstract)\n"
               "  -v                       the protocol and the response head on stderr\n"
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
    int c;
    while ((c = getopt_long(argc, argv, "X:H:d:iIo:khvx:", lo, NULL)) != -1) {
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
    if (optind != argc - 1 || (o->data && o->data_file) || (!o->cert != !o->key))
        return -1;
    o->url = argv[optind];
    if (!o->method)
        o->method = o->head ? "HEAD" : (o->data || o->data_file) ? "POST" : "GET";
    return 0;
}

static ssize_t read_file(void *ud, uint8_t *buf, size_t cap)
{
    ssize_t n;
    do
        n = read(*(int *)ud, buf, cap);
    while (n < 0 && errno == EINTR);
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

static int set_body(fh_request *r, const opts *o, int *fd)
{
    if (o->data)
        return fh_request_set_body(r, o->data, strlen(o->data), 0);
    if (!o->data_file)
        return FH_OK;
    struct stat st;
    *fd = open(o->data_file, O_RDONLY | O_CLOEXEC);
    if (*fd < 0 || fstat(*fd, &st) < 0) {
        fprintf(stderr, "fh: cannot read %s: %s\n", o->data_file, strerror(errno));
        return FH_EINVAL;
    }
    return fh_request_set_body_reader(r, read_file, fd, S_ISREG(st.st_mode) ? st.st_size : -1);
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

static int write_body(fh_response *resp, fh_request *req, FILE *f)
{
    static uint8_t buf[65536];
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
    }
}

static int run(const opts *o, fh_client *c, FILE *out)
{
    int rc, fd = -1, status = 1;
    fh_request *req = fh_request_new(o->method, o->url, &rc);
    if (!req) {
        char shown[512], why[128] = "";
        fh_url_redact(o->url, strlen(o->url), shown, sizeof shown);
        if (rc == FH_EURL || rc == FH_EUNSUPPORTED)
            fh_url_check(o->url, why, sizeof why);
        fprintf(stderr, "fh: %s: %s%s%s\n", fh_strerror(rc), shown, *why ? ": " : "", why);
        return 2;
    }
    fh_response *resp = NULL;
    if (add_headers(req, o) || set_body(req, o, &fd) || fh_request_set_stream(req, 1))
        goto done;
    rc = fh_client_send(c, req, &resp);
    if (rc) {
        fprintf(stderr, "fh: %s: %s\n", fh_strerror(rc), fh_request_error_message(req));
        goto done;
    }
    if (o->verbose)
        print_head(resp, stderr);
    if (o->include || o->head)
        print_head(resp, out);
    status = o->head ? 0 : write_body(resp, req, out);
done:
    fh_response_free(resp);
    fh_request_free(req);
    if (fd >= 0)
        close(fd);
    return status;
}

int fh_ws_main(int argc, char **argv); /* fh_ws.c */

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "ws") == 0)
        return fh_ws_main(argc - 1, argv + 1);
    opts o = {0};
    if (parse_args(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    fh_client *c = fh_client_new();
    if (!c || configure_client(c, &o)) {
        fprintf(stderr, "fh: cannot set up the client\n");
        fh_client_free(c);
        return 2;
    }
    FILE *out = stdout;
    if (o.out && !(out = fopen(o.out, "wb"))) {
        fprintf(stderr, "fh: cannot open %s: %s\n", o.out, strerror(errno));
        fh_client_free(c);
        return 2;
    }
    int status = run(&o, c, out);
    if (out != stdout && fclose(out) != 0 && !status) {
        fprintf(stderr, "fh: cannot write %s\n", o.out);
        status = 1;
    }
    fh_client_free(c);
    return status;
}
