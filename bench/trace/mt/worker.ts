// One worker of the multi-thread trace replay (bench/trace/mt/core.ts): it plays trace thread
// `workerData.thread`. Messages from the replaying thread, answered in order:
//   {cmd: 'run', handle, ctl, ptrs, sizes, n}  attach to the instance, replay this thread's ops
//        among ops [0, n), each run of them when its turn comes -> {failures, ops}
//   {cmd: 'detach'}  detach from the instance -> {}
//   'exit'           close
import { parentPort, workerData } from 'node:worker_threads';
import { attachMt, type MtAlloc } from '../../peers/mt/adapters.ts';
import { EmulatedAllocator } from '../../peers/trace/adapters.ts';
import { replayRange, type TraceAlloc } from '../core.ts';
import { M_DONE, M_ERROR, M_READY, mGo, type MtReplayRunMsg, type MtWorkerData, type SharedTrace } from './core.ts';

const wd = workerData as MtWorkerData;
const T: SharedTrace = wd.trace;
const me = wd.thread;

/** This thread's runs of consecutive ops within [0, n): [start0, end0, start1, end1, ...]. */
function myRuns(n: number): number[] {
  const out: number[] = [];
  const tid = T.tid;
  let i = 0;
  while (i < n) {
    if (tid[i] !== me) {
      i++;
      continue;
    }
    const s = i;
    while (i < n && tid[i] === me) i++;
    out.push(s, i);
  }
  return out;
}

let attached: { raw: MtAlloc; alloc: TraceAlloc } | undefined;

async function run(m: MtReplayRunMsg): Promise<{ failures: number; ops: number }> {
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
        if (Atomics.load(ctl, M_ERROR) !== 0) return { failures, ops };
        Atomics.wait(ctl, go, v, 1000);
      }
      failures += replayRange(a, T, ptrs, sizes, s, e);
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
    return { failures, ops };
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
    (e) => parentPort!.postMessage({ failures: 0, ops: 0, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
  );
});
parentPort!.postMessage('loaded');
