/*
 * curl_count.c — curl-count: libcurl's side of fh-count. A fixed number of
 * requests with a fixed number in flight, one multi handle driven by
 * curl_multi_socket_action() over epoll (the loop shape of fh-count's
 * engine), so that callgrind counts what one request costs libcurl:
 *
 *   valgrind --tool=callgrind curl-count URL N IN_FLIGHT [CONNS] [--http2] [--fresh]
 *
 * --fresh: a new connection per request (CURLOPT_FORBID_REUSE); libcurl
 * resumes TLS sessions from its own cache.
 *
 * With --http2 the handles ask for HTTP/2 (ALPN over https, prior knowledge
 * over http) and may multiplex on CONNS connections. Bodies are counted and
 * dropped by the write callback: libcurl never buffers them, fasthttp's
 * buffered mode does, which is work only fasthttp's figure contains.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static int ep, done, submitted, total, failed;
static long timeout_ms = -1;
static CURLM *multi;

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *ud, void *sockp)
{
    (void)easy;
    (void)ud;
    struct epoll_event ev = {0};
    ev.data.fd = s;
    if (what == CURL_POLL_REMOVE) {
        if (sockp)
            epoll_ctl(ep, EPOLL_CTL_DEL, s, NULL);
        curl_multi_assign(multi, s, NULL);
        return 0;
    }
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
    if (epoll_ctl(ep, sockp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) < 0)
        return -1;
    curl_multi_assign(multi, s, (void *)1);
    return 0;
}

static int on_timer(CURLM *m, long ms, void *ud)
{
    (void)m;
    (void)ud;
    timeout_ms = ms;
    return 0;
}

/* Collects finished transfers and sends each handle again while requests
 * are left. */
static void drain(void)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *h = msg->easy_handle;
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (msg->data.result != CURLE_OK || code != 200) {
            if (!failed)
                fprintf(stderr, "curl-count: %s (status %ld)\n",
                        curl_easy_strerror(msg->data.result), code);
            failed++;
        }
        done++;
        curl_multi_remove_handle(multi, h);
        if (submitted < total) {
            submitted++;
            curl_multi_add_handle(multi, h);
        }
    }
}

int main(int argc, char **argv)
{
    int http2 = 0, fresh = 0;
    while (argc > 1 && strncmp(argv[argc - 1], "--", 2) == 0) {
        if (strcmp(argv[argc - 1], "--http2") == 0)
            http2 = 1;
        else if (strcmp(argv[argc - 1], "--fresh") == 0)
            fresh = 1;
        else
            break;
        argc--;
    }
    if (argc < 4) {
        fprintf(stderr, "usage: curl-count URL N IN_FLIGHT [CONNS] [--http2] [--fresh]\n");
        return 2;
    }
    total = atoi(argv[2]);
    int k = atoi(argv[3]), conns = argc > 4 ? atoi(argv[4]) : k;
    if (total < 1 || k < 1 || conns < 1 || k > total) {
        fprintf(stderr, "curl-count: N >= IN_FLIGHT >= 1 and CONNS >= 1\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ep = epoll_create1(EPOLL_CLOEXEC);
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)conns);
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conns);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)conns);
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, http2 ? CURLPIPE_MULTIPLEX : CURLPIPE_NOTHING);
    curl_multi_setopt(multi, CURLMOPT_MAX_CONCURRENT_STREAMS, (long)k);
    CURL **hs = calloc((size_t)k, sizeof *hs);
    for (int i = 0; i < k; i++) {
        CURL *h = hs[i] = curl_easy_init();
        curl_easy_setopt(h, CURLOPT_URL, argv[1]);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(h, CURLOPT_FORBID_REUSE, (long)fresh);
        if (http2) {
            curl_easy_setopt(h, CURLOPT_HTTP_VERSION, strncmp(argv[1], "https:", 6)
                                 ? CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE : CURL_HTTP_VERSION_2TLS);
            curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
        }
        submitted++;
        curl_multi_add_handle(multi, h);
    }
    int running = 0;
    struct epoll_event evs[256];
    while (done < total) {
        int n = epoll_wait(ep, evs, 256, timeout_ms < 0 ? 1000 : (int)timeout_ms);
        if (n < 0 && errno != EINTR)
            break;
        if (n <= 0) {
            curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
            drain();
        }
        for (int i = 0; i < n; i++) {
            uint32_t e = evs[i].events;
            int ev = ((e & EPOLLIN) ? CURL_CSELECT_IN : 0) | ((e & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                     ((e & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(multi, evs[i].data.fd, ev, &running);
            drain();
        }
    }
    for (int i = 0; i < k; i++) {
        curl_multi_remove_handle(multi, hs[i]);
        curl_easy_cleanup(hs[i]);
    }
    free(hs);
    curl_multi_cleanup(multi);
    close(ep);
    curl_global_cleanup();
    printf("curl-count: %d requests, %d in flight, %d failed\n", done, k, failed);
    return failed ? 1 : 0;
}
