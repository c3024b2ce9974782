// A worker of test/record-trace.test.ts: attaches to the heap, joins the recording, and runs three
// phases separated by barriers with the other workers: churn (live bytes kept small, everything
// freed), alloc-only (malloc, calloc, alignedAlloc, growing realloc: live bytes only rise; the
// blocks are published in shared memory), and end-only (frees the other worker's blocks, cross-thread,
// and its own, shrinking some first). So the trace's peak live bytes is known exactly: the live
// bytes at the end of the alloc-only phase, whatever the interleaving.
import { parentPort, workerData } from 'node:worker_threads';
import { attachHeap, type HeapHandle } from '../../src/index.ts';
import { recordTrace, type TraceHandle } from '../../src/record.ts';

export interface RecordWorkerData {
  heap: HeapHandle;
  trace: TraceHandle;
  /** Int32Array: [0..3] barrier words, then workers x blocks published pointers */
  control: SharedArrayBuffer;
  index: number;
  workers: number;
  blocks: number;
  seed: number;
}

export interface RecordWorkerResult {
  ops: number;
  /** requested bytes live at the end of the alloc-only phase (its blocks' final sizes) */
  phase1Bytes: number;
  crossFrees: number;
  threadId: number;
}

const d = workerData as RecordWorkerData;
const ctl = new Int32Array(d.control);
const SLOTS = 4;
const barrier = (k: number) => {
  Atomics.add(ctl, k, 1);
  Atomics.notify(ctl, k);
  for (let v = Atomics.load(ctl, k); v < d.workers; v = Atomics.load(ctl, k)) Atomics.wait(ctl, k, v, 1000);
};
let s = d.seed >>> 0;
const rand = (n: number) => {
  s ^= s << 13;
  s >>>= 0;
  s ^= s >>> 17;
  s ^= s << 5;
  s >>>= 0;
  return s % n;
};

const h = recordTrace(attachHeap(d.heap), d.trace);
let ops = 0;

// phase 0: churn, at most 8 blocks of <= 1 KiB live
const churn: number[] = [];
for (let i = 0; i < 20_000; i++) {
  if (churn.length < 8 && (churn.length === 0 || rand(2) === 0)) {
    churn.push(h.malloc(1 + rand(1024)));
  } else {
    h.free(churn.splice(rand(churn.length), 1)[0]!);
  }
  ops++;
}
for (const p of churn) {
  h.free(p);
  ops++;
}
barrier(0);

// phase 1: alloc-only
const mine: number[] = [];
const size: number[] = [];
let phase1Bytes = 0;
for (let i = 0; i < d.blocks; i++) {
  const k = rand(4);
  const n = 1 + rand(k === 3 ? 40_000 : 2000);
  let p: number;
  if (k === 0) p = h.calloc(1, n);
  else if (k === 1) p = h.alignedAlloc(64 << rand(4), n);
  else p = h.malloc(n);
  ops++;
  let sz = n;
  if (rand(3) === 0) {
    // grow: live bytes only rise
    sz = n + 1 + rand(3000);
    p = h.realloc(p, sz);
    ops++;
  }
  if (p === 0) throw new Error('allocation failed');
  mine.push(p);
  size.push(sz);
  phase1Bytes += sz;
  Atomics.store(ctl, SLOTS + d.index * d.blocks + i, p);
}
barrier(1);

// phase 2: end-only. The next worker's even blocks (cross-thread), then my odd blocks (some shrunk first).
const other = (d.index + 1) % d.workers;
let crossFrees = 0;
for (let i = 0; i < d.blocks; i += 2) {
  h.free(Atomics.load(ctl, SLOTS + other * d.blocks + i));
  ops++;
  crossFrees++;
}
for (let i = 1; i < d.blocks; i += 2) {
  let p = mine[i]!;
  if (size[i]! > 64 && rand(2) === 0) {
    // shrink: live bytes only fall
    p = h.realloc(p, 1 + rand(size[i]! - 1));
    ops++;
  }
  h.free(p);
  ops++;
}
barrier(2);
const threadId = h.threadId;
h.close();
h.heap.detach();
parentPort!.postMessage({ ops, phase1Bytes, crossFrees, threadId } satisfies RecordWorkerResult);
