/**
 * The API reference and the published types: TypeDoc builds the reference of every entry point
 * with no warning (a broken {@link}, an exported type it cannot reach), and the .d.ts a user's
 * editor reads shows the API only: the allocator's internals (marked @internal, removed by the
 * build's stripInternal) are not members of the published Heap. `npm test` builds dist/ first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

test('npm run docs: TypeDoc builds the API reference with no warning', () => {
  // treatWarningsAsErrors (typedoc.json): any warning fails the run
  const out = execFileSync(process.execPath, [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--emit', 'none'], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.doesNotMatch(out, /\[warning\]|\[error\]/, out);
});

test('the published Heap type shows the API, not the allocator internals', () => {
  const dts = readFileSync(join(root, 'dist', 'heap.d.ts'), 'utf8');
  const body = /export declare class Heap\b[^{]*\{([\s\S]*?)\n\}/.exec(dts);
  assert.ok(body, 'dist/heap.d.ts declares no class Heap');
  const members = new Set([...body[1].matchAll(/^ {4}(?:readonly |get |protected |private )*(\w+)\b/gm)].map((m) => m[1]));
  for (const api of [
    'malloc',
    'free',
    'calloc',
    'realloc',
    'alignedAlloc',
    'usableSize',
    'mallocArray',
    'u8',
    'i32',
    'f64',
    'generation',
    'stats',
    'check',
    'detach',
    'reclaimThread',
    'threadToken',
    'handle',
  ]) {
    assert.ok(members.has(api), `the published Heap lacks ${api}`);
  }
  for (const internal of [
    'm32',
    'm8',
    'm64',
    'hw',
    'topw',
    'tl',
    'tdir',
    'rec',
    'cmap',
    'markKey',
    'ownSlabKey',
    'sentinel',
    'lock',
    'unlock',
    'allocPages',
    'freePages',
    'extendPages',
    'growTo',
    'syncViews',
    'readLink',
    'writeLink',
    'markRemotePending',
  ]) {
    assert.ok(!members.has(internal), `the published Heap shows the internal member ${internal} (mark it @internal)`);
  }
});
