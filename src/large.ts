/**
 * Large blocks (> SLAB_MAX): whole runs of pages, described only by the page map (no in-band
 * header), so a block of exactly k pages costs exactly k pages and starts page-aligned.
 *
 * BigCache: a freed large block is parked whole in one of BC_SLOTS slots (its head page entry
 * becomes K_CACHED_HEAD) so that the next request of about the same size (within 1/8) reuses it
 * without splitting, coalescing or rewriting its page entries. The cache is bounded in pages (the
 * policy's: 1/P_BC_DIV of the pages in use, at least P_BC_PAGES; none for P_BC_DIV 0) and is flushed back into the page
 * allocator before a page-run allocation would split a free run or grow the heap (and before a
 * large block grows at the frontier), so it never raises the heap's high-water mark.
 */
import {
  BC_SLOTS,
  H_BC,
  H_BC_NEXT,
  H_BC_PAGES,
  H_FRONTIER,
  H_PEAK_PAGES,
  H_POLICY,
  H_USED_PAGES,
  K_CACHED_HEAD,
  K_FREE_HEAD,
  K_LARGE_BODY,
  P_BC_DIV,
  P_BC_PAGES,
  K_LARGE_HEAD,
  KIND_MASK,
  PAGE,
  PAGE_SHIFT,
} from './layout.ts';
import { getEntry, hasRunOf, markRun, setEntry, takeFreePrefix } from './pages.ts';
import type { Heap } from './heap.ts';

export function largePages(size: number): number {
  return Math.max(1, Math.ceil(size / PAGE));
}

/** Allocates a large block of n pages; returns its byte offset or 0. */
export function largeAlloc(h: Heap, n: number): number {
  const pg = bigCacheTake(h, n);
  if (pg >= 0) return pg << PAGE_SHIFT;
  const p = h.allocPages(n);
  if (p < 0) return 0;
  markRun(h, p, n, (n << 4) | K_LARGE_HEAD, (p << 4) | K_LARGE_BODY);
  return p << PAGE_SHIFT;
}

/** Allocates n pages whose first page is a multiple of `alignPages`; returns the byte offset or 0. */
export function largeAllocAligned(h: Heap, n: number, alignPages: number): number {
  const total = n + alignPages - 1;
  const p = h.allocPages(total);
  if (p < 0) return 0;
  const ap = Math.ceil(p / alignPages) * alignPages;
  markRun(h, ap, n, (n << 4) | K_LARGE_HEAD, (ap << 4) | K_LARGE_BODY);
  if (ap > p) h.freePages(p, ap - p);
  if (ap + n < p + total) h.freePages(ap + n, p + total - (ap + n));
  return ap << PAGE_SHIFT;
}

/** Frees the large block starting at page pg (already validated as K_LARGE_HEAD). */
export function largeFree(h: Heap, pg: number): void {
  const n = getEntry(h, pg) >>> 4;
  if (!bigCachePut(h, pg, n)) h.freePages(pg, n);
}

/**
 * Resizes the large block at page pg in place to `want` pages, if it can: shrinking gives the tail
 * back; growing takes the free run right after it or extends the frontier. Returns true on success.
 */
export function largeResizeInPlace(h: Heap, pg: number, want: number): boolean {
  const n = getEntry(h, pg) >>> 4;
  if (want === n) return true;
  if (want < n) {
    setEntry(h, pg, (want << 4) | K_LARGE_HEAD);
    h.freePages(pg + want, n - want);
    return true;
  }
  const next = pg + n;
  const extra = want - n;
  const frontier = h.m32[h.hw + H_FRONTIER]! >>> PAGE_SHIFT;
  if (next < frontier) {
    let e = getEntry(h, next);
    // A freed neighbour parked in the BigCache: give it back to the pool so we can grow into it.
    if ((e & KIND_MASK) === K_CACHED_HEAD && bigCacheEvictAt(h, next)) e = getEntry(h, next);
    if ((e & KIND_MASK) !== K_FREE_HEAD || e >>> 4 < extra) return false;
    takeFreePrefix(h, next, extra);
  } else {
    // Growing at the frontier raises the heap's high-water: if a free run (the BigCache's blocks
    // given back first) holds the whole block, realloc moves it there instead.
    bigCacheFlush(h);
    if (hasRunOf(h, want)) return false;
    const q = h.extendPages(extra);
    if (q < 0) return false;
    if (q !== next) {
      // A page-map leaf had to be placed first: the new pages are not adjacent.
      h.freePages(q, extra);
      return false;
    }
  }
  setEntry(h, pg, (want << 4) | K_LARGE_HEAD);
  for (let i = n; i < want; i++) setEntry(h, pg + i, (pg << 4) | K_LARGE_BODY);
  return true;
}

