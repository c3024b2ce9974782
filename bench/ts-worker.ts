// Starts a worker_threads Worker on a TypeScript module. tsx's loader hooks (from `--import tsx`)
// are not inherited by workers in Node 20, so the worker registers them before importing the file.
import { Worker } from 'node:worker_threads';

export function startTsWorker(file: URL, workerData?: unknown): Worker {
  const code = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(file.href)}); });`;
  return new Worker(code, { eval: true, workerData });
}

/** The next message of w (rejects on a worker error or an exit before it). */
export function nextMessage<T>(w: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: T) => { off(); resolve(m); };
    const onErr = (e: Error) => { off(); reject(e); };
    const onExit = (code: number) => { off(); reject(new Error(`worker exited (code ${code}) before answering`)); };
    const off = () => { w.off('message', onMsg); w.off('error', onErr); w.off('exit', onExit); };
    w.on('message', onMsg);
    w.on('error', onErr);
    w.on('exit', onExit);
  });
}
