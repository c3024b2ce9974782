// Workload P of workloads.md: real programs back to back on one heap (a phase change), one child
// process per run (bench/trace/phase/child.ts), runs interleaved and the configuration order rotated.
//
//   node --import tsx bench/trace/phase/run.ts [--allocators hakmem,hakmem/mode=fast,...] [--runs N]
//        [--forms sequence,repeat] [--passes N] [--repeat-traces python-json,gcc-cc1]
//
// sequence: python-json, gcc-cc1, perl-hash, git-log, python-json, gcc-cc1, one after another on one
//   heap; each trace's survivors freed when it ends. Figures: total ns/op (replay + survivors' frees),
//   ns/op per phase, heap high-water / the largest peak_live_bytes of the traces.
// repeat: one trace replayed --passes times (default 4) on one heap: high-water after the first pass
//   and after the last (a long-running program doing the same job again), and their ratio.
// Every invocation writes a ledger record (kind "phase") to bench/ledger/results/.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { PhaseChildResult } from './child.ts';
import { childArgv, childDescription } from '../../lib/bundle.ts';
import { runJsonChild } from '../../lib/spawn.ts';
import { readTraceHeader, TRACE_DIR, traceDirPresent } from '../core.ts';
import { RECORD_OPTIONS } from '../../lib/args.ts';
import {
  cpuBusy,
  deriveGroups,
  LEDGER_DIR,
  LEDGER_REL,
  LedgerWriter,
  newRecord,
  type LedgerGroup,
  type LedgerRow,
} from '../../ledger/ledger.ts';
import { fmt1, formatTable, mib } from '../../lib/format.ts';
import { Progress, type Step } from '../../lib/progress.ts';

const SEQUENCE = ['python-json', 'gcc-cc1', 'perl-hash', 'git-log', 'python-json', 'gcc-cc1'];

const { values: args } = parseArgs({
  options: {
    allocators: { type: 'string', default: 'hakmem' },
    runs: { type: 'string', default: '5' },
    forms: { type: 'string', default: 'sequence,repeat' },
    passes: { type: 'string', default: '4' },
    'repeat-traces': { type: 'string', default: 'python-json,gcc-cc1,perl-hash,git-log' },
    ...RECORD_OPTIONS,
  },
});
if (args.help) {
  console.log(`Usage: node --import tsx bench/trace/phase/run.ts [options]
Workload P (workloads.md): real programs' allocation traces back to back on one heap, every block's
contents verified; each run a fresh node process.
  --allocators a,b     trace-replay allocators: hakmem, hakmem/key=value/... (createHeap options, e.g.
                       hakmem/mode=learning), tlsf, floor (default: hakmem)
  --runs N             processes per form and allocator (default 5)
  --forms f,g          sequence (${SEQUENCE.join(', ')}), repeat (one trace --passes times); default both
  --passes N           passes of the repeat form (default 4)
  --repeat-traces a,b  traces of the repeat form (default python-json,gcc-cc1,perl-hash,git-log)
  --json / --save FILE / --ledger DIR   as the other drivers (default ledger ${LEDGER_REL}/)
Traces: ${TRACE_DIR}.`);
  process.exit(0);
}
const log = (s: string) => process.stderr.write(s + '\n');
const RUNS = Math.max(1, Number(args.runs) | 0);
const PASSES = Math.max(2, Number(args.passes) | 0);
const allocators = args
  .allocators!.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const forms = args
  .forms!.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
for (const f of forms) if (f !== 'sequence' && f !== 'repeat') throw new Error(`--forms: unknown form ${f} (sequence, repeat)`);
if (!traceDirPresent()) {
  console.log(`bench/trace/phase/run.ts: ${TRACE_DIR} is absent: no traces (workload P skipped).`);
  process.exit(0);
}
const fileOf = (name: string) => join(TRACE_DIR, `${name}.trace.gz`);
const header = (name: string) => {
  const h = readTraceHeader(fileOf(name));
  if (!h) throw new Error(`${fileOf(name)}: no trace header`);
  return h;
};

