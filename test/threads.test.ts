// Multi-thread protocol, deterministically: several Heap objects attached in ONE thread stand for
// threads (a Heap is a thread's view: its own id, caches and slabs), so every interleaving below is
// exact. "Death" is a Heap dropped without detach(), possibly in the middle of a locked operation
// (made with the internal page functions), then reclaimThread() from another Heap.
// Real workers: threads-stress.test.ts, threads-churn.test.ts, browser.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attachHeap, createHeap, DetachedError, DoubleFreeError, SIZE_CLASSES, type Heap } from '../src/index.ts';
import { getEntry, markRun, setEntry, takeFromBins } from '../src/pages.ts';
import {
  H_ABANDONED,
  H_BC,
  H_FRONTIER,
  H_LOCK,
  K_FREE_BODY,
  K_LARGE_BODY,
  K_LARGE_HEAD,
  L_HEAD,
  LIST_SHIFT,
  listFirst,
  MARK_WORD,
  PAGE_SHIFT,
  S_NEXT,
} from '../src/layout.ts';

function frontier(h: Heap): number {
  return h.i32[h.hw + H_FRONTIER]!;
}

/** Allocates n blocks of `size` on h, each filled with a byte pattern of its index. */
function fill(h: Heap, n: number, size: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = h.malloc(size);
    assert.ok(p > 0);
    h.u8.fill(i & 255, p, p + size);
    out.push(p);
  }
  return out;
}

function verify(h: Heap, ps: number[], size: number): void {
  const u8 = h.u8;
  ps.forEach((p, i) => {
    for (let k = p; k < p + size; k += 7) if (u8[k] !== (i & 255)) assert.fail(`block ${i} at ${p} was overwritten`);
  });
}

test('thread slots: ids, maxThreads, reuse after detach; the handle is structured-cloneable', () => {
  const heap = createHeap({ maxThreads: 3 });
  assert.equal(heap.threadId, 1);
  const a = attachHeap(structuredClone(heap.handle));
  const b = attachHeap(heap.handle);
  assert.deepEqual([a.threadId, b.threadId], [2, 3]);
  assert.throws(
    () => attachHeap(heap.handle),
    (e: unknown) => e instanceof RangeError && /maxThreads/.test(e.message),
  );
  a.detach();
  const c = attachHeap(heap.handle);
  assert.equal(c.threadId, 2);
  heap.check();
});

test('handle: only shared memory; bad handles and misuse are clear errors', () => {
  assert.throws(() => createHeap({ memory: 'array' }).handle, TypeError);
  const wasm = new WebAssembly.Memory({ initial: 2, maximum: 64, shared: true });
  const wh = createHeap({ memory: wasm });
  const wa = attachHeap(wh.handle);
  const p = wa.malloc(100);
  wh.free(p);
  wh.check();
  assert.throws(() => attachHeap({} as never), TypeError);
  assert.throws(() => attachHeap({ ...wh.handle, base: 4096 * 7 }), TypeError);
  const heap = createHeap();
  const a = attachHeap(heap.handle);
  const token = a.threadToken;
  assert.equal(token % 1024, a.threadId);
  assert.equal(heap.reclaimThread(9), false); // a slot nobody holds: nothing to reclaim
  assert.throws(() => heap.reclaimThread(1), /use detach/);
  assert.throws(() => heap.reclaimThread(0), RangeError);
  assert.throws(() => heap.reclaimThread(65), RangeError); // past maxThreads (64)
  assert.throws(() => heap.reclaimThread(1.5), RangeError);
  assert.throws(() => heap.reclaimThread('2' as never), TypeError);
  a.detach();
  assert.throws(() => a.malloc(8), DetachedError);
  assert.throws(() => a.free(16), DetachedError);
  assert.throws(() => a.detach(), DetachedError);
  assert.equal(a.threadToken, 0);
  assert.equal(heap.reclaimThread(token), false); // detached: nothing to reclaim, and no error
  assert.equal(heap.reclaimThread(2), false);
  // The slot's next thread is not the one the token names: a late reclaim leaves it alone.
  const b = attachHeap(heap.handle);
  assert.equal(b.threadId, 2);
  assert.notEqual(b.threadToken, token);
  assert.equal(heap.reclaimThread(token), false);
  b.malloc(64); // still attached
  b[Symbol.dispose](); // `using b = attachHeap(...)` detaches at the end of its scope
  assert.equal(b.threadId, 0);
  b[Symbol.dispose](); // a no-op once detached
  heap.check();
});

