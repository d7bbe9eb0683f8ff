/*
 * fh_multi.c — fh -Z URL...: every URL at once over one engine (one poll
 * loop, one pool: requests to one origin share its connections, HTTP/2
 * ones as streams of one connection). Bodies are buffered and written in
 * the order the URLs were given, so the output does not depend on which
 * finished first; -w is written after each body. The exit status is 1 when
 * any transfer failed.
 */
#include <stdlib.h>
#include <string.h>

#include "fasthttp/engine.h"
#include "fh.h"

typedef struct slot {
    fh_request *req;
    fh_response *resp;
    int status, done;
} slot;

static void on_done(void *ud, fh_request *req, int status, fh_response *resp)
{
    slot *s = ud;
    s->status = status;
    s->resp = resp;
    s->done = 1;
}

static int report(const opts *o, slot *s, FILE *out)
{
    if (s->status) {
        fprintf(stderr, "fh: %s: %s\n", fh_strerror(s->status), fh_request_error_message(s->req));
        return 1;
    }
    size_t len = 0;
    const uint8_t *body = fh_response_body(s->resp, &len);
    if (o->verbose)
        fh_info_verbose(stderr, s->resp);
    if (!o->head && len && fwrite(body, 1, len, out) != len)
        return 1;
    if (o->write_out)
        fh_info_write_out(stdout, o->write_out, s->resp, len, 0);
    return 0;
}

int fh_multi_run(const opts *o, fh_client *c, FILE *out)
{
    slot *slots = calloc((size_t)o->nurls, sizeof *slots);
    fh_engine *e = fh_engine_new(c, NULL, NULL);
    int failed = 0;
    if (!slots || !e) {
        fprintf(stderr, "fh: out of memory\n");
        free(slots);
        fh_engine_free(e);
        return 1;
    }
    const fh_callbacks cb = {.on_done = on_done};
    for (int i = 0; i < o->nurls; i++) {
        int rc;
        slot *s = &slots[i];
        s->req = fh_request_new(o->method, o->urls[i], &rc);
        if (s->req && (rc = fh_request_setup(s->req, o)) == FH_OK)
            rc = fh_engine_submit(e, s->req, &cb, s);
        if (rc) {
            s->status = rc;
            s->done = 1;
            if (!s->req)
                fprintf(stderr, "fh: %s: %s\n", fh_strerror(rc), o->urls[i]);
        }
    }
    while (fh_engine_pending(e) > 0)
        if (fh_engine_poll(e, -1) < 0)
            break;
    for (int i = 0; i < o->nurls; i++) {
        slot *s = &slots[i];
        if (s->req)
            failed |= report(o, s, out);
        else
            failed = 1;
        fh_response_free(s->resp);
        fh_request_free(s->req);
    }
    fh_engine_free(e);
    free(slots);
    return failed;
}
