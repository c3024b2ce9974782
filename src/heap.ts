/**
 * The Heap a thread holds: the public API, the malloc/free fast paths, and dispatch to the tiers.
 *
 * Front end (the only code that runs per call in the common case), the shape of glibc's tcache and
 * of the native hakmem's TLS lists: per size class, a LIFO list of free blocks in this thread's
 * record (T_LISTS: head and room), in the heap buffer so that other threads can see and repair it.
 *   malloc: validate size (typeof, uint32, <= SLAB_MAX), CLASS_OF table -> the class's list ->
 *           pop its head, one more room, clear the block's marker word.
 *   free:   page map (two loads) -> one masked compare says "a block of a slab of mine, class c";
 *           the block's marker word is not `ptr ^ markKey` (not on a list already) and the list has
 *           room -> write the marker, push.
 * Slabs and their allocated bitmaps are touched only in batches, off the fast path: an empty list
 * is refilled from the class's current slab (refill), a full one gives its older half back to the
 * slabs (flushList). A free that finds the marker is confirmed on the slow path (confirmFree: the
 * thread's list for that class is bounded; the bitmap tells a block given back to its slab): a
 * double free throws DoubleFreeError with the heap intact. What the marker cannot see (a double
 * free of a block written after its first free, an interior pointer of a live block of this
 * thread) is in the README's misuse table; `secure: true` (SecureHeap) keeps the strict per-call
 * bitmap checks, and hakmem/debug adds its own.
 * Everything else (refill, flush, remote and large blocks, errors, views after growth) is a named
 * slow-path method. The fast paths use fixed-length views; a pointer past them (memory grown by
 * another thread) reads `undefined` from the page map and so always lands in the slow path, which
 * rebuilds the views and retries.
 */
import { type Backing, growHeapBuffer, type MemoryOption } from './memory.ts';
import { checkSize, isU32 } from './args.ts';
import { DetachedError, DoubleFreeError, HeapCorruptionError, HeapExhaustedError, InvalidFreeError, describe, fmt } from './errors.ts';
import {
  H_ARENA_START,
  H_BASE,
  H_DEAD_DIRECT,
  H_FRONTIER,
  H_LOCK,
  H_MAX_END,
  H_MAX_THREADS,
  H_NULL_LEAF,
  H_CLASS_MAP,
  CLASS_MAP_ENTRIES,
  H_GEN,
  H_SENTINEL,
  H_THREADS,
  H_TOP,
  HEAP_VERSION,
  K_CACHED_HEAD,
  K_FREE_BODY,
  K_FREE_HEAD,
  K_FREE_TAIL,
  K_LARGE_BODY,
  K_LARGE_HEAD,
  K_META,
  K_SLAB,
  KIND_MASK,
  OWNER_ALIGNED,
  OWNER_TID_MASK,
  PAGE,
  PAGE_SHIFT,
  S_ALLOC_BITMAP,
  S_BSIZE,
  S_END,
  S_FIRST,
  S_MAGIC,
  S_OWNER,
  S_REMOTE,
  allocWord,
  granuleBit,
  remoteBitWord,
  SLAB_HEADER_BYTES,
  S_FREE,
  S_BUMP,
  S_CLASS,
  S_NEXT,
  S_PREV,
  H_ABANDONED,
  SLAB_MAGIC,
  T_CUR,
  T_LISTS,
  T_NOTIFY,
  T_PENDING,
  E_SLAB_DIST_MASK,
  E_SLAB_DIST_SHIFT,
  slabOf,
  slabDist,
  E_CLASS_SHIFT,
  E_KEY_MASK,
  E_TID_SHIFT,
  H_MARK_KEY,
  slotIsAttached,
  MARK_WORD,
  LIST_SHIFT,
  L_HEAD,
  L_DIVC,
  LIST_COUNT_BITS,
  LIST_COUNT_MASK,
  listFirst,
  listPush,
  T_IDLE,
  T_TICK,
  TOP_ENTRIES,
  RS_ARMED,
  RS_IDLE,
  RS_PENDING,
  remoteWord,
} from './layout.ts';
import { H_POLICY, LEAF_ENTRIES, P_IDLE, REGION_SHIFT, T_DIRECT, T_LIMIT, T_NPARTIAL, T_QHEAD, T_QTAIL } from './layout.ts';
import { extendFrontier, getEntry, hasExactRun, releaseRun, takeFromBins, type Arena } from './pages.ts';
import { CLASS_OF, NCLASSES, REFILL_CAP, REFILL_FRESH_BYTES, SLAB_MAX, SMALL_MAX } from './size-classes.ts';
import {
  MODE_BALANCED,
  MODE_FAST,
  MODE_MINIMAL,
  POLICY_VERSION,
  currentPolicy,
  listLimit,
  type HeapConfig,
  type HeapMode,
  type LearnOptions,
  type NamedPolicy,
  type PolicyExport,
} from './policy.ts';
import { Site } from './site.ts';
import {
  blockStart,
  collectNotified,
  setCurrent,
  tidySlabs,
  reclaimEmptySlabs,
  slabGiveBack,
  slabNew,
  slabRetire,
  slabSetOwner,
  slabTake,
} from './slab.ts';
import { CAN_BLOCK, lockAcquire, lockRelease } from './lock.ts';
import {
  R_COLLECT,
  R_CONFIRM,
  R_FLUSH,
  R_FREE_LARGE,
  R_FREE_REMOTE,
  R_FREE_SLOW,
  R_MALLOC_LARGE,
  R_MALLOC_REFILL,
  R_MALLOC_SLOW,
} from './routes.ts';
import { repairPages } from './repair.ts';
import { abandonThread, adoptAbandoned, markStrandedRemoteFrees, freeSlot, releaseAbandonedEmpty, slotState } from './threads.ts';
import { bigCacheFlush, largeAlloc, largeAllocAligned, largeFree, largePages, largeResizeInPlace } from './large.ts';
import { collectConfig, collectStats, type HeapStats } from './stats.ts';
import { checkHeap } from './check.ts';

/** What attachHeap() needs (from heap.handle): structured-cloneable. */
export interface HeapHandle {
  readonly hakmem: number;
  readonly memory: SharedArrayBuffer | WebAssembly.Memory;
  /** Byte offset of the heap's header in the memory. */
  readonly base: number;
  readonly name: string;
}

export interface HeapOptions {
  /** Where the heap lives (default 'shared': a growable SharedArrayBuffer). */
  memory?: MemoryOption;
  /** Bytes to allocate up front for 'shared'/'array' (default 64 KiB; grows on demand). */
  initialBytes?: number;
  /** Cap on the heap's size in bytes (default 1 GiB). malloc returns 0 when it would pass it. */
  maxBytes?: number;
  /** Byte offset in the buffer where the heap begins (default 0; rounded up to 4 KiB). */
  start?: number;
  /** Byte offset in the buffer the heap must not pass (default: the buffer's maximum size). */
  end?: number;
  /** Most threads that may use the heap at once (default 64). */
  maxThreads?: number;
  /** A name used in error messages (default "heap#N"). */
  name?: string;
  /**
   * Free-list links stored encoded with a per-heap random key and checked to stay inside their slab
   * when decoded, so a stray write into a freed block cannot redirect the allocator (default false).
   * Every thread attached to such a heap uses the secure fast paths.
   */
  secure?: boolean;
  /**
   * The heap's mode, a feature set fixed at creation (docs/modes.md): 'minimal', 'fast', 'balanced'
   * (the default), 'learning' or 'research'. Without it, createHeap reads the environment variable
   * HAKMEM_MODE once (in Node). Threads that attach run the heap's mode.
   */
  mode?: HeapMode;
  /**
   * A policy to start with: what heap.policy() returned (the object, or its JSON text). Mode
   * 'balanced' runs it as it is; 'learning' and 'research' start frozen on it (measuring now and
   * then whether another candidate does better). Not for 'minimal' and 'fast' (fixed policies).
   */
  policy?: PolicyExport | string;
  /** @internal Learning's test and bench knobs (an injected clock or cost, window length, candidates). */
  learn?: LearnOptions;
}

