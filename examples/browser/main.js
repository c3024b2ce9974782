// The page of the browser example: particles (structs) in a hakmem heap, moved by two Web Workers
// that share the heap. The page allocates the particles; each worker moves half of them, replaces
// some (frees the page's block, allocates its own) and leaves a summary block for the page to read
// and free. At the end the page checks every particle, frees everything and runs heap.check().
// The outcome is shown on the page and left in window.__example (test/examples.test.ts reads it).
//
// A particle is 40 bytes:  x f64 @0, y f64 @8, vx f64 @16, vy f64 @24, moves i32 @32, thread i32 @36.
// A table block holds the particles' pointers (u32 byte offsets into the heap).
//
// serve.mjs serves the repository's dist/ at /dist/: with a bundler or an import map you would
// write `import { createHeap } from 'hakmem'`.
import { createHeap } from '/dist/index.js';

const PARTICLES = 10_000;
const WORKERS = 2;
const STEPS = 10;
const PARTICLE_SIZE = 40;

const out = document.getElementById('log');
const log = (line) => {
  out.textContent += line + '\n';
  console.log(line);
};

async function main() {
  // SharedArrayBuffer exists only in a cross-origin isolated page (serve.mjs sends the headers).
  if (!globalThis.crossOriginIsolated) throw new Error('not cross-origin isolated: serve the page with examples/browser/serve.mjs');

  const heap = createHeap(); // a growable SharedArrayBuffer
  const blocksBefore = heap.stats().inUseBlocks;

  // 1. The particles and the table of their pointers. Read heap.u32, heap.f64, ... from `heap`
  // each time: malloc may grow the heap, and the getters then return views of the new size.
  const table = heap.malloc(4 * PARTICLES);
  for (let i = 0; i < PARTICLES; i++) {
    const p = heap.malloc(PARTICLE_SIZE);
    heap.f64[p >> 3] = i; // x
    heap.f64[(p + 8) >> 3] = -i; // y
    heap.f64[(p + 16) >> 3] = 1; // vx
    heap.f64[(p + 24) >> 3] = 0.5; // vy
    heap.i32[(p + 32) >> 2] = 0; // moves
    heap.i32[(p + 36) >> 2] = heap.threadId; // 1, the page
    heap.u32[(table >> 2) + i] = p;
  }
  log(`page: ${PARTICLES} particles in the heap (${heap.stats().inUseBytes} bytes in use)`);

  // 2. Two workers. Each attaches to the heap with its handle and answers with its thread id; once
  // both have, each gets its half of the table and a go, so they work at the same time.
  const per = PARTICLES / WORKERS;
  const workers = Array.from({ length: WORKERS }, () => new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }));
  const ask = (worker, message) =>
    new Promise((resolve, reject) => {
      worker.onmessage = (e) => (e.data.error ? reject(new Error(e.data.error)) : resolve(e.data));
      worker.onerror = (e) => reject(new Error(`worker: ${e.message}`));
      worker.postMessage(message);
    });
  await Promise.all(workers.map((worker) => ask(worker, { handle: heap.handle })));
  const summaries = await Promise.all(workers.map((worker, w) => ask(worker, { table, from: w * per, to: (w + 1) * per, steps: STEPS })));
  for (const worker of workers) worker.terminate(); // they have detached from the heap already

  // 3. Each worker left a summary struct { particles i32 @0, replaced i32 @4, sumX f64 @8 } that
  // it allocated: read it, then free it here.
  const results = summaries.map(({ summary, threadId }) => {
    const s = {
      threadId,
      particles: heap.i32[summary >> 2],
      replaced: heap.i32[(summary + 4) >> 2],
      sumX: heap.f64[(summary + 8) >> 3],
    };
    heap.free(summary);
    log(`worker (thread ${threadId}): moved ${s.particles} particles ${STEPS} times, replaced ${s.replaced}; sum of x ${s.sumX}`);
    return s;
  });

  // 4. Check every particle, then free it (the page's blocks and the workers' replacements alike).
  const byThread = {};
  for (let i = 0; i < PARTICLES; i++) {
    const p = heap.u32[(table >> 2) + i];
    const x = heap.f64[p >> 3];
    const y = heap.f64[(p + 8) >> 3];
    const moves = heap.i32[(p + 32) >> 2];
    if (x !== i + STEPS || y !== -i + STEPS * 0.5 || moves !== STEPS) {
      throw new Error(`particle ${i}: x ${x}, y ${y}, moves ${moves}`);
    }
    const thread = heap.i32[(p + 36) >> 2];
    byThread[thread] = (byThread[thread] ?? 0) + 1;
    heap.free(p);
  }
  heap.free(table);
  heap.check(); // throws HeapCorruptionError if any of the heap's metadata is inconsistent
  const blocksAfter = heap.stats().inUseBlocks;
  log(`page: every particle checked and freed; heap.check() passed; blocks in use: ${blocksBefore} before, ${blocksAfter} after`);
  return { particles: PARTICLES, steps: STEPS, workers: results, byThread, blocksBefore, blocksAfter };
}

try {
  window.__example = { ok: true, ...(await main()) };
} catch (e) {
  window.__example = { ok: false, error: `${e?.name}: ${e?.message}\n${e?.stack ?? ''}` };
}
log(`result ${JSON.stringify(window.__example)}`);
