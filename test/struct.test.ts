/**
 * Structs (src/struct.ts): layouts against C's rules (an independent computation for random
 * layouts, and a C compiler's own offsetof/sizeof/_Alignof when `cc` is installed), accessors
 * against the bytes they must touch (DataView), every type's values round-tripped, errors, and the
 * accessors of one view after the heap grew here, grown by a worker, in a worker attached to the
 * heap, and on the debug build. Speed is bench/struct-bench.ts's job.
 *
 * This file is also the worker of the worker test: run as a worker thread, it runs workerMain()
 * instead of registering tests, with the same struct definition (as an application's shared
 * module would).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { attachHeap, createHeap, type Heap, type HeapHandle } from '../src/index.ts';
import * as debug from '../src/debug.ts';
import { defineStruct, type FieldType, type ScalarType, type StructFields } from '../src/struct.ts';
import { tsWorker } from './helpers/workers.ts';

const MiB = 1024 * 1024;
const TYPES: ScalarType[] = ['i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'f32', 'f64', 'i64', 'u64'];
const BYTES: Record<ScalarType, number> = { i8: 1, u8: 1, i16: 2, u16: 2, i32: 4, u32: 4, f32: 4, f64: 8, i64: 8, u64: 8 };

/** The struct of the worker, growth and debug tests: every type, two arrays. */
const Rec = defineStruct({
  next: 'u32',
  a8: 'i8',
  b8: 'u8',
  a16: 'i16',
  b16: 'u16',
  a32: 'i32',
  f: 'f32',
  d: 'f64',
  big: 'i64',
  ubig: 'u64',
  pos: ['f32', 3],
  tag: ['u8', 5],
});

/** Deterministic contents of record k (every field), written and checked by several tests. */
function fillRec(h: Heap, p: number, k: number): void {
  const r = Rec.on(h);
  r.setNext(p, k);
  r.setA8(p, -(k & 127) | 0);
  r.setB8(p, (k * 3) & 255);
  r.setA16(p, -k & 0x7fff);
  r.setB16(p, (k * 7) & 0xffff);
  r.setA32(p, (-k * 1000) | 0);
  r.setF(p, k + 0.5);
  r.setD(p, k / 3);
  r.setBig(p, -BigInt(k) * 10n ** 12n);
  r.setUbig(p, 2n ** 64n - 1n - BigInt(k));
  for (let i = 0; i < 3; i++) r.setPos(p, i, k * 10 + i);
  for (let i = 0; i < 5; i++) r.setTag(p, i, (k + i) & 255);
}

/** Checks record k through the accessors and, independently, through a DataView on the buffer. */
function checkRec(h: Heap, p: number, k: number, what: string): void {
  const r = Rec.on(h);
  const o = Rec.offsets;
  const dv = new DataView(h.buffer as ArrayBuffer);
  const expect: [string, unknown, unknown, unknown][] = [
    ['next', r.next(p), dv.getUint32(p + o.next, true), k],
    ['a8', r.a8(p), dv.getInt8(p + o.a8), -(k & 127) | 0],
    ['b8', r.b8(p), dv.getUint8(p + o.b8), (k * 3) & 255],
    ['a16', r.a16(p), dv.getInt16(p + o.a16, true), -k & 0x7fff],
    ['b16', r.b16(p), dv.getUint16(p + o.b16, true), (k * 7) & 0xffff],
    ['a32', r.a32(p), dv.getInt32(p + o.a32, true), (-k * 1000) | 0],
    ['f', r.f(p), dv.getFloat32(p + o.f, true), Math.fround(k + 0.5)],
    ['d', r.d(p), dv.getFloat64(p + o.d, true), k / 3],
    ['big', r.big(p), dv.getBigInt64(p + o.big, true), -BigInt(k) * 10n ** 12n],
    ['ubig', r.ubig(p), dv.getBigUint64(p + o.ubig, true), 2n ** 64n - 1n - BigInt(k)],
  ];
  for (let i = 0; i < 3; i++) expect.push([`pos[${i}]`, r.pos(p, i), dv.getFloat32(p + o.pos + 4 * i, true), k * 10 + i]);
  for (let i = 0; i < 5; i++) expect.push([`tag[${i}]`, r.tag(p, i), dv.getUint8(p + o.tag + i), (k + i) & 255]);
  for (const [name, viaAccessor, viaDataView, want] of expect) {
    assert.equal(viaAccessor, want, `${what}: record ${k} at ${p}: ${name} read by its accessor`);
    assert.equal(viaDataView, want, `${what}: record ${k} at ${p}: ${name} in the buffer`);
  }
}

// ------------------------------------------------------------------ the worker (this file, as a worker)

interface WorkerIn {
  handle: HeapHandle;
  arr: number;
  count: number;
}
interface WorkerOut {
  ptrs?: number[];
  generationMoved?: boolean;
  error?: string;
}

async function workerMain(): Promise<void> {
  const { handle, arr, count } = workerData as WorkerIn;
  const h = attachHeap(handle);
  const r = Rec.on(h);
  try {
    // The main thread's records, read and changed here.
    for (let k = 0; k < count; k++) checkRec(h, arr + k * Rec.size, k, 'worker reads main');
    for (let k = 0; k < count; k++) {
      const p = arr + k * Rec.size;
      r.setD(p, r.d(p) * 2);
      r.setPos(p, 1, -r.pos(p, 1));
    }
    // Records of its own, enough to grow the heap well past the main thread's views.
    const gen = h.generation;
    const ptrs: number[] = [];
    for (let k = 0; k < 64; k++) {
      const p = Rec.allocArray(h, 500);
      if (p === 0) throw new Error('allocArray returned 0');
      for (let j = 0; j < 500; j += 499) fillRec(h, p + j * Rec.size, 1000 + k * 500 + j);
      ptrs.push(p);
    }
    parentPort!.postMessage({ ptrs, generationMoved: h.generation !== gen } satisfies WorkerOut);
  } catch (e) {
    parentPort!.postMessage({ error: String((e as Error).stack ?? e) } satisfies WorkerOut);
  }
  await new Promise((resolve) => parentPort!.once('message', resolve));
  h.detach();
  parentPort!.close();
}

