#!/usr/bin/env bash
# fh_cli_test.sh FH EPOLL_EXAMPLE — end-to-end tests of the `fh` command and
# the epoll example against servers on 127.0.0.1 that this script starts:
# an nginx (HTTP + HTTPS with a CA made here by the openssl command) and
# small python3 servers for faults. Nothing reaches the internet.
# Prints one line per check, then "N passed, M failed"; exits 1 on failure.
set -u

FH=${1:?usage: fh_cli_test.sh FH EPOLL_EXAMPLE}
EPOLL=${2:?usage: fh_cli_test.sh FH EPOLL_EXAMPLE}
LIBUV=${3:-} # the libuv example, when it was built (libuv found)
NGINX=${FH_NGINX:-/usr/sbin/nginx}
PASS=0
FAIL=0
PIDS=()
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fasthttp-cli-XXXXXX") || exit 1

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  [ -n "${FH_KEEP_TMP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { PASS=$((PASS + 1)); echo "ok   $1"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL $1"; [ -s "$WORK/err" ] && sed 's/^/     stderr: /' "$WORK/err" | head -5; }
# check NAME COMMAND...: passes when the command succeeds.
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
die() { echo "FAIL setup: $*"; echo "$PASS passed, $((FAIL + 1)) failed"; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_port PORT PID: until 127.0.0.1:PORT accepts, or PID dies (10 s at most).
wait_port() {
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# ---- certificates (openssl command) -------------------------------------
make_certs() {
  local d=$WORK ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
  openssl req -x509 "${ec[@]}" -keyout "$d/ca.key" -out "$d/ca.pem" -days 365 \
    -subj "/CN=fasthttp cli test CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" || return 1
  local name ext
  for name in server client; do
    if [ $name = server ]; then
      ext="subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
    else
      ext="extendedKeyUsage=clientAuth"
    fi
    printf '%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n' "$ext" >"$d/$name.ext"
    openssl req "${ec[@]}" -keyout "$d/$name.key" -out "$d/$name.csr" -subj "/CN=$name" &&
      openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
        -CAcreateserial -out "$d/$name.pem" -days 365 -extfile "$d/$name.ext" || return 1
  done
}

# ---- docroot ---------------------------------------------------------------
# compress br|zstd <in >out. Neither command is a build dependency, so a
# small encoder is compiled against libbrotlienc and libzstd, which are.
compress() {
  if [ ! -x "$WORK/fhcomp" ]; then
    cat >"$WORK/fhcomp.c" <<'EOF'
#include <brotli/encode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
int main(int argc, char **argv) {
    static unsigned char in[1 << 24];
    size_t n = fread(in, 1, sizeof in, stdin), len;
    int br = argc > 1 && strcmp(argv[1], "br") == 0;
    size_t cap = br ? BrotliEncoderMaxCompressedSize(n) : ZSTD_compressBound(n);
    unsigned char *out = malloc(cap);
    if (!out) return 1;
    if (br) {
        len = cap;
        if (!BrotliEncoderCompress(5, 22, BROTLI_MODE_TEXT, n, in, &len, out)) return 1;
    } else {
        len = ZSTD_compress(out, cap, in, n, 3);
        if (ZSTD_isError(len)) return 1;
    }
    return fwrite(out, 1, len, stdout) == len ? 0 : 1;
}
EOF
    ${CC:-cc} -O1 -o "$WORK/fhcomp" "$WORK/fhcomp.c" -lbrotlienc -lzstd || return 1
  fi
  "$WORK/fhcomp" "$1"
}

make_docroot() {
  local w=$WORK/www
  mkdir -p "$w" "$WORK/tmp" || return 1
  python3 - "$w" <<'EOF' || return 1
import json, sys, random
w = sys.argv[1]
def doc(n):
    return json.dumps({"name": "fasthttp", "items": [
        {"id": i, "label": "item-%05d" % i, "ok": i % 3 != 0} for i in range(n)]}) + "\n"
open(w + "/json", "w").write(doc(12))
open(w + "/cjson.json", "w").write(doc(1000))
rnd = random.Random(7)
words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet".split()
lines, size = [], 0
while size < (1 << 20):
    line = "%07d %s\n" % (len(lines), " ".join(rnd.choice(words) + str(rnd.randrange(1000)) for _ in range(8)))
    lines.append(line); size += len(line)
open(w + "/big.txt", "w").write("".join(lines))
EOF
  compress br <"$w/cjson.json" >"$w/br.json" || return 1
  compress zstd <"$w/cjson.json" >"$w/zstd.json" || return 1
}

write_nginx_conf() { # HTTP_PORT HTTPS_PORT
  local d=$WORK
  cat >"$d/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 256; }
http {
  access_log $d/access.log;
  client_body_temp_path $d/tmp/body; proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fastcgi; uwsgi_temp_path $d/tmp/uwsgi; scgi_temp_path $d/tmp/scgi;
  types { application/json json; text/plain txt; }
  default_type application/octet-stream;
  client_max_body_size 64m;
  gzip on; gzip_types text/plain application/json; gzip_min_length 0;
  server {
    listen 127.0.0.1:$1;
    listen 127.0.0.1:$2 ssl;
    root $d/www;
    ssl_certificate $d/server.pem; ssl_certificate_key $d/server.key;
    ssl_client_certificate $d/ca.pem; ssl_verify_client optional;
    location = /json { default_type application/json; }
    location = /br.json { gzip off; types {} default_type application/json; add_header Content-Encoding br; }
    location = /zstd.json { gzip off; types {} default_type application/json; add_header Content-Encoding zstd; }
    location = /post { default_type text/plain; return 200 "posted\n"; }
    location = /status/404 { default_type text/plain; return 404 "status 404\n"; }
    location = /mtls {
      default_type text/plain;
      if (\$ssl_client_verify != SUCCESS) { return 403; }
      return 200 "mtls ok\n";
    }
  }
}
EOF
}

start_nginx() {
  [ -x "$NGINX" ] || die "nginx not found at $NGINX (install nginx-light)"
  for _ in 1 2 3 4 5; do # a free port can be taken by someone else: retry
    HTTP_PORT=$(free_port) HTTPS_PORT=$(free_port)
    write_nginx_conf "$HTTP_PORT" "$HTTPS_PORT"
    "$NGINX" -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/error.log" >"$WORK/nginx.out" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    wait_port "$HTTP_PORT" "$pid" && wait_port "$HTTPS_PORT" "$pid" && return 0
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  cat "$WORK/error.log" "$WORK/nginx.out" 2>/dev/null
  die "nginx did not start"
}

# A server that accepts connections and never answers. Prints its port.
start_silent_server() {
  python3 -u -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1])
held = []
while True:
    c, _ = s.accept(); held.append(c)
' >"$WORK/silent.port" 2>/dev/null &
  PIDS+=($!)
  for _ in $(seq 100); do [ -s "$WORK/silent.port" ] && break; sleep 0.05; done
  SILENT_PORT=$(head -1 "$WORK/silent.port")
  [ -n "$SILENT_PORT" ] || die "python server did not start"
}

