# Finds wslay (libwslay-dev) and defines the imported target fh_wslay.
# Debian's package has no pkg-config file, so the header and library are
# looked up directly. Included by the build and by the installed package.
if(NOT TARGET fh_wslay)
  find_path(FH_WSLAY_INCLUDE_DIR wslay/wslay.h)
  find_library(FH_WSLAY_LIBRARY NAMES wslay)
  if(NOT FH_WSLAY_INCLUDE_DIR OR NOT FH_WSLAY_LIBRARY)
    message(FATAL_ERROR "wslay not found (Debian: libwslay-dev)")
  endif()
  add_library(fh_wslay UNKNOWN IMPORTED)
  set_target_properties(fh_wslay PROPERTIES
    IMPORTED_LOCATION "${FH_WSLAY_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${FH_WSLAY_INCLUDE_DIR}")
endif()
