// Workload T of workloads.md: replay allocation traces of real programs, one child process per run
// (bench/trace/child.ts), runs interleaved and the allocator order rotated each run.
//
//   hakmem replay [FILE.trace.gz ...] [--allocators hakmem,floor] [--runs N] [--modes cold,warm] [--json] [--html FILE] [--save FILE]
//   = node --import tsx bench/trace/run.ts ...
// Every invocation writes a ledger record to bench/ledger/results/ (bench/ledger/ledger.ts).
//
// Default files: the single-thread traces in ../shared/traces/ (bench/lib/paths.ts). Multi-thread traces
// (python-threads: 5 threads) are handed to bench/trace/mt/run.ts after the table (one worker per trace thread).
import { readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { TraceChildResult } from './child.ts';
import { childArgv, childDescription } from '../lib/bundle.ts';
import { runJsonChild } from '../lib/spawn.ts';
import { readTraceHeader, TRACE_DIR, traceDirPresent } from './core.ts';
import { tracePeerSkip } from '../peers/trace/built.ts';
import { RECORD_OPTIONS } from '../lib/args.ts';
import { renderHtml } from '../ledger/html.ts';
import {
  cpuBusy,
  deriveGroups,
  LEDGER_DIR,
  LEDGER_REL,
  LedgerWriter,
  newRecord,
  type LedgerGroup,
  type LedgerRow,
} from '../ledger/ledger.ts';
import { fmt1, formatTable } from '../lib/format.ts';
import { Progress, type Step } from '../lib/progress.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    allocators: { type: 'string', default: 'hakmem,floor' },
    runs: { type: 'string', default: '5' },
    modes: { type: 'string', default: 'cold,warm' },
    html: { type: 'string' },
    ...RECORD_OPTIONS,
  },
});
if (args.help) {
  console.log(`Usage: hakmem replay [FILE.trace.gz ...] [options]   (= node --import tsx bench/trace/run.ts ...)
Replays real programs' allocation traces (format: ${TRACE_DIR}/FORMAT.md) against allocators, every
block's contents verified; each run a fresh node process.
  default files: every *.trace.gz in ${TRACE_DIR}; multi-thread ones are replayed after the table, one worker
                     per trace thread, by bench/trace/mt/run.ts (hakmem and the multi-thread floor)
  --allocators a,b   hakmem, floor, tlsf, native-glibc, native-mimalloc, native-jemalloc, wasm-dlmalloc, wasm-emmalloc
                     hakmem/key=value/... (createHeap options: hakmem/mode=learning, hakmem/mode=minimal)
                     (default: hakmem,floor)
  --runs N           processes per trace, allocator and mode (default 5)
  --modes cold,warm  cold: one replay after the short warm-up of workloads.md (a short-lived program);
                     warm: the whole trace replayed twice untimed first, then timed on a fresh heap
                     (a long-running program's steady state). Default: both
  --json             print the run's ledger record (JSON) on stdout instead of the table
  --html FILE        also write an HTML report of this run
  --save FILE        also write a copy of the ledger record to FILE
  --ledger DIR       where the run's ledger record goes (default ${LEDGER_REL}/)
Every run writes its record (every run's figures, git commit, machine, command) to the ledger:
${LEDGER_DIR}/<date>-<time>-replay.json. Progress goes to stderr.`);
  process.exit(0);
}
const log = (s: string) => process.stderr.write(s + '\n');
const RUNS = Math.max(1, Number(args.runs) | 0);
const allocators = args
  .allocators!.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const modes = args
  .modes!.split(',')
  .map((s) => s.trim())
  .filter(Boolean) as ('cold' | 'warm')[];
for (const m of modes) if (m !== 'cold' && m !== 'warm') throw new Error(`--modes: unknown mode ${m} (cold, warm)`);

// ---- which traces ------------------------------------------------------------------------------

