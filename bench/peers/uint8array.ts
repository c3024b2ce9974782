// new Uint8Array(size): GC-managed, zero-filled, one ArrayBuffer per block. Blocks live in a JS
// array; free drops the reference.
import type { GcPeer } from '../synthetic/core.ts';

export const peer: GcPeer = {
  kind: 'gc',
  name: 'uint8array',
  about: 'new Uint8Array(size) (GC; free = drop the reference)',
  maxCycles: 500_000,
  estimateNsPerOp: (w) => (w.kind === 'C2' ? 40000 : 700),
  create() {
    return { alloc: (size: number): Uint8Array => new Uint8Array(size) };
  },
};
