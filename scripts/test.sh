#!/usr/bin/env bash
# The whole test suite, from a clean clone on Debian:
#   1. installs missing Debian packages (scripts/install-deps.sh);
#   2. builds and runs the C suite (ctest: unit, engine, fault and nginx
#      integration tests, the fh command tests);
#   3. rebuilds with ASan + UBSan and runs the C suite again;
#   4. builds the libFuzzer targets with clang and runs each briefly;
#   5. builds the Python package in .venv and runs ruff, mypy --strict,
#      pyright and mypy on the seed README's examples, and pytest
#      (scripts/test-python.sh);
#   6. builds the documentation site, warnings as errors (scripts/docs.sh);
#   7. builds the sdist and a manylinux wheel for each CPython 3.9-3.13,
#      repairs them with auditwheel and smoke-tests each in a fresh virtual
#      environment (scripts/build-wheels.sh);
#   8. runs the CI subset of the Autobahn|Testsuite against the C and Python
#      WebSocket clients (scripts/autobahn.sh --quick; Python 2.7 from pyenv:
#      without it the step fails under CI=true and is reported as not run
#      otherwise).
# Build trees live under build/ (ignored by git). Exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=$(nproc)

bash scripts/install-deps.sh

step() { printf '\n==== %s ====\n' "$*"; }

step "C build (RelWithDebInfo)"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$JOBS"
step "C tests"
ctest --test-dir build/release --output-on-failure -j"$JOBS"

step "C build with ASan + UBSan"
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DFH_SANITIZE=ON >/dev/null
cmake --build build/asan -j"$JOBS"
step "C tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan --output-on-failure -j"$JOBS"

step "fuzz smoke (libFuzzer)"
CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DFH_FUZZ=ON -DFH_TESTS=OFF \
  -DFH_TOOLS=OFF -DFH_FUZZ_SECONDS="${FH_FUZZ_SECONDS:-20}" >/dev/null
cmake --build build/fuzz -j"$JOBS"
cmake --build build/fuzz --target fuzz-smoke

step "Python package"
bash scripts/test-python.sh

step "documentation site (scripts/docs.sh: mkdocs build --strict)"
bash scripts/docs.sh

step "wheels: sdist, CPython 3.9-3.13, auditwheel, smoke tests (scripts/build-wheels.sh)"
bash scripts/build-wheels.sh

step "Autobahn|Testsuite, CI subset (scripts/autobahn.sh --quick)"
rc=0
bash scripts/autobahn.sh --quick || rc=$?
if [ "$rc" = 77 ]; then
  if [ "${CI:-}" = true ]; then
    echo "Autobahn could not run (no Python 2.7): failing, CI runs every suite" >&2
    exit 1
  fi
  echo "Autobahn NOT RUN here (no Python 2.7)" >&2
elif [ "$rc" != 0 ]; then
  exit "$rc"
fi

step "all suites passed"
