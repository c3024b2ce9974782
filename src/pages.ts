/**
 * The page map and the page-run allocator: the bottom layer every tier gets memory from.
 *
 * Memory is handed out in runs of 4 KiB pages. Free runs are kept in NBINS size bins (exact up to
 * 32 pages, then 4 bins per doubling), linked through their first page. Placement is the policy's
 * (P_PLACE in the header): PLACE_FIRST, a first fit in the request's bin and else the head of the
 * next non-empty bin (a bin mask makes that O(1)); or PLACE_BEST, the best fit, the lowest address
 * among equals (bestRun: a bounded walk of the first bins that hold a fit).
 * Freed runs coalesce at once with free neighbours (boundary tags in the page map), so free runs are
 * always maximal. When no run fits, the arena grows at its frontier (merging a free run that ends
 * there). Page-map leaves (4 KiB each, one per 4 MiB region) are placed at the frontier, before the
 * run that needs them, in zones that double: the zone placed when the arena first enters region r
 * holds the leaves of regions r .. 2r-1. Zones sit near powers of two, so leaves cut the arena into
 * few pieces (after everything is freed, a block of half the heap fits) while metadata stays
 * proportional to the heap (1/1024), not to maxBytes.
 *
 * Everything here runs on slow paths (slab refill, large blocks) under the heap's slow-path lock.
 */
import {
  H_ARENA_START,
  H_BINS,
  H_BIN_MASK,
  H_FREE_PAGES,
  H_FRONTIER,
  H_HIGH_WATER,
  H_MAX_END,
  H_POLICY,
  P_PLACE,
  PLACE_BEST,
  H_NULL_LEAF,
  H_PEAK_PAGES,
  H_TOP,
  H_USED_PAGES,
  K_FREE_BODY,
  K_FREE_HEAD,
  K_FREE_TAIL,
  K_META,
  KIND_MASK,
  LEAF_ENTRIES,
  NBINS,
  PAGE,
  PAGE_SHIFT,
  REGION_SHIFT,
  RUN_MAGIC,
  RUN_CHECK,
  RUN_NEXT,
  RUN_PAGES,
  RUN_PREV,
} from './layout.ts';

/** What the page layer needs from a heap: its current views, header position and growth. */
export interface Arena {
  /** @internal */
  m32: Int32Array;
  /** @internal */
  m8: Uint8Array;
  /** @internal Word index of the header's first word. */
  readonly hw: number;
  /** @internal Grows the buffer so that it covers `bytes` (and refreshes the views); false when impossible. */
  growTo(bytes: number): boolean;
}

const LEAF_SHIFT = REGION_SHIFT - PAGE_SHIFT; // 10

/** Word index of the page-map entry of page `pg` (the null leaf's if its region has no leaf). */
export function entryIndex(a: Arena, pg: number): number {
  return a.m32[a.hw + H_TOP + (pg >>> LEAF_SHIFT)]! + (pg & (LEAF_ENTRIES - 1));
}

export function getEntry(a: Arena, pg: number): number {
  return a.m32[entryIndex(a, pg)]!;
}

export function setEntry(a: Arena, pg: number, v: number): void {
  a.m32[entryIndex(a, pg)] = v;
}

/** Writes `head` for page pg and `body` for pages pg+1 .. pg+n-1. */
export function markRun(a: Arena, pg: number, n: number, head: number, body: number): void {
  setEntry(a, pg, head);
  for (let i = 1; i < n; i++) setEntry(a, pg + i, body);
}

export function binOf(n: number): number {
  if (n <= 32) return n - 1;
  const e = 31 - Math.clz32(n);
  const b = 32 + (e - 5) * 4 + ((n >>> (e - 2)) & 3);
  return b < NBINS ? b : NBINS - 1;
}

function binInsert(a: Arena, pg: number, n: number): void {
  const i32 = a.m32;
  const b = binOf(n);
  const bw = a.hw + H_BINS + b;
  const head = i32[bw]!;
  const w = pg << (PAGE_SHIFT - 2);
  i32[w + RUN_NEXT] = head;
  i32[w + RUN_PREV] = 0;
  i32[w + RUN_PAGES] = n;
  i32[w + RUN_CHECK] = RUN_MAGIC ^ pg;
  if (head !== 0) i32[(head >>> 2) + RUN_PREV] = pg << PAGE_SHIFT;
  i32[bw] = pg << PAGE_SHIFT;
  i32[a.hw + H_BIN_MASK + (b >>> 5)]! |= 1 << (b & 31);
}

