#!/usr/bin/env bash
# Builds the documentation site from docs/ into build/site (MkDocs, mkdocs.yml):
# the Markdown pages, the README's benchmark section, and the API reference
# generated from the package's docstrings and stubs (mkdocstrings, read
# statically). Strict: any warning (a broken link, a page missing from the
# navigation, a docstring the handler cannot read) fails the build. Needs no
# network. Uses the venv of scripts/test-python.sh (its dev extras hold the
# tools), making it first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${FH_VENV:-.venv}
PY=$VENV/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK=1
if ! "$PY" -c 'import mkdocs, mkdocstrings_handlers.python, pymdownx' 2>/dev/null; then
  [ -x "$PY" ] || "${FH_PYTHON:-python3}" -m venv "$VENV"
  "$PY" -m pip install -q "scikit-build-core>=0.10"
  "$PY" -m pip install -q --no-build-isolation -e ".[dev]"
fi
"$VENV/bin/mkdocs" build --strict --clean
echo "docs: build/site/index.html"
