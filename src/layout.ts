/**
 * The heap format: every byte of allocator metadata, in one place.
 *
 * A heap is a range of one buffer (SharedArrayBuffer, ArrayBuffer or WebAssembly.Memory). Pointers
 * are absolute byte offsets into that buffer. The range is cut into 4 KiB pages:
 *
 *   [header pages][null leaf][ page 0 of the arena ... frontier )  ... (buffer grows on demand)
 *
 * Header (word offsets H_* from the header's first word): fixed fields, the TOP table of the page
 * map, the bins of free page runs, the BigCache slots, the thread table and the sentinel slab.
 *
 * Page map: two levels, so its size follows the heap, not maxBytes. TOP[ptr >>> 22] holds the word
 * index of a 1024-entry leaf (one page) that describes the 1024 pages of that 4 MiB region; regions
 * without a leaf point at the all-zero null leaf, so any uint32 resolves to an entry in O(1).
 * Leaves are META pages placed at the frontier when the arena first grows into their region.
 *
 * A page-map entry is `(x << 4) | kind`:
 *   K_NONE        0  not part of the arena (header, beyond the frontier, outside the heap)
 *   K_SLAB        1  page of a slab; x packs, from bit 4: E_FRESH, E_ALIGNED, the distance back to
 *                    the slab's first page (6 bits), the owner thread id (10 bits), the class (7
 *                    bits), so the free fast path decides "a page of a slab of mine, no aligned
 *                    blocks, not fresh" with one masked compare
 *   K_LARGE_HEAD  2  first page of a large block; x = its length in pages
 *   K_LARGE_BODY  3  other page of a large block; x = its first page
 *   K_FREE_HEAD   4  first page of a free run; x = its length in pages
 *   K_FREE_TAIL   5  last page of a free run of >= 2 pages; x = its length
 *   K_FREE_BODY   6  other page of a free run
 *   K_META        7  leaf or thread record page
 *   K_CACHED_HEAD 8  first page of a large block parked in the BigCache; x = length
 *
 * Invariants (checked by check()): every page in [arenaStart, frontier) has exactly one entry kind
 * consistent with the run that covers it; free runs are maximal (never two adjacent free runs) and
 * each is in exactly the bin of its length; slab headers agree with their page entries.
 */

export const PAGE_SHIFT = 12;
export const PAGE = 1 << PAGE_SHIFT;
export const REGION_SHIFT = 22; // one leaf covers 4 MiB
export const LEAF_ENTRIES = 1 << (REGION_SHIFT - PAGE_SHIFT); // 1024
export const TOP_ENTRIES = 1024; // covers every uint32 >>> 22, so a stray pointer never reads past TOP

/**
 * Hard limit on a heap's end offset (2 GiB - 4 KiB): offsets, and the end itself, stay positive
 * int32 values, as the page map and `>>` arithmetic need.
 */
export const MAX_HEAP_END = 0x80000000 - 4096;
/** Buffers grow in multiples of this (a WebAssembly page). */
export const GROW_QUANTUM = 65536;

// ---- page-map kinds ----
export const K_NONE = 0;
export const K_SLAB = 1;
export const K_LARGE_HEAD = 2;
export const K_LARGE_BODY = 3;
export const K_FREE_HEAD = 4;
export const K_FREE_TAIL = 5;
export const K_FREE_BODY = 6;
export const K_META = 7;
export const K_CACHED_HEAD = 8;
export const KIND_MASK = 15;

// ---- header: word offsets from the header's first word ----
export const HEAP_MAGIC = 0x68616b6d; // 'hakm'
export const HEAP_VERSION = 4;
export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_ARENA_START = 2; // byte offset of the first arena page
export const H_FRONTIER = 3; // byte offset: pages below it are mapped
export const H_MAX_END = 4; // byte offset the heap may never pass
export const H_LOCK = 5; // the slow-path lock: 0 = free, else holder tid | LOCK_WAITERS (see lock.ts)
export const H_HIGH_WATER = 6; // highest byte offset the buffer was grown to for this heap
export const H_MAX_THREADS = 7;
export const H_FREE_PAGES = 8; // pages in free runs
export const H_BC_PAGES = 9; // pages parked in the BigCache
export const H_BC_NEXT = 10; // next BigCache slot to evict (round robin)
export const H_PEAK_PAGES = 11; // high-water of pages in use by slabs, large blocks and metadata
export const H_USED_PAGES = 12; // pages in use by slabs, large blocks and metadata
export const H_BASE = 13; // byte offset where the heap's range begins (header start)
export const H_NULL_LEAF = 14; // word index of the null leaf
export const H_MIXED = 21; // 1 once threads of both builds used the heap: debug checks then skip blocks without a debug trailer
export const H_SECURE_KEY = 20; // secure heaps: the key free-list links are encoded with (0 = a plain heap)
export const H_DEBUG_KEY = 15; // debug build: random key of block trailers and poison markers (0 until a debug thread sets it)
/**
 * Random key of the free-block marker: a block on a thread's free list holds `ptr ^ key` in its
 * second word (MARK_WORD), cleared when malloc hands it out, so a free that finds it is a likely
 * double free, confirmed off the fast path (see heap.ts).
 */
