// The README's performance block, generated from ledger records only, and the check that the
// README shows no performance figure the ledger does not hold (test/ledger.test.ts).
//
// The block sits between two marker comments; the begin marker names the records it was made
// from. checkReadme() regenerates the block from exactly those records and compares it with the
// README figure by figure, and rejects performance figures (ns/op, µs, ratios like 1.72x, Mops/s,
// instructions per op) anywhere else in the README.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { display, fmtNum, mib } from '../lib/format.ts';
import { LEDGER_DIR, LEDGER_REL, validateRecord, type LedgerGroup, type LedgerRecord, type LedgerRow, type LoadedRecord } from './ledger.ts';

export const BEGIN = '<!-- bench:report begin';
export const END = '<!-- bench:report end -->';
/** this file and the HTML report, relative to the repository root, as the block names them */
export const BLOCK_SOURCE_REL = 'bench/ledger/readme-block.ts';
export const REPORT_HTML_REL = 'bench/ledger/report.html';

// ---- choosing records ---------------------------------------------------------------------------

/** the tree state is known and nothing that is measured (src/, bench/, package files) was uncommitted */
export function sourceClean(r: LedgerRecord): boolean {
  if (r.git.commit === null) return false;
  if (r.git.dirty === false) return true;
  if (r.git.dirty === true) return r.git.dirtyPaths.every((p) => !/^(src|bench)\//.test(p) && !/^package(-lock)?\.json$/.test(p));
  return !!r.converted && /src\/ was clean|measured [0-9a-f]{7}/.test(r.git.note ?? '');
}

/** other processes used at most a quarter of the CPUs just before and after the runs (when measured) */
export function quiet(r: LedgerRecord): boolean {
  return !r.load || Math.max(r.load.before, r.load.after) <= 0.25;
}

/** the records the README shows: per kind, the newest complete, quiet one with >= 5 runs from a clean source (workloads: of the default set if there is one) */
export function selectRecords(ledger: LoadedRecord[]): LoadedRecord[] {
  const out: LoadedRecord[] = [];
  for (const kind of ['workloads', 'replay']) {
    const ok = ledger.filter(({ record: r }) =>
      r.kind === kind && r.status === 'complete' && Number(r.options.runs) >= 5 && sourceClean(r) && quiet(r) &&
      validateRecord(r).length === 0 && (kind !== 'workloads' || (r.options.set !== 'quick' && r.groups.some((g) => g.rows.some((x) => x.allocator === 'hakmem' && x.stats)))));
    // workloads: the README's section is `npm run bench`, so a record of the default set comes first
    const pick = kind === 'workloads' && ok.some(({ record: r }) => r.options.set === 'default') ? ok.filter(({ record: r }) => r.options.set === 'default') : ok;
    if (pick.length) out.push(pick[pick.length - 1]);
  }
  return out;
}

// ---- rendering ----------------------------------------------------------------------------------

const span = (r: LedgerRow, scale: number) => `${fmtNum(r.stats!.median * scale)} (${fmtNum(r.stats!.min * scale)}–${fmtNum(r.stats!.max * scale)})`;
const rowOf = (g: LedgerGroup | undefined, name: string | RegExp) =>
  g?.rows.find((r) => (typeof name === 'string' ? r.allocator === name : name.test(r.allocator)) && r.stats);

function provenance(file: string, r: LedgerRecord): string {
  const c = r.git.commit ? r.git.commit.slice(0, 7) : 'unknown';
  const state = r.git.dirty === false ? 'clean tree'
    : r.git.dirty === true ? `uncommitted changes outside the measured code: ${r.git.dirtyPaths.slice(0, 3).join(', ')}`
      : r.git.note?.includes('src/ was clean') ? 'src/ clean; rest of the tree not recorded' : 'tree state not recorded';
  const machine = `${r.cpu ? `${r.cpu.model} x${r.cpu.cores}` : 'CPU not recorded'}${r.os ? `, ${r.os.platform} ${r.os.arch}` : ''}, Node ${r.node}`;
  return `Record \`${LEDGER_REL}/${basename(file)}\`: ${r.date.slice(0, 16).replace('T', ' ')} UTC, ${machine}, source ${c} (${state}); ` +
    `command \`${r.command}\`; ${r.options.runs} runs per cell, each a fresh process, interleaved, order rotated` +
    `${r.elapsedSeconds !== undefined ? `; took ${Math.round(r.elapsedSeconds)} s` : ''}.`;
}

function shortId(g: LedgerGroup): string {
  const p = g.params as { kind?: string; cycles?: number; ws?: number; sizes?: string };
  if (p.kind === 'A') return `A ${g.id.split(' ')[1].split('x')[0]}, ws ${p.ws}, ${p.sizes}`;
  if (p.kind === 'C2') return 'C2 large';
  return g.id;
}

/** largest slowest/fastest ratio among a record's rows with 3+ runs */
function spread(r: LedgerRecord): number {
  let m = 1;
  for (const g of r.groups) for (const x of g.rows) if (x.stats && x.runs.length >= 3) m = Math.max(m, x.stats.max / x.stats.min);
  return m;
}

function workloadsSection(file: string, r: LedgerRecord): string[] {
  const out: string[] = [];
  const groups = r.groups;
  const ref = groups[0]?.ref ?? 'floor';
  const names = [...new Set(groups.flatMap((g) => g.rows.map((x) => x.allocator)))];
  const about = (r.extra?.allocators ?? {}) as Record<string, string>;
  out.push('### Workloads A and C2 (`npm run bench`)');
  out.push('');
  out.push('Workload A (random-mixed malloc/free, after the native hakmem `bench_random_mixed`) and C2 (large');
  out.push('blocks, 64 KiB to 4 MiB) of the shared workload definitions. A: time per operation (one malloc or one');
  out.push('free, the loop included); C2: time per cycle. Median of the runs (fastest–slowest). **Lower is better.**');
  out.push('');
  out.push(provenance(file, r));
  out.push('');
  const heads = groups.map((g) => `${shortId(g)} ${display(g.unit, false).unit}`);
  out.push(`| allocator | ${heads.join(' | ')} |`);
  out.push(`|---|${heads.map(() => '---').join('|')}|`);
  const capped: string[] = [];
  for (const n of names) {
    const desc = about[n] ? ` — ${about[n]}` : '';
    const cells = groups.map((g) => {
      const x = g.rows.find((y) => y.allocator === n);
      if (!x) return '—';
      if (x.skipped) return `skipped${/~([\d.]+ s)/.test(x.skipped) ? ` (~${/~([\d.]+ s)/.exec(x.skipped)![1]})` : ''}`;
      if (!x.stats) return x.errors?.length ? 'failed' : '—';
      if (x.note && !capped.includes(`${n} ${x.note}`)) capped.push(`${n} ${x.note}`);
      const v = span(x, display(g.unit).scale);
      return `${n === 'hakmem' ? `**${v.replace(' ', '** ')}` : v}${x.note ? ' ¹' : ''}`;
    });
    out.push(`| ${n === 'hakmem' ? '**hakmem**' : n}${desc.replace(/\|/g, '/')} | ${cells.join(' | ')} |`);
  }
  out.push(`| hakmem / ${ref} | ${groups.map((g) => { const x = rowOf(g, 'hakmem'); return x?.ratioToRef !== undefined ? `${fmtNum(x.ratioToRef)}x` : '—'; }).join(' | ')} |`);
  out.push('');
  if (capped.length) {
    out.push(`¹ ran fewer cycles of the same workload (same working set, so the time per op is comparable): ${capped.join('; ')}.`);
    out.push('Configurations whose runs would take over a minute are skipped.');
    out.push('');
  }
  out.push('Memory: heap high-water / peak live bytes (the most memory held at once over the most bytes the');
  out.push('workload had allocated at once; 1.00x = no overhead, lower is better; ~ = sampled, GC rows):');
  out.push('');
  out.push(`| allocator | ${groups.map(shortId).join(' | ')} |`);
  out.push(`|---|${groups.map(() => '---').join('|')}|`);
  out.push(`| peak live | ${groups.map((g) => `${mib(g.peakLiveBytes ?? 0)} MiB`).join(' | ')} |`);
  for (const n of names) {
    const cells = groups.map((g) => {
      const x = g.rows.find((y) => y.allocator === n);
      if (!x?.highWaterPerPeakLive || !x.highWaterBytes) return '—';
      const a = x.highWaterKind === 'sampled' ? '~' : '';
      return `${a}${fmtNum(x.highWaterPerPeakLive)}x (${a}${mib(x.highWaterBytes)} MiB)`;
    });
    if (cells.some((c) => c !== '—')) out.push(`| ${n === 'hakmem' ? '**hakmem**' : n} | ${cells.join(' | ')} |`);
  }
  out.push('');
  out.push(`In this record, runs of one configuration differed by up to ${fmtNum(spread(r))}x (slowest / fastest): this`);
  out.push('machine is noisy, so compare ratios within one record rather than figures of separate runs.');
  return out;
}

function replaySection(file: string, r: LedgerRecord): string[] {
  const out: string[] = [];
  out.push('### Allocation traces of real programs (`hakmem replay`)');
  out.push('');
  out.push('Each trace (`../shared/traces`) is parsed first, untimed, then replayed; every block\'s contents are');
  out.push('verified (a pattern at both ends, checked at free and realloc). Time per operation, median of the runs');
  out.push('(fastest–slowest); lower is better. The native figures are the C replayer\'s medians from the');
  out.push('traces\' FORMAT.md (measured on this machine type), not measured by this run.');
  out.push('');
  out.push(provenance(file, r));
  out.push('');
  const others = [...new Set(r.groups.flatMap((g) => g.rows.map((x) => x.allocator)))].filter((n) => n !== 'hakmem');
  out.push(`| trace | ops | **hakmem** ns/op | ${others.map((n) => `${n} ns/op`).join(' | ')} | native glibc / mimalloc ns/op | hakmem / glibc | hakmem high-water / peak live | verify failures |`);
  out.push(`|---|---|---|${others.map(() => '---|').join('')}---|---|---|---|`);
  for (const g of r.groups) {
    const h = rowOf(g, 'hakmem');
    const p = g.params as { ops?: number; nativeGlibc?: number; nativeMimalloc?: number };
    const glibc = p.nativeGlibc;
    const fails = g.rows.reduce((a, x) => a + (x.verifyFailures ?? []).reduce((b, c) => b + c, 0), 0);
    out.push(`| ${g.id.replace(/^trace /, '')} | ${p.ops?.toLocaleString('en-US') ?? '—'} | ${h ? span(h, 1) : '—'} | ` +
      `${others.map((n) => { const x = rowOf(g, n); return x ? span(x, 1) : '—'; }).join(' | ')} | ` +
      `${glibc !== undefined ? `${fmtNum(glibc)} / ${fmtNum(p.nativeMimalloc!)}` : '—'} | ` +
      `${h && glibc ? `${fmtNum(h.stats!.median / glibc)}x` : '—'} | ` +
      `${h?.highWaterPerPeakLive ? `${fmtNum(h.highWaterPerPeakLive)}x (${mib(h.highWaterBytes!)} / ${mib(g.peakLiveBytes!)} MiB)` : '—'} | ${fails} |`);
  }
  return out;
}

interface Target { what: string; measured: string; met: string }

function targets(w?: LoadedRecord, t?: LoadedRecord): Target[] {
  const out: Target[] = [];
  const g = (id: string) => w?.record.groups.find((x) => x.id === id);
  const notIn = (what: string) => ({ measured: `not measured (${what})`, met: '—' });
  const ratio = (id: string, num: string | RegExp, den: string | RegExp, what: string, limit: number, peerWhy: string) => {
    const a = rowOf(g(id), num);
    const b = rowOf(g(id), den);
    if (!a || !b) return { what, ...notIn(peerWhy) };
    const v = a.stats!.median / b.stats!.median;
    return { what, measured: `${fmtNum(v)}x (${fmtNum(a.stats!.median)} / ${fmtNum(b.stats!.median)} ns/op)`, met: v <= limit ? 'yes' : 'no' };
  };
  const H = 'A 10Mx8192 seed 42 rand2';
  const B = 'A 2Mx65536 seed 42 rand';
  out.push(ratio(H, 'hakmem', 'floor', `${H}: hakmem <= 1.10x the floor (issue 2)`, 1.1, 'no floor row in the record'));
  out.push(ratio(B, 'hakmem', 'floor', `${B}: hakmem <= 1.25x the floor (issue 2)`, 1.25, 'no floor row in the record'));
  out.push(ratio(H, 'hakmem', 'floor', `${H}: hakmem (thread-safe) <= 1.10x the single-thread floor (issue 3)`, 1.1, 'no floor row in the record'));
  out.push(ratio(H, 'hakmem', 'hakmem-nochecks', `${H}: the release build's checks cost <= 3%: hakmem / hakmem-nochecks (issue 5)`, 1.03, 'no hakmem-nochecks row: run with --allocators ...,hakmem-nochecks'));
  // What an option costs against the defaults: reported, no limit.
  const cost = (peer: string, what: string, always: boolean) => {
    const a = rowOf(g(H), peer);
    const b = rowOf(g(H), 'hakmem');
    if (a && b) out.push({ what, measured: `${fmtNum(a.stats!.median / b.stats!.median)}x (${fmtNum(a.stats!.median)} / ${fmtNum(b.stats!.median)} ns/op)`, met: '—' });
    else if (always) out.push({ what, ...notIn(`no ${peer} row: run with --allocators ...,${peer}`) });
  };
  cost('hakmem-secure', `${H}: cost of secure: true, hakmem-secure / hakmem (issue 5: reported, no limit)`, true);
  cost('hakmem-array', `${H}: cost of memory: 'array' (a resizable ArrayBuffer), hakmem-array / hakmem (reported, no limit)`, false);
  out.push(ratio(H, 'hakmem', /mimalloc/, `${H}: hakmem <= 1.0x native mimalloc (issue 4)`, 1.0, 'no native mimalloc peer in the record'));
  {
    const what = `${H}: hakmem >= 4x faster than AssemblyScript TLSF (issue 4)`;
    const a = rowOf(g(H), 'hakmem');
    const b = rowOf(g(H), /tlsf/);
    out.push(a && b ? { what, measured: `${fmtNum(b.stats!.median / a.stats!.median)}x faster`, met: b.stats!.median / a.stats!.median >= 4 ? 'yes' : 'no' } : { what, ...notIn('no TLSF peer in the record') });
  }
  {
    const what = 'A: hakmem >= 10x faster than Buffer.allocUnsafe (issue 2)';
    const per = (w?.record.groups ?? []).filter((x) => x.params.kind === 'A').flatMap((x) => {
      const a = rowOf(x, 'hakmem');
      const b = rowOf(x, 'buffer');
      return a && b ? [{ id: shortId(x), v: b.stats!.median / a.stats!.median }] : [];
    });
    out.push(per.length ? { what, measured: per.map((p) => `${p.id}: ${fmtNum(p.v)}x`).join('; '), met: per.every((p) => p.v >= 10) ? 'yes' : 'no' } : { what, ...notIn('no buffer row') });
  }
  const hw = (id: string, what: string, limit: number) => {
    const a = rowOf(g(id), 'hakmem');
    return a?.highWaterPerPeakLive ? { what, measured: `${fmtNum(a.highWaterPerPeakLive)}x`, met: a.highWaterPerPeakLive <= limit ? 'yes' : 'no' } : { what, ...notIn('no hakmem high-water') };
  };
  out.push(hw(B, `${B}: hakmem high-water <= 1.3x peak live (issue 2)`, 1.3));
  out.push(hw('C2 2000x16 seed 42', 'C2: hakmem high-water <= 1.5x peak live (issue 2)', 1.5));
  {
    // glibc measured in the same record (the C replayer, same verification) when it ran, else FORMAT.md's figure
    const measured = (t?.record.groups ?? []).some((x) => rowOf(x, 'native-glibc'));
    const what = `traces: hakmem ns/op <= native glibc on every single-thread trace (issue 4; glibc ${measured ? 'measured in the same record' : 'from FORMAT.md'})`;
    const per = (t?.record.groups ?? []).flatMap((x) => {
      const a = rowOf(x, 'hakmem');
      const glibc = measured ? rowOf(x, 'native-glibc')?.stats?.median : (x.params as { nativeGlibc?: number }).nativeGlibc;
      return a && glibc ? [{ id: x.id.replace(/^trace /, ''), v: a.stats!.median / glibc }] : [];
    });
    out.push(per.length ? { what, measured: per.map((p) => `${p.id} ${fmtNum(p.v)}x`).join(', '), met: per.every((p) => p.v <= 1) ? 'yes' : `no (${per.filter((p) => p.v > 1).length} of ${per.length} slower)` } : { what, ...notIn('no replay record') });
  }
  {
    const what = 'traces: hakmem high-water <= 1.3x peak live on every trace (issue 4)';
    const per = (t?.record.groups ?? []).flatMap((x) => {
      const a = rowOf(x, 'hakmem');
      return a?.highWaterPerPeakLive ? [{ id: x.id.replace(/^trace /, ''), v: a.highWaterPerPeakLive }] : [];
    });
    out.push(per.length ? { what, measured: per.map((p) => `${p.id} ${fmtNum(p.v)}x`).join(', '), met: per.every((p) => p.v <= 1.3) ? 'yes' : `no (${per.filter((p) => p.v > 1.3).length} of ${per.length} over)` } : { what, ...notIn('no replay record') });
  }
  {
    const what = 'the default `npm run bench` takes about a minute (issue 4)';
    const r = w?.record;
    const optIn = ((r?.options.allocators ?? []) as string[]).filter((a) => /^hakmem-(nochecks|secure|array)$|native-glibc|jemalloc|wasm-/.test(a));
    if (optIn.length) out.push({ what, ...notIn(`this record also ran the opt-in ${optIn.join(', ')}`) });
    else out.push(r?.options.set === 'default' && r.elapsedSeconds !== undefined
      ? { what, measured: `${Math.round(r.elapsedSeconds)} s of runs`, met: r.elapsedSeconds <= 90 ? 'yes' : 'no' }
      : { what, ...notIn('the record is not of the default set') });
  }
  return out;
}

/** the block's text, markers included, from these records */
export function renderBlock(records: LoadedRecord[]): string {
  const files = records.map((x) => `${LEDGER_REL}/${basename(x.file)}`);
  const out: string[] = [];
  out.push(`${BEGIN}: generated by \`npm run bench:report\` from ${files.join(' ')}; edit ${BLOCK_SOURCE_REL}, not this block -->`);
  out.push('');
  const w = records.find((x) => x.record.kind === 'workloads');
  const t = records.find((x) => x.record.kind === 'replay');
  if (w) out.push(...workloadsSection(w.file, w.record), '');
  if (t) out.push(...replaySection(t.file, t.record), '');
  for (const o of records.filter((x) => x !== w && x !== t)) out.push(...genericSection(o.file, o.record), '');
  out.push('### Against the targets');
  out.push('');
  out.push('Ratios of medians within one record (the records above); "not measured" where a record lacks the allocator.');
  out.push('');
  out.push('| target | measured | met |');
  out.push('|---|---|---|');
  for (const x of targets(w, t)) out.push(`| ${x.what} | ${x.measured} | ${x.met} |`);
  out.push('');
  out.push(`Every figure above, and every run behind it, is in the named ledger records; \`${REPORT_HTML_REL}\` has`);
  out.push('charts of them and of the whole ledger\'s history.');
  out.push('');
  out.push(END);
  return out.join('\n');
}

/** any other kind of record (e.g. larson): one table of medians per group */
function genericSection(file: string, r: LedgerRecord): string[] {
  const out = [`### ${r.kind}`, '', provenance(file, r), ''];
  for (const g of r.groups) {
    const { unit, scale } = display(g.unit, false);
    out.push(`${g.title} (${unit}, ${g.better} is better): ${g.rows.filter((x) => x.stats).map((x) => `${x.allocator} ${span(x, scale)}`).join('; ')}`);
    out.push('');
  }
  return out;
}

// ---- checking -----------------------------------------------------------------------------------

/** the README split around the generated block */
export function splitReadme(text: string): { before: string; block: string; after: string } | undefined {
  const i = text.indexOf(BEGIN);
  const j = text.indexOf(END);
  if (i < 0 || j < i) return undefined;
  return { before: text.slice(0, i), block: text.slice(i, j + END.length), after: text.slice(j + END.length) };
}

/** a ledger record named in the block's first line: its file name */
const CITED = new RegExp(`${LEDGER_REL.replace(/[/.]/g, (c) => `\\${c}`)}/([\\w.-]+\\.json)`, 'g');

/**
 * Blocks generated before the bench's folders were reorganized (issue 13) name the old paths of the
 * ledger records, of this file and of the HTML report; they are read as the new paths, so such a
 * README still passes the check until `npm run bench:report` regenerates its block. (The moved
 * names only: every figure is still compared.)
 */
const MOVED: [string, string][] = [
  ['bench/results/', `${LEDGER_REL}/`],
  ['bench/readme-perf.ts', BLOCK_SOURCE_REL],
  ['`bench/report.html`', `\`${REPORT_HTML_REL}\``],
];
function movedPaths(block: string): string {
  for (const [from, to] of MOVED) block = block.split(from).join(to);
  return block;
}

/** numbers with a performance unit: times per op, µs, ratios (1.72x), throughput, instruction counts */
export const PERF_FIGURE = /\b\d[\d,]*(?:\.\d+)?\s*(?:ns\/op|ns\b|µs|us\/|ms\/op|M?ops\/s|instructions per op)|\b\d+(?:\.\d+)?x\b/g;
const NUMBER = /\d[\d,]*(?:\.\d+)?/g;

/**
 * Problems with the README's performance figures (empty when every one is held by the ledger):
 * the block must name records that exist in `dir` and are sound, and must be exactly what those
 * records give; no performance figure may appear outside the block.
 */
export function checkReadme(text: string, dir = LEDGER_DIR): string[] {
  const problems: string[] = [];
  const parts = splitReadme(text);
  const outside = parts ? parts.before + '\n' + parts.after : text;
  outside.split('\n').forEach((line, i) => {
    const hits = line.match(PERF_FIGURE);
    if (hits) problems.push(`performance figure outside the generated block, held by no ledger record: ${hits.join(', ')} in "${line.trim().slice(0, 120)}" (line ${i + 1} outside the block)`);
  });
  if (!parts) return [...problems, `no generated performance block (${BEGIN} ... ${END}): run npm run bench:report`];
  const block = movedPaths(parts.block);
  const first = block.split('\n')[0];
  const files = [...first.matchAll(CITED)].map((m) => m[1]);
  if (files.length === 0) return [...problems, 'the block names no ledger record'];
  const records: LoadedRecord[] = [];
  for (const f of files) {
    const file = join(dir, f);
    if (!existsSync(file)) { problems.push(`the block cites ${LEDGER_REL}/${f}, which does not exist`); continue; }
    const record = JSON.parse(readFileSync(file, 'utf8')) as LedgerRecord;
    const bad = validateRecord(record);
    if (bad.length) problems.push(`${LEDGER_REL}/${f} is not a sound ledger record: ${bad.join('; ')}`);
    if (record.status !== 'complete') problems.push(`${LEDGER_REL}/${f} is not complete (status ${record.status})`);
    records.push({ file, record });
  }
  if (problems.length) return problems;
  const want = renderBlock(records).split('\n');
  const have = block.split('\n');
  for (let i = 0; i < Math.max(want.length, have.length); i++) {
    const h = have[i] ?? '';
    const w = want[i] ?? '';
    if (h === w) continue;
    const hn: string[] = h.match(NUMBER) ?? [];
    const wn: string[] = w.match(NUMBER) ?? [];
    const extra = hn.filter((n) => !wn.includes(n));
    problems.push(extra.length
      ? `README shows ${extra.join(', ')} on block line ${i + 1}, which the ledger records do not hold there; from ${files.join(', ')} that line reads: "${w.slice(0, 200)}"`
      : `block line ${i + 1} differs from what npm run bench:report generates: README "${h.slice(0, 120)}" vs "${w.slice(0, 120)}"`);
    if (problems.length >= 10) break;
  }
  return problems;
}