let files = positionals;
if (files.length === 0) {
  if (!traceDirPresent()) {
    console.log(`bench/trace/run.ts: ${TRACE_DIR} is absent: no traces to replay (workload T skipped).`);
    process.exit(0);
  }
  files = readdirSync(TRACE_DIR)
    .filter((f) => f.endsWith('.trace.gz'))
    .sort()
    .map((f) => join(TRACE_DIR, f));
}
const traces: { file: string; name: string; ops: number; peak: number }[] = [];
const skippedTraces: string[] = [];
const mtFiles: string[] = []; // multi-thread traces: replayed after the table by bench/trace/mt/run.ts
// allocators built at bench time whose toolchain or library is missing: not run, with the install command
for (const a of [...allocators]) {
  const why = await tracePeerSkip(a);
  if (why) {
    allocators.splice(allocators.indexOf(a), 1);
    skippedTraces.push(`allocator ${a}: ${why}`);
    log(`skipping ${a}: ${why}`);
  }
}
for (const f of files) {
  const h = readTraceHeader(f);
  if (!h) throw new Error(`${f}: bad header`);
  if (h.threads !== 1) {
    skippedTraces.push(`${h.name} (${h.threads} threads): replayed below with one worker per trace thread (bench/trace/mt/run.ts)`);
    mtFiles.push(f);
    continue;
  }
  traces.push({ file: f, ...h });
}
// order the default set like FORMAT.md's table
const ORDER = ['python-json', 'gcc-cc1', 'perl-hash', 'git-log'];
traces.sort((a, b) => (ORDER.indexOf(a.name) + 1 || 99) - (ORDER.indexOf(b.name) + 1 || 99));

/** native C replayer, median ns/op of 5 runs (FORMAT.md): glibc, mimalloc */
const NATIVE: Record<string, [number, number]> = {
  'python-json': [20.8, 11.6],
  'gcc-cc1': [20.3, 14.9],
  'perl-hash': [34.3, 15.6],
  'git-log': [63.6, 50.3],
};

// ---- running -----------------------------------------------------------------------------------

// bench/trace/child.ts bundled to plain JS once per invocation (bench/lib/bundle.ts): a fresh process per run
const CHILD_ARGV = await childArgv('trace/child.ts');
function runChild(file: string, alloc: string, mode: 'cold' | 'warm'): Promise<TraceChildResult> {
  const argv = [...CHILD_ARGV, '--file', file, '--alloc', alloc];
  if (mode === 'warm') argv.push('--warm');
  return runJsonChild<TraceChildResult>(argv);
}

// ---- the ledger record ---------------------------------------------------------------------------

const writer = new LedgerWriter(newRecord('replay', 'bench/trace/run.ts', { ...args, runs: RUNS, files }, []), args.ledger);
const record = writer.record;
record.extra = {
  skippedTraces,
  nativeReference:
    "nativeGlibc / nativeMimalloc in a group's params: the native C replayer's median ns/op of 5 runs, " +
    "copied from the traces' FORMAT.md (measured on this machine type), not measured by this run",
};
record.extra.children = childDescription(CHILD_ARGV);
interface Cell {
  row: LedgerRow;
  failures: number[];
  emulated: string;
}
/** one group per trace and mode: `trace NAME` (cold, as before warm existed) and `trace NAME warm` */
const groupsOf = traces.flatMap((t) => modes.map((mode) => ({ t, mode })));
const cells = groupsOf.map(({ t, mode }) => {
  const group: LedgerGroup = {
    id: mode === 'cold' ? `trace ${t.name}` : `trace ${t.name} warm`,
    title:
      `trace ${t.name} (${mode}): ${t.ops.toLocaleString('en-US')} ops of a real program (${t.file.split('/').pop()}), replayed single-thread ` +
      `${mode === 'cold' ? 'after a short warm-up' : 'after two untimed replays of the whole trace'}, block memory through the view getter, contents verified`,
    unit: 'ns/op',
    better: 'lower',
    ref: allocators.includes('floor') ? 'floor' : undefined,
    peakLiveBytes: t.peak,
    params: {
      trace: t.name,
      mode,
      file: t.file,
      ops: t.ops,
      ...(mode === 'cold' ? { nativeGlibc: NATIVE[t.name]?.[0], nativeMimalloc: NATIVE[t.name]?.[1] } : {}),
    },
    rows: [],
  };
  record.groups.push(group);
  return allocators.map((a): Cell => {
    const row: LedgerRow = { allocator: a, runs: [], highWaterRuns: [], highWaterKind: 'heap', errors: [] };
    group.rows.push(row);
    return { row, failures: [], emulated: '' };
  });
});
writer.save();

