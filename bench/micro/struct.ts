// Struct accessors (src/struct.ts) against hand-written offset code, both in user form: every
// access reads the heap's view getter (`heap.f64[(p + 8) >> 3]`), as code must that stays correct
// after the heap grows.
//
//   flock /tmp/hakmem-cpu.lock node --import tsx bench/micro/struct.ts [--n 1000] [--reps 2000] [--rounds 15] [--variants]
//
// Workloads, over one struct { next u32 @0, id i32 @4, value f64 @8, w f32 @16, pos f32[3] @20 } (32 bytes):
//   aos   an array of n structs: read value, id, w; write value, w          (5 field accesses per element)
//   list  a linked list of n separately allocated structs: read next, id,
//         value; write value                                               (4 per element)
//   vec   the array again: read value, pos[0..2]; write pos[0..2]           (7 per element, the array
//         accessors' index check included)
// Each form has its own loop function (its own call sites and type feedback). Rounds interleave the
// forms, alternating their order; each round times `reps` passes per form. Printed: per form, the
// median ns per field access over rounds, the difference from hand-written code (of the medians,
// and the median, min and max of the per-round differences).
//
// --variants adds a workload that runs aos on two heaps alternately through the same loop functions,
// and, on aos, the accessor forms considered for src/struct.ts (the measurements that chose it):
//   (a)  generated code (new Function), literal offsets, one field object each: S.value.get(heap, p)
//   (b)  the same with closures over a const offset
//   (c)  a generated class with prototype methods taking the heap: S.value(heap, p)
//   (c2) the same class built from (b)'s closures
//   (d1) a view bound to one heap, a generated class reading this.h: node.value(p)
//   (d3) the same from closures over the offset whose code every struct shares (reading this.h)
//   (dk) the shipped form (struct.ts: closures over const heap and offset, own properties of a
//        plain object) with its object built by keyed stores, which V8 makes a dictionary
// The shipped form, `struct` in every workload, is (d2): a view bound to one heap whose accessors
// are closures over `const` copies of the heap and the offset, defined on a plain object.
import os from 'node:os';
import { createHeap, type Heap } from '../../src/index.ts';
import { defineStruct } from '../../src/struct.ts';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`--${name} needs a positive integer`);
  return v;
}
const N = arg('n', 1000);
const REPS = arg('reps', 2000);
const ROUNDS = arg('rounds', 15);
const VARIANTS = process.argv.includes('--variants');

const Particle = defineStruct({ next: 'u32', id: 'i32', value: 'f64', w: 'f32', pos: ['f32', 3] });
const SIZE = Particle.size;
// Hand-written code uses literal offsets, as the README's examples do.
if (SIZE !== 32 || Particle.offsets.id !== 4 || Particle.offsets.value !== 8 || Particle.offsets.w !== 16 || Particle.offsets.pos !== 20) {
  throw new Error('the layout changed: update the literal offsets of the hand-written loops');
}
type View = ReturnType<typeof Particle.on>;

const heap = createHeap();
const particle = Particle.on(heap);

// ------------------------------------------------------------------ aos
function aosHand(h: Heap, base: number, n: number): number {
  let s = 0;
  for (let i = 0, p = base; i < n; i++, p += 32) {
    const v = h.f64[(p + 8) >> 3]!;
    const id = h.i32[(p + 4) >> 2]!;
    const w = h.f32[(p + 16) >> 2]!;
    h.f64[(p + 8) >> 3] = v * 0.5 + id;
    h.f32[(p + 16) >> 2] = w + 1;
    s += id;
  }
  return s;
}
function aosStruct(node: View, base: number, n: number): number {
  let s = 0;
  for (let i = 0, p = base; i < n; i++, p += SIZE) {
    const v = node.value(p);
    const id = node.id(p);
    const w = node.w(p);
    node.setValue(p, v * 0.5 + id);
    node.setW(p, w + 1);
    s += id;
  }
  return s;
}