if (!isMainThread) {
  await workerMain();
} else {
  registerTests();
}

// ------------------------------------------------------------------ tests

/** C's layout rules, computed another way: place each field at the first aligned byte, byte by byte. */
function cLayout(fields: [string, FieldType][]): { offsets: number[]; size: number; align: number } {
  const offsets: number[] = [];
  let at = 0;
  let align = 1;
  for (const [, t] of fields) {
    const [type, n] = typeof t === 'string' ? [t, 1] : [t[0], t[1]];
    const a = BYTES[type];
    while (at % a !== 0) at++;
    offsets.push(at);
    at += a * n;
    align = Math.max(align, a);
  }
  while (at % align !== 0) at++;
  return { offsets, size: at, align };
}

const fieldArb: fc.Arbitrary<FieldType> = fc.oneof(
  fc.constantFrom(...TYPES),
  fc.tuple(fc.constantFrom(...TYPES), fc.integer({ min: 1, max: 9 })).map(([t, n]) => [t, n] as const),
);
const layoutArb = fc.array(fieldArb, { minLength: 1, maxLength: 14 }).map((ts) => ts.map((t, i) => [`f${i}`, t] as [string, FieldType]));

const C_TYPE: Record<ScalarType, string> = {
  i8: 'int8_t',
  u8: 'uint8_t',
  i16: 'int16_t',
  u16: 'uint16_t',
  i32: 'int32_t',
  u32: 'uint32_t',
  f32: 'float',
  f64: 'double',
  i64: 'int64_t',
  u64: 'uint64_t',
};

/** Every value a field of `type` should read back after a write of `input` (typed arrays' conversions). */
function stored(type: ScalarType, input: number | bigint): number | bigint {
  switch (type) {
    case 'i8':
      return (Number(input) << 24) >> 24;
    case 'u8':
      return Number(input) & 0xff;
    case 'i16':
      return (Number(input) << 16) >> 16;
    case 'u16':
      return Number(input) & 0xffff;
    case 'i32':
      return Number(input) | 0;
    case 'u32':
      return Number(input) >>> 0;
    case 'f32':
      return Math.fround(Number(input));
    case 'f64':
      return Number(input);
    case 'i64':
      return BigInt.asIntN(64, BigInt(input));
    case 'u64':
      return BigInt.asUintN(64, BigInt(input));
  }
}

/** Values of every type worth writing: extremes, out-of-range ones that wrap, signs, NaN, infinities, -0. */
const EDGE: Record<ScalarType, (number | bigint)[]> = {
  i8: [0, 1, -1, 127, -128, 128, -129, 255, 300, -300],
  u8: [0, 1, 255, 256, -1, 300],
  i16: [0, -1, 32767, -32768, 32768, 65535, 70000],
  u16: [0, 65535, 65536, -1, 70000],
  i32: [0, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 32 - 1, 123456789],
  u32: [0, 2 ** 32 - 1, 2 ** 32, -1, 2 ** 31, 3000000000],
  f32: [0, -0, 1.1, -2.5, NaN, Infinity, -Infinity, 3.4028234663852886e38, 1e39, 1e-45, -1e-40, 16777217],
  f64: [0, -0, 0.1, -1e308, NaN, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE, Number.MAX_SAFE_INTEGER + 2],
  i64: [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 63n, 2n ** 64n - 1n, 123456789012345678n],
  u64: [0n, 1n, 2n ** 64n - 1n, 2n ** 64n, -1n, 2n ** 63n],
};

function dvGet(dv: DataView, type: ScalarType, at: number): number | bigint {
  switch (type) {
    case 'i8':
      return dv.getInt8(at);
    case 'u8':
      return dv.getUint8(at);
    case 'i16':
      return dv.getInt16(at, true);
    case 'u16':
      return dv.getUint16(at, true);
    case 'i32':
      return dv.getInt32(at, true);
    case 'u32':
      return dv.getUint32(at, true);
    case 'f32':
      return dv.getFloat32(at, true);
    case 'f64':
      return dv.getFloat64(at, true);
    case 'i64':
      return dv.getBigInt64(at, true);
    case 'u64':
      return dv.getBigUint64(at, true);
  }
}

function dvSet(dv: DataView, type: ScalarType, at: number, v: number | bigint): void {
  switch (type) {
    case 'i8':
      return dv.setInt8(at, Number(v));
    case 'u8':
      return dv.setUint8(at, Number(v));
    case 'i16':
      return dv.setInt16(at, Number(v), true);
    case 'u16':
      return dv.setUint16(at, Number(v), true);
    case 'i32':
      return dv.setInt32(at, Number(v), true);
    case 'u32':
      return dv.setUint32(at, Number(v), true);
    case 'f32':
      return dv.setFloat32(at, Number(v), true);
    case 'f64':
      return dv.setFloat64(at, Number(v), true);
    case 'i64':
      return dv.setBigInt64(at, BigInt(v), true);
    case 'u64':
      return dv.setBigUint64(at, BigInt(v), true);
  }
}

