/**
 * Issue 3 churn test: 24 generations of 2 workers on one heap (maxThreads 3, so every generation
 * needs the thread slots of the one before back). Each generation inherits the live blocks of the one
 * before through a table in shared memory and frees, reallocs and replaces them (frees into slabs
 * of threads that detached or died). Half the workers end with detach(); the other half are killed
 * with worker.terminate() at a random point of their loop, and the main thread calls
 * heap.reclaimThread(tid) from the worker's 'exit' event while the other worker may still run.
 * The main thread uses the heap during each generation (its own blocks) and between generations
 * (verifying every live block, freeing, reallocating and allocating blocks in the workers' slots).
 * After each generation: check() passes and stats() counts exactly the live blocks and their usable
 * bytes. At the end everything is freed: 0 bytes in use, no granule marked live.
 *
 * HAKMEM_CHURN_GENS (default 24) and HAKMEM_CHURN_OPS (operations per worker, default 30000).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from 'node:worker_threads';
import * as hakmem from '../src/index.ts';
import { Actor, STRESS_DEFAULTS, countLive, createShared, verifyPattern } from './helpers/stress.js';
import { churnTables, type ChurnMessage } from './helpers/threads-churn.ts';
import { envInt } from './helpers/env.ts';
import { tsWorker } from './helpers/workers.ts';

const GENS = Math.min(60, envInt('HAKMEM_CHURN_GENS', 24));
const OPS = envInt('HAKMEM_CHURN_OPS', 30_000);
const WORKER_SLOTS = 4096;
const MAIN_SLOTS = 512;
const TOTAL = WORKER_SLOTS + MAIN_SLOTS;

/** stats().inUseBytes against the live blocks' usable bytes, at every audit of the churn test. */
const bytesMismatches: string[] = [];
let churnRan = false;

/** The bytes check is its own test (it found a stats() bug fixed after 0456d64: aligned blocks freed remotely). */

interface Outcome {
  killed: boolean;
  tid: number;
  error?: string;
}

/** A worker thread started ahead of its generation (loading tsx and src/ takes a while), not yet attached. */
interface Prepared {
  w: Worker;
  loaded: Promise<void>;
}

function prepare(): Prepared {
  const w = tsWorker(new URL('./helpers/threads-churn-worker.ts', import.meta.url));
  const loaded = new Promise<void>((resolve) => {
    const onMessage = (m: { type: string }) => {
      if (m.type === 'loaded') {
        w.off('message', onMessage);
        resolve();
      }
    };
    w.on('message', onMessage);
    w.once('exit', () => resolve());
  });
  return { w, loaded };
}

/** Runs one worker; a worker that asks to be killed is terminated and its thread reclaimed on 'exit'. */
async function runWorker(heap: hakmem.Heap, { w, loaded }: Prepared, msg: ChurnMessage, events: string[]): Promise<Outcome> {
  await loaded;
  return new Promise((resolve) => {
    let tid = 0;
    let killed = false;
    let outcome: Outcome | undefined;
    w.on('message', (m: { type: string; tid?: number; ok?: boolean; error?: string }) => {
      if (m.type === 'attached') tid = m.tid!;
      else if (m.type === 'kill-me') {
        killed = true;
        void w.terminate();
      } else if (m.type === 'done') {
        outcome = { killed: false, tid, error: m.ok ? undefined : m.error };
        void w.terminate();
      }
    });
    w.on('error', (e) => {
      outcome ??= { killed, tid, error: `generation ${msg.gen} worker ${msg.k} crashed: ${String(e)}` };
    });
    w.on('exit', () => {
      if (killed && outcome === undefined) {
        try {
          heap.reclaimThread(tid);
          events.push(`g${msg.gen}w${msg.k}: thread ${tid} killed at op ${msg.killAt}, reclaimed`);
          outcome = { killed: true, tid };
        } catch (e) {
          outcome = {
            killed: true,
            tid,
            error: `reclaimThread(${tid}) after generation ${msg.gen} worker ${msg.k} was killed: ${String(e)}`,
          };
        }
      }
      resolve(outcome ?? { killed, tid, error: `generation ${msg.gen} worker ${msg.k} exited without a result` });
    });
    w.postMessage(msg);
  });
}

