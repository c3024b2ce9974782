/**
 * The bench peers built at bench time (bench/ext/): the C programs run exactly the PRNG and size
 * sequence of bench/workloads.ts (same final state and malloc count as the JS loop), the C and the
 * JS trace replayers verify a small synthetic trace with no failures, and the wasm heaps
 * (AssemblyScript TLSF, and wasm dlmalloc / emmalloc when their toolchains are installed) run
 * workload A and the trace. Each part is skipped, with the install command, when its toolchain or
 * library is missing.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { SkipPeer } from '../bench/peers/built/cache.ts';
import { nativeProgram, preloadPath, runNative, type NativeLib } from '../bench/peers/built/native.ts';
import { replayNative, traceInstance } from '../bench/peers/trace/built.ts';
import { loadTrace, replay } from '../bench/trace/core.ts';
import { analyze, loopA, loopC2, type Allocator, type SizeRule, type Workload } from '../bench/synthetic/core.ts';

/** Skips the test (with the SkipPeer's message: what is missing, how to install it) or rethrows. */
async function orSkip<T>(t: TestContext, f: () => T | Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof SkipPeer) {
      t.skip(e.message);
      return undefined;
    }
    throw e;
  }
}

/** Counts mallocs of the JS loop (every block at one offset; nothing is freed for real). */
class Counting implements Allocator {
  readonly u8 = new Uint8Array(65536 * 64 + 64);
  mallocs = 0;
  malloc(_size: number): number {
    this.mallocs++;
    return 16;
  }
  free(_p: number): void {}
}

const WORKLOADS: Workload[] = [
  ...(['rand', 'fixed256', 'rand2'] as SizeRule[]).flatMap((sizes) => [
    { kind: 'A' as const, cycles: 300_000, ws: 8192, seed: 42, sizes },
    { kind: 'A' as const, cycles: 100_000, ws: 256, seed: 7, sizes },
  ]),
  { kind: 'C2', cycles: 300, ws: 16, seed: 42, sizes: 'large' },
];

function jsRun(w: Workload): { finalState: number; mallocs: number } {
  const c = new Counting();
  const slots = new Int32Array(w.ws);
  const s = w.kind === 'C2' ? loopC2(c, slots, w.cycles, w.seed) : loopA[w.sizes as 'rand'](c, slots, w.cycles, w.seed);
  return { finalState: s, mallocs: c.mallocs };
}

describe('native workload program (bench/native/workload.c)', () => {
  for (const lib of ['glibc', 'mimalloc', 'jemalloc'] as NativeLib[]) {
    test(`same PRNG and size sequence as the JS loops, ${lib}`, async (t) => {
      const bin = await orSkip(t, async () => {
        preloadPath(lib);
        return nativeProgram('workload');
      });
      if (!bin) return;
      for (const w of WORKLOADS) {
        const r = runNative(bin, [w.kind, String(w.cycles), String(w.ws), String(w.seed), w.sizes], lib);
        const js = jsRun(w);
        assert.equal(r.finalState, analyze(w).finalState, `${JSON.stringify(w)}: final state vs analyze()`);
        assert.equal(r.finalState, js.finalState, `${JSON.stringify(w)}: final state vs the JS loop`);
        assert.equal(r.mallocs, js.mallocs, `${JSON.stringify(w)}: malloc count`);
        assert.equal(r.allocator, lib);
        assert.ok((r.nsPerOp as number) > 0);
      }
    });
  }
});

// A trace with every op kind: calloc, aligned (16 and 4096), realloc growing and shrinking,
// malloc(0), blocks live at the end.
function writeTrace(): string {
  const ops = [
    'a 0 0 472',
    'a 0 1 120',
    'c 0 2 1024',
    'm 0 3 100 4096',
    'm 0 4 33 16',
    'a 0 5 0',
    'f 0 1',
    'r 0 2 6 2048',
    'r 0 6 7 10',
    'f 0 3',
    'f 0 5',
    'a 0 8 70000',
    'r 0 8 9 200000',
    'f 0 0',
    'f 0 4',
  ];
  // live after each op: 472 592 1616 1716 1749 1749 1629 2653 615 515 515 70515 200515 200043 200010
  const text = `# trace synthetic ops=${ops.length} peak_live_bytes=200515 threads=1\n# meta ids=10\n# source exe=test\n${ops.join('\n')}\n`;
  const dir = mkdtempSync(join(tmpdir(), 'hakmem-peers-'));
  const file = join(dir, 'synthetic.trace.gz');
  writeFileSync(file, gzipSync(text));
  return file;
}

describe('trace replay on the built peers', () => {
  const file = writeTrace();
  for (const lib of ['glibc', 'mimalloc', 'jemalloc'] as NativeLib[]) {
    test(`C replayer, ${lib}`, async (t) => {
      const r = await orSkip(t, () => {
        preloadPath(lib);
        return replayNative(`native-${lib}`, file);
      });
      if (!r) return;
      assert.equal(r.ops, 15);
      assert.equal(r.peakLiveBytes, 200515);
      assert.equal(r.failures, 0);
      assert.equal(r.alloc, `native-${lib}`);
    });
  }
  for (const name of ['tlsf', 'wasm-dlmalloc', 'wasm-emmalloc']) {
    test(`JS replayer, ${name}`, async (t) => {
      const tr = loadTrace(file);
      const inst = await orSkip(t, () => traceInstance(name, tr));
      if (!inst) return;
      const failures = replay(inst.alloc, tr, new Int32Array(tr.ids), new Float64Array(tr.ids), tr.ops);
      assert.equal(failures, 0);
      assert.ok(inst.highWater() > 200515);
    });
  }
});

describe('wasm heaps on workload A', () => {
  for (const name of ['tlsf', 'wasm-dlmalloc', 'wasm-emmalloc']) {
    test(`${name}: the loop runs, blocks are distinct and in the heap`, async (t) => {
      // the peer modules: opt-in peers need their name on the command line, so build through the
      // trace adapter (same module, same exports)
      const tr = loadTrace(writeTrace());
      const inst = await orSkip(t, () => traceInstance(name, tr));
      if (!inst) return;
      const a = inst.alloc;
      const w: Workload = { kind: 'A', cycles: 200_000, ws: 4096, seed: 42, sizes: 'rand2' };
      const slots = new Int32Array(w.ws);
      assert.equal(loopA.rand2(a, slots, w.cycles, w.seed), analyze(w).finalState);
      const live = [...slots].filter((p) => p !== 0).sort((x, y) => x - y);
      assert.equal(new Set(live).size, live.length);
      // 8-byte aligned at least (emmalloc's alignment on wasm32; TLSF and dlmalloc give 16)
      for (const p of live) assert.ok(p > 0 && p % 8 === 0 && p + 1040 <= a.u8.length, `pointer ${p}`);
    });
  }
});
