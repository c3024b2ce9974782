/**
 * Model-based tests, the long seeded runs (check() every 1000 operations; >= 200k operations in all):
 * every tier on a 1 GiB heap, 'array' and WebAssembly.Memory heaps, slab churn, and 4 / 8 MiB heaps
 * that exhaust and recover. The same model as model.test.ts (test/helpers/model.ts); kept apart so
 * that `npm run test:quick` leaves them out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRandom, type RunSummary } from './helpers/model.ts';

let totalOps = 0;

function logRun(t: { diagnostic(msg: string): void }, s: RunSummary): void {
  totalOps += s.ops;
  t.diagnostic(
    `${s.ops} ops in ${Math.round(s.ms)} ms; zero results ${s.failures}, recoveries ${s.recoveries}, ` +
      `peak live ${s.peakLive} blocks / ${s.peakUsableBytes} B, high water ${s.heapHighWater}`,
  );
}

test('model: long seeded runs over all tiers (1 GiB heap: no allocation may fail)', async (t) => {
  for (const seed of [1, 2, 3, 4]) {
    await t.test(`seed ${seed}`, (tt) => {
      const s = runRandom({ seed, ops: 60_000, checkEvery: 1000, liveBytes: 48 << 20, maxLive: 3000 });
      assert.equal(s.failures, 0);
      logRun(tt, s);
    });
  }
});

test("model: long seeded runs on an 'array' heap and a WebAssembly.Memory (its buffer is replaced on each growth)", async (t) => {
  for (const memory of ['array', 'wasm'] as const) {
    await t.test(memory, (tt) => {
      const s = runRandom({ seed: 31, ops: 25_000, checkEvery: 1000, liveBytes: 32 << 20, maxLive: 3000, memory });
      logRun(tt, s);
    });
  }
});

test('model: long seeded run with small and mid sizes only (slab churn)', (t) => {
  const s = runRandom({ seed: 99, ops: 50_000, checkEvery: 1000, liveBytes: 4 << 20, maxLive: 3000, maxSize: 32768 });
  logRun(t, s);
});

test('model: long seeded runs on 4 and 8 MiB heaps (exhaustion and recovery)', async (t) => {
  for (const [seed, maxBytes] of [
    [5, 8 << 20],
    [6, 4 << 20],
  ] as const) {
    await t.test(`seed ${seed}, maxBytes ${maxBytes}`, (tt) => {
      const s = runRandom({ seed, ops: 30_000, maxBytes, checkEvery: 1000, liveBytes: Infinity, maxLive: 3000, drainEvery: 500 });
      assert.ok(s.failures > 0, 'the run should exhaust the heap');
      assert.ok(s.recoveries > 0, 'the run should check recovery after exhaustion');
      logRun(tt, s);
    });
  }
});

test('model: at least 200k operations ran in this file', (t) => {
  t.diagnostic(`${totalOps} operations in all`);
  assert.ok(totalOps >= 200_000, `only ${totalOps} operations ran`);
});
