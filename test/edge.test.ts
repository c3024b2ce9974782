/**
 * Edge cases of the public API: size-class boundaries, malloc(0), calloc overflow and zeroing of
 * reused memory, realloc (in place, across tiers, 0 arguments), alignedAlloc for every power of two,
 * growth and exhaustion of every memory kind, bad arguments and bad pointers (typed errors, the heap
 * stays intact), heap.array(), fill/free cycles that must not grow the heap, stats() sanity.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attachHeap,
  createHeap,
  DoubleFreeError,
  HakmemError,
  HeapExhaustedError,
  InvalidFreeError,
  SIZE_CLASSES,
  type Heap,
  type HeapOptions,
} from '../src/index.ts';
import { H_NULL_LEAF, headerPages, K_CACHED_HEAD, K_FREE_BODY, K_FREE_HEAD, K_FREE_TAIL, KIND_MASK, PAGE } from '../src/layout.ts';
import { getEntry } from '../src/pages.ts';

const KiB = 1024;
const MiB = 1024 * 1024;

// ------------------------------------------------------------------ helpers

function pat(seed: number, i: number): number {
  return 1 + ((seed + i * 13) % 255);
}

/** Writes a pattern over n bytes at p (every byte up to 64 KiB, else the edges and two bytes per page). */
function fill(h: Heap, p: number, n: number, seed: number): void {
  const u8 = h.u8;
  if (n <= 64 * KiB) {
    for (let i = 0; i < n; i++) u8[p + i] = pat(seed, i);
    return;
  }
  for (const i of sampleOffsets(n)) u8[p + i] = pat(seed, i);
}

/** Checks the bytes fill(h, p, n, seed) wrote, below `upTo` (after a realloc that kept only a prefix). */
function expectFilled(h: Heap, p: number, n: number, seed: number, what = `block ${p}`, upTo = n): void {
  const u8 = h.u8;
  const offsets = n <= 64 * KiB ? Array.from({ length: Math.min(n, upTo) }, (_, i) => i) : sampleOffsets(n).filter((i) => i < upTo);
  for (const i of offsets) {
    if (u8[p + i] !== pat(seed, i)) assert.fail(`${what}: byte ${i} of ${n} is ${u8[p + i]}, expected ${pat(seed, i)}`);
  }
}

function sampleOffsets(n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(64, n); i++) out.push(i);
  for (let i = Math.max(64, n - 64); i < n; i++) out.push(i);
  for (let i = 4096; i < n - 64; i += 4096) out.push(i - 1, i);
  return out;
}

function expectZero(h: Heap, p: number, n: number): void {
  const u8 = h.u8;
  for (let i = 0; i < n; i++) if (u8[p + i] !== 0) assert.fail(`byte ${i} of the ${n}-byte calloc block ${p} is ${u8[p + i]}, not 0`);
}

/** The heap passes check() and still allocates and frees. */
function expectIntact(h: Heap): void {
  h.check();
  const p = h.malloc(100);
  assert.ok(p > 0 && p % 16 === 0, `malloc(100) after the error returned ${p}`);
  fill(h, p, 100, 7);
  const q = h.malloc(50000);
  assert.ok(q > 0, `malloc(50000) after the error returned ${q}`);
  h.free(p);
  h.free(q);
  h.check();
}

type ErrorClass = new (...args: never[]) => Error;

/** fn throws an instance of `type` whose message contains `text`. */
function expectError(fn: () => unknown, type: ErrorClass, text: string, what: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) assert.fail(`${what}: no error thrown`);
  assert.ok(thrown instanceof type, `${what}: threw ${String(thrown)}, expected a ${type.name}`);
  assert.ok((thrown as Error).message.includes(text), `${what}: the message "${(thrown as Error).message}" does not name ${text}`);
}

/** Live usable ranges of the blocks do not overlap. */
function expectDisjoint(h: Heap, ptrs: number[]): void {
  const r = ptrs.map((p) => [p, p + h.usableSize(p)] as const).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < r.length; i++) {
    assert.ok(r[i - 1]![1] <= r[i]![0], `blocks [${r[i - 1]}) and [${r[i]}) overlap`);
  }
}

function heapBytes(h: Heap): number {
  return h.stats().heapBytes; // from the heap's start (its region's start for start/end heaps) to its frontier
}

function pageKind(h: Heap, ptr: number): number {
  return getEntry(h, Math.floor(ptr / PAGE)) & KIND_MASK;
}

// ------------------------------------------------------------------ size classes

describe('size classes', () => {
  test('the class table is sorted, 16-byte granular and ends at 32 KiB', () => {
    assert.ok(SIZE_CLASSES.length > 8);
    SIZE_CLASSES.forEach((s, i) => {
      assert.equal(s % 16, 0, `class ${s}`);
      if (i > 0) assert.ok(s > SIZE_CLASSES[i - 1]!, `class ${s} after ${SIZE_CLASSES[i - 1]}`);
    });
    assert.equal(SIZE_CLASSES[0], 16);
    assert.equal(SIZE_CLASSES[SIZE_CLASSES.length - 1], 32768);
  });

  test('s-1, s and s+1 for every class size s: aligned, usableSize >= size, usableSize(malloc(s)) === s', () => {
    const h = createHeap();
    const live: { p: number; n: number }[] = [];
    for (const s of SIZE_CLASSES) {
      for (const size of [s - 1, s, s + 1]) {
        const p = h.malloc(size);
        assert.ok(p > 0 && p % 16 === 0, `malloc(${size}) = ${p}`);
        const u = h.usableSize(p);
        assert.ok(u >= size, `usableSize(malloc(${size})) = ${u}`);
        if (size === s) assert.equal(u, s, `usableSize(malloc(${s}))`);
        fill(h, p, u, size);
        live.push({ p, n: size });
      }
    }
    expectDisjoint(
      h,
      live.map((b) => b.p),
    );
    for (const b of live) expectFilled(h, b.p, h.usableSize(b.p), b.n);
    const s = h.stats();
    assert.equal(s.inUseBlocks, live.length);
    h.check();
    for (const b of live) h.free(b.p);
    assert.equal(h.stats().inUseBlocks, 0);
    h.check();
  });

  test('32768 is a slab block, 32769 a page-granular large block', () => {
    const h = createHeap();
    assert.equal(h.usableSize(h.malloc(32768)), 32768);
    const p = h.malloc(32769);
    assert.equal(p % PAGE, 0);
    assert.equal(h.usableSize(p), 9 * PAGE);
    assert.equal(h.stats().large.blocks, 1);
    h.check();
  });
});

// ------------------------------------------------------------------ malloc(0)

test('malloc(0) returns unique, aligned, freeable pointers', () => {
  const h = createHeap();
  const ptrs = Array.from({ length: 1000 }, () => h.malloc(0));
  assert.equal(new Set(ptrs).size, ptrs.length, 'malloc(0) returned a pointer twice');
  for (const p of ptrs) assert.ok(p > 0 && p % 16 === 0 && h.usableSize(p) >= 0, `malloc(0) = ${p}`);
  expectDisjoint(h, ptrs);
  assert.equal(h.stats().inUseBlocks, 1000);
  for (const p of ptrs) h.free(p);
  assert.equal(h.stats().inUseBlocks, 0);
  expectError(() => h.free(ptrs[0]!), DoubleFreeError, String(ptrs[0]), 'second free of a malloc(0) block');
  expectIntact(h);
});

