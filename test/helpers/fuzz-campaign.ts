/**
 * The fuzz campaigns of test/fuzz.test.ts, test/fuzz-long.test.ts and `npm run fuzz` (fuzz-cli.ts):
 * the model of fuzz-model.ts run against the release build, or against hakmem/debug, on one thread
 * or on workers (fuzz-worker.ts) sharing one heap.
 *
 * Worker mode: each worker runs its own model on its own blocks, hands about 3% of its blocks to
 * other workers through single-producer rings in shared memory (the receiver verifies them), and
 * frees "pool" blocks that the main thread allocated before the workers started: the main thread
 * then stays quiet (never allocates, so it never collects), which makes a second free of a pool
 * block by a worker a deterministic DoubleFreeError (README: "already freed by a thread that does
 * not own its slab"). Every `epoch` operations the workers meet at a barrier (barrier.ts): they stop
 * sending, receive what is in flight, verify all their blocks and publish their live count and
 * bytes; the main thread runs heap.check() and compares stats() with the sum. At the end every
 * worker frees everything, detaches, and checks that its detached Heap refuses calls with
 * DetachedError; the main thread checks that the heap is empty and consistent.
 */
import type { Worker } from 'node:worker_threads';
import { createHeap as createRelease, attachHeap as attachRelease, type Heap, type HeapOptions } from '../../src/index.ts';
import { createHeap as createDebug, attachHeap as attachDebug } from '../../src/debug.ts';
import { abort, B_ABORT, B_ARRIVE, gather, release } from './barrier.ts';
import { FuzzModel, mergeSummaries, writePattern, type FuzzOptions, type FuzzSummary } from './fuzz-model.ts';
import { Rng } from './rng.ts';
import { tsWorker } from './workers.ts';

export interface CampaignOptions {
  ops: number;
  seed: number;
  workers: number;
  checkEvery: number;
  epoch: number;
  misuseRate: number;
  breakKind?: string;
  strictDetach?: boolean;
  /** Which build: the release build (default) or hakmem/debug. */
  debug?: boolean;
  /** A heap created with secure: true (encoded free-list links; release build). */
  secure?: boolean;
  /** Progress lines (long campaigns). */
  log?: (line: string) => void;
}

export interface CampaignResult extends FuzzSummary {
  workers: number;
  debug?: boolean;
  ms: number;
  /** Checks of the whole heap (check() + stats) made by the main thread in worker mode. */
  barrierChecks: number;
}

export const DEFAULTS: CampaignOptions = { ops: 1_000_000, seed: 1, workers: 0, checkEvery: 20_000, epoch: 50_000, misuseRate: 0.05 };

/** Pointers of other heaps (every tier, block starts and interiors), for 'other-heap' misuse. */
export function otherHeapPointers(seed: number): number[] {
  const out: number[] = [];
  const r = new Rng(seed ^ 0x5eed);
  const a = createRelease({ name: 'other#a' });
  const b = createRelease({ name: 'other#b', memory: new SharedArrayBuffer(8 << 20, { maxByteLength: 64 << 20 }), start: 3 << 20 });
  for (const h of [a, b]) {
    for (let i = 0; i < 400; i++) {
      const size = r.next() < 0.9 ? r.int(0, 4096) : r.int(32769, 300000);
      const p = r.next() < 0.2 ? h.alignedAlloc(2 ** r.int(5, 13), size) : h.malloc(size);
      out.push(p, p + 16 * r.int(1, 3));
      if (r.next() < 0.3) h.free(p);
    }
  }
  return out;
}

/** createHeap / attachHeap of the build a campaign runs against. */
export function build(
  debug: boolean | undefined,
  secure?: boolean,
): { create: (o: HeapOptions) => Heap; attach: (h: Heap['handle']) => Heap } {
  if (debug) return { create: createDebug, attach: attachDebug };
  return { create: (o) => createRelease(secure ? { ...o, secure: true } : o), attach: attachRelease };
}

