/*
 * fasthttp/links.h — the Link header field (RFC 8288 §3): typed links such as
 * rel="next" for pagination.
 *
 *     fh_links *l;
 *     if (fh_links_parse(value, len, fh_response_url(resp), &l) == FH_OK) {
 *         for (size_t i = 0; i < fh_links_count(l); i++) {
 *             const fh_link *k = fh_links_at(l, i);
 *             ... k->target, k->params[j].name / .value ...
 *         }
 *         fh_links_free(l);
 *     }
 */
#ifndef FASTHTTP_LINKS_H
#define FASTHTTP_LINKS_H

#include <stddef.h>

#include "errors.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One link-param; strings are NUL-terminated and owned by the fh_links. */
typedef struct fh_link_param {
    const char *name;  /* lower case (names are case-insensitive, RFC 8288 §3) */
    const char *value; /* quoted-string unescaped; "" for a parameter without
                          a value; for a name ending in '*' (title*) the
                          RFC 8187 ext-value decoded to UTF-8 when its charset
                          is UTF-8 or ISO-8859-1, else kept as written */
} fh_link_param;

/* One link-value: the target and its parameters in the order written.
 * Repeated names are all kept; the first is the one that counts (RFC 8288
 * §3.3 for rel, §3.4.1 for the others). */
typedef struct fh_link {
    const char *target; /* resolved against base_url when one was given (RFC
                           8288 §3.1, RFC 3986 §5) and the result is an http(s)
                           URL; otherwise as written between '<' and '>' */
    const fh_link_param *params;
    size_t nparams;
} fh_link;

typedef struct fh_links fh_links;

/*
 * Parses a Link field value (len bytes; several field lines are joined with
 * ", " by the caller, RFC 9110 §5.3). A link-value that does not follow the
 * grammar (no "<target>", a parameter without a name, bytes after a value)
 * is skipped up to the next comma outside quotes and brackets; the others
 * are kept. base_url (may be NULL) is the URL of the response. *out gets
 * the links (possibly none), freed with fh_links_free(). FH_EINVAL for a
 * NULL value with len > 0 or a NULL out, FH_ENOMEM.
 */
FH_EXTERN int fh_links_parse(const char *value, size_t len, const char *base_url,
                             fh_links **out);
FH_EXTERN size_t fh_links_count(const fh_links *links);
/* The i-th link in the order written, or NULL past the end. */
FH_EXTERN const fh_link *fh_links_at(const fh_links *links, size_t i);
FH_EXTERN void fh_links_free(fh_links *links);

#ifdef __cplusplus
}
#endif
#endif
