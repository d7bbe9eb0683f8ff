/*
 * response_props.c — what a Response tells beyond status, headers and body:
 * the request as it was sent (from libfasthttp's record of each response,
 * redirect hops included), the status predicates of the original library,
 * requests and httpx, truthiness, content_type, links (RFC 8288, parsed by
 * libfasthttp) and num_bytes_downloaded.
 */
#include "aio.h"

#include <string.h>
#include <strings.h>

/* ---- the request as sent ----------------------------------------------------- */

/* 1 when the recorded request carried a body (it has a framing field). */
static int sent_with_body(const fhp_rawhdrs *raw)
{
    for (size_t i = raw->n; i < raw->n + raw->nreq; i++) {
        const struct fhp_rawent *e = &raw->ent[i];
        const char *name = raw->data + e->name_off;
        if ((e->name_len == 14 && strncasecmp(name, "content-length", 14) == 0) ||
            (e->name_len == 17 && strncasecmp(name, "transfer-encoding", 17) == 0))
            return 1;
    }
    return 0;
}

/* A Request with the method, URL and fields libfasthttp recorded; the body
 * is the one of the Request given when this request carried one (a 303
 * after a POST did not). */
static PyObject *sent_request(FhpResponse *r)
{
    const fhp_rawhdrs *raw = r->raw;
    FhpRequest *given = r->request ? (FhpRequest *)r->request : NULL;
    FhpRequest *q = PyObject_GC_New(FhpRequest, &FhpRequest_Type);
    if (!q)
        return NULL;
    q->method = q->url = q->headers = q->content = q->stream = q->sensitive = NULL;
    PyObject_GC_Track(q);
    int body = given && sent_with_body(raw);
    q->method = PyUnicode_DecodeLatin1(raw->data + raw->method_off, raw->method_len, NULL);
    q->url = PyUnicode_DecodeUTF8(raw->data + raw->url_off, raw->url_len, "replace");
    q->headers = fhp_headers_from_raw_request(raw);
    q->content = Py_NewRef(body && given->content ? given->content : S.empty_bytes);
    q->stream = body ? Py_XNewRef(given->stream) : NULL;
    if (!q->method || !q->url || !q->headers) {
        Py_DECREF(q);
        return NULL;
    }
    return (PyObject *)q;
}

PyObject *fhp_response_get_request(FhpResponse *r, void *c)
{
    if (!r->sent && (r->raw || r->fresp)) {
        const fhp_rawhdrs *raw = fhp_response_raw(r);
        if (!raw)
            return NULL;
        if (raw->has_req && !(r->sent = sent_request(r)))
            return NULL;
    }
    PyObject *q = r->sent ? r->sent : r->request;
    return Py_NewRef(q ? q : Py_None);
}

/* ---- status ----------------------------------------------------------------------- */

/* The getter of ok, is_success, is_redirect, is_error...: closure is a
 * {lo, hi} pair of Response_getset (response.c). ok is the original
 * library's (2xx); truth is requests' (no 4xx or 5xx). */
PyObject *fhp_response_get_status_in(FhpResponse *r, void *closure)
{
    const int *range = closure;
    return PyBool_FromLong(r->status >= range[0] && r->status < range[1]);
}

PyObject *fhp_response_get_is_permanent_redirect(FhpResponse *r, void *c)
{
    /* RFC 9110 §15.4.2 (301) and §15.4.9 (308). */
    return PyBool_FromLong(r->status == 301 || r->status == 308);
}

int fhp_response_bool(FhpResponse *r)
{
    return r->status < 400;
}

/* ---- content_type, num_bytes_downloaded ----------------------------------------- */

PyObject *fhp_response_get_content_type(FhpResponse *r, void *c)
{
    PyObject *ct = fhp_response_header(r, "content-type");
    if (!ct)
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    /* RFC 9110 §8.3.1: type "/" subtype, case-insensitive, before any ';'. */
    Py_ssize_t n = PyUnicode_GET_LENGTH(ct), semi = PyUnicode_FindChar(ct, ';', 0, n, 1);
    PyObject *mt = PyUnicode_Substring(ct, 0, semi >= 0 ? semi : n);
    Py_DECREF(ct);
    PyObject *stripped = mt ? PyObject_CallMethod(mt, "strip", NULL) : NULL;
    Py_XDECREF(mt);
    PyObject *low = stripped ? PyObject_CallMethod(stripped, "lower", NULL) : NULL;
    Py_XDECREF(stripped);
    if (low && PyUnicode_GET_LENGTH(low) == 0)
        Py_SETREF(low, Py_NewRef(Py_None));
    return low;
}