// ------------------------------------------------------------------ calloc

describe('calloc', () => {
  test("count * size beyond the heap limit returns 0 (C's NULL), the heap intact", () => {
    const h = createHeap();
    for (const [c, s] of [
      [65536, 65536],
      [2 ** 31, 2],
      [(1 << 30) + 1, 1],
      [1, (1 << 30) + 1],
      [2 ** 32 - 1, 2 ** 32 - 1],
      [3, 400 * MiB],
    ]) {
      assert.equal(h.calloc(c!, s!), 0, `calloc(${c}, ${s})`);
    }
    expectIntact(h);
  });

  test('zero-length calloc returns a unique pointer', () => {
    const h = createHeap();
    const a = h.calloc(0, 100);
    const b = h.calloc(100, 0);
    const c = h.calloc(0, 0);
    assert.ok(a > 0 && b > 0 && c > 0);
    assert.equal(new Set([a, b, c]).size, 3);
    for (const p of [a, b, c]) h.free(p);
    h.check();
  });

  test('memory reused from freed (dirty) blocks reads zero: every class and large blocks', () => {
    const h = createHeap();
    for (const n of [...SIZE_CLASSES, 40000, 300000, 2 * MiB]) {
      const dirty = Array.from({ length: 8 }, () => h.malloc(n));
      for (const p of dirty) h.u8.fill(0xa5, p, p + h.usableSize(p));
      for (const p of dirty) h.free(p);
      const again = Array.from({ length: 8 }, (_, i) => h.calloc(i % 2 === 0 ? 1 : n, i % 2 === 0 ? n : 1));
      assert.ok(
        again.some((p) => dirty.includes(p)),
        `calloc(${n}) never reused a freed block, so this checks nothing`,
      );
      for (const p of again) expectZero(h, p, n);
      for (const p of again) h.free(p);
    }
    h.check();
  });

  test('the pages a large block gives back when it shrinks in place are zeroed by calloc', () => {
    const h = createHeap();
    const big = h.malloc(1 * MiB);
    h.malloc(100); // keeps the tail from being the frontier
    h.u8.fill(0x5a, big, big + MiB);
    assert.equal(h.realloc(big, 64 * KiB), big);
    const z = Array.from({ length: 8 }, () => h.calloc(1, 100 * KiB));
    assert.ok(
      z.some((p) => p > big && p < big + MiB),
      'no calloc block landed in the freed tail, so this checks nothing',
    );
    for (const p of z) expectZero(h, p, 100 * KiB);
    h.check();
  });
});

// ------------------------------------------------------------------ realloc

describe('realloc', () => {
  test('within the same class it returns the same pointer', () => {
    const h = createHeap();
    for (let k = 1; k < SIZE_CLASSES.length; k++) {
      const s = SIZE_CLASSES[k]!;
      const lo = SIZE_CLASSES[k - 1]! + 1;
      const p = h.malloc(s);
      fill(h, p, lo, k);
      assert.equal(h.realloc(p, lo), p, `realloc(malloc(${s}), ${lo})`);
      assert.equal(h.realloc(p, s), p, `realloc(p, ${s})`);
      expectFilled(h, p, lo, k);
    }
    h.check();
  });

  test('grows and shrinks across classes keeping the contents', () => {
    const h = createHeap();
    let p = h.malloc(20);
    fill(h, p, 20, 1);
    let n = 20;
    for (const size of [100, 1000, 5000, 32768, 700, 40, 3000]) {
      const q = h.realloc(p, size);
      assert.ok(q > 0 && h.usableSize(q) >= size);
      expectFilled(h, q, Math.min(n, size), 1, `after realloc to ${size}`);
      fill(h, q, size, 1);
      p = q;
      n = size;
    }
    h.check();
  });

  test('small -> large -> small keeps the contents', () => {
    const h = createHeap();
    const p = h.malloc(1000);
    fill(h, p, 1000, 3);
    const q = h.realloc(p, 3 * MiB);
    assert.ok(q > 0 && q % PAGE === 0 && h.usableSize(q) >= 3 * MiB);
    expectFilled(h, q, 1000, 3);
    fill(h, q, 3 * MiB, 4);
    const r = h.realloc(q, 500);
    assert.ok(r > 0 && h.usableSize(r) < PAGE, 'a 500-byte block is a slab block');
    expectFilled(h, r, 3 * MiB, 4, 'after realloc to 500', 500);
    assert.equal(h.stats().large.blocks, 0);
    assert.equal(h.stats().inUseBlocks, 1);
    h.check();
  });

  test('a large block shrinks in place and gives its tail back', () => {
    const h = createHeap();
    const p = h.malloc(2 * MiB);
    fill(h, p, 2 * MiB, 5);
    assert.equal(h.realloc(p, 100 * KiB), p);
    assert.equal(h.usableSize(p), 100 * KiB);
    expectFilled(h, p, 2 * MiB, 5, 'after shrinking', 100 * KiB);
    assert.equal(h.stats().inUseBytes, 100 * KiB);
    h.check();
  });

  test('a large block grows in place into free pages after it', () => {
    const h = createHeap();
    const p = h.malloc(400 * KiB);
    const guard = h.malloc(40 * KiB);
    assert.ok(guard > p);
    fill(h, p, 100 * KiB, 6);
    assert.equal(h.realloc(p, 100 * KiB), p); // frees 300 KiB after p
    assert.equal(h.realloc(p, 300 * KiB), p, 'grow into the free run after the block');
    assert.equal(h.realloc(p, 400 * KiB), p, 'grow into all of it');
    expectFilled(h, p, 100 * KiB, 6);
    h.check();
  });

  test('a large block at the frontier grows in place', () => {
    const h = createHeap();
    const p = h.malloc(100 * KiB);
    fill(h, p, 100 * KiB, 7);
    assert.equal(h.realloc(p, 3 * MiB), p);
    expectFilled(h, p, 100 * KiB, 7);
    h.check();
  });

  test('a large block grows in place over the block after it once that is freed', () => {
    const h = createHeap();
    const a = h.malloc(100 * KiB);
    const b = h.malloc(100 * KiB);
    const c = h.malloc(100 * KiB);
    assert.ok(a < b && b < c && b === a + 100 * KiB, 'three adjacent blocks');
    fill(h, a, 100 * KiB, 8);
    h.free(b);
    assert.equal(h.realloc(a, 200 * KiB), a, 'the freed neighbour is free space: realloc should grow in place');
    expectFilled(h, a, 100 * KiB, 8);
    h.check();
  });

  test('realloc(0, n) is malloc(n)', () => {
    const h = createHeap();
    const ptrs = [0, 1, 100, 5000, 100 * KiB].map((n) => {
      const p = h.realloc(0, n);
      assert.ok(p > 0 && p % 16 === 0 && h.usableSize(p) >= n, `realloc(0, ${n}) = ${p}`);
      return p;
    });
    assert.equal(new Set(ptrs).size, ptrs.length);
    assert.equal(h.stats().inUseBlocks, ptrs.length);
    for (const p of ptrs) h.free(p);
    h.check();
  });

  test('realloc(p, 0) frees p and returns 0', () => {
    const h = createHeap();
    for (const n of [1, 100, 5000, 100 * KiB]) {
      const p = h.malloc(n);
      assert.equal(h.realloc(p, 0), 0);
      assert.equal(h.stats().inUseBlocks, 0);
      expectError(() => h.free(p), DoubleFreeError, String(p), `free after realloc(${p}, 0)`);
    }
    expectIntact(h);
  });
});

