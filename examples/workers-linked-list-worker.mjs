// A worker of workers-linked-list.mjs: attaches to the main thread's heap, changes its share of the
// list's nodes, and builds a short list of its own for the main thread to append.
import { parentPort, workerData } from 'node:worker_threads';
import { attachHeap } from 'hakmem';
import { NODE_SIZE, writeLabel } from './workers-linked-list-node.mjs';

const { handle, head, index, workers, extra } = workerData;
const h = attachHeap(handle); // this thread's Heap: the same memory, its own caches and thread id

// Tell the main thread our thread id, then wait for its go: both workers work at the same time.
parentPort.postMessage({ attached: h.threadId });
await new Promise((resolve) => parentPort.once('message', resolve));

// Walk the whole list; the nodes whose id % workers === index are this worker's (the other worker
// changes the others at the same time, so no two threads ever write the same node).
let changed = 0;
let last = 0;
for (let node = head; node !== 0; node = h.u32[node >> 2]) {
  last = node;
  const id = h.i32[(node + 4) >> 2];
  if (id % workers !== index) continue;
  h.f64[(node + 8) >> 3] *= 2;
  // Replace the label: free the old block (the main thread allocated it) and allocate a new one here.
  h.free(h.u32[(node + 16) >> 2]);
  const [label, labelLen] = writeLabel(h, `node ${id} (worker ${index})`);
  h.u32[(node + 16) >> 2] = label;
  h.u32[(node + 20) >> 2] = labelLen;
  h.i32[(node + 24) >> 2] = h.threadId;
  changed++;
}

// Build `extra` nodes of our own, with ids after the main thread's (last id + 1 + index * extra ...).
const firstId = h.i32[(last + 4) >> 2] + 1 + index * extra;
let extraHead = 0;
let extraTail = 0;
for (let j = 0; j < extra; j++) {
  const id = firstId + j;
  const node = h.calloc(1, NODE_SIZE); // zeroed: next = 0
  const [label, labelLen] = writeLabel(h, `extra ${j} of worker ${index}`);
  h.i32[(node + 4) >> 2] = id;
  h.f64[(node + 8) >> 3] = id;
  h.u32[(node + 16) >> 2] = label;
  h.u32[(node + 20) >> 2] = labelLen;
  h.i32[(node + 24) >> 2] = h.threadId;
  if (extraTail === 0) extraHead = node;
  else h.u32[extraTail >> 2] = node;
  extraTail = node;
}

// Leave the heap: the blocks allocated here stay live (the main thread frees them), and this
// thread's slot is free for another worker. `h` must not be used after detach().
const threadId = h.threadId;
h.detach();
parentPort.postMessage({ done: { index, threadId, changed, extraHead, extraTail } });
