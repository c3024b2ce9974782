// @thi.ng/malloc MemPool with its default options (align 8, split, compact): first fit over an
// address-sorted free list; free searches the used list, so free is O(live blocks).
import { MemPool } from '@thi.ng/malloc';
import type { Allocator, CreateOpts, HeapPeer } from '../synthetic/core.ts';

class Thing implements Allocator {
  readonly u8: Uint8Array;
  private readonly pool: MemPool;
  hw = 0;

  constructor(opts: CreateOpts) {
    // First fit fragments more than size classes: room for 2x the class bound, or 4x peak live.
    const size = Math.min(2 * opts.capacity + (1 << 20), 0xfff00000);
    this.pool = new MemPool({ size });
    this.u8 = new Uint8Array(this.pool.buf);
  }

  malloc(size: number): number {
    const p = this.pool.malloc(size);
    // MemPool's `top` (end of the highest block) can shrink after frees: track its maximum.
    const top = (this.pool as unknown as { top: number }).top;
    if (top > this.hw) this.hw = top;
    return p;
  }

  free(p: number): void {
    this.pool.free(p);
  }
}

export const peer: HeapPeer = {
  kind: 'heap',
  name: 'thing',
  about: '@thi.ng/malloc MemPool (first fit, O(live blocks) free)',
  maxCycles: 1_000_000,
  // ~2 ns per live block per op here (16.6 us/op at ws 8192, 0.37 us at ws 256); C2 has 16 slots.
  estimateNsPerOp: (w) => (w.kind === 'C2' ? 5000 : 50 + 2 * w.ws),
  create(opts) {
    const t = new Thing(opts);
    return { alloc: t, highWater: () => t.hw, wide: false };
  },
};
