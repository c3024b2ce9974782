// hakmem benchmark runner: workload A (random-mixed) and C2 (large blocks) of workloads.md,
// across several allocators, one child process per run (bench/child.ts), runs interleaved.
//
//   node --import tsx bench/run.ts [--quick | --full] [--runs N] [--allocators a,b] [--ref floor] [--json]
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ChildResult } from './child.ts';
import { firstLine, runJsonChild } from './spawn-child.ts';
import { analyze, fmtCycles, label, type Analysis, type Peer, type Workload } from './workloads.ts';

const HELP = `Usage: node --import tsx bench/run.ts [options]   (npm run bench -- [options])
  --quick            fewer sets: A 10Mx8192 rand2, A 2Mx65536 rand, C2
  --full             all sets: A {10Mx256, 10Mx8192, 2Mx65536} x {rand, fixed256}, A 10Mx8192 rand2, C2
                     (default: A 10Mx8192 rand2, A 10Mx256 rand, A 2Mx65536 rand, C2)
  --runs N           processes per configuration (default 5)
  --allocators a,b   allocators to run (default: all in bench/peers/)
  --ref NAME         allocator the ratios are relative to (default floor)
  --json             print machine-readable results on stdout instead of the tables
  --save FILE        also write the machine-readable results (the same JSON) to FILE
Progress goes to stderr.`;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    runs: { type: 'string', default: '5' },
    allocators: { type: 'string' },
    ref: { type: 'string', default: 'floor' },
    json: { type: 'boolean', default: false },
    save: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}

const RUNS = Math.max(1, Number(args.runs) | 0);
/** a configuration whose runs together would take longer than this is skipped */
const SKIP_SECONDS = 60;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
const log = (s: string) => process.stderr.write(s + '\n');

// ---- workloads -------------------------------------------------------------------------------

const A = (cycles: number, ws: number, sizes: Workload['sizes']): Workload => ({ kind: 'A', cycles, ws, seed: 42, sizes });
const C2: Workload = { kind: 'C2', cycles: 2000, ws: 16, seed: 42, sizes: 'large' };
const SETS: Record<'quick' | 'default' | 'full', Workload[]> = {
  quick: [A(10e6, 8192, 'rand2'), A(2e6, 65536, 'rand'), C2],
  default: [A(10e6, 8192, 'rand2'), A(10e6, 256, 'rand'), A(2e6, 65536, 'rand'), C2],
  full: [
    A(10e6, 8192, 'rand2'),
    A(10e6, 256, 'rand'), A(10e6, 256, 'fixed256'),
    A(10e6, 8192, 'rand'), A(10e6, 8192, 'fixed256'),
    A(2e6, 65536, 'rand'), A(2e6, 65536, 'fixed256'),
    C2,
  ],
};
const setName = args.full ? 'full' : args.quick ? 'quick' : 'default';
const workloads = SETS[setName];

// ---- allocators ------------------------------------------------------------------------------

const ORDER = ['noop', 'floor', 'hakmem', 'thing', 'buffer', 'uint8array'];
const available = readdirSync(new URL('./peers/', import.meta.url))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99));
const wanted = args.allocators ? args.allocators.split(',').map((s) => s.trim()).filter(Boolean) : available;
for (const name of wanted) {
  if (!available.includes(name)) {
    log(`unknown allocator "${name}"; available: ${available.join(', ')}`);
    process.exit(2);
  }
}
const peers: Peer[] = [];
const unavailable: { name: string; why: string }[] = [];
for (const name of wanted) {
  try {
    peers.push(((await import(`./peers/${name}.ts`)) as { peer: Peer }).peer);
  } catch (e) {
    const why = firstLine(e instanceof Error ? e.message : String(e));
    unavailable.push({ name, why });
    log(`skipping ${name}: its adapter failed to import: ${why}`);
  }
}

// ---- configurations --------------------------------------------------------------------------

