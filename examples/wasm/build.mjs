// Compiles the wasm modules of the examples, once: examples/wasm/list.ts with AssemblyScript's asc
// (the devDependency `assemblyscript`) and examples/wasm/list.c with clang + wasm-ld (Debian:
// apt-get install -y clang lld). The .wasm files go to node_modules/.cache/hakmem-examples/, named
// by a hash of the source, the compiler's version and the flags, so an edit rebuilds them; nothing
// built is committed.
//
//   node examples/wasm/build.mjs      builds both and prints their paths
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
const CACHE = fileURLToPath(new URL('../../node_modules/.cache/hakmem-examples/', import.meta.url));

// --runtime stub: no garbage collector (the module allocates only through the imported malloc);
// --importMemory: the module uses the memory JavaScript gives it (the one hakmem manages).
export const ASC_FLAGS = ['--runtime', 'stub', '--importMemory', '-O3', '--noAssert'];

// --target=wasm32 -nostdlib -ffreestanding: no libc (malloc and free are imported, see list.c);
// --no-entry: a library, no main; --import-memory: as above; a 64 KiB stack below the data end.
export const CLANG_FLAGS = [
  '--target=wasm32',
  '-O2',
  '-std=c11',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-nostdlib',
  '-ffreestanding',
  '-Wl,--no-entry',
  '-Wl,--import-memory',
  '-Wl,-z,stack-size=65536',
];

/** Path of the cached file for these inputs, built by `build(tmpPath)` when missing. */
async function cached(ext, inputs, build) {
  const h = createHash('sha256');
  for (const part of inputs) h.update(part).update('\0');
  const file = `${CACHE}${h.digest('hex').slice(0, 16)}.${ext}`;
  if (existsSync(file)) return file;
  mkdirSync(CACHE, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await build(tmp);
    renameSync(tmp, file); // atomic: a concurrent build never sees half a file
  } finally {
    rmSync(tmp, { force: true });
  }
  return file;
}

/** Compiles examples/wasm/list.ts; returns the .wasm file's path. */
export async function buildAssemblyScript() {
  const src = here('./list.ts');
  const { version } = createRequire(import.meta.url)('assemblyscript/package.json');
  return cached('as.wasm', [readFileSync(src), version, ...ASC_FLAGS], async (out) => {
    const { default: asc } = await import('assemblyscript/asc');
    const r = await asc.main([src, '--outFile', out, ...ASC_FLAGS]);
    if (r.error) throw new Error(`asc failed: ${r.error.message}\n${r.stderr.toString()}`);
  });
}

/** Compiles examples/wasm/list.c with clang (CLANG overrides the command); returns the .wasm file's path. */
export async function buildC() {
  const src = here('./list.c');
  const clang = process.env.CLANG || 'clang';
  let version;
  try {
    version = execFileSync(clang, ['--version'], { encoding: 'utf8' });
  } catch {
    throw new Error(`${clang} not found: install clang and wasm-ld (Debian: apt-get install -y clang lld)`);
  }
  return cached('c.wasm', [readFileSync(src), version, ...CLANG_FLAGS], (out) => {
    try {
      execFileSync(clang, [...CLANG_FLAGS, '-o', out, src], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      throw new Error(`clang failed (is wasm-ld installed? Debian: apt-get install -y lld):\n${e.stderr || e.message}`);
    }
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await buildAssemblyScript());
  console.log(await buildC());
}
