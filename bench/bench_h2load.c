/*
 * bench_h2load.c — the HTTP/2 ceiling: h2load (nghttp2's load generator,
 * Debian nghttp2-client) on the same URL, the way wrk is the HTTP/1.1 one:
 *
 *   h2load -t1 -c CONNS -m STREAMS -D DURATION --warm-up-time WARMUP URL
 *
 * One thread, like the single fh-async loop; STREAMS = in-flight / CONNS
 * (rounded up), so h2load keeps as many requests in flight over as many
 * connections as fh-async. Its warm-up runs on the same connections and its
 * figures cover the main duration only. The run fails unless h2load says it
 * negotiated h2 ("Application protocol: h2"). h2load gives no latency
 * percentiles (p50/p99 are left out) and its CPU time is the whole process's,
 * warm-up included, so cpu/req is prorated to the measured part.
 */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void h2load_version(const char *h2load, char *buf, size_t cap)
{
    char out[1024];
    char *argv[] = {(char *)h2load, "--version", NULL};
    buf[0] = 0;
    if (bench_run_capture(argv, out, sizeof out, NULL) != 0)
        return;
    const char *v = strstr(out, "nghttp2/"); /* "h2load nghttp2/1.52.0" */
    if (v)
        snprintf(buf, cap, "h2load %.*s", (int)strcspn(v, " \r\n"), v);
}

/* The number after `key` in out (e.g. "succeeded" in "…, 5 succeeded, …"
 * reads backwards from the key), or 0. */
static unsigned long long count_before(const char *line, const char *key)
{
    const char *k = line ? strstr(line, key) : NULL;
    if (!k)
        return 0;
    const char *s = k;
    while (s > line && s[-1] == ' ')
        s--;
    while (s > line && s[-1] >= '0' && s[-1] <= '9')
        s--;
    return strtoull(s, NULL, 10);
}

int run_h2load(const bench_cfg *cfg, bench_result *r)
{
    char conns[16], streams[16], dur[32], warm[32], out[16384];
    snprintf(conns, sizeof conns, "%d", cfg->conns);
    snprintf(streams, sizeof streams, "%d", bench_streams_per_conn(cfg));
    /* h2load takes whole numbers with a unit; --warm-up-time must come with -D
     * and cannot be 0 */
    snprintf(dur, sizeof dur, "%ldms", lround(cfg->duration * 1000));
    snprintf(warm, sizeof warm, "%ldms", cfg->warmup >= 0.001 ? lround(cfg->warmup * 1000) : 1L);
    char *argv[] = {(char *)cfg->h2load, "-t1", "-c", conns, "-m", streams, "-D", dur,
                    "--warm-up-time", warm, (char *)cfg->url, NULL};
    int64_t cpu = 0, t0 = bench_now_ns();
    int64_t tcpu0 = bench_cpu_pid_tree_us(cfg->target_pid);
    int64_t other0 = bench_cpu_others_us(cfg->target_pid);
    int rc = bench_run_capture(argv, out, sizeof out, &cpu);
    int64_t other1 = bench_cpu_others_us(cfg->target_pid);
    int64_t tcpu1 = bench_cpu_pid_tree_us(cfg->target_pid);
    double wall = (double)(bench_now_ns() - t0) / 1e9;
    const char *fin = strstr(out, "finished in ");
    const char *proto = strstr(out, "Application protocol:");
    if (rc != 0 || !fin) {
        snprintf(r->note, sizeof r->note, "%s failed (status %d): %.100s", cfg->h2load, rc,
                 out);
        return -1;
    }
    if (!proto || strncmp(proto + strlen("Application protocol:"), " h2", 3) != 0) {
        snprintf(r->note, sizeof r->note, "h2load did not negotiate h2: %.60s",
                 proto ? proto : "no application protocol reported");
        return -1;
    }
    /* "finished in 3.09s, 53993.00 req/s, 58.55MB/s" */
    const char *rps = strchr(fin, ',');
    r->rps = rps ? strtod(rps + 1, NULL) : 0;
    /* "requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout" */
    const char *req = strstr(out, "requests: ");
    unsigned long long ok2xx = count_before(strstr(out, "status codes: "), "2xx");
    unsigned long long done = count_before(req, "done");
    r->requests = ok2xx;
    r->errors = done > ok2xx ? done - ok2xx : 0;
    r->errors += count_before(req, "errored") + count_before(req, "timeout");
    r->seconds = r->rps > 0 ? (double)done / r->rps : cfg->duration;
    /* "time for request:      113us     17.72ms      3.89ms ..." min max mean */
    const char *tfr = strstr(out, "time for request:");
    if (tfr) {
        const char *p = tfr + strlen("time for request:");
        for (int field = 0; field < 3 && p; field++) {
            while (*p == ' ')
                p++;
            if (field == 2)
                r->avg_us = bench_parse_time_us(p);
            p = strchr(p, ' ');
        }
    }
    r->p50_us = r->p99_us = -1; /* not reported by h2load */
    double share = cfg->duration / (cfg->duration + cfg->warmup);
    r->cpu_us_per_req = r->requests ? (double)cpu * share / (double)r->requests : 0;
    r->target_cpu_pct = cfg->target_pid && wall > 0 ? (double)(tcpu1 - tcpu0) / 1e4 / wall : -1;
    r->other_cpu_pct = other0 < 0 || other1 < 0 || wall <= 0
                           ? -1
                           : (double)(other1 - other0) / 1e4 / wall;
    const char *tls = strstr(out, "TLS Protocol: "); /* "TLS Protocol: TLSv1.2" */
    tls = tls ? tls + strlen("TLS Protocol: ") : "cleartext";
    snprintf(r->note, sizeof r->note, "-c %s -m %s, h2 over %.*s; no percentiles; cpu/req "
             "prorated", conns, streams, (int)strcspn(tls, "\r\n"), tls);
    r->ok = 1;
    return 0;
}