export const H_MARK_KEY = 22;
export const H_BIN_MASK = 16; // 4 words: bit b set <=> bin b non-empty
/** The heap's mode (MODE_*, policy.ts): which Heap class every thread of the heap runs (attachHeap reads it). */
export const H_MODE = 23;
/**
 * The policy epoch: bumped (under the lock) whenever the words at H_POLICY change, so that a
 * thread that copied something of the policy (its lists' room, T_LIMIT) sees at its own slow path,
 * with one load, that it must adopt the new one (learning and research modes only: the other modes
 * never change their policy after creation).
 */
export const H_POL_EPOCH = 24;
/**
 * The policy in force (POLICY_WORDS words, P_* offsets; values checked by check()): the settings the
 * slow paths read at their decision points, one header load each. Written at creation, and by the
 * learning controller (learn.ts) under the lock, the epoch bumped after.
 */
export const H_POLICY = 25;
/** Policy words (from H_POLICY, or from a candidate's entry in the learning table). */
export const P_ROOM = 0; // bytes of blocks a thread's free list of a class may hold (0: no thread lists); limit per class in T_LIMIT
export const P_PLACE = 1; // page-run placement: PLACE_FIRST (first fit, else the next bin's head) or PLACE_BEST (address-ordered best fit)
export const P_SLAB_FIRST = 2; // growth step a class's first slab starts at (0: the class's smallest slab)
export const P_SLAB_MAX = 3; // slabs grow (doubling per slab that fills) to at most this many pages (or the class's base size if larger)
export const P_SLAB_FIT = 4; // 1: a new slab is made smaller (an earlier step) when only a smaller free run would save growing the heap
export const P_BC_PAGES = 5; // BigCache budget floor in pages
export const P_BC_DIV = 6; // BigCache budget: at most 1/P_BC_DIV of the pages in use (or P_BC_PAGES if larger); 0: no BigCache
export const P_PARK_AGE = 7; // tidies an empty slab stays parked before it is released
export const P_IDLE = 8; // before a page-run allocation, lists not refilled within this many refills are flushed
export const POLICY_WORDS = 12;
export const PLACE_FIRST = 0;
export const PLACE_BEST = 1;
export const BIN_MASK_WORDS = 4;
/**
 * The view generation: bumped (Atomics.add, under the lock) whenever the heap's frontier passes
 * H_VIEW_END, after the buffer has grown to cover it. Views made while it had a value cover every
 * block handed out while it keeps that value, so a getter (heap.u8, ...) only compares it with the
 * value its views were made at: one plain load, no byteLength read. Alone on its cache line
 * (bytes 192..255 of the header), which is read by every thread and written only on growth.
 */
export const H_GEN = 48;
/** The buffer's byteLength when H_GEN was last bumped: every view made since covers it. */
export const H_VIEW_END = 49;
export const H_TOP = 64; // TOP_ENTRIES words
export const H_BINS = H_TOP + TOP_ENTRIES; // NBINS words: head run byte offset, 0 = empty
export const NBINS = 128;
export const H_BC = H_BINS + NBINS; // BC_SLOTS x 2 words: first page byte offset, length in pages
export const BC_SLOTS = 32;
export const H_SENTINEL = H_BC + BC_SLOTS * 2; // 16 words of zeros shaped like a slab header
/** Per class: head of the list of abandoned slabs (owner 0), linked through S_NEXT; under the lock. */
export const H_ABANDONED = H_SENTINEL + 16;
/** DIRECT_ENTRIES words, all the sentinel: the direct table of a detached Heap (malloc goes slow and throws). */
export const H_DEAD_DIRECT = H_ABANDONED + 128;
/**
 * CLASS_MAP_ENTRIES words: for each 16-byte size granule g (sizes up to SLAB_MAX), the offset of its
 * class's list in a thread's list table, CLASS_OF[g] << LIST_SHIFT. In the heap buffer, so the
 * malloc fast path finds its list with one load from the views it already holds (a table in an
 * imported module binding costs a hole check and a second array's base per call).
 */
