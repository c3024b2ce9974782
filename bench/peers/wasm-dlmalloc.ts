// wasi-libc's dlmalloc compiled to wasm at bench time (clang --target=wasm32-wasi, cached in
// bench/.cache/); a fresh instance per heap; the loop calls the wasm exports directly.
// No clang / wasi-libc -> the import throws and the runner lists it as not run, with the install command.
import { wasmCPeer } from './built/wasm-c.ts';

export const peer = await wasmCPeer('dlmalloc', true); // opt-in: not in the default bench (about a minute)
