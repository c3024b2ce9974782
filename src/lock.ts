/**
 * The slow-path lock: one word of the heap header (H_LOCK) that serializes every change to the
 * page-level structures (page map, free-run bins, BigCache, abandoned-slab lists, thread slots).
 * The fast paths never take it.
 *
 * Word value: 0 = free, else (holder thread id) | LOCK_WAITERS when someone sleeps on it. Holding
 * the tid lets reclaimThread() recognise a lock left held by a worker that died inside a critical
 * section, take it over and repair what the dead thread left half-done (repair.ts).
 *
 * Waiting: spin briefly, then Atomics.wait with a short timeout where the thread may block;
 * a browser main thread (which may not call Atomics.wait) and non-shared buffers only spin, with
 * growing pauses. Release notifies only when a waiter announced itself.
 */

export const LOCK_WAITERS = 1 << 16;
const HOLDER_MASK = 0xffff;
const SPINS = 64;

/** Whether this agent may block in Atomics.wait (false on a browser window's main thread). */
export const CAN_BLOCK: boolean =
  typeof Atomics.wait === 'function' &&
  !(
    typeof (globalThis as { document?: unknown }).document !== 'undefined' &&
    typeof (globalThis as { window?: unknown }).window !== 'undefined'
  );

/**
 * Takes the lock at m[i] for thread `tid`. If `deadTid` is non-zero and that thread holds the lock,
 * takes it over and returns true (the caller must repair); otherwise returns false once held.
 */
export function lockAcquire(m: Int32Array, i: number, tid: number, canWait: boolean, deadTid: number): boolean {
  let v = Atomics.compareExchange(m, i, 0, tid);
  if (v === 0) return false;
  for (let round = 0; ; round++) {
    if (deadTid !== 0 && (v & HOLDER_MASK) === deadTid) {
      if (Atomics.compareExchange(m, i, v, tid | (v & LOCK_WAITERS)) === v) return true;
    } else if (v === 0) {
      // Keep the waiters flag once set: a sleeper may still be waiting for a notify.
      if (Atomics.compareExchange(m, i, 0, round >= SPINS && canWait ? tid | LOCK_WAITERS : tid) === 0) return false;
    } else if (round >= SPINS) {
      if (canWait) {
        if ((v & LOCK_WAITERS) !== 0 || Atomics.compareExchange(m, i, v, v | LOCK_WAITERS) === v) {
          Atomics.wait(m, i, v | LOCK_WAITERS, 2);
        }
      } else {
        pause(round);
      }
    }
    v = Atomics.load(m, i);
  }
}

export function lockRelease(m: Int32Array, i: number): void {
  if ((Atomics.exchange(m, i, 0) & LOCK_WAITERS) !== 0) Atomics.notify(m, i);
}

let sink = 0;
/** A busy pause that grows with the number of rounds (for agents that may not block). */
function pause(round: number): void {
  const n = Math.min(1 << Math.min(round >>> 4, 12), 4096);
  let x = sink;
  for (let k = 0; k < n; k++) x = (x * 1103515245 + 12345) | 0;
  sink = x;
}
