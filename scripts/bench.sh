#!/usr/bin/env bash
# The main job: fasthttp against the other Python HTTP clients, on a fresh
# Debian machine, end to end.
#   1. installs missing Debian packages (scripts/install-deps.sh: compilers,
#      -dev libraries, nginx-light, wrk, python3-venv);
#   2. creates or reuses the virtual environment .venv and installs the
#      package editable with its dev extras, which include the `bench` extra
#      (builds the C extension; the peers aiohttp, httpx with h2, requests,
#      urllib3, pycurl, niquests, pyreqwest, curl_cffi, maxhttp, and matplotlib);
#   3. runs the benchmark matrix (python -m fasthttp.bench.matrix): every client
#      on every cell of python/fasthttp/bench/cells.py — GET of 1 KiB JSON,
#      64 KiB and 1 MiB, sequential and 64 concurrent, plain and TLS; a new
#      connection per request; 1 KiB and 1 MiB uploads; a 1 GiB streamed
#      download and upload with the extra peak RSS — on embedded nginx targets,
#      2 s per run, 3 interleaved rounds, medians (about an hour on 2 CPUs);
#      prints every cell's table, the matrix and where fasthttp stands.
#
#   bash scripts/bench.sh                the full matrix
#   bash scripts/bench.sh --quick        the CI-sized matrix (about a minute)
#   bash scripts/bench.sh --matrix ARGS  the matrix with its own flags (e.g.
#                                        --matrix --cells json --rounds 1)
#   bash scripts/bench.sh ARGS           one comparison of python -m fasthttp.bench
#                                        (e.g. --http2 --concurrency 64,256)
#
# Results land in bench-results/ (ignored by git): matrix.{md,json,png}, or
# python.{md,json,png} for a single comparison. FH_BENCH_C=1 also runs the C
# benchmark (scripts/bench-c.sh), over HTTP/2 against h2load when --http2 is
# among the arguments.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${FH_VENV:-.venv}
OUT=${FH_BENCH_OUT:-bench-results}
step() { printf '\n==== %s ====\n' "$*"; }

step "Debian packages"
bash scripts/install-deps.sh

if [ ! -x "$VENV/bin/python" ]; then
  step "creating $VENV"
  python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1

step "Python package build (editable, dev extras)"
"$PY" -m pip install -q "scikit-build-core>=0.10"
"$PY" -m pip install -q --no-build-isolation -e ".[dev,bench]"

# niquests depends on urllib3-future, whose .pth file copies itself over the
# `urllib3` package at every interpreter start: requests and urllib3 would then
# be measured on the fork. Reinstall the fork without that override (its
# documented opt-out) and restore urllib3, so each library is itself.
site=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if [ -e "$site/urllib3_future.pth" ]; then
  step "urllib3: undoing urllib3-future's override"
  u3f=$("$PY" -c 'import importlib.metadata as m; print(m.version("urllib3-future"))')
  u3=$("$PY" -c 'import importlib.metadata as m; print(m.version("urllib3"))')
  URLLIB3_NO_OVERRIDE=1 "$PY" -m pip install -q --force-reinstall --no-deps \
    --no-binary urllib3-future "urllib3-future==$u3f"
  "$PY" -m pip install -q --force-reinstall --no-deps "urllib3==$u3"
fi
"$PY" -c 'import fasthttp, urllib3; print("fasthttp", fasthttp.__version__, "| urllib3", urllib3.__version__)'

mkdir -p "$OUT"
if [ $# -eq 0 ] || [ "$1" = --quick ] || [ "$1" = --matrix ]; then
  [ "${1:-}" = --matrix ] && shift
  step "benchmark matrix: fasthttp against its peers (python -m fasthttp.bench.matrix)"
  "$PY" -m fasthttp.bench.matrix --json "$OUT/matrix.json" --plot "$OUT/matrix.png" "$@" \
    | tee "$OUT/matrix.md"
  echo "results: $OUT/matrix.md, $OUT/matrix.json, $OUT/matrix.png"
else
  step "benchmark: fasthttp against its peers (python -m fasthttp.bench)"
  "$PY" -m fasthttp.bench --json "$OUT/python.json" --plot "$OUT/python.png" "$@" \
    | tee "$OUT/python.md"
  echo "results: $OUT/python.md, $OUT/python.json, $OUT/python.png"
fi

if [ "${FH_BENCH_C:-0}" = 1 ]; then
  c_args=() ceiling=wrk
  for a in "$@"; do if [ "$a" = --http2 ]; then c_args=(--http2) ceiling=h2load; fi; done
  step "C benchmark (fh-bench against libcurl and $ceiling)"
  bash scripts/bench-c.sh "${c_args[@]}" --json "$OUT/c.json" | tee "$OUT/c.txt"
fi
