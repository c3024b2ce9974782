/**
 * Issue 3 stress test in headless Chromium with Web Workers: the same helpers/stress.js as
 * test/threads-stress.test.ts, run against the built package (dist/, which `npm test` builds first).
 * A small static server on 127.0.0.1 (a random port) serves dist/ and test/ with the COOP/COEP
 * headers that make the page cross-origin isolated (SharedArrayBuffer); Debian's `chromium` is driven
 * by playwright-core.
 *
 * Without Chromium the test is skipped, naming the command that installs it, unless
 * HAKMEM_REQUIRE_BROWSER=1 (set by .ci/run), under which a missing browser fails the run.
 * HAKMEM_CHROMIUM overrides the browser's path (default /usr/bin/chromium); HAKMEM_STRESS_OPS,
 * HAKMEM_STRESS_WORKERS and HAKMEM_STRESS_SEED are passed on as in the Node test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, readFile } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..');
const CHROMIUM = process.env.HAKMEM_CHROMIUM || '/usr/bin/chromium';
const REQUIRE = process.env.HAKMEM_REQUIRE_BROWSER === '1';
const INSTALL = 'apt-get install -y chromium';
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
};

/** Serves root/dist and root/test (GET only) with cross-origin isolation headers. */
function serve(): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = join(root, path);
    const allowed = [join(root, 'dist') + sep, join(root, 'test') + sep].some((d) => file.startsWith(d));
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    };
    if (req.method !== 'GET' || !allowed) {
      res.writeHead(404, headers).end();
      return;
    }
    readFile(file, (err, data) => {
      if (err) res.writeHead(404, headers).end();
      else res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(data);
    });
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

const haveBrowser = existsSync(CHROMIUM);
const skip =
  haveBrowser || REQUIRE ? false : `SKIPPED: no Chromium at ${CHROMIUM}; install it with \`${INSTALL}\` (Debian) to run this test`;

test('stress in headless Chromium: 4 Web Workers x 1M ops on the built package', { skip, timeout: 300_000 }, async () => {
  assert.ok(haveBrowser, `no Chromium at ${CHROMIUM} and HAKMEM_REQUIRE_BROWSER=1: install it with \`${INSTALL}\``);
  assert.ok(existsSync(join(root, 'dist', 'index.js')), 'dist/index.js is missing: run npm run build');
  const server = await serve();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => console.log(`[chromium] ${m.text()}`));
    page.on('pageerror', (e) => console.log(`[chromium page error] ${e.message}`));
    const q = new URLSearchParams();
    for (const [env, key] of [
      ['HAKMEM_STRESS_OPS', 'ops'],
      ['HAKMEM_STRESS_WORKERS', 'workers'],
      ['HAKMEM_STRESS_SEED', 'seed'],
    ] as const) {
      if (process.env[env]) q.set(key, process.env[env]!);
    }
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/test/helpers/browser/stress.html?${q}`);
    await page.waitForFunction(() => (globalThis as { __stress?: unknown }).__stress !== undefined, undefined, {
      timeout: 280_000,
      polling: 500,
    });
    const r = (await page.evaluate(() => (globalThis as { __stress?: unknown }).__stress)) as {
      ok: boolean;
      error?: string;
      summary?: unknown;
    };
    assert.ok(r.ok, r.error);
    console.log(`browser stress summary: ${JSON.stringify(r.summary)}`);
    bytesProblem = (r.summary as { bytesProblem: string | null }).bytesProblem;
    ran = true;
  } finally {
    await browser.close();
    server.close();
  }
});

let ran = false;
let bytesProblem: string | null = null;
test('stress in headless Chromium: stats().inUseBytes is 0 at the end', { skip }, () => {
  assert.ok(ran, 'the browser stress test did not run to its end');
  assert.equal(bytesProblem, null);
});