declare global {
  interface SymbolConstructor {
    /** Explicit resource management's well-known symbol (`using`), declared for TypeScript libs that lack it. */
    readonly dispose: unique symbol;
  }
}

/** A typed array constructor accepted by heap.array(). */
export type TypedArrayConstructor =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

export class Heap implements Arena {
  /** @internal The modes (H_MODE values) this class runs: Heap's fast paths serve minimal, fast and balanced (they differ in policy only). */
  static readonly modes: readonly number[] = [MODE_MINIMAL, MODE_FAST, MODE_BALANCED];
  // `declare`: set only in the constructor, never first as undefined (what an ES2022 class field
  // does), so V8 knows their types and the fast paths load them without a check per call.
  /** @internal Fixed-length Int32 view of the whole buffer (internal; rebuilt after growth). */
  declare m32: Int32Array;
  /** @internal Fixed-length Uint8 view of the whole buffer (internal). */
  declare m8: Uint8Array;
  /** @internal Fixed-length Float64 view of the whole buffer (internal: zeroing). */
  declare m64: Float64Array;
  /** @internal Word index of the header. */
  declare readonly hw: number;
  /** @internal Word index of the page map's top table. */
  declare readonly topw: number;
  /** @internal This thread's id (the owner value its slabs carry); 0 once detached. */
  declare tid: number;
  /** @internal K_SLAB | tid in page-map entry form: what the free fast path compares an entry's key bits with. */
  declare ownSlabKey: number;
  /** @internal Word index of this thread's free lists (T_LISTS: head, room per class); the null leaf once detached. */
  declare tl: number;
  /** @internal Word index of the heap's class map (H_CLASS_MAP): size granule -> offset of its class's list. */
  declare readonly cmap: number;
  /** @internal The heap's free-block marker key (H_MARK_KEY): a block on a thread list holds ptr ^ markKey in its MARK_WORD. */
  declare readonly markKey: number;
  /** @internal Word index of this thread's direct table: small size granule -> current slab. */
  declare tdir: number;
  /** Nesting depth of lock() in this thread (the lock is taken at depth 0 -> 1). */
  declare private lockDepth: number;
  /** Whether this thread may block in Atomics.wait (shared memory, not a browser main thread). */
  declare private readonly canWait: boolean;
  /** @internal Word index of this thread's record (T_* fields). */
  declare rec: number;
  /** @internal Word index of the sentinel slab: a current slab with an always-empty free list. */
  declare readonly sentinel: number;
  declare readonly name: string;
  /** @internal Largest size a request may name (the heap's maxBytes). */
  declare readonly maxRequest: number;
  declare private readonly backing: Backing;
  /** One-word view of the header's H_GEN (rebuilt with the others: a WebAssembly.Memory's buffer changes). */
  declare private genView: Int32Array;
  /** The H_GEN value the views were made at (see syncViews). */
  declare private viewGen: number;
  // The user-facing views that m8 / m32 / m64 do not already serve (all fixed-length, whole buffer).
  declare private v8: Int8Array;
  declare private vu16: Uint16Array;
  declare private v16: Int16Array;
  declare private vu32: Uint32Array;
  declare private vf32: Float32Array;
  declare private vi64: BigInt64Array;
  declare private vu64: BigUint64Array;
  /**
   * `using h = attachHeap(handle)`: the thread detaches when the scope ends (where the runtime has
   * Symbol.dispose; installed on the prototype below). A no-op once detached.
   */
  declare [Symbol.dispose]: () => void;
  // Results of resolve(): set before it returns (no allocation per call).
  declare protected rSlab: number;
  declare protected rBlock: number;

  /** @internal Use createHeap(). */
  constructor(backing: Backing, hw: number, tid: number, name: string) {
    // The fields the fast paths read are assigned first: V8 keeps the first properties a
    // constructor assigns in the object itself, later ones may go to a separate store (a load more).
    const buf = backing.buffer() as ArrayBuffer;
    const m = new Int32Array(buf, 0, buf.byteLength >>> 2);
    const rec = m[hw + H_THREADS + tid - 1]!;
    if (rec === 0) throw new Error(`hakmem internal error: no thread record for thread ${tid}`);
    this.m32 = m;
    this.tl = rec + T_LISTS;
    this.cmap = hw + H_CLASS_MAP;
    this.topw = hw + H_TOP;
    this.ownSlabKey = K_SLAB | (tid << E_TID_SHIFT);
    this.markKey = m[hw + H_MARK_KEY]!;
    this.m8 = new Uint8Array(buf, 0, buf.byteLength);
    this.genView = new Int32Array(buf, (hw + H_GEN) << 2, 1);
    this.viewGen = -1; // set by rebuildViews below
    this.tdir = rec + T_DIRECT;
    this.backing = backing;
    this.hw = hw;
    this.rebuildViews();
    this.tid = tid;
    this.sentinel = hw + H_SENTINEL;
    this.name = name;
    this.maxRequest = m[hw + H_MAX_END]! - m[hw + H_BASE]!;
    this.rec = rec;
    this.lockDepth = 0;
    this.canWait = CAN_BLOCK && backing.shared;
    this.rSlab = 0;
    this.rBlock = 0;
    this.sites = undefined;
  }

  // ------------------------------------------------------------------ fast paths

  /** Allocates `size` bytes; returns the block's byte offset, or 0 if the heap cannot grow enough. */
  malloc(size: number): number {
    // Literals: see FAST_PATH_LAYOUT below (imported bindings cost a load and a check per use).
    // `| 0` on index sums: int32 wrap-around instead of V8's overflow checks (indices are small).
    // The check-end markers around a condition: the release build's O(1) checks, which bench/peers/hakmem-nochecks.ts
    // replaces by `true` to measure what they cost.
    if (/*check*/ typeof size === 'number' && size >>> 0 === size /*end*/ && size <= 32768 /* SLAB_MAX */) {
      const m = this.m32;
      const l = (this.tl + m[(this.cmap + ((size + 15) >>> 4)) | 0]!) | 0; // the class's list word
      const p = (m[l]! >>> 1) & 0x7ffffff0; // its first block (0 also for undefined: a view detached by outside growth)
      if (p > 0) {
        m[l] = m[p >>> 2]!; // the rest of the list, its count included
        m[((p >>> 2) + 1) | 0] = 0; // MARK_WORD: handed out, no longer a free block
        return p;
      }
    }
    return this.mallocSlow(size) | 0; // | 0: the caller keeps an untagged int32
  }

  /**
   * Frees a block: its pointer, or a typed view of it (from mallocArray, or array() of its start).
   * free(0) does nothing. Throws InvalidFreeError / DoubleFreeError for bad pointers.
   */
  free(ptr: number | ArrayBufferView): void {
    if (/*check*/ typeof ptr === 'number' && (ptr >> 4) << 4 === ptr /*end*/) {
      const m = this.m32;
      const e = m[(m[(this.topw + (ptr >>> 22)) | 0]! + ((ptr >>> 12) & 1023)) | 0]!;
      // A page of a slab of this thread without aligned blocks? Its class is in the entry's top bits.
      if ((e & 0x3ff03f) /* E_KEY_MASK */ === this.ownSlabKey) {
        const w = ((ptr >>> 2) + 1) | 0; // MARK_WORD
        const l = (this.tl + ((e >>> 22) /* E_CLASS_SHIFT */ << 1)) /* LIST_SHIFT */ | 0;
        // The granule from block 0 of the slab (which starts `e`'s back-distance pages before this one, 4 granules of header).
        const x = (((ptr & 4095) >>> 4) + (((e >>> 6) & 63) << 8) - 4) | 0;
        const c = m[(l + 1) | 0]!; // L_DIVC
        const v = m[l]!;
        const mark = ptr ^ this.markKey;
        // A block start, not already on a list (no marker), and the list not full (else flush: the slow path).
        if (/*check*/ x >= 0 && Math.imul(x, c) >>> 0 <= (c - 1) >>> 0 && m[w] !== mark /*end*/ && (v & 31) !== 31) {
          m[w] = mark;
          m[ptr >>> 2] = v;
          m[l] = (ptr << 1) | ((v & 31) + 1); // listPush
          return;
        }
      }
    }
    this.freeSlow(ptr);
  }

