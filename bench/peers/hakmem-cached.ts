// hakmem with its defaults, driven by loopARand2Cached: the A rand2 loop with the heap's view kept
// in a local variable (refetched only when a block lies past it) instead of `heap.u8[p]` per
// access. Not user form: a labelled row that shows what the view getter costs users
// (hakmem / hakmem-cached on A 10Mx8192 rand2). Runs only workload A rand2.
import { createHeap } from '../../src/index.ts';
import { hakmemPeer } from './hakmem.ts';
import type { HeapPeer } from '../synthetic/core.ts';

export const peer: HeapPeer = {
  ...hakmemPeer(
    'hakmem-cached',
    'hakmem createHeap() defaults, the A rand2 loop with a cached view instead of heap.u8 per access (not user form)',
    () => createHeap(),
  ),
  cachedView: true,
};