// The same loops again, for the two-heap workload (--variants): their own call sites and feedback.
function aosHand2(h: Heap, base: number, n: number): number {
  let s = 0;
  for (let i = 0, p = base; i < n; i++, p += 32) {
    const v = h.f64[(p + 8) >> 3]!;
    const id = h.i32[(p + 4) >> 2]!;
    const w = h.f32[(p + 16) >> 2]!;
    h.f64[(p + 8) >> 3] = v * 0.5 + id;
    h.f32[(p + 16) >> 2] = w + 1;
    s += id;
  }
  return s;
}
function aosStruct2(node: View, base: number, n: number): number {
  let s = 0;
  for (let i = 0, p = base; i < n; i++, p += SIZE) {
    const v = node.value(p);
    const id = node.id(p);
    const w = node.w(p);
    node.setValue(p, v * 0.5 + id);
    node.setW(p, w + 1);
    s += id;
  }
  return s;
}

// ------------------------------------------------------------------ list
function listHand(h: Heap, head: number): number {
  let s = 0;
  for (let p = head; p !== 0; p = h.u32[p >> 2]!) {
    const id = h.i32[(p + 4) >> 2]!;
    h.f64[(p + 8) >> 3] = h.f64[(p + 8) >> 3]! * 0.5 + id;
    s += id;
  }
  return s;
}
function listStruct(node: View, head: number): number {
  let s = 0;
  for (let p = head; p !== 0; p = node.next(p)) {
    const id = node.id(p);
    node.setValue(p, node.value(p) * 0.5 + id);
    s += id;
  }
  return s;
}

// ------------------------------------------------------------------ vec
function vecHand(h: Heap, base: number, n: number): number {
  let s = 0;
  for (let i = 0, p = base; i < n; i++, p += 32) {
    const v = h.f64[(p + 8) >> 3]!;
    const x = h.f32[(p + 20) >> 2]!;
    const y = h.f32[(p + 24) >> 2]!;
    const z = h.f32[(p + 28) >> 2]!;
    h.f32[(p + 20) >> 2] = x + v;
    h.f32[(p + 24) >> 2] = y - v;
    h.f32[(p + 28) >> 2] = z * 0.5;
    s += x;
  }
  return s;
}
function vecStruct(node: View, base: number, n: number): number {
  let s = 0;
  for (let i = 0, p = base; i < n; i++, p += SIZE) {
    const v = node.value(p);
    const x = node.pos(p, 0);
    const y = node.pos(p, 1);
    const z = node.pos(p, 2);
    node.setPos(p, 0, x + v);
    node.setPos(p, 1, y - v);
    node.setPos(p, 2, z * 0.5);
    s += x;
  }
  return s;
}

