/**
 * A seeded random workload for the modes tests (test/modes.test.ts, test/learn.test.ts, and the
 * worker of the two-thread case): malloc, calloc, realloc, alignedAlloc and free of mostly small
 * blocks (some page-run sized), every block's first and last bytes stamped and checked when it is
 * freed or reallocated, heap.check() every `checkEvery` operations.
 */
import type { Heap } from '../../src/index.ts';
import type { Rng } from './rng.ts';

export interface Live {
  ptr: number;
  size: number;
  tag: number;
}

/** 75% up to 512 B, 20% up to 32 KiB, 5% 32 KiB to 256 KiB. */
export function workloadSize(r: Rng): number {
  const x = r.next();
  if (x < 0.75) return r.int(1, 512);
  if (x < 0.95) return r.int(513, 32768);
  return r.int(32769, 262144);
}

function stamp(h: Heap, b: Live): void {
  h.u8[b.ptr] = b.tag;
  h.u8[b.ptr + b.size - 1] = b.tag;
}

function verify(h: Heap, b: Live, what: string): void {
  if (h.u8[b.ptr] !== b.tag || h.u8[b.ptr + b.size - 1] !== b.tag) {
    throw new Error(
      `${what}: block at ${b.ptr} (${b.size} B) lost its contents (${h.u8[b.ptr]}/${h.u8[b.ptr + b.size - 1]}, expected ${b.tag})`,
    );
  }
}

/**
 * Runs `ops` random operations on heap `h`, keeping at most `maxLive` blocks in `live` (which it
 * keeps up to date: blocks still live at the end stay there). Throws on a lost byte, a 0 from an
 * allocation, a misaligned block, or a failing check().
 */
export function runWorkload(h: Heap, r: Rng, ops: number, live: Live[], opts: { maxLive?: number; checkEvery?: number } = {}): void {
  const maxLive = opts.maxLive ?? 2000;
  const checkEvery = opts.checkEvery ?? 0;
  let tag = r.int(1, 255);
  const nextTag = () => (tag = (tag % 255) + 1);
  for (let i = 1; i <= ops; i++) {
    const x = r.next();
    if (live.length > 0 && (live.length >= maxLive || x < 0.45)) {
      const k = r.int(0, live.length - 1);
      const b = live[k]!;
      verify(h, b, 'free');
      h.free(b.ptr);
      live[k] = live[live.length - 1]!;
      live.pop();
    } else if (live.length > 0 && x < 0.55) {
      const b = live[r.int(0, live.length - 1)]!;
      verify(h, b, 'realloc');
      const size = workloadSize(r);
      const q = h.realloc(b.ptr, size);
      if (q === 0) throw new Error(`realloc(${b.ptr}, ${size}) returned 0`);
      const kept = Math.min(size, b.size);
      if (h.u8[q] !== b.tag || (kept === b.size && h.u8[q + kept - 1] !== b.tag))
        throw new Error(`realloc to ${size} did not keep the block's bytes`);
      b.ptr = q;
      b.size = size;
      b.tag = nextTag();
      stamp(h, b);
    } else {
      const size = workloadSize(r);
      let p: number;
      let align = 16;
      if (x < 0.62) {
        p = h.calloc(1, size);
        if (p !== 0 && (h.u8[p] !== 0 || h.u8[p + size - 1] !== 0)) throw new Error(`calloc(1, ${size}) is not zero`);
      } else if (x < 0.67) {
        align = 2 ** r.int(5, 12);
        p = h.alignedAlloc(align, size);
      } else {
        p = h.malloc(size);
      }
      if (p === 0) throw new Error(`allocation of ${size} B returned 0`);
      if (p % align !== 0) throw new Error(`block ${p} is not ${align}-aligned`);
      const b = { ptr: p, size, tag: nextTag() };
      stamp(h, b);
      live.push(b);
    }
    if (checkEvery > 0 && i % checkEvery === 0) h.check();
  }
}

/** Frees every block of `live` (checking its bytes) and empties it. */
export function freeAll(h: Heap, live: Live[]): void {
  for (const b of live) {
    verify(h, b, 'free');
    h.free(b.ptr);
  }
  live.length = 0;
}
