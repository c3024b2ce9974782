// hakmem benchmark runner: workloads A (random-mixed), C1 and C2 (large blocks) of workloads.md,
// across several allocators, one child process per run (bench/synthetic/child.ts), runs interleaved.
// Every invocation writes a ledger record to bench/ledger/results/ (bench/ledger/ledger.ts).
//
//   hakmem bench [--quick | --full] [--runs N] [--allocators a,b] [--ref floor] [--json] [--html FILE]
//   = node --import tsx bench/synthetic/run.ts ...  (npm run bench -- ...)
import { writeFileSync } from 'node:fs';
import { readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ChildResult } from './child.ts';
import { RECORD_OPTIONS } from '../lib/args.ts';
import { renderHtml } from '../ledger/html.ts';
import { fmtNum, fmtS, formatTable, mib, pct } from '../lib/format.ts';
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
import { Progress, type Step } from '../lib/progress.ts';
import { childArgv, childDescription } from '../lib/bundle.ts';
import { firstLine, runJsonChild } from '../lib/spawn.ts';
import { analyze, fmtCycles, label, type Analysis, type Peer, type Workload } from './core.ts';

const HELP = `Usage: hakmem bench [options]      (= npm run bench -- [options] = node --import tsx bench/synthetic/run.ts [options])
Times malloc/free of hakmem and other allocators on workloads A (random-mixed), C1 and C2 (large
blocks) of workloads.md, in user form (block memory touched through the heap's view getters); each
run is a fresh node process.
  --quick            fewer sets: A 10Mx8192 rand2, A 2Mx65536 rand, C2
  --full             all sets: A {10Mx256, 10Mx8192, 2Mx65536} x {rand, fixed256}, A 10Mx8192 rand2, C1, C2
                     (default: A 10Mx8192 rand2, A 10Mx256 rand, A 2Mx65536 rand, C1, C2)
  --runs N           processes per configuration (default 5)
  --allocators a,b   allocators to run (default: all in bench/peers/: ${peerFiles().join(', ')})
  --ref NAME         allocator the ratios are relative to (default floor)
  --json             print the run's ledger record (JSON) on stdout instead of the tables
  --html FILE        also write an HTML report of this run (charts, every run's figure)
  --save FILE        also write a copy of the ledger record to FILE
  --ledger DIR       where the run's ledger record goes (default ${LEDGER_REL}/)
Every run writes its record (every run's figures, git commit, machine, command) to the ledger:
${LEDGER_DIR}/<date>-<time>-workloads.json. Progress goes to stderr.`;

function peerFiles(): string[] {
  const ORDER = ['noop', 'floor', 'hakmem', 'thing', 'buffer', 'uint8array'];
  return readdirSync(new URL('../peers/', import.meta.url))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b));
}

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    runs: { type: 'string', default: '5' },
    allocators: { type: 'string' },
    ref: { type: 'string', default: 'floor' },
    html: { type: 'string' },
    ...RECORD_OPTIONS,
  },
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}

const RUNS = Math.max(1, Number(args.runs) | 0);
/** a configuration whose runs together would take longer than this is skipped */
const SKIP_SECONDS = 60;

// ---- workloads -------------------------------------------------------------------------------

const A = (cycles: number, ws: number, sizes: Workload['sizes']): Workload => ({ kind: 'A', cycles, ws, seed: 42, sizes });
const C1: Workload = { kind: 'C1', cycles: 2000, ws: 1, seed: 42, sizes: 'large' };
const C2: Workload = { kind: 'C2', cycles: 2000, ws: 16, seed: 42, sizes: 'large' };
const SETS: Record<'quick' | 'default' | 'full', Workload[]> = {
  quick: [A(10e6, 8192, 'rand2'), A(2e6, 65536, 'rand'), C2],
  default: [A(10e6, 8192, 'rand2'), A(10e6, 256, 'rand'), A(2e6, 65536, 'rand'), C1, C2],
  full: [
    A(10e6, 8192, 'rand2'),
    A(10e6, 256, 'rand'),
    A(10e6, 256, 'fixed256'),
    A(10e6, 8192, 'rand'),
    A(10e6, 8192, 'fixed256'),
    A(2e6, 65536, 'rand'),
    A(2e6, 65536, 'fixed256'),
    C1,
    C2,
  ],
};
const setName = args.full ? 'full' : args.quick ? 'quick' : 'default';
const workloads = SETS[setName];