// ------------------------------------------------------------------ alignedAlloc

describe('alignedAlloc', () => {
  const ALIGNMENTS = [...Array.from({ length: 21 }, (_, e) => 2 ** e), 2 * MiB, 4 * MiB];
  const SIZES = [0, 1, 16, 100, 1000, 5000, 40000, 200000];

  test('every power of two 1 .. 4 MiB, small and large sizes: aligned, disjoint, contents kept', () => {
    const h = createHeap();
    const live: { p: number; size: number; a: number }[] = [];
    for (const a of ALIGNMENTS) {
      for (const size of SIZES) {
        const p = h.alignedAlloc(a, size);
        assert.ok(p > 0 && p % a === 0 && p % 16 === 0, `alignedAlloc(${a}, ${size}) = ${p}`);
        assert.ok(h.usableSize(p) >= size, `usableSize(alignedAlloc(${a}, ${size}))`);
        fill(h, p, h.usableSize(p), live.length);
        live.push({ p, size, a });
      }
    }
    assert.equal(new Set(live.map((b) => b.p)).size, live.length, 'a pointer was handed out twice');
    expectDisjoint(
      h,
      live.map((b) => b.p),
    );
    live.forEach((b, i) => expectFilled(h, b.p, h.usableSize(b.p), i, `alignedAlloc(${b.a}, ${b.size})`));
    h.check();
    const s = h.stats();
    assert.equal(s.inUseBlocks, live.length);
    assert.equal(
      s.inUseBytes,
      live.reduce((t, b) => t + h.usableSize(b.p), 0),
      'inUseBytes = the sum of usableSize',
    );
    for (const b of live) h.free(b.p);
    assert.equal(h.stats().inUseBlocks, 0);
    expectIntact(h);
  });

  test('alignedAlloc(a, 0) for small a: distinct blocks that do not overlap later mallocs', () => {
    for (const a of [32, 64, 128, 256, 1024, 2048, 4096]) {
      const h = createHeap();
      const ptrs = Array.from({ length: 40 }, () => h.alignedAlloc(a, 0));
      assert.equal(new Set(ptrs).size, ptrs.length, `alignedAlloc(${a}, 0) returned a pointer twice`);
      const more = Array.from({ length: 40 }, () => h.malloc(a - 16));
      expectDisjoint(h, [...ptrs, ...more]);
      h.check();
    }
  });

  test('aligned blocks realloc and free like any other', () => {
    const h = createHeap();
    for (const a of [64, 4096, 64 * KiB]) {
      const p = h.alignedAlloc(a, 200);
      fill(h, p, 200, a);
      const q = h.realloc(p, 70000);
      expectFilled(h, q, 200, a);
      h.free(q);
      const r = h.alignedAlloc(a, 100);
      expectError(() => h.free(r + 16), InvalidFreeError, String(r + 16), 'interior pointer of an aligned block');
      h.free(r);
      // An aligned pointer inside a block cannot be told from an interior pointer once freed: either error is fine.
      let thrown: unknown;
      try {
        h.free(r);
      } catch (e) {
        thrown = e;
      }
      assert.ok(
        thrown instanceof DoubleFreeError || thrown instanceof InvalidFreeError,
        `second free of an aligned block threw ${String(thrown)}`,
      );
    }
    expectIntact(h);
  });

  test('bad alignments throw, naming the value', () => {
    const h = createHeap();
    const cases: [unknown, ErrorClass, string][] = [
      [0, RangeError, '0'],
      [3, RangeError, '3'],
      [-8, RangeError, '-8'],
      [1.5, RangeError, '1.5'],
      [NaN, RangeError, 'NaN'],
      ['16', TypeError, '16'],
      [2 ** 31, RangeError, String(2 ** 31)],
      [2 ** 32, RangeError, String(2 ** 32)],
      [undefined, TypeError, 'undefined'],
      [Infinity, RangeError, 'Infinity'],
    ];
    for (const [a, type, text] of cases) expectError(() => h.alignedAlloc(a as number, 64), type, text, `alignedAlloc(${String(a)}, 64)`);
    expectIntact(h);
  });
});

// ------------------------------------------------------------------ memory kinds

interface Kind {
  name: string;
  /** A heap whose memory can reach `cap` bytes (or exactly cap bytes for fixed regions). */
  make(cap: number): { heap: Heap; grows: boolean; outside?: () => void };
}

function fixedRegion(buf: ArrayBuffer | SharedArrayBuffer, cap: number): ReturnType<Kind['make']> {
  const start = 100_000; // rounded up to a page by the heap
  const base = Math.ceil(start / PAGE) * PAGE;
  const end = base + cap;
  new Uint8Array(buf).fill(0xa5);
  const heap = createHeap({ memory: buf, start, end });
  return {
    heap,
    grows: false,
    outside: () => {
      const u8 = new Uint8Array(buf);
      for (let i = 0; i < base; i++) if (u8[i] !== 0xa5) assert.fail(`byte ${i} before the region was written`);
      for (let i = end; i < u8.length; i++) if (u8[i] !== 0xa5) assert.fail(`byte ${i} after the region was written`);
    },
  };
}

const KINDS: Kind[] = [
  { name: "'shared'", make: (cap) => ({ heap: createHeap({ memory: 'shared', maxBytes: cap }), grows: true }) },
  { name: "'array'", make: (cap) => ({ heap: createHeap({ memory: 'array', maxBytes: cap }), grows: true }) },
  {
    name: 'WebAssembly.Memory',
    make: (cap) => ({ heap: createHeap({ memory: new WebAssembly.Memory({ initial: 1, maximum: cap / 65536 }) }), grows: true }),
  },
  {
    name: 'shared WebAssembly.Memory',
    make: (cap) => ({
      heap: createHeap({ memory: new WebAssembly.Memory({ initial: 1, maximum: cap / 65536, shared: true }) }),
      grows: true,
    }),
  },
  {
    name: 'growable SharedArrayBuffer',
    make: (cap) => ({ heap: createHeap({ memory: new SharedArrayBuffer(65536, { maxByteLength: cap }) }), grows: true }),
  },
  {
    name: 'resizable ArrayBuffer',
    make: (cap) => ({ heap: createHeap({ memory: new ArrayBuffer(65536, { maxByteLength: cap }) }), grows: true }),
  },
  { name: 'region of a fixed ArrayBuffer', make: (cap) => fixedRegion(new ArrayBuffer(cap + 400_000), cap) },
  { name: 'region of a fixed SharedArrayBuffer', make: (cap) => fixedRegion(new SharedArrayBuffer(cap + 400_000), cap) },
];

