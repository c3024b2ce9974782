// A C program compiled to wasm32 whose malloc and free are hakmem's: C builds a list of strings in
// the heap, JavaScript reads it; JavaScript builds a list, C reads and frees it.
//
//   npm run build && node examples/wasm-c.mjs
//
// examples/wasm/list.c is the program; examples/wasm/build.mjs compiles it the first time with
// clang --target=wasm32 and wasm-ld (Debian: apt-get install -y clang lld) into node_modules/.cache/.
import { readFileSync } from 'node:fs';
import { createHeap } from 'hakmem';
import { buildC } from './wasm/build.mjs';

// 1. One memory for the program and the heap; the program's imports malloc and free call hakmem
// (`heap` is created below, before any C code runs). Pointers cross as wasm i32: `>>> 0` makes
// one unsigned.
const memory = new WebAssembly.Memory({ initial: 2, maximum: 16384 }); // 128 KiB now (data + 64 KiB stack), 1 GiB at most
let heap;
const imports = {
  env: {
    memory,
    malloc: (size) => heap.malloc(size >>> 0), // 0 when out of memory: NULL in C
    free: (ptr) => heap.free(ptr >>> 0),
  },
};
const module = new WebAssembly.Module(readFileSync(await buildC()));
const c = new WebAssembly.Instance(module, imports).exports;

// 2. The heap starts past the program's data and stack (the linker's __heap_base).
heap = createHeap({ memory, start: c.data_end() });
const blocksBefore = heap.stats().inUseBlocks;

// Reading C's data: struct entry { struct entry *next; int32_t number; char *text; } (12 bytes),
// text a NUL-terminated string.
const decoder = new TextDecoder();
function cString(p) {
  let end = p;
  while (heap.u8[end] !== 0) end++;
  return decoder.decode(heap.u8.subarray(p, end));
}

// 3. C allocates a list of 1000 entries (i * i and its decimal text); JavaScript reads it.
const N = 1000;
const squares = c.make_squares(N) >>> 0;
if (squares === 0) throw new Error('out of memory');
const texts = [];
let numbers = 0;
for (let e = squares; e !== 0; e = heap.u32[e >> 2]) {
  const number = heap.i32[(e + 4) >> 2];
  const text = cString(heap.u32[(e + 8) >> 2]);
  if (text !== String(number)) throw new Error(`entry ${number} has text ${text}`);
  texts.push(text);
  numbers += number;
}
console.log(`JavaScript read C's list: ${texts.length} entries, ${texts.slice(0, 5).join(', ')}, ...; sum ${numbers}`);

// 4. C joins the texts into one new string; JavaScript reads it and frees it.
const joined = c.join(squares, ','.charCodeAt(0)) >>> 0;
const joinedText = cString(joined);
heap.free(joined);
console.log(`C joined them: ${joinedText.length} characters, "${joinedText.slice(0, 30)}..."`);

// 5. JavaScript builds a list in C's layout (text NULL); C sums it, then frees it.
let mine = 0;
for (let i = 1; i <= 100; i++) {
  const e = heap.calloc(1, 12); // zeroed: text = NULL
  heap.u32[e >> 2] = mine;
  heap.i32[(e + 4) >> 2] = i;
  mine = e;
}
const sumOfMine = c.sum(mine); // int64_t arrives as a BigInt
const freedMine = c.free_entries(mine);
console.log(`C summed the list JavaScript built: ${sumOfMine}; and freed its ${freedMine} entries`);

// 6. C frees its own list (entries and texts); nothing is left.
const freedSquares = c.free_entries(squares);
heap.check();
const blocksAfter = heap.stats().inUseBlocks;
console.log(`C freed its ${freedSquares} entries; heap.check() passed; blocks in use: ${blocksBefore} before, ${blocksAfter} after`);

// The line test/examples.test.ts reads.
console.log(
  `result ${JSON.stringify({ dataEnd: c.data_end(), count: texts.length, first: texts.slice(0, 5), last: texts.at(-1), numbers, joined: joinedText, sumOfMine: String(sumOfMine), freedMine, freedSquares, blocksBefore, blocksAfter })}`,
);