// ------------------------------------------------------------------ candidate forms (--variants), aos only
type GetF = (h: Heap, p: number) => number;
type SetF = (h: Heap, p: number, v: number) => void;
// (a) generated code, literal offsets, one function per accessor: S.value.get(heap, p)
const genA = {
  id: { get: new Function('h', 'p', 'return h.i32[(p + 4) >> 2];') as GetF },
  value: {
    get: new Function('h', 'p', 'return h.f64[(p + 8) >> 3];') as GetF,
    set: new Function('h', 'p', 'v', 'h.f64[(p + 8) >> 3] = v;') as SetF,
  },
  w: {
    get: new Function('h', 'p', 'return h.f32[(p + 16) >> 2];') as GetF,
    set: new Function('h', 'p', 'v', 'h.f32[(p + 16) >> 2] = v;') as SetF,
  },
};
// (b) closures over a const offset, behind a field object: S.value.get(heap, p)
const cg = {
  i32: (off: number): GetF => {
    const o = off;
    return (h, p) => h.i32[(p + o) >> 2]!;
  },
  f32: (off: number): GetF => {
    const o = off;
    return (h, p) => h.f32[(p + o) >> 2]!;
  },
  f64: (off: number): GetF => {
    const o = off;
    return (h, p) => h.f64[(p + o) >> 3]!;
  },
};
const cs = {
  f32: (off: number): SetF => {
    const o = off;
    return (h, p, v) => {
      h.f32[(p + o) >> 2] = v;
    };
  },
  f64: (off: number): SetF => {
    const o = off;
    return (h, p, v) => {
      h.f64[(p + o) >> 3] = v;
    };
  },
};
const closB = { id: { get: cg.i32(4) }, value: { get: cg.f64(8), set: cs.f64(8) }, w: { get: cg.f32(16), set: cs.f32(16) } };
// (c) a generated class with prototype methods taking the heap: S.value(heap, p)
interface ExplicitHeap {
  id: GetF;
  value: GetF;
  setValue: SetF;
  w: GetF;
  setW: SetF;
}
const genC = new (
  new Function(`return class {
  id(h, p) { return h.i32[(p + 4) >> 2]; }
  value(h, p) { return h.f64[(p + 8) >> 3]; }
  setValue(h, p, v) { h.f64[(p + 8) >> 3] = v; }
  w(h, p) { return h.f32[(p + 16) >> 2]; }
  setW(h, p, v) { h.f32[(p + 16) >> 2] = v; }
}`)() as new () => ExplicitHeap
)();
// (c2) the same class built from the closures of (b), without new Function
function protoClass<T>(methods: Record<string, unknown>, ctor: new (...a: never[]) => object): T {
  for (const [k, f] of Object.entries(methods)) Object.defineProperty(ctor.prototype, k, { value: f });
  return ctor as T;
}
const closC2 = new (protoClass<new () => ExplicitHeap>(
  { id: cg.i32(4), value: cg.f64(8), setValue: cs.f64(8), w: cg.f32(16), setW: cs.f32(16) },
  class {},
))();
// (d1) a view bound to one heap, a generated class reading this.h: node.value(p)
interface Bound {
  id(p: number): number;
  value(p: number): number;
  setValue(p: number, v: number): void;
  w(p: number): number;
  setW(p: number, v: number): void;
}
const GenD1 = new Function(`return class {
  constructor(h) { this.h = h; }
  id(p) { return this.h.i32[(p + 4) >> 2]; }
  value(p) { return this.h.f64[(p + 8) >> 3]; }
  setValue(p, v) { this.h.f64[(p + 8) >> 3] = v; }
  w(p) { return this.h.f32[(p + 16) >> 2]; }
  setW(p, v) { this.h.f32[(p + 16) >> 2] = v; }
}`)() as new (
  h: Heap,
) => Bound;
// (d3) a view bound to one heap: a class per struct whose prototype methods are closures over the
// offset, code shared by every struct (so `this.h` sees every struct's class), reading this.h
type ThisGet = (this: { h: Heap }, p: number) => number;
type ThisSet = (this: { h: Heap }, p: number, v: number) => void;
const tg = {
  i32: (off: number): ThisGet => {
    const o = off;
    return function (p) {
      return this.h.i32[(p + o) >> 2]!;
    };
  },
  f32: (off: number): ThisGet => {
    const o = off;
    return function (p) {
      return this.h.f32[(p + o) >> 2]!;
    };
  },
  f64: (off: number): ThisGet => {
    const o = off;
    return function (p) {
      return this.h.f64[(p + o) >> 3]!;
    };
  },
};
const ts = {
  f32: (off: number): ThisSet => {
    const o = off;
    return function (p, v) {
      this.h.f32[(p + o) >> 2] = v;
    };
  },
  f64: (off: number): ThisSet => {
    const o = off;
    return function (p, v) {
      this.h.f64[(p + o) >> 3] = v;
    };
  },
};
function boundClass(methods: Record<string, unknown>): new (h: Heap) => Bound {
  return protoClass(
    methods,
    class {
      h: Heap;
      constructor(h: Heap) {
        this.h = h;
      }
    },
  );
}
const ClosD3 = boundClass({ id: tg.i32(4), value: tg.f64(8), setValue: ts.f64(8), w: tg.f32(16), setW: ts.f32(16) });
// Other structs sharing (d3)'s code, used before timing, as an application with several structs would.
const d3Others = [0, 8, 24, 40].map(
  (o) => new (boundClass({ value: tg.f64(o), setValue: ts.f64(o), id: tg.i32(o + 4), w: tg.f32(o + 16), setW: ts.f32(o + 16) }))(heap),
);
// (dk) the shipped form (closures over const heap and offset, own properties), but its object built
// with keyed stores `v[name] = f`, 11 fields (22 properties): V8 turns an object that gets more than
// about 16 new properties by keyed stores into a dictionary (seen with %HasFastProperties);
// struct.ts uses defineProperty
function keyedView(): Bound {
  const h = heap;
  const entries: [string, unknown][] = [
    ['id', (p: number) => h.i32[(p + 4) >> 2]],
    ['setId', () => 0],
    ['value', (p: number) => h.f64[(p + 8) >> 3]],
    [
      'setValue',
      (p: number, x: number) => {
        h.f64[(p + 8) >> 3] = x;
      },
    ],
    ['w', (p: number) => h.f32[(p + 16) >> 2]],
    [
      'setW',
      (p: number, x: number) => {
        h.f32[(p + 16) >> 2] = x;
      },
    ],
  ];
  for (let k = 0; k < 8; k++) entries.push([`pad${k}`, () => 0], [`setPad${k}`, () => 0]);
  const v: Record<string, unknown> = {};
  for (const [k, f] of entries) v[k] = f;
  return v as unknown as Bound;
}

