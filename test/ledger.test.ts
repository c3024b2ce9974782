// The evidence ledger (bench/results/*.json): every record is sound, the README's performance
// figures are all held by ledger records (and the check does catch a figure that is not), and a
// bench run and a trace replay each write a complete record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ENV_NAMES, ENV_PREFIXES, LEDGER_DIR, loadLedger, SCHEMA, validateRecord, type LedgerRecord } from '../bench/ledger/ledger.ts';
import { renderHtml } from '../bench/ledger/html.ts';
import { BEGIN, checkBenchmarksDoc, checkReadme, END, PERF_FIGURE, splitReadme } from '../bench/ledger/readme-block.ts';

const root = resolve(import.meta.dirname, '..');
const README = readFileSync(join(root, 'README.md'), 'utf8');

test('every file in bench/results/*.json is a sound ledger record', () => {
  const files = readdirSync(LEDGER_DIR).filter((f) => f.endsWith('.json'));
  assert.ok(files.length > 0, 'the ledger is empty');
  const loaded = loadLedger();
  assert.equal(loaded.length, files.length, 'some bench/results/*.json files are not ledger records (schema ' + SCHEMA + ')');
  for (const { file, record } of loaded) {
    assert.deepEqual(validateRecord(record), [], file);
    assert.match(file, /\d{4}-\d\d-\d\d-\d{6}-[a-z0-9-]+\.json$/, 'records are named <date>-<time>-<kind>.json');
  }
});

test('the HTML report renders every complete record of the ledger (a group with a 0 value included)', () => {
  const ledger = loadLedger().filter((r) => r.record.status === 'complete');
  assert.ok(ledger.length > 0);
  for (const r of ledger) {
    const html = renderHtml([r], { title: 't' });
    assert.ok(html.trimEnd().endsWith('</html>') && html.length < 5_000_000, `${r.file}: ${html.length} characters`);
  }
});

test('the README shows no performance figure that no ledger record holds', () => {
  assert.ok(splitReadme(README), 'README has no generated performance block');
  const problems = checkReadme(README);
  assert.deepEqual(problems, [], 'run npm run bench:report (and commit the ledger record it cites)');
});

test('docs/benchmarks.md shows no performance figure that no ledger record holds', () => {
  const doc = readFileSync(join(root, 'docs', 'benchmarks.md'), 'utf8');
  assert.ok(splitReadme(doc), 'docs/benchmarks.md has no generated block');
  assert.deepEqual(checkBenchmarksDoc(doc), [], 'run npm run bench:report (and commit the ledger record it cites)');
  // and it can fail: a hand-written figure outside its block
  const edited = checkBenchmarksDoc(doc + '\nhakmem does 12.5 ns/op.\n');
  assert.equal(edited.length, 1, edited.join('\n'));
});

// The check above must be able to fail: feed it READMEs with figures the ledger does not hold.
test('the README check catches a figure the ledger does not hold', () => {
  const parts = splitReadme(README)!;
  const lines = parts.block.split('\n');
  // a table row of the block with a decimal figure: change that figure by one in its last digit
  const at = lines.findIndex((l) => l.startsWith('| ') && /\d+\.\d+/.test(l) && !l.startsWith('| peak live'));
  assert.ok(at > 0, 'the block has no table row with a figure');
  const fig = /(\d+)\.(\d+)/.exec(lines[at])!;
  const bogus = `${fig[1]}.${String((Number(fig[2]) + 1) % 10 ** fig[2].length).padStart(fig[2].length, '0')}`;
  lines[at] = lines[at].replace(fig[0], bogus);
  const edited = parts.before + lines.join('\n') + parts.after;
  const problems = checkReadme(edited);
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0], new RegExp(`README shows ${bogus.replace('.', '\\.')}\\b`));

  // a hand-written figure outside the block
  assert.ok(README.includes('\n## License'), 'the README has a License section to write before');
  const outside = checkReadme(README.replace('\n## License', '\nhakmem does 12.5 ns/op and is 1.05x the floor.\n\n## License'));
  assert.equal(outside.length, 1, outside.join('\n'));
  assert.match(outside[0], /outside the generated block.*12\.5 ns\/op, 1\.05x/);

  // a block citing a record that is not in the ledger, and a README without the block
  const missing = checkReadme(README.replace(/results\/([\w-]+)-workloads\.json/, 'results/1999-01-01-000000-workloads.json'));
  assert.ok(
    missing.some((p) => /1999-01-01-000000-workloads\.json, which does not exist/.test(p)),
    missing.join('\n'),
  );
  assert.ok(checkReadme(parts.before + parts.after).some((p) => p.includes('no generated performance block')));
});

test('the README check catches a record whose figures were edited', () => {
  // copy the cited records to a scratch ledger, change one run's figure there: the stored median no
  // longer matches the runs (validateRecord), and a consistent edit no longer matches the README
  const dir = mkdtempSync(join(tmpdir(), 'hakmem-ledger-'));
  const cited = [
    ...splitReadme(README)!
      .block.split('\n')[0]
      .matchAll(/results\/([\w.-]+\.json)/g),
  ].map((m) => m[1]);
  for (const f of cited) copyFileSync(join(LEDGER_DIR, f), join(dir, f));
  assert.deepEqual(checkReadme(README, dir), []);
  const f = cited[0];
  const rec = JSON.parse(readFileSync(join(dir, f), 'utf8')) as LedgerRecord;
  const row = rec.groups[0].rows.find((r) => r.allocator === 'hakmem' && r.stats)!;
  row.runs = row.runs.map((x) => x * 2);
  writeFileSync(join(dir, f), JSON.stringify(rec));
  assert.ok(checkReadme(README, dir).some((p) => /stored median\/min\/max are not those of its runs/.test(p)));
  row.stats = { median: row.stats!.median * 2, min: row.stats!.min * 2, max: row.stats!.max * 2 };
  row.ratioToRef = row.ratioToRef! * 2;
  writeFileSync(join(dir, f), JSON.stringify(rec));
  assert.ok(checkReadme(README, dir).some((p) => /^README shows /.test(p)));
});

