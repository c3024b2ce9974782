/**
 * Route counters of the debug build (stats().routes): which path each malloc and free took, like
 * the native hakmem's free-route trace. The core calls heap.route(R_*) at its slow-path decision
 * points only; the fast paths count nothing, so their hits are the calls minus the slow ones.
 */
export const R_MALLOC_LARGE = 0; // > 32 KiB: a page run under the lock
export const R_MALLOC_REFILL = 1; // the thread's list of the class was empty: refilled from a slab (secure: a block from the slab)
export const R_MALLOC_SLOW = 2; // no slab with a free block: notified full slabs, adoption, a new slab
export const R_COLLECT = 3; // full slabs freed into by other threads were collected
export const R_FREE_SLOW = 4; // free left the fast path (list full, marker found, aligned block, not ours, large, error)
export const R_FREE_REMOTE = 5; // a block of a slab another thread owns (Atomics.or on its remote bitmap)
export const R_FREE_LARGE = 6; // a large block (under the lock)
export const R_FLUSH = 7; // a thread's list was full: its older half given back to the slabs
export const R_CONFIRM = 8; // a block carried the free-list marker: the double free was confirmed (or not) off the fast path
export const NROUTES = 9;

/** stats().routes in the debug build. */
export interface RouteStats {
  mallocs: number;
  /** mallocs served by the fast path: a pop from the thread's list of the class (list hits) */
  mallocFast: number;
  /** mallocs that found the list empty and refilled it from a slab */
  mallocRefill: number;
  mallocSlow: number;
  mallocLarge: number;
  collect: number;
  frees: number;
  /** frees done by the fast path: a block of this thread's slab pushed on the thread's list */
  freeFast: number;
  freeSlow: number;
  /** lists found full by free: their older half given back to the slabs */
  flush: number;
  /** blocks found carrying the free-list marker, checked against the list and the bitmap */
  confirm: number;
  freeRemote: number;
  freeLarge: number;
}
