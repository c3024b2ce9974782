// hakmem in mode 'research' (docs/modes.md): createHeap({ mode: 'research' }), to compare the modes' costs.
// Opt-in: run it with --allocators hakmem,hakmem-research.
import { createHeap } from '../../src/index.ts';
import { requireOptIn } from './built/cache.ts';
import { hakmemPeer } from './hakmem.ts';

requireOptIn('hakmem-research');

export const peer = hakmemPeer('hakmem-research', "hakmem createHeap({ mode: 'research' })", () => createHeap({ mode: 'research' }));
