/*
 * libuv_loop.c — a libuv adapter for the libfasthttp engine, and a small
 * program that uses it.
 *
 * The adapter is the fh_loop_ops pair: watch() keeps one uv_poll_t per
 * descriptor the engine asks for, timer() one uv_timer_t; their callbacks
 * report back with fh_engine_socket_action(). It is what any libuv program
 * (or binding built on libuv) needs to run fasthttp requests on its loop.
 *
 *   fh_libuv_example [-t MS] URL [URL...]
 *       fetches all URLs concurrently on a libuv loop and prints
 *       "<status> <body bytes> <url>" per URL (bodies streamed, read in
 *       on_body); -t sets the total timeout per request (default 30000 ms).
 */
/* uv.h uses POSIX types (pthread_rwlock_t) that strict -std=c11 hides
 * without this. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "fasthttp/fasthttp.h"

/* ---- the adapter ------------------------------------------------------------ */

typedef struct fh_uv {
    uv_loop_t *loop;
    fh_engine *engine;
    uv_timer_t timer;
    uv_poll_t **polls; /* by fd */
    int npolls;
} fh_uv;

static void on_poll(uv_poll_t *h, int status, int events)
{
    fh_uv *a = h->data;
    int fd;
    uv_fileno((uv_handle_t *)h, &fd);
    int ev = ((events & UV_READABLE) ? FH_WATCH_READ : 0) |
             ((events & UV_WRITABLE) ? FH_WATCH_WRITE : 0) | (status < 0 ? FH_WATCH_ERROR : 0);
    fh_engine_socket_action(a->engine, fd, ev);
}

static void on_timer(uv_timer_t *t)
{
    fh_uv *a = t->data;
    fh_engine_socket_action(a->engine, FH_SOCKET_TIMEOUT, 0);
}

static void free_handle(uv_handle_t *h)
{
    free(h);
}

/* fh_loop_ops.watch. events == 0: stop at once (uv_poll_stop removes the fd
 * from the kernel's set now), because the engine may close the fd next. */
static int uv_watch(void *ud, int fd, int events)
{
    fh_uv *a = ud;
    if (fd >= a->npolls) {
        if (!events)
            return 0;
        int n = a->npolls ? a->npolls : 64;
        while (n <= fd)
            n *= 2;
        uv_poll_t **p = realloc(a->polls, (size_t)n * sizeof *p);
        if (!p)
            return -1;
        memset(p + a->npolls, 0, (size_t)(n - a->npolls) * sizeof *p);
        a->polls = p;
        a->npolls = n;
    }
    uv_poll_t *h = a->polls[fd];
    if (!events) {
        if (h) {
            uv_poll_stop(h);
            uv_close((uv_handle_t *)h, free_handle);
            a->polls[fd] = NULL;
        }
        return 0;
    }
    if (!h) {
        if (!(h = malloc(sizeof *h)) || uv_poll_init_socket(a->loop, h, fd) != 0) {
            free(h);
            return -1;
        }
        h->data = a;
        a->polls[fd] = h;
    }
    int flags = ((events & FH_WATCH_READ) ? UV_READABLE : 0) |
                ((events & FH_WATCH_WRITE) ? UV_WRITABLE : 0);
    return uv_poll_start(h, flags, on_poll) == 0 ? 0 : -1;
}

/* fh_loop_ops.timer: one-shot; ms < 0 disarms. */
static int uv_timer(void *ud, int64_t ms)
{
    fh_uv *a = ud;
    if (ms < 0)
        return uv_timer_stop(&a->timer) == 0 ? 0 : -1;
    return uv_timer_start(&a->timer, on_timer, (uint64_t)ms, 0) == 0 ? 0 : -1;
}

static fh_engine *fh_uv_engine_new(fh_uv *a, uv_loop_t *loop, fh_client *client)
{
    static const fh_loop_ops ops = {uv_watch, uv_timer};
    memset(a, 0, sizeof *a);
    a->loop = loop;
    uv_timer_init(loop, &a->timer);
    a->timer.data = a;
    a->engine = fh_engine_new(client, &ops, a);
    return a->engine;
}

