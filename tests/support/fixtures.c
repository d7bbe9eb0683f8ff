/*
 * fixtures.c — helpers shared by the integration and fault tests (see
 * fixtures.h). Only POSIX, the OpenSSL 3 C API and the public fasthttp API.
 */
#include "support/fixtures.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static int fail(const char *what, const char *arg)
{
    fprintf(stderr, "fixtures: %s%s%s: %s\n", what, arg ? " " : "", arg ? arg : "",
            errno ? strerror(errno) : "failed");
    return -1;
}

/* ---- files and directories ------------------------------------------------ */

int fh_test_mkdtemp(const char *tag, char *out, size_t cap)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    int n = snprintf(out, cap, "%s/fasthttp-%s-XXXXXX", base, tag ? tag : "test");
    if (n < 0 || (size_t)n >= cap)
        return fail("mkdtemp: path too long under", base);
    if (!mkdtemp(out))
        return fail("mkdtemp", out);
    return 0;
}

static int rmtree_at(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) /* not a directory (or a symlink): unlink it */
        return unlinkat(dirfd, name, 0) == 0 || errno == ENOENT ? 0 : -1;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            rc |= rmtree_at(fd, e->d_name);
    closedir(d);
    if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

int fh_test_rmtree(const char *path)
{
    if (!path || !*path || strcmp(path, "/") == 0)
        return -1; /* refuse the obviously catastrophic */
    return rmtree_at(AT_FDCWD, path) == 0 ? 0 : fail("rmtree", path);
}

int fh_test_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail("open", path);
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return fail("write", path);
        }
        p += n;
        len -= (size_t)n;
    }
    return close(fd) == 0 ? 0 : fail("close", path);
}

int fh_test_read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rbe");
    if (!f)
        return fail("fopen", path);
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) {
        free(buf);
        return fail("read", path);
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return 0;
}

char *fh_test_path(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
    return out;
}

int fh_test_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own fd */
}

int fh_test_fds_unchanged(int before)
{
    int after = fh_test_count_fds();
    if (after == before)
        return 0;
    fprintf(stderr, "fd leak: %d open before the test, %d after\n", before, after);
    return -1;
}

