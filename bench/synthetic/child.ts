// Runs one configuration (one allocator, one workload) in this process and prints one JSON line.
//
//   node --import tsx --expose-gc bench/synthetic/child.ts --peer floor --workload A \
//        --cycles 10000000 --ws 8192 --seed 42 --sizes rand2 [--capacity BYTES] [--memory] [--marks]
//
// Warm-up: the same loop 3 times for min(200k, cycles/20) cycles on throw-away instances, then a
// fresh instance is timed (performance.now() around the loop only). --memory (GC peers only)
// adds an untimed pass that samples heapUsed + arrayBuffers to estimate their high water.
import { writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  analyze,
  loopA,
  loopAGc,
  loopARand2Cached,
  loopC1,
  loopC1Gc,
  loopC2,
  loopC2Gc,
  maxSizeOf,
  sizeMode,
  type CreateOpts,
  type GcPeer,
  type HeapPeer,
  type Peer,
  type SizeRule,
  type Workload,
} from './core.ts';

export interface ChildResult {
  peer: string;
  workload: Workload;
  ms: number;
  nsPerOp: number;
  /** heap peers: the allocator's own high water; GC peers: sampled growth, or -1 */
  highWater: number;
  highWaterKind: 'heap' | 'sampled' | 'none';
  finalState: number;
}

const { values } = parseArgs({
  options: {
    peer: { type: 'string' },
    workload: { type: 'string', default: 'A' },
    cycles: { type: 'string' },
    ws: { type: 'string' },
    seed: { type: 'string', default: '42' },
    sizes: { type: 'string', default: 'rand2' },
    capacity: { type: 'string' },
    memory: { type: 'boolean', default: false },
    // print "# timed loop start/end" on stdout, to place --trace-deopt lines (use stdbuf -o0)
    marks: { type: 'boolean', default: false },
  },
});

const kind = values.workload === 'C2' ? 'C2' : values.workload === 'C1' ? 'C1' : 'A';
const w: Workload = {
  kind,
  cycles: Number(values.cycles ?? (kind === 'A' ? 10_000_000 : 2000)),
  ws: Number(values.ws ?? (kind === 'C2' ? 16 : kind === 'C1' ? 1 : 8192)),
  seed: Number(values.seed),
  sizes: kind === 'A' ? (values.sizes as SizeRule) : 'large',
};
if (!values.peer) throw new Error('--peer NAME is required');
if ((w.ws & (w.ws - 1)) !== 0) throw new Error('--ws must be a power of two');
if (kind === 'A' && !['rand', 'fixed256', 'rand2'].includes(w.sizes)) throw new Error(`bad --sizes ${w.sizes}`);

const { peer } = (await import(`../peers/${values.peer}.ts`)) as { peer: Peer };
const opts: CreateOpts = {
  maxSize: maxSizeOf(w),
  capacity: values.capacity ? Number(values.capacity) : analyze(w).classBoundBytes,
};
const warmCycles = Math.min(200_000, Math.floor(w.cycles / 20));
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
// PRIME: V8 allocates a function's feedback vector only after a few calls, so the code before the
// loop in the first call records no type feedback; the loop is then optimized (OSR) without it and
// deopts on a later entry, sometimes right at the start of the timed run. Ten tiny calls first
// (on one instance; the slots carry over, so nothing leaks) give every line feedback, and the
// warm-up then leaves an optimized loop (checked with
// `stdbuf -o0 node --import tsx --trace-deopt --trace-opt bench/synthetic/child.ts ... --marks`).
// No gc() before the timed run: a full GC drops optimized code ("weak objects" deopts).
const mark = (s: string) => {
  if (values.marks) writeSync(1, `# ${s}\n`);
};

const result =
  peer.kind === 'heap' && peer.runOutside
    ? { peer: peer.name, workload: w, ...peer.runOutside(w) } // native peers: no JS loop, no warm-up
    : peer.kind === 'heap'
      ? runHeap(peer)
      : await runGc(peer);
process.stdout.write(JSON.stringify(result) + '\n');

function runHeap(p: HeapPeer): ChildResult {
  if (p.cachedView && !(kind === 'A' && w.sizes === 'rand2')) throw new Error(`${p.name} runs only workload A with sizes rand2`);
  const loop =
    kind === 'C2' ? loopC2 : kind === 'C1' ? loopC1 : p.cachedView ? loopARand2Cached : loopA[w.sizes as 'rand' | 'fixed256' | 'rand2'];
  const run = (cycles: number) => {
    const inst = p.create(opts);
    const slots = inst.wide ? new Float64Array(w.ws) : new Int32Array(w.ws);
    const t0 = performance.now();
    const s = loop(inst.alloc, slots, cycles, w.seed);
    const t1 = performance.now();
    return { ms: t1 - t0, s, hw: inst.highWater() };
  };
  const prime = p.create(opts); // see PRIME
  const primeSlots = prime.wide ? new Float64Array(w.ws) : new Int32Array(w.ws);
  for (let k = 0; k < 10; k++) loop(prime.alloc, primeSlots, 16, w.seed);
  for (let k = 0; k < 3; k++) run(warmCycles);
  mark('timed run start');
  const r = run(w.cycles);
  mark('timed run end');
  return {
    peer: p.name,
    workload: w,
    ms: r.ms,
    nsPerOp: (r.ms * 1e6) / w.cycles,
    highWater: r.hw,
    highWaterKind: r.hw > 0 ? 'heap' : 'none',
    finalState: r.s,
  };
}

async function runGc(p: GcPeer): Promise<ChildResult> {
  const mode = sizeMode(w.sizes);
  const newSlots = (): (Uint8Array | null)[] => new Array<Uint8Array | null>(w.ws).fill(null);
  const loop = (g: ReturnType<GcPeer['create']>, slots: (Uint8Array | null)[], cycles: number, seed: number) =>
    kind === 'C2'
      ? loopC2Gc(g, slots, cycles, seed)
      : kind === 'C1'
        ? loopC1Gc(g, slots, cycles, seed)
        : loopAGc(g, slots, cycles, seed, mode);
  const prime = p.create(opts); // see PRIME
  const primeSlots = newSlots();
  for (let k = 0; k < 10; k++) loop(prime, primeSlots, 16, w.seed);
  for (let k = 0; k < 3; k++) loop(p.create(opts), newSlots(), warmCycles, w.seed);
  const g = p.create(opts);
  const slots = newSlots();
  mark('timed run start');
  const t0 = performance.now();
  const s = loop(g, slots, w.cycles, w.seed);
  const t1 = performance.now();
  mark('timed run end');
  let highWater = -1;
  if (values.memory) {
    // Untimed: replay in chunks on a fresh array, sampling what the process holds for the
    // blocks (JS heap + ArrayBuffer memory, including garbage not yet collected).
    slots.fill(null);
    // ArrayBuffer backing stores are released by a concurrent sweeper after a GC: let it finish
    // so that the timed run's dead blocks are not in the baseline.
    for (let k = 0; k < 3; k++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const used = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const base = used();
    const mslots = newSlots();
    const chunk = kind === 'A' ? 4096 : 8;
    let st = w.seed;
    for (let done = 0; done < w.cycles; done += chunk) {
      st = loop(g, mslots, Math.min(chunk, w.cycles - done), st);
      highWater = Math.max(highWater, used() - base);
    }
  }
  return {
    peer: p.name,
    workload: w,
    ms: t1 - t0,
    nsPerOp: ((t1 - t0) * 1e6) / w.cycles,
    highWater,
    highWaterKind: values.memory ? 'sampled' : 'none',
    finalState: s,
  };
}
