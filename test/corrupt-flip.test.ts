/**
 * Corruption injection (issue 5): random bits of one word of allocator metadata are flipped in a
 * heap with live and free blocks in every tier and three threads (helpers/corrupt-flip.ts); check()
 * must pass (the bits meant nothing there) or throw HeapCorruptionError, never anything else, never
 * hang and never crash the thread. Flips run in a worker (helpers/case-runner.ts): a check() that
 * does not return within TIMEOUT_MS, or a worker that dies, fails the test (the worker is replaced
 * for the next flip).
 *
 * HAKMEM_FLIP_SCENES (default 10) scenes x HAKMEM_FLIP_PER_SCENE (default 200) flips. The summary
 * lists, per metadata region, how many flips check() detected and how many it found harmless.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { CaseRunner } from './helpers/case-runner.ts';
import type { FlipResult } from './helpers/corrupt-flip.ts';
import { envInt } from './helpers/env.ts';

const TIMEOUT_MS = 10_000;
const SCENES = envInt('HAKMEM_FLIP_SCENES', 10);
const PER_SCENE = envInt('HAKMEM_FLIP_PER_SCENE', 200);

type Outcome = FlipResult | { outcome: 'timeout' | 'crash'; message: string };

const runner = new CaseRunner<{ sceneSeed: number; trialSeed: number }, FlipResult>(
  new URL('./helpers/corrupt-flip-worker.ts', import.meta.url),
  TIMEOUT_MS,
);
after(() => runner.close());

test(`corruption injection: ${SCENES} scenes x ${PER_SCENE} random bit flips of metadata; check() passes or throws HeapCorruptionError`, {
  timeout: 900_000,
}, async (t) => {
  const byRegion = new Map<string, { detected: number; harmless: number }>();
  const bad: string[] = [];
  let detected = 0;
  let harmless = 0;
  for (let sc = 1; sc <= SCENES; sc++) {
    for (let i = 0; i < PER_SCENE; i++) {
      const trialSeed = sc * 100_003 + i;
      const o = await runner.run({ sceneSeed: sc, trialSeed });
      const r: Outcome =
        o.kind === 'done'
          ? o.result
          : o.kind === 'timeout'
            ? { outcome: 'timeout', message: `check() did not return within ${TIMEOUT_MS} ms` }
            : { outcome: 'crash', message: o.message };
      if (r.outcome === 'detected' || r.outcome === 'harmless') {
        const f = r as FlipResult;
        let e = byRegion.get(f.region);
        if (e === undefined) byRegion.set(f.region, (e = { detected: 0, harmless: 0 }));
        e[r.outcome]++;
        if (r.outcome === 'detected') detected++;
        else harmless++;
        continue;
      }
      const where = 'region' in r ? `${r.region} word +${r.offset} ^ 0x${(r.mask >>> 0).toString(16)}` : '';
      bad.push(`scene ${sc}, flip seed ${trialSeed} (${where}): ${r.outcome}${'errorName' in r ? ` ${r.errorName}` : ''}: ${r.message}`);
      if (bad.length >= 10) break;
    }
  }
  const lines = [...byRegion]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([k, v]) => `  ${k.padEnd(36)} detected ${String(v.detected).padStart(4)}  harmless ${String(v.harmless).padStart(4)}`);
  const summary = `corruption injection: ${detected + harmless + bad.length} flips: ${detected} detected (HeapCorruptionError), ${harmless} harmless (check() passed), ${bad.length} failures`;
  console.log(`# ${summary}\n${lines.map((l) => `# ${l}`).join('\n')}`);
  t.diagnostic(summary);
  assert.deepEqual(bad, [], 'check() must pass or throw HeapCorruptionError, and return');
  assert.ok(detected > (detected + harmless) / 2, 'most flips of metadata should be detected');
});
