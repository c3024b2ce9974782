// The benchmark workloads of ../shared/workloads.md (A: random-mixed, C1 / C2: large blocks),
// the allocator interfaces they drive, and an untimed analysis pass over the same PRNG sequence.
//
// User form (workloads.md U): the loops touch block memory through the allocator's own view
// getter on every access (`a.u8[p] = ...`), as hakmem's README teaches, never through a view they
// cached. loopARand2Cached is the one labelled exception (the hakmem-cached peer): the same loop
// with the view kept in a local, to show what the getter costs.
//
// PRNG: xorshift32. The state is kept as an int32 (`s ^= s << 13; s ^= s >>> 17; s ^= s << 5`
// has the same bits as the uint32 version), so every value stays a small integer for V8.
// One op = one malloc or one free; every cycle of every loop below is exactly one op.

/** The size rule of a workload: A uses rand / fixed256 / rand2, C2 uses large. */
export type SizeRule = 'rand' | 'fixed256' | 'rand2' | 'large';

export interface Workload {
  kind: 'A' | 'C1' | 'C2';
  cycles: number;
  /** number of slots, a power of two */
  ws: number;
  seed: number;
  sizes: SizeRule;
}

/** What the loops need from an allocator that hands out offsets into one heap buffer. */
export interface Allocator {
  /** returns a byte offset > 0, or 0 on failure */
  malloc(size: number): number;
  free(ptr: number): void;
  /** a view of the heap covering every block handed out (a getter for hakmem: the loops call it per access) */
  readonly u8: Uint8Array;
}

/** What the loops need from a garbage-collected "allocator": a new block, dropped to free it. */
export interface GcAllocator {
  alloc(size: number): Uint8Array;
}

export interface CreateOpts {
  /** largest request of the workload */
  maxSize: number;
  /** bytes a segregated-fit heap with 16-byte classes and 16-byte headers needs (from analyze) */
  capacity: number;
}

/** An adapter for an offset-based allocator (bench/peers/*.ts export `peer`). */
export interface HeapPeer {
  kind: 'heap';
  name: string;
  about: string;
  /** cap on cycles for workload A (slow peers); ns/op stays comparable */
  maxCycles?: number;
  /** rough ns/op, used to skip configurations that would take too long */
  estimateNsPerOp?(w: Workload): number;
  /**
   * `alloc` is the allocator object itself (the loop calls its own methods, no wrapper);
   * `highWater()` is read after the timed loop; `wide`: offsets may reach 2^31, so the slots
   * are a Float64Array instead of an Int32Array.
   */
  create(opts: CreateOpts): { alloc: Allocator; highWater(): number; wide: boolean };
  /** the loop keeps the view in a local (loopARand2Cached): only A rand2 is run for such a peer */
  cachedView?: boolean;
  /**
   * Peers whose workload runs outside node (the native C references, bench/peers/built/native.ts):
   * bench/synthetic/child.ts calls this instead of create() and the JS loop.
   */
  runOutside?(w: Workload): OutsideResult;
}

/** What a peer that runs the workload outside node reports (see HeapPeer.runOutside). */
export interface OutsideResult {
  ms: number;
  nsPerOp: number;
  /** PRNG state after the last cycle, as an int32 (checked against analyze()) */
  finalState: number;
  highWater: number;
  highWaterKind: 'heap' | 'sampled' | 'none';
}

/** An adapter for a GC "allocator": blocks are JS objects kept in a JS array. */
export interface GcPeer {
  kind: 'gc';
  name: string;
  about: string;
  maxCycles?: number;
  estimateNsPerOp?(w: Workload): number;
  create(opts: CreateOpts): GcAllocator;
}

export type Peer = HeapPeer | GcPeer;

const RAND = 0;
const FIXED256 = 1;
const RAND2 = 2;

export function sizeMode(rule: SizeRule): number {
  return rule === 'rand' ? RAND : rule === 'fixed256' ? FIXED256 : RAND2;
}

/** Workload C1's block: 2 MiB (the native hakmem's "VM" scenario). */
export const C1_SIZE = 2 * 1024 * 1024;

export function maxSizeOf(w: Workload): number {
  return w.kind === 'C2' ? 65536 * 64 : w.kind === 'C1' ? C1_SIZE : w.sizes === 'fixed256' ? 256 : 16 + 0x3ff;
}

function oom(size: number): never {
  throw new Error(`malloc(${size}) returned 0 (out of memory)`);
}

// Workload A on an offset allocator, one function per size rule: a `mode` test inside the loop
// measured ~0.7 ns/op slower here. `slots` is all zeros (Int32Array, or Float64Array when offsets
// may reach 2^31). Each returns the final PRNG state (so callers can check the sequence).

