// A linked list of structs in a hakmem heap, shared with Node worker threads.
//
//   npm run build && node examples/workers-linked-list.mjs
//
// The main thread builds a list of nodes in the heap. Two workers attach to the same heap: each one
// walks the whole list, doubles the value of its half of the nodes and gives them a new label
// (freeing the old label, which the main thread allocated), then builds a few nodes of its own. The
// main thread appends those to the list, checks every node, frees everything (including the
// workers' blocks) and runs heap.check().
//
// A node is 32 bytes; a pointer is a byte offset into the heap (0 = none):
//
//   offset  0  next       u32  the next node
//   offset  4  id         i32
//   offset  8  value      f64
//   offset 16  label      u32  a block holding the label's UTF-8 bytes
//   offset 20  labelLen   u32  its length in bytes
//   offset 24  thread     i32  threadId of the thread that last changed the node
//
// `import ... from 'hakmem'` resolves to this repository's dist/ (Node's package self-reference:
// the nearest package.json is hakmem's own), so run `npm run build` first.
import { Worker } from 'node:worker_threads';
import { createHeap } from 'hakmem';
import { NODE_SIZE, readLabel, writeLabel } from './workers-linked-list-node.mjs';

const NODES = 10_000; // nodes the main thread builds
const WORKERS = 2;
const EXTRA = 100; // nodes each worker adds

const heap = createHeap(); // a growable SharedArrayBuffer: workers can attach to it
const blocksBefore = heap.stats().inUseBlocks;

// 1. Build the list: node i has value i * 1.5 and the label "node i".
// heap.u32, heap.f64, ... are views of the whole heap. Read them from `heap` each time rather than
// keeping one in a variable: malloc may grow the heap, and the getters return views of the new size.
let head = 0;
let tail = 0;
for (let id = 0; id < NODES; id++) {
  const node = heap.malloc(NODE_SIZE);
  if (node === 0) throw new Error('out of memory');
  const [label, labelLen] = writeLabel(heap, `node ${id}`);
  heap.u32[node >> 2] = 0; // next (malloc does not zero; calloc would)
  heap.i32[(node + 4) >> 2] = id;
  heap.f64[(node + 8) >> 3] = id * 1.5;
  heap.u32[(node + 16) >> 2] = label;
  heap.u32[(node + 20) >> 2] = labelLen;
  heap.i32[(node + 24) >> 2] = heap.threadId; // 1: the thread that created the heap
  if (tail === 0) head = node;
  else heap.u32[tail >> 2] = node;
  tail = node;
}
console.log(`main (thread ${heap.threadId}): built ${NODES} nodes; ${heap.stats().inUseBlocks - blocksBefore} blocks in use`);

// 2. Start the workers. heap.handle is all a worker needs to attach (it is structured-cloneable).
// Each worker attaches and reports its thread id; once all have, they get a go and work at once.
function startWorker(index) {
  const worker = new Worker(new URL('./workers-linked-list-worker.mjs', import.meta.url), {
    workerData: { handle: heap.handle, head, index, workers: WORKERS, extra: EXTRA },
  });
  let threadId = 0;
  let result;
  const attached = new Promise((resolve, reject) => {
    worker.on('message', (m) => {
      if (m.attached) resolve((threadId = m.attached));
      if (m.done) result = m.done;
    });
    worker.on('error', reject);
  });
  const done = new Promise((resolve, reject) => {
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (code === 0 && result) return resolve(result);
      // A worker that ended without h.detach() (a crash, worker.terminate()) keeps its thread slot
      // and cached blocks until some thread calls reclaimThread for it.
      if (threadId !== 0 && !result) heap.reclaimThread(threadId);
      reject(new Error(`worker ${index} exited with code ${code}`));
    });
  });
  return { worker, attached, done };
}
const started = Array.from({ length: WORKERS }, (_, i) => startWorker(i));
await Promise.all(started.map((w) => w.attached));
for (const w of started) w.worker.postMessage('go');
const results = await Promise.all(started.map((w) => w.done));

// 3. Append each worker's nodes (blocks the workers allocated) to the list.
for (const r of results) {
  console.log(`worker ${r.index} (thread ${r.threadId}): changed ${r.changed} nodes, added ${EXTRA} nodes`);
  heap.u32[tail >> 2] = r.extraHead;
  tail = r.extraTail;
}

// 4. Walk the whole list and check every node.
let count = 0;
let sum = 0;
const byThread = {};
const samples = [];
for (let node = head; node !== 0; node = heap.u32[node >> 2]) {
  const id = heap.i32[(node + 4) >> 2];
  const value = heap.f64[(node + 8) >> 3];
  const label = readLabel(heap, heap.u32[(node + 16) >> 2], heap.u32[(node + 20) >> 2]);
  const thread = heap.i32[(node + 24) >> 2];
  const expected = id < NODES ? id * 3 : id; // doubled by a worker, or a worker's own node
  if (value !== expected) throw new Error(`node ${id}: value ${value}, expected ${expected}`);
  count++;
  sum += value;
  byThread[thread] = (byThread[thread] ?? 0) + 1;
  if (id < 3 || id === NODES || id === NODES + EXTRA) samples.push(label);
}
console.log(`main: ${count} nodes, sum of values ${sum}; labels ${JSON.stringify(samples)}`);

// 5. Free every block, whichever thread allocated it: a block may be freed on any thread.
for (let node = head; node !== 0; ) {
  const next = heap.u32[node >> 2];
  heap.free(heap.u32[(node + 16) >> 2]); // the label
  heap.free(node);
  node = next;
}
heap.check(); // throws HeapCorruptionError if any of the heap's metadata is inconsistent
const blocksAfter = heap.stats().inUseBlocks;
console.log(`main: everything freed, heap.check() passed; blocks in use: ${blocksBefore} before, ${blocksAfter} after`);

// The line test/examples.test.ts reads.
console.log(
  `result ${JSON.stringify({ count, sum, samples, byThread, workers: results.map((r) => ({ index: r.index, threadId: r.threadId, changed: r.changed })), blocksBefore, blocksAfter })}`,
);
