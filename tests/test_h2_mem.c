/*
 * test_h2_mem.c — the small-block allocator nghttp2 sessions get
 * (src/h2_mem.c): blocks keep their contents through realloc across size
 * classes, freed blocks are reused, calloc zeroes, and nothing is lost when
 * the allocator is freed (the ASan build checks that).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "h2_mem.h"

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i);
}

static int holds(const uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)(seed + i))
            return 0;
    return 1;
}

static void test_reuse_and_calloc(void **state)
{
    (void)state;
    fh__h2_mem m = {0};
    nghttp2_mem a;
    fh__h2_mem_init(&m, &a);
    uint8_t *p = a.malloc(100, a.mem_user_data);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 16, 0);
    fill(p, 100, 1);
    a.free(p, a.mem_user_data);
    uint8_t *q = a.calloc(10, 10, a.mem_user_data);
    assert_ptr_equal(q, p); /* the freed block of that class came back */
    for (int i = 0; i < 100; i++)
        assert_int_equal(q[i], 0);
    a.free(q, a.mem_user_data);
    a.free(NULL, a.mem_user_data);
    assert_null(a.calloc(SIZE_MAX / 2, 4, a.mem_user_data)); /* overflow */
    fh__h2_mem_free(&m);
}

/* realloc from every size to every other (small to small, small to large,
 * large to small, large to large) keeps the bytes both sizes hold. */
static void test_realloc_keeps_contents(void **state)
{
    (void)state;
    fh__h2_mem m = {0};
    nghttp2_mem a;
    fh__h2_mem_init(&m, &a);
    const size_t sizes[] = {1, 40, 48, 49, 100, 500, 1000, 2032, 2033, 5000, 70000};
    const size_t k = sizeof sizes / sizeof sizes[0];
    for (size_t i = 0; i < k; i++) {
        for (size_t j = 0; j < k; j++) {
            uint8_t *p = a.malloc(sizes[i], a.mem_user_data);
            assert_non_null(p);
            fill(p, sizes[i], (uint8_t)i);
            uint8_t *q = a.realloc(p, sizes[j], a.mem_user_data);
            assert_non_null(q);
            size_t keep = sizes[i] < sizes[j] ? sizes[i] : sizes[j];
            assert_true(holds(q, keep, (uint8_t)i));
            memset(q, 0xab, sizes[j]); /* the whole new size is usable */
            a.free(q, a.mem_user_data);
        }
    }
    assert_null(a.realloc(a.malloc(10, a.mem_user_data), 0, a.mem_user_data));
    uint8_t *r = a.realloc(NULL, 300, a.mem_user_data);
    assert_non_null(r);
    a.free(r, a.mem_user_data);
    fh__h2_mem_free(&m);
}

/* Many blocks alive at once, then freed: the lists keep at most their cap,
 * the rest goes back to malloc (ASan's leak check sees the balance). */
static void test_many_blocks(void **state)
{
    (void)state;
    fh__h2_mem m = {0};
    nghttp2_mem a;
    fh__h2_mem_init(&m, &a);
    enum { N = 1000 };
    static void *blocks[N];
    for (int i = 0; i < N; i++) {
        blocks[i] = a.malloc((size_t)(i % 7) * 300 + 1, a.mem_user_data);
        assert_non_null(blocks[i]);
    }
    for (int i = 0; i < N; i++)
        a.free(blocks[i], a.mem_user_data);
    for (int k = 0; k < FH__H2_MEM_CLASSES; k++)
        assert_true(m.nfree[k] <= 128);
    fh__h2_mem_free(&m);
    for (int k = 0; k < FH__H2_MEM_CLASSES; k++)
        assert_null(m.free_list[k]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reuse_and_calloc),
        cmocka_unit_test(test_realloc_keeps_contents),
        cmocka_unit_test(test_many_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
