/*
 * fh_bench.c — fh-bench: fasthttp's C API against libcurl and wrk on one
 * URL, same keep-alive, same connection count, same warm-up and duration.
 *
 *   fh-bench [--url URL] [--duration S] [--warmup S] [--connections N]
 *            [--modes fh-sync,fh-async,curl-easy,curl-multi,wrk,h2load]
 *            [--rounds R] [--json FILE] [--nginx-workers W] [--wrk PATH]
 *            [--http2] [--in-flight N] [--h2load PATH] [--pin | --no-pin] [--fresh]
 *
 * Without --url it starts its own nginx (nginx_target.c) serving 1 KiB of
 * JSON; with --http2 over HTTPS and HTTP/2, where h2load (nghttp2's load
 * generator) is the ceiling instead of wrk and every mode keeps --in-flight
 * requests in flight over --connections connections. Every run of a mode is a fresh child process (clean heap, its own
 * rusage). Rounds are interleaved (A B C A B C ...) and the table shows the
 * median of each figure over the rounds, with the req/s range beside it,
 * plus the client's CPU per request, the target's CPU and the CPU other
 * processes took meanwhile, so a run disturbed by a busy machine shows.
 */
#include "bench.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fasthttp/fasthttp.h"

typedef struct mode {
    const char *name;
    int (*run)(const bench_cfg *, bench_result *);
    const char *what;
} mode;

static const mode MODES[] = {
    {"fh-sync", run_fh_sync, "fasthttp fh_client_send, sequential"},
    {"fh-async", run_fh_async, "fasthttp engine on epoll, N in flight"},
    {"curl-easy", run_curl_easy, "libcurl easy, sequential"},
    {"curl-multi", run_curl_multi, "libcurl multi_socket_action on epoll, N in flight"},
    {"wrk", run_wrk, "wrk -t1 -cN"},
    {"h2load", run_h2load, "h2load -t1 -cN -m(in-flight/N) (HTTP/2 only)"},
};
#define NMODES (int)(sizeof MODES / sizeof MODES[0])

static nginx_target g_target;

static void on_signal(int sig)
{
    if (g_target.pid > 0)
        kill(g_target.pid, SIGTERM);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: fh-bench [options]\n"
            "  --url URL            target (default: start nginx serving 1 KiB JSON)\n"
            "  --duration S         measured seconds per run (default 5)\n"
            "  --warmup S           unmeasured seconds before each run (default 1)\n"
            "  --connections N      requests in flight / connections (default 64)\n"
            "  --http2              HTTP/2 (https: ALPN; http: prior knowledge); the built-in\n"
            "                       target serves HTTPS + HTTP/2 on a throw-away certificate;\n"
            "                       a response over another version counts as an error\n"
            "  --insecure           no certificate verification (https --url)\n"
            "  --fresh              a new connection per request (Connection: close;\n"
            "                       libcurl: CURLOPT_FORBID_REUSE)\n"
            "  --in-flight N        fh-async (and with --http2 curl-multi, h2load): requests\n"
            "                       in flight over those connections (default: as many as\n"
            "                       connections; over HTTP/1.1 more wait in the pool's queue,\n"
            "                       to measure the engine at scale)\n"
            "  --h2load PATH        h2load binary (default h2load)\n"
            "  --modes LIST         comma list of fh-sync,fh-async,curl-easy,curl-multi,wrk,\n"
            "                       h2load (default: all but h2load; with --http2 all but wrk)\n"
            "  --rounds R           interleaved rounds, medians reported (default 1)\n"
            "  --json FILE          also write the results as JSON\n"
            "  --nginx-workers W    worker processes of the built-in target (default 1)\n"
            "  --wrk PATH           wrk binary (default wrk)\n"
            "  --pin                built-in target on CPU 0, fh-bench (and wrk) on the last\n"
            "                       CPU: steadier numbers, sequential modes above all\n"
            "  --no-pin             let the scheduler place them (default)\n"
            "  --max-other PCT      repeat a run (twice at most, the least disturbed one is\n"
            "                       kept) when other processes took more than PCT %% of a\n"
            "                       core during it (default 25; 0: never)\n");
}

