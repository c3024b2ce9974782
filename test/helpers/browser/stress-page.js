// The browser side of test/browser.test.ts: runs stress.js's runStress with Web Workers
// against the built package (dist/), and leaves the outcome in window.__stress.
// Query parameters: ops, workers, seed.
import * as hakmem from '/dist/index.js';
import { runStress } from '/test/helpers/stress.js';

const q = new URLSearchParams(location.search);
const options = {};
for (const [key, name] of [
  ['ops', 'opsPerWorker'],
  ['workers', 'workers'],
  ['seed', 'seed'],
]) {
  if (q.has(key)) options[name] = Number(q.get(key));
}
const out = document.getElementById('log');
const log = (line) => {
  out.textContent += line + '\n';
  console.log(line);
};

function spawn(msg) {
  const w = new Worker(new URL('./stress-worker.js', import.meta.url), { type: 'module' });
  let settle;
  const result = new Promise((resolve, reject) => {
    settle = { resolve, reject };
    w.onmessage = (e) => {
      resolve(e.data);
      w.terminate();
    };
    w.onerror = (e) => reject(new Error(`worker error: ${e.message} (${e.filename}:${e.lineno})`));
  });
  w.postMessage(msg);
  return {
    result,
    terminate: () => {
      w.terminate();
      settle.reject(new Error('terminated'));
    },
  };
}

try {
  if (!globalThis.crossOriginIsolated)
    throw new Error('the page is not cross-origin isolated (COOP/COEP headers missing): no SharedArrayBuffer');
  log(`stress in ${navigator.userAgent}, ${navigator.hardwareConcurrency} cores, options ${JSON.stringify(options)}`);
  const summary = await runStress({ hakmem, spawn, options, log });
  window.__stress = { ok: true, summary };
} catch (e) {
  window.__stress = { ok: false, error: `${e?.name}: ${e?.message}\n${e?.stack ?? ''}` };
}
log(`done: ${JSON.stringify(window.__stress)}`);
