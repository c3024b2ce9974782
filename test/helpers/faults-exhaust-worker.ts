/**
 * A worker of test/faults-exhaust.test.ts: in each round, allocates (small, mid, large, aligned)
 * until malloc returns 0 with the heap at its maxBytes, frees a random half, allocates again until
 * 0, then meets the others at a barrier (the main thread checks the heap). Its live blocks are
 * published in its region of a shared table; each block's first and last words hold its pointer,
 * verified before it is freed and at every barrier. Any exception is reported and fails the test.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachHeap } from '../../src/index.ts';
import { abort, arriveAndWait } from './barrier.ts';
import { tagBlock, tagIntact } from './block-table.ts';

const { handle, table, region, slots, rounds, seed, ctl, index } = workerData as {
  handle: Parameters<typeof attachHeap>[0];
  table: Int32Array;
  region: number;
  slots: number;
  rounds: number;
  seed: number;
  ctl: Int32Array;
  index: number;
};
// ctl: the barrier's words (barrier.ts), then per worker at 4 + 4 * index: zeros, live, usable bytes, allocations

try {
  const h = attachHeap(handle);
  let x = seed | 1;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const base = region * slots;
  const live: number[] = []; // slot indices in use
  const free: number[] = [];
  for (let i = slots - 1; i >= 0; i--) free.push(i);
  let zeros = 0;
  let allocs = 0;
  let usable = 0;
  const verify = (p: number, where: string) => {
    const n = h.usableSize(p);
    if (!tagIntact(h, p, n)) throw new Error(`${where}: block ${p} (${n} B) was overwritten`);
    return n;
  };
  const allocUntilZero = () => {
    while (free.length > 0) {
      const r = rnd();
      const k = r & 15;
      const size =
        k < 9 ? (r >>> 4) & 1023 : k < 13 ? 1024 + ((r >>> 4) & 32767) : k < 15 ? 32769 + ((r >>> 4) & 262143) : 100 + ((r >>> 4) & 4095);
      const p = k === 15 ? h.alignedAlloc(1 << (5 + ((r >>> 20) & 7)), size) : h.malloc(size);
      if (p === 0) {
        zeros++;
        return;
      }
      allocs++;
      const n = h.usableSize(p);
      if (n < size) throw new Error(`usableSize(${p}) = ${n} < ${size}`);
      tagBlock(h, p, n);
      const s = free.pop()!;
      Atomics.store(table, base + s, p);
      live.push(s);
      usable += n;
    }
  };
  const freeSome = (share: number) => {
    for (let i = live.length - 1; i >= 0; i--) {
      if ((rnd() & 1023) >= share * 1024) continue;
      const s = live[i]!;
      const p = Atomics.load(table, base + s);
      usable -= verify(p, 'before free');
      Atomics.store(table, base + s, 0);
      h.free(p);
      live[i] = live[live.length - 1]!;
      live.pop();
      free.push(s);
    }
  };
  const publish = () => {
    const o = 4 + 4 * index;
    Atomics.store(ctl, o, zeros);
    Atomics.store(ctl, o + 1, live.length);
    Atomics.store(ctl, o + 2, usable);
    Atomics.store(ctl, o + 3, allocs);
  };
  parentPort!.postMessage({ type: 'attached', tid: h.threadId });
  for (let round = 0; round < rounds; round++) {
    allocUntilZero();
    for (let k = 0; k < 4; k++) {
      freeSome(0.5);
      allocUntilZero();
    }
    for (const s of live) verify(Atomics.load(table, base + s), `round ${round}`);
    publish();
    arriveAndWait(ctl); // the main thread checks the heap
    freeSome(round % 3 === 2 ? 1 : 0.3); // sometimes everything
    publish();
  }
  freeSome(1);
  publish();
  h.detach();
  parentPort!.postMessage({ type: 'done', zeros, allocs });
} catch (e) {
  abort(ctl);
  parentPort!.postMessage({ type: 'error', error: (e as Error).stack ?? String(e) });
}