function expectViewsCurrent(h: Heap): void {
  const n = h.byteLength;
  assert.equal(h.buffer.byteLength, n);
  assert.equal(h.u8.length, n, 'heap.u8 covers the buffer');
  assert.equal(h.u8.buffer, h.buffer);
  assert.equal(h.i8.length, n);
  assert.equal(h.u16.length, n >>> 1);
  assert.equal(h.i16.length, n >>> 1);
  assert.equal(h.i32.length, n >>> 2);
  assert.equal(h.u32.length, n >>> 2);
  assert.equal(h.f32.length, n >>> 2);
  assert.equal(h.f64.length, Math.floor(n / 8));
  assert.equal(h.i64.length, Math.floor(n / 8));
  assert.equal(h.u64.length, Math.floor(n / 8));
  assert.equal(h.f64.buffer, h.buffer);
}

describe('memory kinds', () => {
  for (const kind of KINDS) {
    test(`${kind.name}: growth keeps blocks in place and views current`, () => {
      const { heap: h, grows, outside } = kind.make(32 * MiB);
      const blocks: { p: number; n: number }[] = [];
      const size0 = grows ? h.byteLength : heapBytes(h);
      const grown = () => (grows ? h.byteLength : heapBytes(h));
      let growths = 0;
      let last = grown();
      while (grown() < 4 * size0 || growths < 3) {
        const n = blocks.length % 8 === 7 ? 70000 : 3000;
        const p = h.malloc(n);
        assert.ok(p > 0, `malloc(${n}) = ${p} at ${grown()} bytes`);
        fill(h, p, n, blocks.length);
        blocks.push({ p, n });
        if (grown() !== last) {
          growths++;
          last = grown();
          blocks.forEach((b, i) => expectFilled(h, b.p, b.n, i, `block ${i} after growth to ${last}`));
          expectViewsCurrent(h);
          assert.ok(h.u8.length >= blocks[blocks.length - 1]!.p + n);
          h.f64[blocks[blocks.length - 1]!.p / 8] = 1.5; // the newest block through a fresh view
          assert.equal(h.u8[blocks[blocks.length - 1]!.p + 7], 0x3f);
          fill(h, p, n, blocks.length - 1);
        }
      }
      h.check();
      outside?.();
    });

    test(`${kind.name}: at the cap malloc returns 0, the heap keeps working and recovers after frees`, () => {
      const cap = 4 * MiB;
      const { heap: h, grows, outside } = kind.make(cap);
      const n = 60000; // 15 pages
      const big: number[] = [];
      for (let p = h.malloc(n); p !== 0; p = h.malloc(n)) {
        fill(h, p, n, big.length);
        big.push(p);
        assert.ok(big.length < cap / n, 'malloc never returned 0');
      }
      const room = cap - heapBytes(h);
      assert.ok(room < 15 * PAGE + PAGE, `malloc(${n}) returned 0 with ${room} bytes left before the cap`);
      const small: number[] = [];
      for (let p = h.malloc(200); p !== 0; p = h.malloc(200)) {
        small.push(p);
        assert.ok(small.length < cap / 200, 'malloc(200) never returned 0');
      }
      h.check();
      assert.ok(heapBytes(h) <= cap && h.stats().heapHighWater <= cap);
      if (grows) assert.ok(h.byteLength <= cap, `the buffer grew to ${h.byteLength}, past the cap ${cap}`);
      // still usable at the cap: frees, then allocation succeeds again
      big.forEach((p, i) => expectFilled(h, p, n, i));
      for (let i = 0; i < big.length; i += 2) h.free(big[i]!);
      const again = h.malloc(n);
      assert.ok(again > 0, 'malloc after frees');
      const s = h.malloc(200);
      assert.ok(s > 0, 'small malloc after frees');
      h.check();
      for (const p of [...small, s, again]) h.free(p);
      for (let i = 1; i < big.length; i += 2) h.free(big[i]!);
      assert.equal(h.stats().inUseBlocks, 0);
      const half = h.malloc(cap / 2 - 256 * KiB);
      assert.ok(half > 0, 'a block of half the heap after everything was freed');
      h.free(half);
      h.check();
      outside?.();
    });
  }

  test('two heaps in disjoint regions of one buffer do not touch each other', () => {
    const buf = new SharedArrayBuffer(8 * MiB);
    const a = createHeap({ memory: buf, start: 0, end: 4 * MiB, name: 'left' });
    const b = createHeap({ memory: buf, start: 4 * MiB, end: 8 * MiB, name: 'right' });
    const blocks: [Heap, number, number][] = [];
    for (let i = 0; ; i++) {
      const h = i % 2 === 0 ? a : b;
      const n = i % 5 === 4 ? 50000 : 700;
      const p = h.malloc(n);
      if (p === 0) break;
      assert.ok(h === a ? p + n <= 4 * MiB : p >= 4 * MiB, `${h.name} handed out ${p}`);
      fill(h, p, n, i);
      blocks.push([h, p, n]);
    }
    blocks.forEach(([h, p, n], i) => expectFilled(h, p, n, i));
    a.check();
    b.check();
    expectError(() => a.free(blocks[1]![1]), InvalidFreeError, String(blocks[1]![1]), 'a pointer of the other heap');
    expectError(() => a.free(blocks[1]![1]), InvalidFreeError, 'left', 'the heap name in the message');
    for (const [h, p] of blocks) h.free(p);
    assert.equal(a.stats().inUseBlocks + b.stats().inUseBlocks, 0);
    a.check();
    b.check();
  });

  test('a WebAssembly.Memory grown by its owner (not by the heap): the heap keeps working', () => {
    const mem = new WebAssembly.Memory({ initial: 2, maximum: 100 });
    const h = createHeap({ memory: mem });
    const p = h.malloc(16);
    fill(h, p, 16, 1);
    mem.grow(1); // detaches the old buffer, as wasm code calling memory.grow would
    const q = h.malloc(16);
    assert.ok(typeof q === 'number' && q > 0 && q % 16 === 0, `malloc(16) after the memory grew returned ${q}`);
    expectFilled(h, p, 16, 1);
    expectViewsCurrent(h);
    const r = h.calloc(4, 4);
    assert.ok(typeof r === 'number' && r > 0, `calloc after the memory grew returned ${r}`);
    h.free(p);
    h.free(q);
    h.free(r);
    h.check();
  });

  test('a SharedArrayBuffer / ArrayBuffer grown by its owner: the heap keeps working', () => {
    for (const buf of [new SharedArrayBuffer(65536, { maxByteLength: MiB }), new ArrayBuffer(65536, { maxByteLength: MiB })]) {
      const h = createHeap({ memory: buf });
      const p = h.malloc(16);
      if (buf instanceof SharedArrayBuffer) buf.grow(131072);
      else buf.resize(131072);
      const q = h.malloc(16);
      assert.ok(q > 0 && q !== p);
      // The heap did not grow (the owner did), so its generation and views stay: they cover every
      // block, not the owner's new bytes past the heap.
      const top = h.stats().heapBytes;
      for (const v of [h.u8, h.i8, h.u16, h.i16, h.i32, h.u32, h.f32, h.f64, h.i64, h.u64]) {
        assert.ok(v.byteLength >= top && v.buffer === h.buffer, `a ${v.constructor.name} view covers the heap`);
      }
      h.free(p);
      h.free(q);
      h.check();
    }
  });

  test('a WebAssembly.Memory is used up to its maximum', () => {
    for (const blockSize of [50000, 100000, 300000]) {
      const maximum = 256; // 16 MiB
      const mem = new WebAssembly.Memory({ initial: 1, maximum });
      const h = createHeap({ memory: mem });
      let count = 0;
      while (h.malloc(blockSize) !== 0) count++;
      const need = Math.ceil(blockSize / PAGE) * PAGE + PAGE; // the block and maybe a page-map leaf
      const room = maximum * 65536 - heapBytes(h);
      assert.ok(
        room < need,
        `malloc(${blockSize}) returned 0 after ${count} blocks, but the memory can still grow by ${room} bytes ` +
          `(buffer ${mem.buffer.byteLength} of ${maximum * 65536})`,
      );
    }
  });
});

