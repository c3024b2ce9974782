// Multi-thread trace replay (workload T of workloads.md for traces with threads > 1, e.g.
// python-threads): one worker per trace thread (bench/trace-mt-worker.ts), every op in the
// recorded global order. The turn passes with Atomics: a worker waits (Atomics.wait on its own
// word) until it is handed the index of its next run of consecutive ops, replays that run, then
// stores the index of the next op into the word of that op's thread and notifies it. Every block
// carries a pattern at both ends, checked at free and realloc by whichever thread ends it.
//
//   node --import tsx bench/trace-mt.ts [FILE.trace.gz ...] [--allocators hakmem,mt-floor] [--runs 5]
//        [--ops N] [--json] [--save FILE] [--ledger DIR]
//
// Each run is a fresh process (bench/trace-mt-child.ts), runs interleaved and the allocator order
// rotated; every invocation writes a ledger record of kind "trace-mt" (bench/ledger.ts). From
// another driver:
//   replayMtTrace(fileOrTrace, 'hakmem', { warmRuns, warmOps, upTo })  one run in this process
//   runMtReplayBench({ files, allocators, runs })  the runs as above -> figures;
//   formatMtReplay(figures) the table; mtReplayLedgerGroups(figures) the ledger groups
import { readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread, type Worker } from 'node:worker_threads';
import { constants, gunzipSync } from 'node:zlib';
import { cpuBusy, derive, LedgerWriter, newRecord, type LedgerGroup } from './ledger.ts';
import { createMt, type MtInstance } from './mt-peers.ts';
import { runJsonChild } from './spawn-child.ts';
import { analyzeTrace, loadTrace, OP_F, OP_R, TRACE_DIR, traceDirPresent, type Trace } from './trace.ts';
import { nextMessage, startTsWorker } from './ts-worker.ts';

// ---- shared between the replaying thread and its workers -------------------------------------

/** A parsed trace whose arrays live in SharedArrayBuffers (workers read them without copies). */
export interface SharedTrace {
  file: string;
  name: string;
  ops: number;
  threads: number;
  ids: number;
  peakLiveBytes: number;
  kind: Uint8Array;
  tid: Int32Array;
  id: Int32Array;
  newid: Int32Array;
  size: Float64Array;
  align: Int32Array;
}

export function shareTrace(t: Trace): SharedTrace {
  const share = <A extends Uint8Array | Int32Array | Float64Array>(a: A, C: new (b: SharedArrayBuffer) => A): A => {
    const s = new C(new SharedArrayBuffer(a.byteLength));
    (s as Uint8Array).set(a as Uint8Array);
    return s;
  };
  return {
    file: t.file, name: t.name, ops: t.ops, threads: t.threads, ids: t.ids, peakLiveBytes: t.peakLiveBytes,
    kind: share(t.kind, Uint8Array), tid: share(t.tid, Int32Array), id: share(t.id, Int32Array),
    newid: share(t.newid, Int32Array), size: share(t.size, Float64Array), align: share(t.align, Int32Array),
  };
}

// control words (Int32Array on a SharedArrayBuffer); each thread's turn word on its own 64 bytes
export const M_READY = 0; // workers attached and waiting
export const M_DONE = 1; // the last op is done
export const M_ERROR = 2; // a worker failed
/** thread t's turn word: the index of the next op it may run (-1 before its first turn) */
export const mGo = (t: number) => 16 + 16 * t;

export interface MtWorkerData {
  alloc: string;
  thread: number;
  trace: SharedTrace;
}

export interface MtReplayRunMsg {
  cmd: 'run';
  handle: unknown;
  ctl: SharedArrayBuffer;
  ptrs: SharedArrayBuffer;
  sizes: SharedArrayBuffer;
  n: number;
}

interface RunAnswer {
  failures: number;
  ops: number;
  error?: string;
}

// ---- one replay in this process ----------------------------------------------------------------

export interface MtReplayOptions {
  /** replay ops [0, upTo) only (default: all) */
  upTo?: number;
  /** warm-up replays on throw-away instances before the timed one (default 3; 0 = none) */
  warmRuns?: number;
  /** ops of each warm-up replay (default: defaultWarmOps) */
  warmOps?: number;
  /** print "# timed replay start/end" on stdout, to place --trace-deopt lines */
  marks?: boolean;
}

