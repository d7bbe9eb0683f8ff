/*
 * nginx_target.c — the default benchmark target: nginx on a free loopback
 * port, serving a 1 KiB JSON document at /json with keep-alive, from a
 * generated configuration in a temporary directory.
 *
 * The target must not be the bottleneck, so it is tuned for exactly this:
 * access_log off, keepalive_requests 1000000, the file's descriptor cached
 * (open_file_cache), sendfile off so head and body leave in one writev
 * (one segment, one read on the client side). nginx runs in the
 * foreground as our child; with one worker it is a single process
 * (master_process off), with more a master and its workers. With tls it
 * listens with HTTPS and HTTP/2 instead (fh-bench --http2), on a
 * certificate made for the run (bench_cert.c).
 */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BODY_LEN 1024

static int write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    return (fclose(f) == 0 && n == len) ? 0 : -1;
}

/* A JSON document of exactly BODY_LEN bytes (ends with a newline). */
static size_t make_json(char *out)
{
    size_t len = (size_t)snprintf(out, BODY_LEN + 1, "{\"name\":\"fasthttp\",\"items\":[");
    for (int i = 0; len < BODY_LEN - 160; i++)
        len += (size_t)snprintf(out + len, BODY_LEN + 1 - len,
                                "%s{\"id\":%d,\"label\":\"item-%05d\",\"score\":%d.%02d,\"ok\":%s}",
                                i ? "," : "", i, i * 7, (i * 37) % 100, i % 100,
                                i % 3 ? "true" : "false");
    len += (size_t)snprintf(out + len, BODY_LEN + 1 - len, "],\"pad\":\"");
    while (len < BODY_LEN - 3)
        out[len++] = 'x';
    memcpy(out + len, "\"}\n", 3);
    return BODY_LEN;
}

static const char *nginx_path(void)
{
    const char *env = getenv("FH_NGINX");
    if (env && *env)
        return access(env, X_OK) == 0 ? env : NULL;
    if (access("/usr/sbin/nginx", X_OK) == 0)
        return "/usr/sbin/nginx";
    static char buf[512];
    const char *path = getenv("PATH");
    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(buf, sizeof buf, "%.*s/nginx", (int)n, path);
        if (n && access(buf, X_OK) == 0)
            return buf;
        path += n + (path[n] == ':');
    }
    return NULL;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {0};
    socklen_t al = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static int write_config(const nginx_target *t)
{
    char path[512], conf[4096], listen[1024];
    const char *d = t->dir;
    /* HTTP/2 needs TLS here (nginx and browsers negotiate h2 by ALPN); the
     * stream limit stays nginx's default (128 per connection), so 256 in
     * flight take at least two connections, for h2load as for fasthttp. */
    if (t->tls)
        snprintf(listen, sizeof listen,
                 "listen 127.0.0.1:%d ssl http2 backlog=4096;\n"
                 "    ssl_certificate %s/server.pem;\n    ssl_certificate_key %s/server.key;",
                 t->port, d, d);
    else
        snprintf(listen, sizeof listen, "listen 127.0.0.1:%d backlog=4096;", t->port);
    int n = snprintf(conf, sizeof conf,
        "daemon off;\nmaster_process %s;\nworker_processes %d;\n"
        "pid %s/nginx.pid;\nerror_log %s/error.log warn;\n"
        "events { worker_connections 4096; multi_accept on; }\n"
        "http {\n"
        "  access_log off;\n"
        "  client_body_temp_path %s/tmp/body;\n  proxy_temp_path %s/tmp/proxy;\n"
        "  fastcgi_temp_path %s/tmp/fastcgi;\n  uwsgi_temp_path %s/tmp/uwsgi;\n"
        "  scgi_temp_path %s/tmp/scgi;\n"
        "  types { }\n  default_type application/json;\n"
        "  keepalive_timeout 300s;\n  keepalive_requests 1000000;\n"
        "  sendfile off;\n  tcp_nodelay on;\n"
        "  open_file_cache max=16 inactive=600s;\n  open_file_cache_valid 600s;\n"
        "  etag off;\n"
        "  server {\n    %s\n    server_name localhost;\n"
        "    root %s/www;\n    location = /json { }\n  }\n}\n",
        t->workers > 1 ? "on" : "off", t->workers, d, d, d, d, d, d, d, listen, d);
    snprintf(path, sizeof path, "%s/nginx.conf", d);
    return n > 0 && (size_t)n < sizeof conf ? write_file(path, conf, (size_t)n) : -1;
}

