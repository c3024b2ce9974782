// No-op allocator: malloc returns a fixed valid offset, free does nothing. Its ns/op is the
// cost of the workload loop itself (PRNG, slot array, branches, the byte written).
import type { Allocator, CreateOpts, HeapPeer } from '../synthetic/core.ts';

class Noop implements Allocator {
  readonly u8: Uint8Array;
  constructor(opts: CreateOpts) {
    this.u8 = new Uint8Array(16 + opts.maxSize);
  }
  malloc(_size: number): number {
    return 16;
  }
  free(_p: number): void {}
}

export const peer: HeapPeer = {
  kind: 'heap',
  name: 'noop',
  about: 'no-op allocator (malloc returns a fixed offset): the cost of the loop itself',
  create(opts) {
    return { alloc: new Noop(opts), highWater: () => 0, wide: false };
  },
};
