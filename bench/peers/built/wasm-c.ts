// wasm dlmalloc and emmalloc, built at bench time from bench/peers/built/wasm-malloc.c into
// bench/.cache/: dlmalloc is wasi-libc's malloc (clang --target=wasm32-wasi, Debian packages
// clang, lld, wasi-libc, libclang-rt-dev-wasm32); emmalloc is emscripten's small allocator
// (emcc -sMALLOC=emmalloc, Debian package emscripten). Missing toolchains throw SkipPeer with the
// install command. The peers call the module's exports directly (bench/peers/built/wasm-heap.ts).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cached, fileId, hash, requireOptIn, run, SkipPeer, which } from './cache.ts';
import { WasmHeap } from './wasm-heap.ts';
import type { HeapPeer } from '../../synthetic/core.ts';

export type WasmLib = 'dlmalloc' | 'emmalloc';

const SRC = fileURLToPath(new URL('./wasm-malloc.c', import.meta.url));

const TOOLCHAIN: Record<WasmLib, { cc: string; flags: string[]; install: string; what: string }> = {
  dlmalloc: {
    cc: 'clang',
    flags: ['--target=wasm32-wasi', '-O3', '-mexec-model=reactor', '-Wl,--strip-all'],
    install: 'apt-get install -y clang lld wasi-libc libclang-rt-dev-wasm32',
    what: "wasi-libc's dlmalloc",
  },
  emmalloc: {
    cc: 'emcc',
    flags: [
      '-O3',
      '-sMALLOC=emmalloc',
      '-sSTANDALONE_WASM',
      '-sALLOW_MEMORY_GROWTH=1',
      '-sTOTAL_STACK=65536',
      '-sINITIAL_MEMORY=262144',
      '--no-entry',
    ],
    install: 'apt-get install -y emscripten',
    what: "emscripten's emmalloc",
  },
};

/** The compiled module (built and cached when missing), and the compiler's path. */
export async function wasmCModule(lib: WasmLib): Promise<{ module: WebAssembly.Module; compiler: string }> {
  const tc = TOOLCHAIN[lib];
  const cc = which(tc.cc);
  if (!cc) throw new SkipPeer(`${tc.cc} not found; install: ${tc.install}`);
  // the compiler's file identity, not `cc --version` (emcc's takes ~0.5 s): nothing spawned when cached
  const file = await cached(`${lib}-${hash(readFileSync(SRC), fileId(cc), ...tc.flags)}.wasm`, (tmp) => {
    try {
      // emcc picks the output format from the extension
      execFileSync(cc, [...tc.flags, '-o', `${tmp}.wasm`, SRC], { stdio: ['ignore', 'pipe', 'pipe'] });
      execFileSync('mv', [`${tmp}.wasm`, tmp]);
    } catch (e) {
      const err = ((e as { stderr?: Buffer }).stderr?.toString() || String(e)).trim();
      const last = err.split('\n').filter(Boolean).slice(-1)[0]?.slice(0, 200) ?? '';
      // a missing part of the toolchain (headers, libc, builtins, linker) is a skip, anything else a failure
      if (/file not found|No such file|cannot find|unable to find|not found|unable to execute/i.test(err)) {
        throw new SkipPeer(`${tc.cc} cannot build for wasm here (${last}); install: ${tc.install}`);
      }
      throw new Error(`${tc.cc} failed to build ${lib}: ${last}`);
    }
  });
  return { module: new WebAssembly.Module(readFileSync(file)), compiler: cc };
}

/** Imports an emscripten STANDALONE_WASM module may ask for (none for wasi-libc's). */
export function wasmImports(module: WebAssembly.Module): WebAssembly.Imports {
  const imports: Record<string, Record<string, unknown>> = {};
  for (const i of WebAssembly.Module.imports(module)) {
    if (i.kind !== 'function') throw new Error(`wasm module imports ${i.module}.${i.name} (${i.kind})`);
    (imports[i.module] ??= {})[i.name] =
      i.name === 'emscripten_notify_memory_growth'
        ? () => {}
        : () => {
            throw new Error(`wasm called ${i.module}.${i.name}`);
          };
  }
  return imports as WebAssembly.Imports;
}

export async function wasmCPeer(lib: WasmLib, optIn = false): Promise<HeapPeer> {
  if (optIn) requireOptIn(`wasm-${lib}`);
  const { module, compiler } = await wasmCModule(lib);
  const imports = wasmImports(module);
  return {
    kind: 'heap',
    name: `wasm-${lib}`,
    get about() {
      // a getter: the compiler's version is needed only by the runner's table
      const line = run(compiler, ['--version'])?.split('\n')[0] ?? '';
      const version = `${TOOLCHAIN[lib].cc} ${/\d+\.\d+\.\d+/.exec(line)?.[0] ?? '?'}`;
      return `${TOOLCHAIN[lib].what} in wasm (${version}, ${TOOLCHAIN[lib].flags.filter((f) => f.startsWith('-O') || f.startsWith('-sMALLOC')).join(' ')}), exports called from JS`;
    },
    create() {
      const h = new WasmHeap(module, imports);
      return { alloc: h, highWater: () => h.highWater(), wide: false };
    },
  };
}