  // ------------------------------------------------------------------ slow paths

  /**
   * The malloc slow path (like mimalloc's _mi_malloc_generic), one function on purpose: its common
   * case, an empty list, is refilled here in its own body, which keeps the function too large for
   * V8 to inline into the caller's loop (inlined cold code costs the fast path registers); the rare
   * cases are calls out (mallocUnusual, slabWithFree). The refill moves up to half the list's limit
   * (T_LIMIT) of blocks of the class's current slab onto the list, allocated bits set, and returns the
   * first; blocks never used before are taken up to REFILL_FRESH_BYTES (REFILL_CAP blocks), so one
   * malloc touches few fresh pages. A thread without lists (limit 0) takes one block. One
   * block at a time, each pushed whole: a thread killed here loses at most the block in hand.
   * Returns 0 when out of memory.
   */
  protected mallocSlow(size: number): number {
    // A view detached by outside growth of a WebAssembly.Memory reads undefined. (Growth by another
    // thread leaves our views short but valid; allocPages re-syncs before it hands out pages.)
    this.syncViews();
    if (!isU32(size) || size > SLAB_MAX || this.tid === 0) return this.mallocUnusual(size);
    const cls = CLASS_OF[(size + 15) >>> 4]!;
    let m = this.m32;
    const l = this.tl + (cls << LIST_SHIFT);
    let p = listFirst(m[l]!);
    if (p !== 0) {
      // the fast path read a stale view: pop now
      m[l] = m[p >>> 2]!;
      m[(p >>> 2) + MARK_WORD] = 0;
      return p;
    }
    this.route(R_MALLOC_REFILL);
    const s = this.slabWithFree(cls);
    if (s === 0) return 0;
    m = this.m32; // (views may have been rebuilt)
    p = slabTake(this, s, true);
    m[(p >>> 2) + MARK_WORD] = 0; // handed out: a marker left from an earlier life of this memory must go
    const key = this.markKey;
    const bsize = m[s + S_BSIZE]!;
    m[this.rec + T_IDLE + cls] = ++m[this.rec + T_TICK]!;
    let fresh = REFILL_FRESH_BYTES - bsize;
    for (let n = Math.min(m[this.rec + T_LIMIT + cls]! >>> 1, REFILL_CAP[cls]!) - 1; n > 0; n--) {
      const freeHead = m[s + S_FREE]!;
      const q = slabTake(this, s, fresh > 0);
      if (q === 0) break;
      if (freeHead === 0) fresh -= bsize;
      m[(q >>> 2) + MARK_WORD] = q ^ key;
      const v = m[l]!;
      m[q >>> 2] = v;
      m[l] = listPush(q, v);
    }
    return p;
  }

  /** malloc of what no slab serves: not a size (throws), too large (0), a detached heap (throws), a large block. */
  protected mallocUnusual(size: number): number {
    if (!isU32(size) || size > this.maxRequest) {
      checkSize(size, 'size'); // throws for what is not a size
      if (this.tid === 0) this.detachedError('malloc');
      return 0; // a size this heap can never hold: C's NULL
    }
    if (this.tid === 0) this.detachedError('malloc');
    this.route(R_MALLOC_LARGE);
    return this.largeAllocLocked(largePages(size), 1);
  }

  /**
   * The current slab of class cls, made to have a free block: its own (carve-free: never-used
   * blocks count), else what other threads freed into it, else the oldest partial slab, else
   * mallocFresh. Returns its word index, or 0 when out of memory.
   */
  protected slabWithFree(cls: number): number {
    const m = this.m32;
    const s = m[this.rec + T_CUR + cls]!;
    if (s !== this.sentinel) {
      if (m[s + S_FREE] !== 0 || m[s + S_BUMP]! < m[s + S_END]!) return s;
      // Dry: take what other threads freed into it, else retire it to the full list.
      if (!slabRetire(this, s)) return s;
      setCurrent(this, cls, this.sentinel);
    }
    const next = m[this.rec + T_QHEAD + cls]!;
    if (next !== 0) {
      // The oldest partial slab (it has had the longest time to gather frees).
      const after = m[next + S_NEXT]!;
      m[this.rec + T_QHEAD + cls] = after;
      if (after !== 0) m[after + S_PREV] = 0;
      else m[this.rec + T_QTAIL + cls] = 0;
      m[next + S_NEXT] = 0;
      m[this.rec + T_NPARTIAL]!--;
      setCurrent(this, cls, next);
      if (m[next + S_FREE] === 0 && m[next + S_BUMP]! >= m[next + S_END]!) {
        throw new HeapCorruptionError('a partial slab has no free block', next << 2, this.name);
      }
      return next;
    }
    return this.mallocFresh(cls, s !== this.sentinel);
  }

  /**
   * No slab of class cls with a free block: relist full slabs that other threads freed into (if
   * one told us), else adopt an abandoned slab, else make a new one. Returns its word index or 0.
   */
  private mallocFresh(cls: number, grow: boolean): number {
    const m = this.m32;
    this.route(R_MALLOC_SLOW);
    if (Atomics.load(m, this.rec + T_NOTIFY) !== 0) {
      this.route(R_COLLECT);
      Atomics.store(m, this.rec + T_NOTIFY, 0);
      collectNotified(this);
      if (m[this.rec + T_QHEAD + cls] !== 0) return this.slabWithFree(cls);
    }
    if (m[this.hw + H_ABANDONED + cls] !== 0) {
      const s = adoptAbandoned(this, cls);
      if (s !== 0) return s;
    }
    return slabNew(this, cls, grow);
  }

  /**
   * The free slow path, one function on purpose (see mallocSlow). Its common case first: a block of
   * a slab of ours whose list is full (flush its older half, then push) or that carries the marker
   * (confirm: a double free throws). Everything else is validated by resolve() before a single word
   * changes: large blocks, blocks of other threads (remote free), of slabs with aligned blocks, errors.
   */
  protected freeSlow(ptr: number | ArrayBufferView): void {
    if (typeof ptr === 'object' && ptr !== null && ArrayBuffer.isView(ptr)) {
      this.free(this.viewPointer(ptr));
      return;
    }
    this.route(R_FREE_SLOW);
    if (typeof ptr === 'number' && (ptr >> 4) << 4 === ptr && ptr < this.m8.length && this.tid !== 0) {
      const e = getEntry(this, ptr >>> PAGE_SHIFT);
      if ((e & E_KEY_MASK) === this.ownSlabKey) {
        const cls = e >>> E_CLASS_SHIFT;
        const s = slabOf(ptr, e);
        const m = this.m32;
        const first = m[s + S_FIRST]!;
        if (
          m[s + S_MAGIC] === (SLAB_MAGIC ^ (s << 2)) &&
          ptr >= first &&
          ptr < m[s + S_BUMP]! &&
          (ptr - first) % m[s + S_BSIZE]! === 0 &&
          (m[allocWord(m, s, ptr)]! & granuleBit(ptr)) !== 0 &&
          m[(ptr >>> 2) + MARK_WORD] !== (ptr ^ this.markKey)
        ) {
          this.pushFree(cls, ptr);
          return;
        }
      }
    }
    if (this.tid === 0) this.detachedError('free');
    const kind = this.resolve(ptr, 'free'); // throws for a double free (marker confirmed) or an invalid pointer
    if (kind === 0) return;
    if (kind !== K_SLAB) {
      this.route(R_FREE_LARGE);
      this.largeFreeLocked(ptr >>> PAGE_SHIFT);
      return;
    }
    const s = this.rSlab;
    const m = this.m32;
    if ((m[s + S_OWNER]! & OWNER_TID_MASK) !== this.tid) {
      this.route(R_FREE_REMOTE);
      this.remoteFree(s, ptr);
      return;
    }
    if ((m[s + S_OWNER]! & OWNER_ALIGNED) !== 0) {
      // A slab with aligned blocks: the bit is at ptr, the block starts at rBlock; straight back to the slab.
      m[allocWord(m, s, ptr)]! &= ~granuleBit(ptr);
      slabGiveBack(this, s, this.rBlock);
      return;
    }
    this.pushFree(m[s + S_CLASS]!, ptr); // (a marker that resolve() found not on our list: user data)
  }