test('cross-thread frees: blocks freed by another thread are reused by the owner, the heap does not grow', () => {
  const heap = createHeap();
  const a = attachHeap(heap.handle);
  for (const size of [16, 64, 700, 5000, 30000]) {
    const ps = fill(a, 3000, size);
    verify(heap, ps, size);
    for (const p of ps) heap.free(p); // remote: a owns these slabs
    assert.equal(heap.stats().inUseBlocks, 0);
    heap.check();
    const top = frontier(heap);
    const qs = fill(a, 3000, size); // a's full slabs were armed; the remote frees notified a
    assert.equal(frontier(heap), top, `class ${size}: the heap grew instead of reusing remotely freed blocks`);
    verify(a, qs, size);
    for (const q of qs) a.free(q);
    heap.check();
  }
  const big = a.malloc(100000);
  heap.free(big); // large blocks: under the lock, from any thread
  assert.equal(heap.stats().inUseBytes, 0);
  heap.check();
});

test('a second free on another thread is a DoubleFreeError and changes nothing', () => {
  const heap = createHeap();
  const a = attachHeap(heap.handle);
  const p = a.malloc(48);
  const q = a.malloc(48);
  heap.free(p);
  assert.throws(() => heap.free(p), DoubleFreeError);
  assert.throws(() => a.usableSize(p), DoubleFreeError);
  a.free(q);
  assert.throws(() => heap.free(q), DoubleFreeError); // freed by the owner first: its bit is clear
  heap.check();
  assert.equal(heap.stats().inUseBlocks, 0);
});

test('realloc, usableSize and alignedAlloc across threads', () => {
  const heap = createHeap();
  const a = attachHeap(heap.handle);
  const p = a.malloc(100);
  heap.u8.fill(7, p, p + 100);
  assert.ok(heap.usableSize(p) >= 100);
  const q = heap.realloc(p, 5000); // moves: main allocates, a's block is freed remotely
  assert.ok(heap.u8.subarray(q, q + 100).every((x) => x === 7));
  const r = a.realloc(q, 60000);
  assert.ok(a.u8.subarray(r, r + 100).every((x) => x === 7));
  const al = a.alignedAlloc(256, 300);
  assert.equal(al % 256, 0);
  heap.free(al);
  heap.free(r);
  heap.check();
  assert.equal(heap.stats().inUseBytes, 0);
});

test('detach abandons slabs with live blocks; others free into them and adopt them', () => {
  const heap = createHeap();
  const a = attachHeap(heap.handle);
  const ps = fill(a, 4000, 96);
  const mid = fill(a, 10, 3000);
  a.detach();
  heap.check();
  verify(heap, ps, 96);
  for (let i = 0; i < ps.length; i += 2) heap.free(ps[i]!); // into abandoned slabs
  heap.check();
  const b = attachHeap(heap.handle);
  const top = frontier(heap);
  const qs = fill(b, 2000, 96); // adopts the abandoned slabs instead of growing
  assert.equal(frontier(heap), top);
  verify(b, qs, 96);
  for (let i = 1; i < ps.length; i += 2) b.free(ps[i]!);
  for (const q of qs) heap.free(q);
  for (const m of mid) b.free(m);
  heap.check();
  assert.equal(heap.stats().inUseBlocks, 0);
});

