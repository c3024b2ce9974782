/**
 * Slabs: a run of pages cut into equal blocks of one size class, with its header on its first page.
 *
 * A slab's blocks are in exactly one of three states: handed out (its bit in the slab's bitmap is
 * set, counted in S_USED), on the slab's free list S_FREE, or never carved yet (at or past S_BUMP).
 * The free list is extended lazily, at most ~4 KiB of blocks at a time, so a new slab touches
 * little memory. A thread holds, per class, one *current* slab (malloc pops from it) and a list of
 * *partial* slabs; a slab whose blocks are all handed out is *full* (OWNER_FULL, in no list) until
 * a free relists it; a slab whose last block is freed returns its pages to the page allocator,
 * where any class or a large block can use them (unless it is the current slab of its class).
 *
 * Invariant: used + (blocks on S_FREE) + (uncarved blocks) = S_CAP, and a block's bit is set iff it
 * is handed out (at the block start, or at the aligned pointer inside it for alignedAlloc).
 */
import {
  K_SLAB, OWNER_ALIGNED, OWNER_FULL, OWNER_TID_MASK, PAGE, PAGE_SHIFT, S_BITMAP, S_BSIZE, S_BUMP, S_CAP,
  S_CLASS, S_END, S_FIRST, S_FREE, S_MAGIC, S_NEXT, S_OWNER, S_PAGES, S_PREV, S_REMOTE, S_USED, SLAB_MAGIC,
  slabHeaderBytes,
} from './layout.ts';
import { markRun } from './pages.ts';
import { CLASS_SIZE, NCLASSES, SLAB_PAGES } from './size-classes.ts';
import type { Heap } from './heap.ts';

/** Largest number of bytes of blocks carved into the free list at once. */
const CARVE_BYTES = 4096;

// Thread-record tables, as word offsets from h.tcur (the current-slab table), NCLASSES words each.
export const TQ_HEAD = NCLASSES; // partial queue head per class
export const TQ_TAIL = 2 * NCLASSES; // partial queue tail per class
export const T_STEP = 3 * NCLASSES; // slab growth step per class
/** Slabs grow to at most this many pages (64 KiB), or the class's base size if that is larger. */
const GROW_PAGES = 16;

/** Pages of the next new slab of class cls at growth step `step`. */
export function slabPagesAt(cls: number, step: number): number {
  const base = SLAB_PAGES[cls]!;
  return Math.max(base, Math.min(base << step, GROW_PAGES));
}

/** Formats pages [pg, pg+pages) as an empty slab of class `cls` owned by `tid`; returns its word index. */
export function slabInit(h: Heap, pg: number, pages: number, cls: number, tid: number): number {
  const bsize = CLASS_SIZE[cls]!;
  const base = pg << PAGE_SHIFT;
  const hdr = slabHeaderBytes(pages);
  const cap = Math.floor((pages * PAGE - hdr) / bsize);
  const m = h.m32;
  const s = base >>> 2;
  m.fill(0, s, s + (hdr >>> 2));
  m[s + S_OWNER] = tid;
  m[s + S_CLASS] = cls;
  m[s + S_BSIZE] = bsize;
  m[s + S_CAP] = cap;
  m[s + S_FIRST] = base + hdr;
  m[s + S_BUMP] = base + hdr;
  m[s + S_END] = base + hdr + cap * bsize;
  m[s + S_PAGES] = pages;
  m[s + S_MAGIC] = SLAB_MAGIC ^ base;
  markRun(h, pg, pages, (pg << 4) | K_SLAB, (pg << 4) | K_SLAB);
  return s;
}

/** Carves up to CARVE_BYTES of never-used blocks onto the (empty) free list. Returns false if none are left. */
export function slabCarve(h: Heap, s: number): boolean {
  const m = h.m32;
  const bump = m[s + S_BUMP]!;
  const end = m[s + S_END]!;
  if (bump >= end) return false;
  const bsize = m[s + S_BSIZE]!;
  let n = Math.floor(CARVE_BYTES / bsize);
  if (n < 1) n = 1;
  const last = Math.min(end, bump + n * bsize) - bsize;
  for (let p = bump; p < last; p += bsize) m[p >>> 2] = p + bsize;
  m[last >>> 2] = m[s + S_FREE]!;
  m[s + S_FREE] = bump;
  m[s + S_BUMP] = last + bsize;
  return true;
}

/** Pops a block from slab s, which must have one on its free list. */
export function slabPop(h: Heap, s: number): number {
  const m = h.m32;
  const p = m[s + S_FREE]!;
  m[s + S_FREE] = m[p >>> 2]!;
  m[s + S_USED]!++;
  m[s + S_BITMAP + ((p >>> 9) - (s >>> 7))]! |= 1 << (p >>> 4);
  return p;
}

/**
 * The malloc slow path of a class: the current slab's free list is empty. Carve more of it, else
 * mark it full and move to a partial slab, else start a new slab. Returns 0 when out of memory.
 */
