/**
 * Repair after a thread died inside the slow-path lock (reclaimThread took the lock over).
 *
 * The dead thread may have left any page-level structure half-changed: a run half-marked, a bin
 * list half-linked, a BigCache slot half-written, an abandoned slab half-adopted. The page map is
 * the ground truth, read with strict rules: a slab exists only if its first page's entry is a slab
 * head whose header has the right magic and every page of it says so; a large block only if its
 * head and every body entry agree; leaves and thread records only where the header points at them.
 * Every other page in the arena is free. From that the free runs (maximal, in their bins), the
 * page counters, the BigCache (emptied) and the abandoned lists (every ownerless slab) are rebuilt.
 * What the dead thread was in the middle of allocating is thereby freed; what it was freeing is
 * freed; live blocks of every thread are untouched. Bounded by the arena's page count.
 */
import {
  BC_SLOTS,
  BIN_MASK_WORDS,
  H_ABANDONED,
  H_ARENA_START,
  H_BC,
  H_BC_PAGES,
  H_BINS,
  H_BIN_MASK,
  H_FREE_PAGES,
  H_FRONTIER,
  H_HIGH_WATER,
  H_MAX_THREADS,
  H_NULL_LEAF,
  H_PEAK_PAGES,
  H_THREADS,
  H_TOP,
  H_USED_PAGES,
  K_FREE_BODY,
  K_LARGE_BODY,
  K_LARGE_HEAD,
  K_META,
  K_SLAB,
  KIND_MASK,
  NBINS,
  OWNER_TID_MASK,
  PAGE_SHIFT,
  S_CLASS,
  S_MAGIC,
  S_NEXT,
  S_OWNER,
  S_PAGES,
  SLAB_MAGIC,
  TOP_ENTRIES,
  E_SLAB_DIST_MASK,
  slabDist,
  E_FRESH,
  slabEntry,
} from './layout.ts';
import { getEntry, makeFree, setEntry, type Arena } from './pages.ts';
import { NCLASSES } from './size-classes.ts';

export function repairPages(a: Arena): void {
  const hw = a.hw;
  let m = a.m32;
  const nullLeaf = m[hw + H_NULL_LEAF]!;
  const keep = new Set<number>(); // leaf and thread-record pages
  let end = m[hw + H_FRONTIER]! >>> PAGE_SHIFT;
  for (let r = 0; r < TOP_ENTRIES; r++) {
    const leaf = m[hw + H_TOP + r]!;
    if (leaf === nullLeaf) continue;
    const lp = leaf >>> (PAGE_SHIFT - 2);
    keep.add(lp);
    if (lp + 1 > end) end = lp + 1; // a leaf zone placed just before the frontier moved
  }
  // The buffer already covers a placed zone (growth comes first), but this thread's view may not.
  if (end << PAGE_SHIFT > m.length * 4) a.growTo(end << PAGE_SHIFT);
  m = a.m32;
  m[hw + H_FRONTIER] = end << PAGE_SHIFT;
  if (m[hw + H_HIGH_WATER]! < end << PAGE_SHIFT) m[hw + H_HIGH_WATER] = end << PAGE_SHIFT;
  for (const lp of keep) setEntry(a, lp, K_META);
  const maxThreads = m[hw + H_MAX_THREADS]!;
  for (let i = 0; i < maxThreads; i++) {
    const rec = m[hw + H_THREADS + i]!;
    if (rec !== 0) keep.add(rec >>> (PAGE_SHIFT - 2));
  }
  for (let i = 0; i < BC_SLOTS * 2; i++) m[hw + H_BC + i] = 0;
  m[hw + H_BC_PAGES] = 0;
  for (let i = 0; i < NBINS; i++) m[hw + H_BINS + i] = 0;
  for (let i = 0; i < BIN_MASK_WORDS; i++) m[hw + H_BIN_MASK + i] = 0;
  for (let c = 0; c < NCLASSES; c++) m[hw + H_ABANDONED + c] = 0;

  let used = 0;
  let free = 0;
  let runStart = -1;
  const first = m[hw + H_ARENA_START]! >>> PAGE_SHIFT;
  for (let pg = first; pg < end; ) {
    const e = getEntry(a, pg);
    const k = e & KIND_MASK;
    let n = 0; // pages of a valid object starting at pg
    if (k === K_META && keep.has(pg)) {
      n = 1;
    } else if (k === K_SLAB && slabDist(e) === 0) {
      const s = pg << (PAGE_SHIFT - 2);
      const pages = m[s + S_PAGES]!;
      if (m[s + S_MAGIC] === (SLAB_MAGIC ^ (s << 2)) && pages >= 1 && pages <= E_SLAB_DIST_MASK + 1 && pg + pages <= end) {
        let ok = true;
        for (let i = 1; i < pages && ok; i++) {
          const f = getEntry(a, pg + i);
          ok = (f & KIND_MASK) === K_SLAB && slabDist(f) === i;
        }
        if (ok) {
          n = pages;
          const owner = m[s + S_OWNER]!;
          const cls = m[s + S_CLASS]!;
          for (let i = 0; i < pages; i++) setEntry(a, pg + i, slabEntry(owner, cls, i) | (getEntry(a, pg + i) & E_FRESH));
          if ((owner & OWNER_TID_MASK) === 0) {
            m[s + S_NEXT] = m[hw + H_ABANDONED + cls]!;
            m[hw + H_ABANDONED + cls] = s;
          }
        }
      }
    } else if (k === K_LARGE_HEAD) {
      const len = e >>> 4;
      let ok = len >= 1 && pg + len <= end;
      for (let i = 1; i < len && ok; i++) ok = getEntry(a, pg + i) === ((pg << 4) | K_LARGE_BODY);
      if (ok) n = len;
    }
    if (n > 0) {
      if (runStart >= 0) {
        makeFree(a, runStart, pg - runStart);
        free += pg - runStart;
        runStart = -1;
      }
      used += n;
      pg += n;
    } else {
      if (runStart < 0) runStart = pg;
      setEntry(a, pg, K_FREE_BODY);
      pg++;
    }
  }
  if (runStart >= 0) {
    makeFree(a, runStart, end - runStart);
    free += end - runStart;
  }
  m[hw + H_USED_PAGES] = used;
  m[hw + H_FREE_PAGES] = free;
  if (m[hw + H_PEAK_PAGES]! < used) m[hw + H_PEAK_PAGES] = used;
}
