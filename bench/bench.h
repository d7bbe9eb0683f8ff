/*
 * bench.h — shared pieces of fh-bench: configuration, the per-run
 * measurement (window, latency samples, CPU), and the mode runners.
 *
 * Every mode runs the same protocol: requests for `warmup` seconds that are
 * not counted, then `duration` seconds in which every completed request is
 * counted and its latency stored in a preallocated array (no allocation and
 * no page faults inside the window).
 */
#ifndef FH_BENCH_H
#define FH_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct bench_cfg {
    const char *url;
    double duration; /* seconds measured */
    double warmup;   /* seconds run before measuring */
    int conns;       /* connections = requests in flight (async modes, wrk) */
    const char *wrk; /* wrk binary */
    pid_t target_pid;/* nginx we started (for its CPU time), or 0 */
    int in_flight;   /* fh-async: requests in flight (default: conns); more than
                        conns queue in the pool, which measures the engine at scale */
    int insecure;    /* no certificate verification (fasthttp and libcurl modes) */
    int http2;       /* HTTP/2: fasthttp and libcurl over h2 (https: ALPN; http: prior
                        knowledge), h2load instead of wrk; a response over another
                        version counts as an error */
    const char *ca_file; /* trust this CA (the built-in HTTPS target's certificate) */
    const char *h2load;  /* h2load binary */
    int fresh;           /* a new connection per request: Connection: close (fasthttp,
                            wrk), CURLOPT_FORBID_REUSE (libcurl) */
} bench_cfg;

/* The result of one run of one mode. */
typedef struct bench_result {
    int ok;               /* 0: the mode could not run (see note) */
    char note[160];
    uint64_t requests;    /* completed in the window, successful */
    uint64_t errors;      /* failed or non-2xx in the window */
    double seconds;       /* actual window length */
    double rps;
    double avg_us, p50_us, p99_us;
    double cpu_us_per_req;    /* client CPU (user+sys) per request */
    double target_cpu_pct;    /* nginx CPU during the window, % of one core */
    double other_cpu_pct;     /* CPU used by everything else (other processes
                                 on the machine), % of one core */
    int repeats;              /* runs repeated because the machine was busy */
} bench_result;

/* ---- measurement window (bench_util.c) ---------------------------------- */

typedef struct bench_meter {
    int64_t t_warm_end, t_end;  /* ns, monotonic */
    int64_t dur_ns;
    int measuring;
    uint32_t *lat;              /* latency samples, ns (saturated at 4 s) */
    size_t nlat, cap;
    uint64_t ok, err;
    int64_t t_measure_start, t_measure_end;
    int64_t cpu_start_us, cpu_end_us;
    int64_t tcpu_start_us, tcpu_end_us;
    int64_t busy_start_us, busy_end_us;
    pid_t target_pid;
} bench_meter;

int64_t bench_now_ns(void);
/* Process CPU time (user + system) in microseconds. */
int64_t bench_cpu_self_us(void);
/* CPU time of pid and its direct children (nginx master + workers), µs. */
int64_t bench_cpu_pid_tree_us(pid_t pid);
/* CPU time of every other process on the machine (not us, our children,
 * the target's workers or kernel threads), µs; -1 if /proc is unreadable. */
int64_t bench_cpu_others_us(pid_t target);

/* The sample array is allocated once (and pre-faulted) for the largest run. */
int bench_samples_init(size_t cap);
void bench_samples_free(void);

/* Starts a run: the window opens after warmup and lasts duration. */
void meter_start(bench_meter *m, const bench_cfg *cfg);
/* Call often (at least once per completion): opens the window when due and
 * returns 1 once the run is over. */
int meter_tick(bench_meter *m, int64_t now);
/* One request finished at `now` after starting at `start`. */
static inline void meter_done(bench_meter *m, int64_t start, int64_t now, int ok)
{
    if (!m->measuring || now > m->t_end)
        return;
    if (!ok) {
        m->err++;
        return;
    }
    m->ok++;
    if (m->nlat < m->cap) {
        int64_t d = now - start;
        m->lat[m->nlat++] = d > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)d;
    }
}
/* Closes the window (if not yet) and fills r from the samples. */
void meter_finish(bench_meter *m, bench_result *r);

/* ---- modes -------------------------------------------------------------- */

int run_fh_sync(const bench_cfg *cfg, bench_result *r);    /* bench_fh.c */
int run_fh_async(const bench_cfg *cfg, bench_result *r);
int run_curl_easy(const bench_cfg *cfg, bench_result *r);  /* bench_curl.c */
int run_curl_multi(const bench_cfg *cfg, bench_result *r);
int run_wrk(const bench_cfg *cfg, bench_result *r);        /* bench_wrk.c */
/* "wrk 4.1.0" or similar into buf ("" if unknown). */
void wrk_version(const char *wrk, char *buf, size_t cap);
int run_h2load(const bench_cfg *cfg, bench_result *r);     /* bench_h2load.c */
/* "nghttp2/1.52.0" or similar into buf ("" if unknown). */
void h2load_version(const char *h2load, char *buf, size_t cap);
/* Runs argv with stdout+stderr into out (NUL-terminated); returns the exit
 * status (or -1) and the child's CPU time in *cpu_us (bench_wrk.c). */
int bench_run_capture(char *const argv[], char *out, size_t cap, int64_t *cpu_us);
/* "593.13us" / "1.05ms" / "2.00s" -> microseconds; -1 if not a time. */
double bench_parse_time_us(const char *s);

/* Requests in flight per connection for h2load -m and the like: in_flight
 * spread over conns, rounded up. */
static inline int bench_streams_per_conn(const bench_cfg *cfg)
{
    return (cfg->in_flight + cfg->conns - 1) / cfg->conns;
}

/* ---- the nginx target (nginx_target.c) ---------------------------------- */

typedef struct nginx_target {
    pid_t pid;
    int port;
    int workers;
    int tls;          /* HTTPS + HTTP/2 (by ALPN) instead of plain HTTP/1.1 */
    char dir[256];
    char url[128];
    char ca_file[300]; /* tls: the self-signed certificate, to trust */
    char version[64];
    size_t body_len;
} nginx_target;

/* cpu >= 0: nginx (and its workers) run on that CPU only. tls: listen with
 * HTTPS and HTTP/2 on a certificate made for 127.0.0.1 (bench_cert.c). */
int nginx_target_start(nginx_target *t, int workers, int cpu, int tls);
void nginx_target_stop(nginx_target *t);

/* ---- a throw-away certificate (bench_cert.c) ----------------------------- */

/* Writes a self-signed P-256 certificate for IP 127.0.0.1 and DNS localhost
 * (cert_path, PEM) and its key (key_path, PEM); 0 on success. */
int bench_make_cert(const char *cert_path, const char *key_path);

#endif
