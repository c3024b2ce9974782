/**
 * Mode `research`: learning (learn.ts), plus what a study of the heap's workload needs, in the
 * release build:
 *   - the size record: one request in about `every` (64; a random gap of 1 to 2 x every - 1, so a
 *     periodic pattern of the program cannot alias with it) has its size counted in the thread
 *     record's histogram (T_SIZES: one bucket per size class, then per power of two); malloc's fast
 *     path runs the countdown, realloc and alignedAlloc count their own requests (the mallocs they
 *     make inside are not requests of the program). stats().sizes sums every thread's samples and
 *     those of threads that left (folded into the header by threads.ts abandonThread).
 *   - route counters: which slow path each call took (Heap.route, routes.ts), in the thread record,
 *     and this thread's malloc and free counts (free's fast path counts its calls): stats().routes.
 *   - site statistics: heap.site() handles (ResearchSite) count calls, bytes and sizes exactly, and
 *     sample lifetimes (in this thread's mallocs) of one block in `every`.
 */
import { LS_END, LearningHeap } from './learn.ts';
import type { HeapStats } from './stats.ts';
import { H_LEARN, H_MAX_THREADS, H_THREADS, RS_SIZES, SIZE_BUCKETS, T_ROUTES, T_SIZES, slotIsAttached } from './layout.ts';
import { MODE_RESEARCH, bucketMaxSize, sizeBucket } from './policy.ts';
import { isU32 } from './args.ts';
import { Site } from './site.ts';
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
import type { HeapOptions } from './heap.ts';
import { LEARN_WORDS, T_ROUTE_WORDS } from './layout.ts';

export { RS_SIZES } from './layout.ts';

/** stats().sizes. */
export interface SizeStats {
  /** One request in about this many is sampled. */
  every: number;
  /** Samples taken (by every thread, those that left included). */
  samples: number;
  /** Each bucket that has samples: its largest size (a size class up to 32 KiB, then powers of two), its samples, their share of all samples. */
  buckets: { size: number; count: number; share: number }[];
}

/** stats().sites[i]. */
export interface SiteStats {
  name: string;
  /** malloc, calloc and realloc calls through the handle. */
  mallocs: number;
  frees: number;
  /** Bytes requested through the handle. */
  bytes: number;
  /** Every request's size, by bucket (as stats().sizes). */
  sizes: { size: number; count: number }[];
  /**
   * Lifetimes, in this thread's mallocs, of one block in about `every` (blocks freed or reallocated
   * through the handle; `lost`: a sampled block whose end the handle did not see, e.g. freed by
   * heap.free, or whose sample slot another sample took).
   */
  lifetimes: { sampled: number; ended: number; lost: number; median: number; buckets: { upTo: number; count: number }[] };
}

const LIFE_SLOTS = 256;
const LIFE_BUCKETS = 32;

/** xorshift32 step (int32 state). */
function xs(s: number): number {
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  return s | 0;
}

/** A gap of 1 .. 2 * every - 1 (mean `every`) from a xorshift state. */
function gap(s: number, every: number): number {
  return 1 + Math.floor(((s >>> 0) / 4294967296) * (2 * every - 1));
}

export class ResearchHeap extends LearningHeap {
  static override readonly modes: readonly number[] = [MODE_RESEARCH];
  /** Requests left before the next size sample. */
  declare private left: number;
  declare private every: number;
  declare private rng: number;
  /** free calls of this thread. */
  declare private frees: number;

  /** @internal */
  constructor(...args: ConstructorParameters<typeof LearningHeap>) {
    super(...args);
    this.every = 64;
    this.rng = (0x2545f491 ^ Math.imul(this.threadId, 0x9e3779b1)) | 1;
    this.left = gap(this.rng, this.every);
    this.frees = 0;
  }

  /** @internal The creating thread takes the `learn` option's sampling period (default 64). */
  override configure(options: HeapOptions): void {
    super.configure(options);
    const e = options.learn?.sampleEvery;
    if (e !== undefined) {
      this.every = e;
      this.left = gap(this.rng, e);
    }
  }

  override malloc(size: number): number {
    if ((this.left = (this.left - 1) | 0) === 0) this.sampleSize(size);
    return super.malloc(size);
  }

  override free(ptr: number | ArrayBufferView): void {
    this.frees = (this.frees + 1) | 0;
    super.free(ptr);
  }

  /** realloc's new block and alignedAlloc's padded one are not requests of the program. */
  protected override mallocInner(size: number): number {
    return super.malloc(size);
  }

