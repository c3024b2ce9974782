/**
 * Corruption injection for test/corrupt-flip.test.ts: flips random bits (one bit, or a random
 * 32-bit mask) of one word of allocator metadata of a heap with live blocks in every tier, runs
 * heap.check(), and restores the word. check() must pass (the bits meant nothing there) or throw
 * HeapCorruptionError: any other exception is a failure, and the test runs this in a worker with a
 * watchdog (corrupt-flip-worker.ts, case-runner.ts), so a check() that never returns (or crashes the
 * thread) fails too.
 *
 * The scene (buildScene) has, for a seed: small, mid and large blocks live and freed (slab free
 * lists, partial and full slabs, free runs, the BigCache), aligned blocks (aligned slabs), a second
 * attached thread whose slabs hold blocks freed remotely by the first (pending remote bits) and
 * which freed some of the first thread's blocks, and a third thread that detached (abandoned slabs,
 * some of whose blocks were then freed remotely).
 *
 * Metadata regions (words located with src/layout.ts): the heap header's fixed fields, bin mask,
 * top table, bins, BigCache, sentinel, abandoned lists, dead direct table and thread table; the
 * page-map leaves (entries of arena pages) and the null leaf; thread records (the used tables);
 * slab headers, allocated bitmaps and remote bitmaps; free-run headers; free-list links (the first
 * word of a block on a slab's free list).
 */
import { attachHeap, createHeap, HeapCorruptionError, type Heap } from '../../src/index.ts';
import {
  H_ABANDONED,
  H_BC,
  H_BINS,
  H_BIN_MASK,
  H_DEAD_DIRECT,
  H_FRONTIER,
  H_ARENA_START,
  H_MAX_THREADS,
  H_NULL_LEAF,
  H_SENTINEL,
  H_THREADS,
  H_TOP,
  K_FREE_HEAD,
  K_SLAB,
  KIND_MASK,
  PAGE_SHIFT,
  RUN_CHECK,
  S_ALLOC_BITMAP,
  S_FREE,
  S_PAGES,
  T_LISTS,
  LIST_SHIFT,
  S_REMOTE_BITMAP,
  slotIsAttached,
  TOP_ENTRIES,
  BC_SLOTS,
  NBINS,
  E_SLAB_DIST_SHIFT,
  E_SLAB_DIST_MASK,
} from '../../src/layout.ts';
import { getEntry } from '../../src/pages.ts';
import { DIRECT_ENTRIES, T_DIRECT } from '../../src/layout.ts';
import { NCLASSES } from '../../src/size-classes.ts';
import { Rng } from './rng.ts';

export interface Region {
  kind: string;
  /** Word index of the first word. */
  start: number;
  words: number;
}

export interface Scene {
  h: Heap;
  regions: Map<string, Region[]>;
}

function sizeFor(r: Rng): number {
  const x = r.next();
  if (x < 0.6) return r.int(0, 1024);
  if (x < 0.93) return r.int(1025, 32768);
  return r.int(32769, 400_000);
}

export function buildScene(seed: number): Scene {
  const r = new Rng(seed);
  const h = createHeap({ initialBytes: 1 << 20, maxThreads: 8, name: `flip#${seed}` });
  const mine: number[] = [];
  for (let i = 0; i < 2500; i++) {
    const size = sizeFor(r);
    const p = r.next() < 0.08 ? h.alignedAlloc(2 ** r.int(5, 13), size) : h.malloc(size);
    mine.push(p);
  }
  // free ~40%: partial slabs, free lists, free runs, the BigCache
  const keep: number[] = [];
  for (const p of mine) r.next() < 0.4 ? h.free(p) : keep.push(p);
  // a second thread (stays attached): it frees some of ours (remote bits in our slabs) ...
  const t2 = attachHeap(h.handle);
  const t2blocks: number[] = [];
  for (let i = 0; i < 600; i++) t2blocks.push(t2.malloc(r.next() < 0.8 ? r.int(0, 1024) : r.int(1025, 20000)));
  for (let i = 0; i < 150; i++) {
    const j = r.int(0, keep.length - 1);
    t2.free(keep[j]!);
    keep.splice(j, 1);
  }
  // ... and we free some of its blocks (remote bits in its slabs, some armed full slabs notified)
  for (const p of t2blocks) if (r.next() < 0.3) h.free(p);
  // a third thread detaches: its slabs are abandoned; we then free some of their blocks
  const t3 = attachHeap(h.handle);
  const t3blocks: number[] = [];
  for (let i = 0; i < 400; i++) t3blocks.push(t3.malloc(r.next() < 0.8 ? r.int(0, 1024) : r.int(1025, 20000)));
  const t3live = t3blocks.filter((p) => {
    if (r.next() >= 0.2) return true;
    t3.free(p);
    return false;
  });
  t3.detach();
  for (const p of t3live) if (r.next() < 0.2) h.free(p);
  // more churn on the main thread after all that (relists, adoption)
  for (let i = 0; i < 300; i++) {
    const p = h.malloc(sizeFor(r));
    if (r.next() < 0.5) h.free(p);
  }
  h.check();
  return { h, regions: findRegions(h) };
}

