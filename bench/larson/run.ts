// Workload B of workloads.md (larson) with 1 and 2 threads, hakmem against the bare multi-thread
// floor (bench/peers/mt/floor.ts). Each run of each configuration is a fresh process
// (bench/larson/child.ts); runs are interleaved and the allocator order rotated every run.
//
//   node --import tsx bench/larson/run.ts [--threads 1,2] [--runs 5] [--seconds 3]
//        [--allocators hakmem,mt-floor] [--json] [--save FILE] [--ledger DIR]
//   = npm run larson -- [...]
//
// Every invocation writes a ledger record of kind "larson" (bench/ledger/ledger.ts) to
// bench/ledger/results/: runLarsonBench() returns the figures (every run's), formatLarson() the
// table, larsonLedgerGroups() the ledger groups.
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LARSON_DEFAULTS } from './core.ts';
import { derive, LEDGER_REL, recordRun, stats, type LedgerGroup } from '../ledger/ledger.ts';
import type { LarsonChildResult } from './child.ts';
import { MT_ALLOCATORS } from '../peers/mt/adapters.ts';
import { RECORD_OPTIONS } from '../lib/args.ts';
import { fmt1, formatTable } from '../lib/format.ts';
import { runJsonChild } from '../lib/spawn.ts';

export interface LarsonBenchOptions {
  threads?: number[];
  runs?: number;
  seconds?: number;
  allocators?: string[];
  /** the allocator the others are compared with (default mt-floor) */
  reference?: string;
  /** progress lines (default: stderr) */
  log?: (line: string) => void;
}

export interface LarsonCell {
  threads: number;
  allocator: string;
  /** Mops/s of every run, in run order */
  runs: number[];
  mops?: { median: number; min: number; max: number };
  /** median throughput / the reference's median throughput, same thread count */
  vsReference?: number;
  highWaterBytes: number[];
  /** cores each run got (process CPU time / wall time of the timed phase; T on an idle machine) */
  cores: number[];
  /** cores each run's threads wanted (on a CPU + runnable), -1 where unavailable; see LarsonChildResult */
  demand: number[];
  generations: number[][];
  verifyFailures: string[];
  errors: string[];
}

export interface LarsonRecord {
  workload: string;
  command: string;
  params: typeof LARSON_DEFAULTS;
  runs: number;
  reference: string;
  machine: string;
  date: string;
  elapsedSeconds: number;
  cells: LarsonCell[];
}

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

async function runLarsonBench(o: LarsonBenchOptions = {}): Promise<LarsonRecord> {
  const threads = o.threads ?? [1, 2];
  const runs = Math.max(1, o.runs ?? 5);
  const seconds = o.seconds ?? LARSON_DEFAULTS.seconds;
  const allocators = o.allocators ?? MT_ALLOCATORS;
  const reference = o.reference ?? 'mt-floor';
  const log = o.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const cells: LarsonCell[] = threads.flatMap((t) =>
    allocators.map((a) => ({
      threads: t,
      allocator: a,
      runs: [],
      highWaterBytes: [],
      cores: [],
      demand: [],
      generations: [],
      verifyFailures: [],
      errors: [],
    })),
  );
  const cell = (t: number, a: string) => cells.find((c) => c.threads === t && c.allocator === a)!;
  const total = runs * threads.length * allocators.length;
  log(
    `larson: threads ${threads.join(', ')} x ${allocators.join(', ')}; ${runs} runs of ${seconds} s each = ${total} processes, interleaved`,
  );
  const t0 = Date.now();
  let done = 0;
  for (let rep = 0; rep < runs; rep++) {
    for (let ti = 0; ti < threads.length; ti++) {
      for (let k = 0; k < allocators.length; k++) {
        const a = allocators[(k + rep) % allocators.length];
        const t = threads[ti];
        const c = cell(t, a);
        done++;
        try {
          const r = await runJsonChild<LarsonChildResult>([
            '--import',
            'tsx',
            CHILD,
            '--alloc',
            a,
            '--threads',
            String(t),
            '--seconds',
            String(seconds),
          ]);
          if (r.error) throw new Error(r.error);
          c.runs.push(r.mopsPerSec);
          c.highWaterBytes.push(r.highWater);
          c.cores.push(r.cores);
          c.demand.push(r.demand);
          c.generations.push(r.generations);
          if (r.verify) c.verifyFailures.push(r.verify);
          log(
            `[${done}/${total}] ${a.padEnd(8)} ${t}T  ${r.mopsPerSec.toFixed(1)} Mops/s  (${r.generations.join('+')} generations in ${r.ms.toFixed(0)} ms, ${r.cores.toFixed(2)} cores got, ${r.demand.toFixed(2)} wanted)  high-water ${(r.highWater / 1048576).toFixed(2)} MiB${r.verify ? `  VERIFY FAILED: ${r.verify}` : ''}`,
          );
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          c.errors.push(msg);
          log(`[${done}/${total}] ${a} ${t}T FAILED: ${msg}`);
        }
      }
    }
  }
  for (const c of cells) {
    c.mops = stats(c.runs);
    const ref = cell(c.threads, reference)?.runs;
    const rs = ref && stats(ref);
    if (c.mops && rs) c.vsReference = c.mops.median / rs.median;
  }
  const cpus = os.cpus();
  return {
    workload: 'B larson',
    command: `node --import tsx bench/larson/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
    params: { ...LARSON_DEFAULTS, seconds },
    runs,
    reference,
    machine: `${cpus[0]?.model.trim() ?? '?'} x${cpus.length}, node ${process.version}`,
    date: new Date().toISOString(),
    elapsedSeconds: (Date.now() - t0) / 1000,
    cells,
  };
}

function formatLarson(r: LarsonRecord): string {
  const p = r.params;
  const head = [
    'threads',
    'allocator',
    'median Mops/s',
    'min',
    'max',
    `vs ${r.reference}`,
    'cores got',
    'cores wanted',
    'high-water MiB',
    'note',
  ];
  const rows = r.cells.map((c) => [
    String(c.threads),
    c.allocator,
    c.mops ? fmt1(c.mops.median) : '-',
    c.mops ? fmt1(c.mops.min) : '-',
    c.mops ? fmt1(c.mops.max) : '-',
    c.vsReference !== undefined ? `${c.vsReference.toFixed(2)}x` : '-',
    c.cores.length ? `${Math.min(...c.cores).toFixed(2)}-${Math.max(...c.cores).toFixed(2)}` : '-',
    c.demand.length && Math.min(...c.demand) >= 0 ? `${Math.min(...c.demand).toFixed(2)}-${Math.max(...c.demand).toFixed(2)}` : '-',
    c.highWaterBytes.length ? (Math.max(...c.highWaterBytes) / 1048576).toFixed(2) : '-',
    [
      c.errors.length ? `${c.errors.length} of ${r.runs} runs FAILED: ${c.errors[0]}` : '',
      c.verifyFailures.length ? `end check FAILED in ${c.verifyFailures.length} runs: ${c.verifyFailures[0]}` : '',
    ]
      .filter(Boolean)
      .join('; '),
  ]);
  return [
    `hakmem larson: workload B of workloads.md (seconds=${p.seconds} min=${p.min} max=${p.max} chunks=${p.chunks} rounds=${p.rounds} seed=${p.seed})`,
    `${r.runs} runs per configuration, each a fresh process; interleaved, allocator order rotated each run; took ${Math.round(r.elapsedSeconds)} s`,
    `machine: ${r.machine}`,
    '',
    ...formatTable(head, rows, (i, n) => i === 1 || i === n - 1),
    '',
    'Mops/s: (frees + mallocs) / wall time, higher is better. T areas of 1000 blocks, each handed between its two',
    '  persistent workers after every generation of 100k steps (so frees of the previous generation are cross-thread).',
    `vs ${r.reference}: median throughput / ${r.reference}'s median throughput at the same thread count (issue 3 target: hakmem >= 0.8x at 2 threads).`,
    'cores got: process CPU time / wall time of the timed phase, over the runs: T on an idle machine; less means other',
    '  processes took CPU from the run (2 noisy cores: compare ratios within one run, not runs of different records).',
    'cores wanted: CPU time + runnable-but-waiting time of all its threads / wall time (/proc schedstat), over the runs:',
    '  about T or more whatever the load; well below T would mean threads sleeping inside the allocator (lock waits).',
    'high-water: hakmem stats().heapHighWater; mt-floor: bytes bumped (largest over runs). After each run the main thread',
    '  frees every block and hakmem must pass check() with 0 bytes in use (noted only if it fails).',
  ].join('\n');
}