/** A, sizes "rand": 16 + (r & 0x3FF) from the same draw that picked the slot. */
export function loopARand(a: Allocator, slots: Int32Array | Float64Array, cycles: number, seed: number): number {
  const mask = slots.length - 1;
  let s = seed | 0;
  for (let i = 0; i < cycles; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const idx = s & mask;
    const q = slots[idx];
    if (q !== 0) {
      a.free(q);
      slots[idx] = 0;
    } else {
      const size = 16 + (s & 0x3ff);
      const p = a.malloc(size);
      if (p === 0) oom(size);
      a.u8[p] = i;
      slots[idx] = p;
    }
  }
  return s;
}

/** A, sizes "fixed256". */
export function loopAFixed256(a: Allocator, slots: Int32Array | Float64Array, cycles: number, seed: number): number {
  const mask = slots.length - 1;
  let s = seed | 0;
  for (let i = 0; i < cycles; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const idx = s & mask;
    const q = slots[idx];
    if (q !== 0) {
      a.free(q);
      slots[idx] = 0;
    } else {
      const p = a.malloc(256);
      if (p === 0) oom(256);
      a.u8[p] = i;
      slots[idx] = p;
    }
  }
  return s;
}

/** A, sizes "rand2": 16 + (r2 & 0x3FF) from a second draw. */
export function loopARand2(a: Allocator, slots: Int32Array | Float64Array, cycles: number, seed: number): number {
  const mask = slots.length - 1;
  let s = seed | 0;
  for (let i = 0; i < cycles; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const idx = s & mask;
    const q = slots[idx];
    if (q !== 0) {
      a.free(q);
      slots[idx] = 0;
    } else {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const size = 16 + (s & 0x3ff);
      const p = a.malloc(size);
      if (p === 0) oom(size);
      a.u8[p] = i;
      slots[idx] = p;
    }
  }
  return s;
}

/**
 * loopARand2 with the view kept in a local and refetched only when a block lies past it (not
 * user form: a program would have to know when the heap grew). Labelled row hakmem-cached.
 */
export function loopARand2Cached(a: Allocator, slots: Int32Array | Float64Array, cycles: number, seed: number): number {
  const mask = slots.length - 1;
  let s = seed | 0;
  let u8 = a.u8;
  for (let i = 0; i < cycles; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const idx = s & mask;
    const q = slots[idx];
    if (q !== 0) {
      a.free(q);
      slots[idx] = 0;
    } else {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const size = 16 + (s & 0x3ff);
      const p = a.malloc(size);
      if (p === 0) oom(size);
      if (p >= u8.length) u8 = a.u8;
      u8[p] = i;
      slots[idx] = p;
    }
  }
  return s;
}

export const loopA = { rand: loopARand, fixed256: loopAFixed256, rand2: loopARand2 } as const;

/**
 * Workload A on a GC allocator: the slot index is the "pointer", free drops the reference.
 * One function for all size rules (mode from sizeMode): ~0.7 ns is noise at 100+ ns/op.
 */
export function loopAGc(g: GcAllocator, slots: (Uint8Array | null)[], cycles: number, seed: number, mode: number): number {
  const mask = slots.length - 1;
  let s = seed | 0;
  for (let i = 0; i < cycles; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const idx = s & mask;
    if (slots[idx] !== null) {
      slots[idx] = null;
    } else {
      let size: number;
      if (mode === RAND) size = 16 + (s & 0x3ff);
      else if (mode === FIXED256) size = 256;
      else {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        size = 16 + (s & 0x3ff);
      }
      const b = g.alloc(size);
      b[0] = i;
      slots[idx] = b;
    }
  }
  return s;
}

/** Workload C2 (64 KiB .. 4 MiB blocks, one byte written every 4096 bytes) on an offset allocator. */
export function loopC2(a: Allocator, slots: Int32Array | Float64Array, cycles: number, seed: number): number {
  const mask = slots.length - 1;
  let s = seed | 0;
  for (let i = 0; i < cycles; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const idx = s & mask;
    const q = slots[idx];
    if (q !== 0) {
      a.free(q);
      slots[idx] = 0;
    } else {
      const size = 65536 * (1 + ((s >>> 16) & 63));
      const p = a.malloc(size);
      if (p === 0) oom(size);
      for (let off = 0; off < size; off += 4096) a.u8[p + off] = 1;
      slots[idx] = p;
    }
  }
  return s;
}

