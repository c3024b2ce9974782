// The evidence ledger: every bench run writes one JSON record to bench/ledger/results/ (one file per run,
// `<YYYY-MM-DD>-<HHMMSS>-<kind>.json`, UTC). A record says what was measured (every run's figure,
// not only medians), on what (git commit and dirty state, Node, CPU, OS, environment variables),
// and how (the exact command line, options, seeds). The file is written when the run starts
// (status "running") and rewritten after every measured process, so an interrupted run keeps the
// figures it has (status "interrupted"); bench/ledger/report.ts uses "complete" records only.
//
// Records of every kind share `groups`: one group per workload (or trace), one row per allocator,
// with its per-run figures in the group's unit. bench/ledger/report.ts and html.ts read only that.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { ROOT } from '../lib/paths.ts';

/** the ledger's folder, relative to the repository root (as the README's generated block names records) */
export const LEDGER_REL = 'bench/ledger/results';
export const LEDGER_DIR = join(ROOT, LEDGER_REL);
export const SCHEMA = 'hakmem-bench-record/1' as const;

/**
 * Environment variables recorded in every record. hakmem itself (src/) reads none: it uses no
 * Node-only API. These change how the measured processes run: NODE_OPTIONS (V8 and Node flags for
 * every node process), UV_THREADPOOL_SIZE; for native C peers the C library's allocator settings
 * and preloads; CI and the bench's own HAKMEM_* variables (none are read today; recorded if set).
 */
export const ENV_NAMES = ['NODE_OPTIONS', 'UV_THREADPOOL_SIZE', 'LD_PRELOAD', 'LD_LIBRARY_PATH', 'GLIBC_TUNABLES', 'MALLOC_CONF', 'CI'];
export const ENV_PREFIXES = ['HAKMEM_', 'MALLOC_', 'MIMALLOC_', 'JE_MALLOC_'];
export const ENV_NOTE =
  'hakmem (src/) reads no environment variables. Recorded when set: ' +
  ENV_NAMES.join(', ') +
  ', and any ' +
  ENV_PREFIXES.map((p) => p + '*').join(', ') +
  ' (they change how node or native peers run).';

export interface Stats {
  median: number;
  min: number;
  max: number;
}

export function stats(xs: readonly number[]): Stats | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return { median: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2, min: s[0], max: s[s.length - 1] };
}

/** One allocator on one workload: every run's figure, in the group's unit. */
export interface LedgerRow {
  allocator: string;
  /** every successful run's figure, in run order (unit: the group's) */
  runs: number[];
  /** median, min and max of `runs` (absent when no run succeeded) */
  stats?: Stats;
  /** stats.median / the reference allocator's median in the same group */
  ratioToRef?: number;
  /** every run's heap high-water in bytes, in run order (heap peers; GC peers: sampled, see highWaterKind) */
  highWaterRuns?: number[];
  /** the largest of highWaterRuns */
  highWaterBytes?: number;
  highWaterKind?: 'heap' | 'sampled' | 'none';
  /** highWaterBytes / the group's peakLiveBytes */
  highWaterPerPeakLive?: number;
  /** set when this allocator ran a different amount of work than the group (e.g. fewer cycles) */
  note?: string;
  /** peak live bytes of the work this row ran, when it differs from the group's (fewer cycles) */
  peakLiveBytes?: number;
  /** why this configuration was not run */
  skipped?: string;
  /** failed runs' messages */
  errors?: string[];
  /** replays: content-verification failures of every run (each must be 0) */
  verifyFailures?: number[];
}

export interface LedgerGroup {
  /** stable identifier of the workload, e.g. "A 10Mx8192 seed 42 rand2" or "trace python-json" */
  id: string;
  /** one line for a newcomer: what the workload does */
  title: string;
  /** the unit of every figure in rows[].runs */
  unit: string;
  better: 'lower' | 'higher';
  /** the allocator ratios are relative to */
  ref?: string;
  /** the largest total of requested bytes live at one time */
  peakLiveBytes?: number;
  /** kind-specific description (the workload's parameters, the trace's op count...) */
  params: Record<string, unknown>;
  rows: LedgerRow[];
}