  override realloc(ptr: number, size: number): number {
    if ((size !== 0 || ptr === 0) && (this.left = (this.left - 1) | 0) === 0) this.sampleSize(size); // realloc(p, 0) frees
    return super.realloc(ptr, size);
  }

  override alignedAlloc(alignment: number, size: number): number {
    if ((this.left = (this.left - 1) | 0) === 0) this.sampleSize(size);
    return super.alignedAlloc(alignment, size);
  }

  /** The countdown reached 0: count this request's size (a size at all: errors throw later), draw the next gap. */
  private sampleSize(size: number): void {
    this.rng = xs(this.rng);
    this.left = gap(this.rng, this.every);
    if (!isU32(size) || this.threadId === 0) return;
    this.m32[this.rec + T_SIZES + sizeBucket(size)]!++;
  }

  protected override route(r: number): void {
    this.m32[this.rec + T_ROUTES + r]!++;
  }

  protected override newSite(name: string): Site {
    return new ResearchSite(this, name, this.every);
  }

  override stats(): HeapStats {
    const s = super.stats();
    s.sizes = this.sizeStats();
    s.routes = this.routeStats();
    s.sites = [...(this.sites?.values() ?? [])].map((x) => (x as ResearchSite).siteStats());
    return s;
  }

  /** Every thread's samples (attached threads' records, and the header's totals of those that left). */
  private sizeStats(): SizeStats {
    const m = this.m32;
    const hw = this.hw;
    const counts = new Float64Array(SIZE_BUCKETS);
    for (let b = 0; b < SIZE_BUCKETS; b++) counts[b] = m[hw + H_LEARN + RS_SIZES + b]! >>> 0;
    const max = m[hw + H_MAX_THREADS]!;
    for (let i = 0; i < max; i++) {
      const rec = m[hw + H_THREADS + i]!;
      if (rec === 0 || !slotIsAttached(Atomics.load(m, hw + H_THREADS + max + i))) continue;
      for (let b = 0; b < SIZE_BUCKETS; b++) counts[b]! += m[rec + T_SIZES + b]! >>> 0;
    }
    const samples = counts.reduce((a, b) => a + b, 0);
    const buckets: SizeStats['buckets'] = [];
    for (let b = 0; b < SIZE_BUCKETS; b++) {
      if (counts[b] !== 0) buckets.push({ size: bucketMaxSize(b), count: counts[b]!, share: counts[b]! / samples });
    }
    return { every: this.every, samples, buckets };
  }

  private routeStats(): RouteStats {
    const r = (k: number) => this.m32[this.rec + T_ROUTES + k]! >>> 0;
    const mallocs = this.ops >>> 0;
    const frees = this.frees >>> 0;
    return {
      mallocs,
      mallocFast: mallocs - r(R_MALLOC_REFILL) - r(R_MALLOC_LARGE),
      mallocRefill: r(R_MALLOC_REFILL),
      mallocSlow: r(R_MALLOC_SLOW),
      mallocLarge: r(R_MALLOC_LARGE),
      collect: r(R_COLLECT),
      frees,
      freeFast: frees - r(R_FREE_SLOW),
      freeSlow: r(R_FREE_SLOW),
      flush: r(R_FLUSH),
      confirm: r(R_CONFIRM),
      freeRemote: r(R_FREE_REMOTE),
      freeLarge: r(R_FREE_LARGE),
    };
  }
}

/** A site handle of a research heap: the heap's calls, counted. */
export class ResearchSite extends Site {
  declare private mallocs: number;
  declare private frees: number;
  declare private bytes: number;
  declare private readonly sizes: Float64Array;
  declare private left: number;
  declare private readonly every: number;
  declare private rng: number;
  /** Sampled live blocks (-1: none), by (ptr >>> 4) & (LIFE_SLOTS - 1), and the heap's malloc count at their birth. */
  declare private readonly lifePtr: Int32Array;
  declare private readonly lifeBorn: Float64Array;
  declare private readonly lives: Float64Array;
  declare private sampled: number;
  declare private ended: number;
  declare private lost: number;

  /** @internal */
  constructor(heap: ResearchHeap, name: string, every: number) {
    super(heap, name);
    this.mallocs = 0;
    this.frees = 0;
    this.bytes = 0;
    this.sizes = new Float64Array(SIZE_BUCKETS);
    this.every = every;
    this.rng = 0x1b873593 ^ name.length;
    this.left = gap(this.rng, every);
    this.lifePtr = new Int32Array(LIFE_SLOTS).fill(-1);
    this.lifeBorn = new Float64Array(LIFE_SLOTS);
    this.lives = new Float64Array(LIFE_BUCKETS);
    this.sampled = 0;
    this.ended = 0;
    this.lost = 0;
  }

