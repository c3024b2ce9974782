// Modes (docs/modes.md): option `mode` and HAKMEM_MODE, each mode's feature set in stats().config,
// a random workload in every mode, policy export and import, site handles, and research mode's
// size record checked against a trace's own size distribution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { attachHeap, createHeap, SIZE_CLASSES, SecureHeap } from '../src/index.ts';
import { createHeap as createDebugHeap } from '../src/debug.ts';
import { LearningHeap } from '../src/learn.ts';
import { ResearchHeap } from '../src/research.ts';
import { TRACE_DIR } from '../bench/lib/paths.ts';
import { loadTrace, OP_F, OP_R, replay } from '../bench/trace/core.ts';
import { freeAll, runWorkload, type Live } from './helpers/modes-workload.ts';
import { Rng } from './helpers/rng.ts';

const MODES = ['minimal', 'fast', 'balanced', 'learning', 'research'] as const;

/** Runs `fn` with HAKMEM_MODE set to `v` (unset for undefined), restoring it after. */
function withEnv<T>(v: string | undefined, fn: () => T): T {
  const old = process.env.HAKMEM_MODE;
  if (v === undefined) delete process.env.HAKMEM_MODE;
  else process.env.HAKMEM_MODE = v;
  try {
    return fn();
  } finally {
    if (old === undefined) delete process.env.HAKMEM_MODE;
    else process.env.HAKMEM_MODE = old;
  }
}

test('modes: every mode runs a random workload (every API call, check() every 500 ops), then frees all', () => {
  for (const mode of MODES) {
    const heap = createHeap({ mode, learn: mode === 'learning' || mode === 'research' ? { windowOps: 512 } : undefined });
    assert.equal(heap.stats().config.mode, mode);
    const live: Live[] = [];
    runWorkload(heap, new Rng(0x5eed + mode.length), 30000, live, { checkEvery: 500 });
    heap.check();
    freeAll(heap, live);
    heap.trim();
    heap.check();
    assert.equal(heap.stats().inUseBlocks, 0, mode);
    if (mode === 'learning' || mode === 'research')
      assert.ok(heap.stats().learning!.switches > 0, `${mode}: the controller switched policies during the workload`);
  }
});

test("modes: the default is balanced (Heap); learning and research run their own classes; the mode is the heap's", () => {
  withEnv(undefined, () => {
    const h = createHeap();
    assert.equal(h.stats().config.mode, 'balanced');
    assert.equal(
      h.constructor,
      createHeap({ mode: 'minimal' }).constructor,
      'balanced and minimal share the Heap class (the same fast paths)',
    );
    assert.ok(createHeap({ mode: 'learning' }) instanceof LearningHeap);
    assert.ok(createHeap({ mode: 'research' }) instanceof ResearchHeap);
    assert.ok(!(h instanceof LearningHeap));
    // A thread that attaches runs the heap's mode (its class), whatever the environment says.
    const l = createHeap({ mode: 'learning' });
    const a = withEnv('minimal', () => attachHeap(l.handle));
    assert.ok(a instanceof LearningHeap);
    assert.equal(a.stats().config.mode, 'learning');
    a.detach();
  });
});

