/**
 * Size classes: 16-byte steps up to 128 B, then 8 classes per doubling (spacing <= 12.5%) up to
 * SLAB_MAX (32 KiB). Classes up to 1 KiB are the "small" front end, the rest the "mid" tier; both
 * are served from slabs (runs of pages cut into equal blocks). Larger requests are large blocks.
 *
 * `CLASS_OF[(size + 15) >>> 4]` maps a size to its class in one load: the malloc fast path.
 */
import {
  CLASS_MAP_ENTRIES,
  DIRECT_ENTRIES,
  H_ABANDONED,
  H_CLASS_MAP,
  H_DEAD_DIRECT,
  H_LEARN,
  PAGE,
  T_DIRECT,
  T_IDLE,
  T_LIMIT,
  T_LISTS,
  T_ROUTES,
  T_ROUTE_WORDS,
  T_SIZES,
  T_TIDY_DIRTY,
  slabHeaderBytes,
} from './layout.ts';

export const SMALL_MAX = 1024;
export const SLAB_MAX = 32768;

function buildSizes(): number[] {
  const sizes: number[] = [];
  for (let s = 16; s <= 128; s += 16) sizes.push(s);
  for (let base = 128; base < SLAB_MAX; base *= 2) {
    const step = base / 8;
    for (let k = 1; k <= 8; k++) sizes.push(base + k * step);
  }
  return sizes;
}

/** Block size of each class. */
export const CLASS_SIZE: readonly number[] = buildSizes();
export const NCLASSES = CLASS_SIZE.length;

/** CLASS_OF[(size + 15) >>> 4] = the smallest class whose blocks hold `size` bytes. */
export const CLASS_OF: Uint8Array = new Uint8Array((SLAB_MAX >>> 4) + 1);
{
  let c = 0;
  for (let g = 0; g < CLASS_OF.length; g++) {
    const size = g * 16;
    while (CLASS_SIZE[c]! < size) c++;
    CLASS_OF[g] = c;
  }
}

/**
 * Pages per slab for each class: the smallest slab that holds enough blocks (8 below 1 KiB, 4 up to
 * 8 KiB, 2 above) with at most 1/16 of it wasted; otherwise the least wasteful up to 32 pages.
 * Small slabs keep memory low when many threads each hold a partly used slab per class.
 */
function buildSlabPages(): number[] {
  return CLASS_SIZE.map((size) => {
    const minBlocks = size <= SMALL_MAX ? 8 : size <= 8192 ? 4 : 2;
    let best = 0;
    let bestWaste = Infinity;
    for (let pages = 1; pages <= 32; pages++) {
      const area = pages * PAGE - slabHeaderBytes(pages);
      const blocks = Math.floor(area / size);
      if (blocks < minBlocks) continue;
      const waste = (pages * PAGE - blocks * size) / (pages * PAGE);
      if (waste <= 1 / 16) return pages;
      if (waste < bestWaste) {
        bestWaste = waste;
        best = pages;
      }
    }
    return best;
  });
}

export const SLAB_PAGES: readonly number[] = buildSlabPages();

/** Class of a size <= SLAB_MAX (no validation). */
export function classOf(size: number): number {
  return CLASS_OF[(size + 15) >>> 4]!;
}

/**
 * Front end (thread free lists, layout.ts T_LISTS): how many blocks of each class a thread's list
 * holds comes from the policy's list room (policy.ts listLimit: about P_ROOM bytes of blocks, 2 to
 * 31; kept per thread in T_LIMIT), and one refill moves half that from a slab, at most
 * REFILL_FRESH_BYTES of never-used memory (REFILL_CAP blocks): a refill touches at most two or
 * three fresh pages, so no single malloc pays for many page faults.
 */
export const REFILL_FRESH_BYTES = 8192;

/**
 * The block-start test of the free fast path, per class: with x the 16-byte granule of a pointer
 * counted from block 0 of its slab (blocks start SLAB_HEADER_BYTES into every slab), x is a block
 * start iff x >= 0 and (Math.imul(x, c) >>> 0) <= ((c - 1) >>> 0) for c = BLOCK_DIV[cls]: x
 * divisible by q = size / 16 by one multiply (Lemire, Kaser, Kurz, "Faster remainder by direct
 * computation", 2019: c = ceil(2^32 / q) is exact for x < 2^(32 - ceil(log2 q)); slabs have under
 * 2^13 granules). For q = 1 (every granule a block start) c = 0, and the test always holds.
 */
export const BLOCK_DIV: Int32Array = new Int32Array(CLASS_SIZE.map((size) => (size === 16 ? 0 : Math.ceil(2 ** 32 / (size / 16)) | 0)));
/** Blocks of never-used memory one refill of each class may take at most (REFILL_FRESH_BYTES / size). */
export const REFILL_CAP: Int32Array = new Int32Array(CLASS_SIZE.map((size) => Math.max(1, Math.floor(REFILL_FRESH_BYTES / size))));

// layout.ts sizes the header's and the thread record's per-class and per-granule tables with
// literals (it sits below this file); they must agree with the classes built here.
const LAYOUT_AGREES: [boolean, string][] = [
  [NCLASSES === 72, 'NCLASSES = 72 (T_QHEAD .. T_RELISTS, T_IDLE)'],
  [DIRECT_ENTRIES === (SMALL_MAX >>> 4) + 1, 'DIRECT_ENTRIES = SMALL_MAX / 16 + 1'],
  [CLASS_MAP_ENTRIES === CLASS_OF.length, 'CLASS_MAP_ENTRIES = SLAB_MAX / 16 + 1'],
  [H_DEAD_DIRECT - H_ABANDONED >= NCLASSES, 'H_ABANDONED holds NCLASSES words'],
  [H_CLASS_MAP - H_DEAD_DIRECT >= DIRECT_ENTRIES, 'H_DEAD_DIRECT holds DIRECT_ENTRIES words'],
  [H_LEARN - H_CLASS_MAP >= CLASS_MAP_ENTRIES, 'H_CLASS_MAP holds CLASS_MAP_ENTRIES words'],
  [T_DIRECT >= T_TIDY_DIRTY + 3 && T_DIRECT + DIRECT_ENTRIES <= T_LISTS, 'T_DIRECT fits between T_TIDY_DIRTY and T_LISTS'],
  [T_LIMIT - T_IDLE >= NCLASSES && T_SIZES - T_LIMIT >= NCLASSES, 'T_IDLE and T_LIMIT hold NCLASSES words'],
  [T_ROUTES + T_ROUTE_WORDS <= PAGE / 4, 'a thread record fits its page'],
];
for (const [ok, what] of LAYOUT_AGREES) if (!ok) throw new Error(`hakmem: layout.ts disagrees with size-classes.ts: ${what}`);
