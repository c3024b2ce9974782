// In-process A/B of two hakmem source trees on one allocation trace (workload T), for changes to
// the slow paths smaller than this VM's run-to-run noise between processes:
//   git worktree add /tmp/base <commit> && ln -s "$PWD/node_modules" /tmp/base/node_modules
//   node --import tsx bench/trace/ab.ts /tmp/base ../shared/traces/git-log.trace.gz [PAIRS=8]
// Both builds are loaded into one process, each with its own copy of the replay loop (its own
// bench/trace/core.ts), so V8 keeps their call sites monomorphic. Each replay runs the whole trace
// on a fresh heap (createHeap() defaults), verified as `hakmem replay` does; after 2 untimed
// replays each (the warm state), PAIRS pairs alternate which build goes first. Prints the medians,
// the heaps' high-water and the pairs' ratio (this / other) with its min and max. Not a ledger
// record: quote it with its command and both commits.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHeap as heapThis } from '../../src/index.ts';
import { abPairs } from '../lib/ab.ts';
import { loadTrace, replay as replayThis, type Trace, type TraceAlloc } from './core.ts';

const [other, file] = process.argv.slice(2);
if (!other || !file) throw new Error('usage: bench/trace/ab.ts OTHER_TREE FILE.trace.gz [PAIRS]');
const PAIRS = Number(process.argv[4] ?? 8);
const url = (p: string) => pathToFileURL(resolve(other, p)).href;
type Replay = typeof replayThis;
type Heapish = TraceAlloc & { stats(): { heapHighWater: number } };
const { replay: replayOther } = (await import(url('bench/trace/core.ts'))) as { replay: Replay };
const { createHeap: heapOther } = (await import(url('src/index.ts'))) as { createHeap: () => Heapish };

const t: Trace = loadTrace(file);
if (t.threads !== 1) throw new Error(`${t.name} has ${t.threads} threads: only single-thread traces are replayed`);

/** One whole replay on a fresh heap: [ns/op, high-water MiB]. */
function run(which: 0 | 1): [number, number] {
  const heap: Heapish = which === 0 ? heapThis() : heapOther();
  const ptrs = new Int32Array(t.ids);
  const sizes = new Float64Array(t.ids);
  const t0 = performance.now();
  const bad = which === 0 ? replayThis(heap, t, ptrs, sizes, t.ops) : replayOther(heap, t, ptrs, sizes, t.ops);
  const ms = performance.now() - t0;
  if (bad !== 0) throw new Error(`${which === 0 ? 'this tree' : other}: ${bad} verification failures`);
  return [(ms * 1e6) / t.ops, heap.stats().heapHighWater / 2 ** 20];
}

for (let k = 0; k < 2; k++) {
  run(0);
  run(1);
}
let hwMine = 0;
let hwTheirs = 0;
const r = abPairs(PAIRS, (which) => {
  const [ns, hw] = run(which);
  if (which === 0) hwMine = Math.max(hwMine, hw);
  else hwTheirs = Math.max(hwTheirs, hw);
  return ns;
});
console.log(
  `${t.name}, ${PAIRS} pairs of whole replays: this tree ${r.mine.toFixed(1)} ns/op (high-water ${hwMine.toFixed(1)} MiB), ` +
    `${other} ${r.theirs.toFixed(1)} ns/op (${hwTheirs.toFixed(1)} MiB); this / other: median ${r.ratio.toFixed(3)}, ` +
    `min ${r.min.toFixed(3)}, max ${r.max.toFixed(3)}`,
);
