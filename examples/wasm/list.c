// C module of examples/wasm-c.mjs (compiled to wasm32 by examples/wasm/build.mjs with clang and
// wasm-ld). It has no libc and no allocator of its own: malloc and free are hakmem's, imported
// from JavaScript, and its memory is the WebAssembly.Memory that hakmem manages. A pointer here is
// a byte offset into that memory: the same number JavaScript gets from heap.malloc.
#include <stddef.h>
#include <stdint.h>

#define IMPORT(name) __attribute__((import_module("env"), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

// hakmem's malloc and free, passed in by JavaScript as the imports env.malloc and env.free
IMPORT("malloc") void *malloc(size_t size);
IMPORT("free") void free(void *ptr);

// Where this module's own data and stack end (set by the linker): hakmem's heap must start past it.
extern unsigned char __heap_base;

EXPORT("data_end") uintptr_t data_end(void) {
  return (uintptr_t)&__heap_base;
}

// A list entry, 12 bytes on wasm32: JavaScript reads and writes the same layout.
struct entry {
  struct entry *next; // offset 0
  int32_t number;     // offset 4
  char *text;         // offset 8: a NUL-terminated string, or NULL
};

// The decimal digits of n (n >= 0) in a new block.
static char *decimal(int32_t n) {
  char digits[12];
  int len = 0;
  do {
    digits[len++] = (char)('0' + n % 10);
    n /= 10;
  } while (n > 0);
  char *s = malloc((size_t)len + 1);
  if (!s) return NULL;
  for (int i = 0; i < len; i++) s[i] = digits[len - 1 - i];
  s[len] = '\0';
  return s;
}

// Frees every entry of a list and its text, whoever allocated them; returns how many entries.
EXPORT("free_entries") int32_t free_entries(struct entry *head) {
  int32_t n = 0;
  while (head) {
    struct entry *next = head->next;
    free(head->text); // free(NULL) does nothing, as hakmem's free(0)
    free(head);
    head = next;
    n++;
  }
  return n;
}

// A list of `count` entries: number i * i and its decimal text, in order. NULL if out of memory.
EXPORT("make_squares") struct entry *make_squares(int32_t count) {
  struct entry *head = NULL;
  for (int32_t i = count - 1; i >= 0; i--) { // back to front: each new entry becomes the head
    struct entry *e = malloc(sizeof *e);
    char *text = e ? decimal(i * i) : NULL;
    if (!text) {
      free(e);
      free_entries(head);
      return NULL;
    }
    e->next = head;
    e->number = i * i;
    e->text = text;
    head = e;
  }
  return head;
}

// The sum of the numbers of a list (built by JavaScript or by make_squares).
EXPORT("sum") int64_t sum(const struct entry *head) {
  int64_t s = 0;
  for (; head; head = head->next) s += head->number;
  return s;
}

// The texts of a list joined by `sep` into one new NUL-terminated string (the caller frees it).
EXPORT("join") char *join(const struct entry *head, char sep) {
  size_t len = 0;
  for (const struct entry *e = head; e; e = e->next) {
    for (const char *t = e->text; t && *t; t++) len++;
    if (e->next) len++;
  }
  char *out = malloc(len + 1);
  if (!out) return NULL;
  char *o = out;
  for (const struct entry *e = head; e; e = e->next) {
    for (const char *t = e->text; t && *t; t++) *o++ = *t;
    if (e->next) *o++ = sep;
  }
  *o = '\0';
  return out;
}
