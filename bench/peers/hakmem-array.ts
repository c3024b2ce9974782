// hakmem with memory: 'array' (a resizable ArrayBuffer, for pages that are not cross-origin
// isolated), to measure what it costs against the default growable SharedArrayBuffer. (The likely
// reason it is slower, not verified here: a resizable ArrayBuffer may shrink, so V8 must check views
// of it against its current length; a growable SharedArrayBuffer cannot shrink.)
// Opt-in: run it with --allocators hakmem,hakmem-array.
import { createHeap } from '../../src/index.ts';
import { requireOptIn } from './built/cache.ts';
import { hakmemPeer } from './hakmem.ts';

requireOptIn('hakmem-array');

export const peer = hakmemPeer('hakmem-array', "hakmem createHeap({ memory: 'array' })", () => createHeap({ memory: 'array' }));
