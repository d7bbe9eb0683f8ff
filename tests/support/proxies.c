/* proxies.c — see proxies.h. */
#include "proxies.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixtures.h"

#define START_ATTEMPTS 5

static const char *find_bin(const char *name, char *buf, size_t cap)
{
    const char *dirs[] = {"/usr/bin", "/usr/sbin", "/usr/local/bin"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(buf, cap, "%s/%s", dirs[i], name);
        if (access(buf, X_OK) == 0)
            return buf;
    }
    fprintf(stderr, "proxy fixture: %s not found: run scripts/install-deps.sh\n", name);
    return NULL;
}

/* Spawns argv (built by make_argv for a port) until its port accepts. */
static int start(fh_proxyd *p, const char *tag,
                 int (*make)(fh_proxyd *p, char **argv, char *store, size_t cap))
{
    if (fh_test_mkdtemp(tag, p->dir, sizeof p->dir) < 0)
        return -1;
    for (int i = 0; i < START_ATTEMPTS; i++) {
        char *argv[16] = {0};
        char store[2048], log[320];
        p->port = fh_test_free_port();
        if (p->port < 0 || make(p, argv, store, sizeof store) < 0)
            return -1;
        snprintf(log, sizeof log, "%s/out.log", p->dir);
        p->pid = fh_test_spawn(argv, log);
        if (p->pid > 0 && fh_test_wait_port(p->port, 15000, p->pid) == 0)
            return 0;
        if (p->pid > 0)
            fh_test_kill_wait(p->pid, SIGKILL, 1000);
        p->pid = 0;
    }
    fprintf(stderr, "proxy fixture: %s did not start\n", tag);
    return -1;
}

static const char *g_user, *g_pass;

static int make_tinyproxy(fh_proxyd *p, char **argv, char *store, size_t cap)
{
    static char bin[256], conf[320];
    if (!find_bin("tinyproxy", bin, sizeof bin))
        return -1;
    snprintf(conf, sizeof conf, "%s/tinyproxy.conf", p->dir);
    int n = snprintf(store, cap,
                     "Port %d\nListen 127.0.0.1\nTimeout 60\nMaxClients 64\nLogLevel Info\n"
                     "LogFile \"%s/tinyproxy.log\"\n%s%s%s%s%s",
                     p->port, p->dir, g_user ? "BasicAuth " : "", g_user ? g_user : "",
                     g_user ? " " : "", g_user ? g_pass : "", g_user ? "\n" : "");
    if (n < 0 || (size_t)n >= cap || fh_test_write_file(conf, store, (size_t)n) < 0)
        return -1;
    argv[0] = bin;
    argv[1] = "-d"; /* foreground: our child, stopped by the test */
    argv[2] = "-c";
    argv[3] = conf;
    if (g_user)
        snprintf(p->url, sizeof p->url, "http://%s:%s@127.0.0.1:%d", g_user, g_pass, p->port);
    else
        snprintf(p->url, sizeof p->url, "http://127.0.0.1:%d", p->port);
    return 0;
}

static int make_microsocks(fh_proxyd *p, char **argv, char *store, size_t cap)
{
    static char bin[256], port[16];
    if (!find_bin("microsocks", bin, sizeof bin))
        return -1;
    (void)store;
    (void)cap;
    snprintf(port, sizeof port, "%d", p->port);
    int i = 0;
    argv[i++] = bin;
    argv[i++] = "-i";
    argv[i++] = "127.0.0.1";
    argv[i++] = "-p";
    argv[i++] = port;
    if (g_user) {
        argv[i++] = "-u";
        argv[i++] = (char *)g_user;
        argv[i++] = "-P";
        argv[i++] = (char *)g_pass;
        snprintf(p->url, sizeof p->url, "socks5://%s:%s@127.0.0.1:%d", g_user, g_pass, p->port);
    } else {
        snprintf(p->url, sizeof p->url, "socks5://127.0.0.1:%d", p->port);
    }
    return 0;
}

int fh_tinyproxy_start(fh_proxyd *p, const char *user, const char *pass)
{
    memset(p, 0, sizeof *p);
    g_user = user;
    g_pass = pass;
    return start(p, "tinyproxy", make_tinyproxy);
}

int fh_microsocks_start(fh_proxyd *p, const char *user, const char *pass)
{
    memset(p, 0, sizeof *p);
    g_user = user;
    g_pass = pass;
    return start(p, "microsocks", make_microsocks);
}

void fh_proxyd_stop(fh_proxyd *p)
{
    if (p->pid > 0)
        fh_test_kill_wait(p->pid, SIGTERM, 10000);
    p->pid = 0;
    if (p->dir[0] && !getenv("FH_KEEP_TMP"))
        fh_test_rmtree(p->dir);
    p->dir[0] = 0;
}

/* ---- the scripted proxy -------------------------------------------------- */

int fh_test_recv_head(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    while (len < cap - 1) {
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = 0;
        if (strstr(buf, "\r\n\r\n"))
            return (int)len;
    }
    return -1;
}

static void serve_one(fh_refuser *r, int fd)
{
    char buf[4096];
    if (fh_test_recv_head(fd, buf, sizeof buf) < 0)
        return;
    char out[128];
    int n = 0;
    if (r->status > 0)
        n = snprintf(out, sizeof out, "HTTP/1.1 %d Scripted\r\nContent-Length: 0\r\n\r\n",
                     r->status);
    else if (r->status == 0)
        n = snprintf(out, sizeof out, "HTTP/1.1 200 Connection established\r\n\r\n");
    if (n > 0)
        (void)send(fd, out, (size_t)n, MSG_NOSIGNAL);
}

static void *refuser_main(void *arg)
{
    fh_refuser *r = arg;
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        struct pollfd pf = {r->lfd, POLLIN, 0};
        if (poll(&pf, 1, 50) <= 0)
            continue;
        int fd = accept(r->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        serve_one(r, fd);
        close(fd);
    }
    return NULL;
}

int fh_refuser_start(fh_refuser *r, int status)
{
    memset(r, 0, sizeof *r);
    r->status = status;
    r->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (r->lfd < 0 || bind(r->lfd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(r->lfd, 16) < 0 || getsockname(r->lfd, (struct sockaddr *)&a, &al) < 0)
        return -1;
    r->port = ntohs(a.sin_port);
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%d", r->port);
    return pthread_create(&r->th, NULL, refuser_main, r) == 0 ? 0 : -1;
}

void fh_refuser_stop(fh_refuser *r)
{
    __atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
    pthread_join(r->th, NULL);
    close(r->lfd);
}
