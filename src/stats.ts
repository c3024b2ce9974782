/**
 * heap.stats(): plain data, computed on request by walking the page map and slab headers, so the
 * fast paths count nothing beyond what they need (a slab's used count).
 */
import {
  H_ARENA_START,
  H_BASE,
  H_BC_PAGES,
  H_FREE_PAGES,
  H_FRONTIER,
  H_HIGH_WATER,
  H_MAX_END,
  H_PEAK_PAGES,
  H_USED_PAGES,
  H_MODE,
  H_SECURE_KEY,
  K_CACHED_HEAD,
  K_FREE_HEAD,
  K_LARGE_HEAD,
  K_SLAB,
  KIND_MASK,
  PAGE,
  PAGE_SHIFT,
  S_ALLOC_BITMAP,
  S_BSIZE,
  S_CAP,
  S_CLASS,
  S_FIRST,
  S_OWNER,
  S_REMOTE_BITMAP,
  S_PAGES,
  OWNER_ALIGNED,
  H_MAX_THREADS,
  H_THREADS,
  slotIsAttached,
  T_LISTS,
  LIST_SHIFT,
  L_HEAD,
  LIST_COUNT_MASK,
  T_LIMIT,
  listFirst,
} from './layout.ts';
import { getEntry } from './pages.ts';
import { CLASS_SIZE, NCLASSES, SMALL_MAX } from './size-classes.ts';
import { slabUsed } from './slab.ts';
import { MODE_FEATURES, currentPolicy, modeName, type HeapConfig } from './policy.ts';
import type { Heap } from './heap.ts';
import type { LearningStats } from './learn.ts';
import type { SizeStats, SiteStats } from './research.ts';
import type { RouteStats } from './routes.ts';

export interface ClassStats {
  /** Block size of the class in bytes. */
  size: number;
  /** Slabs of this class. */
  slabs: number;
  /** Blocks handed out. */
  inUse: number;
  /** Blocks free in its slabs (on free lists, threads' lists included, or never used yet). */
  free: number;
}

export interface HeapStats {
  /** Bytes of live blocks (their usable sizes). */
  inUseBytes: number;
  /** Live blocks. */
  inUseBlocks: number;
  /** Bytes of the arena's pages held now by slabs, large blocks and metadata. */
  usedPagesBytes: number;
  /** The peak of usedPagesBytes over the heap's life (updated whenever pages are taken). */
  peakUsedPagesBytes: number;
  /** Bytes from the heap's start to its frontier: the part of the buffer the heap has used. */
  heapBytes: number;
  /** The highest heapBytes ever (the buffer never shrinks, so this is the heap's footprint). */
  heapHighWater: number;
  /** The buffer's current byteLength (it may exceed the frontier by the growth slack). */
  bufferBytes: number;
  /** The most the heap may grow to. */
  maxBytes: number;
  /** Free bytes by tier: free blocks in small (<= 1 KiB) and mid slabs, free page runs, the BigCache. */
  freeBytes: { small: number; mid: number; pages: number; bigCache: number };
  /** Large blocks (> 32 KiB) in use. */
  large: { blocks: number; bytes: number };
  /** Per size class. */
  classes: ClassStats[];
  /** The heap's mode, its feature set and the policy in force. */
  config: HeapConfig;
  /** Modes learning and research: the controller's state, ratings, windows and switches (heap-wide). */
  learning?: LearningStats;
  /** Mode research: the sampled histogram of requested sizes (every thread's samples). */
  sizes?: SizeStats;
  /** Mode research (and the debug build): which path each malloc and free of this thread took. */
  routes?: RouteStats;
  /** Mode research: statistics of this thread's site handles (heap.site()). */
  sites?: SiteStats[];
}

/** stats().config. */
export function collectConfig(h: Heap): HeapConfig {
  const m = h.m32;
  const mode = modeName(m[h.hw + H_MODE]!);
  return { mode, secure: m[h.hw + H_SECURE_KEY] !== 0, features: { ...MODE_FEATURES[mode] }, policy: currentPolicy(m, h.hw) };
}