/** A value of `type` from fast-check, including out-of-range ones (the accessor converts them). */
function valueArb(type: ScalarType): fc.Arbitrary<number | bigint> {
  if (type === 'i64' || type === 'u64') return fc.bigInt({ min: -(2n ** 64n), max: 2n ** 65n });
  if (type === 'f32' || type === 'f64') return fc.double();
  return fc.oneof(fc.integer({ min: -(2 ** 33), max: 2 ** 33 }), fc.integer({ min: -300, max: 300 }));
}

// Accessors are looked up by computed name in these tests; the typed API is exercised in
// `typeChecks` (compiled by `npm run typecheck`).
type AnyView = Record<string, (...args: (number | bigint)[]) => number | bigint | undefined>;
const setterOf = (name: string): string => `set${name[0]!.toUpperCase()}${name.slice(1)}`;

function registerTests(): void {
  describe('defineStruct: layout', () => {
    test('known layouts', () => {
      const cases: [StructFields, Record<string, number>, number, number][] = [
        [{ a: 'u8', b: 'f64', c: 'u16' }, { a: 0, b: 8, c: 16 }, 24, 8],
        [{ a: 'u8', b: 'u8' }, { a: 0, b: 1 }, 2, 1],
        [{ x: ['u8', 3], y: 'u16' }, { x: 0, y: 4 }, 6, 2],
        [{ next: 'u32', id: 'i32', value: 'f64' }, { next: 0, id: 4, value: 8 }, 16, 8],
        [{ a: 'i16', b: 'i64', c: 'i8' }, { a: 0, b: 8, c: 16 }, 24, 8],
        [{ a: 'f32', b: ['f64', 2], c: 'u8' }, { a: 0, b: 8, c: 24 }, 32, 8],
        [{ a: 'u8', b: ['i16', 3], c: 'f32' }, { a: 0, b: 2, c: 8 }, 12, 4],
        [{ big: ['u8', 2 ** 20] }, { big: 0 }, 2 ** 20, 1],
      ];
      for (const [fields, offsets, size, align] of cases) {
        const S = defineStruct(fields);
        assert.deepEqual({ ...S.offsets }, offsets, JSON.stringify(fields));
        assert.equal(S.size, size, `size of ${JSON.stringify(fields)}`);
        assert.equal(S.align, align, `align of ${JSON.stringify(fields)}`);
      }
      assert.deepEqual(defineStruct({ a: 'u8', v: ['f32', 3] }).fields, [
        { name: 'a', type: 'u8', length: undefined, offset: 0, size: 1, align: 1 },
        { name: 'v', type: 'f32', length: 3, offset: 4, size: 12, align: 4 },
      ]);
    });

    test('random layouts: offsets, size, align and fields match C layout rules computed independently', () => {
      fc.assert(
        fc.property(layoutArb, (fields) => {
          const S = defineStruct(Object.fromEntries(fields));
          const want = cLayout(fields);
          assert.deepEqual(
            fields.map(([name]) => S.offsets[name]),
            want.offsets,
          );
          assert.deepEqual(
            Object.keys(S.offsets),
            fields.map(([name]) => name),
            'offsets in declaration order',
          );
          assert.equal(S.size, want.size);
          assert.equal(S.align, want.align);
          assert.deepEqual(
            S.fields.map((f) => [f.name, f.offset, f.type, f.length, f.size, f.align]),
            fields.map(([name, t], i) => {
              const [type, n] = typeof t === 'string' ? [t, undefined] : [t[0], t[1]];
              return [name, want.offsets[i], type, n, BYTES[type] * (n ?? 1), BYTES[type]];
            }),
          );
        }),
        { seed: 1515, numRuns: 500 },
      );
    });

    test('random layouts: the C compiler agrees (offsetof, sizeof, _Alignof)', (t) => {
      if (spawnSync('cc', ['--version']).status !== 0) {
        t.skip('no C compiler (cc) installed');
        return;
      }
      const compile = (src: string) => spawnSync('cc', ['-std=c11', '-fsyntax-only', '-x', 'c', '-'], { input: src, encoding: 'utf8' });
      const layouts = fc.sample(layoutArb, { seed: 1516, numRuns: 300 });
      let src = '#include <stddef.h>\n#include <stdint.h>\n';
      layouts.forEach((fields, k) => {
        const S = defineStruct(Object.fromEntries(fields));
        const members = fields.map(([name, t]) => (typeof t === 'string' ? `${C_TYPE[t]} ${name};` : `${C_TYPE[t[0]]} ${name}[${t[1]}];`));
        src += `struct s${k} { ${members.join(' ')} };\n`;
        for (const [name] of fields) src += `_Static_assert(offsetof(struct s${k}, ${name}) == ${S.offsets[name]}, "s${k}.${name}");\n`;
        src += `_Static_assert(sizeof(struct s${k}) == ${S.size}, "sizeof s${k}");\n_Static_assert(_Alignof(struct s${k}) == ${S.align}, "alignof s${k}");\n`;
      });
      const ok = compile(src);
      assert.equal(ok.status, 0, `cc rejected the layouts:\n${ok.stderr.slice(0, 2000)}`);
      // The check can fail: a wrong offset is an error.
      const wrong = compile(
        '#include <stddef.h>\n#include <stdint.h>\nstruct w { uint8_t a; double b; };\n_Static_assert(offsetof(struct w, b) == 1, "b");\n',
      );
      assert.notEqual(wrong.status, 0, 'cc accepts a wrong _Static_assert: this test could not fail');
    });
  });

  describe('defineStruct: errors', () => {
    const bad: [string, unknown, typeof TypeError | typeof RangeError, RegExp][] = [
      ['null', null, TypeError, /fields must be an object/],
      ['a string', 'u8', TypeError, /fields must be an object.*got "u8"/],
      ['an array', ['u8'], TypeError, /fields must be an object/],
      ['no fields', {}, TypeError, /at least one field/],
      ['a symbol key', { [Symbol('s')]: 'u8' }, TypeError, /field names must be strings, got Symbol\(s\)/],
      ['a name starting with a digit', { '1a': 'u8' }, TypeError, /field name "1a" is not allowed/],
      ['a name with a dash', { 'a-b': 'u8' }, TypeError, /field name "a-b" is not allowed/],
      ['an empty name', { '': 'u8' }, TypeError, /field name "" is not allowed/],
      ['a non-ASCII name', { é: 'u8' }, TypeError, /field name "é" is not allowed/],
      ['__proto__', JSON.parse('{"__proto__": "u8"}'), TypeError, /field name "__proto__" is not allowed/],
      ['an unknown type', { x: 'float' }, TypeError, /field "x" has type "float"; a type is one of 'i8', 'u8'/],
      ['a type in capitals', { x: 'U8' }, TypeError, /field "x" has type "U8"/],
      ['a number as type', { x: 8 }, TypeError, /field "x" has type 8/],
      ['undefined as type', { x: undefined }, TypeError, /field "x" has type undefined/],
      ['an inherited name as type', { x: 'toString' }, TypeError, /field "x" has type "toString"/],
      ['an array without length', { v: ['f32'] }, TypeError, /field "v": an array field is \[type, length\].*got \["f32"\]/],
      ['an array with 3 items', { v: ['f32', 3, 1] }, TypeError, /field "v": an array field is \[type, length\]/],
      ['an array of an unknown type', { v: ['f16', 3] }, TypeError, /field "v" has type "f16"/],
      ['a length of 0', { v: ['f32', 0] }, RangeError, /field "v": array length must be an integer from 1 to 2\^30, got 0/],
      ['a negative length', { v: ['f32', -1] }, RangeError, /field "v": array length .* got -1/],
      ['a fractional length', { v: ['f32', 1.5] }, RangeError, /field "v": array length .* got 1.5/],
      ['a NaN length', { v: ['f32', NaN] }, RangeError, /got NaN/],
      ['a string length', { v: ['f32', '3'] }, TypeError, /field "v": array length must be a number, got "3"/],
      ['a struct over 1 GiB', { a: 'u8', v: ['f64', 2 ** 27] }, RangeError, /passes 2\^30 bytes at field "v"/],
      ['fields x and setX', { x: 'u8', setX: 'u8' }, TypeError, /fields "x" and "setX" both need an accessor named setX/],
      ['fields x and X', { x: 'u8', X: 'u8' }, TypeError, /fields "x" and "X" both need an accessor named setX/],
    ];
    for (const [what, fields, Err, message] of bad) {
      test(what, () => {
        assert.throws(
          () => defineStruct(fields as StructFields),
          (e: unknown) => {
            assert.ok(e instanceof Err, `${what}: ${String(e)} is not a ${Err.name}`);
            assert.match((e as Error).message, /^hakmem: /);
            assert.match((e as Error).message, message);
            return true;
          },
        );
      });
    }

    test('a copy of the fields is taken: changing them later changes nothing', () => {
      const fields: Record<string, FieldType> = { a: 'u8', b: 'u32' };
      const S = defineStruct(fields);
      fields.a = 'f64';
      fields.c = 'u8';
      assert.deepEqual({ ...S.offsets }, { a: 0, b: 4 });
      assert.equal(S.size, 8);
      assert.ok(Object.isFrozen(S) && Object.isFrozen(S.offsets) && Object.isFrozen(S.fields) && Object.isFrozen(S.fields[0]));
    });
  });

  describe('accessors', () => {
    test('every type: edge values round-trip as typed arrays convert them, in the bytes C would use', () => {
      const h = createHeap();
      const dv = () => new DataView(h.buffer as ArrayBuffer);
      for (const type of TYPES) {
        // The field between two guard fields of the same size, to catch writes that spill.
        const S = defineStruct({ before: type, x: type, after: type, v: [type, 3] });
        const view = S.on(h) as unknown as AnyView;
        const p = S.calloc(h);
        const o = S.offsets;
        for (const input of EDGE[type]) {
          const want = stored(type, input);
          const arg = type === 'i64' || type === 'u64' ? BigInt(input) : Number(input);
          view.setX!(p, arg);
          assert.ok(Object.is(view.x!(p), want), `${type}: wrote ${input}, read ${String(view.x!(p))}, want ${want}`);
          assert.ok(Object.is(dvGet(dv(), type, p + o.x), want), `${type}: ${input} in the buffer at offset ${o.x}`);
          for (let i = 0; i < 3; i++) {
            view.setV!(p, i, arg);
            assert.ok(Object.is(view.v!(p, i), want), `${type}: v[${i}] = ${input}`);
            assert.ok(Object.is(dvGet(dv(), type, p + o.v + i * BYTES[type]), want), `${type}: v[${i}] = ${input} in the buffer`);
            view.setV!(p, i, type === 'i64' || type === 'u64' ? 0n : 0);
          }
          assert.ok(
            Object.is(view.before!(p), stored(type, 0)) && Object.is(view.after!(p), stored(type, 0)),
            `${type}: ${input} spilled into a neighbour`,
          );
        }
        h.free(p);
      }
      h.check();
    });

    test("the example in defineStruct's TSDoc does what its comments say", () => {
      const Particle = defineStruct({ next: 'u32', id: 'i32', mass: 'f64', pos: ['f32', 3] });
      assert.equal(Particle.size, 32);
      assert.equal(Particle.offsets.mass, 8);
      const heap = createHeap();
      const particle = Particle.on(heap);
      const p = Particle.calloc(heap);
      particle.setMass(p, 1.5);
      particle.setPos(p, 2, -4);
      assert.equal(particle.mass(p) + particle.pos(p, 2), -2.5);
      const arr = Particle.allocArray(heap, 1000);
      for (let i = 0, q = arr; i < 1000; i++, q += Particle.size) particle.setId(q, i);
      assert.equal(heap.i32[(arr + 999 * 32 + 4) >> 2], 999);
      heap.free(arr);
      heap.free(p);
      heap.check();
    });

    test('64-bit fields take bigints only; other fields take numbers (typed-array rules)', () => {
      const h = createHeap();
      const S = defineStruct({ a: 'i64', b: 'u64', c: ['i64', 2], d: 'f64' });
      const v = S.on(h);
      const p = S.calloc(h);
      assert.throws(() => (v.setA as (p: number, x: unknown) => void)(p, 1), TypeError);
      assert.throws(() => (v.setB as (p: number, x: unknown) => void)(p, 1.5), TypeError);
      assert.throws(() => (v.setC as (p: number, i: number, x: unknown) => void)(p, 0, 1), TypeError);
      assert.throws(() => (v.setD as (p: number, x: unknown) => void)(p, 1n), TypeError);
      assert.equal(v.a(p), 0n);
      assert.equal(typeof v.d(p), 'number');
      h.free(p);
    });

    test("random layouts: a write through an accessor changes exactly its field's bytes, and reads see DataView writes", () => {
      const arb = layoutArb
        .chain((fields) =>
          fc.record({
            fields: fc.constant(fields),
            field: fc.integer({ min: 0, max: fields.length - 1 }),
            element: fc.nat(),
            noise: fc.uint8Array({ minLength: 64, maxLength: 64 }),
          }),
        )
        .chain((c) => {
          const t = c.fields[c.field]![1];
          return fc.record({
            c: fc.constant(c),
            value: valueArb(typeof t === 'string' ? t : t[0]),
            other: valueArb(typeof t === 'string' ? t : t[0]),
          });
        });
      fc.assert(
        fc.property(arb, ({ c, value, other }) => {
          // A heap per run: a wrong accessor writes somewhere else, and must not break the next runs' heap.
          const h = createHeap({ memory: new ArrayBuffer(256 * 1024) });
          const S = defineStruct(Object.fromEntries(c.fields));
          const view = S.on(h) as unknown as AnyView;
          const block = h.malloc(S.size + 32);
          assert.notEqual(block, 0);
          const p = block + 16; // the struct, with 16 bytes of the same block either side (align <= 8)
          const span = S.size + 32;
          const u8 = h.u8;
          for (let i = 0; i < span; i++) u8[p - 16 + i] = c.noise[i % 64]!;
          const before = u8.slice(p - 16, p - 16 + span);
          const [name, t] = c.fields[c.field]!;
          const [type, n] = typeof t === 'string' ? [t, 0] : [t[0], t[1]];
          const at = S.offsets[name]! + (n > 0 ? (c.element % n) * BYTES[type] : 0);
          const arg = type === 'i64' || type === 'u64' ? value : Number(value);
          if (n > 0) view[setterOf(name)]!(p, c.element % n, arg);
          else view[setterOf(name)]!(p, arg);
          // The expected bytes: the old ones with the value stored by DataView, little-endian.
          const want = before.slice();
          dvSet(new DataView(want.buffer), type, at + 16, stored(type, value));
          const got = h.u8.slice(p - 16, p - 16 + span);
          if (type === 'f32' || type === 'f64') {
            // NaN payloads are not specified: compare the value, and every byte outside the field.
            assert.ok(Object.is(dvGet(new DataView(got.buffer), type, at + 16), stored(type, value)));
            for (let i = 0; i < span; i++)
              if (i < at + 16 || i >= at + 16 + BYTES[type]) assert.equal(got[i], want[i], `byte ${i - 16} of the struct`);
          } else {
            assert.deepEqual(got, want);
          }
          // A DataView write is what the accessor reads.
          dvSet(new DataView(h.buffer as ArrayBuffer), type, p + at, stored(type, other));
          const read = n > 0 ? view[name]!(p, c.element % n) : view[name]!(p);
          assert.ok(Object.is(read, stored(type, other)), `${name} read ${String(read)}, want ${stored(type, other)}`);
          h.free(block);
          h.check();
        }),
        { seed: 1517, numRuns: 1000 },
      );
    });

    test('array fields: an index that is not an integer from 0 to length - 1 throws RangeError and writes nothing', () => {
      const h = createHeap();
      const S = defineStruct({ a: 'u32', pos: ['f32', 3], b: 'u32' });
      const v = S.on(h);
      const p = S.calloc(h);
      const snapshot = () => h.u8.slice(p - 16, p + S.size + 16);
      const before = snapshot();
      for (const i of [-1, 3, 4, 1.5, NaN, Infinity, -0.5, 2 ** 32, 2 ** 32 + 1, '1', null, undefined]) {
        const re = /^hakmem: struct field "pos": index .* is not an integer from 0 to 2$/;
        assert.throws(
          () => v.pos(p, i as number),
          (e: unknown) => e instanceof RangeError && re.test(e.message),
          `pos(p, ${String(i)})`,
        );
        assert.throws(
          () => v.setPos(p, i as number, 9),
          (e: unknown) => e instanceof RangeError && re.test(e.message),
          `setPos(p, ${String(i)})`,
        );
      }
      // A bigint index (outside the types): the index check's `>>>` throws TypeError.
      assert.throws(() => v.pos(p, 1n as unknown as number), TypeError);
      assert.throws(() => v.setPos(p, 1n as unknown as number, 9), TypeError);
      assert.deepEqual(snapshot(), before);
      v.setPos(p, -0, 5); // -0 is index 0
      assert.equal(v.pos(p, 0), 5);
      h.free(p);
    });

    test('on(heap): one frozen view per heap, its accessors named after the fields in order', () => {
      const h1 = createHeap();
      const h2 = createHeap();
      const S = defineStruct({ next: 'u32', value: 'f64', pos: ['f32', 2] });
      const v1 = S.on(h1);
      assert.equal(S.on(h1), v1);
      assert.notEqual(S.on(h2), v1);
      assert.ok(Object.isFrozen(v1));
      assert.deepEqual(Object.keys(v1), ['next', 'setNext', 'value', 'setValue', 'pos', 'setPos']);
      // Each view writes its own heap.
      const p1 = S.calloc(h1);
      const p2 = S.calloc(h2);
      v1.setValue(p1, 1.25);
      S.on(h2).setValue(p2, -7);
      assert.equal(h1.f64[(p1 + 8) >> 3], 1.25);
      assert.equal(h2.f64[(p2 + 8) >> 3], -7);
      for (const notHeap of [null, undefined, 5, 'heap', {}]) {
        assert.throws(
          () => S.on(notHeap as unknown as Heap),
          (e: unknown) => e instanceof TypeError && /^hakmem: struct\.on\(heap\): pass a Heap/.test(e.message),
        );
      }
    });

    test('views (and offsets) are fast-mode objects, views of one struct share a hidden class, also with 500 fields (V8 natives)', () => {
      const url = new URL('../src/struct.ts', import.meta.url).href;
      const script = `
        import { defineStruct } from ${JSON.stringify(url)};
        import { createHeap } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
        const out = {};
        for (const n of [1, 10, 500]) {
          const S = defineStruct(Object.fromEntries(Array.from({ length: n }, (_, i) => ['f' + i, i % 2 ? 'f64' : ['u8', 3]])));
          const a = S.on(createHeap()), b = S.on(createHeap());
          out[n] = [%HasFastProperties(a), %HaveSameMap(a, b), %HasFastProperties(S.offsets)];
        }
        const keyed = {};
        for (let i = 0; i < 100; i++) keyed['keyed' + i] = () => 0; // names no other object has had
        out.keyed = %HasFastProperties(keyed); // the natives can say no: 100 new keyed stores make a dictionary
        console.log(JSON.stringify(out));`;
      const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { 1: [true, true, true], 10: [true, true, true], 500: [true, true, true], keyed: false });
    });
  });

  describe('allocation', () => {
    test('alloc, calloc, allocArray, callocArray: 16-byte aligned blocks that hold the structs', () => {
      const h = createHeap();
      const S = defineStruct({ a: 'u8', b: 'f64', c: ['u16', 5] }); // size 32
      assert.equal(S.size, 32);
      const p = S.alloc(h);
      const q = S.calloc(h);
      const arr = S.allocArray(h, 100);
      const zarr = S.callocArray(h, 100);
      const empty = S.allocArray(h, 0);
      for (const [ptr, bytes] of [
        [p, 32],
        [q, 32],
        [arr, 3200],
        [zarr, 3200],
        [empty, 0],
      ] as const) {
        assert.ok(ptr > 0 && ptr % 16 === 0, `pointer ${ptr}`);
        assert.ok(h.usableSize(ptr) >= bytes, `block of ${h.usableSize(ptr)} bytes for ${bytes}`);
      }
      // calloc zeroes even a block that held data before.
      const dirty = S.callocArray(h, 64);
      h.u8.fill(0xff, dirty, dirty + 64 * 32);
      h.free(dirty);
      const again = S.callocArray(h, 64);
      assert.ok(
        h.u8.subarray(again, again + 64 * 32).every((x) => x === 0),
        'callocArray zeroes',
      );
      const one = S.alloc(h);
      h.u8.fill(0xff, one, one + 32);
      h.free(one);
      const zeroed = S.calloc(h);
      assert.ok(
        h.u8.subarray(zeroed, zeroed + 32).every((x) => x === 0),
        'calloc zeroes',
      );
      // Element i of an array is at arr + i * size, and elements do not overlap.
      const v = S.on(h);
      for (let i = 0; i < 100; i++) {
        v.setB(arr + i * S.size, i);
        v.setC(arr + i * S.size, 4, i);
        v.setA(arr + i * S.size, i);
      }
      for (let i = 0; i < 100; i++) assert.deepEqual([v.a(arr + i * S.size), v.b(arr + i * S.size), v.c(arr + i * S.size, 4)], [i, i, i]);
      for (const x of [p, q, arr, zarr, empty, again, zeroed]) h.free(x);
      h.check();
    });

    test('a heap that cannot hold the structs: 0, as malloc returns', () => {
      const h = createHeap({ maxBytes: 1 << 20 });
      const S = defineStruct({ v: ['f64', 1000] }); // 8000 bytes
      assert.equal(S.allocArray(h, 1000), 0);
      assert.equal(S.callocArray(h, 1000), 0);
      assert.equal(S.allocArray(h, 2 ** 52), 0); // n * size is not a safe integer
      assert.equal(S.callocArray(h, 2 ** 52), 0);
      const got: number[] = [];
      for (let p = S.alloc(h); p !== 0; p = S.alloc(h)) got.push(p);
      assert.ok(got.length > 50 && got.length < 140, `${got.length} structs of 8000 bytes in a 1 MiB heap`);
      assert.equal(S.calloc(h), 0);
      for (const p of got) h.free(p);
      h.check();
    });

    test('allocArray / callocArray: a count that is not an integer from 0 to 2^53 - 1 is named', () => {
      const h = createHeap();
      const S = defineStruct({ a: 'u32' });
      for (const method of ['allocArray', 'callocArray'] as const) {
        for (const n of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
          assert.throws(
            () => S[method](h, n),
            (e: unknown) =>
              e instanceof RangeError &&
              e.message === `hakmem: struct.${method}(heap, n): n must be an integer from 0 to 2^53 - 1, got ${n}`,
          );
        }
        for (const n of ['3', 3n, null]) {
          assert.throws(
            () => S[method](h, n as unknown as number),
            (e: unknown) => e instanceof TypeError && /^hakmem: struct\.\w+\(heap, n\): n must be a number/.test(e.message),
          );
        }
      }
      h.check();
    });
  });

  describe('views and heap growth', () => {
    test('a view made before the heap grew reads and writes structs past the memory it first covered', () => {
      const h = createHeap({ initialBytes: 65536, maxBytes: 64 * MiB });
      const r = Rec.on(h); // before any growth
      const gen0 = h.generation;
      const len0 = h.u8.length;
      const ptrs: number[] = [];
      let gens = 0;
      let gen = gen0;
      while (ptrs.length < 60000 && (gens < 3 || ptrs.length < 100)) {
        const p = Rec.alloc(h);
        assert.notEqual(p, 0);
        fillRec(h, p, ptrs.length);
        checkRec(h, p, ptrs.length, 'just written'); // at once: a wrong accessor may have hit the heap's metadata
        ptrs.push(p);
        if (h.generation !== gen) {
          gens++;
          gen = h.generation;
        }
      }
      assert.ok(gens >= 3, `the heap grew (${gens} generation changes)`);
      assert.ok(
        ptrs.some((p) => p + Rec.size > len0),
        'some structs lie past the first views',
      );
      assert.equal(Rec.on(h), r, 'the same view object throughout');
      for (let k = 0; k < ptrs.length; k++) checkRec(h, ptrs[k]!, k, 'after growth');
      for (const p of ptrs) h.free(p);
      h.check();
    });

    test('other memory kinds: a view made first works after growth, also after wasm code grew a non-shared memory', () => {
      const S = defineStruct({ id: 'i32', x: 'f64', tag: ['u8', 4] });
      const kinds: [string, () => Heap][] = [
        ["memory: 'array'", () => createHeap({ memory: 'array', initialBytes: 65536, maxBytes: 16 * MiB })],
        ['WebAssembly.Memory (not shared)', () => createHeap({ memory: new WebAssembly.Memory({ initial: 1, maximum: 256 }) })],
        ['WebAssembly.Memory (shared)', () => createHeap({ memory: new WebAssembly.Memory({ initial: 1, maximum: 256, shared: true }) })],
      ];
      for (const [name, make] of kinds) {
        const h = make();
        const v = S.on(h);
        const gen0 = h.generation;
        const ptrs: number[] = [];
        for (let k = 0; k < 20000; k++) {
          const p = S.alloc(h);
          assert.notEqual(p, 0, name);
          v.setId(p, k);
          v.setX(p, k / 8);
          v.setTag(p, 3, k & 255);
          ptrs.push(p);
        }
        assert.notEqual(h.generation, gen0, `${name}: grew`);
        for (let k = 0; k < ptrs.length; k++) {
          const p = ptrs[k]!;
          assert.deepEqual([v.id(p), v.x(p), v.tag(p, 3)], [k, k / 8, k & 255], `${name}: struct ${k}`);
          assert.equal(new DataView(h.buffer as ArrayBuffer).getInt32(p, true), k);
        }
        for (const p of ptrs) h.free(p);
        h.check();
      }
      // A non-shared WebAssembly.Memory grown by wasm code (memory.grow): the old buffer is detached.
      const mem = new WebAssembly.Memory({ initial: 2, maximum: 64 });
      const h = createHeap({ memory: mem });
      const v = S.on(h);
      const p = S.calloc(h);
      v.setX(p, 2.5);
      mem.grow(1);
      assert.equal(v.x(p), 2.5);
      v.setId(p, -3);
      assert.equal(new DataView(mem.buffer).getInt32(p, true), -3);
      h.free(p);
      h.check();
    });

    test("a second thread's Heap on the same memory (attached here): each view sees the other's writes", () => {
      const h = createHeap();
      const a = attachHeap(h.handle);
      const p = Rec.calloc(h);
      fillRec(h, p, 42);
      checkRec(a, p, 42, 'attached heap reads');
      const q = Rec.alloc(a);
      fillRec(a, q, 7);
      checkRec(h, q, 7, 'creating heap reads');
      a.free(p);
      h.free(q);
      a.detach();
      h.check();
    });

    test("a worker attached to the heap reads and changes this thread's structs and grows the heap with its own; this thread's old view reads them", async () => {
      const h = createHeap({ initialBytes: 65536 });
      const r = Rec.on(h);
      const count = 100;
      const arr = Rec.allocArray(h, count);
      for (let k = 0; k < count; k++) fillRec(h, arr + k * Rec.size, k);
      for (let k = 0; k < count; k++) checkRec(h, arr + k * Rec.size, k, 'main, before the worker starts');
      const len0 = h.u8.length;
      const gen0 = h.generation;
      const w = tsWorker(new URL(import.meta.url), { handle: h.handle, arr, count } satisfies WorkerIn);
      try {
        const msg = await new Promise<WorkerOut>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('the worker did not report within 60 s')), 60_000);
          w.once('message', (m: WorkerOut) => {
            clearTimeout(timer);
            resolve(m);
          });
          w.once('error', (e) => {
            clearTimeout(timer);
            reject(e);
          });
          w.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`the worker exited (code ${code}) before it reported`));
          });
        });
        if (msg.error !== undefined) assert.fail(`worker: ${msg.error}`);
        assert.equal(msg.generationMoved, true, 'the worker grew the heap');
        assert.notEqual(h.generation, gen0);
        // The worker's changes to this thread's structs.
        for (let k = 0; k < count; k++) {
          const p = arr + k * Rec.size;
          assert.equal(r.d(p), (k / 3) * 2, `d of record ${k}, doubled by the worker`);
          assert.equal(r.pos(p, 1), -(k * 10 + 1), `pos[1] of record ${k}, negated by the worker`);
          assert.equal(r.pos(p, 2), k * 10 + 2);
        }
        // The worker's structs, through the view this thread made before they existed.
        let beyond = 0;
        msg.ptrs!.forEach((p, k) => {
          for (const j of [0, 499]) checkRec(h, p + j * Rec.size, 1000 + k * 500 + j, "main reads the worker's");
          if (p + 500 * Rec.size > len0) beyond++;
        });
        assert.ok(beyond > 0, "some of the worker's structs lie past this thread's first views");
        for (const p of msg.ptrs!) h.free(p);
        h.free(arr);
        w.postMessage('done');
        await new Promise((resolve) => w.once('exit', resolve));
        h.check();
      } finally {
        await w.terminate();
      }
    });
  });

  describe('debug build', () => {
    test('structs in a debug heap: accessors stay inside the struct (no overflow at free), growth, calloc', () => {
      const h = debug.createHeap({ initialBytes: 65536 });
      const r = Rec.on(h);
      const ptrs: number[] = [];
      const gen0 = h.generation;
      for (let k = 0; k < 3000; k++) {
        const p = Rec.alloc(h);
        assert.equal(h.usableSize(p), Rec.size, 'the debug heap hands out exactly size bytes, canary after');
        fillRec(h, p, k);
        checkRec(h, p, k, 'debug heap, just written'); // at once: a wrong accessor may have hit the heap's metadata
        r.setTag(p, 4, 0xee); // the struct's last byte
        ptrs.push(p);
      }
      assert.notEqual(h.generation, gen0, 'grew');
      for (let k = 0; k < ptrs.length; k++) {
        r.setTag(ptrs[k]!, 4, (k + 4) & 255);
        checkRec(h, ptrs[k]!, k, 'debug heap');
      }
      assert.throws(() => r.setTag(ptrs[0]!, 5, 1), RangeError, 'an index past the array throws before reaching the canary');
      h.check();
      for (const p of ptrs) h.free(p); // HeapOverflowError here if an accessor wrote past size
      const z = Rec.calloc(h);
      assert.ok(h.u8.subarray(z, z + Rec.size).every((x) => x === 0));
      // The check above can fail: a byte written just past the struct is found.
      h.u8[z + Rec.size] = 1;
      assert.throws(() => h.free(z), debug.HeapOverflowError);
      h.u8[z + Rec.size] = 0xcb;
      h.free(z);
      assert.deepEqual(h.leaks(), []);
      h.check();
    });

    test('a debug heap and a release heap attached to it: one struct, two views', () => {
      const h = debug.createHeap();
      const rel = attachHeap(h.handle);
      const p = Rec.calloc(h);
      fillRec(rel, p, 5);
      checkRec(h, p, 5, 'debug reads release');
      h.free(p);
      rel.detach();
      h.check();
    });
  });
}

