// hakmem in mode 'learning' (docs/modes.md): createHeap({ mode: 'learning' }), to compare the modes' costs.
// Opt-in: run it with --allocators hakmem,hakmem-learning.
import { createHeap } from '../../src/index.ts';
import { requireOptIn } from './built/cache.ts';
import { hakmemPeer } from './hakmem.ts';

requireOptIn('hakmem-learning');

export const peer = hakmemPeer('hakmem-learning', "hakmem createHeap({ mode: 'learning' })", () => createHeap({ mode: 'learning' }));
