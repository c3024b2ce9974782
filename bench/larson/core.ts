// Workload B of workloads.md (larson, after Larson & Krishnan as run by mimalloc-bench): the
// parameters, the shared control block, and the timed step loop, shared by the process that runs
// one configuration (bench/larson/child.ts) and its workers (bench/larson/worker.ts).
//
// T areas of `chunks` pointers (one SharedArrayBuffer); area k has its own xorshift32 (seed
// 42 + 7919 k) and is filled by the main thread before timing. A generation = rounds * chunks
// steps on one area: victim = (r * chunks) >>> 32, free it, malloc a size in [min, max] from the
// next draw, write a byte. 2T persistent workers; area k alternates between workers 2k and 2k+1,
// handed over with Atomics.store + notify / Atomics.wait after every generation, so every free
// of the previous generation's blocks is cross-thread. One step = 2 ops (a free and a malloc).

export interface LarsonParams {
  seconds: number;
  min: number;
  max: number;
  chunks: number;
  rounds: number;
  seed: number;
  threads: number;
}

export const LARSON_DEFAULTS: LarsonParams = { seconds: 3, min: 8, max: 1024, chunks: 1000, rounds: 100, seed: 42, threads: 1 };

// Control block (Int32Array on a SharedArrayBuffer). Areas' words sit 64 bytes apart.
export const C_STOP = 0; // main -> workers: finish the current generation, then stop
export const C_DONE = 1; // areas finished (main waits for T)
export const C_READY = 2; // workers attached and waiting (main waits for 2T)
export const C_GEN_LIMIT = 3; // > 0: stop an area after this many generations (warm-up phases)
export const C_SLEEP = 4; // never written: the main thread's timed sleep waits on it
export const C_ERROR = 5; // a worker failed (it also counted itself READY and DONE)
export const CTL_WORDS = 16;
/** turn of area k: -1 not started, 0 / 1 the side (worker 2k / 2k+1) that holds it, 2 finished */
export const aTurn = (k: number) => CTL_WORDS + 16 * k;
/** xorshift32 state of area k between generations */
export const aState = (k: number) => CTL_WORDS + 16 * k + 1;
/** generations done on area k */
export const aGens = (k: number) => CTL_WORDS + 16 * k + 2;
export const TURN_DONE = 2;
export const ctlWords = (threads: number) => CTL_WORDS + 16 * threads;

/** What the loop needs: hakmem's Heap and MtFloor are both this. */
export interface LoopAlloc {
  malloc(size: number): number;
  free(ptr: number): void;
  readonly u8: Uint8Array;
}

function oom(size: number): never {
  throw new Error(`malloc(${size}) returned 0 (out of memory)`);
}

/**
 * One generation: `steps` steps on area[base .. base + chunks). `s` is the area's xorshift32 state
 * (int32 bits); returns the new state. Reductions: floor(r * n / 2^32) for r uint32, computed
 * exactly in two 16-bit halves (n < 2^16), no float modulus. User form (workloads.md U): the new
 * block's byte is written through the allocator's view getter, `a.u8[p]`, as a program would.
 */
export function generation(
  a: LoopAlloc,
  area: Int32Array,
  base: number,
  chunks: number,
  steps: number,
  state: number,
  min: number,
  range: number,
): number {
  let s = state | 0;
  for (let i = 0; i < steps; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const v = base + (((s >>> 16) * chunks + (((s & 0xffff) * chunks) >>> 16)) >>> 16);
    a.free(area[v]);
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const size = min + (((s >>> 16) * range + (((s & 0xffff) * range) >>> 16)) >>> 16);
    const p = a.malloc(size);
    if (p === 0) oom(size);
    a.u8[p] = i;
    area[v] = p;
  }
  return s;
}

/**
 * generation() with the view kept in a local, refetched only when a block lies past it: not user
 * form (the allocator `hakmem-cached`), to show what the getter costs.
 */
export function generationCached(
  a: LoopAlloc,
  area: Int32Array,
  base: number,
  chunks: number,
  steps: number,
  state: number,
  min: number,
  range: number,
): number {
  let s = state | 0;
  let u8 = a.u8;
  for (let i = 0; i < steps; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const v = base + (((s >>> 16) * chunks + (((s & 0xffff) * chunks) >>> 16)) >>> 16);
    a.free(area[v]);
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const size = min + (((s >>> 16) * range + (((s & 0xffff) * range) >>> 16)) >>> 16);
    const p = a.malloc(size);
    if (p === 0) oom(size);
    if (p >= u8.length) u8 = a.u8;
    u8[p] = i;
    area[v] = p;
  }
  return s;
}

/** Fills area[base .. base + chunks) with fresh blocks, drawing sizes from the area's PRNG. */
export function fillArea(a: LoopAlloc, area: Int32Array, base: number, chunks: number, state: number, min: number, range: number): number {
  let s = state | 0;
  for (let i = 0; i < chunks; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const size = min + (((s >>> 16) * range + (((s & 0xffff) * range) >>> 16)) >>> 16);
    const p = a.malloc(size);
    if (p === 0) oom(size);
    a.u8[p] = i;
    area[base + i] = p;
  }
  return s;
}

export const areaSeed = (p: LarsonParams, k: number) => (p.seed + 7919 * k) | 0;
