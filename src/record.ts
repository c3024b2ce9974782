/**
 * hakmem/record: records a program's heap operations as an allocation trace (the `*.trace.gz`
 * format of ../shared/traces/FORMAT.md), so that its allocation pattern can be replayed against
 * every allocator (`hakmem replay FILE.trace.gz`). Node only (it writes files); the main `hakmem`
 * entry does not import it.
 *
 * ```ts
 * import { createHeap, attachHeap } from 'hakmem';
 * import { recordTrace } from 'hakmem/record';
 * const h = recordTrace(createHeap(), 'my-program.trace.gz'); // the Heap API, every call recorded
 * worker.postMessage({ heap: h.handle, trace: h.traceHandle });
 * //   in the worker: const w = recordTrace(attachHeap(data.heap), data.trace); ... w.close();
 * h.close(); // after the workers closed: merges every thread's events in global order, writes the file
 * ```
 *
 * Design. Every recorder (one per thread, each wrapping that thread's own Heap) appends fixed-size
 * binary events to its own part file (`FILE.partN`, spilled in 512 KiB chunks). Each event carries
 * a global sequence number from one Atomics counter in a small SharedArrayBuffer that the first
 * recorder creates and `traceHandle` passes along. The number is taken after an allocation
 * returns and before a free starts, so a block's creation is numbered before any thread can free
 * it, and a free before the address can be handed out again; a realloc takes one number before
 * (where the old block ends) and one after (where the new one begins). The first recorder's
 * close() waits until every other recorder has closed, then walks the events in sequence order,
 * names blocks by id (mapping addresses to ids as it goes), numbers threads in order of their
 * first op, computes peak_live_bytes, and writes the gzip file.
 */
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Heap, HeapHandle, HeapStats, TypedArrayConstructor } from './index.ts';

/** What another thread passes to recordTrace() to join a recording (structured-cloneable). */
export interface TraceHandle {
  readonly hakmemTrace: 1;
  readonly file: string;
  readonly shared: SharedArrayBuffer;
}

export interface RecordOptions {
  /** the trace's name in its header (default: the file name without `.trace.gz`) */
  name?: string;
  /** a `# note` line */
  note?: string;
}

export interface CloseOptions {
  /** first recorder only: how long to wait for the other recorders to close (default 60 s) */
  timeoutMs?: number;
  /** first recorder only: write the trace even if some recorders never closed (their unflushed events are lost) */
  partial?: boolean;
}

/** What close() of the first recorder wrote. */
export interface TraceSummary {
  file: string;
  name: string;
  /** op lines written */
  ops: number;
  peakLiveBytes: number;
  peakLiveBlocks: number;
  threads: number;
  ids: number;
  liveAtEndBlocks: number;
  liveAtEndBytes: number;
  /** hakmem thread id (Heap.threadId) of each trace thread id */
  heapThreadIds: number[];
  /** events dropped: frees and reallocs of blocks allocated before recording (or outside it), failed allocations, free(0) */
  freeUnknown: number;
  reallocUnknown: number;
  failedAlloc: number;
  freeNull: number;
  inferredFree: number;
  /** recorders that had not closed (partial: true) */
  openRecorders: number;
}

// shared words (Int32Array over TraceHandle.shared)
const W_SEQ = 0; // next sequence number (used as unsigned)
const W_NEXT = 1; // next recorder index
const W_OPEN = 2; // recorders not yet closed
const W_DONE = 3; // 1 once the first recorder has written the file
const W_TID = 16; // + recorder index: that recorder's Heap.threadId
const MAX_RECORDERS = 1008;
const SHARED_BYTES = (W_TID + MAX_RECORDERS) * 4;

// events: 8 float64 fields
const F = 8;
const E_KIND = 0; // EV_*
const E_SEQ = 1; // sequence number (a realloc: where the new block begins)
const E_SEQ0 = 2; // realloc: where the old block ends
const E_PTR = 3; // a/c/m: the block; f: the block; r: the old block
const E_PTR2 = 4; // r: the new block
const E_SIZE = 5;
const E_ALIGN = 6;
const E_COUNTS = 7; // unused by the trace; the first event of a chunk: nothing
const EV_A = 0;
const EV_C = 1;
const EV_M = 2;
const EV_R = 3;
const EV_F = 4;
const EV_RZ = 5; // realloc(p, 0): a free at E_SEQ0 == E_SEQ
const CHUNK_EVENTS = 8192;

const partFile = (file: string, index: number) => `${file}.part${index}`;

