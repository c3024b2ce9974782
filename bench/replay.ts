// Workload T of workloads.md: replay allocation traces of real programs, one child process per run
// (bench/trace-child.ts), runs interleaved and the allocator order rotated each run.
//
//   node --import tsx bench/replay.ts [FILE.trace.gz ...] [--allocators hakmem,floor] [--runs N] [--json] [--save FILE]
//
// Default files: the single-thread traces in /work/shared/traces/. Multi-thread traces
// (python-threads: 5 threads) are skipped: this replayer runs one thread.
import { readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { TraceChildResult } from './trace-child.ts';
import { runJsonChild } from './spawn-child.ts';
import { TRACE_DIR, traceDirPresent } from './trace.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    allocators: { type: 'string', default: 'hakmem,floor' },
    runs: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
    save: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(`Usage: node --import tsx bench/replay.ts [FILE.trace.gz ...] [--allocators hakmem,floor] [--runs N] [--json] [--save FILE]
  default files: the single-thread *.trace.gz in ${TRACE_DIR} (multi-thread traces are skipped)`);
  process.exit(0);
}
const log = (s: string) => process.stderr.write(s + '\n');
const RUNS = Math.max(1, Number(args.runs) | 0);
const CHILD = fileURLToPath(new URL('./trace-child.ts', import.meta.url));
const allocators = args.allocators!.split(',').map((s) => s.trim()).filter(Boolean);

// ---- which traces ------------------------------------------------------------------------------

let files = positionals;
if (files.length === 0) {
  if (!traceDirPresent()) {
    console.log(`bench/replay.ts: ${TRACE_DIR} is absent: no traces to replay (workload T skipped).`);
    process.exit(0);
  }
  files = readdirSync(TRACE_DIR).filter((f) => f.endsWith('.trace.gz')).sort().map((f) => join(TRACE_DIR, f));
}
/** the header line only (gunzip a stream until the first newline) */
async function header(file: string): Promise<{ name: string; ops: number; peak: number; threads: number }> {
  let s = '';
  for await (const chunk of createReadStream(file).pipe(createGunzip())) {
    s += (chunk as Buffer).toString('latin1');
    if (s.includes('\n')) break;
  }
  const m = /^# trace (\S+) ops=(\d+) peak_live_bytes=(\d+) threads=(\d+)/.exec(s);
  if (!m) throw new Error(`${file}: bad header`);
  return { name: m[1], ops: +m[2], peak: +m[3], threads: +m[4] };
}
const traces: { file: string; name: string; ops: number; peak: number }[] = [];
const skippedTraces: string[] = [];
for (const f of files) {
  const h = await header(f);
  if (h.threads !== 1) {
    skippedTraces.push(`${h.name} (${h.threads} threads: this replayer is single-thread)`);
    log(`skipping ${h.name}: ${h.threads} threads (single-thread traces only)`);
    continue;
  }
  traces.push({ file: f, ...h });
}
// order the default set like FORMAT.md's table
const ORDER = ['python-json', 'gcc-cc1', 'perl-hash', 'git-log'];
traces.sort((a, b) => (ORDER.indexOf(a.name) + 1 || 99) - (ORDER.indexOf(b.name) + 1 || 99));

/** native C replayer, median ns/op of 5 runs (FORMAT.md): glibc, mimalloc */
const NATIVE: Record<string, [number, number]> = {
  'python-json': [20.8, 11.6], 'gcc-cc1': [20.3, 14.9], 'perl-hash': [34.3, 15.6], 'git-log': [63.6, 50.3],
};

// ---- running -----------------------------------------------------------------------------------

function runChild(file: string, alloc: string): Promise<TraceChildResult> {
  const argv = ['--import', 'tsx', CHILD, '--file', file, '--alloc', alloc];
  return runJsonChild<TraceChildResult>(argv);
}

interface Cell {
  ns: number[];
  highWater: number;
  failures: number[];
  emulated: string;
  errors: string[];
}
const cells = traces.map(() => allocators.map((): Cell => ({ ns: [], highWater: -1, failures: [], emulated: '', errors: [] })));
const total = traces.length * allocators.length * RUNS;
log(`replay: ${traces.map((t) => t.name).join(', ')} x ${allocators.join(', ')}; ${RUNS} runs each = ${total} processes, interleaved`);
const t0 = Date.now();
let done = 0;
for (let rep = 0; rep < RUNS; rep++) {
  for (let ti = 0; ti < traces.length; ti++) {
    for (let k = 0; k < allocators.length; k++) {
      const ai = (k + rep) % allocators.length;
      const c = cells[ti][ai];
      const name = allocators[ai];
      done++;
      try {
        const r = await runChild(traces[ti].file, name);
        c.emulated = r.emulated;
        if (r.error) {
          c.errors.push(`${r.error}`);
          log(`[${done}/${total}] ${name} ${traces[ti].name} FAILED: ${r.error}`);
          continue;
        }
        c.ns.push(r.nsPerOp);
        c.highWater = Math.max(c.highWater, r.highWater);
        c.failures.push(r.failures + r.warmFailures);
        log(`[${done}/${total}] ${name.padEnd(7)} ${traces[ti].name.padEnd(12)} ${r.nsPerOp.toFixed(1)} ns/op  hw ${(r.highWater / 1048576).toFixed(1)} MiB  verify failures ${r.failures} (+${r.warmFailures} in warm-up)`);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        c.errors.push(msg);
        log(`[${done}/${total}] ${name} ${traces[ti].name} FAILED: ${msg}`);
      }
    }
  }
}
const elapsed = (Date.now() - t0) / 1000;

