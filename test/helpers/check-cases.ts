/**
 * Corruption cases for test/check.test.ts. Each case builds a fresh heap with live and free blocks in
 * every tier (scene()), overwrites metadata words through heap.i32 at positions found with the
 * constants of src/layout.ts and the helpers of src/pages.ts, and expects heap.check() to throw
 * HeapCorruptionError. runCase() runs in a worker (check-worker.ts, case-runner.ts) so that a check() that
 * never returns shows up as a failed test, not a hung test run.
 */
import { createHeap, HeapCorruptionError, SIZE_CLASSES, type Heap } from '../../src/index.ts';
import {
  BC_SLOTS,
  H_ARENA_START,
  H_BC,
  H_BC_PAGES,
  H_BINS,
  H_BIN_MASK,
  H_FREE_PAGES,
  H_FRONTIER,
  H_HIGH_WATER,
  H_MAGIC,
  H_MAX_THREADS,
  H_NULL_LEAF,
  H_SENTINEL,
  H_THREADS,
  H_USED_PAGES,
  K_FREE_HEAD,
  K_LARGE_HEAD,
  K_NONE,
  KIND_MASK,
  PAGE,
  PAGE_SHIFT,
  RUN_CHECK,
  RUN_NEXT,
  RUN_PAGES,
  RUN_PREV,
  REGION_SHIFT,
  allocWord,
  granuleBit,
  S_BUMP,
  S_END,
  S_FREE,
  S_MAGIC,
  S_NEXT,
  S_OWNER,
  S_PAGES,
  S_PREV,
  S_REMOTE,
  SLAB_MAGIC,
  T_TID,
  LIST_SHIFT,
  LIST_COUNT_MASK,
  listFirst,
  MARK_WORD,
} from '../../src/layout.ts';
import { binOf, entryIndex, getEntry } from '../../src/pages.ts';
import { T_CUR, T_QHEAD, T_QTAIL } from '../../src/layout.ts';

export interface Scene {
  h: Heap;
  /** Live 48-byte blocks (several slabs). */
  small: number[];
  /** Blocks freed from the first 48-byte slab and trimmed back to it (now a partial slab; they are on its free list). */
  freed: number[];
  /** Blocks freed last, still on the thread's free list of the 48-byte class (from the newest slab). */
  listed: number[];
  /** A live 64-byte block (another slab). */
  other: number;
  /** A live large block of 16 pages. */
  large: number;
  /** A large block parked in the BigCache. */
  cached: number;
  /** First page (byte offset) of a free run of 40 pages. */
  run: number;
}

/** A heap with live and free blocks in every tier. check() passes on it. */
export function scene(): Scene {
  const h = createHeap();
  // enough 48-byte blocks that the current slab (grown to 64 KiB) is only partly carved
  const small = Array.from({ length: 1500 }, () => h.malloc(48));
  const other = h.malloc(64);
  const large = h.malloc(16 * PAGE);
  const cached = h.malloc(25 * PAGE);
  h.malloc(10 * PAGE);
  const shrink = h.malloc(50 * PAGE);
  h.malloc(10 * PAGE);
  // the first slab of the class is full and not current: freeing some of its blocks makes it partial
  const first = slabOf(h, small[0]!);
  const freed = small.filter((p, i) => i % 3 === 1 && slabOf(h, p) === first);
  for (const p of freed) h.free(p);
  h.trim(); // the thread's free lists give the freed blocks back to their slab (before the BigCache block is freed)
  const listed = small.slice(-6, -1); // freed now, they stay on the thread's list
  for (const p of listed) h.free(p);
  h.free(cached);
  h.realloc(shrink, 10 * PAGE); // leaves a 40-page free run after it
  return {
    h,
    small: small.filter((p) => !freed.includes(p) && !listed.includes(p)),
    freed,
    listed,
    other,
    large,
    cached,
    run: shrink + 10 * PAGE,
  };
}