/* Bytes of the body received so far off the wire (before content decoding). */
PyObject *fhp_response_get_downloaded(FhpResponse *r, void *c)
{
    uint64_t n = r->downloaded;
    if (r->xfer && r->xfer->resp)
        n = fh_response_body_bytes_received(r->xfer->resp);
    else if (r->astream && ((fhp_aexch *)r->astream)->resp)
        n = fh_response_body_bytes_received(((fhp_aexch *)r->astream)->resp);
    return PyLong_FromUnsignedLongLong((unsigned long long)n);
}

/* ---- links (RFC 8288) --------------------------------------------------------------- */

/* d[name] = value for the first occurrence of each parameter (§3.3, §3.4.1). */
static int link_dict(const fh_link *k, PyObject **out)
{
    PyObject *d = PyDict_New(), *url = PyUnicode_DecodeUTF8(k->target, (Py_ssize_t)strlen(k->target),
                                                            "replace");
    int rc = d && url && PyDict_SetItemString(d, "url", url) == 0 ? 0 : -1;
    Py_XDECREF(url);
    for (size_t i = 0; rc == 0 && i < k->nparams; i++) {
        PyObject *v = PyUnicode_DecodeUTF8(k->params[i].value,
                                           (Py_ssize_t)strlen(k->params[i].value), "replace");
        PyObject *name = PyUnicode_FromString(k->params[i].name);
        rc = v && name && PyDict_SetDefault(d, name, v) ? 0 : -1;
        Py_XDECREF(v);
        Py_XDECREF(name);
    }
    if (rc < 0)
        Py_CLEAR(d);
    *out = d;
    return rc;
}

/* Keys: each relation type of rel (§3.3: space-separated, case-insensitive),
 * or the URL when there is no rel; the first link for a key wins. */
static int add_link(PyObject *links, const fh_link *k)
{
    PyObject *d;
    if (link_dict(k, &d) < 0)
        return -1;
    PyObject *rel = PyDict_GetItemString(d, "rel");
    PyObject *keys = rel ? PyObject_CallMethod(rel, "split", NULL) : PyList_New(0);
    PyObject *low = NULL;
    if (keys && PyList_GET_SIZE(keys) == 0 && PyList_Append(keys, PyDict_GetItemString(d, "url")) < 0)
        Py_CLEAR(keys);
    int rc = keys ? 0 : -1;
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(keys); i++) {
        PyObject *key = PyList_GET_ITEM(keys, i);
        low = rel ? PyObject_CallMethod(key, "lower", NULL) : Py_NewRef(key);
        rc = low && PyDict_SetDefault(links, low, d) ? 0 : -1;
        Py_CLEAR(low);
    }
    Py_XDECREF(keys);
    Py_DECREF(d);
    return rc;
}

PyObject *fhp_response_get_links(FhpResponse *r, void *c)
{
    PyObject *h = PyObject_GetAttrString((PyObject *)r, "headers");
    PyObject *vals = h ? PyObject_CallMethod(h, "get_list", "s", "link") : NULL;
    Py_XDECREF(h);
    PyObject *sep = vals ? PyUnicode_FromString(", ") : NULL;
    PyObject *joined = sep ? PyUnicode_Join(sep, vals) : NULL;
    Py_XDECREF(sep);
    Py_XDECREF(vals);
    Py_ssize_t n;
    const char *v = joined ? PyUnicode_AsUTF8AndSize(joined, &n) : NULL;
    const char *base = r->url && PyUnicode_Check(r->url) ? PyUnicode_AsUTF8(r->url) : NULL;
    fh_links *parsed = NULL;
    int rc = v ? fh_links_parse(v, (size_t)n, base, &parsed) : FH_EINVAL;
    Py_XDECREF(joined);
    if (rc != FH_OK) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        return NULL;
    }
    PyObject *links = PyDict_New();
    for (size_t i = 0; links && i < fh_links_count(parsed); i++)
        if (add_link(links, fh_links_at(parsed, i)) < 0)
            Py_CLEAR(links);
    fh_links_free(parsed);
    return links;
}
