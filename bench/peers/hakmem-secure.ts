// hakmem with secure: true (encoded, range-checked free-list links), to measure what it costs.
// Opt-in: run it with --allocators hakmem,hakmem-secure.
import { createHeap } from '../../src/index.ts';
import { requireOptIn } from './built/cache.ts';
import { hakmemPeer } from './hakmem.ts';

requireOptIn('hakmem-secure');

export const peer = hakmemPeer('hakmem-secure', 'hakmem createHeap({ secure: true })', () => createHeap({ secure: true }));
