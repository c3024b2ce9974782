// One run of one trace on one allocator (workload T), in its own process; prints one JSON line.
//
//   node --import tsx bench/trace/child.ts --file ../shared/traces/gcc-cc1.trace.gz --alloc hakmem [--warm] [--diag]
//
// Untimed: parse + analysis. Cold (the default, a short-lived program): warm-up as workloads.md,
// 10 tiny replays (64 ops) on one instance so every line has type feedback, then 3 replays of the
// first min(200k, ops/20) ops on throw-away instances; then a fresh instance replays the whole
// trace, timed (performance.now() around the loop only). --warm (a long-running program's steady
// state): after the same, the whole trace twice more, untimed, on throw-away instances, then the
// timed replay on a fresh one. Blocks live at the end are left alone.
import { writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createInstance } from '../peers/trace/adapters.ts';
import { loadTrace, replay, ReplayError, type Trace } from './core.ts';

export interface TraceChildResult {
  trace: string;
  alloc: string;
  ops: number;
  ms: number;
  nsPerOp: number;
  highWater: number;
  peakLiveBytes: number;
  failures: number;
  warmFailures: number;
  emulated: string;
  parseMs: number;
  error?: string;
  errorOp?: number;
  diag?: unknown;
}

const { values } = parseArgs({
  options: {
    file: { type: 'string' },
    alloc: { type: 'string', default: 'hakmem' },
    diag: { type: 'boolean', default: false },
    warm: { type: 'boolean', default: false },
  },
});
if (!values.file) throw new Error('--file FILE.trace.gz is required');

// native-glibc / native-mimalloc / native-jemalloc: the C replayer (bench/peers/built/replay.c) does it all
const ext = await import('../peers/trace/built.ts');
if (ext.isNativeTracePeer(values.alloc!)) {
  writeSync(1, JSON.stringify(await ext.replayNative(values.alloc!, values.file, values.warm)) + '\n');
  process.exit(0);
}

const tp = performance.now();
const t: Trace = loadTrace(values.file);
const parseMs = performance.now() - tp;
if (t.threads !== 1) throw new Error(`${t.name} has ${t.threads} threads: only single-thread traces are replayed`);

const tables = async (upTo: number) => {
  const inst = await createInstance(values.alloc!, t, upTo);
  return {
    inst,
    ptrs: inst.wide ? new Float64Array(t.ids) : new Int32Array(t.ids),
    sizes: new Float64Array(t.ids),
  };
};

let warmFailures = 0;
const warm = Math.min(200_000, Math.floor(t.ops / 20));
{
  // capacity for the whole trace: blocks still live after the 64-op prefix leak on each repeat
  const p = await tables(t.ops);
  for (let k = 0; k < 10; k++) warmFailures += replay(p.inst.alloc, t, p.ptrs, p.sizes, Math.min(64, t.ops));
}
for (let k = 0; k < 3; k++) {
  const w = await tables(warm);
  warmFailures += replay(w.inst.alloc, t, w.ptrs, w.sizes, warm);
}
for (let k = 0; values.warm && k < 2; k++) {
  const w = await tables(t.ops);
  warmFailures += replay(w.inst.alloc, t, w.ptrs, w.sizes, t.ops);
}

const r = await tables(t.ops);
let failures = 0;
let error: string | undefined;
let errorOp: number | undefined;
const t0 = performance.now();
try {
  failures = replay(r.inst.alloc, t, r.ptrs, r.sizes, t.ops);
} catch (e) {
  error = e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e);
  if (e instanceof ReplayError) errorOp = e.op;
  else if (e instanceof Error)
    error += ` [${(e.stack ?? '')
      .split('\n')
      .slice(1, 4)
      .map((s) => s.trim())
      .join(' | ')}]`;
}
const t1 = performance.now();

const out: TraceChildResult = {
  trace: t.name,
  alloc: values.alloc!,
  ops: t.ops,
  ms: t1 - t0,
  nsPerOp: ((t1 - t0) * 1e6) / t.ops,
  highWater: r.inst.highWater(),
  peakLiveBytes: t.peakLiveBytes,
  failures,
  warmFailures,
  emulated: r.inst.emulated,
  parseMs,
  error,
  errorOp,
  diag: values.diag && r.inst.diag ? r.inst.diag() : undefined,
};
process.stdout.write(JSON.stringify(out) + '\n');
