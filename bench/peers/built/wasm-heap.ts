// A heap inside one wasm instance's memory, for the wasm peers (AssemblyScript TLSF, wasm
// dlmalloc / emmalloc): `malloc`, `free` and `realloc` ARE the module's exports (the loops call
// them directly, a JS->wasm call each); `u8` is rebuilt when memory.grow replaced the buffer.
export interface WasmHeapExports {
  memory: WebAssembly.Memory;
  alloc(size: number): number;
  free(ptr: number): void;
  realloc(ptr: number, size: number): number;
  /** optional: zeroed allocation (C calloc(1, size)) */
  calloc?(size: number): number;
  /** optional: aligned allocation (C posix_memalign) */
  memalign?(alignment: number, size: number): number;
  /** optional: reactor initialisation (wasi-libc) */
  _initialize?(): void;
}

export class WasmHeap {
  readonly malloc: (size: number) => number;
  readonly free: (ptr: number) => void;
  readonly realloc: (ptr: number, size: number) => number;
  readonly ex: WasmHeapExports;
  private readonly memory: WebAssembly.Memory;
  private view: Uint8Array;

  /** a fresh instance (its own memory) of `module` */
  constructor(module: WebAssembly.Module, imports: WebAssembly.Imports = {}) {
    const ex = new WebAssembly.Instance(module, imports).exports as unknown as WasmHeapExports;
    ex._initialize?.();
    this.ex = ex;
    this.malloc = ex.alloc;
    this.free = ex.free;
    this.realloc = ex.realloc;
    this.memory = ex.memory;
    this.view = new Uint8Array(ex.memory.buffer);
  }

  /**
   * The user-form view getter of a wasm allocator: the memory is not shared, so memory.grow detaches
   * the old buffer and an old view reads 0 bytes long; rebuilt then (one length check per access).
   */
  get u8(): Uint8Array {
    if (this.view.byteLength === 0) this.view = new Uint8Array(this.memory.buffer);
    return this.view;
  }

  /** the wasm memory's size: these allocators grow it on demand and never shrink it */
  highWater(): number {
    return this.memory.buffer.byteLength;
  }
}
