/**
 * `npm run fuzz -- --ops N --seed S [--workers W] [--debug]`: a fuzz campaign (fuzz-campaign.ts)
 * against the release build, or with --debug against hakmem/debug (model and predictions in
 * fuzz-model.ts). Prints a summary: operations, valid calls by kind, misuse calls by kind, errors
 * raised by class, audits, time.
 *
 *   --ops N          operations in all (split between the workers), default 1000000
 *   --seed S         default 1
 *   --workers W      0 = one thread (default); W >= 1: W workers on one heap, the main thread quiet
 *   --check-every N  one thread: heap.check() + every block + stats() every N ops (default 20000)
 *   --epoch N        workers: operations per worker between two barriers, where the main thread
 *                    runs check() and compares stats() with the workers' models (default 50000)
 *   --misuse R       share of misuse calls (default 0.05)
 *   --break KIND     expect the wrong error for one misuse kind (shows that the fuzz can fail)
 *   --strict-detach  no effect (kept for old commands): every call on a detached Heap is made
 *   --debug          run against hakmem/debug (src/debug.ts) instead of the release build
 *   --secure         a heap created with secure: true (release build)
 *   --quiet          no progress lines
 */
import { DEFAULTS, formatResult, runCampaign, type CampaignOptions } from './fuzz-campaign.ts';

function parseArgs(argv: string[]): CampaignOptions {
  const o: CampaignOptions = { ...DEFAULTS, log: (l) => console.log(l) };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = argv[i + 1];
    const num = () => {
      const n = Number(v);
      if (v === undefined || !Number.isFinite(n) || n < 0) throw new Error(`fuzz: ${k} needs a number, got ${v}`);
      i++;
      return n;
    };
    switch (k) {
      case '--ops':
        o.ops = num();
        break;
      case '--seed':
        o.seed = num();
        break;
      case '--workers':
        o.workers = num();
        break;
      case '--check-every':
        o.checkEvery = num();
        break;
      case '--epoch':
        o.epoch = num();
        break;
      case '--misuse':
        o.misuseRate = num();
        break;
      case '--break':
        o.breakKind = v;
        i++;
        break;
      case '--strict-detach':
        o.strictDetach = true;
        break;
      case '--debug':
        o.debug = true;
        break;
      case '--secure':
        o.secure = true;
        break;
      case '--quiet':
        o.log = undefined;
        break;
      default:
        throw new Error(
          `usage: npm run fuzz -- [--ops N] [--seed S] [--workers W] [--check-every N] [--epoch N] [--misuse R] [--break KIND] [--strict-detach] [--debug] [--secure] [--quiet] (bad: ${k})`,
        );
    }
  }
  return o;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  console.log(
    `hakmem fuzz (${o.debug ? 'hakmem/debug' : `release build${o.secure ? ', secure: true' : ''}`}): ${o.ops} ops, seed ${o.seed}, ${o.workers === 0 ? 'one thread' : `${o.workers} workers`}, misuse rate ${o.misuseRate}`,
  );
  try {
    const s = await runCampaign(o);
    for (const l of formatResult(s)) console.log(l);
  } catch (e) {
    console.error(`FAILED: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}

void main();
