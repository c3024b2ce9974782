// hakmem/record round trip: a program runs on a recorded heap (src/record.ts), the trace it writes
// is read by the bench's parser and replayed by the bench's replayers (bench/trace.ts single-thread,
// bench/trace-mt.ts one worker per trace thread), and op count and peak live bytes are the
// program's own. The multi-thread program's phases make its peak known whatever the interleaving
// (test/helpers/record-trace-worker.ts).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { replayMtTrace } from '../bench/trace/mt/core.ts';
import { analyzeTrace, loadTrace, replay } from '../bench/trace/core.ts';
import { createInstance } from '../bench/peers/trace/adapters.ts';
import { nextMessage, startTsWorker } from '../bench/lib/spawn.ts';
import { createHeap, type Heap } from '../src/index.ts';
import { recordTrace } from '../src/record.ts';
import type { RecordWorkerData, RecordWorkerResult } from './helpers/record-trace-worker.ts';

const dir = mkdtempSync(join(tmpdir(), 'hakmem-record-'));

/** xorshift32 */
function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

async function replayOnHakmem(file: string) {
  const t = loadTrace(file);
  const inst = await createInstance('hakmem', t);
  const failures = replay(inst.alloc, t, new Int32Array(t.ids), new Float64Array(t.ids), t.ops);
  return { t, failures, heap: inst.alloc as Heap };
}