test(`churn: ${GENS} generations of 2 workers, half detach, half terminated and reclaimed`, { timeout: 300_000 }, async () => {
  const cfg = { ...STRESS_DEFAULTS, workers: 2, initialBytes: 64 * 1024, maxBytes: 128 * 1024 * 1024, seed: 3 };
  const heap = hakmem.createHeap({ initialBytes: cfg.initialBytes, maxBytes: cfg.maxBytes, maxThreads: 3 });
  const shared = createShared(cfg, heap);
  const bm = new Int32Array(shared.bitmap);
  const tablesSab = new SharedArrayBuffer(16 * TOTAL);
  const t = churnTables(tablesSab, TOTAL);
  const mainOwn = new Actor(heap, shared, -1, TOTAL, {
    tables: t,
    owned: Int32Array.from({ length: MAIN_SLOTS }, (_, i) => WORKER_SLOTS + i),
    tag: 127,
  });
  const mainAll = new Actor(heap, shared, -1, TOTAL, { tables: t, tag: 126 });
  const events: string[] = [];
  const tids = new Set<number>();
  let kills = 0;
  let detaches = 0;
  const heapAfter: number[] = [];

  /** Every live block's contents, the bitmap, check() and exact stats(), while no worker runs. */
  function audit(when: string): void {
    let blocks = 0;
    let bytes = 0;
    let granules = 0;
    const i32 = heap.i32;
    for (let i = 0; i < TOTAL; i++) {
      const p = t.tPtr[i]!;
      if (p === 0) continue;
      blocks++;
      bytes += t.tUse[i]!;
      granules += Math.max(1, (t.tUse[i]! + 15) >> 4);
      assert.equal(heap.usableSize(p), t.tUse[i], `${when}: usableSize of live block ${p}`);
      verifyPattern(i32, 0, p, t.tUse[i]!, t.tId[i]!, `${when}: live block in slot ${i}`);
    }
    assert.equal(countLive(bm), granules, `${when}: granules marked live vs live blocks`);
    heap.check();
    const st = heap.stats();
    if (st.inUseBlocks !== blocks || st.inUseBytes !== bytes) {
      const msg = `${when}: stats() counts ${st.inUseBlocks} blocks / ${st.inUseBytes} bytes in use, the live blocks are ${blocks} / ${bytes} (usable bytes)`;
      if (st.inUseBlocks !== blocks) assert.fail(msg);
      bytesMismatches.push(msg); // reported by the second test below
    }
  }

  const rng = mainAll.rng;
  let next = [prepare(), prepare()];
  try {
    for (let gen = 0; gen < GENS; gen++) {
      const mode = gen % 4; // 0: w0 killed; 1: both detach; 2: w1 killed; 3: both killed
      const kill = [mode === 0 || mode === 3, mode === 2 || mode === 3];
      const these = next;
      next = gen + 1 < GENS ? [prepare(), prepare()] : [];
      const runs = [0, 1].map((k) =>
        runWorker(
          heap,
          these[k]!,
          {
            handle: heap.handle,
            shared,
            tables: tablesSab,
            totalSlots: TOTAL,
            workerSlots: WORKER_SLOTS,
            gen,
            k,
            tag: gen * 2 + k + 1,
            ops: OPS,
            killAt: kill[k] ? Math.floor(OPS * (0.1 + 0.8 * rng.float())) : -1,
          },
          events,
        ),
      );
      // The main thread keeps using the heap (its own slots) while the workers run.
      let mainError: unknown;
      const tick = setInterval(() => {
        try {
          if (mainError === undefined) for (let n = 0; n < 50; n++) mainOwn.step(0);
        } catch (e) {
          mainError = e;
        }
      }, 5);
      const outcomes = await Promise.all(runs);
      clearInterval(tick);
      if (mainError !== undefined) throw mainError;
      for (const o of outcomes) {
        assert.equal(o.error, undefined, o.error);
        tids.add(o.tid);
        if (o.killed) kills++;
        else detaches++;
      }
      assert.deepEqual(
        outcomes.map((o) => o.killed),
        kill,
        `generation ${gen}: which workers were killed`,
      );
      audit(`after generation ${gen}`);
      // Between generations: the main thread frees, reallocs and allocates in the workers' slots too.
      for (let n = 0; n < 3000; n++) mainAll.step(WORKER_SLOTS);
      audit(`after the main thread's turn ${gen}`);
      heapAfter.push(heap.stats().heapBytes);
    }
  } finally {
    for (const p of next) void p.w.terminate(); // workers started for a generation that did not run
  }
  mainAll.freeAllSlots();
  audit('at the end');
  const st = heap.stats();
  assert.equal(st.inUseBlocks, 0);
  assert.equal(countLive(bm), 0);
  if (st.inUseBytes !== 0) bytesMismatches.push(`at the end: stats().inUseBytes is ${st.inUseBytes} with no block live`);
  assert.equal(kills + detaches, 2 * GENS);
  assert.ok(kills >= Math.floor(GENS / 2) * 2 - 2 && detaches >= Math.floor(GENS / 2) * 2 - 2, `kills ${kills}, detaches ${detaches}`);
  for (const tid of tids) assert.ok(tid >= 2 && tid <= 3, `thread id ${tid} (maxThreads 3: slots must be reused)`);
  // A killed thread's slabs and cached blocks come back: the heap stops growing once the live set is steady.
  const early = Math.max(...heapAfter.slice(0, Math.min(6, GENS)));
  console.log(
    `churn: ${kills} killed and reclaimed, ${detaches} detached, thread ids ${[...tids].join(',')}; heapBytes after each generation ${heapAfter.join(' ')}`,
  );
  assert.ok(
    heapAfter[heapAfter.length - 1]! <= 2 * early + (4 << 20),
    `the heap kept growing: ${heapAfter.join(' ')} (slabs of dead threads never reused?)`,
  );
  churnRan = true;
});

test("churn: stats().inUseBytes equals the live blocks' usable bytes after every generation, 0 at the end", () => {
  assert.ok(churnRan, 'the churn test did not run to its end');
  assert.deepEqual(bytesMismatches.slice(0, 5), [], `${bytesMismatches.length} mismatches`);
});
