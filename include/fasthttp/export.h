/*
 * fasthttp/export.h — FH_EXTERN, the mark of a public function.
 *
 * libfasthttp is compiled with hidden symbol visibility (-fvisibility=hidden),
 * so a function is exported from libfasthttp.so only when its declaration
 * in include/fasthttp/ carries FH_EXTERN. Internals (the fh__ functions)
 * are then invisible to programs and cannot become part of the ABI by
 * accident. The ctest "abi_exports" checks that the exported symbols are
 * exactly the functions declared in these headers (docs/c-api.md, ABI).
 *
 * The attribute also sits on the public functions inside the static
 * archive: a shared object that links libfasthttp.a and must not re-export
 * them limits its exports itself (a linker version script, as the Python
 * extension does).
 */
#ifndef FASTHTTP_EXPORT_H
#define FASTHTTP_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define FH_EXTERN __attribute__((visibility("default")))
#else
/* Compilers without visibility attributes export everything; nothing to mark. */
#define FH_EXTERN
#endif

#endif
