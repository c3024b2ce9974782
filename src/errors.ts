/**
 * Typed errors. Each names the pointer or value, the heap, and what to do next. The allocator's
 * state is never modified before an error is thrown, so the heap stays intact (check() passes).
 */

/** Base class of every error hakmem throws about a pointer or the heap's state. */
export class HakmemError extends Error {
  override name = 'HakmemError';
}

/** free/realloc/usableSize of a pointer that is not a block this heap handed out. */
export class InvalidFreeError extends HakmemError {
  override name = 'InvalidFreeError';
  constructor(
    readonly ptr: number,
    readonly reason: string,
    heapName: string,
  ) {
    super(
      `hakmem: invalid pointer ${fmt(ptr)} on ${heapName}: ${reason}. ` +
        `Pass only pointers returned by malloc/calloc/realloc/alignedAlloc of this heap.`,
    );
  }
}

/** free of a block that is already free (its allocated bit is clear). */
export class DoubleFreeError extends HakmemError {
  override name = 'DoubleFreeError';
  constructor(
    readonly ptr: number,
    readonly detail: string,
    heapName: string,
  ) {
    super(
      `hakmem: double free of ${fmt(ptr)} on ${heapName} (${detail}): the block is already free. ` +
        `Find the earlier free of this pointer (a block must be freed exactly once); run with hakmem/debug to have more misuse named.`,
    );
  }
}

/** Allocator metadata is inconsistent (found by check(), or by a slow path that validates). */
export class HeapCorruptionError extends HakmemError {
  override name = 'HeapCorruptionError';
  constructor(
    message: string,
    readonly where: number,
    heapName = 'the heap',
  ) {
    super(
      `hakmem: heap corruption at ${fmt(where)} on ${heapName}: ${message}. ` +
        `Something wrote over allocator metadata (an overflow or a use after free): run the program with hakmem/debug, ` +
        `whose canaries and poison name the block that was overrun or written after free.`,
    );
  }
}

export function fmt(ptr: unknown): string {
  if (typeof ptr === 'number' && Number.isInteger(ptr) && ptr >= 0) return `0x${ptr.toString(16)} (${ptr})`;
  return describe(ptr);
}

export function describe(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  return v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v);
}

/** A Heap object used after its thread's detach(). */
export class DetachedError extends HakmemError {
  override name = 'DetachedError';
}

/** mallocOrThrow could not get memory: the heap is at its maxBytes (or the memory cannot grow). */
export class HeapExhaustedError extends HakmemError {
  override name = 'HeapExhaustedError';
  constructor(
    readonly size: number,
    heapName: string,
    heapBytes: number,
  ) {
    super(
      `hakmem: ${heapName} cannot allocate ${size} bytes: it holds ${heapBytes} bytes and cannot grow further. ` +
        `Free blocks, or create the heap with a larger maxBytes (or a larger memory).`,
    );
  }
}

/** Debug build: bytes past a block's requested size were written (its canary is damaged). */
export class HeapOverflowError extends HakmemError {
  override name = 'HeapOverflowError';
  constructor(
    readonly ptr: number,
    readonly detail: string,
    heapName: string,
  ) {
    super(
      `hakmem: heap overflow of the block at ${fmt(ptr)} on ${heapName}: ${detail}. ` +
        `Something wrote past the size this block was allocated with.`,
    );
  }
}

/** Debug build: a freed block was written to before it was handed out again (its poison is damaged). */
export class UseAfterFreeError extends HakmemError {
  override name = 'UseAfterFreeError';
  constructor(
    readonly ptr: number,
    readonly detail: string,
    heapName: string,
  ) {
    super(
      `hakmem: write after free to the block at ${fmt(ptr)} on ${heapName}: ${detail}. ` +
        `A stale pointer to this block was used after free(); find who kept it.`,
    );
  }
}