  /** The block pointer of a typed view given to free(): its byteOffset, if it views this heap's buffer. */
  protected viewPointer(v: ArrayBufferView): number {
    if (v.buffer !== this.backing.buffer()) {
      throw new InvalidFreeError(
        v.byteOffset,
        `free: a ${v.constructor.name} of another buffer (not this heap's${v.byteLength === 0 ? ', or detached' : ''}); pass its block's pointer`,
        this.name,
      );
    }
    return v.byteOffset;
  }

  /**
   * Pushes a valid block of ours on its class's list, giving half the list back to the slabs first if
   * it is full; without a list (limit 0: its empty word reads full) the block goes back to its slab.
   */
  private pushFree(cls: number, ptr: number): void {
    const m = this.m32;
    const l = this.tl + (cls << LIST_SHIFT);
    if ((m[l]! & LIST_COUNT_MASK) === LIST_COUNT_MASK) {
      if (m[this.rec + T_LIMIT + cls] === 0) {
        slabGiveBack(this, slabOf(ptr, getEntry(this, ptr >>> PAGE_SHIFT)), ptr);
        return;
      }
      this.flushList(cls);
    }
    m[(ptr >>> 2) + MARK_WORD] = ptr ^ this.markKey;
    const v = m[l]!;
    m[ptr >>> 2] = v;
    m[l] = listPush(ptr, v);
  }

  /**
   * The list of class cls is full: gives half of it back to the slabs, popped from its head like a
   * malloc would (the count of every list word stays true), one block at a time: a thread killed
   * here loses at most the block in hand.
   */
  private flushList(cls: number): void {
    this.route(R_FLUSH);
    this.popToSlabs(cls, (this.m32[this.rec + T_LIMIT + cls]! + 1) >>> 1);
  }

  /** Pops up to n blocks of the list of class cls and gives them back to their slabs; returns how many. */
  private popToSlabs(cls: number, n: number): number {
    const m = this.m32;
    const l = this.tl + (cls << LIST_SHIFT);
    let k = 0;
    for (let q = listFirst(m[l]!); q !== 0 && k < n; q = listFirst(m[l]!), k++) {
      m[l] = m[q >>> 2]!;
      const e = getEntry(this, q >>> PAGE_SHIFT);
      slabGiveBack(this, slabOf(q, e), q);
    }
    return k;
  }

  /** Whether block p is on this thread's list of class cls (at most its limit + 1 links followed). */
  private onList(cls: number, p: number): boolean {
    const m = this.m32;
    let q = listFirst(m[this.tl + (cls << LIST_SHIFT)]!);
    const limit = m[this.rec + T_LIMIT + cls]!;
    for (let k = 0; q !== 0 && k <= limit; k++) {
      if (q === p) return true;
      q = listFirst(m[q >>> 2]!);
    }
    return false;
  }

  /**
   * Frees a block of a slab another thread owns (or no thread: abandoned): one Atomics.or sets its
   * bit in the slab's remote bitmap (the old value names a second free); the owner collects it.
   * If the owner armed the (full) slab, the first remote free disarms it and notifies the owner.
   */
  protected remoteFree(s: number, ptr: number): void {
    const m = this.m32;
    const bit = 1 << (ptr >>> 4);
    const w = remoteBitWord(m, s, ptr);
    if ((Atomics.or(m, w, bit) & bit) !== 0) {
      throw new DoubleFreeError(
        ptr,
        `free: block of class ${m[s + S_BSIZE]} B, already freed by a thread that does not own its slab`,
        this.name,
      );
    }
    this.markRemotePending(s);
  }

  /**
   * Tells slab s's owner that it holds remote frees: its state word IDLE/ARMED -> PENDING (only
   * this slab's own values are ever replaced); from ARMED, the owner is notified too.
   */
  /** @internal */
  markRemotePending(s: number): void {
    const m = this.m32;
    const base = s << 2;
    const pending = remoteWord(base, RS_PENDING);
    for (let v = Atomics.load(m, s + S_REMOTE); v !== pending; ) {
      const armed = remoteWord(base, RS_ARMED);
      if (v !== armed && v !== remoteWord(base, RS_IDLE)) break;
      const old = Atomics.compareExchange(m, s + S_REMOTE, v, pending);
      if (old === v) {
        if (v === armed) {
          const owner = m[s + S_OWNER]! & OWNER_TID_MASK;
          const rec = owner === 0 ? 0 : m[this.hw + H_THREADS + owner - 1]!;
          if (rec !== 0) Atomics.store(m, rec + T_NOTIFY, 1);
        }
        break;
      }
      v = old;
    }
  }

  /**
   * @internal
   * The free-list link stored in block p of slab s, and storing one: plain words here (V8 inlines
   * these to one load / store); SecureHeap (secure: true) stores them encoded and checks them.
   * The fast paths of each class do their own, the slow paths and slab.ts call these.
   */
  readLink(_s: number, p: number): number {
    return this.m32[p >>> 2]!;
  }

  /** @internal */
  writeLink(p: number, next: number): void {
    this.m32[p >>> 2] = next;
  }

  /**
   * A slow-path decision point (R_* in routes.ts). Empty here, so V8 inlines it to nothing; the
   * debug build (hakmem/debug) overrides it to count which path every call took.
   */
  protected route(_r: number): void {}

  /**
   * @internal The malloc of a block that another call asked for (realloc's new block, alignedAlloc's padded
   * one): malloc here; research mode's override does not sample it as a request of its own.
   */
  protected mallocInner(size: number): number {
    return this.malloc(size);
  }

  /** malloc that throws HeapExhaustedError instead of returning 0. */
  mallocOrThrow(size: number): number {
    const p = this.malloc(size);
    if (p === 0) throw new HeapExhaustedError(size, this.name, this.stats().heapBytes);
    return p;
  }

  /** malloc with a tag shown by the debug build's leaks(); the release build ignores the tag. */
  mallocTagged(size: number, _tag: string): number {
    return this.malloc(size);
  }

  protected detachedError(op: string): never {
    throw new DetachedError(`hakmem: ${op} on ${this.name} after this thread's detach(); attach again with attachHeap(handle)`);
  }

  /** @internal Takes the heap's slow-path lock (re-entrant within this thread). */
  lock(): void {
    if (this.lockDepth++ === 0) {
      lockAcquire(this.m32, this.hw + H_LOCK, this.tid, this.canWait, 0);
      this.syncViews(); // after: another thread may have grown the buffer while we waited
    }
  }

  /** @internal */
  unlock(): void {
    if (--this.lockDepth === 0) lockRelease(this.m32, this.hw + H_LOCK);
  }

  /** A large block of n pages (aligned to alignPages pages), under the lock. */
  private largeAllocLocked(n: number, alignPages: number): number {
    let p = 0;
    this.lock();
    try {
      p = alignPages <= 1 ? largeAlloc(this, n) : largeAllocAligned(this, n, alignPages);
      // Until this call returns, a reclaim of this (dead) thread frees the block.
      this.m32[this.rec + T_PENDING] = p >>> PAGE_SHIFT;
    } finally {
      this.unlock();
    }
    this.m32[this.rec + T_PENDING] = 0;
    return p;
  }

