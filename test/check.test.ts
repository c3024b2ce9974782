/**
 * heap.check() detects corruption. Each case (test/check-cases.ts) builds a fresh heap with live and
 * free blocks in every tier, overwrites one kind of metadata word through heap.i32 (slab headers,
 * free-list links, page-map entries, free runs, bins, the BigCache, the heap header) and expects
 * check() to throw HeapCorruptionError. Cases run in a worker thread: a check() that does not return
 * within TIMEOUT_MS fails its test (and the worker is replaced) instead of hanging the run.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { K_FREE_HEAD } from '../src/layout.ts';
import { CASES, describeScene, scene, type CaseResult } from './check-cases.ts';

const TIMEOUT_MS = 10_000;

type Outcome = CaseResult | 'timeout';

/** Runs cases in one worker; a case that does not answer in time terminates it (the next case starts another). */
class CaseRunner {
  private worker: Worker | undefined;
  private waiting = new Map<number, (r: Outcome) => void>();
  private nextId = 0;

  private start(): Worker {
    const url = new URL('./check-worker.ts', import.meta.url).href;
    // tsx's hooks are not inherited by workers in Node 20: register them in the worker first.
    const w = new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url)}); });`, { eval: true });
    w.on('message', (msg: { id: number; result: CaseResult }) => {
      this.waiting.get(msg.id)?.(msg.result);
      this.waiting.delete(msg.id);
    });
    w.on('error', (e) => {
      for (const done of this.waiting.values()) done({ preError: `worker error: ${String(e)}`, threw: false, isCorruption: false, errorName: '', message: '', ms: 0 });
      this.waiting.clear();
      if (this.worker === w) this.worker = undefined;
    });
    w.unref();
    return w;
  }

  run(name: string): Promise<Outcome> {
    const w = (this.worker ??= this.start());
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        if (this.worker === w) this.worker = undefined;
        void w.terminate();
        resolve('timeout');
      }, TIMEOUT_MS);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      w.postMessage({ id, name });
    });
  }

  close(): void {
    void this.worker?.terminate();
  }
}

const runner = new CaseRunner();
after(() => runner.close());

test('the scene has live and free blocks in every tier and passes check()', () => {
  const sc = scene();
  sc.h.check();
  const d = describeScene(sc);
  assert.ok(sc.freed.length >= 3);
  assert.equal(d.freedOnList, sc.freed.length, 'the freed blocks are on their slab free list');
  assert.equal(d.partialHead, d.firstSlab, 'the first slab is in the partial queue');
  assert.equal(d.runKind, K_FREE_HEAD);
  assert.equal(d.runPages, 40);
  assert.equal(d.bigCachePages, 25);
  assert.ok(d.multiPageSlab > 0);
  assert.equal(d.listed, sc.listed.length, 'the blocks freed last are on the thread\'s list');
  const s = sc.h.stats();
  assert.equal(s.inUseBlocks, sc.small.length + 1 + 1 + 3);
  assert.equal(s.large.blocks, 4);
});

describe('check() throws HeapCorruptionError (and returns) for each corruption', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const r = await runner.run(c.name);
      if (r === 'timeout') assert.fail(`check() did not return within ${TIMEOUT_MS} ms on a heap with ${c.name} corrupted`);
      assert.equal(r.preError, undefined, 'the scene is broken before the corruption');
      assert.ok(r.threw, `check() passed on a heap with ${c.name} corrupted`);
      assert.ok(r.isCorruption, `check() threw ${r.errorName} (${r.message}), not a HeapCorruptionError`);
    });
  }
});
