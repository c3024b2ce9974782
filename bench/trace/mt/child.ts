// One multi-thread trace replay in this process (bench/trace/mt/core.ts's replayMtTrace), one JSON
// line. The driver is bench/trace/mt/run.ts.
//
//   node --import tsx bench/trace/mt/child.ts --file ../shared/traces/python-threads.trace.gz
//        --alloc hakmem|mt-floor [--ops N] [--warm-runs 3] [--warm-ops N] [--marks]
import { parseArgs } from 'node:util';
import { replayMtTrace, type MtReplayResult } from './core.ts';

const { values } = parseArgs({
  options: {
    file: { type: 'string' },
    alloc: { type: 'string', default: 'hakmem' },
    ops: { type: 'string' },
    'warm-runs': { type: 'string' },
    'warm-ops': { type: 'string' },
    // print "# timed replay start/end" on stdout, to place --trace-deopt lines (use stdbuf -o0)
    marks: { type: 'boolean', default: false },
  },
});
if (!values.file) throw new Error('--file FILE.trace.gz is required');
let out: MtReplayResult | { error: string };
try {
  out = await replayMtTrace(values.file, values.alloc!, {
    upTo: values.ops ? Number(values.ops) : undefined,
    warmRuns: values['warm-runs'] !== undefined ? Number(values['warm-runs']) : undefined,
    warmOps: values['warm-ops'] !== undefined ? Number(values['warm-ops']) : undefined,
    marks: values.marks,
  });
} catch (e) {
  out = { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
}
process.stdout.write(JSON.stringify(out) + '\n');
