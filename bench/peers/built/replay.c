/* Workload T of ../shared/workloads.md in C: replays one single-thread allocation trace
 * (../shared/traces/FORMAT.md) against whatever malloc the process has (the system's, or
 * mimalloc / jemalloc via LD_PRELOAD), with the same content checks as bench/trace/core.ts replay():
 * a pattern byte at the first and last byte of every block, checked at free and realloc; calloc
 * blocks checked zero at both ends; aligned pointers checked.
 *
 *   replay FILE.trace.gz [--warm]
 *
 * --warm: the whole trace is replayed twice untimed first (the blocks each pass leaves live are freed
 * after it), then a third time, timed: the steady state of a long-running program (workloads.md T).
 *
 * Parsing (gzip -dc through a pipe) is untimed; the replay loop is timed with CLOCK_MONOTONIC.
 * Blocks live at the end are left alone. Prints one JSON line with the fields of
 * bench/trace/child.ts's TraceChildResult. High water: the peak RSS growth over the replay (VmHWM):
 * resident pages only, and the replay touches only the first and last byte of each block, so a large
 * block counts only the pages touched (the JS heaps report the bytes they reserved).
 * Built by bench/peers/built/native.ts: gcc -O2.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { OP_A, OP_C, OP_M, OP_R, OP_F };

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

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

static const char *allocator_name(void) {
  if (dlsym(RTLD_DEFAULT, "mi_malloc")) return "mimalloc";
  if (dlsym(RTLD_DEFAULT, "mallctl")) return "jemalloc";
  return "glibc";
}

static void die(const char *what, long op) {
  fprintf(stderr, "replay: %s (op %ld)\n", what, op);
  exit(1);
}

static inline unsigned char pat(uint32_t id) { return (unsigned char)((id ^ (id >> 8) ^ (id >> 16) ^ 0x5a) & 255); }

static long ops;
static unsigned char *kind;
static uint32_t *id, *newid, *align;
static uint64_t *size;
static unsigned char **ptrs;
static uint64_t *sizes;

/* One pass over the whole trace; returns the number of content-check failures. */
static long replay_pass(void) {
  long bad = 0;
  for (long i = 0; i < ops; i++) {
    const uint32_t x = id[i];
    const uint64_t sz = size[i];
    switch (kind[i]) {
    case OP_F: {
      unsigned char *p = ptrs[x];
      uint64_t old = sizes[x];
      if (old > 0 && (p[0] != pat(x) || p[old - 1] != pat(x))) bad++;
      free(p);
      ptrs[x] = NULL;
      break;
    }
    case OP_A: {
      unsigned char *p = malloc(sz);
      if (!p) die("malloc returned NULL", i);
      if (sz > 0) p[0] = p[sz - 1] = pat(x);
      ptrs[x] = p; sizes[x] = sz;
      break;
    }
    case OP_R: {
      const uint32_t y = newid[i];
      unsigned char *p = ptrs[x];
      const uint64_t old = sizes[x];
      const unsigned char v = pat(x);
      if (old > 0 && (p[0] != v || p[old - 1] != v)) bad++;
      unsigned char *q = realloc(p, sz);
      if (!q) die("realloc returned NULL", i);
      if (old > 0 && (q[0] != v || (old <= sz && q[old - 1] != v))) bad++;
      q[0] = q[sz - 1] = pat(y);
      ptrs[x] = NULL;
      ptrs[y] = q; sizes[y] = sz;
      break;
    }
    case OP_C: {
      unsigned char *p = calloc(1, sz);
      if (!p) die("calloc returned NULL", i);
      if (sz > 0) {
        if (p[0] != 0 || p[sz - 1] != 0) bad++;
        p[0] = p[sz - 1] = pat(x);
      }
      ptrs[x] = p; sizes[x] = sz;
      break;
    }
    default: {
      const uint32_t al = align[i];
      void *pv = NULL;
      if (al <= sizeof(void *)) pv = malloc(sz);
      else if (posix_memalign(&pv, al, sz)) pv = NULL;
      unsigned char *p = pv;
      if (!p) die("posix_memalign returned no block", i);
      if (((uintptr_t)p & (al - 1)) != 0) bad++;
      if (sz > 0) p[0] = p[sz - 1] = pat(x);
      ptrs[x] = p; sizes[x] = sz;
      break;
    }
    }
  }
  return bad;
}

