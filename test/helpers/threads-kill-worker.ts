/**
 * A worker of test/threads-kill.test.ts: attaches and runs malloc/free (small, mid, large, aligned:
 * the large ones take the heap's lock on every call) over its own region of a shared table until
 * it is terminated. The table only ever holds live blocks: an entry is cleared before its block is
 * freed and written after its block is filled, so a kill at any instruction can leak at most the
 * block in hand, never leave a freed block in the table. Each block's first and last words hold
 * its pointer, verified before it is freed. The survivor (never killed) pauses when asked (stop[1]),
 * acknowledging in stop[2], so that the main thread can run check().
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachHeap } from '../../src/index.ts';
import { tagBlock, tagIntact } from './block-table.ts';

const { handle, table, region, slots, seed, survivor, stop } = workerData as {
  handle: Parameters<typeof attachHeap>[0];
  table: Int32Array;
  region: number;
  slots: number;
  seed: number;
  survivor: boolean;
  stop: Int32Array;
};
const h = attachHeap(handle);
parentPort!.postMessage({ type: 'attached', tid: h.threadId });
let x = seed | 1;
const base = region * slots;
for (let op = 0; ; op++) {
  if (survivor && (op & 255) === 0) {
    if (Atomics.load(stop, 0) !== 0) break;
    if (Atomics.load(stop, 1) !== 0) {
      // The main thread checks the heap: be quiet until it is done (stop[1] back to 0).
      Atomics.store(stop, 2, 1);
      Atomics.notify(stop, 2);
      while (Atomics.load(stop, 1) !== 0) Atomics.wait(stop, 1, 1, 100);
      Atomics.store(stop, 2, 0);
    }
  }
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  const slot = base + ((x >>> 8) % slots);
  const p = Atomics.load(table, slot);
  if (p !== 0) {
    if (!tagIntact(h, p)) throw new Error(`block ${p} was overwritten (${h.u32[p >>> 2]}, ${h.u32[(p + h.usableSize(p) - 4) >>> 2]})`);
    Atomics.store(table, slot, 0);
    h.free(p);
    continue;
  }
  const r = (x >>> 4) & 63;
  const size = r < 40 ? 8 + (x & 255) : r < 56 ? 300 + (x & 8191) : r < 60 ? 40000 + (x & 0x3ffff) : 100;
  const q = r >= 60 ? h.alignedAlloc(1 << (4 + (x & 7)), size) : h.malloc(size);
  if (q === 0) continue;
  tagBlock(h, q);
  Atomics.store(table, slot, q);
}
h.detach();
parentPort!.postMessage({ type: 'done' });
