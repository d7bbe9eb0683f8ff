/*
 * fh ws — a WebSocket client for the terminal (and a probe for tests):
 *
 *   fh ws [-H 'Name: value']... [--subprotocol P]... [--compressed] [--echo | --no-input]
 *         [-o FILE] [--insecure] [--cacert F] [--timeout S] [--max-message N] URL
 *
 * Each line of standard input is sent as a text message; each message
 * received is printed on its own line (binary ones in hex, or appended raw
 * to FILE with -o). At the end of standard input the WebSocket is closed
 * with 1000. --echo sends every message back instead (the Autobahn
 * testsuite's client role); --no-input only prints what arrives until the
 * server closes. The exit status comes from the close code (the server's, or
 * the one we failed the connection with when it broke the protocol):
 * 0 for 1000 (or a close without a code), 10 + (code - 1000) for 1001-1015
 * (1002 → 12, 1006 → 16, 1009 → 19), 9 for application codes 3000-4999,
 * 1 when the connection could not be opened, 2 for usage errors.
 *
 * It runs the engine's built-in loop embedded in poll(2) with standard
 * input: the engine's backend fd plus stdin, so keepalive and the close
 * timeout run while it waits for input.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fasthttp/fasthttp.h"

typedef struct wsopts {
    const char *url, *out, *cacert, *headers[128], *protos[16];
    const char *proxy, *noproxy, *uds;
    int nheaders, nprotos, compressed, echo, insecure, no_input;
    double timeout;
    long long max_message;
} wsopts;

typedef struct wsrun {
    fh_ws *ws;
    FILE *out;
    int opened, done, echo_mode, no_input;
} wsrun;

static void ws_usage(FILE *f)
{
    fprintf(f, "usage: fh ws [-H 'Name: value']... [--subprotocol P]... [--compressed]\n"
               "             [--echo | --no-input]\n"
               "             [-o FILE] [--insecure] [--cacert F] [--timeout S]\n"
               "             [--max-message BYTES] [-x PROXY] [--noproxy LIST]\n"
               "             [--unix-socket PATH] URL\n"
               "  lines of stdin are sent as text messages; messages received are printed\n"
               "  (binary in hex, or raw to FILE with -o); exit status from the close code\n");
}

static int ws_args(int argc, char **argv, wsopts *o)
{
    enum { O_PROTO = 256, O_COMPRESSED, O_ECHO, O_INSECURE, O_CACERT, O_TIMEOUT, O_MAXMSG,
           O_NO_INPUT, O_NOPROXY, O_UDS };
    static const struct option lo[] = {
        {"header", required_argument, 0, 'H'},   {"subprotocol", required_argument, 0, O_PROTO},
        {"compressed", no_argument, 0, O_COMPRESSED}, {"echo", no_argument, 0, O_ECHO},
        {"output", required_argument, 0, 'o'},   {"insecure", no_argument, 0, O_INSECURE},
        {"cacert", required_argument, 0, O_CACERT}, {"timeout", required_argument, 0, O_TIMEOUT},
        {"max-message", required_argument, 0, O_MAXMSG}, {"help", no_argument, 0, 'h'},
        {"no-input", no_argument, 0, O_NO_INPUT},
        {"proxy", required_argument, 0, 'x'}, {"noproxy", required_argument, 0, O_NOPROXY},
        {"unix-socket", required_argument, 0, O_UDS},
        {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "H:o:khx:", lo, NULL)) != -1) {
        switch (c) {
        case 'H':
            if (o->nheaders == 128)
                return -1;
            o->headers[o->nheaders++] = optarg;
            break;
        case O_PROTO:
            if (o->nprotos == 16)
                return -1;
            o->protos[o->nprotos++] = optarg;
            break;
        case O_COMPRESSED: o->compressed = 1; break;
        case O_ECHO: o->echo = 1; break;
        case 'o': o->out = optarg; break;
        case 'k':
        case O_INSECURE: o->insecure = 1; break;
        case O_CACERT: o->cacert = optarg; break;
        case O_TIMEOUT: o->timeout = strtod(optarg, NULL); break;
        case O_MAXMSG: o->max_message = strtoll(optarg, NULL, 10); break;
        case O_NO_INPUT: o->no_input = 1; break;
        case 'x': o->proxy = optarg; break;
        case O_NOPROXY: o->noproxy = optarg; break;
        case O_UDS: o->uds = optarg; break;
        case 'h': ws_usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (optind != argc - 1)
        return -1;
    o->url = argv[optind];
    return 0;
}

int fh_cli_route(fh_client *c, const char *proxy, const char *noproxy, const char *uds);

static int setup(fh_client *c, fh_ws *ws, const wsopts *o)
{
    int rc = fh_cli_route(c, o->proxy, o->noproxy, o->uds);
    if (!rc && o->insecure)
        rc = fh_client_set_verify(c, 0);
    if (!rc && o->cacert)
        rc = fh_client_set_ca_file(c, o->cacert);
    if (!rc && o->timeout > 0)
        rc = fh_client_set_timeout(c, FH_TIMEOUT_CONNECT, (int64_t)(o->timeout * 1000));
    for (int i = 0; !rc && i < o->nheaders; i++) {
        const char *h = o->headers[i], *colon = strchr(h, ':');
        if (!colon) {
            fprintf(stderr, "fh: header '%s' has no colon\n", h);
            return FH_EINVAL;
        }
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        rc = fh_request_add_header_n(fh_ws_request(ws), h, (size_t)(colon - h), v, strlen(v));
    }
    for (int i = 0; !rc && i < o->nprotos; i++)
        rc = fh_ws_add_subprotocol(ws, o->protos[i]);
    if (!rc)
        rc = fh_ws_set_extensions(ws, o->compressed ? NULL : "");
    if (!rc && o->max_message > 0)
        rc = fh_ws_set_option(ws, FH_WS_MAX_MESSAGE, o->max_message);
    return rc;
}

static void print_message(wsrun *r, int type, const uint8_t *d, size_t n)
{
    if (type == FH_WS_TEXT) {
        fwrite(d, 1, n, stdout);
        fputc('\n', stdout);
    } else if (r->out) {
        fwrite(d, 1, n, r->out);
    } else {
        for (size_t i = 0; i < n; i++)
            printf("%02x", d[i]);
        fputc('\n', stdout);
    }
    fflush(stdout);
}

static void on_event(void *ud, fh_ws *ws, int events)
{
    wsrun *r = ud;
    if (events & FH_WS_EV_OPEN)
        r->opened = 1;
    int type;
    const uint8_t *d;
    size_t n;
    while (fh_ws_recv(ws, &type, &d, &n) == FH_OK) {
        if (r->echo_mode)
            fh_ws_send(ws, type, d, n, 1);
        else
            print_message(r, type, d, n);
    }
    if (fh_ws_state(ws) == FH_WS_CLOSED)
        r->done = 1;
}

/* Sends the complete lines in buf[0..*len) as text messages. */
static void send_lines(wsrun *r, char *buf, size_t *len, int eof)
{
    size_t start = 0;
    for (size_t i = 0; i < *len; i++) {
        if (buf[i] != '\n')
            continue;
        size_t end = i > start && buf[i - 1] == '\r' ? i - 1 : i;
        fh_ws_send(r->ws, FH_WS_TEXT, buf + start, end - start, 1);
        start = i + 1;
    }
    if (eof && start < *len) {
        fh_ws_send(r->ws, FH_WS_TEXT, buf + start, *len - start, 1);
        start = *len;
    }
    memmove(buf, buf + start, *len - start);
    *len -= start;
}

