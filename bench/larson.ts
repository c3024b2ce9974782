// Workload B of workloads.md (larson) with 1 and 2 threads, hakmem against the bare multi-thread
// floor (bench/mt-floor.ts). Each run of each configuration is a fresh process
// (bench/larson-child.ts); runs are interleaved and the allocator order rotated every run.
//
//   node --import tsx bench/larson.ts [--threads 1,2] [--runs 5] [--seconds 3]
//        [--allocators hakmem,mt-floor] [--json] [--save FILE] [--ledger DIR]
//
// Every invocation writes a ledger record of kind "larson" (bench/ledger.ts) to bench/results/.
// From another driver: `await runLarsonBench({ threads: [1, 2], runs: 5 })` returns the figures
// (every run's), `formatLarson(result)` the table, `larsonLedgerGroups(result)` the ledger groups.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { LARSON_DEFAULTS } from './larson-core.ts';
import { cpuBusy, derive, LedgerWriter, newRecord, type LedgerGroup } from './ledger.ts';
import type { LarsonChildResult } from './larson-child.ts';
import { MT_ALLOCATORS } from './mt-peers.ts';
import { runJsonChild } from './spawn-child.ts';

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

const CHILD = fileURLToPath(new URL('./larson-child.ts', import.meta.url));

function stats(xs: number[]) {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return { median: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2, min: s[0], max: s[s.length - 1] };
}

export async function runLarsonBench(o: LarsonBenchOptions = {}): Promise<LarsonRecord> {
  const threads = o.threads ?? [1, 2];
  const runs = Math.max(1, o.runs ?? 5);
  const seconds = o.seconds ?? LARSON_DEFAULTS.seconds;
  const allocators = o.allocators ?? MT_ALLOCATORS;
  const reference = o.reference ?? 'mt-floor';
  const log = o.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const cells: LarsonCell[] = threads.flatMap((t) => allocators.map((a) => ({
    threads: t, allocator: a, runs: [], highWaterBytes: [], cores: [], demand: [], generations: [], verifyFailures: [], errors: [],
  })));
  const cell = (t: number, a: string) => cells.find((c) => c.threads === t && c.allocator === a)!;
  const total = runs * threads.length * allocators.length;
  log(`larson: threads ${threads.join(', ')} x ${allocators.join(', ')}; ${runs} runs of ${seconds} s each = ${total} processes, interleaved`);
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
          const r = await runJsonChild<LarsonChildResult>(['--import', 'tsx', CHILD, '--alloc', a, '--threads', String(t), '--seconds', String(seconds)]);
          if (r.error) throw new Error(r.error);
          c.runs.push(r.mopsPerSec);
          c.highWaterBytes.push(r.highWater);
          c.cores.push(r.cores);
          c.demand.push(r.demand);
          c.generations.push(r.generations);
          if (r.verify) c.verifyFailures.push(r.verify);
          log(`[${done}/${total}] ${a.padEnd(8)} ${t}T  ${r.mopsPerSec.toFixed(1)} Mops/s  (${r.generations.join('+')} generations in ${r.ms.toFixed(0)} ms, ${r.cores.toFixed(2)} cores got, ${r.demand.toFixed(2)} wanted)  high-water ${(r.highWater / 1048576).toFixed(2)} MiB${r.verify ? `  VERIFY FAILED: ${r.verify}` : ''}`);
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
    command: `node --import tsx bench/larson.ts ${process.argv.slice(2).join(' ')}`.trim(),
    params: { ...LARSON_DEFAULTS, seconds }, runs, reference,
    machine: `${cpus[0]?.model.trim() ?? '?'} x${cpus.length}, node ${process.version}`,
    date: new Date().toISOString(), elapsedSeconds: (Date.now() - t0) / 1000, cells,
  };
}