test('modes: HAKMEM_MODE is read once at createHeap when no option is given; the option wins; bad values are errors', () => {
  const h = withEnv('fast', () => createHeap());
  assert.equal(h.stats().config.mode, 'fast');
  withEnv('minimal', () => assert.equal(h.stats().config.mode, 'fast', 'a heap keeps the mode it was created with'));
  assert.equal(withEnv('RESEARCH', () => createHeap()).stats().config.mode, 'research', 'case does not matter');
  assert.equal(withEnv('fast', () => createHeap({ mode: 'learning' })).stats().config.mode, 'learning');
  assert.equal(withEnv('', () => createHeap()).stats().config.mode, 'balanced', 'an empty HAKMEM_MODE is no mode');
  assert.throws(
    () => withEnv('turbo', () => createHeap()),
    (e: unknown) =>
      e instanceof TypeError &&
      /HAKMEM_MODE/.test(e.message) &&
      /"turbo"/.test(e.message) &&
      /minimal, fast, balanced, learning, research/.test(e.message),
  );
  assert.throws(
    () => withEnv('fast', () => createHeap({ mode: 'learnin' as never })),
    (e: unknown) => e instanceof TypeError && /option mode/.test(e.message) && /did you mean learning\?/.test(e.message),
  );
  assert.throws(
    () => createHeap({ mode: 3 as never }),
    (e: unknown) => e instanceof TypeError && /option mode must be a string/.test(e.message),
  );
  assert.throws(
    () => createHeap({ mdoe: 'fast' } as never),
    (e: unknown) => e instanceof TypeError && /unknown option "mdoe"/.test(e.message) && /did you mean mode\?/.test(e.message),
  );
  assert.throws(
    () => createHeap({ mode: 'fast', learn: { windowOps: 64 } }),
    (e: unknown) => e instanceof TypeError && /option learn is for modes learning and research/.test(e.message),
  );
  assert.throws(
    () => createHeap({ mode: 'learning', learn: { windowOp: 64 } as never }),
    (e: unknown) => e instanceof TypeError && /unknown option "windowOp"/.test(e.message),
  );
  assert.throws(
    () => createHeap({ mode: 'learning', learn: { candidates: ['base', 'turbo'] } }),
    (e: unknown) => e instanceof TypeError && /unknown candidate "turbo"/.test(e.message),
  );
  assert.throws(
    () => createHeap({ mode: 'learning', secure: true }),
    (e: unknown) => e instanceof TypeError && /secure heaps run modes minimal, fast, balanced/.test(e.message),
  );
  assert.throws(
    () => createDebugHeap({ mode: 'learning' }),
    (e: unknown) => e instanceof TypeError && /mode learning is not supported by this build/.test(e.message),
  );
  assert.ok(createHeap({ mode: 'fast', secure: true }) instanceof SecureHeap);
});

test("modes: stats().config shows each mode's feature set and the policy in force", () => {
  const expect = {
    minimal: {
      policy: 'fixed',
      policyImport: false,
      opCounter: false,
      learning: false,
      sizeRecord: false,
      routeCounters: false,
      siteStats: false,
    },
    fast: {
      policy: 'fixed',
      policyImport: false,
      opCounter: false,
      learning: false,
      sizeRecord: false,
      routeCounters: false,
      siteStats: false,
    },
    balanced: {
      policy: 'static',
      policyImport: true,
      opCounter: false,
      learning: false,
      sizeRecord: false,
      routeCounters: false,
      siteStats: false,
    },
    learning: {
      policy: 'learned',
      policyImport: true,
      opCounter: true,
      learning: true,
      sizeRecord: false,
      routeCounters: false,
      siteStats: false,
    },
    research: {
      policy: 'learned',
      policyImport: true,
      opCounter: true,
      learning: true,
      sizeRecord: true,
      routeCounters: true,
      siteStats: true,
    },
  };
  for (const mode of MODES) {
    const h = createHeap({ mode });
    const s = h.stats();
    assert.deepEqual(s.config.features, expect[mode], mode);
    assert.equal(s.config.secure, false);
    // What each mode reports beyond the common figures is its feature set's.
    assert.equal(s.learning !== undefined, expect[mode].learning, `${mode}: stats().learning`);
    assert.equal(s.sizes !== undefined, expect[mode].sizeRecord, `${mode}: stats().sizes`);
    assert.equal(s.routes !== undefined, expect[mode].routeCounters, `${mode}: stats().routes`);
    assert.equal(s.sites !== undefined, expect[mode].siteStats, `${mode}: stats().sites`);
  }
  // The policies in force: minimal and balanced run the settings hakmem had before modes, fast a roomier one.
  const base = createHeap({ mode: 'minimal' }).stats().config.policy;
  assert.equal(base.name, 'base');
  assert.deepEqual(base.settings, {
    listRoom: 16384,
    placement: 'first-fit',
    slabFirstStep: 0,
    slabMaxPages: 4,
    slabFit: false,
    bigCachePages: 1024,
    bigCacheDiv: 8,
    parkAge: 8,
    idleRefills: 64,
  });
  assert.deepEqual(createHeap({ mode: 'balanced' }).stats().config.policy, base);
  const fast = createHeap({ mode: 'fast' }).stats().config.policy;
  assert.equal(fast.name, 'roomy');
  assert.ok(fast.settings.listRoom > base.settings.listRoom && fast.settings.slabMaxPages > base.settings.slabMaxPages);
  assert.equal(createHeap({ secure: true }).stats().config.secure, true);
});

