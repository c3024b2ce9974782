/**
 * Many threads, one heap: thread slots, leaving (detach) and dying (reclaim), abandoned slabs.
 *
 * Each attached thread has a slot (thread id = slot + 1) and a thread record page (its current
 * slabs, partial queues, full list). It owns the slabs it made: only it pops their free lists and
 * writes their allocated bitmaps, with plain loads and stores. Another thread frees a block of
 * such a slab by setting the block's bit in the slab's remote bitmap with one Atomics.or (the old
 * value names a double free); the owner collects those bits when the slab runs dry, and a full
 * slab is "armed" so that the first remote free into it sets the owner's T_NOTIFY flag.
 *
 * Leaving: detach() and reclaimThread() run the same code (abandonThread) under the lock: every
 * slab whose header names the thread gets its free list rebuilt from its bitmaps (the bitmaps are
 * the truth; lists a dead thread was editing are not trusted), empty slabs go back to the page
 * allocator and the others become ownerless (owner 0) on the per-class abandoned lists. Threads
 * adopt them in their malloc slow path before they would make a new slab; remote frees into an
 * abandoned slab land in its remote bitmap like any other. The slot and its record page are reused.
 *
 * A thread that dies holding the lock left page-level structures half-changed: reclaimThread takes
 * the lock over and repair.ts rebuilds them from the page map before anything else.
 */
import {
  H_ABANDONED,
  H_FRONTIER,
  K_FREE_HEAD,
  K_CACHED_HEAD,
  S_REMOTE_BITMAP,
  H_ARENA_START,
  H_MAX_THREADS,
  H_SENTINEL,
  H_THREADS,
  K_LARGE_HEAD,
  K_META,
  K_SLAB,
  KIND_MASK,
  OWNER_ALIGNED,
  OWNER_TID_MASK,
  PAGE,
  PAGE_SHIFT,
  S_BUMP,
  S_CLASS,
  S_END,
  S_FREE,
  S_MAGIC,
  S_NEXT,
  S_OWNER,
  S_PAGES,
  S_PREV,
  allocWord,
  granuleBit,
  S_REMOTE,
  SLAB_MAGIC,
  RS_IDLE,
  remoteWord,
  slotIsAttached,
  T_LISTS,
  LIST_SHIFT,
  L_DIVC,
  L_HEAD,
  listFirst,
  T_PENDING,
  T_TID,
  slabDist,
  H_POLICY,
  P_ROOM,
  T_LIMIT,
  LIST_COUNT_MASK,
  H_LEARN,
  RS_SIZES,
  SIZE_BUCKETS,
  T_SIZES,
} from './layout.ts';
import { getEntry, markRun, takeFromBins, extendFrontier, type Arena } from './pages.ts';
import { BLOCK_DIV, NCLASSES } from './size-classes.ts';
import { listLimit } from './policy.ts';
import {
  collectRemote,
  listBlockSlab,
  setCurrentAt,
  slabIsEmpty,
  slabRebuild,
  slabRelease,
  slabRetire,
  slabSetOwner,
  setCurrent,
} from './slab.ts';
import { largeFree } from './large.ts';
import type { Heap } from './heap.ts';

/** Claims a free thread slot (its state from even to odd); returns the thread id, or throws when maxThreads are attached. */
export function claimSlot(m: Int32Array, hw: number, name: string): number {
  const max = m[hw + H_MAX_THREADS]!;
  for (let i = 0; i < max; i++) {
    const w = hw + H_THREADS + max + i;
    for (let v = Atomics.load(m, w); !slotIsAttached(v); v = Atomics.load(m, w)) {
      if (Atomics.compareExchange(m, w, v, (v + 1) | 0) === v) return i + 1;
    }
  }
  throw new RangeError(
    `hakmem: ${name} already has ${max} attached threads (its maxThreads); detach() one, ` +
      `reclaimThread() a dead one, or create the heap with a larger maxThreads`,
  );
}

/**
 * Gives thread `tid` (whose slot is claimed) an initialized thread record; the caller holds the
 * lock. The record page is reused if the slot had one. Returns false when out of memory.
 */
