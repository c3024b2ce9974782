// AssemblyScript module of examples/wasm-assemblyscript.mjs (compiled by examples/wasm/build.mjs).
// It has no allocator of its own: malloc and free are hakmem's, imported from JavaScript, and its
// memory is the WebAssembly.Memory that hakmem manages. Pointers are byte offsets into that memory,
// the same numbers JavaScript gets from heap.malloc.

// hakmem's malloc and free, passed in by JavaScript as the imports env.malloc and env.free
// (the @ts-ignore lines only quiet editors, whose TypeScript rejects decorators on declarations)
// @ts-ignore: decorator
@external("env", "malloc") declare function malloc(size: usize): usize;
// @ts-ignore: decorator
@external("env", "free") declare function free(ptr: usize): void;

/** Where this module's own data (constants, stack) ends: hakmem's heap must start past it. */
export function dataEnd(): usize {
  return __heap_base;
}

/**
 * Reads `count` points that JavaScript allocated and filled: each point is { x: f64, y: f64 }
 * (16 bytes). Returns the sum of x * y.
 */
export function sumOfProducts(points: usize, count: i32): f64 {
  let sum = 0.0;
  for (let i = 0; i < count; i++) {
    const p = points + (<usize>i << 4);
    sum += load<f64>(p) * load<f64>(p, 8);
  }
  return sum;
}

// A list node: { next: usize @0, value: i32 @4 } (8 bytes)

/** Allocates a list of `count` nodes with values 0, 1, 4, 9, ... (i * i); returns its head, 0 if out of memory. */
export function makeSquares(count: i32): usize {
  let head: usize = 0;
  for (let i = count - 1; i >= 0; i--) { // back to front: each new node becomes the head
    const node = malloc(8);
    if (node == 0) {
      freeList(head);
      return 0;
    }
    store<usize>(node, head);
    store<i32>(node, i * i, 4);
    head = node;
  }
  return head;
}

/** Frees every node of a list, whoever allocated it; returns how many were freed. */
export function freeList(head: usize): i32 {
  let n = 0;
  while (head != 0) {
    const next = load<usize>(head);
    free(head);
    head = next;
    n++;
  }
  return n;
}
