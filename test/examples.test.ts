/**
 * Runs every example of examples/ against the built package (dist/, which `npm test` builds first)
 * the way a reader runs it, `node examples/NAME.mjs` from the repository (their `import ... from
 * 'hakmem'` resolves to dist/ through Node's package self-reference), and checks what each one
 * printed on its `result {...}` line against values computed here: values read back across threads
 * or across the JS/wasm boundary, blocks in use back to where they were, heap.check() passed (each
 * example calls it; a failure exits non-zero).
 *
 * The browser example runs in headless Chromium (Debian's `chromium`, driven by playwright-core),
 * served by examples/browser/serve.mjs; like test/browser.test.ts it is skipped without Chromium
 * unless HAKMEM_REQUIRE_BROWSER=1 (HAKMEM_CHROMIUM: the browser's path). The C example needs clang
 * and wasm-ld (Debian: clang, lld); without them it is skipped unless HAKMEM_REQUIRE_TOOLCHAINS=1.
 * Both variables are set by .ci/run, which installs what is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..');
const CHROMIUM = process.env.HAKMEM_CHROMIUM || '/usr/bin/chromium';
const REQUIRE_BROWSER = process.env.HAKMEM_REQUIRE_BROWSER === '1';
const REQUIRE_TOOLCHAINS = process.env.HAKMEM_REQUIRE_TOOLCHAINS === '1';

/** A program's path on PATH, or undefined. */
function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return join(dir, cmd);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Runs `node examples/FILE` in the repository; returns its parsed `result {...}` line and output. */
async function runExample(file: string): Promise<{ result: Record<string, unknown>; stdout: string }> {
  assert.ok(existsSync(join(root, 'dist', 'index.js')), 'dist/index.js is missing: run npm run build');
  const { stdout } = await promisify(execFile)(process.execPath, [join('examples', file)], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('result '));
  assert.ok(line, `no result line in the output of ${file}:\n${stdout}`);
  return { result: JSON.parse(line.slice('result '.length)) as Record<string, unknown>, stdout };
}

/** Sum of f(i) for i in [from, to). */
function sum(from: number, to: number, f: (i: number) => number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += f(i);
  return s;
}

test('examples import only the public API: hakmem (or the served /dist/index.js), node:, relative files', () => {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (/\.(mjs|js)$/.test(e.name)) files.push(join(dir, e.name));
    }
  };
  walk('examples');
  assert.ok(files.length >= 8, `examples found: ${files.join(', ')}`);
  for (const f of files) {
    const text = readFileSync(join(root, f), 'utf8');
    for (const [, spec] of text.matchAll(/(?:^|\n)\s*import\s[^;]*?from\s+'([^']+)'/g)) {
      const ok =
        spec === 'hakmem' ||
        spec === '/dist/index.js' ||
        spec === 'assemblyscript/asc' ||
        spec.startsWith('node:') ||
        (spec.startsWith('./') && !spec.includes('src/'));
      assert.ok(ok, `${f} imports ${spec}`);
    }
  }
});

test('example workers-linked-list.mjs: a list built on the main thread, changed and extended by 2 workers', {
  timeout: 120_000,
}, async () => {
  const { result: r } = await runExample('workers-linked-list.mjs');
  const NODES = 10_000;
  const EXTRA = 100;
  // every main-thread node doubled (id * 1.5 * 2), then each worker's nodes with value = id
  assert.equal(r.count, NODES + 2 * EXTRA);
  assert.equal(r.sum, sum(0, NODES, (i) => i * 3) + sum(NODES, NODES + 2 * EXTRA, (i) => i));
  assert.deepEqual(r.samples, [
    'node 0 (worker 0)',
    'node 1 (worker 1)',
    'node 2 (worker 0)',
    'extra 0 of worker 0',
    'extra 0 of worker 1',
  ]);
  const workers = r.workers as { index: number; threadId: number; changed: number }[];
  assert.deepEqual(
    workers.map((w) => [w.index, w.changed]),
    [
      [0, NODES / 2],
      [1, NODES / 2],
    ],
  );
  const [t0, t1] = workers.map((w) => w.threadId);
  assert.ok(t0 !== t1 && t0 > 1 && t1 > 1, `two attached threads at once: ${t0}, ${t1}`);
  // every node was last written by a worker: its half of the main thread's nodes and its own
  assert.deepEqual(r.byThread, { [t0!]: NODES / 2 + EXTRA, [t1!]: NODES / 2 + EXTRA });
  assert.equal(r.blocksAfter, r.blocksBefore);
});

