/*
 * ws.c — fh_ws, the public WebSocket API (fasthttp/ws.h): settings, the
 * opening handshake (RFC 6455 §4.1) as an ordinary HTTP/1.1 exchange of
 * the client, its checks, and the blocking calls, which wait on the
 * WebSocket's private engine with the caller's hooks (poll_loop.c). The
 * open connection is ws_codec.c; the protocol ws_proto.c.
 */
#include "ws_internal.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" /* RFC 6455 §1.3 */

/* ---- options --------------------------------------------------------------------- */

static const char *const opt_names[FH_WS_OPTIONS] = {
    "max_message", "ping_interval", "pong_timeout", "close_timeout", "max_queue", "write_limit",
};
static const int64_t opt_default[FH_WS_OPTIONS] = {
    16 << 20, 0, 20000, 10000, 16, 65536,
};

static int64_t opt_max(fh_ws_option o)
{
    switch (o) {
    case FH_WS_MAX_MESSAGE:
    case FH_WS_WRITE_LIMIT: return FH_LIMIT_MAX;
    case FH_WS_MAX_QUEUE: return 1000000;
    default: return (int64_t)FH_SECONDS_MAX * 1000;
    }
}

int fh_ws_option_check(fh_ws_option o, int64_t v, char *msg, size_t msglen)
{
    if ((int)o < 0 || o >= FH_WS_OPTIONS) {
        if (msg && msglen)
            snprintf(msg, msglen, "unknown WebSocket option %d", (int)o);
        return FH_EINVAL;
    }
    int64_t lo = (o == FH_WS_MAX_MESSAGE || o == FH_WS_MAX_QUEUE) ? 1 : 0;
    if (v < lo || v > opt_max(o)) {
        if (msg && msglen)
            snprintf(msg, msglen, "%s must be between %lld and %lld%s", opt_names[o],
                     (long long)lo, (long long)opt_max(o),
                     o == FH_WS_PING_INTERVAL || o == FH_WS_PONG_TIMEOUT ||
                             o == FH_WS_CLOSE_TIMEOUT
                         ? " ms"
                         : "");
        return FH_EINVAL;
    }
    if (msg && msglen)
        msg[0] = 0;
    return FH_OK;
}

int64_t fh_ws_option_default(fh_ws_option o)
{
    return (int)o < 0 || o >= FH_WS_OPTIONS ? FH_EINVAL : opt_default[o];
}

/* ---- creation ---------------------------------------------------------------------- */

