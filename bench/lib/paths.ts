// Where the bench finds things, all derived from this file's place in the repository (never an
// absolute path of one machine): the repository root, bench/, the build cache, and the shared
// allocation traces beside the repository (../shared/traces, see ../shared/README.md).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/lib/../..), without a trailing separator. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/[\\/]$/, '');
export const BENCH_DIR = join(ROOT, 'bench');
/** Build cache (gitignored): child bundles, native programs, wasm modules. */
export const CACHE_DIR = join(BENCH_DIR, '.cache');

/**
 * Where the allocation traces live: `../shared/traces` from the repository root, or the folder
 * named by HAKMEM_TRACES (recorded in every ledger record, like every HAKMEM_* variable). The
 * project runs without them: a replay then says so and skips.
 */
export const TRACE_DIR = process.env.HAKMEM_TRACES ? resolve(process.env.HAKMEM_TRACES) : resolve(ROOT, '..', 'shared', 'traces');

export function traceDirPresent(): boolean {
  return existsSync(TRACE_DIR);
}
