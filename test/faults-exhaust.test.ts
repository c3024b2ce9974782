/**
 * Faults: exhaustion reached by 4 workers at once. A heap capped at a few MiB; every worker
 * allocates (small, mid, large, aligned) until malloc returns 0, frees a random half and allocates
 * again until 0, several times per round; at the end of each round the main thread, with the
 * workers paused at a barrier, runs check(), verifies that no two live blocks overlap and that every
 * block still holds its pointer, and compares stats() with what the workers hold (blocks, usable
 * bytes, heapBytes <= maxBytes). HAKMEM_EXHAUST_ROUNDS=N rounds (default 100). No exception but the expected 0 results. At the end everything is
 * freed and the workers detach: the heap is empty, check() passes, and a block of half the heap
 * can be allocated again (nothing was lost to exhaustion).
 *
 * Growth racing with allocation and frees on other workers is covered by test/threads-stress.test.ts
 * (a heap created at 128 KiB grows while 4 workers run 1M operations each).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from 'node:worker_threads';
import { createHeap } from '../src/index.ts';
import { abort, B_ABORT, gather, release } from './helpers/barrier.ts';
import { auditTable } from './helpers/block-table.ts';
import { envInt } from './helpers/env.ts';
import { tsWorker } from './helpers/workers.ts';

const WORKERS = 4;
const ROUNDS = envInt('HAKMEM_EXHAUST_ROUNDS', 100);
const SLOTS = 8192;
const MAX_BYTES = 6 << 20;

test(`faults: ${WORKERS} workers exhaust a ${MAX_BYTES >> 20} MiB heap at once, ${ROUNDS} rounds; check(), no overlap, stats, all freeable`, {
  timeout: 300_000,
}, async (t) => {
  const heap = createHeap({ maxBytes: MAX_BYTES, maxThreads: WORKERS + 1 });
  const table = new Int32Array(new SharedArrayBuffer(4 * WORKERS * SLOTS));
  const ctl = new Int32Array(new SharedArrayBuffer(4 * (4 + 4 * WORKERS)));
  const workers: Worker[] = [];
  let failure: Error | undefined;
  const done: Promise<{ zeros: number; allocs: number }>[] = [];
  for (let w = 0; w < WORKERS; w++) {
    const wk = tsWorker(new URL('./helpers/faults-exhaust-worker.ts', import.meta.url), {
      handle: heap.handle,
      table,
      region: w,
      slots: SLOTS,
      rounds: ROUNDS,
      seed: 777 + w * 31,
      ctl,
      index: w,
    });
    workers.push(wk);
    done.push(
      new Promise((resolve) => {
        wk.on('message', (m: { type: string; zeros: number; allocs: number; error?: string }) => {
          if (m.type === 'done') resolve(m);
          if (m.type === 'error') {
            failure ??= new Error(`worker ${w}: ${m.error}`);
            Atomics.store(ctl, B_ABORT, 1);
            resolve(m);
          }
        });
        wk.on('error', (e) => {
          failure ??= new Error(`worker ${w} crashed: ${String(e)}`);
          Atomics.store(ctl, B_ABORT, 1);
          resolve({ zeros: 0, allocs: 0 });
        });
        wk.on('exit', () => resolve({ zeros: 0, allocs: 0 }));
      }),
    );
  }
  try {
    for (let round = 0; round < ROUNDS; round++) {
      await gather(ctl, WORKERS, {
        failed: () => failure,
        stallMs: 120_000,
        stuck: `round ${round}: the workers did not reach the barrier in 120 s (deadlock at exhaustion?)`,
      });
      const where = `round ${round}`;
      heap.check();
      const held = auditTable(heap, table, where);
      const s = heap.stats();
      let blocks = 0;
      let bytes = 0;
      for (let w = 0; w < WORKERS; w++) {
        blocks += Atomics.load(ctl, 4 + 4 * w + 1);
        bytes += Atomics.load(ctl, 4 + 4 * w + 2);
      }
      assert.equal(held.blocks, blocks, `${where}: the table holds ${held.blocks} blocks, the workers say ${blocks}`);
      assert.equal(s.inUseBlocks, blocks, `${where}: stats().inUseBlocks`);
      assert.equal(s.inUseBytes, bytes, `${where}: stats().inUseBytes`);
      assert.ok(
        s.heapBytes <= MAX_BYTES && s.heapHighWater <= MAX_BYTES + 65536,
        `${where}: heapBytes ${s.heapBytes} / high water ${s.heapHighWater} over maxBytes ${MAX_BYTES}`,
      );
      assert.ok(s.usedPagesBytes <= s.heapBytes, `${where}: usedPagesBytes ${s.usedPagesBytes} > heapBytes ${s.heapBytes}`);
      release(ctl);
    }
    const results = await Promise.all(done);
    if (failure) throw failure;
    // every allocation phase (5 per round) ended with malloc returning 0, none by running out of slots
    for (const [w, r] of results.entries())
      assert.equal(r.zeros, 5 * ROUNDS, `worker ${w}: malloc returned 0 ${r.zeros} times, not once per phase`);
    t.diagnostic(
      `allocations: ${results.map((r) => r.allocs).join(', ')}; malloc returned 0: ${results.map((r) => r.zeros).join(', ')} times`,
    );
  } finally {
    abort(ctl);
    for (const wk of workers) void wk.terminate();
  }
  // Everything freed, every worker detached.
  heap.check();
  assert.equal(auditTable(heap, table, 'end').blocks, 0);
  const s = heap.stats();
  assert.equal(s.inUseBlocks, 0);
  assert.equal(s.inUseBytes, 0);
  // Nothing lost: only metadata pages stay in use (the page-map leaf, and one record page per
  // thread slot ever used: records of detached threads stay for the slot's next user, wherever in
  // the arena they were placed, so they also split the free space; a block of half the heap may not
  // fit, one of an eighth must), and small blocks fill the heap again.
  assert.ok(s.usedPagesBytes <= (WORKERS + 3) * 4096, `usedPagesBytes ${s.usedPagesBytes} after everything was freed`);
  const big = heap.malloc(MAX_BYTES / 8);
  assert.notEqual(
    big,
    0,
    `a block of an eighth of the heap after everything was freed (free page bytes ${s.freeBytes.pages}, heap ${s.heapBytes})`,
  );
  heap.free(big);
  const small: number[] = [];
  for (let p = heap.malloc(700); p !== 0; p = heap.malloc(700)) small.push(p);
  assert.ok(small.length * 704 > MAX_BYTES * 0.8, `only ${small.length} blocks of 700 B fit in the ${MAX_BYTES} B heap`);
  for (const p of small) heap.free(p);
  heap.check();
  assert.equal(heap.stats().inUseBlocks, 0);
});