long fh_test_maxrss_kib(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

void fh_test_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* ---- ports and processes ------------------------------------------------ */

static void loopback(struct sockaddr_in *a, int port)
{
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

int fh_test_free_port(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    loopback(&a, 0);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail("socket", NULL);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int try_connect(int port)
{
    struct sockaddr_in a;
    loopback(&a, port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    close(fd);
    return rc;
}

int fh_test_wait_port(int port, int timeout_ms, pid_t pid)
{
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        if (try_connect(port) == 0)
            return 0;
        siginfo_t si = {0};
        /* WNOWAIT: look without reaping, so the caller still owns the pid */
        if (pid > 0 && (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
                        si.si_pid == pid))
            return -1; /* the server died: it will never listen */
        fh_test_sleep_ms(20);
    }
    return -1;
}

/* In the child: stdin from /dev/null, stdout+stderr to out_fd, then exec. */
static void exec_child(char *const argv[], int out_fd)
{
    int in = open("/dev/null", O_RDONLY);
    if (in >= 0)
        dup2(in, 0);
    dup2(out_fd, 1);
    dup2(out_fd, 2);
    /* A server holding copies of the test's sockets would keep them open
     * after the test closes them (no FIN, no EOF): inherit nothing else. */
    close_range(3, ~0U, 0);
    signal(SIGPIPE, SIG_DFL);
    execvp(argv[0], argv);
    dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static int exit_code(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

/* Reads fd to EOF into a malloc'ed, NUL-terminated buffer. */
static char *slurp_fd(int fd, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf)
            return NULL;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb)
                return free(buf), NULL;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

int fh_test_run(char *const argv[], char **out, size_t *outlen)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return fail("pipe", NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return fail("fork", NULL);
    }
    if (pid == 0)
        exec_child(argv, pfd[1]);
    close(pfd[1]);
    char *buf = slurp_fd(pfd[0], outlen);
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return free(buf), fail("waitpid", argv[0]);
    if (out)
        *out = buf;
    else
        free(buf);
    return exit_code(st);
}

pid_t fh_test_spawn(char *const argv[], const char *log_path)
{
    const char *path = log_path ? log_path : "/dev/null";
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail("open", path);
    pid_t pid = fork();
    if (pid == 0)
        exec_child(argv, fd);
    close(fd);
    return pid < 0 ? fail("fork", argv[0]) : pid;
}

int fh_test_kill_wait(pid_t pid, int sig, int timeout_ms)
{
    if (pid <= 0)
        return -1;
    kill(pid, sig);
    int st, killed = 0;
    for (int waited = 0;; waited += 10) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (r < 0 && errno != EINTR)
            return -1; /* not our child, or already reaped */
        if (waited >= timeout_ms && !killed) {
            kill(pid, SIGKILL); /* then keep waiting: SIGKILL cannot be ignored */
            killed = 1;
        }
        fh_test_sleep_ms(10);
    }
}

const char *fh_test_nginx_path(void)
{
    static char found[4096];
    const char *env = getenv("FH_NGINX");
    if (env && *env)
        return access(env, X_OK) == 0 ? env : NULL;
    if (access("/usr/sbin/nginx", X_OK) == 0)
        return "/usr/sbin/nginx";
    const char *path = getenv("PATH");
    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(found, sizeof found, "%.*s/nginx", (int)n, path);
        if (n > 0 && access(found, X_OK) == 0)
            return found;
        path += n + (path[n] == ':');
    }
    return NULL;
}

/* ---- TLS material ------------------------------------------------------- */

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

typedef struct cert_spec {
    const char *cn;
    int is_ca;
    const char *san;        /* subjectAltName, or NULL */
    const char *eku;        /* extendedKeyUsage, or NULL */
    long serial;
} cert_spec;

/* Builds a certificate for key, signed by issuer_key; issuer NULL means
 * self-signed. The subject key id comes first so the authority key id of a
 * self-signed CA can refer to it. */
static X509 *make_cert(const cert_spec *s, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
    X509 *c = X509_new();
    X509_NAME *name = X509_NAME_new();
    int ok = c && name && X509_set_version(c, 2) &&
             ASN1_INTEGER_set(X509_get_serialNumber(c), s->serial) &&
             X509_gmtime_adj(X509_getm_notBefore(c), -86400L) &&
             X509_gmtime_adj(X509_getm_notAfter(c), 365L * 86400L) &&
             X509_set_pubkey(c, key) &&
             X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                        (const unsigned char *)"fasthttp tests", -1, -1, 0) &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                        (const unsigned char *)s->cn, -1, -1, 0) &&
             X509_set_subject_name(c, name) &&
             X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
    X509 *iss = issuer ? issuer : c;
    ok = ok && add_ext(c, iss, NID_subject_key_identifier, "hash") == 0 &&
         add_ext(c, iss, NID_authority_key_identifier, "keyid:always") == 0 &&
         add_ext(c, iss, NID_basic_constraints, s->is_ca ? "critical,CA:TRUE" : "CA:FALSE") == 0 &&
         add_ext(c, iss, NID_key_usage,
                 s->is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") == 0 &&
         (!s->san || add_ext(c, iss, NID_subject_alt_name, s->san) == 0) &&
         (!s->eku || add_ext(c, iss, NID_ext_key_usage, s->eku) == 0) &&
         X509_sign(c, issuer_key, EVP_sha256()) > 0;
    X509_NAME_free(name);
    if (!ok) {
        X509_free(c);
        return NULL;
    }
    return c;
}