export interface MtReplayResult {
  trace: string;
  alloc: string;
  /** ops replayed (timed) */
  ops: number;
  threads: number;
  ms: number;
  nsPerOp: number;
  /** hand-overs of the turn between threads in the timed replay */
  switches: number;
  /** frees and reallocs of a block another thread created, in the replayed ops */
  crossThread: number;
  /** hakmem stats().heapHighWater / mt-floor bytes bumped, after the replay */
  highWater: number;
  /** peak of live requested bytes over the replayed ops (the header's for the whole trace) */
  peakLiveBytes: number;
  /** failed content checks in the timed replay (must be 0), and in the warm-up replays */
  failures: number;
  warmFailures: number;
  warmOps: number;
  warmRuns: number;
  /** blocks (and requested bytes) the replayed ops leave live */
  liveAtEndBlocks: number;
  liveAtEndBytes: number;
  /**
   * '' when the end checks passed. With every worker attached and quiet: hakmem check() passes and
   * stats() shows exactly the live blocks (inUseBlocks, inUseBytes = the sum of their usableSize);
   * then the workers detach, the replaying thread checks the live blocks' patterns and frees them,
   * and hakmem check() passes with 0 bytes in use.
   */
  endCheck: string;
  error?: string;
}

/** The shortest prefix in which every thread has run min(40000, half its ops) ops (at most the whole). */
export function defaultWarmOps(t: SharedTrace, upTo = t.ops): number {
  const total = new Array<number>(t.threads).fill(0);
  for (let i = 0; i < upTo; i++) total[t.tid[i]]++;
  const need = total.map((x) => Math.min(40_000, Math.floor(x / 2)));
  let missing = need.filter((x) => x > 0).length;
  const seen = new Array<number>(t.threads).fill(0);
  for (let i = 0; i < upTo; i++) {
    const th = t.tid[i];
    if (++seen[th] === need[th] && --missing === 0) return i + 1;
  }
  return upTo;
}

/** Untimed: runs, cross-thread ends, and the blocks left live by ops [0, n). */
function analyzeMt(t: SharedTrace, n: number) {
  const creator = new Int32Array(t.ids).fill(-1);
  const ended = new Uint8Array(t.ids);
  let switches = 0;
  let cross = 0;
  let created = 0;
  for (let i = 0; i < n; i++) {
    const k = t.kind[i];
    const th = t.tid[i];
    if (i > 0 && th !== t.tid[i - 1]) switches++;
    if (k === OP_F || k === OP_R) {
      if (creator[t.id[i]] !== th) cross++;
      ended[t.id[i]] = 1;
    }
    if (k === OP_R) { creator[t.newid[i]] = th; created = t.newid[i] + 1; } else if (k !== OP_F) { creator[t.id[i]] = th; created = t.id[i] + 1; }
  }
  const live: number[] = [];
  for (let id = 0; id < created; id++) if (!ended[id]) live.push(id);
  return { switches, cross, live };
}

function pat(id: number): number {
  return (id ^ (id >>> 8) ^ (id >>> 16) ^ 0x5a) & 255;
}

const WAIT_LIMIT_MS = 300_000;

function waitFor(ctl: Int32Array, i: number, target: number): boolean {
  const t0 = performance.now();
  let v: number;
  while ((v = Atomics.load(ctl, i)) < target) {
    if (Atomics.load(ctl, M_ERROR) !== 0) return false;
    if (performance.now() - t0 > WAIT_LIMIT_MS) throw new Error(`trace-mt: no progress for ${WAIT_LIMIT_MS / 1000} s`);
    Atomics.wait(ctl, i, v, 1000);
  }
  return Atomics.load(ctl, M_ERROR) === 0;
}

/**
 * Replays a multi-thread trace (a file, a parsed Trace or a SharedTrace) on `alloc` ('hakmem' or
 * 'mt-floor') with one worker per trace thread, in this process: `warmRuns` replays of the first
 * `warmOps` ops on throw-away instances, then ops [0, upTo) on a fresh instance, timed from the
 * first op's release to the last op's end. Parsing and every check after the replay are untimed.
 */