// ------------------------------------------------------------------ page runs

describe('page runs', () => {
  test('malloc does not return 0 while a free run at the frontier can hold the request', () => {
    // Shrinking blocks in place leaves many free runs a little shorter than the request (same size
    // bin), made after a run at the frontier that is long enough.
    for (const [shortRun, want] of [
      [33, 39],
      [65, 79],
    ] as const) {
      const h = createHeap();
      const blocks = Array.from({ length: 40 }, () => h.malloc((9 + shortRun) * PAGE));
      const last = h.malloc((9 + want) * PAGE);
      assert.equal(h.realloc(last, 9 * PAGE), last); // a free run of `want` pages ends at the frontier
      for (const b of blocks) assert.equal(h.realloc(b, 9 * PAGE), b); // 40 shorter free runs
      h.check();
      const p = h.malloc(want * PAGE);
      assert.ok(p > 0, `malloc(${want} pages) returned 0; the heap is ${heapBytes(h)} bytes of 1 GiB, ${h.stats().freeBytes.pages} free`);
      h.check();
    }
  });

  test('a capped heap spends no page on page-map leaves for regions past its cap', () => {
    const cap = 16 * MiB; // regions 0..3 (4 MiB each)
    const h = createHeap({ maxBytes: cap });
    while (h.malloc(1000) !== 0);
    const nullLeaf = h.i32[h.hw + H_NULL_LEAF];
    for (let r = cap / (4 * MiB); r < 8; r++) {
      assert.equal(h.i32[h.topw + r], nullLeaf, `region ${r} (from ${r * 4 * MiB}, past the cap) got a leaf page`);
    }
    h.check();
  });

  test('after everything is freed, a block of half the heap fits again', () => {
    const cap = 16 * MiB;
    const h = createHeap({ maxBytes: cap });
    const ptrs: number[] = [];
    for (let p = h.malloc(1000); p !== 0; p = h.malloc(1000)) ptrs.push(p);
    assert.equal(h.malloc(cap / 2), 0, 'the heap is full');
    for (const p of ptrs) h.free(p);
    const s = h.stats();
    assert.equal(s.inUseBlocks, 0);
    const big = h.malloc(cap / 2);
    assert.ok(big > 0, `malloc(${cap / 2}) returned 0 on an empty heap of ${s.heapBytes} bytes (${s.freeBytes.pages} in free runs)`);
    h.free(big);
    h.check();
  });
});

// ------------------------------------------------------------------ bad input

/** Values that are not valid sizes, with the error expected and the text its message must hold. */
function badSizes(): [unknown, ErrorClass, string][] {
  return [
    [-1, RangeError, '-1'],
    [1.5, RangeError, '1.5'],
    [NaN, RangeError, 'NaN'],
    [Infinity, RangeError, 'Infinity'],
    ['8', TypeError, '8'],
    [undefined, TypeError, 'undefined'],
    [null, TypeError, 'null'],
    [{}, TypeError, 'object'],
    [12n, TypeError, '12n'],
    [2000n, TypeError, '2000n'],
    [2 ** 53, RangeError, String(2 ** 53)],
    [-(2 ** 40), RangeError, String(-(2 ** 40))],
  ];
}

