#!/usr/bin/env bash
# Runs the whole Python suite (scripts/test-python.sh: build, ruff, mypy
# --strict, pytest) on every supported CPython, each in its own virtual
# environment .venv-X.Y, and prints one summary line per version. CI runs the
# full suite on one version (scripts/test.sh) and the wheel smoke test on all
# (scripts/build-wheels.sh); this is the check to run before a release.
#
#   scripts/test-pythons.sh [VERSION...]     default: 3.9 3.10 3.11 3.12 3.13
set -uo pipefail
cd "$(dirname "$0")/.."
PYENV_ROOT=${PYENV_ROOT:-/root/.pyenv}
VERSIONS=("$@")
[ ${#VERSIONS[@]} -gt 0 ] || VERSIONS=(3.9 3.10 3.11 3.12 3.13)
summary=() failed=0
for v in "${VERSIONS[@]}"; do
  py=$(ls -d "$PYENV_ROOT"/versions/"$v".*/bin/python 2>/dev/null | sort -V | tail -1)
  [ -n "$py" ] || py=$(command -v "python$v")
  [ -n "$py" ] || { summary+=("$v: no interpreter"); failed=1; continue; }
  log=build/test-python-$v.log
  mkdir -p build
  echo "==== CPython $v ($py), log in $log ===="
  if FH_PYTHON=$py FH_VENV=.venv-$v bash scripts/test-python.sh -p no:cacheprovider >"$log" 2>&1; then
    summary+=("$v: $(grep -E '^[0-9]+ passed|passed' "$log" | tail -1)")
  else
    summary+=("$v: FAILED: $(grep -E 'passed|failed|error' "$log" | tail -1)")
    failed=1
  fi
done
printf '%s\n' "${summary[@]}"
exit $failed
