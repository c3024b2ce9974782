// Starting the bench's measured code: a child process that prints one JSON line (runJsonChild),
// and a worker_threads Worker on a TypeScript module (startTsWorker, nextMessage).
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { ROOT } from './paths.ts';

/**
 * Runs one benchmark child process (node + argv, from the project root) and returns the JSON
 * object it prints as its last stdout line; rejects with the most useful stderr line otherwise.
 */
export function runJsonChild<T>(argv: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as T);
      else reject(new Error(`exit ${code}: ${firstLine(errorLine(err) || out || '(no output)')}`));
    });
  });
}

export function firstLine(s: string): string {
  return s.trim().split('\n')[0]!.slice(0, 200);
}

/** The most useful line of a child's stack trace: the first one that names an error. */
function errorLine(stderr: string): string {
  return stderr.split('\n').find((l) => /Error|error:/.test(l)) ?? stderr;
}

/**
 * Starts a worker_threads Worker on a TypeScript module. tsx's loader hooks (from `--import tsx`)
 * are not inherited by workers in Node 20, so the worker registers them before importing the file.
 */
export function startTsWorker(file: URL, workerData?: unknown): Worker {
  const code = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(file.href)}); });`;
  return new Worker(code, { eval: true, workerData });
}

/** The next message of w (rejects on a worker error or an exit before it). */
export function nextMessage<T>(w: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: T) => {
      off();
      resolve(m);
    };
    const onErr = (e: Error) => {
      off();
      reject(e);
    };
    const onExit = (code: number) => {
      off();
      reject(new Error(`worker exited (code ${code}) before answering`));
    };
    const off = () => {
      w.off('message', onMsg);
      w.off('error', onErr);
      w.off('exit', onExit);
    };
    w.on('message', onMsg);
    w.on('error', onErr);
    w.on('exit', onExit);
  });
}
