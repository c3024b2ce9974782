/**
 * Validation of what callers pass: sizes (isU32 on the fast paths' slow side, checkSize naming a
 * value that is not a size) and createHeap's options (numbers in range; unknown keys are errors).
 * Every message names the value and starts with "hakmem: ".
 */
import { describe } from './errors.ts';

/** Whether v is a number that is a uint32 (a BigInt is not: `>>>` would throw V8's own TypeError). */
export function isU32(v: unknown): v is number {
  return typeof v === 'number' && v >>> 0 === v;
}

/**
 * Throws unless v is a size: a non-negative integer up to 2^53 (TypeError for a non-number,
 * RangeError otherwise, naming the value). A size larger than a heap can hold is no error: the
 * call returns 0, as C's malloc returns NULL.
 */
export function checkSize(v: unknown, what: string): void {
  if (typeof v !== 'number') throw new TypeError(`hakmem: ${what} must be a number, got ${describe(v)}`);
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`hakmem: ${what} must be an integer from 0 to 2^53 - 1, got ${describe(v)}`);
}

export function checkOption(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number') throw new TypeError(`hakmem: option ${name} must be a number, got ${describe(v)}`);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`hakmem: option ${name} must be an integer from ${min} to ${max}, got ${describe(v)}`);
  }
  return v;
}

/** The options createHeap reads; any other key is a TypeError (a misspelled option must not be ignored). */
export const OPTION_KEYS = [
  'memory',
  'initialBytes',
  'maxBytes',
  'start',
  'end',
  'maxThreads',
  'name',
  'secure',
  'mode',
  'policy',
  'learn',
];

/** Throws a TypeError naming the keys of `options` that are not in `known` (with the nearest known one). */
export function checkOptionKeys(options: object, known: readonly string[], what: string): void {
  for (const k of Object.keys(options)) {
    if (known.includes(k)) continue;
    const near = known.map((n) => [n, editDistance(n.toLowerCase(), k.toLowerCase())] as const).sort((a, b) => a[1] - b[1])[0];
    const hint = near && near[1] <= 3 ? ` (did you mean ${near[0]}?)` : '';
    throw new TypeError(`hakmem: ${what}: unknown option ${JSON.stringify(k)}${hint}; options are ${known.join(', ')}`);
  }
}

/** Levenshtein distance (the nearest-name hints of option and mode errors). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
