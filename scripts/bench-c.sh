#!/usr/bin/env bash
# Builds libfasthttp and fh-bench in release mode and runs the C benchmark:
# fasthttp (blocking and engine-on-epoll) against libcurl (easy and multi)
# and wrk, on a local nginx serving 1 KiB of JSON with keep-alive.
#
#   scripts/bench-c.sh                      defaults: 5 s after 1 s warm-up,
#                                           64 connections, 3 interleaved rounds
#   scripts/bench-c.sh --rounds 1 --json out.json --modes fh-async,wrk
#   scripts/bench-c.sh --no-pin             let the scheduler place client and nginx
#   scripts/bench-c.sh --http2              HTTP/2 over TLS against h2load (DESIGN.md:
#                                           fh-async >= 0.8x h2load at 256 streams): 256
#                                           in flight over 2 connections (nginx allows
#                                           128 streams each) unless given otherwise
#
# Arguments are passed to fh-bench (see `fh-bench --help`); later ones win.
# --pin (the default here) keeps nginx on CPU 0 and the clients on the last
# CPU: unpinned, sequential runs swing 3x with where the scheduler puts the
# two processes (same CPU: cheap wake-ups; two CPUs: a cross-CPU wake-up).
# Needs libcurl4-openssl-dev, wrk, nghttp2-client (h2load) and nginx-light
# (scripts/install-deps.sh).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${FH_BENCH_BUILD:-$root/build/release}"

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target fh-bench -j "$(nproc)" >/dev/null

if [ ! -x "$build/bench/fh-bench" ]; then
  echo "bench-c: fh-bench was not built (libcurl development files missing?" \
       "install libcurl4-openssl-dev)" >&2
  exit 1
fi
defaults=(--rounds 3 --pin)
if [[ " $* " == *" --http2 "* ]]; then
  defaults+=(--connections 2 --in-flight 256)
  command -v h2load >/dev/null 2>&1 || echo "bench-c: h2load not found; the h2load mode will fail (apt-get install nghttp2-client)" >&2
else
  command -v wrk >/dev/null 2>&1 || echo "bench-c: wrk not found; the wrk mode will fail (apt-get install wrk)" >&2
fi

exec "$build/bench/fh-bench" "${defaults[@]}" "$@"
