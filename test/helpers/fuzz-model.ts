/**
 * The fuzz model of `npm run fuzz` (fuzz-cli.ts, fuzz-campaign.ts) and test/fuzz*.test.ts: random valid
 * operations mixed with misuse, against the release build. The model mirrors every live block it
 * holds (pointer, requested size, usableSize, a content seed) and predicts, for every bad call,
 * exactly which error class it must raise (README, "What the release build detects"):
 *
 *   double free of a block freed since this thread's last allocation   DoubleFreeError
 *   cross-thread double free (a block of a quiet thread's slab freed twice by another thread)  DoubleFreeError
 *   interior pointer of a live block (16-aligned or not)             InvalidFreeError
 *   pointer outside the heap (header, past its maximum end), negative, not an integer, NaN  InvalidFreeError
 *   pointer not a number                                              TypeError
 *   stale pointer (freed long ago), pointer of another heap, random pointer into the arena:
 *     inside a live block -> InvalidFreeError; not in any live block -> InvalidFreeError or
 *     DoubleFreeError (what is there now is the allocator's business); a live block's start -> skipped
 *   bad size / count / alignment                                      RangeError (TypeError for a non-number)
 *   a size (or calloc product) larger than the heap can ever hold     returns 0 (C's NULL), realloc keeps its block
 *   any call on a Heap after its detach()                             DetachedError
 *
 * After each misuse the blocks it named are verified (contents, usableSize) and every `checkEvery`
 * operations heap.check() runs, every live block's contents are re-read and stats() is compared with
 * the model (one thread; with workers the main thread does it at a barrier, see fuzz-campaign.ts).
 *
 * In worker mode (`mt`), misuse is limited to calls whose outcome does not depend on other threads:
 * no stale, foreign-heap or random arena pointers (they may be another worker's live block), double
 * frees only of small blocks of this thread's own slabs (nobody else allocates from them) and of
 * "pool" blocks whose slabs belong to the quiet main thread (freed remotely, never collected).
 */
import {
  attachHeap,
  DetachedError,
  DoubleFreeError,
  HeapOverflowError,
  InvalidFreeError,
  SIZE_CLASSES,
  UseAfterFreeError,
  type Heap,
} from '../../src/index.ts';
import { H_ARENA_START, H_MAX_END, K_LARGE_HEAD, KIND_MASK, PAGE_SHIFT } from '../../src/layout.ts';
import { getEntry } from '../../src/pages.ts';
import { lowerBound } from './model.ts';
import { Rng } from './rng.ts';

// ------------------------------------------------------------------ blocks and patterns

/** Allocated by this Heap object (MT: a small one is in a slab this thread owns). */
export const OWN = 1;
/** Received from another worker (or allocated by a sub-heap that has since detached). */
export const FOREIGN = 2;
/** A block of the quiet main thread's slabs (MT only): its frees are remote and never collected. */
export const POOL = 4;
/** Allocated by a sub-heap of this thread that detached: freeing it is a remote free. */
export const SUB = 8;
/** A large block (page run; the page map says so): its pages go back to all threads when freed. */
export const LARGE = 16;
/** Allocated by alignedAlloc with an alignment over 16 (a small one may start inside its core block). */
export const ALIGNED = 32;

export interface FBlock {
  ptr: number;
  size: number;
  usable: number;
  seed: number;
  flags: number;
}

const SLAB_MAX = 32768;

/** Word i of the pattern of a block with this seed (not model.ts's byte pattern: one word per 4 bytes). */
function wordPat(seed: number, i: number): number {
  return Math.imul(seed, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b);
}

/** Words of a block that carry the pattern: all up to 64 words, else both ends and one per 4 KiB. */
function forWords(usable: number, f: (i: number) => boolean): number {
  const n = usable >>> 2;
  if (n <= 64) {
    for (let i = 0; i < n; i++) if (!f(i)) return i;
    return -1;
  }
  for (let i = 0; i < 32; i++) if (!f(i)) return i;
  for (let i = 1024; i < n - 32; i += 1024) if (!f(i)) return i;
  for (let i = n - 32; i < n; i++) if (!f(i)) return i;
  return -1;
}

export function writePattern(u32: Uint32Array, b: { ptr: number; usable: number; seed: number }): void {
  const w = b.ptr >>> 2;
  forWords(b.usable, (i) => {
    u32[w + i] = wordPat(b.seed, i);
    return true;
  });
}

/** Index of the first pattern word below `limit` bytes that differs, or -1. */
export function checkPattern(u32: Uint32Array, b: { ptr: number; usable: number; seed: number }, limit = b.usable): number {
  const w = b.ptr >>> 2;
  return forWords(b.usable, (i) => 4 * i + 4 > limit || u32[w + i] === wordPat(b.seed, i) >>> 0);
}

