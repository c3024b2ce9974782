// hakmem itself, with its defaults: createHeap() (a growable SharedArrayBuffer).
// The loop calls the heap's own malloc/free and writes block memory through heap.u8 on every
// access (user form, workloads.md U).
import { createHeap, type Heap } from '../../src/index.ts';
import type { HeapPeer } from '../synthetic/core.ts';

/** An adapter for a hakmem variant: `make` creates its heap (the other hakmem-* peers use this). */
export function hakmemPeer(name: string, about: string, make: () => Heap): HeapPeer {
  return {
    kind: 'heap',
    name,
    about,
    create() {
      const heap = make();
      return {
        alloc: heap,
        highWater: () => heap.stats().heapHighWater,
        // offsets can exceed 2^31 only if the heap may grow past 2 GiB
        wide: heap.u8.buffer.maxByteLength > 0x7fffffff,
      };
    },
  };
}

export const peer: HeapPeer = hakmemPeer('hakmem', 'hakmem createHeap() defaults', () => createHeap());
