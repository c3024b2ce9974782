// secure: true: encoded, range-checked free-list links.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attachHeap, createHeap, HeapCorruptionError, SecureHeap } from '../src/index.ts';
import { runRandom } from './helpers/model.ts';

test('secure: a stray write into a freed block cannot redirect malloc (plain heap: it can)', () => {
  for (const secure of [false, true]) {
    const heap = createHeap({ secure });
    const live = heap.malloc(64);
    const p = heap.malloc(64);
    heap.free(p);
    // A use after free overwrites the link with the address of a live block (in the plain heap's
    // free-list form: the list word, address << 1 | count, layout.ts T_LISTS).
    heap.u32[p >>> 2] = secure ? live : (live << 1) | (heap.u32[p >>> 2]! & 31);
    if (!secure) {
      assert.equal(heap.malloc(64), p);
      assert.equal(heap.malloc(64), live, 'the plain heap hands out a live block twice (why secure exists)');
      continue;
    }
    assert.throws(
      () => {
        heap.malloc(64);
        heap.malloc(64);
      },
      (e: unknown) => e instanceof HeapCorruptionError && /outside its slab/.test(e.message),
    );
  }
});

test('secure: threads attached to a secure heap use the secure paths; cross-thread frees; check()', () => {
  const heap = createHeap({ secure: true });
  assert.ok(heap instanceof SecureHeap);
  const a = attachHeap(heap.handle);
  assert.ok(a instanceof SecureHeap);
  const ps: number[] = [];
  for (let i = 0; i < 5000; i++) ps.push(a.malloc(16 + (i % 900)));
  for (const p of ps) heap.free(p);
  for (let i = 0; i < 5000; i++) ps[i] = a.malloc(16 + (i % 900));
  heap.check();
  for (const p of ps) a.free(p);
  a.detach();
  heap.check();
  assert.equal(heap.stats().inUseBlocks, 0);
  assert.throws(() => createHeap({ secure: 'yes' as never }), TypeError);
});

test('model: seeded runs on a secure heap', () => {
  const s = runRandom({ build: 'secure', seed: 5, ops: 40_000, checkEvery: 2000, liveBytes: 16 << 20, maxLive: 2000 });
  assert.ok(s.ops >= 40_000);
});
