/**
 * A worker of the fuzz campaign in worker mode (fuzz-campaign.ts): attaches, runs its own
 * FuzzModel (fuzz-model.ts, `mt`: only misuse whose outcome does not depend on other threads),
 * hands blocks to other workers through single-producer rings, meets the others at barriers
 * (barrier.ts: the main thread checks the heap there), and at the end frees everything, detaches
 * and checks that its detached Heap refuses calls.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { abort, arriveAndWait } from './barrier.ts';
import { build, C_W, RING_CAP, RING_WORDS, type WorkerData } from './fuzz-campaign.ts';
import { FOREIGN, FuzzModel, POOL } from './fuzz-model.ts';
import { Rng } from './rng.ts';

const d = workerData as WorkerData;
const { ctl, rings, index: me, workers: W } = d;

function run(): void {
  const attach = build(d.debug).attach;
  const heap = attach(d.handle);
  const m = new FuzzModel(heap, {
    seed: d.seed,
    mt: true,
    misuseRate: d.misuseRate,
    liveBytes: 6 << 20,
    maxLive: 1500,
    maxSize: 512 << 10,
    checkEvery: 0,
    subHeapEvery: 20011,
    breakKind: d.breakKind,
    strictDetach: d.strictDetach,
    debug: d.debug,
    attach,
  });
  for (let i = 0; i < d.pool.length; i += 3) {
    const b = m.add(d.pool[i]!, d.pool[i + 1]!, 16, POOL, d.pool[i + 2]!, false);
    m.verify(b, b.usable, 'pool block as received');
  }
  const r = new Rng(d.seed ^ 0x7777);
  const ring = (from: number, to: number) => (from * W + to) * RING_WORDS;

  const send = (): void => {
    if (W < 2 || m.blocks.length === 0) return;
    const b = r.pick(m.blocks);
    if ((b.flags & POOL) !== 0) return;
    let to = r.int(0, W - 2);
    if (to >= me) to++;
    const base = ring(me, to);
    const tail = rings[base + 1]!;
    if (tail - Atomics.load(rings, base) >= RING_CAP) return;
    m.verify(b, b.usable, 'handoff out');
    m.remove(b);
    const e = base + 2 + 3 * (tail % RING_CAP);
    rings[e] = b.ptr;
    rings[e + 1] = b.size;
    rings[e + 2] = b.seed;
    Atomics.store(rings, base + 1, tail + 1);
    m.valid['handoff-out']++;
  };

  const receive = (): void => {
    for (let from = 0; from < W; from++) {
      if (from === me) continue;
      const base = ring(from, me);
      let head = rings[base]!;
      const tail = Atomics.load(rings, base + 1);
      while (head < tail) {
        const e = base + 2 + 3 * (head % RING_CAP);
        const b = m.add(rings[e]!, rings[e + 1]!, 16, FOREIGN, rings[e + 2]!, false);
        m.verify(b, b.usable, `handoff in from worker ${from}`);
        m.valid['handoff-in']++;
        head++;
      }
      Atomics.store(rings, base, head);
    }
  };

  const publish = (): void => {
    Atomics.store(ctl, C_W + 4 * me, m.liveCount);
    Atomics.store(ctl, C_W + 4 * me + 1, m.usableTotal);
    Atomics.store(ctl, C_W + 4 * me + 2, m.ops);
  };

  let done = 0;
  while (done < d.ops) {
    const n = Math.min(d.epoch, d.ops - done);
    for (let i = 0; i < n; i++) {
      try {
        m.step();
        if (r.next() < 0.03) send();
        if ((i & 3) === 0) receive();
        if ((i & 1023) === 0) Atomics.store(ctl, C_W + 4 * me + 2, m.ops);
      } catch (e) {
        throw new Error(`worker ${me} (thread ${heap.threadId}), seed ${d.seed}, operation ${done + i + 1}: ${(e as Error).message}`, {
          cause: e,
        });
      }
    }
    done += n;
    arriveAndWait(ctl); // A: nobody sends any more
    receive();
    m.verifyAll();
    publish();
    arriveAndWait(ctl); // B: the main thread checks the heap
  }
  // The end: free everything (own, foreign, pool, sub-heap blocks), detach, and the Heap refuses calls.
  m.drain();
  publish();
  heap.detach();
  m.afterDetach(heap);
  for (let i = 0; i < 20; i++) m.afterDetach(heap);
  parentPort!.postMessage({ type: 'done', summary: m.summary() });
}

try {
  run();
} catch (e) {
  abort(ctl);
  parentPort!.postMessage({ type: 'error', error: (e as Error).stack ?? String(e) });
}
