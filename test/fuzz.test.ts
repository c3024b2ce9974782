/**
 * The short fuzz tests: the fuzz model (helpers/fuzz-model.ts, run by helpers/fuzz-campaign.ts) can
 * fail (a wrong prediction fails a campaign, on one thread and with workers), every call on a
 * detached Heap or DebugHeap is refused and leaves live blocks alone, and hakmem/debug finds a write
 * after free of an aligned small block. The long campaigns (>= 10^6 operations, workers, secure,
 * hakmem/debug) are in test/fuzz-long.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCampaign, DEFAULTS } from './helpers/fuzz-campaign.ts';

test('fuzz hakmem/debug: a write after free of an aligned small block is found', async () => {
  const { createHeap } = await import('../src/debug.ts');
  const h = createHeap();
  const p = h.alignedAlloc(4096, 300);
  h.free(p);
  h.u8[p + 100]! ^= 1;
  assert.throws(() => h.check(), { name: 'UseAfterFreeError' });
});

test('fuzz hakmem/debug: calls on a detached DebugHeap leave live blocks alone', async () => {
  await runCampaign({ ...DEFAULTS, ops: 30_000, seed: 23, workers: 0, debug: true, strictDetach: true });
});

test('fuzz: a wrong prediction fails the campaign (one thread and workers)', async () => {
  await assert.rejects(
    runCampaign({ ...DEFAULTS, ops: 50_000, seed: 13, workers: 0, breakKind: 'double-free' }),
    /misuse double-free: .* threw DoubleFreeError.*expected InvalidFreeError/,
  );
  await assert.rejects(
    runCampaign({ ...DEFAULTS, ops: 40_000, seed: 14, workers: 2, epoch: 10_000, breakKind: 'cross-thread-double-free' }),
    /cross-thread-double-free: .* threw DoubleFreeError/,
  );
});

test('fuzz: every call on a detached Heap is refused with DetachedError', async () => {
  await runCampaign({ ...DEFAULTS, ops: 100_000, seed: 15, workers: 0, strictDetach: true });
});
