// The debug build (hakmem/debug): what it catches and names, leaks(), route counters, and that
// none of it is in the release bundle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  createHeap,
  attachHeap,
  DoubleFreeError,
  HeapOverflowError,
  UseAfterFreeError,
  InvalidFreeError,
  HeapExhaustedError,
} from '../src/debug.ts';
import * as release from '../src/index.ts';
import { runRandom } from './helpers/model.ts';

test('debug: a write past the requested size is a HeapOverflowError at free, realloc and check()', () => {
  for (const size of [1, 10, 16, 100, 1000, 20000, 70000]) {
    const heap = createHeap();
    const p = heap.malloc(size);
    assert.equal(heap.usableSize(p), size);
    heap.u8[p + size] = 0x41; // one byte too far
    assert.throws(() => heap.check(), HeapOverflowError);
    assert.throws(
      () => heap.realloc(p, size * 2),
      (e: unknown) => e instanceof HeapOverflowError && /byte 0|byte \d+ of a/.test(e.message),
    );
    assert.throws(() => heap.free(p), HeapOverflowError);
    heap.u8[p + size] = 0xcb; // repaired: frees normally
    heap.free(p);
    heap.check();
  }
  const heap = createHeap();
  const q = heap.alignedAlloc(256, 40);
  assert.equal(q % 256, 0);
  heap.u8[q + 40] = 1;
  assert.throws(() => heap.free(q), HeapOverflowError);
});

test('debug: a write after free is a UseAfterFreeError when check() runs or the block is reused', () => {
  const heap = createHeap();
  const p = heap.malloc(48);
  heap.free(p);
  heap.check();
  heap.u8[p + 20] = 7; // through a stale pointer
  assert.throws(
    () => heap.check(),
    (e: unknown) => e instanceof UseAfterFreeError && e.message.includes('byte 20'),
  );
  assert.throws(() => heap.malloc(48), UseAfterFreeError); // the block comes back first
});

test('debug: double frees, also across threads, and invalid frees are named', () => {
  const heap = createHeap();
  const p = heap.malloc(40);
  heap.free(p);
  assert.throws(() => heap.free(p), DoubleFreeError);
  assert.throws(
    () => heap.free(p + 16),
    (e: unknown) => e instanceof InvalidFreeError || e instanceof DoubleFreeError,
  );
  assert.throws(() => heap.free(12345 * 16), InvalidFreeError);
  // Freed on a thread that does not own the slab, then by its owner before it collected: the
  // release build cannot see this one; the debug build's poison marker does.
  const a = attachHeap(heap.handle);
  const q = a.malloc(40);
  heap.free(q);
  assert.throws(() => a.free(q), DoubleFreeError);
  heap.check();
});

test('debug: new blocks hold a visible pattern; calloc zeroes; mallocOrThrow names exhaustion', () => {
  const heap = createHeap({ maxBytes: 1 << 20 });
  const p = heap.malloc(64);
  assert.ok(heap.u8.subarray(p, p + 64).every((x) => x === 0xbe));
  const c = heap.calloc(8, 8);
  assert.ok(heap.u8.subarray(c, c + 64).every((x) => x === 0));
  assert.throws(
    () => heap.mallocOrThrow(4 << 20),
    (e: unknown) => e instanceof RangeError || e instanceof HeapExhaustedError,
  );
  const blocks: number[] = [];
  assert.throws(() => {
    for (;;) blocks.push(heap.mallocOrThrow(100000));
  }, HeapExhaustedError);
  for (const b of blocks) heap.free(b);
  heap.free(p);
  heap.free(c);
  heap.check();
});