/* ws:// → http://, wss:// → https:// (RFC 6455 §3); http(s) as they are. */
static char *http_url(const char *url)
{
    static const struct { const char *from, *to; } map[] = {
        {"ws://", "http://"}, {"wss://", "https://"}, {"http://", "http://"},
        {"https://", "https://"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        size_t n = strlen(map[i].from);
        if (strncasecmp(url, map[i].from, n) == 0) {
            size_t len = strlen(map[i].to) + strlen(url + n) + 1;
            char *out = malloc(len);
            if (out)
                snprintf(out, len, "%s%s", map[i].to, url + n);
            return out;
        }
    }
    return NULL;
}

fh_ws *fh_ws_new(fh_client *client, const char *url, int *err)
{
    int e = FH_OK;
    fh_ws *ws = NULL;
    char *hu = NULL;
    if (!client || !url) {
        e = FH_EINVAL;
        goto out;
    }
    /* §3: a fragment is never part of a WebSocket URI. */
    if (!(hu = http_url(url)) || strchr(url, '#')) {
        e = FH_EURL;
        goto out;
    }
    ws = calloc(1, sizeof *ws);
    if (!ws || !(ws->url = strdup(url))) {
        e = FH_ENOMEM;
        goto out;
    }
    ws->req = fh_request_new("GET", hu, &e);
    if (!ws->req)
        goto out;
    ws->client = client;
    memcpy(ws->opt, opt_default, sizeof ws->opt);
    ws->offer.on = 1;
    ws->offer.client_bits = -1; /* "permessage-deflate; client_max_window_bits" */
    ws->gen = fh_fork_generation();
    free(hu);
    if (err)
        *err = FH_OK;
    return ws;
out:
    free(hu);
    fh_ws_free(ws);
    if (err)
        *err = e;
    return NULL;
}

fh_request *fh_ws_request(fh_ws *ws)
{
    return ws ? ws->req : NULL;
}

static int is_token(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s <= 0x20 || *s >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", *s))
            return 0;
    return 1;
}

int fh_ws_add_subprotocol(fh_ws *ws, const char *name)
{
    if (!ws || !name || !is_token(name) || ws->started)
        return ws && ws->started ? FH_ESTATE : FH_EINVAL;
    if (ws->protocols.len && fh__buf_append(&ws->protocols, ", ", 2) != FH_OK)
        return FH_ENOMEM;
    return fh__buf_append(&ws->protocols, name, strlen(name));
}

int fh_ws_set_extensions(fh_ws *ws, const char *offer)
{
    if (!ws)
        return FH_EINVAL;
    if (ws->started)
        return FH_ESTATE;
    fh__pmd p = {1, 0, 0, 0, -1};
    if (offer && fh__pmd_parse(offer, strlen(offer), 0, &p, ws->err, sizeof ws->err) != FH_OK)
        return FH_EINVAL;
    ws->offer = p;
    return FH_OK;
}

int fh_ws_set_option(fh_ws *ws, fh_ws_option o, int64_t v)
{
    if (!ws)
        return FH_EINVAL;
    int rc = fh_ws_option_check(o, v, ws->err, sizeof ws->err);
    if (rc)
        return rc;
    ws->opt[o] = v;
    return FH_OK;
}

int fh_ws_set_wait_hooks(fh_ws *ws, const fh_wait_hooks *hooks)
{
    if (!ws)
        return FH_EINVAL;
    ws->has_hooks = hooks != NULL;
    if (hooks)
        ws->hooks = *hooks;
    return FH_OK;
}

/* ---- the opening handshake (RFC 6455 §4.1) --------------------------------------------- */

static void accept_value(const char *key, char out[32])
{
    char in[64];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int n = snprintf(in, sizeof in, "%s%s", key, WS_GUID);
    EVP_Digest(in, (size_t)n, md, &mdlen, EVP_sha1(), NULL);
    EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
}

/* The request's upgrade fields; the key is 16 random bytes (§4.1). */
static int prepare(fh_ws *ws)
{
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return FH_ENOMEM;
    EVP_EncodeBlock((unsigned char *)ws->key, raw, sizeof raw);
    fh_request *r = ws->req;
    int rc = fh_request_add_header(r, "Upgrade", "websocket");
    if (!rc)
        rc = fh_request_add_header(r, "Connection", "Upgrade");
    if (!rc)
        rc = fh_request_add_header(r, "Sec-WebSocket-Key", ws->key);
    if (!rc)
        rc = fh_request_add_header(r, "Sec-WebSocket-Version", "13");
    if (!rc && ws->protocols.len)
        rc = fh_request_add_header_n(r, "Sec-WebSocket-Protocol", 22,
                                     (const char *)ws->protocols.data, ws->protocols.len);
    if (!rc && ws->offer.on) {
        char v[160];
        fh__pmd_format(&ws->offer, v, sizeof v);
        rc = fh_request_add_header(r, "Sec-WebSocket-Extensions", v);
    }
    /* HTTP/1.1 only (RFC 8441 is not spoken), no content coding asked. */
    if (!rc)
        rc = fh_request_set_http2(r, FH_HTTP2_OFF);
    if (!rc)
        rc = fh_request_set_decode(r, 0);
    if (!rc)
        rc = fh_request_set_stream(r, 0);
    return rc;
}

/* Whether a comma-separated field value lists token (case-insensitive). */
static int lists(const char *v, size_t n, const char *token)
{
    size_t tl = strlen(token);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - s == tl && strncasecmp(v + s, token, tl) == 0)
            return 1;
    }
    return 0;
}

/* All values of a field, joined with ", " (RFC 9110 §5.3). */
static int field(const fh_response *r, const char *name, fh__buf *out)
{
    size_t pos = 0;
    fh_header h;
    int n = 0;
    while (fh_response_header_next(r, name, &pos, &h) == FH_OK) {
        if ((n++ && fh__buf_append(out, ", ", 2)) || fh__buf_append(out, h.value, h.value_len))
            return -1;
    }
    return n;
}

__attribute__((format(printf, 2, 3)))
static int refuse(fh_ws *ws, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ws->err, sizeof ws->err, fmt, ap);
    va_end(ap);
    return FH_EWS_HANDSHAKE;
}

static int check_protocol(fh_ws *ws, const fh_response *r)
{
    fh__buf v = {0};
    int n = field(r, "sec-websocket-protocol", &v);
    int rc = FH_OK;
    if (n > 0) {
        char *s = strndup((const char *)v.data, v.len);
        if (!s)
            rc = FH_ENOMEM;
        else if (n > 1 || strchr(s, ',') || !ws->protocols.len ||
                 !lists((const char *)ws->protocols.data, ws->protocols.len, s))
            rc = refuse(ws, "the server chose subprotocol '%.60s', which was not offered", s);
        else
            ws->subprotocol = s, s = NULL;
        free(s);
    }
    fh__buf_free(&v);
    return rc;
}