static int write_pem(const char *dir, const char *name, X509 *cert, EVP_PKEY *key)
{
    char path[4096];
    FILE *f = fopen(fh_test_path(path, sizeof path, dir, name), "we");
    if (!f)
        return fail("fopen", path);
    int ok = cert ? PEM_write_X509(f, cert)
                  : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    return fclose(f) == 0 && ok ? 0 : fail("PEM write", path);
}

/* Creates a key, a certificate signed by ca (or self-signed when ca is
 * NULL) and writes both as <base>.pem / <base>.key. */
static int issue(const char *dir, const char *base, const cert_spec *s, X509 *ca,
                 EVP_PKEY *ca_key, X509 **cert_out, EVP_PKEY **key_out)
{
    char cert_name[64], key_name[64];
    snprintf(cert_name, sizeof cert_name, "%s.pem", base);
    snprintf(key_name, sizeof key_name, "%s.key", base);
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = key ? make_cert(s, key, ca, ca ? ca_key : key) : NULL;
    int rc = cert && write_pem(dir, cert_name, cert, NULL) == 0 &&
                     write_pem(dir, key_name, NULL, key) == 0 ? 0 : -1;
    if (rc == 0 && cert_out) {
        *cert_out = cert;
        *key_out = key;
    } else {
        X509_free(cert);
        EVP_PKEY_free(key);
    }
    if (rc < 0)
        fprintf(stderr, "fixtures: cannot create %s in %s\n", cert_name, dir);
    return rc;
}

int fh_test_make_certs(const char *dir)
{
    static const cert_spec ca_s = {"fasthttp test CA", 1, NULL, NULL, 1};
    static const cert_spec srv_s = {"localhost", 0, "DNS:localhost,IP:127.0.0.1",
                                    "serverAuth", 2};
    static const cert_spec cli_s = {"fasthttp test client", 0, NULL, "clientAuth", 3};
    X509 *ca = NULL;
    EVP_PKEY *ca_key = NULL;
    int rc = issue(dir, "ca", &ca_s, NULL, NULL, &ca, &ca_key);
    if (rc == 0)
        rc = issue(dir, "server", &srv_s, ca, ca_key, NULL, NULL);
    if (rc == 0)
        rc = issue(dir, "client", &cli_s, ca, ca_key, NULL, NULL);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return rc;
}

/* ---- requests through the blocking API --------------------------------- */

static void copy_header(const fh_response *resp, const char *name, char *out, size_t cap)
{
    size_t len = 0;
    const char *v = fh_response_header(resp, name, &len);
    if (!v)
        len = 0;
    if (len >= cap)
        len = cap - 1;
    memcpy(out, v ? v : "", len);
    out[len] = 0;
}

static void *storage_alloc(void *ud, size_t size, void **handle)
{
    fh_test_storage *s = ud;
    if (s->refuse)
        return NULL;
    s->allocs++;
    s->last_size = size;
    /* Poisoned so a test sees bytes the library failed to write. */
    uint8_t *p = malloc(size + 1);
    if (p)
        memset(p, 0xa5, size + 1);
    *handle = p;
    return p;
}

static void storage_release(void *ud, void *handle)
{
    fh_test_storage *s = ud;
    s->releases++;
    free(handle);
}

void fh_test_storage_init(fh_test_storage *s, size_t min_size)
{
    memset(s, 0, sizeof *s);
    s->api = (fh_body_storage){storage_alloc, storage_release, s, min_size};
}

