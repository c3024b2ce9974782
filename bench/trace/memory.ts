// Where hakmem's heap high-water comes from on a trace (untimed, deterministic):
//   node --import tsx bench/trace/memory.ts ../shared/traces/python-json.trace.gz [...more traces]
// Replays each single-thread trace on a fresh createHeap() (no content checks) and prints the trace's
// peak live bytes, the heap's high-water and their ratio (the issue-4 target is <= 1.3x), then which
// kind of operation (a, c, m, r) and size tier made the heap grow, and the heap's state at the last
// few growth steps (bytes in use vs free in slabs, free page runs and the BigCache).
import { loadTrace, OP_A, OP_C, OP_F, OP_M, OP_NAMES, OP_R } from './core.ts';
import { createHeap } from '../../src/index.ts';
import { H_HIGH_WATER } from '../../src/layout.ts';

const MiB = (n: number) => (n / 2 ** 20).toFixed(2);
const tier = (size: number) => (size <= 1024 ? 'small' : size <= 32768 ? 'mid' : 'large');

for (const file of process.argv.slice(2)) {
  const t = loadTrace(file);
  if (t.threads !== 1) {
    console.log(`${t.name}: ${t.threads} threads, skipped (single-thread traces only)`);
    continue;
  }
  const heap = createHeap();
  const hwWord = heap.hw + H_HIGH_WATER;
  const ptrs = new Float64Array(t.ids);
  const grownBy = new Map<string, number>();
  const steps: string[] = [];
  let last = heap.i32[hwWord]!;
  let reported = last;
  for (let i = 0; i < t.ops; i++) {
    const k = t.kind[i]!;
    const id = t.id[i]!;
    const size = t.size[i]!;
    if (k === OP_F) heap.free(ptrs[id]!);
    else if (k === OP_R) ptrs[t.newid[i]!] = heap.realloc(ptrs[id]!, size);
    else if (k === OP_C) ptrs[id] = heap.calloc(1, size);
    else if (k === OP_M) ptrs[id] = heap.alignedAlloc(t.align[i]!, size);
    else if (k === OP_A) ptrs[id] = heap.malloc(size);
    if (k !== OP_F && heap.i32[hwWord] !== last) {
      const now = heap.i32[hwWord]!;
      const key = `${OP_NAMES[k]} ${tier(size)}`;
      grownBy.set(key, (grownBy.get(key) ?? 0) + (now - last));
      last = now;
      if (now - reported >= 256 * 1024) {
        reported = now;
        const s = heap.stats();
        steps.push(
          `  op ${i}: high-water ${MiB(s.heapHighWater)}, in use ${MiB(s.inUseBytes)}, free in small slabs ${MiB(s.freeBytes.small)}, ` +
            `mid slabs ${MiB(s.freeBytes.mid)}, page runs ${MiB(s.freeBytes.pages)}, BigCache ${MiB(s.freeBytes.bigCache)}`,
        );
      }
    }
  }
  const hw = heap.stats().heapHighWater;
  console.log(`${t.name}: peak live ${MiB(t.peakLiveBytes)} MiB, heap high-water ${MiB(hw)} MiB, ${(hw / t.peakLiveBytes).toFixed(2)}x`);
  console.log(
    `  growth by operation: ${[...grownBy]
      .sort((x, y) => y[1] - x[1])
      .map(([k, v]) => `${k} ${MiB(v)}`)
      .join(', ')} (MiB)`,
  );
  console.log(steps.slice(-4).join('\n'));
}
