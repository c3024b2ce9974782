// The node layout and label helpers shared by workers-linked-list.mjs and its worker.

/** Bytes per node: next u32 @0, id i32 @4, value f64 @8, label u32 @16, labelLen u32 @20, thread i32 @24. */
export const NODE_SIZE = 32;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Copies `text` into a new block as UTF-8; returns [block, byte length]. */
export function writeLabel(heap, text) {
  const bytes = encoder.encode(text);
  const p = heap.malloc(bytes.length);
  if (p === 0) throw new Error('out of memory');
  heap.u8.set(bytes, p);
  return [p, bytes.length];
}

/** The label stored at `p` (`length` bytes). */
export function readLabel(heap, p, length) {
  // slice() copies out of the shared memory: TextDecoder does not accept views of a SharedArrayBuffer
  // in browsers
  return decoder.decode(heap.u8.slice(p, p + length));
}
