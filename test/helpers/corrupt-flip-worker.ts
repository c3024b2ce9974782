/** Runs flips of corrupt-flip.ts for test/corrupt-flip.test.ts, one request per flip (case-runner.ts). */
import { serveCases } from './case-runner.ts';
import { buildScene, flipOnce, type FlipResult, type Scene } from './corrupt-flip.ts';

let scene: Scene | undefined;
let sceneSeed = -1;
let n = 0;

serveCases<{ sceneSeed: number; trialSeed: number }, FlipResult>(
  (msg) => {
    if (msg.sceneSeed !== sceneSeed) {
      scene = buildScene(msg.sceneSeed);
      sceneSeed = msg.sceneSeed;
    }
    const result = flipOnce(scene!, msg.trialSeed);
    // the word is restored: the heap is intact again
    if (++n % 64 === 0) scene!.h.check();
    return result;
  },
  (e) => {
    sceneSeed = -1;
    return {
      region: '?',
      offset: 0,
      mask: 0,
      outcome: 'other',
      errorName: 'harness',
      message: `the flip harness failed: ${String((e as Error)?.stack ?? e)}`,
    };
  },
);
