#!/usr/bin/env bash
# The Python suite of fasthttp (package `fasthttp`, distribution `pyfasthttp`):
#   1. creates or reuses the virtual environment .venv (python3 -m venv);
#   2. builds the C extension and installs the package editable with its dev
#      extras (scikit-build-core over the top-level CMakeLists.txt; the CMake
#      build tree build/python/ is kept, so a rebuild is incremental);
#   3. runs ruff, mypy --strict, both type checkers (mypy --strict and
#      pyright, which runs on Debian's nodejs) on every seed README example
#      (python/tests/typecheck), and pytest (python/tests: local httpbin under
#      gunicorn, nginx over HTTP and HTTPS, raw-socket fault servers; for
#      HTTP/2 nginx with ssl http2, nghttpd, hypercorn and a scripted server
#      on the h2 package).
# Needs the Debian packages of scripts/install-deps.sh. Exits non-zero on failure.
#
# Another interpreter: FH_PYTHON=/root/.pyenv/versions/3.13.0/bin/python
# FH_VENV=.venv-3.13 scripts/test-python.sh (scripts/test-pythons.sh runs the
# suite on every supported CPython that way).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${FH_VENV:-.venv}
step() { printf '\n==== %s ====\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  step "creating $VENV"
  "${FH_PYTHON:-python3}" -m venv "$VENV"
fi
PY="$VENV/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1

step "Python package build (editable, dev extras)"
# Build requirements are installed into the venv once and used without
# isolation, so repeated runs rebuild only what changed.
"$PY" -m pip install -q "scikit-build-core>=0.10"
"$PY" -m pip install -q --no-build-isolation -e ".[dev,bench]"
"$PY" -c "import fasthttp, fasthttp._fasthttp as m; print('fasthttp', fasthttp.__version__, 'from', m.__file__)"

step "ruff"
"$PY" -m ruff check python scripts
step "mypy --strict"
"$PY" -m mypy --strict python/fasthttp
step "types of the seed README's examples (mypy --strict, pyright strict)"
"$PY" -m mypy --strict python/tests/typecheck
"$VENV/bin/pyright" python/tests/typecheck

step "pytest"
"$PY" -m pytest -q python/tests "$@"
