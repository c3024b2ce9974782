/**
 * Slabs: a run of pages cut into equal blocks of one size class, with its header on its first page.
 *
 * A slab's blocks are in exactly one of three states: handed out (its bit in the slab's bitmap is
 * set), on the slab's free list S_FREE, or never carved yet (at or past S_BUMP). The free list is
 * extended lazily, at most 16 KiB (CARVE_BYTES) of blocks at a time, so a new slab touches little memory.
 *
 * A thread holds, per class, one *current* slab (malloc pops from it) and a FIFO queue of
 * *partial* slabs. A slab whose blocks are all handed out is *full* (OWNER_FULL, in no queue); the
 * free fast path sees that the free list it would push onto is empty and leaves the block to
 * Heap.freeSlow, which appends a full slab to the queue's tail, where it gathers more frees before
 * it is reused. Heap.mallocSlow takes the queue's head when the current slab runs dry.
 * The owner and the aligned flag live in the slab header (S_OWNER) and in every page-map entry of
 * the slab; the full flag only in the header, so it costs no page-map writes.
 *
 * Empty slabs: the fast paths count nothing, so a slab is found empty (all bitmap words zero) on a
 * slow path: before a page-run allocation would split a free run or grow the heap (tidySlabs: empty
 * current slabs are parked first, see there), and when the heap is out of memory
 * (reclaimEmptySlabs). Their pages go back to the page allocator, where any class or a large block
 * can use them; repeated fill/free cycles therefore never grow the heap.
 *
 * Invariant: (set bits) + (blocks on S_FREE) + (uncarved blocks) = S_CAP, and a block's bit is set
 * iff it is handed out (at the block start, or at the aligned pointer inside it for alignedAlloc).
 */
import {
  slabOf,
  E_CLASS_MASK,
  E_CLASS_SHIFT,
  E_FRESH,
  E_TID_MASK,
  E_TID_SHIFT,
  H_ARENA_START,
  H_FRONTIER,
  K_SLAB,
  KIND_MASK,
  MARK_WORD,
  OWNER_ALIGNED,
  OWNER_FULL,
  PAGE,
  PAGE_SHIFT,
  S_ALLOC_BITMAP,
  S_PARKED,
  S_BSIZE,
  S_BUMP,
  S_CAP,
  S_CLASS,
  S_REMOTE_BITMAP,
  S_REMOTE,
  T_FULL,
  SLAB_HEADER_BYTES,
  allocWord,
  granuleBit,
  slabAbits,
  S_END,
  S_FIRST,
  S_FREE,
  S_MAGIC,
  T_CUR,
  T_QHEAD,
  T_QTAIL,
  T_STEP,
  T_RELISTS,
  T_NPARTIAL,
  T_TIDIES,
  T_TIDY_DIRTY,
  T_DIRECT,
  DIRECT_ENTRIES,
  S_NEXT,
  S_OWNER,
  S_PAGES,
  S_PREV,
  SLAB_MAGIC,
  RS_ARMED,
  RS_IDLE,
  RS_PENDING,
  remoteWord,
  slabEntry,
  slabHeaderBytes,
  H_POLICY,
  P_PARK_AGE,
  P_SLAB_FIRST,
  P_SLAB_FIT,
  P_SLAB_MAX,
} from './layout.ts';
import { getEntry, hasRunOf, setEntry } from './pages.ts';
import { CLASS_OF, CLASS_SIZE, NCLASSES, SLAB_PAGES } from './size-classes.ts';
import type { Heap } from './heap.ts';

/** Largest number of bytes of blocks carved into the free list at once. */
const CARVE_BYTES = 16384;

/** Makes s (a slab word index, or the sentinel) the current slab of class cls for this thread. */
export function setCurrent(h: Heap, cls: number, s: number): void {
  setCurrentAt(h.m32, h.rec, cls, s);
}

/** setCurrent on the thread record at word rec. */
export function setCurrentAt(m: Int32Array, rec: number, cls: number, s: number): void {
  m[rec + T_CUR + cls] = s;
  const hi = DIRECT_LAST[cls]!;
  for (let g = DIRECT_FIRST[cls]!; g <= hi; g++) m[rec + T_DIRECT + g] = s;
}

