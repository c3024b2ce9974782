/** Helpers of the multi-thread tests (test/threads-*.test.ts). */
import { Worker } from 'node:worker_threads';

/** Starts a TS worker: tsx's hooks are not inherited by workers in Node 20, so register them first. */
export function tsWorker(file: string, workerData?: unknown): Worker {
  const url = new URL(file, import.meta.url).href;
  return new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url)}); });`, { eval: true, workerData });
}

/** A positive integer from the environment, or `dflt`. */
export function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`${name}=${v} is not a positive integer`);
  return n;
}
