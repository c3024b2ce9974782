// A self-contained HTML report of ledger records: one bar chart per workload (median bar, min-max
// whisker, a dot for every run), memory charts, a history chart across records, and each record's
// provenance. Inline SVG and CSS only: no script, no network.
import { relative } from 'node:path';
import { display, fmtNum, mib } from '../lib/format.ts';
import { ROOT } from '../lib/paths.ts';
import { LEDGER_REL, type LedgerGroup, type LedgerRecord, type LoadedRecord } from './ledger.ts';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const W = 760;
const LABEL = 120;
const VALUE = 150;
const PLOT = W - LABEL - VALUE;
const ROW = 22;

function color(allocator: string, ref?: string): string {
  return allocator === 'hakmem' ? '#d9480f' : allocator === ref ? '#1c7ed6' : allocator === 'noop' ? '#adb5bd' : '#868e96';
}

/** scale: log when the values are all positive and span more than 20x, else linear from 0 (a value of 0, e.g. a growth of 0%, has no log) */
function scaleOf(lo: number, hi: number): { x: (v: number) => number; ticks: number[]; log: boolean } {
  const log = lo > 0 && hi / lo > 20;
  if (log) {
    const a = Math.floor(Math.log10(lo));
    const b = Math.ceil(Math.log10(hi));
    const ticks: number[] = [];
    for (let e = a; e <= b; e++)
      for (const m of [1, 2, 5]) {
        const t = m * 10 ** e;
        if (t >= 10 ** a && t <= 10 ** b) ticks.push(t);
      }
    return { x: (v) => ((Math.log10(Math.max(v, 10 ** a)) - a) / (b - a || 1)) * PLOT, ticks, log };
  }
  const step = niceStep(hi / 5);
  const top = Math.ceil(hi / step) * step || 1;
  const ticks: number[] = [];
  for (let t = 0; t <= top + 1e-9; t += step) ticks.push(t);
  return { x: (v) => (v / top) * PLOT, ticks, log };
}
function niceStep(x: number): number {
  const e = 10 ** Math.floor(Math.log10(x || 1));
  const m = x / e;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * e;
}

function timeChart(g: LedgerGroup): string {
  const { unit, scale } = display(g.unit, false);
  const rows = g.rows.filter((r) => r.stats);
  if (!rows.length) return '<p>No results.</p>';
  const vals = rows.flatMap((r) => r.runs.map((v) => v * scale));
  const s = scaleOf(Math.min(...vals), Math.max(...vals));
  const h = rows.length * ROW + 42;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" role="img" aria-label="${esc(g.id)}">`,
  );
  for (const t of s.ticks) {
    const x = LABEL + s.x(t);
    parts.push(`<line x1="${x}" y1="4" x2="${x}" y2="${h - 30}" stroke="#e9ecef"/>`);
    parts.push(`<text x="${x}" y="${h - 18}" font-size="10" text-anchor="middle" fill="#666">${esc(fmtNum(t))}</text>`);
  }
  rows.forEach((r, i) => {
    const y = 6 + i * ROW;
    const st = r.stats!;
    const c = color(r.allocator, g.ref);
    parts.push(`<text x="${LABEL - 6}" y="${y + 13}" font-size="12" text-anchor="end">${esc(r.allocator)}</text>`);
    parts.push(
      `<rect x="${LABEL}" y="${y + 3}" width="${Math.max(1, s.x(st.median * scale))}" height="${ROW - 8}" fill="${c}" opacity="0.75"><title>${esc(`${r.allocator}: median ${fmtNum(st.median * scale)} ${unit}`)}</title></rect>`,
    );
    const y0 = y + ROW / 2 - 1;
    parts.push(
      `<line x1="${LABEL + s.x(st.min * scale)}" y1="${y0}" x2="${LABEL + s.x(st.max * scale)}" y2="${y0}" stroke="#212529" stroke-width="1.5"/>`,
    );
    for (const v of r.runs)
      parts.push(
        `<circle cx="${LABEL + s.x(v * scale)}" cy="${y0}" r="2.5" fill="#212529"><title>${esc(fmtNum(v * scale))}</title></circle>`,
      );
    const ratio = r.ratioToRef !== undefined && g.ref ? `  ${fmtNum(r.ratioToRef)}x` : '';
    parts.push(
      `<text x="${LABEL + PLOT + 8}" y="${y + 13}" font-size="11">${esc(`${fmtNum(st.median * scale)} ${unit}${ratio}${r.note ? ' *' : ''}`)}</text>`,
    );
  });
  parts.push(
    `<text x="${LABEL}" y="${h - 3}" font-size="10" fill="#666">${esc(`${unit}, ${s.log ? 'log scale, ' : ''}${g.better} is better; bar = median, line = min..max, dots = every run`)}</text>`,
  );
  parts.push('</svg>');
  return parts.join('');
}

