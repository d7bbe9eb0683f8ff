/*
 * test_multipart.c — the multipart/form-data encoder (src/multipart.c):
 * exact bytes of bodies, escaping of names and filenames, boundaries,
 * lengths equal to the bytes produced through output buffers of every small
 * size, readers of known and unknown length, FH_EAGAIN pass-through, reader
 * failures, and a whole exchange of an attached body over a socketpair peer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fasthttp/fasthttp.h"
#include "multipart.h"

/* ---- helpers ------------------------------------------------------------ */

/* Reads the whole body through a buffer of cap bytes. Returns the final
 * status (0 or the error) and the bytes in *out (malloc'd, NUL-terminated). */
static int drain(fh_multipart *m, size_t cap, char **out, size_t *len)
{
    uint8_t *buf = malloc(cap);
    size_t n = 0, room = 4096;
    char *acc = malloc(room);
    int rc = 0;
    for (;;) {
        ssize_t r = fh_multipart_read(m, buf, cap);
        if (r == FH_EAGAIN)
            continue; /* test readers pause once and go on */
        if (r < 0) {
            rc = (int)r;
            break;
        }
        if (r == 0)
            break;
        assert_true((size_t)r <= cap);
        while (n + (size_t)r + 1 > room)
            acc = realloc(acc, room *= 2);
        memcpy(acc + n, buf, (size_t)r);
        n += (size_t)r;
    }
    acc[n] = 0;
    free(buf);
    *out = acc;
    *len = n;
    return rc;
}

static void assert_body(fh_multipart *m, const char *want, size_t want_len)
{
    char *got;
    size_t len;
    assert_int_equal(drain(m, 65536, &got, &len), 0);
    if (len != want_len || memcmp(got, want, len) != 0) {
        print_error("got  (%zu) '%s'\nwant (%zu) '%s'\n", len, got, want_len, want);
        fail();
    }
    free(got);
}

#define ASSERT_BODY(m, lit) assert_body((m), (lit), sizeof(lit) - 1)

/* A reader over a string: hands out at most `step` bytes per call, and can
 * pause (FH_EAGAIN) once before every piece, fail at a given call, or lie. */
typedef struct src {
    const char *data;
    size_t len, pos, step;
    int pause, paused, pauses, calls, fail_at, fail_code, extra;
} src;

static ssize_t src_read(void *ud, uint8_t *buf, size_t cap)
{
    src *s = ud;
    s->calls++;
    if (s->fail_at && s->calls == s->fail_at)
        return s->fail_code;
    if (s->pause && !s->paused) {
        s->paused = 1;
        s->pauses++;
        return FH_EAGAIN;
    }
    s->paused = 0;
    if (s->pos == s->len) {
        if (s->extra) { /* gives more than announced */
            s->extra = 0;
            buf[0] = '!';
            return 1;
        }
        return 0;
    }
    size_t n = s->len - s->pos;
    if (n > cap)
        n = cap;
    if (s->step && n > s->step)
        n = s->step;
    memcpy(buf, s->data + s->pos, n);
    s->pos += n;
    return (ssize_t)n;
}

static fh_multipart *new_mp(const char *boundary)
{
    int err = 1;
    fh_multipart *m = fh_multipart_new(boundary, &err);
    assert_non_null(m);
    assert_int_equal(err, FH_OK);
    return m;
}

/* ---- exact bytes -------------------------------------------------------- */

