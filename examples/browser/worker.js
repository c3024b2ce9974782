// A Web Worker of the browser example (see main.js): attaches to the page's heap, moves its share
// of the particles, replaces every tenth one with a block of its own, and leaves a summary block.
import { attachHeap } from '/dist/index.js';

const PARTICLE_SIZE = 40;

let h; // this thread's Heap

self.onmessage = (e) => {
  try {
    if (e.data.handle) {
      // First message: attach (the same memory, this thread's own caches and thread id) and say so.
      h = attachHeap(e.data.handle);
      self.postMessage({ attached: h.threadId });
    } else {
      // Second message: the go, once every worker has attached, so that they work at the same time.
      self.postMessage(work(e.data));
    }
  } catch (err) {
    self.postMessage({ error: `${err?.name}: ${err?.message}` });
  }
};

function work({ table, from, to, steps }) {
  let replaced = 0;
  for (let step = 0; step < steps; step++) {
    for (let i = from; i < to; i++) {
      let p = h.u32[(table >> 2) + i];
      if (step === 0 && i % 10 === 0) {
        // Replace the particle: copy it into a block of ours, free the page's block here.
        const q = h.malloc(PARTICLE_SIZE);
        h.u8.copyWithin(q, p, p + PARTICLE_SIZE);
        h.i32[(q + 36) >> 2] = h.threadId;
        h.free(p);
        h.u32[(table >> 2) + i] = q;
        p = q;
        replaced++;
      }
      h.f64[p >> 3] += h.f64[(p + 16) >> 3]; // x += vx
      h.f64[(p + 8) >> 3] += h.f64[(p + 24) >> 3]; // y += vy
      h.i32[(p + 32) >> 2]++;
    }
  }
  // A summary struct { particles i32, replaced i32, sumX f64 } for the page, which frees it.
  let sumX = 0;
  for (let i = from; i < to; i++) sumX += h.f64[h.u32[(table >> 2) + i] >> 3];
  const summary = h.malloc(16);
  h.i32[summary >> 2] = to - from;
  h.i32[(summary + 4) >> 2] = replaced;
  h.f64[(summary + 8) >> 3] = sumX;
  const threadId = h.threadId;
  h.detach(); // leave the heap: our blocks stay live, our thread slot is free again
  return { summary, threadId };
}
