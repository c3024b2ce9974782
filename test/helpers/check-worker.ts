/** Runs corruption cases of check-cases.ts for test/check.test.ts, one request per case (case-runner.ts). */
import { serveCases } from './case-runner.ts';
import { runCase, type CaseResult } from './check-cases.ts';

serveCases<{ name: string }, CaseResult>(
  (msg) => runCase(msg.name),
  (e) => ({ preError: `the case itself failed: ${String(e)}`, threw: false, isCorruption: false, errorName: '', message: '', ms: 0 }),
);