export interface LedgerRecord {
  schema: typeof SCHEMA;
  /** which bench wrote it: "workloads" (bench/synthetic/run.ts), "replay" (bench/trace/run.ts), "larson", "trace-mt" */
  kind: string;
  status: 'running' | 'complete' | 'interrupted';
  /** start of the run, ISO 8601 UTC */
  date: string;
  elapsedSeconds?: number;
  /** the command as typed, when it can be told (hakmem bench / npm run bench / node ...) */
  command: string;
  /** the node process's own argv and execArgv, exactly */
  argv: string[];
  execArgv: string[];
  options: Record<string, unknown>;
  seeds: number[];
  git: { commit: string | null; dirty: boolean | null; dirtyPaths: string[]; note?: string };
  node: string;
  v8: string | null;
  cpu: { model: string; cores: number } | null;
  os: { platform: string; release: string | null; arch: string } | null;
  memoryBytes: number | null;
  env: { set: Record<string, string>; note: string } | null;
  /** other CPU use sampled just before / after the runs (0..1), when measured */
  load?: { before: number; after: number };
  groups: LedgerGroup[];
  /** kind-specific extras (allocator descriptions, skipped traces, the converted file...) */
  extra?: Record<string, unknown>;
  /** set on records converted from an older format: what was not known then */
  converted?: { from: string; note: string };
}

// ---- capture ------------------------------------------------------------------------------------

