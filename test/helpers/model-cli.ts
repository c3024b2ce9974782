/**
 * `npm run model -- [options]`: one long seeded run of the model (model.ts) against a fresh heap.
 *
 *   npm run model -- --ops 5000000 --seed 7
 *   options: --ops N  --seed N  --max-bytes N (a small cap makes allocations fail)  --check-every N
 *            --live-bytes N (budget of live bytes the random driver keeps under)
 *            --memory 0|1|2 ('shared' (default), 'array', a non-shared WebAssembly.Memory)
 */
import { runRandom, type RunOptions } from './model.ts';

function parseArgs(argv: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i]!;
    const v = Number(argv[i + 1]);
    if (!k.startsWith('--') || !Number.isFinite(v))
      throw new Error(
        `usage: npm run model -- [--ops N] [--seed N] [--max-bytes N] [--check-every N] [--live-bytes N] [--memory 0|1|2] (bad: ${k} ${argv[i + 1]})`,
      );
    out[k.slice(2)] = v;
  }
  return out;
}

function main(): void {
  const a = parseArgs(process.argv.slice(2));
  const maxBytes = a['max-bytes'];
  const opts: RunOptions = {
    seed: a.seed ?? 1,
    ops: a.ops ?? 1_000_000,
    maxBytes,
    checkEvery: a['check-every'] ?? 1000,
    liveBytes: a['live-bytes'] ?? 64 << 20,
    memory: (['shared', 'array', 'wasm'] as const)[a.memory ?? 0],
    maxLive: 4000,
    drainEvery: maxBytes !== undefined ? 500 : undefined,
  };
  console.log(
    `hakmem model: ${opts.ops} ops, seed ${opts.seed}, ${maxBytes !== undefined ? `maxBytes ${maxBytes}` : 'uncapped'}, check every ${opts.checkEvery}`,
  );
  try {
    const s = runRandom(opts);
    console.log(`ok: ${s.ops} ops in ${(s.ms / 1000).toFixed(1)} s (${Math.round(s.ops / (s.ms / 1000))} ops/s)`);
    console.log(
      `  by kind: ${Object.entries(s.counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    console.log(`  allocations returning 0: ${s.failures}, recoveries checked: ${s.recoveries}`);
    console.log(`  peak live blocks ${s.peakLive}, peak live usable bytes ${s.peakUsableBytes}, heap high water ${s.heapHighWater}`);
  } catch (e) {
    console.error(`FAILED: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}

main();
