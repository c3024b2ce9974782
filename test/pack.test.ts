// The published package, as a new user gets it: `npm pack` of the built repository, installed
// offline into an empty project, then used from every kind of consumer: ESM (import), CommonJS
// (require, which loads the same ES module through Node's require(esm)), TypeScript under
// `module: nodenext` (an .mts and a .cts file, compiled and run) and `moduleResolution: bundler`,
// and an esbuild bundle for the browser. test/package.test.ts covers the ESM import of the
// repository itself; this file covers what the tarball holds and what only a packed install shows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync, type Message } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const TSC = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
/**
 * The oldest TypeScript releases the shipped declarations compile with (skipLibCheck off), as the
 * README's Install section states them: ESM and bundler consumers need 5.0 (the .d.ts files must not
 * name generic typed arrays such as `Uint8Array<ArrayBuffer>`, which TypeScript 5.7+ emits for an
 * unannotated `new Uint8Array(...)`: public declarations are annotated); a CommonJS consumer (.cts
 * under `module: nodenext`) needs 5.8, the first release that types require() of an ES module.
 */
const MIN_TS = { esm: '5.0.4', cjs: '5.8.3' };
/** Node.js releases whose require() loads ES modules without a flag (package.json "engines"). */
const ENGINES = '^20.19.0 || >=22.12.0';
/** Whether this Node's require() loads ES modules (Node >= 20.19 / 22.12: process.features.require_module). */
const REQUIRE_ESM = (process.features as { require_module?: boolean }).require_module === true;

let tmp = '';
let proj = ''; // the consumer project, with hakmem installed from the tarball
let packed: { filename: string; files: { path: string }[] };