// ---- allocators ------------------------------------------------------------------------------

const available = peerFiles();
const wanted = args.allocators
  ? args.allocators
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  : available;
for (const name of wanted) {
  if (!available.includes(name)) {
    process.stderr.write(`unknown allocator "${name}"; available: ${available.join(', ')}\n`);
    process.exit(2);
  }
}
const peers: Peer[] = [];
const unavailable: { name: string; why: string }[] = [];
for (const name of wanted) {
  try {
    peers.push(((await import(`../peers/${name}.ts`)) as { peer: Peer }).peer);
  } catch (e) {
    // SkipPeer (bench/peers/built/cache.ts): a missing toolchain or an opt-in peer, not a failure
    const skip = e instanceof Error && e.constructor.name === 'SkipPeer';
    const why = (skip ? '' : 'its adapter failed to import: ') + firstLine(e instanceof Error ? e.message : String(e));
    unavailable.push({ name, why });
    process.stderr.write(`skipping ${name}: ${why}\n`);
  }
}

// ---- the ledger record -----------------------------------------------------------------------

const writer = new LedgerWriter(
  newRecord('workloads', 'bench/synthetic/run.ts', { ...args, set: setName, runs: RUNS, allocators: peers.map((p) => p.name) }, [
    ...new Set(workloads.map((w) => w.seed)),
  ]),
  args.ledger,
);
const record = writer.record;
record.extra = {
  set: setName,
  workloads,
  allocators: Object.fromEntries(peers.map((p) => [p.name, p.about])),
  unavailable,
  skipSeconds: SKIP_SECONDS,
};

// ---- configurations --------------------------------------------------------------------------

interface Config {
  peer: Peer;
  /** the workload as run for this allocator (cycles may be capped) */
  w: Workload;
  analysis: Analysis;
  row: LedgerRow;
}

const analyses = new Map<string, Analysis>();
function analysisOf(w: Workload): Analysis {
  const key = JSON.stringify(w);
  let a = analyses.get(key);
  if (!a) analyses.set(key, (a = analyze(w)));
  return a;
}

process.stderr.write(`bench: ${setName} set, ${RUNS} runs, allocators ${peers.map((p) => p.name).join(', ')}; analyzing workloads...\n`);
const table: Config[][] = workloads.map((w0) => {
  const a0 = analysisOf(w0);
  const group: LedgerGroup = {
    id: label(w0),
    title: describe(w0),
    unit: w0.kind === 'A' ? 'ns/op' : 'ns/cycle',
    better: 'lower',
    ref: args.ref,
    peakLiveBytes: a0.peakLiveBytes,
    params: { ...w0 },
    rows: [],
  };
  record.groups.push(group);
  return peers.map((peer) => {
    const capped = w0.kind === 'A' && peer.maxCycles !== undefined && w0.cycles > peer.maxCycles;
    const w = capped ? { ...w0, cycles: peer.maxCycles! } : w0;
    const row: LedgerRow = { allocator: peer.name, runs: [], highWaterRuns: [], highWaterKind: 'none', errors: [] };
    if (capped) {
      row.note = `${fmtCycles(w.cycles)} cycles`;
      row.peakLiveBytes = analysisOf(w).peakLiveBytes;
    }
    group.rows.push(row);
    const c: Config = { peer, w, analysis: analysisOf(w), row };
    const est = peer.estimateNsPerOp?.(w);
    if (peer.kind === 'heap' && peer.cachedView && !(w.kind === 'A' && w.sizes === 'rand2')) {
      row.skipped = 'n/a: the cached-view loop exists for A rand2 only';
    } else if (est !== undefined) {
      const perRun = ((w.cycles + 3 * Math.min(200_000, Math.floor(w.cycles / 20))) * est) / 1e9 + 0.3;
      if (perRun * RUNS > SKIP_SECONDS) {
        row.skipped = `skipped: would take ~${fmtS(perRun * RUNS)} (${RUNS} runs x ~${fmtS(perRun)})`;
        process.stderr.write(`${peer.name} ${label(w)}: ${row.skipped}\n`);
      }
    }
    return c;
  });
});
writer.save();

