/*
 * fixtures.h — helpers shared by the integration and fault tests:
 * temporary directories, loopback ports, child processes, test
 * certificates, file I/O, fd counting and one-call requests through the
 * blocking API.
 *
 * Functions return 0 on success and -1 on failure after printing why to
 * stderr (tests turn that into an assertion), unless stated otherwise.
 */
#ifndef FH_TEST_FIXTURES_H
#define FH_TEST_FIXTURES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fasthttp/fasthttp.h"

/* ---- files and directories ------------------------------------------------ */

/* Creates a fresh directory "<$TMPDIR or /tmp>/fasthttp-<tag>-XXXXXX";
 * its path is written into out. */
int fh_test_mkdtemp(const char *tag, char *out, size_t cap);

/* Removes path and everything below it (no symlinks are followed). */
int fh_test_rmtree(const char *path);

/* Writes a whole file (mode 0644), replacing it. */
int fh_test_write_file(const char *path, const void *data, size_t len);

/* Reads a whole file into a malloc'ed, NUL-terminated buffer. */
int fh_test_read_file(const char *path, uint8_t **data, size_t *len);

/* snprintf into out and return out: for building paths inline. */
char *fh_test_path(char *out, size_t cap, const char *dir, const char *name);

/* Number of open file descriptors of this process (entries of /proc/self/fd). */
int fh_test_count_fds(void);

/* 0 when as many descriptors are open as before (a count taken with
 * fh_test_count_fds), else -1 after printing the leak: a test teardown's
 * check. */
int fh_test_fds_unchanged(int before);

/* Peak resident set size of this process in KiB (getrusage ru_maxrss). */
long fh_test_maxrss_kib(void);

/* Sleeps ms milliseconds (restarted on signals). */
void fh_test_sleep_ms(int ms);

/* ---- ports and processes ------------------------------------------------ */

/* A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read
 * it back, close). Callers that then bind it must retry on a lost race.
 * Returns the port, or -1. */
int fh_test_free_port(void);

/* Waits until 127.0.0.1:port accepts a TCP connection, up to timeout_ms.
 * If pid > 0 it also stops waiting when that child exits (without reaping
 * it). Returns 0 when
 * the port accepts, -1 otherwise. */
int fh_test_wait_port(int port, int timeout_ms, pid_t pid);

/* Runs argv[0] (searched in PATH) with argv, stdin from /dev/null, and
 * captures stdout and stderr together into a malloc'ed, NUL-terminated
 * buffer (*out may be NULL when the caller does not want it). Returns the
 * exit status (0..255), 128+signal when killed, or -1 if it did not run. */
int fh_test_run(char *const argv[], char **out, size_t *outlen);

/* Starts argv in the background with stdout+stderr appended to log_path
 * (NULL: /dev/null). Returns the pid, or -1. */
pid_t fh_test_spawn(char *const argv[], const char *log_path);

/* Sends sig to pid and reaps it, escalating to SIGKILL after timeout_ms.
 * Returns the wait status, or -1. */
int fh_test_kill_wait(pid_t pid, int sig, int timeout_ms);

/* Path of the nginx binary ($FH_NGINX, else /usr/sbin/nginx, else nginx in
 * PATH) if it is executable, or NULL. */
const char *fh_test_nginx_path(void);

/* ---- TLS material ------------------------------------------------------- */

/* Writes into dir a test CA (ca.pem, ca.key), a server certificate signed
 * by it for DNS:localhost and IP:127.0.0.1 (server.pem, server.key) and a
 * client certificate for TLS client auth (client.pem, client.key). EC P-256
 * keys, SHA-256, valid from yesterday for a year; built with the OpenSSL 3
 * C API so no openssl command is needed. */
int fh_test_make_certs(const char *dir);

/* ---- requests through the blocking API --------------------------------- */

/* The outcome of one exchange, filled by fh_test_fetch()/fh_test_send(). */
typedef struct fh_test_result {
    int err;          /* 0 or the FH_E code fh_client_send returned */
    int status;       /* HTTP status, 0 on error */
    int version;      /* 10 or 11, 0 on error */
    uint8_t *body;    /* malloc'ed copy, NUL-terminated (never NULL after a call) */
    size_t body_len;
    char msg[512];    /* fh_request_error_message() on error */
    char content_type[128];     /* Content-Type value, "" if none */
    char content_encoding[64];  /* Content-Encoding value, "" if none */
} fh_test_result;

/* Sends req (buffered mode) and fills r; returns r->err. */
int fh_test_send(fh_client *c, fh_request *req, fh_test_result *r);

/* One request: method, url, an optional body (copied) and optional extra
 * headers given as a NULL-terminated list of "Name: value" strings. */
int fh_test_fetch(fh_client *c, const char *method, const char *url, const void *body,
                  size_t body_len, const char *const *headers, fh_test_result *r);

/* GET url; returns r->err. */
int fh_test_get(fh_client *c, const char *url, fh_test_result *r);

void fh_test_result_free(fh_test_result *r);

/* Streams the body of a stream-mode response into a malloc'ed buffer,
 * reading at most piece bytes per fh_response_read call; fails the call
 * (returns the FH_E code) if a read returns more than piece. */
int fh_test_read_all(fh_response *resp, size_t piece, uint8_t **out, size_t *len);

/* Caller storage for bodies (fh_request_set_body_storage): malloc'ed
 * blocks, each a handle of its own, with counts of what the library did. */
typedef struct fh_test_storage {
    int allocs, releases;
    size_t last_size;
    int refuse;          /* 1: alloc returns NULL (the library's buffer is used) */
    fh_body_storage api; /* pass &api to fh_request_set_body_storage() */
} fh_test_storage;
void fh_test_storage_init(fh_test_storage *s, size_t min_size);

/* ---- request bodies -------------------------------------------------------- */

/* A body source for fh_request_set_body_reader(): hands out the strings of
 * a NULL-terminated array one per call (so the chunk boundaries are known),
 * then 0. Returns -1 if a piece does not fit the buffer. */
typedef struct fh_test_pieces {
    const char *const *p;
    int i;
} fh_test_pieces;
ssize_t fh_test_pieces_read(void *ud, uint8_t *buf, size_t cap);
/* The same pieces for fh_request_set_body_lender(): lends each string. */
ssize_t fh_test_pieces_lend(void *ud, const uint8_t **data);

/* Decodes a complete chunked body (ending in "0\r\n\r\n" with no
 * trailers and nothing after it) into out (NUL-terminated). Returns the
 * payload length, or -1 if it is malformed or does not fit. */
ssize_t fh_test_dechunk(const char *in, char *out, size_t cap);

#endif