export function runSingle(o: CampaignOptions): CampaignResult {
  const t0 = performance.now();
  const b = build(o.debug, o.secure);
  const heap = b.create({ initialBytes: 1 << 20 });
  const fo: FuzzOptions = {
    seed: o.seed,
    mt: false,
    misuseRate: o.misuseRate,
    maxSize: 1 << 20,
    // hakmem/debug: check() and leaks walk every block, and its misuse calls run check(): a smaller heap
    liveBytes: o.debug ? 4 << 20 : 24 << 20,
    maxLive: o.debug ? 800 : 3000,
    checkEvery: o.checkEvery,
    subHeapEvery: 4999,
    otherPointers: otherHeapPointers(o.seed),
    breakKind: o.breakKind,
    strictDetach: o.strictDetach,
    debug: o.debug,
    attach: b.attach,
  };
  const m = new FuzzModel(heap, fo);
  const report = Math.max(1, Math.floor(o.ops / 20));
  for (let i = 1; i <= o.ops; i++) {
    try {
      m.step();
      if (o.checkEvery > 0 && i % o.checkEvery === 0) m.audit();
    } catch (e) {
      throw new Error(`one thread, seed ${o.seed}, operation ${i}: ${(e as Error).message}`, { cause: e });
    }
    if (o.log && i % report === 0) o.log(`  ${i} ops, ${Math.round(i / ((performance.now() - t0) / 1000))} ops/s, ${m.liveCount} live`);
  }
  m.audit();
  m.drain();
  m.audit();
  // the main Heap detached: it refuses calls too
  heap.detach();
  m.afterDetach(heap);
  return { ...m.summary(), workers: 0, debug: o.debug, ms: performance.now() - t0, barrierChecks: 0 };
}

// ------------------------------------------------------------------ worker mode

/** Control words (Int32Array over a SharedArrayBuffer): the barrier's (barrier.ts), then per worker w: [C_W + 4w] live blocks, [+1] live usable bytes, [+2] operations done. */
export const C_W = 8;
export const RING_CAP = 64;
/** Words per ring: head (consumer), tail (producer), RING_CAP entries of (ptr, size, seed). */
export const RING_WORDS = 2 + 3 * RING_CAP;

export interface WorkerData {
  handle: Heap['handle'];
  index: number;
  workers: number;
  ops: number;
  epoch: number;
  seed: number;
  misuseRate: number;
  ctl: Int32Array;
  rings: Int32Array;
  /** (ptr, size, seed) triples of pool blocks (main thread's slabs) given to this worker. */
  pool: number[];
  breakKind?: string;
  strictDetach?: boolean;
  debug?: boolean;
}

