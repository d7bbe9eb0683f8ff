# Finds the libraries libfasthttp builds on, all of them first, so that a
# build on a machine without some of the -dev packages (for example a
# `pip install` from the sdist) stops at once with one message naming every
# package to install, rather than at the first pkg-config failure or, worse,
# halfway through compiling.
#
# Each entry: the prefix of the PkgConfig:: target the build links, the
# pkg-config module, the Debian package and the Fedora package.
set(_fh_deps
  "OPENSSL|openssl>=3.0|libssl-dev|openssl-devel"
  "ZLIB|zlib|zlib1g-dev|zlib-devel"
  "BROTLI|libbrotlidec|libbrotli-dev|brotli-devel"
  "ZSTD|libzstd|libzstd-dev|libzstd-devel"
  "PSL|libpsl|libpsl-dev|libpsl-devel"
  "NGHTTP2|libnghttp2|libnghttp2-dev|libnghttp2-devel"
  "IDN2|libidn2|libidn2-dev|libidn2-devel")

find_package(PkgConfig)
set(_fh_missing_deb "")
set(_fh_missing_rpm "")
if(NOT PKG_CONFIG_FOUND)
  list(APPEND _fh_missing_deb pkg-config)
  list(APPEND _fh_missing_rpm pkgconf-pkg-config)
endif()
foreach(_dep IN LISTS _fh_deps)
  string(REPLACE "|" ";" _dep "${_dep}")
  list(GET _dep 0 _var)
  list(GET _dep 1 _mod)
  list(GET _dep 2 _deb)
  list(GET _dep 3 _rpm)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(${_var} QUIET IMPORTED_TARGET ${_mod})
  endif()
  if(NOT ${_var}_FOUND)
    list(APPEND _fh_missing_deb ${_deb})
    list(APPEND _fh_missing_rpm ${_rpm})
  endif()
endforeach()
# wslay (WebSocket framing): Debian's libwslay-dev ships no pkg-config file.
find_path(FH_WSLAY_INCLUDE_DIR wslay/wslay.h)
find_library(FH_WSLAY_LIBRARY NAMES wslay)
if(NOT FH_WSLAY_INCLUDE_DIR OR NOT FH_WSLAY_LIBRARY)
  list(APPEND _fh_missing_deb libwslay-dev)
  list(APPEND _fh_missing_rpm wslay-devel)
endif()
if(_fh_missing_deb)
  string(REPLACE ";" " " _deb "${_fh_missing_deb}")
  string(REPLACE ";" " " _rpm "${_fh_missing_rpm}")
  message(FATAL_ERROR
    "fasthttp needs C libraries that are not installed (or not found by pkg-config).\n"
    "  Debian/Ubuntu:  apt-get install ${_deb}\n"
    "  Fedora/RHEL:    dnf install ${_rpm}\n"
    "From a clone, scripts/install-deps.sh installs everything the build and the tests need. "
    "The project's manylinux wheels (scripts/build-wheels.sh) carry these libraries and need none of them.")
endif()
include(${CMAKE_CURRENT_LIST_DIR}/wslay.cmake)
