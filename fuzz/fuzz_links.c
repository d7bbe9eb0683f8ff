/*
 * fuzz_links.c — libFuzzer target for the Link header parser (RFC 8288).
 *
 * The first input byte picks the base URL targets are resolved against
 * (none, http, https with a path and query); the rest is the field value,
 * handed over as a length-delimited copy so ASan sees any read past it.
 * Checked: nothing crashes or leaks; every link has a target and every
 * parameter a non-empty lower-case token name; a link is never made of
 * bytes the value does not have (at most one link per '<' of the input);
 * parsing the same value twice gives the same links.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fasthttp/fasthttp.h"

static const char *const bases[] = {
    NULL, "http://example.com", "https://api.example.com/v1/items?page=2#f",
    "http://[::1]:8080/a/b/",
};

static void check(int ok)
{
    if (!ok)
        abort();
}

static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static void check_links(const fh_links *l, size_t opens)
{
    check(fh_links_count(l) <= opens);
    for (size_t i = 0; i < fh_links_count(l); i++) {
        const fh_link *k = fh_links_at(l, i);
        check(k != NULL && k->target != NULL);
        check(k->nparams == 0 || k->params != NULL);
        for (size_t j = 0; j < k->nparams; j++) {
            const char *n = k->params[j].name;
            check(n != NULL && n[0] != '\0' && k->params[j].value != NULL);
            for (; *n; n++)
                check(is_tchar((unsigned char)*n));
        }
    }
    check(fh_links_at(l, fh_links_count(l)) == NULL);
}

static void check_same(const fh_links *a, const fh_links *b)
{
    check(fh_links_count(a) == fh_links_count(b));
    for (size_t i = 0; i < fh_links_count(a); i++) {
        const fh_link *x = fh_links_at(a, i), *y = fh_links_at(b, i);
        check(strcmp(x->target, y->target) == 0 && x->nparams == y->nparams);
        for (size_t j = 0; j < x->nparams; j++)
            check(strcmp(x->params[j].name, y->params[j].name) == 0 &&
                  strcmp(x->params[j].value, y->params[j].value) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *base = bases[data[0] % (sizeof bases / sizeof *bases)];
    size_t n = size - 1, opens = 0;
    char *v = malloc(n ? n : 1);
    if (!v)
        return 0;
    memcpy(v, data + 1, n);
    for (size_t i = 0; i < n; i++)
        opens += v[i] == '<';
    fh_links *a = NULL, *b = NULL;
    check(fh_links_parse(v, n, base, &a) == FH_OK);
    check(fh_links_parse(v, n, base, &b) == FH_OK);
    check_links(a, opens);
    check_same(a, b);
    fh_links_free(a);
    fh_links_free(b);
    free(v);
    return 0;
}
