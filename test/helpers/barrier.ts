/**
 * A barrier between worker threads and the main thread, in three words of a shared Int32Array
 * (test/faults-exhaust.test.ts, the fuzz campaign's worker mode): the workers arrive and wait; the
 * main thread gathers them (they are paused: it checks the heap), then releases them. Setting the
 * abort word makes every waiting or arriving worker throw. The barrier takes the first three words
 * of the Int32Array; the rest is the caller's.
 */

/** Workers arrived at the barrier. */
export const B_ARRIVE = 0;
/** The barrier's generation: bumped by each release. */
export const B_GEN = 1;
/** Non-zero: a thread failed, everyone stops. */
export const B_ABORT = 2;

/** A worker's side: arrives and waits for the main thread's release; throws when the run is aborted. */
export function arriveAndWait(ctl: Int32Array): void {
  const g = Atomics.load(ctl, B_GEN);
  Atomics.add(ctl, B_ARRIVE, 1);
  while (Atomics.load(ctl, B_GEN) === g) {
    if (Atomics.load(ctl, B_ABORT) !== 0) throw new Error('aborted (another thread failed)');
    Atomics.wait(ctl, B_GEN, g, 200);
  }
  if (Atomics.load(ctl, B_ABORT) !== 0) throw new Error('aborted (another thread failed)');
}

/**
 * The main thread's side: resolves once `workers` workers wait at the barrier. Throws failed() as
 * soon as it returns an error, and `stuck` once nothing moved for stallMs: progress() (default:
 * nothing ever moves, so stallMs counts from the call) is read while waiting.
 */
export async function gather(
  ctl: Int32Array,
  workers: number,
  o: { failed: () => Error | undefined; stallMs: number; stuck: string; progress?: () => number },
): Promise<void> {
  let last = Date.now();
  let seen = o.progress?.() ?? 0;
  while (Atomics.load(ctl, B_ARRIVE) < workers) {
    const failure = o.failed();
    if (failure) throw failure;
    const n = o.progress?.() ?? 0;
    if (n !== seen) {
      seen = n;
      last = Date.now();
    }
    if (Date.now() - last > o.stallMs) throw new Error(o.stuck);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** The main thread's side: lets the gathered workers go on. */
export function release(ctl: Int32Array): void {
  Atomics.store(ctl, B_ARRIVE, 0);
  Atomics.add(ctl, B_GEN, 1);
  Atomics.notify(ctl, B_GEN);
}

/** Any thread: stops the run; waiting workers wake up and throw. */
export function abort(ctl: Int32Array): void {
  Atomics.store(ctl, B_ABORT, 1);
  Atomics.add(ctl, B_GEN, 1);
  Atomics.notify(ctl, B_GEN);
}
