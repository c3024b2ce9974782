/**
 * SecureHeap (createHeap({ secure: true })): the strict front end. Free-list links are stored
 * encoded and checked (see the class), and every malloc and free sets or checks its block's
 * allocated bit in the slab, as the release build did before the thread lists: no list, no marker
 * (H_MARK_KEY is 0 in a secure heap). Its own fast paths, so a plain heap's pay nothing for it; their
 * literals are checked against layout.ts by FAST_PATH_LAYOUT (heap.ts).
 */
import { HeapCorruptionError, fmt } from './errors.ts';
import {
  slabOf,
  E_KEY_MASK,
  H_SECURE_KEY,
  K_SLAB,
  OWNER_TID_MASK,
  PAGE_SHIFT,
  S_END,
  S_FIRST,
  S_FREE,
  S_MAGIC,
  S_OWNER,
  SLAB_MAGIC,
  allocWord,
  granuleBit,
} from './layout.ts';
import { getEntry } from './pages.ts';
import { CLASS_OF, SLAB_MAX } from './size-classes.ts';
import { slabCarve, slabGiveBack, slabTake } from './slab.ts';
import { R_FREE_LARGE, R_FREE_REMOTE, R_FREE_SLOW, R_MALLOC_REFILL } from './routes.ts';
import { isU32 } from './args.ts';
import { Heap } from './heap.ts';
import type { Backing } from './memory.ts';

/**
 * A heap created with `secure: true`: free-list links are stored as next ^ key ^ (link address),
 * with a per-heap random key in the header, and every decoded link must be 0 or a 16-byte aligned
 * address inside the slab's blocks, else HeapCorruptionError. A stray write into a freed block
 * then fails loudly instead of handing out an address of the attacker's (or the bug's) choosing.
 * Same fast paths as Heap otherwise; its own class, so a plain heap's fast paths pay nothing.
 */
export class SecureHeap extends Heap {
  declare private readonly key: number;

  /** @internal */
  constructor(backing: Backing, hw: number, tid: number, name: string) {
    super(backing, hw, tid, name);
    this.key = this.m32[hw + H_SECURE_KEY]!;
  }

  override malloc(size: number): number {
    if (size >>> 0 === size && size <= 1024 /* SMALL_MAX */) {
      const m = this.m32;
      const s = m[(this.tdir + ((size + 15) >>> 4)) | 0]!;
      const p = m[s]!; // S_FREE
      if (p > 0) {
        const next = m[p >>> 2]! ^ this.key ^ p;
        const first = m[s + 12 /* S_FIRST */]!;
        if (next !== 0 && ((next & 15) !== 0 || (next - first) >>> 0 >= (m[s + 8 /* S_END */]! - first) >>> 0)) this.badLink(p, next);
        m[s] = next;
        m[(s + m[s + 14 /* S_ALLOC_BITMAP */]! - (s >>> 7) + (p >>> 9)) | 0]! |= 1 << (p >>> 4);
        return p;
      }
    }
    return this.mallocSlow(size) | 0;
  }

  override free(ptr: number): void {
    if ((ptr >> 4) << 4 === ptr) {
      const m = this.m32;
      const e = m[(m[(this.topw + (ptr >>> 22)) | 0]! + ((ptr >>> 12) & 1023)) | 0]!;
      if ((e & 0x3ff03f) /* E_KEY_MASK */ === this.ownSlabKey) {
        const s = ((ptr >>> 12) - ((e >>> 6) & 63)) << 10;
        const w = (s + m[s + 14 /* S_ALLOC_BITMAP */]! - (s >>> 7) + (ptr >>> 9)) | 0;
        const bits = m[w]!;
        const bit = 1 << (ptr >>> 4);
        const head = m[s]!;
        if ((bits & bit) !== 0 && head !== 0) {
          m[w] = bits ^ bit;
          m[ptr >>> 2] = head ^ this.key ^ ptr;
          m[s] = ptr;
          return;
        }
      }
    }
    this.freeSlow(ptr);
  }

  /** The strict front end: a block straight from the class's current slab, its allocated bit set per call. */
  protected override mallocSlow(size: number): number {
    this.syncViews();
    if (!isU32(size) || size > SLAB_MAX || this.tid === 0) return this.mallocUnusual(size);
    this.route(R_MALLOC_REFILL);
    const s = this.slabWithFree(CLASS_OF[(size + 15) >>> 4]!);
    if (s === 0) return 0;
    if (this.m32[s + S_FREE] === 0) slabCarve(this, s);
    return slabTake(this, s, false);
  }

  /**
   * The strict front end's free slow path: a block of a slab of ours whose allocated bit is set but
   * whose slab's free list was empty (it may be full: relisted), or anything resolve() validates.
   */
  protected override freeSlow(arg: number | ArrayBufferView): void {
    const ptr = typeof arg === 'object' && arg !== null && ArrayBuffer.isView(arg) ? this.viewPointer(arg) : (arg as number);
    this.route(R_FREE_SLOW);
    let s = 0;
    let block = ptr;
    if (typeof ptr === 'number' && (ptr >> 4) << 4 === ptr && ptr < this.m8.length) {
      const e = getEntry(this, ptr >>> PAGE_SHIFT);
      if ((e & E_KEY_MASK) === this.ownSlabKey) {
        const q = slabOf(ptr, e);
        const m = this.m32;
        if (
          m[q + S_MAGIC] === (SLAB_MAGIC ^ (q << 2)) &&
          ptr >= m[q + S_FIRST]! &&
          ptr < m[q + S_END]! &&
          (m[allocWord(m, q, ptr)]! & granuleBit(ptr)) !== 0
        )
          s = q;
      }
    }
    if (s === 0) {
      if (this.tid === 0) this.detachedError('free');
      const kind = this.resolve(ptr, 'free');
      if (kind === 0) return;
      if (kind !== K_SLAB) {
        this.route(R_FREE_LARGE);
        this.largeFreeLocked(ptr >>> PAGE_SHIFT);
        return;
      }
      s = this.rSlab;
      block = this.rBlock;
      if ((this.m32[s + S_OWNER]! & OWNER_TID_MASK) !== this.tid) {
        this.route(R_FREE_REMOTE);
        this.remoteFree(s, ptr);
        return;
      }
    }
    this.m32[allocWord(this.m32, s, ptr)]! &= ~granuleBit(ptr);
    slabGiveBack(this, s, block);
  }

  override readLink(s: number, p: number): number {
    const m = this.m32;
    const next = m[p >>> 2]! ^ this.key ^ p;
    const first = m[s + S_FIRST]!;
    if (next !== 0 && ((next & 15) !== 0 || (next - first) >>> 0 >= (m[s + S_END]! - first) >>> 0)) this.badLink(p, next);
    return next;
  }

  override writeLink(p: number, next: number): void {
    this.m32[p >>> 2] = next ^ this.key ^ p;
  }

  private badLink(p: number, next: number): never {
    throw new HeapCorruptionError(
      `the free-list link in the freed block at ${fmt(p)} decodes to ${fmt(next >>> 0)}, outside its slab ` +
        `(the block was written after it was freed; secure heap)`,
      p,
      this.name,
    );
  }
}