export function initRecord(a: Arena, tid: number): boolean {
  const hw = a.hw;
  let rec = a.m32[hw + H_THREADS + tid - 1]!;
  if (rec === 0) {
    let pg = takeFromBins(a, 1);
    if (pg < 0) pg = extendFrontier(a, 1);
    if (pg < 0) return false;
    markRun(a, pg, 1, K_META, K_META);
    rec = pg << (PAGE_SHIFT - 2);
  }
  const m = a.m32;
  m.fill(0, rec, rec + PAGE / 4);
  m[rec + T_TID] = tid;
  const room = m[hw + H_POLICY + P_ROOM]!; // the lists' room of the policy in force
  for (let c = 0; c < NCLASSES; c++) {
    setCurrentAt(m, rec, c, hw + H_SENTINEL);
    const limit = listLimit(room, c);
    m[rec + T_LIMIT + c] = limit;
    m[rec + T_LISTS + (c << LIST_SHIFT) + L_HEAD] = LIST_COUNT_MASK - limit; // empty
    m[rec + T_LISTS + (c << LIST_SHIFT) + L_DIVC] = BLOCK_DIV[c]!;
  }
  m[hw + H_THREADS + tid - 1] = rec; // last: the record is complete
  return true;
}

/** Releases a claimed slot, its state to the next even value (its record page stays for the next thread of that slot). */
export function freeSlot(m: Int32Array, hw: number, tid: number): void {
  Atomics.add(m, hw + H_THREADS + m[hw + H_MAX_THREADS]! + tid - 1, 1);
}

/** The state of thread tid's slot (odd: attached); 0 for a tid out of range. */
export function slotState(m: Int32Array, hw: number, tid: number): number {
  const max = m[hw + H_MAX_THREADS]!;
  return tid >= 1 && tid <= max ? Atomics.load(m, hw + H_THREADS + max + tid - 1) : 0;
}

export function slotAttached(m: Int32Array, hw: number, tid: number): boolean {
  return slotIsAttached(slotState(m, hw, tid));
}

/**
 * Thread `tid` leaves (detach) or is dead (reclaim): the caller holds the lock. Every slab it owns
 * is rebuilt from its bitmaps, then released if empty, else abandoned. A large block it was
 * handing out when it died is freed. Bounded by the heap's page count.
 */
export function abandonThread(h: Heap, tid: number): void {
  const m0 = h.m32;
  const hw = h.hw;
  const rec = m0[hw + H_THREADS + tid - 1]!;
  if (rec !== 0 && m0[rec + T_PENDING] !== 0) {
    const pg = m0[rec + T_PENDING]!;
    m0[rec + T_PENDING] = 0;
    if ((getEntry(h, pg) & KIND_MASK) === K_LARGE_HEAD) largeFree(h, pg);
  }
  if (rec !== 0) {
    drainLists(h, tid, rec);
    // Research: the thread's size samples go to the heap's totals (its record is reused by the slot's next thread).
    for (let b = 0; b < SIZE_BUCKETS; b++) {
      m0[hw + H_LEARN + RS_SIZES + b] = (m0[hw + H_LEARN + RS_SIZES + b]! + m0[rec + T_SIZES + b]!) | 0;
      m0[rec + T_SIZES + b] = 0;
    }
  }
  const first = h.m32[hw + H_ARENA_START]! >>> PAGE_SHIFT;
  const end = h.m32[hw + H_FRONTIER]! >>> PAGE_SHIFT;
  for (let pg = first; pg < end; ) {
    const e = getEntry(h, pg);
    if ((e & KIND_MASK) !== K_SLAB || slabDist(e) !== 0) {
      pg++;
      continue;
    }
    const m = h.m32;
    const s = pg << (PAGE_SHIFT - 2);
    const pages = m[s + S_PAGES]!;
    if (m[s + S_MAGIC] !== (SLAB_MAGIC ^ (s << 2)) || pages < 1) {
      pg++;
      continue;
    }
    pg += pages;
    if ((m[s + S_OWNER]! & OWNER_TID_MASK) !== tid) continue;
    Atomics.store(m, s + S_REMOTE, remoteWord(s << 2, RS_IDLE)); // before the bits are collected
    slabRebuild(h, s);
    if (slabIsEmpty(h, s)) {
      slabRelease(h, s);
      continue;
    }
    slabSetOwner(h, s, m[s + S_OWNER]! & OWNER_ALIGNED);
    const cls = m[s + S_CLASS]!;
    m[s + S_NEXT] = m[hw + H_ABANDONED + cls]!;
    m[hw + H_ABANDONED + cls] = s;
  }
}

/**
 * Gives the blocks on thread tid's free lists back to their slabs (it is leaving, or dead); the
 * caller holds the lock and rebuilds tid's slabs from their bitmaps afterwards, so only the
 * allocated bits are cleared here. A dead thread's lists are not trusted: each block is validated
 * (listBlockSlab) and a list is followed up to its first invalid link, at most its limit (T_LIMIT) + 1
 * blocks; blocks past a bad link stay allocated (leaked, counted in use by stats(), never handed
 * out twice). A thread killed inside a push or pop loses at most the block it held. Returns the
 * number of blocks given back.
 */
