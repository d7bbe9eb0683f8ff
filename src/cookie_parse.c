/*
 * cookie_parse.c — the sans-IO half of the cookie jar: the cookie-date
 * algorithm (RFC 6265 §5.1.1), domain and path matching (§5.1.3, §5.1.4),
 * and Set-Cookie parsing (§5.2) with the 6265bis limits on attribute values.
 * The jar itself (storage, header, API) is in cookies.c.
 */
#include <string.h>

#include "cookies.h"

#define MAX_ATTR FH__COOKIE_MAX_ATTR
#define MAX_DATE FH__COOKIE_MAX_DATE

typedef fh__span span;

static int fail(const char **why, const char *msg, int code)
{
    if (why)
        *why = msg;
    return code;
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* ASCII case-insensitive equality of s with the first n bytes of lit. */
static int ieq_n(const char *s, const char *lit, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != lower((unsigned char)lit[i]))
            return 0;
    return 1;
}

static int ieq(span s, const char *lit)
{
    return s.n == strlen(lit) && ieq_n(s.p, lit, s.n);
}

static int starts_ci(span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n >= n && ieq_n(s.p, lit, n);
}

/* Control characters (§5.2 by way of 6265bis §5.6): 0x00-0x1F but HTAB, 0x7F. */
int fh__cookie_has_ctl(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 1;
    }
    return 0;
}

/* Removes leading and trailing WSP (SP, HTAB), §5.2 steps 4 and 3 of the
 * attribute loop. */