// ------------------------------------------------------------------ the model

export type MisuseKind =
  | 'double-free'
  | 'cross-thread-double-free'
  | 'interior'
  | 'unaligned'
  | 'stale'
  | 'other-heap'
  | 'wild-inside'
  | 'wild-outside'
  | 'bad-pointer-value'
  | 'pointer-not-number'
  | 'bad-size'
  | 'too-large'
  | 'calloc-overflow'
  | 'bad-alignment'
  | 'after-detach'
  | 'debug-overflow'
  | 'debug-use-after-free'
  | 'debug-owner-double-free';

export type ValidKind = 'malloc' | 'calloc' | 'realloc' | 'aligned' | 'free' | 'handoff-out' | 'handoff-in' | 'sub-heap';

export interface FuzzOptions {
  seed: number;
  /** Worker mode: only misuse whose outcome does not depend on other threads. */
  mt: boolean;
  /** Share of operations that are misuse. */
  misuseRate: number;
  /** The driver frees while live usable bytes exceed this, or live blocks exceed maxLive. */
  liveBytes: number;
  maxLive: number;
  maxSize: number;
  /** Single thread: heap.check() + all contents + stats every N operations (0: never). */
  checkEvery: number;
  /** Attach, use and detach a sub-heap every N operations (0: never). */
  subHeapEvery: number;
  /** Pointers of other heaps for 'other-heap' misuse (single thread). */
  otherPointers?: number[];
  /** Expect known-wrong outcomes for this misuse kind (to show the fuzz can fail). */
  breakKind?: string;
  /** Formerly: also make the calls a detached Heap did not refuse (fixed in 039bd66); now always made. */
  strictDetach?: boolean;
  /** The heap is a hakmem/debug DebugHeap: usableSize is the requested size, realloc always moves. */
  debug?: boolean;
  /** attachHeap of the heap's build (default: the release build's). */
  attach?: (handle: Heap['handle']) => Heap;
}

export class FuzzError extends Error {
  override name = 'FuzzError';
}

type ErrCtor = abstract new (...args: never[]) => Error;

const NON_NUMBERS: unknown[] = ['16', null, undefined, {}, [], true, 16n, () => 16, Symbol('p')];
const BAD_POINTER_NUMBERS = [-16, -1, 1.5, 16.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 31)];
const BAD_SIZES = [-1, -16, 1.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 40)];
const BAD_ALIGNMENTS = [0, 3, 24, 48, -16, 1.5, NaN, Infinity, 2 ** 31, 2 ** 32, 2 ** 40];

export class FuzzModel {
  /** Live blocks, unordered (picking) ... */
  readonly blocks: FBlock[] = [];
  /** ... and by address (containment). */
  private sorted: FBlock[] = [];
  private index = new Map<FBlock, number>();
  usableTotal = 0;
  ops = 0;
  readonly valid: Record<ValidKind, number> = {
    malloc: 0,
    calloc: 0,
    realloc: 0,
    aligned: 0,
    free: 0,
    'handoff-out': 0,
    'handoff-in': 0,
    'sub-heap': 0,
  };
  readonly misuse: Partial<Record<MisuseKind, number>> = {};
  readonly raised: Record<string, number> = {};
  /** Misuse calls not made because the pointer drawn turned out to be a live block's start. */
  skipped = 0;
  audits = 0;
  /** Allocations that returned 0 (only on capped heaps). */
  zeros = 0;
  /** Small blocks of this thread's slabs freed since its last allocation. */
  private recent: number[] = [];
  /** Older freed pointers (single thread), a ring. */
  private stale: number[] = [];
  private staleAt = 0;
  /** Pool blocks freed (remotely) by this thread: freeing them again is always a DoubleFreeError. */
  private poolFreed: number[] = [];
  private nextSeed: number;
  readonly rng: Rng;
  readonly arenaStart: number;
  readonly maxEnd: number;

  constructor(
    readonly heap: Heap,
    readonly o: FuzzOptions,
  ) {
    this.rng = new Rng(o.seed);
    this.nextSeed = (o.seed * 7919) | 0;
    const m = heap.i32;
    this.arenaStart = m[heap.hw + H_ARENA_START]!;
    this.maxEnd = m[heap.hw + H_MAX_END]!;
  }

  get liveCount(): number {
    return this.blocks.length;
  }

  fail(msg: string): never {
    throw new FuzzError(`fuzz (seed ${this.o.seed}, op ${this.ops}): ${msg}`);
  }

  // ---------------------------------------------------------------- bookkeeping

