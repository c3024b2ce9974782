// Tail latency of single calls (issue: no single malloc or free may stall a program): every op of
// workload A "rand" (2M ops, 65536 slots, seed 42) timed alone, one child process per run
// (bench/latency/child.ts), runs interleaved and the allocator order rotated.
//
//   npm run bench:latency [-- --allocators hakmem,floor --runs 5]
//   = node --import tsx bench/latency/run.ts ...
// Rows: p50, p99, p99.9, p99.99 and the max per op, in microseconds. Every invocation writes a
// ledger record (kind "latency") to bench/ledger/results/.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { LatencyChildResult } from './child.ts';
import { childArgv, childDescription } from '../lib/bundle.ts';
import { runJsonChild } from '../lib/spawn.ts';
import { RECORD_OPTIONS } from '../lib/args.ts';
import { cpuBusy, deriveGroups, LEDGER_REL, LedgerWriter, newRecord, type LedgerGroup, type LedgerRow } from '../ledger/ledger.ts';
import { formatTable } from '../lib/format.ts';
import { Progress, type Step } from '../lib/progress.ts';

const DEFAULT = 'hakmem,hakmem/initialBytes=67108864,hakmem/initialBytes=67108864+touched,floor,floor+touched,tlsf';
const { values: args } = parseArgs({
  options: {
    allocators: { type: 'string', default: DEFAULT },
    runs: { type: 'string', default: '5' },
    cycles: { type: 'string', default: '2000000' },
    ws: { type: 'string', default: '65536' },
    seed: { type: 'string', default: '42' },
    ...RECORD_OPTIONS,
  },
});
if (args.help) {
  console.log(`Usage: npm run bench:latency -- [options]   (= node --import tsx bench/latency/run.ts ...)
Times every op of workload A "rand" alone (performance.now() around each malloc or free) and reports
p50, p99, p99.9, p99.99 and max in microseconds; each run a fresh node process.
  --allocators a,b   bench/peers names, hakmem/key=value/... (createHeap options), a "+touched" suffix
                     (every page of the instance's memory touched first, untimed)
                     (default ${DEFAULT})
  --runs N           processes per allocator (default 5)
  --cycles N --ws N --seed N   the workload (default 2000000, 65536, 42)
  --json / --save FILE / --ledger DIR   as the other drivers (default ledger ${LEDGER_REL}/)`);
  process.exit(0);
}
const RUNS = Math.max(1, Number(args.runs) | 0);
const allocators = args
  .allocators!.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const CHILD_ARGV = await childArgv('latency/child.ts');
const seed = Number(args.seed);
const writer = new LedgerWriter(newRecord('latency', 'bench/latency/run.ts', { ...args, runs: RUNS }, [seed]), args.ledger);
const record = writer.record;
record.extra = { children: childDescription(CHILD_ARGV), results: [] as unknown[] };
const Q = [
  ['p50', 'p50'],
  ['p99', 'p99'],
  ['p999', 'p99.9'],
  ['p9999', 'p99.99'],
  ['max', 'max'],
] as const;
const wl = `A ${Number(args.cycles) / 1e6}Mx${args.ws} seed ${seed} rand`;
const groups: LedgerGroup[] = Q.map(([, label]) => ({
  id: `latency ${label} ${wl}`,
  title: `${label} of the time of one malloc or free (with its first-byte write through the view getter), workload ${wl}, every op timed`,
  unit: 'us',
  better: 'lower',
  ref: allocators.includes('floor') ? 'floor' : allocators[0],
  params: { cycles: Number(args.cycles), ws: Number(args.ws), seed, quantile: label },
  rows: [],
}));
record.groups.push(...groups);
const rows: LedgerRow[][] = allocators.map((a) =>
  groups.map((g) => {
    const r: LedgerRow = { allocator: a, runs: [], errors: [] };
    g.rows.push(r);
    return r;
  }),
);
writer.save();

const plan: { ai: number; step: Step }[] = [];
for (let rep = 0; rep < RUNS; rep++) {
  for (let k = 0; k < allocators.length; k++) {
    const ai = (k + rep) % allocators.length;
    plan.push({ ai, step: { key: allocators[ai]!, label: allocators[ai]!, rep: rep + 1 } });
  }
}
const loadBefore = await cpuBusy();
const progress = new Progress(
  plan.map((p) => p.step),
  RUNS,
);
for (const { ai, step } of plan) {
  const name = allocators[ai]!;
  progress.start(step);
  try {
    const r = await runJsonChild<LatencyChildResult>([
      ...CHILD_ARGV,
      '--peer',
      name,
      '--cycles',
      String(args.cycles),
      '--ws',
      String(args.ws),
      '--seed',
      String(seed),
    ]);
    (record.extra!.results as unknown[]).push(r);
    Q.forEach(([k], gi) => rows[ai]![gi]!.runs.push(r[k]));
    progress.done(
      `${name}: p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)} p99.9 ${r.p999.toFixed(1)} p99.99 ${r.p9999.toFixed(1)} max ${r.max.toFixed(0)} us`,
    );
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    rows[ai]![0]!.errors!.push(msg);
    progress.done(`${name} FAILED: ${msg}`);
  }
  writer.save();
}
progress.finish();
record.load = { before: loadBefore, after: await cpuBusy() };
deriveGroups(record);
writer.finish(progress.elapsed());
if (args.save) writeFileSync(args.save, JSON.stringify(record, null, 1) + '\n');
if (args.json) {
  console.log(JSON.stringify(record, null, 1));
} else {
  const f = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  const table = allocators.map((a, ai) => [
    a,
    ...groups.map((g) => {
      const s = g.rows[ai]!.stats;
      return s ? `${f(s.median)} (${f(s.min)}-${f(s.max)})` : '-';
    }),
  ]);
  console.log(
    [
      `latency per op, workload ${wl}, user form, every op timed with performance.now(); ${RUNS} runs per allocator, each a fresh process, interleaved`,
      `machine: ${record.cpu?.model} x${record.cpu?.cores}, node ${record.node}; other CPU use ${Math.round(loadBefore * 100)}% before, ${Math.round(record.load.after * 100)}% after; source: git ${record.git.commit?.slice(0, 7) ?? '?'}${record.git.dirty ? ' + uncommitted changes' : ''}`,
      '',
      ...formatTable(['allocator', ...Q.map(([, l]) => `${l} us median (min-max)`)], table, (i) => i === 0),
      '',
      "+touched: every page of the instance's memory written once before the timed run (no page faults in it).",
      `Every run's figures: ${writer.relFile}`,
    ].join('\n'),
  );
}
