// AssemblyScript's TLSF, compiled to wasm when this adapter is first imported (cached in
// bench/.cache/); a fresh instance per heap; the loop calls the wasm exports directly.
import { TLSF_ABOUT, TlsfHeap, tlsfModule } from './built/tlsf.ts';
import type { HeapPeer } from '../synthetic/core.ts';

const module = await tlsfModule();

export const peer: HeapPeer = {
  kind: 'heap',
  name: 'tlsf',
  about: TLSF_ABOUT,
  create() {
    const h = new TlsfHeap(module);
    return { alloc: h, highWater: () => h.highWater(), wide: false };
  },
};
