// npm run bench:report: regenerates the performance blocks of README.md (a short summary) and of
// docs/benchmarks.md (every table, the targets), and bench/ledger/report.html, from the ledger
// (bench/ledger/results/*.json) only; nothing is measured here.
//
//   node --import tsx bench/ledger/report.ts [--record FILE ...] [--readme README.md] [--doc docs/benchmarks.md] [--html bench/ledger/report.html] [--check]
//
// Records shown: per kind (workloads, replay, larson, latency, phase, trace-mt), the newest complete record with >= 5 runs (workloads:
// of the default set, the README's `npm run bench`, if there is one) whose
// measured code (src/, bench/, package files) was committed and during which other processes used
// at most 25% of the CPUs (when recorded); --record FILE picks them instead.
// --check changes nothing and exits 1 when README.md or docs/benchmarks.md shows a figure the ledger does not hold.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../lib/paths.ts';
import { renderHtml } from './html.ts';
import { LEDGER_DIR, loadLedger, validateRecord, type LedgerRecord, type LoadedRecord } from './ledger.ts';
import {
  checkBenchmarksDoc,
  checkReadme,
  renderBlock,
  renderSummary,
  REPORT_HTML_REL,
  selectRecords,
  splitReadme,
} from './readme-block.ts';

const { values: args } = parseArgs({
  options: {
    record: { type: 'string', multiple: true },
    readme: { type: 'string', default: join(ROOT, 'README.md') },
    doc: { type: 'string', default: join(ROOT, 'docs', 'benchmarks.md') },
    html: { type: 'string', default: join(ROOT, REPORT_HTML_REL) },
    check: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(
    readFileSync(new URL(import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('//'))
      .map((l) => l.slice(3))
      .join('\n'),
  );
  process.exit(0);
}

const readme = readFileSync(args.readme!, 'utf8');
const doc = readFileSync(args.doc!, 'utf8');
if (args.check) {
  const problems = [
    ...checkReadme(readme).map((p) => `README.md: ${p}`),
    ...checkBenchmarksDoc(doc).map((p) => `docs/benchmarks.md: ${p}`),
  ];
  for (const p of problems) console.log(`- ${p}`);
  console.log(
    problems.length
      ? `${problems.length} problem(s): run npm run bench:report`
      : 'README.md and docs/benchmarks.md performance figures: all held by the ledger',
  );
  process.exit(problems.length ? 1 : 0);
}

const ledger = loadLedger();
let shown: LoadedRecord[];
if (args.record?.length) {
  shown = args.record.map((f) => {
    const file = resolve(f);
    const record = JSON.parse(readFileSync(file, 'utf8')) as LedgerRecord;
    const bad = validateRecord(record);
    if (bad.length || record.status !== 'complete')
      throw new Error(`${f}: not a complete, sound ledger record: ${bad.join('; ') || record.status}`);
    if (relative(LEDGER_DIR, file).startsWith('..')) throw new Error(`${f}: not in ${LEDGER_DIR}`);
    return { file, record };
  });
} else {
  shown = selectRecords(ledger);
}
if (!shown.length) {
  console.error(
    `no usable ledger record in ${LEDGER_DIR} (complete, >= 5 runs, measured code committed, quiet machine): run npm run bench`,
  );
  process.exit(1);
}

/** the file's text with its block replaced by `block` (exits when the markers are missing) */
function withBlock(file: string, text: string, block: string): string {
  const parts = splitReadme(text);
  if (!parts) {
    console.error(`${file} has no "<!-- bench:report begin ... -->" / "<!-- bench:report end -->" markers: add them where the block goes`);
    process.exit(1);
  }
  return parts.before + block + parts.after;
}
const next = withBlock(args.readme!, readme, renderSummary(shown));
const nextDoc = withBlock(args.doc!, doc, renderBlock(shown));
if (next !== readme) writeFileSync(args.readme!, next);
if (nextDoc !== doc) writeFileSync(args.doc!, nextDoc);
writeFileSync(
  args.html!,
  renderHtml(shown, {
    title: 'hakmem performance, from the bench ledger',
    intro: `<p>The records the README shows (${shown.map((s) => relative(ROOT, s.file)).join(', ')}), and under each workload hakmem's history across every complete record of the ledger (${ledger.length} records).</p>`,
    history: ledger,
  }),
);
console.log(
  `README summary ${next === readme ? 'unchanged' : 'updated'} (${relative(process.cwd(), args.readme!)}), docs ${nextDoc === doc ? 'unchanged' : 'updated'} (${relative(process.cwd(), args.doc!)}), from ${shown.map((s) => relative(ROOT, s.file)).join(', ')}`,
);
console.log(`HTML report: ${relative(process.cwd(), args.html!)}`);
const problems = [...checkReadme(next), ...checkBenchmarksDoc(nextDoc)];
if (problems.length) {
  for (const p of problems) console.log(`- ${p}`);
  process.exit(1);
}
