/*
 * proxies.h — real proxies on 127.0.0.1 for the proxy tests, each with its
 * own configuration in a temp dir (never a stock daemon config: Debian's
 * tinyproxy.conf listens on every interface):
 *
 *   tinyproxy (Debian)   forward proxy and CONNECT tunnels, optionally with
 *                        Basic authentication (BasicAuth user pass)
 *   microsocks (Debian)  SOCKS5, optionally with a user name and password
 *   a scripted proxy     a thread answering every CONNECT with a fixed
 *                        status, or "200" followed by closing the tunnel
 *
 * A missing binary fails the test group (it is installed by
 * scripts/install-deps.sh), it never skips.
 */
#ifndef FH_TEST_PROXIES_H
#define FH_TEST_PROXIES_H

#include <pthread.h>
#include <sys/types.h>

typedef struct fh_proxyd {
    pid_t pid;
    int port;
    char dir[256];
    char url[160];     /* "http://[user:pass@]127.0.0.1:PORT" or "socks5://..." */
} fh_proxyd;

/* tinyproxy on 127.0.0.1; user/pass NULL for an open proxy. */
int fh_tinyproxy_start(fh_proxyd *p, const char *user, const char *pass);
/* microsocks on 127.0.0.1; user/pass NULL for no authentication. The URL's
 * scheme is socks5. */
int fh_microsocks_start(fh_proxyd *p, const char *user, const char *pass);
void fh_proxyd_stop(fh_proxyd *p);

/* Reads a request head (up to CRLF CRLF) from fd into buf (NUL-terminated):
 * its length, or -1 when the peer closed first or it does not fit. */
int fh_test_recv_head(int fd, char *buf, size_t cap);

/* The scripted proxy: status > 0 answers every request head with that
 * status ("HTTP/1.1 <status> X"); status 0 answers 200 and closes at once;
 * status -1 closes without answering. */
typedef struct fh_refuser {
    int lfd, port, status, stop;
    pthread_t th;
    char url[64];
} fh_refuser;

int fh_refuser_start(fh_refuser *r, int status);
void fh_refuser_stop(fh_refuser *r);

#endif
