// The bare floor: "the fastest JS can do" for workload A, to calibrate everything else.
// 16-byte size classes; one intrusive singly-linked free list per class; bump allocation when a
// class list is empty; NO checks (no bounds, no double-free detection, no growth, no coalescing).
//
// Layout: one non-growable ArrayBuffer, sized by the runner from the workload (opts.capacity).
// Every block has a 16-byte header just before the pointer; its first int32 holds the class,
// written once when the block is bumped (a block never changes class). A free block's first
// int32 (at ptr) holds the next free block. List heads live in the same Int32Array, at index
// c (bytes 0 .. 4*classes), so malloc and free touch one typed array only.
// Why a header: a side table classOf[ptr >>> 4] (Uint8Array) measured the same here (both ~9.7-10
// ns/op on A 10Mx8192 rand2, within noise) and cannot hold C2's classes (up to 262144) in a byte;
// list heads in a separate Int32Array measured ~0.5 ns slower.
import type { Allocator, CreateOpts, HeapPeer } from '../synthetic/core.ts';

class Floor implements Allocator {
  readonly u8: Uint8Array;
  private readonly i32: Int32Array;
  private top: number;
  private readonly start: number;

  constructor(opts: CreateOpts) {
    const classes = ((opts.maxSize + 15) >>> 4) + 1;
    this.start = (classes * 4 + 15) & ~15;
    const bytes = this.start + opts.capacity + 4096;
    if (bytes > 0x7fff0000) throw new Error(`floor: workload needs ${bytes} bytes (> 2 GiB)`);
    const buf = new ArrayBuffer(bytes);
    this.u8 = new Uint8Array(buf);
    this.i32 = new Int32Array(buf);
    this.top = this.start;
  }

  malloc(size: number): number {
    const c = (size + 15) >>> 4;
    const p = this.i32[c];
    if (p !== 0) {
      this.i32[c] = this.i32[p >>> 2];
      return p;
    }
    return this.bump(c);
  }

  private bump(c: number): number {
    const h = this.top;
    this.i32[h >>> 2] = c;
    this.top = h + 16 + (c << 4);
    return h + 16;
  }

  free(p: number): void {
    const c = this.i32[(p >>> 2) - 4];
    this.i32[p >>> 2] = this.i32[c];
    this.i32[c] = p;
  }

  highWater(): number {
    return this.top;
  }
}

export const peer: HeapPeer = {
  kind: 'heap',
  name: 'floor',
  about: 'bare floor: 16-byte classes, intrusive free lists in one Int32Array, bump, no checks',
  create(opts) {
    const f = new Floor(opts);
    return { alloc: f, highWater: () => f.highWater(), wide: false };
  },
};