  protected largeFreeLocked(pg: number): void {
    this.lock();
    try {
      largeFree(this, pg);
    } finally {
      this.unlock();
    }
  }

  /**
   * Validates a pointer without changing anything. Returns 0 for ptr 0, K_SLAB (rSlab, rBlock set)
   * or K_LARGE_HEAD; throws a typed error for anything that is not a live block of this heap.
   */
  protected resolve(ptr: number, op: string): number {
    if (this.tid === 0) this.detachedError(op);
    if (typeof ptr !== 'number') throw new TypeError(`hakmem: ${op}: the pointer must be a number, got ${describe(ptr)}`);
    if (ptr === 0) return 0;
    if (!Number.isInteger(ptr) || ptr < 0) throw new InvalidFreeError(ptr, `${op}: not a non-negative integer offset`, this.name);
    if ((ptr & 15) !== 0) throw new InvalidFreeError(ptr, `${op}: not 16-byte aligned, and every block is`, this.name);
    this.syncViews();
    const m = this.m32;
    const lo = m[this.hw + H_ARENA_START]!;
    const hi = m[this.hw + H_FRONTIER]!;
    if (ptr < lo || ptr >= hi) {
      throw new InvalidFreeError(ptr, `${op}: outside the heap's blocks [${lo}, ${hi})`, this.name);
    }
    const pg = ptr >>> PAGE_SHIFT;
    const e = getEntry(this, pg);
    const kind = e & KIND_MASK;
    switch (kind) {
      case K_SLAB: {
        const s = (pg - slabDist(e)) << (PAGE_SHIFT - 2);
        if (m[s + S_MAGIC] !== (SLAB_MAGIC ^ (s << 2))) {
          throw new HeapCorruptionError(`the header of the slab holding ${fmt(ptr)} is overwritten (bad magic)`, s << 2, this.name);
        }
        const owner = m[s + S_OWNER]! & OWNER_TID_MASK;
        if (owner > m[this.hw + H_MAX_THREADS]!) {
          throw new HeapCorruptionError(`slab owned by unknown thread ${owner}`, s << 2, this.name);
        }
        const first = m[s + S_FIRST]!;
        const bsize = m[s + S_BSIZE]!;
        if (ptr < first) throw new InvalidFreeError(ptr, `${op}: inside the header of the slab at ${fmt(s << 2)}`, this.name);
        if (ptr >= m[s + S_END]!)
          throw new InvalidFreeError(ptr, `${op}: past the last block of the slab at ${fmt(s << 2)} (class ${bsize} B)`, this.name);
        const set = (m[allocWord(m, s, ptr)]! & granuleBit(ptr)) !== 0;
        const block = blockStart(this, s, ptr);
        const aligned = (m[s + S_OWNER]! & OWNER_ALIGNED) !== 0;
        if (!set) {
          // No bit anywhere in the block: it is free, so this is a second free (or a stray pointer).
          if (block === ptr || (aligned && !blockHasBit(m, s, block, bsize))) {
            throw new DoubleFreeError(ptr, `${op}: block of class ${bsize} B in the slab at ${fmt(s << 2)}`, this.name);
          }
          throw new InvalidFreeError(ptr, `${op}: interior pointer: the ${bsize}-byte block starts at ${fmt(block)}`, this.name);
        }
        if ((m[remoteBitWord(m, s, ptr)]! & granuleBit(ptr)) !== 0) {
          throw new DoubleFreeError(
            ptr,
            `${op}: block of class ${bsize} B, already freed by a thread that does not own its slab`,
            this.name,
          );
        }
        // Allocated bit set, and the free-list marker: on a thread's list, i.e. freed, unless the
        // marker is the program's data and the block is not on our list (a list of another thread
        // cannot be walked while it runs; only blocks that went through free carry the marker).
        if (this.markKey !== 0 && m[(block >>> 2) + MARK_WORD] === (block ^ this.markKey)) {
          this.route(R_CONFIRM);
          if (owner !== this.tid || this.onList(m[s + S_CLASS]!, block)) {
            throw new DoubleFreeError(
              ptr,
              `${op}: block of class ${bsize} B, already freed (it is on ${owner === this.tid ? 'this' : "its owner's"} thread's free list)`,
              this.name,
            );
          }
        }
        this.rSlab = s;
        this.rBlock = block;
        return K_SLAB;
      }
      case K_LARGE_HEAD:
        if ((ptr & (PAGE - 1)) !== 0) {
          throw new InvalidFreeError(ptr, `${op}: interior pointer of the large block at ${fmt(pg << PAGE_SHIFT)}`, this.name);
        }
        return K_LARGE_HEAD;
      case K_LARGE_BODY:
        throw new InvalidFreeError(ptr, `${op}: interior pointer of the large block at ${fmt((e >>> 4) << PAGE_SHIFT)}`, this.name);
      case K_CACHED_HEAD:
        if ((ptr & (PAGE - 1)) === 0) throw new DoubleFreeError(ptr, `${op}: large block of ${(e >>> 4) * PAGE} bytes`, this.name);
        throw new InvalidFreeError(ptr, `${op}: points into a freed large block`, this.name);
      case K_FREE_HEAD:
      case K_FREE_TAIL:
      case K_FREE_BODY:
        throw new DoubleFreeError(
          ptr,
          `${op}: the pointer is in free pages, so its block was already freed (or never allocated)`,
          this.name,
        );
      case K_META:
        throw new InvalidFreeError(ptr, `${op}: points at allocator metadata`, this.name);
      default:
        throw new InvalidFreeError(ptr, `${op}: not in any block of this heap`, this.name);
    }
  }

  /**
   * @internal
   * Page-run allocation for every tier: free runs; else the BigCache's blocks and this thread's
   * empty slabs (when frees made some likely) go back to the pool first; else the heap grows; else
   * (out of memory) every empty slab of this thread is released and it tries once more.
   */
  allocPages(n: number): number {
    this.lock();
    try {
      return this.allocPagesLocked(n);
    } finally {
      this.unlock();
    }
  }

  private allocPagesLocked(n: number): number {
    this.syncViews(); // pages another thread added may lie past our views
    // Before a free run is split or the heap grows (not only when it would grow: a heap that grew
    // once would otherwise keep idle memory while it splits its runs, and grow again when the same
    // work runs again), idle memory goes back to the pool: the blocks on this thread's idle lists
    // (they may be all that keeps a slab from being empty), its idle slabs, the BigCache.
    if (!hasExactRun(this, n)) {
      this.flushLists(this.m32[this.hw + H_POLICY + P_IDLE]!);
      tidySlabs(this);
      bigCacheFlush(this);
    }
    let pg = takeFromBins(this, n);
    if (pg >= 0) return pg;
    if (releaseAbandonedEmpty(this) > 0) {
      pg = takeFromBins(this, n);
      if (pg >= 0) return pg;
    }
    pg = extendFrontier(this, n);
    if (pg >= 0) return pg;
    // Out of memory: every list gives its blocks back, every empty slab of this thread goes back to the pool.
    this.flushLists(-1);
    if (reclaimEmptySlabs(this, true) > 0) {
      pg = takeFromBins(this, n);
      if (pg < 0) pg = extendFrontier(this, n);
    }
    return pg;
  }

  /**
   * Gives every block on this thread's lists that were not refilled in the last `idle` refills of
   * this thread (all of them for -1) back to its slab, one at a time as flushList; returns how many.
   */
  private flushLists(idle: number): number {
    const m = this.m32;
    const now = m[this.rec + T_TICK]!;
    let n = 0;
    for (let c = 0; c < NCLASSES; c++) {
      if (idle >= 0 && now - m[this.rec + T_IDLE + c]! <= idle) continue;
      n += this.popToSlabs(c, m[this.rec + T_LIMIT + c]!);
    }
    return n;
  }

