// Build cache for the bench peers that are compiled at bench time (AssemblyScript TLSF, the C
// programs, wasm dlmalloc): bench/.cache/ (gitignored). An artefact's file name carries a hash of
// everything it is built from, so a changed source or flag builds anew; writes go through a
// temporary file and a rename, so two processes building at once never see half a file.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CACHE_DIR = fileURLToPath(new URL('../.cache/', import.meta.url));

/** Thrown by a peer whose toolchain or library is missing: the runner reports it as not run. */
export class SkipPeer extends Error {}

export function hash(...parts: (string | Uint8Array)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
}

/**
 * The cached artefact `name` (e.g. "tlsf-<hash>.wasm"): built by `build(tmpPath)` when missing,
 * then renamed into place. Returns its path.
 */
export async function cached(name: string, build: (tmp: string) => void | Promise<void>): Promise<string> {
  const out = join(CACHE_DIR, name);
  if (existsSync(out)) return out;
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = join(CACHE_DIR, `.tmp-${process.pid}-${name}`);
  try {
    await build(tmp);
    renameSync(tmp, out);
  } finally {
    for (const f of readdirSync(CACHE_DIR)) if (f.startsWith(`.tmp-${process.pid}-`)) rmSync(join(CACHE_DIR, f), { force: true });
  }
  return out;
}

/** The absolute path of a program on PATH, or undefined. */
export function which(cmd: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}
