#!/usr/bin/env bash
# Installs the Debian packages fasthttp builds and tests with, only those
# missing, so running it again is cheap. Needs root (or sudo) for apt-get.
set -euo pipefail

PKGS=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libssl-dev zlib1g-dev libbrotli-dev libzstd-dev libcmocka-dev
      libc-ares-dev libnghttp2-dev libidn2-dev libwslay-dev nghttp2-server nghttp2-client libpsl-dev libcurl4-openssl-dev wrk valgrind libuv1-dev nginx-light openssl python3 python3-venv python3-dev
      nodejs tinyproxy microsocks libnginx-mod-stream)  # nodejs: pyright (the PyPI package bundles its JavaScript, not node)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# cmake may come from pip (as on the project's machines) rather than Debian.
if command -v cmake >/dev/null 2>&1; then
  missing=("${missing[@]/cmake}")
fi
read -r -a missing <<< "${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # nginx's package starts a server on port 80; policy-rc.d keeps it from
  # starting, the tests run their own instances on loopback ports.
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  $SUDO rm -f /usr/sbin/policy-rc.d
fi
# tinyproxy's package enables a system service that listens on every
# interface; the tests start their own on 127.0.0.1, so the service stays off.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now tinyproxy >/dev/null 2>&1 || true
fi
if [ -s /run/tinyproxy/tinyproxy.pid ]; then
  $SUDO kill "$(cat /run/tinyproxy/tinyproxy.pid)" 2>/dev/null || true
fi
