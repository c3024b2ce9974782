/**
 * Backing memory: one buffer the heap lives in, and how it grows.
 *
 * - 'shared' (default): a growable SharedArrayBuffer (maxByteLength = the heap's limit).
 * - 'array': a resizable ArrayBuffer.
 * - a WebAssembly.Memory (shared or not): grown in 64 KiB pages; its `buffer` object changes on
 *   growth (a non-shared one detaches the old), so views are rebuilt from `buffer()` afterwards.
 * - a caller's SharedArrayBuffer / ArrayBuffer: grown if it is growable/resizable, else fixed.
 *
 * Growth never moves memory: offsets stay valid. Views are rebuilt by the heap on its slow path.
 */
import { GROW_QUANTUM, H_GEN, H_MAX_END } from './layout.ts';

export type MemoryOption = 'shared' | 'array' | WebAssembly.Memory | SharedArrayBuffer | ArrayBuffer;

const KIND_SAB = 0;
const KIND_AB = 1;
const KIND_WASM = 2;
const KIND_FIXED = 3;

export class Backing {
  private constructor(
    private readonly kind: number,
    private readonly sab: SharedArrayBuffer | null,
    private readonly ab: ArrayBuffer | null,
    private readonly wasm: WebAssembly.Memory | null,
    /** The largest byteLength this backing can ever reach. */
    readonly capacity: number,
  ) {}

  /** Creates or wraps the buffer. `minBytes`: size needed now; `maxBytes`: largest size wanted. */
  static create(memory: MemoryOption, minBytes: number, maxBytes: number): Backing {
    if (memory === 'shared') {
      if (typeof SharedArrayBuffer !== 'function') {
        throw new TypeError(
          "hakmem: memory 'shared' needs SharedArrayBuffer (in browsers: a cross-origin isolated page); use memory: 'array'",
        );
      }
      const sab = new SharedArrayBuffer(minBytes, { maxByteLength: maxBytes });
      return new Backing(KIND_SAB, sab, null, null, maxBytes);
    }
    if (memory === 'array') {
      const ab = new ArrayBuffer(minBytes, { maxByteLength: maxBytes });
      return new Backing(KIND_AB, null, ab, null, maxBytes);
    }
    if (typeof WebAssembly !== 'undefined' && memory instanceof WebAssembly.Memory) {
      return new Backing(KIND_WASM, null, null, memory, maxBytes);
    }
    if (typeof SharedArrayBuffer === 'function' && memory instanceof SharedArrayBuffer) {
      if (memory.growable) return new Backing(KIND_SAB, memory, null, null, Math.min(maxBytes, memory.maxByteLength));
      return new Backing(KIND_FIXED, memory, null, null, Math.min(maxBytes, memory.byteLength));
    }
    if (memory instanceof ArrayBuffer) {
      if (memory.resizable) return new Backing(KIND_AB, null, memory, null, Math.min(maxBytes, memory.maxByteLength));
      return new Backing(KIND_FIXED, null, memory, null, Math.min(maxBytes, memory.byteLength));
    }
    throw new TypeError(`hakmem: option memory must be 'shared', 'array', a WebAssembly.Memory, a SharedArrayBuffer or an ArrayBuffer`);
  }

  /** The current buffer object (for a WebAssembly.Memory, a new object after each growth). */
  buffer(): ArrayBufferLike {
    if (this.kind === KIND_WASM) return this.wasm!.buffer;
    return (this.sab ?? this.ab)!;
  }

  byteLength(): number {
    return this.buffer().byteLength;
  }

  /** The memory object another thread can attach to (shared), or null. */
  shareable(): SharedArrayBuffer | WebAssembly.Memory | null {
    if (this.kind === KIND_WASM) return this.shared ? this.wasm! : null;
    return this.sab;
  }

  get shared(): boolean {
    const b = this.buffer();
    return typeof SharedArrayBuffer === 'function' && b instanceof SharedArrayBuffer;
  }

  /**
   * Grows the buffer so that byteLength >= bytes, adding a little slack (in GROW_QUANTUM units) but
   * never past `limit`. Returns false if that is impossible. Safe when another thread grew it first.
   */
  growTo(bytes: number, limit: number): boolean {
    const cur = this.byteLength();
    if (cur >= bytes) return true;
    if (bytes > limit || bytes > this.capacity) return false;
    const want = Math.min(limit, this.capacity, roundUp(bytes + Math.min(cur >>> 4, 1 << 20), GROW_QUANTUM));
    const target = Math.max(bytes, want);
    try {
      switch (this.kind) {
        case KIND_SAB:
          this.sab!.grow(target);
          break;
        case KIND_AB:
          this.ab!.resize(target);
          break;
        case KIND_WASM: {
          const pages = Math.ceil((target - cur) / 65536);
          this.wasm!.grow(pages);
          break;
        }
        default:
          return false;
      }
    } catch (e) {
      // Another thread may have grown a shared buffer past `target` meanwhile (grow never shrinks,
      // so a smaller request throws), or the engine refused the memory: decide by the length.
      if (this.byteLength() >= bytes) return true;
      // The slack did not fit (e.g. a WebAssembly.Memory's own maximum): try exactly what is needed.
      if (e instanceof RangeError) return target > bytes ? this.growTo(bytes, bytes) : false;
      throw e;
    }
    return this.byteLength() >= bytes;
  }
}

/**
 * Grows the heap's buffer to cover `bytes` (at most the heap's end) and, when that passes what the
 * current view generation covers, bumps the generation (H_GEN) so that every thread's getters
 * rebuild their views. Under the lock (or before the heap is shared). False if it cannot grow.
 */
export function growHeapBuffer(backing: Backing, hw: number, bytes: number): boolean {
  const buf0 = backing.buffer();
  const limit = new Int32Array(buf0, (hw + H_MAX_END) << 2, 1)[0]!;
  if (!backing.growTo(bytes, limit)) return false;
  const buf = backing.buffer();
  const hdr = new Int32Array(buf, (hw + H_GEN) << 2, 2); // [H_GEN, H_VIEW_END]
  if (bytes > hdr[1]!) {
    hdr[1] = buf.byteLength;
    Atomics.add(hdr, 0, 1); // after the growth and H_VIEW_END: a thread that sees the new value sees both
  }
  return true;
}

export function roundUp(n: number, q: number): number {
  return Math.ceil(n / q) * q;
}