test("modes: the fast policy is in force: its slabs grow larger than minimal's (fewer, for as many blocks)", () => {
  const slabsFor = (mode: 'minimal' | 'fast') => {
    const h = createHeap({ mode });
    for (let i = 0; i < 4000; i++) h.malloc(64);
    return h.stats().classes.find((c) => c.size === 64)!.slabs;
  };
  const minimal = slabsFor('minimal');
  const fast = slabsFor('fast');
  assert.ok(fast < minimal, `4000 blocks of 64 B: fast uses ${fast} slabs, minimal ${minimal}`);
});

test('modes: heap.policy() exports JSON; createHeap({ policy }) runs it (balanced) or starts frozen on it (learning); bad policies are errors', () => {
  const fast = createHeap({ mode: 'fast' }).policy();
  assert.equal(fast.hakmem, 'policy');
  assert.equal(fast.name, 'roomy');
  const text = JSON.stringify(fast);
  const b = createHeap({ mode: 'balanced', policy: text });
  assert.deepEqual(b.stats().config.policy, { name: 'roomy', settings: fast.settings });
  assert.deepEqual(b.policy().settings, fast.settings, 'exported again, the same settings');
  const l = createHeap({ mode: 'learning', policy: fast });
  const ls = l.stats().learning!;
  assert.equal(ls.state, 'frozen');
  assert.equal(ls.current, 'roomy');
  assert.deepEqual(l.stats().config.policy.settings, fast.settings);
  // A policy that matches no built-in candidate is a candidate of its own ('imported').
  const own = { ...fast, name: 'mine', settings: { ...fast.settings, listRoom: 8192, parkAge: 5 } };
  const l2 = createHeap({ mode: 'learning', policy: own });
  assert.equal(l2.stats().learning!.current, 'imported');
  assert.deepEqual(l2.stats().config.policy.settings, own.settings);
  const live: Live[] = [];
  runWorkload(l2, new Rng(9), 5000, live, { checkEvery: 1000 });
  freeAll(l2, live);
  l2.check();
  // Errors name what is wrong.
  const bad = (p: unknown, re: RegExp) =>
    assert.throws(
      () => createHeap({ mode: 'balanced', policy: p as never }),
      (e: unknown) => e instanceof Error && re.test(e.message),
      String(re),
    );
  bad('{not json', /not valid JSON/);
  bad({ ...fast, hakmem: 'x' }, /not a hakmem policy/);
  bad({ ...fast, version: 99 }, /policy format 99/);
  bad({ ...fast, heapFormat: 1 }, /heap format 1/);
  bad({ ...fast, settings: { ...fast.settings, slabMaxPages: 3 } }, /slabMaxPages must be one of 1, 2, 4, 8, 16, 32/);
  bad({ ...fast, settings: { ...fast.settings, listRoom: -1 } }, /listRoom must be an integer/);
  bad({ ...fast, settings: { ...fast.settings, placement: 'worst-fit' } }, /placement must be/);
  const { parkAge: _, ...missing } = fast.settings;
  bad({ ...fast, settings: missing }, /settings.parkAge is missing/);
  bad({ ...fast, settings: { ...fast.settings, parkage: 1 } }, /unknown option "parkage"/);
  assert.throws(
    () => createHeap({ mode: 'minimal', policy: fast }),
    (e: unknown) => e instanceof TypeError && /mode minimal runs a fixed policy/.test(e.message),
  );
});