/**
 * A Heap whose malloc, calloc, realloc, alignedAlloc and free are recorded; every other member
 * forwards to the wrapped heap (`.heap`). Calls made on the wrapped heap directly are not recorded.
 */
export class RecordingHeap {
  /** the wrapped heap */
  readonly heap: Heap;
  /** pass this (with heap.handle) to a worker, which calls recordTrace(attachHeap(handle), traceHandle) */
  readonly traceHandle: TraceHandle;
  /** this recorder's index; 0 = the first recorder, which writes the file */
  readonly recorder: number;
  private readonly seq: Uint32Array;
  private readonly words: Int32Array;
  private readonly name: string;
  private readonly note: string | undefined;
  private buf = new Float64Array(CHUNK_EVENTS * F);
  private n = 0;
  private fd: number;
  private on = true;
  private freeNull = 0;
  private failedAlloc = 0;

  /** @internal use recordTrace() */
  constructor(heap: Heap, target: string | TraceHandle, options: RecordOptions = {}) {
    this.heap = heap;
    let shared: SharedArrayBuffer;
    let file: string;
    if (typeof target === 'string') {
      file = target;
      shared = new SharedArrayBuffer(SHARED_BYTES);
    } else {
      if (typeof target !== 'object' || target === null || target.hakmemTrace !== 1 || !(target.shared instanceof SharedArrayBuffer)) {
        throw new TypeError('hakmem/record: recordTrace(heap, target): target must be a file name or a traceHandle of another recorder');
      }
      file = target.file;
      shared = target.shared;
    }
    this.words = new Int32Array(shared);
    this.seq = new Uint32Array(shared);
    if (Atomics.load(this.words, W_DONE) !== 0) throw new Error(`hakmem/record: the recording of ${file} is already written`);
    const index = Atomics.add(this.words, W_NEXT, 1);
    if (index >= MAX_RECORDERS) throw new RangeError(`hakmem/record: more than ${MAX_RECORDERS} recorders in one recording`);
    if (typeof target === 'string' ? index !== 0 : index === 0) throw new Error('hakmem/record: internal error: recorder index');
    this.recorder = index;
    this.traceHandle = { hakmemTrace: 1, file, shared };
    this.name = options.name ?? basename(file).replace(/\.trace\.gz$|\.gz$/, '');
    this.note = options.note;
    Atomics.store(this.words, W_TID + index, heap.threadId);
    this.fd = openSync(partFile(file, index), 'w');
    Atomics.add(this.words, W_OPEN, 1);
  }

  // ---------------------------------------------------------------- recorded calls

  private next(): number {
    const s = Atomics.add(this.seq, W_SEQ, 1);
    if (s === 0xffffffff) throw new RangeError('hakmem/record: more than 2^32 - 1 events in one recording');
    return s;
  }

  private put(kind: number, seq: number, seq0: number, ptr: number, ptr2: number, size: number, align: number): void {
    let b = this.buf;
    let o = this.n * F;
    if (o === b.length) {
      this.flush();
      b = this.buf;
      o = 0;
    }
    b[o + E_KIND] = kind;
    b[o + E_SEQ] = seq;
    b[o + E_SEQ0] = seq0;
    b[o + E_PTR] = ptr;
    b[o + E_PTR2] = ptr2;
    b[o + E_SIZE] = size;
    b[o + E_ALIGN] = align;
    b[o + E_COUNTS] = 0;
    this.n++;
  }

  private flush(): void {
    if (this.n > 0) writeSync(this.fd, new Uint8Array(this.buf.buffer, 0, this.n * F * 8));
    this.n = 0;
  }

  malloc(size: number): number {
    const p = this.heap.malloc(size);
    if (this.on) {
      if (p === 0) this.failedAlloc++;
      else this.put(EV_A, this.next(), 0, p, 0, size, 0);
    }
    return p;
  }

  calloc(count: number, size: number): number {
    const p = this.heap.calloc(count, size);
    if (this.on) {
      if (p === 0) this.failedAlloc++;
      else this.put(EV_C, this.next(), 0, p, 0, count * size, 0);
    }
    return p;
  }

  alignedAlloc(alignment: number, size: number): number {
    const p = this.heap.alignedAlloc(alignment, size);
    if (this.on) {
      if (p === 0) this.failedAlloc++;
      else this.put(EV_M, this.next(), 0, p, 0, size, alignment);
    }
    return p;
  }

