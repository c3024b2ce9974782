// Number and table formatting shared by the bench's text output, README section and HTML report.

/** 3 significant digits below 1000 (2.23, 17.8, 139), grouped integers above (16,573) */
export function fmtNum(x: number): string {
  return x >= 1000 ? Math.round(x).toLocaleString('en-US') : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}
export function mib(bytes: number): string {
  return fmtNum(bytes / 1048576);
}
export function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}
/** one decimal below 100, none from 100 (the drivers' tables: 81.6, 136) */
export function fmt1(x: number): string {
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}
export function fmtS(s: number): string {
  return s >= 100 ? `${Math.round(s)} s` : `${s.toFixed(1)} s`;
}
/** display unit and scale of a ledger unit: ns/cycle is shown as us/cycle */
export function display(unit: string, ascii = true): { unit: string; scale: number } {
  return unit === 'ns/cycle' ? { unit: ascii ? 'us/cycle' : 'µs/cycle', scale: 1 / 1000 } : { unit, scale: 1 };
}
/**
 * A plain-text table: the columns `left` picks (default: the first and the last) left-aligned, the
 * others right-aligned; rows of 2 cells span.
 */
export function formatTable(head: string[], rows: string[][], left = (i: number, n: number) => i === 0 || i === n - 1): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.filter((r) => r.length > 2).map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => {
    if (r.length === 2) return `  ${r[0].padEnd(widths[0])}  ${r[1]}`;
    return (
      '  ' +
      r
        .map((s, i) => (left(i, r.length) ? s.padEnd(widths[i]) : s.padStart(widths[i])))
        .join('  ')
        .trimEnd()
    );
  };
  return [fmt(head), '  ' + widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)];
}