/** Type-level checks: never run, compiled by `npm run typecheck` (each @ts-expect-error must be an error). */
export function typeChecks(h: Heap): void {
  const S = defineStruct({ n: 'u32', x: 'f64', big: 'i64', v: ['f32', 3], bv: ['u64', 2] });
  const s = S.on(h);
  const p = S.alloc(h);
  const a: number = s.n(p) + s.x(p) + s.v(p, 1);
  const b: bigint = s.big(p) + s.bv(p, 0);
  s.setN(p, 1);
  s.setBig(p, 1n);
  s.setV(p, 2, 0.5);
  s.setBv(p, 1, 2n);
  const o: number = S.offsets.v;
  // @ts-expect-error f64 takes a number
  s.setX(p, 1n);
  // @ts-expect-error i64 takes a bigint
  s.setBig(p, 1);
  // @ts-expect-error i64 reads a bigint
  const c: number = s.big(p);
  // @ts-expect-error an array accessor needs an index
  s.v(p);
  // @ts-expect-error a scalar accessor takes no index
  s.setN(p, 0, 1);
  // @ts-expect-error no such field
  s.nope(p);
  // @ts-expect-error no such offset
  void S.offsets.nope;
  // @ts-expect-error not a field type
  defineStruct({ x: 'float' });
  // @ts-expect-error not an array field
  defineStruct({ x: ['f32'] });
  void [a, b, c, o];
}
