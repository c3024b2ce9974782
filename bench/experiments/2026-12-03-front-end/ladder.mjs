// The ladder: from the bench's bare floor to a hakmem-like slab allocator, one feature at a time,
// each timed on workload A (8192 slots, seed 42, rand2) with the same loop.
//   node --import tsx bench/experiments/2026-12-03-front-end/ladder.mjs VARIANT [CYCLES=3000000]
// One variant per process (run.sh interleaves them): 3 warm-ups of 200k cycles, then 9 timed runs of
// CYCLES cycles on fresh instances over one pre-touched, zeroed 64 MiB buffer; prints the median, min
// and max ns/op. Every class is generated from source text with its options as literals (new Function),
// so V8 compiles each variant on its own, as a monomorphic allocator would be.
// Variants (see the `variants` table):
//   floor        bench/peers/floor.ts: a 16-byte header per block holds its class; one LIFO list per class
//   floorFifo    the floor with FIFO lists (a freed block is reused last, as from a slab's list)
//   floorBitmap  the floor + an allocated bit per 16-byte granule, dense by address, checked at free
//   floorMarker  the floor + a marker word in each free block, checked at free, cleared at malloc
//   slab*        16 KiB slabs, 16 KiB aligned, one class each; a free list per slab; malloc pops the
//                current slab of the class, then the oldest partial slab (FIFO), then a new slab;
//                free pushes onto the block's slab's list, found by arithmetic (ptr >>> 14)
//     ...Arith   nothing else; ...Bitmap: + an allocated bitmap in the slab header (hakmem's layout);
//     ...Pm      the slab found through a two-level page map (hakmem's) instead of arithmetic
//   dense*       as slab*, with slab headers in one dense table and the bitmap dense by address
//     ...Owner   + free compares the slab's owner with this thread (hakmem's fast-path ownership test)
//     ...Marker  double frees found by a marker word in free blocks instead of a bitmap
//   *Cache       + a per-class LIFO cache of up to 64 freed blocks in front of the slabs
//   tcache       ../shared/sketches/front-end-sketch.mjs's design: per-class LIFO lists in a thread record in front of
//                16 KiB slabs, a page-map entry with class + owner, a marker word, bitmaps touched in batches of 32
//   hakmem       src/index.ts createHeap() over a pre-touched SharedArrayBuffer (same loop)
//   hakmemBase   the same for the tree in HAKMEM_BASE_SRC (an older commit)
// The variants are sketches for timing, not allocators: no growth, no large blocks, no error paths.
const SLAB = 16384, SHIFT = 14;
const CAP = 64 << 20;
const BMW = 12 << 20; // word index of FloorBitmap's bitmap (bytes 48..50 MiB)

class Floor {
  constructor(buf) { this.i32 = buf; buf.fill(0); this.top = 4096; }
  malloc(size) {
    const c = (size + 15) >>> 4; const p = this.i32[c];
    if (p !== 0) { this.i32[c] = this.i32[p >>> 2]; return p; }
    return this.bump(c);
  }
  bump(c) { const h = this.top; this.i32[h >>> 2] = c; this.top = h + 16 + (c << 4); return h + 16; }
  free(p) { const c = this.i32[(p >>> 2) - 4]; this.i32[p >>> 2] = this.i32[c]; this.i32[c] = p; }
}