test('reclaimThread: a thread that died without detach() loses nothing', () => {
  const heap = createHeap();
  let a: Heap | null = attachHeap(heap.handle);
  const tid = a.threadId;
  a.malloc(20000);
  const handed = fill(a, 2000, 40); // given to other threads: stay live
  const cached = fill(a, 2000, 40);
  for (const p of cached) a.free(p); // in a's free lists when it dies
  a = null; // dies
  heap.reclaimThread(tid);
  heap.check();
  assert.equal(heap.stats().inUseBlocks, handed.length + 1);
  verify(heap, handed, 40);
  const st = heap.stats();
  assert.ok(st.freeBytes.pages >= 65536, 'the empty slab of cached blocks went back to the page allocator');
  const top = frontier(heap);
  const mine = fill(heap, st.classes[2]!.free, 40); // the free blocks of a's other slabs: adopted
  assert.equal(frontier(heap), top);
  for (const p of handed) heap.free(p);
  for (const p of mine) heap.free(p);
  heap.check();
  const b = attachHeap(heap.handle);
  assert.equal(b.threadId, tid); // the slot is free again
});

/** Runs `die` on a fresh attached thread that then "dies" holding the lock; reclaims; checks everything. */
function deathInLock(name: string, die: (a: Heap, heap: Heap) => number[] | void): void {
  test(`death inside the lock (${name}): reclaimThread takes the lock over and repairs`, () => {
    const heap = createHeap();
    const live = fill(heap, 500, 200);
    const bigs = [heap.malloc(50000), heap.malloc(300000)];
    heap.free(heap.malloc(1 << 20)); // a block in the BigCache
    const a = attachHeap(heap.handle);
    const theirs = fill(a, 300, 64);
    a.lock();
    const extra = die(a, heap) ?? [];
    assert.equal(Atomics.load(heap.i32, heap.hw + H_LOCK) & 0xffff, a.threadId);
    heap.reclaimThread(a.threadId);
    heap.check();
    verify(heap, live, 200);
    verify(heap, theirs, 64);
    assert.equal(heap.stats().inUseBlocks, live.length + bigs.length + theirs.length + extra.length);
    // The heap works normally afterwards, in every tier.
    const more = [heap.malloc(100), heap.malloc(10000), heap.malloc(2 << 20), heap.alignedAlloc(1 << 16, 100)];
    for (const p of [...live, ...bigs, ...theirs, ...more, ...extra]) heap.free(p);
    heap.check();
    assert.equal(heap.stats().inUseBytes, 0);
  });
}

deathInLock('holding it, nothing changed', () => {});
deathInLock('pages taken from the bins, not yet marked', (a) => {
  assert.ok(takeFromBins(a, 3) >= 0 || a.extendPages(3) >= 0);
});
deathInLock('a large block half-marked', (a) => {
  const pg = a.extendPages(40);
  assert.ok(pg > 0);
  markRun(a, pg, 20, (40 << 4) | K_LARGE_HEAD, (pg << 4) | K_LARGE_BODY);
});
deathInLock('a large block half-freed', (a, heap) => {
  a.unlock();
  const p = a.malloc(200000);
  a.lock();
  const pg = p >>> PAGE_SHIFT;
  for (let i = 0; i < 20; i++) setEntry(a, pg + i, K_FREE_BODY);
  assert.equal(getEntry(heap, pg + 30), (pg << 4) | K_LARGE_BODY);
});
deathInLock('a BigCache slot half-written', (a) => {
  a.i32[a.hw + H_BC + 2 * 31] = 12345 << PAGE_SHIFT;
});
deathInLock('an abandoned slab half-adopted', (a, heap) => {
  a.unlock();
  const c = attachHeap(heap.handle);
  const keep = c.malloc(3000);
  c.detach(); // its slab of class 3072 is abandoned, holding `keep`
  a.lock();
  const cls = [...Array(128).keys()].find((k) => a.i32[a.hw + H_ABANDONED + k] !== 0)!;
  const s = a.i32[a.hw + H_ABANDONED + cls]!;
  a.i32[a.hw + H_ABANDONED + cls] = a.i32[s + S_NEXT]!; // popped, owner not yet changed
  return [keep];
});