describe('bad input', () => {
  test('bad sizes throw RangeError / TypeError naming the value, for every function taking a size', () => {
    const maxBytes = 16 * MiB;
    const h = createHeap({ maxBytes });
    const keep = h.malloc(300);
    const usable = h.usableSize(keep);
    fill(h, keep, 300, 9);
    const calls: [string, (v: number) => unknown][] = [
      ['malloc(v)', (v) => h.malloc(v)],
      ['calloc(v, 1)', (v) => h.calloc(v, 1)],
      ['calloc(1, v)', (v) => h.calloc(1, v)],
      ['realloc(0, v)', (v) => h.realloc(0, v)],
      ['realloc(p, v)', (v) => h.realloc(keep, v)],
      ['alignedAlloc(64, v)', (v) => h.alignedAlloc(64, v)],
      ['alignedAlloc(8192, v)', (v) => h.alignedAlloc(8192, v)],
      ['array(Uint8Array, p, v)', (v) => h.array(Uint8Array, keep, v)],
    ];
    for (const [name, call] of calls) {
      for (const [v, type, text] of badSizes()) {
        expectError(() => call(v as number), type, text, `${name} with v = ${String(v)}`);
      }
    }
    // Sizes the heap can never hold are not errors: C's NULL (0), the heap and the block intact.
    for (const v of [maxBytes, maxBytes + 1, 2 ** 31, 2 ** 32, 2 ** 40, 2 ** 53 - 1]) {
      assert.equal(h.malloc(v), 0, `malloc(${v})`);
      assert.equal(h.calloc(v, 1), 0, `calloc(${v}, 1)`);
      assert.equal(h.calloc(1, v), 0, `calloc(1, ${v})`);
      assert.equal(h.alignedAlloc(64, v), 0, `alignedAlloc(64, ${v})`);
      assert.equal(h.alignedAlloc(4096, v), 0, `alignedAlloc(4096, ${v})`);
      assert.equal(h.realloc(0, v), 0, `realloc(0, ${v})`);
      assert.equal(h.realloc(keep, v), 0, `realloc(p, ${v}) returns 0 and keeps p`);
      expectError(() => h.mallocOrThrow(v), HeapExhaustedError, String(v), `mallocOrThrow(${v})`);
    }
    expectError(() => h.array(Uint8Array, keep, maxBytes + 1), RangeError, String(maxBytes + 1), 'array longer than its block');
    expectError(() => h.array(Uint8Array, 0, 4), RangeError, 'out of memory', 'array of the pointer a failed malloc returned');
    expectFilled(h, keep, 300, 9);
    expectIntact(h);
    assert.equal(h.usableSize(keep), usable);
  });

  /** A heap with live, freed, released and metadata pointers to aim at. */
  function pointerTargets() {
    const h = createHeap();
    // a slab of 112-byte blocks that is released: fill two slabs' worth, free all; the first slab is not current
    const released = Array.from({ length: 200 }, () => h.malloc(112));
    h.malloc(112); // stays live: its slab stays the current one
    for (const p of released) h.free(p);
    h.trim(); // the thread's list gives them back: the empty first slab goes back to the page pool
    const r0 = released[0]!;
    const small = h.malloc(100); // 112-byte class
    const large = h.malloc(100 * KiB);
    const freedSmall = h.malloc(100);
    h.free(freedSmall);
    const freedLarge = h.malloc(200 * KiB);
    const hugeFreed = h.malloc(8 * MiB);
    h.malloc(40 * KiB);
    h.free(hugeFreed); // too big to cache: back to the free runs
    h.free(freedLarge); // parked in the BigCache
    const isFree = (p: number) => [K_FREE_HEAD, K_FREE_BODY, K_FREE_TAIL].includes(pageKind(h, p));
    assert.ok(isFree(r0) && isFree(released[1]!), 'precondition: the first slab was released');
    assert.ok(isFree(hugeFreed), 'precondition: the 8 MiB block went back to the free runs');
    assert.equal(pageKind(h, freedLarge), K_CACHED_HEAD, 'precondition: the 200 KiB block is in the BigCache');
    fill(h, small, 112, 1);
    fill(h, large, 100 * KiB, 2);
    const end = heapBytes(h);
    const targets: [string, unknown, ErrorClass][] = [
      ['-16', -16, InvalidFreeError],
      ['8', 8, InvalidFreeError],
      ['1.5', 1.5, InvalidFreeError],
      ['NaN', NaN, InvalidFreeError],
      ["'64'", '64', TypeError],
      ['the frontier', end, InvalidFreeError],
      ['beyond the frontier', end + 16 * PAGE, InvalidFreeError],
      ['beyond the buffer', h.byteLength + 65536, InvalidFreeError],
      ['2^31', 2 ** 31, InvalidFreeError],
      ['2^32 + 16', 2 ** 32 + 16, InvalidFreeError],
      ['2^40', 2 ** 40, InvalidFreeError],
      ['inside the header (64)', 64, InvalidFreeError],
      ['inside the header (4096)', 4096, InvalidFreeError],
      ['the first arena page (metadata)', (headerPages(64) + 1) * PAGE, InvalidFreeError],
      ['interior of a small block', small + 16, InvalidFreeError],
      ['interior of a small block (+96)', small + 96, InvalidFreeError],
      ['interior of a large block (+16)', large + 16, InvalidFreeError],
      ['interior of a large block (+4096)', large + PAGE, InvalidFreeError],
      ['a freed small block', freedSmall, DoubleFreeError],
      ['a freed large block (cached)', freedLarge, DoubleFreeError],
      ['a freed large block (released)', hugeFreed, DoubleFreeError],
      ['a block of a released slab', r0, DoubleFreeError],
      ['a block of a released slab (2nd)', released[1]!, DoubleFreeError],
    ];
    return { h, small, large, targets };
  }

  for (const op of ['free', 'realloc', 'usableSize'] as const) {
    test(`${op} of a pointer that is not a live block: typed error naming it, heap intact`, () => {
      const { h, small, large, targets } = pointerTargets();
      h.check();
      const before = h.stats();
      for (const [what, ptr, type] of targets) {
        const call = () =>
          op === 'free' ? h.free(ptr as number) : op === 'realloc' ? h.realloc(ptr as number, 64) : h.usableSize(ptr as number);
        expectError(call, type, String(ptr), `${op}(${what})`);
        h.check();
      }
      const after = h.stats();
      assert.equal(after.inUseBlocks, before.inUseBlocks, 'the errors changed the live blocks');
      assert.equal(after.inUseBytes, before.inUseBytes);
      expectFilled(h, small, 112, 1);
      expectFilled(h, large, 100 * KiB, 2);
      expectIntact(h);
      h.free(small);
      h.free(large);
      h.check();
    });
  }

  test('a pointer into a released slab that never was a block start (its header) is a DoubleFreeError', () => {
    // README: "any pointer into free pages" -> DoubleFreeError ("already freed, or never allocated")
    const { h, targets } = pointerTargets();
    const r0 = targets.find((t) => t[0] === 'a block of a released slab')![1] as number;
    const slabStart = Math.floor(r0 / PAGE) * PAGE;
    for (const call of [() => h.free(slabStart), () => h.realloc(slabStart, 10), () => h.usableSize(slabStart)]) {
      expectError(call, DoubleFreeError, String(slabStart), `pointer ${slabStart} into free pages`);
    }
    expectIntact(h);
  });

  test('the largest heap (maxBytes 2 GiB - 4 KiB) can be filled, verified and freed', () => {
    const max = 2 ** 31 - 4096;
    const h = createHeap({ maxBytes: max });
    assert.equal(h.stats().maxBytes, max);
    const blocks: number[] = [];
    const sizes = [64 * MiB, 4 * MiB, 256 * KiB, 40 * KiB, 1000, 16];
    for (const size of sizes) {
      for (let p = h.malloc(size); p !== 0; p = h.malloc(size)) {
        blocks.push(p, size);
        const u8 = h.u8;
        for (let off = 0; off < size; off += 4096) u8[p + off] = (p >>> 12) & 0xff;
        u8[p + size - 1] = 0x5a;
      }
    }
    const s = h.stats();
    assert.ok(s.heapBytes > max - 8 * MiB, `filled to ${s.heapBytes} of ${max}`);
    assert.ok(
      blocks.every((p) => p > 0 && p < 2 ** 31),
      'every offset is a positive int32',
    );
    const u8 = h.u8;
    for (let i = 0; i < blocks.length; i += 2) {
      const p = blocks[i]!;
      const size = blocks[i + 1]!;
      for (let off = 0; off < size; off += 4096) if (u8[p + off] !== ((p >>> 12) & 0xff)) assert.fail(`block ${p} byte ${off} changed`);
      assert.equal(u8[p + size - 1], 0x5a);
    }
    h.check();
    for (let i = 0; i < blocks.length; i += 2) h.free(blocks[i]!);
    h.check();
    assert.equal(h.stats().inUseBlocks, 0);
  });

  test('bad createHeap options throw, naming the option', () => {
    const cases: [unknown, ErrorClass, string][] = [
      [{ maxBytes: 1000 }, RangeError, 'maxBytes'],
      [{ maxBytes: -1 }, RangeError, 'maxBytes'],
      [{ maxBytes: 1.5 * MiB + 0.5 }, RangeError, 'maxBytes'],
      [{ maxBytes: '1' }, TypeError, 'maxBytes'],
      [{ maxBytes: 2 ** 32 }, RangeError, 'maxBytes'],
      [{ maxBytes: 2 ** 31 }, RangeError, String(2 ** 31 - 4096)],
      [{ maxBytes: 2 ** 31 - 4095 }, RangeError, 'maxBytes'],
      [{ initialBytes: -1 }, RangeError, 'initialBytes'],
      [{ maxThreads: 0 }, RangeError, 'maxThreads'],
      [{ maxThreads: 1e6 }, RangeError, 'maxThreads'],
      [{ start: 'x' }, TypeError, 'start'],
      [{ start: -4096 }, RangeError, 'start'],
      [{ end: NaN }, RangeError, 'end'],
      [{ memory: 'foo' }, TypeError, 'memory'],
      [{ memory: new ArrayBuffer(8192) }, RangeError, 'bytes'],
      [{ memory: new ArrayBuffer(MiB), start: MiB - 8192 }, RangeError, 'bytes'],
      [null, TypeError, 'options'],
      [{ initalBytes: 1 << 20 }, TypeError, 'did you mean initialBytes'],
      [{ maxbytes: 1 << 20 }, TypeError, 'did you mean maxBytes'],
      [{ captureStacks: true }, TypeError, 'captureStacks'], // the debug build's option
    ];
    for (const [opts, type, text] of cases) {
      expectError(() => createHeap(opts as HeapOptions), type, text, `createHeap(${JSON.stringify(opts)})`);
    }
  });

  test('free(0) does nothing; errors are HakmemErrors carrying the pointer', () => {
    const h = createHeap();
    const before = h.stats();
    h.free(0);
    assert.deepEqual(h.stats(), before);
    const p = h.malloc(10);
    h.free(p);
    try {
      h.free(p);
      assert.fail('no error');
    } catch (e) {
      assert.ok(e instanceof DoubleFreeError && e instanceof HakmemError);
      assert.equal(e.ptr, p);
    }
    try {
      h.free(p + 32);
      assert.fail('no error');
    } catch (e) {
      assert.ok(e instanceof InvalidFreeError || e instanceof DoubleFreeError);
      assert.equal((e as InvalidFreeError).ptr, p + 32);
    }
    expectIntact(h);
  });
});

