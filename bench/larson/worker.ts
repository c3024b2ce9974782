// One of the 2T persistent workers of workload B (see bench/larson/core.ts). Worker j serves area
// j >> 1 on side j & 1. For every phase (3 warm-up phases on throw-away instances, then the timed
// one on a fresh instance) the child posts {handle, ctl, areas}; the worker attaches, waits for its
// turns, runs generations, hands the area over, and detaches when its area is finished.
import { parentPort, workerData } from 'node:worker_threads';
import {
  aGens,
  aState,
  aTurn,
  C_DONE,
  C_ERROR,
  C_GEN_LIMIT,
  C_READY,
  C_STOP,
  fillArea,
  generation,
  generationCached,
  TURN_DONE,
  type LarsonParams,
} from './core.ts';
import { attachMt, type MtAlloc } from '../peers/mt/adapters.ts';

export interface LarsonWorkerData {
  alloc: string;
  index: number;
  params: LarsonParams;
}

export interface LarsonPhaseMsg {
  handle: unknown;
  ctl: SharedArrayBuffer;
  areas: SharedArrayBuffer;
  /** first phase: tiny calls first so every line of the loop has type feedback before it is optimized */
  prime: boolean;
}

export interface LarsonPhaseDone {
  generations: number;
  error?: string;
}

const wd = workerData as LarsonWorkerData;
const P = wd.params;
const k = wd.index >> 1;
const side = wd.index & 1;
const range = P.max - P.min + 1;
const steps = P.rounds * P.chunks;
/** hakmem-cached: the same heap, the step loop with a cached view (not user form) */
const step = wd.alloc === 'hakmem-cached' ? generationCached : generation;

async function phase(m: LarsonPhaseMsg): Promise<LarsonPhaseDone> {
  const ctl = new Int32Array(m.ctl);
  const areas = new Int32Array(m.areas);
  let a: MtAlloc;
  try {
    a = await attachMt(wd.alloc, m.handle);
  } catch (e) {
    fail(ctl);
    throw e;
  }
  let generations = 0;
  try {
    if (m.prime) {
      // a private mini area (same array type as the real one), 10 tiny generations, then freed
      const mini = new Int32Array(new SharedArrayBuffer(64 * 4));
      let s = fillArea(a, mini, 0, 64, 12345 + wd.index, P.min, range);
      for (let r = 0; r < 10; r++) s = step(a, mini, 0, 64, 64, s, P.min, range);
      for (let i = 0; i < 64; i++) a.free(mini[i]);
    }
    Atomics.add(ctl, C_READY, 1);
    Atomics.notify(ctl, C_READY);
    const turn = aTurn(k);
    const base = k * P.chunks;
    const limit = ctl[C_GEN_LIMIT];
    for (;;) {
      let v: number;
      while ((v = Atomics.load(ctl, turn)) !== side) {
        if (v === TURN_DONE) return { generations };
        Atomics.wait(ctl, turn, v);
      }
      ctl[aState(k)] = step(a, areas, base, P.chunks, steps, ctl[aState(k)], P.min, range);
      generations++;
      const g = ++ctl[aGens(k)];
      if (limit > 0 ? g >= limit : Atomics.load(ctl, C_STOP) !== 0) {
        Atomics.store(ctl, turn, TURN_DONE);
        Atomics.notify(ctl, turn);
        Atomics.add(ctl, C_DONE, 1);
        Atomics.notify(ctl, C_DONE);
        return { generations };
      }
      Atomics.store(ctl, turn, 1 - side);
      Atomics.notify(ctl, turn);
    }
  } catch (e) {
    fail(ctl);
    throw e;
  } finally {
    a.detach();
  }
}

/** Unblocks everyone: this area is finished, and the child sees C_ERROR. */
function fail(ctl: Int32Array): void {
  Atomics.store(ctl, C_ERROR, 1);
  Atomics.store(ctl, C_STOP, 1);
  Atomics.store(ctl, aTurn(k), TURN_DONE);
  Atomics.notify(ctl, aTurn(k));
  Atomics.add(ctl, C_READY, 1);
  Atomics.notify(ctl, C_READY);
  Atomics.add(ctl, C_DONE, 1);
  Atomics.notify(ctl, C_DONE);
}

parentPort!.on('message', (m: LarsonPhaseMsg | 'exit') => {
  if (m === 'exit') {
    parentPort!.close();
    return;
  }
  phase(m).then(
    (r) => parentPort!.postMessage(r),
    (e) => parentPort!.postMessage({ generations: 0, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
  );
});
parentPort!.postMessage('loaded');
