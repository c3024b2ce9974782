/** Runs flips of test/corrupt-flip.ts for test/corrupt-flip.test.ts, one message per flip. */
import { parentPort } from 'node:worker_threads';
import { buildScene, flipOnce, type Scene } from './corrupt-flip.ts';

let scene: Scene | undefined;
let sceneSeed = -1;
let n = 0;

parentPort!.on('message', (msg: { id: number; sceneSeed: number; trialSeed: number }) => {
  let result;
  try {
    if (msg.sceneSeed !== sceneSeed) {
      scene = buildScene(msg.sceneSeed);
      sceneSeed = msg.sceneSeed;
    }
    result = flipOnce(scene!, msg.trialSeed);
    // the word is restored: the heap is intact again
    if (++n % 64 === 0) scene!.h.check();
  } catch (e) {
    result = { region: '?', offset: 0, mask: 0, outcome: 'other', errorName: 'harness', message: `the flip harness failed: ${String((e as Error)?.stack ?? e)}` };
    sceneSeed = -1;
  }
  parentPort!.postMessage({ id: msg.id, result });
});