export async function runWorkers(o: CampaignOptions): Promise<CampaignResult> {
  const t0 = performance.now();
  const W = o.workers;
  const heap = build(o.debug, o.secure).create({ initialBytes: 256 << 10, maxThreads: 2 * W + 4, maxBytes: 1 << 30 });
  const ctl = new Int32Array(new SharedArrayBuffer(4 * (C_W + 4 * W)));
  const rings = new Int32Array(new SharedArrayBuffer(4 * W * W * RING_WORDS));
  const r = new Rng(o.seed ^ 0x9001);
  const pools: number[][] = [];
  for (let w = 0; w < W; w++) {
    const pool: number[] = [];
    for (let i = 0; i < 300; i++) {
      // Slab blocks only, also in hakmem/debug, which asks the core for 24 bytes more: a larger one is
      // a large block, whose pages the first (remote) free releases at once, so another worker may get
      // them before the double free that is then predicted to fail (it flaked: seed 35, worker 3).
      const size = r.next() < 0.85 ? r.int(0, 1024) : r.int(1025, 32768 - 64);
      const p = heap.malloc(size);
      const seed = 0x7000000 + w * 1000 + i;
      writePattern(heap.u32, { ptr: p, usable: heap.usableSize(p), seed });
      pool.push(p, size, seed);
    }
    pools.push(pool);
  }
  heap.check();
  const opsPer = Math.ceil(o.ops / W);
  const epochs = Math.ceil(opsPer / o.epoch);
  const workers: Worker[] = [];
  let failure: Error | undefined;
  const summaries: FuzzSummary[] = [];
  const done: Promise<void>[] = [];
  for (let w = 0; w < W; w++) {
    const data: WorkerData = {
      handle: heap.handle,
      index: w,
      workers: W,
      ops: opsPer,
      epoch: o.epoch,
      seed: o.seed * 1000 + w + 1,
      misuseRate: o.misuseRate,
      ctl,
      rings,
      pool: pools[w]!,
      breakKind: o.breakKind,
      strictDetach: o.strictDetach,
      debug: o.debug,
    };
    const wk = tsWorker(new URL('./fuzz-worker.ts', import.meta.url), data);
    workers.push(wk);
    done.push(
      new Promise<void>((resolve) => {
        let answered = false;
        wk.on('message', (msg: { type: string; summary?: FuzzSummary; error?: string }) => {
          if (msg.type === 'done') {
            summaries.push(msg.summary!);
            answered = true;
            resolve();
          }
          if (msg.type === 'error') {
            failure ??= new Error(`worker ${w}: ${msg.error}`);
            answered = true;
            Atomics.store(ctl, B_ABORT, 1);
            resolve();
          }
        });
        wk.on('error', (e) => {
          failure ??= new Error(`worker ${w} crashed: ${String(e)}`);
          Atomics.store(ctl, B_ABORT, 1);
          resolve();
        });
        wk.on('exit', (code) => {
          if (!answered) {
            failure ??= new Error(`worker ${w} exited (code ${code}) without a result`);
            Atomics.store(ctl, B_ABORT, 1);
          }
          resolve();
        });
      }),
    );
  }
  /** Arrivals and operations done: what moves while the workers run towards the barrier. */
  const progress = () => {
    let n = Atomics.load(ctl, B_ARRIVE);
    for (let w = 0; w < W; w++) n += Atomics.load(ctl, C_W + 4 * w + 2);
    return n;
  };
  /** Waits until every worker is at the barrier. */
  const gatherAll = (where: string) =>
    gather(ctl, W, {
      failed: () => failure,
      stallMs: 300_000,
      stuck: `${where}: no progress at the barrier for 300 s (deadlock?)`,
      progress,
    });
  let barrierChecks = 0;
  try {
    for (let e = 0; e < epochs; e++) {
      await gatherAll(`epoch ${e}, barrier A`);
      release(ctl); // workers receive what is in flight, verify their blocks, publish their counts
      await gatherAll(`epoch ${e}, barrier B`);
      try {
        heap.check();
        let blocks = 0;
        let bytes = 0;
        for (let w = 0; w < W; w++) {
          blocks += Atomics.load(ctl, C_W + 4 * w);
          bytes += Atomics.load(ctl, C_W + 4 * w + 1);
        }
        const s = heap.stats();
        if (s.inUseBlocks !== blocks) throw new Error(`stats().inUseBlocks ${s.inUseBlocks}, the workers hold ${blocks}`);
        if (s.inUseBytes !== bytes) throw new Error(`stats().inUseBytes ${s.inUseBytes}, the workers' usable bytes ${bytes}`);
        barrierChecks++;
      } catch (err) {
        throw new Error(`${W} workers, seed ${o.seed}, after epoch ${e} (${(e + 1) * o.epoch} ops per worker): ${(err as Error).message}`, {
          cause: err,
        });
      }
      if (o.log) {
        let n = 0;
        for (let w = 0; w < W; w++) n += Atomics.load(ctl, C_W + 4 * w + 2);
        o.log(`  epoch ${e + 1}/${epochs}: ${n} ops, ${Math.round(n / ((performance.now() - t0) / 1000))} ops/s, check() and stats ok`);
      }
      release(ctl);
    }
    await Promise.all(done);
    if (failure) throw failure;
  } catch (err) {
    abort(ctl);
    for (const wk of workers) void wk.terminate();
    throw failure ?? err;
  }
  // Everything freed, every worker detached: the heap is consistent and empty.
  heap.check();
  const s = heap.stats();
  if (s.inUseBlocks !== 0 || s.inUseBytes !== 0)
    throw new Error(`after the workers freed everything: ${s.inUseBlocks} blocks / ${s.inUseBytes} bytes still in use`);
  // The main thread works again: it collects the pool frees; a short run on its own.
  const m = new FuzzModel(heap, {
    seed: o.seed,
    mt: false,
    misuseRate: 0.05,
    liveBytes: 4 << 20,
    maxLive: 1000,
    maxSize: 1 << 20,
    checkEvery: 0,
    subHeapEvery: 0,
    debug: o.debug,
    attach: build(o.debug).attach,
  });
  for (let i = 0; i < 20_000; i++) m.step();
  m.audit();
  m.drain();
  m.audit();
  const merged = mergeSummaries([...summaries, m.summary()]);
  return { ...merged, workers: W, debug: o.debug, ms: performance.now() - t0, barrierChecks };
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  return o.workers > 0 ? runWorkers(o) : runSingle(o);
}

export function formatResult(s: CampaignResult): string[] {
  const list = (r: Record<string, number>) =>
    Object.entries(r)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  const misuse = Object.values(s.misuse).reduce((a, b) => a + b, 0);
  const raised = Object.values(s.raised).reduce((a, b) => a + b, 0);
  return [
    `ok${s.debug ? ' (hakmem/debug)' : ''}: ${s.ops} ops in ${(s.ms / 1000).toFixed(1)} s (${Math.round(s.ops / (s.ms / 1000))} ops/s), ${s.workers === 0 ? 'one thread' : `${s.workers} workers`}`,
    `  valid calls: ${list(s.valid)}`,
    `  misuse calls: ${misuse} (${list(s.misuse)}); ${s.skipped} drawn pointers were live blocks (not used)`,
    `  errors raised as predicted: ${raised} (${list(s.raised)})`,
    `  audits: ${s.audits} by the thread itself${s.workers > 0 ? `, ${s.barrierChecks} check()+stats at barriers by the main thread` : ''}; allocations returning 0: ${s.zeros}`,
  ];
}
