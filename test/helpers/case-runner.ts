/**
 * Cases run in a worker thread with a watchdog, so that a heap.check() that never returns (or kills
 * its thread) fails its test instead of hanging the run: test/check.test.ts (one corruption case
 * per request) and test/corrupt-flip.test.ts (one bit flip per request).
 *
 * The test's side is a CaseRunner on a worker module; the worker's side calls serveCases(). A
 * request is posted as { id, ...request } and answered with { id, result }. A request that gets no
 * answer within timeoutMs terminates its worker (the next request starts another); a worker that
 * dies fails the requests it holds.
 */
import { parentPort, type Worker } from 'node:worker_threads';
import { tsWorker } from './workers.ts';

export type CaseOutcome<R> = { kind: 'done'; result: R } | { kind: 'timeout' } | { kind: 'crash'; message: string };

export class CaseRunner<Q extends object, R> {
  private worker: Worker | undefined;
  private waiting = new Map<number, { w: Worker; done: (o: CaseOutcome<R>) => void }>();
  private nextId = 0;

  constructor(
    private readonly module: URL,
    readonly timeoutMs: number,
  ) {}

  private start(): Worker {
    const w = tsWorker(this.module);
    w.on('message', (msg: { id: number; result: R }) => {
      this.waiting.get(msg.id)?.done({ kind: 'done', result: msg.result });
      this.waiting.delete(msg.id);
    });
    const died = (why: string) => {
      // only the requests sent to this worker (a terminated one exits after its replacement started)
      for (const [id, e] of this.waiting) {
        if (e.w !== w) continue;
        this.waiting.delete(id);
        e.done({ kind: 'crash', message: why });
      }
      if (this.worker === w) this.worker = undefined;
    };
    w.on('error', (e) => died(`worker error: ${String(e)}`));
    w.on('exit', (code) => died(`worker exited with code ${code}`));
    w.unref();
    return w;
  }

  run(request: Q): Promise<CaseOutcome<R>> {
    const w = (this.worker ??= this.start());
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        if (this.worker === w) this.worker = undefined;
        void w.terminate();
        resolve({ kind: 'timeout' });
      }, this.timeoutMs);
      this.waiting.set(id, {
        w,
        done: (o) => {
          clearTimeout(timer);
          resolve(o);
        },
      });
      w.postMessage({ ...request, id });
    });
  }

  close(): void {
    const w = this.worker;
    this.worker = undefined;
    void w?.terminate();
  }
}

/**
 * The worker's side: answers every request with handle(request), or with onError(e) when handle
 * throws (the case itself failed: the test reports it).
 */
export function serveCases<Q, R>(handle: (request: Q) => R, onError: (e: unknown) => R): void {
  parentPort!.on('message', (msg: Q & { id: number }) => {
    let result: R;
    try {
      result = handle(msg);
    } catch (e) {
      result = onError(e);
    }
    parentPort!.postMessage({ id: msg.id, result });
  });
}
