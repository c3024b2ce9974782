// The multi-thread trace of ../shared/traces (python-threads: 5 threads, ~15% cross-thread frees)
// replayed against hakmem with one worker per trace thread, every op in the recorded global order
// (bench/trace-mt.ts). Checks: every block's contents (a pattern at both ends, verified at free and
// realloc by whichever thread ends it), no block past a thread's refreshed heap view, and at the
// end, with the workers attached and quiet, check() passes and stats() holds exactly the blocks
// the trace leaves live; after the workers detach and the main thread frees those blocks,
// check() passes with 0 bytes in use.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { replayMtTrace } from '../bench/trace/mt/core.ts';
import { TRACE_DIR } from '../bench/trace/core.ts';

const FILE = join(TRACE_DIR, 'python-threads.trace.gz');
const skip = existsSync(FILE) ? false : `${FILE} is absent (the shared traces are not installed): multi-thread trace replay not run`;

test('python-threads: one worker per trace thread, recorded order, contents verified, everything freed at the end', {
  skip,
  timeout: 120_000,
}, async () => {
  const r = await replayMtTrace(FILE, 'hakmem', { warmRuns: 0 });
  assert.equal(r.error, undefined, `replay failed: ${r.error}`);
  assert.equal(r.threads, 5);
  assert.equal(r.ops, 2_501_891);
  assert.ok(r.crossThread > 100_000, `cross-thread frees/reallocs: ${r.crossThread}`);
  assert.equal(r.failures, 0, "blocks whose contents were damaged (or out of a thread's view: reads through heap.u8 would fail)");
  assert.equal(r.liveAtEndBlocks, 506); // the trace's meta line: live_at_end_blocks=506
  assert.equal(r.liveAtEndBytes, 65_568); // live_at_end_bytes=65568
  assert.equal(r.endCheck, '');
});