export function findRegions(h: Heap): Map<string, Region[]> {
  const m = h.i32;
  const hw = h.hw;
  const out = new Map<string, Region[]>();
  const add = (kind: string, start: number, words: number) => {
    if (words <= 0) return;
    let l = out.get(kind);
    if (l === undefined) out.set(kind, (l = []));
    l.push({ kind, start, words });
  };
  const maxThreads = m[hw + H_MAX_THREADS]!;
  add('header fields', hw, H_BIN_MASK);
  add('bin mask', hw + H_BIN_MASK, 4);
  add('top table', hw + H_TOP, TOP_ENTRIES);
  add('bins', hw + H_BINS, NBINS);
  add('BigCache', hw + H_BC, 2 * BC_SLOTS);
  add('sentinel slab', hw + H_SENTINEL, 16);
  add('abandoned lists', hw + H_ABANDONED, 128);
  add('dead direct table', hw + H_DEAD_DIRECT, DIRECT_ENTRIES);
  add('thread table', hw + H_THREADS, 2 * maxThreads);
  const nullLeaf = m[hw + H_NULL_LEAF]!;
  add('null leaf', nullLeaf, 1024);
  const arena = m[hw + H_ARENA_START]!;
  const frontier = m[hw + H_FRONTIER]!;
  // leaves: the entries of the pages the arena covers (and the rest of the leaf)
  for (let rg = 0; rg < TOP_ENTRIES; rg++) {
    const leaf = m[hw + H_TOP + rg]!;
    if (leaf === nullLeaf) continue;
    const lo = Math.max(0, (arena >>> PAGE_SHIFT) - rg * 1024);
    const hi = Math.min(1024, (frontier >>> PAGE_SHIFT) - rg * 1024);
    if (lo > 0) add('page-map entry (below the arena)', leaf, Math.min(lo, 1024));
    if (hi > lo) add('page-map entry (arena page)', leaf + lo, hi - lo);
    if (hi < 1024) add('page-map entry (past the frontier)', leaf + Math.max(hi, 0), 1024 - Math.max(hi, 0));
  }
  // thread records: the tables in use (T_* fields, current slabs, queues, direct table)
  for (let t = 0; t < maxThreads; t++) {
    const rec = m[hw + H_THREADS + t]!;
    const attached = slotIsAttached(m[hw + H_THREADS + maxThreads + t]!);
    if (rec !== 0) add(attached ? 'thread record' : 'thread record (free slot)', rec, T_DIRECT + DIRECT_ENTRIES);
    if (rec !== 0 && attached) {
      add('thread free lists', rec + T_LISTS, NCLASSES << LIST_SHIFT);
      // links and markers of the blocks on the lists
      for (let c = 0; c < NCLASSES; c++) {
        for (let p = m[rec + T_LISTS + (c << LIST_SHIFT)]!, n = 0; p !== 0 && n < 8; p = m[p >>> 2]!, n++)
          add('thread list link and marker', p >>> 2, 2);
      }
    }
  }
  for (let pg = arena >>> PAGE_SHIFT; pg < frontier >>> PAGE_SHIFT; pg++) {
    const e = getEntry(h, pg);
    const kind = e & KIND_MASK;
    if (kind === K_SLAB && ((e >>> E_SLAB_DIST_SHIFT) & E_SLAB_DIST_MASK) === 0) {
      const s = pg << (PAGE_SHIFT - 2);
      const pages = m[s + S_PAGES]!;
      const abits = m[s + S_ALLOC_BITMAP]!;
      const rbits = m[s + S_REMOTE_BITMAP]!;
      add('slab header', s, S_ALLOC_BITMAP + 1);
      add('slab allocated bitmap', s + abits, rbits - abits);
      add('slab remote bitmap', s + rbits, pages * 8);
      // free-list links
      for (let p = m[s + S_FREE]!, n = 0; p !== 0 && n < 64; p = m[p >>> 2]!, n++) add('free-list link', p >>> 2, 1);
    } else if (kind === K_FREE_HEAD) {
      add('free-run header', pg << (PAGE_SHIFT - 2), RUN_CHECK + 1);
    }
  }
  return out;
}

export interface FlipResult {
  region: string;
  /** Word offset inside the region's structure. */
  offset: number;
  mask: number;
  outcome: 'harmless' | 'detected' | 'other';
  errorName?: string;
  message?: string;
}

/** One flip: picks a region kind, an instance, a word and a mask; runs check(); restores the word. */
export function flipOnce(sc: Scene, trialSeed: number): FlipResult {
  const r = new Rng(trialSeed);
  const kinds = [...sc.regions.keys()];
  const kind = kinds[r.int(0, kinds.length - 1)]!;
  const list = sc.regions.get(kind)!;
  const reg = list[r.int(0, list.length - 1)]!;
  const offset = r.int(0, reg.words - 1);
  const w = reg.start + offset;
  const mask = r.next() < 0.7 ? (1 << r.int(0, 31)) | 0 : r.u32() | 1 | 0;
  const m = sc.h.i32;
  const old = m[w]!;
  m[w] = old ^ mask;
  let res: FlipResult;
  try {
    sc.h.check();
    res = { region: kind, offset, mask, outcome: 'harmless' };
  } catch (e) {
    const err = e as Error;
    res = {
      region: kind,
      offset,
      mask,
      outcome: e instanceof HeapCorruptionError ? 'detected' : 'other',
      errorName: err?.name,
      message: String(err?.message).slice(0, 300),
    };
  } finally {
    m[w] = old;
  }
  return res;
}