// ---- running ---------------------------------------------------------------------------------

const childArgvs = { child: await childArgv('synthetic/child.ts', ['--expose-gc']) };
record.extra.children = childDescription(childArgvs.child);

function runChild(c: Config, memory: boolean): Promise<ChildResult> {
  const w = c.w;
  const p = c.peer;
  if (p.kind === 'heap' && p.runOutside) {
    // Native peers run the workload in their own C program, a fresh process per run: no node child
    // in between (node + tsx start-up is ~0.3 s per process, most of a short run's wall time).
    return new Promise((resolve, reject) =>
      setImmediate(() => {
        try {
          resolve({ peer: p.name, workload: w, ...p.runOutside!(w) });
        } catch (e) {
          reject(e);
        }
      }),
    );
  }
  // bench/synthetic/child.ts bundled to plain JS once per invocation (bench/lib/bundle.ts): a fresh process per run
  const argv = [
    ...childArgvs.child,
    '--peer',
    c.peer.name,
    '--workload',
    w.kind,
    '--cycles',
    String(w.cycles),
    '--ws',
    String(w.ws),
    '--seed',
    String(w.seed),
    '--sizes',
    w.sizes,
    '--capacity',
    String(c.analysis.classBoundBytes),
  ];
  if (memory) argv.push('--memory');
  return runJsonChild<ChildResult>(argv);
}

// the order processes run in: per repetition, per workload, allocators rotated by the repetition
const plan: { c: Config; step: Step }[] = [];
for (let rep = 0; rep < RUNS; rep++) {
  for (const row of table) {
    for (let k = 0; k < row.length; k++) {
      const c = row[(k + rep) % row.length];
      if (c.row.skipped) continue;
      plan.push({ c, step: { key: `${c.peer.name} ${label(c.w)}`, label: `${c.peer.name} ${label(c.w)}`, rep: rep + 1 } });
    }
  }
}
const nConfigs = table.flat().filter((c) => !c.row.skipped).length;
process.stderr.write(
  `${plan.length} processes (${nConfigs} configurations x ${RUNS} runs), interleaved, order rotated each run; record: ${writer.relFile}\n`,
);
const loadBefore = await cpuBusy();
const progress = new Progress(
  plan.map((p) => p.step),
  RUNS,
);
for (const { c, step } of plan) {
  // GC peers: sample memory in their first successful run only (it is not a timing statistic)
  const gcMemory = c.peer.kind === 'gc' && c.row.highWaterKind === 'none';
  progress.start(step);
  try {
    const r = await runChild(c, gcMemory);
    if (r.finalState !== c.analysis.finalState) throw new Error('PRNG sequence differs from analyze()');
    c.row.runs.push(r.nsPerOp);
    if (c.peer.kind === 'heap' || gcMemory) {
      c.row.highWaterRuns!.push(r.highWater);
      c.row.highWaterKind = r.highWaterKind;
    }
    progress.done(
      `${c.peer.name.padEnd(Math.max(10, ...peers.map((p) => p.name.length)))} ${label(c.w).padEnd(26)} ${fmtTime(c.w, r.nsPerOp)}`,
    );
  } catch (e) {
    const msg = firstLine(e instanceof Error ? e.message : String(e));
    c.row.errors!.push(msg);
    progress.done(`${c.peer.name} ${label(c.w)} FAILED: ${msg}`);
  }
  writer.save();
}
progress.finish();
const elapsed = progress.elapsed();
const loadAfter = await cpuBusy();
record.load = { before: loadBefore, after: loadAfter };
deriveGroups(record);
writer.finish(elapsed);
if (args.save) writeFileSync(args.save, JSON.stringify(record, null, 1) + '\n');
if (args.html) writeFileSync(args.html, renderHtml([{ file: writer.file, record }], { title: `hakmem bench, ${setName} set` }));