export const H_CLASS_MAP = H_DEAD_DIRECT + 80;
export const CLASS_MAP_ENTRIES = 2049; // SLAB_MAX / 16 + 1 (checked in heap.ts)
/**
 * LEARN_WORDS words: the learning controller's state (learn.ts: LS_* offsets; its candidate table,
 * ratings and window counts) and research mode's totals (the size samples and route counts of
 * threads that left). All zero for the static modes. Written under the lock.
 */
export const H_LEARN = H_CLASS_MAP + 2056;
export const LEARN_WORDS = 512;
/** From hw + H_LEARN, after the learning table (learn.ts LS_END): research's size samples of threads that left (SIZE_BUCKETS words). */
export const RS_SIZES = 192;
export const H_THREADS = H_LEARN + LEARN_WORDS; // maxThreads words: word index of each thread record (0 = none yet)
// Then maxThreads words of slot states (H_THREADS + maxThreads + i): a counter that attach moves
// from even (free) to odd (attached) and detach or reclaim to the next even value, so a state names
// one attachment of the slot (a thread's token: state * 1024 + thread id, see Heap.threadToken).
// Thread id = slot index + 1, so an owner field of 0 means "no owner" (an abandoned slab).
/** Whether a slot state is an attached one (odd). */
export function slotIsAttached(state: number): boolean {
  return (state & 1) === 1;
}
export const MAX_THREADS_LIMIT = 1023; // thread ids 1..1023 fit E_TID_MASK

/** Pages of header for a given thread count (its words rounded up to whole pages); the null leaf follows them. */
export function headerPages(maxThreads: number): number {
  return Math.ceil(((H_THREADS + 2 * maxThreads) * 4) / PAGE);
}

// ---- slab: a 64-byte header on its first page, the blocks, then its two bitmaps at its end ----
//   [header 64 B][block 0][block 1] ... [block cap-1] (waste) [allocated bitmap][remote-free bitmap]
// Each bitmap has one bit per 16-byte granule of the whole slab (8 words per page). Block 0 starts
// SLAB_HEADER_BYTES after the slab for every slab, whatever its size: the free fast path tells a
// block start from an interior pointer with one multiply (see BLOCK_DIV in size-classes.ts).
// Word offsets from the slab's first word:
export const S_FREE = 0; // head of the free list malloc pops (byte offset, 0 = empty)
export const S_REMOTE_BITMAP = 1; // word offset (from the slab) of the remote-free bitmap, right after the allocated bitmap
export const S_OWNER = 2; // owning thread id | OWNER_* flags (mirrored in the slab's page-map entries); 0 = abandoned
export const S_REMOTE = 3; // remote-free state, remoteWord(slab byte offset, RS_*): see threads.ts
export const S_CLASS = 4; // size-class index
export const S_BSIZE = 5; // block size in bytes
export const S_CAP = 6; // blocks in the slab
export const S_BUMP = 7; // byte offset of the first block never handed out (== S_END when all carved)
export const S_END = 8; // byte offset of the end of the last whole block
export const S_NEXT = 9; // word index of the next slab in the owner's partial list (0 = none)
export const S_PREV = 10; // word index of the previous slab in that list (0 = none)
export const S_PAGES = 11; // pages in the slab
export const S_FIRST = 12; // byte offset of block 0
export const S_MAGIC = 13; // SLAB_MAGIC ^ slab byte offset
/**
 * Word offset (from the slab) of the allocated bitmap: one bit per 16-byte granule of the slab, set
 * <=> the block starting there is out of the slab (handed out, or on its owner's free list).
 * The remote-free bitmap (S_REMOTE_BITMAP) has the same shape: a thread that does not own the slab frees a
 * block by setting its bit with Atomics.or; the owner collects (Atomics.exchange per word).
 */
export const S_ALLOC_BITMAP = 14;
/** The owner's tidy count (slab.ts tidySlabs) when it parked this empty current slab in its partial queue; 0 = not parked. */
export const S_PARKED = 15;
/** Bytes of the slab header: block 0 starts here in every slab. */
export const SLAB_HEADER_BYTES = 64;
export const SLAB_MAGIC = 0x51ab51ab;
export const OWNER_TID_MASK = 0xffff;
/**
 * The slab has no free block and is in no list (header only). The free fast path sees it as "the
 * free list was empty" and calls the slow path that relists it.
 */
export const OWNER_FULL = 1 << 16;
/** The slab holds an aligned block whose pointer is not a block start: frees take the slow path. */
export const OWNER_ALIGNED = 1 << 17;

