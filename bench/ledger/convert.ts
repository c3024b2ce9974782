// One-off: converts the bench records written before the ledger (bench/run.ts --save and
// bench/replay.ts --save of 2026-11-21, now bench/synthetic/run.ts and bench/trace/run.ts) to the
// ledger schema, keeping every figure as it was. What those files did not record stays null, with
// a note saying so.
//   node --import tsx bench/ledger/convert.ts OLD.json NEW.json [ORIGINAL-PATH]
// (ORIGINAL-PATH: the old file's path in the repository, when OLD.json is a copy of it)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ROOT, TRACE_DIR } from '../lib/paths.ts';
import { label, type Workload } from '../synthetic/core.ts';
import { derive, SCHEMA, type LedgerGroup, type LedgerRecord, type LedgerRow } from './ledger.ts';

const [from, to, origin] = process.argv.slice(2);
if (!from || !to) throw new Error('usage: bench/ledger/convert.ts OLD.json NEW.json');
/** The old (pre-ledger) result files: untyped JSON, read once by this converter. */
// biome-ignore lint/suspicious/noExplicitAny: the old format has no type; every field is checked by the new record's validateRecord
type OldJson = any;
const old = JSON.parse(readFileSync(from, 'utf8')) as OldJson;
const fullCommit = (short: string) => execFileSync('git', ['rev-parse', short], { cwd: ROOT, encoding: 'utf8' }).trim();
const headAt = (iso: string) => execFileSync('git', ['rev-list', '-1', `--before=${iso}`, 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
// "AMD EPYC x2, linux x64, node v20.20.2" or "AMD EPYC x2, node v20.20.2"
const m = /^(.*) x(\d+), (?:(\w+) (\w+), )?node (v[\d.]+)$/.exec(old.machine as string);
if (!m) throw new Error(`unexpected machine string ${old.machine}`);

const base = {
  schema: SCHEMA,
  status: 'complete' as const,
  date: old.date as string,
  elapsedSeconds: old.elapsedSeconds as number,
  command: old.command as string,
  argv: [] as string[],
  execArgv: [] as string[],
  node: m[5],
  v8: null,
  cpu: { model: m[1], cores: Number(m[2]) },
  os: m[3] ? { platform: m[3], release: null, arch: m[4] } : null,
  memoryBytes: null,
  env: null,
};
let rec: LedgerRecord;
if (old.workloads) {
  const src = /^git ([0-9a-f]+)( with uncommitted changes in src\/)?$/.exec(old.source as string);
  if (!src) throw new Error(`unexpected source ${old.source}`);
  const load = /(\d+)% just before, (\d+)% just after/.exec(old.load as string);
  const workloads = old.workloads as Workload[];
  const groups: LedgerGroup[] = workloads.map((w) => {
    const rows = (old.results as OldJson[]).filter(
      (r) => label(r.workload.cycles === w.cycles ? r.workload : { ...r.workload, cycles: w.cycles }) === label(w),
    );
    const full = rows.find((r) => !r.cyclesCapped);
    return {
      id: label(w),
      title:
        w.kind === 'C2'
          ? `C2 large blocks: ${w.cycles} cycles over ${w.ws} slots, seed ${w.seed}, 64 KiB..4 MiB, one byte written per 4 KiB`
          : `A random-mixed: ${label(w).split(' ')[1].split('x')[0]} cycles, ws ${w.ws}, seed ${w.seed}, sizes ${w.sizes === 'fixed256' ? 'fixed256 (all 256 B)' : w.sizes === 'rand' ? 'rand (16..1039 B from the slot draw)' : 'rand2 (16..1039 B, second draw)'}`,
      unit: w.kind === 'C2' ? 'ns/cycle' : 'ns/op',
      better: 'lower' as const,
      ref: old.ref as string,
      peakLiveBytes: full.peakLiveBytes as number,
      params: { ...w },
      rows: rows.map((r): LedgerRow => {
        const row: LedgerRow = { allocator: r.allocator, runs: r.runs, highWaterKind: r.highWaterKind };
        if (r.highWaterBytes) row.highWaterBytes = r.highWaterBytes;
        if (r.cyclesCapped) {
          row.note = `${r.workload.cycles >= 1e6 ? r.workload.cycles / 1e6 + 'M' : r.workload.cycles / 1e3 + 'k'} cycles`;
          row.peakLiveBytes = r.peakLiveBytes;
        }
        if (r.skipped) row.skipped = r.skipped;
        if (r.error) row.errors = [r.error];
        return row;
      }),
    };
  });
  groups.forEach(derive);
  rec = {
    ...base,
    kind: 'workloads',
    options: { set: old.set, runs: old.runs, ref: old.ref, save: old.command.split('--save ')[1] },
    seeds: [...new Set(workloads.map((w) => w.seed))],
    git: {
      commit: fullCommit(src[1]),
      dirty: null,
      dirtyPaths: [],
      note: src[2]
        ? 'src/ had uncommitted changes; the rest of the tree was not recorded'
        : 'src/ was clean (the old record checked src/ only); the rest of the tree was not recorded',
    },
    load: load ? { before: Number(load[1]) / 100, after: Number(load[2]) / 100 } : undefined,
    groups,
    extra: { set: old.set, workloads, unavailable: old.unavailable },
    converted: {
      from: origin ?? basename(from),
      note: "written by bench/run.ts before the ledger; per-run high-water, argv, V8 version, OS release, total memory and environment variables were not recorded (null); highWaterBytes is the last run's",
    },
  };
} else {
  const commit = headAt(old.date);
  const traces = [...new Set((old.results as OldJson[]).map((r) => r.trace as string))];
  const groups: LedgerGroup[] = traces.map((t) => {
    const rows = (old.results as OldJson[]).filter((r) => r.trace === t);
    const r0 = rows[0];
    return {
      id: `trace ${t}`,
      title: `trace ${t}: ${r0.ops.toLocaleString('en-US')} ops of a real program (${t}.trace.gz), replayed single-thread, contents verified`,
      unit: 'ns/op',
      better: 'lower' as const,
      ref: rows.some((r) => r.allocator === 'floor') ? 'floor' : undefined,
      peakLiveBytes: r0.peakLiveBytes,
      params: {
        trace: t,
        file: join(TRACE_DIR, `${t}.trace.gz`),
        ops: r0.ops,
        nativeGlibc: r0.nativeGlibc,
        nativeMimalloc: r0.nativeMimalloc,
      },
      rows: rows.map((r): LedgerRow => {
        const v = (r.verifyFailures as number[]).reduce((a, b) => a + b, 0);
        const row: LedgerRow = {
          allocator: r.allocator,
          runs: r.runs,
          highWaterKind: 'heap',
          highWaterBytes: r.highWaterBytes,
          verifyFailures: r.verifyFailures,
          note: [r.emulated ? `emulated: ${r.emulated}` : '', `verify failures ${v} in ${r.verifyFailures.length} runs`]
            .filter(Boolean)
            .join('; '),
        };
        if (r.errors.length) row.errors = r.errors;
        return row;
      }),
    };
  });
  groups.forEach(derive);
  rec = {
    ...base,
    kind: 'replay',
    options: { allocators: 'hakmem,floor', runs: old.runs, save: old.command.split('--save ')[1] },
    seeds: [],
    git: {
      commit,
      dirty: null,
      dirtyPaths: [],
      note: `not recorded by the old replay.ts: ${commit.slice(0, 7)} is HEAD at the record's date (git rev-list --before), and the README of 905b211 says this run measured 598fc4b; dirty state not recorded`,
    },
    groups,
    extra: {
      skippedTraces: old.skippedTraces,
      nativeReference:
        "nativeGlibc / nativeMimalloc in a group's params: the native C replayer's median ns/op of 5 runs, copied from the traces' FORMAT.md (measured on this machine type), not measured by this run",
    },
    converted: {
      from: origin ?? basename(from),
      note: 'written by bench/replay.ts before the ledger; git commit (see git.note), per-run high-water (highWaterBytes is the largest over runs), argv, V8 version, OS, total memory and environment variables were not recorded',
    },
  };
}
writeFileSync(to, JSON.stringify(rec, null, 1) + '\n');
console.log(
  `${from} -> ${to}: ${rec.groups.length} groups, ${rec.groups.reduce((a, g) => a + g.rows.reduce((b, r) => b + r.runs.length, 0), 0)} run figures`,
);