/** The environment for child npm processes: none of the `npm test` run's own npm_* variables. */
const npmEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') || k === 'npm_config_cache' || k === 'npm_config_userconfig'),
);
Object.assign(npmEnv, { npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' });

/** Runs a command; on failure the error carries its stdout and stderr (tsc reports on stdout). */
function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  try {
    return execFileSync(file, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${[file, ...args].join(' ')} (in ${cwd}) failed: ${x.message}\n${x.stdout ?? ''}\n${x.stderr ?? ''}`);
  }
}
const node = (args: string[], cwd = proj) => run(process.execPath, args, cwd);
const tsc = (args: string[], tscPath = TSC) => node([tscPath, ...args]);

function write(files: Record<string, string | object>): void {
  for (const [name, body] of Object.entries(files)) {
    writeFileSync(join(proj, name), typeof body === 'string' ? body : JSON.stringify(body, null, 2));
  }
}

before(() => {
  assert.ok(existsSync(join(root, 'dist', 'index.js')), 'dist/index.js is missing: run npm run build');
  tmp = mkdtempSync(join(tmpdir(), 'hakmem-pack-'));
  proj = join(tmp, 'consumer');
  mkdirSync(proj);
  // --ignore-scripts: no prepack build here; npm test has built dist/ already, and other test
  // files read it meanwhile
  [packed] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], root, npmEnv));
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  run('npm', ['install', '--offline', '--no-package-lock', '--ignore-scripts', join(tmp, packed.filename)], proj, npmEnv);
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** What every JS consumer runs, after importing createHeap, DoubleFreeError and the debug build's createHeap as createDebugHeap. */
const USE = `
const heap = createHeap();
const p = heap.malloc(100);
heap.u8[p] = 42;
heap.u8[p + 99] = 7;
const wrote = heap.u8[p] + heap.u8[p + 99];
heap.free(p);
let doubleFree = '';
try { heap.free(p); } catch (e) { doubleFree = e instanceof DoubleFreeError ? e.name : String(e); }
heap.check();
const dh = createDebugHeap();
const q = dh.malloc(10);
dh.u8[q] = 1;
const leaks = dh.leaks().length;
dh.free(q);
dh.check();
const result = { wrote, aligned: p % 16, doubleFree, leaks, inUse: heap.stats().inUseBytes + dh.stats().inUseBytes };
`;
const EXPECTED = { wrote: 49, aligned: 0, doubleFree: 'DoubleFreeError', leaks: 1, inUse: 0 };

test('the tarball: dist/, README.md, LICENSE (MIT), package.json; no bin, no sources; source maps carry their sources', () => {
  const files = packed.files.map((f) => f.path).sort();
  for (const f of [
    'LICENSE',
    'README.md',
    'package.json',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/debug.js',
    'dist/debug.d.ts',
    'dist/record.js',
    'dist/record.d.ts',
  ]) {
    assert.ok(files.includes(f), `${f} is not in the tarball`);
  }
  assert.deepEqual(
    files.filter((f) => !/^dist\/[\w.-]+\.(js|d\.ts|js\.map)$/.test(f)),
    ['LICENSE', 'README.md', 'package.json'],
  );

  const dir = join(proj, 'node_modules', 'hakmem');
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  assert.equal(pkg.bin, undefined, 'the bench bin needs the dev install: it is not published');
  assert.equal(pkg.license, 'MIT');
  assert.equal(pkg.engines.node, ENGINES);
  assert.ok(Array.isArray(pkg.keywords) && pkg.keywords.includes('malloc'));
  assert.ok(!existsSync(join(proj, 'node_modules', '.bin', 'hakmem')), 'installing hakmem linked a bin');
  const license = readFileSync(join(dir, 'LICENSE'), 'utf8');
  assert.match(license, /^MIT License\n\nCopyright \(c\) the hakmem authors\n/);
  assert.match(license, /THE SOFTWARE IS PROVIDED "AS IS"/);

  const maps = readdirSync(join(dir, 'dist')).filter((f) => f.endsWith('.js.map'));
  assert.ok(maps.length >= 3);
  for (const f of maps) {
    const m = JSON.parse(readFileSync(join(dir, 'dist', f), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
    assert.equal(
      m.sourcesContent?.length,
      m.sources.length,
      `dist/${f}: sourcesContent missing (its sources, ${m.sources}, are not shipped)`,
    );
    assert.ok(
      m.sourcesContent.every((s) => typeof s === 'string' && s.length > 0),
      `dist/${f}: empty sourcesContent`,
    );
  }
});

test('ESM consumer: import hakmem, hakmem/debug and hakmem/record; require() gives the same module', () => {
  write({
    'main.mjs': `
      import { createRequire } from 'node:module';
      import { existsSync } from 'node:fs';
      import * as hakmem from 'hakmem';
      import { createHeap, DoubleFreeError } from 'hakmem';
      import { createHeap as createDebugHeap } from 'hakmem/debug';
      import { recordTrace } from 'hakmem/record';
      ${USE}
      const rec = recordTrace(createHeap(), 'out.trace.gz');
      rec.free(rec.malloc(64));
      result.recordedOps = rec.close().ops;
      result.traceWritten = existsSync('out.trace.gz');
      // one module instance for import and require (no second copy whose classes differ)
      result.sameModule = createRequire(import.meta.url)('hakmem') === hakmem;
      console.log(JSON.stringify(result));
    `,
  });
  assert.deepEqual(JSON.parse(node(['main.mjs'])), { ...EXPECTED, recordedOps: 2, traceWritten: true, sameModule: true });
});

test('CommonJS consumer: require("hakmem"), require("hakmem/debug"), require("hakmem/record")', (t) => {
  if (!REQUIRE_ESM) {
    t.skip(`SKIPPED: Node ${process.version} has no require(esm); package.json engines asks for ${ENGINES}`);
    return;
  }
  write({
    'main.cjs': `
      const { createHeap, DoubleFreeError } = require('hakmem');
      const { createHeap: createDebugHeap } = require('hakmem/debug');
      const { recordTrace } = require('hakmem/record');
      ${USE}
      result.recordTrace = typeof recordTrace;
      console.log(JSON.stringify(result));
    `,
  });
  assert.deepEqual(JSON.parse(node(['main.cjs'])), { ...EXPECTED, recordTrace: 'function' });
});

/** A TypeScript consumer; `// @ts-expect-error` lines fail the check if the types degrade to any. */
function tsUse(header: string): string {
  return `${header}
const heap = createHeap({ maxBytes: 1 << 24 });
const p: number = heap.malloc(100);
heap.u8[p] = 42;
const f: Float64Array = heap.array(Float64Array, heap.malloc(80), 10);
f[9] = 1.5;
heap.free(p);
heap.check();
const s: HeapStats = heap.stats();
// @ts-expect-error malloc returns a number
const notString: string = heap.malloc(1);
const dh = createDebugHeap();
dh.malloc(8);
const leaks: number = dh.leaks().length;
// @ts-expect-error the release Heap has no leaks()
const noLeaks = () => heap.leaks();
const typed = [typeof recordTrace, s.inUseBytes >= 80, leaks, f[9], typeof notString, typeof noLeaks];
`;
}
const TS_OPTIONS = { strict: true, target: 'es2022', skipLibCheck: false, types: [] as string[] };

function writeNodenext(): void {
  write({
    'ts/main.mts':
      tsUse(`import { createHeap, type HeapStats } from 'hakmem';
import { createHeap as createDebugHeap } from 'hakmem/debug';
import { recordTrace } from 'hakmem/record';`) + 'console.log(JSON.stringify(typed));\n',
    'ts/main.cts':
      tsUse(`import { createHeap, type HeapStats } from 'hakmem';
import debug = require('hakmem/debug');
const createDebugHeap = debug.createHeap;
import { recordTrace } from 'hakmem/record';`) + 'console.log(JSON.stringify(typed));\nexport = typed;\n',
    'tsconfig.nodenext.json': {
      compilerOptions: { ...TS_OPTIONS, module: 'nodenext', moduleResolution: 'nodenext', outDir: 'out' },
      files: ['ts/main.mts', 'ts/main.cts'],
    },
    'tsconfig.esm.json': { extends: './tsconfig.nodenext.json', compilerOptions: { noEmit: true }, files: ['ts/main.mts'] },
  });
}
function writeBundler(): void {
  write({
    'ts/bundler.ts':
      tsUse(`import { createHeap, type HeapStats } from 'hakmem';
import { createHeap as createDebugHeap } from 'hakmem/debug';
import { recordTrace } from 'hakmem/record';`) + 'export { typed };\n',
    'tsconfig.bundler.json': {
      compilerOptions: { ...TS_OPTIONS, module: 'esnext', moduleResolution: 'bundler', noEmit: true },
      files: ['ts/bundler.ts'],
    },
  });
}

test('TypeScript, module nodenext: an ESM .mts and a CommonJS .cts type-check, compile, and run', (t) => {
  mkdirSync(join(proj, 'ts'), { recursive: true });
  writeNodenext();
  tsc(['-p', 'tsconfig.nodenext.json']);
  const expected = ['function', true, 1, 1.5, 'number', 'function'];
  assert.deepEqual(JSON.parse(node(['out/main.mjs'])), expected);
  if (!REQUIRE_ESM) {
    t.diagnostic(`SKIPPED: running out/main.cjs (Node ${process.version} has no require(esm); engines: ${ENGINES})`);
    return;
  }
  // the types tsc checked the .cts against describe what its require() calls get
  assert.match(readFileSync(join(proj, 'out', 'main.cjs'), 'utf8'), /require\("hakmem"\)/);
  assert.deepEqual(JSON.parse(node(['out/main.cjs'])), expected);
});

test('TypeScript, moduleResolution bundler: type-checks', () => {
  mkdirSync(join(proj, 'ts'), { recursive: true });
  writeBundler();
  tsc(['-p', 'tsconfig.bundler.json']);
});

/** Bundles `source` for the browser with esbuild from the consumer project. */
function bundleForBrowser(source: string): { text: string; errors: Message[]; imports: string[] } {
  try {
    const r = buildSync({
      stdin: { contents: source, resolveDir: proj, loader: 'js' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    return {
      text: r.outputFiles[0]!.text,
      errors: r.errors,
      imports: Object.values(r.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path)),
    };
  } catch (e) {
    return { text: '', errors: (e as { errors?: Message[] }).errors ?? [{ text: String(e) } as Message], imports: [] };
  }
}
const NODE_BUILTIN =
  /\bfrom\s*["'](node:|(fs|path|os|url|module|worker_threads|child_process|zlib|crypto)["'])|\brequire\s*\(|\bimport\s*\(\s*["']node:/;

test('esbuild, platform browser: hakmem and hakmem/debug bundle without Node built-ins, and the bundle runs', () => {
  const b = bundleForBrowser(`
    import { createHeap, DoubleFreeError } from 'hakmem';
    import { createHeap as createDebugHeap } from 'hakmem/debug';
    ${USE}
    console.log(JSON.stringify(result));
  `);
  assert.deepEqual(b.errors, []);
  assert.deepEqual(b.imports, [], 'the browser bundle imports modules it does not contain');
  assert.doesNotMatch(b.text, NODE_BUILTIN);
  assert.doesNotMatch(b.text, /["']node:/);
  writeFileSync(join(proj, 'bundle.mjs'), b.text);
  assert.deepEqual(JSON.parse(node(['bundle.mjs'])), EXPECTED);
  // the same check catches a Node-only module: hakmem/record (which writes files) cannot be bundled for the browser
  const rec = bundleForBrowser(`import { recordTrace } from 'hakmem/record'; console.log(recordTrace);`);
  assert.ok(
    rec.errors.some((e) => /node:fs|node:zlib|node:path/.test(e.text)),
    `hakmem/record bundled for the browser: ${JSON.stringify(rec.errors)}`,
  );
});

test(`the minimum TypeScript versions the README states: ${MIN_TS.esm} (ESM, bundler), ${MIN_TS.cjs} (CommonJS .cts)`, (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const minor = (v: string) => v.split('.').slice(0, 2).join('.');
  assert.ok(readme.includes(`TypeScript >= ${minor(MIN_TS.esm)}`), `README.md does not state "TypeScript >= ${minor(MIN_TS.esm)}"`);
  assert.ok(
    readme.includes(`TypeScript >= ${minor(MIN_TS.cjs)}`),
    `README.md does not state "TypeScript >= ${minor(MIN_TS.cjs)}" (CommonJS)`,
  );
  const tsDir = join(tmp, 'old-ts');
  mkdirSync(tsDir);
  writeFileSync(join(tsDir, 'package.json'), JSON.stringify({ name: 'old-ts', version: '1.0.0', private: true }));
  try {
    run(
      'npm',
      [
        'install',
        '--offline',
        '--no-package-lock',
        '--ignore-scripts',
        `ts-esm@npm:typescript@${MIN_TS.esm}`,
        `ts-cjs@npm:typescript@${MIN_TS.cjs}`,
      ],
      tsDir,
      npmEnv,
    );
  } catch (e) {
    if (!/ENOTCACHED|only-if-cached/.test(String(e))) throw e;
    t.skip(
      `SKIPPED: typescript@${MIN_TS.esm} and @${MIN_TS.cjs} are not in the npm cache (this test does not download); ` +
        `the minimum TypeScript versions are not checked. To check them: npm cache add typescript@${MIN_TS.esm} typescript@${MIN_TS.cjs}`,
    );
    return;
  }
  mkdirSync(join(proj, 'ts'), { recursive: true });
  writeNodenext();
  writeBundler();
  const esmTsc = join(tsDir, 'node_modules', 'ts-esm', 'bin', 'tsc');
  const cjsTsc = join(tsDir, 'node_modules', 'ts-cjs', 'bin', 'tsc');
  assert.match(tsc(['-v'], esmTsc), new RegExp(`Version ${MIN_TS.esm.replace(/\./g, '\\.')}`));
  tsc(['-p', 'tsconfig.esm.json'], esmTsc);
  tsc(['-p', 'tsconfig.bundler.json'], esmTsc);
  tsc(['-p', 'tsconfig.nodenext.json', '--noEmit'], cjsTsc);
});
