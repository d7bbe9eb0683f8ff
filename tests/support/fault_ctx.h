/*
 * fault_ctx.h — the per-test context of the fault tests (test_faults*.c):
 * one scripted peer, one client, and an fd-leak check in the teardown.
 */
#ifndef FH_TEST_FAULT_CTX_H
#define FH_TEST_FAULT_CTX_H

#include <stdio.h>
#include <stdlib.h>

#include "fasthttp/fasthttp.h"
#include "support/fixtures.h"
#include "support/peer.h"

#ifndef OK_RESP
#define OK_RESP "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
#endif

typedef struct tctx {
    int fds;
    fh_peer *peer;
    fh_client *client;
} tctx;

static inline int setup(void **state)
{
    tctx *t = calloc(1, sizeof *t);
    t->fds = fh_test_count_fds();
    *state = t;
    return 0;
}

static inline int teardown(void **state)
{
    tctx *t = *state;
    fh_client_free(t->client);
    fh_peer_stop(t->peer);
    int before = t->fds, after = fh_test_count_fds();
    free(t);
    if (after != before)
        fprintf(stderr, "fd leak: %d open before the test, %d after\n", before, after);
    return after == before ? 0 : -1;
}

/* A client with generous timeouts, so a bug shows as an error, not a hang. */
static inline fh_client *client(tctx *t)
{
    t->client = fh_client_new();
    assert_non_null(t->client);
    fh_client_set_timeout(t->client, FH_TIMEOUT_CONNECT, 10000);
    fh_client_set_timeout(t->client, FH_TIMEOUT_READ, 10000);
    return t->client;
}

static inline fh_peer *peer(tctx *t, const fh_peer_step *const *scripts, size_t n)
{
    t->peer = fh_peer_start(scripts, n);
    assert_non_null(t->peer);
    return t->peer;
}

static inline char *url(tctx *t, const char *path)
{
    static char buf[128];
    return fh_peer_url(t->peer, path, buf, sizeof buf);
}

static const fh_peer_step answer_ok[] __attribute__((unused)) = {PEER_READ, PEER_SEND(OK_RESP), PEER_END};

#endif
