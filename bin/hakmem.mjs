#!/usr/bin/env node
// hakmem's command line: the benchmark suite of the repository.
//   hakmem bench [options]              bench/synthetic/run.ts: workloads A and C2 against every allocator
//   hakmem replay FILE.trace.gz [...]   bench/trace/run.ts: replay real programs' allocation traces
//   hakmem report [options]             bench/ledger/report.ts: README block + HTML report from the ledger
// The bench is TypeScript run through tsx, a devDependency: it needs the repository's dev install
// (git clone, npm install). This file spawns `node --import <tsx> bench/<script>.ts ARGS` from the
// user's working directory (so relative FILE arguments work); the scripts find the repository
// themselves.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPTS = { bench: 'synthetic/run.ts', replay: 'trace/run.ts', report: 'ledger/report.ts' };
const [cmd, ...rest] = process.argv.slice(2);

const usage = `Usage: hakmem <command> [options]
  bench [--quick|--full] [--runs N] [--allocators a,b] [--ref NAME] [--json] [--html FILE]
        time malloc/free of hakmem and other allocators (workloads A and C2); about a minute
  replay [FILE.trace.gz ...] [--allocators hakmem,floor] [--runs N] [--json] [--html FILE]
        replay allocation traces of real programs (default: ../shared/traces)
  report [--check]
        regenerate the README's performance block and bench/ledger/report.html from bench/ledger/results/
Every bench and replay run writes a record to bench/ledger/results/ (the evidence ledger).
'hakmem <command> --help' lists a command's options.`;

if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
  console.log(usage);
  process.exit(cmd ? 0 : 2);
}
if (!Object.hasOwn(SCRIPTS, cmd)) {
  console.error(`hakmem: unknown command "${cmd}"\n\n${usage}`);
  process.exit(2);
}
const script = join(root, 'bench', SCRIPTS[cmd]);
let tsx;
try {
  tsx = pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx')).href;
} catch {
  tsx = undefined;
}
if (!existsSync(script) || !tsx) {
  console.error(`hakmem ${cmd}: the benchmark suite is not installed here (${!existsSync(script) ? `no ${script}` : 'tsx is missing'}).
It runs from the repository's dev install:  git clone <hakmem repository> && cd hakmem && npm install
then:  npx hakmem ${cmd}   or   npm run bench`);
  process.exit(1);
}
const quoted = rest.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`));
const child = spawn(process.execPath, ['--import', tsx, script, ...rest], {
  stdio: 'inherit',
  env: { ...process.env, HAKMEM_BIN_COMMAND: ['hakmem', cmd, ...quoted].join(' ') },
});
// Ctrl-C reaches the child from the terminal itself; a SIGTERM sent to this process is passed on
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 143)));