test('single thread: every call kind recorded; the replay has the same ops, peak live bytes and live blocks', async () => {
  const file = join(dir, 'single.trace.gz');
  const h = recordTrace(createHeap(), file, { note: 'record-trace.test single thread' });
  const rand = rng(7);
  const live = new Map<number, number>(); // ptr -> requested size
  let ops = 0;
  let bytes = 0;
  let peak = 0;
  const kinds = { a: 0, c: 0, m: 0, r: 0, f: 0 };
  const add = (p: number, n: number) => {
    live.set(p, n);
    bytes += n;
  };
  for (let i = 0; i < 200_000; i++) {
    const x = rand(100);
    const ptrs = [...live.keys()];
    if (live.size > 0 && (x < 40 || live.size > 3000)) {
      const p = ptrs[rand(ptrs.length)]!;
      bytes -= live.get(p)!;
      live.delete(p);
      h.free(p);
      kinds.f++;
    } else if (live.size > 0 && x < 55) {
      const p = ptrs[rand(ptrs.length)]!;
      const n = 1 + rand(rand(10) === 0 ? 100_000 : 3000);
      const q = h.realloc(p, n);
      bytes -= live.get(p)!;
      live.delete(p);
      add(q, n);
      kinds.r++;
    } else if (x < 65) {
      const n = rand(5000);
      add(h.calloc(1, n), n);
      kinds.c++;
    } else if (x < 70) {
      const n = rand(5000);
      add(h.alignedAlloc(16 << rand(8), n), n);
      kinds.m++;
    } else {
      const n = rand(20) === 0 ? 33_000 + rand(300_000) : rand(2000);
      add(h.malloc(n), n);
      kinds.a++;
    }
    ops++;
    if (bytes > peak) peak = bytes;
  }
  const sum = h.close()!;
  assert.equal(sum.ops, ops);
  assert.equal(sum.peakLiveBytes, peak);
  assert.equal(sum.threads, 1);
  assert.deepEqual(sum.heapThreadIds, [1]);
  assert.equal(sum.liveAtEndBlocks, live.size);
  assert.equal(sum.liveAtEndBytes, bytes);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.part')),
    [],
    'part files removed',
  );

  const text = gunzipSync(readFileSync(file)).toString('latin1').split('\n');
  assert.equal(text[0], `# trace single ops=${ops} peak_live_bytes=${peak} threads=1`);
  assert.match(text[1]!, /^# meta ids=\d+ .*live_at_end_blocks=\d+/);
  assert.match(text[2]!, /^# source exe=\S+ cmdline=/);
  assert.equal(text[3], '# note record-trace.test single thread');

  const { t, failures, heap } = await replayOnHakmem(file);
  assert.equal(t.ops, ops);
  assert.deepEqual(t.counts, [kinds.a, kinds.c, kinds.m, kinds.r, kinds.f]);
  assert.equal(t.peakLiveBytes, peak);
  assert.equal(analyzeTrace(t).peakLiveBytes, peak, 'recomputed from the ops by the bench');
  assert.equal(failures, 0, 'contents verified by the replay');
  assert.equal(heap.stats().inUseBlocks, live.size);
  heap.check();

  // and on the bench's floor (emulated calloc/realloc/aligned)
  const f = await createInstance('floor', t);
  assert.equal(replay(f.alloc, t, new Int32Array(t.ids), new Float64Array(t.ids), t.ops), 0);
});

test('corner cases: free(0), realloc(0, n), realloc(p, 0), blocks from before the recording', () => {
  const file = join(dir, 'corners.trace.gz');
  const heap = createHeap();
  const before = heap.malloc(100); // not recorded
  const before2 = heap.malloc(200);
  const h = recordTrace(heap, file);
  h.free(0);
  const a = h.realloc(0, 50); // a
  assert.equal(h.realloc(a, 0), 0); // f
  h.free(before); // unknown: dropped
  const b = h.realloc(before2, 300); // unknown: recorded as a
  assert.throws(() => h.free(b + 16)); // rejected by the heap: not recorded
  h.free(b); // f
  const sum = h.close()!;
  const lines = gunzipSync(readFileSync(file)).toString('latin1').trim().split('\n');
  assert.deepEqual(
    lines.filter((l) => !l.startsWith('#')),
    ['a 0 0 50', 'f 0 0', 'a 0 1 300', 'f 0 1'],
  );
  assert.match(lines[1]!, / free_null=1 free_unknown=1 realloc_unknown=1 failed_alloc=0 inferred_free=0 realloc_zero=1 /);
  assert.equal(sum.peakLiveBytes, 300);
  assert.throws(() => h.malloc(8) && h.close(), /already closed/);
  heap.check();
});

test('2 workers and the main thread: global order, cross-thread frees, thread ids; the multi-thread replay matches', {
  timeout: 120_000,
}, async () => {
  const file = join(dir, 'workers.trace.gz');
  const heap = createHeap();
  const h = recordTrace(heap, file);
  let ops = 0;
  // main: some blocks that stay live until the workers are done
  const kept: number[] = [];
  let keptBytes = 0;
  for (let i = 0; i < 100; i++) {
    const n = 8 + i * 8;
    kept.push(h.malloc(n));
    keptBytes += n;
    ops++;
  }
  const WORKERS = 2;
  const BLOCKS = 3000;
  const control = new SharedArrayBuffer((4 + WORKERS * BLOCKS) * 4);
  const workers = Array.from({ length: WORKERS }, (_, index) =>
    startTsWorker(new URL('./helpers/record-trace-worker.ts', import.meta.url), {
      heap: h.handle,
      trace: h.traceHandle,
      control,
      index,
      workers: WORKERS,
      blocks: BLOCKS,
      seed: 11 + index,
    } satisfies RecordWorkerData),
  );
  const results = await Promise.all(workers.map((w) => nextMessage<RecordWorkerResult>(w)));
  await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r))));
  for (const p of kept) {
    h.free(p);
    ops++;
  }
  const sum = h.close()!;

  const workerOps = results.reduce((s, r) => s + r.ops, 0);
  const peak = keptBytes + results.reduce((s, r) => s + r.phase1Bytes, 0);
  assert.equal(sum.ops, ops + workerOps);
  assert.equal(sum.threads, 3);
  assert.deepEqual(sum.heapThreadIds.slice(0, 1), [1]);
  assert.deepEqual(new Set(sum.heapThreadIds.slice(1)), new Set(results.map((r) => r.threadId)));
  assert.equal(sum.peakLiveBytes, peak);
  assert.equal(sum.liveAtEndBlocks, 0);
  assert.equal(sum.freeUnknown + sum.inferredFree + sum.reallocUnknown, 0);

  const t = loadTrace(file);
  assert.equal(t.threads, 3);
  assert.equal(t.ops, sum.ops);
  assert.equal(analyzeTrace(t).peakLiveBytes, peak);
  // every block of worker k's alloc phase whose index is even is freed by the other worker
  let cross = 0;
  const creator = new Int32Array(t.ids);
  for (let i = 0; i < t.ops; i++) {
    if (t.kind[i] === 4 || t.kind[i] === 3) {
      if (creator[t.id[i]!] !== t.tid[i]) cross++;
    }
    if (t.kind[i] === 3) creator[t.newid[i]!] = t.tid[i]!;
    else if (t.kind[i] !== 4) creator[t.id[i]!] = t.tid[i]!;
  }
  assert.equal(
    cross,
    results.reduce((s, r) => s + r.crossFrees, 0),
  );

  const r = await replayMtTrace(file, 'hakmem', { warmRuns: 0 });
  assert.equal(r.error, undefined, `replay failed: ${r.error}`);
  assert.equal(r.threads, 3);
  assert.equal(r.ops, sum.ops);
  assert.equal(r.peakLiveBytes, peak);
  assert.equal(r.crossThread, cross);
  assert.equal(r.failures, 0);
  assert.equal(r.endCheck, '');
  heap.check();
  assert.equal(heap.stats().inUseBytes, 0);
});

test('hakmem/record is a subpath export built to dist/, and the main entry stays free of node: imports', () => {
  const root = resolve(import.meta.dirname, '..');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  assert.equal(pkg.exports['./record'].import, './dist/record.js');
  if (!existsSync(join(root, 'dist', 'index.js'))) return; // not built (npm test builds first)
  assert.ok(existsSync(join(root, 'dist', 'record.js')), 'dist/record.js is missing: npm run build');
  for (const f of readdirSync(join(root, 'dist')).filter((x) => x.endsWith('.js') && x !== 'record.js')) {
    assert.doesNotMatch(readFileSync(join(root, 'dist', f), 'utf8'), /from ['"]node:|require\(/, `dist/${f} imports a Node module`);
  }
});
