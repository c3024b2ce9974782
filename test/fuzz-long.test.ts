/**
 * The fuzz campaigns of `npm run fuzz` (helpers/fuzz-campaign.ts, model in helpers/fuzz-model.ts)
 * in CI, against the release build: valid operations mixed with misuse (double and cross-thread
 * double frees, interior / stale / foreign / wild pointers, bad sizes and alignments, calls after
 * detach), each bad call's error class predicted by the model, the heap audited (check(), contents,
 * stats) meanwhile. One thread and 4 workers; >= 10^6 operations each.
 *
 * The same against hakmem/debug (fewer operations: its calls cost O(block size)).
 *
 * HAKMEM_FUZZ_OPS=N sets the operations of each of the two release campaigns (default 1000000),
 * HAKMEM_FUZZ_DEBUG_OPS=N those of the debug ones (default 100000 one thread, twice that with workers).
 * The short fuzz tests (the model can fail, calls after detach) are in test/fuzz.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envInt } from './helpers/env.ts';
import { formatResult, runCampaign, DEFAULTS, type CampaignResult } from './helpers/fuzz-campaign.ts';

const OPS = envInt('HAKMEM_FUZZ_OPS', 1_000_000);
let total = 0;

function report(t: { diagnostic(msg: string): void }, s: CampaignResult): void {
  total += s.ops;
  for (const l of formatResult(s)) t.diagnostic(l);
  const misuse = Object.values(s.misuse).reduce((a, b) => a + b, 0);
  assert.ok(misuse >= s.ops * 0.03, `only ${misuse} misuse calls in ${s.ops} ops`);
  for (const k of [
    'double-free',
    'interior',
    'unaligned',
    'wild-outside',
    'bad-pointer-value',
    'pointer-not-number',
    'bad-size',
    'too-large',
    'bad-alignment',
    'calloc-overflow',
    'after-detach',
  ]) {
    assert.ok((s.misuse[k] ?? 0) > 0, `no ${k} misuse ran`);
  }
}

test(`fuzz: one thread, ${OPS} ops with misuse, every bad call's error predicted`, { timeout: 300_000 }, async (t) => {
  const s = await runCampaign({ ...DEFAULTS, ops: OPS, seed: 11, workers: 0 });
  report(t, s);
  for (const k of ['stale', 'other-heap', 'wild-inside']) assert.ok((s.misuse[k] ?? 0) > 0, `no ${k} misuse ran`);
  assert.ok(s.audits >= OPS / DEFAULTS.checkEvery, 'audits ran');
});

test(`fuzz: 4 workers, ${OPS} ops with misuse and handoffs, check() and stats at barriers`, { timeout: 300_000 }, async (t) => {
  const s = await runCampaign({ ...DEFAULTS, ops: OPS, seed: 12, workers: 4, epoch: Math.ceil(OPS / 4 / 6) });
  report(t, s);
  assert.ok((s.misuse['cross-thread-double-free'] ?? 0) > 0, 'no cross-thread double free ran');
  assert.ok((s.valid['handoff-in'] ?? 0) > 1000, 'blocks were handed between workers');
  assert.equal(s.barrierChecks, 6);
});

test('fuzz: one thread and 4 workers on a secure: true heap (encoded free-list links), 200k ops each', { timeout: 300_000 }, async (t) => {
  report(t, await runCampaign({ ...DEFAULTS, ops: 200_000, seed: 31, workers: 0, secure: true }));
  report(t, await runCampaign({ ...DEFAULTS, ops: 200_000, seed: 32, workers: 4, secure: true, epoch: 25_000 }));
});

// hakmem/debug (src/debug.ts): the same model and predictions, plus its own checks: writes past the
// requested size (HeapOverflowError at free / realloc / check), writes after free (UseAfterFreeError at
// check), and a remote free followed by the owner's free before collection (DoubleFreeError).
const DEBUG_OPS = envInt('HAKMEM_FUZZ_DEBUG_OPS', 100_000);

test(`fuzz hakmem/debug: one thread, ${DEBUG_OPS} ops with misuse, its own checks included`, { timeout: 300_000 }, async (t) => {
  const s = await runCampaign({ ...DEFAULTS, ops: DEBUG_OPS, seed: 21, workers: 0, debug: true, checkEvery: 10_000 });
  report(t, s);
  for (const k of ['debug-overflow', 'debug-use-after-free', 'debug-owner-double-free'])
    assert.ok((s.misuse[k] ?? 0) > 0, `no ${k} misuse ran`);
  assert.equal(s.raised.HeapOverflowError, s.misuse['debug-overflow']);
  assert.equal(s.raised.UseAfterFreeError, s.misuse['debug-use-after-free']);
});

test(`fuzz hakmem/debug: 4 workers, ${2 * DEBUG_OPS} ops with misuse and handoffs`, { timeout: 300_000 }, async (t) => {
  const s = await runCampaign({ ...DEFAULTS, ops: 2 * DEBUG_OPS, seed: 22, workers: 4, debug: true, epoch: Math.ceil(DEBUG_OPS / 8) });
  report(t, s);
  assert.ok((s.misuse['debug-overflow'] ?? 0) > 0, 'no debug-overflow misuse ran');
  assert.ok((s.misuse['cross-thread-double-free'] ?? 0) > 0, 'no cross-thread double free ran');
});

test('fuzz: at least 10^6 operations ran in this file', () => {
  assert.ok(total >= 1_000_000, `only ${total} operations ran`);
});
