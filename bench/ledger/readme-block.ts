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
import {
  LEDGER_DIR,
  LEDGER_REL,
  validateRecord,
  type LedgerGroup,
  type LedgerRecord,
  type LedgerRow,
  type LoadedRecord,
} from './ledger.ts';

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

/** the record kinds docs/benchmarks.md shows, in its order */
export const KINDS = ['workloads', 'replay', 'larson', 'latency', 'phase', 'trace-mt'];

/** the records the README shows: per kind, the newest complete, quiet one with >= 5 runs from a clean source (workloads: of the default set if there is one) */
export function selectRecords(ledger: LoadedRecord[]): LoadedRecord[] {
  const out: LoadedRecord[] = [];
  for (const kind of KINDS) {
    const ok = ledger.filter(
      ({ record: r }) =>
        r.kind === kind &&
        r.status === 'complete' &&
        Number(r.options.runs) >= 5 &&
        sourceClean(r) &&
        quiet(r) &&
        validateRecord(r).length === 0 &&
        (kind !== 'workloads' ||
          (r.options.set !== 'quick' && r.groups.some((g) => g.rows.some((x) => x.allocator === 'hakmem' && x.stats)))),
    );
    // workloads: the README's section is `npm run bench`, so a record of the default set comes first
    const pick =
      kind === 'workloads' && ok.some(({ record: r }) => r.options.set === 'default')
        ? ok.filter(({ record: r }) => r.options.set === 'default')
        : ok;
    if (pick.length) out.push(pick[pick.length - 1]);
  }
  return out;
}

// ---- rendering ----------------------------------------------------------------------------------

const span = (r: LedgerRow, scale: number) =>
  `${fmtNum(r.stats!.median * scale)} (${fmtNum(r.stats!.min * scale)}–${fmtNum(r.stats!.max * scale)})`;
const rowOf = (g: LedgerGroup | undefined, name: string | RegExp) =>
  g?.rows.find((r) => (typeof name === 'string' ? r.allocator === name : name.test(r.allocator)) && r.stats);

function provenance(file: string, r: LedgerRecord): string {
  const c = r.git.commit ? r.git.commit.slice(0, 7) : 'unknown';
  const state =
    r.git.dirty === false
      ? 'clean tree'
      : r.git.dirty === true
        ? `uncommitted changes outside the measured code: ${r.git.dirtyPaths.slice(0, 3).join(', ')}`
        : r.git.note?.includes('src/ was clean')
          ? 'src/ clean; rest of the tree not recorded'
          : 'tree state not recorded';
  const machine = `${r.cpu ? `${r.cpu.model} x${r.cpu.cores}` : 'CPU not recorded'}${r.os ? `, ${r.os.platform} ${r.os.arch}` : ''}, Node ${r.node}`;
  return (
    `Record \`${LEDGER_REL}/${basename(file)}\`: ${r.date.slice(0, 16).replace('T', ' ')} UTC, ${machine}, source ${c} (${state}); ` +
    `command \`${r.command}\`; ${r.options.runs} runs per cell, each a fresh process, interleaved, order rotated` +
    `${r.elapsedSeconds !== undefined ? `; took ${Math.round(r.elapsedSeconds)} s` : ''}.`
  );
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
  out.push('### Workloads A, C1 and C2 (`npm run bench`)');
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
  out.push(
    `| hakmem / ${ref} | ${groups
      .map((g) => {
        const x = rowOf(g, 'hakmem');
        return x?.ratioToRef !== undefined ? `${fmtNum(x.ratioToRef)}x` : '—';
      })
      .join(' | ')} |`,
  );
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
  out.push("Each trace (`../shared/traces`) is parsed first, untimed, then replayed; every block's contents are");
  out.push('verified (a pattern at both ends, checked at free and realloc). Time per operation, median of the runs');
  out.push("(fastest–slowest); lower is better. The native figures are the C replayer's medians from the");
  out.push("traces' FORMAT.md (measured on this machine type), not measured by this run.");
  out.push('');
  out.push(provenance(file, r));
  out.push('');
  const others = [...new Set(r.groups.flatMap((g) => g.rows.map((x) => x.allocator)))].filter((n) => n !== 'hakmem');
  out.push(
    `| trace | ops | **hakmem** ns/op | ${others.map((n) => `${n} ns/op`).join(' | ')} | native glibc / mimalloc ns/op | hakmem / glibc | hakmem high-water / peak live | verify failures |`,
  );
  out.push(`|---|---|---|${others.map(() => '---|').join('')}---|---|---|---|`);
  for (const g of r.groups) {
    const h = rowOf(g, 'hakmem');
    const p = g.params as { ops?: number; nativeGlibc?: number; nativeMimalloc?: number };
    const glibc = p.nativeGlibc;
    const fails = g.rows.reduce((a, x) => a + (x.verifyFailures ?? []).reduce((b, c) => b + c, 0), 0);
    out.push(
      `| ${g.id.replace(/^trace /, '')} | ${p.ops?.toLocaleString('en-US') ?? '—'} | ${h ? span(h, 1) : '—'} | ` +
        `${others
          .map((n) => {
            const x = rowOf(g, n);
            return x ? span(x, 1) : '—';
          })
          .join(' | ')} | ` +
        `${glibc !== undefined ? `${fmtNum(glibc)} / ${fmtNum(p.nativeMimalloc!)}` : '—'} | ` +
        `${h && glibc ? `${fmtNum(h.stats!.median / glibc)}x` : '—'} | ` +
        `${h?.highWaterPerPeakLive ? `${fmtNum(h.highWaterPerPeakLive)}x (${mib(h.highWaterBytes!)} / ${mib(g.peakLiveBytes!)} MiB)` : '—'} | ${fails} |`,
    );
  }
  return out;
}