// ---- output ----------------------------------------------------------------------------------

if (args.json) {
  console.log(JSON.stringify(record, null, 1));
} else {
  console.log(report());
}
process.stderr.write(`ledger record: ${writer.relFile}${args.html ? `; HTML report: ${args.html}` : ''}\n`);

function report(): string {
  const ref = args.ref;
  const machine = `${record.cpu?.model} x${record.cpu?.cores}, ${record.os?.platform} ${record.os?.arch}, node ${record.node}`;
  const src = record.git.commit
    ? `git ${record.git.commit.slice(0, 7)}${record.git.dirty ? ` + uncommitted changes (${record.git.dirtyPaths.slice(0, 4).join(', ')}${record.git.dirtyPaths.length > 4 ? ', ...' : ''})` : ''}`
    : 'unknown (no git)';
  const out: string[] = [];
  out.push(`hakmem bench: how long malloc and free take in hakmem and in other allocators (workloads.md)`);
  out.push(
    `  set ${setName}: ${workloads.length} workloads x ${peers.length} allocators, ${RUNS} run${RUNS === 1 ? '' : 's'} each; every run a fresh node process,`,
  );
  out.push(`  runs interleaved and the allocator order rotated; took ${Math.round(elapsed)} s`);
  out.push(`  machine: ${machine}; other CPU use ${pct(loadBefore)} before, ${pct(loadAfter)} after`);
  if (Math.max(loadBefore, loadAfter) > 0.2) out.push('  WARNING: other processes were using the CPUs: timings are inflated and noisier');
  out.push(`  source: ${src}`);
  out.push('');
  out.push('How to read the tables:');
  out.push('  median = the middle of the runs (min and max: the fastest and the slowest run). LOWER IS BETTER.');
  out.push('  A: time per operation (one malloc or one free, the benchmark loop included); C1, C2: time per cycle.');
  out.push(`  vs ${ref}: the median divided by ${ref}'s median on the same workload (2.00x = twice as slow).`);
  if (ref === 'floor') out.push('  floor: a bare free list with no checks, the fastest a JS allocator can be; noop: the loop alone.');
  out.push('  high-water: the most memory the allocator held at once; / peak live: divided by the most bytes the');
  out.push('  workload had allocated at once (1.00x = no overhead; lower is better). ~ = sampled (GC rows).');
  out.push('');
  out.push('Allocators:');
  const nw = Math.max(10, ...peers.map((p) => p.name.length), ...unavailable.map((u) => u.name.length)) + 1;
  for (const p of peers) out.push(`  ${p.name.padEnd(nw)}${p.about}`);
  for (const u of unavailable) out.push(`  ${u.name.padEnd(nw)}not run: ${u.why}`);
  record.groups.forEach((g, i) => {
    const w = workloads[i];
    const c2 = w.kind !== 'A';
    out.push('');
    out.push(`${g.title}; peak live ${mib(g.peakLiveBytes!)} MiB`);
    const unit = c2 ? 'us/cycle' : 'ns/op';
    const head = ['allocator', `median ${unit}`, 'min', 'max', `vs ${ref}`, 'high-water MiB', '/ peak live', 'note'];
    const lines: string[][] = [];
    for (const r of g.rows) {
      const note = [r.note ?? '', r.errors?.length ? `${r.errors.length} of ${RUNS} runs FAILED: ${r.errors[0]}` : ''];
      if (r.skipped || !r.stats) {
        lines.push([r.allocator, r.skipped ?? (r.errors?.length ? `FAILED: ${r.errors[0]}` : 'no result')]);
        continue;
      }
      const t = (x: number) => fmtNum(c2 ? x / 1000 : x);
      const approx = r.highWaterKind === 'sampled' ? '~' : '';
      lines.push([
        r.allocator,
        t(r.stats.median),
        t(r.stats.min),
        t(r.stats.max),
        r.ratioToRef !== undefined ? `${fmtNum(r.ratioToRef)}x` : '-',
        r.highWaterBytes ? approx + mib(r.highWaterBytes) : '-',
        r.highWaterPerPeakLive ? `${approx}${fmtNum(r.highWaterPerPeakLive)}x` : '-',
        note.filter(Boolean).join(', '),
      ]);
    }
    out.push(...formatTable(head, lines));
    if (w.kind === 'C1') {
      out.push('  C1: an allocator that hands the same 2 MiB back each cycle touches warm pages; one that maps fresh');
      out.push('  memory (or a GC that allocates a new buffer) pays page faults and zeroing every cycle.');
    }
    if (w.kind === 'C2') {
      out.push('  C2 time is mostly first touches of fresh pages (a page fault costs ~2-7 us in this VM): an allocator');
      out.push('  that reuses freed memory touches fewer. floor never reuses across its classes (each 64 KiB step is one).');
    }
  });
  out.push('');
  out.push('Notes: capped rows ran fewer cycles of the same workload (same ws, so the time per op is comparable);');
  out.push(`  configurations that would take over ${SKIP_SECONDS} s are skipped. GC rows (buffer, uint8array) free by dropping the`);
  out.push('  reference; their memory (~) is the JS heap + ArrayBuffer growth sampled in an untimed replay, garbage included.');
  out.push('  This machine is noisy: differences under ~1.3x between separate invocations are noise; ratios within one run are steadier.');
  const hk = record.groups.map((g) => ({ g, r: g.rows.find((r) => r.allocator === 'hakmem') })).filter((x) => x.r?.stats);
  if (hk.length && ref !== 'hakmem') {
    out.push('');
    out.push(`In short (hakmem, medians of this run; lower is better):`);
    for (const { g, r } of hk) {
      const c2 = g.unit === 'ns/cycle';
      const parts = [`${fmtNum(c2 ? r!.stats!.median / 1000 : r!.stats!.median)} ${c2 ? 'us/cycle' : 'ns/op'}`];
      if (r!.ratioToRef !== undefined) parts.push(`${fmtNum(r!.ratioToRef)}x ${ref}'s time`);
      if (r!.highWaterPerPeakLive) parts.push(`memory ${fmtNum(r!.highWaterPerPeakLive)}x peak live`);
      out.push(`  ${g.id.padEnd(26)} ${parts.join(', ')}`);
    }
  }
  out.push('');
  out.push(
    `Every run's figure, the command, commit and machine: ${writer.relFile} (npm run bench:report turns the ledger into tables and charts).`,
  );
  return out.join('\n');
}

// ---- formatting helpers ----------------------------------------------------------------------

function describe(w: Workload): string {
  if (w.kind === 'C2')
    return `C2 large blocks: ${w.cycles} cycles over ${w.ws} slots, seed ${w.seed}, 64 KiB..4 MiB, one byte written per 4 KiB`;
  if (w.kind === 'C1') return `C1 2 MiB blocks: ${w.cycles} cycles of malloc(2 MiB), one byte written per 4 KiB, one read back, free`;
  const sizes =
    w.sizes === 'fixed256'
      ? 'fixed256 (all 256 B)'
      : w.sizes === 'rand'
        ? 'rand (16..1039 B from the slot draw)'
        : 'rand2 (16..1039 B, second draw)';
  return `A random-mixed: ${fmtCycles(w.cycles)} cycles, ws ${w.ws}, seed ${w.seed}, sizes ${sizes}`;
}
function fmtTime(w: Workload, ns: number): string {
  return w.kind !== 'A' ? `${fmtNum(ns / 1000)} us/cycle` : `${fmtNum(ns)} ns/op`;
}