// The size granules of the direct table that map to each class: [DIRECT_FIRST, DIRECT_LAST]
// (empty, first > last, for classes above SMALL_MAX).
const DIRECT_FIRST = new Int32Array(NCLASSES).fill(1);
const DIRECT_LAST = new Int32Array(NCLASSES);
for (let g = DIRECT_ENTRIES - 1; g >= 0; g--) DIRECT_FIRST[CLASS_OF[g]!] = g;
for (let g = 0; g < DIRECT_ENTRIES; g++) DIRECT_LAST[CLASS_OF[g]!] = g;
/**
 * Pages of the next new slab of class cls at growth step `step`, for slabs that grow to at most
 * `maxPages` (the policy's P_SLAB_MAX; `base` has 4 pages, 16 KiB: larger slabs kept more memory
 * idle per class and thread, a trace replayed again on one heap grew it, and were not faster on
 * workload A, measured in the session notes of issue 11), or the class's base size if larger.
 */
export function slabPagesAt(cls: number, step: number, maxPages: number): number {
  const base = SLAB_PAGES[cls]!;
  return Math.max(base, Math.min(base << step, maxPages));
}

/** Formats pages [pg, pg+pages) as an empty slab of class `cls` owned by `tid`; returns its word index. */
function slabInit(h: Heap, pg: number, pages: number, cls: number, tid: number): number {
  const bsize = CLASS_SIZE[cls]!;
  const base = pg << PAGE_SHIFT;
  const cap = Math.floor((pages * PAGE - slabHeaderBytes(pages)) / bsize);
  const m = h.m32;
  const s = base >>> 2;
  const abits = slabAbits(pages);
  m.fill(0, s, s + (SLAB_HEADER_BYTES >>> 2));
  m.fill(0, s + abits, s + pages * (PAGE >>> 2)); // both bitmaps
  m[s + S_CLASS] = cls;
  m[s + S_BSIZE] = bsize;
  m[s + S_CAP] = cap;
  m[s + S_FIRST] = base + SLAB_HEADER_BYTES;
  m[s + S_BUMP] = base + SLAB_HEADER_BYTES;
  m[s + S_END] = base + SLAB_HEADER_BYTES + cap * bsize;
  m[s + S_PAGES] = pages;
  m[s + S_ALLOC_BITMAP] = abits;
  m[s + S_REMOTE_BITMAP] = abits + pages * 8;
  m[s + S_REMOTE] = remoteWord(base, RS_IDLE);
  m[s + S_MAGIC] = SLAB_MAGIC ^ base;
  m[s + S_OWNER] = tid;
  for (let i = 0; i < pages; i++) setEntry(h, pg + i, slabEntry(tid, cls, i) | E_FRESH); // no block used yet
  return s;
}

/** Sets a slab's owner word (tid | OWNER_* flags) in its header and in all its page-map entries (their E_FRESH kept). */
export function slabSetOwner(h: Heap, s: number, owner: number): void {
  const m = h.m32;
  m[s + S_OWNER] = owner;
  const pg = s >>> (PAGE_SHIFT - 2);
  const cls = m[s + S_CLASS]!;
  const pages = m[s + S_PAGES]!;
  for (let i = 0; i < pages; i++) setEntry(h, pg + i, slabEntry(owner, cls, i) | (getEntry(h, pg + i) & E_FRESH));
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
  for (let p = bump; p < last; p += bsize) h.writeLink(p, p + bsize);
  h.writeLink(last, m[s + S_FREE]!);
  m[s + S_FREE] = bump;
  m[s + S_BUMP] = last + bsize;
  // Pages where a carved block starts are no longer fresh (secure heaps: no markers to write).
  for (let p = bump, pg = -1; p <= last; p += bsize) {
    if (p >>> PAGE_SHIFT === pg) continue;
    pg = p >>> PAGE_SHIFT;
    setEntry(h, pg, getEntry(h, pg) & ~E_FRESH);
  }
  return true;
}

/**
 * Takes one block of slab s (its free list first, else the never-used blocks at S_BUMP) and sets
 * its allocated bit; returns its byte offset, or 0 if the slab has none. `bump`: whether never-used
 * blocks may be taken (a refill stops taking them past its fresh-memory budget).
 */