static void test_exact_body(void **state)
{
    (void)state;
    fh_multipart *m = new_mp("BOUNDARY");
    assert_string_equal(fh_multipart_boundary(m), "BOUNDARY");
    assert_string_equal(fh_multipart_content_type(m), "multipart/form-data; boundary=BOUNDARY");
    assert_int_equal(fh_multipart_add_field(m, "user_id", "123"), FH_OK);
    assert_int_equal(fh_multipart_add_file(m, "avatar", "photo.jpg", NULL, "\xff\xd8jpeg", 6, 1),
                     FH_OK);
    assert_int_equal(fh_multipart_add_file(m, "meta", "meta.json", "application/json",
                                           "{\"public\": true}", 16, 0),
                     FH_OK);
    assert_int_equal(fh_multipart_add_file(m, "empty", "", NULL, NULL, 0, 1), FH_OK);
    assert_int_equal(fh_multipart_add_field_n(m, "bin", "a\0b", 3), FH_OK);
    static const char want[] =
        "--BOUNDARY\r\n"
        "Content-Disposition: form-data; name=\"user_id\"\r\n"
        "\r\n"
        "123\r\n"
        "--BOUNDARY\r\n"
        "Content-Disposition: form-data; name=\"avatar\"; filename=\"photo.jpg\"\r\n"
        "Content-Type: image/jpeg\r\n"
        "\r\n"
        "\xff\xd8jpeg\r\n"
        "--BOUNDARY\r\n"
        "Content-Disposition: form-data; name=\"meta\"; filename=\"meta.json\"\r\n"
        "Content-Type: application/json\r\n"
        "\r\n"
        "{\"public\": true}\r\n"
        "--BOUNDARY\r\n"
        "Content-Disposition: form-data; name=\"empty\"; filename=\"\"\r\n"
        "Content-Type: application/octet-stream\r\n"
        "\r\n"
        "\r\n"
        "--BOUNDARY\r\n"
        "Content-Disposition: form-data; name=\"bin\"\r\n"
        "\r\n"
        "a\0b\r\n"
        "--BOUNDARY--\r\n";
    assert_int_equal(fh_multipart_length(m), (int64_t)sizeof want - 1);
    ASSERT_BODY(m, want);
    /* The end stays the end. */
    uint8_t b[8];
    assert_int_equal(fh_multipart_read(m, b, sizeof b), 0);
    fh_multipart_free(m);
}

static void test_empty_body_and_explicit_types(void **state)
{
    (void)state;
    fh_multipart *m = new_mp("b");
    assert_int_equal(fh_multipart_length(m), 7);
    ASSERT_BODY(m, "--b--\r\n");
    fh_multipart_free(m);

    /* A filename-less part with a type; a file with "" (no Content-Type). */
    m = new_mp("b");
    assert_int_equal(fh_multipart_add_file(m, "x", NULL, "text/csv", "1,2", 3, 1), FH_OK);
    assert_int_equal(fh_multipart_add_file(m, "y", "y.png", "", "P", 1, 1), FH_OK);
    ASSERT_BODY(m, "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n"
                   "Content-Type: text/csv\r\n\r\n1,2\r\n"
                   "--b\r\nContent-Disposition: form-data; name=\"y\"; filename=\"y.png\"\r\n"
                   "\r\nP\r\n--b--\r\n");
    fh_multipart_free(m);
}

/* ---- escaping ----------------------------------------------------------- */

static void test_escaping_names_and_filenames(void **state)
{
    (void)state;
    fh_multipart *m = new_mp("B");
    assert_int_equal(fh_multipart_add_file(m, "a\"b\r\nX-Injected: 1", "evil\".txt\r\n\r\nboom",
                                           "text/plain", "v", 1, 1),
                     FH_OK);
    /* Non-ASCII stays UTF-8; backslash, %, ';' and tabs are left alone. */
    assert_int_equal(fh_multipart_add_file(m, "caf\xc3\xa9", "r\xc3\xa9sum\xc3\xa9 \xe2\x9c\x93.pdf",
                                           NULL, "%", 1, 1),
                     FH_OK);
    assert_int_equal(fh_multipart_add_field(m, "a\\b;c=d\te%22", "v"), FH_OK);
    ASSERT_BODY(m,
                "--B\r\nContent-Disposition: form-data; name=\"a%22b%0D%0AX-Injected: 1\"; "
                "filename=\"evil%22.txt%0D%0A%0D%0Aboom\"\r\nContent-Type: text/plain\r\n\r\n"
                "v\r\n"
                "--B\r\nContent-Disposition: form-data; name=\"caf\xc3\xa9\"; "
                "filename=\"r\xc3\xa9sum\xc3\xa9 \xe2\x9c\x93.pdf\"\r\n"
                "Content-Type: application/pdf\r\n\r\n%\r\n"
                "--B\r\nContent-Disposition: form-data; name=\"a\\b;c=d\te%22\"\r\n\r\nv\r\n"
                "--B--\r\n");
    fh_multipart_free(m);

    fh__buf b = {0};
    assert_int_equal(fh__mp_escape(&b, "\"\"\r\n", 4), FH_OK);
    assert_int_equal(b.len, 12);
    assert_memory_equal(b.data, "%22%22%0D%0A", 12);
    fh__buf_free(&b);
}