export async function replayMtTrace(src: string | Trace | SharedTrace, alloc: string, o: MtReplayOptions = {}): Promise<MtReplayResult> {
  const parsed = typeof src === 'string' ? loadTrace(src) : src;
  const st = parsed.kind.buffer instanceof SharedArrayBuffer ? (parsed as SharedTrace) : shareTrace(parsed as Trace);
  const n = Math.min(o.upTo ?? st.ops, st.ops);
  const warmRuns = o.warmRuns ?? 3;
  const warmOps = warmRuns > 0 ? Math.min(o.warmOps ?? defaultWarmOps(st, n), n) : 0;
  // the floor's sizing (16-byte classes up to the largest request; per-thread lists, so room for
  // every thread's share) and whether it can replay the trace
  const an = analyzeTrace(st as unknown as Trace, n);
  if (alloc !== 'hakmem' && an.hasAligned) throw new Error(`${alloc} cannot replay aligned blocks across threads`);
  const sizing = { maxSize: an.floorMaxSize, capacity: st.threads * an.floorCapacity + (16 << 20), maxThreads: st.threads + 1 };
  const mt = analyzeMt(st, n);

  const workers: Worker[] = [];
  try {
    for (let th = 0; th < st.threads; th++) {
      workers.push(startTsWorker(new URL('./trace-mt-worker.ts', import.meta.url), { alloc, thread: th, trace: st } satisfies MtWorkerData));
    }
    await Promise.all(workers.map((w) => nextMessage<string>(w)));

    const phase = async (nOps: number, timed: boolean) => {
      const inst: MtInstance = await createMt(alloc, sizing);
      const ptrs = new Int32Array(new SharedArrayBuffer(st.ids * 4));
      const sizes = new Float64Array(new SharedArrayBuffer(st.ids * 8));
      const ctl = new Int32Array(new SharedArrayBuffer((mGo(st.threads) + 16) * 4));
      for (let th = 0; th < st.threads; th++) ctl[mGo(th)] = -1;
      const msg: MtReplayRunMsg = { cmd: 'run', handle: inst.handle, ctl: ctl.buffer as SharedArrayBuffer, ptrs: ptrs.buffer as SharedArrayBuffer, sizes: sizes.buffer as SharedArrayBuffer, n: nOps };
      const answers = workers.map((w) => nextMessage<RunAnswer>(w));
      for (const w of workers) w.postMessage(msg);
      let ok = waitFor(ctl, M_READY, st.threads);
      const t0 = performance.now();
      if (ok && nOps > 0) {
        Atomics.store(ctl, mGo(st.tid[0]), 0);
        Atomics.notify(ctl, mGo(st.tid[0]));
        ok = waitFor(ctl, M_DONE, 1);
      }
      const t1 = performance.now();
      const done = await Promise.all(answers);
      const errors = done.filter((d) => d.error).map((d) => `thread ${done.indexOf(d)}: ${d.error}`);
      if (!ok && errors.length === 0) errors.push('a worker failed');
      const failures = done.reduce((s, d) => s + d.failures, 0);
      const highWater = inst.highWater();
      let endCheck = '';
      if (timed && errors.length === 0) {
        // every worker attached and quiet: the heap holds exactly the live blocks
        let usable = 0;
        if (inst.heap) for (const id of mt.live) usable += inst.heap.usableSize(ptrs[id]);
        endCheck = inst.verify(inst.heap ? usable : 0);
        if (!endCheck && inst.heap) {
          const s = inst.heap.stats();
          if (s.inUseBlocks !== mt.live.length) endCheck = `stats().inUseBlocks = ${s.inUseBlocks}, the trace leaves ${mt.live.length} blocks live`;
        }
        if (endCheck) endCheck = `after the replay, workers attached: ${endCheck}`;
      }
      const detached = await Promise.all(workers.map((w) => {
        const p = nextMessage<{ error?: string }>(w);
        w.postMessage({ cmd: 'detach' });
        return p;
      }));
      for (const [th, d] of detached.entries()) if (d.error) errors.push(`thread ${th} detach: ${d.error}`);
      if (timed && errors.length === 0 && !endCheck) {
        // the replaying thread checks and frees what the trace leaves live (cross-thread frees
        // into slabs of detached threads)
        let bad = 0;
        for (const id of mt.live) {
          const p = ptrs[id];
          const sz = sizes[id];
          const u8 = inst.main.u8;
          if (sz > 0 && (u8[p] !== pat(id) || u8[p + sz - 1] !== pat(id))) bad++;
          inst.main.free(p);
        }
        endCheck = bad ? `${bad} live blocks with a damaged pattern at the end` : '';
        const v = inst.verify(0);
        if (v) endCheck = `after freeing the live blocks: ${v}`;
      }
      return { ms: t1 - t0, failures, highWater, endCheck, error: errors.length ? errors.join('; ') : undefined };
    };

    let warmFailures = 0;
    for (let w = 0; w < warmRuns; w++) {
      const r = await phase(warmOps, false);
      if (r.error) throw new Error(`warm-up replay ${w + 1}: ${r.error}`);
      warmFailures += r.failures;
    }
    if (o.marks) writeSync(1, '# timed replay start\n');
    const r = await phase(n, true);
    if (o.marks) writeSync(1, '# timed replay end\n');
    return {
      trace: st.name, alloc, ops: n, threads: st.threads, ms: r.ms, nsPerOp: (r.ms * 1e6) / n,
      switches: mt.switches, crossThread: mt.cross, highWater: r.highWater,
      peakLiveBytes: n === st.ops ? st.peakLiveBytes : an.peakLiveBytes,
      failures: r.failures, warmFailures, warmOps, warmRuns,
      liveAtEndBlocks: mt.live.length, liveAtEndBytes: liveBytes(st, n, mt.live),
      endCheck: r.endCheck, error: r.error,
    };
  } finally {
    for (const w of workers) w.postMessage('exit');
  }
}

