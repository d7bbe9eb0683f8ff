#!/usr/bin/env bash
# The main job: fasthttp against the other Python HTTP clients, on a fresh
# Debian machine, end to end.
#   1. installs missing Debian packages (scripts/install-deps.sh: compilers,
#      -dev libraries, nginx-light, python3-venv);
#   2. creates or reuses the virtual environment .venv and installs the
#      package editable with its dev extras (builds the C extension; the peers
#      aiohttp, httpx with h2 (httpx[http2]), requests, urllib3, pycurl (its
#      wheel's libcurl has nghttp2), niquests, pyreqwest, and matplotlib);
#   3. runs the default comparison (python -m fasthttp.bench): every client,
#      sequential and 64 concurrent, on an embedded nginx serving 1 KiB of
#      JSON, 5 s per client per round, 3 interleaved rounds, medians; prints the
#      table and where fasthttp stands against DESIGN.md's targets.
# Results land in bench-results/ (ignored by git): python.md (the printed
# report), python.json, python.png. Arguments are passed to the benchmark
# (e.g. `bash scripts/bench.sh --rounds 1 --clients fasthttp,aiohttp`; see
# --help). FH_BENCH_C=1 also runs the C benchmark (scripts/bench-c.sh), over
# HTTP/2 against h2load when --http2 is among the arguments.
# HTTP/2 (issue 12): `bash scripts/bench.sh --http2 --concurrency 64,256`.
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

step "benchmark: fasthttp against its peers (python -m fasthttp.bench)"
mkdir -p "$OUT"
"$PY" -m fasthttp.bench --json "$OUT/python.json" --plot "$OUT/python.png" "$@" \
  | tee "$OUT/python.md"
echo "results: $OUT/python.md, $OUT/python.json, $OUT/python.png"

if [ "${FH_BENCH_C:-0}" = 1 ]; then
  c_args=() ceiling=wrk
  for a in "$@"; do if [ "$a" = --http2 ]; then c_args=(--http2) ceiling=h2load; fi; done
  step "C benchmark (fh-bench against libcurl and $ceiling)"
  bash scripts/bench-c.sh "${c_args[@]}" --json "$OUT/c.json" | tee "$OUT/c.txt"
fi
