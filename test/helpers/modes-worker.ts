// Worker of test/learn.test.ts's two-thread case: attaches to a learning heap, runs the random
// workload (check() is the main thread's: other threads are busy meanwhile), and hands its live
// blocks to the main thread, which frees them (remote frees) after checking their bytes.
import { parentPort, workerData } from 'node:worker_threads';
import { attachHeap, type HeapHandle } from '../../src/index.ts';
import { runWorkload, type Live } from './modes-workload.ts';
import { Rng } from './rng.ts';

const { handle, seed, ops } = workerData as { handle: HeapHandle; seed: number; ops: number };
const heap = attachHeap(handle);
const live: Live[] = [];
try {
  runWorkload(heap, new Rng(seed), ops, live, { maxLive: 1500 });
  const mode = heap.stats().config.mode;
  parentPort!.postMessage({ ok: true, mode, live });
} catch (e) {
  parentPort!.postMessage({ ok: false, error: e instanceof Error ? e.stack : String(e) });
}
// Wait for the main thread's word to detach (it checks the heap while this thread is attached).
parentPort!.once('message', () => {
  heap.detach();
  parentPort!.postMessage({ detached: true });
  parentPort!.close();
});
