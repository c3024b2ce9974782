/** Runs corruption cases of test/check-cases.ts for test/check.test.ts, one message per case. */
import { parentPort } from 'node:worker_threads';
import { runCase } from './check-cases.ts';

parentPort!.on('message', (msg: { id: number; name: string }) => {
  let result;
  try {
    result = runCase(msg.name);
  } catch (e) {
    result = { preError: `the case itself failed: ${String(e)}`, threw: false, isCorruption: false, errorName: '', message: '', ms: 0 };
  }
  parentPort!.postMessage({ id: msg.id, result });
});