  override malloc(size: number): number {
    const p = this.heap.malloc(size);
    this.count(size, p);
    return p;
  }

  override calloc(count: number, size: number): number {
    const p = this.heap.calloc(count, size);
    this.count(count * size, p);
    return p;
  }

  override realloc(ptr: number, size: number): number {
    const born = ptr !== 0 && this.lifePtr[(ptr >>> 4) & (LIFE_SLOTS - 1)] === ptr ? this.lifeBorn[(ptr >>> 4) & (LIFE_SLOTS - 1)]! : -1;
    const q = this.heap.realloc(ptr, size);
    if (size === 0 && ptr !== 0) {
      this.frees++;
      if (born >= 0) this.endLife(ptr);
      return q;
    }
    if (born >= 0 && q !== 0) {
      // The block lives on at q (moved or not): its sample follows it.
      this.lifePtr[(ptr >>> 4) & (LIFE_SLOTS - 1)] = -1;
      this.mallocs++;
      this.bytes += size;
      this.sizes[sizeBucket(size)]!++;
      this.track(q, born);
      return q;
    }
    this.count(size, q);
    return q;
  }

  override free(ptr: number | ArrayBufferView): void {
    if (typeof ptr === 'number' && this.lifePtr[(ptr >>> 4) & (LIFE_SLOTS - 1)] === ptr) this.endLife(ptr);
    this.frees++;
    this.heap.free(ptr);
  }

  private count(size: number, p: number): void {
    this.mallocs++;
    if (p === 0) return;
    this.bytes += size;
    this.sizes[sizeBucket(size)]!++;
    const i = (p >>> 4) & (LIFE_SLOTS - 1);
    if (this.lifePtr[i] === p) {
      // a sampled block at this address ended unseen
      this.lost++;
      this.lifePtr[i] = -1;
    }
    if (--this.left === 0) {
      this.rng = xs(this.rng);
      this.left = gap(this.rng, this.every);
      this.track(p, (this.heap as ResearchHeap).ops >>> 0);
    }
  }

  private track(p: number, born: number): void {
    const i = (p >>> 4) & (LIFE_SLOTS - 1);
    if (this.lifePtr[i] !== -1) this.lost++;
    else this.sampled++;
    this.lifePtr[i] = p;
    this.lifeBorn[i] = born;
  }

  private endLife(ptr: number): void {
    const i = (ptr >>> 4) & (LIFE_SLOTS - 1);
    const life = Math.max(0, ((this.heap as ResearchHeap).ops >>> 0) - this.lifeBorn[i]!);
    this.lifePtr[i] = -1;
    this.ended++;
    this.lives[Math.min(LIFE_BUCKETS - 1, 32 - Math.clz32(life))]!++;
  }

  /** @internal stats().sites[i]. */
  siteStats(): SiteStats {
    const sizes: SiteStats['sizes'] = [];
    for (let b = 0; b < SIZE_BUCKETS; b++) if (this.sizes[b] !== 0) sizes.push({ size: bucketMaxSize(b), count: this.sizes[b]! });
    const buckets: { upTo: number; count: number }[] = [];
    let median = 0;
    let seen = 0;
    for (let b = 0; b < LIFE_BUCKETS; b++) {
      const n = this.lives[b]!;
      if (n === 0) continue;
      buckets.push({ upTo: b === 0 ? 0 : 2 ** b - 1, count: n });
      if (seen < this.ended / 2 && seen + n >= this.ended / 2) median = b === 0 ? 0 : 2 ** b - 1;
      seen += n;
    }
    return {
      name: this.name,
      mallocs: this.mallocs,
      frees: this.frees,
      bytes: this.bytes,
      sizes,
      lifetimes: { sampled: this.sampled, ended: this.ended, lost: this.lost, median, buckets },
    };
  }
}

if (NROUTES > T_ROUTE_WORDS) throw new Error('hakmem: layout.ts T_ROUTE_WORDS is smaller than the route count (routes.ts NROUTES)');
if (RS_SIZES < LS_END || RS_SIZES + SIZE_BUCKETS > LEARN_WORDS)
  throw new Error("hakmem: research's size totals do not fit the header's learning words");
