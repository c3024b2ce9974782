// hakmem with the release build's O(1) fast-path checks compiled out: the size check of malloc, the
// pointer check and the double-free (allocated bit) check of free, marked with check/end comment markers in
// src/heap.ts and replaced by `true` in a bundle made here with esbuild. For measuring what the
// checks cost (issue 5: <= 3% on A 10M 8192 rand2), never for use: bad input corrupts this heap.
// Opt-in: run it with --allocators hakmem,hakmem-nochecks.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { CACHE_DIR } from '../lib/paths.ts';
import { requireOptIn } from './built/cache.ts';
import { hakmemPeer } from './hakmem.ts';
import type * as Hakmem from '../../src/index.ts';

requireOptIn('hakmem-nochecks');
const src = fileURLToPath(new URL('../../src/', import.meta.url));
const outDir = join(CACHE_DIR, 'nochecks');
mkdirSync(outDir, { recursive: true });
const outfile = join(outDir, `hakmem-nochecks-${process.pid}.mjs`);
let stripped = 0;
await build({
  entryPoints: [`${src}index.ts`],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  outfile,
  logLevel: 'silent',
  plugins: [
    {
      name: 'strip-checks',
      setup(b) {
        b.onLoad({ filter: /[\\/]src[\\/]heap\.ts$/ }, (args) => {
          const text = readFileSync(args.path, 'utf8').replace(/\/\*check\*\/[\s\S]*?\/\*end\*\//g, () => {
            stripped++;
            return 'true';
          });
          return { contents: text, loader: 'ts' };
        });
      },
    },
  ],
});
if (stripped !== 3) throw new Error(`hakmem-nochecks: expected 3 marked checks in src/heap.ts, found ${stripped}`);
const { createHeap } = (await import(pathToFileURL(outfile).href)) as typeof Hakmem;

export const peer = hakmemPeer('hakmem-nochecks', 'hakmem with its fast-path checks compiled out (measurement only)', () => createHeap());