/**
 * A thread dies in the middle of a list operation of the front end: `die` leaves its record and
 * blocks as the interrupted code would, and returns how many blocks that loses (taken out of a
 * slab, in no list: at most the one in hand). reclaimThread validates the dead thread's lists and
 * gives back what is valid: check() passes, nothing is handed out twice, and stats() counts exactly
 * the live blocks plus the lost ones.
 */
function deathInList(name: string, die: (a: Heap, list: number, cls: number) => number): void {
  test(`death inside a list operation (${name}): reclaimThread gives back what is valid, loses only what is named`, () => {
    const heap = createHeap();
    const a = attachHeap(heap.handle);
    const handed = fill(a, 300, 40); // live blocks of a, given to other threads
    const freed = fill(a, 40, 40);
    for (const p of freed) a.free(p); // on a's list of the 48-byte class when it dies
    const cls = SIZE_CLASSES.indexOf(48);
    const list = a.tl + (cls << LIST_SHIFT);
    const lost = die(a, list, cls);
    const tid = a.threadId;
    heap.reclaimThread(tid);
    heap.check();
    verify(heap, handed, 40);
    assert.equal(heap.stats().inUseBlocks, handed.length + lost);
    // What reclaim gave back is handed out once: new blocks never overlap the live ones.
    const mine = fill(heap, 600, 40);
    verify(heap, handed, 40);
    verify(heap, mine, 40);
    for (const p of [...handed, ...mine]) heap.free(p);
    heap.check();
    assert.equal(heap.stats().inUseBlocks, lost);
  });
}

deathInList('nothing interrupted', () => 0);
deathInList('a push: the block linked and marked, the list word not yet changed', (a, list) => {
  const p = a.malloc(40);
  a.i32[p >>> 2] = a.i32[list + L_HEAD]!;
  a.i32[(p >>> 2) + MARK_WORD] = p ^ a.markKey;
  return 1;
});
deathInList('a pop: the list word changed, the block not yet handed out', (a, list) => {
  const p = listFirst(a.i32[list + L_HEAD]!);
  a.i32[list + L_HEAD] = a.i32[p >>> 2]!;
  return 1;
});
deathInList('a flush: a block popped, not yet given back to its slab', (a, list) => {
  const p = listFirst(a.i32[list + L_HEAD]!);
  a.i32[list + L_HEAD] = a.i32[p >>> 2]!;
  const q = listFirst(a.i32[list + L_HEAD]!);
  a.i32[list + L_HEAD] = a.i32[q >>> 2]!;
  a.free(p); // given back before the kill (the list is not full: p goes back on it)
  return 1;
});
deathInList("a stray write into a listed block's link: the rest of the list is leaked, never handed out twice", (a, list) => {
  let p = listFirst(a.i32[list + L_HEAD]!);
  for (let k = 0; k < 9; k++) p = listFirst(a.i32[p >>> 2]!);
  let after = 0;
  for (let q = listFirst(a.i32[p >>> 2]!); q !== 0; q = listFirst(a.i32[q >>> 2]!)) after++;
  a.i32[p >>> 2] = 12345 << 1; // not a block
  return after;
});
deathInList("a listed block's marker overwritten: the list is cut there", (a, list) => {
  let p = listFirst(a.i32[list + L_HEAD]!);
  for (let k = 0; k < 4; k++) p = listFirst(a.i32[p >>> 2]!);
  let from = 0;
  for (let q = p; q !== 0; q = listFirst(a.i32[q >>> 2]!)) from++;
  a.i32[(p >>> 2) + MARK_WORD] = 0;
  return from;
});