// K_SLAB page-map entry fields (see the top of this file).
/**
 * No block starting in this page has left the slab since it was made (they all lie at or past
 * S_BUMP, never used): a free of a pointer here takes the slow path. The owner clears it when its
 * refill takes the first block that starts in the page, and writes the free-block marker into the
 * page's later blocks then, so that every block not handed out carries the marker (see heap.ts).
 */
export const E_FRESH = 1 << 4;
export const E_ALIGNED = 1 << 5;
export const E_SLAB_DIST_SHIFT = 6;
export const E_SLAB_DIST_MASK = 63;
export const E_TID_SHIFT = 12;
export const E_TID_MASK = 0x3ff;
export const E_CLASS_SHIFT = 22;
export const E_CLASS_MASK = 0x7f;
/** The bits the free fast path compares: kind, flags and owner. */
export const E_KEY_MASK = KIND_MASK | E_FRESH | E_ALIGNED | (E_TID_MASK << E_TID_SHIFT);

/** The page-map entry of page `back` pages into a slab of class cls with owner word `owner` (tid | OWNER_* flags). */
export function slabEntry(owner: number, cls: number, back: number): number {
  const flags = (owner & OWNER_ALIGNED) !== 0 ? E_ALIGNED : 0;
  return K_SLAB | flags | (back << E_SLAB_DIST_SHIFT) | ((owner & OWNER_TID_MASK) << E_TID_SHIFT) | (cls << E_CLASS_SHIFT);
}

/** Metadata bytes of a slab of `pages` pages: its header and its two bitmaps (a multiple of 16). */
export function slabHeaderBytes(pages: number): number {
  return SLAB_HEADER_BYTES + slabBitmapBytes(pages);
}

/** Bytes of a slab's two bitmaps (at its end). */
export function slabBitmapBytes(pages: number): number {
  return 2 * pages * (PAGE / 16 / 8);
}

/** S_ALLOC_BITMAP of a slab of `pages` pages: its bitmaps fill its last slabBitmapBytes(pages) bytes. */
export function slabAbits(pages: number): number {
  return (pages * PAGE - slabBitmapBytes(pages)) >>> 2;
}

/**
 * Word index (into the heap's Int32Array) of the allocated-bitmap word of byte offset p in slab s
 * (a word index); the bit is granuleBit(p). One header load, so for slow paths: the fast paths use
 * the thread's lists and do not touch bitmaps.
 */
export function allocWord(m: Int32Array, s: number, p: number): number {
  return s + m[s + S_ALLOC_BITMAP]! + ((p >>> 9) - (s >>> 7));
}

/** A K_SLAB page-map entry's distance in pages back to its slab's first page (0: the first page). */
export function slabDist(e: number): number {
  return (e >>> E_SLAB_DIST_SHIFT) & E_SLAB_DIST_MASK;
}

/** The slab (word index of its header) that byte offset p lies in, from p's K_SLAB page-map entry e. */
export function slabOf(p: number, e: number): number {
  return ((p >>> PAGE_SHIFT) - slabDist(e)) << (PAGE_SHIFT - 2);
}

/** As allocWord, for the remote-free bitmap. */
export function remoteBitWord(m: Int32Array, s: number, p: number): number {
  return s + m[s + S_REMOTE_BITMAP]! + ((p >>> 9) - (s >>> 7));
}

/** The bit of byte offset p's 16-byte granule in its bitmap word (JS masks the shift count to 5 bits: (p >>> 4) & 31). */
export function granuleBit(p: number): number {
  return 1 << (p >>> 4);
}

/** S_REMOTE states: no remote free since the owner last looked / some (bits to collect) / full, notify the owner. */
export const RS_IDLE = 1;
export const RS_PENDING = 2;
export const RS_ARMED = 3;
/**
 * The S_REMOTE word of the slab at byte offset `base` in state st. Slab-specific values: a thread
 * that changes the word compares it with its slab's values first, so a late write never lands on a
 * word that has since become user data (see remoteFree in heap.ts).
 */
export function remoteWord(base: number, st: number): number {
  return (base ^ 0x3e5a7000) | st;
}

