/*
 * fh_progress.c — the progress meter: one line on stderr, redrawn in place
 * with a carriage return, showing the bytes moved, the share of the total
 * when it is known, the rate and the time left, for the download (the body
 * written to -o FILE) and the upload (--data-file). It is drawn only when
 * stderr is a terminal and -s was not given, so scripts and logs never see
 * it; at most five times a second, so a fast transfer does not spend its
 * time redrawing.
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "fh.h"

#define REDRAW_NS 200000000LL

struct fh_progress {
    int64_t start_ns, drawn_ns;
    uint64_t up, down;
    int64_t up_total, down_total; /* -1 when unknown */
    int drawn;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

fh_progress *fh_progress_new(const opts *o)
{
    if (o->silent || !isatty(STDERR_FILENO))
        return NULL;
    fh_progress *p = calloc(1, sizeof *p);
    if (p) {
        p->start_ns = now_ns();
        p->up_total = p->down_total = -1;
    }
    return p;
}

/* "12.3M": bytes with a binary unit, as curl's meter shows them. */
static void size_text(char *out, size_t cap, double n)
{
    const char *units = "BKMGTP";
    int u = 0;
    while (n >= 1024 && units[u + 1]) {
        n /= 1024;
        u++;
    }
    snprintf(out, cap, u ? "%.1f%c" : "%.0f%c", n, units[u]);
}

static void part(const char *label, uint64_t done, int64_t total, double elapsed)
{
    char d[16], t[16], r[16];
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    size_text(d, sizeof d, (double)done);
    size_text(r, sizeof r, rate);
    if (total >= 0) {
        size_text(t, sizeof t, (double)total);
        int pct = total ? (int)((double)done * 100 / (double)total) : 100;
        double left = rate > 0 && (uint64_t)total > done ? (double)((uint64_t)total - done) / rate
                                                         : 0;
        fprintf(stderr, "%s %3d%% %7s of %7s  %7s/s  ETA %02d:%02d", label, pct, d, t, r,
                (int)left / 60, (int)left % 60);
    } else {
        fprintf(stderr, "%s %7s  %7s/s", label, d, r);
    }
}

static void draw(fh_progress *p, int final)
{
    int64_t now = now_ns();
    if (!final && p->drawn && now - p->drawn_ns < REDRAW_NS)
        return;
    p->drawn_ns = now;
    p->drawn = 1;
    double elapsed = (double)(now - p->start_ns) / 1e9;
    fputs("\r\033[K", stderr); /* back to the start of the line, and clear it */
    if (p->up || p->up_total >= 0)
        part("up", p->up, p->up_total, elapsed);
    if (p->down || p->down_total >= 0) {
        if (p->up || p->up_total >= 0)
            fputs("  ", stderr);
        part("down", p->down, p->down_total, elapsed);
    }
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

static void update(fh_progress *p, uint64_t *done, int64_t *total, uint64_t now_done,
                   int64_t now_total)
{
    *done = now_done;
    *total = now_total;
    draw(p, 0);
}

void fh_progress_upload(fh_progress *p, uint64_t done, int64_t total)
{
    if (p)
        update(p, &p->up, &p->up_total, done, total);
}

void fh_progress_download(fh_progress *p, uint64_t done, int64_t total)
{
    if (p)
        update(p, &p->down, &p->down_total, done, total);
}

void fh_progress_end(fh_progress *p)
{
    if (!p)
        return;
    if (p->drawn || p->up || p->down)
        draw(p, 1);
    free(p);
}
