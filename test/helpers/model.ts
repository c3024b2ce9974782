/**
 * The model of test/model.test.ts, the debug and secure tests, and of
 * `npm run model` (model-cli.ts).
 *
 * A Model applies operations to a real heap and mirrors them in a Map id -> {ptr, size, usable, seed}.
 * After every operation it checks what the API promises: blocks are 16-byte (and `alignment`-) aligned,
 * usableSize >= size, live blocks never overlap (their whole usable ranges), a block's contents (a
 * pattern from its seed, written over its usable bytes: byte-pattern.ts) survive until it is freed and
 * across realloc up to the smaller size, calloc memory reads zero. Every `checkEvery` operations (and
 * in audit()) it also runs heap.check(), re-reads every live block and compares stats() with the model.
 */
import { createHeap, SIZE_CLASSES, type Heap } from '../../src/index.ts';
import { createHeap as createDebugHeap } from '../../src/debug.ts';
import { bytePat, firstWrongByte, writeBytePattern } from './byte-pattern.ts';
import { Rng } from './rng.ts';

export type Op =
  | { kind: 'malloc'; size: number }
  | { kind: 'calloc'; count: number; size: number }
  | { kind: 'realloc'; pick: number; size: number } // pick: index (mod live count) of the block; none live: realloc(0, size)
  | { kind: 'aligned'; alignment: number; size: number }
  | { kind: 'free'; pick: number }; // none live: free(0)

export interface Block {
  id: number;
  ptr: number;
  size: number;
  usable: number;
  seed: number;
}

export interface ModelOptions {
  /** Run heap.check(), verify all blocks and compare stats every N operations (1 = after each). */
  checkEvery: number;
  /** The heap has a small maxBytes: allocations may return 0 (then the model must not change). */
  capped: boolean;
}

/** Blocks up to this usable size get the pattern on every byte; larger ones on samples. */
const FULL_PATTERN = 8192;

function fail(msg: string): never {
  throw new Error(`model: ${msg}`);
}

export function describeOp(op: Op): string {
  switch (op.kind) {
    case 'malloc':
      return `malloc(${op.size})`;
    case 'calloc':
      return `calloc(${op.count}, ${op.size})`;
    case 'realloc':
      return `realloc(#${op.pick}, ${op.size})`;
    case 'aligned':
      return `alignedAlloc(${op.alignment}, ${op.size})`;
    case 'free':
      return `free(#${op.pick})`;
  }
}

export class Model {
  /** Live blocks by id. */
  readonly live = new Map<number, Block>();
  /** Live ids, for picking a block by index. */
  private ids: number[] = [];
  private idPos = new Map<number, number>();
  /** Live blocks sorted by ptr, for the overlap check. */
  private sorted: Block[] = [];
  usableTotal = 0;
  ops = 0;
  /** Allocations (malloc/calloc/alignedAlloc/realloc) that returned 0. */
  failures = 0;
  peakLive = 0;
  peakUsable = 0;
  readonly counts: Record<Op['kind'], number> = { malloc: 0, calloc: 0, realloc: 0, aligned: 0, free: 0 };
  private nextId = 1;

  constructor(
    readonly heap: Heap,
    readonly opts: ModelOptions,
  ) {}

  get liveCount(): number {
    return this.ids.length;
  }

  pick(index: number): Block | undefined {
    if (this.ids.length === 0) return undefined;
    return this.live.get(this.ids[index % this.ids.length]!)!;
  }

