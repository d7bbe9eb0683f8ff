#!/usr/bin/env bash
# install_test.sh BUILD_DIR SOURCE_DIR CC VERSION [EXTRA_CFLAGS]
#
# Installs the build into a scratch prefix (cmake --install --prefix) and
# uses it the way a user outside this tree would:
#   1. CMake: tests/consumer finds it with find_package(fasthttp) and builds
#      a smoke program and examples/*.c against fasthttp::fasthttp (shared)
#      and fasthttp::fasthttp_static;
#   2. pkg-config: the smoke program is compiled with
#      `pkg-config --cflags --libs fasthttp` against the shared library;
# then runs the smoke programs, checking that the shared ones load
# libfasthttp.so.0 from the scratch prefix. EXTRA_CFLAGS are the
# sanitizer flags of an ASan build: the installed library is instrumented,
# so whatever links it must be too.
set -euo pipefail

if [ $# -lt 4 ]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR CC VERSION [EXTRA_CFLAGS]" >&2
  exit 2
fi
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd) cc=$3 version=$4 extra=${5:-}

work=$build/install-test
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix

step() { printf -- '-- %s\n' "$*"; }
fail() { echo "FAIL: $*"; exit 1; }

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || {
  cat "$work/install.log"; fail "install"; }
for f in include/fasthttp/fasthttp.h include/fasthttp/export.h; do
  [ -f "$prefix/$f" ] || fail "$f not installed"
done
pc=$(find "$prefix" -name fasthttp.pc -print -quit)
[ -n "$pc" ] || fail "fasthttp.pc not installed"
lib=$(find "$prefix" -name 'libfasthttp.so.0' -print -quit)
[ -n "$lib" ] || fail "libfasthttp.so.0 not installed"
libdir=$(dirname "$lib")

# The installed library is the one under test: the loader must take it from
# the prefix, not the build tree.
# (ldd's output is taken whole first: grep -q stops reading at the first
# match, and under pipefail ldd's SIGPIPE would fail the check.)
loads_from_prefix() {
  local deps
  deps=$(ldd "$1")
  grep -q "libfasthttp.so.0 => $libdir/" <<<"$deps" ||
    { echo "$deps"; fail "$1 does not load libfasthttp.so.0 from $libdir"; }
}

step "CMake package: find_package(fasthttp) from tests/consumer"
cmake -S "$src/tests/consumer" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$extra" -DFH_SOURCE_DIR="$src" \
  -DFH_EXPECT_VERSION="$version" >"$work/cmake.log" 2>&1 || {
  cat "$work/cmake.log"; fail "configuring the consumer project"; }
cmake --build "$work/cmake" >"$work/build.log" 2>&1 || {
  cat "$work/build.log"; fail "building against the installed package"; }
loads_from_prefix "$work/cmake/smoke_shared"
loads_from_prefix "$work/cmake/epoll_loop_shared"
if grep -q libfasthttp <<<"$(ldd "$work/cmake/smoke_static")"; then
  fail "smoke_static depends on libfasthttp.so"
fi
"$work/cmake/smoke_shared"
"$work/cmake/smoke_static"

step "pkg-config: $pc"
export PKG_CONFIG_PATH=$(dirname "$pc")
cflags=$(pkg-config --cflags fasthttp)
libs=$(pkg-config --libs fasthttp)
case " $cflags " in
  *" -I$prefix/include "*) ;;
  *) fail "pkg-config --cflags fasthttp gives '$cflags', not -I$prefix/include" ;;
esac
# shellcheck disable=SC2086 # word splitting of the flags is intended
"$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror $extra $cflags \
  "$src/tests/consumer/smoke.c" -o "$work/smoke_pc" $libs -Wl,-rpath,"$libdir"
loads_from_prefix "$work/smoke_pc"
"$work/smoke_pc"

echo "ok: the installed fasthttp $version works through find_package and pkg-config"
