// Workload T of workloads.md: allocation traces of real programs (../shared/traces/*.trace.gz,
// format in ../shared/traces/FORMAT.md). This file has the untimed parts (parse, analysis) and the
// timed replay loop; the allocators it replays on are bench/peers/trace/. The driver is
// bench/trace/run.ts, one process per run is bench/trace/child.ts; multi-thread traces:
// bench/trace/mt/.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { constants, gunzipSync } from 'node:zlib';

export const OP_A = 0; // malloc
export const OP_C = 1; // calloc
export const OP_M = 2; // aligned allocation
export const OP_R = 3; // realloc
export const OP_F = 4; // free
export const OP_NAMES = ['a', 'c', 'm', 'r', 'f'];

/** Where the traces live (../shared/traces, or HAKMEM_TRACES); the project runs without them (the replay is then skipped). */
export { TRACE_DIR, traceDirPresent } from '../lib/paths.ts';

export interface TraceHeader {
  name: string;
  ops: number;
  peak: number;
  threads: number;
}

/**
 * A trace's header line only, untimed: gunzips the file's first 4 KiB (the header is its first
 * line); undefined when that line is not a trace header.
 */
export function readTraceHeader(file: string): TraceHeader | undefined {
  const prefix = Buffer.alloc(4096);
  const fd = openSync(file, 'r');
  let n: number;
  try {
    n = readSync(fd, prefix, 0, prefix.length, 0);
  } finally {
    closeSync(fd);
  }
  const head = gunzipSync(prefix.subarray(0, n), { finishFlush: constants.Z_SYNC_FLUSH }).toString('latin1');
  const m = /^# trace (\S+) ops=(\d+) peak_live_bytes=(\d+) threads=(\d+)/.exec(head);
  return m ? { name: m[1], ops: +m[2], peak: +m[3], threads: +m[4] } : undefined;
}

export interface Trace {
  file: string;
  name: string;
  /** number of op lines (from the header; checked against the file) */
  ops: number;
  peakLiveBytes: number;
  threads: number;
  /** number of ids created (`# meta ids=`); ids are 0..ids-1 */
  ids: number;
  kind: Uint8Array;
  tid: Int32Array;
  /** a/c/m: the created id; r: the old id; f: the ended id */
  id: Int32Array;
  /** r: the new id; -1 otherwise */
  newid: Int32Array;
  /** a/c/m/r: the size; 0 for f */
  size: Float64Array;
  /** m: the alignment; 0 otherwise */
  align: Int32Array;
  /** ops of each kind (a, c, m, r, f) */
  counts: number[];
}

/** Reads a .trace.gz: gunzip, then a byte-level parser (no per-line strings). Untimed. */
export function loadTrace(file: string): Trace {
  const buf = gunzipSync(readFileSync(file));
  const n = buf.length;
  let i = 0;
  const lineAt = (at: number): [string, number] => {
    let e = buf.indexOf(10, at);
    if (e < 0) e = n;
    return [buf.toString('latin1', at, e), e + 1];
  };
  const [header, afterHeader] = lineAt(0);
  i = afterHeader;
  const hm = /^# trace (\S+) ops=(\d+) peak_live_bytes=(\d+) threads=(\d+)\s*$/.exec(header);
  if (!hm) throw new Error(`${file}: bad header line: ${header.slice(0, 120)}`);
  const ops = Number(hm[2]);
  let ids = -1;
  const kind = new Uint8Array(ops);
  const tid = new Int32Array(ops);
  const id = new Int32Array(ops);
  const newid = new Int32Array(ops).fill(-1);
  const size = new Float64Array(ops);
  const align = new Int32Array(ops);
  const counts = [0, 0, 0, 0, 0];
  let k = 0;
  let nextId = 0; // ids are created in order 0, 1, 2, ...: checked
  const bad = (what: string): never => {
    const [l] = lineAt(lineStart);
    throw new Error(`${file}: op ${k} (byte ${lineStart}): ${what}: "${l.slice(0, 80)}"`);
  };
  let lineStart = i;
  // reads one space then an unsigned decimal integer
  const num = (): number => {
    if (buf[i] !== 32) bad('expected a space');
    i++;
    let v = 0;
    let d = 0;
    for (let c = buf[i]; c >= 48 && c <= 57; c = buf[++i]) {
      v = v * 10 + (c - 48);
      d++;
    }
    if (d === 0) bad('expected a number');
    return v;
  };
  while (i < n) {
    lineStart = i;
    const c = buf[i];
    if (c === 35 /* # */) {
      let l: string;
      [l, i] = lineAt(i);
      const mm = /^# meta .*\bids=(\d+)/.exec(l);
      if (mm) ids = Number(mm[1]);
      continue;
    }
    if (c === 10) {
      i++;
      continue;
    }
    if (k >= ops) bad(`more op lines than ops=${ops}`);
    i++;
    let op: number;
    switch (c) {
      case 97:
        op = OP_A;
        break; // a
      case 99:
        op = OP_C;
        break; // c
      case 109:
        op = OP_M;
        break; // m
      case 114:
        op = OP_R;
        break; // r
      case 102:
        op = OP_F;
        break; // f
      default:
        bad('unknown op');
    }
    kind[k] = op!;
    tid[k] = num();
    id[k] = num();
    if (op! === OP_F) {
      // nothing more
    } else if (op! === OP_R) {
      newid[k] = num();
      size[k] = num();
      if (newid[k] !== nextId++) bad('new id out of order');
    } else {
      size[k] = num();
      if (op! === OP_M) align[k] = num();
      if (id[k] !== nextId++) bad('new id out of order');
    }
    if (buf[i] !== 10 && i < n) bad('trailing characters');
    i++;
    counts[op!]++;
    k++;
  }
  if (k !== ops) throw new Error(`${file}: ${k} op lines, header says ops=${ops}`);
  if (ids < 0) ids = nextId;
  if (ids !== nextId) throw new Error(`${file}: meta ids=${ids} but ${nextId} ids created`);
  return {
    file,
    name: hm[1],
    ops,
    peakLiveBytes: Number(hm[3]),
    threads: Number(hm[4]),
    ids,
    kind,
    tid,
    id,
    newid,
    size,
    align,
    counts,
  };
}

