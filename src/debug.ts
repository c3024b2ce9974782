/**
 * hakmem/debug: the debug build. Same API and heap format as the release build (a heap made by one
 * can be attached by the other); it catches and names what the release build cannot afford to.
 *
 * Every block it hands out is asked of the core EXTRA bytes larger and carries, at the end of the
 * core block, a 16-byte trailer: requested size, thread id and tag index, stack index, and a magic
 * word (a per-heap random key ^ pointer ^ size). Between the requested size and the trailer lies a
 * canary (CANARY bytes, at least 8). New blocks are filled with UNINIT (calloc: zeros); a freed
 * block is filled with POISON and marked freed (its last word = key ^ pointer ^ size ^ FREED_SALT;
 * words 0 and 1 are the core's: its free-list link and its free-list marker). So:
 *   - free/realloc/check() of a block whose canary or trailer changed: HeapOverflowError;
 *   - a block handed out again whose poison changed: UseAfterFreeError (also found by check());
 *   - a second free of a block still marked freed (also across threads): DoubleFreeError;
 *   - invalid pointers: the core's InvalidFreeError / DoubleFreeError;
 *   - heap.leaks(): every live block with size, thread, tag and (captureStacks) stack;
 *   - stats().routes: which path every malloc and free of this thread took (route() hook).
 * None of this is in the release bundle: the release entry (index.ts) never imports this file.
 * Check cost is O(block size) per call: this build is for finding bugs, not for speed.
 */
import { Heap, type HeapHandle, type HeapOptions } from './heap.ts';
import { attachHeapOf, createHeapOf } from './init.ts';
import { isU32 } from './args.ts';
import { DoubleFreeError, HeapOverflowError, UseAfterFreeError } from './errors.ts';
import {
  H_ARENA_START,
  H_DEBUG_KEY,
  H_FRONTIER,
  H_MAX_THREADS,
  H_MIXED,
  H_THREADS,
  K_LARGE_HEAD,
  K_SLAB,
  KIND_MASK,
  MARK_WORD,
  PAGE_SHIFT,
  S_ALLOC_BITMAP,
  S_FREE,
  S_PAGES,
  S_REMOTE_BITMAP,
  slotIsAttached,
  T_LIMIT,
  T_LISTS,
  LIST_SHIFT,
  listFirst,
  slabOf,
  slabDist,
} from './layout.ts';
import { getEntry } from './pages.ts';
import { blockStart } from './slab.ts';
import {
  NROUTES,
  R_COLLECT,
  R_CONFIRM,
  R_FLUSH,
  R_FREE_LARGE,
  R_FREE_REMOTE,
  R_FREE_SLOW,
  R_MALLOC_LARGE,
  R_MALLOC_REFILL,
  R_MALLOC_SLOW,
  type RouteStats,
} from './routes.ts';
import { CLASS_SIZE, NCLASSES } from './size-classes.ts';
import type { HeapStats } from './stats.ts';

export * from './index.ts';

const TRAILER = 16;
const EXTRA = TRAILER + 8;
const CANARY = 0xcb;
const POISON = 0xdd;
const UNINIT = 0xbe;
const FREED_SALT = 0x0f4eed00;
/** Poison is checked from this byte on (words 0 and 1 are the core's free-list link and marker, MARK_WORD) to the freed mark, the block's last word. */
const POISON_FROM = 8;
const MAGIC_SALT = 0x5a17ed5a;

export interface DebugHeapOptions extends HeapOptions {
  /** Record a stack trace with every allocation, shown by leaks() (slow). */
  captureStacks?: boolean;
}

/** A live block, as heap.leaks() lists it. */
export interface LeakInfo {
  ptr: number;
  /** requested size (usable size for a block the release build allocated) */
  size: number;
  /** thread that allocated it (0 if unknown: a release-build block) */
  thread: number;
  tag?: string;
  stack?: string;
}

export interface DebugHeapStats extends HeapStats {
  routes: RouteStats;
}

