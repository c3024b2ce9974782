// hakmem with memory: 'array' (a resizable ArrayBuffer, for pages that are not cross-origin
// isolated), to measure what it costs against the default growable SharedArrayBuffer: V8 checks a
// view of a resizable ArrayBuffer against the buffer's current length on every access (the buffer
// may shrink), which it need not do for a growable SharedArrayBuffer (which cannot).
// Opt-in: run it with --allocators hakmem,hakmem-array.
import { createHeap } from '../../src/index.ts';
import { requireOptIn } from '../ext/cache.ts';
import { hakmemPeer } from './hakmem.ts';

requireOptIn('hakmem-array');

export const peer = hakmemPeer('hakmem-array', "hakmem createHeap({ memory: 'array' })", () => createHeap({ memory: 'array' }));
