/**
 * Route counters of the debug build (stats().routes): which path each malloc and free took, like
 * the native hakmem's free-route trace. The core calls heap.route(R_*) at its slow-path decision
 * points only; the fast paths count nothing, so their hits are the calls minus the slow ones.
 */
export const R_MALLOC_LARGE = 0; // > 32 KiB: a page run under the lock
export const R_MALLOC_REFILL = 1; // the current slab's free list was empty (carve, collect, next partial slab)
export const R_MALLOC_SLOW = 2; // no slab with a free block: notified full slabs, adoption, a new slab
export const R_COLLECT = 3; // full slabs freed into by other threads were collected
export const R_FREE_SLOW = 4; // free left the fast path (full slab, aligned block, not ours, large, error)
export const R_FREE_REMOTE = 5; // a block of a slab another thread owns (Atomics.or on its remote bitmap)
export const R_FREE_LARGE = 6; // a large block (under the lock)
export const NROUTES = 7;

/** stats().routes in the debug build. */
export interface RouteStats {
  mallocs: number;
  /** mallocs served by the fast path: the current slab's free list */
  mallocFast: number;
  mallocRefill: number;
  mallocSlow: number;
  mallocLarge: number;
  collect: number;
  frees: number;
  /** frees done by the fast path: a block of this thread's slab pushed on its free list */
  freeFast: number;
  freeSlow: number;
  freeRemote: number;
  freeLarge: number;
}