static void test_content_type_rejects_control_bytes(void **state)
{
    (void)state;
    fh_multipart *m = new_mp("B");
    assert_int_equal(fh_multipart_add_file(m, "f", "f", "text/plain\r\nX: 1", "v", 1, 1),
                     FH_EHEADER);
    assert_int_equal(fh_multipart_add_file(m, "f", "f", "text/plain\n", "v", 1, 1), FH_EHEADER);
    assert_int_equal(fh_multipart_add_file(m, "f", "f", "a\x7f", "v", 1, 1), FH_EHEADER);
    assert_int_equal(fh_multipart_add_file(m, "f", "f", "text/plain;\tq=1", "v", 1, 1), FH_OK);
    assert_int_equal(fh_multipart_add_field(m, NULL, "v"), FH_EINVAL);
    assert_int_equal(fh_multipart_add_field(m, "n", NULL), FH_EINVAL);
    assert_int_equal(fh_multipart_add_file_reader(m, "n", NULL, NULL, NULL, NULL, 1), FH_EINVAL);
    assert_int_equal(fh_multipart_add_file(m, "n", NULL, NULL, NULL, 3, 0), FH_EINVAL);
    fh_multipart_free(m);
}

/* ---- boundaries --------------------------------------------------------- */

static void test_boundaries(void **state)
{
    (void)state;
    const char *bad[] = {"", "trailing ", "quote\"", "back\\slash", "semi;colon", "nl\n",
                         "0123456789012345678901234567890123456789012345678901234567890123456789X"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int err = 0;
        assert_null(fh_multipart_new(bad[i], &err));
        assert_int_equal(err, FH_EINVAL);
    }
    const char *seventy =
        "0123456789012345678901234567890123456789012345678901234567890123456789";
    fh_multipart *m = new_mp(seventy);
    fh_multipart_free(m);
    /* Characters outside token need a quoted parameter. */
    m = new_mp("a'b(c)d+e_f,g-h.i/j:k=l?m n");
    assert_string_equal(fh_multipart_content_type(m),
                        "multipart/form-data; boundary=\"a'b(c)d+e_f,g-h.i/j:k=l?m n\"");
    fh_multipart_free(m);
    m = new_mp("a'b+c_d-e.f");
    assert_string_equal(fh_multipart_content_type(m), "multipart/form-data; boundary=a'b+c_d-e.f");
    fh_multipart_free(m);

    /* Random: 32 lowercase hex characters, different every time. */
    fh_multipart *r1 = fh_multipart_new(NULL, NULL), *r2 = fh_multipart_new(NULL, NULL);
    assert_non_null(r1);
    assert_non_null(r2);
    const char *b1 = fh_multipart_boundary(r1);
    assert_int_equal(strlen(b1), 32);
    assert_int_equal(strspn(b1, "0123456789abcdef"), 32);
    assert_string_not_equal(b1, fh_multipart_boundary(r2));
    char want[80];
    snprintf(want, sizeof want, "multipart/form-data; boundary=%s", b1);
    assert_string_equal(fh_multipart_content_type(r1), want);
    fh_multipart_free(r1);
    fh_multipart_free(r2);
}

/* ---- media types -------------------------------------------------------- */

static void test_guess_type(void **state)
{
    (void)state;
    assert_string_equal(fh_multipart_guess_type("a.txt"), "text/plain");
    assert_string_equal(fh_multipart_guess_type("INDEX.HTML"), "text/html");
    assert_string_equal(fh_multipart_guess_type("x.Json"), "application/json");
    assert_string_equal(fh_multipart_guess_type("dir.d/p.PNG"), "image/png");
    assert_string_equal(fh_multipart_guess_type("C:\\pics\\a.jpeg"), "image/jpeg");
    assert_string_equal(fh_multipart_guess_type("a.jpg"), "image/jpeg");
    assert_string_equal(fh_multipart_guess_type("a.gif"), "image/gif");
    assert_string_equal(fh_multipart_guess_type("a.pdf"), "application/pdf");
    assert_string_equal(fh_multipart_guess_type("a.tar.gz"), "application/gzip");
    assert_string_equal(fh_multipart_guess_type("a.zip"), "application/zip");
    assert_string_equal(fh_multipart_guess_type("a.bin"), "application/octet-stream");
    assert_string_equal(fh_multipart_guess_type("a.unknown"), "application/octet-stream");
    assert_string_equal(fh_multipart_guess_type("README"), "application/octet-stream");
    assert_string_equal(fh_multipart_guess_type(".json"), "application/octet-stream");
    assert_string_equal(fh_multipart_guess_type("dir.json/x"), "application/octet-stream");
    assert_string_equal(fh_multipart_guess_type("a."), "application/octet-stream");
    assert_string_equal(fh_multipart_guess_type(""), "application/octet-stream");
    assert_string_equal(fh_multipart_guess_type(NULL), "application/octet-stream");
}