/** The ledger groups of a larson result: one per thread count, Mops/s, ratios to the reference. */
function larsonLedgerGroups(r: LarsonRecord): LedgerGroup[] {
  const p = r.params;
  return [...new Set(r.cells.map((c) => c.threads))].map((t) =>
    derive({
      id: `B larson ${t}T`,
      title: `larson (workload B), ${t} thread${t > 1 ? 's' : ''}: ${t} area${t > 1 ? 's' : ''} of ${p.chunks} blocks of ${p.min}-${p.max} bytes, each handed between its 2 workers after every generation of ${p.rounds}x${p.chunks} free+malloc steps (cross-thread frees); ${p.seconds} s`,
      unit: 'Mops/s',
      better: 'higher',
      ref: r.reference,
      params: { kind: 'B', ...p, threads: t },
      rows: r.cells
        .filter((c) => c.threads === t)
        .map((c) => ({
          allocator: c.allocator,
          runs: c.runs,
          highWaterRuns: c.highWaterBytes,
          highWaterKind: 'heap' as const,
          note: c.cores.length
            ? `cores got per run: ${c.cores.map((x) => x.toFixed(2)).join(', ')}; wanted: ${c.demand.map((x) => x.toFixed(2)).join(', ')}`
            : undefined,
          errors: [...c.errors, ...c.verifyFailures.map((v) => `end check: ${v}`)],
        })),
    }),
  );
}

const { values: args } = parseArgs({
  options: {
    threads: { type: 'string', default: '1,2' },
    runs: { type: 'string', default: '5' },
    seconds: { type: 'string', default: String(LARSON_DEFAULTS.seconds) },
    allocators: { type: 'string', default: MT_ALLOCATORS.join(',') },
    reference: { type: 'string', default: 'mt-floor' },
    ...RECORD_OPTIONS,
  },
});
if (args.help) {
  console.log(`Usage: node --import tsx bench/larson/run.ts [--threads 1,2] [--runs 5] [--seconds 3] [--allocators hakmem,mt-floor]
         [--reference mt-floor] [--json] [--save FILE] [--ledger DIR]       (= npm run larson -- ...)
  --json  print the figures (JSON) instead of the table;  --save FILE  also write them to FILE
  --ledger DIR  where the run's ledger record goes (default ${LEDGER_REL}/)`);
  process.exit(0);
}
const opts = {
  threads: args.threads!.split(',').map(Number),
  runs: Number(args.runs),
  seconds: Number(args.seconds),
  allocators: args
    .allocators!.split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  reference: args.reference,
};
await recordRun({
  kind: 'larson',
  script: 'bench/larson/run.ts',
  options: opts,
  seeds: [LARSON_DEFAULTS.seed],
  ledger: args.ledger,
  json: args.json!,
  save: args.save,
  run: () => runLarsonBench(opts),
  groups: larsonLedgerGroups,
  format: formatLarson,
});
