// One worker of the multi-thread trace replay (bench/trace-mt.ts): it plays trace thread
// `workerData.thread`. Messages from the replaying thread, answered in order:
//   {cmd: 'run', handle, ctl, ptrs, sizes, n}  attach to the instance, replay this thread's ops
//        among ops [0, n), each run of them when its turn comes -> {failures, shortViews, ops}
//   {cmd: 'detach'}  detach from the instance -> {}
//   'exit'           close
import { parentPort, workerData } from 'node:worker_threads';
import { attachMt, type MtAlloc } from './mt-peers.ts';
import {
  EmulatedAllocator, OP_A, OP_C, OP_F, OP_R, ReplayError, OP_NAMES, type TraceAlloc,
} from './trace.ts';
import {
  M_DONE, M_ERROR, M_READY, mGo, type MtReplayRunMsg, type MtWorkerData, type SharedTrace,
} from './trace-mt.ts';

const wd = workerData as MtWorkerData;
const T: SharedTrace = wd.trace;
const me = wd.thread;

/** The byte pattern of block `id` (as bench/trace.ts), written at its first and last byte. */
function pat(id: number): number {
  return (id ^ (id >>> 8) ^ (id >>> 16) ^ 0x5a) & 255;
}

function failAt(i: number, what: string): never {
  const k = T.kind[i];
  const line = `${OP_NAMES[k]} ${T.tid[i]} ${T.id[i]}${k === OP_R ? ' ' + T.newid[i] : ''}${k !== OP_F ? ' ' + T.size[i] : ''}${k === 2 ? ' ' + T.align[i] : ''}`;
  throw new ReplayError(`${T.name}: op ${i} ("${line}") on thread ${me}: ${what}`, i);
}

let shortViews = 0;

/**
 * Ops [s, e) of the trace (all of this thread), as bench/trace.ts's replay(): a pattern at both
 * ends of every block, checked at free and realloc (whichever thread made the block), calloc
 * blocks checked zero, aligned pointers checked. The view is refetched when a block lies past its
 * end (another thread may have grown the heap); a block still past the refetched view counts as a
 * failure and in `shortViews`. Returns the number of failed checks.
 */
function replayRange(a: TraceAlloc, ptrs: Int32Array, sizes: Float64Array, s: number, e: number): number {
  const K = T.kind;
  const I = T.id;
  const S = T.size;
  let u8 = a.u8;
  let bad = 0;
  for (let i = s; i < e; i++) {
    const k = K[i];
    if (k === OP_F) {
      const id = I[i];
      const p = ptrs[id];
      const sz = sizes[id];
      if (sz > 0) {
        if (p + sz > u8.length) { u8 = a.u8; if (p + sz > u8.length) shortViews++; }
        const v = pat(id);
        if (u8[p] !== v || u8[p + sz - 1] !== v) bad++;
      }
      a.free(p);
    } else if (k === OP_A) {
      const id = I[i];
      const sz = S[i];
      const p = a.malloc(sz);
      if (p === 0) failAt(i, 'malloc returned 0');
      if (p + sz > u8.length) { u8 = a.u8; if (p + sz > u8.length) shortViews++; }
      if (sz > 0) {
        const v = pat(id);
        u8[p] = v;
        u8[p + sz - 1] = v;
      }
      ptrs[id] = p;
      sizes[id] = sz;
    } else if (k === OP_R) {
      const id = I[i];
      const nid = T.newid[i];
      const p = ptrs[id];
      const old = sizes[id];
      const sz = S[i];
      const v = pat(id);
      if (p + old > u8.length) { u8 = a.u8; if (p + old > u8.length) shortViews++; }
      if (old > 0 && (u8[p] !== v || u8[p + old - 1] !== v)) bad++;
      const q = a.realloc(p, sz, old);
      if (q === 0) failAt(i, 'realloc returned 0');
      if (q + sz > u8.length) { u8 = a.u8; if (q + sz > u8.length) shortViews++; }
      // the first min(old, new) bytes are kept: check the first, and the old last byte if it grew
      if (old > 0 && (u8[q] !== v || (old <= sz && u8[q + old - 1] !== v))) bad++;
      const w = pat(nid);
      u8[q] = w;
      u8[q + sz - 1] = w;
      ptrs[nid] = q;
      sizes[nid] = sz;
    } else if (k === OP_C) {
      const id = I[i];
      const sz = S[i];
      const p = a.calloc(1, sz);
      if (p === 0) failAt(i, 'calloc returned 0');
      if (p + sz > u8.length) { u8 = a.u8; if (p + sz > u8.length) shortViews++; }
      if (sz > 0) {
        if (u8[p] !== 0 || u8[p + sz - 1] !== 0) bad++;
        const v = pat(id);
        u8[p] = v;
        u8[p + sz - 1] = v;
      }
      ptrs[id] = p;
      sizes[id] = sz;
    } else {
      const id = I[i];
      const sz = S[i];
      const al = T.align[i];
      const p = a.alignedAlloc(al, sz);
      if (p === 0) failAt(i, 'alignedAlloc returned 0');
      if ((p & (al - 1)) !== 0) bad++;
      if (p + sz > u8.length) { u8 = a.u8; if (p + sz > u8.length) shortViews++; }
      if (sz > 0) {
        const v = pat(id);
        u8[p] = v;
        u8[p + sz - 1] = v;
      }
      ptrs[id] = p;
      sizes[id] = sz;
    }
  }
  return bad;
}

