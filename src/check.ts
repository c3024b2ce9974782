/**
 * heap.check(): walks all metadata and verifies every invariant written in layout.ts, slab.ts and
 * pages.ts. Every loop is bounded by a count derived from the heap's size, so corrupted links make
 * it throw HeapCorruptionError, never loop forever. It must run while no other thread allocates.
 */
import { HeapCorruptionError } from './errors.ts';
import {
  BC_SLOTS,
  H_HIGH_WATER,
  MAX_THREADS_LIMIT,
  H_ARENA_START,
  H_BC,
  H_BC_PAGES,
  H_BINS,
  H_BIN_MASK,
  H_FREE_PAGES,
  H_FRONTIER,
  H_MAGIC,
  H_MAX_END,
  H_MAX_THREADS,
  H_NULL_LEAF,
  H_THREADS,
  H_TOP,
  H_USED_PAGES,
  HEAP_MAGIC,
  K_CACHED_HEAD,
  K_FREE_BODY,
  K_FREE_HEAD,
  K_FREE_TAIL,
  K_LARGE_BODY,
  K_LARGE_HEAD,
  K_META,
  K_SLAB,
  KIND_MASK,
  LEAF_ENTRIES,
  NBINS,
  OWNER_ALIGNED,
  OWNER_FULL,
  OWNER_TID_MASK,
  PAGE,
  PAGE_SHIFT,
  REGION_SHIFT,
  RUN_MAGIC,
  RUN_CHECK,
  RUN_NEXT,
  RUN_PAGES,
  RUN_PREV,
  S_ALLOC_BITMAP,
  S_BSIZE,
  S_BUMP,
  S_CAP,
  S_CLASS,
  S_END,
  S_FIRST,
  S_FREE,
  S_MAGIC,
  S_NEXT,
  S_OWNER,
  S_PAGES,
  S_PREV,
  S_REMOTE_BITMAP,
  S_REMOTE,
  SLAB_MAGIC,
  T_CUR,
  T_FULL,
  T_LISTS,
  LIST_SHIFT,
  L_DIVC,
  LIST_COUNT_MASK,
  listFirst,
  T_TID,
  TOP_ENTRIES,
  CLASS_MAP_ENTRIES,
  H_CLASS_MAP,
  granuleBit,
  remoteBitWord,
  slabAbits,
  SLAB_HEADER_BYTES,
  E_FRESH,
  MARK_WORD,
  slabDist,
  H_ABANDONED,
  H_BASE,
  H_DEAD_DIRECT,
  H_VERSION,
  HEAP_VERSION,
  slotIsAttached,
  RS_ARMED,
  RS_IDLE,
  RS_PENDING,
  remoteWord,
  slabEntry,
  slabHeaderBytes,
} from './layout.ts';
import { binOf, getEntry } from './pages.ts';
import { BLOCK_DIV, CLASS_OF, CLASS_SIZE, NCLASSES } from './size-classes.ts';
import { MODES, policyWordsProblem, slabSizeValid } from './policy.ts';
import { DIRECT_ENTRIES, T_QHEAD, T_QTAIL, T_DIRECT, T_NPARTIAL, T_LIMIT, H_MODE, H_POLICY } from './layout.ts';
import { listBlockSlab } from './slab.ts';
import type { Heap } from './heap.ts';

/** The name of the heap being checked (for error messages). */
let checking = 'the heap';