test('debug: leaks() lists live blocks with size, thread, tag and stack', () => {
  const heap = createHeap({ captureStacks: true });
  const a = heap.mallocTagged(100, 'parser nodes');
  const b = heap.malloc(5000);
  const c = heap.malloc(100000);
  heap.free(heap.malloc(30));
  const leaks = heap.leaks().sort((x, y) => x.ptr - y.ptr);
  assert.deepEqual(
    leaks.map((l) => [l.ptr, l.size, l.thread]),
    [
      [a, 100, 1],
      [b, 5000, 1],
      [c, 100000, 1],
    ].sort((x, y) => x[0]! - y[0]!),
  );
  assert.equal(leaks.find((l) => l.ptr === a)!.tag, 'parser nodes');
  assert.match(leaks.find((l) => l.ptr === b)!.stack ?? '', /debug\.test\.ts/);
  const w = attachHeap(heap.handle);
  const d = w.malloc(10);
  assert.equal(heap.leaks().find((l) => l.ptr === d)!.thread, w.threadId);
  assert.equal(heap.stats().inUseBytes, 100 + 5000 + 100000 + 10);
});

test('debug: route counters show the fast paths taking a steady workload', () => {
  const heap = createHeap();
  const slots = new Int32Array(512);
  let x = 7;
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const k = (x >>> 0) % slots.length;
      if (slots[k] !== 0) {
        heap.free(slots[k]!);
        slots[k] = 0;
      } else slots[k] = heap.malloc(16 + ((x >>> 8) & 127));
    }
  };
  run(20000); // warm-up: slabs made
  const before = heap.stats().routes;
  run(200000);
  const r = heap.stats().routes;
  const mallocs = r.mallocs - before.mallocs;
  const frees = r.frees - before.frees;
  const fastM = (r.mallocFast - before.mallocFast) / mallocs;
  const fastF = (r.freeFast - before.freeFast) / frees;
  assert.ok(fastM > 0.97 && fastF > 0.97, `fast path share: malloc ${fastM}, free ${fastF} (${JSON.stringify(r)})`);
  assert.equal(r.mallocLarge, 0);
  // A remote free and a large block take their own routes.
  const a = attachHeap(heap.handle);
  const p = a.malloc(64);
  const before2 = heap.stats().routes;
  heap.free(p);
  heap.free(heap.malloc(50000));
  const r2 = heap.stats().routes;
  assert.equal(r2.freeRemote - before2.freeRemote, 1);
  assert.equal(r2.freeLarge - before2.freeLarge, 1);
  assert.equal(r2.mallocLarge - before2.mallocLarge, 1);
});

test('debug and release share the heap format: each attaches to a heap the other created', () => {
  const dh = createHeap();
  const r = release.attachHeap(dh.handle);
  const p = dh.malloc(100);
  r.free(p); // release frees a debug block (no checks)
  const q = r.malloc(100);
  r.free(q);
  dh.check();
  const q2 = r.malloc(200); // a release-build block in a debug heap: the debug build frees it, no trailer to check
  dh.free(q2);
  dh.check();
  const rh = release.createHeap();
  const d = attachHeap(rh.handle);
  const b = d.malloc(64);
  rh.free(b);
  const c = rh.malloc(64);
  d.free(c); // debug frees a release block
  d.check();
  rh.check();
  // A heap only the debug build uses still reports a damaged trailer as an overflow.
  const only = createHeap();
  const z = only.malloc(40);
  only.u32[(z + only.usableSize(z) + 8 + 12) >>> 2] ^= 1; // the trailer's magic word
  assert.throws(() => only.free(z), HeapOverflowError);
});

test('model: seeded runs on the debug build (contents, usableSize, stats, check())', () => {
  const s = runRandom({ build: 'debug', seed: 77, ops: 30_000, checkEvery: 2000, liveBytes: 16 << 20, maxLive: 2000 });
  assert.ok(s.ops >= 30_000);
});

test('release bundle: no debug code in dist/index.js or anything it imports', () => {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(new URL(file, new URL('../dist/', import.meta.url)), 'utf8');
    assert.ok(!/DebugHeap|POISON|CANARY|freedMark|captureStacks/.test(src), `${file} holds debug-build code`);
    for (const m of src.matchAll(/from ["']\.\/([\w.-]+)["']/g)) visit(m[1]!);
  };
  visit('index.js');
  assert.ok(seen.size > 5 && !seen.has('debug.js'));
});
