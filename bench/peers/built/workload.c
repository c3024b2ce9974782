/* Workloads A (random-mixed), C1 and C2 (large blocks) of ../shared/workloads.md in C, against
 * whatever malloc the process has: the system's, or mimalloc / jemalloc via LD_PRELOAD.
 * Same PRNG and size sequence as bench/synthetic/core.ts (loopARand, loopAFixed256, loopARand2, loopC1, loopC2);
 * the final PRNG state is printed (as an int32, like the JS loops) so the runner can check it
 * against analyze().
 *
 *   workload A|C1|C2 CYCLES WS SEED rand|fixed256|rand2|large
 *
 * Prints one JSON line: ms and nsPerOp of the timed loop (CLOCK_MONOTONIC around the loop only; no
 * warm-up: a fresh process is a cold heap), mallocs done, the final state, the allocator that
 * actually served malloc, and the peak RSS growth over the loop as the high water.
 * Built by bench/peers/built/native.ts: gcc -O2.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint32_t s;
static inline uint32_t next(void) {
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return s;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* resident bytes now (/proc/self/statm) */
/* "VmRSS" (resident now) or "VmHWM" (peak resident) of this process, in bytes, from
 * /proc/self/status. Not getrusage's ru_maxrss: it keeps the parent's peak across fork + exec. */
static long vm_bytes(const char *key) {
  char buf[256];
  long kb = 0;
  size_t n = strlen(key);
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return 0;
  while (fgets(buf, sizeof buf, f))
    if (strncmp(buf, key, n) == 0 && buf[n] == ':') { kb = atol(buf + n + 1); break; }
  fclose(f);
  return kb * 1024;
}

/* the allocator that serves malloc in this process */
const char *allocator_name(void) {
  if (dlsym(RTLD_DEFAULT, "mi_malloc")) return "mimalloc";
  if (dlsym(RTLD_DEFAULT, "mallctl")) return "jemalloc";
  return "glibc";
}

static void oom(size_t size) {
  fprintf(stderr, "malloc(%zu) returned NULL\n", size);
  exit(1);
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s A|C1|C2 CYCLES WS SEED rand|fixed256|rand2|large\n", argv[0]);
    return 2;
  }
  const int c2 = strcmp(argv[1], "C2") == 0;
  const int c1 = strcmp(argv[1], "C1") == 0;
  const long cycles = atol(argv[2]);
  const uint32_t ws = (uint32_t)atol(argv[3]);
  const uint32_t seed = (uint32_t)atol(argv[4]);
  const char *sizes = argv[5];
  const int mode = c1 ? 4 : c2 ? 3 : strcmp(sizes, "rand") == 0 ? 0 : strcmp(sizes, "fixed256") == 0 ? 1 : strcmp(sizes, "rand2") == 0 ? 2 : -1;
  if (mode < 0 || ws == 0 || (ws & (ws - 1)) != 0 || cycles <= 0) {
    fprintf(stderr, "bad arguments\n");
    return 2;
  }
  const uint32_t mask = ws - 1;
  unsigned char **slots = calloc(ws, sizeof *slots);
  if (!slots) oom(ws * sizeof *slots);
  long mallocs = 0;
  s = seed;
  const long rss0 = vm_bytes("VmRSS");
  const double t0 = now_ms();
  /* one loop per size rule, like the JS loops (no mode test inside) */
  switch (mode) {
  case 0:
    for (long i = 0; i < cycles; i++) {
      uint32_t r = next(), idx = r & mask;
      if (slots[idx]) { free(slots[idx]); slots[idx] = 0; }
      else {
        size_t size = 16 + (r & 0x3ff);
        unsigned char *p = malloc(size);
        if (!p) oom(size);
        *(volatile unsigned char *)p = (unsigned char)i;
        slots[idx] = p;
        mallocs++;
      }
    }
    break;
  case 1:
    for (long i = 0; i < cycles; i++) {
      uint32_t r = next(), idx = r & mask;
      if (slots[idx]) { free(slots[idx]); slots[idx] = 0; }
      else {
        unsigned char *p = malloc(256);
        if (!p) oom(256);
        *(volatile unsigned char *)p = (unsigned char)i;
        slots[idx] = p;
        mallocs++;
      }
    }
    break;
  case 2:
    for (long i = 0; i < cycles; i++) {
      uint32_t r = next(), idx = r & mask;
      if (slots[idx]) { free(slots[idx]); slots[idx] = 0; }
      else {
        size_t size = 16 + (next() & 0x3ff);
        unsigned char *p = malloc(size);
        if (!p) oom(size);
        *(volatile unsigned char *)p = (unsigned char)i;
        slots[idx] = p;
        mallocs++;
      }
    }
    break;
  case 3:
    for (long i = 0; i < cycles; i++) {
      uint32_t r = next(), idx = r & mask;
      if (slots[idx]) { free(slots[idx]); slots[idx] = 0; }
      else {
        size_t size = 65536 * (1 + ((r >> 16) & 63));
        unsigned char *p = malloc(size);
        if (!p) oom(size);
        for (size_t off = 0; off < size; off += 4096) ((volatile unsigned char *)p)[off] = 1;
        slots[idx] = p;
        mallocs++;
      }
    }
    break;
  case 4: /* C1: no PRNG; 2 MiB, a byte per 4 KiB, one read back, free */
    for (long i = 0; i < cycles; i++) {
      const size_t size = 2u << 20;
      unsigned char *p = malloc(size);
      if (!p) oom(size);
      for (size_t off = 0; off < size; off += 4096) ((volatile unsigned char *)p)[off] = (unsigned char)i;
      if (((volatile unsigned char *)p)[((size_t)i << 12) & (size - 1)] != (unsigned char)i) { fprintf(stderr, "C1: read back failed\n"); return 1; }
      free(p);
      mallocs++;
    }
    break;
  }
  const double t1 = now_ms();
  long hw = vm_bytes("VmHWM") - rss0;
  if (hw < 0) hw = 0;
  printf("{\"ms\":%.6f,\"nsPerOp\":%.6f,\"finalState\":%d,\"mallocs\":%ld,\"highWater\":%ld,"
         "\"allocator\":\"%s\",\"libc\":\"%s\"}\n",
         t1 - t0, (t1 - t0) * 1e6 / cycles, (int32_t)s, mallocs, hw, allocator_name(), gnu_get_libc_version());
  return 0;
}