  /** Applies one operation and checks its result. Returns the allocation that failed (0), if any. */
  apply(op: Op): Op | undefined {
    const h = this.heap;
    this.ops++;
    this.counts[op.kind]++;
    let failed: Op | undefined;
    switch (op.kind) {
      case 'malloc': {
        const p = h.malloc(op.size);
        if (p === 0) failed = op;
        else this.add(p, op.size, 16);
        break;
      }
      case 'calloc': {
        const p = h.calloc(op.count, op.size);
        if (p === 0) failed = op;
        else {
          this.expectZero(p, op.count * op.size);
          this.add(p, op.count * op.size, 16);
        }
        break;
      }
      case 'aligned': {
        const p = h.alignedAlloc(op.alignment, op.size);
        if (p === 0) failed = op;
        else this.add(p, op.size, op.alignment);
        break;
      }
      case 'realloc': {
        const b = this.pick(op.pick);
        if (b === undefined) {
          const p = h.realloc(0, op.size);
          if (p === 0) failed = op;
          else this.add(p, op.size, 16);
          break;
        }
        this.verify(b, b.usable);
        const q = h.realloc(b.ptr, op.size);
        if (op.size === 0) {
          if (q !== 0) fail(`realloc(${b.ptr}, 0) returned ${q}, not 0`);
          this.remove(b);
          break;
        }
        if (q === 0) {
          failed = op;
          // p is untouched
          if (h.usableSize(b.ptr) !== b.usable) fail(`a failed realloc changed usableSize(${b.ptr})`);
          this.verify(b, b.usable);
          break;
        }
        this.remove(b);
        const moved: Block = { ...b, ptr: q };
        this.verify(moved, Math.min(b.size, op.size)); // contents kept up to the smaller size
        this.add(q, op.size, 16, b.seed);
        break;
      }
      case 'free': {
        const b = this.pick(op.pick);
        if (b === undefined) {
          h.free(0);
          break;
        }
        this.verify(b, b.usable);
        h.free(b.ptr);
        this.remove(b);
        break;
      }
    }
    if (failed !== undefined) {
      if (!this.opts.capped) fail(`${describeOp(failed)} returned 0 on an uncapped heap`);
      this.failures++;
    }
    if (this.ops % this.opts.checkEvery === 0) this.audit();
    return failed;
  }

  /** heap.check(), every live block's contents, stats() against the model. */
  audit(): void {
    this.heap.check();
    for (const b of this.sorted) this.verify(b, b.usable);
    const s = this.heap.stats();
    if (s.inUseBlocks !== this.liveCount) fail(`stats().inUseBlocks is ${s.inUseBlocks}, the model has ${this.liveCount} live blocks`);
    if (s.inUseBytes !== this.usableTotal) {
      fail(`stats().inUseBytes is ${s.inUseBytes}, but the live blocks' usableSize sum to ${this.usableTotal}`);
    }
    if (s.heapHighWater < s.heapBytes) fail(`heapHighWater ${s.heapHighWater} < heapBytes ${s.heapBytes}`);
    if (s.heapBytes > s.maxBytes) fail(`heapBytes ${s.heapBytes} > maxBytes ${s.maxBytes}`);
  }

  /** Frees every live block (checking each). */
  drain(): void {
    for (const b of [...this.sorted]) {
      this.verify(b, b.usable);
      this.heap.free(b.ptr);
      this.remove(b);
    }
  }

  private add(p: number, size: number, alignment: number, seed = (this.nextId * 2654435761) % 255): void {
    const h = this.heap;
    if (!Number.isInteger(p) || p <= 0) fail(`an allocation of ${size} bytes returned ${p}`);
    if (p % 16 !== 0 || p % alignment !== 0) fail(`block ${p} is not aligned to ${Math.max(16, alignment)}`);
    const usable = h.usableSize(p);
    if (usable < size) fail(`usableSize(${p}) = ${usable} < ${size}`);
    if (p + usable > h.byteLength) fail(`block [${p}, ${p + usable}) passes the buffer's end ${h.byteLength}`);
    const b: Block = { id: this.nextId++, ptr: p, size, usable, seed };
    // overlap with the neighbours in address order
    const i = this.lowerBound(p);
    const prev = this.sorted[i - 1];
    const next = this.sorted[i];
    if (prev !== undefined && prev.ptr + prev.usable > p)
      fail(`block [${p}, ${p + usable}) overlaps live block [${prev.ptr}, ${prev.ptr + prev.usable})`);
    if (next !== undefined && p + usable > next.ptr)
      fail(`block [${p}, ${p + usable}) overlaps live block [${next.ptr}, ${next.ptr + next.usable})`);
    if (next !== undefined && next.ptr === p) fail(`pointer ${p} handed out twice`);
    this.sorted.splice(i, 0, b);
    this.live.set(b.id, b);
    this.idPos.set(b.id, this.ids.length);
    this.ids.push(b.id);
    this.usableTotal += usable;
    if (this.ids.length > this.peakLive) this.peakLive = this.ids.length;
    if (this.usableTotal > this.peakUsable) this.peakUsable = this.usableTotal;
    this.write(b);
  }