// ------------------------------------------------------------------ heap.array

describe('heap.array', () => {
  test('typed views of one block, checked against usableSize', () => {
    const h = createHeap();
    const p = h.malloc(100); // usable 112
    const f = h.array(Float64Array, p, 14);
    assert.equal(f.length, 14);
    assert.equal(f.byteOffset, p);
    f[13] = 2.5;
    assert.equal(h.f64[p / 8 + 13], 2.5);
    const i = h.array(Int32Array, p, 28);
    i[0] = -7;
    assert.equal(h.i32[p / 4], -7);
    const u = h.array(Uint8Array, p, 112);
    assert.equal(u.length, 112);
    assert.equal(h.array(Float64Array, p, 0).length, 0);
    expectError(() => h.array(Float64Array, p, 15), RangeError, '15', 'Float64Array of 15 in 112 bytes');
    expectError(() => h.array(Uint8Array, p, 113), RangeError, '113', 'Uint8Array of 113 in 112 bytes');
    expectError(() => h.array(Float64Array, p + 4, 1), RangeError, String(p + 4), 'misaligned Float64Array');
    expectError(() => h.array(Int32Array, p + 2, 1), RangeError, String(p + 2), 'misaligned Int32Array');
    const big = h.malloc(100 * KiB);
    assert.equal(h.array(Float64Array, big, (100 * KiB) / 8).length, 12800);
    expectError(() => h.array(Float64Array, big, 12801), RangeError, '12801', 'Float64Array past a large block');
    h.free(p);
    expectError(() => h.array(Float64Array, p, 1), DoubleFreeError, String(p), 'array of a freed block');
    expectIntact(h);
  });
});

// ------------------------------------------------------------------ fill/free cycles

describe('fill/free cycles', () => {
  function cycle(h: Heap, size: number, bytes: number): void {
    const ptrs: number[] = [];
    for (let b = 0; b + size <= bytes; b += size) {
      const p = h.malloc(size);
      assert.ok(p > 0);
      ptrs.push(p);
    }
    for (const p of ptrs) h.free(p);
  }

  test('the same class over and over: the heap never grows after the first cycle', () => {
    const h = createHeap();
    for (const size of [16, 256, 3000, 32768]) {
      cycle(h, size, 4 * MiB);
      const hw = h.stats().heapHighWater;
      for (let i = 0; i < 3; i++) {
        cycle(h, size, 4 * MiB);
        assert.equal(h.stats().heapHighWater, hw, `cycle ${i + 2} of ${size}-byte blocks grew the heap`);
      }
    }
    h.check();
  });

  test('a different class each cycle: empty slabs go back to the shared pool, the heap stays flat', () => {
    const h = createHeap();
    cycle(h, 16, 8 * MiB);
    const hw = h.stats().heapHighWater;
    // Each later cycle holds 3/4 of the first one's bytes, which leaves room for any class's slab waste.
    for (const size of [...SIZE_CLASSES, ...[...SIZE_CLASSES].reverse()]) {
      cycle(h, size, 6 * MiB);
      const s = h.stats();
      assert.equal(
        s.heapHighWater,
        hw,
        `a cycle of ${size}-byte blocks grew the heap from ${hw} to ${s.heapHighWater} (free: ${JSON.stringify(s.freeBytes)})`,
      );
    }
    h.check();
  });

  test("a slab emptied only by another thread's frees goes back to the pool as large blocks come and go", () => {
    // The owner never looks at the class again: only tidySlabs (before page-run allocations) can
    // find the slab empty, through its remote bitmap (the classes it looks at every time are the
    // ones blocks went back to in this thread; all of them every 32nd time).
    // (No thread lists: blocks on this thread's lists would keep the slab's bits set.)
    const base = createHeap().policy();
    const h = createHeap({ policy: { ...base, settings: { ...base.settings, listRoom: 0 } } });
    const other = attachHeap(h.handle);
    const size = 48; // 40 blocks: part of the class's first slab, which stays its current slab
    const cls = SIZE_CLASSES.findIndex((c) => c >= size);
    const ptrs: number[] = [];
    for (let i = 0; i < 40; i++) ptrs.push(h.malloc(size));
    assert.equal(h.stats().classes[cls]!.slabs, 1);
    for (const p of ptrs) other.free(p); // remote frees: this thread's slab is empty, its bits not collected
    h.check();
    // Large blocks of growing sizes: no exact free run, so every one is a page-run allocation that tidies.
    const big: number[] = [];
    for (let i = 0; i < 200 && h.stats().classes[cls]!.slabs > 0; i++) big.push(h.malloc(40 * KiB + i * 4 * KiB));
    assert.equal(h.stats().classes[cls]!.slabs, 0, 'the emptied slab was not released');
    for (const p of big) h.free(p);
    h.check();
    assert.equal(h.stats().inUseBytes, 0);
    other.detach();
  });

  test('slabs and large blocks take turns in the same pages', () => {
    const h = createHeap();
    cycle(h, 100, 4 * MiB);
    const hw = h.stats().heapHighWater;
    for (let i = 0; i < 3; i++) {
      cycle(h, 256 * KiB, 3 * MiB);
      cycle(h, 1000, 3 * MiB);
      assert.equal(h.stats().heapHighWater, hw, `round ${i}`);
    }
    h.check();
  });
});

