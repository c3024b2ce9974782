// One configuration of workload B (larson) in this process: one allocator, T threads; prints one
// JSON line (LarsonChildResult). The driver is bench/larson/run.ts.
//
//   node --import tsx bench/larson/child.ts --alloc hakmem|mt-floor --threads 2 [--seconds 3]
//        [--chunks 1000] [--rounds 100] [--min 8] [--max 1024] [--seed 42] [--warm 3]
//
// Starts 2T persistent workers (bench/larson/worker.ts). Warm-up (untimed), as workloads.md asks
// of every JS workload: `--warm` phases on throw-away instances, each area running 4 generations
// (so every worker runs two generations of rounds*chunks steps per phase, the second one collecting
// what its partner freed; the first phase also primes the loop with tiny calls). Then a fresh instance: the main thread fills the areas, the
// workers attach, and the clock runs from the first hand-over to the end of the last generation
// that started before `--seconds` had passed. Throughput = ops (2 per step) / that wall time.
// After it (untimed): the footprint, then the main thread frees every block still in the areas
// and hakmem's heap must pass check() with 0 bytes in use.
import { readdirSync, readFileSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  aGens,
  aState,
  aTurn,
  areaSeed,
  C_DONE,
  C_ERROR,
  C_GEN_LIMIT,
  C_READY,
  C_SLEEP,
  C_STOP,
  ctlWords,
  fillArea,
  LARSON_DEFAULTS,
  type LarsonParams,
} from './core.ts';
import type { LarsonPhaseDone, LarsonPhaseMsg, LarsonWorkerData } from './worker.ts';
import { createMt } from '../peers/mt/adapters.ts';
import { nextMessage, startTsWorker } from '../lib/spawn.ts';

export interface LarsonChildResult {
  alloc: string;
  params: LarsonParams;
  /** ops in the timed phase (2 per step) */
  ops: number;
  ms: number;
  /** CPU time of the whole process during the timed phase / its wall time: the cores the run got
   *  (T when the machine is otherwise idle; less means other processes took CPU from it) */
  cores: number;
  /** (time on a CPU + time runnable waiting for one) of all the process's threads during the timed
   *  phase / its wall time, from /proc/self/task/N/schedstat (-1 where unavailable): the cores the
   *  run wanted. Below T means its threads slept (hand-overs, or blocking inside the allocator),
   *  whatever the machine's load */
  demand: number;
  mopsPerSec: number;
  nsPerOp: number;
  /** generations per area in the timed phase */
  generations: number[];
  /** generations run by each worker in the timed phase */
  workerGenerations: number[];
  highWater: number;
  /** '' when the end checks passed */
  verify: string;
  warmMs: number;
  error?: string;
}

const { values } = parseArgs({
  options: {
    alloc: { type: 'string', default: 'hakmem' },
    threads: { type: 'string', default: String(LARSON_DEFAULTS.threads) },
    seconds: { type: 'string', default: String(LARSON_DEFAULTS.seconds) },
    chunks: { type: 'string', default: String(LARSON_DEFAULTS.chunks) },
    rounds: { type: 'string', default: String(LARSON_DEFAULTS.rounds) },
    min: { type: 'string', default: String(LARSON_DEFAULTS.min) },
    max: { type: 'string', default: String(LARSON_DEFAULTS.max) },
    seed: { type: 'string', default: String(LARSON_DEFAULTS.seed) },
    warm: { type: 'string', default: '3' },
    capacity: { type: 'string', default: String(64 << 20) },
    // print "# timed phase start/end" on stdout, to place --trace-deopt lines (use stdbuf -o0)
    marks: { type: 'boolean', default: false },
  },
});
const P: LarsonParams = {
  seconds: Number(values.seconds),
  chunks: Number(values.chunks),
  rounds: Number(values.rounds),
  min: Number(values.min),
  max: Number(values.max),
  seed: Number(values.seed),
  threads: Number(values.threads),
};
if (!(P.threads >= 1 && P.chunks >= 1 && P.chunks < 65536 && P.max >= P.min && P.min >= 1 && P.max - P.min < 65536)) {
  throw new Error(`bad larson parameters ${JSON.stringify(P)}`);
}
const alloc = values.alloc!;
const T = P.threads;
const range = P.max - P.min + 1;
const WAIT_LIMIT_MS = 120_000;
/** per area and warm-up phase: every worker runs 2 generations, so in its second one it takes
 *  back the blocks its partner freed (the remote-collection path is warm before timing) */
const WARM_GENERATIONS = 4;

const workers = Array.from({ length: 2 * T }, (_, index) =>
  startTsWorker(new URL('./worker.ts', import.meta.url), { alloc, index, params: P } satisfies LarsonWorkerData),
);
await Promise.all(workers.map((w) => nextMessage<string>(w)));

/** Sum over this process's threads of ns on a CPU + ns runnable waiting for one (Linux), or 0. */
function schedstat(): number {
  try {
    let sum = 0;
    for (const t of readdirSync('/proc/self/task')) {
      const f = readFileSync(`/proc/self/task/${t}/schedstat`, 'latin1').split(' ');
      sum += Number(f[0]) + Number(f[1]);
    }
    return sum;
  } catch {
    return 0;
  }
}