/* Frees the engine (which stops its watches), then the adapter's handles. */
static void fh_uv_engine_free(fh_uv *a)
{
    fh_engine_free(a->engine);
    for (int fd = 0; fd < a->npolls; fd++)
        if (a->polls[fd]) {
            uv_poll_stop(a->polls[fd]);
            uv_close((uv_handle_t *)a->polls[fd], free_handle);
        }
    free(a->polls);
    uv_close((uv_handle_t *)&a->timer, NULL);
}

/* ---- the program -------------------------------------------------------------- */

typedef struct job {
    const char *url;
    fh_request *req;
    fh_response *resp;
    size_t bytes;
    int *pending, *failures;
    uv_loop_t *loop;
} job;

static void job_end(job *j)
{
    if (--*j->pending == 0)
        uv_stop(j->loop);
}

/* on_body: read what is there; FH_EAGAIN means "wait for the next on_body". */
static void on_body(void *ud, fh_response *resp)
{
    job *j = ud;
    uint8_t buf[16384];
    for (;;) {
        ssize_t n = fh_response_read(resp, buf, sizeof buf);
        if (n == FH_EAGAIN)
            return;
        if (n < 0) {
            printf("error %s %s: %s\n", j->url, fh_strerror((int)n),
                   fh_request_error_message(j->req));
            ++*j->failures;
        } else if (n > 0) {
            j->bytes += (size_t)n;
            continue;
        } else {
            printf("%d %zu %s\n", fh_response_status(resp), j->bytes, j->url);
        }
        fh_response_free(resp); /* read to the end: the connection is pooled */
        j->resp = NULL;
        job_end(j);
        return;
    }
}

static void on_done(void *ud, fh_request *req, int status, fh_response *resp)
{
    job *j = ud;
    if (status) {
        printf("error %s %s: %s\n", j->url, fh_strerror(status), fh_request_error_message(req));
        ++*j->failures;
        job_end(j);
        return;
    }
    j->resp = resp;
    on_body(j, resp); /* the head arrived: read what is already buffered */
}

int main(int argc, char **argv)
{
    int64_t total_ms = 30000;
    if (argc > 2 && strcmp(argv[1], "-t") == 0) {
        total_ms = atoll(argv[2]);
        argv += 2;
        argc -= 2;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: fh_libuv_example [-t MS] URL [URL...]\n");
        return 2;
    }
    uv_loop_t *loop = uv_default_loop();
    fh_client *client = fh_client_new();
    if (client)
        fh_client_set_timeout(client, FH_TIMEOUT_TOTAL, total_ms);
    fh_uv a;
    if (!client || !fh_uv_engine_new(&a, loop, client)) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    int pending = 0, failures = 0;
    job *jobs = calloc((size_t)argc, sizeof *jobs);
    fh_callbacks cb = {on_done, on_body};
    for (int i = 1; i < argc; i++) {
        job *j = &jobs[i];
        int rc = FH_OK;
        *j = (job){argv[i], NULL, NULL, 0, &pending, &failures, loop};
        j->req = fh_request_new("GET", argv[i], &rc);
        if (j->req && (rc = fh_request_set_stream(j->req, 1)) == FH_OK &&
            (rc = fh_engine_submit(a.engine, j->req, &cb, j)) == FH_OK) {
            pending++;
            continue;
        }
        printf("error %s %s\n", argv[i], fh_strerror(rc));
        failures++;
    }
    if (pending)
        uv_run(loop, UV_RUN_DEFAULT);
    for (int i = 1; i < argc; i++)
        fh_response_free(jobs[i].resp);
    fh_uv_engine_free(&a);
    uv_run(loop, UV_RUN_DEFAULT); /* runs the close callbacks */
    for (int i = 1; i < argc; i++)
        fh_request_free(jobs[i].req);
    free(jobs);
    fh_client_free(client);
    uv_loop_close(loop);
    return failures ? 1 : 0;
}
