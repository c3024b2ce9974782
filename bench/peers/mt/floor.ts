// The bare multi-thread floor: "the fastest JS can do" for workloads where blocks cross threads
// (workload B, larson; multi-thread traces). Issue 3 measures hakmem's throughput against it.
//
// - 16-byte size classes; every block has a 16-byte header just before the pointer holding its
//   class and its owner (the thread that bumped it), written once: a block never changes class or
//   owner.
// - Per thread and class, an intrusive singly-linked free list, touched by its owner only, with
//   plain loads and stores (the first int32 of a free block holds the next one).
// - Per owner and class, one atomic remote list: a thread freeing a block it does not own pushes
//   it with Atomics.compareExchange; the owner takes the whole list with one Atomics.exchange when
//   its local list for that class is empty (push-only + take-all has no ABA problem).
// - Fresh memory from one shared bump pointer (Atomics.add).
// - No checks (no double-free detection, no bounds), no growth (one fixed SharedArrayBuffer sized
//   by the caller; the bump slow path throws when it is exhausted), no coalescing, no reuse of a
//   detached thread's lists.
//
// Shape mirrors hakmem's multi-thread API: createMtFloor() in the main thread gives its allocator
// and a structured-cloneable handle; attachMtFloor(handle) in a worker gives that thread's own.
//
// Layout (int32 words of the buffer): a header, then local heads [maxThreads][stride], then remote
// heads [maxThreads][stride] (stride = classes rounded up to 16 words = 64 bytes, so no two threads
// share a cache line of heads), then the blocks.

const W_TOP = 0; // bump pointer (byte offset of the next header), Atomics.add
const W_LIMIT = 1; // byte end of the block area
const W_NEXT_TID = 2;
const W_CLASSES = 3;
const W_MAX_THREADS = 4;
const W_STRIDE = 5;
const W_START = 6; // byte offset of the first block header
const HEADS = 16; // word index of thread 0's local heads

export interface MtFloorHandle {
  kind: 'mt-floor';
  buffer: SharedArrayBuffer;
}

export interface MtFloorOptions {
  /** largest request */
  maxSize: number;
  /** bytes for blocks and their headers */
  capacity: number;
  /** threads that may attach over the instance's life (the creator included); default 64 */
  maxThreads?: number;
}

export class MtFloor {
  readonly u8: Uint8Array;
  readonly threadId: number;
  private readonly i32: Int32Array;
  /** word index of this thread's local heads */
  private readonly lh: number;
  /** word index of this thread's remote heads */
  private readonly rh: number;
  /** word index of thread 0's remote heads */
  private readonly rb: number;
  private readonly stride: number;
  private readonly limit: number;

  constructor(buffer: SharedArrayBuffer, tid: number) {
    this.u8 = new Uint8Array(buffer);
    this.i32 = new Int32Array(buffer);
    const maxThreads = this.i32[W_MAX_THREADS];
    if (tid >= maxThreads) throw new Error(`mt-floor: more than ${maxThreads} threads attached`);
    this.threadId = tid;
    this.stride = this.i32[W_STRIDE];
    this.lh = HEADS + tid * this.stride;
    this.rb = HEADS + maxThreads * this.stride;
    this.rh = this.rb + tid * this.stride;
    this.limit = this.i32[W_LIMIT];
  }

  malloc(size: number): number {
    const c = (size + 15) >>> 4;
    const i32 = this.i32;
    const h = this.lh + c;
    const p = i32[h];
    if (p !== 0) {
      i32[h] = i32[p >>> 2];
      return p;
    }
    return this.refill(c);
  }

  /** Local list empty: take the whole remote list of the class, else bump. */
  private refill(c: number): number {
    const i32 = this.i32;
    const r = Atomics.exchange(i32, this.rh + c, 0);
    if (r !== 0) {
      i32[this.lh + c] = i32[r >>> 2];
      return r;
    }
    const sz = 16 + (c << 4);
    const hdr = Atomics.add(i32, W_TOP, sz);
    if (hdr + sz > this.limit) throw new Error(`mt-floor: capacity exhausted (${this.limit} bytes)`);
    i32[hdr >>> 2] = c;
    i32[(hdr >>> 2) + 1] = this.threadId;
    return hdr + 16;
  }

  free(p: number): void {
    const i32 = this.i32;
    const w = (p >>> 2) - 4;
    const c = i32[w];
    const owner = i32[w + 1];
    if (owner === this.threadId) {
      const h = this.lh + c;
      i32[p >>> 2] = i32[h];
      i32[h] = p;
      return;
    }
    this.remoteFree(p, this.rb + owner * this.stride + c);
  }

  private remoteFree(p: number, idx: number): void {
    const i32 = this.i32;
    for (;;) {
      const head = Atomics.load(i32, idx);
      i32[p >>> 2] = head;
      if (Atomics.compareExchange(i32, idx, head, p) === head) return;
    }
  }

  /** Bytes bumped so far (the floor's footprint). */
  highWater(): number {
    return Atomics.load(this.i32, W_TOP) - this.i32[W_START];
  }

  /** Nothing is returned: this thread's lists stay with its id (ids are not reused). */
  detach(): void {}
}

/** A fresh floor; the calling thread is thread 0. */
export function createMtFloor(opts: MtFloorOptions): { floor: MtFloor; handle: MtFloorHandle } {
  const maxThreads = opts.maxThreads ?? 64;
  const classes = ((opts.maxSize + 15) >>> 4) + 1;
  const stride = (classes + 15) & ~15;
  const start = (HEADS + 2 * maxThreads * stride) * 4;
  const bytes = start + opts.capacity;
  if (bytes > 0x7fff0000) throw new Error(`mt-floor: ${bytes} bytes (> 2 GiB)`);
  const buffer = new SharedArrayBuffer(bytes);
  const i32 = new Int32Array(buffer);
  i32[W_TOP] = start;
  i32[W_LIMIT] = bytes;
  i32[W_NEXT_TID] = 1;
  i32[W_CLASSES] = classes;
  i32[W_MAX_THREADS] = maxThreads;
  i32[W_STRIDE] = stride;
  i32[W_START] = start;
  return { floor: new MtFloor(buffer, 0), handle: { kind: 'mt-floor', buffer } };
}

/** This thread's allocator on a floor created elsewhere (a new thread id). */
export function attachMtFloor(handle: MtFloorHandle): MtFloor {
  const i32 = new Int32Array(handle.buffer);
  return new MtFloor(handle.buffer, Atomics.add(i32, W_NEXT_TID, 1));
}
