/* The C library's malloc family exported to JS, for the bench peers wasm-dlmalloc (clang
 * --target=wasm32-wasi: wasi-libc's malloc is dlmalloc) and wasm-emmalloc (emcc -sMALLOC=emmalloc).
 * Export names match bench/peers/built/wasm-heap.ts (alloc, free, realloc, calloc, memalign).
 * Built at bench time by bench/peers/built/wasm-c.ts. */
#include <stdlib.h>

#define EXPORT(name) __attribute__((used, export_name(name)))

EXPORT("alloc") void *wasm_alloc(size_t size) { return malloc(size); }
EXPORT("free") void wasm_free(void *p) { free(p); }
EXPORT("realloc") void *wasm_realloc(void *p, size_t size) { return realloc(p, size); }
EXPORT("calloc") void *wasm_calloc(size_t size) { return calloc(1, size); }
EXPORT("memalign") void *wasm_memalign(size_t alignment, size_t size) {
  void *p;
  if (alignment < sizeof(void *)) alignment = sizeof(void *);
  return posix_memalign(&p, alignment, size) ? 0 : p;
}