function binRemove(a: Arena, pg: number, n: number): void {
  const i32 = a.m32;
  const b = binOf(n);
  const w = pg << (PAGE_SHIFT - 2);
  const next = i32[w + RUN_NEXT]!;
  const prev = i32[w + RUN_PREV]!;
  if (prev !== 0) i32[(prev >>> 2) + RUN_NEXT] = next;
  else i32[a.hw + H_BINS + b] = next;
  if (next !== 0) i32[(next >>> 2) + RUN_PREV] = prev;
  if (i32[a.hw + H_BINS + b] === 0) i32[a.hw + H_BIN_MASK + (b >>> 5)]! &= ~(1 << (b & 31));
}

/** Marks pages [pg, pg+n) as one free run and puts it in its bin (no coalescing). */
export function makeFree(a: Arena, pg: number, n: number): void {
  setEntry(a, pg, (n << 4) | K_FREE_HEAD);
  if (n > 1) setEntry(a, pg + n - 1, (n << 4) | K_FREE_TAIL);
  binInsert(a, pg, n);
}

/** Takes a run of exactly n pages from the bins; returns its first page, or -1. Entries are left for the caller to write. */
export function takeFromBins(a: Arena, n: number): number {
  const i32 = a.m32;
  const hw = a.hw;
  if (i32[hw + H_POLICY + P_PLACE] === PLACE_BEST) {
    const r = bestRun(a, n);
    return r < 0 ? -1 : takeRun(a, r, i32[(r << (PAGE_SHIFT - 2)) + RUN_PAGES]!, n);
  }
  let b = binOf(n);
  // First fit within the request's own bin (its runs may be shorter than n), bounded.
  let r = i32[hw + H_BINS + b]!;
  for (let steps = 0; r !== 0 && steps < 32; steps++) {
    const len = i32[(r >>> 2) + RUN_PAGES]!;
    if (len >= n) return takeRun(a, r >>> PAGE_SHIFT, len, n);
    r = i32[(r >>> 2) + RUN_NEXT]!;
  }
  // Any run in a higher bin is long enough: take the head of the lowest non-empty one.
  for (b = b + 1; b < NBINS; ) {
    const word = i32[hw + H_BIN_MASK + (b >>> 5)]! & (-1 << (b & 31));
    if (word === 0) {
      b = (b | 31) + 1;
      continue;
    }
    b = (b & ~31) + (31 - Math.clz32(word & -word));
    r = i32[hw + H_BINS + b]!;
    return takeRun(a, r >>> PAGE_SHIFT, i32[(r >>> 2) + RUN_PAGES]!, n);
  }
  return -1;
}

/** Runs bestRun looks at, at most (past that, the best so far). */
const BEST_STEPS = 256;

/**
 * The free run PLACE_BEST takes for n pages (its first page), or -1; changes nothing. Best fit, the
 * lowest address among equals (address-ordered best fit keeps fragmentation low: Wilson et al.,
 * "Dynamic Storage Allocation: A Survey", 1995; bench/experiments/2026-11-21-page-policy). Bins hold
 * one length each up to 32 pages and a range above, and a higher bin holds only longer runs, so the
 * walk goes up the bins from n's and stops at the end of the first one with a run that fits.
 */
function bestRun(a: Arena, n: number): number {
  const i32 = a.m32;
  const hw = a.hw;
  let best = -1;
  let bestLen = 0x7fffffff;
  let steps = 0;
  for (let b = binOf(n); b < NBINS; ) {
    const word = i32[hw + H_BIN_MASK + (b >>> 5)]! & (-1 << (b & 31));
    if (word === 0) {
      b = (b | 31) + 1;
      continue;
    }
    b = (b & ~31) + (31 - Math.clz32(word & -word));
    for (let r = i32[hw + H_BINS + b]!; r !== 0 && steps < BEST_STEPS; steps++) {
      const len = i32[(r >>> 2) + RUN_PAGES]!;
      const pg = r >>> PAGE_SHIFT;
      if (len >= n && (len < bestLen || (len === bestLen && pg < best))) {
        best = pg;
        bestLen = len;
      }
      r = i32[(r >>> 2) + RUN_NEXT]!;
    }
    if (best >= 0 || steps >= BEST_STEPS) break;
    b++;
  }
  return best;
}