// The floor plus an allocated bit per 16-byte granule, dense by address (set at malloc, checked and
// cleared at free): the O(1) double-free detection issue 2 asks for, on the floor's own design.
class FloorBitmap {
  constructor(buf) { this.i32 = buf; buf.fill(0); this.top = 4096; }
  malloc(size) {
    const c = (size + 15) >>> 4; const p = this.i32[c];
    if (p !== 0) { this.i32[c] = this.i32[p >>> 2]; this.i32[BMW + (p >>> 9)] |= 1 << (p >>> 4); return p; }
    return this.bump(c);
  }
  bump(c) { const h = this.top; this.i32[h >>> 2] = c; this.top = h + 16 + (c << 4); this.i32[BMW + ((h + 16) >>> 9)] |= 1 << ((h + 16) >>> 4); return h + 16; }
  free(p) {
    const w = BMW + (p >>> 9); const bits = this.i32[w]; const bit = 1 << (p >>> 4);
    if ((bits & bit) === 0) throw new Error('double free');
    this.i32[w] = bits ^ bit;
    const c = this.i32[(p >>> 2) - 4]; this.i32[p >>> 2] = this.i32[c]; this.i32[c] = p;
  }
}
// The floor plus a marker word in each free block (its second word = p ^ key): a free that finds
// the marker is a double free (a real allocator would confirm it on a slow path); malloc clears it.
class FloorMarker {
  constructor(buf) { this.i32 = buf; buf.fill(0); this.top = 4096; }
  malloc(size) {
    const c = (size + 15) >>> 4; const p = this.i32[c];
    if (p !== 0) { this.i32[c] = this.i32[p >>> 2]; this.i32[(p >>> 2) + 1] = 0; return p; }
    return this.bump(c);
  }
  bump(c) { const h = this.top; this.i32[h >>> 2] = c; this.top = h + 16 + (c << 4); return h + 16; }
  free(p) {
    if (this.i32[(p >>> 2) + 1] === (p ^ 0x5a5a5a5a)) throw new Error('double free?');
    this.i32[(p >>> 2) + 1] = p ^ 0x5a5a5a5a;
    const c = this.i32[(p >>> 2) - 4]; this.i32[p >>> 2] = this.i32[c]; this.i32[c] = p;
  }
}
class FloorFifo {
  constructor(buf) { this.i32 = buf; buf.fill(0); this.top = 4096; this.tail = new Int32Array(80); }
  malloc(size) {
    const c = (size + 15) >>> 4; const p = this.i32[c];
    if (p !== 0) { const n = this.i32[p >>> 2]; this.i32[c] = n; if (n === 0) this.tail[c] = 0; return p; }
    return this.bump(c);
  }
  bump(c) { const h = this.top; this.i32[h >>> 2] = c; this.top = h + 16 + (c << 4); return h + 16; }
  free(p) { const c = this.i32[(p >>> 2) - 4]; this.i32[p >>> 2] = 0; const t = this.tail[c]; if (t !== 0) this.i32[t >>> 2] = p; else this.i32[c] = p; this.tail[c] = p; }
}
// Slabs of 16 KiB aligned; header words: 0 head, 1 class, 2 next(partial), 3 inqueue/full flag, 16..47 bitmap
function makeSlabClass(opts) {
  const { bitmap, pagemap, cache, hdrOff, dense, marker, owner } = opts;
  let src = `return class Slab {
    constructor(buf) {
      this.m = buf; buf.fill(0);
      this.top = 2 << 20; // first slab
      this.cur = new Int32Array(80); // class -> slab word index (0 = none)
      this.qh = new Int32Array(80); this.qt = new Int32Array(80);
      this.ch = new Int32Array(80); this.cn = new Int32Array(80);
      this.leafBase = 262144; // words: page map leaf at m[1024..], top at m[512]
      for (let k = 0; k < 16; k++) this.m[512 + k] = this.leafBase + k * 1024;
    }
    newSlab(c) {
      const base = this.top; this.top += SLAB;
      const s = dense ? HB + ((base >>> SHIFT) << 4) : (base >>> 2) + hdrOff;
      const m = this.m;
      const bs = c << 4;
      let first = dense ? base : base + 256; first = ((first + 15) >> 4) << 4;
      let prev = 0;
      // build list in address order
      let head = 0;
      for (let p = base + SLAB - bs; p >= first; p -= bs) { if (p + bs > base + SLAB) continue; m[p >>> 2] = head; if (marker) m[(p >>> 2) + 1] = p ^ 0x5a5a5a5a; head = p; }
      m[s] = head; m[s + 1] = c; m[s + 2] = 0; m[s + 3] = 0; m[s + 4] = 1;
      for (let i = 0; i < 4; i++) m[this.leafBase + (base >>> 12) + i] = (s << 2) | i;
      return s;
    }
    malloc(size) {
      const c = (size + 15) >>> 4;
      const s = this.cur[c];
      if (cache) {
        const h = this.ch[c];
        if (h !== 0) { this.ch[c] = this.m[h >>> 2]; this.cn[c]--; if (bitmap) { const ss = (((h >>> SHIFT) << SHIFT) >>> 2) + hdrOff;  if (dense) this.m[BB + (h >>> 9)] |= 1 << (h >>> 4); else this.m[ss + 16 + ((h & (SLAB - 1)) >>> 9)] |= 1 << (h >>> 4); } return h; }
      }
      const m = this.m;
      const p = m[s];
      if (p > 0) {
        m[s] = m[p >>> 2];
        if (marker) m[(p >>> 2) + 1] = 0;
        if (bitmap) { if (dense) m[BB + (p >>> 9)] |= 1 << (p >>> 4); else m[s + 16 + ((p & (SLAB - 1)) >>> 9)] |= 1 << (p >>> 4); }
        return p;
      }
      return this.slow(c);
    }
    slow(c) {
      const m = this.m;
      const s = this.cur[c];
      if (s !== 0) m[s + 3] = 1; // full (not queued)
      let n = this.qh[c];
      if (n !== 0) { this.qh[c] = m[n + 2]; if (this.qh[c] === 0) this.qt[c] = 0; m[n + 3] = 0; }
      else n = this.newSlab(c);
      this.cur[c] = n;
      const p = m[n];
      m[n] = m[p >>> 2];
      if (marker) m[(p >>> 2) + 1] = 0;
      if (bitmap) { if (dense) m[BB + (p >>> 9)] |= 1 << (p >>> 4); else m[n + 16 + ((p & (SLAB - 1)) >>> 9)] |= 1 << (p >>> 4); }
      return p;
    }
    free(p) {
      const m = this.m;
      let s;
      if (pagemap) { const e = m[m[512 + (p >>> 22)] + ((p >>> 12) & 1023)]; s = e >>> 2; }
      else if (dense) s = HB + ((p >>> SHIFT) << 4); else s = (((p >>> SHIFT) << SHIFT) >>> 2) + hdrOff;
      if (bitmap) {
        const w = dense ? BB + (p >>> 9) : s + 16 + ((p & (SLAB - 1)) >>> 9); const bits = m[w]; const bit = 1 << (p >>> 4);
        if ((bits & bit) === 0) throw new Error('double free');
        m[w] = bits ^ bit;
      }
      if (cache) {
        const c = m[s + 1];
        if (this.cn[c] < 64) { m[p >>> 2] = this.ch[c]; this.ch[c] = p; this.cn[c]++; return; }
      }
      if (owner) { if (m[s + 4] !== 1) throw new Error('remote'); }
      if (marker) { if (m[(p >>> 2) + 1] === (p ^ 0x5a5a5a5a)) throw new Error('double free?'); m[(p >>> 2) + 1] = p ^ 0x5a5a5a5a; }
      const head = m[s];
      m[p >>> 2] = head; m[s] = p;
      if (head === 0 && m[s + 3] === 1) this.relist(s);
    }
    relist(s) {
      const m = this.m; const c = m[s + 1];
      m[s + 3] = 2; m[s + 2] = 0;
      if (this.qt[c] !== 0) m[this.qt[c] + 2] = s; else this.qh[c] = s;
      this.qt[c] = s;
    }
  };
`;
  src = src.replace(/\b(bitmap|pagemap|cache|hdrOff|dense|marker|owner)\b(?!:)/g, (k) => String(opts[k] ?? false));
  return new Function('SLAB', 'SHIFT', 'HB', 'BB', src)(SLAB, SHIFT, 8192, 131072);
}
const loopSrc = `
  let s = seed >>> 0; let sum = 0;
  for (let i = 0; i < cycles; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const idx = s & (ws - 1);
    const p = slots[idx];
    if (p !== 0) { h.free(p); slots[idx] = 0; }
    else {
      let r = s; r ^= r << 13; r >>>= 0; r ^= r >>> 17; r ^= r << 5; r >>>= 0; s = r;
      const size = 16 + (r & 0x3ff);
      const q = h.malloc(size); w[q >>> 2] |= 1; slots[idx] = q;
    }
  }
  return sum;`;

