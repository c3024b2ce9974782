/**
 * heap.check() detects corruption. Each case (helpers/check-cases.ts) builds a fresh heap with live and
 * free blocks in every tier, overwrites one kind of metadata word through heap.i32 (slab headers,
 * free-list links, page-map entries, free runs, bins, the BigCache, the heap header) and expects
 * check() to throw HeapCorruptionError. Cases run in a worker thread (helpers/case-runner.ts): a
 * check() that does not return within TIMEOUT_MS fails its test (and the worker is replaced)
 * instead of hanging the run.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { K_FREE_HEAD } from '../src/layout.ts';
import { CaseRunner } from './helpers/case-runner.ts';
import { CASES, describeScene, scene, type CaseResult } from './helpers/check-cases.ts';

const TIMEOUT_MS = 10_000;

const runner = new CaseRunner<{ name: string }, CaseResult>(new URL('./helpers/check-worker.ts', import.meta.url), TIMEOUT_MS);
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
  assert.equal(d.listed, sc.listed.length, "the blocks freed last are on the thread's list");
  const s = sc.h.stats();
  assert.equal(s.inUseBlocks, sc.small.length + 1 + 1 + 3);
  assert.equal(s.large.blocks, 4);
});

describe('check() throws HeapCorruptionError (and returns) for each corruption', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const o = await runner.run({ name: c.name });
      if (o.kind === 'timeout') assert.fail(`check() did not return within ${TIMEOUT_MS} ms on a heap with ${c.name} corrupted`);
      if (o.kind === 'crash') assert.fail(`the worker running the case died: ${o.message}`);
      const r = o.result;
      assert.equal(r.preError, undefined, 'the scene is broken before the corruption');
      assert.ok(r.threw, `check() passed on a heap with ${c.name} corrupted`);
      assert.ok(r.isCorruption, `check() threw ${r.errorName} (${r.message}), not a HeapCorruptionError`);
    });
  }
});