test('example wasm-assemblyscript.mjs: an AssemblyScript module with hakmem as its malloc, in a WebAssembly.Memory', {
  timeout: 120_000,
}, async () => {
  const { result: r } = await runExample('wasm-assemblyscript.mjs');
  const NODES = 40_000;
  assert.ok((r.dataEnd as number) > 0);
  assert.equal(
    r.sumOfProducts,
    sum(0, 1000, (i) => i * 0.5),
  ); // wasm read JS's points
  assert.equal(r.count, NODES); // JS read wasm's list
  assert.deepEqual(r.firstValues, [0, 1, 4, 9, 16]);
  assert.equal(
    r.sumOfSquares,
    sum(0, NODES, (i) => i * i),
  );
  assert.equal(r.freedMine, 100); // wasm freed JS's blocks
  assert.equal(r.freedSquares, NODES);
  assert.ok((r.memoryBytes as number) > 65536, `hakmem grew the WebAssembly.Memory: ${String(r.memoryBytes)} bytes`);
  assert.equal(r.blocksAfter, r.blocksBefore);
});

const haveC = which('clang') !== undefined && which('wasm-ld') !== undefined;
test('example wasm-c.mjs: a C program compiled to wasm32 with hakmem as its malloc', {
  timeout: 120_000,
  skip: haveC || REQUIRE_TOOLCHAINS ? false : 'clang or wasm-ld not found; install: apt-get install -y clang lld',
}, async () => {
  assert.ok(haveC, 'clang or wasm-ld not found and HAKMEM_REQUIRE_TOOLCHAINS=1: apt-get install -y clang lld');
  const { result: r } = await runExample('wasm-c.mjs');
  const squares = Array.from({ length: 1000 }, (_, i) => String(i * i));
  assert.ok((r.dataEnd as number) > 65536, 'the heap starts past the C stack');
  assert.equal(r.count, 1000);
  assert.deepEqual(r.first, squares.slice(0, 5));
  assert.equal(r.last, '998001');
  assert.equal(
    r.numbers,
    sum(0, 1000, (i) => i * i),
  );
  assert.equal(r.joined, squares.join(','));
  assert.equal(r.sumOfMine, '5050'); // C read JS's list
  assert.equal(r.freedMine, 100); // and freed it
  assert.equal(r.freedSquares, 1000);
  assert.equal(r.blocksAfter, r.blocksBefore);
});

const haveBrowser = existsSync(CHROMIUM);
test('example browser/: structs shared with 2 Web Workers, in headless Chromium', {
  timeout: 120_000,
  skip:
    haveBrowser || REQUIRE_BROWSER
      ? false
      : `no Chromium at ${CHROMIUM}; install it with \`apt-get install -y chromium\` (Debian) to run this test`,
}, async () => {
  assert.ok(haveBrowser, `no Chromium at ${CHROMIUM} and HAKMEM_REQUIRE_BROWSER=1: install it with \`apt-get install -y chromium\``);
  assert.ok(existsSync(join(root, 'dist', 'index.js')), 'dist/index.js is missing: run npm run build');
  // the example's own server, on a free port; it prints the page's URL
  const server = spawn(process.execPath, [join(root, 'examples', 'browser', 'serve.mjs'), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
  try {
    const url = await new Promise<string>((ok, fail) => {
      let out = '';
      server.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /http:\/\/\S+/.exec(out);
        if (m) ok(m[0]);
      });
      server.once('exit', (code) => fail(new Error(`serve.mjs exited (${code}): ${out}`)));
    });
    const page = await browser.newPage();
    page.on('console', (m) => console.log(`[chromium] ${m.text()}`));
    page.on('pageerror', (e) => console.log(`[chromium page error] ${e.message}`));
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as { __example?: unknown }).__example !== undefined, undefined, {
      timeout: 100_000,
      polling: 200,
    });
    const r = (await page.evaluate(() => (globalThis as { __example?: unknown }).__example)) as Record<string, unknown>;
    assert.equal(r.ok, true, r.error as string);
    const PARTICLES = 10_000;
    const STEPS = 10;
    assert.equal(r.particles, PARTICLES);
    const workers = r.workers as { threadId: number; particles: number; replaced: number; sumX: number }[];
    assert.equal(workers.length, 2);
    workers.forEach((w, k) => {
      assert.equal(w.particles, PARTICLES / 2);
      assert.equal(w.replaced, PARTICLES / 20); // every tenth particle
      assert.equal(
        w.sumX,
        sum((k * PARTICLES) / 2, ((k + 1) * PARTICLES) / 2, (i) => i + STEPS),
      );
      assert.ok(w.threadId > 1);
    });
    // the page's particles and each worker's replacements
    assert.deepEqual(r.byThread, { 1: PARTICLES * 0.9, [workers[0]!.threadId]: PARTICLES / 20, [workers[1]!.threadId]: PARTICLES / 20 });
    assert.notEqual(workers[0]!.threadId, workers[1]!.threadId);
    assert.equal(r.blocksAfter, r.blocksBefore);
  } finally {
    await browser.close();
    server.kill();
  }
});