int fh_test_send(fh_client *c, fh_request *req, fh_test_result *r)
{
    memset(r, 0, sizeof *r);
    fh_response *resp = NULL;
    r->err = fh_client_send(c, req, &resp);
    if (r->err != 0 || !resp) {
        snprintf(r->msg, sizeof r->msg, "%s", fh_request_error_message(req));
        if (r->err == 0)
            r->err = FH_ESTATE; /* success without a response is a library bug */
        r->body = calloc(1, 1);
        return r->err;
    }
    r->status = fh_response_status(resp);
    r->version = fh_response_version(resp);
    copy_header(resp, "Content-Type", r->content_type, sizeof r->content_type);
    copy_header(resp, "Content-Encoding", r->content_encoding, sizeof r->content_encoding);
    size_t len = 0;
    const uint8_t *body = fh_response_body(resp, &len);
    r->body = malloc(len + 1);
    if (r->body) {
        if (len)
            memcpy(r->body, body, len);
        r->body[len] = 0;
        r->body_len = len;
    } else {
        r->err = FH_ENOMEM;
    }
    fh_response_free(resp);
    return r->err;
}

int fh_test_fetch(fh_client *c, const char *method, const char *url, const void *body,
                  size_t body_len, const char *const *headers, fh_test_result *r)
{
    memset(r, 0, sizeof *r);
    int err = 0;
    fh_request *req = fh_request_new(method, url, &err);
    if (!req) {
        r->err = err ? err : FH_ENOMEM;
        snprintf(r->msg, sizeof r->msg, "fh_request_new(%s, %s) failed", method, url);
        r->body = calloc(1, 1);
        return r->err;
    }
    for (size_t i = 0; headers && headers[i] && err == 0; i++) {
        const char *colon = strchr(headers[i], ':');
        const char *v = colon ? colon + 1 : "";
        while (*v == ' ')
            v++;
        size_t nl = colon ? (size_t)(colon - headers[i]) : strlen(headers[i]);
        err = fh_request_add_header_n(req, headers[i], nl, v, strlen(v));
    }
    if (err == 0 && body)
        err = fh_request_set_body(req, body, body_len, 1);
    if (err != 0) {
        r->err = err;
        snprintf(r->msg, sizeof r->msg, "building the request failed: %s", fh_strerror(err));
        r->body = calloc(1, 1);
    } else {
        fh_test_send(c, req, r);
    }
    fh_request_free(req);
    return r->err;
}

int fh_test_get(fh_client *c, const char *url, fh_test_result *r)
{
    return fh_test_fetch(c, "GET", url, NULL, 0, NULL, r);
}

void fh_test_result_free(fh_test_result *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

int fh_test_read_all(fh_response *resp, size_t piece, uint8_t **out, size_t *len)
{
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf)
            return FH_ENOMEM;
        while (cap - n < piece) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb)
                return free(buf), FH_ENOMEM;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = fh_response_read(resp, buf + n, piece);
        if (r < 0 || (size_t)r > piece) {
            free(buf);
            return r < 0 ? (int)r : FH_EINVAL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* ---- request bodies -------------------------------------------------------- */

ssize_t fh_test_pieces_read(void *ud, uint8_t *buf, size_t cap)
{
    fh_test_pieces *s = ud;
    const char *next = s->p[s->i];
    if (!next)
        return 0;
    size_t n = strlen(next);
    if (n > cap)
        return -1;
    memcpy(buf, next, n);
    s->i++;
    return (ssize_t)n;
}

ssize_t fh_test_pieces_lend(void *ud, const uint8_t **data)
{
    fh_test_pieces *s = ud;
    const char *next = s->p[s->i];
    if (!next)
        return 0;
    s->i++;
    *data = (const uint8_t *)next;
    return (ssize_t)strlen(next);
}

ssize_t fh_test_dechunk(const char *p, char *out, size_t cap)
{
    size_t n = 0;
    for (;;) {
        char *end;
        unsigned long size = strtoul(p, &end, 16);
        if (end == p || strncmp(end, "\r\n", 2) != 0 || n + size >= cap)
            return -1;
        p = end + 2;
        if (size == 0) {
            out[n] = 0;
            return strcmp(p, "\r\n") == 0 ? (ssize_t)n : -1;
        }
        if (strnlen(p, size) < size || strncmp(p + size, "\r\n", 2) != 0)
            return -1;
        memcpy(out + n, p, size);
        n += size;
        p += size + 2;
    }
}