# A server answering every request with the request head it received.
start_mirror_server() {
  python3 -u -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1])
while True:
    c, _ = s.accept()
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(65536)
        if not chunk: break
        data += chunk
    head = data.split(b"\r\n\r\n")[0] + b"\r\n"
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
              b"Content-Length: %d\r\n\r\n" % len(head) + head)
    c.close()
' >"$WORK/mirror.port" 2>/dev/null &
  PIDS+=($!)
  for _ in $(seq 100); do [ -s "$WORK/mirror.port" ] && break; sleep 0.05; done
  MIRROR_PORT=$(head -1 "$WORK/mirror.port")
  [ -n "$MIRROR_PORT" ] || die "python server did not start"
}

# ---- setup -------------------------------------------------------------------
[ -x "$FH" ] || die "fh binary not found: $FH"
make_certs >"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log"; die "certificates"; }
make_docroot >>"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log"; die "docroot"; }
start_nginx
start_silent_server
start_mirror_server
HTTP=http://127.0.0.1:$HTTP_PORT
HTTPS=https://127.0.0.1:$HTTPS_PORT
W=$WORK/www
OUT=$WORK/out
ERR=$WORK/err

# run ARGS...: runs fh with stdout in $OUT, stderr in $ERR; returns its status.
run() { timeout 60 "$FH" "$@" >"$OUT" 2>"$ERR"; }
same() { cmp -s "$OUT" "$1"; }
has() { grep -qiF -- "$1" "$OUT"; }

# ---- tests ---------------------------------------------------------------
check "GET http body" eval 'run "$HTTP/json" && same "$W/json"'
check "GET https with --cacert" eval 'run --cacert "$WORK/ca.pem" "$HTTPS/json" && same "$W/json"'
check "GET https https://localhost" \
  eval 'run --cacert "$WORK/ca.pem" "https://localhost:$HTTPS_PORT/json" && same "$W/json"'
check "https untrusted fails with a message" eval '! run "$HTTPS/json" && [ -s "$ERR" ]'
check "a missing --cacert is named before any request" \
  eval '! run --cacert "$WORK/none.pem" "$HTTPS/json" && grep -qF "CA file '"'"'$WORK/none.pem'"'"' does not exist" "$ERR"'