function aosA(h: Heap, base: number, n: number): number {
  let s = 0;
  for (let i = 0, p = base; i < n; i++, p += SIZE) {
    const v = genA.value.get(h, p);
    const id = genA.id.get(h, p);
    const w = genA.w.get(h, p);
    genA.value.set(h, p, v * 0.5 + id);
    genA.w.set(h, p, w + 1);
    s += id;
  }
  return s;
}
function aosB(h: Heap, base: number, n: number): number {
  let s = 0;
  for (let i = 0, p = base; i < n; i++, p += SIZE) {
    const v = closB.value.get(h, p);
    const id = closB.id.get(h, p);
    const w = closB.w.get(h, p);
    closB.value.set(h, p, v * 0.5 + id);
    closB.w.set(h, p, w + 1);
    s += id;
  }
  return s;
}
function aosC(h: Heap, base: number, n: number): number {
  let s = 0;
  for (let i = 0, p = base; i < n; i++, p += SIZE) {
    const v = genC.value(h, p);
    const id = genC.id(h, p);
    const w = genC.w(h, p);
    genC.setValue(h, p, v * 0.5 + id);
    genC.setW(h, p, w + 1);
    s += id;
  }
  return s;
}
function aosC2(h: Heap, base: number, n: number): number {
  let s = 0;
  for (let i = 0, p = base; i < n; i++, p += SIZE) {
    const v = closC2.value(h, p);
    const id = closC2.id(h, p);
    const w = closC2.w(h, p);
    closC2.setValue(h, p, v * 0.5 + id);
    closC2.setW(h, p, w + 1);
    s += id;
  }
  return s;
}
// One loop per bound form (same text, separate feedback).
function boundLoop(): (node: Bound, base: number, n: number) => number {
  return new Function(
    'node',
    'base',
    'n',
    `
    let s = 0;
    for (let i = 0, p = base; i < n; i++, p += ${SIZE}) {
      const v = node.value(p);
      const id = node.id(p);
      const w = node.w(p);
      node.setValue(p, v * 0.5 + id);
      node.setW(p, w + 1);
      s += id;
    }
    return s;`,
  ) as (node: Bound, base: number, n: number) => number;
}
const aosD1 = boundLoop();
const aosD3 = boundLoop();
const aosDK = boundLoop();

// ------------------------------------------------------------------ set-up and timing
const base = Particle.callocArray(heap, N);
let head = 0;
{
  let tail = 0;
  for (let i = 0; i < N; i++) {
    const p = Particle.calloc(heap);
    if (p === 0 || base === 0) throw new Error('out of memory');
    particle.setId(p, i & 7);
    particle.setId(base + i * SIZE, i & 7);
    if (tail === 0) head = p;
    else particle.setNext(tail, p);
    tail = p;
  }
}