/* Runs one mode in a child process, so every run starts from a fresh heap
 * and its rusage is its own; the result comes back through a pipe. */
static void run_isolated(const mode *m, const bench_cfg *cfg, size_t cap, bench_result *out)
{
    int p[2];
    memset(out, 0, sizeof *out);
    if (pipe(p) < 0) {
        snprintf(out->note, sizeof out->note, "pipe failed");
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        snprintf(out->note, sizeof out->note, "fork failed");
        return;
    }
    if (pid == 0) {
        close(p[0]);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        bench_result r;
        memset(&r, 0, sizeof r);
        /* The samples are allocated (and pre-faulted) here, not inherited:
         * copy-on-write faults would land inside the window. */
        if (bench_samples_init(cap) < 0)
            snprintf(r.note, sizeof r.note, "out of memory for %zu latency samples", cap);
        else
            m->run(cfg, &r);
        ssize_t w = write(p[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(p[1]);
    size_t got = 0;
    while (got < sizeof *out) {
        ssize_t n = read(p[0], (char *)out + got, sizeof *out - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(p[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (got != sizeof *out) {
        memset(out, 0, sizeof *out);
        snprintf(out->note, sizeof out->note, "the run's process died (status 0x%x)", st);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of field `off` (a double in bench_result) over n results. */
static double median_at(const bench_result *rs, int n, size_t off)
{
    double v[256];
    int k = 0;
    for (int i = 0; i < n && k < 256; i++)
        if (rs[i].ok)
            v[k++] = *(const double *)((const char *)&rs[i] + off);
    if (!k)
        return 0;
    qsort(v, (size_t)k, sizeof *v, cmp_double);
    return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

typedef struct summary {
    int ran, ok_rounds, repeats;
    bench_result med; /* medians (requests/errors: medians too) */
    double rps_min, rps_max;
    const char *note;
} summary;

static void summarize(const bench_result *rs, int n, summary *s)
{
    memset(s, 0, sizeof *s);
    double req[256], err[256];
    for (int i = 0; i < n; i++) {
        if (rs[i].note[0])
            s->note = rs[i].note;
        s->repeats += rs[i].repeats;
        if (!rs[i].ok)
            continue;
        req[s->ok_rounds] = (double)rs[i].requests;
        err[s->ok_rounds] = (double)rs[i].errors;
        if (!s->ok_rounds || rs[i].rps < s->rps_min)
            s->rps_min = rs[i].rps;
        if (!s->ok_rounds || rs[i].rps > s->rps_max)
            s->rps_max = rs[i].rps;
        s->ok_rounds++;
    }
    s->ran = n;
    if (!s->ok_rounds)
        return;
    qsort(req, (size_t)s->ok_rounds, sizeof *req, cmp_double);
    qsort(err, (size_t)s->ok_rounds, sizeof *err, cmp_double);
    s->med.ok = 1;
    int k = s->ok_rounds;
    s->med.requests = (uint64_t)(k % 2 ? req[k / 2] : (req[k / 2 - 1] + req[k / 2]) / 2);
    s->med.errors = (uint64_t)(k % 2 ? err[k / 2] : (err[k / 2 - 1] + err[k / 2]) / 2);
#define MED(f) s->med.f = median_at(rs, n, offsetof(bench_result, f))
    MED(rps);
    MED(avg_us);
    MED(p50_us);
    MED(p99_us);
    MED(cpu_us_per_req);
    MED(target_cpu_pct);
    MED(other_cpu_pct);
    MED(seconds);
#undef MED
}

typedef struct ratio {
    const char *label, *num, *den;
    double target; /* 0: informational */
} ratio;

static const ratio RATIOS[] = {
    {"fh-async / wrk", "fh-async", "wrk", 0.9},
    /* DESIGN.md: HTTP/2 at 256 streams >= 0.8x h2load */
    {"fh-async / h2load", "fh-async", "h2load", 0.8},
    {"fh-async / curl-multi", "fh-async", "curl-multi", 1.5},
    {"fh-sync / curl-easy", "fh-sync", "curl-easy", 0},
};
#define NRATIOS (int)(sizeof RATIOS / sizeof RATIOS[0])

static int mode_index(const char *name)
{
    for (int i = 0; i < NMODES; i++)
        if (!strcmp(MODES[i].name, name))
            return i;
    return -1;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", *s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static void json_result(FILE *f, const bench_result *r)
{
    fprintf(f, "{\"ok\": %s, \"requests\": %llu, \"errors\": %llu, \"seconds\": %.3f, "
               "\"rps\": %.1f, \"avg_us\": %.1f, \"p50_us\": %.1f, \"p99_us\": %.1f, "
               "\"client_cpu_us_per_req\": %.2f, \"target_cpu_pct\": %.1f, "
               "\"other_cpu_pct\": %.1f, \"repeats\": %d, \"note\": ",
            r->ok ? "true" : "false", (unsigned long long)r->requests,
            (unsigned long long)r->errors, r->seconds, r->rps, r->avg_us, r->p50_us, r->p99_us,
            r->cpu_us_per_req, r->target_cpu_pct, r->other_cpu_pct, r->repeats);
    json_str(f, r->note);
    fputc('}', f);
}

int main(int argc, char **argv)
{
    bench_cfg cfg = {.duration = 5.0, .warmup = 1.0, .conns = 64, .wrk = "wrk", .h2load = "h2load"};
    const char *modes_arg = NULL, *json_path = NULL;
    int rounds = 1, workers = 1, pin = 0;
    double max_other = 25;
    static const struct option opts[] = {
        {"url", 1, 0, 'u'},        {"duration", 1, 0, 'd'}, {"warmup", 1, 0, 'w'},
        {"connections", 1, 0, 'c'}, {"modes", 1, 0, 'm'},   {"rounds", 1, 0, 'r'},
        {"json", 1, 0, 'j'},       {"nginx-workers", 1, 0, 'n'}, {"wrk", 1, 0, 'W'},
        {"pin", 0, 0, 'p'},        {"no-pin", 0, 0, 'P'},   {"max-other", 1, 0, 'o'},
        {"in-flight", 1, 0, 'i'},  {"http2", 0, 0, '2'},    {"insecure", 0, 0, 'k'},
        {"h2load", 1, 0, 'H'},     {"fresh", 0, 0, 'F'},    {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "u:d:w:c:m:r:j:n:h", opts, NULL)) != -1) {
        switch (o) {
        case 'u': cfg.url = optarg; break;
        case 'd': cfg.duration = atof(optarg); break;
        case 'w': cfg.warmup = atof(optarg); break;
        case 'c': cfg.conns = atoi(optarg); break;
        case 'm': modes_arg = optarg; break;
        case 'r': rounds = atoi(optarg); break;
        case 'j': json_path = optarg; break;
        case 'n': workers = atoi(optarg); break;
        case 'W': cfg.wrk = optarg; break;
        case 'p': pin = 1; break;
        case 'P': pin = 0; break;
        case 'o': max_other = atof(optarg); break;
        case 'i': cfg.in_flight = atoi(optarg); break;
        case '2': cfg.http2 = 1; break;
        case 'k': cfg.insecure = 1; break;
        case 'H': cfg.h2load = optarg; break;
        case 'F': cfg.fresh = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (cfg.in_flight <= 0)
        cfg.in_flight = cfg.conns;
    if (cfg.duration <= 0 || cfg.warmup < 0 || cfg.conns < 1 || rounds < 1 || rounds > 256 ||
        cfg.in_flight < cfg.conns) {
        usage(stderr);
        return 2;
    }
    int sel[NMODES], nsel = 0;
    if (modes_arg) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", modes_arg);
        for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
            int i = mode_index(t);
            if (i < 0) {
                fprintf(stderr, "fh-bench: unknown mode %s\n", t);
                return 2;
            }
            int dup = 0;
            for (int k = 0; k < nsel; k++)
                dup |= sel[k] == i;
            if (!dup)
                sel[nsel++] = i;
        }
    } else { /* wrk speaks HTTP/1.1 only, h2load is for HTTP/2 */
        for (int i = 0; i < NMODES; i++)
            if (strcmp(MODES[i].name, cfg.http2 ? "wrk" : "h2load") != 0)
                sel[nsel++] = i;
    }

    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "fh-bench: curl_global_init failed\n");
        return 1;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int client_cpu = -1;
    if (pin && ncpu < 2)
        fprintf(stderr, "fh-bench: --pin needs 2 CPUs; not pinning\n");
    else if (pin)
        client_cpu = (int)ncpu - 1;
    if (!cfg.url) {
        if (nginx_target_start(&g_target, workers, client_cpu >= 0 ? 0 : -1, cfg.http2) < 0)
            return 1;
        cfg.url = g_target.url;
        cfg.target_pid = g_target.pid;
        if (g_target.tls)
            cfg.ca_file = g_target.ca_file;
    }
    if (client_cpu >= 0) { /* after nginx started: it must not inherit this */
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(client_cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) < 0) {
            perror("fh-bench: sched_setaffinity");
            client_cpu = -1;
        }
    }
    /* Room for 400k req/s over the window; beyond that only counts. */
    size_t cap = (size_t)(cfg.duration * 400000.0) + 65536;

    char wrkv[64] = "", h2lv[64] = "";
    wrk_version(cfg.wrk, wrkv, sizeof wrkv);
    h2load_version(cfg.h2load, h2lv, sizeof h2lv);
    struct utsname un;
    uname(&un);
    printf("fh-bench: %s, %s, %.1f s measured after %.1f s warm-up, %d connections, %d in "
           "flight (%s), %d round(s)\n",
           cfg.url, cfg.http2 ? "HTTP/2" : "HTTP/1.1", cfg.duration, cfg.warmup, cfg.conns,
           cfg.in_flight, cfg.http2 ? "fh-async, curl-multi, h2load" : "fh-async", rounds);
    const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
    printf("  fasthttp %s, libcurl %s%s%s, %s, %s%s, %s %s, %ld CPUs\n", fh_version(),
           cv->version, cv->nghttp2_version ? " with nghttp2/" : "",
           cv->nghttp2_version ? cv->nghttp2_version : "",
           cfg.http2 ? (h2lv[0] ? h2lv : "h2load ?") : (wrkv[0] ? wrkv : "wrk ?"),
           g_target.version[0] ? g_target.version : "external target",
           g_target.pid ? (workers > 1 ? " (master + workers)" : " (1 worker, single process)")
                        : "",
           un.sysname, un.release, ncpu);
    if (client_cpu >= 0)
        printf("  pinned: client (and wrk) on CPU %d%s\n", client_cpu,
               g_target.pid ? ", nginx on CPU 0" : "");
    fflush(stdout);

    bench_result (*res)[256] = calloc(NMODES, sizeof *res);
    if (!res)
        return 1;
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < nsel; k++) {
            const mode *m = &MODES[sel[k]];
            bench_result *br = &res[sel[k]][r];
            fprintf(stderr, "  round %d/%d %-10s ... ", r + 1, rounds, m->name);
            run_isolated(m, &cfg, cap, br);
            /* A busy machine distorts a run: repeat it, keep the quietest. */
            for (int again = 0; again < 2 && max_other > 0 && br->ok &&
                                br->other_cpu_pct > max_other;
                 again++) {
                bench_result retry;
                fprintf(stderr, "busy (other processes %.0f%%), again ... ", br->other_cpu_pct);
                run_isolated(m, &cfg, cap, &retry);
                retry.repeats = br->repeats + 1;
                if (retry.ok && retry.other_cpu_pct < br->other_cpu_pct)
                    *br = retry;
                else
                    br->repeats = retry.repeats;
            }
            if (br->ok)
                fprintf(stderr, "%10.0f req/s, %llu errors, other %.0f%%%s%s\n", br->rps,
                        (unsigned long long)br->errors, br->other_cpu_pct,
                        br->note[0] ? "; " : "", br->note);
            else
                fprintf(stderr, "failed: %s\n", br->note);
        }
    }

    summary sum[NMODES];
    memset(sum, 0, sizeof sum);
    for (int k = 0; k < nsel; k++)
        summarize(res[sel[k]], rounds, &sum[sel[k]]);

    printf("\n%-11s %9s %6s %8s %15s %8s %8s %8s %7s %6s %6s\n", "mode", "requests", "errors",
           "req/s", "req/s min-max", "avg us", "p50 us", "p99 us", "cpu/req", "nginx%",
           "other%");
    for (int k = 0; k < nsel; k++) {
        const summary *s = &sum[sel[k]];
        if (!s->ok_rounds) {
            printf("%-11s  failed: %s\n", MODES[sel[k]].name, s->note ? s->note : "");
            continue;
        }
        char range[32], tcpu[16], ocpu[16], p50[16], p99[16];
        snprintf(range, sizeof range, "%.0f-%.0f", s->rps_min, s->rps_max);
        /* negative: the mode cannot tell (h2load gives no percentiles) */
        snprintf(p50, sizeof p50, s->med.p50_us >= 0 ? "%.1f" : "-", s->med.p50_us);
        snprintf(p99, sizeof p99, s->med.p99_us >= 0 ? "%.1f" : "-", s->med.p99_us);
        snprintf(tcpu, sizeof tcpu, s->med.target_cpu_pct >= 0 ? "%.0f" : "-",
                 s->med.target_cpu_pct);
        snprintf(ocpu, sizeof ocpu, s->med.other_cpu_pct >= 0 ? "%.0f" : "-",
                 s->med.other_cpu_pct);
        printf("%-11s %9llu %6llu %8.0f %15s %8.1f %8s %8s %7.2f %6s %6s\n",
               MODES[sel[k]].name, (unsigned long long)s->med.requests,
               (unsigned long long)s->med.errors, s->med.rps, range, s->med.avg_us, p50, p99,
               s->med.cpu_us_per_req, tcpu, ocpu);
    }
    for (int k = 0; k < nsel; k++) {
        const summary *s = &sum[sel[k]];
        if (s->ok_rounds && s->note)
            printf("  %s: %s\n", MODES[sel[k]].name, s->note);
        if (s->repeats)
            printf("  %s: %d run(s) repeated, the machine was busy\n", MODES[sel[k]].name,
                   s->repeats);
    }
    printf("\n");
    for (int i = 0; i < NRATIOS; i++) {
        int a = mode_index(RATIOS[i].num), b = mode_index(RATIOS[i].den);
        if (!sum[a].ok_rounds || !sum[b].ok_rounds || sum[b].med.rps <= 0)
            continue;
        double q = sum[a].med.rps / sum[b].med.rps;
        printf("%-22s %6.2fx req/s", RATIOS[i].label, q);
        if (RATIOS[i].target > 0)
            printf("  target >= %.1fx: %-7s", RATIOS[i].target,
                   q >= RATIOS[i].target ? "met" : "NOT met");
        else
            printf("  %-20s", "");
        printf("  client CPU/request %.2f vs %.2f us\n", sum[a].med.cpu_us_per_req,
               sum[b].med.cpu_us_per_req);
    }
    printf("cpu/req = client CPU (user+sys) per request, us; nginx%% = the target's CPU and "
           "other%% = other\nprocesses' CPU during the window, %% of one core (nginx near "
           "100%% with 1 worker: the target\nlimits the run; other%% well above 0: a busy "
           "machine, numbers are noisy)\n");

    if (json_path) {
        FILE *f = fopen(json_path, "w");
        if (!f) {
            perror(json_path);
        } else {
            fprintf(f, "{\n  \"config\": {\"url\": ");
            json_str(f, cfg.url);
            fprintf(f, ", \"duration_s\": %.3f, \"warmup_s\": %.3f, \"connections\": %d, "
                       "\"in_flight\": %d, \"http2\": %s, "
                       "\"rounds\": %d, \"builtin_target\": %s, \"nginx_workers\": %d, "
                       "\"client_cpu\": %d, \"nginx_cpu\": %d, \"max_other_pct\": %.0f},\n",
                    cfg.duration, cfg.warmup, cfg.conns, cfg.in_flight,
                    cfg.http2 ? "true" : "false", rounds, g_target.pid ? "true" : "false",
                    g_target.pid ? workers : 0, client_cpu,
                    client_cpu >= 0 && g_target.pid ? 0 : -1, max_other);
            fprintf(f, "  \"versions\": {\"fasthttp\": ");
            json_str(f, fh_version());
            fprintf(f, ", \"libcurl\": ");
            json_str(f, curl_version_info(CURLVERSION_NOW)->version);
            fprintf(f, ", \"nghttp2\": ");
            json_str(f, cv->nghttp2_version ? cv->nghttp2_version : "");
            fprintf(f, ", \"wrk\": ");
            json_str(f, wrkv);
            fprintf(f, ", \"h2load\": ");
            json_str(f, h2lv);
            fprintf(f, ", \"nginx\": ");
            json_str(f, g_target.version);
            fprintf(f, ", \"kernel\": ");
            json_str(f, un.release);
            fprintf(f, ", \"cpus\": %ld},\n  \"modes\": {", ncpu);
            for (int k = 0; k < nsel; k++) {
                int i = sel[k];
                fprintf(f, "%s\n    ", k ? "," : "");
                json_str(f, MODES[i].name);
                fprintf(f, ": {\"description\": ");
                json_str(f, MODES[i].what);
                fprintf(f, ", \"median\": ");
                json_result(f, &sum[i].med);
                fprintf(f, ",\n      \"rounds\": [");
                for (int r = 0; r < rounds; r++) {
                    fprintf(f, "%s\n        ", r ? "," : "");
                    json_result(f, &res[i][r]);
                }
                fprintf(f, "]}");
            }
            fprintf(f, "\n  },\n  \"ratios\": {");
            int first = 1;
            for (int i = 0; i < NRATIOS; i++) {
                int a = mode_index(RATIOS[i].num), b = mode_index(RATIOS[i].den);
                if (!sum[a].ok_rounds || !sum[b].ok_rounds || sum[b].med.rps <= 0)
                    continue;
                fprintf(f, "%s\n    ", first ? "" : ",");
                first = 0;
                json_str(f, RATIOS[i].label);
                fprintf(f, ": {\"rps_ratio\": %.3f, \"target\": %.2f, \"per_round\": [",
                        sum[a].med.rps / sum[b].med.rps, RATIOS[i].target);
                for (int r = 0; r < rounds; r++)
                    fprintf(f, "%s%.3f", r ? ", " : "",
                            res[b][r].rps > 0 ? res[a][r].rps / res[b][r].rps : 0);
                fprintf(f, "]}");
            }
            fprintf(f, "\n  }\n}\n");
            fclose(f);
        }
    }

    free(res);
    nginx_target_stop(&g_target);
    curl_global_cleanup();
    return 0;
}
