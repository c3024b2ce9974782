// hakmem in mode 'minimal' (docs/modes.md): createHeap({ mode: 'minimal' }), to compare the modes' costs.
// Opt-in: run it with --allocators hakmem,hakmem-minimal.
import { createHeap } from '../../src/index.ts';
import { requireOptIn } from './built/cache.ts';
import { hakmemPeer } from './hakmem.ts';

requireOptIn('hakmem-minimal');

export const peer = hakmemPeer('hakmem-minimal', "hakmem createHeap({ mode: 'minimal' })", () => createHeap({ mode: 'minimal' }));
