// The multi-thread trace replay benchmark (workload T for traces with threads > 1): every run a
// fresh process (bench/trace/mt/child.ts, which replays with one worker per trace thread,
// bench/trace/mt/core.ts), runs interleaved and the allocator order rotated; every invocation
// writes a ledger record of kind "trace-mt" (bench/ledger/ledger.ts). bench/trace/run.ts (hakmem
// replay) hands its multi-thread traces to this driver.
//
//   node --import tsx bench/trace/mt/run.ts [FILE.trace.gz ...] [--allocators hakmem,mt-floor] [--runs 5]
//        [--ops N] [--json] [--save FILE] [--ledger DIR]
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { derive, LEDGER_REL, recordRun, stats, type LedgerGroup } from '../../ledger/ledger.ts';
import { RECORD_OPTIONS } from '../../lib/args.ts';
import { fmt1, formatTable } from '../../lib/format.ts';
import { runJsonChild } from '../../lib/spawn.ts';
import { readTraceHeader, TRACE_DIR, traceDirPresent } from '../core.ts';
import type { MtReplayResult } from './core.ts';

export interface MtReplayBenchOptions {
  /** trace files (default: every multi-thread *.trace.gz in TRACE_DIR) */
  files?: string[];
  allocators?: string[];
  runs?: number;
  /** replay only the first N ops */
  upTo?: number;
  log?: (line: string) => void;
}

export interface MtReplayCell {
  trace: string;
  allocator: string;
  ops: number;
  threads: number;
  peakLiveBytes: number;
  /** ns/op of every run */
  runs: number[];
  nsPerOp?: { median: number; min: number; max: number };
  highWaterBytes?: number;
  /** every run's high-water, in run order */
  highWaterRuns: number[];
  highWaterPerPeakLive?: number;
  switches?: number;
  crossThread?: number;
  verifyFailures: number[];
  endChecks: string[];
  errors: string[];
}

export interface MtReplayRecord {
  workload: string;
  command: string;
  runs: number;
  machine: string;
  date: string;
  elapsedSeconds: number;
  skipped: string[];
  cells: MtReplayCell[];
}

/** The multi-thread traces of TRACE_DIR (header line only), or [] if the folder is absent. */
function multiThreadTraces(): string[] {
  if (!traceDirPresent()) return [];
  return readdirSync(TRACE_DIR)
    .filter((f) => f.endsWith('.trace.gz'))
    .sort()
    .map((f) => join(TRACE_DIR, f))
    .filter((f) => (readTraceHeader(f)?.threads ?? 0) > 1);
}

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