export function slabTake(h: Heap, s: number, bump: boolean): number {
  const m = h.m32;
  let p = m[s + S_FREE]!;
  if (p !== 0) {
    m[s + S_FREE] = h.readLink(s, p);
  } else {
    p = m[s + S_BUMP]!;
    if (!bump || p >= m[s + S_END]!) return 0;
    const bsize = m[s + S_BSIZE]!;
    // The first block starting in its page: the page stops being fresh (see E_FRESH), before the
    // bump moves, so a thread killed in between leaves every state check() and reclaim accept.
    if (p === m[s + S_FIRST] || (p - bsize) >>> PAGE_SHIFT !== p >>> PAGE_SHIFT) slabEnterPage(h, s, p, bsize);
    m[s + S_BUMP] = p + bsize;
  }
  m[allocWord(m, s, p)]! |= granuleBit(p);
  return p;
}

/**
 * Block p, the first block starting in its page, is about to leave the slab's never-used blocks:
 * the blocks starting in that page (p included: it is still free until the bump moves) get the
 * free-block marker, then the page's E_FRESH goes (in that order: a reader that sees the page not
 * fresh finds the markers). Owner only.
 */
function slabEnterPage(h: Heap, s: number, p: number, bsize: number): void {
  const m = h.m32;
  const key = h.markKey;
  const pg = p >>> PAGE_SHIFT;
  if (key !== 0) {
    const end = Math.min(m[s + S_END]!, (pg + 1) << PAGE_SHIFT);
    for (let q = p; q < end; q += bsize) m[(q >>> 2) + MARK_WORD] = q ^ key;
  }
  setEntry(h, pg, getEntry(h, pg) & ~E_FRESH);
}

/**
 * Gives block p (a block start whose allocated bit is set, not on any list) back to its slab s of
 * this thread: clears the bit and pushes it on the slab's free list; a full slab goes back to its
 * class's partial queue (at the tail, where it gathers more frees before it is reused).
 */
export function slabGiveBack(h: Heap, s: number, p: number): void {
  const m = h.m32;
  if (h.markKey !== 0) m[(p >>> 2) + MARK_WORD] = p ^ h.markKey; // free again: the marker (a block on a list has it already)
  m[allocWord(m, s, p)]! &= ~granuleBit(p);
  markTidyDirty(h, m[s + S_CLASS]!);
  const head = m[s + S_FREE]!;
  h.writeLink(p, head);
  m[s + S_FREE] = p;
  if (head === 0 && (m[s + S_OWNER]! & OWNER_FULL) !== 0) slabRelist(h, s);
}

/**
 * Starts a new current slab for class cls (its queue of partial slabs is empty) and returns its word
 * index, or 0 when out of memory. `grow`: the class had a slab that filled up, so this one may be
 * twice as large (up to the policy's P_SLAB_MAX pages): few pages for a class used lightly, few
 * slow paths for a busy one. The policy's P_SLAB_FIRST is the least step; with P_SLAB_FIT, a slab
 * is made smaller (an earlier step) when only a smaller free run would save growing the heap.
 */
export function slabNew(h: Heap, cls: number, grow: boolean): number {
  const sw = h.rec + T_STEP + cls;
  const pw = h.hw + H_POLICY;
  const maxPages = h.m32[pw + P_SLAB_MAX]!;
  const step = Math.max(h.m32[sw]!, h.m32[pw + P_SLAB_FIRST]!);
  const pages = slabPagesAt(cls, step, maxPages);
  let got = pages;
  // Pages and their slab entries change together under the lock (a thread that dies in between
  // leaves nothing half-made that repair.ts cannot see).
  h.lock();
  let ns = 0;
  try {
    let pg = -1;
    if (h.m32[pw + P_SLAB_FIT] === 1 && pages > SLAB_PAGES[cls]! && !hasRunOf(h, pages)) {
      for (let k = step - 1; k >= 0 && pg < 0; k--) {
        const n = slabPagesAt(cls, k, maxPages);
        if (n < got && hasRunOf(h, n)) {
          got = n;
          pg = h.allocPages(n);
        }
      }
    }
    if (pg < 0) {
      got = pages;
      pg = h.allocPages(pages);
    }
    if (pg >= 0) ns = slabInit(h, pg, got, cls, h.tid);
  } finally {
    h.unlock();
  }
  if (ns === 0) return 0;
  if (grow && got === pages && slabPagesAt(cls, step + 1, maxPages) > pages) h.m32[sw] = step + 1;
  setCurrent(h, cls, ns);
  return ns;
}