/* ---- lengths and small buffers ------------------------------------------ */

static const char TEXT[] = "The quick brown fox jumps over the lazy dog. 0123456789";

static fh_multipart *mixed(src *s1, src *s2, int unknown)
{
    fh_multipart *m = new_mp("mixed-boundary");
    assert_int_equal(fh_multipart_add_field(m, "a", "1"), FH_OK);
    *s1 = (src){.data = TEXT, .len = sizeof TEXT - 1, .step = 7};
    assert_int_equal(fh_multipart_add_file_reader(m, "r1", "r1.txt", NULL, src_read, s1,
                                                  (int64_t)sizeof TEXT - 1),
                     FH_OK);
    assert_int_equal(fh_multipart_add_file(m, "mem", "m.bin", NULL, TEXT, 10, 0), FH_OK);
    *s2 = (src){.data = TEXT, .len = 20, .step = 3};
    assert_int_equal(fh_multipart_add_file_reader(m, "r2", NULL, NULL, src_read, s2,
                                                  unknown ? -1 : 20),
                     FH_OK);
    return m;
}

static void test_length_equals_bytes_through_small_buffers(void **state)
{
    (void)state;
    src s1, s2;
    fh_multipart *ref = mixed(&s1, &s2, 0);
    int64_t len = fh_multipart_length(ref);
    assert_true(len > 0);
    char *want;
    size_t want_len;
    assert_int_equal(drain(ref, 1 << 16, &want, &want_len), 0);
    assert_int_equal((int64_t)want_len, len);
    fh_multipart_free(ref);

    for (size_t cap = 1; cap <= 40; cap++) {
        fh_multipart *m = mixed(&s1, &s2, 0);
        char *got;
        size_t got_len;
        assert_int_equal(drain(m, cap, &got, &got_len), 0);
        assert_int_equal(got_len, want_len);
        assert_memory_equal(got, want, want_len);
        free(got);
        fh_multipart_free(m);
    }
    free(want);
}

static void test_unknown_length(void **state)
{
    (void)state;
    src s1, s2;
    fh_multipart *m = mixed(&s1, &s2, 1);
    assert_int_equal(fh_multipart_length(m), -1);
    char *got;
    size_t got_len;
    assert_int_equal(drain(m, 5, &got, &got_len), 0);
    fh_multipart_free(m);
    /* Same bytes as the known-length body. */
    fh_multipart *k = mixed(&s1, &s2, 0);
    assert_int_equal(fh_multipart_length(k), (int64_t)got_len);
    char *want;
    size_t want_len;
    assert_int_equal(drain(k, 4096, &want, &want_len), 0);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    free(got);
    free(want);
    fh_multipart_free(k);
}

static void test_eagain_passes_through(void **state)
{
    (void)state;
    /* The reader pauses before every piece. A pause after some output ends
     * that read with the output; a pause before any output is FH_EAGAIN. */
    for (size_t cap = 2; cap <= 256; cap += 254) {
        fh_multipart *m = new_mp("B");
        src s = {.data = "abcdef", .len = 6, .step = 2, .pause = 1};
        assert_int_equal(fh_multipart_add_file_reader(m, "f", NULL, "", src_read, &s, 6), FH_OK);
        uint8_t buf[256];
        size_t total = 0;
        int eagains = 0;
        char acc[256];
        for (;;) {
            ssize_t r = fh_multipart_read(m, buf, cap);
            if (r == FH_EAGAIN) {
                eagains++;
                continue;
            }
            assert_true(r >= 0);
            if (r == 0)
                break;
            memcpy(acc + total, buf, (size_t)r);
            total += (size_t)r;
        }
        assert_int_equal(s.pauses, 4); /* before ab, cd, ef and the end */
        if (cap == 2)
            assert_true(eagains >= 3);
        else
            assert_int_equal(eagains, 0);
        assert_int_equal((int64_t)total, fh_multipart_length(m));
        static const char want[] =
            "--B\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nabcdef\r\n--B--\r\n";
        assert_int_equal(total, sizeof want - 1);
        assert_memory_equal(acc, want, total);
        fh_multipart_free(m);
    }
}

/* ---- reader failures ---------------------------------------------------- */