export class DebugHeap extends Heap {
  /** @internal attachHeap marks a heap "mixed" when a thread of the other build joins. */
  static readonly debugBuild = true;
  declare private key: number;
  declare private inner: number;
  declare private routeCounts: Float64Array;
  declare private nMalloc: number;
  declare private nFree: number;
  declare private tags: string[];
  declare private stacks: string[];
  declare captureStacks: boolean;

  /** @internal */
  constructor(...args: ConstructorParameters<typeof Heap>) {
    super(...args);
    const m = this.m32;
    const kw = this.hw + H_DEBUG_KEY;
    // A heap the release build made (this thread attached to it): blocks without a trailer exist.
    if (Atomics.compareExchange(m, kw, 0, (Math.random() * 0x7fffffff) | 1) === 0 && this.threadId !== 1)
      Atomics.store(m, this.hw + H_MIXED, 1);
    this.key = Atomics.load(m, kw);
    this.inner = 0;
    this.routeCounts = new Float64Array(NROUTES);
    this.nMalloc = 0;
    this.nFree = 0;
    this.tags = [''];
    this.stacks = [''];
    this.captureStacks = false;
  }

  protected override route(r: number): void {
    this.routeCounts[r]!++;
  }

  /** Whether block p is on a thread's free list (the core's marker): free, although its allocated bit is set. */
  private onAList(p: number): boolean {
    return this.markKey !== 0 && this.m32[(p >>> 2) + MARK_WORD] === (p ^ this.markKey);
  }

  override malloc(size: number): number {
    if (this.inner !== 0) return super.malloc(size);
    return this.allocate(size, 0, false);
  }

  override mallocTagged(size: number, tag: string): number {
    let i = this.tags.indexOf(tag);
    if (i < 0) i = this.tags.push(String(tag)) - 1;
    return this.allocate(size, i & 0xffff, false);
  }

  override free(arg: number | ArrayBufferView): void {
    const ptr = typeof arg === 'object' && arg !== null && ArrayBuffer.isView(arg) ? this.viewPointer(arg) : (arg as number);
    if (this.inner !== 0) {
      super.free(ptr);
      return;
    }
    this.nFree++;
    if (ptr === 0 && this.threadId !== 0) return;
    const u = super.usableSize(ptr); // validates first: DetachedError / InvalidFreeError / DoubleFreeError
    this.verify(ptr, u, 'free');
    this.poisonCore(ptr, u);
    this.inner++;
    try {
      super.free(ptr);
    } finally {
      this.inner--;
    }
  }

  override calloc(count: number, size: number): number {
    if (!isU32(count) || !isU32(size) || count * size > this.maxRequest) return super.calloc(count, size); // throws, or 0: too large
    const total = count * size;
    return this.allocate(total, 0, true);
  }

  override realloc(ptr: number, size: number): number {
    if (!isU32(size) || size > this.maxRequest) return super.realloc(ptr, size); // throws, or 0: too large
    if (ptr === 0) return this.malloc(size);
    const u = super.usableSize(ptr);
    const old = this.verify(ptr, u, 'realloc');
    if (size === 0) {
      this.free(ptr);
      return 0;
    }
    // Always moves: a stale pointer to the old block then meets poison, not live data.
    const q = this.malloc(size);
    if (q === 0) return 0;
    this.m8.copyWithin(q, ptr, ptr + Math.min(old, size));
    this.free(ptr);
    return q;
  }

