/* smoke.c — a program that knows libfasthttp only as an installed package:
 * built by tests/install_test.sh through the CMake package
 * (find_package(fasthttp)) and through pkg-config, against the shared and
 * the static library, with warnings as errors so the public headers stay
 * clean for users. It calls a little of every public header, inline
 * wrappers included, without any network. */
#include <stdio.h>
#include <string.h>

#include <fasthttp/fasthttp.h>

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "smoke: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            return 1;                                                         \
        }                                                                     \
    } while (0)

int main(void)
{
    CHECK(strcmp(fh_version(), FH_VERSION_STRING) == 0);
    CHECK(strcmp(fh_strerror(FH_EURL), "") != 0);

    fh_client *c = fh_client_new();
    CHECK(c != NULL);
    fh_retry_policy rp;
    fh_retry_policy_init(&rp);
    CHECK(rp.struct_size == sizeof rp);
    rp.max_attempts = 3;
    CHECK(fh_client_set_retry(c, &rp) == FH_OK);
    fh_pool_stats st;
    CHECK(fh_client_pool_stats(c, &st) == FH_OK && st.open == 0);

    int err = 0;
    fh_request *r = fh_request_new("GET", "http://example.test/path", &err);
    CHECK(r != NULL && err == FH_OK);
    CHECK(fh_request_set_retry(r, &rp) == FH_OK);
    CHECK(strcmp(fh_request_url(r), "http://example.test/path") == 0);
    fh_request_free(r);

    fh_engine *e = fh_engine_new(c, NULL, NULL);
    CHECK(e != NULL && fh_engine_pending(e) == 0);
    fh_engine_free(e);

    fh_cookie_jar *jar = fh_cookie_jar_new();
    CHECK(jar != NULL);
    CHECK(fh_cookie_jar_set(jar, "a", "1", "example.test", "/", 0, 0, -1) == FH_OK);
    fh_cookie ck;
    CHECK(fh_cookie_jar_get(jar, "a", NULL, NULL, &ck) == 1 && strcmp(ck.value, "1") == 0);
    fh_cookie_free(&ck);
    fh_cookie_jar_free(jar);

    fh_multipart *m = fh_multipart_new("b0undary", &err);
    CHECK(m != NULL && fh_multipart_add_field(m, "k", "v") == FH_OK);
    CHECK(fh_multipart_length(m) > 0);
    fh_multipart_free(m);

    fh_client_free(c);
    printf("ok: fasthttp %s\n", fh_version());
    return 0;
}
