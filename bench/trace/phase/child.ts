// Workload P of workloads.md, one run in its own process; prints one JSON line.
//
//   node --import tsx bench/trace/phase/child.ts --files A.trace.gz,B.trace.gz,... --alloc hakmem[/key=value...] [--diag]
//
// Real programs back to back on ONE heap: each file is replayed in turn (the sequence form lists
// several traces, the repeat form one trace several times); when a trace ends, the blocks it left
// live are freed, so the heap carries the previous program's layout into the next. Untimed: parse
// and analysis. Warm-up as bench/trace/child.ts's cold form (10 replays of the first trace's first
// 64 ops on one throw-away heap, 3 replays of its first min(200k, ops/20) ops on throw-away heaps),
// then the timed sequence on a fresh heap: each phase's replay timed alone (performance.now()
// around the loop), the survivors' frees timed apart; total = the sum of both.
//
// --alloc: an allocator of the trace replay (bench/peers/trace/adapters.ts): `hakmem`, or
// `hakmem/key=value/...` (createHeap options: `hakmem/mode=learning`), `tlsf`, `floor`, `wasm-*`.
import { parseArgs } from 'node:util';
import { createInstance, type TraceInstance } from '../../peers/trace/adapters.ts';
import { loadTrace, OP_A, OP_C, OP_F, OP_M, OP_R, replayRange, ReplayError, type Trace } from '../core.ts';

export interface PhaseResult {
  trace: string;
  ops: number;
  /** the replay of the trace's ops */
  ms: number;
  nsPerOp: number;
  /** freeing the blocks the trace left live */
  freeMs: number;
  survivors: number;
  /** the heap's high-water after this phase (bytes) */
  highWater: number;
  peakLiveBytes: number;
  failures: number;
}

export interface PhaseChildResult {
  alloc: string;
  phases: PhaseResult[];
  ops: number;
  /** all phases, replay and survivors' frees */
  ms: number;
  nsPerOp: number;
  highWater: number;
  /** the largest peak_live_bytes of the traces */
  maxPeakLiveBytes: number;
  failures: number;
  warmFailures: number;
  parseMs: number;
  error?: string;
  diag?: unknown;
}

const { values } = parseArgs({
  options: {
    files: { type: 'string' },
    alloc: { type: 'string', default: 'hakmem' },
    diag: { type: 'boolean', default: false },
  },
});
if (!values.files) throw new Error('--files A.trace.gz,B.trace.gz,... is required');
const files = values.files.split(',');

const tp = performance.now();
const cache = new Map<string, Trace>();
const traces = files.map((f) => {
  let t = cache.get(f);
  if (!t) {
    t = loadTrace(f);
    if (t.threads !== 1) throw new Error(`${t.name} has ${t.threads} threads: workload P replays single-thread traces`);
    cache.set(f, t);
  }
  return t;
});
/** per trace: the ids still live after its last op (created and never freed or reallocated) */
const survivorsOf = new Map<Trace, Int32Array>();
for (const t of cache.values()) {
  const live = new Uint8Array(t.ids);
  for (let i = 0; i < t.ops; i++) {
    const k = t.kind[i];
    if (k === OP_A || k === OP_C || k === OP_M) live[t.id[i]] = 1;
    else if (k === OP_F) live[t.id[i]] = 0;
    else if (k === OP_R) {
      live[t.id[i]] = 0;
      live[t.newid[i]] = 1;
    }
  }
  const ids: number[] = [];
  for (let id = 0; id < t.ids; id++) if (live[id]) ids.push(id);
  survivorsOf.set(t, Int32Array.from(ids));
}
const parseMs = performance.now() - tp;

