/*
 * fh.h — what the parts of the fh command share: its options and the
 * functions each module (tools/fh_*.c) gives the main program (tools/fh.c).
 */
#ifndef FH_TOOL_H
#define FH_TOOL_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "fasthttp/fasthttp.h"

#define FH_MAX_URLS 256

typedef struct opts {
    const char *method, *data, *data_file, *out, *cacert, *cert, *key;
    const char *proxy, *noproxy, *uds; /* -x, --noproxy, --unix-socket */
    const char *urls[FH_MAX_URLS];
    int nurls;
    const char *headers[128];
    int nheaders, include, head, insecure, compressed, http2, verbose;
    double timeout;
    /* curl's flags (tools/fh_curl.c parses them) */
    int location, max_redirs, retry, digest, parallel, silent, show_error;
    const char *user, *cookie_in, *cookie_out, *write_out;
} opts;

/* fh.c: the request's headers, -d body, -b cookie string and redirect
 * setting, as every transfer gets them (fh_multi.c too). */
int fh_request_setup(fh_request *r, const opts *o);

/* fh_curl.c: the options that follow curl (-L, -u, --retry, -b, -c, -w,
 * -Z, -s); 1 when c was one of them (and is applied to o), 0 when not, -1
 * for a bad value. */
int fh_curl_option(int c, const char *arg, opts *o);
/* Their getopt entries, ended by a zeroed entry, and short letters. */
extern const struct option fh_curl_long_options[];
#define FH_CURL_SHORT "Lu:b:c:w:Zs"
/* Applies them to the client (redirects, credentials, retries, cookie
 * jar). FH_OK or a code, with the reason on stderr. */
int fh_curl_configure(fh_client *c, const opts *o, fh_cookie_jar **jar);
/* Per request: follows redirects only with -L (at most --max-redirs). */
int fh_curl_request(fh_request *req, const opts *o);
/* Writes the cookie jar to -c FILE (Netscape format). 0 or 1 on failure. */
int fh_curl_save_cookies(const opts *o, fh_cookie_jar *jar);

/* fh_cookiefile.c: Netscape cookie files (curl's and wget's format). */
int fh_cookiefile_load(fh_cookie_jar *jar, const char *path);
int fh_cookiefile_save(fh_cookie_jar *jar, const char *path);

/* fh_info.c: -v and -w. */
void fh_info_verbose(FILE *f, fh_response *resp);
void fh_info_verbose_timings(FILE *f, const fh_response *resp);
/* Writes the -w format with its %{variables} for resp (NULL when the
 * transfer failed: numbers are 0). */
void fh_info_write_out(FILE *f, const char *fmt, const fh_response *resp, uint64_t downloaded,
                       uint64_t uploaded);

/* fh_progress.c: the progress meter on stderr (a terminal only). */
typedef struct fh_progress fh_progress;
/* NULL (no meter) unless stderr is a terminal and -s was not given. */
fh_progress *fh_progress_new(const opts *o);
void fh_progress_upload(fh_progress *p, uint64_t done, int64_t total);
void fh_progress_download(fh_progress *p, uint64_t done, int64_t total);
/* Draws the last state with a newline and frees it. */
void fh_progress_end(fh_progress *p);

/* fh_multi.c: -Z, every URL at once over one engine. */
int fh_multi_run(const opts *o, fh_client *c, FILE *out);

#endif
