// Strategy selection (learning mode, src/learn.ts) under a deterministic harness: the internal
// `learn` option injects the cost of each window (or the clock), so what the controller sees is
// fixed by the test: convergence to the cheapest candidate, freezing, the canary's detection of a
// phase change (and its hysteresis), policy export and import, and policy switches under load, on
// one thread and with two workers on one heap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHeap, type Heap } from '../src/index.ts';
import type { LearningStats } from '../src/learn.ts';
import { freeAll, runWorkload, type Live } from './helpers/modes-workload.ts';
import { Rng } from './helpers/rng.ts';
import { firstMessage, tsWorker } from './helpers/workers.ts';

type Costs = Record<string, number>;

function learning(h: Heap): LearningStats {
  return h.stats().learning!;
}

/**
 * Runs the random workload in chunks until `until` holds (or `maxOps`), calling `each` after every
 * chunk; returns the operations run.
 */
function drive(
  h: Heap,
  r: Rng,
  live: Live[],
  until: (s: LearningStats) => boolean,
  maxOps = 2_000_000,
  each?: (s: LearningStats) => void,
): number {
  let ops = 0;
  while (ops < maxOps) {
    runWorkload(h, r, 2000, live, { maxLive: 800 });
    ops += 2000;
    const s = learning(h);
    each?.(s);
    if (until(s)) return ops;
  }
  return ops;
}

const argmin = (c: Costs) => Object.entries(c).sort((a, b) => a[1] - b[1])[0]![0];

test('learn: converges to the cheapest candidate and freezes on it (three cost tables)', () => {
  const tables: Costs[] = [
    { base: 10, roomy: 9, compact: 5, 'best-fit': 8, 'no-lists': 12 },
    { base: 10, roomy: 9, compact: 11, 'best-fit': 8, 'no-lists': 4 },
    { base: 3, roomy: 9, compact: 11, 'best-fit': 8, 'no-lists': 4 },
  ];
  for (const costs of tables) {
    const h = createHeap({ mode: 'learning', learn: { windowOps: 256, cost: (c) => costs[c]! } });
    assert.equal(learning(h).state, 'learn', 'a new learning heap starts in LEARN');
    const live: Live[] = [];
    drive(h, new Rng(1), live, (s) => s.state === 'frozen');
    const s = learning(h);
    const want = argmin(costs);
    assert.equal(s.state, 'frozen', `frozen after ${s.windows} windows`);
    assert.equal(s.best, want);
    assert.equal(s.current, want);
    assert.equal(h.stats().config.policy.name, want, "the winner's policy is the one in force");
    const top = Math.max(...Object.values(s.ratings));
    assert.equal(s.ratings[want], top, `the winner has the highest rating: ${JSON.stringify(s.ratings)}`);
    // Every candidate had its windows; one more than 2x the cheapest left the rotation after 2 rounds.
    const least = costs[want]!;
    for (const c of Object.keys(costs)) {
      if (costs[c]! > 2 * least) assert.equal(s.windowsOf[c], 2, `${c} (${costs[c]} > 2 x ${least}) left after its 2 windows`);
      else assert.ok(s.windowsOf[c]! >= 3, `${c} had its windows (${s.windowsOf[c]})`);
    }
    // Frozen: nothing is measured but the canary's windows; the winner stays.
    const before = s.windows;
    drive(h, new Rng(2), live, () => false, 40000);
    const after = learning(h);
    assert.equal(after.best, want);
    assert.equal(after.relearns, 0);
    assert.ok(after.windows - before <= 2 * (after.challenges - s.challenges) + 2, "frozen windows are not measured (only a canary's two)");
    freeAll(h, live);
    h.check();
  }
});

test('learn: with the injected clock and the default cost (ns per malloc), it picks the candidate whose ops run fastest', () => {
  const nsPerOp: Costs = { base: 90, roomy: 80, compact: 100, 'best-fit': 45, 'no-lists': 120 };
  let now = 0;
  const h = createHeap({ mode: 'learning', learn: { windowOps: 512, memoryWeight: 0, clock: () => now } });
  const live: Live[] = [];
  const r = new Rng(3);
  for (let ops = 0; ops < 1_000_000 && learning(h).state !== 'frozen'; ops += 8) {
    runWorkload(h, r, 8, live, { maxLive: 800 });
    now += (8 * nsPerOp[h.config().policy.name]!) / 1e6; // ms
  }
  const s = learning(h);
  assert.equal(s.state, 'frozen');
  assert.equal(s.best, 'best-fit', JSON.stringify(s.costOf));
  freeAll(h, live);
  h.check();
});

