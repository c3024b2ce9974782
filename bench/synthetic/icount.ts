// Driver for bench/synthetic/icount.sh and cachesim.sh: one workload-A loop of `cycles` cycles on one
// peer, after the same warm-up as bench/synthetic/child.ts. Run under callgrind, the difference between two cycle counts gives a
// deterministic instructions-per-op figure (timing on this noisy VM varies ~1.3x between runs).
//   node --single-threaded --import tsx bench/synthetic/icount.ts PEER CYCLES WS SIZES
import { analyze, loopA, type Workload } from './core.ts';

const [peerName, cycS, wsS, sizes] = process.argv.slice(2);
if (!peerName || !cycS || !wsS || !sizes) throw new Error('usage: icount.ts PEER CYCLES WS rand|fixed256|rand2');
const { peer } = await import(`../peers/${peerName}.ts`);
const ws = Number(wsS);
const cycles = Number(cycS);
const w = { kind: 'A', cycles: 10e6, ws, seed: 42, sizes } as Workload;
const opts = { maxSize: 1040, capacity: analyze(w).classBoundBytes };
const loop = (loopA as Record<string, (a: unknown, s: Int32Array, n: number, seed: number) => number>)[sizes]!;
const prime = peer.create(opts);
for (let k = 0; k < 10; k++) loop(prime.alloc, new Int32Array(ws), 16, 42);
for (let k = 0; k < 3; k++) loop(peer.create(opts).alloc, new Int32Array(ws), 200000, 42);
loop(peer.create(opts).alloc, new Int32Array(ws), cycles, 42);
