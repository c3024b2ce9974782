// hakmem itself, with its defaults: createHeap() (a growable SharedArrayBuffer).
// The loop calls the heap's own malloc/free and reads heap.u8 (refetched only when an offset
// lies past the end of the view it holds).
import { createHeap } from '../../src/index.ts';
import type { HeapPeer } from '../workloads.ts';

export const peer: HeapPeer = {
  kind: 'heap',
  name: 'hakmem',
  about: 'hakmem createHeap() defaults',
  create() {
    const heap = createHeap();
    return {
      alloc: heap,
      highWater: () => heap.stats().heapHighWater,
      // offsets can exceed 2^31 only if the heap may grow past 2 GiB
      wide: heap.u8.buffer.maxByteLength > 0x7fffffff,
    };
  },
};