  realloc(ptr: number, size: number): number {
    if (!this.on) return this.heap.realloc(ptr, size);
    if (ptr === 0) return this.malloc(size);
    const s0 = this.next();
    const q = this.heap.realloc(ptr, size);
    if (size === 0) this.put(EV_RZ, s0, s0, ptr, 0, 0, 0);
    else if (q === 0)
      this.failedAlloc++; // ptr untouched: nothing happened
    else this.put(EV_R, this.next(), s0, ptr, q, size, 0);
    return q;
  }

  free(arg: number | ArrayBufferView): void {
    const ptr =
      typeof arg === 'object' && arg !== null && ArrayBuffer.isView(arg) && arg.buffer === this.heap.buffer
        ? arg.byteOffset
        : (arg as number);
    if (!this.on) return this.heap.free(ptr);
    if (ptr === 0) {
      this.freeNull++;
      return this.heap.free(ptr);
    }
    const s = this.next();
    this.heap.free(ptr); // throws on a bad pointer: then nothing is recorded
    this.put(EV_F, s, 0, ptr, 0, 0, 0);
  }

  // ---------------------------------------------------------------- forwarded

  /** mallocArray, recorded as the malloc it is. */
  mallocArray<C extends TypedArrayConstructor>(ctor: C, length: number): InstanceType<C> {
    const p = this.malloc(length * ctor.BYTES_PER_ELEMENT);
    if (p === 0) return this.heap.mallocArray(ctor, length); // throws HeapExhaustedError
    return new ctor(this.heap.buffer as ArrayBuffer, p, length) as InstanceType<C>;
  }

  /** callocArray, recorded as the calloc it is. */
  callocArray<C extends TypedArrayConstructor>(ctor: C, length: number): InstanceType<C> {
    const p = this.calloc(length, ctor.BYTES_PER_ELEMENT);
    if (p === 0) return this.heap.callocArray(ctor, length); // throws HeapExhaustedError
    return new ctor(this.heap.buffer as ArrayBuffer, p, length) as InstanceType<C>;
  }

  usableSize(ptr: number): number {
    return this.heap.usableSize(ptr);
  }
  trim(): void {
    this.heap.trim();
  }
  get generation(): number {
    return this.heap.generation;
  }
  get threadToken(): number {
    return this.heap.threadToken;
  }
  array<C extends TypedArrayConstructor>(ctor: C, ptr: number, length: number): InstanceType<C> {
    return this.heap.array(ctor, ptr, length);
  }
  stats(): HeapStats {
    return this.heap.stats();
  }
  check(): void {
    this.heap.check();
  }
  get buffer(): ArrayBufferLike {
    return this.heap.buffer;
  }
  get threadId(): number {
    return this.heap.threadId;
  }
  get handle(): HeapHandle {
    return this.heap.handle;
  }
  reclaimThread(threadToken: number): boolean {
    return this.heap.reclaimThread(threadToken);
  }
  get u8(): Uint8Array {
    return this.heap.u8;
  }
  get i8(): Int8Array {
    return this.heap.i8;
  }
  get u16(): Uint16Array {
    return this.heap.u16;
  }
  get i16(): Int16Array {
    return this.heap.i16;
  }
  get u32(): Uint32Array {
    return this.heap.u32;
  }
  get i32(): Int32Array {
    return this.heap.i32;
  }
  get f32(): Float32Array {
    return this.heap.f32;
  }
  get f64(): Float64Array {
    return this.heap.f64;
  }
  get i64(): BigInt64Array {
    return this.heap.i64;
  }
  get u64(): BigUint64Array {
    return this.heap.u64;
  }

  /** Closes this recorder (unless it is the first one, which must close() last to write the file), then detaches the heap. */
  detach(): void {
    if (this.recorder !== 0 && this.on) this.close();
    this.heap.detach();
  }

  // ---------------------------------------------------------------- closing

  /** Whether this recorder still records. */
  get recording(): boolean {
    return this.on;
  }