const plan: { ti: number; ai: number; step: Step }[] = [];
for (let rep = 0; rep < RUNS; rep++) {
  for (let ti = 0; ti < groupsOf.length; ti++) {
    for (let k = 0; k < allocators.length; k++) {
      const ai = (k + rep) % allocators.length;
      const l = `${allocators[ai]} ${groupsOf[ti].t.name} ${groupsOf[ti].mode}`;
      plan.push({ ti, ai, step: { key: l, label: l, rep: rep + 1 } });
    }
  }
}
log(
  `replay: ${traces.map((t) => t.name).join(', ')} x ${allocators.join(', ')} x ${modes.join(', ')}; ${RUNS} runs each = ${plan.length} processes, interleaved; record: ${writer.relFile}`,
);
const loadBefore = await cpuBusy();
const progress = new Progress(
  plan.map((p) => p.step),
  RUNS,
);
for (const { ti, ai, step } of plan) {
  const c = cells[ti][ai];
  const name = allocators[ai];
  const { t: trace, mode } = groupsOf[ti];
  progress.start(step);
  try {
    const r = await runChild(trace.file, name, mode);
    c.emulated = r.emulated;
    if (r.error) {
      c.row.errors!.push(`${r.error}`);
      progress.done(`${name} ${trace.name} ${mode} FAILED: ${r.error}`);
    } else {
      c.row.runs.push(r.nsPerOp);
      c.row.highWaterRuns!.push(r.highWater);
      c.failures.push(r.failures + r.warmFailures);
      c.row.verifyFailures = c.failures;
      progress.done(
        `${name.padEnd(7)} ${trace.name.padEnd(12)} ${mode} ${r.nsPerOp.toFixed(1)} ns/op  hw ${(r.highWater / 1048576).toFixed(1)} MiB  verify failures ${r.failures} (+${r.warmFailures} in warm-up)`,
      );
    }
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    c.row.errors!.push(msg);
    progress.done(`${name} ${trace.name} ${mode} FAILED: ${msg}`);
  }
  const verify = c.failures.reduce((a, b) => a + b, 0);
  c.row.note = [c.emulated ? `emulated: ${c.emulated}` : '', `verify failures ${verify} in ${c.failures.length} runs`]
    .filter(Boolean)
    .join('; ');
  writer.save();
}
progress.finish();
const elapsed = progress.elapsed();
record.load = { before: loadBefore, after: await cpuBusy() };
deriveGroups(record);
writer.finish(elapsed);
if (args.save) writeFileSync(args.save, JSON.stringify(record, null, 1) + '\n');
if (args.html)
  writeFileSync(args.html, renderHtml([{ file: writer.file, record }], { title: 'hakmem replay: allocation traces of real programs' }));

// ---- output ------------------------------------------------------------------------------------