// ---- untimed analysis --------------------------------------------------------------------------

export interface TraceAnalysis {
  /** largest request the emulated floor sees (aligned over-allocation included) */
  floorMaxSize: number;
  /** exact bytes the floor bumps for the first `upTo` ops: sum over its 16-byte classes of
   *  (peak live blocks of the class) x (16-byte header + class size), emulation included */
  floorCapacity: number;
  /** recomputed peak of live requested bytes (checked against the header) */
  peakLiveBytes: number;
  /** any `m` op with alignment > 16 */
  hasAligned: boolean;
  maxSize: number;
  maxAlign: number;
}

/** The floor's request for an op (see EmulatedFloor): size 0 -> 1; aligned: size + align - 16. */
function floorRequest(size: number, align: number): number {
  const s = size === 0 ? 1 : size;
  return align > 16 ? s + align - 16 : s;
}

export function analyzeTrace(t: Trace, upTo = t.ops): TraceAnalysis {
  const reqOf = new Float64Array(t.ids); // the floor request of each id
  const szOf = new Float64Array(t.ids);
  const live = new Map<number, number>(); // class -> live blocks
  const peak = new Map<number, number>();
  let maxReq = 0;
  let liveBytes = 0;
  let peakBytes = 0;
  let hasAligned = false;
  let maxSize = 0;
  let maxAlign = 0;
  const inc = (req: number) => {
    const c = Math.ceil(req / 16);
    const v = (live.get(c) ?? 0) + 1;
    live.set(c, v);
    if (v > (peak.get(c) ?? 0)) peak.set(c, v);
    if (req > maxReq) maxReq = req;
  };
  const dec = (req: number) => {
    const c = Math.ceil(req / 16);
    live.set(c, live.get(c)! - 1);
  };
  for (let i = 0; i < upTo; i++) {
    const k = t.kind[i];
    const size = t.size[i];
    if (k === OP_F) {
      const id = t.id[i];
      dec(reqOf[id]);
      liveBytes -= szOf[id];
    } else if (k === OP_R) {
      const id = t.id[i];
      const nid = t.newid[i];
      reqOf[nid] = floorRequest(size, 0);
      szOf[nid] = size;
      inc(reqOf[nid]); // malloc before free: both live at once
      dec(reqOf[id]);
      liveBytes += size - szOf[id];
    } else {
      const id = t.id[i];
      const al = k === OP_M ? t.align[i] : 0;
      if (al > 16) hasAligned = true;
      if (al > maxAlign) maxAlign = al;
      reqOf[id] = floorRequest(size, al);
      szOf[id] = size;
      inc(reqOf[id]);
      liveBytes += size;
    }
    if (size > maxSize) maxSize = size;
    if (liveBytes > peakBytes) peakBytes = liveBytes;
  }
  let cap = 0;
  for (const [c, p] of peak) cap += p * (16 + 16 * c);
  return { floorMaxSize: maxReq, floorCapacity: cap, peakLiveBytes: peakBytes, hasAligned, maxSize, maxAlign };
}

// ---- what the replay needs of an allocator ----------------------------------------------------

/**
 * What the replay needs. hakmem's Heap is one as it is (its realloc ignores the third argument);
 * offset allocators with only malloc/free get EmulatedAllocator (bench/peers/trace/adapters.ts).
 */
export interface TraceAlloc {
  readonly u8: Uint8Array;
  malloc(size: number): number;
  calloc(count: number, size: number): number;
  alignedAlloc(alignment: number, size: number): number;
  /** `oldSize`: the requested size of the block at ptr (the replay keeps a size table by id) */
  realloc(ptr: number, size: number, oldSize: number): number;
  free(ptr: number): void;
}

