// Multi-thread trace replay (workload T of workloads.md for traces with threads > 1, e.g.
// python-threads): one worker per trace thread (bench/trace/mt/worker.ts), every op in the
// recorded global order. The turn passes with Atomics: a worker waits (Atomics.wait on its own
// word) until it is handed the index of its next run of consecutive ops, replays that run, then
// stores the index of the next op into the word of that op's thread and notifies it. Every block
// carries a pattern at both ends, checked at free and realloc by whichever thread ends it.
//
// replayMtTrace(fileOrTrace, 'hakmem', { warmRuns, warmOps, upTo }) is one replay in this process
// (the tests call it; bench/trace/mt/child.ts runs it in a process of its own). The driver, one
// process per run and a ledger record of kind "trace-mt", is bench/trace/mt/run.ts.
import { writeSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { createMt, type MtInstance } from '../../peers/mt/adapters.ts';
import { nextMessage, startTsWorker } from '../../lib/spawn.ts';
import { analyzeTrace, loadTrace, OP_F, OP_R, pat, type Trace } from '../core.ts';

// ---- shared between the replaying thread and its workers -------------------------------------

/** A parsed trace (its op counts aside) whose arrays live in SharedArrayBuffers (workers read them without copies). */
export type SharedTrace = Omit<Trace, 'counts'>;

export function shareTrace(t: Trace): SharedTrace {
  const share = <A extends Uint8Array | Int32Array | Float64Array>(a: A, C: new (b: SharedArrayBuffer) => A): A => {
    const s = new C(new SharedArrayBuffer(a.byteLength));
    (s as Uint8Array).set(a as Uint8Array);
    return s;
  };
  return {
    file: t.file,
    name: t.name,
    ops: t.ops,
    threads: t.threads,
    ids: t.ids,
    peakLiveBytes: t.peakLiveBytes,
    kind: share(t.kind, Uint8Array),
    tid: share(t.tid, Int32Array),
    id: share(t.id, Int32Array),
    newid: share(t.newid, Int32Array),
    size: share(t.size, Float64Array),
    align: share(t.align, Int32Array),
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
    if (k === OP_R) {
      creator[t.newid[i]] = th;
      created = t.newid[i] + 1;
    } else if (k !== OP_F) {
      creator[t.id[i]] = th;
      created = t.id[i] + 1;
    }
  }
  const live: number[] = [];
  for (let id = 0; id < created; id++) if (!ended[id]) live.push(id);
  return { switches, cross, live };
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
      workers.push(startTsWorker(new URL('./worker.ts', import.meta.url), { alloc, thread: th, trace: st } satisfies MtWorkerData));
    }
    await Promise.all(workers.map((w) => nextMessage<string>(w)));

    const phase = async (nOps: number, timed: boolean) => {
      const inst: MtInstance = await createMt(alloc, sizing);
      const ptrs = new Int32Array(new SharedArrayBuffer(st.ids * 4));
      const sizes = new Float64Array(new SharedArrayBuffer(st.ids * 8));
      const ctl = new Int32Array(new SharedArrayBuffer((mGo(st.threads) + 16) * 4));
      for (let th = 0; th < st.threads; th++) ctl[mGo(th)] = -1;
      const msg: MtReplayRunMsg = {
        cmd: 'run',
        handle: inst.handle,
        ctl: ctl.buffer as SharedArrayBuffer,
        ptrs: ptrs.buffer as SharedArrayBuffer,
        sizes: sizes.buffer as SharedArrayBuffer,
        n: nOps,
      };
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
          if (s.inUseBlocks !== mt.live.length)
            endCheck = `stats().inUseBlocks = ${s.inUseBlocks}, the trace leaves ${mt.live.length} blocks live`;
        }
        if (endCheck) endCheck = `after the replay, workers attached: ${endCheck}`;
      }
      const detached = await Promise.all(
        workers.map((w) => {
          const p = nextMessage<{ error?: string }>(w);
          w.postMessage({ cmd: 'detach' });
          return p;
        }),
      );
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
      trace: st.name,
      alloc,
      ops: n,
      threads: st.threads,
      ms: r.ms,
      nsPerOp: (r.ms * 1e6) / n,
      switches: mt.switches,
      crossThread: mt.cross,
      highWater: r.highWater,
      peakLiveBytes: n === st.ops ? st.peakLiveBytes : an.peakLiveBytes,
      failures: r.failures,
      warmFailures,
      warmOps,
      warmRuns,
      liveAtEndBlocks: mt.live.length,
      liveAtEndBytes: liveBytes(st, n, mt.live),
      endCheck: r.endCheck,
      error: r.error,
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