/* Waits until the port accepts or nginx exits; 0 when it accepts. */
static int wait_ready(nginx_target *t, int ms)
{
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)t->port);
    for (int waited = 0; waited < ms; waited += 20) {
        int st;
        if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
            t->pid = 0;
            return -1;
        }
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        if (fd >= 0)
            close(fd);
        if (ok)
            return 0;
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static void kill_wait(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 500; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void nginx_version(const char *nginx, char *buf, size_t cap)
{
    char cmd[600], line[256];
    snprintf(cmd, sizeof cmd, "'%s' -v 2>&1", nginx);
    buf[0] = 0;
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    if (fgets(line, sizeof line, p)) {
        const char *v = strstr(line, "nginx/");
        if (v)
            snprintf(buf, cap, "%.*s", (int)strcspn(v, " \r\n"), v);
    }
    pclose(p);
}

int nginx_target_start(nginx_target *t, int workers, int cpu, int tls)
{
    memset(t, 0, sizeof *t);
    t->workers = workers < 1 ? 1 : workers;
    t->tls = tls;
    const char *nginx = nginx_path();
    if (!nginx) {
        fprintf(stderr, "fh-bench: nginx not found (install nginx-light, or set FH_NGINX, "
                        "or pass --url)\n");
        return -1;
    }
    nginx_version(nginx, t->version, sizeof t->version);
    const char *tmp = getenv("TMPDIR");
    snprintf(t->dir, sizeof t->dir, "%s/fh-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(t->dir)) {
        fprintf(stderr, "fh-bench: cannot create a temp dir: %s\n", strerror(errno));
        t->dir[0] = 0;
        return -1;
    }
    /* With a master process started as root, workers run as an unprivileged
     * user and must be able to read the document. */
    chmod(t->dir, 0755);
    char path[512], body[BODY_LEN + 1];
    snprintf(path, sizeof path, "%s/tmp", t->dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/www", t->dir);
    mkdir(path, 0755);
    t->body_len = make_json(body);
    snprintf(path, sizeof path, "%s/www/json", t->dir);
    if (write_file(path, body, t->body_len) < 0) {
        fprintf(stderr, "fh-bench: cannot write %s\n", path);
        nginx_target_stop(t);
        return -1;
    }
    if (tls) {
        char key[512];
        snprintf(t->ca_file, sizeof t->ca_file, "%s/server.pem", t->dir);
        snprintf(key, sizeof key, "%s/server.key", t->dir);
        if (bench_make_cert(t->ca_file, key) < 0) {
            fprintf(stderr, "fh-bench: cannot make a certificate in %s\n", t->dir);
            nginx_target_stop(t);
            return -1;
        }
        chmod(key, 0644); /* workers of a root master run unprivileged */
    }
    for (int attempt = 0; attempt < 5; attempt++) {
        t->port = free_port();
        if (t->port < 0 || write_config(t) < 0)
            break;
        char conf[512], errlog[512], outlog[512];
        snprintf(conf, sizeof conf, "%s/nginx.conf", t->dir);
        snprintf(errlog, sizeof errlog, "%s/error.log", t->dir);
        snprintf(outlog, sizeof outlog, "%s/nginx.out", t->dir);
        pid_t pid = fork();
        if (pid < 0)
            break;
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive fh-bench */
            if (cpu >= 0) {
                cpu_set_t set;
                CPU_ZERO(&set);
                CPU_SET(cpu, &set);
                sched_setaffinity(0, sizeof set, &set);
            }
            int fd = open(outlog, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
            execl(nginx, nginx, "-p", t->dir, "-c", conf, "-e", errlog, (char *)NULL);
            _exit(127);
        }
        t->pid = pid;
        if (wait_ready(t, 10000) == 0) {
            snprintf(t->url, sizeof t->url, "%s://127.0.0.1:%d/json", tls ? "https" : "http",
                     t->port);
            return 0;
        }
        kill_wait(t->pid);
        t->pid = 0;
    }
    fprintf(stderr, "fh-bench: nginx did not start; see %s/error.log\n", t->dir);
    if (getenv("FH_KEEP_TMP"))
        return -1;
    nginx_target_stop(t);
    return -1;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void nginx_target_stop(nginx_target *t)
{
    kill_wait(t->pid);
    t->pid = 0;
    if (t->dir[0] && !getenv("FH_KEEP_TMP"))
        nftw(t->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    t->dir[0] = 0;
}
