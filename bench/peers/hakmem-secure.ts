// hakmem with secure: true (encoded, range-checked free-list links), to measure what it costs.
// Opt-in: run it with --allocators hakmem,hakmem-secure.
import { createHeap } from '../../src/index.ts';
import { requireOptIn } from '../ext/cache.ts';
import type { HeapPeer } from '../workloads.ts';

requireOptIn('hakmem-secure');

export const peer: HeapPeer = {
  kind: 'heap',
  name: 'hakmem-secure',
  about: 'hakmem createHeap({ secure: true })',
  create() {
    const heap = createHeap({ secure: true });
    return {
      alloc: heap,
      highWater: () => heap.stats().heapHighWater,
      wide: heap.u8.buffer.maxByteLength > 0x7fffffff,
    };
  },
};