check "https --insecure" eval 'run --insecure "$HTTPS/json" && same "$W/json"'
check "-i prints status line and headers" \
  eval 'run -i "$HTTP/json" && head -1 "$OUT" | grep -q "^HTTP/1.1 200" && has "content-type: application/json" && has "\"name\""'
check "-I does HEAD: headers, no body" \
  eval 'run -I "$HTTP/big.txt" && head -1 "$OUT" | grep -q "^HTTP/1.1 200" && ! has "alpha"'
check "POST -d" eval 'run -d hello "$HTTP/post" && [ "$(cat "$OUT")" = posted ]'
printf 'file body\n' >"$WORK/body.txt"
check "POST --data-file" eval 'run -X POST --data-file "$WORK/body.txt" "$HTTPS/post" --cacert "$WORK/ca.pem" && [ "$(cat "$OUT")" = posted ]'
check "-X and -H reach the server" \
  eval 'run -X DELETE -H "X-Test: yes" "http://127.0.0.1:$MIRROR_PORT/p?q=1" && has "DELETE /p?q=1 HTTP/1.1" && has "X-Test: yes"'
check "-d sends Content-Length" \
  eval 'run -d abc "http://127.0.0.1:$MIRROR_PORT/" && has "POST / HTTP/1.1" && has "Content-Length: 3"'
check "status 404 is shown with -i" eval 'run -i "$HTTP/status/404"; head -1 "$OUT" | grep -q "^HTTP/1.1 404"'
check "--compressed gzip equals original" eval 'run --compressed "$HTTP/big.txt" && same "$W/big.txt"'
check "--compressed br equals original" eval 'run --compressed "$HTTP/br.json" && same "$W/cjson.json"'
check "--compressed zstd equals original" \
  eval 'run --compressed --cacert "$WORK/ca.pem" "$HTTPS/zstd.json" && same "$W/cjson.json"'
check "without --compressed bytes are raw" eval 'run "$HTTP/br.json" && same "$W/br.json"'
check "-o writes the file" \
  eval 'run -o "$WORK/dl.txt" "$HTTP/big.txt" && cmp -s "$WORK/dl.txt" "$W/big.txt" && [ ! -s "$OUT" ]'
check "client certificate" \
  eval 'run --cacert "$WORK/ca.pem" --cert "$WORK/client.pem" --key "$WORK/client.key" "$HTTPS/mtls" && [ "$(cat "$OUT")" = "mtls ok" ]'
check "no client certificate: 403" \
  eval 'run -i --cacert "$WORK/ca.pem" "$HTTPS/mtls"; head -1 "$OUT" | grep -q "^HTTP/1.1 403"'
REFUSED=$(free_port)
check "refused port fails with a message" eval '! run "http://127.0.0.1:$REFUSED/" && [ -s "$ERR" ]'
check "bad URL fails with a message" eval '! run "notaurl" && [ -s "$ERR" ]'
start=$SECONDS
check "--timeout against a silent server" \
  eval '! run --timeout 1 "http://127.0.0.1:$SILENT_PORT/" && [ -s "$ERR" ] && [ $((SECONDS - start)) -lt 30 ]'

epoll_out=$(timeout 60 "$EPOLL" "$HTTP/json" "$HTTP/big.txt" 2>"$ERR")
echo "$epoll_out" | sed 's/^/     epoll: /'
check "epoll example fetches" eval 'echo "$epoll_out" | grep -q "^200 "'
check "epoll example: one line per URL" eval '[ "$(echo "$epoll_out" | grep -c "^200 ")" -eq 2 ]'

if [ -n "$LIBUV" ]; then
  uv_out=$(timeout 60 "$LIBUV" "$HTTP/json" "$HTTP/big.txt" "$HTTP/json" "http://127.0.0.1:$REFUSED/" 2>"$ERR")
  uv_rc=$?
  echo "$uv_out" | sed 's/^/     libuv: /'
  check "libuv example fetches concurrently" eval '[ "$(echo "$uv_out" | grep -c "^200 ")" -eq 3 ]'
  check "libuv example: full bodies" \
    eval 'echo "$uv_out" | grep -q "^200 $(stat -c %s "$W/big.txt") $HTTP/big.txt\$"'
  check "libuv example reports the refused one and fails" \
    eval '[ "$uv_rc" -eq 1 ] && echo "$uv_out" | grep -q "^error http://127.0.0.1:$REFUSED/"'
  start=$SECONDS
  check "libuv example: timeouts fire on the libuv timer" \
    eval '! timeout 60 "$LIBUV" -t 500 "http://127.0.0.1:$SILENT_PORT/" >/dev/null 2>&1 && [ $((SECONDS - start)) -lt 10 ]'
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