class Tcache {
  constructor(buf) {
    this.m = buf; buf.fill(0);
    this.top = 2 << 20;
    this.TR = 1024;            // thread record: heads at TR + c, counts at TR + 128 + c
    this.cur = new Int32Array(80);
    this.leafBase = 262144;
    for (let k = 0; k < 16; k++) this.m[512 + k] = this.leafBase + k * 1024;
    this.key = (1 << 16) | (1 << 8); // slab kind | owner tid 1
  }
  newSlab(c) {
    const m = this.m; const base = this.top; this.top += SLAB;
    const s = base >>> 2; const bs = c << 4;
    let head = 0; const first = base + 256;
    for (let p = base + SLAB - bs; p >= first; p -= bs) { m[p >>> 2] = head; m[(p >>> 2) + 1] = p ^ 0x5a5a5a5a; head = p; }
    m[s] = head; m[s + 1] = c;
    for (let i = 0; i < 4; i++) m[this.leafBase + (base >>> 12) + i] = c | this.key;
    return s;
  }
  malloc(size) {
    const c = (size + 15) >>> 4; const m = this.m;
    const p = m[this.TR + c];
    if (p > 0) { m[this.TR + c] = m[p >>> 2]; m[this.TR + 128 + c]--; m[(p >>> 2) + 1] = 0; return p; }
    return this.refill(c);
  }
  refill(c) {
    // take up to 32 blocks from the current slab (or a new one) into the front list, setting their bitmap bits
    const m = this.m; let s = this.cur[c];
    if (s === 0 || m[s] === 0) { s = this.newSlab(c); this.cur[c] = s; }
    let n = 0; let head = 0; let p = m[s];
    while (p !== 0 && n < 32) { const nx = m[p >>> 2]; m[s + 16 + ((p & (SLAB - 1)) >>> 9)] |= 1 << (p >>> 4); m[p >>> 2] = head; head = p; p = nx; n++; }
    m[s] = p;
    const q = head; m[this.TR + c] = m[q >>> 2]; m[this.TR + 128 + c] = n - 1; m[(q >>> 2) + 1] = 0;
    return q;
  }
  free(p) {
    const m = this.m;
    const e = m[m[512 + (p >>> 22)] + ((p >>> 12) & 1023)];
    if ((e & 0x1ff00) !== this.key) throw new Error('remote/slow');
    const c = e & 0xff;
    if (m[(p >>> 2) + 1] === (p ^ 0x5a5a5a5a)) throw new Error('double free?');
    m[(p >>> 2) + 1] = p ^ 0x5a5a5a5a;
    m[p >>> 2] = m[this.TR + c]; m[this.TR + c] = p;
    if (++m[this.TR + 128 + c] > 64) this.flush(c);
  }
  flush(c) {
    // return 32 blocks to their slabs (bitmap bit cleared, pushed on the slab's list)
    const m = this.m; let p = m[this.TR + c];
    for (let k = 0; k < 32; k++) { const nx = m[p >>> 2]; const s = ((p >>> SHIFT) << SHIFT) >>> 2; m[s + 16 + ((p & (SLAB - 1)) >>> 9)] &= ~(1 << (p >>> 4)); m[p >>> 2] = m[s]; m[s] = p; p = nx; }
    m[this.TR + c] = p; m[this.TR + 128 + c] -= 32;
  }
}