  override alignedAlloc(alignment: number, size: number): number {
    if (
      typeof alignment !== 'number' ||
      alignment >>> 0 !== alignment ||
      (alignment & (alignment - 1)) !== 0 ||
      alignment === 0 ||
      alignment > 1 << 30 ||
      !isU32(size) ||
      size > this.maxRequest
    ) {
      return super.alignedAlloc(alignment, size); // throws, or 0: too large
    }
    if (size > this.maxRequest - EXTRA) return 0; // fits the heap's limit but not with the debug trailer
    if (alignment <= 16) return this.malloc(size);
    this.inner++;
    let q: number;
    try {
      q = super.alignedAlloc(alignment, size + EXTRA);
    } finally {
      this.inner--;
    }
    if (q === 0) return 0;
    this.nMalloc++;
    // A small aligned block starts inside its core block: clear the bytes before it, so that a freed
    // marker left there from an earlier life of the core block is not taken as current later.
    const e = getEntry(this, q >>> PAGE_SHIFT);
    if ((e & KIND_MASK) === K_SLAB) {
      const b = blockStart(this, slabOf(q, e), q);
      if (b !== q) {
        this.verifyPoison(b, q + super.usableSize(q) - b, 'alignedAlloc'); // the core block's last life
        this.m8.fill(0, b, q);
      }
    }
    this.prepare(q, size, 0, false);
    return q;
  }

  override usableSize(ptr: number): number {
    const u = super.usableSize(ptr);
    if (ptr === 0) return 0;
    const m = this.m32;
    const t = (ptr + u - TRAILER) >>> 2;
    const size = m[t]!;
    return m[t + 3] === this.magic(ptr, size) ? size : u;
  }

  /** Live blocks: size, allocating thread, tag (mallocTagged) and stack (captureStacks). */
  leaks(): LeakInfo[] {
    this.syncViews();
    const out: LeakInfo[] = [];
    this.forEachLive((ptr) => {
      const u = super.usableSize(ptr);
      const m = this.m32;
      const t = (ptr + u - TRAILER) >>> 2;
      const size = m[t]!;
      if (m[t + 3] !== this.magic(ptr, size)) {
        out.push({ ptr, size: u, thread: 0 });
        return;
      }
      const thread = m[t + 1]! >>> 16;
      const info: LeakInfo = { ptr, size, thread };
      const tag = m[t + 1]! & 0xffff;
      if (tag !== 0) info.tag = thread === this.threadId ? this.tags[tag] : `#${tag} of thread ${thread}`;
      const st = m[t + 2]!;
      if (st !== 0 && thread === this.threadId) info.stack = this.stacks[st];
      out.push(info);
    });
    return out;
  }

  override stats(): DebugHeapStats {
    const s = super.stats() as DebugHeapStats;
    // Bytes in use = what usableSize reports: the requested sizes (the canaries and trailers are not usable).
    let bytes = 0;
    this.forEachLive((ptr) => {
      bytes += this.usableSize(ptr);
    });
    s.inUseBytes = bytes;
    const r = this.routeCounts;
    s.routes = {
      mallocs: this.nMalloc,
      mallocFast: this.nMalloc - r[R_MALLOC_REFILL]! - r[R_MALLOC_LARGE]!,
      mallocRefill: r[R_MALLOC_REFILL]!,
      mallocSlow: r[R_MALLOC_SLOW]!,
      mallocLarge: r[R_MALLOC_LARGE]!,
      collect: r[R_COLLECT]!,
      frees: this.nFree,
      freeFast: this.nFree - r[R_FREE_SLOW]!,
      freeSlow: r[R_FREE_SLOW]!,
      flush: r[R_FLUSH]!,
      confirm: r[R_CONFIRM]!,
      freeRemote: r[R_FREE_REMOTE]!,
      freeLarge: r[R_FREE_LARGE]!,
    };
    return s;
  }

  /** The core's check(), then every live block's canary and every freed block's poison. */
  override check(): void {
    super.check();
    this.forEachLive((ptr) => {
      this.verify(ptr, super.usableSize(ptr), 'check');
    });
    this.forEachFree((ptr, u) => this.verifyPoison(ptr, u, 'check'));
  }

  // ---------------------------------------------------------------- internals

  private magic(ptr: number, size: number): number {
    return (this.key ^ ptr ^ size ^ MAGIC_SALT) | 0;
  }

  private allocate(size: number, tag: number, zero: boolean): number {
    if (!isU32(size) || size > this.maxRequest - EXTRA) {
      if (!isU32(size) || size > this.maxRequest) return super.malloc(size); // throws, or 0: too large
      return 0; // fits the heap's limit but not with the debug trailer
    }
    this.nMalloc++;
    this.inner++;
    let p: number;
    try {
      p = super.malloc(size + EXTRA);
    } finally {
      this.inner--;
    }
    if (p === 0) return 0;
    this.prepare(p, size, tag, zero);
    return p;
  }

