// In-process A/B of two hakmem source trees on workload A (10M-cycle rules, 8192 slots, seed 42,
// rand2), for changes smaller than this VM's run-to-run noise between processes:
//   git worktree add /tmp/base <commit> && ln -s "$PWD/node_modules" /tmp/base/node_modules
//   node --import tsx bench/synthetic/ab.ts /tmp/base [PAIRS=15] [CYCLES=3000000]
// Both builds are loaded into one process, each with its own copy of the A loop (its own
// bench/synthetic/core.ts, or bench/workloads.ts in a tree from before the bench's folders were
// reorganized), so V8 keeps their call sites monomorphic. After 3 untimed warm-ups each,
// PAIRS pairs of CYCLES-cycle runs on fresh heaps alternate which build goes first; the ratio of
// each pair cancels the machine's slow drifts. Prints the medians and the pairs' ratio (this / other)
// with its min and max. Not a ledger record: quote it with its command and both commits.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loopARand2 as loopThis } from './core.ts';
import { createHeap as heapThis } from '../../src/index.ts';
import { abPairs } from '../lib/ab.ts';

const other = process.argv[2];
if (!other) throw new Error('usage: bench/synthetic/ab.ts OTHER_TREE [PAIRS] [CYCLES]');
const PAIRS = Number(process.argv[3] ?? 15);
const CYCLES = Number(process.argv[4] ?? 3_000_000);
const url = (p: string) => pathToFileURL(resolve(other, p)).href;
const otherLoop = ['bench/synthetic/core.ts', 'bench/workloads.ts'].find((p) => existsSync(resolve(other, p)));
if (!otherLoop) throw new Error(`${other}: neither bench/synthetic/core.ts nor bench/workloads.ts`);
const { loopARand2: loopOther } = (await import(url(otherLoop))) as { loopARand2: typeof loopThis };
const { createHeap: heapOther } = (await import(url('src/index.ts'))) as { createHeap: () => unknown };

const SLOTS = 8192;
const SEED = 42;
function run(which: 0 | 1, cycles: number): number {
  const t0 = performance.now();
  if (which === 0) loopThis(heapThis(), new Int32Array(SLOTS), cycles, SEED);
  else loopOther(heapOther() as never, new Int32Array(SLOTS), cycles, SEED);
  return ((performance.now() - t0) * 1e6) / cycles;
}

for (let k = 0; k < 3; k++) {
  run(0, 200_000);
  run(1, 200_000);
}
const r = abPairs(PAIRS, (which) => run(which, CYCLES));
console.log(
  `A ${SLOTS} rand2, ${PAIRS} pairs of ${CYCLES} cycles: this tree ${r.mine.toFixed(1)} ns/op, ${other} ${r.theirs.toFixed(1)} ns/op; ` +
    `this / other: median ${r.ratio.toFixed(3)}, min ${r.min.toFixed(3)}, max ${r.max.toFixed(3)}`,
);
