// Buffer.allocUnsafe(size): GC-managed, uninitialised; requests < 4 KiB are slices of Node's
// shared 8 KiB pool. Blocks live in a JS array; free drops the reference.
import type { GcPeer } from '../synthetic/core.ts';

export const peer: GcPeer = {
  kind: 'gc',
  name: 'buffer',
  about: 'Buffer.allocUnsafe(size) (GC; free = drop the reference)',
  maxCycles: 500_000,
  estimateNsPerOp: (w) => (w.kind === 'C2' ? 20000 : 150),
  create() {
    return { alloc: (size: number): Uint8Array => Buffer.allocUnsafe(size) };
  },
};