interface Target {
  what: string;
  measured: string;
  met: string;
}

/** The open issues' targets, each from the records shown (ratios of medians within one record). */
function targets(records: LoadedRecord[]): Target[] {
  const out: Target[] = [];
  const rec = (kind: string) => records.find((x) => x.record.kind === kind)?.record;
  const w = rec('workloads');
  const t = rec('replay');
  const l = rec('larson');
  const lat = rec('latency');
  const ph = rec('phase');
  const g = (r: LedgerRecord | undefined, id: string | RegExp) =>
    r?.groups.find((x) => (typeof id === 'string' ? x.id === id : id.test(x.id)));
  const no = (what: string, why: string): Target => ({ what, measured: `not measured (${why})`, met: '—' });
  const med = (r: LedgerRecord | undefined, id: string | RegExp, name: string | RegExp) => rowOf(g(r, id), name)?.stats?.median;
  /** a / b <= limit (lower is better: times), or a / b >= limit with `atLeast` (throughput) */
  const ratio = (
    what: string,
    a: number | undefined,
    b: number | undefined,
    limit: number,
    unit: string,
    why: string,
    atLeast = false,
  ): Target => {
    if (a === undefined || b === undefined) return no(what, why);
    const v = a / b;
    return {
      what,
      measured: `${fmtNum(v)}x (${fmtNum(a)} / ${fmtNum(b)} ${unit})`,
      met: (atLeast ? v >= limit : v <= limit) ? 'yes' : 'no',
    };
  };
  const every = (
    what: string,
    per: { id: string; v: number }[],
    limit: number,
    why: string,
    fmt = (v: number) => `${fmtNum(v)}x`,
  ): Target =>
    per.length
      ? {
          what,
          measured: per.map((p) => `${p.id} ${fmt(p.v)}`).join(', '),
          met: per.every((p) => p.v <= limit) ? 'yes' : `no (${per.filter((p) => p.v > limit).length} of ${per.length})`,
        }
      : no(what, why);
  const H = 'A 10Mx8192 seed 42 rand2';
  const B = 'A 2Mx65536 seed 42 rand';
  // issue 11: user form
  out.push(
    ratio(
      `${H}: user form costs <= 5% over a cached view, hakmem / hakmem-cached (issue 11)`,
      med(w, H, 'hakmem'),
      med(w, H, 'hakmem-cached'),
      1.05,
      'ns/op',
      'no hakmem-cached row',
    ),
  );
  for (const n of [1, 2]) {
    out.push(
      ratio(
        `larson ${n} thread${n > 1 ? 's' : ''}: user form within 5% of a cached view, hakmem-cached / hakmem (issue 11)`,
        med(l, `B larson ${n}T`, 'hakmem-cached'),
        med(l, `B larson ${n}T`, 'hakmem'),
        1.05,
        'Mops/s',
        'no larson record with hakmem and hakmem-cached',
      ),
    );
  }
  out.push(
    ratio(
      'larson: 2 threads give >= 2x the throughput of one, hakmem (issue 11)',
      med(l, 'B larson 2T', 'hakmem'),
      med(l, 'B larson 1T', 'hakmem'),
      2,
      'Mops/s',
      'no larson record with 1 and 2 threads',
      true,
    ),
  );
  const perTrace = (mode: 'cold' | 'warm') =>
    (t?.groups ?? [])
      .filter((x) => (mode === 'warm') === x.id.endsWith(' warm'))
      .flatMap((x) => {
        const a = rowOf(x, 'hakmem')?.stats?.median;
        const b = rowOf(x, 'tlsf')?.stats?.median;
        return a !== undefined && b !== undefined ? [{ id: String(x.params.trace), v: a / b }] : [];
      });
  out.push(every('traces cold: hakmem <= 1.0x TLSF on every trace (issue 11)', perTrace('cold'), 1.0, 'no replay record with tlsf'));
  out.push(every('traces warm: hakmem <= 0.8x TLSF on every trace (issue 11)', perTrace('warm'), 0.8, 'no warm replay with tlsf'));
  {
    const per = (t?.groups ?? [])
      .filter((x) => !x.id.endsWith(' warm'))
      .flatMap((x) => {
        const a = rowOf(x, 'hakmem');
        const limit = (x.peakLiveBytes ?? 0) < 8 * 1048576 ? 1.5 : 1.3;
        return a?.highWaterPerPeakLive
          ? [{ id: String(x.params.trace), v: a.highWaterPerPeakLive / limit, shown: a.highWaterPerPeakLive, limit }]
          : [];
      });
    const what = 'traces: hakmem high-water <= 1.3x peak live (<= 1.5x when peak live < 8 MiB) (issue 11)';
    out.push(
      per.length
        ? {
            what,
            measured: per.map((p) => `${p.id} ${fmtNum(p.shown)}x (limit ${p.limit})`).join(', '),
            met: per.every((p) => p.v <= 1) ? 'yes' : `no (${per.filter((p) => p.v > 1).length} of ${per.length})`,
          }
        : no(what, 'no replay record'),
    );
  }
  out.push(
    every(
      'a trace replayed 4 times on one heap: high-water growth after pass 1 <= 5%, hakmem (issue 11)',
      (ph?.groups ?? [])
        .filter((x) => / growth$/.test(x.id))
        .flatMap((x) => {
          const r = rowOf(x, 'hakmem');
          return r ? [{ id: String(x.params.trace), v: r.stats!.median }] : [];
        }),
      5,
      'no phase record (bench/trace/phase/run.ts) with hakmem',
      (v) => `${fmtNum(v)}%`,
    ),
  );
  // issue 12: the front end
  out.push(
    ratio(
      `${H}: hakmem with a cached view <= 1.15x the floor (issue 12)`,
      med(w, H, 'hakmem-cached'),
      med(w, H, 'floor'),
      1.15,
      'ns/op',
      'no hakmem-cached or floor row',
    ),
  );
  out.push(
    ratio(`${H}: hakmem (user form) <= 1.20x the floor (issue 12)`, med(w, H, 'hakmem'), med(w, H, 'floor'), 1.2, 'ns/op', 'no floor row'),
  );
  out.push(ratio(`${B}: hakmem <= 1.15x the floor (issue 12)`, med(w, B, 'hakmem'), med(w, B, 'floor'), 1.15, 'ns/op', 'no floor row'));
  out.push(
    ratio(
      `${H}: hakmem <= 1.05x native mimalloc (issue 12)`,
      med(w, H, 'hakmem'),
      med(w, H, /mimalloc/),
      1.05,
      'ns/op',
      'no native-mimalloc row',
    ),
  );
  out.push(
    ratio(
      'larson 2 threads: hakmem (user form) >= 0.9x the multi-thread floor (issue 12)',
      med(l, 'B larson 2T', 'hakmem'),
      med(l, 'B larson 2T', 'mt-floor'),
      0.9,
      'Mops/s',
      'no larson record with mt-floor',
      true,
    ),
  );
  {
    const what = 'tail latency: p99.99 of one malloc or free <= 20 us, hakmem (issue 12)';
    const gr = g(lat, /^latency p99\.99 /);
    const per = (gr?.rows ?? [])
      .filter((x) => /^hakmem/.test(x.allocator) && !x.allocator.endsWith('+touched') && x.stats)
      .map((x) => ({ id: x.allocator, v: x.stats!.median }));
    out.push(every(what, per, 20, 'no latency record', (v) => `${fmtNum(v)} us`));
  }
  // issue 14: modes
  const minimal = (id: string) => med(w, id, 'hakmem-minimal');
  out.push(
    ratio(
      `${H}: the default mode <= 1.03x minimal, hakmem / hakmem-minimal (issue 14)`,
      med(w, H, 'hakmem'),
      minimal(H),
      1.03,
      'ns/op',
      'no hakmem-minimal row',
    ),
  );
  {
    const what = 'workload P: learning beats the best static mode by >= 10% in time or high-water (issue 14)';
    const seq = g(ph, 'P sequence');
    const learn = rowOf(seq, /mode=learning$/);
    const statics = (seq?.rows ?? []).filter((x) => /^hakmem(\/mode=(minimal|fast|balanced))?$/.test(x.allocator) && x.stats);
    if (!learn || !statics.length) out.push(no(what, 'no phase record with hakmem/mode=learning and static modes'));
    else {
      const bestT = Math.min(...statics.map((x) => x.stats!.median));
      const bestH = Math.min(...statics.map((x) => x.highWaterBytes ?? Infinity));
      const dt = learn.stats!.median / bestT;
      const dh = (learn.highWaterBytes ?? Infinity) / bestH;
      out.push({
        what,
        measured: `time ${fmtNum(dt)}x, high-water ${fmtNum(dh)}x of the best static`,
        met: dt <= 0.9 || dh <= 0.9 ? 'yes' : 'no',
      });
    }
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
  for (const x of targets(records)) out.push(`| ${x.what} | ${x.measured} | ${x.met} |`);
  out.push('');
  out.push(`Every figure above, and every run behind it, is in the named ledger records; \`${REPORT_HTML_REL}\` has`);
  out.push("charts of them and of the whole ledger's history.");
  out.push('');
  out.push(END);
  return out.join('\n');
}

const KIND_TITLES: Record<string, string> = {
  larson: 'Larson: blocks handed between threads (workload B, `npm run larson`)',
  latency: 'Tail latency of single calls (`npm run bench:latency`)',
  phase: 'Workload P: real programs back to back on one heap (`bench/trace/phase/run.ts`)',
  'trace-mt': 'A multi-thread trace, one worker per trace thread (`bench/trace/mt/run.ts`)',
};

/** any other kind of record: one table, allocators by groups, median (fastest–slowest), then high-water */
function genericSection(file: string, r: LedgerRecord): string[] {
  const out = [`### ${KIND_TITLES[r.kind] ?? r.kind}`, '', provenance(file, r), ''];
  const groups = r.groups.filter((g) => g.rows.some((x) => x.stats));
  for (const g of groups) out.push(`- **${g.id}**: ${g.title}; ${display(g.unit, false).unit}, ${g.better} is better.`);
  out.push('');
  const names = [...new Set(groups.flatMap((g) => g.rows.map((x) => x.allocator)))];
  out.push(`| allocator | ${groups.map((g) => `${g.id} ${display(g.unit, false).unit}`).join(' | ')} |`);
  out.push(`|---|${groups.map(() => '---').join('|')}|`);
  for (const n of names) {
    const cells = groups.map((g) => {
      const x = g.rows.find((y) => y.allocator === n);
      if (!x?.stats) return x?.errors?.length ? 'failed' : '—';
      const ref = x.ratioToRef !== undefined && g.ref && g.ref !== n ? ` [${fmtNum(x.ratioToRef)}x ${g.ref}]` : '';
      return `${span(x, display(g.unit).scale)}${ref}`;
    });
    out.push(`| ${n === 'hakmem' ? '**hakmem**' : n} | ${cells.join(' | ')} |`);
  }
  const hw = groups.filter((g) => g.rows.some((x) => x.highWaterPerPeakLive));
  if (hw.length) {
    out.push('');
    out.push('Heap high-water (the largest of the runs) / peak live bytes:');
    out.push('');
    out.push(`| allocator | ${hw.map((g) => g.id).join(' | ')} |`);
    out.push(`|---|${hw.map(() => '---').join('|')}|`);
    for (const n of names) {
      const cells = hw.map((g) => {
        const x = g.rows.find((y) => y.allocator === n);
        return x?.highWaterPerPeakLive && x.highWaterBytes ? `${fmtNum(x.highWaterPerPeakLive)}x (${mib(x.highWaterBytes)} MiB)` : '—';
      });
      if (cells.some((c) => c !== '—')) out.push(`| ${n === 'hakmem' ? '**hakmem**' : n} | ${cells.join(' | ')} |`);
    }
  }
  return out;
}

/**
 * The README's short performance summary, from the same records: hakmem against the floor, native
 * mimalloc and TLSF where they ran, larson at 2 threads, the traces, the tail; docs/benchmarks.md
 * has the tables.
 */
export function renderSummary(records: LoadedRecord[]): string {
  const files = records.map((x) => `${LEDGER_REL}/${basename(x.file)}`);
  const out: string[] = [];
  out.push(`${BEGIN}: generated by \`npm run bench:report\` from ${files.join(' ')}; edit ${BLOCK_SOURCE_REL}, not this block -->`);
  out.push('');
  out.push('| workload (user form: block memory through `heap.u8[...]`) | hakmem | compared with |');
  out.push('|---|---|---|');
  const rec = (kind: string) => records.find((x) => x.record.kind === kind);
  const w = rec('workloads')?.record;
  const vs = (g: LedgerGroup | undefined, peers: (string | RegExp)[]) =>
    peers
      .flatMap((p) => {
        const h = rowOf(g, 'hakmem')?.stats?.median;
        const x = rowOf(g, p);
        return h !== undefined && x?.stats ? [`${x.allocator} ${fmtNum(x.stats.median)} (${fmtNum(h / x.stats.median)}x)`] : [];
      })
      .join('; ') || '—';
  for (const g of (w?.groups ?? []).filter((x) => x.params.kind === 'A')) {
    const h = rowOf(g, 'hakmem');
    if (h) out.push(`| ${g.id} (ns/op) | ${fmtNum(h.stats!.median)} | ${vs(g, ['floor', /mimalloc/, 'tlsf', 'buffer'])} |`);
  }
  const l = rec('larson')?.record;
  for (const g of l?.groups ?? []) {
    const h = rowOf(g, 'hakmem');
    if (h) out.push(`| ${g.id} (Mops/s, higher is better) | ${fmtNum(h.stats!.median)} | ${vs(g, ['mt-floor', 'hakmem-cached'])} |`);
  }
  const t = rec('replay')?.record;
  for (const g of t?.groups ?? []) {
    const h = rowOf(g, 'hakmem');
    if (h) out.push(`| ${g.id} (ns/op) | ${fmtNum(h.stats!.median)} | ${vs(g, ['tlsf', 'native-glibc', 'native-mimalloc'])} |`);
  }
  const lat = rec('latency')?.record;
  const p9999 = lat?.groups.find((g) => /^latency p99\.99 /.test(g.id));
  if (p9999) {
    const h = rowOf(p9999, 'hakmem');
    if (h) out.push(`| ${p9999.id} (us) | ${fmtNum(h.stats!.median)} | ${vs(p9999, ['floor', 'tlsf'])} |`);
  }
  out.push('');
  out.push('Medians of 5 or more fresh processes per cell, interleaved; (Nx) = hakmem / that allocator, below 1 = hakmem');
  out.push('faster (or, for Mops/s, slower). Every table, the spread of the runs, memory high-water and the targets:');
  out.push('[docs/benchmarks.md](docs/benchmarks.md).');
  out.push('');
  out.push(END);
  return out.join('\n');
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
  return checkDoc(text, dir, renderSummary);
}

/** checkReadme for docs/benchmarks.md: its block is the full one (renderBlock). */
export function checkBenchmarksDoc(text: string, dir = LEDGER_DIR): string[] {
  return checkDoc(text, dir, renderBlock);
}

function checkDoc(text: string, dir: string, render: (records: LoadedRecord[]) => string): string[] {
  const problems: string[] = [];
  const parts = splitReadme(text);
  const outside = parts ? parts.before + '\n' + parts.after : text;
  outside.split('\n').forEach((line, i) => {
    const hits = line.match(PERF_FIGURE);
    if (hits)
      problems.push(
        `performance figure outside the generated block, held by no ledger record: ${hits.join(', ')} in "${line.trim().slice(0, 120)}" (line ${i + 1} outside the block)`,
      );
  });
  if (!parts) return [...problems, `no generated performance block (${BEGIN} ... ${END}): run npm run bench:report`];
  const block = movedPaths(parts.block);
  const first = block.split('\n')[0];
  const files = [...first.matchAll(CITED)].map((m) => m[1]);
  if (files.length === 0) return [...problems, 'the block names no ledger record'];
  const records: LoadedRecord[] = [];
  for (const f of files) {
    const file = join(dir, f);
    if (!existsSync(file)) {
      problems.push(`the block cites ${LEDGER_REL}/${f}, which does not exist`);
      continue;
    }
    const record = JSON.parse(readFileSync(file, 'utf8')) as LedgerRecord;
    const bad = validateRecord(record);
    if (bad.length) problems.push(`${LEDGER_REL}/${f} is not a sound ledger record: ${bad.join('; ')}`);
    if (record.status !== 'complete') problems.push(`${LEDGER_REL}/${f} is not complete (status ${record.status})`);
    records.push({ file, record });
  }
  if (problems.length) return problems;
  const want = render(records).split('\n');
  const have = block.split('\n');
  for (let i = 0; i < Math.max(want.length, have.length); i++) {
    const h = have[i] ?? '';
    const w = want[i] ?? '';
    if (h === w) continue;
    const hn: string[] = h.match(NUMBER) ?? [];
    const wn: string[] = w.match(NUMBER) ?? [];
    const extra = hn.filter((n) => !wn.includes(n));
    problems.push(
      extra.length
        ? `README shows ${extra.join(', ')} on block line ${i + 1}, which the ledger records do not hold there; from ${files.join(', ')} that line reads: "${w.slice(0, 200)}"`
        : `block line ${i + 1} differs from what npm run bench:report generates: README "${h.slice(0, 120)}" vs "${w.slice(0, 120)}"`,
    );
    if (problems.length >= 10) break;
  }
  return problems;
}
