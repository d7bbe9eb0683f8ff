#!/usr/bin/env bash
# abi_exports.sh LIB INCLUDE_DIR CC NM
#
# The library boundary (docs/c-api.md, ABI): the dynamic symbols that LIB
# (libfasthttp.so) defines must be exactly the functions declared in the
# public headers INCLUDE_DIR/fasthttp/*.h. It fails on
#   - a symbol exported but not declared there: an fh__ internal (or any
#     other symbol) that leaked because hidden visibility was lost;
#   - a function declared there but not exported: its declaration lost
#     FH_EXTERN, or it is defined where that declaration is not in scope
#     (then the definition is compiled hidden), or it is not defined at all;
#   - an exported name that is not a public fh_ name (fh__ is internal).
#
# The declarations are read from the headers as the compiler sees them
# (CC -E: comments gone, macros expanded), not with a regex over the raw
# text. Static inline functions in the headers are not symbols and are
# skipped. The ASan/UBSan build runs this check unchanged: the sanitizer
# runtimes live in their own shared libraries (libasan.so, libubsan.so),
# and the instrumentation adds no dynamic symbol to libfasthttp.so, so
# nothing there needs to be skipped or filtered.
set -euo pipefail

if [ $# -ne 4 ]; then
  echo "usage: $0 LIB INCLUDE_DIR CC NM" >&2
  exit 2
fi
lib=$1 inc=$2 cc=$3 nm=$4

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Every public header, so a header that fasthttp.h does not include is
# checked too.
for h in "$inc"/fasthttp/*.h; do
  printf '#include "fasthttp/%s"\n' "$(basename "$h")"
done >"$work/all.c"
"$cc" -std=c11 -D_GNU_SOURCE -E -P -I"$inc" "$work/all.c" >"$work/pre.c"

# Declared functions: in the preprocessed text, drop every brace block
# (struct and enum bodies, static inline bodies) innermost first, split the
# rest into declarations at ';', and take the name of each one that
# declares an fh_ function: not a typedef, not static, and the name not
# written as (*name), which would be a pointer.
awk '
  { text = text " " $0 }
  END {
    while (gsub(/\{[^{}]*\}/, ";", text)) {}
    n = split(text, decl, ";")
    for (i = 1; i <= n; i++) {
      d = decl[i]
      sub(/^[ \t]+/, "", d)
      if (d ~ /^(typedef|static)[ \t]/)
        continue
      if (match(d, /fh_[A-Za-z0-9_]+[ \t]*\(/)) {
        if (RSTART > 1 && substr(d, 1, RSTART - 1) ~ /\(\*[ \t]*$/)
          continue
        name = substr(d, RSTART, RLENGTH)
        sub(/[ \t]*\($/, "", name)
        print name
      }
    }
  }' "$work/pre.c" | sort -u >"$work/declared"

"$nm" -D --defined-only "$lib" | awk '{ print $NF }' | sort -u >"$work/exported"

fail=0
ndecl=$(wc -l <"$work/declared")
nexp=$(wc -l <"$work/exported")

# Guards against a check that passes because it read nothing.
if [ "$ndecl" -lt 50 ] || ! grep -qx fh_version "$work/declared"; then
  echo "FAIL: read only $ndecl function declarations from $inc/fasthttp (parser broken?)"
  fail=1
fi

leaked=$(comm -13 "$work/declared" "$work/exported")
if [ -n "$leaked" ]; then
  echo "FAIL: exported by $(basename "$lib") but not declared in include/fasthttp" \
       "(internals must stay hidden; public functions need a declaration with FH_EXTERN):"
  printf '  %s\n' $leaked
  fail=1
fi

missing=$(comm -23 "$work/declared" "$work/exported")
if [ -n "$missing" ]; then
  echo "FAIL: declared in include/fasthttp but not exported by $(basename "$lib")" \
       "(FH_EXTERN missing on the declaration, the definition does not see the" \
       "declaration, or the function is not defined):"
  printf '  %s\n' $missing
  fail=1
fi

badname=$(grep -v '^fh_[a-z0-9]' "$work/declared" "$work/exported" | cut -d: -f2 | sort -u || true)
if [ -n "$badname" ]; then
  echo "FAIL: not a public fh_ name (fh__ is for internals):"
  printf '  %s\n' $badname
  fail=1
fi

if [ "$fail" -ne 0 ]; then
  exit 1
fi
echo "ok: $(basename "$lib") exports $nexp symbols, exactly the $ndecl public functions" \
     "declared in include/fasthttp"
