/** A Node worker of test/threads-stress.test.ts: runs stress.js's stressWorker with src/. */
import { parentPort } from 'node:worker_threads';
import * as hakmem from '../../src/index.ts';
import { stressWorker, type StressMessage } from './stress.js';

parentPort!.once('message', (msg: StressMessage) => {
  parentPort!.postMessage(stressWorker(hakmem, msg));
});