int main(int argc, char **argv) {
  const int warm = argc == 3 && strcmp(argv[2], "--warm") == 0;
  if (argc != 2 && !warm) {
    fprintf(stderr, "usage: %s FILE.trace.gz [--warm]\n", argv[0]);
    return 2;
  }
  const double tp = now_ms();
  /* the file name goes to the shell quoted; refuse a quote in it */
  if (strchr(argv[1], '\'')) die("file name contains a quote", -1);
  char *cmd = malloc(strlen(argv[1]) + 32);
  sprintf(cmd, "gzip -dc '%s'", argv[1]);
  FILE *in = popen(cmd, "r");
  if (!in) die("cannot run gzip", -1);
  char name[256] = "";
  long peak = 0, threads = 0, ids = -1;
  ops = -1;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  if ((len = getline(&line, &cap, in)) <= 0 ||
      sscanf(line, "# trace %255s ops=%ld peak_live_bytes=%ld threads=%ld", name, &ops, &peak, &threads) != 4)
    die("bad header line", -1);
  if (threads != 1) die("only single-thread traces are replayed", -1);
  kind = malloc(ops);
  id = malloc(ops * sizeof *id);
  newid = malloc(ops * sizeof *newid);
  size = malloc(ops * sizeof *size);
  align = malloc(ops * sizeof *align);
  if (!kind || !id || !newid || !size || !align) die("out of memory", -1);
  long k = 0, next_id = 0;
  while ((len = getline(&line, &cap, in)) > 0) {
    if (line[0] == '#') {
      char *m = strstr(line, " ids=");
      if (strncmp(line, "# meta ", 7) == 0 && m) ids = atol(m + 5);
      continue;
    }
    if (line[0] == '\n') continue;
    if (k >= ops) die("more op lines than the header's ops", k);
    unsigned long t, a, b, c, d;
    int n = sscanf(line + 1, " %lu %lu %lu %lu %lu", &t, &a, &b, &c, &d);
    switch (line[0]) {
    case 'a': case 'c':
      if (n != 3) die("bad a/c line", k);
      kind[k] = line[0] == 'a' ? OP_A : OP_C; id[k] = a; size[k] = b; break;
    case 'm':
      if (n != 4) die("bad m line", k);
      kind[k] = OP_M; id[k] = a; size[k] = b; align[k] = c; break;
    case 'r':
      if (n != 4) die("bad r line", k);
      kind[k] = OP_R; id[k] = a; newid[k] = b; size[k] = c; break;
    case 'f':
      if (n != 2) die("bad f line", k);
      kind[k] = OP_F; id[k] = a; break;
    default: die("unknown op", k);
    }
    if (kind[k] == OP_R ? newid[k] != (uint32_t)next_id++ : kind[k] != OP_F && id[k] != (uint32_t)next_id++)
      die("new id out of order", k);
    k++;
  }
  pclose(in);
  if (k != ops) die("op lines differ from the header's ops", k);
  if (ids < 0) ids = next_id;
  if (ids != next_id) die("meta ids differs from the ids created", k);
  ptrs = calloc(ids ? ids : 1, sizeof *ptrs);
  sizes = calloc(ids ? ids : 1, sizeof *sizes);
  if (!ptrs || !sizes) die("out of memory", -1);
  const double parse_ms = now_ms() - tp;

  const long rss0 = vm_bytes("VmRSS");
  long warm_bad = 0;
  for (int pass = 0; warm && pass < 2; pass++) {
    warm_bad += replay_pass();
    for (long x = 0; x < ids; x++) if (ptrs[x]) { free(ptrs[x]); ptrs[x] = NULL; }
  }
  const double t0 = now_ms();
  const long bad = replay_pass();
  const double t1 = now_ms();
  long hw = vm_bytes("VmHWM") - rss0;
  if (hw < 0) hw = 0;
  printf("{\"trace\":\"%s\",\"alloc\":\"%s\",\"ops\":%ld,\"ms\":%.6f,\"nsPerOp\":%.6f,\"highWater\":%ld,"
         "\"peakLiveBytes\":%ld,\"failures\":%ld,\"warmFailures\":%ld,\"emulated\":\"\",\"parseMs\":%.3f,"
         "\"allocator\":\"%s\"}\n",
         name, allocator_name(), ops, t1 - t0, (t1 - t0) * 1e6 / ops, hw, peak, bad, warm_bad, parse_ms, allocator_name());
  return 0;
}