  /** Records a new block (checks alignment, usableSize, overlap) and writes its pattern. */
  add(p: number, size: number, alignment: number, flags: number, seed = this.nextSeed++, write = true): FBlock {
    const h = this.heap;
    if (!Number.isInteger(p) || p <= 0) this.fail(`an allocation of ${size} bytes returned ${p}`);
    if (p % 16 !== 0 || p % alignment !== 0) this.fail(`block ${p} is not aligned to ${Math.max(16, alignment)}`);
    const usable = h.usableSize(p);
    if (usable < size) this.fail(`usableSize(${p}) = ${usable} < ${size}`);
    // The tier from the page map (a 1-page block of alignedAlloc(8192, 100) is large, usable 4096).
    if ((getEntry(h, p >>> PAGE_SHIFT) & KIND_MASK) === K_LARGE_HEAD) flags |= LARGE;
    else flags &= ~LARGE;
    flags = alignment > 16 ? flags | ALIGNED : flags & ~ALIGNED;
    const b: FBlock = { ptr: p, size, usable, seed, flags };
    const i = this.lowerBound(p);
    const prev = this.sorted[i - 1];
    const next = this.sorted[i];
    if (prev !== undefined && prev.ptr + prev.usable > p)
      this.fail(`block [${p}, +${usable}) overlaps live block [${prev.ptr}, +${prev.usable})`);
    if (next !== undefined && p + usable > next.ptr)
      this.fail(`block [${p}, +${usable}) overlaps live block [${next.ptr}, +${next.usable})`);
    this.sorted.splice(i, 0, b);
    this.index.set(b, this.blocks.length);
    this.blocks.push(b);
    this.usableTotal += usable;
    if (write) writePattern(h.u32, b);
    return b;
  }

  remove(b: FBlock): void {
    const i = this.lowerBound(b.ptr);
    if (this.sorted[i] !== b) this.fail(`internal: block ${b.ptr} not found`);
    this.sorted.splice(i, 1);
    const pos = this.index.get(b)!;
    const last = this.blocks.pop()!;
    if (last !== b) {
      this.blocks[pos] = last;
      this.index.set(last, pos);
    }
    this.index.delete(b);
    this.usableTotal -= b.usable;
  }

  private lowerBound(p: number): number {
    return lowerBound(this.sorted, p);
  }

  /** The live block whose usable range holds p, if any. */
  containing(p: number): FBlock | undefined {
    const i = this.lowerBound(p + 1) - 1;
    const b = this.sorted[i];
    // (a block of hakmem/debug may have usableSize 0: it still holds its start)
    return b !== undefined && (p === b.ptr || p < b.ptr + b.usable) ? b : undefined;
  }

  verify(b: FBlock, limit = b.usable, what = 'contents'): void {
    const bad = checkPattern(this.heap.u32, b, limit);
    if (bad >= 0) this.fail(`${what}: block ${b.ptr} (${b.size} B, usable ${b.usable}): word ${bad} overwritten`);
  }

  verifyAll(): void {
    for (const b of this.blocks) this.verify(b);
  }

  /** heap.check(), all contents, stats() against the model (single thread only). */
  audit(): void {
    this.audits++;
    this.heap.check();
    this.verifyAll();
    const s = this.heap.stats();
    if (s.inUseBlocks !== this.liveCount) this.fail(`stats().inUseBlocks ${s.inUseBlocks}, the model holds ${this.liveCount}`);
    if (s.inUseBytes !== this.usableTotal) this.fail(`stats().inUseBytes ${s.inUseBytes}, the model's usable bytes ${this.usableTotal}`);
  }

  /** A block freed by this Heap object: remember it for double-free and stale-pointer misuse. */
  private freed(b: FBlock): void {
    if ((b.flags & POOL) !== 0) {
      if (this.poolFreed.length < 4096) this.poolFreed.push(b.ptr);
      return;
    }
    // MT: only small blocks of our own slabs (large pages and other slabs may be reused by others at once).
    if (!this.o.mt || (b.flags & (OWN | LARGE)) === OWN) {
      if (this.recent.length < 256) this.recent.push(b.ptr);
    }
    // Remote frees (SUB blocks freed here) are not stale material: see the header.
    if (!this.o.mt && (b.flags & (SUB | FOREIGN)) === 0) {
      if (this.stale.length < 512) this.stale.push(b.ptr);
      else this.stale[this.staleAt++ & 511] = b.ptr;
    }
  }

  private allocated(): void {
    this.recent.length = 0;
  }

  // ---------------------------------------------------------------- operations

