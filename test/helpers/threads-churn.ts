/** Shared by test/threads-churn.test.ts and its worker. */
import type { StressMessage } from './stress.js';

export interface ChurnMessage {
  handle: unknown;
  shared: StressMessage['shared'];
  tables: SharedArrayBuffer;
  totalSlots: number;
  workerSlots: number;
  gen: number;
  k: number;
  tag: number;
  ops: number;
  /** The op at which the worker asks to be killed (terminate()), or -1 to end with detach(). */
  killAt: number;
}

/** The table's four columns (ptr, requested size, id, usable size), views of one shared buffer. */
export function churnTables(sab: SharedArrayBuffer, total: number) {
  return {
    tPtr: new Int32Array(sab, 0, total),
    tSize: new Int32Array(sab, 4 * total, total),
    tId: new Int32Array(sab, 8 * total, total),
    tUse: new Int32Array(sab, 12 * total, total),
  };
}

/** The worker slots that worker k of generation gen owns: half of them, split differently each time. */
export function churnOwned(gen: number, k: number, workerSlots: number): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < workerSlots; i++) if ((((i >> (gen % 6)) ^ gen) & 1) === k) out.push(i);
  return Int32Array.from(out);
}
