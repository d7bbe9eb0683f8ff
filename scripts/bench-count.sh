#!/usr/bin/env bash
# Instructions per request of the engine, counted by callgrind (repeatable
# whatever else the machine does): fh-count runs N1 and then N2 requests
# against URL with IN_FLIGHT in flight over CONNS connections, and the
# difference divided by N2 - N1 leaves set-up out.
#
#   scripts/bench-count.sh URL IN_FLIGHT CONNS [--http2]
#   scripts/bench-count.sh http://127.0.0.1:8080/json 64 64
#   scripts/bench-count.sh http://127.0.0.1:8080/json 10000 1000
#
# Needs valgrind; the URL's server must allow CONNS connections.
#
#   scripts/bench-count.sh --table [--quick] [--parts fh,curl,wrk,cpu] [--json FILE]
#
# The C table: fasthttp, libcurl and wrk on the same workloads (1 KiB JSON
# keep-alive, the same over TLS, 1 MiB, a new connection per request) against
# an embedded nginx: instructions per request under callgrind, client CPU per
# request and req/s from fh-bench (bench/count_table.py; about 15 minutes,
# --quick a tenth of the requests).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${FH_BENCH_BUILD:-$root/build/release}"
if [ "${1:-}" = --table ]; then
  shift
  command -v valgrind >/dev/null || { echo "bench-count: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" --target fh-count curl-count fh-bench -j "$(nproc)" >/dev/null
  exec python3 "$root/bench/count_table.py" "$build" "$@"
fi
url=$1 k=$2 conns=$3; shift 3
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target fh-count -j "$(nproc)" >/dev/null
n1=$((k * 2 > 20000 ? k * 2 : 20000)); n2=$((n1 * 3))
count() {
  local n=$1; shift
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$build/bench/fh-count" \
    "$url" "$n" "$k" "$conns" "$@" 2>&1 | sed -n 's/.*Collected : \([0-9,]*\).*/\1/p' | tr -d ,
}
a=$(count "$n1" "$@"); b=$(count "$n2" "$@")
echo "instructions per request: $(( (b - a) / (n2 - n1) )) ($k in flight, $conns connections$([ $# -gt 0 ] && echo ", $*"))"