/** A fresh instance of the allocator; its analysis (floor's capacity, alignments) sees every trace of the sequence. */
function instance(): Promise<TraceInstance> {
  if (traces.length === 1) return createInstance(values.alloc!, traces[0]!);
  const all = traces.reduce((n, t) => n + t.ops, 0);
  const pick = <A extends Int32Array | Float64Array | Uint8Array>(f: (t: Trace) => A, make: (n: number) => A): A => {
    const out = make(all);
    let o = 0;
    for (const t of traces) {
      out.set(f(t) as never, o);
      o += t.ops;
    }
    return out;
  };
  // one pseudo-trace of the whole sequence for the analysis only (ids offset per trace)
  let idBase = 0;
  const id = new Int32Array(all);
  const newid = new Int32Array(all);
  let o = 0;
  for (const t of traces) {
    for (let i = 0; i < t.ops; i++) {
      id[o + i] = t.id[i]! + idBase;
      newid[o + i] = t.newid[i]! < 0 ? -1 : t.newid[i]! + idBase;
    }
    o += t.ops;
    idBase += t.ids;
  }
  const seq = {
    ...traces[0]!,
    ops: all,
    ids: idBase,
    kind: pick(
      (t) => t.kind,
      (n) => new Uint8Array(n),
    ),
    tid: new Int32Array(all),
    id,
    newid,
    size: pick(
      (t) => t.size,
      (n) => new Float64Array(n),
    ),
    align: pick(
      (t) => t.align,
      (n) => new Int32Array(n),
    ),
    peakLiveBytes: Math.max(...traces.map((t) => t.peakLiveBytes)),
  } as Trace;
  return createInstance(values.alloc!, seq);
}

// warm-up (untimed): the first trace's beginning, on throw-away heaps
let warmFailures = 0;
{
  const t = traces[0]!;
  const inst = await instance();
  for (let k = 0; k < 10; k++) {
    warmFailures += replayRange(inst.alloc, t, new Float64Array(t.ids), new Float64Array(t.ids), 0, Math.min(64, t.ops));
  }
  const w = Math.min(200_000, Math.floor(t.ops / 20));
  for (let k = 0; k < 3; k++) {
    warmFailures += replayRange((await instance()).alloc, t, new Float64Array(t.ids), new Float64Array(t.ids), 0, w);
  }
}

const inst = await instance();
const a = inst.alloc;
const phases: PhaseResult[] = [];
let error: string | undefined;
try {
  for (const t of traces) {
    const ptrs = new Float64Array(t.ids);
    const sizes = new Float64Array(t.ids);
    const surv = survivorsOf.get(t)!;
    const t0 = performance.now();
    const failures = replayRange(a, t, ptrs, sizes, 0, t.ops);
    const t1 = performance.now();
    for (let i = 0; i < surv.length; i++) a.free(ptrs[surv[i]!]!);
    const t2 = performance.now();
    phases.push({
      trace: t.name,
      ops: t.ops,
      ms: t1 - t0,
      nsPerOp: ((t1 - t0) * 1e6) / t.ops,
      freeMs: t2 - t1,
      survivors: surv.length,
      highWater: inst.highWater(),
      peakLiveBytes: t.peakLiveBytes,
      failures,
    });
  }
} catch (e) {
  error = e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e);
  if (!(e instanceof ReplayError) && e instanceof Error)
    error += ` [${(e.stack ?? '')
      .split('\n')
      .slice(1, 4)
      .map((s) => s.trim())
      .join(' | ')}]`;
}
const ops = phases.reduce((n, p) => n + p.ops, 0);
const ms = phases.reduce((n, p) => n + p.ms + p.freeMs, 0);
const out: PhaseChildResult = {
  alloc: values.alloc!,
  phases,
  ops,
  ms,
  nsPerOp: ops ? (ms * 1e6) / ops : 0,
  highWater: inst.highWater(),
  maxPeakLiveBytes: Math.max(...traces.map((t) => t.peakLiveBytes)),
  failures: phases.reduce((n, p) => n + p.failures, 0),
  warmFailures,
  parseMs,
  error,
  diag: values.diag && inst.diag ? inst.diag() : undefined,
};
process.stdout.write(JSON.stringify(out) + '\n');