const mib = (b: number) => (b / 1048576).toFixed(1);
if (args.json) {
  console.log(JSON.stringify(record, null, 1));
} else {
  const head = [
    'trace',
    'mode',
    'allocator',
    'median ns/op',
    'min',
    'max',
    'vs glibc',
    'vs mimalloc',
    'high-water MiB',
    'peak live MiB',
    'hw / peak',
    'verify fail',
    'note',
  ];
  const rows: string[][] = [];
  groupsOf.forEach(({ t, mode }, ti) => {
    const g = record.groups[ti];
    allocators.forEach((a, ai) => {
      const r = g.rows[ai];
      const c = cells[ti][ai];
      const st = r.stats;
      const nat = mode === 'cold' ? NATIVE[t.name] : undefined; // FORMAT.md's native figures are cold runs
      const note = [
        c.emulated ? `emulated: ${c.emulated}` : '',
        r.errors?.length ? `${r.errors.length} of ${RUNS} runs FAILED: ${r.errors[0]}` : '',
      ]
        .filter(Boolean)
        .join('; ');
      rows.push([
        t.name,
        mode,
        a,
        st ? fmt1(st.median) : '-',
        st ? fmt1(st.min) : '-',
        st ? fmt1(st.max) : '-',
        st && nat ? `${(st.median / nat[0]).toFixed(2)}x` : '-',
        st && nat ? `${(st.median / nat[1]).toFixed(2)}x` : '-',
        r.highWaterBytes ? mib(r.highWaterBytes) : '-',
        mib(t.peak),
        r.highWaterPerPeakLive ? `${r.highWaterPerPeakLive.toFixed(2)}x` : '-',
        c.failures.length ? String(c.failures.reduce((x, y) => x + y, 0)) : '-',
        note,
      ]);
    });
  });
  const out = [
    `hakmem replay: workload T of workloads.md (allocation traces of real programs, ${TRACE_DIR} format)`,
    `${RUNS} runs per configuration, each a fresh process; interleaved, allocator order rotated each run; took ${Math.round(elapsed)} s`,
    `machine: ${record.cpu?.model} x${record.cpu?.cores}, node ${record.node}; other CPU use ${Math.round(record.load!.before * 100)}% before, ${Math.round(record.load!.after * 100)}% after; source: git ${record.git.commit?.slice(0, 7) ?? '?'}${record.git.dirty ? ' + uncommitted changes' : ''}`,
    ...skippedTraces.map((s) => `skipped: ${s}`),
    '',
    ...formatTable(head, rows, (i, n) => i < 3 || i === n - 1),
    '',
    'ns/op: wall time of the timed replay / all ops of the trace (a, c, m, r, f), including the replay loop and its',
    "  verification (a pattern byte at both ends of every block through the heap's view getter, checked at free and",
    '  realloc). Parse untimed. Lower is better. cold: after the short warm-up of workloads.md; warm: after two untimed',
    '  replays of the whole trace in the same process (on throw-away heaps; the timed one is fresh).',
    "vs glibc / vs mimalloc: the median over the native C replayer's median on the same trace (FORMAT.md, this machine type;",
    '  not measured by this run). Below 1.00x = faster than native.',
    "high-water: hakmem stats().heapHighWater; floor: its bump top minus its class-head table. peak live: the trace's",
    '  peak_live_bytes (sum of requested sizes); hw / peak: 1.00x = no overhead, lower is better.',
    '  verify fail: pattern/zero/alignment check failures summed over runs (must be 0).',
    `Every run's figure, the command, commit and machine: ${writer.relFile}`,
  ];
  console.log(out.join('\n'));
}

// Multi-thread traces: one worker per trace thread in the recorded order, its own table and ledger record.
if (mtFiles.length > 0 && !args.json) {
  const mt = fileURLToPath(new URL('./mt/run.ts', import.meta.url));
  const argv = [...process.execArgv, mt, ...mtFiles, '--runs', String(RUNS), ...(args.ledger ? ['--ledger', String(args.ledger)] : [])];
  log(
    `replay: multi-thread ${mtFiles.map((f) => f.replace(/^.*\//, '')).join(', ')} with bench/trace/mt/run.ts (hakmem and the multi-thread floor)`,
  );
  const r = spawnSync(process.execPath, argv, { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
}
