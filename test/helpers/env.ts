/** Settings the long tests take from the environment (HAKMEM_KILL_ROUNDS, HAKMEM_FUZZ_OPS, ...). */

/** A positive integer from the environment, or `dflt`. */
export function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`${name}=${v} is not a positive integer`);
  return n;
}