test('learn: the canary finds a phase change (the costs switch) and sends the heap back to LEARN, which freezes on the new winner', () => {
  let costs: Costs = { base: 10, roomy: 9, compact: 5, 'best-fit': 8, 'no-lists': 12 };
  const h = createHeap({ mode: 'learning', learn: { windowOps: 256, cost: (c) => costs[c]! } });
  const live: Live[] = [];
  const r = new Rng(4);
  drive(h, r, live, (s) => s.state === 'frozen');
  assert.equal(learning(h).best, 'compact');
  // Nothing changed: challenges come and go, the winner stays.
  drive(h, r, live, (s) => s.challenges >= 3);
  assert.equal(learning(h).relearns, 0);
  assert.equal(learning(h).state === 'learn', false);
  // The workload's phase changes: roomy is now the cheapest by far.
  costs = { base: 10, roomy: 2, compact: 5, 'best-fit': 8, 'no-lists': 12 };
  const states = new Set<string>();
  drive(
    h,
    r,
    live,
    (s) => s.relearns === 1 && s.state === 'frozen',
    4_000_000,
    (s) => states.add(s.state),
  );
  const s = learning(h);
  assert.ok(states.has('learn'), `back to LEARN after the change (states seen: ${[...states].join(', ')})`);
  assert.equal(s.relearns, 1);
  assert.equal(s.state, 'frozen');
  assert.equal(s.best, 'roomy');
  assert.equal(h.stats().config.policy.name, 'roomy');
  freeAll(h, live);
  h.check();
});

test('learn: hysteresis: one lucky canary window does not send the heap back to LEARN', () => {
  const costs: Costs = { base: 10, roomy: 9, compact: 5, 'best-fit': 8, 'no-lists': 12 };
  let frozen = false;
  let lucky = 0;
  const h = createHeap({
    mode: 'learning',
    learn: {
      windowOps: 256,
      // The first window best-fit has after the freeze (the canary's first challenger) is cheap; every later one is not.
      cost: (c) => (frozen && c === 'best-fit' && lucky++ === 0 ? 2 : costs[c]!),
    },
  });
  const live: Live[] = [];
  const r = new Rng(5);
  drive(h, r, live, (s) => s.state === 'frozen');
  assert.equal(learning(h).best, 'compact');
  frozen = true;
  drive(h, r, live, (s) => s.challenges >= 4);
  const s = learning(h);
  assert.ok(lucky >= 2, `best-fit was challenged again after its lucky window (${lucky} windows)`);
  assert.equal(s.relearns, 0);
  assert.equal(s.best, 'compact');
  freeAll(h, live);
  h.check();
});

test("learn: a window far costlier than its candidate's mean (a pause) is discarded, not rated; a cost that stays high is rated", () => {
  const costs: Costs = { base: 10, roomy: 9, compact: 5, 'best-fit': 8, 'no-lists': 12 };
  let baseWindows = 0;
  const h = createHeap({
    mode: 'learning',
    // base's third window costs 100x (a GC pause in it); every other window its table cost.
    learn: { windowOps: 256, cost: (c) => (c === 'base' && ++baseWindows === 3 ? 1000 : costs[c]!) },
  });
  const live: Live[] = [];
  drive(h, new Rng(14), live, (s) => s.state === 'frozen');
  const s = learning(h);
  assert.ok(baseWindows >= 3);
  assert.equal(s.discarded, 1);
  assert.equal(s.best, 'compact');
  assert.ok(s.costOf.base! < 11, `the pause is not in base's mean cost (${s.costOf.base})`);
  // A candidate 3x costlier than the mean of all (no-lists here) is not an outlier: it is rated.
  const h2 = createHeap({ mode: 'learning', learn: { windowOps: 256, cost: (c) => ({ ...costs, base: 2, 'no-lists': 40 })[c]! } });
  const live2: Live[] = [];
  drive(h2, new Rng(15), live2, (x) => x.state === 'frozen');
  const s2 = learning(h2);
  assert.equal(s2.best, 'base');
  assert.equal(s2.discarded, 0);
  assert.equal(s2.windowsOf['no-lists'], 2, 'rated, then out of the rotation (more than 2x the cheapest)');
  freeAll(h, live);
  freeAll(h2, live2);
  h.check();
  h2.check();
});