function memoryChart(g: LedgerGroup): string {
  const rows = g.rows.filter((r) => r.highWaterPerPeakLive);
  if (!rows.length || !g.peakLiveBytes) return '';
  const hi = Math.max(...rows.map((r) => r.highWaterPerPeakLive!));
  const s = scaleOf(Math.min(...rows.map((r) => r.highWaterPerPeakLive!)), hi);
  const h = rows.length * ROW + 42;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" role="img" aria-label="memory ${esc(g.id)}">`,
  ];
  for (const t of s.ticks) {
    const x = LABEL + s.x(t);
    parts.push(`<line x1="${x}" y1="4" x2="${x}" y2="${h - 30}" stroke="${t === 1 ? '#495057' : '#e9ecef'}"/>`);
    parts.push(`<text x="${x}" y="${h - 18}" font-size="10" text-anchor="middle" fill="#666">${esc(fmtNum(t))}x</text>`);
  }
  rows.forEach((r, i) => {
    const y = 6 + i * ROW;
    parts.push(`<text x="${LABEL - 6}" y="${y + 13}" font-size="12" text-anchor="end">${esc(r.allocator)}</text>`);
    parts.push(
      `<rect x="${LABEL}" y="${y + 3}" width="${Math.max(1, s.x(r.highWaterPerPeakLive!))}" height="${ROW - 8}" fill="${color(r.allocator, g.ref)}" opacity="0.75"/>`,
    );
    const approx = r.highWaterKind === 'sampled' ? '~' : '';
    parts.push(
      `<text x="${LABEL + PLOT + 8}" y="${y + 13}" font-size="11">${esc(`${approx}${fmtNum(r.highWaterPerPeakLive!)}x (${approx}${mib(r.highWaterBytes!)} MiB)`)}</text>`,
    );
  });
  parts.push(
    `<text x="${LABEL}" y="${h - 3}" font-size="10" fill="#666">${esc(`heap high-water / peak live bytes (${mib(g.peakLiveBytes)} MiB)${s.log ? ', log scale' : ''}; 1x = no overhead, lower is better; ~ = sampled`)}</text>`,
  );
  parts.push('</svg>');
  return parts.join('');
}

/** hakmem's median / the reference's median, per record that has the group, in date order */
function historyChart(id: string, points: { label: string; ratio: number }[], ref: string): string {
  const h = 190;
  const left = 50;
  const pw = W - left - 20;
  const hi = Math.max(...points.map((p) => p.ratio), 1) * 1.1;
  const y = (v: number) => 10 + (1 - v / hi) * (h - 60);
  const x = (i: number) => left + (points.length === 1 ? pw / 2 : (i / (points.length - 1)) * pw);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" role="img" aria-label="history ${esc(id)}">`,
  ];
  const step = niceStep(hi / 4);
  for (let t = 0; t <= hi; t += step) {
    parts.push(
      `<line x1="${left}" y1="${y(t)}" x2="${left + pw}" y2="${y(t)}" stroke="${Math.abs(t - 1) < 1e-9 ? '#495057' : '#e9ecef'}"/>`,
    );
    parts.push(`<text x="${left - 4}" y="${y(t) + 3}" font-size="10" text-anchor="end" fill="#666">${esc(fmtNum(t))}x</text>`);
  }
  parts.push(
    `<polyline fill="none" stroke="#d9480f" stroke-width="2" points="${points.map((p, i) => `${x(i)},${y(p.ratio)}`).join(' ')}"/>`,
  );
  points.forEach((p, i) => {
    parts.push(
      `<circle cx="${x(i)}" cy="${y(p.ratio)}" r="3.5" fill="#d9480f"><title>${esc(`${p.label}: ${fmtNum(p.ratio)}x`)}</title></circle>`,
    );
    const anchor = points.length > 1 && i === 0 ? 'start' : points.length > 1 && i === points.length - 1 ? 'end' : 'middle';
    parts.push(`<text x="${x(i)}" y="${h - 34}" font-size="9" text-anchor="${anchor}" fill="#666">${esc(p.label)}</text>`);
  });
  parts.push(
    `<text x="${left}" y="${h - 8}" font-size="10" fill="#666">${esc(`hakmem median / ${ref} median in the same record; lower is better; (busy) = other processes used > 25% of the CPUs`)}</text>`,
  );
  parts.push('</svg>');
  return parts.join('');
}

function rel(file: string): string {
  return relative(ROOT, file);
}