static void test_reader_error_propagates(void **state)
{
    (void)state;
    fh_multipart *m = new_mp("B");
    assert_int_equal(fh_multipart_add_field(m, "first", "ok"), FH_OK);
    src s = {.data = TEXT, .len = sizeof TEXT - 1, .step = 4, .fail_at = 3, .fail_code = -42};
    assert_int_equal(fh_multipart_add_file_reader(m, "up\"load", "f.bin", NULL, src_read, &s, -1),
                     FH_OK);
    assert_string_equal(fh_multipart_error_message(m), "");
    char *got;
    size_t len;
    assert_int_equal(drain(m, 64, &got, &len), -42);
    free(got);
    assert_string_equal(fh_multipart_error_message(m), "part 2 (name \"up%22load\"): reader failed");
    /* Final: the reader is not called again. */
    int calls = s.calls;
    uint8_t b[16];
    assert_int_equal(fh_multipart_read(m, b, sizeof b), -42);
    assert_int_equal(s.calls, calls);
    /* No parts once producing has begun. */
    assert_int_equal(fh_multipart_add_field(m, "late", "x"), FH_ESTATE);
    fh_multipart_free(m);
}

static void test_reader_length_mismatch(void **state)
{
    (void)state;
    /* Fewer bytes than announced. */
    fh_multipart *m = new_mp("B");
    src s = {.data = "abc", .len = 3};
    assert_int_equal(fh_multipart_add_file_reader(m, "short", NULL, NULL, src_read, &s, 5), FH_OK);
    char *got;
    size_t len;
    assert_int_equal(drain(m, 64, &got, &len), FH_EBODY_SOURCE);
    free(got);
    assert_string_equal(fh_multipart_error_message(m),
                        "part 1 (name \"short\") ended after 3 of 5 bytes");
    fh_multipart_free(m);

    /* More bytes than announced: the reader is asked once more for the end. */
    m = new_mp("B");
    s = (src){.data = "abc", .len = 3, .extra = 1};
    assert_int_equal(fh_multipart_add_file_reader(m, "long", NULL, NULL, src_read, &s, 3), FH_OK);
    assert_int_equal(drain(m, 64, &got, &len), FH_EBODY_SOURCE);
    free(got);
    assert_string_equal(fh_multipart_error_message(m),
                        "part 1 (name \"long\") gave more than its 3 bytes");
    fh_multipart_free(m);

    /* Long names are shortened in messages, never cut inside a character. */
    m = new_mp("B");
    char name[200];
    memset(name, 'n', 59);
    strcpy(name + 59, "\xc3\xa9tail-that-is-long-enough-to-be-cut-off-here");
    s = (src){.data = "", .len = 0};
    assert_int_equal(fh_multipart_add_file_reader(m, name, NULL, NULL, src_read, &s, 1), FH_OK);
    assert_int_equal(drain(m, 64, &got, &len), FH_EBODY_SOURCE);
    free(got);
    char want[200];
    snprintf(want, sizeof want, "part 1 (name \"%.59s...\") ended after 0 of 1 bytes", name);
    assert_string_equal(fh_multipart_error_message(m), want);
    fh_multipart_free(m);
}

/* ---- a whole exchange ------------------------------------------------------ */

typedef struct peer {
    pthread_t thread;
    int fd;
    char req[16384];
    size_t len;
} peer;

static void *peer_main(void *arg)
{
    peer *p = arg;
    for (;;) { /* read until the request, head and body, is complete */
        ssize_t n = read(p->fd, p->req + p->len, sizeof p->req - 1 - p->len);
        if (n <= 0)
            break;
        p->len += (size_t)n;
        p->req[p->len] = 0;
        char *end = strstr(p->req, "\r\n\r\n");
        if (!end)
            continue;
        const char *cl = strcasestr(p->req, "content-length:");
        if (cl && cl < end && p->len >= (size_t)(end + 4 - p->req) + strtoul(cl + 15, NULL, 10))
            break;
        if (!cl && strstr(end + 4, "\r\n0\r\n\r\n"))
            break;
    }
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    ssize_t w = write(p->fd, ok, sizeof ok - 1);
    (void)w;
    close(p->fd);
    return NULL;
}

static int hook(void *ud, const char *host, int port)
{
    peer *p = ud;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return FH_ECONNECT;
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    p->fd = sv[1];
    pthread_create(&p->thread, NULL, peer_main, p);
    return sv[0];
}

typedef struct done {
    int done, status;
    fh_response *resp;
} done;