export function slabRefill(h: Heap, cls: number): number {
  const m = h.m32;
  const cw = h.tcur + cls;
  const s = m[cw]!;
  if (s !== h.sentinel) {
    if (m[s + S_FREE] !== 0 || slabCarve(h, s)) return slabPop(h, s);
    m[s + S_OWNER]! |= OWNER_FULL;
  }
  const next = m[h.tcur + TQ_HEAD + cls]!;
  if (next !== 0) {
    unlinkPartial(h, cls, next);
    m[cw] = next;
    if (m[next + S_FREE] !== 0 || slabCarve(h, next)) return slabPop(h, next);
    throw new Error(`hakmem internal error: partial slab ${next << 2} has no free block`);
  }
  // A new slab. Each time a class needs one while it already had a slab, the next is twice as
  // large (up to 64 KiB): few pages for a class used lightly, few slow paths for a busy one.
  const sw = h.tcur + T_STEP + cls;
  const step = m[sw]!;
  const pages = slabPagesAt(cls, step);
  const pg = h.allocPages(pages);
  if (pg < 0) {
    h.m32[cw] = h.sentinel;
    return 0;
  }
  if (s !== h.sentinel && slabPagesAt(cls, step + 1) > pages) h.m32[sw] = step + 1;
  const ns = slabInit(h, pg, pages, cls, h.tid);
  h.m32[cw] = ns;
  slabCarve(h, ns);
  return slabPop(h, ns);
}

/** Appends slab s to its thread's partial queue of class cls (at the tail: it gathers frees while it waits). */
export function linkPartial(h: Heap, cls: number, s: number): void {
  const m = h.m32;
  const tw = h.tcur + TQ_TAIL + cls;
  const tail = m[tw]!;
  m[s + S_NEXT] = 0;
  m[s + S_PREV] = tail;
  if (tail !== 0) m[tail + S_NEXT] = s;
  else m[h.tcur + TQ_HEAD + cls] = s;
  m[tw] = s;
}

export function unlinkPartial(h: Heap, cls: number, s: number): void {
  const m = h.m32;
  const next = m[s + S_NEXT]!;
  const prev = m[s + S_PREV]!;
  if (prev !== 0) m[prev + S_NEXT] = next;
  else m[h.tcur + TQ_HEAD + cls] = next;
  if (next !== 0) m[next + S_PREV] = prev;
  else m[h.tcur + TQ_TAIL + cls] = prev;
  m[s + S_NEXT] = 0;
  m[s + S_PREV] = 0;
}

/**
 * Frees block-pointer `ptr` of slab s owned by this thread, after validation. Handles the cases the
 * fast path leaves: a full slab (relisted), an aligned pointer (maps back to its block start).
 */
export function slabFreeLocal(h: Heap, s: number, ptr: number, block: number): void {
  const m = h.m32;
  m[s + S_BITMAP + ((ptr >>> 9) - (s >>> 7))]! &= ~(1 << (ptr >>> 4));
  m[block >>> 2] = m[s + S_FREE]!;
  m[s + S_FREE] = block;
  const used = m[s + S_USED]! - 1;
  m[s + S_USED] = used;
  const owner = m[s + S_OWNER]!;
  if ((owner & OWNER_FULL) !== 0) {
    m[s + S_OWNER] = owner & ~OWNER_FULL;
    if (used !== 0) linkPartial(h, m[s + S_CLASS]!, s);
    else slabRelease(h, s);
    return;
  }
  if (used === 0) slabEmptied(h, s);
}

/** A slab of this thread has no block handed out: give its pages back unless it is its class's current slab. */
export function slabEmptied(h: Heap, s: number): void {
  const m = h.m32;
  const cls = m[s + S_CLASS]!;
  if (m[h.tcur + cls] === s) return;
  unlinkPartial(h, cls, s);
  slabRelease(h, s);
}

/** Returns an empty slab's pages to the page allocator. It must be in no list and not current. */
export function slabRelease(h: Heap, s: number): void {
  const m = h.m32;
  const pages = m[s + S_PAGES]!;
  m[s + S_MAGIC] = 0;
  m[s + S_OWNER] = 0;
  h.freePages(s >>> (PAGE_SHIFT - 2), pages);
}

/** Releases every empty current slab of this thread (called when the heap is out of memory). */
export function releaseEmptyCurrent(h: Heap): number {
  let released = 0;
  for (let cls = 0; cls < NCLASSES; cls++) {
    const m = h.m32;
    const s = m[h.tcur + cls]!;
    if (s === h.sentinel || m[s + S_USED] !== 0 || m[s + S_REMOTE] !== 0) continue;
    m[h.tcur + cls] = h.sentinel;
    slabRelease(h, s);
    released++;
  }
  return released;
}

/** Block start containing `ptr` in slab s (division: slow paths only). */
export function blockStart(h: Heap, s: number, ptr: number): number {
  const m = h.m32;
  const first = m[s + S_FIRST]!;
  const bsize = m[s + S_BSIZE]!;
  return first + Math.floor((ptr - first) / bsize) * bsize;
}

export function slabOwnerTid(h: Heap, s: number): number {
  return h.m32[s + S_OWNER]! & OWNER_TID_MASK;
}

export function slabIsAligned(h: Heap, s: number): boolean {
  return (h.m32[s + S_OWNER]! & OWNER_ALIGNED) !== 0;
}