/** Requested bytes of the live ids (their last size). */
function liveBytes(t: SharedTrace, n: number, live: number[]): number {
  const size = new Float64Array(t.ids);
  for (let i = 0; i < n; i++) {
    const k = t.kind[i];
    if (k === OP_R) size[t.newid[i]] = t.size[i];
    else if (k !== OP_F) size[t.id[i]] = t.size[i];
  }
  return live.reduce((s, id) => s + size[id], 0);
}

// ---- the benchmark: runs in child processes ----------------------------------------------------

export interface MtReplayBenchOptions {
  /** trace files (default: every multi-thread *.trace.gz in TRACE_DIR) */
  files?: string[];
  allocators?: string[];
  runs?: number;
  /** replay only the first N ops */
  upTo?: number;
  log?: (line: string) => void;
}

export interface MtReplayCell {
  trace: string;
  allocator: string;
  ops: number;
  threads: number;
  peakLiveBytes: number;
  /** ns/op of every run */
  runs: number[];
  nsPerOp?: { median: number; min: number; max: number };
  highWaterBytes?: number;
  /** every run's high-water, in run order */
  highWaterRuns: number[];
  highWaterPerPeakLive?: number;
  switches?: number;
  crossThread?: number;
  verifyFailures: number[];
  endChecks: string[];
  errors: string[];
}

export interface MtReplayRecord {
  workload: string;
  command: string;
  runs: number;
  machine: string;
  date: string;
  elapsedSeconds: number;
  skipped: string[];
  cells: MtReplayCell[];
}

/** The multi-thread traces of TRACE_DIR (header line only), or [] if the folder is absent. */
export function multiThreadTraces(): string[] {
  if (!traceDirPresent()) return [];
  return readdirSync(TRACE_DIR).filter((f) => f.endsWith('.trace.gz')).sort().map((f) => join(TRACE_DIR, f))
    .filter((f) => headerThreads(f) > 1);
}

function headerThreads(file: string): number {
  // the header is the first line; gunzip a small prefix
  const head = gunzipSync(readFileSync(file).subarray(0, 4096), { finishFlush: constants.Z_SYNC_FLUSH }).toString('latin1');
  const m = /^# trace \S+ ops=\d+ peak_live_bytes=\d+ threads=(\d+)/.exec(head);
  return m ? Number(m[1]) : 0;
}

function stats(xs: number[]) {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return { median: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2, min: s[0], max: s[s.length - 1] };
}

const CHILD = fileURLToPath(new URL('./trace-mt-child.ts', import.meta.url));

