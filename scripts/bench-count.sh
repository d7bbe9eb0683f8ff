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
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${FH_BENCH_BUILD:-$root/build/release}"
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