/** Word index of the header of the slab holding ptr (found by its magic). */
export function slabOf(h: Heap, ptr: number): number {
  const m = h.i32;
  for (let pg = ptr >>> PAGE_SHIFT; pg > 0; pg--) {
    const base = pg << PAGE_SHIFT;
    if (m[(base >>> 2) + S_MAGIC] === (SLAB_MAGIC ^ base)) return base >>> 2;
  }
  throw new Error(`no slab holds ${ptr}`);
}

function word(_h: Heap, byteOffset: number): number {
  return byteOffset >>> 2;
}

/** Word index of the page-map entry of the page holding byte `ptr`. */
function entryOf(h: Heap, ptr: number): number {
  return entryIndex(h, ptr >>> PAGE_SHIFT);
}

/** The free list of slab s, as block pointers. */
function freeList(h: Heap, s: number): number[] {
  const out: number[] = [];
  for (let p = h.i32[s + S_FREE]!; p !== 0 && out.length < 100000; p = h.i32[word(h, p)]!) out.push(p);
  return out;
}

/** Word index of this thread's list word (first block and count, layout.ts T_LISTS) of class cls. */
function listWord(h: Heap, cls: number): number {
  return h.tl + (cls << LIST_SHIFT);
}

/** Points the list word at word index w to block p, keeping its count. */
function relink(h: Heap, w: number, p: number): void {
  h.i32[w] = (p << 1) | (h.i32[w]! & LIST_COUNT_MASK);
}

/** A block past the bump pointer of the slab of the newest 48-byte block (the current slab). */
function currentSlabUncarved(h: Heap, small: number[]): number {
  const s = slabOf(h, small[small.length - 1]!);
  const bump = h.i32[s + S_BUMP]!;
  if (bump >= h.i32[s + S_END]!) throw new Error('the current slab is fully carved');
  return bump;
}

/** Flips the allocated bit of the 16-byte granule at ptr in its slab's bitmap. */
function flipBit(h: Heap, ptr: number): void {
  const s = slabOf(h, ptr);
  h.i32[allocWord(h.i32, s, ptr)]! ^= granuleBit(ptr);
}

function slabWithPages(sc: Scene, min: number): number {
  for (const p of sc.small) {
    const s = slabOf(sc.h, p);
    if (sc.h.i32[s + S_PAGES]! >= min) return s;
  }
  throw new Error(`no slab of ${min}+ pages`);
}

function bcSlot(h: Heap): number {
  for (let i = 0; i < BC_SLOTS; i++) if (h.i32[h.hw + H_BC + 2 * i + 1] !== 0) return h.hw + H_BC + 2 * i;
  throw new Error('the BigCache is empty');
}

const CLS48 = SIZE_CLASSES.indexOf(48);

export interface Case {
  name: string;
  corrupt(sc: Scene): void;
}