interface Form {
  workload: string;
  name: string;
  accesses: number;
  run(): number;
}
const forms: Form[] = [
  { workload: 'aos', name: 'hand', accesses: 5, run: () => aosHand(heap, base, N) },
  { workload: 'aos', name: 'struct', accesses: 5, run: () => aosStruct(particle, base, N) },
  { workload: 'list', name: 'hand', accesses: 4, run: () => listHand(heap, head) },
  { workload: 'list', name: 'struct', accesses: 4, run: () => listStruct(particle, head) },
  { workload: 'vec', name: 'hand', accesses: 7, run: () => vecHand(heap, base, N) },
  { workload: 'vec', name: 'struct', accesses: 7, run: () => vecStruct(particle, base, N) },
];
if (VARIANTS) {
  // Two heaps through the same loop functions, alternating: the struct loop's call sites see the
  // accessors of two views (closures of the same code, different heaps).
  const heap2 = createHeap();
  const particle2 = Particle.on(heap2);
  const base2 = Particle.callocArray(heap2, N);
  if (base2 === 0) throw new Error('out of memory');
  let flip = 0;
  forms.push(
    {
      workload: 'aos, 2 heaps alternating',
      name: 'hand',
      accesses: 5,
      run: () => ((flip ^= 1) ? aosHand2(heap, base, N) : aosHand2(heap2, base2, N)),
    },
    {
      workload: 'aos, 2 heaps alternating',
      name: 'struct',
      accesses: 5,
      run: () => ((flip ^= 1) ? aosStruct2(particle, base, N) : aosStruct2(particle2, base2, N)),
    },
  );
  const d1 = new GenD1(heap);
  const d3 = new ClosD3(heap);
  const dk = keyedView();
  for (const o of d3Others)
    for (let k = 0; k < 20000; k++) {
      o.setValue(base, o.value(base) + o.id(base));
      o.setW(base, o.w(base));
    }
  forms.push(
    { workload: 'aos', name: '(a) new Function, S.value.get(heap, p)', accesses: 5, run: () => aosA(heap, base, N) },
    { workload: 'aos', name: '(b) closures, S.value.get(heap, p)', accesses: 5, run: () => aosB(heap, base, N) },
    { workload: 'aos', name: '(c) new Function class, S.value(heap, p)', accesses: 5, run: () => aosC(heap, base, N) },
    { workload: 'aos', name: '(c2) class of closures, S.value(heap, p)', accesses: 5, run: () => aosC2(heap, base, N) },
    { workload: 'aos', name: '(d1) new Function class bound, this.h', accesses: 5, run: () => aosD1(d1, base, N) },
    { workload: 'aos', name: '(d3) class of shared closures bound, this.h', accesses: 5, run: () => aosD3(d3, base, N) },
    { workload: 'aos', name: '(dk) shipped form as a dictionary object', accesses: 5, run: () => aosDK(dk, base, N) },
  );
}

let sink = 0;
for (const f of forms) for (let k = 0; k < 300; k++) sink += f.run(); // warm-up: every form optimised
const times = new Map<Form, number[]>(forms.map((f) => [f, []]));
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? forms : [...forms].reverse();
  for (const f of order) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < REPS; k++) sink += f.run();
    const ns = Number(process.hrtime.bigint() - t0);
    times.get(f)!.push(ns / (REPS * N * f.accesses));
  }
}

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const f3 = (x: number): string => (x >= 0 ? ' ' : '') + x.toFixed(3);
console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu?'} x${os.cpus().length}, ${os.platform()} ${os.arch()}`);
console.log(`command: node --import tsx bench/micro/struct.ts ${process.argv.slice(2).join(' ')}`.trimEnd());
console.log(`n ${N} structs of ${SIZE} bytes, ${REPS} passes per round and form, ${ROUNDS} rounds interleaved (order alternating)`);
console.log(
  'ns per field access: median over rounds (min-max); diff = form - hand: of the medians, then median (min..max) of the per-round differences',
);
for (const w of [...new Set(forms.map((f) => f.workload))]) {
  const hand = forms.find((f) => f.workload === w && f.name === 'hand')!;
  const ht = times.get(hand)!;
  console.log(`\n${w} (${hand.accesses} field accesses per element)`);
  for (const f of forms.filter((x) => x.workload === w)) {
    const t = times.get(f)!;
    const line = `  ${f.name.padEnd(46)} ${median(t).toFixed(3)} (${Math.min(...t).toFixed(3)}-${Math.max(...t).toFixed(3)})`;
    if (f === hand) {
      console.log(line);
      continue;
    }
    const d = t.map((x, i) => x - ht[i]!);
    console.log(`${line}  diff ${f3(median(t) - median(ht))}, per round ${f3(median(d))} (${f3(Math.min(...d))}..${f3(Math.max(...d))})`);
  }
}
if (sink === 0.5) console.log(''); // keep the results live