// ---- the timed loop ----------------------------------------------------------------------------

/** The byte pattern of block `id`, written at its first and last byte (also checked by bench/trace/mt/core.ts). */
export function pat(id: number): number {
  return (id ^ (id >>> 8) ^ (id >>> 16) ^ 0x5a) & 255;
}

export class ReplayError extends Error {
  constructor(
    message: string,
    readonly op: number,
  ) {
    super(message);
  }
}

/** The op arrays the replay reads (a Trace, or the multi-thread replay's shared copy of one). */
export type TraceOps = Pick<Trace, 'name' | 'kind' | 'tid' | 'id' | 'newid' | 'size' | 'align'>;

function failAt(t: TraceOps, i: number, what: string): never {
  const k = t.kind[i];
  const line = `${OP_NAMES[k]} ${t.tid[i]} ${t.id[i]}${k === OP_R ? ' ' + t.newid[i] : ''}${k !== OP_F ? ' ' + t.size[i] : ''}${k === OP_M ? ' ' + t.align[i] : ''}`;
  throw new ReplayError(`${t.name}: op ${i} ("${line}"): ${what}`, i);
}

/**
 * Replays ops [0, n) of t on a fresh allocator. `ptrs` and `sizes` are indexed by id (all zero on
 * entry). User form (workloads.md U): block memory is read and written through the allocator's own
 * view getter, `a.u8[...]`, on every access, never a view cached here. Verifies contents (pattern at the first and last byte of each block, checked at free and
 * realloc; calloc blocks checked zero at both ends; aligned pointers checked). Returns the number
 * of verification failures. Throws ReplayError if an allocation returns 0.
 */
export function replay(a: TraceAlloc, t: Trace, ptrs: Int32Array | Float64Array, sizes: Float64Array, n: number): number {
  return replayRange(a, t, ptrs, sizes, 0, n);
}

/**
 * replay() of ops [s, e) only: the multi-thread replay (bench/trace/mt/worker.ts) runs each
 * thread's stretches of consecutive ops with it, blocks made by other threads included.
 */
export function replayRange(
  a: TraceAlloc,
  t: TraceOps,
  ptrs: Int32Array | Float64Array,
  sizes: Float64Array,
  s: number,
  e: number,
): number {
  const K = t.kind;
  const I = t.id;
  const S = t.size;
  let bad = 0;
  for (let i = s; i < e; i++) {
    const k = K[i];
    if (k === OP_F) {
      const id = I[i];
      const p = ptrs[id];
      const sz = sizes[id];
      if (sz > 0) {
        const v = pat(id);
        if (a.u8[p] !== v || a.u8[p + sz - 1] !== v) bad++;
      }
      a.free(p);
    } else if (k === OP_A) {
      const id = I[i];
      const sz = S[i];
      const p = a.malloc(sz);
      if (p === 0) failAt(t, i, 'malloc returned 0');
      if (sz > 0) {
        const v = pat(id);
        a.u8[p] = v;
        a.u8[p + sz - 1] = v;
      }
      ptrs[id] = p;
      sizes[id] = sz;
    } else if (k === OP_R) {
      const id = I[i];
      const nid = t.newid[i];
      const p = ptrs[id];
      const old = sizes[id];
      const sz = S[i];
      const v = pat(id);
      if (old > 0 && (a.u8[p] !== v || a.u8[p + old - 1] !== v)) bad++;
      const q = a.realloc(p, sz, old);
      if (q === 0) failAt(t, i, 'realloc returned 0');
      // the first min(old, new) bytes are kept: check the first, and the old last byte if it grew
      if (old > 0 && (a.u8[q] !== v || (old <= sz && a.u8[q + old - 1] !== v))) bad++;
      const w = pat(nid);
      a.u8[q] = w;
      a.u8[q + sz - 1] = w;
      ptrs[nid] = q;
      sizes[nid] = sz;
    } else if (k === OP_C) {
      const id = I[i];
      const sz = S[i];
      const p = a.calloc(1, sz);
      if (p === 0) failAt(t, i, 'calloc returned 0');
      if (sz > 0) {
        if (a.u8[p] !== 0 || a.u8[p + sz - 1] !== 0) bad++;
        const v = pat(id);
        a.u8[p] = v;
        a.u8[p + sz - 1] = v;
      }
      ptrs[id] = p;
      sizes[id] = sz;
    } else {
      const id = I[i];
      const sz = S[i];
      const al = t.align[i];
      const p = a.alignedAlloc(al, sz);
      if (p === 0) failAt(t, i, 'alignedAlloc returned 0');
      if ((p & (al - 1)) !== 0) bad++;
      if (sz > 0) {
        const v = pat(id);
        a.u8[p] = v;
        a.u8[p + sz - 1] = v;
      }
      ptrs[id] = p;
      sizes[id] = sz;
    }
  }
  return bad;
}
