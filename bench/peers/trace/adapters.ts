// The allocators of the single-thread trace replay (bench/trace/): each as a TraceAlloc
// (bench/trace/core.ts) with its footprint. hakmem's Heap is one as it is; the floor
// (bench/peers/floor.ts) gets calloc / realloc / aligned allocation emulated (EmulatedAllocator,
// also used by the multi-thread floor in bench/trace/mt/worker.ts); the peers built at bench time
// (tlsf, wasm-*, native-*) are bench/peers/trace/built.ts.
import { analyzeTrace, type Trace, type TraceAlloc } from '../../trace/core.ts';
import type { Allocator, CreateOpts } from '../../synthetic/core.ts';

/**
 * calloc / realloc / alignedAlloc emulated on a bare malloc/free offset allocator (16-byte aligned
 * pointers assumed, as the floor's are):
 * - malloc(0) asks for 1 byte (the floor's class 0 would hand out a pointer onto the next header);
 * - calloc = malloc + fill(0);
 * - realloc = malloc(new) + copy min(old, new) bytes + free(old), always moving (old size from the
 *   replay's size table);
 * - alignedAlloc(al > 16) = malloc(size + al - 16), pointer rounded up; a side table indexed by
 *   ptr >>> 4 maps the aligned pointer back to the one to free (created only if the trace has
 *   such ops; free checks it only then).
 */
export class EmulatedAllocator implements TraceAlloc {
  private readonly a: Allocator;
  private readonly base: Int32Array;
  private readonly anyAligned: boolean;
  constructor(a: Allocator, heapBytes: number, anyAligned: boolean) {
    this.a = a;
    this.anyAligned = anyAligned;
    this.base = new Int32Array(anyAligned ? (heapBytes >>> 4) + 1 : 1);
  }
  get u8(): Uint8Array {
    return this.a.u8;
  }
  malloc(size: number): number {
    return this.a.malloc(size === 0 ? 1 : size);
  }
  calloc(count: number, size: number): number {
    const n = count * size;
    const p = this.a.malloc(n === 0 ? 1 : n);
    if (p !== 0) this.a.u8.fill(0, p, p + n);
    return p;
  }
  realloc(ptr: number, size: number, oldSize: number): number {
    const q = this.a.malloc(size);
    if (q === 0) return 0;
    this.a.u8.copyWithin(q, ptr, ptr + Math.min(oldSize, size));
    this.free(ptr);
    return q;
  }
  alignedAlloc(alignment: number, size: number): number {
    if (alignment <= 16) return this.malloc(size);
    const p = this.a.malloc((size === 0 ? 1 : size) + alignment - 16);
    if (p === 0) return 0;
    const q = (p + alignment - 1) & -alignment;
    if (q !== p) this.base[q >>> 4] = p;
    return q;
  }
  free(ptr: number): void {
    if (this.anyAligned) {
      const b = this.base[ptr >>> 4];
      if (b !== 0) {
        this.base[ptr >>> 4] = 0;
        this.a.free(b);
        return;
      }
    }
    this.a.free(ptr);
  }
}

export interface TraceInstance {
  alloc: TraceAlloc;
  highWater(): number;
  /** offsets may reach 2^31: pointer table is a Float64Array */
  wide: boolean;
  /** what was emulated, for the output */
  emulated: string;
  /** optional diagnostics after the run (untimed) */
  diag?(): unknown;
}

/**
 * createHeap options of an allocator spec `hakmem/key=value/key=value` (each value parsed as JSON
 * when it parses, else kept as a string: `hakmem/mode=learning`, `hakmem/secure=true`); undefined
 * when the spec does not name hakmem.
 */
export function hakmemOptions(spec: string): Record<string, unknown> | undefined {
  const [name, ...kv] = spec.split('/');
  if (name !== 'hakmem') return undefined;
  const o: Record<string, unknown> = {};
  for (const s of kv) {
    const i = s.indexOf('=');
    if (i < 1) throw new Error(`allocator ${spec}: "${s}" is not key=value`);
    const v = s.slice(i + 1);
    try {
      o[s.slice(0, i)] = JSON.parse(v);
    } catch {
      o[s.slice(0, i)] = v;
    }
  }
  return o;
}

export async function createInstance(name: string, t: Trace, upTo = t.ops): Promise<TraceInstance> {
  const options = hakmemOptions(name);
  if (options) {
    const { createHeap } = await import('../../../src/index.ts');
    const heap = createHeap(options as Parameters<typeof createHeap>[0]);
    return {
      alloc: heap,
      highWater: () => heap.stats().heapHighWater,
      wide: heap.u8.buffer.maxByteLength > 0x7fffffff,
      emulated: '',
      diag: () => {
        const s = heap.stats();
        return {
          inUseBytes: s.inUseBytes,
          usedPagesBytes: s.usedPagesBytes,
          peakUsedPagesBytes: s.peakUsedPagesBytes,
          heapBytes: s.heapBytes,
          heapHighWater: s.heapHighWater,
          freeBytes: s.freeBytes,
          large: s.large,
          classes: s.classes.filter((c) => c.slabs > 0).map((c) => [c.size, c.slabs, c.inUse, c.free]),
          // what a mode reports about itself, when the build has modes
          config: (s as unknown as Record<string, unknown>).config,
          learning: (s as unknown as Record<string, unknown>).learning,
        };
      },
    };
  }
  if (name === 'floor') {
    const an = analyzeTrace(t, upTo);
    const { peer } = await import('../floor.ts');
    const opts: CreateOpts = { maxSize: an.floorMaxSize, capacity: an.floorCapacity };
    const inst = peer.create(opts);
    const classes = ((opts.maxSize + 15) >>> 4) + 1;
    const start = (classes * 4 + 15) & ~15; // its class-head table, before the heap proper
    const em = new EmulatedAllocator(inst.alloc, inst.alloc.u8.length, an.hasAligned);
    return {
      alloc: em,
      // floor's top minus its class-head table (which is maxSize/4 bytes: 1 int32 per 16-byte class)
      highWater: () => inst.highWater() - start,
      wide: false,
      emulated: 'calloc, realloc (always moves), aligned (over-allocates), malloc(0)->1',
    };
  }
  const ext = await (await import('./built.ts')).traceInstance(name, t); // tlsf
  if (ext) return ext;
  throw new Error(
    `unknown allocator ${name} (trace replay supports hakmem, hakmem/option=value/..., floor, tlsf, wasm-dlmalloc, wasm-emmalloc, native-glibc, native-mimalloc, native-jemalloc)`,
  );
}
