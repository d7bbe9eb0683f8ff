#!/usr/bin/env bash
# The strongest smoke test of a repaired wheel: install and run it inside a
# minimal Debian root (debootstrap --variant=minbase, with python3 and
# python3-venv only), where none of the -dev packages and none of nghttp2,
# wslay, brotli, libpsl or libidn2 exist, then run scripts/wheel_smoke.py there
# (requests, the fh console script, /proc/self/maps and the loader's view).
#
#   scripts/wheel-debian-root.sh [ROOT]     default ROOT: build/debian-root
#
# Needs root (debootstrap, chroot, mounting /proc) and Debian's package
# archive (the only network it uses); makes the root once and reuses it. The
# wheel is the one of wheelhouse/ for the root's Python (bookworm: 3.11), so
# run scripts/build-wheels.sh first. Not part of scripts/test.sh: it
# downloads a root file system (about 100 MB) the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${1:-build/debian-root}
SUITE=${FH_DEBIAN_SUITE:-bookworm}
MIRROR=${FH_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ ! -x "$ROOT/usr/bin/python3" ]; then
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap
  debootstrap --variant=minbase --include=python3,python3-venv "$SUITE" "$ROOT" "$MIRROR"
fi
tag=$(chroot "$ROOT" python3 -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
wheel=$(ls wheelhouse/pyfasthttp-*-"$tag"-"$tag"-manylinux*.whl | tail -1)
echo "root: $ROOT ($SUITE, python $tag); wheel: $wheel"
echo "libraries the wheel carries that the root has anyway (its base system and python3):"
(cd "$ROOT" && ls usr/lib/x86_64-linux-gnu | grep -E '^lib(ssl|crypto|nghttp2|wslay|brotli|zstd|psl|idn2|unistring)' || true) | sed 's/^/  /'

rm -rf "$ROOT/tmp/fh-smoke" && mkdir -p "$ROOT/tmp/fh-smoke"
cp "$wheel" scripts/wheel_smoke.py "$ROOT/tmp/fh-smoke/"
mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
trap 'umount "$ROOT/proc" 2>/dev/null || true' EXIT
chroot "$ROOT" /bin/sh -c '
  set -e
  cd /tmp/fh-smoke
  python3 -m venv venv
  venv/bin/python -m pip install -q --no-index ./*.whl
  cd / && /tmp/fh-smoke/venv/bin/python /tmp/fh-smoke/wheel_smoke.py'
