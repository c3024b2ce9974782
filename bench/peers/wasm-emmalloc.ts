// emscripten's emmalloc compiled to wasm at bench time (emcc -sMALLOC=emmalloc, cached in
// bench/.cache/); a fresh instance per heap; the loop calls the wasm exports directly.
// No emscripten -> the import throws and the runner lists it as not run, with the install command.
import { wasmCPeer } from './built/wasm-c.ts';

export const peer = await wasmCPeer('emmalloc', true); // opt-in: not in the default bench (about a minute)