  /**
   * @internal Gives this thread's lists the limits of a list room of `room` bytes (policy.ts
   * listLimit): a list whose limit changes is given back to its slabs first, then its empty word is
   * re-based (31 - limit: a full list's count stays 31). On a slow path of this thread only (its
   * lists are its own); a thread killed in between leaves an empty list that reclaim re-bases.
   */
  rebaseLists(room: number): void {
    const m = this.m32;
    for (let c = 0; c < NCLASSES; c++) {
      const limit = listLimit(room, c);
      const old = m[this.rec + T_LIMIT + c]!;
      if (limit === old) continue;
      this.popToSlabs(c, old);
      m[this.rec + T_LIMIT + c] = limit;
      m[this.tl + (c << LIST_SHIFT)] = LIST_COUNT_MASK - limit;
    }
  }

  /** @internal */
  freePages(pg: number, n: number): void {
    this.lock();
    try {
      releaseRun(this, pg, n);
    } finally {
      this.unlock();
    }
  }

  /** @internal n new pages at the frontier (for in-place growth); -1 if the heap cannot grow. Under the lock. */
  extendPages(n: number): number {
    return extendFrontier(this, n);
  }

  /** @internal Grows the buffer to cover `bytes` (bounded by the heap's end) and rebuilds the views. Under the lock. */
  growTo(bytes: number): boolean {
    if (!growHeapBuffer(this.backing, this.hw, bytes)) return false;
    this.syncViews();
    return true;
  }

  /**
   * @internal
   * Rebuilds the views if the heap's view generation moved (growth here, or in another thread
   * this thread has synchronised with) or the buffer was detached (a non-shared WebAssembly.Memory
   * grown from outside: the old view reads undefined). One load and a compare otherwise.
   */
  syncViews(): void {
    if (this.genView[0] !== this.viewGen) this.rebuildViews();
  }

  /** Makes every view anew over the whole current buffer (fixed-length views: V8 checks them cheaply). */
  private rebuildViews(): void {
    const buf = this.backing.buffer() as ArrayBuffer;
    this.genView = new Int32Array(buf, (this.hw + H_GEN) << 2, 1);
    // The generation first: a growth that bumps it later is seen by the next syncViews.
    this.viewGen = Atomics.load(this.genView, 0);
    const n = buf.byteLength;
    this.m8 = new Uint8Array(buf, 0, n);
    this.m32 = new Int32Array(buf, 0, n >>> 2);
    this.m64 = new Float64Array(buf, 0, n >>> 3);
    this.v8 = new Int8Array(buf, 0, n);
    this.vu16 = new Uint16Array(buf, 0, n >>> 1);
    this.v16 = new Int16Array(buf, 0, n >>> 1);
    this.vu32 = new Uint32Array(buf, 0, n >>> 2);
    this.vf32 = new Float32Array(buf, 0, n >>> 2);
    this.vi64 = new BigInt64Array(buf, 0, n >>> 3);
    this.vu64 = new BigUint64Array(buf, 0, n >>> 3);
  }

  // ------------------------------------------------------------------ the rest of the API

  /** Allocates count * size zeroed bytes; 0 if the product is more than the heap can hold (C's NULL). */
  calloc(count: number, size: number): number {
    if (!isU32(count)) checkSize(count, 'count');
    if (!isU32(size)) checkSize(size, 'size');
    const total = count * size;
    if (total > this.maxRequest) {
      if (this.tid === 0) this.detachedError('calloc');
      return 0;
    }
    const p = this.malloc(total);
    if (p !== 0) {
      // Whole 8-byte words: blocks are 16-aligned and their usable size is a multiple of 16, and a
      // Float64Array fill runs ~4x faster than a Uint8Array fill on a SharedArrayBuffer (Node 20).
      // Up to 256 bytes a loop of stores: the fill builtin's call costs more than the stores.
      const m = this.m64;
      const a = p >>> 3;
      const e = (p + total + 7) >>> 3;
      if (e - a <= 32) for (let i = a; i < e; i++) m[i] = 0;
      else m.fill(0, a, e);
    }
    return p;
  }

  /**
   * Resizes a block, keeping its contents up to the smaller size. In place when it can be (same
   * slab block, or a large block shrinking or growing into free pages). realloc(0, n) = malloc(n);
   * realloc(p, 0) frees p and returns 0. Returns 0 if it cannot grow; p is then untouched.
   */
  realloc(ptr: number, size: number): number {
    if (!isU32(size)) checkSize(size, 'size');
    const kind = this.resolve(ptr, 'realloc');
    if (size > this.maxRequest) return 0; // it can never grow that far: ptr stays as it is
    if (kind === 0) return this.mallocInner(size);
    if (size === 0) {
      this.free(ptr);
      return 0;
    }
    let usable: number;
    if (kind === K_SLAB) {
      const s = this.rSlab;
      const bsize = this.m32[s + S_BSIZE]!;
      usable = this.rBlock + bsize - ptr;
      if (size <= usable && (size > usable >>> 1 || usable <= 64)) return ptr;
    } else {
      const pg = ptr >>> PAGE_SHIFT;
      usable = (getEntry(this, pg) >>> 4) * PAGE;
      if (size > SLAB_MAX && this.largeResizeLocked(pg, largePages(size))) return ptr;
    }
    const q = this.mallocInner(size);
    if (q === 0) return 0;
    this.m8.copyWithin(q, ptr, ptr + Math.min(usable, size));
    this.free(ptr);
    return q;
  }

  /** Allocates `size` bytes at a multiple of `alignment` (a power of two up to 1 GiB). */
  alignedAlloc(alignment: number, size: number): number {
    if (this.tid === 0) this.detachedError('alignedAlloc');
    if (typeof alignment !== 'number') throw new TypeError(`hakmem: alignment must be a number, got ${describe(alignment)}`);
    if (alignment >>> 0 !== alignment || alignment === 0 || (alignment & (alignment - 1)) !== 0 || alignment > 1 << 30) {
      throw new RangeError(`hakmem: alignment must be a power of two from 1 to 2^30, got ${describe(alignment)}`);
    }
    if (!isU32(size)) checkSize(size, 'size');
    if (size > this.maxRequest) return 0;
    if (alignment <= 16) return this.mallocInner(size);
    if (alignment <= PAGE && size + alignment - 16 <= SLAB_MAX) {
      // At least one byte: with size 0 the aligned pointer could be the next block's start.
      const p = this.mallocInner(Math.max(size, 1) + alignment - 16);
      if (p === 0 || (p & (alignment - 1)) === 0) return p;
      const q = (p + alignment - 1) & ~(alignment - 1);
      // Move the allocated bit from the block start to the aligned pointer; frees of this slab
      // now take the slow path, which maps a pointer back to its block by division. The slab is
      // marked aligned first: a thread killed at any point in between (e.g. while it waits for
      // the lock) leaves a state that check() and reclaimThread accept (a normal bit in an aligned
      // slab, or the block in hand with no bit: free once the slab is rebuilt).
      const e = getEntry(this, p >>> PAGE_SHIFT);
      const s = slabOf(p, e);
      if ((this.m32[s + S_OWNER]! & OWNER_ALIGNED) === 0) {
        this.lock(); // page-map entries change only under the lock
        try {
          slabSetOwner(this, s, this.m32[s + S_OWNER]! | OWNER_ALIGNED);
        } finally {
          this.unlock();
        }
      }
      const m = this.m32; // after the lock: views may have been rebuilt
      m[allocWord(m, s, p)]! &= ~granuleBit(p);
      m[allocWord(m, s, q)]! |= granuleBit(q);
      return q;
    }
    return this.largeAllocLocked(largePages(size), alignment <= PAGE ? 1 : alignment / PAGE);
  }

  private largeResizeLocked(pg: number, want: number): boolean {
    this.lock();
    try {
      return largeResizeInPlace(this, pg, want);
    } finally {
      this.unlock();
    }
  }

