/**
 * A worker of test/threads-churn.test.ts: attaches, runs `ops` operations on the table slots it owns
 * in this generation (blocks inherited from earlier generations and the main thread), then either
 * detaches or, at op `killAt`, asks to be killed and spins until the main thread terminates it.
 */
import { parentPort } from 'node:worker_threads';
import * as hakmem from '../../src/index.ts';
import { Actor, describeError } from './stress.js';
import { churnOwned, churnTables, type ChurnMessage } from './threads-churn.ts';

parentPort!.postMessage({ type: 'loaded' });
parentPort!.once('message', (msg: ChurnMessage) => {
  let heap: hakmem.Heap;
  try {
    heap = hakmem.attachHeap(msg.handle as Parameters<typeof hakmem.attachHeap>[0]);
  } catch (e) {
    parentPort!.postMessage({ type: 'done', ok: false, error: `generation ${msg.gen} worker ${msg.k}: attachHeap: ${describeError(e)}` });
    return;
  }
  const tid = heap.threadId;
  parentPort!.postMessage({ type: 'attached', tid });
  try {
    const owned = churnOwned(msg.gen, msg.k, msg.workerSlots);
    const actor = new Actor(heap, msg.shared, msg.k, msg.workerSlots, {
      tag: msg.tag,
      tables: churnTables(msg.tables, msg.totalSlots),
      owned,
    });
    actor.where = `generation ${msg.gen} worker ${msg.k} (thread ${tid})`;
    for (let op = 0; op < msg.ops; op++) {
      if (op === msg.killAt) {
        // A random point of the loop, between two heap calls (so that the shared table is exact):
        // the thread holds cached blocks and owns slabs; the main thread terminates it now.
        parentPort!.postMessage({ type: 'kill-me', tid, op });
        const ctl = new Int32Array(msg.shared.ctl);
        for (;;) if (Atomics.load(ctl, 2) === 0x7fffffff) break; // never true: spin until terminated
      }
      actor.step(0);
    }
    heap.detach();
    parentPort!.postMessage({ type: 'done', ok: true, tid });
  } catch (e) {
    parentPort!.postMessage({
      type: 'done',
      ok: false,
      tid,
      error: `generation ${msg.gen} worker ${msg.k} (thread ${tid}): ${describeError(e)}`,
    });
  }
});