export const CASES: Case[] = [
  // ---- slab headers
  {
    name: 'a slab header magic',
    corrupt: ({ h, small }) => {
      h.i32[slabOf(h, small[0]!) + S_MAGIC]! ^= 1;
    },
  },
  // A slab's used count is the number of set bits in its allocated-block bitmap.
  {
    name: 'a slab used count (-1: an allocated bit cleared, a live block looks free)',
    corrupt: ({ h, small }) => {
      flipBit(h, small[0]!);
    },
  },
  {
    name: 'a slab used count (+1: an allocated bit set on a block of the free list)',
    corrupt: ({ h, freed }) => {
      flipBit(h, freed[1]!);
    },
  },
  {
    name: 'a slab used count (+1: an allocated bit set on a never-carved block of the current slab)',
    corrupt: ({ h, small }) => {
      flipBit(h, currentSlabUncarved(h, small));
    },
  },
  {
    name: 'an allocated bit set inside a block',
    corrupt: ({ h, small }) => {
      flipBit(h, small[0]! + 16);
    },
  },
  {
    name: 'an allocated bit set in the slab header',
    corrupt: ({ h, small }) => {
      flipBit(h, (slabOf(h, small[0]!) << 2) + 32);
    },
  },
  {
    name: 'a slab bump pointer past its end',
    corrupt: ({ h, small }) => {
      const s = slabOf(h, small[0]!);
      h.i32[s + S_BUMP] = h.i32[s + S_END]! + 48;
    },
  },
  {
    name: 'a slab owner',
    corrupt: ({ h, small }) => {
      h.i32[slabOf(h, small[0]!) + S_OWNER]! += 1;
    },
  },
  {
    name: 'a slab remote-free list',
    corrupt: ({ h, small, freed }) => {
      h.i32[slabOf(h, small[0]!) + S_REMOTE] = freed[0]!;
    },
  },
  // ---- slab free lists (links live in the first word of each freed block)
  {
    name: 'a free-list link into another slab',
    corrupt: ({ h, freed, other }) => {
      h.i32[word(h, freed[0]!)] = other;
    },
  },
  {
    name: 'a free-list link to a live block of the same slab',
    corrupt: ({ h, freed, small }) => {
      h.i32[word(h, freed[0]!)] = small[0]!;
    },
  },
  {
    name: 'a free-list link into the slab header',
    corrupt: ({ h, freed }) => {
      h.i32[word(h, freed[0]!)] = (slabOf(h, freed[0]!) << 2) + 16;
    },
  },
  {
    name: 'a free-list link into the middle of a block',
    corrupt: ({ h, freed }) => {
      h.i32[word(h, freed[0]!)] = freed[1]! + 16;
    },
  },
  {
    name: 'a free-list link outside the heap',
    corrupt: ({ h, freed }) => {
      h.i32[word(h, freed[0]!)] = 0x7ffffff0;
    },
  },
  {
    name: 'a free-list link cut short (0)',
    corrupt: ({ h, freed }) => {
      h.i32[word(h, freeList(h, slabOf(h, freed[0]!))[0]!)] = 0;
    },
  },
  {
    name: 'a free-list cycle (a block links to itself)',
    corrupt: ({ h, freed }) => {
      h.i32[word(h, freed[2]!)] = freed[2]!;
    },
  },
  {
    name: 'a free-list cycle (the last block links to the first)',
    corrupt: ({ h, freed }) => {
      const list = freeList(h, slabOf(h, freed[0]!));
      h.i32[word(h, list[list.length - 1]!)] = list[0]!;
    },
  },
  {
    name: 'a slab free-list head pointing at a live block',
    corrupt: ({ h, small }) => {
      h.i32[slabOf(h, small[0]!) + S_FREE] = small[0]!;
    },
  },
  // ---- the thread's free lists (T_LISTS: head, room per class; links in the blocks' first words, marker in their second)
  {
    name: 'a thread list head pointing at a live block',
    corrupt: ({ h, small }) => {
      relink(h, listWord(h, CLS48), small[0]!);
    },
  },
  {
    name: 'a thread list link into a slab of another class',
    corrupt: ({ h, listed, other }) => {
      relink(h, word(h, listed[4]!), other);
    },
  },
  {
    name: 'a thread list link into the slab header',
    corrupt: ({ h, listed }) => {
      relink(h, word(h, listed[4]!), (slabOf(h, listed[4]!) << 2) + 16);
    },
  },
  {
    name: 'a thread list link into the middle of a block',
    corrupt: ({ h, listed }) => {
      relink(h, word(h, listed[4]!), listed[2]! + 16);
    },
  },
  {
    name: 'a thread list link cut short (0)',
    corrupt: ({ h, listed }) => {
      h.i32[word(h, listed[4]!)] = 0;
    },
  },
  {
    name: 'a thread list cycle (a block links to itself)',
    corrupt: ({ h, listed }) => {
      relink(h, word(h, listed[3]!), listed[3]!);
    },
  },
  {
    name: 'a thread list count',
    corrupt: ({ h }) => {
      h.i32[listWord(h, CLS48)]! += 1;
    },
  },
  {
    name: "a listed block's marker erased (written after free)",
    corrupt: ({ h, listed }) => {
      h.i32[word(h, listed[2]!) + MARK_WORD] = 0;
    },
  },
  {
    name: "a listed block's allocated bit cleared",
    corrupt: ({ h, listed }) => {
      flipBit(h, listed[2]!);
    },
  },
  // ---- slab lists of the thread
  {
    name: 'a current-slab pointer to a non-slab page',
    corrupt: ({ h, large }) => {
      h.i32[h.rec + T_CUR + CLS48] = large >>> 2;
    },
  },
  {
    name: 'the partial queue head emptied',
    corrupt: ({ h }) => {
      h.i32[h.rec + T_QHEAD + CLS48] = 0;
    },
  },
  {
    name: 'the partial queue tail',
    corrupt: ({ h }) => {
      h.i32[h.rec + T_QTAIL + CLS48] = 0;
    },
  },
  {
    name: 'a partial slab linking to itself',
    corrupt: ({ h, small }) => {
      const s = slabOf(h, small[0]!);
      h.i32[s + S_NEXT] = s;
    },
  },
  {
    name: 'a partial slab back link',
    corrupt: ({ h, small }) => {
      const s = slabOf(h, small[0]!);
      h.i32[s + S_PREV] = s;
    },
  },
  {
    name: 'the thread id of the thread record',
    corrupt: ({ h }) => {
      h.i32[h.i32[h.hw + H_THREADS]! + T_TID]! += 1;
    },
  },
  // ---- page map
  {
    name: 'the page-map entry of a slab head page',
    corrupt: ({ h, small }) => {
      h.i32[entryOf(h, slabOf(h, small[0]!) << 2)] = K_NONE;
    },
  },
  {
    name: 'the page-map entry of a slab body page',
    corrupt: (sc) => {
      sc.h.i32[entryOf(sc.h, (slabWithPages(sc, 2) << 2) + PAGE)] = K_NONE;
    },
  },
  {
    name: 'the page-map entry of a slab page set to a free page',
    corrupt: (sc) => {
      sc.h.i32[entryOf(sc.h, (slabWithPages(sc, 2) << 2) + PAGE)] = K_FREE_HEAD | (1 << 4);
    },
  },
  {
    name: 'the page-map entry of a large head (longer)',
    corrupt: ({ h, large }) => {
      h.i32[entryOf(h, large)]! += 1 << 4;
    },
  },
  {
    name: 'the page-map entry of a large head (shorter)',
    corrupt: ({ h, large }) => {
      h.i32[entryOf(h, large)]! -= 1 << 4;
    },
  },
  {
    name: 'the page-map entry of a large body page',
    corrupt: ({ h, large }) => {
      h.i32[entryOf(h, large + 3 * PAGE)] = K_NONE;
    },
  },
  {
    name: 'the page-map entry of a large body page pointing at another head',
    corrupt: ({ h, large }) => {
      h.i32[entryOf(h, large + 3 * PAGE)]! += 1 << 4;
    },
  },
  {
    name: 'a page-map entry with an invalid kind',
    corrupt: ({ h, large }) => {
      h.i32[entryOf(h, large + 3 * PAGE)] = KIND_MASK;
    },
  },
  {
    name: 'the page-map entry of a free run head',
    corrupt: ({ h, run }) => {
      h.i32[entryOf(h, run)] = K_NONE;
    },
  },
  {
    name: 'the page-map entry of a free run head (length)',
    corrupt: ({ h, run }) => {
      h.i32[entryOf(h, run)]! -= 1 << 4;
    },
  },
  {
    name: 'the page-map entry of a free run tail',
    corrupt: ({ h, run }) => {
      h.i32[entryOf(h, run + 39 * PAGE)] = K_NONE;
    },
  },
  {
    name: 'a free run head turned into a large block',
    corrupt: ({ h, run }) => {
      h.i32[entryOf(h, run)] = (getEntry(h, run >>> PAGE_SHIFT) & ~KIND_MASK) | K_LARGE_HEAD;
    },
  },
  {
    name: 'the page-map entry of a cached block',
    corrupt: ({ h, cached }) => {
      h.i32[entryOf(h, cached)] = (getEntry(h, cached >>> PAGE_SHIFT) & ~KIND_MASK) | K_LARGE_HEAD;
    },
  },
  {
    name: 'a top-table entry pointing at a slab page',
    corrupt: ({ h, small }) => {
      h.i32[h.topw + (small[0]! >>> REGION_SHIFT)] = slabOf(h, small[0]!);
    },
  },
  {
    name: 'a top-table entry pointing at the null leaf',
    corrupt: ({ h, small }) => {
      h.i32[h.topw + (small[0]! >>> REGION_SHIFT)] = h.i32[h.hw + H_NULL_LEAF]!;
    },
  },
  // ---- free runs and bins
  {
    name: 'a free run header magic',
    corrupt: ({ h, run }) => {
      h.i32[word(h, run) + RUN_CHECK]! ^= 1;
    },
  },
  {
    name: 'a free run header length',
    corrupt: ({ h, run }) => {
      h.i32[word(h, run) + RUN_PAGES]! += 1;
    },
  },
  {
    name: 'a free run linking to itself (bin cycle)',
    corrupt: ({ h, run }) => {
      h.i32[word(h, run) + RUN_NEXT] = run;
    },
  },
  {
    name: 'a free run linking to a live block',
    corrupt: ({ h, run, large }) => {
      h.i32[word(h, run) + RUN_NEXT] = large;
    },
  },
  {
    name: 'a free run back link',
    corrupt: ({ h, run }) => {
      h.i32[word(h, run) + RUN_PREV] = run;
    },
  },
  {
    name: 'a bin head emptied',
    corrupt: ({ h }) => {
      h.i32[h.hw + H_BINS + binOf(40)] = 0;
    },
  },
  {
    name: 'a bin head pointing at a live large block',
    corrupt: ({ h, large }) => {
      h.i32[h.hw + H_BINS + binOf(40)] = large;
    },
  },
  {
    name: 'a bin head pointing outside the arena',
    corrupt: ({ h }) => {
      h.i32[h.hw + H_BINS + binOf(40)] = PAGE;
    },
  },
  {
    name: 'a bin head in the wrong bin',
    corrupt: ({ h, run }) => {
      h.i32[h.hw + H_BINS + binOf(40)] = 0;
      h.i32[h.hw + H_BINS + binOf(3)] = run;
    },
  },
  {
    name: 'a bin mask bit cleared',
    corrupt: ({ h }) => {
      const b = binOf(40);
      h.i32[h.hw + H_BIN_MASK + (b >>> 5)]! &= ~(1 << (b & 31));
    },
  },
  {
    name: 'a bin mask bit set for an empty bin',
    corrupt: ({ h }) => {
      const b = binOf(7);
      h.i32[h.hw + H_BIN_MASK + (b >>> 5)]! |= 1 << (b & 31);
    },
  },
  // ---- BigCache
  {
    name: 'a BigCache slot pointing at a live block',
    corrupt: ({ h, large }) => {
      h.i32[bcSlot(h)] = large;
    },
  },
  {
    name: 'a BigCache slot length',
    corrupt: ({ h }) => {
      h.i32[bcSlot(h) + 1]! += 1;
    },
  },
  {
    name: 'a BigCache slot emptied',
    corrupt: ({ h }) => {
      const w = bcSlot(h);
      h.i32[w] = 0;
      h.i32[w + 1] = 0;
    },
  },
  {
    name: 'the BigCache page count',
    corrupt: ({ h }) => {
      h.i32[h.hw + H_BC_PAGES]! += 1;
    },
  },
  // ---- heap header
  {
    name: 'the heap magic',
    corrupt: ({ h }) => {
      h.i32[h.hw + H_MAGIC]! ^= 1;
    },
  },
  {
    name: 'the free page count',
    corrupt: ({ h }) => {
      h.i32[h.hw + H_FREE_PAGES]! += 1;
    },
  },
  {
    name: 'the used page count',
    corrupt: ({ h }) => {
      h.i32[h.hw + H_USED_PAGES]! -= 1;
    },
  },
  {
    name: 'the frontier past the buffer',
    corrupt: ({ h }) => {
      h.i32[h.hw + H_FRONTIER] = h.byteLength + 16 * PAGE;
    },
  },
  {
    name: 'the frontier moved back',
    corrupt: ({ h }) => {
      h.i32[h.hw + H_FRONTIER]! -= PAGE;
    },
  },
  {
    name: 'the frontier moved forward',
    corrupt: ({ h }) => {
      h.i32[h.hw + H_FRONTIER]! += PAGE;
    },
  },
  {
    name: 'the arena start',
    corrupt: ({ h }) => {
      h.i32[h.hw + H_ARENA_START]! += PAGE;
    },
  },
  {
    name: 'the high-water mark below the frontier',
    corrupt: ({ h }) => {
      h.i32[h.hw + H_HIGH_WATER] = h.i32[h.hw + H_ARENA_START]!;
    },
  },
  {
    name: 'the sentinel slab written to',
    corrupt: ({ h }) => {
      h.i32[h.hw + H_SENTINEL + 1] = 3;
    },
  },
  {
    name: 'the thread table emptied',
    corrupt: ({ h }) => {
      h.i32[h.hw + H_THREADS] = 0;
    },
  },
  {
    name: 'the thread table size (huge)',
    corrupt: ({ h }) => {
      h.i32[h.hw + H_MAX_THREADS] = 0x7fffffff;
    },
  },
  {
    name: 'the thread table size (negative)',
    corrupt: ({ h }) => {
      h.i32[h.hw + H_MAX_THREADS] = -1;
    },
  },
];