/** This thread's runs of consecutive ops within [0, n): [start0, end0, start1, end1, ...]. */
function myRuns(n: number): number[] {
  const out: number[] = [];
  const tid = T.tid;
  let i = 0;
  while (i < n) {
    if (tid[i] !== me) { i++; continue; }
    const s = i;
    while (i < n && tid[i] === me) i++;
    out.push(s, i);
  }
  return out;
}

let attached: { raw: MtAlloc; alloc: TraceAlloc } | undefined;

async function run(m: MtReplayRunMsg): Promise<{ failures: number; shortViews: number; ops: number }> {
  const ctl = new Int32Array(m.ctl);
  try {
    if (attached) throw new Error('run while still attached to the previous instance');
    const raw = await attachMt(wd.alloc, m.handle);
    // the floor has malloc/free only: calloc, realloc (always moving) emulated; no aligned blocks
    const alloc = 'calloc' in raw ? raw : new EmulatedAllocator(raw, raw.u8.length, false);
    attached = { raw, alloc };
    const a = attached.alloc;
    const ptrs = new Int32Array(m.ptrs);
    const sizes = new Float64Array(m.sizes);
    const runs = myRuns(m.n);
    shortViews = 0;
    let failures = 0;
    let ops = 0;
    Atomics.add(ctl, M_READY, 1);
    Atomics.notify(ctl, M_READY);
    const go = mGo(me);
    for (let r = 0; r < runs.length; r += 2) {
      const s = runs[r];
      const e = runs[r + 1];
      let v: number;
      while ((v = Atomics.load(ctl, go)) !== s) {
        if (Atomics.load(ctl, M_ERROR) !== 0) return { failures, shortViews, ops };
        Atomics.wait(ctl, go, v, 1000);
      }
      failures += replayRange(a, ptrs, sizes, s, e);
      ops += e - s;
      if (e < m.n) {
        const next = mGo(T.tid[e]);
        Atomics.store(ctl, next, e);
        Atomics.notify(ctl, next);
      } else {
        Atomics.store(ctl, M_DONE, 1);
        Atomics.notify(ctl, M_DONE);
      }
    }
    return { failures, shortViews, ops };
  } catch (e) {
    Atomics.store(ctl, M_ERROR, 1);
    for (let t = 0; t < T.threads; t++) Atomics.notify(ctl, mGo(t));
    Atomics.add(ctl, M_READY, 1);
    Atomics.notify(ctl, M_READY);
    Atomics.notify(ctl, M_DONE);
    throw e;
  }
}

parentPort!.on('message', (m: MtReplayRunMsg | { cmd: 'detach' } | 'exit') => {
  if (m === 'exit') {
    parentPort!.close();
    return;
  }
  if (m.cmd === 'detach') {
    try {
      attached?.raw.detach();
      attached = undefined;
      parentPort!.postMessage({});
    } catch (e) {
      parentPort!.postMessage({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    }
    return;
  }
  run(m).then(
    (r) => parentPort!.postMessage(r),
    (e) => parentPort!.postMessage({ failures: 0, shortViews: 0, ops: 0, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
  );
});
parentPort!.postMessage('loaded');