  private remove(b: Block): void {
    const i = this.lowerBound(b.ptr);
    if (this.sorted[i] !== b) fail(`internal: block ${b.ptr} not found`);
    this.sorted.splice(i, 1);
    this.live.delete(b.id);
    const pos = this.idPos.get(b.id)!;
    const last = this.ids.pop()!;
    if (last !== b.id) {
      this.ids[pos] = last;
      this.idPos.set(last, pos);
    }
    this.idPos.delete(b.id);
    this.usableTotal -= b.usable;
  }

  private lowerBound(p: number): number {
    return lowerBound(this.sorted, p);
  }

  /** Writes the block's pattern over its usable bytes (all of them, or samples for big blocks). */
  private write(b: Block): void {
    writeBytePattern(this.heap.u8, b.ptr, b.usable, b.seed, FULL_PATTERN);
  }

  /** Checks the pattern written by write() at the offsets below `limit`. */
  verify(b: Block, limit: number): void {
    const i = firstWrongByte(this.heap.u8, b.ptr, b.usable, b.seed, limit, FULL_PATTERN);
    if (i >= 0)
      fail(
        `block #${b.id} at ${b.ptr} (${b.size} B, usable ${b.usable}): byte ${i} is ${this.heap.u8[b.ptr + i]}, expected ${bytePat(b.seed, i)} (overwritten)`,
      );
  }

  private expectZero(p: number, n: number): void {
    const i32 = this.heap.i32;
    const u8 = this.heap.u8;
    const w0 = p >>> 2;
    const w1 = (p + n) >>> 2;
    for (let w = w0; w < w1; w++) if (i32[w] !== 0) fail(`calloc block ${p}: word at byte ${w * 4 - p} of ${n} is not zero`);
    for (let i = w1 * 4; i < p + n; i++) if (u8[i] !== 0) fail(`calloc block ${p}: byte ${i - p} of ${n} is not zero`);
  }
}

// ------------------------------------------------------------------ seeded random operations

export const MAX_SIZE = 3 << 20;

/** 60% 0..1 KiB, 10% a class size -1/+0/+1, 20% 1..32 KiB, 10% 32 KiB..maxSize (log-uniform). */
export function randomSize(r: Rng, maxSize = MAX_SIZE): number {
  const x = r.next();
  if (x < 0.6) return r.int(0, 1024);
  if (x < 0.7) return SIZE_CLASSES[r.int(0, SIZE_CLASSES.length - 1)]! + r.int(-1, 1);
  if (x < 0.9) return r.int(1025, 32768);
  return Math.floor(32769 * (maxSize / 32769) ** r.next());
}

/** Powers of two 1 .. 1 MiB, mostly up to a page. */
export function randomAlignment(r: Rng): number {
  return 2 ** (r.next() < 0.8 ? r.int(0, 12) : r.int(13, 20));
}

export function randomOp(r: Rng, m: Model, liveBytes: number, maxLive: number, maxSize = MAX_SIZE): Op {
  const pick = r.int(0, 0x7fffffff);
  if (m.usableTotal > liveBytes || m.liveCount > maxLive) return { kind: 'free', pick };
  const x = r.next();
  if (x < 0.3) return { kind: 'malloc', size: randomSize(r, maxSize) };
  if (x < 0.4) {
    const count = r.int(0, 16);
    const total = randomSize(r, maxSize);
    return { kind: 'calloc', count, size: count === 0 ? total : Math.floor(total / count) };
  }
  if (x < 0.55) return { kind: 'realloc', pick, size: r.next() < 0.03 ? 0 : randomSize(r, maxSize) };
  if (x < 0.65) return { kind: 'aligned', alignment: randomAlignment(r), size: randomSize(r, maxSize) };
  return { kind: 'free', pick };
}