/* The handshake succeeded (whatever happened next). */
static int opened(const fh_ws *ws)
{
    const fh_response *resp = fh_ws_handshake_response(ws);
    return resp && fh_response_status(resp) == 101 && fh_ws_status(ws) != FH_EWS_HANDSHAKE;
}

static int exit_status(fh_ws *ws)
{
    /* A peer that broke the protocol: the code we failed it with. */
    int code = fh_ws_status(ws) == FH_EWS_PROTO ? fh_ws_close_code_sent(ws)
                                                 : fh_ws_close_code(ws);
    if (code == 1000 || code == 1005)
        return 0;
    if (code > 1000 && code <= 1015)
        return 10 + code - 1000;
    return code >= 3000 && code <= 4999 ? 9 : 16;
}

/* poll(2) over stdin and the engine's backend fd until the WebSocket ends. */
static int loop(wsrun *r, fh_engine *e)
{
    int efd = fh_engine_backend_fd(e);
    if (efd < 0)
        return 1;
    char line[65536];
    size_t have = 0;
    int in_open = !r->echo_mode && !r->no_input;
    while (!r->done) {
        struct pollfd p[2] = {{efd, POLLIN, 0}, {0, POLLIN, 0}};
        int n = in_open && r->opened && fh_ws_state(r->ws) == FH_WS_OPEN ? 2 : 1;
        int64_t t = fh_engine_timeout(e);
        if (poll(p, (nfds_t)n, t < 0 || t > 1000 ? 1000 : (int)t) < 0 && errno != EINTR)
            return 1;
        if (n == 2 && (p[1].revents & (POLLIN | POLLHUP))) {
            ssize_t k = read(0, line + have, sizeof line - have);
            if (k > 0) {
                have += (size_t)k;
                send_lines(r, line, &have, have == sizeof line);
            } else if (k == 0 || errno != EINTR) {
                send_lines(r, line, &have, 1);
                in_open = 0;
                fh_ws_close(r->ws, 1000, NULL, 0); /* end of input: close (§7.1.2) */
            }
        }
        fh_engine_poll(e, 0);
    }
    return 0;
}

