/**
 * Site handles (heap.site(name)): the native hakmem routed by call site, found by hashing the
 * caller's address on every call. JavaScript has no cheap caller address, so a site is explicit: a
 * handle made once, whose malloc / calloc / realloc / free are the heap's own calls (the heap is a
 * property of the handle: no hash, no lookup per call). Mode research's handles (research.ts
 * ResearchSite) count calls, bytes, sizes and sampled lifetimes. Routing blocks differently per
 * site is not built: docs/modes.md says why.
 */
import type { Heap } from './heap.ts';

export class Site {
  /** The heap (this thread's) whose calls the handle makes. */
  declare readonly heap: Heap;
  /** The site's name. */
  declare readonly name: string;

  /** @internal Use heap.site(name). */
  constructor(heap: Heap, name: string) {
    this.heap = heap;
    this.name = name;
  }

  /** heap.malloc(size). */
  malloc(size: number): number {
    return this.heap.malloc(size);
  }

  /** heap.calloc(count, size). */
  calloc(count: number, size: number): number {
    return this.heap.calloc(count, size);
  }

  /** heap.realloc(ptr, size). */
  realloc(ptr: number, size: number): number {
    return this.heap.realloc(ptr, size);
  }

  /** heap.free(ptr). */
  free(ptr: number | ArrayBufferView): void {
    this.heap.free(ptr);
  }
}