/** Sum over the blocks in use in slab s of their pointers' offsets from their block starts (0 unless aligned). */
function alignedOffsets(h: Heap, s: number): number {
  const m = h.m32;
  const first = m[s + S_FIRST]!;
  const bsize = m[s + S_BSIZE]!;
  const base = s << 2;
  const rbits = s + m[s + S_REMOTE_BITMAP]!;
  let sum = 0;
  for (let i = 0; i < m[s + S_PAGES]! * 8; i++) {
    const w = m[s + m[s + S_ALLOC_BITMAP]! + i]! & ~m[rbits + i]!; // freed remotely, not yet collected: not in use
    for (let b = 0; w !== 0 && b < 32; b++) {
      if (((w >>> b) & 1) !== 0) sum += (base + (i * 32 + b) * 16 - first) % bsize;
    }
  }
  return sum;
}

export function collectStats(h: Heap): HeapStats {
  const m = h.m32;
  const hw = h.hw;
  const base = m[hw + H_BASE]!;
  const classes: ClassStats[] = CLASS_SIZE.map((size) => ({ size, slabs: 0, inUse: 0, free: 0 }));
  let largeBlocks = 0;
  let largeBytes = 0;
  let alignedSkew = 0; // usable bytes lost to aligned pointers inside their blocks
  const first = m[hw + H_ARENA_START]! >>> PAGE_SHIFT;
  const end = m[hw + H_FRONTIER]! >>> PAGE_SHIFT;
  for (let pg = first; pg < end; ) {
    const e = getEntry(h, pg);
    const k = e & KIND_MASK;
    if (k === K_SLAB) {
      const s = pg << (PAGE_SHIFT - 2); // the walk reaches every slab at its first page
      const c = classes[m[s + S_CLASS]!]!;
      const used = slabUsed(h, s);
      c.slabs++;
      c.inUse += used;
      c.free += m[s + S_CAP]! - used;
      if ((m[s + S_OWNER]! & OWNER_ALIGNED) !== 0) alignedSkew += alignedOffsets(h, s);
      pg += Math.max(1, m[s + S_PAGES]!);
    } else if (k === K_LARGE_HEAD || k === K_FREE_HEAD || k === K_CACHED_HEAD) {
      if (k === K_LARGE_HEAD) {
        largeBlocks++;
        largeBytes += (e >>> 4) * PAGE;
      }
      pg += Math.max(1, e >>> 4);
    } else {
      pg++; // K_META and anything unexpected
    }
  }
  // Blocks on threads' free lists have their allocated bits set but are free: each attached thread's
  // record says how many per class (the count field less the empty list's, 31 - T_LIMIT; exact while that thread is quiet).
  const max = m[hw + H_MAX_THREADS]!;
  for (let i = 0; i < max; i++) {
    const rec = m[hw + H_THREADS + i]!;
    if (rec === 0 || !slotIsAttached(Atomics.load(m, hw + H_THREADS + max + i))) continue;
    for (let c = 0; c < NCLASSES; c++) {
      const v = m[rec + T_LISTS + (c << LIST_SHIFT) + L_HEAD]!;
      if (listFirst(v) === 0) continue;
      const listed = Math.min(Math.max((v & LIST_COUNT_MASK) - (LIST_COUNT_MASK - m[rec + T_LIMIT + c]!), 0), classes[c]!.inUse);
      classes[c]!.inUse -= listed;
      classes[c]!.free += listed;
    }
  }
  let inUseBytes = largeBytes - alignedSkew;
  let inUseBlocks = largeBlocks;
  let small = 0;
  let mid = 0;
  for (let c = 0; c < NCLASSES; c++) {
    const cs = classes[c]!;
    inUseBytes += cs.inUse * cs.size;
    inUseBlocks += cs.inUse;
    if (cs.size <= SMALL_MAX) small += cs.free * cs.size;
    else mid += cs.free * cs.size;
  }
  return {
    inUseBytes,
    inUseBlocks,
    usedPagesBytes: m[hw + H_USED_PAGES]! * PAGE,
    peakUsedPagesBytes: m[hw + H_PEAK_PAGES]! * PAGE,
    heapBytes: m[hw + H_FRONTIER]! - base,
    heapHighWater: m[hw + H_HIGH_WATER]! - base,
    bufferBytes: h.byteLength,
    maxBytes: m[hw + H_MAX_END]! - base,
    freeBytes: { small, mid, pages: m[hw + H_FREE_PAGES]! * PAGE, bigCache: m[hw + H_BC_PAGES]! * PAGE },
    large: { blocks: largeBlocks, bytes: largeBytes },
    classes,
    config: collectConfig(h),
  };
}
