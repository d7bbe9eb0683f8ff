/*
 * header_set.c — fh_header_set: header fields checked and copied once, then
 * carried by many requests.
 *
 * A client that sends the same fields with every request (the Python
 * binding's default User-Agent, Accept and Accept-Encoding) would otherwise
 * pay, per field and per request, a check of every byte, an allocation and
 * a copy. A set holds the fields in one allocation; a request that carries
 * it points at those strings and holds a reference, so its fields behave
 * exactly as fields added one by one (policies, codecs and the head writer
 * see no difference), and nothing is copied. The set never changes after
 * fh_header_set_new, so sharing it across threads needs only the atomic
 * reference count.
 */
#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct fh_header_set {
    atomic_size_t refs;
    size_t n;
    fh__hdr h[]; /* then the strings, each NUL-terminated */
};

int fh_header_set_new(const fh_header *hdrs, size_t n, fh_header_set **out)
{
    if (!out)
        return FH_EINVAL;
    *out = NULL;
    if (n && !hdrs)
        return FH_EINVAL;
    if (n > SIZE_MAX / 2 / sizeof(fh__hdr))
        return FH_ENOMEM;
    size_t bytes = sizeof(fh_header_set) + n * sizeof(fh__hdr);
    for (size_t i = 0; i < n; i++) {
        const fh_header *f = &hdrs[i];
        if (!f->name || (!f->value && f->value_len) ||
            fh__h1_check_header(f->name, f->name_len, f->value ? f->value : "",
                                f->value_len) != FH_OK ||
            fh__request_is_managed(f->name, f->name_len))
            return FH_EHEADER;
        if (f->name_len + f->value_len + 2 > SIZE_MAX - bytes)
            return FH_ENOMEM;
        bytes += f->name_len + f->value_len + 2;
    }
    fh_header_set *s = malloc(bytes);
    if (!s)
        return FH_ENOMEM;
    atomic_init(&s->refs, 1);
    s->n = n;
    char *p = (char *)&s->h[n];
    for (size_t i = 0; i < n; i++) {
        const fh_header *f = &hdrs[i];
        char *name = p;
        memcpy(name, f->name, f->name_len);
        name[f->name_len] = '\0';
        char *value = name + f->name_len + 1;
        if (f->value_len)
            memcpy(value, f->value, f->value_len);
        value[f->value_len] = '\0';
        p = value + f->value_len + 1;
        s->h[i] = (fh__hdr){name, f->name_len, value, f->value_len, 1, NULL};
    }
    *out = s;
    return FH_OK;
}

void fh_header_set_free(fh_header_set *s)
{
    /* The last reference frees; acq_rel so every earlier user's reads of
     * the strings happen before the free. */
    if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        free(s);
}

int fh_request_add_header_set(fh_request *req, fh_header_set *s)
{
    if (!req || !s)
        return FH_EINVAL;
    if (!s->n)
        return FH_OK;
    if (fh__request_reserve_hdrs(req, s->n) != FH_OK)
        return FH_ENOMEM;
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    fh__hdr *to = &req->hdrs[req->nhdrs];
    memcpy(to, s->h, s->n * sizeof *to);
    to[0].set = s; /* the request's reference, dropped by fh_request_free */
    req->nhdrs += s->n;
    return FH_OK;
}
