// The thread cache (src/slab.ts): a bounded LIFO list per small class of blocks a thread freed into
// its own slabs. What it must keep: LIFO reuse, double frees and stale pointers still named, blocks
// in it not "in use", its bound, slabs whose blocks sit in it still released, nothing lost when its
// thread detaches or dies, and the debug and secure builds without it. Several Heap objects in one
// thread stand for threads (as in threads.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attachHeap, createHeap, DoubleFreeError, InvalidFreeError, SIZE_CLASSES, type Heap } from '../src/index.ts';
import { createHeap as createDebugHeap } from '../src/debug.ts';
import { CACHE_ROOM, T_CACHE } from '../src/slab.ts';

function cls(size: number): number {
  const c = SIZE_CLASSES.findIndex((s) => s >= size);
  assert.ok(c >= 0);
  return c;
}

/** [blocks in h's cache of the class of `size`, room left]. */
function cacheOf(h: Heap, size: number): [number, number] {
  const w = h.tcur + T_CACHE + 2 * cls(size);
  let n = 0;
  for (let p = h.i32[w]!; p !== 0 && n <= 1000; p = h.i32[p >>> 2]!) n++;
  return [n, h.i32[w + 1]!];
}

test('a freed small block is the next one handed out for its class (LIFO)', () => {
  const h = createHeap();
  const a = h.malloc(40);
  const b = h.malloc(48);
  h.free(a);
  h.free(b);
  assert.deepEqual(cacheOf(h, 48), [2, CACHE_ROOM[cls(48)]! - 2]);
  assert.equal(h.malloc(33), b, 'same class (48 B), newest first');
  assert.equal(h.malloc(48), a);
  assert.deepEqual(cacheOf(h, 48), [0, CACHE_ROOM[cls(48)]!]);
  h.check();
});

test('a block in the cache is free: double free, usableSize and realloc name it; the heap stays intact', () => {
  const h = createHeap();
  const keep = h.malloc(64);
  const p = h.malloc(64);
  h.u8.fill(7, keep, keep + 64);
  h.free(p);
  assert.throws(() => h.free(p), DoubleFreeError);
  assert.throws(() => h.usableSize(p), DoubleFreeError);
  assert.throws(() => h.realloc(p, 100), DoubleFreeError);
  assert.throws(() => h.free(p + 16), InvalidFreeError);
  h.check();
  assert.equal(h.stats().inUseBlocks, 1, 'only `keep` is in use');
  assert.ok(h.u8.subarray(keep, keep + 64).every((v) => v === 7));
  const q = h.malloc(64);
  assert.equal(q, p, 'reused once');
  assert.notEqual(h.malloc(64), p, 'and not twice');
});

test('the cache is bounded per class: frees past its room go to the slab lists; stats count cached blocks as free', () => {
  const h = createHeap();
  for (const size of [16, 48, 256, 1024]) {
    const room = CACHE_ROOM[cls(size)]!;
    assert.ok(room >= 8 && room <= 64 && room * size <= 16384 + 8 * 1024, `room ${room} for ${size} B`);
    const ps = Array.from({ length: room * 3 }, () => h.malloc(size));
    for (const p of ps) h.free(p);
    assert.deepEqual(cacheOf(h, size), [room, 0]);
    const s = h.stats();
    assert.equal(s.inUseBlocks, 0);
    assert.equal(s.inUseBytes, 0);
    h.check();
    // all of them come back, each once
    const again = new Set(Array.from({ length: room * 3 }, () => h.malloc(size)));
    assert.equal(again.size, room * 3);
    for (const p of again) h.free(p);
  }
  assert.equal(CACHE_ROOM[cls(2048)], 0, 'mid classes have no cache');
  h.check();
});

test('slabs whose free blocks sit in the cache are still released for other sizes', () => {
  const h = createHeap();
  const small = Array.from({ length: 20000 }, () => h.malloc(48));
  const hw = h.stats().heapHighWater;
  for (const p of small) h.free(p);
  const big = Array.from({ length: 1800 }, () => h.malloc(512)); // ~0.9 MiB: needs the 48-byte slabs' pages
  assert.equal(h.stats().heapHighWater, hw, 'the heap did not grow');
  h.check();
  for (const p of big) h.free(p);
  h.check();
});

test('detach and death: blocks in a thread cache are usable again, nothing leaks', () => {
  const heap = createHeap();
  for (const leave of ['detach', 'die'] as const) {
    const t = attachHeap(heap.handle);
    const ps = Array.from({ length: 200 }, () => t.malloc(80));
    const kept = ps.filter((_, i) => i % 2 === 0);
    for (const p of ps) if (!kept.includes(p)) t.free(p);
    assert.ok(cacheOf(t, 80)[0] > 0, 'some are cached');
    if (leave === 'detach') t.detach();
    else heap.reclaimThread(t.threadId); // t is dropped without detach()
    heap.check();
    assert.equal(heap.stats().inUseBlocks, kept.length, 'only the blocks it kept are in use');
    for (const p of kept) heap.free(p); // blocks of an abandoned slab: any thread may free them
    heap.check();
    assert.equal(heap.stats().inUseBlocks, 0);
  }
  // a detached Heap's fast path sees an empty cache
  const t = attachHeap(heap.handle);
  t.free(t.malloc(32));
  t.detach();
  assert.throws(() => t.malloc(32), /detach/);
});

test('a block in its owner\'s cache freed by another thread is a double free', () => {
  const heap = createHeap();
  const other = attachHeap(heap.handle);
  const p = heap.malloc(100);
  heap.free(p);
  assert.throws(() => other.free(p), DoubleFreeError);
  heap.check();
  assert.equal(heap.malloc(100), p);
  assert.equal(heap.stats().inUseBlocks, 1);
});

test('the debug and secure builds have no thread cache', () => {
  for (const h of [createDebugHeap(), createHeap({ secure: true })]) {
    const p = h.malloc(48);
    h.free(p);
    assert.deepEqual(cacheOf(h, 48), [0, 0]);
    h.check();
  }
  // a release thread of a debug-made heap has its cache
  const d = createDebugHeap();
  const r = attachHeap(d.handle);
  r.free(r.malloc(48));
  assert.deepEqual(cacheOf(r, 48), [1, CACHE_ROOM[cls(48)]! - 1]);
  d.check();
});
