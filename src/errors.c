/* errors.c — descriptions of the FH_E... codes. */
#include "fasthttp/fasthttp.h"

const char *fh_strerror(int code)
{
    switch (code) {
    case FH_OK: return "success";
    case FH_EINVAL: return "invalid argument";
    case FH_ENOMEM: return "out of memory";
    case FH_EURL: return "malformed URL";
    case FH_EHEADER: return "invalid request method, target or header";
    case FH_ERESOLVE: return "could not resolve host name";
    case FH_ECONNECT: return "could not connect to server";
    case FH_ETLS: return "TLS error";
    case FH_ECERT: return "server certificate verification failed";
    case FH_ECLOSED: return "connection closed by peer before the response was complete";
    case FH_EIO: return "socket I/O error";
    case FH_EPROTO: return "malformed HTTP response";
    case FH_EHEADERS_TOO_LARGE: return "response header section too large";
    case FH_ETOO_MANY_HEADERS: return "too many response headers";
    case FH_ECONTENT_LENGTH: return "invalid Content-Length in response";
    case FH_ECHUNKED: return "malformed chunked encoding in response";
    case FH_ETRANSFER_ENCODING: return "unsupported Transfer-Encoding in response";
    case FH_EDECODE: return "could not decode response content";
    case FH_EBODY_TOO_LARGE: return "response body larger than allowed";
    case FH_ETIMEOUT_CONNECT: return "connect timeout";
    case FH_ETIMEOUT_READ: return "read timeout";
    case FH_ETIMEOUT_WRITE: return "write timeout";
    case FH_ETIMEOUT_POOL: return "timed out waiting for a free connection";
    case FH_ETIMEOUT_TOTAL: return "total timeout exceeded";
    case FH_EAGAIN: return "operation would block";
    case FH_ECANCELED: return "request cancelled";
    case FH_ESTATE: return "operation not allowed in the current state";
    case FH_EBODY_SOURCE: return "request body source failed";
    case FH_EUNSUPPORTED: return "not supported";
    case FH_ETOO_MANY_INTERIM: return "too many interim (1xx) responses";
    case FH_ELOOP: return "event loop adapter failed";
    case FH_ECIRCUIT_OPEN: return "circuit breaker is open for this origin";
    case FH_ETOO_MANY_REDIRECTS: return "too many redirects";
    case FH_EREDIRECT: return "invalid redirect";
    case FH_ENOT_REPLAYABLE: return "request body cannot be replayed";
    case FH_EFILE: return "file missing, unreadable or not a regular file";
    case FH_EREFUSED:
        return "the server did not process the request (refused stream or GOAWAY)";
    case FH_EHTTP2: return "HTTP/2 was required and the server does not speak it";
    case FH_EFORKED:
        return "the process forked while the request was in flight; it belongs to the parent";
    case FH_EWS_HANDSHAKE: return "WebSocket handshake failed";
    case FH_EWS_CLOSED: return "WebSocket is closed";
    case FH_EWS_PROTO: return "WebSocket protocol violation by the peer";
    case FH_EPROXY: return "the proxy refused or failed the connection";
    default: return "unknown error";
    }
}

int fh_error_is_timeout(int code)
{
    return code <= FH_ETIMEOUT_CONNECT && code >= FH_ETIMEOUT_TOTAL;
}