  randomSize(): number {
    const r = this.rng;
    const x = r.next();
    if (x < 0.65) return r.int(0, 512);
    if (x < 0.75) return SIZE_CLASSES[r.int(0, SIZE_CLASSES.length - 1)]! + r.int(-1, 1);
    if (x < 0.96) return r.int(513, SLAB_MAX);
    return Math.floor((SLAB_MAX + 1) * (this.o.maxSize / (SLAB_MAX + 1)) ** r.next());
  }

  /** One random operation: valid, or misuse with probability misuseRate. */
  step(): void {
    this.ops++;
    const r = this.rng;
    if (r.next() < this.o.misuseRate) {
      this.misuseStep();
      return;
    }
    if (this.o.subHeapEvery > 0 && this.ops % this.o.subHeapEvery === 0) {
      this.subHeap();
      return;
    }
    const over = this.usableTotal > this.o.liveBytes || this.blocks.length > this.o.maxLive;
    const x = over ? 1 : r.next();
    if (x < 0.3) this.doMalloc(this.randomSize());
    else if (x < 0.38) this.doCalloc();
    else if (x < 0.5) this.doRealloc();
    else if (x < 0.58) this.doAligned();
    else this.doFree();
  }

  private doMalloc(size: number): void {
    this.valid.malloc++;
    const p = this.heap.malloc(size);
    this.allocated();
    if (p === 0) {
      this.zeros++;
      return;
    }
    this.add(p, size, 16, OWN);
  }

  private doCalloc(): void {
    this.valid.calloc++;
    const r = this.rng;
    const count = r.int(0, 16);
    const total = this.randomSize();
    const size = count === 0 ? total : Math.floor(total / count);
    const p = this.heap.calloc(count, size);
    this.allocated();
    if (p === 0) {
      this.zeros++;
      return;
    }
    const n = count * size;
    const u32 = this.heap.u32;
    const z = { ptr: p, usable: n & ~3, seed: 0 };
    const bad = forWords(z.usable, (i) => u32[(p >>> 2) + i] === 0);
    if (bad >= 0) this.fail(`calloc(${count}, ${size}) = ${p}: word ${bad} is not zero`);
    this.add(p, n, 16, OWN);
  }

  private doAligned(): void {
    this.valid.aligned++;
    const r = this.rng;
    const alignment = 2 ** (r.next() < 0.85 ? r.int(0, 12) : r.int(13, 18));
    const size = this.randomSize();
    const p = this.heap.alignedAlloc(alignment, size);
    this.allocated();
    if (p === 0) {
      this.zeros++;
      return;
    }
    this.add(p, size, alignment, OWN);
  }

  private doRealloc(): void {
    this.valid.realloc++;
    const r = this.rng;
    const h = this.heap;
    if (this.blocks.length === 0) {
      const size = this.randomSize();
      const p = h.realloc(0, size);
      this.allocated();
      if (p === 0) {
        this.zeros++;
        return;
      }
      this.add(p, size, 16, OWN);
      return;
    }
    const b = r.pick(this.blocks);
    const size = r.next() < 0.03 ? 0 : this.randomSize();
    this.verify(b);
    const q = h.realloc(b.ptr, size);
    if (size === 0) {
      if (q !== 0) this.fail(`realloc(${b.ptr}, 0) returned ${q}`);
      this.remove(b);
      this.freed(b);
      return;
    }
    this.allocated();
    if (q === 0) {
      this.zeros++;
      if (h.usableSize(b.ptr) !== b.usable) this.fail(`a failed realloc changed usableSize(${b.ptr})`);
      this.verify(b, b.usable, 'after a failed realloc');
      return;
    }
    this.remove(b);
    this.verify({ ...b, ptr: q }, Math.min(b.size, size), `realloc(${b.ptr}, ${size}) = ${q} kept`);
    // In place keeps the block's origin; a move makes a block of this thread.
    const flags = q === b.ptr ? b.flags : OWN;
    if (q !== b.ptr) this.freed(b);
    this.add(q, size, 16, flags);
  }

  private doFree(): void {
    this.valid.free++;
    if (this.blocks.length === 0) {
      this.heap.free(0);
      return;
    }
    const b = this.rng.pick(this.blocks);
    this.verify(b);
    this.heap.free(b.ptr);
    this.remove(b);
    this.freed(b);
  }

  /** Frees every live block (verifying each). */
  drain(): void {
    while (this.blocks.length > 0) {
      const b = this.blocks[this.blocks.length - 1]!;
      this.verify(b);
      this.heap.free(b.ptr);
      this.remove(b);
    }
    this.recent.length = 0;
  }

