// In-process A/B of two modes of this tree on workload A (as bench/synthetic/ab.ts: 8192 slots,
// seed 42, rand2), for differences smaller than the run-to-run noise between processes:
//   node --import tsx bench/synthetic/ab-modes.ts balanced minimal [PAIRS=15] [CYCLES=3000000]
// Each mode runs its own copy of the A loop (bench/synthetic/core.ts imported twice, under two
// URLs), so V8 keeps each copy's call sites monomorphic even when the modes' Heap classes differ.
// After 3 untimed warm-ups each, PAIRS pairs of CYCLES-cycle runs on fresh heaps alternate which
// mode goes first; prints both medians and the pairs' ratio (first mode / second) with its min and
// max. Not a ledger record: quote it with its command and commit.
import { createHeap, type HeapOptions } from '../../src/index.ts';
import { abPairs, median } from '../lib/ab.ts';
import type { loopARand2 } from './core.ts';

type Loop = typeof loopARand2;
const MODES = ['minimal', 'fast', 'balanced', 'learning', 'research'];
const [a, b] = [process.argv[2], process.argv[3]];
if (!a || !b || !MODES.includes(a) || !MODES.includes(b))
  throw new Error(`usage: bench/synthetic/ab-modes.ts MODE MODE [PAIRS] [CYCLES] (modes: ${MODES.join(', ')})`);
const PAIRS = Number(process.argv[4] ?? 15);
const CYCLES = Number(process.argv[5] ?? 3_000_000);
const core = './core.ts';
const loops: Loop[] = [
  ((await import(`${core}?copy=a`)) as { loopARand2: Loop }).loopARand2,
  ((await import(`${core}?copy=b`)) as { loopARand2: Loop }).loopARand2,
];
if (loops[0] === loops[1]) throw new Error('the two copies of the A loop are one function: the loader ignored the query');
const modes = [a, b] as HeapOptions['mode'][];

const SLOTS = 8192;
const SEED = 42;
function run(which: 0 | 1, cycles: number): number {
  const heap = createHeap({ mode: modes[which] });
  const t0 = performance.now();
  loops[which]!(heap, new Int32Array(SLOTS), cycles, SEED);
  return ((performance.now() - t0) * 1e6) / cycles;
}

for (let k = 0; k < 3; k++) {
  run(0, 200_000);
  run(1, 200_000);
}
const r = abPairs(PAIRS, (which) => run(which, CYCLES));
const range = (x: number[]) => `${median(x).toFixed(1)} ns/op (min ${Math.min(...x).toFixed(1)}, max ${Math.max(...x).toFixed(1)})`;
console.log(
  `A ${SLOTS} rand2, ${PAIRS} pairs of ${CYCLES} cycles: ${a} ${range(r.mineRuns)}, ${b} ${range(r.theirRuns)}; ` +
    `${a} / ${b}: median ${r.ratio.toFixed(3)}, min ${r.min.toFixed(3)}, max ${r.max.toFixed(3)}`,
);