/**
 * Workload C1 (2 MiB blocks, the native hakmem's "VM" scenario): each cycle mallocs 2 MiB, writes a
 * byte every 4096 bytes, reads one back, frees it. No PRNG: returns the seed unchanged.
 */
export function loopC1(a: Allocator, _slots: Int32Array | Float64Array, cycles: number, seed: number): number {
  for (let i = 0; i < cycles; i++) {
    const p = a.malloc(C1_SIZE);
    if (p === 0) oom(C1_SIZE);
    for (let off = 0; off < C1_SIZE; off += 4096) a.u8[p + off] = i;
    if (a.u8[p + ((i << 12) & (C1_SIZE - 1))] !== (i & 255)) throw new Error(`C1: cycle ${i}: a byte written was not read back`);
    a.free(p);
  }
  return seed | 0;
}

/** Workload C1 on a GC allocator. */
export function loopC1Gc(g: GcAllocator, _slots: (Uint8Array | null)[], cycles: number, seed: number): number {
  for (let i = 0; i < cycles; i++) {
    const b = g.alloc(C1_SIZE);
    for (let off = 0; off < C1_SIZE; off += 4096) b[off] = i;
    if (b[(i << 12) & (C1_SIZE - 1)] !== (i & 255)) throw new Error(`C1: cycle ${i}: a byte written was not read back`);
  }
  return seed | 0;
}

/** Workload C2 on a GC allocator. */
export function loopC2Gc(g: GcAllocator, slots: (Uint8Array | null)[], cycles: number, seed: number): number {
  const mask = slots.length - 1;
  let s = seed | 0;
  for (let i = 0; i < cycles; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const idx = s & mask;
    if (slots[idx] !== null) {
      slots[idx] = null;
    } else {
      const size = 65536 * (1 + ((s >>> 16) & 63));
      const b = g.alloc(size);
      for (let off = 0; off < size; off += 4096) b[off] = 1;
      slots[idx] = b;
    }
  }
  return s;
}

export interface Analysis {
  /** exact maximum over the run of the sum of requested sizes of live blocks */
  peakLiveBytes: number;
  /** bytes a heap with 16-byte size classes, 16-byte headers and no reuse across classes reaches */
  classBoundBytes: number;
  /** PRNG state after the last cycle (every loop must return the same) */
  finalState: number;
}

/**
 * Replays a workload's PRNG and size sequence without allocating (untimed). Mirrors the loops
 * above: keep the two in sync (the runner checks that finalState agrees).
 */
export function analyze(w: Workload): Analysis {
  if (w.kind === 'C1') return { peakLiveBytes: C1_SIZE, classBoundBytes: C1_SIZE + 16, finalState: w.seed | 0 };
  const mode = w.kind === 'C2' ? -1 : sizeMode(w.sizes);
  const mask = w.ws - 1;
  const sizes = new Float64Array(w.ws);
  const nClasses = ((maxSizeOf(w) + 15) >>> 4) + 1;
  const live = new Int32Array(nClasses);
  const peak = new Int32Array(nClasses);
  let liveBytes = 0;
  let peakBytes = 0;
  let s = w.seed | 0;
  for (let i = 0; i < w.cycles; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const idx = s & mask;
    const q = sizes[idx];
    if (q !== 0) {
      liveBytes -= q;
      live[(q + 15) >>> 4]--;
      sizes[idx] = 0;
    } else {
      let size: number;
      if (mode === -1) size = 65536 * (1 + ((s >>> 16) & 63));
      else if (mode === RAND) size = 16 + (s & 0x3ff);
      else if (mode === FIXED256) size = 256;
      else {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        size = 16 + (s & 0x3ff);
      }
      sizes[idx] = size;
      liveBytes += size;
      if (liveBytes > peakBytes) peakBytes = liveBytes;
      const c = (size + 15) >>> 4;
      if (++live[c] > peak[c]) peak[c] = live[c];
    }
  }
  let classBoundBytes = 0;
  for (let c = 0; c < nClasses; c++) classBoundBytes += peak[c] * (16 + (c << 4));
  return { peakLiveBytes: peakBytes, classBoundBytes, finalState: s };
}

/** "10M", "200k", "2000" */
export function fmtCycles(n: number): string {
  return n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e5 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n);
}

/** Short label, e.g. "A 10Mx8192 seed 42 rand2" or "C2 2000x16 seed 42". */
export function label(w: Workload): string {
  if (w.kind === 'C1') return `C1 ${fmtCycles(w.cycles)}x2MiB`;
  return `${w.kind} ${fmtCycles(w.cycles)}x${w.ws} seed ${w.seed}${w.kind === 'A' ? ' ' + w.sizes : ''}`;
}
