/*
 * fasthttp/errors.h — error codes of libfasthttp.
 *
 * Every fallible function returns 0 (FH_OK) or one of these negative codes.
 * fh_strerror() turns a code into a fixed English sentence; the request that
 * failed additionally carries a message with the specifics (see
 * fh_request_error_message()).
 */
#ifndef FASTHTTP_ERRORS_H
#define FASTHTTP_ERRORS_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

enum fh_error {
    FH_OK = 0,
    FH_EINVAL = -1,             /* invalid argument passed to the API */
    FH_ENOMEM = -2,             /* out of memory */
    FH_EURL = -3,               /* malformed or unsupported URL */
    FH_EHEADER = -4,            /* invalid outgoing method, target or header */
    FH_ERESOLVE = -5,           /* host name could not be resolved */
    FH_ECONNECT = -6,           /* TCP connection refused or failed */
    FH_ETLS = -7,               /* TLS handshake or record-layer failure */
    FH_ECERT = -8,              /* server certificate verification failed */
    FH_ECLOSED = -9,            /* peer closed the connection too early */
    FH_EIO = -10,               /* socket error while sending or receiving */
    FH_EPROTO = -11,            /* malformed HTTP response (protocol error) */
    FH_EHEADERS_TOO_LARGE = -12,/* status line or header block over the limit */
    FH_ETOO_MANY_HEADERS = -13, /* more response headers than allowed */
    FH_ECONTENT_LENGTH = -14,   /* invalid or conflicting Content-Length */
    FH_ECHUNKED = -15,          /* malformed chunked transfer coding */
    FH_ETRANSFER_ENCODING = -16,/* unsupported Transfer-Encoding */
    FH_EDECODE = -17,           /* content decoding (gzip/br/zstd) failed */
    FH_EBODY_TOO_LARGE = -18,   /* buffered body over the configured maximum */
    FH_ETIMEOUT_CONNECT = -19,  /* connect (incl. DNS and TLS) took too long */
    FH_ETIMEOUT_READ = -20,     /* no byte received within the read timeout */
    FH_ETIMEOUT_WRITE = -21,    /* request could not be written in time */
    FH_ETIMEOUT_POOL = -22,     /* no connection became free in time */
    FH_ETIMEOUT_TOTAL = -23,    /* whole exchange exceeded the total timeout */
    FH_EAGAIN = -24,            /* non-blocking call: nothing available yet */
    FH_ECANCELED = -25,         /* request cancelled by the caller */
    FH_ESTATE = -26,            /* call not valid in the object's current state */
    FH_EBODY_SOURCE = -27,      /* the request body callback failed */
    FH_EUNSUPPORTED = -28,      /* feature or scheme not supported */
    FH_ETOO_MANY_INTERIM = -29, /* too many 1xx interim responses */
    FH_ELOOP = -30,             /* event-loop adapter reported a failure */
    FH_ECIRCUIT_OPEN = -31,     /* circuit breaker open for this origin */
    FH_ETOO_MANY_REDIRECTS = -32, /* more redirects than allowed */
    FH_EREDIRECT = -33,         /* redirect without a usable Location */
    FH_ENOT_REPLAYABLE = -34,   /* a streamed body cannot be sent again */
    FH_EFILE = -35,             /* a file named in a setting is missing or unreadable
                                   (errno tells why) */
    FH_EFORKED = -36,           /* in flight when the process forked: the parent's */
    FH_EREFUSED = -37,          /* the server did not process the request (HTTP/2
                                   REFUSED_STREAM or GOAWAY): safe to send again */
    FH_EHTTP2 = -38,            /* HTTP/2 was required and the server cannot speak it */
    FH_EWS_HANDSHAKE = -39,     /* the server refused or botched the WebSocket upgrade
                                   (RFC 6455 §4.1): see fh_ws_handshake_status() */
    FH_EWS_CLOSED = -40,        /* the WebSocket is closed (fh_ws_close_code() says how) */
    FH_EWS_PROTO = -41,         /* the peer broke RFC 6455 / RFC 7692: the WebSocket was
                                   failed with close code 1002, 1007 or 1009 */
    /* -42 to -49 are left to other features; proxy codes start at -50. */
    FH_EPROXY = -50             /* the proxy refused or failed the tunnel or the request:
                                   a CONNECT answered with a non-2xx status (see
                                   fh_request_proxy_status(), 407: proxy authentication
                                   required), a SOCKS5 refusal, or a malformed reply */
};

/* A fixed, static description of an error code; never NULL. */
FH_EXTERN const char *fh_strerror(int code);

/* Non-zero when the code is one of the timeout errors. */
FH_EXTERN int fh_error_is_timeout(int code);

#ifdef __cplusplus
}
#endif
#endif