interface Config {
  peer: Peer;
  /** the workload as run for this allocator (cycles may be capped) */
  w: Workload;
  capped: boolean;
  analysis: Analysis;
  skipped?: string;
  /** the last failure, and how many runs failed (a failing config is retried each run) */
  error?: string;
  failures: number;
  ns: number[];
  highWater: number;
  highWaterKind: ChildResult['highWaterKind'];
}

const analyses = new Map<string, Analysis>();
function analysisOf(w: Workload): Analysis {
  const key = JSON.stringify(w);
  let a = analyses.get(key);
  if (!a) analyses.set(key, (a = analyze(w)));
  return a;
}

log(`bench: ${setName} set, ${RUNS} runs, allocators ${peers.map((p) => p.name).join(', ')}; analyzing workloads...`);
const table: Config[][] = workloads.map((w0) =>
  peers.map((peer) => {
    const capped = w0.kind === 'A' && peer.maxCycles !== undefined && w0.cycles > peer.maxCycles;
    const w = capped ? { ...w0, cycles: peer.maxCycles! } : w0;
    const c: Config = { peer, w, capped, analysis: analysisOf(w), ns: [], failures: 0, highWater: -1, highWaterKind: 'none' };
    const est = peer.estimateNsPerOp?.(w);
    if (est !== undefined) {
      const perRun = ((w.cycles + 3 * Math.min(200_000, Math.floor(w.cycles / 20))) * est) / 1e9 + 0.3;
      if (perRun * RUNS > SKIP_SECONDS) {
        c.skipped = `skipped: would take ~${fmtS(perRun * RUNS)} (${RUNS} runs x ~${fmtS(perRun)})`;
        log(`${peer.name} ${label(w)}: ${c.skipped}`);
      }
    }
    return c;
  }),
);

// ---- running ---------------------------------------------------------------------------------

function runChild(c: Config, memory: boolean): Promise<ChildResult> {
  const w = c.w;
  const argv = [
    '--import', 'tsx', '--expose-gc', CHILD, '--peer', c.peer.name, '--workload', w.kind,
    '--cycles', String(w.cycles), '--ws', String(w.ws), '--seed', String(w.seed), '--sizes', w.sizes,
    '--capacity', String(c.analysis.classBoundBytes),
  ];
  if (memory) argv.push('--memory');
  return runJsonChild<ChildResult>(argv);
}

const active = table.flat().filter((c) => !c.skipped);
const total = active.length * RUNS;
log(`${total} processes (${active.length} configurations x ${RUNS} runs), interleaved, order rotated each run`);
const loadBefore = await cpuBusy();
const t0 = Date.now();
let done = 0;
for (let rep = 0; rep < RUNS; rep++) {
  for (const row of table) {
    for (let k = 0; k < row.length; k++) {
      const c = row[(k + rep) % row.length];
      if (c.skipped) continue;
      done++;
      // GC peers: sample memory in their first successful run only (it is not a timing statistic)
      const gcMemory = c.peer.kind === 'gc' && c.highWaterKind === 'none';
      const started = Date.now();
      try {
        const r = await runChild(c, gcMemory);
        if (r.finalState !== c.analysis.finalState) throw new Error('PRNG sequence differs from analyze()');
        c.ns.push(r.nsPerOp);
        if (c.peer.kind === 'heap' || gcMemory) {
          c.highWater = r.highWater;
          c.highWaterKind = r.highWaterKind;
        }
        log(`[run ${rep + 1}/${RUNS} ${done}/${total}] ${c.peer.name.padEnd(10)} ${label(c.w).padEnd(26)} ${fmtTime(c.w, r.nsPerOp).padEnd(16)} (${((Date.now() - started) / 1000).toFixed(2)} s)`);
      } catch (e) {
        c.error = firstLine(e instanceof Error ? e.message : String(e));
        c.failures++;
        log(`[run ${rep + 1}/${RUNS} ${done}/${total}] ${c.peer.name} ${label(c.w)} FAILED: ${c.error}`);
      }
    }
  }
}
const elapsed = (Date.now() - t0) / 1000;
const loadAfter = await cpuBusy();
const load = `other CPU use ${pct(loadBefore)} just before, ${pct(loadAfter)} just after the runs`;