  /** Attaches a second Heap in this thread, allocates with it, detaches, then checks it refuses calls. */
  subHeap(): void {
    this.valid['sub-heap']++;
    const r = this.rng;
    const sub = (this.o.attach ?? attachHeap)(this.heap.handle);
    const mine: FBlock[] = [];
    for (let i = r.int(1, 12); i > 0; i--) {
      const size = this.randomSize();
      const p = r.next() < 0.2 ? sub.alignedAlloc(2 ** r.int(5, 12), size) : sub.malloc(size);
      if (p === 0) {
        this.zeros++;
        continue;
      }
      // write through the main heap's views (same memory)
      mine.push(this.add(p, size, 16, SUB | FOREIGN));
    }
    // it frees some of its own blocks (local frees in its slabs)
    for (const b of mine) {
      if (r.next() < 0.3) {
        this.verify(b);
        sub.free(b.ptr);
        this.remove(b);
      }
    }
    this.allocated();
    sub.detach();
    this.afterDetach(sub);
  }

  /** Calls on a detached Heap: every one must throw DetachedError and change nothing. */
  afterDetach(d: Heap): void {
    const r = this.rng;
    const live = this.blocks.length > 0 ? r.pick(this.blocks) : undefined;
    const p = live?.ptr ?? 0;
    const calls: [string, () => unknown][] = [
      ['malloc', () => d.malloc(r.int(0, 2000))],
      ['malloc(large)', () => d.malloc(40000 + r.int(0, 100000))],
      ['calloc', () => d.calloc(3, 10)],
      ['realloc(0, n)', () => d.realloc(0, 100)],
      ['alignedAlloc(small)', () => d.alignedAlloc(64, 100)],
      ['detach', () => d.detach()],
      ['reclaimThread', () => d.reclaimThread(1)],
    ];
    calls.push(['free(0)', () => d.free(0)], ['alignedAlloc(large)', () => d.alignedAlloc(8192, 100)]);
    if (live !== undefined) {
      calls.push(['free(live)', () => d.free(p)], ['realloc(live, 0)', () => d.realloc(p, 0)]);
      calls.push(['usableSize(live)', () => d.usableSize(p)], ['realloc(live, same)', () => d.realloc(p, live.size)]);
      calls.push(['realloc(live, bigger)', () => d.realloc(p, live.usable + 40000)], ['array(live)', () => d.array(Uint8Array, p, 1)]);
      if ((live.flags & LARGE) === 0) calls.push(['realloc(live small, bigger)', () => d.realloc(p, 40000)]);
    }
    const [name, f] = r.pick(calls);
    this.expect('after-detach', name, f, [DetachedError]);
    if (live !== undefined) {
      if (this.heap.usableSize(live.ptr) !== live.usable) this.fail(`after-detach ${name}: usableSize of live block ${live.ptr} changed`);
      this.verify(live, live.usable, `after-detach ${name}`);
    }
  }

  // ---------------------------------------------------------------- misuse

  /** Runs a call that must throw one of `allowed`; counts it. */
  expect(kind: MisuseKind, what: string, f: () => unknown, allowed: ErrCtor[]): void {
    if (this.o.breakKind === kind) allowed = allowed.includes(InvalidFreeError) ? [DoubleFreeError] : [InvalidFreeError];
    this.misuse[kind] = (this.misuse[kind] ?? 0) + 1;
    let result: unknown;
    try {
      result = f();
    } catch (e) {
      if (!allowed.some((c) => e instanceof c)) {
        this.fail(
          `misuse ${kind}: ${what} threw ${(e as Error)?.name}: ${(e as Error)?.message}; expected ${allowed.map((c) => c.name).join(' or ')}`,
        );
      }
      const n = (e as Error).name;
      this.raised[n] = (this.raised[n] ?? 0) + 1;
      return;
    }
    this.fail(`misuse ${kind}: ${what} returned ${String(result)}; expected ${allowed.map((c) => c.name).join(' or ')}`);
  }

  /** A call that must return 0 (C's NULL) without throwing. */
  expectZero(kind: MisuseKind, what: string, f: () => number): void {
    this.misuse[kind] = (this.misuse[kind] ?? 0) + 1;
    let result: number;
    try {
      result = f();
    } catch (e) {
      this.fail(`misuse ${kind}: ${what} threw ${(e as Error)?.name}: ${(e as Error)?.message}; expected it to return 0`);
    }
    if (result !== 0) this.fail(`misuse ${kind}: ${what} returned ${result}; expected 0`);
  }