test('learn: heap.policy() exports what was learned; a new heap starts frozen on it (learning) or runs it (balanced)', () => {
  const costs: Costs = { base: 10, roomy: 9, compact: 5, 'best-fit': 8, 'no-lists': 12 };
  const h = createHeap({ mode: 'learning', learn: { windowOps: 256, cost: (c) => costs[c]! } });
  const live: Live[] = [];
  drive(h, new Rng(6), live, (s) => s.state === 'frozen');
  const p = h.policy();
  assert.equal(p.name, 'compact');
  assert.equal(p.learned?.state, 'frozen');
  assert.equal(p.learned?.mode, 'learning');
  const json = JSON.parse(JSON.stringify(p)); // plain JSON
  assert.deepEqual(json, p);
  const again = createHeap({ mode: 'learning', policy: json });
  const s = learning(again);
  assert.equal(s.state, 'frozen');
  assert.equal(s.current, 'compact');
  assert.equal(s.windows, 0, 'nothing measured yet');
  assert.deepEqual(again.policy().settings, p.settings);
  const b = createHeap({ mode: 'balanced', policy: JSON.stringify(p) });
  assert.equal(b.stats().config.policy.name, 'compact');
  assert.deepEqual(b.stats().config.policy.settings, p.settings);
  freeAll(h, live);
});

test('learn: policies switched every few windows under a random workload: check() passes throughout', () => {
  const noise = new Rng(77);
  // Random costs: the controller never settles (windows of 64 mallocs, a switch every window in LEARN).
  const h = createHeap({ mode: 'learning', learn: { windowOps: 64, cost: () => 1 + noise.next() * 2 } });
  const live: Live[] = [];
  runWorkload(h, new Rng(8), 60000, live, { checkEvery: 250 });
  const s = learning(h);
  assert.ok(s.switches >= 50, `${s.switches} switches`);
  freeAll(h, live);
  h.check();
  assert.equal(h.stats().inUseBlocks, 0);
});

test('learn: two workers and the main thread on one learning heap, policies switching: check() passes, remote frees', async () => {
  const noise = new Rng(99);
  const h = createHeap({ mode: 'learning', learn: { windowOps: 64, cost: () => 1 + noise.next() * 2 } });
  const module = new URL('./helpers/modes-worker.ts', import.meta.url);
  const workers = [
    tsWorker(module, { handle: h.handle, seed: 11, ops: 60000 }),
    tsWorker(module, { handle: h.handle, seed: 12, ops: 60000 }),
  ];
  const answers = workers.map((w) => firstMessage<{ ok: boolean; error?: string; mode?: string; live?: Live[] }>(w));
  // The main thread works meanwhile (its windows run the injected cost: switches while the workers allocate).
  const live: Live[] = [];
  const r = new Rng(13);
  for (let i = 0; i < 30; i++) {
    runWorkload(h, r, 2000, live, { maxLive: 1500 });
    await new Promise((res) => setImmediate(res));
  }
  const got = await Promise.all(answers);
  for (const a of got) {
    assert.ok(a.ok, a.error);
    assert.equal(a.mode, 'learning');
  }
  h.check(); // the workers wait, attached
  const s = learning(h);
  assert.ok(s.switches >= 20, `${s.switches} switches`);
  // The workers' blocks: checked and freed here (frees of another thread's blocks).
  const theirs = got.flatMap((a) => a.live!);
  assert.ok(theirs.length > 100);
  freeAll(h, theirs);
  runWorkload(h, r, 5000, live, { checkEvery: 1000 });
  h.check();
  const detached = workers.map((w) => firstMessage<{ detached: boolean }>(w));
  for (const w of workers) w.postMessage('detach');
  for (const d of await Promise.all(detached)) assert.ok(d.detached);
  await Promise.all(workers.map((w) => new Promise((res) => w.once('exit', res))));
  h.check();
  freeAll(h, live);
  h.check();
  assert.equal(h.stats().inUseBlocks, 0);
});
