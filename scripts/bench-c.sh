#!/usr/bin/env bash
# Builds libfasthttp and fh-bench in release mode and runs the C benchmark:
# fasthttp (blocking and engine-on-epoll) against libcurl (easy and multi)
# and wrk, on a local nginx serving 1 KiB of JSON with keep-alive.
#
#   scripts/bench-c.sh                      defaults: 5 s after 1 s warm-up,
#                                           64 connections, 3 interleaved rounds
#   scripts/bench-c.sh --rounds 1 --json out.json --modes fh-async,wrk
#   scripts/bench-c.sh --no-pin             let the scheduler place client and nginx
#
# Arguments are passed to fh-bench (see `fh-bench --help`); later ones win.
# --pin (the default here) keeps nginx on CPU 0 and the clients on the last
# CPU: unpinned, sequential runs swing 3x with where the scheduler puts the
# two processes (same CPU: cheap wake-ups; two CPUs: a cross-CPU wake-up).
# Needs libcurl4-openssl-dev, wrk and nginx-light (scripts/install-deps.sh).
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
command -v wrk >/dev/null 2>&1 || echo "bench-c: wrk not found; the wrk mode will fail (apt-get install wrk)" >&2

exec "$build/bench/fh-bench" --rounds 3 --pin "$@"
