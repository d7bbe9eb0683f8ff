/*
 * fh_count.c — fh-count: a fixed number of requests with a fixed number in
 * flight on one engine (the built-in loop on its epoll backend), for
 * counting instructions per request with callgrind, which noise on a shared
 * machine cannot move:
 *
 *   valgrind --tool=callgrind fh-count URL N IN_FLIGHT [CONNS] [--http2] [--fresh]
 *
 * --fresh sends Connection: close: every request opens its own connection
 * (over TLS the handshake resumes the origin's session after the first).
 *
 * The first request goes alone (over TLS, so that every later connection
 * resumes its session the same way in every run), then IN_FLIGHT at once.
 * Run it twice with different N: (instructions(N2) - instructions(N1)) /
 * (N2 - N1) is the cost of one request, set-up excluded
 * (scripts/bench-count.sh does that). It prints what it did and how many
 * requests failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fasthttp/fasthttp.h"

static int done, submitted, total, failed;
static fh_engine *engine;

static void on_done(void *ud, fh_request *req, int status, fh_response *resp);
static const fh_callbacks callbacks = {on_done, NULL};

static void on_done(void *ud, fh_request *req, int status, fh_response *resp)
{
    (void)ud;
    if (status != FH_OK || fh_response_status(resp) != 200) {
        if (!failed)
            fprintf(stderr, "fh-count: %s\n",
                    status ? fh_request_error_message(req) : "status not 200");
        failed++;
    }
    fh_response_free(resp);
    done++;
    if (submitted < total) { /* the request object is free again: send it once more */
        submitted++;
        fh_engine_submit(engine, req, &callbacks, NULL);
    }
}

int main(int argc, char **argv)
{
    int http2 = 0, fresh = 0;
    while (argc > 1 && strncmp(argv[argc - 1], "--", 2) == 0) {
        if (strcmp(argv[argc - 1], "--http2") == 0)
            http2 = 1;
        else if (strcmp(argv[argc - 1], "--fresh") == 0)
            fresh = 1;
        else
            break;
        argc--;
    }
    if (argc < 4) {
        fprintf(stderr, "usage: fh-count URL N IN_FLIGHT [CONNS] [--http2] [--fresh]\n");
        return 2;
    }
    total = atoi(argv[2]);
    int k = atoi(argv[3]), conns = argc > 4 ? atoi(argv[4]) : k;
    if (total < 1 || k < 1 || conns < 1 || k > total) {
        fprintf(stderr, "fh-count: N >= IN_FLIGHT >= 1 and CONNS >= 1\n");
        return 2;
    }
    fh_client *c = fh_client_new();
    fh_client_set_pool_limits(c, conns, conns, conns, 60000);
    if (http2) /* cleartext URLs by prior knowledge */
        fh_client_set_http2(c, strncmp(argv[1], "https:", 6) ? FH_HTTP2_ONLY : FH_HTTP2_ON);
    engine = fh_engine_new(c, NULL, NULL);
    if (!engine || fh_engine_backend_fd(engine) < 0) {
        fprintf(stderr, "fh-count: cannot set up the engine\n");
        return 1;
    }
    fh_request **reqs = calloc((size_t)k, sizeof *reqs);
    for (int i = 0; i < k; i++) {
        int err = 0;
        if (!(reqs[i] = fh_request_new("GET", argv[1], &err))) {
            fprintf(stderr, "fh-count: %s\n", fh_strerror(err));
            return 1;
        }
        if (fresh)
            fh_request_add_header(reqs[i], "Connection", "close");
    }
    /* One request alone first: over TLS it brings the origin's session
     * ticket, so every later connection resumes. Without it, how many of
     * the IN_FLIGHT handshakes resume depends on whether they start before
     * the first one ends, and two runs of different N could differ by
     * dozens of full handshakes (up to six times the per-request count). */
    int want = total;
    total = 1; /* on_done submits nothing more */
    submitted = 1;
    fh_engine_submit(engine, reqs[0], &callbacks, NULL);
    while (done < 1)
        if (fh_engine_poll(engine, 1000) < 0)
            break;
    total = want;
    for (int i = 0; i < k && submitted < total; i++) {
        submitted++;
        fh_engine_submit(engine, reqs[i], &callbacks, NULL);
    }
    while (done < total)
        if (fh_engine_poll(engine, 1000) < 0)
            break;
    fh_pool_stats st;
    fh_client_pool_stats(c, &st);
    printf("fh-count: %d requests, %d in flight, %d connections%s: %d failed; %llu connections "
           "opened, %llu TLS sessions resumed\n", done, k, conns, http2 ? ", HTTP/2" : "", failed,
           (unsigned long long)st.created, (unsigned long long)st.tls_resumed);
    fh_engine_free(engine);
    for (int i = 0; i < k; i++)
        fh_request_free(reqs[i]);
    free(reqs);
    fh_client_free(c);
    return failed ? 1 : 0;
}