  /** A pointer call (free / realloc / usableSize / array) on p, which must throw one of `allowed`. */
  private pointerCall(kind: MisuseKind, p: unknown, allowed: ErrCtor[]): void {
    const h = this.heap;
    const r = this.rng;
    // array() checks the element alignment (RangeError) before the pointer: only for integer pointers
    const x = typeof p === 'number' && Number.isInteger(p) ? r.int(0, 9) : r.int(0, 8);
    if (x < 5) this.expect(kind, `free(${String(p)})`, () => h.free(p as number), allowed);
    else if (x < 7) {
      const size = r.next() < 0.2 ? 0 : this.randomSize();
      this.expect(kind, `realloc(${String(p)}, ${size})`, () => h.realloc(p as number, size), allowed);
    } else if (x < 9) this.expect(kind, `usableSize(${String(p)})`, () => h.usableSize(p as number), allowed);
    else {
      // array() checks the element alignment itself first: use bytes, so the pointer check decides
      this.expect(kind, `array(Uint8Array, ${String(p)}, 1)`, () => h.array(Uint8Array, p as number, 1), allowed);
    }
  }

  /** What a 16-aligned pointer that is not a live block's start must raise (one thread only for arena pointers). */
  private classify(p: number): ErrCtor[] {
    if (p < this.arenaStart || p >= this.maxEnd || p >= this.heap.byteLength) return [InvalidFreeError];
    if (this.containing(p) !== undefined) return [InvalidFreeError];
    return [InvalidFreeError, DoubleFreeError];
  }

  /** Misuse with a pointer drawn from somewhere: skipped when it is a live block's start. */
  private arbitraryPointer(kind: MisuseKind, p: number): void {
    const c = this.containing(p);
    if (c !== undefined && c.ptr === p) {
      this.skipped++;
      return;
    }
    this.pointerCall(kind, p, this.classify(p));
    if (c !== undefined) this.verify(c, c.usable, `after ${kind} misuse at ${p}`);
  }

  misuseStep(): void {
    const r = this.rng;
    const h = this.heap;
    const mt = this.o.mt;
    const base = mt ? 10 : 14;
    let x = r.int(0, this.o.debug ? base + 3 : base);
    if (x > base) x = 100 + x - base; // the debug build's own checks: 101..103
    switch (x) {
      case 101:
        this.debugOverflow();
        return;
      case 102:
        if (!mt) this.debugUseAfterFree();
        else this.debugOverflow();
        return;
      case 103:
        if (!mt) this.debugOwnerDoubleFree();
        else this.debugOverflow();
        return;
      case 0: {
        // double free of a block freed since the last allocation
        if (this.recent.length === 0) {
          // make one: allocate a small block and free it
          this.doMalloc(r.int(0, 1024));
          if (this.blocks.length > 0) {
            const b = this.blocks[this.blocks.length - 1]!;
            this.verify(b);
            h.free(b.ptr);
            this.remove(b);
            this.freed(b);
          }
          if (this.recent.length === 0) return;
        }
        this.pointerCall('double-free', r.pick(this.recent), [DoubleFreeError]);
        return;
      }
      case 1: {
        // cross-thread double free (pool blocks freed remotely, never collected)
        if (this.poolFreed.length === 0) {
          const pool = this.blocks.filter((b) => (b.flags & POOL) !== 0);
          if (pool.length === 0) return this.misuseStep();
          const b = r.pick(pool);
          this.verify(b);
          h.free(b.ptr);
          this.remove(b);
          this.freed(b);
        }
        this.pointerCall('cross-thread-double-free', r.pick(this.poolFreed), [DoubleFreeError]);
        return;
      }
      case 2:
      case 3: {
        // interior pointer of a live block
        const b = this.blocks.length > 0 ? r.pick(this.blocks) : undefined;
        if (b === undefined || b.usable < 32) return;
        const p = b.ptr + 16 * r.int(1, (b.usable >>> 4) - 1);
        this.pointerCall('interior', p, [InvalidFreeError]);
        if (r.next() < 0.25) this.verify(b, b.usable, `after interior misuse at ${p}`);
        if (h.usableSize(b.ptr) !== b.usable) this.fail(`usableSize(${b.ptr}) changed after interior misuse at ${p}`);
        return;
      }
      case 4: {
        // not 16-aligned
        const b = this.blocks.length > 0 ? r.pick(this.blocks) : undefined;
        const base = b?.ptr ?? this.arenaStart;
        this.pointerCall('unaligned', base + r.int(1, 15) + 16 * r.int(0, 3), [InvalidFreeError]);
        return;
      }
      case 5: {
        // outside the heap: its header, or past its maximum end
        const p = r.next() < 0.5 ? 16 * r.int(1, (this.arenaStart >>> 4) - 1) : this.maxEnd + 16 * r.int(0, 1 << 20);
        this.pointerCall('wild-outside', p, [InvalidFreeError]);
        return;
      }
      case 6:
        this.pointerCall('bad-pointer-value', r.pick(BAD_POINTER_NUMBERS), [InvalidFreeError]);
        return;
      case 7: // BigInt etc.: a TypeError (the bigint one comes from the engine's own arithmetic)
        this.pointerCall('pointer-not-number', r.pick(NON_NUMBERS), [TypeError]);
        return;
      case 8:
        this.badSize();
        return;
      case 9: {
        const a = r.pick<unknown>([...BAD_ALIGNMENTS, ...NON_NUMBERS]);
        const size = this.randomSize();
        this.expect('bad-alignment', `alignedAlloc(${String(a)}, ${size})`, () => h.alignedAlloc(a as number, size), [
          typeof a === 'number' ? RangeError : TypeError,
        ]);
        return;
      }
      case 10: {
        // calloc over the limit
        const c = r.int(2, 1 << 16);
        const s = Math.floor(this.maxEnd / c) + r.int(1, 1 << 16);
        this.expectZero('calloc-overflow', `calloc(${c}, ${s})`, () => h.calloc(c, s));
        return;
      }
      // ---- one thread only: pointers whose meaning depends on the whole heap
      case 11:
      case 12: {
        if (this.stale.length === 0) return;
        this.arbitraryPointer('stale', r.pick(this.stale));
        return;
      }
      case 13: {
        const o = this.o.otherPointers;
        if (o === undefined || o.length === 0) return;
        this.arbitraryPointer('other-heap', r.pick(o));
        return;
      }
      case 14: {
        const p = (this.arenaStart + r.int(0, this.heap.byteLength - this.arenaStart - 16)) & ~15;
        this.arbitraryPointer('wild-inside', p);
        return;
      }
    }
  }