test('the performance-figure pattern matches units and ratios, not sizes or parameters', () => {
  const hits = (s: string) => s.match(PERF_FIGURE) ?? [];
  assert.deepEqual(hits('17.8 ns/op, 15.5 µs, 1.72x, 361 Mops/s, 148 instructions per op'), [
    '17.8 ns/op',
    '15.5 µs',
    '1.72x',
    '361 Mops/s',
    '148 instructions per op',
  ]);
  assert.deepEqual(hits('64 KiB, 1 GiB, 2^30, A 10Mx8192, ws 256, seed 42, AMD EPYC x2, 0x1F'), []);
  assert.ok(README.includes(BEGIN) && README.includes(END));
});

/** runs a bench script with its ledger in a scratch folder; returns the one record it wrote */
function benchRecord(script: string, args: string[]): { record: LedgerRecord; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hakmem-ledger-'));
  const stdout = execFileSync(process.execPath, ['--import', 'tsx', join(root, 'bench', script), ...args, '--ledger', dir], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', HAKMEM_TEST_MARK: 'x' },
  });
  const files = readdirSync(dir);
  assert.equal(files.length, 1, `one record expected, found ${files.join(', ')}`);
  return { record: JSON.parse(readFileSync(join(dir, files[0]), 'utf8')) as LedgerRecord, stdout };
}

function assertProvenance(r: LedgerRecord, script: string) {
  assert.equal(r.schema, SCHEMA);
  assert.equal(r.status, 'complete');
  assert.deepEqual(validateRecord(r), []);
  assert.ok(r.git.commit === null || /^[0-9a-f]{40}$/.test(r.git.commit), String(r.git.commit));
  assert.equal(typeof r.git.dirty, r.git.commit ? 'boolean' : 'object');
  assert.equal(r.node, process.version);
  assert.ok(r.cpu && r.cpu.cores > 0 && r.cpu.model.length > 0);
  assert.ok(r.os?.platform && r.os.arch);
  assert.ok(r.command.includes(script), r.command);
  assert.ok(r.argv.some((a) => a.endsWith(script)));
  assert.ok(r.env?.note.includes('reads no environment variables'));
  assert.equal(r.env!.set.HAKMEM_TEST_MARK, 'x');
  assert.equal(r.env!.set.NODE_OPTIONS, '');
  for (const k of Object.keys(r.env!.set)) assert.ok(ENV_NAMES.includes(k) || ENV_PREFIXES.some((p) => k.startsWith(p)), k);
  assert.ok(typeof r.elapsedSeconds === 'number' && r.elapsedSeconds > 0);
}

test('a bench run writes a complete ledger record with every run', () => {
  const { record: r, stdout } = benchRecord('synthetic/run.ts', ['--quick', '--runs', '2', '--allocators', 'noop']);
  assertProvenance(r, 'bench/synthetic/run.ts');
  assert.equal(r.kind, 'workloads');
  assert.equal(r.options.runs, 2);
  assert.equal(r.options.set, 'quick');
  assert.deepEqual(r.seeds, [42]);
  assert.deepEqual(
    r.groups.map((g) => g.id),
    ['A 10Mx8192 seed 42 rand2', 'A 2Mx65536 seed 42 rand', 'C2 2000x16 seed 42'],
  );
  for (const g of r.groups) {
    assert.equal(g.rows.length, 1);
    assert.equal(g.rows[0].runs.length, 2, 'every run is recorded');
    assert.ok(g.rows[0].runs.every((x) => x > 0));
  }
  assert.match(stdout, /LOWER IS BETTER/);
  assert.match(stdout, /A random-mixed: 10M cycles, ws 8192/);
});

test('a trace replay writes a complete ledger record with every run', () => {
  // a small trace in the shared format: blocks of varied sizes, each freed 64 allocations later
  const lines: string[] = [];
  const sizes: number[] = [];
  let live = 0;
  let peak = 0;
  const n = 3000;
  for (let i = 0; i < n; i++) {
    sizes.push(16 + ((i * 37) % 700));
    lines.push(`a 0 ${i} ${sizes[i]}`);
    live += sizes[i];
    peak = Math.max(peak, live);
    if (i >= 64) {
      lines.push(`f 0 ${i - 64}`);
      live -= sizes[i - 64];
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'hakmem-trace-'));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'tiny.trace.gz');
  writeFileSync(
    file,
    gzipSync(
      `# trace tiny ops=${lines.length} peak_live_bytes=${peak} threads=1\n# meta ids=${n}\n# source exe=test cmdline=test\n${lines.join('\n')}\n`,
    ),
  );
  const { record: r } = benchRecord('trace/run.ts', [file, '--runs', '2', '--allocators', 'floor']);
  assertProvenance(r, 'bench/trace/run.ts');
  assert.equal(r.kind, 'replay');
  assert.deepEqual(
    r.groups.map((g) => g.id),
    ['trace tiny', 'trace tiny warm'],
  ); // cold and warm
  for (const g of r.groups) {
    assert.equal(g.peakLiveBytes, peak);
    assert.equal(g.rows[0].runs.length, 2);
    assert.deepEqual(g.rows[0].verifyFailures, [0, 0]);
  }
});