  /** A block just handed out by the core: check its poison, fill it, write canary and trailer. */
  private prepare(p: number, size: number, tag: number, zero: boolean): void {
    const u = super.usableSize(p);
    this.verifyPoison(p, u, 'malloc');
    const m8 = this.m8;
    m8.fill(zero ? 0 : UNINIT, p, p + size);
    m8.fill(CANARY, p + size, p + u - TRAILER);
    const m = this.m32;
    const t = (p + u - TRAILER) >>> 2;
    m[t] = size;
    m[t + 1] = (this.threadId << 16) | tag;
    let st = 0;
    if (this.captureStacks) st = this.stacks.push(new Error().stack?.split('\n').slice(3).join('\n') ?? '') - 1;
    m[t + 2] = st;
    m[t + 3] = this.magic(p, size);
  }

  /** Verifies a live block's trailer and canary; returns its requested size. */
  private verify(p: number, u: number, op: string): number {
    const m = this.m32;
    if (m[(p + u - 4) >>> 2] === this.freedMark(p, u) && this.poisonIntact(p, u)) {
      throw new DoubleFreeError(
        p,
        `${op}: the block is marked freed and still holds its poison (freed before, possibly on another thread)`,
        this.name,
      );
    }
    const t = (p + u - TRAILER) >>> 2;
    const size = m[t]!;
    if (m[t + 3] !== this.magic(p, size)) {
      // In a heap shared with release-build threads, a block without a trailer is theirs: no canary to check.
      if (Atomics.load(m, this.hw + H_MIXED) !== 0) return u;
      throw new HeapOverflowError(
        p,
        `${op}: the trailer after the block (${u - TRAILER} usable bytes) is overwritten (or the block was allocated by the release build)`,
        this.name,
      );
    }
    const m8 = this.m8;
    for (let i = p + size; i < p + u - TRAILER; i++) {
      if (m8[i] !== CANARY) {
        throw new HeapOverflowError(
          p,
          `${op}: byte ${i - p} of a ${size}-byte block was written (found 0x${m8[i]!.toString(16)} in its canary)`,
          this.name,
        );
      }
    }
    return size;
  }

  /** The freed marker of a block at p with u usable bytes (u in it: a block of another size at p later is not mistaken for it). */
  private freedMark(p: number, u: number): number {
    return (this.key ^ p ^ Math.imul(u, 0x9e3779b1) ^ FREED_SALT) | 0;
  }

  private poison(p: number, u: number): void {
    this.m8.fill(POISON, p, p + u);
    this.m32[(p + u - 4) >>> 2] = this.freedMark(p, u);
  }

  /**
   * Poisons the whole core block of the block at p (u usable bytes from p): for a small aligned
   * block that is the core block from its start, which is what the core puts on its free list and
   * hands out again.
   */
  private poisonCore(p: number, u: number): void {
    const e = getEntry(this, p >>> PAGE_SHIFT);
    if ((e & KIND_MASK) === K_SLAB) {
      const s = slabOf(p, e);
      const b = blockStart(this, s, p);
      if (b !== p) {
        this.poison(b, p + u - b);
        return;
      }
    }
    this.poison(p, u);
  }

  /** Pages going back to the page allocator lose their poison markers (they may hold other blocks later). */
  override freePages(pg: number, n: number): void {
    this.m8.fill(0, pg << PAGE_SHIFT, (pg + n) << PAGE_SHIFT);
    super.freePages(pg, n);
  }

  private poisonIntact(p: number, u: number): boolean {
    const m8 = this.m8;
    for (let i = p + POISON_FROM; i < p + u - 4; i++) if (m8[i] !== POISON) return false;
    return true;
  }

