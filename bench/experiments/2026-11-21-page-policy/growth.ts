// Scratch: at each heap growth during a trace replay, the request and the free runs at that moment.
import { loadTrace, OP_A, OP_C, OP_F, OP_M, OP_NAMES, OP_R } from '../bench/trace.ts';
import { createHeap } from '../src/index.ts';
import { H_HIGH_WATER, H_FRONTIER, H_ARENA_START, KIND_MASK, K_FREE_HEAD, K_SLAB, K_LARGE_HEAD, K_CACHED_HEAD } from '../src/layout.ts';
import { getEntry } from '../src/pages.ts';
const t = loadTrace(process.argv[2]!);
const heap = createHeap();
const hwWord = heap.hw + H_HIGH_WATER;
const ptrs = new Float64Array(t.ids);
let last = heap.i32[hwWord]!;
const sizes = new Float64Array(t.ids);
for (let i = 0; i < t.ops; i++) {
  const k = t.kind[i]!, id = t.id[i]!, size = t.size[i]!;
  const old = k === OP_R ? sizes[id]! : 0;
  if (k === OP_F) heap.free(ptrs[id]!);
  else if (k === OP_R) { ptrs[t.newid[i]!] = heap.realloc(ptrs[id]!, size); sizes[t.newid[i]!] = size; }
  else if (k === OP_C) { ptrs[id] = heap.calloc(1, size); sizes[id] = size; }
  else if (k === OP_M) { ptrs[id] = heap.alignedAlloc(t.align[i]!, size); sizes[id] = size; }
  else if (k === OP_A) { ptrs[id] = heap.malloc(size); sizes[id] = size; }
  const now = heap.i32[hwWord]!;
  if (k !== OP_F && now !== last) {
    if (now > 11 << 20) {
      // walk runs
      const f = heap.i32[heap.hw + H_FRONTIER]! >>> 12;
      let pg = heap.i32[heap.hw + H_ARENA_START]! >>> 12;
      const free: number[] = []; let slabs = 0, large = 0, cached = 0; let layout = '';
      while (pg < f) {
        const e = getEntry(heap as never, pg); const kind = e & KIND_MASK;
        if (kind === K_FREE_HEAD) { const n = e >>> 4; free.push(n); layout += `F${n} `; pg += n; continue; }
        if (kind === K_LARGE_HEAD || kind === K_CACHED_HEAD) { const n = e >>> 4; layout += (kind === K_LARGE_HEAD ? 'L' : 'C') + n + ' '; if (kind === K_LARGE_HEAD) large += n; else cached += n; pg += n; continue; }
        if (kind === K_SLAB) { slabs++; layout += 's'; }
        else layout += '?';
        pg++;
      }
      free.sort((a, b) => b - a);
      console.log(`op ${i} ${OP_NAMES[k]} size ${size} (old ${old}) grew ${((now - last) / 4096) | 0} pages to ${(now / 1048576).toFixed(2)} MiB; free runs ${free.length}, total ${free.reduce((a, b) => a + b, 0)} pages, largest ${free.slice(0, 6).join(',')}`);
      if (process.argv[3]) console.log('   ' + layout.replace(/s+/g, (m) => `s${m.length} `).slice(-600));
    }
    last = now;
  }
}
