// Tail latency of single calls, one run in its own process; prints one JSON line.
//
//   node --import tsx bench/latency/child.ts --peer hakmem [--cycles 2000000 --ws 65536 --seed 42]
//
// Workload A with sizes "rand" (16..1039 bytes, 65536 slots, 2M ops by default: ../shared/workloads.md A),
// in user form (the block's first byte written through the allocator's view getter), with every op
// timed alone: performance.now() before and after each malloc or free (the write included). Warm-up
// as bench/synthetic/child.ts (10 tiny runs on one instance, 3 of min(200k, cycles/20) ops on throw-away
// instances), then a fresh instance is timed. Reports p50, p99, p99.9, p99.99 and max in microseconds.
//
// --peer: a bench/peers/*.ts allocator (hakmem, floor, tlsf, ...), or `hakmem/key=value/...`
// (createHeap options, e.g. hakmem/initialBytes=67108864: a heap created 64 MiB large, so no growth);
// a `+touched` suffix writes one byte into every 4 KiB page of the instance's memory before the timed
// run (untimed), so no op pays a page fault: what is left is the allocator's own work.
import { parseArgs } from 'node:util';
import { analyze, type Allocator, type CreateOpts, type HeapPeer, type Workload } from '../synthetic/core.ts';
import { hakmemOptions } from '../peers/trace/adapters.ts';
import { hakmemPeer } from '../peers/hakmem.ts';
import { createHeap } from '../../src/index.ts';

export interface LatencyChildResult {
  peer: string;
  cycles: number;
  ws: number;
  seed: number;
  /** microseconds */
  p50: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
  /** mean of the timed ops (each op's time includes the two clock reads), microseconds */
  mean: number;
  /** the clock's own cost: median of back-to-back performance.now() pairs, microseconds */
  clockUs: number;
  highWater: number;
}

const { values } = parseArgs({
  options: {
    peer: { type: 'string' },
    cycles: { type: 'string', default: '2000000' },
    ws: { type: 'string', default: '65536' },
    seed: { type: 'string', default: '42' },
  },
});
if (!values.peer) throw new Error('--peer NAME is required');
const w: Workload = { kind: 'A', cycles: Number(values.cycles), ws: Number(values.ws), seed: Number(values.seed), sizes: 'rand' };
if ((w.ws & (w.ws - 1)) !== 0) throw new Error('--ws must be a power of two');
const touched = values.peer.endsWith('+touched');
const spec = touched ? values.peer.slice(0, -'+touched'.length) : values.peer;
const hopts = hakmemOptions(spec);
const peer: HeapPeer = hopts
  ? hakmemPeer(spec, `createHeap(${JSON.stringify(hopts)})`, () => createHeap(hopts as Parameters<typeof createHeap>[0]))
  : ((await import(`../peers/${spec}.ts`)) as { peer: HeapPeer }).peer;
if (peer.kind !== 'heap' || peer.runOutside) throw new Error(`${values.peer}: only offset allocators run in JS are timed per op`);
const opts: CreateOpts = { maxSize: 16 + 0x3ff, capacity: analyze(w).classBoundBytes };

/** A "rand" (loopARand of bench/synthetic/core.ts) with each op timed into lat[i] (ms). */
function loopTimed(a: Allocator, slots: Int32Array | Float64Array, cycles: number, seed: number, lat: Float64Array): number {
  const mask = slots.length - 1;
  let s = seed | 0;
  for (let i = 0; i < cycles; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const idx = s & mask;
    const q = slots[idx]!;
    const t0 = performance.now();
    if (q !== 0) {
      a.free(q);
      slots[idx] = 0;
    } else {
      const size = 16 + (s & 0x3ff);
      const p = a.malloc(size);
      if (p === 0) throw new Error(`out of memory at ${size} bytes`);
      a.u8[p] = i;
      slots[idx] = p;
    }
    lat[i] = performance.now() - t0;
  }
  return s;
}

const run = (cycles: number, lat: Float64Array) => {
  const inst = peer.create(opts);
  if (touched) {
    const u8 = inst.alloc.u8;
    for (let i = 0; i < u8.length; i += 4096) u8[i] = u8[i]!; // untimed: every page faulted in (contents kept)
  }
  const slots = inst.wide ? new Float64Array(w.ws) : new Int32Array(w.ws);
  loopTimed(inst.alloc, slots, cycles, w.seed, lat);
  return inst.highWater();
};
{
  const prime = peer.create(opts);
  const slots = prime.wide ? new Float64Array(w.ws) : new Int32Array(w.ws);
  const lat = new Float64Array(16);
  for (let k = 0; k < 10; k++) loopTimed(prime.alloc, slots, 16, w.seed, lat);
  const warm = Math.min(200_000, Math.floor(w.cycles / 20));
  for (let k = 0; k < 3; k++) run(warm, new Float64Array(warm));
}
const lat = new Float64Array(w.cycles);
const highWater = run(w.cycles, lat);
let sum = 0;
for (let i = 0; i < lat.length; i++) sum += lat[i]!;
lat.sort();
const q = (f: number) => lat[Math.min(lat.length - 1, Math.floor(f * lat.length))]! * 1000;
const clock = new Float64Array(100_001);
for (let i = 0; i < clock.length; i++) {
  const t = performance.now();
  clock[i] = performance.now() - t;
}
clock.sort();
const out: LatencyChildResult = {
  peer: values.peer,
  cycles: w.cycles,
  ws: w.ws,
  seed: w.seed,
  p50: q(0.5),
  p99: q(0.99),
  p999: q(0.999),
  p9999: q(0.9999),
  max: lat[lat.length - 1]! * 1000,
  mean: (sum / lat.length) * 1000,
  clockUs: clock[50_000]! * 1000,
  highWater,
};
process.stdout.write(JSON.stringify(out) + '\n');