  /**
   * Stops recording on this thread (the wrapper keeps working, unrecorded). On a joined recorder
   * this flushes its events and returns undefined. On the first recorder (the one given a file
   * name) it waits for every other recorder to close, then writes the trace and returns what it
   * wrote.
   */
  close(options: CloseOptions = {}): TraceSummary | undefined {
    if (!this.on) throw new Error('hakmem/record: this recorder is already closed');
    this.on = false;
    this.flush();
    closeSync(this.fd);
    // free(0) and failed allocations are only counted: keep them with the events (one extra record)
    writeFileSync(`${partFile(this.traceHandle.file, this.recorder)}.counts`, `${this.freeNull} ${this.failedAlloc}\n`);
    Atomics.sub(this.words, W_OPEN, 1);
    Atomics.notify(this.words, W_OPEN);
    if (this.recorder !== 0) return undefined;
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (let open = Atomics.load(this.words, W_OPEN); open !== 0; open = Atomics.load(this.words, W_OPEN)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        if (options.partial) break;
        throw new Error(
          `hakmem/record: ${open} recorder(s) of ${this.traceHandle.file} did not close() within ${options.timeoutMs ?? 60_000} ms; call close() in every worker first (or close({ partial: true }))`,
        );
      }
      Atomics.wait(this.words, W_OPEN, open, Math.min(left, 1000));
    }
    Atomics.store(this.words, W_DONE, 1);
    return writeTrace(this.traceHandle.file, this.name, this.note, this.words);
  }
}

/**
 * Wraps `heap` (this thread's Heap: createHeap() or attachHeap()) so that its allocations and
 * frees are recorded. `target`: a file name starts a recording (this recorder writes the file at
 * close()); another recorder's `traceHandle` joins it from another thread.
 */
export function recordTrace(heap: Heap, target: string | TraceHandle, options?: RecordOptions): RecordingHeap {
  return new RecordingHeap(heap, target, options);
}

// ---------------------------------------------------------------- merging