  // ---------------------------------------------------------------- hakmem/debug only

  /**
   * A write past the requested size (into the canary, at least 8 bytes): free / realloc (and check()
   * with one thread) must throw HeapOverflowError and leave the block alone; the byte is then put
   * back and the block is live and intact again.
   */
  private debugOverflow(): void {
    const r = this.rng;
    const h = this.heap;
    const b = this.blocks.length > 0 ? r.pick(this.blocks) : undefined;
    if (b === undefined) return;
    const at = b.ptr + b.size + r.int(0, 7);
    const u8 = h.u8;
    const old = u8[at]!;
    u8[at] = old ^ (1 << r.int(0, 7));
    const x = r.int(0, this.o.mt ? 1 : 2);
    try {
      if (x === 0)
        this.expect('debug-overflow', `free(${b.ptr}) after a write at byte ${at - b.ptr} of ${b.size}`, () => h.free(b.ptr), [
          HeapOverflowError,
        ]);
      else if (x === 1)
        this.expect(
          'debug-overflow',
          `realloc(${b.ptr}, 100) after a write at byte ${at - b.ptr} of ${b.size}`,
          () => h.realloc(b.ptr, 100),
          [HeapOverflowError],
        );
      else
        this.expect('debug-overflow', `check() after a write at byte ${at - b.ptr} of a ${b.size}-byte block`, () => h.check(), [
          HeapOverflowError,
        ]);
    } finally {
      h.u8[at] = old;
    }
    if (h.usableSize(b.ptr) !== b.usable) this.fail(`debug-overflow: usableSize(${b.ptr}) changed`);
    this.verify(b, b.usable, 'after debug-overflow');
  }

  /** A write into a freed small block's poison: check() must throw UseAfterFreeError (then the poison is put back). */
  private debugUseAfterFree(): void {
    const r = this.rng;
    const h = this.heap;
    const b = this.blocks.length > 0 ? r.pick(this.blocks) : undefined;
    // a small block of this thread's slabs whose freed body has room past the link and the marker
    // (not an aligned one: hakmem/debug misses writes after free of those, see test/fuzz.test.ts)
    if (b === undefined || (b.flags & (OWN | LARGE | SUB | FOREIGN | POOL | ALIGNED)) !== OWN || b.size < 12) return;
    this.verify(b);
    h.free(b.ptr);
    this.remove(b);
    this.freed(b);
    const at = b.ptr + r.int(8, b.size - 1);
    const u8 = h.u8;
    const old = u8[at]!;
    u8[at] = old ^ (1 << r.int(0, 7));
    try {
      this.expect('debug-use-after-free', `check() after a write at byte ${at - b.ptr} of freed block ${b.ptr}`, () => h.check(), [
        UseAfterFreeError,
      ]);
    } finally {
      h.u8[at] = old;
    }
  }

