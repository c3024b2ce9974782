// The built package, imported the way a user does: `import { createHeap } from 'hakmem'` resolves
// through package.json "exports" to dist/ (npm test runs `npm run build` first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

test('dist/ exists with ESM and type declarations', () => {
  for (const f of ['index.js', 'index.d.ts', 'heap.js', 'heap.d.ts']) {
    assert.ok(existsSync(join(root, 'dist', f)), `dist/${f} is missing: run npm run build`);
  }
});

test("a user's project imports hakmem by name and uses it", () => {
  const dir = mkdtempSync(join(tmpdir(), 'hakmem-user-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'hakmem'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(
    join(dir, 'main.js'),
    `
    import { createHeap, DoubleFreeError } from 'hakmem';
    const heap = createHeap();
    const p = heap.malloc(100);
    heap.u8[p] = 42;
    const f = heap.array(Float64Array, heap.malloc(80), 10);
    f[9] = 1.5;
    heap.free(p);
    let named = '';
    try { heap.free(p); } catch (e) { named = e instanceof DoubleFreeError ? e.name : 'other'; }
    heap.check();
    console.log(JSON.stringify({ p: p % 16, named, f: f[9] }));
  `,
  );
  const out = execFileSync(process.execPath, ['main.js'], { cwd: dir, encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), { p: 0, named: 'DoubleFreeError', f: 1.5 });
});

test('the type declarations compile for a TypeScript user', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hakmem-ts-user-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'hakmem'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(
    join(dir, 'main.ts'),
    `
    import { createHeap, type HeapStats } from 'hakmem';
    const heap = createHeap({ memory: 'array', maxBytes: 1 << 24 });
    const p: number = heap.malloc(64);
    const s: HeapStats = heap.stats();
    const v: Float64Array = heap.array(Float64Array, p, 8);
    export const out = [p, s.inUseBytes, v.length];
  `,
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        noEmit: true,
        skipLibCheck: false,
        lib: ['ES2024', 'DOM'],
        types: [],
      },
      files: ['main.ts'],
    }),
  );
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
});
