// An AssemblyScript module whose malloc and free are hakmem's, in a WebAssembly.Memory that hakmem
// manages: JavaScript and wasm allocate, read and free each other's blocks in one heap.
//
//   npm run build && node examples/wasm-assemblyscript.mjs
//
// examples/wasm/list.ts is the module; examples/wasm/build.mjs compiles it with asc (the
// `assemblyscript` devDependency) into node_modules/.cache/ the first time.
import { readFileSync } from 'node:fs';
import { createHeap } from 'hakmem';
import { buildAssemblyScript } from './wasm/build.mjs';

// 1. One memory for the module and the heap. Not shared: only this thread uses it (a shared one,
// `shared: true` with a maximum, would let workers attach to the heap too).
const memory = new WebAssembly.Memory({ initial: 1, maximum: 16384 }); // 64 KiB now, 1 GiB at most

// 2. Instantiate the module. Its imports malloc and free call hakmem; `heap` is created just below,
// before the module's code first runs. Pointers cross as wasm i32: `>>> 0` reads one as unsigned.
let heap;
const imports = {
  env: {
    memory,
    malloc: (size) => heap.malloc(size >>> 0),
    free: (ptr) => heap.free(ptr >>> 0),
  },
};
const module = new WebAssembly.Module(readFileSync(await buildAssemblyScript()));
const wasm = new WebAssembly.Instance(module, imports).exports;

// 3. The heap: the same memory, from past the module's own data to wherever the memory can grow.
heap = createHeap({ memory, start: wasm.dataEnd() });
const blocksBefore = heap.stats().inUseBlocks;
console.log(`module data ends at ${wasm.dataEnd()}; memory ${memory.buffer.byteLength} bytes`);

// 4. JavaScript allocates an array of points { x: f64, y: f64 }; wasm reads it.
const POINTS = 1000;
const points = heap.malloc(16 * POINTS);
const xy = heap.array(Float64Array, points, 2 * POINTS); // a typed view of this one block
for (let i = 0; i < POINTS; i++) {
  xy[2 * i] = i; // x
  xy[2 * i + 1] = 0.5; // y
}
const sumOfProducts = wasm.sumOfProducts(points, POINTS);
heap.free(points);
console.log(`wasm read ${POINTS} points JavaScript allocated: sum of x * y = ${sumOfProducts}`);

// 5. wasm allocates a list (node = { next: u32, value: i32 }) through hakmem; JavaScript reads it.
// 40,000 nodes need more memory than we started with: hakmem grows the WebAssembly.Memory, and
// heap.u32 / heap.i32 are views of its current buffer.
const NODES = 40_000; // (NODES - 1)² still fits in an i32
const squares = wasm.makeSquares(NODES) >>> 0;
if (squares === 0) throw new Error('out of memory');
let count = 0;
let sumOfSquares = 0;
const firstValues = [];
for (let node = squares; node !== 0; node = heap.u32[node >> 2]) {
  const value = heap.i32[(node + 4) >> 2];
  if (count < 5) firstValues.push(value);
  sumOfSquares += value;
  count++;
}
console.log(
  `JavaScript read wasm's list: ${count} nodes, first ${firstValues.join(', ')}, sum ${sumOfSquares}; memory now ${memory.buffer.byteLength} bytes`,
);

// 6. JavaScript builds a list of its own in the same layout; wasm frees it. Then wasm frees its own.
let mine = 0;
for (let i = 0; i < 100; i++) {
  const node = heap.malloc(8);
  heap.u32[node >> 2] = mine;
  heap.i32[(node + 4) >> 2] = i;
  mine = node;
}
const freedMine = wasm.freeList(mine);
const freedSquares = wasm.freeList(squares);
console.log(`wasm freed ${freedMine} nodes JavaScript allocated and its own ${freedSquares}`);

// 7. Everything is freed: the heap's metadata is consistent and no block is left.
heap.check();
const blocksAfter = heap.stats().inUseBlocks;
console.log(`heap.check() passed; blocks in use: ${blocksBefore} before, ${blocksAfter} after`);

// The line test/examples.test.ts reads.
console.log(
  `result ${JSON.stringify({ dataEnd: wasm.dataEnd(), sumOfProducts, count, firstValues, sumOfSquares, freedMine, freedSquares, memoryBytes: memory.buffer.byteLength, blocksBefore, blocksAfter })}`,
);
