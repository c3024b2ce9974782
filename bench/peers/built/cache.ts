// Build cache for the bench peers that are compiled at bench time (AssemblyScript TLSF, the C
// programs, wasm dlmalloc): bench/.cache/ (gitignored). An artefact's file name carries a hash of
// everything it is built from, so a changed source or flag builds anew; writes go through a
// temporary file and a rename, so two processes building at once never see half a file.
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { CACHE_DIR } from '../../lib/paths.ts';

export { CACHE_DIR };

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
    for (const f of readdirSync(CACHE_DIR))
      if (f.startsWith(`.tmp-${process.pid}-`)) rmSync(join(CACHE_DIR, f), { force: true, recursive: true });
  }
  return out;
}

/** The absolute path of a program on PATH, or undefined (no process spawned). */
export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Identity of a program file for cache keys without running it: real path, size, mtime. */
export function fileId(path: string): string {
  const real = realpathSync(path);
  const st = statSync(real);
  return `${real}:${st.size}:${st.mtimeMs}`;
}

/** Output of a command, or undefined when it fails. */
export function run(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

/**
 * Opt-in peers (slow to run or of narrow interest) stay out of the default `npm run bench`, which
 * must finish in about a minute: their adapter throws SkipPeer on import unless the command line
 * names them (`--allocators a,b` of bench/synthetic/run.ts and bench/trace/run.ts, `--peer` of
 * bench/synthetic/child.ts, `--alloc` of bench/trace/child.ts), so the runner lists them as not run, with the way to run them.
 */
export function requireOptIn(name: string): void {
  const argv = process.argv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(0, eq) : a;
    if (key !== '--allocators' && key !== '--peer' && key !== '--alloc') continue;
    const value = eq > 0 ? a.slice(eq + 1) : (argv[i + 1] ?? '');
    if (
      value
        .split(',')
        .map((s) => s.trim())
        .includes(name)
    )
      return;
  }
  throw new SkipPeer(`not in the default set (opt-in): run it with --allocators ...,${name}`);
}
