/**
 * Issue 11: heap views (heap.u8 ... heap.u64) and the view generation. Timing is the bench's job
 * (bench/synthetic views rows); these tests check the rule users rely on: a view fetched while
 * heap.generation has a value covers every block handed out while it keeps that value, for every
 * memory kind; the getters rebuild after growth here, in another thread (once synchronised), and
 * after a non-shared WebAssembly.Memory was grown from outside (its old buffer detached).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHeap, type Heap } from '../src/index.ts';
import { tsWorker } from './helpers/workers.ts';

const MiB = 1024 * 1024;

const VIEWS = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'f64', 'i64', 'u64'] as const;

interface Kind {
  name: string;
  make(): Heap;
  grows: boolean;
}

const KINDS: Kind[] = [
  { name: "'shared'", make: () => createHeap({ maxBytes: 16 * MiB }), grows: true },
  { name: "'array'", make: () => createHeap({ memory: 'array', maxBytes: 16 * MiB }), grows: true },
  {
    name: 'WebAssembly.Memory (not shared)',
    make: () => createHeap({ memory: new WebAssembly.Memory({ initial: 1, maximum: 256 }) }),
    grows: true,
  },
  {
    name: 'WebAssembly.Memory (shared)',
    make: () => createHeap({ memory: new WebAssembly.Memory({ initial: 1, maximum: 256, shared: true }) }),
    grows: true,
  },
  { name: 'fixed ArrayBuffer', make: () => createHeap({ memory: new ArrayBuffer(16 * MiB) }), grows: false },
  {
    name: 'fixed SharedArrayBuffer region',
    make: () => createHeap({ memory: new SharedArrayBuffer(17 * MiB), start: 200_000, end: 16 * MiB }),
    grows: false,
  },
];

describe('views and the view generation', () => {
  for (const kind of KINDS) {
    test(`${kind.name}: a view fetched at a generation covers every block handed out at that generation`, () => {
      const h = kind.make();
      let gen = h.generation;
      let u8 = h.u8;
      let changes = 0;
      const blocks: number[] = [];
      let s = 12345;
      for (let i = 0; i < 4000; i++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        const size = (s & 7) === 0 ? 8192 + (s & 0xffff) : 16 + (s & 0x3ff);
        const p = h.malloc(size);
        if (p === 0) break;
        blocks.push(p);
        if (h.generation !== gen) {
          changes++;
          gen = h.generation;
          u8 = h.u8;
        }
        // The cached view covers the block: writes land, reads see them.
        assert.ok(p + size <= u8.length, `block ${p}+${size} past a view of ${u8.length} bytes at generation ${gen}`);
        u8[p] = 0x5a;
        u8[p + size - 1] = 0xa5;
        assert.equal(h.u8[p], 0x5a);
        assert.equal(h.u8[p + size - 1], 0xa5);
      }
      if (kind.grows) assert.ok(changes > 0, 'the heap grew, so the generation changed');
      else assert.equal(changes, 0, 'a fixed memory never changes the generation');
      // Unchanged generation: the getters return the same objects (nothing is allocated per access).
      for (const v of VIEWS) assert.equal(h[v], h[v], `heap.${v} is the same object while the generation holds`);
      for (const v of VIEWS) {
        const view = h[v];
        assert.equal(view.buffer, h.buffer, `heap.${v} views the heap's current buffer`);
        assert.equal(view.byteOffset, 0);
        assert.ok(view.byteLength >= h.stats().heapBytes, `heap.${v} covers the heap`);
      }
      for (const p of blocks) h.free(p);
      h.check();
    });
  }

  test('a non-shared WebAssembly.Memory grown from outside: the getters rebuild on a detached buffer', () => {
    const mem = new WebAssembly.Memory({ initial: 2, maximum: 64 });
    const h = createHeap({ memory: mem });
    const p = h.malloc(64);
    h.u8[p] = 7;
    const old = h.u8;
    mem.grow(1); // detaches the old buffer, as wasm code calling memory.grow would
    assert.equal(old.length, 0);
    for (const v of VIEWS) assert.ok(h[v].length > 0, `heap.${v} after the memory grew is not detached`);
    assert.equal(h.u8[p], 7);
    assert.equal(h.u8.buffer, mem.buffer);
    h.free(p);
    h.check();
  });

  test('another thread grows the heap: after synchronising, this thread reads its blocks through the getters', async () => {
    const h = createHeap({ initialBytes: 65536 });
    const gen0 = h.generation;
    const u8Before = h.u8;
    const w = tsWorker(new URL('./helpers/views-worker.ts', import.meta.url), h.handle);
    try {
      const msg = await new Promise<{ ptrs: number[]; size: number; error?: string }>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      if (msg.error) assert.fail(msg.error);
      assert.notEqual(h.generation, gen0, 'the worker grew the heap: the generation moved');
      let beyond = 0;
      for (let k = 0; k < msg.ptrs.length; k++) {
        const p = msg.ptrs[k]!;
        if (p + msg.size > u8Before.length) beyond++;
        // No explicit refresh: the getter sees the new generation and rebuilds.
        assert.equal(h.u8[p], k & 0xff, `first byte of the worker's block ${k}`);
        assert.equal(h.u8[p + msg.size - 1], (k * 7) & 0xff, `last byte of the worker's block ${k}`);
        assert.equal(h.i32[(p + 4) >> 2], k, `word of the worker's block ${k}`);
        assert.equal(h.f64[(p + 8) >> 3], k / 4);
      }
      assert.ok(beyond > 0, "some of the worker's blocks lie past the views this thread had before");
      for (const p of msg.ptrs) h.free(p); // remote frees of the worker's blocks
      w.postMessage('done');
      await new Promise((resolve) => w.once('exit', resolve));
      h.check();
    } finally {
      await w.terminate();
    }
  });
});
