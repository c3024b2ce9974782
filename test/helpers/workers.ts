/**
 * Starting worker threads on the TypeScript modules of test/helpers/ (and of the tests), and
 * waiting for a worker's first answer.
 */
import { Worker } from 'node:worker_threads';

/**
 * Starts a worker on a TypeScript module, given as a URL (`new URL('./helpers/x-worker.ts',
 * import.meta.url)` from a test, `new URL('./x-worker.ts', import.meta.url)` from a helper): tsx's
 * hooks (from `node --import tsx`) are not inherited by workers in Node 20, so the worker registers
 * them before it imports the module.
 */
export function tsWorker(module: URL, workerData?: unknown): Worker {
  return new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(module.href)}); });`, {
    eval: true,
    workerData,
  });
}

/**
 * The worker's first message. Rejects on a worker error, on an exit before the message, and (with
 * timeoutMs) when no message came in time. Its listeners are removed once it settles.
 */
export function firstMessage<T>(w: Worker, timeoutMs?: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            off();
            reject(new Error(`the worker did not report within ${timeoutMs / 1000} s`));
          }, timeoutMs);
    const onMessage = (m: T) => {
      off();
      resolve(m);
    };
    const onError = (e: Error) => {
      off();
      reject(e);
    };
    const onExit = (code: number) => {
      off();
      reject(new Error(`the worker exited (code ${code}) before it reported`));
    };
    const off = () => {
      clearTimeout(timer);
      w.off('message', onMessage);
      w.off('error', onError);
      w.off('exit', onExit);
    };
    w.on('message', onMessage);
    w.on('error', onError);
    w.on('exit', onExit);
  });
}