static void on_done(void *ud, fh_request *req, int status, fh_response *resp)
{
    done *d = ud;
    d->done = 1;
    d->status = status;
    d->resp = resp;
}

/* Sends a form with a reader part: of known length with the blocking API,
 * or of unknown length, pausing (FH_EAGAIN) before every piece, on an
 * engine that is resumed each time. */
static void send_attached(int unknown, peer *p)
{
    fh_client *c = fh_client_new();
    fh_client_set_connect_hook(c, hook, p);
    fh_request *r = fh_request_new("POST", "http://upload.test/form", NULL);
    fh_multipart *m = new_mp("XyZ");
    assert_int_equal(fh_multipart_add_field(m, "k", "v"), FH_OK);
    src s = {.data = "file body", .len = 9, .step = 4, .pause = unknown};
    assert_int_equal(fh_multipart_add_file_reader(m, "f", "f.txt", NULL, src_read, &s,
                                                  unknown ? -1 : 9),
                     FH_OK);
    assert_int_equal(fh_multipart_attach(m, r), FH_OK);
    fh_response *resp = NULL;
    if (!unknown) {
        assert_int_equal(fh_client_send(c, r, &resp), FH_OK);
    } else {
        fh_engine *e = fh_engine_new(c, NULL, NULL);
        done d = {0};
        fh_callbacks cb = {on_done, NULL};
        assert_int_equal(fh_engine_submit(e, r, &cb, &d), FH_OK);
        while (!d.done) {
            fh_engine_poll(e, 10);
            if (s.paused) /* a no-op unless the engine is paused */
                assert_int_equal(fh_engine_resume(e, r), FH_OK);
        }
        assert_int_equal(d.status, FH_OK);
        assert_true(s.pauses >= 3);
        resp = d.resp;
        fh_engine_free(e);
    }
    assert_int_equal(fh_response_status(resp), 200);
    fh_response_free(resp);
    pthread_join(p->thread, NULL);
    fh_request_free(r);
    fh_multipart_free(m);
    fh_client_free(c);
}

static void test_attach_content_length(void **state)
{
    (void)state;
    peer p = {0};
    send_attached(0, &p);
    static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv\r\n"
                               "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; "
                               "filename=\"f.txt\"\r\nContent-Type: text/plain\r\n\r\n"
                               "file body\r\n--XyZ--\r\n";
    char want[64];
    snprintf(want, sizeof want, "Content-Length: %zu\r\n", sizeof body - 1);
    assert_non_null(strstr(p.req, "POST /form HTTP/1.1\r\n"));
    assert_non_null(strstr(p.req, "Content-Type: multipart/form-data; boundary=XyZ\r\n"));
    assert_non_null(strstr(p.req, want));
    assert_null(strstr(p.req, "Transfer-Encoding"));
    char *at = strstr(p.req, "\r\n\r\n");
    assert_non_null(at);
    assert_string_equal(at + 4, body);
}

static void test_attach_chunked(void **state)
{
    (void)state;
    peer p = {0};
    send_attached(1, &p);
    assert_non_null(strstr(p.req, "Transfer-Encoding: chunked\r\n"));
    assert_null(strstr(p.req, "Content-Length"));
    /* De-chunk and compare. */
    char *at = strstr(p.req, "\r\n\r\n") + 4, body[4096];
    size_t n = 0;
    for (;;) {
        char *end;
        unsigned long sz = strtoul(at, &end, 16);
        at = strstr(end, "\r\n") + 2;
        if (sz == 0)
            break;
        memcpy(body + n, at, sz);
        n += sz;
        at += sz + 2;
    }
    body[n] = 0;
    assert_string_equal(body, "--XyZ\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv\r\n"
                              "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; "
                              "filename=\"f.txt\"\r\nContent-Type: text/plain\r\n\r\n"
                              "file body\r\n--XyZ--\r\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_body),
        cmocka_unit_test(test_empty_body_and_explicit_types),
        cmocka_unit_test(test_escaping_names_and_filenames),
        cmocka_unit_test(test_content_type_rejects_control_bytes),
        cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_guess_type),
        cmocka_unit_test(test_length_equals_bytes_through_small_buffers),
        cmocka_unit_test(test_unknown_length),
        cmocka_unit_test(test_eagain_passes_through),
        cmocka_unit_test(test_reader_error_propagates),
        cmocka_unit_test(test_reader_length_mismatch),
        cmocka_unit_test(test_attach_content_length),
        cmocka_unit_test(test_attach_chunked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