interface Job {
  id: string;
  title: string;
  names: string[];
  repeat: boolean;
}
const jobs: Job[] = [];
if (forms.includes('sequence')) {
  jobs.push({
    id: 'P sequence',
    title: `P sequence: ${SEQUENCE.join(', ')} replayed one after another on one heap, survivors freed at each end`,
    names: SEQUENCE,
    repeat: false,
  });
}
if (forms.includes('repeat')) {
  for (const n of args['repeat-traces']!.split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    jobs.push({
      id: `P repeat ${n}`,
      title: `P repeat: ${n} replayed ${PASSES} times on one heap, survivors freed after each pass`,
      names: Array(PASSES).fill(n),
      repeat: true,
    });
  }
}

// ---- the ledger record ---------------------------------------------------------------------------

const CHILD_ARGV = await childArgv('trace/phase/child.ts');
const writer = new LedgerWriter(
  newRecord('phase', 'bench/trace/phase/run.ts', { ...args, runs: RUNS, passes: PASSES, traceDir: TRACE_DIR }, []),
  args.ledger,
);
const record = writer.record;
record.extra = { children: childDescription(CHILD_ARGV), results: [] as unknown[] };
interface Cell {
  rows: LedgerRow[];
  results: PhaseChildResult[];
}
const cells: Cell[][] = jobs.map((job) => {
  const peak = Math.max(...job.names.map((n) => header(n).peak));
  const total: LedgerGroup = {
    id: job.id,
    title: job.title,
    unit: 'ns/op',
    better: 'lower',
    ref: allocators[0],
    peakLiveBytes: peak,
    params: { traces: job.names, ops: job.names.reduce((s, n) => s + header(n).ops, 0) },
    rows: [],
  };
  const phases: LedgerGroup[] = job.repeat
    ? []
    : job.names.map((n, i) => ({
        id: `${job.id} phase ${i + 1} ${n}`,
        title: `${job.id}, phase ${i + 1}: ${n} (replay only)`,
        unit: 'ns/op',
        better: 'lower',
        ref: allocators[0],
        peakLiveBytes: header(n).peak,
        params: { trace: n, phase: i + 1 },
        rows: [],
      }));
  const growth: LedgerGroup[] = job.repeat
    ? [
        {
          id: `${job.id} growth`,
          title: `${job.id}: heap high-water after the last pass / after the first, minus 1, in percent`,
          unit: '% high-water growth',
          better: 'lower',
          ref: allocators[0],
          params: { trace: job.names[0], passes: PASSES },
          rows: [],
        },
      ]
    : [];
  record.groups.push(total, ...phases, ...growth);
  return allocators.map((a): Cell => {
    const rows = [total, ...phases, ...growth].map((g, k) => {
      const row: LedgerRow =
        k === 0 ? { allocator: a, runs: [], highWaterRuns: [], highWaterKind: 'heap', errors: [] } : { allocator: a, runs: [] };
      g.rows.push(row);
      return row;
    });
    return { rows, results: [] };
  });
});
writer.save();

