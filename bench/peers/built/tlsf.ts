// AssemblyScript's TLSF allocator (its `--runtime minimal` memory manager), compiled to wasm at
// bench time from the `assemblyscript` devDependency into bench/.cache/ (once; the file name
// hashes the source, the compiler version and the flags). The module below exports heap.alloc,
// heap.free and heap.realloc as they are; callers use the exports directly (a JS->wasm call).
// No calloc / aligned export: the trace replayer emulates them (bench/peers/trace/built.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cached, hash } from './cache.ts';
import { WasmHeap } from './wasm-heap.ts';

export const ASC_FLAGS = ['--runtime', 'minimal', '-O3', '--noAssert'];

const SOURCE = `// bench/peers/built/tlsf.ts: AssemblyScript's TLSF (runtime "minimal"), raw blocks
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

const IMPORTS = {
  env: {
    abort: () => {
      throw new Error('TLSF: abort (out of memory?)');
    },
  },
};

/** One TLSF heap: a fresh wasm instance; malloc/free/realloc are its exports (see WasmHeap). */
export class TlsfHeap extends WasmHeap {
  constructor(module: WebAssembly.Module) {
    super(module, IMPORTS);
  }
}