function unlinkPartial(h: Heap, cls: number, s: number): void {
  const m = h.m32;
  const next = m[s + S_NEXT]!;
  const prev = m[s + S_PREV]!;
  if (prev !== 0) m[prev + S_NEXT] = next;
  else m[h.rec + T_QHEAD + cls] = next;
  if (next !== 0) m[next + S_PREV] = prev;
  else m[h.rec + T_QTAIL + cls] = prev;
  m[s + S_NEXT] = 0;
  m[s + S_PREV] = 0;
  m[h.rec + T_NPARTIAL]!--;
}

/** True if every block of slab s handed out has been freed (locally, or remotely and not yet collected). */
export function slabIsEmpty(h: Heap, s: number): boolean {
  const m = h.m32;
  const d = m[s + S_REMOTE_BITMAP]! - m[s + S_ALLOC_BITMAP]!;
  const end = s + m[s + S_ALLOC_BITMAP]! + m[s + S_PAGES]! * 8;
  for (let w = s + m[s + S_ALLOC_BITMAP]!; w < end; w++) if ((m[w]! & ~Atomics.load(m, w + d)) !== 0) return false;
  return true;
}

/** Blocks of slab s in use: handed out and not freed remotely (a popcount of its bitmaps). */
export function slabUsed(h: Heap, s: number): number {
  const m = h.m32;
  const d = m[s + S_REMOTE_BITMAP]! - m[s + S_ALLOC_BITMAP]!;
  const end = s + m[s + S_ALLOC_BITMAP]! + m[s + S_PAGES]! * 8;
  let n = 0;
  for (let w = s + m[s + S_ALLOC_BITMAP]!; w < end; w++) {
    let x = m[w]! & ~m[w + d]!;
    x = x - ((x >>> 1) & 0x55555555);
    x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
    n += (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
  }
  return n;
}

/** Returns an empty slab's pages to the page allocator. It must be in no queue and not current. */
export function slabRelease(h: Heap, s: number): void {
  const m = h.m32;
  const pages = m[s + S_PAGES]!;
  m[s + S_MAGIC] = 0;
  m[s + S_OWNER] = 0;
  h.freePages(s >>> (PAGE_SHIFT - 2), pages);
}

/**
 * Releases this thread's empty slabs: those in its partial queues and, if `current`, its empty
 * current slabs too. Returns the number released. Bounded by the thread's slab count.
 */
export function reclaimEmptySlabs(h: Heap, current: boolean): number {
  let released = 0;
  h.m32[h.rec + T_RELISTS] = 0;
  for (let cls = 0; cls < NCLASSES; cls++) {
    let s = h.m32[h.rec + T_QHEAD + cls]!;
    while (s !== 0) {
      const next = h.m32[s + S_NEXT]!;
      if (slabIsEmpty(h, s)) {
        unlinkPartial(h, cls, s);
        slabRelease(h, s);
        released++;
      }
      s = next;
    }
    if (!current) continue;
    const c = h.m32[h.rec + T_CUR + cls]!;
    if (c !== h.sentinel && slabIsEmpty(h, c)) {
      setCurrent(h, cls, h.sentinel);
      slabRelease(h, c);
      released++;
    }
  }
  return released;
}

/** Whether enough full slabs were relisted since the last scan that a reclaim scan is worth it. */
export function reclaimDue(h: Heap): boolean {
  const m = h.m32;
  const relists = m[h.rec + T_RELISTS]!;
  return relists > 0 && relists * 4 >= m[h.rec + T_NPARTIAL]!;
}

/**
 * If p is a valid block of thread `tid`'s free list of class cls, the word index of its slab, else
 * 0: a 16-byte aligned offset inside the arena, in a slab of that class owned by tid, at a block
 * start below the slab's bump, with its allocated bit set and the free-list marker in its second
 * word. Used where a list is not trusted (reclaim of a dead thread, check(), confirming a double free).
 */
export function listBlockSlab(h: Heap, p: number, cls: number, tid: number): number {
  const m = h.m32;
  if ((p & 15) !== 0 || p < m[h.hw + H_ARENA_START]! || p >= m[h.hw + H_FRONTIER]!) return 0;
  const e = getEntry(h, p >>> PAGE_SHIFT);
  if ((e & KIND_MASK) !== K_SLAB || ((e >>> E_CLASS_SHIFT) & E_CLASS_MASK) !== cls || ((e >>> E_TID_SHIFT) & E_TID_MASK) !== tid) return 0;
  const s = slabOf(p, e);
  if (m[s + S_MAGIC] !== (SLAB_MAGIC ^ (s << 2))) return 0;
  const first = m[s + S_FIRST]!;
  if (p < first || p >= m[s + S_BUMP]! || (p - first) % m[s + S_BSIZE]! !== 0) return 0;
  if ((m[allocWord(m, s, p)]! & granuleBit(p)) === 0) return 0;
  return m[(p >>> 2) + MARK_WORD] === (p ^ h.markKey) ? s : 0;
}

/** tidySlabs looks at every class at least once per this many calls (a power of two). */
const TIDY_ALL_EVERY = 32;

/**
 * Gives this thread's idle slabs back to the page allocator; runs under the lock before a page-run
 * allocation that would split a free run or grow the heap (Heap.allocPagesLocked), whether or not
 * the heap is at its high-water, so that a heap which grew once does not keep idle slabs while it
 * carves new runs (a program doing the same work again would otherwise grow the heap again).
 * Bounded: the current slabs and partial-queue heads of the classes whose slabs got blocks back
 * since the last tidy (T_TIDY_DIRTY; every class every TIDY_ALL_EVERY-th time, for slabs emptied by
 * remote frees not yet collected), and a walk of the partial queues only when enough slabs were
 * relisted since the last walk (reclaimDue). Checking every class each time cost ~5 us per
 * page-run allocation (git-log trace: 18,870 tidies per replay).
 * - An empty partial slab is released, unless it was parked fewer than the policy's P_PARK_AGE tidies ago.
 * - An empty current slab is parked: moved to the head of its class's partial queue. The class's
 *   next malloc takes it back (one malloc slow path, no page work); if the class leaves it there for
 *   P_PARK_AGE tidies, it is released and the class's next slab starts small (growth step 0).
 *   Releasing empty current slabs at once would make a class that goes from no block to one and
 *   back between page allocations make and release a slab each time.
 * Only this thread's own slabs: another thread's queues are its owner's (no lock on its fast paths).
 */
export function tidySlabs(h: Heap): number {
  const m = h.m32;
  let now = (m[h.rec + T_TIDIES]! + 1) | 0;
  if (now === 0) now = 1;
  m[h.rec + T_TIDIES] = now;
  const walk = reclaimDue(h);
  const parkAge = m[h.hw + H_POLICY + P_PARK_AGE]!;
  if (walk) m[h.rec + T_RELISTS] = 0;
  // Only the classes whose slabs got blocks back since the last tidy (T_TIDY_DIRTY), and parked
  // slabs that reached their age; every TIDY_ALL_EVERY-th tidy (and every walk) looks at all, for
  // slabs made empty by remote frees not yet collected.
  const all = walk || (now & (TIDY_ALL_EVERY - 1)) === 0;
  let released = 0;
  for (let cls = 0; cls < NCLASSES; cls++) {
    const dirty = all || (m[h.rec + T_TIDY_DIRTY + (cls >>> 5)]! & (1 << (cls & 31))) !== 0;
    for (let s = m[h.rec + T_QHEAD + cls]!; s !== 0; ) {
      const next = m[s + S_NEXT]!;
      const parked = m[s + S_PARKED]!;
      if ((parked === 0 ? dirty : ((now - parked) | 0) >= parkAge) && slabIsEmpty(h, s)) {
        unlinkPartial(h, cls, s);
        if (parked !== 0 && m[h.rec + T_CUR + cls] === h.sentinel) m[h.rec + T_STEP + cls] = 0;
        slabRelease(h, s);
        released++;
      }
      if (!walk) break;
      s = next;
    }
    const c = m[h.rec + T_CUR + cls]!;
    if (!dirty || c === h.sentinel || !slabIsEmpty(h, c)) continue;
    // A partial slab must have a free block: collect the remote frees first (all its blocks may be such).
    collectPending(h, c);
    if (m[c + S_FREE] === 0 && m[c + S_BUMP]! >= m[c + S_END]!) continue;
    setCurrent(h, cls, h.sentinel);
    const head = m[h.rec + T_QHEAD + cls]!;
    m[c + S_PREV] = 0;
    m[c + S_NEXT] = head;
    if (head !== 0) m[head + S_PREV] = c;
    else m[h.rec + T_QTAIL + cls] = c;
    m[h.rec + T_QHEAD + cls] = c;
    m[h.rec + T_NPARTIAL]!++;
    m[c + S_PARKED] = now;
  }
  m[h.rec + T_TIDY_DIRTY] = 0;
  m[h.rec + T_TIDY_DIRTY + 1] = 0;
  m[h.rec + T_TIDY_DIRTY + 2] = 0;
  return released;
}

/** Block start containing `ptr` in slab s (division: slow paths only). */
export function blockStart(h: Heap, s: number, ptr: number): number {
  const m = h.m32;
  const first = m[s + S_FIRST]!;
  const bsize = m[s + S_BSIZE]!;
  return first + Math.floor((ptr - first) / bsize) * bsize;
}

// ---------------------------------------------------------------- remote frees and full slabs

/**
 * Moves the blocks other threads freed into slab s (remote bits) onto its free list: one
 * Atomics.exchange per non-zero bitmap word. Only the owner (or a lock holder for an ownerless
 * slab) calls it. A remote bit whose allocated bit is already clear, or whose block carries the
 * free-list marker (it is on the owner's list: freed twice, on two threads), is dropped. Returns the
 * number of blocks collected.
 */
export function collectRemote(h: Heap, s: number): number {
  const m = h.m32;
  const nw = m[s + S_PAGES]! * 8;
  const ab = s + m[s + S_ALLOC_BITMAP]!;
  const rb = s + m[s + S_REMOTE_BITMAP]!;
  const aligned = (m[s + S_OWNER]! & OWNER_ALIGNED) !== 0;
  const hi = s >>> 7;
  const key = h.markKey;
  let head = m[s + S_FREE]!;
  let n = 0;
  for (let w = 0; w < nw; w++) {
    if (Atomics.load(m, rb + w) === 0) continue;
    const x = Atomics.exchange(m, rb + w, 0);
    let y = x & m[ab + w]!;
    while (y !== 0) {
      const b = 31 - Math.clz32(y & -y);
      y &= y - 1;
      const bit = ((w + hi) << 9) | (b << 4);
      const p = aligned ? blockStart(h, s, bit) : bit;
      if (key !== 0 && m[(p >>> 2) + MARK_WORD] === (p ^ key)) continue; // on the owner's list: keep its bit
      m[ab + w]! &= ~(1 << b);
      if (key !== 0) m[(p >>> 2) + MARK_WORD] = p ^ key;
      h.writeLink(p, head);
      head = p;
      n++;
    }
  }
  m[s + S_FREE] = head;
  if (n > 0) markTidyDirty(h, m[s + S_CLASS]!);
  return n;
}

/** Blocks went back to a slab of class cls: the next tidySlabs looks at the class. */
function markTidyDirty(h: Heap, cls: number): void {
  h.m32[h.rec + T_TIDY_DIRTY + (cls >>> 5)]! |= 1 << (cls & 31);
}

/**
 * Slab s of this thread has no free block: collect remote frees if any arrived (returns the count,
 * > 0), else arm it (returns 0): from then on the first remote free notifies the owner. The state
 * word decides without scanning the bitmap: a remote free sets its bit, then moves the word from
 * IDLE (or ARMED) to PENDING; the owner sets IDLE before it collects, and arms only from IDLE.
 */
export function slabCollectOrArm(h: Heap, s: number): number {
  const m = h.m32;
  const idle = remoteWord(s << 2, RS_IDLE);
  for (;;) {
    if (Atomics.compareExchange(m, s + S_REMOTE, idle, remoteWord(s << 2, RS_ARMED)) === idle) return 0;
    Atomics.store(m, s + S_REMOTE, idle); // it was PENDING
    const n = collectRemote(h, s);
    if (n > 0) return n;
  }
}

/** Collects the remote frees of slab s if its state says some arrived; returns the count. */
export function collectPending(h: Heap, s: number): number {
  const m = h.m32;
  if (m[s + S_REMOTE] !== remoteWord(s << 2, RS_PENDING)) return 0;
  Atomics.store(m, s + S_REMOTE, remoteWord(s << 2, RS_IDLE));
  return collectRemote(h, s);
}

/**
 * The current slab s ran dry: collect its remote frees (returns false: keep using it), else make
 * it full, armed, in the owner's full list (returns true).
 */
export function slabRetire(h: Heap, s: number): boolean {
  const m = h.m32;
  if (collectPending(h, s) > 0 || slabCollectOrArm(h, s) > 0) return false;
  m[s + S_OWNER]! |= OWNER_FULL;
  const head = m[h.rec + T_FULL]!;
  m[s + S_PREV] = 0;
  m[s + S_NEXT] = head;
  if (head !== 0) m[head + S_PREV] = s;
  m[h.rec + T_FULL] = s;
  return true;
}

/** Takes full slab s out of the owner's full list and appends it to its class's partial queue. */
export function slabRelist(h: Heap, s: number): void {
  const m = h.m32;
  Atomics.compareExchange(m, s + S_REMOTE, remoteWord(s << 2, RS_ARMED), remoteWord(s << 2, RS_IDLE)); // PENDING stays
  m[s + S_OWNER]! &= ~OWNER_FULL;
  m[s + S_PARKED] = 0;
  const next = m[s + S_NEXT]!;
  const prev = m[s + S_PREV]!;
  if (prev !== 0) m[prev + S_NEXT] = next;
  else m[h.rec + T_FULL] = next;
  if (next !== 0) m[next + S_PREV] = prev;
  const cls = m[s + S_CLASS]!;
  const tw = h.rec + T_QTAIL + cls;
  const tail = m[tw]!;
  m[s + S_NEXT] = 0;
  m[s + S_PREV] = tail;
  if (tail !== 0) m[tail + S_NEXT] = s;
  else m[h.rec + T_QHEAD + cls] = s;
  m[tw] = s;
  m[h.rec + T_NPARTIAL]!++;
  m[h.rec + T_RELISTS]!++;
}

/**
 * A full slab of this thread was freed into remotely (T_NOTIFY was set): relist every full slab
 * that has remote frees. Bounded by the number of full slabs.
 */
export function collectNotified(h: Heap): void {
  const m = h.m32;
  let s = m[h.rec + T_FULL]!;
  while (s !== 0) {
    const next = m[s + S_NEXT]!;
    if (collectPending(h, s) > 0 || (m[s + S_REMOTE] === remoteWord(s << 2, RS_IDLE) && slabCollectOrArm(h, s) > 0)) slabRelist(h, s);
    s = next;
  }
}

/** Rebuilds slab s's free list from its bitmaps (after its thread died mid-update, or left). */
export function slabRebuild(h: Heap, s: number): void {
  const m = h.m32;
  const nw = m[s + S_PAGES]! * 8;
  const ab = s + m[s + S_ALLOC_BITMAP]!;
  const rb = s + m[s + S_REMOTE_BITMAP]!;
  for (let w = 0; w < nw; w++) {
    const r = Atomics.exchange(m, rb + w, 0);
    if (r !== 0) m[ab + w] = m[ab + w]! & ~r;
  }
  const first = m[s + S_FIRST]!;
  const bsize = m[s + S_BSIZE]!;
  const aligned = (m[s + S_OWNER]! & OWNER_ALIGNED) !== 0;
  let head = 0;
  const key = h.markKey;
  for (let p = m[s + S_BUMP]! - bsize; p >= first; p -= bsize) {
    let used = false;
    const last = aligned ? p + bsize : p + 16;
    for (let q = p; q < last && !used; q += 16) used = (m[allocWord(m, s, q)]! & granuleBit(q)) !== 0;
    if (used) continue;
    if (key !== 0) m[(p >>> 2) + MARK_WORD] = p ^ key;
    h.writeLink(p, head);
    head = p;
  }
  m[s + S_FREE] = head;
  m[s + S_NEXT] = 0;
  m[s + S_PREV] = 0;
}