/** Bytes a request needs in the worst case (alignment padding included). */
export function footprint(op: Op): number {
  switch (op.kind) {
    case 'calloc':
      return op.count * op.size;
    case 'aligned':
      return op.size + op.alignment;
    case 'free':
      return 0;
    default:
      return op.size;
  }
}

export interface RunOptions {
  /** which build's heap (default release) */
  build?: 'release' | 'debug' | 'secure';
  seed: number;
  ops: number;
  /** Heap cap; undefined = the default (1 GiB), where no allocation may fail. */
  maxBytes?: number;
  checkEvery: number;
  /** The driver frees while live usable bytes exceed this (uncapped runs). */
  liveBytes: number;
  maxLive: number;
  /** Largest request size. */
  maxSize?: number;
  /** Capped runs: every this many operations, free everything and retry the last failed request. */
  drainEvery?: number;
  /** The heap's memory (default 'shared'); 'wasm' is a non-shared WebAssembly.Memory, whose buffer is replaced on growth. */
  memory?: 'shared' | 'array' | 'wasm';
}

export interface RunSummary {
  ops: number;
  counts: Record<Op['kind'], number>;
  failures: number;
  recoveries: number;
  peakLive: number;
  peakUsableBytes: number;
  heapHighWater: number;
  ms: number;
}

/**
 * Runs `ops` random operations against a fresh heap. Capped runs also check recovery: after
 * everything is freed, a request that failed (if it needs at most half the heap) must succeed.
 */
export function runRandom(o: RunOptions): RunSummary {
  const t0 = performance.now();
  const capped = o.maxBytes !== undefined;
  const heap = (o.build === 'debug' ? createDebugHeap : createHeap)({
    ...(o.build === 'secure' ? { secure: true } : {}),
    ...(capped ? { maxBytes: o.maxBytes } : {}),
    memory: o.memory === 'wasm' ? new WebAssembly.Memory({ initial: 1, maximum: 16384 }) : (o.memory ?? 'shared'),
  });
  const m = new Model(heap, { checkEvery: o.checkEvery, capped });
  const r = new Rng(o.seed);
  const recoverable = capped ? o.maxBytes! / 2 - 131072 : 0;
  let lastFailed: Op | undefined;
  let recoveries = 0;
  for (let i = 0; i < o.ops; i++) {
    const op = randomOp(r, m, o.liveBytes, o.maxLive, o.maxSize);
    let failed: Op | undefined;
    try {
      failed = m.apply(op);
    } catch (e) {
      throw new Error(`seed ${o.seed}, operation ${i} (${describeOp(op)}, ${m.liveCount} live): ${(e as Error).message}`, { cause: e });
    }
    if (failed !== undefined && footprint(failed) <= recoverable) lastFailed = failed;
    if (capped && o.drainEvery !== undefined && (i + 1) % o.drainEvery === 0 && lastFailed !== undefined) {
      recoveries++;
      recover(m, lastFailed, `seed ${o.seed}, after operation ${i}`);
      lastFailed = undefined;
    }
  }
  m.audit();
  m.drain();
  m.audit();
  return {
    ops: m.ops,
    counts: { ...m.counts },
    failures: m.failures,
    recoveries,
    peakLive: m.peakLive,
    peakUsableBytes: m.peakUsable,
    heapHighWater: heap.stats().heapHighWater,
    ms: performance.now() - t0,
  };
}

/** Frees every block, then retries a request that failed: on an empty heap it must succeed. */
export function recover(m: Model, failed: Op, where: string): void {
  m.drain();
  m.audit();
  const retry: Op = failed.kind === 'realloc' ? { kind: 'malloc', size: failed.size } : failed;
  const again = m.apply(retry);
  if (again !== undefined) {
    const s = m.heap.stats();
    fail(
      `${where}: ${describeOp(retry)} still returns 0 after every block was freed ` +
        `(heapBytes ${s.heapBytes}, maxBytes ${s.maxBytes}, free page bytes ${s.freeBytes.pages})`,
    );
  }
  m.drain();
  m.audit();
}

/** Index of the first block in `sorted` (ascending by ptr) whose ptr is >= p. */
export function lowerBound(sorted: readonly { ptr: number }[], p: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]!.ptr < p) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