static int check_extensions(fh_ws *ws, const fh_response *r, fh__pmd *agreed)
{
    fh__buf v = {0};
    int n = field(r, "sec-websocket-extensions", &v);
    int rc = FH_OK;
    char err[160];
    memset(agreed, 0, sizeof *agreed);
    if (n > 0) {
        if (fh__pmd_parse((const char *)v.data, v.len, 1, agreed, err, sizeof err) != FH_OK ||
            fh__pmd_check_answer(&ws->offer, agreed, err, sizeof err) != FH_OK)
            rc = refuse(ws, "extensions refused (%s): %.*s", err, (int)(v.len > 80 ? 80 : v.len),
                        (const char *)v.data);
        else if (agreed->on && !(ws->extensions = strndup((const char *)v.data, v.len)))
            rc = FH_ENOMEM;
    }
    fh__buf_free(&v);
    return rc;
}

static int check_handshake(fh_ws *ws, const fh_response *r, fh__pmd *agreed)
{
    int st = fh_response_status(r);
    if (st != 101) {
        size_t rl = 0;
        const char *reason = fh_response_reason(r, &rl);
        return refuse(ws, "the server answered %d %.*s instead of 101 Switching Protocols", st,
                      (int)(rl > 60 ? 60 : rl), reason ? reason : "");
    }
    size_t n = 0;
    const char *v = fh_response_header(r, "upgrade", &n);
    if (!v || !lists(v, n, "websocket"))
        return refuse(ws, "the 101 answer lacks 'Upgrade: websocket'");
    v = fh_response_header(r, "connection", &n);
    if (!v || !lists(v, n, "upgrade"))
        return refuse(ws, "the 101 answer lacks 'Connection: Upgrade'");
    char want[32] = "";
    accept_value(ws->key, want);
    v = fh_response_header(r, "sec-websocket-accept", &n);
    while (v && n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (!v || n != strlen(want) || memcmp(v, want, n) != 0)
        return refuse(ws, "wrong Sec-WebSocket-Accept in the 101 answer (RFC 6455 §4.1)");
    int rc = check_protocol(ws, r);
    return rc ? rc : check_extensions(ws, r, agreed);
}

/* The handshake exchange ended (from the engine's callback queue). */
static void on_handshake(void *ud, fh_request *req, int status, fh_response *resp)
{
    fh_ws *ws = ud;
    int rc = status;
    if (status != FH_OK) {
        snprintf(ws->err, sizeof ws->err, "%s", fh_request_error_message(req));
    } else {
        ws->resp = resp;
        fh__pmd agreed;
        rc = check_handshake(ws, resp, &agreed);
        fh__conn *c = resp->upgraded;
        resp->upgraded = NULL;
        if (rc == FH_OK && !c)
            rc = refuse(ws, "the 101 answer left no connection to take over");
        if (rc == FH_OK && fh__wsp_init(&ws->p, &agreed, (size_t)ws->opt[FH_WS_MAX_MESSAGE]) != FH_OK)
            rc = FH_ENOMEM;
        ws->p_ready = rc == FH_OK;
        if (rc == FH_OK) {
            ws->status = FH_OK;
            rc = fh__ws_adopt(ws, c); /* ends ws itself on failure */
            fh__ws_event(ws, FH_WS_EV_OPEN);
            return;
        }
        fh__conn_close(c);
    }
    ws->status = rc;
    ws->state = FH_WS_CLOSED;
    ws->close_code = 1006;
    fh__ws_event(ws, FH_WS_EV_OPEN | FH_WS_EV_CLOSED);
}

static const fh_callbacks hs_callbacks = {on_handshake, NULL};

static int start(fh_ws *ws, fh_engine *e, fh_ws_event_fn fn, void *ud)
{
    if (ws->started)
        return FH_ESTATE;
    int rc = prepare(ws);
    if (rc)
        return rc;
    ws->engine = e;
    ws->fn = fn;
    ws->ud = ud;
    ws->started = 1;
    ws->state = FH_WS_CONNECTING;
    ws->status = FH_EAGAIN; /* until the handshake ends */
    rc = fh_engine_submit(e, ws->req, &hs_callbacks, ws);
    if (rc) {
        snprintf(ws->err, sizeof ws->err, "%s", fh_request_error_message(ws->req));
        ws->status = rc;
        ws->state = FH_WS_CLOSED;
    }
    return rc;
}

int fh_ws_start(fh_ws *ws, fh_engine *engine, fh_ws_event_fn fn, void *ud)
{
    if (!ws || !engine || !fn || engine->client != ws->client)
        return FH_EINVAL;
    return start(ws, engine, fn, ud);
}

/* ---- blocking waits --------------------------------------------------------------- */

/* A forked child: the connection is the parent's (docs/security.md, Fork). */
static void check_fork(fh_ws *ws)
{
    if (ws->gen == fh_fork_generation())
        return;
    ws->gen = fh_fork_generation();
    if (ws->engine)
        fh__engine_check_fork(ws->engine); /* its heap and fd table are gone */
    if (ws->conn) {
        ws->conn->timer.idx = 0;
        ws->conn->cs = NULL;
        fh__conn_close_quiet(ws->conn);
        ws->conn = NULL;
    }
    if (ws->state != FH_WS_CLOSED) {
        ws->state = FH_WS_CLOSED;
        ws->status = FH_EFORKED;
        ws->close_code = 1006;
        snprintf(ws->err, sizeof ws->err, "%s", fh_strerror(FH_EFORKED));
    }
}

/* Runs the private engine until done(ws) holds or a hook stops the call. */
static int wait_until(fh_ws *ws, int (*done)(const fh_ws *))
{
    if (!ws->own_engine)
        return done(ws) ? FH_OK : FH_EAGAIN;
    fh__block b;
    fh__block_begin(&b, ws->engine, NULL, ws->has_hooks ? &ws->hooks : NULL);
    while (!done(ws)) {
        int rc = fh__block_wait(&b);
        if (rc < 0)
            return rc;
    }
    return FH_OK;
}

static int opened(const fh_ws *ws)
{
    return ws->state != FH_WS_CONNECTING;
}

int fh_ws_connect(fh_ws *ws)
{
    if (!ws)
        return FH_EINVAL;
    if (ws->started)
        return FH_ESTATE;
    fh_engine *e = fh_engine_new(ws->client, NULL, NULL);
    if (!e)
        return FH_ENOMEM;
    ws->own_engine = 1;
    int rc = start(ws, e, NULL, NULL);
    if (rc)
        return rc;
    rc = wait_until(ws, opened);
    if (rc < 0) { /* a hook stopped it */
        fh_engine_cancel(e, ws->req);
        ws->state = FH_WS_CLOSED;
        ws->status = rc;
        snprintf(ws->err, sizeof ws->err, "stopped by a wait hook");
        return rc;
    }
    return ws->state == FH_WS_CLOSED && ws->status != FH_OK ? ws->status : FH_OK;
}

static void rearm(fh_ws *ws)
{
    if (ws->engine && !ws->engine->in_action)
        fh__engine_rearm(ws->engine);
}

static int has_message_or_end(const fh_ws *ws)
{
    return ws->p.q_head || ws->state == FH_WS_CLOSED || ws->p.close_received || ws->p.failed;
}

int fh_ws_recv(fh_ws *ws, int *type, const uint8_t **data, size_t *len)
{
    if (!ws || !type || !data || !len)
        return FH_EINVAL;
    check_fork(ws);
    if (!ws->p_ready)
        return ws->state == FH_WS_CONNECTING ? FH_ESTATE : (ws->status ? ws->status : FH_EWS_CLOSED);
    int rc = wait_until(ws, has_message_or_end);
    if (rc < 0 && rc != FH_EAGAIN)
        return rc;
    fh__wsp_recycle(&ws->p, ws->last);
    ws->last = fh__wsp_pop(&ws->p);
    if (ws->read_paused && ws->conn &&
        ws->p.q_count < (size_t)ws->opt[FH_WS_MAX_QUEUE]) {
        fh__ws_pump(ws); /* back-pressure released: read on */
        rearm(ws);
    }
    if (ws->last) {
        *type = ws->last->type;
        *data = ws->last->data.data ? ws->last->data.data : (const uint8_t *)"";
        *len = ws->last->data.len;
        return FH_OK;
    }
    if (rc == FH_EAGAIN)
        return FH_EAGAIN;
    return ws->status == FH_EWS_PROTO ? FH_EWS_PROTO : FH_EWS_CLOSED;
}

static int drained(const fh_ws *ws)
{
    return !ws->conn || fh__wsp_pending(&ws->p) <= (size_t)ws->opt[FH_WS_WRITE_LIMIT];
}

/* Common checks of the sending calls. */
static int can_send(fh_ws *ws)
{
    check_fork(ws);
    if (ws->state == FH_WS_CONNECTING || !ws->p_ready)
        return ws->state == FH_WS_CONNECTING ? FH_ESTATE : FH_EWS_CLOSED;
    if (!ws->conn || ws->p.close_sent)
        return FH_EWS_CLOSED;
    return FH_OK;
}

static int after_send(fh_ws *ws)
{
    fh__ws_flush(ws);
    rearm(ws);
    int rc = wait_until(ws, drained);
    if (rc < 0 && rc != FH_EAGAIN)
        return rc;
    return ws->conn || ws->status == FH_OK ? FH_OK : FH_EWS_CLOSED;
}

int fh_ws_send(fh_ws *ws, int type, const void *data, size_t len, int final)
{
    if (!ws || (!data && len))
        return FH_EINVAL;
    int rc = can_send(ws);
    if (rc)
        return rc;
    rc = fh__wsp_send(&ws->p, type, data, len, final);
    return rc ? rc : after_send(ws);
}

int fh_ws_ping(fh_ws *ws, const void *data, size_t len)
{
    if (!ws || (!data && len))
        return FH_EINVAL;
    int rc = can_send(ws);
    if (rc)
        return rc;
    rc = fh__wsp_ping(&ws->p, data, len);
    return rc ? rc : after_send(ws);
}

static int ended(const fh_ws *ws)
{
    return ws->state == FH_WS_CLOSED;
}

int fh_ws_close(fh_ws *ws, int code, const char *reason, size_t len)
{
    if (!ws || (!reason && len))
        return FH_EINVAL;
    check_fork(ws);
    if (ws->state == FH_WS_CONNECTING)
        return FH_ESTATE;
    if (ws->conn && !ws->p.close_sent) {
        int rc = fh__wsp_close(&ws->p, code, reason, len);
        if (rc)
            return rc;
    }
    if (ws->conn) {
        fh__ws_closing(ws);
        fh__ws_pump(ws);
        rearm(ws);
    }
    int rc = wait_until(ws, ended);
    return rc < 0 && rc != FH_EAGAIN ? rc : FH_OK;
}

/* ---- state ---------------------------------------------------------------------- */

int fh_ws_state(const fh_ws *ws)
{
    return ws ? ws->state : FH_EINVAL;
}

int fh_ws_status(const fh_ws *ws)
{
    if (!ws)
        return FH_EINVAL;
    return ws->status == FH_EAGAIN ? FH_OK : ws->status;
}

size_t fh_ws_buffered(const fh_ws *ws)
{
    return ws && ws->p_ready ? fh__wsp_pending(&ws->p) : 0;
}

const char *fh_ws_subprotocol(const fh_ws *ws)
{
    return ws ? ws->subprotocol : NULL;
}

const char *fh_ws_extensions(const fh_ws *ws)
{
    return ws ? ws->extensions : NULL;
}

int fh_ws_close_code(const fh_ws *ws)
{
    if (!ws)
        return 0;
    if (ws->close_code)
        return ws->close_code;
    return ws->p_ready ? ws->p.code_received : 0;
}

const char *fh_ws_close_reason(const fh_ws *ws, size_t *len)
{
    size_t n = ws && ws->p_ready ? ws->p.reason_len : 0;
    if (len)
        *len = n;
    return n ? ws->p.reason : "";
}

int fh_ws_close_code_sent(const fh_ws *ws)
{
    return ws && ws->p_ready ? ws->p.code_sent : 0;
}

const char *fh_ws_error_message(const fh_ws *ws)
{
    return ws ? ws->err : "";
}

const fh_response *fh_ws_handshake_response(const fh_ws *ws)
{
    return ws ? ws->resp : NULL;
}

void fh_ws_free(fh_ws *ws)
{
    if (!ws)
        return;
    check_fork(ws);
    if (ws->engine && ws->state == FH_WS_CONNECTING && ws->started)
        fh_engine_cancel(ws->engine, ws->req);
    if (ws->conn) {
        ws->fn = NULL; /* no events from here on */
        fh__ws_end(ws, FH_OK, "%s", "");
    }
    if (ws->engine)
        fh__engine_undefer(ws->engine, &ws->defer);
    if (ws->p_ready)
        fh__wsp_free(&ws->p);
    fh__wsmsg_free(ws->last);
    fh_response_free(ws->resp);
    fh_request_free(ws->req);
    if (ws->own_engine)
        fh_engine_free(ws->engine);
    fh__buf_free(&ws->protocols);
    free(ws->ibuf);
    free(ws->subprotocol);
    free(ws->extensions);
    free(ws->url);
    free(ws);
}