function bigCacheTake(h: Heap, n: number): number {
  const m = h.m32;
  if (m[h.hw + H_BC_PAGES] === 0) return -1;
  const limit = n + (n >>> 3);
  let best = -1;
  let bestLen = 0x7fffffff;
  for (let i = 0; i < BC_SLOTS; i++) {
    const len = m[h.hw + H_BC + 2 * i + 1]!;
    if (len >= n && len <= limit && len < bestLen) {
      best = i;
      bestLen = len;
    }
  }
  if (best < 0) return -1;
  const pg = m[h.hw + H_BC + 2 * best]! >>> PAGE_SHIFT;
  m[h.hw + H_BC + 2 * best] = 0;
  m[h.hw + H_BC + 2 * best + 1] = 0;
  m[h.hw + H_BC_PAGES]! -= bestLen;
  const used = (m[h.hw + H_USED_PAGES]! += bestLen);
  if (used > m[h.hw + H_PEAK_PAGES]!) m[h.hw + H_PEAK_PAGES] = used;
  setEntry(h, pg, (bestLen << 4) | K_LARGE_HEAD);
  return pg;
}

function bigCachePut(h: Heap, pg: number, n: number): boolean {
  const m = h.m32;
  const div = m[h.hw + H_POLICY + P_BC_DIV]!;
  if (div === 0) return false;
  const used = m[h.hw + H_USED_PAGES]! - n;
  const cap = Math.max(m[h.hw + H_POLICY + P_BC_PAGES]!, Math.floor(used / div));
  if (n > cap) return false;
  while (m[h.hw + H_BC_PAGES]! + n > cap) {
    if (!bigCacheEvictOne(h)) return false;
  }
  let slot = -1;
  for (let i = 0; i < BC_SLOTS; i++) {
    if (m[h.hw + H_BC + 2 * i + 1] === 0) {
      slot = i;
      break;
    }
  }
  if (slot < 0) {
    bigCacheEvictOne(h);
    slot = (m[h.hw + H_BC_NEXT]! + BC_SLOTS - 1) % BC_SLOTS;
  }
  m[h.hw + H_BC + 2 * slot] = pg << PAGE_SHIFT;
  m[h.hw + H_BC + 2 * slot + 1] = n;
  m[h.hw + H_BC_PAGES]! += n;
  m[h.hw + H_USED_PAGES]! -= n;
  setEntry(h, pg, (n << 4) | K_CACHED_HEAD);
  return true;
}

/** Evicts the slot at the round-robin cursor (or the next occupied one); false if the cache is empty. */
function bigCacheEvictOne(h: Heap): boolean {
  const m = h.m32;
  for (let k = 0; k < BC_SLOTS; k++) {
    const i = (m[h.hw + H_BC_NEXT]! + k) % BC_SLOTS;
    if (m[h.hw + H_BC + 2 * i + 1] === 0) continue;
    m[h.hw + H_BC_NEXT] = (i + 1) % BC_SLOTS;
    bigCacheRelease(h, i);
    return true;
  }
  return false;
}

/** Evicts the cached block that starts at page pg, if there is one. */
function bigCacheEvictAt(h: Heap, pg: number): boolean {
  const m = h.m32;
  for (let i = 0; i < BC_SLOTS; i++) {
    if (m[h.hw + H_BC + 2 * i + 1] !== 0 && m[h.hw + H_BC + 2 * i]! >>> PAGE_SHIFT === pg) {
      bigCacheRelease(h, i);
      return true;
    }
  }
  return false;
}

/** Empties slot i, giving its block's pages back to the page allocator. */
function bigCacheRelease(h: Heap, i: number): void {
  const m = h.m32;
  const len = m[h.hw + H_BC + 2 * i + 1]!;
  const pg = m[h.hw + H_BC + 2 * i]! >>> PAGE_SHIFT;
  m[h.hw + H_BC + 2 * i] = 0;
  m[h.hw + H_BC + 2 * i + 1] = 0;
  m[h.hw + H_BC_PAGES]! -= len;
  m[h.hw + H_USED_PAGES]! += len; // releaseRun subtracts them again
  h.freePages(pg, len); // (through the heap: the debug build clears pages going back to the pool)
}

/** Gives every cached block back to the page allocator; returns whether anything was released. */
export function bigCacheFlush(h: Heap): boolean {
  let any = false;
  while (bigCacheEvictOne(h)) any = true;
  return any;
}
