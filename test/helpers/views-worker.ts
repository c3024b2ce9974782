// Worker of test/views.test.ts: attaches, grows the heap with blocks that it fills through the
// getters, posts their pointers (the synchronisation), then detaches when told.
import { parentPort, workerData } from 'node:worker_threads';
import { attachHeap, type HeapHandle } from '../../src/index.ts';

const h = attachHeap(workerData as HeapHandle);
const size = 40000;
const ptrs: number[] = [];
try {
  for (let k = 0; k < 64; k++) {
    const p = h.malloc(size);
    if (p === 0) throw new Error(`malloc(${size}) returned 0`);
    h.u8[p] = k & 0xff;
    h.u8[p + size - 1] = (k * 7) & 0xff;
    h.i32[(p + 4) >> 2] = k;
    h.f64[(p + 8) >> 3] = k / 4;
    ptrs.push(p);
  }
  parentPort!.postMessage({ ptrs, size });
} catch (e) {
  parentPort!.postMessage({ ptrs, size, error: String(e) });
}
parentPort!.once('message', () => {
  h.detach();
  parentPort!.close();
});