// ---- output ------------------------------------------------------------------------------------

function stats(xs: number[]) {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return { median: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2, min: s[0], max: s[s.length - 1] };
}
const f1 = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const mib = (b: number) => (b / 1048576).toFixed(1);
const results = traces.flatMap((t, ti) => allocators.map((a, ai) => {
  const c = cells[ti][ai];
  const st = stats(c.ns);
  return {
    trace: t.name, ops: t.ops, peakLiveBytes: t.peak, allocator: a, runs: c.ns, nsPerOp: st,
    highWaterBytes: c.highWater > 0 ? c.highWater : undefined,
    highWaterPerPeakLive: c.highWater > 0 ? c.highWater / t.peak : undefined,
    verifyFailures: c.failures, emulated: c.emulated, errors: c.errors,
    nativeGlibc: NATIVE[t.name]?.[0], nativeMimalloc: NATIVE[t.name]?.[1],
  };
}));
const cpus = os.cpus();
const machine = `${cpus[0]?.model.trim() ?? '?'} x${cpus.length}, node ${process.version}`;
const record = JSON.stringify({
  command: `node --import tsx bench/replay.ts ${process.argv.slice(2).join(' ')}`.trim(),
  runs: RUNS, machine, date: new Date().toISOString(), elapsedSeconds: elapsed, skippedTraces, results,
}, null, 2);
if (args.save) writeFileSync(args.save, record + '\n');
if (args.json) {
  console.log(record);
} else {
  const head = ['trace', 'allocator', 'median ns/op', 'min', 'max', 'vs glibc', 'vs mimalloc', 'high-water MiB', 'peak live MiB', 'hw / peak', 'verify fail', 'note'];
  const rows: string[][] = [];
  for (const r of results) {
    const st = r.nsPerOp;
    const nat = NATIVE[r.trace];
    const note = [r.emulated ? `emulated: ${r.emulated}` : '', r.errors.length ? `${r.errors.length} of ${RUNS} runs FAILED: ${r.errors[0]}` : ''].filter(Boolean).join('; ');
    rows.push([
      r.trace, r.allocator, st ? f1(st.median) : '-', st ? f1(st.min) : '-', st ? f1(st.max) : '-',
      st && nat ? `${(st.median / nat[0]).toFixed(2)}x` : '-', st && nat ? `${(st.median / nat[1]).toFixed(2)}x` : '-',
      r.highWaterBytes ? mib(r.highWaterBytes) : '-', mib(r.peakLiveBytes),
      r.highWaterPerPeakLive ? `${r.highWaterPerPeakLive.toFixed(2)}x` : '-',
      r.verifyFailures.length ? String(r.verifyFailures.reduce((a, b) => a + b, 0)) : '-', note,
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => '  ' + r.map((s, i) => (i < 2 || i === r.length - 1 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('  ').trimEnd();
  const out = [
    `hakmem replay: workload T of workloads.md (allocation traces of real programs, ${TRACE_DIR} format)`,
    `${RUNS} runs per configuration, each a fresh process; interleaved, allocator order rotated each run; took ${Math.round(elapsed)} s`,
    `machine: ${machine}`,
    ...skippedTraces.map((s) => `skipped: ${s}`),
    '',
    fmt(head), '  ' + widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt),
    '',
    'ns/op: wall time of the timed replay / all ops of the trace (a, c, m, r, f), including the replay loop and its',
    '  verification (a pattern byte at both ends of every block, checked at free and realloc). Parse untimed.',
    'vs glibc / vs mimalloc: the median over the native C replayer\'s median on the same trace (FORMAT.md, this machine type).',
    'high-water: hakmem stats().heapHighWater; floor: its bump top minus its class-head table. peak live: the trace\'s',
    '  peak_live_bytes (sum of requested sizes). verify fail: pattern/zero/alignment check failures summed over runs (must be 0).',
  ];
  console.log(out.join('\n'));
}