/** Whether the bins hold a run of exactly n pages (n <= 32: its bin is not empty; else a bounded look at its bin). */
export function hasExactRun(a: Arena, n: number): boolean {
  const i32 = a.m32;
  let r = i32[a.hw + H_BINS + binOf(n)]!;
  if (n <= 32) return r !== 0;
  for (let steps = 0; r !== 0 && steps < 32; steps++) {
    if (i32[(r >>> 2) + RUN_PAGES] === n) return true;
    r = i32[(r >>> 2) + RUN_NEXT]!;
  }
  return false;
}

/** Whether takeFromBins(a, n) would find a run (changes nothing). */
export function hasRunOf(a: Arena, n: number): boolean {
  const i32 = a.m32;
  const hw = a.hw;
  const b = binOf(n);
  let r = i32[hw + H_BINS + b]!;
  for (let steps = 0; r !== 0 && steps < 32; steps++) {
    if (i32[(r >>> 2) + RUN_PAGES]! >= n) return true;
    r = i32[(r >>> 2) + RUN_NEXT]!;
  }
  for (let c = b + 1; c < NBINS; c = (c | 31) + 1) {
    if ((i32[hw + H_BIN_MASK + (c >>> 5)]! & (-1 << (c & 31))) !== 0) return true;
  }
  return false;
}

function takeRun(a: Arena, pg: number, len: number, n: number): number {
  binRemove(a, pg, len);
  if (len > n) {
    // The remainder keeps the tail entry (rewritten with its new length) and gets a new head.
    makeFree(a, pg + n, len - n);
  }
  const i32 = a.m32;
  i32[a.hw + H_FREE_PAGES]! -= n;
  addUsed(a, n);
  return pg;
}

function addUsed(a: Arena, n: number): void {
  const i32 = a.m32;
  const used = (i32[a.hw + H_USED_PAGES]! += n);
  if (used > i32[a.hw + H_PEAK_PAGES]!) i32[a.hw + H_PEAK_PAGES] = used;
}

/**
 * Returns pages [pg, pg+n) to the free pool, coalescing with free neighbours. The caller has
 * checked that the run is in use; its entries are overwritten here.
 */
export function releaseRun(a: Arena, pg: number, n: number): void {
  const i32 = a.m32;
  i32[a.hw + H_USED_PAGES]! -= n;
  i32[a.hw + H_FREE_PAGES]! += n;
  for (let i = 0; i < n; i++) setEntry(a, pg + i, K_FREE_BODY);
  let start = pg;
  let len = n;
  const arenaFirst = i32[a.hw + H_ARENA_START]! >>> PAGE_SHIFT;
  if (pg > arenaFirst) {
    const pe = getEntry(a, pg - 1);
    const pk = pe & KIND_MASK;
    if (pk === K_FREE_TAIL || pk === K_FREE_HEAD) {
      const plen = pe >>> 4;
      const pstart = pk === K_FREE_HEAD ? pg - 1 : pg - plen;
      binRemove(a, pstart, plen);
      setEntry(a, pg - 1, K_FREE_BODY);
      start = pstart;
      len += plen;
    }
  }
  const frontier = i32[a.hw + H_FRONTIER]! >>> PAGE_SHIFT;
  const nx = pg + n;
  if (nx < frontier) {
    const ne = getEntry(a, nx);
    if ((ne & KIND_MASK) === K_FREE_HEAD) {
      const nlen = ne >>> 4;
      binRemove(a, nx, nlen);
      setEntry(a, nx, K_FREE_BODY);
      len += nlen;
    }
  }
  if (len > 1) setEntry(a, start + len - 1, K_FREE_BODY); // cleared before makeFree rewrites it
  makeFree(a, start, len);
}

/**
 * Gets n pages at the frontier (merged with a free run that ends there), growing the buffer and
 * placing page-map leaves as needed. Returns the first page, or -1 if the heap cannot grow enough.
 */