export async function runMtReplayBench(o: MtReplayBenchOptions = {}): Promise<MtReplayRecord> {
  const log = o.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const files = o.files ?? multiThreadTraces();
  const allocators = o.allocators ?? ['hakmem', 'mt-floor'];
  const runs = Math.max(1, o.runs ?? 5);
  const skipped: string[] = [];
  if (files.length === 0) skipped.push(`no multi-thread traces (${TRACE_DIR} ${traceDirPresent() ? 'has none' : 'is absent'})`);
  const cells: MtReplayCell[] = files.flatMap((f) => allocators.map((a) => ({
    trace: f.replace(/^.*\//, '').replace(/\.trace\.gz$/, ''), allocator: a, ops: 0, threads: 0, peakLiveBytes: 0,
    runs: [], highWaterRuns: [], verifyFailures: [], endChecks: [], errors: [],
  })));
  const total = runs * files.length * allocators.length;
  log(`trace-mt: ${cells.map((c) => c.trace).filter((x, i, xs) => xs.indexOf(x) === i).join(', ')} x ${allocators.join(', ')}; ${runs} runs each = ${total} processes, interleaved`);
  const t0 = Date.now();
  let done = 0;
  for (let rep = 0; rep < runs; rep++) {
    for (let fi = 0; fi < files.length; fi++) {
      for (let k = 0; k < allocators.length; k++) {
        const ai = (k + rep) % allocators.length;
        const c = cells[fi * allocators.length + ai];
        done++;
        try {
          const argv = ['--import', 'tsx', CHILD, '--file', files[fi], '--alloc', allocators[ai]];
          if (o.upTo) argv.push('--ops', String(o.upTo));
          const r = await runJsonChild<MtReplayResult>(argv);
          if (r.error) throw new Error(r.error);
          Object.assign(c, { ops: r.ops, threads: r.threads, peakLiveBytes: r.peakLiveBytes, switches: r.switches, crossThread: r.crossThread });
          c.runs.push(r.nsPerOp);
          c.highWaterRuns.push(r.highWater);
          c.highWaterBytes = Math.max(c.highWaterBytes ?? 0, r.highWater);
          c.verifyFailures.push(r.failures + r.warmFailures);
          if (r.endCheck) c.endChecks.push(r.endCheck);
          log(`[${done}/${total}] ${c.allocator.padEnd(8)} ${c.trace}  ${r.nsPerOp.toFixed(1)} ns/op  hw ${(r.highWater / 1048576).toFixed(2)} MiB  verify failures ${r.failures} (+${r.warmFailures} in warm-up)${r.endCheck ? `  END CHECK FAILED: ${r.endCheck}` : ''}`);
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          c.errors.push(msg);
          log(`[${done}/${total}] ${c.allocator} ${c.trace} FAILED: ${msg}`);
        }
      }
    }
  }
  for (const c of cells) {
    c.nsPerOp = stats(c.runs);
    if (c.highWaterBytes && c.peakLiveBytes) c.highWaterPerPeakLive = c.highWaterBytes / c.peakLiveBytes;
  }
  const cpus = os.cpus();
  return {
    workload: 'T multi-thread traces',
    command: `node --import tsx bench/trace-mt.ts ${process.argv.slice(2).join(' ')}`.trim(),
    runs, machine: `${cpus[0]?.model.trim() ?? '?'} x${cpus.length}, node ${process.version}`,
    date: new Date().toISOString(), elapsedSeconds: (Date.now() - t0) / 1000, skipped, cells,
  };
}

export function formatMtReplay(r: MtReplayRecord): string {
  const f1 = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const mib = (b: number) => (b / 1048576).toFixed(2);
  const head = ['trace', 'allocator', 'ops', 'median ns/op', 'min', 'max', 'high-water MiB', 'peak live MiB', 'hw / peak', 'verify fail', 'note'];
  const rows = r.cells.map((c) => [
    c.trace, c.allocator, String(c.ops), c.nsPerOp ? f1(c.nsPerOp.median) : '-', c.nsPerOp ? f1(c.nsPerOp.min) : '-', c.nsPerOp ? f1(c.nsPerOp.max) : '-',
    c.highWaterBytes ? mib(c.highWaterBytes) : '-', c.peakLiveBytes ? mib(c.peakLiveBytes) : '-',
    c.highWaterPerPeakLive ? `${c.highWaterPerPeakLive.toFixed(2)}x` : '-',
    c.verifyFailures.length ? String(c.verifyFailures.reduce((a, b) => a + b, 0)) : '-',
    [c.errors.length ? `${c.errors.length} of ${r.runs} runs FAILED: ${c.errors[0]}` : '',
      c.endChecks.length ? `end check FAILED in ${c.endChecks.length} runs: ${c.endChecks[0]}` : ''].filter(Boolean).join('; '),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
  const fmt = (x: string[]) => '  ' + x.map((s, i) => (i < 2 || i === x.length - 1 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('  ').trimEnd();
  const c0 = r.cells.find((c) => c.switches !== undefined);
  return [
    'hakmem multi-thread trace replay: one worker per trace thread, every op in the recorded global order',
    `${r.runs} runs per configuration, each a fresh process; interleaved, allocator order rotated each run; took ${Math.round(r.elapsedSeconds)} s`,
    `machine: ${r.machine}`,
    ...r.skipped.map((s) => `skipped: ${s}`),
    '',
    fmt(head), '  ' + widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt),
    '',
    'ns/op: wall time from the release of the first op to the end of the last / ops, including the replay loop, its',
    `  verification and the ${c0?.switches ?? '?'} hand-overs of the turn between threads (Atomics.store + notify / wait); parse untimed.`,
    `  ${c0?.crossThread ?? '?'} frees/reallocs end a block another thread created. Native replay (threads free-running): glibc 21.5, mimalloc 18.5.`,
    'high-water: hakmem stats().heapHighWater; mt-floor: bytes bumped (its calloc/realloc are emulated: realloc always moves).',
    '  peak live: the trace\'s peak_live_bytes. verify fail: pattern/zero/view check failures summed over runs (must be 0).',
    '  End check (noted only if it fails): hakmem check() passes and stats() shows exactly the trace\'s live blocks while the',
    '  workers are attached; then they detach and the main thread checks and frees the live blocks: 0 bytes in use.',
  ].join('\n');
}

/** The ledger groups of a multi-thread replay result: one per trace, ns/op. */
export function mtReplayLedgerGroups(r: MtReplayRecord): LedgerGroup[] {
  return [...new Set(r.cells.map((c) => c.trace))].map((trace) => {
    const cs = r.cells.filter((c) => c.trace === trace);
    const c0 = cs.find((c) => c.ops > 0) ?? cs[0];
    return derive({
      id: `trace-mt ${trace}`,
      title: `${trace}: ${c0.threads} threads replayed by ${c0.threads} workers in the recorded global order (${c0.switches ?? '?'} hand-overs; ${c0.crossThread ?? '?'} cross-thread frees/reallocs), contents verified`,
      unit: 'ns/op',
      better: 'lower',
      ref: cs.some((c) => c.allocator === 'mt-floor') ? 'mt-floor' : undefined,
      peakLiveBytes: c0.peakLiveBytes || undefined,
      params: { kind: 'T-mt', trace, ops: c0.ops, threads: c0.threads, switches: c0.switches, crossThread: c0.crossThread },
      rows: cs.map((c) => ({
        allocator: c.allocator,
        runs: c.runs,
        highWaterRuns: c.highWaterRuns,
        highWaterKind: 'heap' as const,
        verifyFailures: c.verifyFailures,
        errors: [...c.errors, ...c.endChecks.map((v) => `end check: ${v}`)],
        note: c.allocator === 'mt-floor' ? 'calloc and realloc emulated (realloc always moves)' : undefined,
      })),
    });
  });
}

if (isMainThread && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values: args, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      allocators: { type: 'string', default: 'hakmem,mt-floor' },
      runs: { type: 'string', default: '5' },
      ops: { type: 'string' },
      json: { type: 'boolean', default: false },
      save: { type: 'string' },
      ledger: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (args.help) {
    console.log(`Usage: node --import tsx bench/trace-mt.ts [FILE.trace.gz ...] [--allocators hakmem,mt-floor] [--runs 5] [--ops N]
         [--json] [--save FILE] [--ledger DIR]
  default files: the multi-thread *.trace.gz in ${TRACE_DIR}
  --json  print the figures (JSON) instead of the table;  --save FILE  also write them to FILE
  --ledger DIR  where the run's ledger record goes (default bench/results/)`);
    process.exit(0);
  }
  const opts = {
    files: positionals.length ? positionals : undefined,
    allocators: args.allocators!.split(',').map((s) => s.trim()).filter(Boolean),
    runs: Number(args.runs),
    upTo: args.ops ? Number(args.ops) : undefined,
  };
  const writer = new LedgerWriter(newRecord('trace-mt', 'bench/trace-mt.ts', { ...opts, files: opts.files ?? multiThreadTraces() }, []), args.ledger);
  const loadBefore = await cpuBusy();
  const record = await runMtReplayBench(opts);
  writer.record.load = { before: loadBefore, after: await cpuBusy() };
  writer.record.groups = mtReplayLedgerGroups(record);
  if (record.skipped.length) writer.record.extra = { skipped: record.skipped };
  writer.finish(record.elapsedSeconds);
  const json = JSON.stringify(record, null, 2);
  if (args.save) writeFileSync(args.save, json + '\n');
  if (!args.json) console.log(`other CPU use (0..1 of all cores, sampled 0.3 s): ${loadBefore.toFixed(2)} before, ${writer.record.load.after.toFixed(2)} after`);
  console.log(args.json ? json : formatMtReplay(record));
  process.stderr.write(`ledger record: ${writer.relFile}\n`);
}