int fh_ws_main(int argc, char **argv);
int fh_ws_main(int argc, char **argv)
{
    wsopts o = {0};
    if (ws_args(argc, argv, &o) < 0) {
        ws_usage(stderr);
        return 2;
    }
    int err = 0, status = 1;
    fh_client *c = fh_client_new();
    fh_ws *ws = c ? fh_ws_new(c, o.url, &err) : NULL;
    if (!ws) {
        fprintf(stderr, "fh: %s: %s\n", o.url, fh_strerror(err ? err : FH_ENOMEM));
        fh_client_free(c);
        return 2;
    }
    wsrun r = {ws, NULL, 0, 0, o.echo, o.no_input};
    fh_engine *e = NULL;
    if (setup(c, ws, &o) != FH_OK) {
        fprintf(stderr, "fh: %s\n", fh_ws_error_message(ws)[0] ? fh_ws_error_message(ws)
                                                               : "invalid option");
        status = 2;
    } else if (o.out && !(r.out = fopen(o.out, "wb"))) {
        fprintf(stderr, "fh: cannot open %s: %s\n", o.out, strerror(errno));
        status = 2;
    } else if (!(e = fh_engine_new(c, NULL, NULL)) || fh_ws_start(ws, e, on_event, &r) != FH_OK ||
               loop(&r, e) != 0) {
        fprintf(stderr, "fh: %s\n", fh_ws_error_message(ws));
    } else if (!opened(ws)) {
        fprintf(stderr, "fh: %s\n", fh_ws_error_message(ws));
    } else {
        if (fh_ws_status(ws) != FH_OK)
            fprintf(stderr, "fh: %s\n", fh_ws_error_message(ws));
        status = exit_status(ws);
    }
    if (r.out)
        fclose(r.out);
    fh_ws_free(ws);
    fh_engine_free(e);
    fh_client_free(c);
    return status;
}