export function extendFrontier(a: Arena, n: number): number {
  const hw = a.hw;
  for (;;) {
    const i32 = a.m32;
    const nullLeaf = i32[hw + H_NULL_LEAF]!;
    const f = i32[hw + H_FRONTIER]! >>> PAGE_SHIFT;
    if (i32[hw + H_TOP + (f >>> LEAF_SHIFT)] === nullLeaf) {
      if (!placeLeafZone(a, f >>> LEAF_SHIFT, f)) return -1;
      continue;
    }
    let start = f;
    const arenaFirst = i32[hw + H_ARENA_START]! >>> PAGE_SHIFT;
    let tailLen = 0;
    if (f > arenaFirst) {
      const e = getEntry(a, f - 1);
      const k = e & KIND_MASK;
      if (k === K_FREE_TAIL || k === K_FREE_HEAD) {
        tailLen = e >>> 4;
        start = k === K_FREE_HEAD ? f - 1 : f - tailLen;
        if (tailLen >= n) return takeRun(a, start, tailLen, n); // the bins' bounded search missed it
      }
    }
    const end = start + n; // first page after the run
    let missing = -1;
    for (let r = (f >>> LEAF_SHIFT) + 1; r <= (end - 1) >>> LEAF_SHIFT; r++) {
      if (i32[hw + H_TOP + r] === nullLeaf) {
        missing = r;
        break;
      }
    }
    if (missing >= 0) {
      if ((end + 1) * PAGE > i32[hw + H_MAX_END]!) return -1; // the run (after its leaves) cannot fit anyway
      // The leaves go first, at the frontier; the run then starts after them.
      if (!placeLeafZone(a, missing, f)) return -1;
      continue;
    }
    // The next region's leaves would no longer fit between this run and that region: place them
    // now, before the run, so that they end up below the region and not at its start (a block as
    // large as the regions above can then still find them whole once everything is freed).
    const next = ((end - 1) >>> LEAF_SHIFT) + 1;
    if (
      next <= (i32[hw + H_MAX_END]! - 1) >>> REGION_SHIFT &&
      i32[hw + H_TOP + next] === nullLeaf &&
      (next << LEAF_SHIFT) - end < zoneSize(a, next) &&
      (end + zoneSize(a, next)) * PAGE <= i32[hw + H_MAX_END]!
    ) {
      if (!placeLeafZone(a, next, f)) return -1;
      continue;
    }
    const endByte = end * PAGE;
    if (endByte > i32[hw + H_MAX_END]! || !a.growTo(endByte)) return -1;
    const j32 = a.m32; // views may have been rebuilt
    if (tailLen > 0) {
      binRemove(a, start, tailLen);
      j32[hw + H_FREE_PAGES]! -= tailLen;
    }
    j32[hw + H_FRONTIER] = endByte;
    if (endByte > j32[hw + H_HIGH_WATER]!) j32[hw + H_HIGH_WATER] = endByte;
    addUsed(a, n);
    return start;
  }
}

/**
 * Places a zone of leaves at page pg (the frontier): for regions r .. r+z-1, z = max(1, regions
 * that already have leaves), limited to the regions below the heap's end. The zone's own pages lie
 * in regions that have leaves or that the zone covers. Advances the frontier past it.
 */
/** The pages of the leaf zone placed for region r (see placeLeafZone), before it is trimmed to fit the heap's end. */
function zoneSize(a: Arena, r: number): number {
  const hw = a.hw;
  const nullLeaf = a.m32[hw + H_NULL_LEAF]!;
  let have = 0;
  for (let i = 0; i < r; i++) if (a.m32[hw + H_TOP + i] !== nullLeaf) have++;
  return Math.min(Math.max(1, have), ((a.m32[hw + H_MAX_END]! - 1) >>> REGION_SHIFT) - r + 1);
}

function placeLeafZone(a: Arena, r: number, pg: number): boolean {
  const hw = a.hw;
  const maxEnd = a.m32[hw + H_MAX_END]!;
  let z = zoneSize(a, r);
  while (z > 1 && (pg + z) * PAGE > maxEnd) z--;
  const endByte = (pg + z) * PAGE;
  if (z < 1 || endByte > maxEnd || !a.growTo(endByte)) return false;
  const i32 = a.m32;
  i32.fill(0, pg << (PAGE_SHIFT - 2), (pg + z) << (PAGE_SHIFT - 2));
  for (let i = 0; i < z; i++) i32[hw + H_TOP + r + i] = (pg + i) << (PAGE_SHIFT - 2);
  for (let i = 0; i < z; i++) setEntry(a, pg + i, K_META);
  i32[hw + H_FRONTIER] = endByte;
  if (endByte > i32[hw + H_HIGH_WATER]!) i32[hw + H_HIGH_WATER] = endByte;
  addUsed(a, z);
  return true;
}

/** Takes the first `need` pages of the free run that starts at page pg (the caller checked its length). */
export function takeFreePrefix(a: Arena, pg: number, need: number): void {
  takeRun(a, pg, getEntry(a, pg) >>> 4, need);
}