/** Atomics.wait until ctl[i] >= target (or a worker failed); returns false on failure. */
function waitAtLeast(ctl: Int32Array, i: number, target: number): boolean {
  const t0 = performance.now();
  let v: number;
  while ((v = Atomics.load(ctl, i)) < target) {
    if (Atomics.load(ctl, C_ERROR) !== 0) return false;
    if (performance.now() - t0 > WAIT_LIMIT_MS) throw new Error(`larson: no progress for ${WAIT_LIMIT_MS / 1000} s`);
    Atomics.wait(ctl, i, v, 1000);
  }
  return Atomics.load(ctl, C_ERROR) === 0;
}

interface PhaseResult {
  ms: number;
  cores: number;
  demand: number;
  generations: number[];
  workerGenerations: number[];
  highWater: number;
  verify: string;
  error?: string;
}

async function phase(genLimit: number, prime: boolean): Promise<PhaseResult> {
  const inst = await createMt(alloc, { maxSize: P.max, capacity: Number(values.capacity), maxThreads: 2 * T + 1 });
  const areas = new Int32Array(new SharedArrayBuffer(T * P.chunks * 4));
  const ctl = new Int32Array(new SharedArrayBuffer(ctlWords(T) * 4));
  ctl[C_GEN_LIMIT] = genLimit;
  for (let k = 0; k < T; k++) {
    ctl[aTurn(k)] = -1;
    ctl[aState(k)] = fillArea(inst.main, areas, k * P.chunks, P.chunks, areaSeed(P, k), P.min, range);
  }
  const msg: LarsonPhaseMsg = {
    handle: inst.handle,
    ctl: ctl.buffer as SharedArrayBuffer,
    areas: areas.buffer as SharedArrayBuffer,
    prime,
  };
  const answers = workers.map((w) => nextMessage<LarsonPhaseDone>(w));
  for (const w of workers) w.postMessage(msg);
  let ok = waitAtLeast(ctl, C_READY, 2 * T);
  const s0 = schedstat();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  if (ok) {
    for (let k = 0; k < T; k++) {
      Atomics.store(ctl, aTurn(k), 0);
      Atomics.notify(ctl, aTurn(k));
    }
    if (genLimit === 0) {
      Atomics.wait(ctl, C_SLEEP, 0, P.seconds * 1000);
      Atomics.store(ctl, C_STOP, 1);
    }
    ok = waitAtLeast(ctl, C_DONE, T);
  }
  const t1 = performance.now();
  const cpu = process.cpuUsage(c0);
  const s1 = schedstat();
  const done = await Promise.all(answers);
  const errors = done.filter((d) => d.error).map((d) => d.error!);
  const cores = (cpu.user + cpu.system) / 1000 / (t1 - t0);
  const demand = s0 && s1 ? (s1 - s0) / 1e6 / (t1 - t0) : -1;
  if (!ok || errors.length)
    return {
      ms: t1 - t0,
      cores,
      demand,
      generations: [],
      workerGenerations: [],
      highWater: 0,
      verify: '',
      error: errors.join('; ') || 'a worker failed',
    };
  const highWater = inst.highWater();
  // untimed end checks: every thread detached; the main thread frees what the areas hold
  for (let i = 0; i < areas.length; i++) inst.main.free(areas[i]);
  const verify = inst.verify(0);
  return {
    ms: t1 - t0,
    cores,
    demand,
    generations: Array.from({ length: T }, (_, k) => ctl[aGens(k)]),
    workerGenerations: done.map((d) => d.generations),
    highWater,
    verify,
  };
}

const tw = performance.now();
let warmError: string | undefined;
for (let w = 0; w < Number(values.warm) && !warmError; w++) {
  const r = await phase(WARM_GENERATIONS, w === 0);
  warmError = r.error ?? (r.verify ? `end check: ${r.verify}` : undefined);
}
const warmMs = performance.now() - tw;
if (values.marks) writeSync(1, '# timed phase start\n');
const r = warmError ? undefined : await phase(0, Number(values.warm) === 0);
if (values.marks) writeSync(1, '# timed phase end\n');
for (const w of workers) w.postMessage('exit');

const ops = r && !r.error ? r.generations.reduce((a, b) => a + b, 0) * P.rounds * P.chunks * 2 : 0;
const out: LarsonChildResult = {
  alloc,
  params: P,
  ops,
  ms: r?.ms ?? 0,
  cores: r?.cores ?? 0,
  demand: r?.demand ?? -1,
  mopsPerSec: r && ops ? ops / (r.ms * 1000) : 0,
  nsPerOp: r && ops ? (r.ms * 1e6) / ops : 0,
  generations: r?.generations ?? [],
  workerGenerations: r?.workerGenerations ?? [],
  highWater: r?.highWater ?? 0,
  verify: r?.verify ?? '',
  warmMs,
  error: warmError ? `warm-up: ${warmError}` : r?.error,
};
process.stdout.write(JSON.stringify(out) + '\n');