// ------------------------------------------------------------------ stats

describe('stats', () => {
  function mixed(h: Heap): number[] {
    const ptrs: number[] = [];
    for (let i = 0; i < 300; i++) ptrs.push(h.malloc((i * 7919) % 40000));
    for (let i = 0; i < 20; i++) ptrs.push(h.malloc(50000 + i * 30000));
    for (let i = 0; i < ptrs.length; i += 3) h.free(ptrs[i]!);
    return ptrs.filter((_, i) => i % 3 !== 0);
  }

  test('per-class counts: one slab block of every class, and many of one class', () => {
    const h = createHeap();
    const ptrs = SIZE_CLASSES.map((s) => h.malloc(s));
    for (let i = 0; i < 3000; i++) ptrs.push(h.malloc(16));
    const s = h.stats();
    assert.equal(s.classes.length, SIZE_CLASSES.length);
    s.classes.forEach((c, i) => {
      assert.equal(c.size, SIZE_CLASSES[i]);
      assert.equal(c.inUse, i === 0 ? 3001 : 1, `blocks in use of class ${c.size}`);
      assert.ok(c.slabs >= 1, `slabs of class ${c.size}`);
    });
    assert.equal(s.inUseBlocks, ptrs.length);
    assert.equal(
      s.inUseBytes,
      ptrs.reduce((t, p) => t + h.usableSize(p), 0),
    );
    assert.equal(s.large.blocks, 0);
  });

  test('page accounting adds up and the high-water marks bound the current values', () => {
    const opts: HeapOptions = { maxThreads: 64 };
    const h = createHeap(opts);
    const live = mixed(h);
    const s = h.stats();
    assert.equal(s.inUseBlocks, live.length);
    assert.equal(
      s.inUseBytes,
      live.reduce((t, p) => t + h.usableSize(p), 0),
    );
    assert.ok(s.heapHighWater >= s.heapBytes);
    assert.ok(s.bufferBytes >= s.heapBytes);
    assert.ok(s.peakUsedPagesBytes >= s.usedPagesBytes);
    assert.equal(s.maxBytes, 1 << 30);
    assert.equal(s.heapBytes, (headerPages(64) + 1) * PAGE + s.usedPagesBytes + s.freeBytes.pages + s.freeBytes.bigCache);
    const classInUse = s.classes.reduce((t, c) => t + c.inUse, 0);
    assert.equal(classInUse + s.large.blocks, s.inUseBlocks);
  });

  test('peakUsedPagesBytes is never below usedPagesBytes (also when a cached block is reused)', () => {
    const h = createHeap();
    const b1 = h.malloc(69 * PAGE);
    h.malloc(9 * PAGE);
    const b2 = h.malloc(69 * PAGE);
    h.malloc(9 * PAGE);
    h.realloc(b1, 9 * PAGE); // 60 free pages after b1
    h.realloc(b2, 9 * PAGE); // 60 free pages after b2
    const a = h.malloc(100 * PAGE);
    h.free(a); // parked in the BigCache
    h.malloc(60 * PAGE);
    h.malloc(60 * PAGE);
    h.malloc(100 * PAGE); // reuses a
    const s = h.stats();
    assert.ok(s.peakUsedPagesBytes >= s.usedPagesBytes, `peak ${s.peakUsedPagesBytes} < used ${s.usedPagesBytes}`);
  });

  test('after freeing everything nothing is in use and all memory is free', () => {
    const h = createHeap();
    const live = mixed(h);
    for (const p of live) h.free(p);
    const s = h.stats();
    assert.equal(s.inUseBlocks, 0);
    assert.equal(s.inUseBytes, 0);
    assert.equal(s.large.blocks, 0);
    assert.equal(s.large.bytes, 0);
    for (const c of s.classes) assert.equal(c.inUse, 0, `class ${c.size}`);
    const slabFree = s.classes.reduce((t, c) => t + c.free * c.size, 0);
    assert.equal(s.freeBytes.small + s.freeBytes.mid, slabFree);
    assert.ok(s.freeBytes.pages + s.freeBytes.bigCache > 0);
    assert.ok(s.heapHighWater >= s.heapBytes);
    h.check();
  });
});

// ------------------------------------------------------------------ typed allocation

describe('typed allocation', () => {
  test('mallocArray / callocArray: a view of a fresh block; free(view); HeapExhaustedError when full', () => {
    const h = createHeap({ maxBytes: 4 * MiB });
    const xs = h.mallocArray(Float64Array, 1000);
    assert.ok(xs instanceof Float64Array && xs.length === 1000 && xs.byteOffset % 16 === 0);
    assert.equal(xs.buffer, h.buffer);
    assert.ok(h.usableSize(xs.byteOffset) >= 8000);
    xs.fill(2.5);
    assert.equal(h.f64[(xs.byteOffset >> 3) + 999], 2.5);
    const dirty = h.mallocArray(Int32Array, 64);
    dirty.fill(-1);
    h.free(dirty);
    const zs = h.callocArray(Int32Array, 64); // reuses the dirty block: zeroed anyway
    assert.ok(zs.every((v) => v === 0));
    const empty = h.mallocArray(Uint8Array, 0);
    assert.equal(empty.length, 0);
    h.free(empty);
    const big = h.mallocArray(BigInt64Array, 10);
    big[9] = -7n;
    assert.equal(h.i64[(big.byteOffset >> 3) + 9], -7n);
    expectError(() => h.mallocArray(Float64Array, 1 << 20), HeapExhaustedError, String(8 << 20), 'mallocArray past maxBytes');
    expectError(() => h.mallocArray(Float64Array, -1), RangeError, '-1', 'mallocArray(-1)');
    for (const v of [xs, zs, big]) h.free(v);
    expectError(() => h.free(xs), DoubleFreeError, String(xs.byteOffset), 'free of a freed view');
    const other = new Float64Array(new SharedArrayBuffer(64));
    expectError(() => h.free(other), InvalidFreeError, 'another buffer', 'free of a view of another buffer');
    const q = h.malloc(100);
    h.free(h.array(Uint8Array, q, 100)); // array() of a block's start frees it too
    assert.equal(h.stats().inUseBlocks, 0);
    expectIntact(h);
  });

  test('a free of a never-used block, or of one given back to its slab, is an error (the free-block marker)', () => {
    const h = createHeap();
    const ps = Array.from({ length: 300 }, () => h.malloc(48));
    // Above every block handed out (a refill's blocks go out highest first): on the thread's list or
    // past the bump pointer of the current slab: never handed out.
    const last = Math.max(...ps);
    for (const p of [last + 48, last + 96]) expectError(() => h.free(p), DoubleFreeError, String(p), `free(${p}), never handed out`);
    for (const p of ps) h.free(p);
    h.trim(); // back in their slabs (off the thread's list)
    for (const p of ps.slice(0, 40)) expectError(() => h.free(p), DoubleFreeError, String(p), `free(${p}), freed and given back`);
    expectIntact(h);
  });
});