  /** Bytes usable in the block at ptr (>= the size asked for). usableSize(0) = 0. */
  usableSize(ptr: number): number {
    const kind = this.resolve(ptr, 'usableSize');
    if (kind === 0) return 0;
    if (kind === K_SLAB) return this.rBlock + this.m32[this.rSlab + S_BSIZE]! - ptr;
    return (getEntry(this, ptr >>> PAGE_SHIFT) >>> 4) * PAGE;
  }

  /** A typed view of `length` elements of the block at ptr, checked against its usable size. */
  array<C extends TypedArrayConstructor>(ctor: C, ptr: number, length: number): InstanceType<C> {
    const bpe = ctor.BYTES_PER_ELEMENT;
    if (!isU32(length)) checkSize(length, 'length');
    if (ptr === 0) {
      throw new RangeError(`hakmem: array: pointer 0 is no block: the allocation it came from failed (out of memory)`);
    }
    if (ptr % bpe !== 0) throw new RangeError(`hakmem: array: pointer ${fmt(ptr)} is not aligned to ${bpe} bytes`);
    const usable = this.usableSize(ptr);
    if (length * bpe > usable) {
      throw new RangeError(`hakmem: array: ${length} x ${bpe} bytes does not fit the block at ${fmt(ptr)} (${usable} usable bytes)`);
    }
    return new ctor(this.backing.buffer() as ArrayBuffer, ptr, length) as InstanceType<C>;
  }

  /**
   * A typed array of `length` elements in a fresh block: `heap.mallocArray(Float64Array, n)`. Free
   * it with `heap.free(view)`. Throws HeapExhaustedError when the heap cannot hold it (as
   * `new Float64Array(n)` throws when memory runs out); the view is fixed-length and stays valid
   * while the block lives, also after the heap grows (except a non-shared WebAssembly.Memory's,
   * whose buffer growth detaches).
   * @example
   * const xs = heap.mallocArray(Float64Array, 1000);
   * xs[0] = 1.5;
   * heap.free(xs);
   */
  mallocArray<C extends TypedArrayConstructor>(ctor: C, length: number): InstanceType<C> {
    return this.newArray(ctor, length, false);
  }

  /** mallocArray with the elements zeroed (calloc). */
  callocArray<C extends TypedArrayConstructor>(ctor: C, length: number): InstanceType<C> {
    return this.newArray(ctor, length, true);
  }

  private newArray<C extends TypedArrayConstructor>(ctor: C, length: number, zero: boolean): InstanceType<C> {
    if (!isU32(length)) checkSize(length, 'length');
    const bytes = length * ctor.BYTES_PER_ELEMENT;
    const p = zero ? this.calloc(length, ctor.BYTES_PER_ELEMENT) : this.malloc(bytes);
    if (p === 0) throw new HeapExhaustedError(bytes, this.name, this.stats().heapBytes);
    return new ctor(this.backing.buffer() as ArrayBuffer, p, length) as InstanceType<C>;
  }

  get buffer(): ArrayBufferLike {
    return this.backing.buffer();
  }

  // ------------------------------------------------------------------ threads

  /** This thread's id: 1 for the thread that created the heap, then 2.. for attached threads. */
  get threadId(): number {
    return this.tid;
  }

  /**
   * This attachment of this thread, for reclaimThread(): unlike threadId (a slot, reused by the
   * next thread that attaches once this one left), it names this attachment only, so a reclaim
   * after the thread detached (or was reclaimed) is a no-op, never a reclaim of the slot's next
   * thread. 0 once detached.
   */
  get threadToken(): number {
    return this.tid === 0 ? 0 : (slotState(this.m32, this.hw, this.tid) >>> 0) * 1024 + this.tid;
  }

  /**
   * What another thread needs to attach to this heap: structured-cloneable, so postMessage it to a
   * worker and call attachHeap(handle) there. TypeError for a heap in non-shared memory.
   */
  get handle(): HeapHandle {
    const memory = this.backing.shareable();
    if (memory === null) {
      throw new TypeError(
        `hakmem: ${this.name} is not in shared memory, so no other thread can attach to it; create it with memory 'shared' (the default), a SharedArrayBuffer or a shared WebAssembly.Memory`,
      );
    }
    return { hakmem: HEAP_VERSION, memory, base: this.hw << 2, name: this.name };
  }

  /**
   * This thread leaves the heap: its empty slabs go back to the page allocator and the others are
   * abandoned to whichever thread needs them (blocks in them stay live and may be freed by anyone).
   * The Heap object cannot be used afterwards; the thread slot is free for another attachment.
   */
  detach(): void {
    if (this.tid === 0) this.detachedError('detach');
    const tid = this.tid;
    this.lock();
    try {
      abandonThread(this, tid);
    } finally {
      this.unlock();
    }
    freeSlot(this.m32, this.hw, tid);
    this.tid = 0;
    this.ownSlabKey = -1;
    this.tdir = this.hw + H_DEAD_DIRECT;
    this.tl = this.m32[this.hw + H_NULL_LEAF]!; // all zeros, never written: every list is empty, malloc goes slow and throws
  }

  /**
   * Makes everything a thread that ended without detach() held usable again (call it after the
   * worker's 'exit' event, never for a live thread): its slabs are rebuilt from their bitmaps, empty
   * ones released, the others abandoned for adoption. Blocks it allocated stay live. If it died
   * inside the heap's lock, the lock is taken over and the page-level structures are repaired.
   * Pass the thread's `threadToken` (or its threadId): returns true if it reclaimed the thread,
   * false if that attachment had already ended (the thread detached, or was reclaimed), so the
   * 'exit' handler needs no try/catch. With a token this is exact even when the slot was reused.
   */
  reclaimThread(threadToken: number): boolean {
    if (this.tid === 0) this.detachedError('reclaimThread');
    this.syncViews();
    if (typeof threadToken !== 'number')
      throw new TypeError(`hakmem: reclaimThread(${describe(threadToken)}): pass a thread's threadToken (or threadId)`);
    const threadId = threadToken % 1024;
    const max = this.m32[this.hw + H_MAX_THREADS]!;
    if (!Number.isSafeInteger(threadToken) || threadToken < 1 || threadId < 1 || threadId > max) {
      throw new RangeError(`hakmem: reclaimThread(${describe(threadToken)}): not a thread of ${this.name} (ids 1 to ${max})`);
    }
    const state = slotState(this.m32, this.hw, threadId);
    if (threadToken >= 1024 ? state >>> 0 !== Math.floor(threadToken / 1024) : !slotIsAttached(state)) return false;
    if (threadId === this.tid) throw new RangeError(`hakmem: reclaimThread(${threadToken}) is this thread; use detach()`);
    const stolen = lockAcquire(this.m32, this.hw + H_LOCK, this.tid, this.canWait, threadId);
    this.lockDepth++;
    try {
      this.syncViews();
      if (stolen) repairPages(this);
      // Another thread may have reclaimed it meanwhile (it frees the slot under the lock).
      if (slotState(this.m32, this.hw, threadId) !== state) return false;
      abandonThread(this, threadId);
      markStrandedRemoteFrees(this);
      freeSlot(this.m32, this.hw, threadId);
    } finally {
      this.unlock();
    }
    return true;
  }

  // Views of the whole heap. Each getter compares one header word with the generation its views
  // were made at (syncViews, inlined by V8: about a nanosecond), so `heap.u8[p]` in a loop is
  // nearly as fast as a view kept in a local, and covers memory another thread grew once this
  // thread has synchronised with it (received the pointer by postMessage, Atomics, ...).
  // Caching a view yourself is safe while `heap.generation` keeps the value it had.
  get u8(): Uint8Array {
    if (this.genView[0] !== this.viewGen) this.rebuildViews();
    return this.m8;
  }
  get i8(): Int8Array {
    if (this.genView[0] !== this.viewGen) this.rebuildViews();
    return this.v8;
  }
  get u16(): Uint16Array {
    if (this.genView[0] !== this.viewGen) this.rebuildViews();
    return this.vu16;
  }
  get i16(): Int16Array {
    if (this.genView[0] !== this.viewGen) this.rebuildViews();
    return this.v16;
  }
  get u32(): Uint32Array {
    if (this.genView[0] !== this.viewGen) this.rebuildViews();
    return this.vu32;
  }
  get i32(): Int32Array {
    if (this.genView[0] !== this.viewGen) this.rebuildViews();
    return this.m32;
  }
  get f32(): Float32Array {
    if (this.genView[0] !== this.viewGen) this.rebuildViews();
    return this.vf32;
  }
  get f64(): Float64Array {
    if (this.genView[0] !== this.viewGen) this.rebuildViews();
    return this.m64;
  }
  get i64(): BigInt64Array {
    if (this.genView[0] !== this.viewGen) this.rebuildViews();
    return this.vi64;
  }
  get u64(): BigUint64Array {
    if (this.genView[0] !== this.viewGen) this.rebuildViews();
    return this.vu64;
  }

