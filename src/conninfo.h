/*
 * conninfo.h — what a connection was when it became ready (peer address,
 * TLS version, cipher, ALPN, peer certificate), shared by the connection
 * and every response it carried, so fh_response_conn_info() answers after
 * the connection is gone. Made once per connection, never per request: a
 * response takes a reference (one atomic add) when its head arrives.
 */
#ifndef FH_CONNINFO_H
#define FH_CONNINFO_H

#include <stdint.h>

#include "fasthttp/fasthttp.h"

typedef struct fh__conninfo fh__conninfo;
struct fh__conn;

/* Builds the connection's record when it is ready (after TLS): id is its
 * number in the client's pool. NULL when out of memory (responses then
 * report nothing: the record is informational). */
fh__conninfo *fh__conninfo_new(struct fh__conn *c, uint64_t id);
/* Takes / drops a reference; NULL is allowed for both. */
fh__conninfo *fh__conninfo_ref(fh__conninfo *ci);
void fh__conninfo_unref(fh__conninfo *ci);
/* Fills the public view (strings borrowed from ci). */
void fh__conninfo_view(const fh__conninfo *ci, fh_conn_info *out);

#endif
