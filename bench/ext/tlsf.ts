// AssemblyScript's TLSF allocator (its `--runtime minimal` memory manager), compiled to wasm at
// bench time from the `assemblyscript` devDependency into bench/.cache/ (once; the file name
// hashes the source, the compiler version and the flags). The module below exports heap.alloc,
// heap.free and heap.realloc as they are; callers use the exports directly (a JS->wasm call).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cached, hash } from './cache.ts';

export const ASC_FLAGS = ['--runtime', 'minimal', '-O3', '--noAssert'];

const SOURCE = `// bench/ext/tlsf.ts: AssemblyScript's TLSF (runtime "minimal"), raw blocks
export function alloc(size: usize): usize { return heap.alloc(size); }
export function free(ptr: usize): void { heap.free(ptr); }
export function realloc(ptr: usize, size: usize): usize { return heap.realloc(ptr, size); }
`;

function ascVersion(): string {
  const req = createRequire(import.meta.url);
  return (JSON.parse(readFileSync(req.resolve('assemblyscript/package.json'), 'utf8')) as { version: string }).version;
}

export const TLSF_ABOUT = `AssemblyScript ${ascVersion()} TLSF (heap.alloc/free/realloc), wasm via asc ${ASC_FLAGS.join(' ')}, exports called from JS`;

/** Compiles (if not cached) and returns the wasm module. */
export async function tlsfModule(): Promise<WebAssembly.Module> {
  const file = await cached(`tlsf-${hash(SOURCE, ascVersion(), ...ASC_FLAGS)}.wasm`, async (tmp) => {
    const src = `${tmp}.ts`;
    writeFileSync(src, SOURCE);
    const { default: asc } = await import('assemblyscript/asc');
    const r = await asc.main([src, '--outFile', tmp, ...ASC_FLAGS]);
    if (r.error) throw new Error(`asc failed: ${r.error.message}\n${r.stderr.toString()}`);
  });
  return new WebAssembly.Module(readFileSync(file));
}

interface TlsfExports {
  memory: WebAssembly.Memory;
  alloc(size: number): number;
  free(ptr: number): void;
  realloc(ptr: number, size: number): number;
}

/**
 * One TLSF heap: a fresh wasm instance (its own memory). `malloc`, `free` and `realloc` ARE the
 * wasm exports (no JS in between); `u8` is rebuilt when memory.grow replaced the buffer.
 */
export class TlsfHeap {
  readonly malloc: (size: number) => number;
  readonly free: (ptr: number) => void;
  readonly realloc: (ptr: number, size: number) => number;
  private readonly memory: WebAssembly.Memory;
  private view: Uint8Array;

  constructor(module: WebAssembly.Module) {
    const ex = new WebAssembly.Instance(module, {
      env: { abort: () => { throw new Error('TLSF: abort (out of memory?)'); } },
    }).exports as unknown as TlsfExports;
    this.malloc = ex.alloc;
    this.free = ex.free;
    this.realloc = ex.realloc;
    this.memory = ex.memory;
    this.view = new Uint8Array(ex.memory.buffer);
  }

  get u8(): Uint8Array {
    if (this.view.byteLength === 0 || this.view.buffer !== this.memory.buffer) this.view = new Uint8Array(this.memory.buffer);
    return this.view;
  }

  /** the wasm memory's size: TLSF grows it on demand and never shrinks it */
  highWater(): number {
    return this.memory.buffer.byteLength;
  }
}