  /**
   * A block of a second (attached) thread freed by this thread (a remote free: its bit in the remote
   * bitmap), then by its owner before it collected the first free: the release build cannot tell,
   * the debug build throws DoubleFreeError (the block is marked freed and poisoned).
   */
  private debugOwnerDoubleFree(): void {
    const r = this.rng;
    const h = this.heap;
    const sub = (this.o.attach ?? attachHeap)(h.handle);
    try {
      const p = sub.malloc(r.int(0, 2000));
      if (p === 0) return;
      h.free(p); // remote
      this.expect('debug-owner-double-free', `owner's free(${p}) after a remote free`, () => sub.free(p), [DoubleFreeError]);
    } finally {
      sub.detach();
      this.allocated();
    }
  }

  private badSize(): void {
    const r = this.rng;
    const h = this.heap;
    if (r.next() < 0.3) {
      this.tooLarge();
      return;
    }
    const v = r.next() < 0.7 ? r.pick<unknown>(BAD_SIZES) : r.pick(NON_NUMBERS);
    const want: ErrCtor[] = [typeof v === 'number' ? RangeError : TypeError];
    const n = v as number;
    const good = r.int(1, 100); // not 0: calloc(0, huge) is a valid 0-byte request
    const b = this.blocks.length > 0 ? r.pick(this.blocks) : undefined;
    switch (r.int(0, 6)) {
      case 0:
        this.expect('bad-size', `malloc(${String(v)})`, () => h.malloc(n), want);
        break;
      case 1:
        this.expect('bad-size', `calloc(${String(v)}, ${good})`, () => h.calloc(n, good), want);
        break;
      case 2:
        this.expect('bad-size', `calloc(${good}, ${String(v)})`, () => h.calloc(good, n), want);
        break;
      case 3:
        this.expect('bad-size', `alignedAlloc(64, ${String(v)})`, () => h.alignedAlloc(64, n), want);
        break;
      case 4:
        this.expect('bad-size', `realloc(0, ${String(v)})`, () => h.realloc(0, n), want);
        break;
      case 5:
      case 6:
        if (b === undefined) return;
        this.expect('bad-size', `realloc(${b.ptr}, ${String(v)})`, () => h.realloc(b.ptr, n), want);
        if (h.usableSize(b.ptr) !== b.usable) this.fail(`usableSize(${b.ptr}) changed after realloc with a bad size`);
        this.verify(b, b.usable, 'after realloc with a bad size');
        break;
    }
  }

  /** A valid size the heap can never hold: every allocating call returns 0; realloc leaves its block. */
  private tooLarge(): void {
    const r = this.rng;
    const h = this.heap;
    const n = r.pick([this.maxEnd + 16, 2 ** 31, 2 ** 32, 2 ** 53 - 1]);
    const b = this.blocks.length > 0 ? r.pick(this.blocks) : undefined;
    switch (r.int(0, 5)) {
      case 0:
        this.expectZero('too-large', `malloc(${n})`, () => h.malloc(n));
        break;
      case 1:
        this.expectZero('too-large', `calloc(${n}, 1)`, () => h.calloc(n, 1));
        break;
      case 2:
        this.expectZero('too-large', `alignedAlloc(64, ${n})`, () => h.alignedAlloc(64, n));
        break;
      case 3:
        this.expectZero('too-large', `realloc(0, ${n})`, () => h.realloc(0, n));
        break;
      default:
        if (b === undefined) return;
        this.expectZero('too-large', `realloc(${b.ptr}, ${n})`, () => h.realloc(b.ptr, n));
        if (h.usableSize(b.ptr) !== b.usable) this.fail(`usableSize(${b.ptr}) changed after realloc to a size too large`);
        this.verify(b, b.usable, 'after realloc to a size too large');
    }
  }

  summary(): FuzzSummary {
    return {
      ops: this.ops,
      valid: { ...this.valid },
      misuse: { ...this.misuse },
      raised: { ...this.raised },
      skipped: this.skipped,
      audits: this.audits,
      zeros: this.zeros,
    };
  }
}

export interface FuzzSummary {
  ops: number;
  valid: Record<string, number>;
  misuse: Record<string, number>;
  raised: Record<string, number>;
  skipped: number;
  audits: number;
  zeros: number;
}

export function mergeSummaries(list: FuzzSummary[]): FuzzSummary {
  const out: FuzzSummary = { ops: 0, valid: {}, misuse: {}, raised: {}, skipped: 0, audits: 0, zeros: 0 };
  const add = (to: Record<string, number>, from: Record<string, number>) => {
    for (const [k, v] of Object.entries(from)) to[k] = (to[k] ?? 0) + v;
  };
  for (const s of list) {
    out.ops += s.ops;
    out.skipped += s.skipped;
    out.audits += s.audits;
    out.zeros += s.zeros;
    add(out.valid, s.valid);
    add(out.misuse, s.misuse);
    add(out.raised, s.raised);
  }
  return out;
}
