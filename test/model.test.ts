/**
 * Model-based tests: random sequences of malloc/calloc/realloc/alignedAlloc/free over every tier
 * (sizes 0 .. 3 MiB, alignments 1 .. 1 MiB), each checked against the model in test/helpers/model.ts
 * (no overlap, alignment, usableSize, contents kept until free and across realloc, calloc zeroed,
 * stats().inUseBlocks / inUseBytes, heap.check()).
 *
 * - fast-check properties over generated operation arrays, check() after every operation;
 * - (long seeded runs, >= 200k operations: model-long.test.ts, outside npm run test:quick);
 * - heaps with a small maxBytes, where allocations fail: a 0 result leaves the model unchanged, and
 *   once the blocks are freed, the request that failed succeeds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createHeap, SIZE_CLASSES } from '../src/index.ts';
import { Model, describeOp, footprint, recover, type Op } from './helpers/model.ts';

let totalOps = 0;

// ------------------------------------------------------------------ generated operations

const sizeArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 60, arbitrary: fc.integer({ min: 0, max: 1024 }) },
  {
    weight: 10, // a class boundary -1, +0, +1
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: SIZE_CLASSES.length - 1 }), fc.integer({ min: -1, max: 1 }))
      .map(([c, d]) => SIZE_CLASSES[c]! + d),
  },
  { weight: 20, arbitrary: fc.integer({ min: 1025, max: 32768 }) },
  { weight: 10, arbitrary: fc.integer({ min: 32769, max: 3 << 20 }) },
);

const alignArb = fc
  .oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 12 }) }, { weight: 2, arbitrary: fc.integer({ min: 13, max: 20 }) })
  .map((e) => 2 ** e);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 30, arbitrary: sizeArb.map((size): Op => ({ kind: 'malloc', size })) },
  {
    weight: 10,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 16 }), sizeArb)
      .map(([count, total]): Op => ({ kind: 'calloc', count, size: count === 0 ? total : Math.floor(total / count) })),
  },
  {
    weight: 15,
    arbitrary: fc
      .tuple(fc.nat(), fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 19, arbitrary: sizeArb }))
      .map(([pick, size]): Op => ({ kind: 'realloc', pick, size })),
  },
  { weight: 10, arbitrary: fc.tuple(alignArb, sizeArb).map(([alignment, size]): Op => ({ kind: 'aligned', alignment, size })) },
  { weight: 35, arbitrary: fc.nat().map((pick): Op => ({ kind: 'free', pick })) },
);

/** Operation lists that once found bugs (or are likely to); fast-check runs them first. */
const EXAMPLES: Op[][] = [
  // alignedAlloc(a, 0) where the padded request is exactly a class size: the aligned pointer can be the next block
  [
    { kind: 'aligned', alignment: 32, size: 0 },
    { kind: 'aligned', alignment: 32, size: 0 },
    { kind: 'aligned', alignment: 32, size: 0 },
    { kind: 'malloc', size: 16 },
  ],
  // an aligned small block: its usableSize is less than its class size
  [
    { kind: 'malloc', size: 16 },
    { kind: 'aligned', alignment: 64, size: 100 },
  ],
  // dirty reuse by calloc, small and large
  [
    { kind: 'malloc', size: 100 },
    { kind: 'free', pick: 0 },
    { kind: 'calloc', count: 4, size: 25 },
  ],
  [
    { kind: 'malloc', size: 300000 },
    { kind: 'free', pick: 0 },
    { kind: 'calloc', count: 3, size: 100000 },
  ],
  // small -> large -> small
  [
    { kind: 'malloc', size: 1000 },
    { kind: 'realloc', pick: 0, size: 100000 },
    { kind: 'realloc', pick: 0, size: 500 },
  ],
];

function runOps(ops: Op[], maxBytes: number | undefined): void {
  const capped = maxBytes !== undefined;
  const heap = createHeap({ maxBytes: maxBytes ?? 512 << 20 });
  const m = new Model(heap, { checkEvery: 1, capped });
  const failed: Op[] = [];
  ops.forEach((op, i) => {
    try {
      const f = m.apply(op);
      if (f !== undefined) failed.push(f);
    } catch (e) {
      throw new Error(`operation ${i} ${describeOp(op)}: ${(e as Error).message}`, { cause: e });
    }
  });
  totalOps += m.ops;
  // Recovery: with every block freed, each request that failed fits (if it needs at most half the heap).
  if (capped) {
    for (const f of failed) if (footprint(f) <= maxBytes / 2 - 131072) recover(m, f, `retrying ${describeOp(f)}`);
  }
  m.drain();
  m.audit();
}

test('model: generated operation sequences, check() after every operation', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 50, size: 'max' }), (ops) => runOps(ops, undefined)),
    {
      seed: 20240601,
      numRuns: 300,
      examples: EXAMPLES.map((ops) => [ops]),
    },
  );
});

test('model: generated sequences on a 6 MiB heap: failures change nothing, freeing makes room again', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 80, size: 'max' }), (ops) => runOps(ops, 6 << 20)),
    {
      seed: 7061,
      numRuns: 150,
    },
  );
});

test('model: the properties ran at least 10k operations (the long seeded runs: model-long.test.ts)', (t) => {
  t.diagnostic(`${totalOps} operations in all`);
  assert.ok(totalOps >= 10_000, `only ${totalOps} operations ran`);
});