async function runMtReplayBench(o: MtReplayBenchOptions = {}): Promise<MtReplayRecord> {
  const log = o.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const files = o.files ?? multiThreadTraces();
  const allocators = o.allocators ?? ['hakmem', 'mt-floor'];
  const runs = Math.max(1, o.runs ?? 5);
  const skipped: string[] = [];
  if (files.length === 0) skipped.push(`no multi-thread traces (${TRACE_DIR} ${traceDirPresent() ? 'has none' : 'is absent'})`);
  const cells: MtReplayCell[] = files.flatMap((f) =>
    allocators.map((a) => ({
      trace: f.replace(/^.*\//, '').replace(/\.trace\.gz$/, ''),
      allocator: a,
      ops: 0,
      threads: 0,
      peakLiveBytes: 0,
      runs: [],
      highWaterRuns: [],
      verifyFailures: [],
      endChecks: [],
      errors: [],
    })),
  );
  const total = runs * files.length * allocators.length;
  log(
    `trace-mt: ${cells
      .map((c) => c.trace)
      .filter((x, i, xs) => xs.indexOf(x) === i)
      .join(', ')} x ${allocators.join(', ')}; ${runs} runs each = ${total} processes, interleaved`,
  );
  const t0 = Date.now();
  let done = 0;
  for (let rep = 0; rep < runs; rep++) {
    for (let fi = 0; fi < files.length; fi++) {
      for (let k = 0; k < allocators.length; k++) {
        const ai = (k + rep) % allocators.length;
        const c = cells[fi * allocators.length + ai];
        done++;
        try {
          const argv = ['--import', 'tsx', CHILD, '--file', files[fi], '--alloc', allocators[ai]];
          if (o.upTo) argv.push('--ops', String(o.upTo));
          const r = await runJsonChild<MtReplayResult>(argv);
          if (r.error) throw new Error(r.error);
          Object.assign(c, {
            ops: r.ops,
            threads: r.threads,
            peakLiveBytes: r.peakLiveBytes,
            switches: r.switches,
            crossThread: r.crossThread,
          });
          c.runs.push(r.nsPerOp);
          c.highWaterRuns.push(r.highWater);
          c.highWaterBytes = Math.max(c.highWaterBytes ?? 0, r.highWater);
          c.verifyFailures.push(r.failures + r.warmFailures);
          if (r.endCheck) c.endChecks.push(r.endCheck);
          log(
            `[${done}/${total}] ${c.allocator.padEnd(8)} ${c.trace}  ${r.nsPerOp.toFixed(1)} ns/op  hw ${(r.highWater / 1048576).toFixed(2)} MiB  verify failures ${r.failures} (+${r.warmFailures} in warm-up)${r.endCheck ? `  END CHECK FAILED: ${r.endCheck}` : ''}`,
          );
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          c.errors.push(msg);
          log(`[${done}/${total}] ${c.allocator} ${c.trace} FAILED: ${msg}`);
        }
      }
    }
  }
  for (const c of cells) {
    c.nsPerOp = stats(c.runs);
    if (c.highWaterBytes && c.peakLiveBytes) c.highWaterPerPeakLive = c.highWaterBytes / c.peakLiveBytes;
  }
  const cpus = os.cpus();
  return {
    workload: 'T multi-thread traces',
    command: `node --import tsx bench/trace/mt/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
    runs,
    machine: `${cpus[0]?.model.trim() ?? '?'} x${cpus.length}, node ${process.version}`,
    date: new Date().toISOString(),
    elapsedSeconds: (Date.now() - t0) / 1000,
    skipped,
    cells,
  };
}

function formatMtReplay(r: MtReplayRecord): string {
  const mib = (b: number) => (b / 1048576).toFixed(2);
  const head = [
    'trace',
    'allocator',
    'ops',
    'median ns/op',
    'min',
    'max',
    'high-water MiB',
    'peak live MiB',
    'hw / peak',
    'verify fail',
    'note',
  ];
  const rows = r.cells.map((c) => [
    c.trace,
    c.allocator,
    String(c.ops),
    c.nsPerOp ? fmt1(c.nsPerOp.median) : '-',
    c.nsPerOp ? fmt1(c.nsPerOp.min) : '-',
    c.nsPerOp ? fmt1(c.nsPerOp.max) : '-',
    c.highWaterBytes ? mib(c.highWaterBytes) : '-',
    c.peakLiveBytes ? mib(c.peakLiveBytes) : '-',
    c.highWaterPerPeakLive ? `${c.highWaterPerPeakLive.toFixed(2)}x` : '-',
    c.verifyFailures.length ? String(c.verifyFailures.reduce((a, b) => a + b, 0)) : '-',
    [
      c.errors.length ? `${c.errors.length} of ${r.runs} runs FAILED: ${c.errors[0]}` : '',
      c.endChecks.length ? `end check FAILED in ${c.endChecks.length} runs: ${c.endChecks[0]}` : '',
    ]
      .filter(Boolean)
      .join('; '),
  ]);
  const c0 = r.cells.find((c) => c.switches !== undefined);
  return [
    'hakmem multi-thread trace replay: one worker per trace thread, every op in the recorded global order',
    `${r.runs} runs per configuration, each a fresh process; interleaved, allocator order rotated each run; took ${Math.round(r.elapsedSeconds)} s`,
    `machine: ${r.machine}`,
    ...r.skipped.map((s) => `skipped: ${s}`),
    '',
    ...formatTable(head, rows, (i, n) => i < 2 || i === n - 1),
    '',
    'ns/op: wall time from the release of the first op to the end of the last / ops, including the replay loop, its',
    `  verification and the ${c0?.switches ?? '?'} hand-overs of the turn between threads (Atomics.store + notify / wait); parse untimed.`,
    `  ${c0?.crossThread ?? '?'} frees/reallocs end a block another thread created. Native replay (threads free-running): glibc 21.5, mimalloc 18.5.`,
    'high-water: hakmem stats().heapHighWater; mt-floor: bytes bumped (its calloc/realloc are emulated: realloc always moves).',
    "  peak live: the trace's peak_live_bytes. verify fail: pattern/zero/view check failures summed over runs (must be 0).",
    "  End check (noted only if it fails): hakmem check() passes and stats() shows exactly the trace's live blocks while the",
    '  workers are attached; then they detach and the main thread checks and frees the live blocks: 0 bytes in use.',
  ].join('\n');
}

/** The ledger groups of a multi-thread replay result: one per trace, ns/op. */
function mtReplayLedgerGroups(r: MtReplayRecord): LedgerGroup[] {
  return [...new Set(r.cells.map((c) => c.trace))].map((trace) => {
    const cs = r.cells.filter((c) => c.trace === trace);
    const c0 = cs.find((c) => c.ops > 0) ?? cs[0];
    return derive({
      id: `trace-mt ${trace}`,
      title: `${trace}: ${c0.threads} threads replayed by ${c0.threads} workers in the recorded global order (${c0.switches ?? '?'} hand-overs; ${c0.crossThread ?? '?'} cross-thread frees/reallocs), contents verified`,
      unit: 'ns/op',
      better: 'lower',
      ref: cs.some((c) => c.allocator === 'mt-floor') ? 'mt-floor' : undefined,
      peakLiveBytes: c0.peakLiveBytes || undefined,
      params: { kind: 'T-mt', trace, ops: c0.ops, threads: c0.threads, switches: c0.switches, crossThread: c0.crossThread },
      rows: cs.map((c) => ({
        allocator: c.allocator,
        runs: c.runs,
        highWaterRuns: c.highWaterRuns,
        highWaterKind: 'heap' as const,
        verifyFailures: c.verifyFailures,
        errors: [...c.errors, ...c.endChecks.map((v) => `end check: ${v}`)],
        note: c.allocator === 'mt-floor' ? 'calloc and realloc emulated (realloc always moves)' : undefined,
      })),
    });
  });
}

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    allocators: { type: 'string', default: 'hakmem,mt-floor' },
    runs: { type: 'string', default: '5' },
    ops: { type: 'string' },
    ...RECORD_OPTIONS,
  },
});
if (args.help) {
  console.log(`Usage: node --import tsx bench/trace/mt/run.ts [FILE.trace.gz ...] [--allocators hakmem,mt-floor] [--runs 5] [--ops N]
         [--json] [--save FILE] [--ledger DIR]
  default files: the multi-thread *.trace.gz in ${TRACE_DIR}
  --json  print the figures (JSON) instead of the table;  --save FILE  also write them to FILE
  --ledger DIR  where the run's ledger record goes (default ${LEDGER_REL}/)`);
  process.exit(0);
}
const opts = {
  files: positionals.length ? positionals : undefined,
  allocators: args
    .allocators!.split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  runs: Number(args.runs),
  upTo: args.ops ? Number(args.ops) : undefined,
};
await recordRun({
  kind: 'trace-mt',
  script: 'bench/trace/mt/run.ts',
  options: { ...opts, files: opts.files ?? multiThreadTraces() },
  seeds: [],
  ledger: args.ledger,
  json: args.json!,
  save: args.save,
  run: () => runMtReplayBench(opts),
  groups: mtReplayLedgerGroups,
  format: formatMtReplay,
  extra: (r) => (r.skipped.length ? { skipped: r.skipped } : undefined),
});
