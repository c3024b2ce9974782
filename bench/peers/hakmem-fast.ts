// hakmem in mode 'fast' (docs/modes.md): createHeap({ mode: 'fast' }), to compare the modes' costs.
// Opt-in: run it with --allocators hakmem,hakmem-fast.
import { createHeap } from '../../src/index.ts';
import { requireOptIn } from './built/cache.ts';
import { hakmemPeer } from './hakmem.ts';

requireOptIn('hakmem-fast');

export const peer = hakmemPeer('hakmem-fast', "hakmem createHeap({ mode: 'fast' })", () => createHeap({ mode: 'fast' }));