export function formatLarson(r: LarsonRecord): string {
  const p = r.params;
  const f1 = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const head = ['threads', 'allocator', 'median Mops/s', 'min', 'max', `vs ${r.reference}`, 'cores got', 'cores wanted', 'high-water MiB', 'note'];
  const rows = r.cells.map((c) => [
    String(c.threads), c.allocator, c.mops ? f1(c.mops.median) : '-', c.mops ? f1(c.mops.min) : '-', c.mops ? f1(c.mops.max) : '-',
    c.vsReference !== undefined ? `${c.vsReference.toFixed(2)}x` : '-',
    c.cores.length ? `${Math.min(...c.cores).toFixed(2)}-${Math.max(...c.cores).toFixed(2)}` : '-',
    c.demand.length && Math.min(...c.demand) >= 0 ? `${Math.min(...c.demand).toFixed(2)}-${Math.max(...c.demand).toFixed(2)}` : '-',
    c.highWaterBytes.length ? (Math.max(...c.highWaterBytes) / 1048576).toFixed(2) : '-',
    [c.errors.length ? `${c.errors.length} of ${r.runs} runs FAILED: ${c.errors[0]}` : '',
      c.verifyFailures.length ? `end check FAILED in ${c.verifyFailures.length} runs: ${c.verifyFailures[0]}` : ''].filter(Boolean).join('; '),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
  const fmt = (x: string[]) => '  ' + x.map((s, i) => (i === 1 || i === x.length - 1 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('  ').trimEnd();
  return [
    `hakmem larson: workload B of workloads.md (seconds=${p.seconds} min=${p.min} max=${p.max} chunks=${p.chunks} rounds=${p.rounds} seed=${p.seed})`,
    `${r.runs} runs per configuration, each a fresh process; interleaved, allocator order rotated each run; took ${Math.round(r.elapsedSeconds)} s`,
    `machine: ${r.machine}`,
    '',
    fmt(head), '  ' + widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt),
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
export function larsonLedgerGroups(r: LarsonRecord): LedgerGroup[] {
  const p = r.params;
  return [...new Set(r.cells.map((c) => c.threads))].map((t) => derive({
    id: `B larson ${t}T`,
    title: `larson (workload B), ${t} thread${t > 1 ? 's' : ''}: ${t} area${t > 1 ? 's' : ''} of ${p.chunks} blocks of ${p.min}-${p.max} bytes, each handed between its 2 workers after every generation of ${p.rounds}x${p.chunks} free+malloc steps (cross-thread frees); ${p.seconds} s`,
    unit: 'Mops/s',
    better: 'higher',
    ref: r.reference,
    params: { kind: 'B', ...p, threads: t },
    rows: r.cells.filter((c) => c.threads === t).map((c) => ({
      allocator: c.allocator,
      runs: c.runs,
      highWaterRuns: c.highWaterBytes,
      highWaterKind: 'heap' as const,
      note: c.cores.length ? `cores got per run: ${c.cores.map((x) => x.toFixed(2)).join(', ')}; wanted: ${c.demand.map((x) => x.toFixed(2)).join(', ')}` : undefined,
      errors: [...c.errors, ...c.verifyFailures.map((v) => `end check: ${v}`)],
    })),
  }));
}

if (isMainThread && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values: args } = parseArgs({
    options: {
      threads: { type: 'string', default: '1,2' },
      runs: { type: 'string', default: '5' },
      seconds: { type: 'string', default: String(LARSON_DEFAULTS.seconds) },
      allocators: { type: 'string', default: MT_ALLOCATORS.join(',') },
      reference: { type: 'string', default: 'mt-floor' },
      json: { type: 'boolean', default: false },
      save: { type: 'string' },
      ledger: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (args.help) {
    console.log(`Usage: node --import tsx bench/larson.ts [--threads 1,2] [--runs 5] [--seconds 3] [--allocators hakmem,mt-floor]
         [--reference mt-floor] [--json] [--save FILE] [--ledger DIR]
  --json  print the figures (JSON) instead of the table;  --save FILE  also write them to FILE
  --ledger DIR  where the run's ledger record goes (default bench/results/)`);
    process.exit(0);
  }
  const opts = {
    threads: args.threads!.split(',').map(Number),
    runs: Number(args.runs),
    seconds: Number(args.seconds),
    allocators: args.allocators!.split(',').map((s) => s.trim()).filter(Boolean),
    reference: args.reference,
  };
  const writer = new LedgerWriter(newRecord('larson', 'bench/larson.ts', opts, [LARSON_DEFAULTS.seed]), args.ledger);
  const loadBefore = await cpuBusy();
  const record = await runLarsonBench(opts);
  writer.record.load = { before: loadBefore, after: await cpuBusy() };
  writer.record.groups = larsonLedgerGroups(record);
  writer.finish(record.elapsedSeconds);
  const json = JSON.stringify(record, null, 2);
  if (args.save) writeFileSync(args.save, json + '\n');
  if (!args.json) console.log(`other CPU use (0..1 of all cores, sampled 0.3 s): ${loadBefore.toFixed(2)} before, ${writer.record.load.after.toFixed(2)} after`);
  console.log(args.json ? json : formatLarson(record));
  process.stderr.write(`ledger record: ${writer.relFile}\n`);
}