  /** A block marked freed must still hold its poison (bytes 8..u-4; words 0 and 1 are the core's link and marker, the last the freed mark). */
  private verifyPoison(p: number, u: number, op: string): void {
    if (this.m32[(p + u - 4) >>> 2] !== this.freedMark(p, u)) return; // not a block the debug build freed
    const m8 = this.m8;
    for (let i = p + POISON_FROM; i < p + u - 4; i++) {
      if (m8[i] !== POISON) {
        throw new UseAfterFreeError(
          p,
          `${op}: byte ${i - p} of the freed block was written after free (found 0x${m8[i]!.toString(16)}, poison is 0x${POISON.toString(16)})`,
          this.name,
        );
      }
    }
  }

  /** Calls fn(ptr) for every live block (allocated bit set, not freed remotely; large blocks). */
  private forEachLive(fn: (ptr: number) => void): void {
    const m = this.m32;
    const first = m[this.hw + H_ARENA_START]! >>> PAGE_SHIFT;
    const end = m[this.hw + H_FRONTIER]! >>> PAGE_SHIFT;
    for (let pg = first; pg < end; pg++) {
      const e = getEntry(this, pg);
      const k = e & KIND_MASK;
      if (k === K_LARGE_HEAD) {
        fn(pg << PAGE_SHIFT);
      } else if (k === K_SLAB && slabDist(e) === 0) {
        const s = pg << (PAGE_SHIFT - 2);
        const rb = s + m[s + S_REMOTE_BITMAP]!;
        for (let i = 0; i < m[s + S_PAGES]! * 8; i++) {
          let w = m[s + m[s + S_ALLOC_BITMAP]! + i]! & ~m[rb + i]!;
          while (w !== 0) {
            const b = 31 - Math.clz32(w & -w);
            w &= w - 1;
            const p = (pg << PAGE_SHIFT) + (i * 32 + b) * 16;
            if (!this.onAList(p)) fn(p);
          }
        }
      }
    }
  }

  /**
   * Calls fn(block, bytes) for every block on a slab free list (bounded by the slab's capacity) and
   * on an attached thread's free list (bounded by the list's limit).
   */
  private forEachFree(fn: (ptr: number, bytes: number) => void): void {
    const m = this.m32;
    const max = m[this.hw + H_MAX_THREADS]!;
    for (let i = 0; i < max; i++) {
      const rec = m[this.hw + H_THREADS + i]!;
      if (rec === 0 || !slotIsAttached(Atomics.load(m, this.hw + H_THREADS + max + i))) continue;
      for (let c = 0; c < NCLASSES; c++) {
        for (
          let p = listFirst(m[rec + T_LISTS + (c << LIST_SHIFT)]!), n = 0;
          p !== 0 && n <= m[rec + T_LIMIT + c]!;
          p = listFirst(m[p >>> 2]!), n++
        )
          fn(p, CLASS_SIZE[c]!);
      }
    }
    const first = m[this.hw + H_ARENA_START]! >>> PAGE_SHIFT;
    const end = m[this.hw + H_FRONTIER]! >>> PAGE_SHIFT;
    for (let pg = first; pg < end; pg++) {
      const e = getEntry(this, pg);
      if ((e & KIND_MASK) !== K_SLAB || slabDist(e) !== 0) continue;
      const s = pg << (PAGE_SHIFT - 2);
      const bsize = m[s + 5]!; // S_BSIZE
      for (let p = m[s + S_FREE]!, n = 0; p !== 0 && n < 1 << 20; p = m[p >>> 2]!, n++) fn(p, bsize);
    }
  }
}

/** createHeap of the debug build: a DebugHeap (same options, plus captureStacks). */
export function createHeap(options: DebugHeapOptions = {}): DebugHeap {
  const h = createHeapOf(DebugHeap, options, ['captureStacks']);
  h.captureStacks = options.captureStacks === true;
  return h;
}

/** attachHeap of the debug build. */
export function attachHeap(handle: HeapHandle, options: { captureStacks?: boolean } = {}): DebugHeap {
  const h = attachHeapOf(DebugHeap, handle);
  h.captureStacks = options.captureStacks === true;
  return h;
}