export function drainLists(h: Heap, tid: number, rec: number): number {
  const m = h.m32;
  const tl = rec + T_LISTS;
  let n = 0;
  for (let c = 0; c < NCLASSES; c++) {
    const limit = Math.min(Math.max(m[rec + T_LIMIT + c]! | 0, 0), LIST_COUNT_MASK); // not trusted either
    let p = listFirst(m[tl + (c << LIST_SHIFT)]!);
    for (let k = 0; p !== 0 && k <= limit; k++) {
      const s = listBlockSlab(h, p, c, tid);
      if (s === 0) break;
      const next = listFirst(m[p >>> 2]!);
      m[allocWord(m, s, p)]! &= ~granuleBit(p);
      n++;
      p = next;
    }
    m[rec + T_LIMIT + c] = limit;
    m[tl + (c << LIST_SHIFT) + L_HEAD] = LIST_COUNT_MASK - limit;
  }
  return n;
}

/**
 * Adopts an abandoned slab of class cls for thread h.tid as its current slab and returns its word
 * index; 0 if there is none with a free block (full ones found are adopted as full). Visits at
 * most a few slabs per call.
 */
export function adoptAbandoned(h: Heap, cls: number): number {
  h.lock();
  try {
    const m = h.m32;
    const hw = h.hw;
    for (let visits = 0; visits < 4; visits++) {
      const s = m[hw + H_ABANDONED + cls]!;
      if (s === 0) return 0;
      m[hw + H_ABANDONED + cls] = m[s + S_NEXT]!;
      m[s + S_NEXT] = 0;
      m[s + S_PREV] = 0;
      slabSetOwner(h, s, h.tid | (m[s + S_OWNER]! & OWNER_ALIGNED));
      Atomics.store(m, s + S_REMOTE, remoteWord(s << 2, RS_IDLE));
      collectRemote(h, s);
      // No free block: retire it as full, unless remote frees arrived meanwhile (then it has some).
      if (m[s + S_FREE] === 0 && m[s + S_BUMP]! >= m[s + S_END]! && slabRetire(h, s)) continue;
      setCurrent(h, cls, s);
      return s;
    }
    return 0;
  } finally {
    h.unlock();
  }
}

/**
 * Releases abandoned slabs all of whose blocks were freed (remotely) since; the caller holds the
 * lock. Returns the number released. Bounded by the number of abandoned slabs.
 */
export function releaseAbandonedEmpty(h: Heap): number {
  const m = h.m32;
  const hw = h.hw;
  let released = 0;
  for (let cls = 0; cls < NCLASSES; cls++) {
    let prev = 0;
    let s = m[hw + H_ABANDONED + cls]!;
    while (s !== 0) {
      const next = m[s + S_NEXT]!;
      if (slabIsEmpty(h, s)) {
        if (prev === 0) m[hw + H_ABANDONED + cls] = next;
        else m[prev + S_NEXT] = next;
        slabRelease(h, s);
        released++;
      } else {
        prev = s;
      }
      s = next;
    }
  }
  return released;
}

/**
 * A thread killed inside a remote free may have set the block's remote bit without marking the
 * slab's state word, so the owner would never collect it: after a death, every slab with remote
 * bits is marked (what the dead thread would have done next). Under the lock; walks the arena.
 */
export function markStrandedRemoteFrees(h: Heap): void {
  const m = h.m32;
  const end = m[h.hw + H_FRONTIER]! >>> PAGE_SHIFT;
  for (let pg = m[h.hw + H_ARENA_START]! >>> PAGE_SHIFT; pg < end; ) {
    const e = getEntry(h, pg);
    const kind = e & KIND_MASK;
    if (kind === K_SLAB && slabDist(e) === 0) {
      const s = pg << (PAGE_SHIFT - 2);
      const pages = m[s + S_PAGES]!;
      if (m[s + S_MAGIC] !== (SLAB_MAGIC ^ (s << 2)) || pages < 1) {
        pg++;
        continue;
      }
      const rb = s + m[s + S_REMOTE_BITMAP]!;
      for (let i = 0; i < pages * 8; i++) {
        if (Atomics.load(m, rb + i) !== 0) {
          h.markRemotePending(s);
          break;
        }
      }
      pg += pages;
    } else if (kind === K_LARGE_HEAD || kind === K_FREE_HEAD || kind === K_CACHED_HEAD) {
      pg += Math.max(1, e >>> 4);
    } else {
      pg++;
    }
  }
}