const plan: { ji: number; ai: number; step: Step }[] = [];
for (let rep = 0; rep < RUNS; rep++) {
  for (let ji = 0; ji < jobs.length; ji++) {
    for (let k = 0; k < allocators.length; k++) {
      const ai = (k + rep) % allocators.length;
      const l = `${allocators[ai]} ${jobs[ji]!.id}`;
      plan.push({ ji, ai, step: { key: l, label: l, rep: rep + 1 } });
    }
  }
}
log(
  `phase: ${jobs.map((j) => j.id).join(', ')} x ${allocators.join(', ')}; ${RUNS} runs each = ${plan.length} processes, interleaved; record: ${writer.relFile}`,
);
const loadBefore = await cpuBusy();
const progress = new Progress(
  plan.map((p) => p.step),
  RUNS,
);
for (const { ji, ai, step } of plan) {
  const job = jobs[ji]!;
  const c = cells[ji]![ai]!;
  const name = allocators[ai]!;
  progress.start(step);
  try {
    const r = await runJsonChild<PhaseChildResult>([...CHILD_ARGV, '--files', job.names.map(fileOf).join(','), '--alloc', name, '--diag']);
    (record.extra!.results as unknown[]).push({ job: job.id, ...r });
    if (r.error) throw new Error(r.error);
    if (r.failures + r.warmFailures !== 0) throw new Error(`${r.failures + r.warmFailures} verification failures`);
    c.results.push(r);
    c.rows[0]!.runs.push(r.nsPerOp);
    c.rows[0]!.highWaterRuns!.push(r.highWater);
    if (job.repeat) c.rows[1]!.runs.push((r.highWater / r.phases[0]!.highWater - 1) * 100);
    else r.phases.forEach((p, i) => c.rows[i + 1]!.runs.push(p.nsPerOp));
    progress.done(
      `${name} ${job.id}: ${r.nsPerOp.toFixed(1)} ns/op, high-water ${mib(r.highWater)} MiB (${r.phases.map((p) => mib(p.highWater)).join(' ')})`,
    );
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    c.rows[0]!.errors!.push(msg);
    progress.done(`${name} ${job.id} FAILED: ${msg}`);
  }
  writer.save();
}
progress.finish();
record.load = { before: loadBefore, after: await cpuBusy() };
deriveGroups(record);
writer.finish(progress.elapsed());
if (args.save) writeFileSync(args.save, JSON.stringify(record, null, 1) + '\n');

// ---- output ------------------------------------------------------------------------------------

if (args.json) {
  console.log(JSON.stringify(record, null, 1));
} else {
  const out: string[] = [
    `workload P (workloads.md): real programs back to back on one heap; ${RUNS} runs per configuration, each a fresh process, interleaved`,
    `machine: ${record.cpu?.model} x${record.cpu?.cores}, node ${record.node}; other CPU use ${Math.round(loadBefore * 100)}% before, ${Math.round(record.load.after * 100)}% after; source: git ${record.git.commit?.slice(0, 7) ?? '?'}${record.git.dirty ? ' + uncommitted changes' : ''}`,
    '',
  ];
  jobs.forEach((job, ji) => {
    const g = record.groups.find((x) => x.id === job.id)!;
    const head = [
      'allocator',
      'median ns/op',
      'min',
      'max',
      'vs first',
      'high-water MiB',
      'hw / peak',
      ...(job.repeat ? ['growth % (min-max)'] : job.names.map((n, i) => `${i + 1} ${n}`)),
    ];
    const rows = allocators.map((a, ai) => {
      const r = g.rows[ai]!;
      const st = r.stats;
      const extra = job.repeat
        ? [
            (() => {
              const s = record.groups.find((x) => x.id === `${job.id} growth`)!.rows[ai]!.stats;
              return s ? `${s.median.toFixed(1)} (${s.min.toFixed(1)}-${s.max.toFixed(1)})` : '-';
            })(),
          ]
        : job.names.map((_, i) => {
            const s = record.groups.find((x) => x.id === `${job.id} phase ${i + 1} ${job.names[i]}`)!.rows[ai]!.stats;
            return s ? fmt1(s.median) : '-';
          });
      return [
        a,
        st ? fmt1(st.median) : '-',
        st ? fmt1(st.min) : '-',
        st ? fmt1(st.max) : '-',
        r.ratioToRef ? `${r.ratioToRef.toFixed(3)}x` : '-',
        r.highWaterBytes ? mib(r.highWaterBytes) : '-',
        r.highWaterPerPeakLive ? `${r.highWaterPerPeakLive.toFixed(2)}x` : '-',
        ...extra,
      ];
    });
    void cells[ji];
    out.push(`${job.title}`, ...formatTable(head, rows, (i) => i === 0), '');
  });
  out.push(
    "ns/op: wall time of every phase (the replay and the survivors' frees) / all ops. Per-phase columns: the replay only.",
    'high-water: the largest of the runs (hakmem stats().heapHighWater); hw / peak: over the largest peak_live_bytes of the traces.',
    "growth: high-water after the last pass over after the first, minus 1 (repeat form). vs first: median over the first allocator's.",
    `Every run's figures, the command, commit and machine: ${writer.relFile} (ledger ${LEDGER_DIR})`,
  );
  console.log(out.join('\n'));
}