export interface CaseResult {
  /** check() failed before the corruption (the scene itself is broken). */
  preError?: string;
  threw: boolean;
  isCorruption: boolean;
  errorName: string;
  message: string;
  ms: number;
}

export function runCase(name: string): CaseResult {
  const c = CASES.find((x) => x.name === name);
  if (c === undefined) throw new Error(`no case ${name}`);
  const sc = scene();
  try {
    sc.h.check();
  } catch (e) {
    return { preError: String(e), threw: false, isCorruption: false, errorName: '', message: '', ms: 0 };
  }
  c.corrupt(sc);
  const t0 = performance.now();
  try {
    sc.h.check();
    return { threw: false, isCorruption: false, errorName: '', message: '', ms: performance.now() - t0 };
  } catch (e) {
    const err = e as Error;
    return {
      threw: true,
      isCorruption: e instanceof HeapCorruptionError,
      errorName: err.name,
      message: err.message,
      ms: performance.now() - t0,
    };
  }
}

/** The scene's shape, for a sanity test in the main thread. */
export function describeScene(sc: Scene): Record<string, number> {
  const { h } = sc;
  return {
    freedOnList: sc.freed.filter((p) => freeList(h, slabOf(h, sc.freed[0]!)).includes(p)).length,
    partialHead: h.i32[h.rec + T_QHEAD + CLS48]!,
    firstSlab: slabOf(h, sc.small[0]!),
    runKind: getEntry(h, sc.run >>> PAGE_SHIFT) & KIND_MASK,
    runPages: getEntry(h, sc.run >>> PAGE_SHIFT) >>> 4,
    bigCachePages: h.i32[h.hw + H_BC_PAGES]!,
    multiPageSlab: slabWithPages(sc, 2),
    listed: threadList(h, CLS48).filter((p) => sc.listed.includes(p)).length,
  };
}

/** This thread's free list of class cls, as block pointers (bounded). */
function threadList(h: Heap, cls: number): number[] {
  const out: number[] = [];
  for (let p = listFirst(h.i32[listWord(h, cls)]!); p !== 0 && out.length < 1000; p = listFirst(h.i32[word(h, p)]!)) out.push(p);
  return out;
}
