/**
 * The byte pattern of test/edge.test.ts and of the model (model.ts): byte i of a block with seed s
 * holds bytePat(s, i), never 0 (so a calloc that did not zero shows). A block of up to `full` bytes
 * carries it on every byte; a larger one on samples: its first and last 64 bytes and the two bytes
 * on each side of every 4 KiB boundary.
 */

const EDGE = 64;
const STEP = 4096;

export function bytePat(seed: number, i: number): number {
  return 1 + ((seed + i * 13) % 255);
}

/** Writes the pattern of `seed` over the n bytes at p (all of them, or the samples when n > full). */
export function writeBytePattern(u8: Uint8Array, p: number, n: number, seed: number, full: number): void {
  if (n <= full) {
    for (let i = 0; i < n; i++) u8[p + i] = bytePat(seed, i);
    return;
  }
  for (let i = 0; i < EDGE; i++) u8[p + i] = bytePat(seed, i);
  for (let i = n - EDGE; i < n; i++) u8[p + i] = bytePat(seed, i);
  for (let i = STEP; i < n; i += STEP) {
    u8[p + i - 1] = bytePat(seed, i - 1);
    u8[p + i] = bytePat(seed, i);
  }
}

/**
 * The first byte offset below `limit` where writeBytePattern(u8, p, n, seed, full) is not found, in
 * the order written (first bytes, last bytes, 4 KiB boundaries), or -1.
 */
export function firstWrongByte(u8: Uint8Array, p: number, n: number, seed: number, limit: number, full: number): number {
  limit = Math.min(limit, n);
  if (n <= full) {
    for (let i = 0; i < limit; i++) if (u8[p + i] !== bytePat(seed, i)) return i;
    return -1;
  }
  for (let i = 0; i < Math.min(EDGE, limit); i++) if (u8[p + i] !== bytePat(seed, i)) return i;
  for (let i = n - EDGE; i < limit; i++) if (u8[p + i] !== bytePat(seed, i)) return i;
  for (let i = STEP; i < n && i <= limit; i += STEP) {
    if (u8[p + i - 1] !== bytePat(seed, i - 1)) return i - 1;
    if (i < limit && u8[p + i] !== bytePat(seed, i)) return i;
  }
  return -1;
}