// ---- statistics and output -------------------------------------------------------------------

interface Stats { median: number; min: number; max: number }
function stats(xs: number[]): Stats | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return { median: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2, min: s[0], max: s[s.length - 1] };
}

/** which hakmem was measured: "git abc1234" (+ "with uncommitted changes in src/") */
function sourceVersion(): string {
  try {
    const git = (...a: string[]) => execFileSync('git', a, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--', 'src') !== '';
    return `git ${git('rev-parse', '--short', 'HEAD')}${dirty ? ' with uncommitted changes in src/' : ''}`;
  } catch {
    return 'unknown (no git)';
  }
}
const cpus = os.cpus();
const machine = `${cpus[0]?.model.trim() ?? 'unknown CPU'} x${cpus.length}, ${os.platform()} ${os.arch()}, node ${process.version}`;

const results = table.map((row) => {
  const ref = row.find((c) => c.peer.name === args.ref);
  const refMedian = ref ? stats(ref.ns)?.median : undefined;
  return row.map((c) => {
    const st = stats(c.ns);
    const hw = c.highWater > 0 ? c.highWater : undefined;
    return {
      allocator: c.peer.name,
      workload: c.w,
      cyclesCapped: c.capped,
      runs: c.ns,
      nsPerOp: st,
      ratioToRef: st && refMedian ? st.median / refMedian : undefined,
      highWaterBytes: hw,
      highWaterKind: c.highWaterKind,
      peakLiveBytes: c.analysis.peakLiveBytes,
      highWaterPerPeakLive: hw ? hw / c.analysis.peakLiveBytes : undefined,
      skipped: c.skipped,
      error: c.error,
      failedRuns: c.failures,
    };
  });
});

const record = JSON.stringify({
  command: `node --import tsx bench/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
  set: setName, runs: RUNS, ref: args.ref, source: sourceVersion(), machine, node: process.version, date: new Date().toISOString(), load,
  elapsedSeconds: elapsed, unavailable, workloads, results: results.flat(),
}, null, 2);
if (args.save) writeFileSync(args.save, record + '\n');
if (args.json) {
  console.log(record);
} else {
  const out: string[] = [];
  out.push(`hakmem bench: workloads A (random-mixed) and C2 (large blocks) of workloads.md`);
  out.push(`set: ${setName} (${workloads.map(label).join('; ')})`);
  out.push(`${RUNS} runs per configuration, each run a fresh process; runs interleaved, allocator order rotated each run`);
  out.push(`machine: ${machine}; ${new Date().toISOString().slice(0, 16)}Z; took ${Math.round(elapsed)} s; ${load}`);
  if (Math.max(loadBefore, loadAfter) > 0.2) out.push('WARNING: other processes were using the CPUs: timings are inflated and noisier');
  out.push(`source: ${sourceVersion()}`);
  for (const u of unavailable) out.push(`not run: ${u.name} (adapter failed to import: ${u.why})`);
  for (const p of peers) out.push(`  ${p.name.padEnd(11)}${p.about}`);
  results.forEach((row, i) => {
    const w = workloads[i];
    const c2 = w.kind === 'C2';
    out.push('');
    out.push(c2
      ? `C2 large blocks: ${w.cycles} cycles over ${w.ws} slots, seed ${w.seed}, 64 KiB..4 MiB, one byte written per 4 KiB; peak live ${mib(analysisOf(w).peakLiveBytes)} MiB`
      : `A random-mixed: ${fmtCycles(w.cycles)} cycles, ws ${w.ws}, seed ${w.seed}, sizes ${describeSizes(w)}; peak live ${mib(analysisOf(w).peakLiveBytes)} MiB`);
    const unit = c2 ? 'us/cycle' : 'ns/op';
    const head = ['allocator', `median ${unit}`, 'min', 'max', `vs ${args.ref}`, 'high-water MiB', 'hw / peak live', 'note'];
    const lines: string[][] = [];
    for (const r of row) {
      const note = [
        r.cyclesCapped ? `${fmtCycles(r.workload.cycles)} cycles` : '',
        r.failedRuns ? `${r.failedRuns} of ${RUNS} runs FAILED: ${r.error}` : '',
      ];
      if (r.skipped || !r.nsPerOp) {
        lines.push([r.allocator, r.skipped ?? (r.error ? `FAILED: ${r.error}` : 'no result')]);
        continue;
      }
      const t = (x: number) => fmtNum(c2 ? x / 1000 : x);
      const approx = r.highWaterKind === 'sampled' ? '~' : '';
      if (approx) note.push('hw sampled');
      lines.push([
        r.allocator, t(r.nsPerOp.median), t(r.nsPerOp.min), t(r.nsPerOp.max),
        r.ratioToRef !== undefined ? `${fmtNum(r.ratioToRef)}x` : '-',
        r.highWaterBytes ? approx + mib(r.highWaterBytes) : '-',
        r.highWaterPerPeakLive ? `${approx}${fmtNum(r.highWaterPerPeakLive)}x` : '-',
        note.filter(Boolean).join(', '),
      ]);
    }
    out.push(...formatTable(head, lines));
    if (c2) {
      out.push('  C2 time is mostly first touches of fresh pages (a page fault costs ~2-7 us in this VM): an allocator');
      out.push('  that reuses freed memory touches fewer. floor never reuses across its classes (each 64 KiB step is one).');
    }
  });
  out.push('');
  out.push('Time: wall time of the timed loop divided by its cycles (A: one op = one malloc or one free, loop included:');
  out.push('  noop is the loop alone; C2: per cycle, including writing one byte per 4 KiB of each new block). Lower is better.');
  out.push(`  "vs ${args.ref}" = median / ${args.ref}'s median on the same workload. Capped rows ran fewer cycles (same ws, so ns/op is comparable).`);
  out.push('High-water: the most heap the allocator reserved at once; "hw / peak live" divides it by the largest total of');
  out.push('  requested bytes live at one time (1.00x = no overhead; lower is better). GC rows (~): the largest growth of');
  out.push('  JS heap + ArrayBuffer memory sampled during an untimed replay, garbage not yet collected included.');
  out.push('Noise: on this 2-core machine, differences under ~1.3x between separate invocations are noise; ratios within one run are steadier.');
  console.log(out.join('\n'));
}

/** Fraction of all cores busy during 300 ms (sampled while no child runs: it is other processes). */
async function cpuBusy(): Promise<number> {
  const sample = () => os.cpus().reduce((a, c) => {
    const t = c.times;
    return { busy: a.busy + t.user + t.nice + t.sys + t.irq, all: a.all + t.user + t.nice + t.sys + t.irq + t.idle };
  }, { busy: 0, all: 0 });
  const a = sample();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const b = sample();
  return b.all > a.all ? (b.busy - a.busy) / (b.all - a.all) : 0;
}

// ---- formatting helpers ----------------------------------------------------------------------

function formatTable(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.filter((r) => r.length > 2).map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => {
    if (r.length === 2) return `  ${r[0].padEnd(widths[0])}  ${r[1]}`;
    return '  ' + r.map((s, i) => (i === 0 || i === r.length - 1 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('  ').trimEnd();
  };
  return [fmt(head), '  ' + widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)];
}
function fmtNum(x: number): string {
  return x >= 1000 ? Math.round(x).toLocaleString('en-US') : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}
function fmtTime(w: Workload, ns: number): string {
  return w.kind === 'C2' ? `${fmtNum(ns / 1000)} us/cycle` : `${fmtNum(ns)} ns/op`;
}
function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}
function fmtS(s: number): string {
  return s >= 100 ? `${Math.round(s)} s` : `${s.toFixed(1)} s`;
}
function mib(bytes: number): string {
  return fmtNum(bytes / 1048576);
}
function describeSizes(w: Workload): string {
  return w.sizes === 'fixed256' ? 'fixed256 (all 256 B)'
    : w.sizes === 'rand' ? 'rand (16..1039 B from the slot draw)' : 'rand2 (16..1039 B, second draw)';
}
