// The pair loop of the in-process A/B tools (synthetic/ab.ts, trace/ab.ts): PAIRS pairs of runs of
// this tree and the other, alternating which goes first, so that the ratio of each pair cancels
// the machine's slow drifts.

export interface AbResult {
  /** medians of this tree's and the other tree's runs */
  mine: number;
  theirs: number;
  /** this / other per pair: median, min, max */
  ratio: number;
  min: number;
  max: number;
  /** every run, in pair order */
  mineRuns: number[];
  theirRuns: number[];
}

export const median = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1]!;

/** `run(0)` runs this tree once, `run(1)` the other; both return the time per op. */
export function abPairs(pairs: number, run: (which: 0 | 1) => number): AbResult {
  const mine: number[] = [];
  const theirs: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const first = (i & 1) as 0 | 1;
    const a = run(first);
    const b = run((1 - first) as 0 | 1);
    const t = first === 0 ? a : b;
    const o = first === 0 ? b : a;
    mine.push(t);
    theirs.push(o);
    ratios.push(t / o);
  }
  return {
    mine: median(mine),
    theirs: median(theirs),
    ratio: median(ratios),
    min: Math.min(...ratios),
    max: Math.max(...ratios),
    mineRuns: mine,
    theirRuns: theirs,
  };
}