const variants = {
  tcache: () => Tcache,
  floor: () => Floor,
  floorFifo: () => FloorFifo,
  floorBitmap: () => FloorBitmap,
  floorMarker: () => FloorMarker,
  slabArith: () => makeSlabClass({ bitmap: false, pagemap: false, cache: false, hdrOff: 0 }),
  slabBitmap: () => makeSlabClass({ bitmap: true, pagemap: false, cache: false, hdrOff: 0 }),
  slabBitmapPm: () => makeSlabClass({ bitmap: true, pagemap: true, cache: false, hdrOff: 0 }),
  slabPmCache: () => makeSlabClass({ bitmap: true, pagemap: true, cache: true, hdrOff: 0 }),
  denseArith: () => makeSlabClass({ bitmap: false, pagemap: false, cache: false, hdrOff: 0, dense: true }),
  denseBitmap: () => makeSlabClass({ bitmap: true, pagemap: false, cache: false, hdrOff: 0, dense: true }),
  denseBitmapPm: () => makeSlabClass({ bitmap: true, pagemap: true, cache: false, hdrOff: 0, dense: true }),
  denseBitmapCache: () => makeSlabClass({ bitmap: true, pagemap: false, cache: true, hdrOff: 0, dense: true }),
  denseMarker: () => makeSlabClass({ dense: true, marker: true, hdrOff: 0 }),
  denseMarkerPmOwner: () => makeSlabClass({ dense: true, marker: true, pagemap: true, owner: true, hdrOff: 0 }),
  denseBitmapPmOwner: () => makeSlabClass({ dense: true, bitmap: true, pagemap: true, owner: true, hdrOff: 0 }),
  slabArithCache: () => makeSlabClass({ bitmap: false, pagemap: false, cache: true, hdrOff: 0 }),
};
if (process.argv[2].startsWith('hakmem')) {
  // hakmemBase: the tree named by HAKMEM_BASE_SRC (e.g. a worktree of an older commit: .../src/index.ts)
  const src = process.argv[2].startsWith('hakmemBase') ? process.env.HAKMEM_BASE_SRC : new URL('../../../src/index.ts', import.meta.url).href;
  if (!src) throw new Error('hakmemBase needs HAKMEM_BASE_SRC=<tree>/src/index.ts');
  const { createHeap } = await import(src);
  // A pre-touched, zeroed buffer like the other variants' (fresh memory's page faults are not the question here).
  const HSAB = new SharedArrayBuffer(CAP); const hz = new Int32Array(HSAB);
  const K = function () { hz.fill(0); return createHeap({ memory: HSAB }); };
  variants.hakmem = () => K;
  variants.hakmemBase = () => K;
  variants.hakmemGrow = () => function () { return createHeap(); };
}
const only = process.argv[2] ? process.argv[2].split(',') : Object.keys(variants);
const runs = [];
for (const name of only) {
  const K = variants[name]();
  const loop = new Function('h', 'slots', 'cycles', 'seed', 'ws', 'w', loopSrc);
  runs.push({ name, K, loop });
}
const WS = 8192, CY = Number(process.argv[3] ?? 3e6);
const BUF = new Int32Array(CAP >> 2);
function once(r, cy) { const h = new r.K(BUF); const t = performance.now(); r.loop(h, new Int32Array(WS), cy, 42, WS, h.m32 ?? h.m ?? h.i32); return (performance.now() - t) * 1e6 / cy; }
for (const r of runs) for (let k = 0; k < 3; k++) once(r, 200000);
const res = Object.fromEntries(runs.map((r) => [r.name, []]));
for (let rep = 0; rep < 9; rep++) {
  const order = rep & 1 ? [...runs].reverse() : runs;
  for (const r of order) res[r.name].push(once(r, CY));
}
const med = (x) => [...x].sort((a, b) => a - b)[x.length >> 1];
for (const r of runs) console.log(r.name.padEnd(16), med(res[r.name]).toFixed(2), 'ns/op  min', Math.min(...res[r.name]).toFixed(2), 'max', Math.max(...res[r.name]).toFixed(2));