// ---- thread record (one META page per thread): word offsets ----
export const T_TID = 0;
export const T_NOTIFY = 1; // atomic: 1 = a full slab of this thread received a remote free since the last look
export const T_FULL = 2; // head of this thread's list of full slabs (linked through S_NEXT / S_PREV)
export const T_PENDING = 3; // first page of a large block being handed out (reclaim frees it if the thread died)
export const T_TICK = 4; // refills this thread has done (a clock for the lists' idle test, see L_TICK)
export const T_CUR = 16; // NCLASSES words: word index of the current slab per class (the sentinel if none)
// Then, NCLASSES (72, checked in size-classes.ts) words each, all offsets from the record's first word:
export const T_QHEAD = T_CUR + 72; // per class: head of the partial queue (FIFO: a relisted slab waits at the tail and gathers frees)
export const T_QTAIL = T_CUR + 2 * 72; // per class: tail of the partial queue
export const T_STEP = T_CUR + 3 * 72; // per class: slab growth step (the next new slab has SLAB_PAGES << step pages, capped)
export const T_RELISTS = T_CUR + 4 * 72; // full slabs relisted since the last reclaim scan
export const T_NPARTIAL = T_RELISTS + 1; // slabs in this thread's partial queues
export const T_TIDIES = T_RELISTS + 2; // tidySlabs calls so far (never 0 once counting): the clock parked slabs age by
/** 3 words (72 classes): bit c set when blocks went back to a slab of class c since the last tidy (slabGiveBack, collectRemote), the classes tidySlabs looks at. */
export const T_TIDY_DIRTY = T_RELISTS + 3;
/**
 * The direct table (mimalloc's pages_direct): for each 16-byte size granule g of the small sizes
 * (0..SMALL_MAX), the current slab of the class of g * 16, so the secure heap's malloc fast path
 * finds its slab in one load. Kept equal to the current-slab table by setCurrent() (slab.ts).
 */
export const T_DIRECT = T_CUR + 4 * 72 + 16;
export const DIRECT_ENTRIES = 65; // SMALL_MAX / 16 + 1 (checked in size-classes.ts)
/**
 * The thread's free lists, the front end: per class c, two words at T_LISTS + (c << LIST_SHIFT), in
 * one cache line for the free fast path:
 *   L_HEAD  the list word: (first block >>> 4) << LIST_COUNT_BITS | count field. The count field
 *           is LIST_BASE[c] for an empty list and goes up by one per block, to LIST_COUNT_MASK when
 *           the list holds LIST_LIMIT[c] blocks (so "full" is one compare for every class). Each
 *           block's first word holds the list word of the blocks after it: a pop restores the
 *           count with the rest, and no count of a half-done push or pop can disagree with its chain.
 *   L_DIVC  the class's block-start test (BLOCK_DIV of size-classes.ts), a constant
 * malloc pops, free pushes; refill moves blocks from the class's current slab in batches, flush
 * moves half the list back to their slabs. Every block on a list carries the marker (H_MARK_KEY)
 * and its slab's allocated bit is set.
 */
export const T_LISTS = 512;
export const LIST_SHIFT = 1;
export const L_HEAD = 0;
export const L_DIVC = 1;
export const LIST_COUNT_BITS = 5;
export const LIST_COUNT_MASK = 31;
/** The first block of a list word (0 if the list is empty). */
export function listFirst(v: number): number {
  return (v >>> 1) & 0x7ffffff0;
}
/** The list word of block p pushed on a list whose word was v (the count field one up). */
export function listPush(p: number, v: number): number {
  return (p << 1) | ((v & LIST_COUNT_MASK) + 1);
}
/** NCLASSES words after the lists: T_TICK at each class's last refill (the idle test before the heap grows). */
export const T_IDLE = T_LISTS + (72 << LIST_SHIFT); // 72 = NCLASSES (size-classes.ts; checked there)

/**
 * NCLASSES words: the most blocks this thread's list of each class holds (its LIST_LIMIT: from the
 * policy's room, P_ROOM, when the thread adopted it; 0 = no list, every free goes to the slab). An
 * empty list's count field is 31 - limit, so the fast paths' "full" test stays `count === 31`.
 */
export const T_LIMIT = T_IDLE + 72;
/** Research mode: the sizes sampled by this thread (SIZE_BUCKETS words, policy.ts sizeBucket) and its route counts (NROUTES words). */
export const T_SIZES = T_LIMIT + 72;
export const SIZE_BUCKETS = 96; // 72 size classes, then one per power of two above 32 KiB
export const T_ROUTES = T_SIZES + SIZE_BUCKETS;
export const T_ROUTE_WORDS = 16;

/** Word of a free block (from its first word) that holds the marker `ptr ^ H_MARK_KEY` while it is on a thread list. */
export const MARK_WORD = 1;

// ---- free run (in-band, first words of its first page) ----
export const RUN_NEXT = 0; // byte offset of the next run in the bin (0 = none)
export const RUN_PREV = 1;
export const RUN_PAGES = 2;
export const RUN_CHECK = 3;
export const RUN_MAGIC = 0x0f4ee4f0;
