/*
 * bench_wrk.c — the wrk reference: runs `wrk -t1 -cN -dD --latency URL`
 * (after a separate warm-up run) and parses its report. One wrk thread, like
 * the single-threaded fh-async loop. Client CPU comes from wait4()'s rusage.
 */
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int bench_run_capture(char *const argv[], char *out, size_t cap, int64_t *cpu_us)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    size_t len = 0;
    for (;;) {
        ssize_t n = read(p[0], out + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == cap - 1) {
            char junk[512];
            while (read(p[0], junk, sizeof junk) > 0) {
            }
            break;
        }
    }
    out[len] = 0;
    close(p[0]);
    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR) {
    }
    if (cpu_us)
        *cpu_us = (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
                  ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

double bench_parse_time_us(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s)
        return -1;
    if (!strncmp(end, "us", 2))
        return v;
    if (!strncmp(end, "ms", 2))
        return v * 1e3;
    if (*end == 's')
        return v * 1e6;
    if (*end == 'm')
        return v * 60e6;
    if (*end == 'h')
        return v * 3600e6;
    return -1;
}

/* The value after `key` on the line that contains it, or NULL. */
static const char *after(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    if (!p)
        return NULL;
    p += strlen(key);
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

void wrk_version(const char *wrk, char *buf, size_t cap)
{
    char out[1024];
    char *argv[] = {(char *)wrk, "--version", NULL};
    buf[0] = 0;
    bench_run_capture(argv, out, sizeof out, NULL);
    if (!strncmp(out, "wrk ", 4)) {
        size_t n = strcspn(out, " \n[");
        n += strcspn(out + n + 1, " \n[") + 1;
        snprintf(buf, cap, "%.*s", (int)n, out);
    }
}

int run_wrk(const bench_cfg *cfg, bench_result *r)
{
    if (cfg->http2) { /* a row over HTTP/1.1 must not pass for an HTTP/2 one */
        snprintf(r->note, sizeof r->note, "wrk speaks HTTP/1.1 only (use h2load)");
        return -1;
    }
    char conns[16], dur[32], out[8192];
    snprintf(conns, sizeof conns, "%d", cfg->conns);
    /* wrk takes whole seconds. */
    long secs = lround(cfg->duration) < 1 ? 1 : lround(cfg->duration);
    long wsecs = cfg->warmup <= 0 ? 0 : (lround(cfg->warmup) < 1 ? 1 : lround(cfg->warmup));
    int64_t cpu = 0;
    if (wsecs) {
        snprintf(dur, sizeof dur, "%lds", wsecs);
        char *wargv[] = {(char *)cfg->wrk, "-t1", "-c", conns, "-d", dur, (char *)cfg->url,
                         cfg->fresh ? "-H" : NULL, "Connection: close", NULL};
        if (bench_run_capture(wargv, out, sizeof out, &cpu) != 0) {
            snprintf(r->note, sizeof r->note, "%s failed: %.100s", cfg->wrk, out);
            return -1;
        }
    }
    snprintf(dur, sizeof dur, "%lds", secs);
    char *argv[] = {(char *)cfg->wrk, "-t1", "-c", conns, "-d", dur, "--latency",
                    (char *)cfg->url, cfg->fresh ? "-H" : NULL, "Connection: close", NULL};
    int64_t tcpu0 = bench_cpu_pid_tree_us(cfg->target_pid);
    int64_t other0 = bench_cpu_others_us(cfg->target_pid);
    int rc = bench_run_capture(argv, out, sizeof out, &cpu);
    int64_t other1 = bench_cpu_others_us(cfg->target_pid);
    int64_t tcpu1 = bench_cpu_pid_tree_us(cfg->target_pid);
    const char *p;
    if (rc != 0 || !(p = after(out, "Requests/sec:"))) {
        snprintf(r->note, sizeof r->note, "%s failed: %.100s", cfg->wrk, out);
        return -1;
    }
    r->rps = strtod(p, NULL);
    /* "  538401 requests in 5.00s, 608.87MB read" */
    const char *q = strstr(out, " requests in ");
    if (q) {
        const char *s = q;
        while (s > out && s[-1] != '\n')
            s--;
        r->requests = strtoull(s, NULL, 10);
        r->seconds = bench_parse_time_us(q + strlen(" requests in ")) / 1e6;
    }
    if ((p = after(out, "Latency ")))
        r->avg_us = bench_parse_time_us(p);
    /* Percentages also appear in "+/- Stdev": look below the header only. */
    const char *line = strstr(out, "Latency Distribution");
    while (line && (line = strchr(line, '\n'))) {
        double pct;
        int used = 0;
        line++;
        if (sscanf(line, " %lf%%%n", &pct, &used) != 1 || !used)
            break;
        const char *v = line + used;
        while (*v == ' ')
            v++;
        if (pct == 50)
            r->p50_us = bench_parse_time_us(v);
        else if (pct == 99)
            r->p99_us = bench_parse_time_us(v);
    }
    /* "Socket errors: connect 0, read 0, write 0, timeout 0" */
    if ((p = after(out, "Socket errors:"))) {
        unsigned long long a = 0, b = 0, c = 0, d = 0;
        sscanf(p, "connect %llu, read %llu, write %llu, timeout %llu", &a, &b, &c, &d);
        r->errors += a + b + c + d;
    }
    if ((p = after(out, "Non-2xx or 3xx responses:")))
        r->errors += strtoull(p, NULL, 10);
    r->cpu_us_per_req = r->requests ? (double)cpu / (double)r->requests : 0;
    r->target_cpu_pct = cfg->target_pid && r->seconds > 0
                            ? (double)(tcpu1 - tcpu0) / 1e4 / r->seconds
                            : -1;
    r->other_cpu_pct = other0 < 0 || other1 < 0 || r->seconds <= 0
                           ? -1
                           : (double)(other1 - other0) / 1e4 / r->seconds;
    if (fabs((double)secs - cfg->duration) > 1e-9)
        snprintf(r->note, sizeof r->note, "wrk ran %lds (whole seconds only)", secs);
    r->ok = 1;
    return 0;
}
