/**
 * Minimal reproductions of what the fuzz campaigns (test/helpers/fuzz-campaign.ts) found, one line each:
 * `node --import tsx test/helpers/fuzz-repros-cli.ts`. Each prints "BUG" while the behaviour differs from the
 * README, "ok" once fixed (1-3 were fixed in 039bd66; the fuzz tests cover them). Not a test file.
 */
import * as release from '../../src/index.ts';
import * as debug from '../../src/debug.ts';

function outcome(f: () => unknown): string {
  try {
    return `returned ${String(f())}`;
  } catch (e) {
    return `threw ${(e as Error).name}`;
  }
}

function report(what: string, got: string, want: string): void {
  console.log(`${got.startsWith(want) ? 'ok ' : 'BUG'}  ${what}: ${got} (README: ${want})`);
}

// 1. release: a detached Heap still serves calls that take the heap lock (as thread 0, which is the
//    lock's "free" value: no mutual exclusion with other threads while it runs) or only resolve.
{
  const h = release.createHeap();
  const a = release.attachHeap(h.handle);
  const small = h.malloc(100);
  const large = h.malloc(100_000);
  a.detach();
  report(
    'release, detached: alignedAlloc(8192, 100)',
    outcome(() => a.alignedAlloc(8192, 100)),
    'threw DetachedError',
  );
  report(
    'release, detached: realloc(large block, +40000)',
    outcome(() => a.realloc(large, 140_000)),
    'threw DetachedError',
  );
  report(
    'release, detached: realloc(small block, same size)',
    outcome(() => a.realloc(small, 100)),
    'threw DetachedError',
  );
  report(
    'release, detached: usableSize(live block)',
    outcome(() => a.usableSize(small)),
    'threw DetachedError',
  );
}

// 2. debug: a detached DebugHeap poisons a live block on free(p) / realloc(p, 0) before the core
//    throws DetachedError: the block's contents are lost and its owner's free() then fails.
{
  const h = debug.createHeap();
  const a = debug.attachHeap(h.handle);
  const p = h.malloc(100);
  h.u8.fill(7, p, p + 100);
  a.detach();
  report(
    'debug, detached: free(0)',
    outcome(() => a.free(0)),
    'threw DetachedError',
  );
  report(
    'debug, detached: free(live block)',
    outcome(() => a.free(p)),
    'threw DetachedError',
  );
  report('debug, detached: ... the block is left alone (byte 0 is 7)', `byte 0 is ${h.u8[p]}`, 'byte 0 is 7');
  report(
    'debug, detached: ... its owner can free it',
    outcome(() => h.free(p)),
    'returned undefined',
  );
}

// 3. debug: a write after free of a small aligned block (pointer inside its core block) is missed.
{
  const h = debug.createHeap();
  const p = h.alignedAlloc(4096, 300);
  h.free(p);
  h.u8[p + 100]! ^= 1;
  report(
    'debug: check() after a write into a freed alignedAlloc(4096, 300) block',
    outcome(() => h.check()),
    'threw UseAfterFreeError',
  );
}

// 4. both: pointers that are not numbers but BigInts hit the engine's arithmetic first: a TypeError,
//    as the README says, but not hakmem's (the message does not name the value).
{
  const h = release.createHeap();
  let msg = '';
  try {
    h.free(16n as unknown as number);
  } catch (e) {
    msg = (e as Error).message;
  }
  report(
    'release: free(16n) message names the value',
    msg.startsWith('hakmem') ? 'hakmem message' : `engine message "${msg}"`,
    'hakmem message',
  );
}
