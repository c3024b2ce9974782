// The bench's child processes as plain JavaScript: each TypeScript entry point
// (bench/synthetic/child.ts, bench/trace/child.ts) is bundled once per bench invocation with esbuild into
// bench/.cache/bundles/<hash>/, keyed by a hash of every .ts file under bench/ and src/ (and the
// esbuild and Node versions), and the runner spawns `node <entry>.mjs`: ~0.05 s of start-up per
// process instead of ~0.3 s for `node --import tsx` (which compiles every module at each start).
// Every run is still a fresh process.
//
// The output mirrors what tsx runs: the same esbuild transform (target = this Node, keepNames),
// real ES modules (code splitting, so dynamically imported peers stay separate modules with
// module-scope constants, not lazily initialised closures), npm packages left external
// (resolved from node_modules at run time). import.meta.url/dirname/filename are replaced by the
// source file's own, so paths relative to a source file (bench/peers/built/*.c, bench/.cache/) resolve
// as they do under tsx.
//
// synthetic/child.ts imports its peer as `../peers/${name}.ts`: esbuild bundles every .ts under
// bench/peers/ for it, the subfolders' too (a wildcard after a slash matches nested paths); each is
// its own module, and only the one named is loaded.
//
// HAKMEM_BENCH_TSX=1 spawns `node --import tsx <entry>.ts` instead (the old way, for comparison).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_DIR as BENCH, CACHE_DIR, ROOT } from './paths.ts';

const BUNDLES = join(CACHE_DIR, 'bundles');
/** every entry point bundled together (shared code is one chunk); spawned by synthetic/run.ts and trace/run.ts */
export const CHILD_ENTRIES = ['synthetic/child.ts', 'trace/child.ts', 'trace/phase/child.ts', 'latency/child.ts'];

/** The node arguments that run bench/<entry> (e.g. 'synthetic/child.ts') as a fresh process. */
export async function childArgv(entry: string, nodeFlags: string[] = []): Promise<string[]> {
  if (process.env.HAKMEM_BENCH_TSX === '1') return ['--import', 'tsx', ...nodeFlags, join(BENCH, entry)];
  const dir = await bundleChildren();
  // No --enable-source-maps: with it, C2's page-touching loop ran ~15% slower in the children
  // (noop C2 2.7 vs 2.35 us/cycle under tsx); the linked .map files are there for debugging.
  return [...nodeFlags, join(dir, entry.replace(/\.ts$/, '.mjs'))];
}

/** How the children start, for the ledger record: `node [flags] FILE` with FILE relative to the repository. */
export function childDescription(argv: string[]): string {
  return `node ${argv.map((a) => (a.startsWith(ROOT) ? relative(ROOT, a) : a)).join(' ')}`;
}

let built: Promise<string> | undefined;

/** Bundles CHILD_ENTRIES (once per process; reused across processes while the sources are unchanged). */
export function bundleChildren(): Promise<string> {
  return (built ??= build());
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    // results: ledger records; experiments: old code kept as a record, not part of any child
    if (e.name.startsWith('.') || e.name === 'node_modules' || e.name === 'results' || e.name === 'experiments') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) sourceFiles(p, out);
    else if (/\.(ts|mts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

async function build(): Promise<string> {
  const esbuild = await import('esbuild');
  const files = [...sourceFiles(BENCH), ...sourceFiles(join(ROOT, 'src'))].sort();
  const h = createHash('sha256');
  h.update(`esbuild ${esbuild.version} node ${process.versions.node} entries ${CHILD_ENTRIES.join(',')} v1\n`);
  for (const f of files) h.update(`${relative(ROOT, f)}\n`).update(readFileSync(f));
  const key = h.digest('hex').slice(0, 16);
  const dir = join(BUNDLES, key);
  if (existsSync(join(dir, 'ok'))) return dir;

  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: CHILD_ENTRIES.map((e) => join(BENCH, e)),
    outdir: tmp,
    outbase: BENCH,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    target: `node${process.versions.node}`,
    keepNames: true,
    sourcemap: 'linked',
    outExtension: { '.js': '.mjs' },
    logLevel: 'silent',
    plugins: [
      {
        name: 'import-meta-of-source',
        setup(b) {
          b.onLoad({ filter: /\.(ts|mts)$/ }, (args) => {
            if (args.path.includes('/node_modules/')) return undefined;
            const src = readFileSync(args.path, 'utf8');
            const url = pathToFileURL(args.path).href;
            const contents = src
              .replace(/\bimport\.meta\.url\b/g, JSON.stringify(url))
              .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path))
              .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(join(args.path, '..')));
            return { contents, loader: 'ts', resolveDir: join(args.path, '..') };
          });
        },
      },
    ],
  });
  // mark complete, then publish atomically; a concurrent bench may have published the same key
  mkdirSync(join(tmp, 'ok'));
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(dir, 'ok'))) throw new Error(`bench/lib/bundle.ts: could not publish ${dir}`);
  }
  prune(key);
  return dir;
}

/** Removes bundles of other sources that are over a day old (a concurrent bench may still use a recent one). */
function prune(keep: string): void {
  const day = Date.now() - 86_400_000;
  for (const name of readdirSync(BUNDLES)) {
    if (name === keep) continue;
    const p = join(BUNDLES, name);
    try {
      if (statSync(p).mtimeMs < day) rmSync(p, { recursive: true, force: true });
    } catch {
      // removed meanwhile
    }
  }
}