function writeTrace(file: string, name: string, note: string | undefined, words: Int32Array): TraceSummary {
  const recorders = Atomics.load(words, W_NEXT);
  const seqs = new Uint32Array(words.buffer)[W_SEQ]!;
  const parts: Float64Array[] = [];
  let freeNull = 0;
  let failedAlloc = 0;
  for (let r = 0; r < recorders; r++) {
    const p = partFile(file, r);
    if (existsSync(p)) {
      const b = readFileSync(p);
      const copy = new Uint8Array(b.length - (b.length % (F * 8)));
      copy.set(b.subarray(0, copy.length));
      parts.push(new Float64Array(copy.buffer));
    } else {
      parts.push(new Float64Array(0));
    }
    if (existsSync(`${p}.counts`)) {
      const [fn, fa] = readFileSync(`${p}.counts`, 'latin1').trim().split(' ').map(Number);
      freeNull += fn!;
      failedAlloc += fa!;
    }
  }
  // at[seq] = the event at that number: (recorder, index) packed as 2 * global event index (+1 for a realloc's first number)
  const base: number[] = [];
  let total = 0;
  for (const p of parts) {
    base.push(total);
    total += p.length / F;
  }
  const at = new Float64Array(seqs).fill(-1);
  parts.forEach((p, r) => {
    for (let i = 0; i < p.length; i += F) {
      const g = base[r]! + i / F;
      at[p[i + E_SEQ]!] = 2 * g;
      if (p[i + E_KIND] === EV_R) at[p[i + E_SEQ0]!] = 2 * g + 1;
    }
  });
  const recOf = (g: number) => {
    // the last recorder whose events start at or before g
    let lo = 0;
    let hi = parts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (base[mid]! <= g) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };

  const idOf = new Map<number, number>(); // address -> live id
  const sizeOf: number[] = []; // id -> requested size
  const pendingOld = new Map<number, number>(); // realloc event -> the old id (-1: unknown)
  const denseTid = new Map<number, number>(); // recorder -> trace tid
  const heapThreadIds: number[] = [];
  let nextId = 0;
  let live = 0;
  let liveBlocks = 0;
  let peak = 0;
  let peakBlocks = 0;
  let freeUnknown = 0;
  let reallocUnknown = 0;
  let inferredFree = 0;
  let reallocZero = 0;
  let ops = 0;
  const lines: string[] = [];
  const chunks: Buffer[] = [];
  const emit = (l: string) => {
    lines.push(l);
    ops++;
    if (lines.length === 65536) {
      chunks.push(Buffer.from(lines.join('\n') + '\n', 'latin1'));
      lines.length = 0;
    }
  };
  const tidOf = (r: number) => {
    let t = denseTid.get(r);
    if (t === undefined) {
      denseTid.set(r, (t = denseTid.size));
      heapThreadIds.push(Atomics.load(words, W_TID + r));
    }
    return t;
  };
  // Addresses leave the map where their block ended (a realloc's first number) but live bytes
  // follow the lines written: peak_live_bytes is the file's own (FORMAT.md).
  const create = (tid: number, ptr: number, size: number): number => {
    const old = idOf.get(ptr);
    if (old !== undefined) {
      // the address is live in the trace: a free we did not see (made on the raw heap)
      idOf.delete(ptr);
      emit(`f ${tid} ${old}`);
      ended(old);
      inferredFree++;
    }
    const id = nextId++;
    idOf.set(ptr, id);
    sizeOf[id] = size;
    live += size;
    liveBlocks++;
    return id;
  };
  const ended = (id: number) => {
    live -= sizeOf[id]!;
    liveBlocks--;
  };
  const end = (ptr: number): number => {
    const id = idOf.get(ptr);
    if (id === undefined) return -1;
    idOf.delete(ptr);
    return id;
  };
  for (let s = 0; s < seqs; s++) {
    const code = at[s]!;
    if (code < 0) continue;
    const g = Math.floor(code / 2);
    const r = recOf(g);
    const p = parts[r]!;
    const o = (g - base[r]!) * F;
    const kind = p[o + E_KIND]!;
    const ptr = p[o + E_PTR]!;
    if (kind === EV_R && code % 2 === 1) {
      // a realloc's first number: the old block ends here (its line comes at the second number)
      pendingOld.set(g, end(ptr));
      continue;
    }
    const tid = tidOf(r);
    const size = p[o + E_SIZE]!;
    switch (kind) {
      case EV_A:
        emit(`a ${tid} ${create(tid, ptr, size)} ${size}`);
        break;
      case EV_C:
        emit(`c ${tid} ${create(tid, ptr, size)} ${size}`);
        break;
      case EV_M:
        emit(`m ${tid} ${create(tid, ptr, size)} ${size} ${p[o + E_ALIGN]}`);
        break;
      case EV_F:
      case EV_RZ: {
        if (kind === EV_RZ) reallocZero++;
        const id = end(ptr);
        if (id < 0) freeUnknown++;
        else {
          emit(`f ${tid} ${id}`);
          ended(id);
        }
        break;
      }
      case EV_R: {
        const old = pendingOld.get(g)!;
        pendingOld.delete(g);
        if (old < 0) {
          reallocUnknown++;
          emit(`a ${tid} ${create(tid, p[o + E_PTR2]!, size)} ${size}`);
        } else {
          // the new id is created after the old one ended (both in this line)
          const nid = create(tid, p[o + E_PTR2]!, size);
          emit(`r ${tid} ${old} ${nid} ${size}`);
          ended(old);
        }
        break;
      }
      default:
        throw new Error(`hakmem/record: damaged part file ${partFile(file, r)} (event kind ${kind})`);
    }
    if (live > peak) peak = live;
    if (liveBlocks > peakBlocks) peakBlocks = liveBlocks;
  }
  if (lines.length) chunks.push(Buffer.from(lines.join('\n') + '\n', 'latin1'));
  const threads = denseTid.size;
  const clean = (s: string) => s.replace(/[\r\n]+/g, ' ');
  const head =
    [
      `# trace ${name.replace(/\s+/g, '_') || 'trace'} ops=${ops} peak_live_bytes=${peak} threads=${threads}`,
      `# meta ids=${nextId} peak_live_blocks=${peakBlocks} live_at_end_blocks=${liveBlocks} live_at_end_bytes=${live} ` +
        `raw_records=${total} truncated=0 free_null=${freeNull} free_unknown=${freeUnknown} realloc_unknown=${reallocUnknown} ` +
        `failed_alloc=${failedAlloc} inferred_free=${inferredFree} realloc_zero=${reallocZero} thread_records=${threads} ` +
        `recorder=hakmem/record heap_thread_ids=${heapThreadIds.join(',') || '-'}`,
      `# source exe=${clean(process.execPath)} cmdline=${clean(process.argv.join(' '))}`,
      ...(note ? [`# note ${clean(note)}`] : []),
    ].join('\n') + '\n';
  writeFileSync(file, gzipSync(Buffer.concat([Buffer.from(head, 'latin1'), ...chunks])));
  for (let r = 0; r < recorders; r++) {
    rmSync(partFile(file, r), { force: true });
    rmSync(`${partFile(file, r)}.counts`, { force: true });
  }
  return {
    file,
    name,
    ops,
    peakLiveBytes: peak,
    peakLiveBlocks: peakBlocks,
    threads,
    ids: nextId,
    liveAtEndBlocks: liveBlocks,
    liveAtEndBytes: live,
    heapThreadIds,
    freeUnknown,
    reallocUnknown,
    failedAlloc,
    freeNull,
    inferredFree,
    openRecorders: Atomics.load(words, W_OPEN),
  };
}