function provenance(file: string, r: LedgerRecord): string {
  const g = r.git.commit
    ? `${r.git.commit.slice(0, 12)}${r.git.dirty === null ? ' (dirty state not recorded)' : r.git.dirty ? ` + uncommitted changes: ${r.git.dirtyPaths.join(', ')}` : ' (clean)'}`
    : (r.git.note ?? 'unknown');
  const env = r.env
    ? (Object.keys(r.env.set).length
        ? Object.entries(r.env.set)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')
        : 'none set') + ` (${r.env.note})`
    : 'not recorded';
  const rows: [string, string][] = [
    ['file', rel(file)],
    ['kind', `${r.kind} (${r.status})`],
    ['date', r.date],
    ['command', r.command],
    ['git', g],
    ['node', `${r.node}${r.v8 ? ` (V8 ${r.v8})` : ''}`],
    ['CPU', r.cpu ? `${r.cpu.model} x${r.cpu.cores}` : 'not recorded'],
    ['OS', r.os ? `${r.os.platform} ${r.os.release ?? '(release not recorded)'} ${r.os.arch}` : 'not recorded'],
    ['seeds', r.seeds.length ? r.seeds.join(', ') : 'none'],
    ['environment', env],
    ['options', JSON.stringify(r.options)],
  ];
  if (r.elapsedSeconds !== undefined) rows.push(['took', `${Math.round(r.elapsedSeconds)} s`]);
  if (r.load) rows.push(['other CPU use', `${Math.round(r.load.before * 100)}% before, ${Math.round(r.load.after * 100)}% after`]);
  if (r.converted) rows.push(['converted', `from ${r.converted.from}: ${r.converted.note}`]);
  return `<table class="prov">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

function numbers(g: LedgerGroup): string {
  const { unit, scale } = display(g.unit, false);
  const head = [
    'allocator',
    `median ${unit}`,
    'min',
    'max',
    g.ref ? `vs ${g.ref}` : '',
    'every run',
    'high-water MiB',
    '/ peak live',
    'note',
  ];
  const body = g.rows.map((r) => {
    if (!r.stats)
      return `<tr><td>${esc(r.allocator)}</td><td colspan="8">${esc(r.skipped ?? (r.errors?.length ? `FAILED: ${r.errors[0]}` : 'no result'))}</td></tr>`;
    const approx = r.highWaterKind === 'sampled' ? '~' : '';
    const cells = [
      fmtNum(r.stats.median * scale),
      fmtNum(r.stats.min * scale),
      fmtNum(r.stats.max * scale),
      r.ratioToRef !== undefined ? `${fmtNum(r.ratioToRef)}x` : '',
      r.runs.map((v) => fmtNum(v * scale)).join(' '),
      r.highWaterBytes ? approx + mib(r.highWaterBytes) : '',
      r.highWaterPerPeakLive ? `${approx}${fmtNum(r.highWaterPerPeakLive)}x` : '',
      [r.note, r.errors?.length ? `${r.errors.length} failed runs: ${r.errors[0]}` : ''].filter(Boolean).join('; '),
    ];
    return `<tr><td>${esc(r.allocator)}</td>${cells.map((c) => `<td class="n">${esc(c)}</td>`).join('')}</tr>`;
  });
  return `<table class="nums"><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${body.join('')}</table>`;
}

export interface HtmlOptions {
  title: string;
  /** an introduction (HTML) */
  intro?: string;
  /** all records, for the history charts (same kind and group id as the shown ones) */
  history?: LoadedRecord[];
}

export function renderHtml(shown: LoadedRecord[], opts: HtmlOptions): string {
  const out: string[] = [];
  out.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(opts.title)}</title><style>
body{font:14px/1.45 system-ui,sans-serif;max-width:${W + 40}px;margin:2em auto;color:#212529;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #dee2e6}h3{font-size:1.05em;margin-top:1.6em}
table{border-collapse:collapse;font-size:12px;margin:.5em 0}td,th{border:1px solid #dee2e6;padding:2px 6px;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}.prov th{text-align:left;background:#f8f9fa;white-space:nowrap}
.prov td{word-break:break-word}p.small{color:#495057;font-size:12px}
</style></head><body><h1>${esc(opts.title)}</h1>`);
  if (opts.intro) out.push(opts.intro);
  out.push(
    `<p class="small">Generated from the bench ledger (${LEDGER_REL}/*.json) only. Lower time is better; hakmem in orange, the reference allocator in blue.</p>`,
  );
  for (const { file, record } of shown) {
    out.push(
      `<h2>${esc(record.kind)}: ${esc(record.date.slice(0, 16).replace('T', ' '))} UTC, ${esc(record.git.commit?.slice(0, 7) ?? '?')}</h2>`,
    );
    out.push(provenance(file, record));
    for (const g of record.groups) {
      out.push(`<h3>${esc(g.title)}</h3>`);
      out.push(timeChart(g));
      const m = memoryChart(g);
      if (m) out.push(m);
      out.push(numbers(g));
      if (opts.history) {
        const pts = opts.history
          .filter((h) => h.record.kind === record.kind && h.record.status === 'complete')
          .flatMap((h) => {
            const hg = h.record.groups.find((x) => x.id === g.id);
            const ratio = hg?.rows.find((r) => r.allocator === 'hakmem')?.ratioToRef;
            const busy = h.record.load && Math.max(h.record.load.before, h.record.load.after) > 0.25 ? ' (busy)' : '';
            return hg && ratio !== undefined && hg.ref === g.ref
              ? [{ label: `${h.record.date.slice(5, 10)} ${h.record.git.commit?.slice(0, 7) ?? ''}${busy}`, ratio }]
              : [];
          });
        if (pts.length >= 2 && g.ref) {
          out.push(
            `<p class="small">History of hakmem against ${esc(g.ref)} on this workload, every complete ${esc(record.kind)} record in the ledger:</p>`,
          );
          out.push(historyChart(g.id, pts, g.ref));
        }
      }
    }
  }
  out.push('</body></html>');
  return out.join('\n') + '\n';
}
