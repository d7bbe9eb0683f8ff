/*
 * bench_util.c — clocks, CPU accounting, the latency sample array and the
 * measurement window shared by every mode.
 */
#include "bench.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static uint32_t *g_samples;
static size_t g_cap;

int64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t bench_cpu_self_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
           ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* utime+stime of one process in µs, and its parent pid; -1 if gone. */
static int64_t proc_cpu_us(pid_t pid, pid_t *ppid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may contain spaces */
    if (!p)
        return -1;
    /* After ") ": state(3) ppid(4) ... utime(14) stime(15). */
    char state;
    int pp;
    unsigned long skip, ut, st;
    if (sscanf(p + 2, "%c %d %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu", &state, &pp, &skip,
               &skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &ut, &st) != 13)
        return -1;
    if (ppid)
        *ppid = pp;
    long hz = sysconf(_SC_CLK_TCK);
    return (int64_t)(ut + st) * 1000000 / (hz > 0 ? hz : 100);
}

int64_t bench_cpu_pid_tree_us(pid_t pid)
{
    if (pid <= 0)
        return 0;
    int64_t total = proc_cpu_us(pid, NULL);
    if (total < 0)
        return 0;
    DIR *d = opendir("/proc");
    if (!d)
        return total;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        pid_t c = (pid_t)atoi(de->d_name), pp = 0;
        if (c == pid)
            continue;
        int64_t t = proc_cpu_us(c, &pp);
        if (t > 0 && pp == pid)
            total += t;
    }
    closedir(d);
    return total;
}

int64_t bench_cpu_others_us(pid_t target)
{
    /* Precise per-task times, unlike /proc/stat's tick samples (which
     * under-count on this kind of VM). Children that other processes have
     * reaped are in their cutime/cstime, so short-lived compiler runs count. */
    pid_t self = getpid(), parent = getppid();
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    int64_t total = 0;
    long hz = sysconf(_SC_CLK_TCK);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        pid_t pid = (pid_t)atoi(de->d_name);
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        char *p = strrchr(buf, ')');
        char state;
        int ppid;
        unsigned long skip, ut, st;
        long cut, cst;
        if (!p || sscanf(p + 2, "%c %d %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %ld %ld",
                         &state, &ppid, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip,
                         &skip, &ut, &st, &cut, &cst) != 15)
            continue;
        /* not us (a run's process and the fh-bench that forked it), our
         * children (wrk), nginx and its workers, kernel threads */
        if (pid == self || ppid == self || pid == parent || pid == target ||
            (target > 0 && ppid == target) || pid == 2 || ppid == 2)
            continue;
        total += (int64_t)(ut + st + (unsigned long)cut + (unsigned long)cst);
    }
    closedir(d);
    return total * 1000000 / (hz > 0 ? hz : 100);
}

int bench_samples_init(size_t cap)
{
    if (cap <= g_cap)
        return 0;
    bench_samples_free();
    g_samples = malloc(cap * sizeof *g_samples);
    if (!g_samples)
        return -1;
    memset(g_samples, 0, cap * sizeof *g_samples); /* pre-fault every page */
    g_cap = cap;
    return 0;
}

void bench_samples_free(void)
{
    free(g_samples);
    g_samples = NULL;
    g_cap = 0;
}

void meter_start(bench_meter *m, const bench_cfg *cfg)
{
    memset(m, 0, sizeof *m);
    int64_t now = bench_now_ns();
    m->t_warm_end = now + (int64_t)(cfg->warmup * 1e9);
    m->dur_ns = (int64_t)(cfg->duration * 1e9);
    m->t_end = m->t_warm_end + m->dur_ns;
    m->lat = g_samples;
    m->cap = g_cap;
    m->target_pid = cfg->target_pid;
    meter_tick(m, now);
}

int meter_tick(bench_meter *m, int64_t now)
{
    if (!m->measuring && now >= m->t_warm_end && !m->t_measure_end) {
        m->cpu_start_us = bench_cpu_self_us();
        m->tcpu_start_us = bench_cpu_pid_tree_us(m->target_pid);
        m->busy_start_us = bench_cpu_others_us(m->target_pid);
        /* The window opens after the snapshots (reading /proc takes a while). */
        m->measuring = 1;
        m->t_measure_start = now = bench_now_ns();
        m->t_end = now + m->dur_ns;
    }
    if (m->measuring && now >= m->t_end) {
        m->measuring = 0;
        m->t_measure_end = m->t_end;
        m->cpu_end_us = bench_cpu_self_us();
        m->tcpu_end_us = bench_cpu_pid_tree_us(m->target_pid);
        m->busy_end_us = bench_cpu_others_us(m->target_pid);
    }
    return m->t_measure_end != 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void meter_finish(bench_meter *m, bench_result *r)
{
    if (m->measuring || !m->t_measure_end) {
        /* The mode ended early (all requests failing, a fatal error). */
        int64_t now = bench_now_ns();
        if (!m->t_measure_start) {
            m->t_measure_start = now;
            m->cpu_start_us = bench_cpu_self_us();
            m->tcpu_start_us = bench_cpu_pid_tree_us(m->target_pid);
            m->busy_start_us = bench_cpu_others_us(m->target_pid);
        }
        m->measuring = 0;
        m->t_measure_end = now < m->t_end ? now : m->t_end;
        m->cpu_end_us = bench_cpu_self_us();
        m->tcpu_end_us = bench_cpu_pid_tree_us(m->target_pid);
        m->busy_end_us = bench_cpu_others_us(m->target_pid);
    }
    r->requests = m->ok;
    r->errors = m->err;
    r->seconds = (double)(m->t_measure_end - m->t_measure_start) / 1e9;
    r->rps = r->seconds > 0 ? (double)m->ok / r->seconds : 0;
    r->cpu_us_per_req = m->ok ? (double)(m->cpu_end_us - m->cpu_start_us) / (double)m->ok : 0;
    r->target_cpu_pct = m->target_pid && r->seconds > 0
                            ? (double)(m->tcpu_end_us - m->tcpu_start_us) / 1e4 / r->seconds
                            : -1;
    r->other_cpu_pct = m->busy_start_us < 0 || m->busy_end_us < 0 || r->seconds <= 0
                           ? -1
                           : (double)(m->busy_end_us - m->busy_start_us) / 1e4 / r->seconds;
    if (m->nlat) {
        qsort(m->lat, m->nlat, sizeof *m->lat, cmp_u32);
        double sum = 0;
        for (size_t i = 0; i < m->nlat; i++)
            sum += m->lat[i];
        r->avg_us = sum / (double)m->nlat / 1e3;
        r->p50_us = m->lat[(m->nlat - 1) * 50 / 100] / 1e3;
        r->p99_us = m->lat[(m->nlat - 1) * 99 / 100] / 1e3;
    }
    if (m->nlat < m->ok)
        snprintf(r->note, sizeof r->note, "latency from the first %zu requests", m->nlat);
    r->ok = 1;
}
