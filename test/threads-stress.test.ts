/**
 * Issue 3 stress test on Node worker_threads: 4 workers (more than this machine's cores) x 1M
 * operations each on one heap, blocks handed between workers, every block's contents verified, a
 * shared bitmap catching any block handed out twice, the heap growing while it runs; at the end
 * everything freed, check() passes and stats() shows 0 bytes in use. The logic is in helpers/stress.js,
 * shared with the browser test (test/browser.test.ts).
 *
 * HAKMEM_STRESS_OPS=N sets the operations per worker (default 1000000), HAKMEM_STRESS_WORKERS the
 * workers (default 4), HAKMEM_STRESS_SEED the seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as hakmem from '../src/index.ts';
import { runStress, type StressMessage, type StressWorkerResult } from './helpers/stress.js';
import { envInt } from './helpers/env.ts';
import { tsWorker } from './helpers/workers.ts';

function spawnNode(file: URL) {
  return (msg: StressMessage) => {
    const w = tsWorker(file);
    const result = new Promise<StressWorkerResult>((resolve, reject) => {
      let answered = false;
      w.once('message', (r: StressWorkerResult) => {
        answered = true;
        resolve(r);
        void w.terminate();
      });
      w.once('error', (e) => reject(e));
      w.once('exit', (code) => {
        if (!answered) reject(new Error(`worker exited (code ${code}) without a result`));
      });
    });
    w.postMessage(msg);
    return { result, terminate: () => void w.terminate() };
  };
}

test('stress: 4 workers x 1M ops, cross-thread frees, growth, contents and overlap checked', { timeout: 300_000 }, async () => {
  const options = {
    opsPerWorker: envInt('HAKMEM_STRESS_OPS', 1_000_000),
    workers: envInt('HAKMEM_STRESS_WORKERS', 4),
    seed: envInt('HAKMEM_STRESS_SEED', 1),
  };
  const summary = await runStress({
    hakmem,
    spawn: spawnNode(new URL('./helpers/threads-stress-worker.ts', import.meta.url)),
    options,
    log: (l) => console.log(l),
  });
  console.log(`stress summary: ${JSON.stringify(summary)}`);
  assert.deepEqual(summary.problems, []);
  bytesProblem = summary.bytesProblem;
  ran = true;
});

let ran = false;
let bytesProblem: string | null = null;
test('stress: stats().inUseBytes is 0 at the end', () => {
  assert.ok(ran, 'the stress test did not run to its end');
  assert.equal(bytesProblem, null);
});