  /**
   * The heap's view generation: it changes exactly when views made earlier may no longer cover
   * every block (the heap grew). A view you keep in a variable is valid while this value is unchanged:
   * `if (heap.generation !== gen) { u8 = heap.u8; gen = heap.generation; }`.
   */
  get generation(): number {
    this.syncViews();
    return this.viewGen;
  }

  /** Plain-data statistics (walks the heap's metadata; not for hot loops). */
  stats(): HeapStats {
    this.syncViews();
    return collectStats(this);
  }

  /** @internal createHeap gives the creating thread the options only it can hold (learning's injected clock). */
  configure(_options: HeapOptions, _policy?: NamedPolicy): void {}

  /** The heap's mode, its feature set and the policy in force (also stats().config). */
  config(): HeapConfig {
    this.syncViews();
    return collectConfig(this);
  }

  /**
   * The policy in force (learning and research: the one learned, the winner once frozen), as plain
   * JSON: pass it (or its JSON text) to createHeap({ policy }) to start another heap on it. Mode
   * balanced runs it as it is; learning and research start frozen on it.
   */
  policy(): PolicyExport {
    this.syncViews();
    const p = currentPolicy(this.m32, this.hw);
    return { hakmem: 'policy', version: POLICY_VERSION, heapFormat: HEAP_VERSION, name: p.name, settings: p.settings };
  }

  /**
   * A handle for one call site (or subsystem) of the program: `const s = heap.site('parser')`, then
   * s.malloc / s.calloc / s.realloc / s.free. Its calls are the heap's own (the handle holds the heap:
   * no lookup per call); mode research keeps per-site statistics (stats().sites). The same name gives
   * the same handle (per thread). `name`: a non-empty string. `hints`: none yet (per-site routing is
   * not built); passing any is an error.
   */
  site(name: string, hints?: undefined): Site {
    const sites = (this.sites ??= new Map());
    if (typeof name !== 'string' || name.length === 0)
      throw new TypeError(`hakmem: site(name): name must be a non-empty string, got ${describe(name)}`);
    if (hints !== undefined) throw new TypeError('hakmem: site(name) takes no hints yet: per-site routing is not built (docs/modes.md)');
    let s = sites.get(name);
    if (s === undefined) sites.set(name, (s = this.newSite(name)));
    return s;
  }

  /** @internal The site handles of this thread (stats().sites). */
  declare protected sites: Map<string, Site> | undefined;

  /** @internal A new site handle of this heap's class (research: one that counts). */
  protected newSite(name: string): Site {
    return new Site(this, name);
  }

  /**
   * Gives back the free memory this thread keeps for speed: the blocks on its free lists return to
   * their slabs, its empty slabs and the BigCache's blocks to the heap's free pages, where any
   * thread, size class or large block can use them (the buffer itself never shrinks). For a
   * long-running program between phases; never needed for correctness.
   */
  trim(): void {
    if (this.tid === 0) this.detachedError('trim');
    this.lock();
    try {
      this.flushLists(-1);
      reclaimEmptySlabs(this, true);
      bigCacheFlush(this);
    } finally {
      this.unlock();
    }
  }

  /** Verifies every invariant of the heap's metadata; throws HeapCorruptionError naming the first violation. */
  check(): void {
    this.syncViews();
    checkHeap(this);
  }

  /** The current byte length of the buffer. */
  get byteLength(): number {
    return this.backing.byteLength();
  }
}

if (typeof Symbol.dispose === 'symbol') {
  Object.defineProperty(Heap.prototype, Symbol.dispose, {
    value: function dispose(this: Heap): void {
      if (this.threadId !== 0) this.detach();
    },
    writable: true,
    configurable: true,
  });
}

// The fast paths use these layout values as literals; fail at load time if layout.ts changes.
/**
 * Every literal the fast paths (malloc, free; SecureHeap's in secure.ts) write instead of an imported
 * constant, with the constant it stands for: the module fails to load if layout.ts or
 * size-classes.ts change under them.
 */
export const FAST_PATH_LAYOUT: [have: number, literal: number, what: string][] = [
  [SLAB_MAX, 32768, 'SLAB_MAX'],
  [CLASS_MAP_ENTRIES, (32768 >>> 4) + 1, 'CLASS_MAP_ENTRIES'],
  [REGION_SHIFT, 22, 'REGION_SHIFT (ptr >>> 22: page-map top index)'],
  [TOP_ENTRIES, 1 << (32 - 22), 'TOP_ENTRIES (any uint32 >>> 22)'],
  [PAGE_SHIFT, 12, 'PAGE_SHIFT'],
  [LEAF_ENTRIES - 1, 1023, 'LEAF_ENTRIES - 1 (leaf index mask)'],
  [PAGE - 1, 4095, 'PAGE - 1 (offset in page)'],
  [E_KEY_MASK, 0x3ff03f, 'E_KEY_MASK'],
  [E_SLAB_DIST_SHIFT, 6, 'E_SLAB_DIST_SHIFT'],
  [E_SLAB_DIST_MASK, 63, 'E_SLAB_DIST_MASK'],
  [E_CLASS_SHIFT, 22, 'E_CLASS_SHIFT'],
  [PAGE_SHIFT - 4, 8, 'granules per page (<< 8)'],
  [SLAB_HEADER_BYTES >>> 4, 4, 'SLAB_HEADER_BYTES in granules'],
  [MARK_WORD, 1, 'MARK_WORD'],
  [LIST_SHIFT, 1, 'LIST_SHIFT'],
  [L_HEAD, 0, 'L_HEAD'],
  [L_DIVC, 1, 'L_DIVC'],
  [LIST_COUNT_MASK, 31, 'LIST_COUNT_MASK'],
  [LIST_COUNT_BITS, 5, 'LIST_COUNT_BITS'],
  [listFirst(-1), 0x7ffffff0, 'listFirst'],
  [listPush(16, 7), 40, 'listPush'],
  // SecureHeap
  [SMALL_MAX, 1024, 'SMALL_MAX'],
  [S_FREE, 0, 'S_FREE'],
  [S_END, 8, 'S_END'],
  [S_FIRST, 12, 'S_FIRST'],
  [S_ALLOC_BITMAP, 14, 'S_ALLOC_BITMAP'],
  [PAGE_SHIFT - 2, 10, 'words per page (<< 10)'],
  [E_TID_SHIFT - E_SLAB_DIST_SHIFT, 6, 'E_SLAB_DIST bits'],
  [allocWord(Int32Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3000), 0, 5 << 12), 3000 - 0 + ((5 << 12) >>> 9), 'allocWord'],
];
for (const [have, literal, what] of FAST_PATH_LAYOUT) {
  if (have !== literal) throw new Error(`hakmem: the fast paths' literal for ${what} is ${literal}, layout.ts says ${have}`);
}

/** Whether any allocated bit is set in the block [block, block + bsize) of slab s. */
function blockHasBit(m: Int32Array, s: number, block: number, bsize: number): boolean {
  for (let q = block; q < block + bsize; q += 16) {
    if ((m[allocWord(m, s, q)]! & granuleBit(q)) !== 0) return true;
  }
  return false;
}
