/**
 * Corruption injection (issue 5): random bits of one word of allocator metadata are flipped in a
 * heap with live and free blocks in every tier and three threads (test/corrupt-flip.ts); check()
 * must pass (the bits meant nothing there) or throw HeapCorruptionError, never anything else, never
 * hang and never crash the thread. Flips run in a worker: a check() that does not return within
 * TIMEOUT_MS, or a worker that dies, fails the test (the worker is replaced for the next flip).
 *
 * HAKMEM_FLIP_SCENES (default 10) scenes x HAKMEM_FLIP_PER_SCENE (default 200) flips. The summary
 * lists, per metadata region, how many flips check() detected and how many it found harmless.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from 'node:worker_threads';
import type { FlipResult } from './corrupt-flip.ts';
import { envInt, tsWorker } from './threads-util.ts';

const TIMEOUT_MS = 10_000;
const SCENES = envInt('HAKMEM_FLIP_SCENES', 10);
const PER_SCENE = envInt('HAKMEM_FLIP_PER_SCENE', 200);

type Outcome = FlipResult | { outcome: 'timeout' | 'crash'; message: string };

class FlipRunner {
  private worker: Worker | undefined;
  private waiting = new Map<number, { w: Worker; done: (r: Outcome) => void }>();
  private nextId = 0;

  private start(): Worker {
    const w = tsWorker('./corrupt-flip-worker.ts');
    w.on('message', (msg: { id: number; result: FlipResult }) => {
      this.waiting.get(msg.id)?.done(msg.result);
      this.waiting.delete(msg.id);
    });
    const died = (why: string) => {
      // only the flips sent to this worker (a terminated one exits after its replacement started)
      for (const [id, e] of this.waiting) {
        if (e.w !== w) continue;
        this.waiting.delete(id);
        e.done({ outcome: 'crash', message: why });
      }
      if (this.worker === w) this.worker = undefined;
    };
    w.on('error', (e) => died(`worker error: ${String(e)}`));
    w.on('exit', (code) => died(`worker exited with code ${code}`));
    w.unref();
    return w;
  }

  run(sceneSeed: number, trialSeed: number): Promise<Outcome> {
    const w = (this.worker ??= this.start());
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        if (this.worker === w) this.worker = undefined;
        void w.terminate();
        resolve({ outcome: 'timeout', message: `check() did not return within ${TIMEOUT_MS} ms` });
      }, TIMEOUT_MS);
      this.waiting.set(id, {
        w,
        done: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
      w.postMessage({ id, sceneSeed, trialSeed });
    });
  }

  close(): void {
    const w = this.worker;
    this.worker = undefined;
    void w?.terminate();
  }
}

const runner = new FlipRunner();
after(() => runner.close());

test(`corruption injection: ${SCENES} scenes x ${PER_SCENE} random bit flips of metadata; check() passes or throws HeapCorruptionError`, { timeout: 900_000 }, async (t) => {
  const byRegion = new Map<string, { detected: number; harmless: number }>();
  const bad: string[] = [];
  let detected = 0;
  let harmless = 0;
  for (let sc = 1; sc <= SCENES; sc++) {
    for (let i = 0; i < PER_SCENE; i++) {
      const trialSeed = sc * 100_003 + i;
      const r = await runner.run(sc, trialSeed);
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
  const lines = [...byRegion].sort((a, b) => a[0].localeCompare(b[0]))
    .map(([k, v]) => `  ${k.padEnd(36)} detected ${String(v.detected).padStart(4)}  harmless ${String(v.harmless).padStart(4)}`);
  const summary = `corruption injection: ${detected + harmless + bad.length} flips: ${detected} detected (HeapCorruptionError), ${harmless} harmless (check() passed), ${bad.length} failures`;
  console.log(`# ${summary}\n${lines.map((l) => `# ${l}`).join('\n')}`);
  t.diagnostic(summary);
  assert.deepEqual(bad, [], 'check() must pass or throw HeapCorruptionError, and return');
  assert.ok(detected > (detected + harmless) / 2, 'most flips of metadata should be detected');
});