function git(...a: string[]): string {
  return execFileSync('git', a, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

export function gitState(): LedgerRecord['git'] {
  try {
    const commit = git('rev-parse', 'HEAD');
    // ledger records written while running are not "source": a run's own record must not mark the tree dirty
    const porcelain = execFileSync('git', ['status', '--porcelain', '--untracked-files=normal'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const dirtyPaths = porcelain
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3))
      .filter((p) => !p.startsWith(`${LEDGER_REL}/`));
    return { commit, dirty: dirtyPaths.length > 0, dirtyPaths: dirtyPaths.slice(0, 100) };
  } catch {
    return { commit: null, dirty: null, dirtyPaths: [], note: 'not a git checkout (or git missing)' };
  }
}

export function envState(env: NodeJS.ProcessEnv = process.env): NonNullable<LedgerRecord['env']> {
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    // HAKMEM_BIN_COMMAND only carries the typed command line (recorded as `command`)
    if (k === 'HAKMEM_BIN_COMMAND') continue;
    if (ENV_NAMES.includes(k) || ENV_PREFIXES.some((p) => k.startsWith(p))) set[k] = v;
  }
  return { set, note: ENV_NOTE };
}

function quote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command as the user typed it, as well as it can be told: `hakmem bench ...` through the
 * package's bin (it sets HAKMEM_BIN_COMMAND), `npm run NAME -- ...`, else `node ... script ...`.
 */
export function commandLine(script: string): string {
  const args = process.argv.slice(2).map(quote).join(' ');
  const viaBin = process.env.HAKMEM_BIN_COMMAND;
  if (viaBin) return viaBin;
  const ev = process.env.npm_lifecycle_event;
  if (ev && process.env.npm_lifecycle_script?.includes(script)) return `npm run ${ev}${args ? ' -- ' + args : ''}`;
  return `node ${process.execArgv.map(quote).join(' ')} ${script}${args ? ' ' + args : ''}`.replace(/\s+/g, ' ');
}

export function newRecord(kind: string, script: string, options: Record<string, unknown>, seeds: number[]): LedgerRecord {
  const cpus = os.cpus();
  return {
    schema: SCHEMA,
    kind,
    status: 'running',
    date: new Date().toISOString(),
    command: commandLine(script),
    argv: process.argv,
    execArgv: process.execArgv,
    options,
    seeds,
    git: gitState(),
    node: process.version,
    v8: process.versions.v8,
    cpu: { model: cpus[0]?.model.trim() ?? 'unknown', cores: cpus.length },
    os: { platform: os.platform(), release: os.release(), arch: os.arch() },
    memoryBytes: os.totalmem(),
    env: envState(),
    groups: [],
  };
}

/** Fraction of all cores busy during 300 ms (sampled while no child runs: it is other processes). */
export async function cpuBusy(): Promise<number> {
  const sample = () =>
    os.cpus().reduce(
      (a, c) => {
        const t = c.times;
        return { busy: a.busy + t.user + t.nice + t.sys + t.irq, all: a.all + t.user + t.nice + t.sys + t.irq + t.idle };
      },
      { busy: 0, all: 0 },
    );
  const a = sample();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const b = sample();
  return b.all > a.all ? (b.busy - a.busy) / (b.all - a.all) : 0;
}

// ---- writing ------------------------------------------------------------------------------------

function stamp(iso: string): string {
  // 2026-11-21T18:18:18.262Z -> 2026-11-21-181818
  return `${iso.slice(0, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

/** A record being written: `save()` after each measured process, `finish()` at the end. */
export class LedgerWriter {
  readonly file: string;
  private finished = false;

  constructor(
    readonly record: LedgerRecord,
    dir = LEDGER_DIR,
  ) {
    mkdirSync(dir, { recursive: true });
    const base = `${stamp(record.date)}-${record.kind}`;
    let file = join(dir, base + '.json');
    for (let n = 2; existsSync(file); n++) file = join(dir, `${base}-${n}.json`);
    this.file = file;
    this.save();
    // an interrupted run keeps what it measured
    const onSignal = (sig: NodeJS.Signals) => {
      if (!this.finished) {
        this.record.status = 'interrupted';
        this.save();
        process.stderr.write(`\ninterrupted: the runs so far are in ${this.relFile}\n`);
      }
      process.exit(sig === 'SIGINT' ? 130 : 143);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  get relFile(): string {
    const r = relative(process.cwd(), this.file);
    return r.startsWith('..') ? this.file : r;
  }

  save(): void {
    const tmp = this.file + '.tmp';
    writeFileSync(tmp, JSON.stringify(this.record, null, 1) + '\n');
    renameSync(tmp, this.file);
  }

  finish(elapsedSeconds: number): void {
    this.record.elapsedSeconds = elapsedSeconds;
    this.record.status = 'complete';
    this.finished = true;
    this.save();
  }
}

/**
 * The main of a driver that measures all its runs in one call and returns its own figures
 * (bench/larson/run.ts, bench/trace/mt/run.ts): the record is written when the run starts, the
 * other CPU use sampled before and after, the record finished with the groups of the figures; then
 * the figures go to `save` (JSON) and stdout (the table, or the JSON with `json`).
 */
export async function recordRun<R extends { elapsedSeconds: number }>(o: {
  kind: string;
  script: string;
  options: Record<string, unknown>;
  seeds: number[];
  /** --ledger DIR (default LEDGER_DIR) */
  ledger?: string;
  json: boolean;
  save?: string;
  run(): Promise<R>;
  groups(r: R): LedgerGroup[];
  extra?(r: R): Record<string, unknown> | undefined;
  format(r: R): string;
}): Promise<void> {
  const writer = new LedgerWriter(newRecord(o.kind, o.script, o.options, o.seeds), o.ledger);
  const loadBefore = await cpuBusy();
  const figures = await o.run();
  writer.record.load = { before: loadBefore, after: await cpuBusy() };
  writer.record.groups = o.groups(figures);
  const extra = o.extra?.(figures);
  if (extra) writer.record.extra = extra;
  writer.finish(figures.elapsedSeconds);
  const json = JSON.stringify(figures, null, 2);
  if (o.save) writeFileSync(o.save, json + '\n');
  if (!o.json)
    console.log(
      `other CPU use (0..1 of all cores, sampled 0.3 s): ${loadBefore.toFixed(2)} before, ${writer.record.load.after.toFixed(2)} after`,
    );
  console.log(o.json ? json : o.format(figures));
  process.stderr.write(`ledger record: ${writer.relFile}\n`);
}

/**
 * The end of a run measured process by process (bench/synthetic/run.ts, bench/trace/run.ts): a row
 * without any high-water figure or error loses those lists, and every group is derived.
 */
export function deriveGroups(record: LedgerRecord): void {
  for (const g of record.groups) {
    for (const r of g.rows) {
      if (!r.highWaterRuns?.some((x) => x > 0)) {
        delete r.highWaterRuns;
        r.highWaterKind = 'none';
      }
      if (!r.errors?.length) delete r.errors;
    }
    derive(g);
  }
}

/** Fills in stats, ratios to the group's ref and high-water per peak live from the raw runs. */
export function derive(g: LedgerGroup): LedgerGroup {
  for (const r of g.rows) {
    r.stats = stats(r.runs);
    if (r.highWaterRuns?.length) r.highWaterBytes = Math.max(...r.highWaterRuns);
    const peak = r.peakLiveBytes ?? g.peakLiveBytes;
    r.highWaterPerPeakLive = r.highWaterBytes && peak ? r.highWaterBytes / peak : undefined;
  }
  const ref = g.rows.find((r) => r.allocator === g.ref)?.stats?.median;
  for (const r of g.rows) r.ratioToRef = r.stats && ref ? r.stats.median / ref : undefined;
  return g;
}

// ---- reading ------------------------------------------------------------------------------------

export interface LoadedRecord {
  file: string;
  record: LedgerRecord;
}

/** Every ledger record in `dir` (files *.json with the ledger schema), oldest first. */
export function loadLedger(dir = LEDGER_DIR): LoadedRecord[] {
  if (!existsSync(dir)) return [];
  const out: LoadedRecord[] = [];
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const file = join(dir, f);
    let record: LedgerRecord;
    try {
      record = JSON.parse(readFileSync(file, 'utf8')) as LedgerRecord;
    } catch {
      continue;
    }
    if (record.schema === SCHEMA) out.push({ file, record });
  }
  return out.sort((a, b) => a.record.date.localeCompare(b.record.date) || a.file.localeCompare(b.file));
}

/** Problems that make a record unusable as evidence (empty when it is sound). */
export function validateRecord(r: LedgerRecord): string[] {
  const p: string[] = [];
  if (r.schema !== SCHEMA) p.push(`schema is ${String(r.schema)}`);
  for (const k of ['kind', 'date', 'command', 'node'] as const) if (typeof r[k] !== 'string' || !r[k]) p.push(`no ${k}`);
  if (!r.git || !('commit' in r.git) || !('dirty' in r.git)) p.push('no git state');
  if (!Array.isArray(r.seeds)) p.push('no seeds');
  if (!r.options || typeof r.options !== 'object') p.push('no options');
  if (!('env' in r)) p.push('no env');
  if (!('cpu' in r) || !('os' in r)) p.push('no cpu / os');
  if (!Array.isArray(r.groups)) return [...p, 'no groups'];
  for (const g of r.groups) {
    for (const row of g.rows) {
      const where = `${g.id} / ${row.allocator}`;
      if (!Array.isArray(row.runs) || row.runs.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
        p.push(`${where}: runs are not all numbers`);
        continue;
      }
      const st = stats(row.runs);
      if (!st !== !row.stats) p.push(`${where}: stats ${row.stats ? 'without runs' : 'missing'}`);
      else if (st && row.stats && (st.median !== row.stats.median || st.min !== row.stats.min || st.max !== row.stats.max)) {
        p.push(`${where}: stored median/min/max are not those of its runs`);
      }
      if (row.highWaterRuns?.length && row.highWaterBytes !== Math.max(...row.highWaterRuns)) {
        p.push(`${where}: highWaterBytes is not the largest of highWaterRuns`);
      }
    }
  }
  return p;
}
