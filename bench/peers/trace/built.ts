// The bench-time-built peers in the trace replayer (bench/trace/run.ts --allocators ...):
// - tlsf, wasm-dlmalloc, wasm-emmalloc: the wasm heap as a TraceAlloc, with the module's own
//   realloc; calloc and aligned allocation use the module's exports when it has them (the C
//   modules), else are emulated (TLSF: calloc = alloc + fill; alignment > 16 by over-allocation,
//   like EmulatedAllocator in bench/peers/trace/adapters.ts);
// - native-glibc, native-mimalloc, native-jemalloc: the C replayer bench/peers/built/replay.c, run
//   by bench/trace/child.ts in place of the JS replay (same checks, same JSON fields).
import type { TraceChildResult } from '../../trace/child.ts';
import type { Trace, TraceAlloc } from '../../trace/core.ts';
import { SkipPeer } from '../built/cache.ts';
import { libVersion, nativeProgram, preloadPath, runNative, type NativeLib } from '../built/native.ts';
import { TlsfHeap, tlsfModule } from '../built/tlsf.ts';
import { wasmCModule, wasmImports } from '../built/wasm-c.ts';
import { WasmHeap } from '../built/wasm-heap.ts';
import type { TraceInstance } from './adapters.ts';

/** TLSF: no calloc or aligned export, both emulated */
class EmulatingWasmTrace implements TraceAlloc {
  readonly malloc: (size: number) => number;
  private readonly h: WasmHeap;
  /** aligned pointer >>> 4 -> the block to free (only when the trace has alignments > 16) */
  private readonly base: Map<number, number> | undefined;

  constructor(h: WasmHeap, anyAligned: boolean) {
    this.h = h;
    this.malloc = h.malloc;
    this.base = anyAligned ? new Map() : undefined;
  }
  get u8(): Uint8Array {
    return this.h.u8;
  }
  calloc(count: number, size: number): number {
    const n = count * size;
    const p = this.h.malloc(n);
    if (p !== 0) this.h.u8.fill(0, p, p + n);
    return p;
  }
  alignedAlloc(alignment: number, size: number): number {
    if (alignment <= 16) return this.h.malloc(size);
    const p = this.h.malloc(size + alignment - 16);
    if (p === 0) return 0;
    const q = (p + alignment - 1) & -alignment;
    if (q !== p) this.base!.set(q, p);
    return q;
  }
  realloc(ptr: number, size: number, oldSize: number): number {
    if (this.base?.has(ptr)) {
      const q = this.h.malloc(size);
      if (q === 0) return 0;
      const u8 = this.h.u8;
      u8.copyWithin(q, ptr, ptr + Math.min(oldSize, size));
      this.free(ptr);
      return q;
    }
    return this.h.realloc(ptr, size);
  }
  free(ptr: number): void {
    if (this.base) {
      const b = this.base.get(ptr);
      if (b !== undefined) {
        this.base.delete(ptr);
        this.h.free(b);
        return;
      }
    }
    this.h.free(ptr);
  }
}

/** The C modules: every call is an export (posix_memalign for alignments > 16). */
class WasmCTrace implements TraceAlloc {
  readonly malloc: (size: number) => number;
  readonly free: (ptr: number) => void;
  private readonly h: WasmHeap;
  private readonly zalloc: (size: number) => number;
  private readonly memalign: (alignment: number, size: number) => number;
  private readonly re: (ptr: number, size: number) => number;

  constructor(h: WasmHeap) {
    this.h = h;
    this.malloc = h.malloc;
    this.free = h.free;
    this.re = h.realloc;
    this.zalloc = h.ex.calloc!;
    this.memalign = h.ex.memalign!;
  }
  get u8(): Uint8Array {
    return this.h.u8;
  }
  calloc(count: number, size: number): number {
    return this.zalloc(count * size);
  }
  alignedAlloc(alignment: number, size: number): number {
    return alignment <= 8 ? this.malloc(size) : this.memalign(alignment, size); // emmalloc aligns malloc to 8 only
  }
  realloc(ptr: number, size: number): number {
    return this.re(ptr, size);
  }
}

/** A TraceInstance for the wasm peers built at bench time, or undefined for other names. */
export async function traceInstance(name: string, t: Trace): Promise<TraceInstance | undefined> {
  if (name === 'tlsf') {
    const h = new TlsfHeap(await tlsfModule());
    let anyAligned = false;
    for (let i = 0; i < t.ops; i++)
      if (t.align[i] > 16) {
        anyAligned = true;
        break;
      }
    return {
      alloc: new EmulatingWasmTrace(h, anyAligned),
      highWater: () => h.highWater(),
      wide: false,
      emulated: anyAligned ? 'calloc (alloc + fill), aligned (over-allocates)' : 'calloc (alloc + fill)',
    };
  }
  if (name === 'wasm-dlmalloc' || name === 'wasm-emmalloc') {
    const { module } = await wasmCModule(name === 'wasm-dlmalloc' ? 'dlmalloc' : 'emmalloc');
    const h = new WasmHeap(module, wasmImports(module));
    return { alloc: new WasmCTrace(h), highWater: () => h.highWater(), wide: false, emulated: '' };
  }
  return undefined;
}

const NATIVE = /^native-(glibc|mimalloc|jemalloc)$/;

export function isNativeTracePeer(name: string): boolean {
  return NATIVE.test(name);
}

/** Replays `file` with the C replayer against the named native allocator (one process). */
export async function replayNative(name: string, file: string, warm = false): Promise<TraceChildResult> {
  const lib = NATIVE.exec(name)![1] as NativeLib;
  const r = runNative(await nativeProgram('replay'), warm ? [file, '--warm'] : [file], lib) as unknown as TraceChildResult;
  return { ...r, alloc: name, emulated: '', diag: { program: 'bench/peers/built/replay.c', allocator: libVersion(lib) } };
}

/**
 * For the trace driver, before any run: why `name` cannot run here (its toolchain or library is
 * missing: the SkipPeer message, with the install command), or undefined. Builds what the peer
 * needs into the cache, so the runs themselves find it built.
 */
export async function tracePeerSkip(name: string): Promise<string | undefined> {
  try {
    if (isNativeTracePeer(name)) {
      preloadPath(NATIVE.exec(name)![1] as NativeLib);
      await nativeProgram('replay');
    } else if (name === 'tlsf') {
      await tlsfModule();
    } else if (name === 'wasm-dlmalloc' || name === 'wasm-emmalloc') {
      await wasmCModule(name === 'wasm-dlmalloc' ? 'dlmalloc' : 'emmalloc');
    }
    return undefined;
  } catch (e) {
    if (e instanceof SkipPeer) return e.message;
    throw e;
  }
}