function fail(msg: string, where: number): never {
  throw new HeapCorruptionError(msg, where, checking);
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export function checkHeap(h: Heap): void {
  checking = h.name;
  const m = h.m32;
  const hw = h.hw;
  const hb = hw << 2;
  if (m[hw + H_MAGIC] !== HEAP_MAGIC) fail('heap header magic is wrong', hb);
  const arena = m[hw + H_ARENA_START]!;
  const frontier = m[hw + H_FRONTIER]!;
  const maxEnd = m[hw + H_MAX_END]!;
  if (arena % PAGE !== 0 || frontier % PAGE !== 0 || frontier < arena || frontier > maxEnd || frontier > m.length * 4) {
    fail(`arena bounds are inconsistent (start ${arena}, frontier ${frontier}, max ${maxEnd}, buffer ${m.length * 4})`, hb);
  }
  if (m[hw + H_HIGH_WATER]! < frontier) fail('the high-water mark is below the frontier', (hw + H_HIGH_WATER) << 2);
  for (let i = 0; i < 16; i++) if (m[h.sentinel + i] !== 0) fail('the sentinel slab was written to', h.sentinel << 2);
  if (m[hw + H_VERSION] !== HEAP_VERSION) fail(`heap format version is ${m[hw + H_VERSION]}, not ${HEAP_VERSION}`, (hw + H_VERSION) << 2);
  if (m[hw + H_BASE] !== hb) fail(`the header's base field ${m[hw + H_BASE]} is not the header's offset ${hb}`, (hw + H_BASE) << 2);
  if (!(m[hw + H_MODE]! >= 1 && m[hw + H_MODE]! <= MODES.length))
    fail(`the heap's mode word ${m[hw + H_MODE]} names no mode`, (hw + H_MODE) << 2);
  const policyProblem = policyWordsProblem(m, hw + H_POLICY);
  if (policyProblem !== '') fail(`the policy in force is invalid (${policyProblem})`, (hw + H_POLICY) << 2);
  for (let g = 0; g < CLASS_MAP_ENTRIES; g++) {
    if (m[hw + H_CLASS_MAP + g] !== CLASS_OF[g]! << LIST_SHIFT)
      fail(`the class map entry for ${g * 16} bytes is overwritten`, (hw + H_CLASS_MAP + g) << 2);
  }
  for (let g = 0; g < DIRECT_ENTRIES; g++) {
    if (m[hw + H_DEAD_DIRECT + g] !== h.sentinel)
      fail('the direct table of detached threads does not point at the sentinel', (hw + H_DEAD_DIRECT + g) << 2);
  }
  const first = arena >>> PAGE_SHIFT;
  const end = frontier >>> PAGE_SHIFT;
  const npages = end - first;

  // ---- the top table: every region the arena touches has a leaf, which is a META page
  const nullLeaf = m[hw + H_NULL_LEAF]!;
  const leafPages = new Set<number>();
  for (let r = 0; r < TOP_ENTRIES; r++) {
    const leaf = m[hw + H_TOP + r]!;
    const inArena = npages > 0 && r >= first >>> (REGION_SHIFT - PAGE_SHIFT) && r <= (end - 1) >>> (REGION_SHIFT - PAGE_SHIFT);
    if (leaf === nullLeaf) {
      if (inArena) fail(`region ${r} holds arena pages but has no page-map leaf`, r << REGION_SHIFT);
      continue;
    }
    const lp = leaf >>> (PAGE_SHIFT - 2);
    if ((leaf & (LEAF_ENTRIES - 1)) !== 0 || lp < first || lp >= end)
      fail(`page-map leaf of region ${r} is outside the arena`, (hw + H_TOP + r) << 2);
    if (leafPages.has(lp)) fail(`regions share the page-map leaf of region ${r}`, (hw + H_TOP + r) << 2);
    leafPages.add(lp);
    // Entries of pages outside [arena, frontier) must be K_NONE (0): lookups of stray pointers read them.
    for (let i = 0; i < LEAF_ENTRIES; i++) {
      const pg = (r << (REGION_SHIFT - PAGE_SHIFT)) + i;
      if ((pg < first || pg >= end) && m[leaf + i] !== 0)
        fail(`page-map entry of page ${pg}, outside the arena, is not empty`, (leaf + i) << 2);
    }
  }
  for (let i = 0; i < LEAF_ENTRIES; i++)
    if (m[nullLeaf + i] !== 0) fail('the null leaf (entries of regions without a leaf) was written to', (nullLeaf + i) << 2);
  const threadPages = new Set<number>();
  const maxThreads = m[hw + H_MAX_THREADS]!;
  if (!(maxThreads >= 1 && maxThreads <= MAX_THREADS_LIMIT) || (hw + H_THREADS + maxThreads) << 2 > m[hw + H_NULL_LEAF]! << 2) {
    fail(`thread table size ${maxThreads} is out of range`, (hw + H_MAX_THREADS) << 2);
  }
  for (let i = 0; i < maxThreads; i++) {
    const rec = m[hw + H_THREADS + i]!;
    if (rec !== 0) threadPages.add(rec >>> (PAGE_SHIFT - 2));
  }

  // ---- walk every run of the arena
  let freePages = 0;
  let usedPages = 0;
  let cachedPages = 0;
  let freeRuns = 0;
  const slabs = new Set<number>();
  const cachedRuns = new Set<number>();
  let prevFree = false;
  for (let pg = first; pg < end; ) {
    const e = getEntry(h, pg);
    const k = e & KIND_MASK;
    const at = pg << PAGE_SHIFT;
    switch (k) {
      case K_SLAB: {
        if (slabDist(e) !== 0) fail('page is marked as inside a slab, but no slab starts before it', at);
        const n = checkSlab(h, pg, end);
        slabs.add(pg << (PAGE_SHIFT - 2));
        usedPages += n;
        pg += n;
        prevFree = false;
        break;
      }
      case K_LARGE_HEAD:
      case K_CACHED_HEAD: {
        const n = e >>> 4;
        if (n < 1 || pg + n > end) fail(`large block of ${n} pages runs past the frontier`, at);
        for (let i = 1; i < n; i++) {
          if (getEntry(h, pg + i) !== ((pg << 4) | K_LARGE_BODY) >>> 0)
            fail(`page ${i} of the large block is not marked as its body`, (pg + i) << PAGE_SHIFT);
        }
        if (k === K_CACHED_HEAD) {
          cachedPages += n;
          cachedRuns.add(pg);
        } else usedPages += n;
        pg += n;
        prevFree = false;
        break;
      }
      case K_FREE_HEAD: {
        const n = e >>> 4;
        if (prevFree) fail('two free runs are adjacent (they should have been coalesced)', at);
        if (n < 1 || pg + n > end) fail(`free run of ${n} pages runs past the frontier`, at);
        if (n > 1 && getEntry(h, pg + n - 1) !== ((n << 4) | K_FREE_TAIL))
          fail('free run has a wrong tail tag', (pg + n - 1) << PAGE_SHIFT);
        for (let i = 1; i < n - 1; i++) {
          if (getEntry(h, pg + i) !== K_FREE_BODY) fail('a page inside a free run is not marked free', (pg + i) << PAGE_SHIFT);
        }
        const w = pg << (PAGE_SHIFT - 2);
        if (m[w + RUN_CHECK] !== (RUN_MAGIC ^ pg) || m[w + RUN_PAGES] !== n)
          fail('free run header is overwritten (a write after free?)', at);
        freePages += n;
        freeRuns++;
        pg += n;
        prevFree = true;
        break;
      }
      case K_META:
        if (!leafPages.has(pg) && !threadPages.has(pg)) fail('a metadata page is neither a page-map leaf nor a thread record', at);
        usedPages++;
        pg++;
        prevFree = false;
        break;
      default:
        fail(`page has an invalid page-map entry 0x${(e >>> 0).toString(16)}`, at);
    }
  }
  for (const lp of leafPages)
    if ((getEntry(h, lp) & KIND_MASK) !== K_META) fail('a page-map leaf is not marked as metadata', lp << PAGE_SHIFT);
  for (let i = 0; i < maxThreads; i++) {
    const rec = m[hw + H_THREADS + i]!;
    if (rec === 0) continue;
    const rp = rec >>> (PAGE_SHIFT - 2);
    if ((rec & (PAGE / 4 - 1)) !== 0 || rp < first || rp >= end || (getEntry(h, rp) & KIND_MASK) !== K_META || leafPages.has(rp)) {
      fail(`the record of thread slot ${i} is not a metadata page of its own`, (hw + H_THREADS + i) << 2);
    }
  }

  // ---- bins: every free run is in the bin of its length, lists are well linked
  let listed = 0;
  for (let b = 0; b < NBINS; b++) {
    let r = m[hw + H_BINS + b]!;
    const maskBit = (m[hw + H_BIN_MASK + (b >>> 5)]! >>> (b & 31)) & 1;
    if ((r !== 0) !== (maskBit === 1)) fail(`bin ${b}'s mask bit disagrees with its list`, (hw + H_BIN_MASK) << 2);
    let prev = 0;
    for (let steps = 0; r !== 0; steps++) {
      if (steps > freeRuns) fail(`bin ${b}'s list is longer than the number of free runs (a cycle?)`, (hw + H_BINS + b) << 2);
      const pg = r >>> PAGE_SHIFT;
      if (r % PAGE !== 0 || pg < first || pg >= end) fail(`bin ${b} links to ${r}, outside the arena`, prev || (hw + H_BINS + b) << 2);
      const e = getEntry(h, pg);
      if ((e & KIND_MASK) !== K_FREE_HEAD) fail(`bin ${b} lists a page that is not a free run`, r);
      if (binOf(e >>> 4) !== b) fail(`free run of ${e >>> 4} pages is in bin ${b}`, r);
      if (m[(r >>> 2) + RUN_PREV] !== prev) fail('free run has a wrong back link', r);
      listed++;
      prev = r;
      r = m[(r >>> 2) + RUN_NEXT]!;
    }
  }
  if (listed !== freeRuns) fail(`${freeRuns} free runs exist but the bins list ${listed}`, (hw + H_BINS) << 2);
  if (m[hw + H_FREE_PAGES] !== freePages)
    fail(`free page count is ${m[hw + H_FREE_PAGES]} but ${freePages} pages are free`, (hw + H_FREE_PAGES) << 2);
  if (m[hw + H_USED_PAGES] !== usedPages)
    fail(`used page count is ${m[hw + H_USED_PAGES]} but ${usedPages} pages are in use`, (hw + H_USED_PAGES) << 2);

  // ---- BigCache slots
  let slotPages = 0;
  for (let i = 0; i < BC_SLOTS; i++) {
    const p = m[hw + H_BC + 2 * i]!;
    const n = m[hw + H_BC + 2 * i + 1]!;
    if (n === 0) continue;
    const pg = p >>> PAGE_SHIFT;
    if (!cachedRuns.delete(pg) || getEntry(h, pg) >>> 4 !== n)
      fail(`BigCache slot ${i} does not hold a cached block`, (hw + H_BC + 2 * i) << 2);
    slotPages += n;
  }
  if (cachedRuns.size !== 0) fail('a cached large block is in no BigCache slot', [...cachedRuns][0]! << PAGE_SHIFT);
  if (slotPages !== cachedPages || m[hw + H_BC_PAGES] !== cachedPages) fail('BigCache page count is wrong', (hw + H_BC_PAGES) << 2);

  // ---- threads: current slabs, partial queues and full lists of every attached thread
  const listedSlabs = new Set<number>();
  const onLists = new Set<number>(); // blocks on threads' free lists
  const attached = new Set<number>();
  for (let i = 0; i < maxThreads; i++) {
    const state = m[hw + H_THREADS + maxThreads + i]!;
    const rec = m[hw + H_THREADS + i]!;
    if (!slotIsAttached(state)) continue;
    if (rec === 0) fail(`attached thread ${i + 1} has no thread record`, (hw + H_THREADS + i) << 2);
    const tid = m[rec + T_TID]!;
    if (tid !== i + 1) fail(`the record of thread ${i + 1} names thread ${tid}`, rec << 2);
    attached.add(tid);
    for (let g = 0; g < DIRECT_ENTRIES; g++) {
      if (m[rec + T_DIRECT + g] !== m[rec + T_CUR + CLASS_OF[g]!]) {
        fail(`thread ${tid}'s direct table entry for ${g * 16} bytes disagrees with its current slab`, (rec + T_DIRECT + g) << 2);
      }
    }
    let npartial = 0;
    for (let c = 0; c < NCLASSES; c++) {
      const s = m[rec + T_CUR + c]!;
      if (s !== h.sentinel) {
        if (!slabs.has(s)) fail(`thread ${tid}'s current slab of class ${CLASS_SIZE[c]} is not a slab`, (rec + T_CUR + c) << 2);
        if (m[s + S_CLASS] !== c || (m[s + S_OWNER]! & OWNER_TID_MASK) !== tid)
          fail(`thread ${tid}'s current slab of class ${CLASS_SIZE[c]} has another class or owner`, s << 2);
        if ((m[s + S_OWNER]! & OWNER_FULL) !== 0) fail('a current slab is marked full', s << 2);
        listedSlabs.add(s);
      }
      let prev = 0;
      let s2 = m[rec + T_QHEAD + c]!;
      for (let steps = 0; s2 !== 0; steps++) {
        if (steps > slabs.size) fail(`thread ${tid}'s partial list of class ${CLASS_SIZE[c]} loops`, (rec + T_QHEAD + c) << 2);
        if (!slabs.has(s2))
          fail(`thread ${tid}'s partial list of class ${CLASS_SIZE[c]} links to a non-slab`, prev << 2 || (rec + T_QHEAD + c) << 2);
        if (listedSlabs.has(s2)) fail('a slab is current or listed twice', s2 << 2);
        if (m[s2 + S_CLASS] !== c || (m[s2 + S_OWNER]! & OWNER_TID_MASK) !== tid)
          fail('a partial slab has another class or owner', s2 << 2);
        if ((m[s2 + S_OWNER]! & OWNER_FULL) !== 0) fail('a partial slab is marked full', s2 << 2);
        if (m[s2 + S_FREE] === 0 && m[s2 + S_BUMP] === m[s2 + S_END]) fail('a slab with no free block is in a partial list', s2 << 2);
        if (m[s2 + S_PREV] !== prev) fail('a partial slab has a wrong back link', s2 << 2);
        listedSlabs.add(s2);
        npartial++;
        prev = s2;
        s2 = m[s2 + S_NEXT]!;
      }
      if (m[rec + T_QTAIL + c] !== prev)
        fail(`thread ${tid}'s partial queue of class ${CLASS_SIZE[c]} has a wrong tail`, (rec + T_QTAIL + c) << 2);
    }
    if (m[rec + T_NPARTIAL] !== npartial)
      fail(`thread ${tid} counts ${m[rec + T_NPARTIAL]} partial slabs but its queues hold ${npartial}`, (rec + T_NPARTIAL) << 2);
    // Free lists: every block a valid listed block of this thread and class (marker, allocated bit,
    // block start, not freed remotely), each once, no more than the limit; each list word's count
    // one more than the next one's, down to the empty list's count, 31 - its limit (T_LIMIT, 0 to 31).
    for (let c = 0; c < NCLASSES; c++) {
      const hw0 = rec + T_LISTS + (c << LIST_SHIFT);
      if (m[hw0 + L_DIVC] !== BLOCK_DIV[c])
        fail(`thread ${tid}'s block-start test of class ${CLASS_SIZE[c]} is overwritten`, (hw0 + L_DIVC) << 2);
      const limit = m[rec + T_LIMIT + c]!;
      if (!(limit >= 0 && limit <= LIST_COUNT_MASK))
        fail(`thread ${tid}'s list limit of class ${CLASS_SIZE[c]} is ${limit}, not 0 to ${LIST_COUNT_MASK}`, (rec + T_LIMIT + c) << 2);
      let n = 0;
      let prev = hw0;
      let v = m[hw0]!;
      for (let p = listFirst(v); p !== 0; p = listFirst(v)) {
        if (n >= limit)
          fail(
            `thread ${tid}'s free list of class ${CLASS_SIZE[c]} is longer than its limit ${limit} (a cycle, or a block freed twice?)`,
            hw0 << 2,
          );
        const s = listBlockSlab(h, p, c, tid);
        if (s === 0)
          fail(
            `thread ${tid}'s free list of class ${CLASS_SIZE[c]} links to ${p}, which is not a free block of that class in its slabs (a write after free?)`,
            prev << 2,
          );
        if (onLists.has(p)) fail('a block is on a free list twice', p);
        if ((m[remoteBitWord(m, s, p)]! & granuleBit(p)) !== 0) fail("a block on a thread's free list is also freed by another thread", p);
        const next = m[p >>> 2]!;
        if ((next & LIST_COUNT_MASK) !== (v & LIST_COUNT_MASK) - 1)
          fail(`thread ${tid}'s free list of class ${CLASS_SIZE[c]}: a list word's count disagrees with the next one's`, prev << 2);
        onLists.add(p);
        n++;
        prev = p >>> 2;
        v = next;
      }
      if (v !== LIST_COUNT_MASK - limit)
        fail(
          `thread ${tid}'s free list of class ${CLASS_SIZE[c]} ends in ${v}, not the empty list's count ${LIST_COUNT_MASK - limit}`,
          prev << 2,
        );
    }
    let prev = 0;
    let f = m[rec + T_FULL]!;
    for (let steps = 0; f !== 0; steps++) {
      if (steps > slabs.size) fail(`thread ${tid}'s full list loops`, (rec + T_FULL) << 2);
      if (!slabs.has(f)) fail(`thread ${tid}'s full list links to a non-slab`, prev << 2 || (rec + T_FULL) << 2);
      if (listedSlabs.has(f)) fail('a full slab is also current or in another list', f << 2);
      if ((m[f + S_OWNER]! & (OWNER_TID_MASK | OWNER_FULL)) !== (tid | OWNER_FULL))
        fail(`a slab in thread ${tid}'s full list is not a full slab of that thread`, f << 2);
      if (m[f + S_PREV] !== prev) fail('a full slab has a wrong back link', f << 2);
      listedSlabs.add(f);
      prev = f;
      f = m[f + S_NEXT]!;
    }
  }
  // ---- abandoned slabs: ownerless, in the list of their class
  for (let c = 0; c < NCLASSES; c++) {
    let a = m[hw + H_ABANDONED + c]!;
    for (let steps = 0; a !== 0; steps++) {
      if (steps > slabs.size) fail(`the abandoned list of class ${CLASS_SIZE[c]} loops`, (hw + H_ABANDONED + c) << 2);
      if (!slabs.has(a)) fail(`the abandoned list of class ${CLASS_SIZE[c]} links to a non-slab`, (hw + H_ABANDONED + c) << 2);
      if (listedSlabs.has(a)) fail('an abandoned slab is listed twice', a << 2);
      if ((m[a + S_OWNER]! & OWNER_TID_MASK) !== 0 || m[a + S_CLASS] !== c)
        fail('a slab in an abandoned list has an owner or another class', a << 2);
      listedSlabs.add(a);
      a = m[a + S_NEXT]!;
    }
  }
  for (const s of slabs) {
    const owner = m[s + S_OWNER]! & OWNER_TID_MASK;
    if (owner !== 0 && !attached.has(owner)) fail(`a slab is owned by thread ${owner}, which is not attached`, s << 2);
    if (!listedSlabs.has(s)) fail('a slab is in no list: not current, partial, full or abandoned (leaked)', s << 2);
  }
}

/** Verifies one slab; returns its page count. */
function checkSlab(h: Heap, pg: number, end: number): number {
  const m = h.m32;
  const base = pg << PAGE_SHIFT;
  const s = base >>> 2;
  if (m[s + S_MAGIC] !== (SLAB_MAGIC ^ base)) fail('slab header magic is wrong (overwritten)', base);
  const cls = m[s + S_CLASS]!;
  if (cls < 0 || cls >= NCLASSES) fail(`slab has an invalid class ${cls}`, base);
  const pages = m[s + S_PAGES]!;
  if (!slabSizeValid(cls, pages) || pg + pages > end) fail(`slab of class ${CLASS_SIZE[cls]} has ${pages} pages`, base);
  const owner = m[s + S_OWNER]!;
  for (let i = 0; i < pages; i++) {
    if ((getEntry(h, pg + i) & ~E_FRESH) !== slabEntry(owner, cls, i))
      fail(`page ${i} of the slab has a page-map entry that disagrees with its header`, (pg + i) << PAGE_SHIFT);
  }
  const bsize = m[s + S_BSIZE]!;
  const hdr = slabHeaderBytes(pages);
  const cap = m[s + S_CAP]!;
  const firstB = m[s + S_FIRST]!;
  const endB = m[s + S_END]!;
  const bump = m[s + S_BUMP]!;
  if (
    bsize !== CLASS_SIZE[cls] ||
    cap !== Math.floor((pages * PAGE - hdr) / bsize) ||
    firstB !== base + SLAB_HEADER_BYTES ||
    endB !== firstB + cap * bsize ||
    bump < firstB ||
    bump > endB ||
    (bump - firstB) % bsize !== 0
  ) {
    fail(`slab geometry fields are inconsistent (class ${bsize}, cap ${cap}, bump ${bump})`, base);
  }
  const ab = m[s + S_ALLOC_BITMAP]!;
  if (ab !== slabAbits(pages) || m[s + S_REMOTE_BITMAP] !== ab + pages * 8) fail('slab bitmap offsets are wrong', base);
  const rs = m[s + S_REMOTE]!;
  if (rs !== remoteWord(base, RS_IDLE) && rs !== remoteWord(base, RS_PENDING) && rs !== remoteWord(base, RS_ARMED))
    fail('slab remote-free state word is invalid', base);
  if (rs === remoteWord(base, RS_ARMED) && (owner & OWNER_FULL) === 0) fail('a slab that is not full is armed for notification', base);
  const aligned = (owner & OWNER_ALIGNED) !== 0;
  const rbits = m[s + S_REMOTE_BITMAP]!;
  for (let i = 0; i < pages * 8; i++) {
    const r = m[s + rbits + i]!;
    if ((r & ~m[s + ab + i]!) !== 0) fail('a block is marked freed by another thread but was not handed out', base + i * 512);
    if (r !== 0 && rs !== remoteWord(base, RS_PENDING))
      fail('a slab holds blocks freed by other threads, but its state word does not say so (they would never be collected)', base);
  }
  // Allocated bits: only inside carved blocks; one per handed-out block.
  const words = pages * 8;
  let bits = 0;
  for (let i = 0; i < words; i++) {
    const w = m[s + ab + i]!;
    if (w === 0) continue;
    bits += popcount(w);
    for (let b = 0; b < 32; b++) {
      if (((w >>> b) & 1) === 0) continue;
      const p = base + (i * 32 + b) * 16;
      if (p < firstB || p >= bump) fail('an allocated bit is set outside the carved blocks', p);
      if (!aligned && (p - firstB) % bsize !== 0) fail('an allocated bit is set inside a block', p);
    }
  }
  const used = bits;
  // Free list: within carved blocks, at block starts, bit clear, no repeats, bounded.
  const seen = new Uint8Array(cap);
  let free = 0;
  let p = m[s + S_FREE]!;
  let prev = base;
  while (p !== 0) {
    if (p < firstB || p >= bump || (p - firstB) % bsize !== 0)
      fail(`free list of a ${bsize}-byte slab links to ${p}, not a carved block (a write after free?)`, prev);
    const idx = (p - firstB) / bsize;
    if (seen[idx]) fail('free list has a cycle', p);
    seen[idx] = 1;
    if ((m[s + ab + ((p - base) >>> 9)]! >>> ((p >>> 4) & 31)) & 1) fail('a block is both free and allocated', p);
    free++;
    prev = p;
    p = h.readLink(s, p); // (a secure heap's decoder throws for a link outside the slab)
  }
  // Pages: a fresh one (E_FRESH) has no block starting in it that was ever taken; in a page that is
  // not fresh every block not handed out carries the free-block marker (the free fast path's invariant).
  const key = h.markKey;
  for (let i = 0; i < pages; i++) {
    const page = base + i * PAGE;
    const q0 = page <= firstB ? firstB : firstB + Math.ceil((page - firstB) / bsize) * bsize;
    const taken = q0 < page + PAGE && q0 < endB && q0 < bump;
    const fresh = (getEntry(h, pg + i) & E_FRESH) !== 0;
    if (fresh && taken) fail(`page ${i} of the slab is marked fresh, but a block starting in it was used`, page);
    if (key === 0 || fresh) continue;
    for (let q = Math.max(q0, bump); q < page + PAGE && q < endB; q += bsize) {
      if (m[(q >>> 2) + MARK_WORD] !== (q ^ key)) fail('a never-used block of a used page lacks the free-block marker', q);
    }
  }
  if (key !== 0) {
    for (let q = m[s + S_FREE]!, n = 0; q !== 0 && n < cap; q = h.readLink(s, q), n++) {
      if (m[(q >>> 2) + MARK_WORD] !== (q ^ key))
        fail("a block on its slab's free list lacks the free-block marker (a write after free?)", q);
    }
  }
  const uncarved = (endB - bump) / bsize;
  if (used + free + uncarved !== cap) fail(`slab blocks do not add up: ${used} used + ${free} free + ${uncarved} uncarved != ${cap}`, base);
  if ((owner & OWNER_FULL) !== 0 && (free !== 0 || uncarved !== 0)) fail('a slab marked full has free blocks', base);
  return pages;
}