test('modes: site handles work in every mode; research counts calls and bytes per site exactly', () => {
  for (const mode of MODES) {
    const h = createHeap({ mode });
    const s = h.site('parser');
    assert.equal(h.site('parser'), s, 'the same name, the same handle');
    assert.notEqual(h.site('lexer'), s);
    const p = s.malloc(100);
    h.u8[p + 99] = 7;
    const q = s.realloc(p, 3000);
    assert.equal(h.u8[q + 99], 7);
    const c = s.calloc(4, 8);
    assert.equal(h.u8[c + 31], 0);
    s.free(q);
    h.free(c); // a site's block may be freed by the heap too
    h.check();
    assert.equal(h.stats().inUseBlocks, 0);
    assert.throws(() => h.site(''), TypeError);
    assert.throws(
      () => h.site('x', { slab: 'private' } as never),
      (e: unknown) => e instanceof TypeError && /takes no hints yet/.test(e.message),
    );
  }
  const h = createHeap({ mode: 'research' });
  const a = h.site('a');
  const b = h.site('b');
  const ps: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 1000; i++) {
    const n = 16 + (i % 50) * 16;
    ps.push(a.malloc(n));
    bytes += n;
  }
  for (const p of ps.slice(0, 600)) a.free(p);
  for (const p of ps.slice(600)) b.free(p);
  const q = b.calloc(3, 100);
  const r = b.realloc(q, 5000);
  b.free(r);
  const sites = h.stats().sites!;
  const sa = sites.find((x) => x.name === 'a')!;
  const sb = sites.find((x) => x.name === 'b')!;
  assert.equal(sa.mallocs, 1000);
  assert.equal(sa.frees, 600);
  assert.equal(sa.bytes, bytes);
  assert.equal(
    sa.sizes.reduce((t, x) => t + x.count, 0),
    1000,
  );
  assert.equal(sa.sizes.find((x) => x.size === 16)!.count, 20, 'size 16: i % 50 === 0, 20 times');
  assert.equal(sb.mallocs, 2); // calloc and realloc
  assert.equal(sb.frees, 401);
  assert.equal(sb.bytes, 300 + 5000);
  assert.ok(sa.lifetimes.sampled > 0, 'some lifetimes are sampled (one block in about 64)');
  h.check();
});

/** The research record's bucket of a requested size, computed here from the public size classes. */
function bucketOf(size: number): number {
  if (size <= 32768) return SIZE_CLASSES.find((c) => c >= Math.max(size, 1))!;
  return 2 ** Math.ceil(Math.log2(size));
}

const traceFile = join(TRACE_DIR, 'python-json.trace.gz');
test("research: stats().sizes matches a trace's own size distribution within 2 points per size class", {
  skip: existsSync(traceFile) ? false : `no trace at ${traceFile}`,
}, () => {
  const t = loadTrace(traceFile);
  // The trace's requests: every op but free (a realloc to 0 frees: no request).
  const want = new Map<number, number>();
  let requests = 0;
  for (let i = 0; i < t.ops; i++) {
    const k = t.kind[i]!;
    if (k === OP_F || (k === OP_R && t.size[i] === 0)) continue;
    const b = bucketOf(t.size[i]!);
    want.set(b, (want.get(b) ?? 0) + 1);
    requests++;
  }
  const h = createHeap({ mode: 'research', maxBytes: 1 << 30 });
  const ptrs = new Float64Array(t.ids);
  const sizes = new Float64Array(t.ids);
  assert.equal(replay(h as unknown as Parameters<typeof replay>[0], t, ptrs, sizes, t.ops), 0, 'the replay verified every block');
  const s = h.stats().sizes!;
  assert.equal(s.every, 64);
  // One request in 64 on average: the count is within 5% of requests / 64.
  assert.ok(Math.abs(s.samples - requests / 64) < 0.05 * (requests / 64), `${s.samples} samples of ${requests} requests`);
  let worst = 0;
  let worstAt = 0;
  for (const b of new Set([...want.keys(), ...s.buckets.map((x) => x.size)])) {
    const got = s.buckets.find((x) => x.size === b)?.share ?? 0;
    const d = Math.abs(got - (want.get(b) ?? 0) / requests);
    if (d > worst) [worst, worstAt] = [d, b];
  }
  assert.ok(worst <= 0.02, `the sampled share of size class ${worstAt} is ${(worst * 100).toFixed(2)} points off the trace's`);
  h.check();
});
