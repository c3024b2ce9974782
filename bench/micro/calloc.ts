// Microbenchmark: calloc(1, n) + free pairs on one heap, per size, against malloc(n) + free.
//   node --import tsx bench/micro/calloc.ts
// 2M pairs per size after one untimed pass of 2M; prints ns per pair. Timings on this VM vary
// between processes: compare builds by alternating processes (see the commit that added it).
import { createHeap } from '../../src/index.ts';

const h = createHeap();
const N = 2_000_000;
for (const size of [24, 48, 100, 200, 1000]) {
  for (let pass = 0; pass < 2; pass++) {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) h.free(h.calloc(1, size));
    if (pass === 1) console.log(`${size} B: ${(((performance.now() - t0) * 1e6) / N).toFixed(1)} ns per calloc+free`);
  }
  const t0 = performance.now();
  for (let i = 0; i < N; i++) h.free(h.malloc(size));
  console.log(`${size} B: ${(((performance.now() - t0) * 1e6) / N).toFixed(1)} ns per malloc+free`);
}
