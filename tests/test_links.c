/* test_links.c — the Link header parser (RFC 8288 §3): the grammar, the
 * leniency, resolution against the response URL, every split of a value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fasthttp/fasthttp.h"

static fh_links *parse(const char *v, const char *base)
{
    fh_links *l = NULL;
    assert_int_equal(fh_links_parse(v, strlen(v), base, &l), FH_OK);
    assert_non_null(l);
    return l;
}

/* The value of the first parameter named name, or NULL. */
static const char *param(const fh_link *k, const char *name)
{
    for (size_t i = 0; i < k->nparams; i++)
        if (strcmp(k->params[i].name, name) == 0)
            return k->params[i].value;
    return NULL;
}

static void test_pagination(void **state)
{
    (void)state;
    /* The shape GitHub's API sends. */
    fh_links *l = parse("<https://api.example.com/r?page=2>; rel=\"next\", "
                        "<https://api.example.com/r?page=5>; rel=\"last\"", NULL);
    assert_int_equal(fh_links_count(l), 2);
    const fh_link *a = fh_links_at(l, 0), *b = fh_links_at(l, 1);
    assert_string_equal(a->target, "https://api.example.com/r?page=2");
    assert_string_equal(param(a, "rel"), "next");
    assert_string_equal(b->target, "https://api.example.com/r?page=5");
    assert_string_equal(param(b, "rel"), "last");
    assert_null(fh_links_at(l, 2));
    fh_links_free(l);
}

static void test_params(void **state)
{
    (void)state;
    fh_links *l = parse("</a>;REL=preload ; as=style;type=text/css;crossorigin;"
                        "title=\"a \\\"quoted\\\", title; really\", "
                        "</b> ; rel=\"next prev\"; rel=ignored; hreflang=de; hreflang=fr", NULL);
    assert_int_equal(fh_links_count(l), 2);
    const fh_link *a = fh_links_at(l, 0), *b = fh_links_at(l, 1);
    assert_string_equal(a->target, "/a");
    assert_int_equal(a->nparams, 5);
    assert_string_equal(a->params[0].name, "rel"); /* names are case-insensitive */
    assert_string_equal(param(a, "rel"), "preload");
    assert_string_equal(param(a, "type"), "text/css");
    assert_string_equal(param(a, "crossorigin"), "");
    assert_string_equal(param(a, "title"), "a \"quoted\", title; really");
    assert_int_equal(b->nparams, 4);
    assert_string_equal(param(b, "rel"), "next prev"); /* the first rel counts (§3.3) */
    assert_string_equal(b->params[1].value, "ignored");
    assert_string_equal(b->params[3].value, "fr");
    fh_links_free(l);
}

/* RFC 8187 ext-values for title* (RFC 8288 §3.4.1). */
static void test_ext_values(void **state)
{
    (void)state;
    fh_links *l = parse("</d>; title*=UTF-8'de'n%c3%a4chstes%20Kapitel, "
                        "</e>; title*=iso-8859-1''caf%E9, </f>; title*=koi8-r''%C1, "
                        "</g>; title*=UTF-8''bad%zz", NULL);
    assert_int_equal(fh_links_count(l), 4);
    assert_string_equal(param(fh_links_at(l, 0), "title*"), "n\xc3\xa4" "chstes Kapitel");
    assert_string_equal(param(fh_links_at(l, 1), "title*"), "caf\xc3\xa9");
    assert_string_equal(param(fh_links_at(l, 2), "title*"), "koi8-r''%C1"); /* as written */
    assert_string_equal(param(fh_links_at(l, 3), "title*"), "UTF-8''bad%zz");
    fh_links_free(l);
}

/* §3.1: relative targets are resolved against the response's URL. */
static void test_resolution(void **state)
{
    (void)state;
    fh_links *l = parse("<?page=3>; rel=next, <../up>; rel=up, <//cdn.test/x y>; rel=a, "
                        "<mailto:a@b.test>; rel=author, <https://o.test/>; rel=o",
                        "https://api.test/v1/items?page=2");
    assert_int_equal(fh_links_count(l), 5);
    assert_string_equal(fh_links_at(l, 0)->target, "https://api.test/v1/items?page=3");
    assert_string_equal(fh_links_at(l, 1)->target, "https://api.test/up");
    assert_string_equal(fh_links_at(l, 2)->target, "https://cdn.test/x%20y");
    assert_string_equal(fh_links_at(l, 3)->target, "mailto:a@b.test"); /* not http(s) */
    assert_string_equal(fh_links_at(l, 4)->target, "https://o.test/");
    fh_links_free(l);
    l = parse("<rel>", "not a url");
    assert_string_equal(fh_links_at(l, 0)->target, "rel");
    fh_links_free(l);
}

/* Malformed link-values are skipped, the rest kept. */
static void test_malformed(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        { "no-target; rel=x, </ok>; rel=next", "/ok" },
        { "<unterminated; rel=x", NULL },
        { "</a>; =nameless, </ok>; rel=next", "/ok" },
        { "</a> junk, </ok>; rel=next", "/ok" },
        { "</a>; t=\"open, </b>", NULL },
        { "</a>; t=\"x, y\" z, </ok>; rel=next", "/ok" },
        { ",, ,\t, </ok>,,", "/ok" },
        { "", NULL },
        { "</ok>;;; rel=next;", "/ok" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fh_links *l = parse(cases[i][0], NULL);
        if (!cases[i][1]) {
            assert_int_equal(fh_links_count(l), 0);
        } else {
            if (fh_links_count(l) != 1)
                fail_msg("%s: %zu links", cases[i][0], fh_links_count(l));
            assert_string_equal(fh_links_at(l, 0)->target, cases[i][1]);
        }
        fh_links_free(l);
    }
    /* A comma inside the brackets belongs to the target. */
    fh_links *l = parse("<a,b>; x, </ok>", NULL);
    assert_int_equal(fh_links_count(l), 2);
    assert_string_equal(fh_links_at(l, 0)->target, "a,b");
    fh_links_free(l);
    assert_int_equal(fh_links_parse(NULL, 0, NULL, &l), FH_OK);
    assert_int_equal(fh_links_count(l), 0);
    fh_links_free(l);
    assert_int_equal(fh_links_parse(NULL, 3, NULL, &l), FH_EINVAL);
    assert_int_equal(fh_links_parse("<a>", 3, NULL, NULL), FH_EINVAL);
    assert_int_equal(fh_links_count(NULL), 0);
    assert_null(fh_links_at(NULL, 0));
    fh_links_free(NULL);
}

/* Only len bytes are read (ASan would see a read past the copy): every
 * prefix parses; the first link appears once its "<...>" is complete and
 * both are there at the end. */
static void test_every_prefix(void **state)
{
    (void)state;
    const char *v = "<https://h.test/a?x=1>; rel=\"next\"; title*=UTF-8''%c3%a9, </b>; rel=x";
    size_t n = strlen(v), closed = strchr(v, '>') - v + 1;
    for (size_t cut = 0; cut <= n; cut++) {
        char *copy = malloc(cut ? cut : 1);
        memcpy(copy, v, cut);
        fh_links *l = NULL;
        assert_int_equal(fh_links_parse(copy, cut, NULL, &l), FH_OK);
        size_t got = fh_links_count(l);
        assert_true(got <= 2);
        if (cut < closed)
            assert_int_equal(got, 0);
        if (got)
            assert_string_equal(fh_links_at(l, 0)->target, "https://h.test/a?x=1");
        if (cut == n)
            assert_int_equal(got, 2);
        fh_links_free(l);
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pagination),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_ext_values),
        cmocka_unit_test(test_resolution),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