static span trim(const char *p, size_t n)
{
    while (n > 0 && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return (span){ p, n };
}

/* ---- §5.1.1 dates -------------------------------------------------------- */

static int is_date_delim(unsigned char c)
{
    return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) ||
           (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

/* min..max digits at s[*i]. The grammar's "1*2DIGIT ( non-digit *OCTET )"
 * forbids a further digit, so more than max is no match (-1). */
static int date_digits(const char *s, size_t n, size_t *i, int min, int max)
{
    int v = 0, k = 0;
    for (; *i < n && is_digit((unsigned char)s[*i]); (*i)++) {
        if (++k > max)
            return -1;
        v = v * 10 + (s[*i] - '0');
    }
    return k < min ? -1 : v;
}

typedef struct cdate {
    int hour, min, sec, day, mon, year;
    int have_time, have_day, have_mon, have_year;
} cdate;

/* hms-time = time-field ":" time-field ":" time-field, 1*2DIGIT each. */
static int date_time(const char *s, size_t n, cdate *d)
{
    size_t i = 0;
    int v[3];
    for (int k = 0; k < 3; k++) {
        if (k > 0 && (i >= n || s[i++] != ':'))
            return 0;
        if ((v[k] = date_digits(s, n, &i, 1, 2)) < 0)
            return 0;
    }
    d->hour = v[0], d->min = v[1], d->sec = v[2];
    return 1;
}

static int date_month(const char *s, size_t n)
{
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    if (n < 3)
        return -1;
    for (int m = 0; m < 12; m++)
        if (ieq_n(s, names + 3 * m, 3))
            return m;
    return -1;
}

/* A token that starts with min..max digits (and no more). */
static int date_number(const char *s, size_t n, int min, int max)
{
    size_t i = 0;
    return date_digits(s, n, &i, min, max);
}

/* Step 2 of §5.1.1: each token fills the first field still missing that it
 * matches, tried in the order time, day-of-month, month, year. */
static void date_token(const char *s, size_t n, cdate *d)
{
    int v;
    if (!d->have_time && date_time(s, n, d))
        d->have_time = 1;
    else if (!d->have_day && (v = date_number(s, n, 1, 2)) >= 0)
        d->day = v, d->have_day = 1;
    else if (!d->have_mon && (v = date_month(s, n)) >= 0)
        d->mon = v, d->have_mon = 1;
    else if (!d->have_year && (v = date_number(s, n, 2, 4)) >= 0)
        d->year = v, d->have_year = 1;
}

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const unsigned char days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return days[m] + (m == 1 && leap(y));
}

/* Days from 0001-01-01 to January 1st of year y (proleptic Gregorian). */
static int64_t days_before_year(int64_t y)
{
    y--;
    return 365 * y + y / 4 - y / 100 + y / 400;
}

int fh__cookie_parse_date(const char *s, size_t n, int64_t *out)
{
    cdate d = { 0 };
    for (size_t i = 0; i < n;) {
        while (i < n && is_date_delim((unsigned char)s[i]))
            i++;
        size_t b = i;
        while (i < n && !is_date_delim((unsigned char)s[i]))
            i++;
        if (i > b)
            date_token(s + b, i - b, &d);
    }
    if (!(d.have_time && d.have_day && d.have_mon && d.have_year))
        return -1;
    /* Steps 3-5: two-digit years, then the range checks. */
    if (d.year >= 70 && d.year <= 99)
        d.year += 1900;
    else if (d.year >= 0 && d.year <= 69)
        d.year += 2000;
    if (d.day < 1 || d.year < 1601 || d.hour > 23 || d.min > 59 || d.sec > 59)
        return -1;
    if (d.day > month_days(d.year, d.mon))
        return -1; /* step 6: "if no such date exists" */
    int64_t days = days_before_year(d.year) - days_before_year(1970);
    for (int m = 0; m < d.mon; m++)
        days += month_days(d.year, m);
    days += d.day - 1;
    *out = days * 86400 + d.hour * 3600 + d.min * 60 + d.sec;
    return 0;
}

/* ---- §5.1.3 / §5.1.4 matching ------------------------------------------- */

int fh__cookie_domain_match(const char *host, int host_is_ip, const char *domain)
{
    size_t h = strlen(host), d = strlen(domain);
    if (h == d)
        return memcmp(host, domain, h) == 0;
    /* A suffix match needs a host name: "0.0.1" must not match 127.0.0.1. */
    if (host_is_ip || d == 0 || h <= d)
        return 0;
    return host[h - d - 1] == '.' && memcmp(host + h - d, domain, d) == 0;
}

int fh__cookie_path_match(const char *rp, size_t rn, const char *cp)
{
    size_t cn = strlen(cp);
    if (cn > rn || memcmp(rp, cp, cn) != 0)
        return 0;
    return cn == rn || (cn > 0 && cp[cn - 1] == '/') || rp[cn] == '/';
}

size_t fh__cookie_default_path(const char *target, const char **path)
{
    size_t n = strcspn(target, "?"), last = n;
    *path = "/";
    if (n == 0 || target[0] != '/')
        return 1;
    while (target[last - 1] != '/')
        last--;
    if (last == 1)
        return 1; /* only the leading '/' */
    *path = target;
    return last - 1; /* up to, not including, the right-most '/' */
}

/* ---- §5.2 Set-Cookie parsing --------------------------------------------- */

/* §5.2.2: an optional '-' and digits only, else the attribute is ignored.
 * Saturates far beyond any useful lifetime. */
static void attr_max_age(fh__setcookie *c, span v)
{
    size_t i = v.n > 0 && v.p[0] == '-';
    int64_t d = 0;
    if (v.n == i)
        return;
    for (; i < v.n; i++) {
        if (!is_digit((unsigned char)v.p[i]))
            return;
        if (d < MAX_DATE)
            d = d * 10 + (v.p[i] - '0');
    }
    c->has_max_age = 1;
    c->max_age = v.p[0] == '-' ? -d : d;
}

static void attr_same_site(fh__setcookie *c, span v)
{
    static const char *const values[] = { "Strict", "Lax", "None" };
    for (int i = 0; i < 3; i++)
        if (ieq(v, values[i]))
            c->same_site = values[i];
}

/* §5.2.1-§5.2.6, one attribute; later ones win, unknown ones are ignored. */
static void attribute(fh__setcookie *c, const char *a, size_t n)
{
    const char *eq = memchr(a, '=', n);
    span name = trim(a, eq ? (size_t)(eq - a) : n);
    span v = eq ? trim(eq + 1, n - (size_t)(eq - a) - 1) : (span){ a + n, 0 };
    if (ieq(name, "secure")) {
        c->secure = 1;
    } else if (ieq(name, "httponly")) {
        c->http_only = 1;
    } else if (v.n > MAX_ATTR || fh__cookie_has_ctl(v.p, v.n)) {
        return;
    } else if (ieq(name, "expires")) {
        if (fh__cookie_parse_date(v.p, v.n, &c->expires) == 0)
            c->has_expires = 1; /* §5.2.1: an unparsable date is ignored */
    } else if (ieq(name, "max-age")) {
        attr_max_age(c, v);
    } else if (ieq(name, "domain") && v.n > 0) {
        /* §5.2.3: an empty value is ignored; "." leaves an empty domain,
         * which §5.3 step 6 turns into a host-only cookie. */
        if (v.p[0] == '.')
            v.p++, v.n--;
        for (size_t i = 0; i < v.n; i++)
            c->domain[i] = (char)lower((unsigned char)v.p[i]);
        c->domain[v.n] = '\0';
        c->domain_len = v.n, c->has_domain = 1;
    } else if (ieq(name, "path")) {
        /* §5.2.4: anything not starting with '/' means the default path. */
        c->has_path = v.n > 0 && v.p[0] == '/';
        c->path = v;
    } else if (ieq(name, "samesite")) {
        attr_same_site(c, v);
    }
}

int fh__setcookie_parse(const char *s, size_t n, fh__setcookie *c, const char **why)
{
    memset(c, 0, sizeof *c);
    const char *semi = memchr(s, ';', n);
    size_t nv = semi ? (size_t)(semi - s) : n;
    const char *eq = memchr(s, '=', nv);
    /* §5.2 steps 2 and 5: no '=' or an empty name ignores the cookie (the
     * 6265bis reading of "value" as a nameless cookie is not followed). */
    if (!eq)
        return fail(why, "Set-Cookie has no '=' in its name-value pair", FH_EPROTO);
    c->name = trim(s, (size_t)(eq - s));
    c->value = trim(eq + 1, nv - (size_t)(eq - s) - 1);
    if (c->name.n == 0)
        return fail(why, "Set-Cookie has an empty cookie name", FH_EPROTO);
    if (fh__cookie_has_ctl(c->name.p, c->name.n) || fh__cookie_has_ctl(c->value.p, c->value.n))
        return fail(why, "Set-Cookie name or value has a control character", FH_EPROTO);
    if (c->name.n + c->value.n > FH_COOKIE_MAX_BYTES)
        return fail(why, "Set-Cookie name and value are over 4096 bytes", FH_EPROTO);
    /* 6265bis §4.1.3: the name prefixes, case-insensitively (§5.7). */
    if (starts_ci(c->name, "__Secure-"))
        c->prefix = FH__COOKIE_PREFIX_SECURE;
    else if (starts_ci(c->name, "__Host-"))
        c->prefix = FH__COOKIE_PREFIX_HOST;
    for (size_t i = nv; i < n;) {
        i++; /* the ';' */
        const char *e = memchr(s + i, ';', n - i);
        size_t an = e ? (size_t)(e - (s + i)) : n - i;
        attribute(c, s + i, an);
        i += an;
    }
    return FH_OK;
}

/* A domain as the program writes it: "[::1]" → "::1", one leading dot
 * dropped, lower case; only bytes a host name or address can hold. */
int fh__cookie_norm_domain(const char *in, char *out)
{
    size_t n = in ? strlen(in) : 0;
    if (n >= 2 && in[0] == '[' && in[n - 1] == ']')
        in++, n -= 2;
    if (n > 0 && in[0] == '.')
        in++, n--;
    if (n > FH__COOKIE_MAX_DOMAIN)
        return FH_EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = lower((unsigned char)in[i]);
        if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '.' || c == '_' ||
              c == ':'))
            return FH_EINVAL;
        out[i] = (char)c;
    }
    out[n] = '\0';
    return FH_OK;
}
