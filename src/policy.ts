/**
 * Modes and policies: what a heap decides at its slow-path decision points, and which feature set
 * (Heap class) each of its threads runs.
 *
 * A *policy* is a complete, valid set of settings (PolicySettings): the room of a thread's free
 * list per class, page-run placement, slab sizing, the BigCache's budget, how long an empty slab
 * stays parked, which lists count as idle. It lives in the heap header (H_POLICY, P_* words), where
 * every thread's slow paths read it (one load each), so a change made by one thread (the learning
 * controller, learn.ts, under the lock, bumping H_POL_EPOCH) reaches the others at their own slow
 * path. The fast paths read none of it.
 *
 * A *mode* (MODE_*, H_MODE) is a feature set, resolved once when the heap is created:
 *   minimal   Heap, the built-in policy `base`, nothing measured, no policy import
 *   fast      Heap, the static policy FAST_POLICY (more list room, larger slabs, more BigCache)
 *   balanced  Heap, the static policy BALANCED_POLICY, or an imported one (the default mode)
 *   learning  LearningHeap (learn.ts): an op counter in malloc, windows and ELO ratings on the slow paths
 *   research  ResearchHeap (research.ts): learning + a sampled size histogram, route counters, site statistics
 * The first three share the Heap class, so their fast paths are the same code; only the policy
 * words differ.
 */
import {
  CLASS_MAP_ENTRIES,
  HEAP_VERSION,
  H_POLICY,
  P_BC_DIV,
  P_BC_PAGES,
  P_IDLE,
  P_PARK_AGE,
  P_PLACE,
  P_ROOM,
  P_SLAB_FIRST,
  P_SLAB_FIT,
  P_SLAB_MAX,
  PLACE_BEST,
  PLACE_FIRST,
  POLICY_WORDS,
  SIZE_BUCKETS,
} from './layout.ts';
import { checkOptionKeys } from './args.ts';
import { describe } from './errors.ts';
import { CLASS_OF, CLASS_SIZE, NCLASSES, SLAB_MAX, SLAB_PAGES } from './size-classes.ts';

export type HeapMode = 'minimal' | 'fast' | 'balanced' | 'learning' | 'research';
export const MODES: readonly HeapMode[] = ['minimal', 'fast', 'balanced', 'learning', 'research'];
/** H_MODE values: 1 + the index in MODES (0: a heap not yet formatted). */
export const MODE_MINIMAL = 1;
export const MODE_FAST = 2;
export const MODE_BALANCED = 3;
export const MODE_LEARNING = 4;
export const MODE_RESEARCH = 5;
export const DEFAULT_MODE: HeapMode = 'balanced';

export function modeCode(mode: HeapMode): number {
  return MODES.indexOf(mode) + 1;
}

export function modeName(code: number): HeapMode {
  return MODES[code - 1] ?? 'balanced';
}

/**
 * A complete policy: the settings of every slow-path decision point that a mode or the learning
 * controller chooses. Plain data; heap.policy() exports one, createHeap({ policy }) imports one.
 */
export interface PolicySettings {
  /**
   * Bytes of free blocks a thread's list of one size class may hold (at most 31 blocks, at least 2;
   * 0: no thread lists: every malloc and free of a small block goes to its slab, on the slow path).
   */
  listRoom: number;
  /** Where a page run comes from: 'first-fit' (the request's bin, else the next bin's head), or 'best-fit' (the smallest free run that holds it, the lowest of equals). */
  placement: 'first-fit' | 'best-fit';
  /** Growth step of a class's first slab (0: the class's smallest slab; each step doubles it). */
  slabFirstStep: number;
  /** Slabs grow (doubling, per slab that fills up) to at most this many pages (1, 2, 4, 8, 16 or 32), or the class's smallest slab if that is larger. */
  slabMaxPages: number;
  /** Whether a new slab is made smaller (an earlier step) when only a smaller free run would save growing the heap. */
  slabFit: boolean;
  /** The BigCache (freed blocks > 32 KiB kept whole) may hold this many pages (a floor) ... */
  bigCachePages: number;
  /** ... or 1/bigCacheDiv of the pages in use if that is more; 0: no BigCache. */
  bigCacheDiv: number;
  /** Tidies (page-run allocations that split a run or grow the heap) an empty slab stays parked before it is released. */
  parkAge: number;
  /** Before a page-run allocation, the lists of classes not refilled within this many refills are given back to their slabs. */
  idleRefills: number;
}

/** @internal What the learning controller measured in one window (LearnOptions.cost receives it). */
export interface WindowMeasure {
  /** mallocs in the window */
  ops: number;
  /** its wall time in ms (the clock, read at its two ends) */
  ms: number;
  /** the heap's high-water growth during the window, in bytes */
  growthBytes: number;
}

/** @internal Knobs of learning and research modes for tests and benches (createHeap's `learn` option). */
export interface LearnOptions {
  /** The clock read at window boundaries, in ms (default performance.now). */
  clock?: () => number;
  /** Replaces a window's measured cost (default: ns per malloc + memoryWeight x high-water growth bytes per malloc). */
  cost?: (candidate: string, window: WindowMeasure) => number;
  /** Mallocs per window (default 16384). */
  windowOps?: number;
  /** ns charged per byte of high-water growth per malloc (default 0.1). */
  memoryWeight?: number;
  /** The candidates to choose among, by name (default all of CANDIDATES). */
  candidates?: string[];
  /** Research: one malloc in this many (on average) is sampled into the size record (default 64). */
  sampleEvery?: number;
}

/** What a mode's threads do beyond Heap's fast paths (stats().config.features; the table in docs/modes.md). */
export interface ModeFeatures {
  /** 'fixed': a built-in policy (minimal, fast); 'static': built-in or imported, never changed (balanced); 'learned': chosen online (learning, research). */
  policy: 'fixed' | 'static' | 'learned';
  /** createHeap({ policy }) is accepted. */
  policyImport: boolean;
  /** malloc's fast path counts this thread's mallocs (learning's windows). */
  opCounter: boolean;
  /** Windows, ratings, the learn / frozen / challenge lifecycle on the slow paths (stats().learning). */
  learning: boolean;
  /** A sampled histogram of requested sizes (stats().sizes); malloc's fast path runs a countdown. */
  sizeRecord: boolean;
  /** Counters of which path each call took (stats().routes), free's fast path counts its calls. */
  routeCounters: boolean;
  /** heap.site() handles count calls, bytes, sizes and sampled lifetimes (stats().sites). */
  siteStats: boolean;
}

export const MODE_FEATURES: Readonly<Record<HeapMode, Readonly<ModeFeatures>>> = {
  minimal: {
    policy: 'fixed',
    policyImport: false,
    opCounter: false,
    learning: false,
    sizeRecord: false,
    routeCounters: false,
    siteStats: false,
  },
  fast: {
    policy: 'fixed',
    policyImport: false,
    opCounter: false,
    learning: false,
    sizeRecord: false,
    routeCounters: false,
    siteStats: false,
  },
  balanced: {
    policy: 'static',
    policyImport: true,
    opCounter: false,
    learning: false,
    sizeRecord: false,
    routeCounters: false,
    siteStats: false,
  },
  learning: {
    policy: 'learned',
    policyImport: true,
    opCounter: true,
    learning: true,
    sizeRecord: false,
    routeCounters: false,
    siteStats: false,
  },
  research: {
    policy: 'learned',
    policyImport: true,
    opCounter: true,
    learning: true,
    sizeRecord: true,
    routeCounters: true,
    siteStats: true,
  },
};

/** stats().config: the heap's mode, its feature set and the policy in force. */
export interface HeapConfig {
  mode: HeapMode;
  /** createHeap({ secure: true }): the strict front end (no thread lists). */
  secure: boolean;
  features: ModeFeatures;
  /** The policy in force: a built-in name ('base', a candidate's), or 'imported'. */
  policy: { name: string; settings: PolicySettings };
}

/** A named policy. */
export interface NamedPolicy {
  readonly name: string;
  readonly settings: Readonly<PolicySettings>;
}

const SETTING_KEYS: readonly (keyof PolicySettings)[] = [
  'listRoom',
  'placement',
  'slabFirstStep',
  'slabMaxPages',
  'slabFit',
  'bigCachePages',
  'bigCacheDiv',
  'parkAge',
  'idleRefills',
];
const SLAB_MAX_CHOICES = [1, 2, 4, 8, 16, 32];
const MAX_LIST_ROOM = 1 << 20;
const MAX_BC_PAGES = 1 << 19; // 2 GiB
const MAX_PARK_AGE = 1 << 16;
const MAX_IDLE = 1 << 24;
const MAX_FIRST_STEP = 5;

/** The built-in policy `base`: the settings hakmem used before it had modes (every constant as it was). */
export const BASE_POLICY: NamedPolicy = {
  name: 'base',
  settings: {
    listRoom: 16384,
    placement: 'first-fit',
    slabFirstStep: 0,
    slabMaxPages: 4,
    slabFit: false,
    bigCachePages: 1024,
    bigCacheDiv: 8,
    parkAge: 8,
    idleRefills: 64,
  },
};

/**
 * The candidates of strategy selection (learning, research): complete policies, each changing
 * settings of `base` along the axes that measured differently on different workloads (docs/modes.md).
 */
export const CANDIDATES: readonly NamedPolicy[] = [
  BASE_POLICY,
  {
    name: 'roomy',
    settings: { ...BASE_POLICY.settings, listRoom: 65536, slabMaxPages: 16, bigCachePages: 4096, bigCacheDiv: 4, parkAge: 32 },
  },
  {
    name: 'compact',
    settings: {
      ...BASE_POLICY.settings,
      listRoom: 4096,
      placement: 'best-fit',
      slabMaxPages: 4,
      slabFit: true,
      bigCachePages: 256,
      bigCacheDiv: 16,
      parkAge: 2,
      idleRefills: 16,
    },
  },
  {
    name: 'best-fit',
    settings: { ...BASE_POLICY.settings, placement: 'best-fit', slabFit: true },
  },
  {
    name: 'no-lists',
    settings: { ...BASE_POLICY.settings, listRoom: 0 },
  },
];

/** The static policy of mode `fast`. */
export const FAST_POLICY: NamedPolicy = CANDIDATES[1]!;
/** The static policy of mode `balanced` (when none is imported). */
export const BALANCED_POLICY: NamedPolicy = BASE_POLICY;

/** The format version of an exported policy (heap.policy()). */
export const POLICY_VERSION = 1;

/** What heap.policy() returns and createHeap({ policy }) accepts (JSON-safe). */
export interface PolicyExport {
  hakmem: 'policy';
  /** POLICY_VERSION of the hakmem that wrote it. */
  version: number;
  /** The heap format (HEAP_VERSION) of the hakmem that wrote it. */
  heapFormat: number;
  /** The candidate's name (or the imported policy's). */
  name: string;
  settings: PolicySettings;
  /** How it was chosen: the mode, and for learning / research the controller's figures when it was exported. */
  learned?: { mode: HeapMode; state: string; windows: number; ratings: Record<string, number> };
}

/** Encodes settings as the POLICY_WORDS header words (P_* order). */
export function policyWords(p: Readonly<PolicySettings>): Int32Array {
  const w = new Int32Array(POLICY_WORDS);
  w[P_ROOM] = p.listRoom;
  w[P_PLACE] = p.placement === 'best-fit' ? PLACE_BEST : PLACE_FIRST;
  w[P_SLAB_FIRST] = p.slabFirstStep;
  w[P_SLAB_MAX] = p.slabMaxPages;
  w[P_SLAB_FIT] = p.slabFit ? 1 : 0;
  w[P_BC_PAGES] = p.bigCachePages;
  w[P_BC_DIV] = p.bigCacheDiv;
  w[P_PARK_AGE] = p.parkAge;
  w[P_IDLE] = p.idleRefills;
  return w;
}

/** Decodes POLICY_WORDS words at m[at ...] (H_POLICY or a candidate entry). */
export function readPolicy(m: Int32Array, at: number): PolicySettings {
  return {
    listRoom: m[at + P_ROOM]!,
    placement: m[at + P_PLACE] === PLACE_BEST ? 'best-fit' : 'first-fit',
    slabFirstStep: m[at + P_SLAB_FIRST]!,
    slabMaxPages: m[at + P_SLAB_MAX]!,
    slabFit: m[at + P_SLAB_FIT] === 1,
    bigCachePages: m[at + P_BC_PAGES]!,
    bigCacheDiv: m[at + P_BC_DIV]!,
    parkAge: m[at + P_PARK_AGE]!,
    idleRefills: m[at + P_IDLE]!,
  };
}

export function writePolicy(m: Int32Array, at: number, p: Readonly<PolicySettings>): void {
  m.set(policyWords(p), at);
}

export function samePolicy(a: Readonly<PolicySettings>, b: Readonly<PolicySettings>): boolean {
  return SETTING_KEYS.every((k) => a[k] === b[k]);
}

/** '' if the words at m[at ...] are a valid policy, else what is wrong (check() and imports). */
export function policyWordsProblem(m: Int32Array, at: number): string {
  const bad = (what: string, v: number) => `${what} ${v}`;
  const room = m[at + P_ROOM]!;
  if (!(room >= 0 && room <= MAX_LIST_ROOM)) return bad('list room', room);
  const place = m[at + P_PLACE]!;
  if (place !== PLACE_FIRST && place !== PLACE_BEST) return bad('placement', place);
  const first = m[at + P_SLAB_FIRST]!;
  if (!(first >= 0 && first <= MAX_FIRST_STEP)) return bad('slab first step', first);
  if (!SLAB_MAX_CHOICES.includes(m[at + P_SLAB_MAX]!)) return bad('slab maximum pages', m[at + P_SLAB_MAX]!);
  const fit = m[at + P_SLAB_FIT]!;
  if (fit !== 0 && fit !== 1) return bad('slab fit flag', fit);
  const bcp = m[at + P_BC_PAGES]!;
  if (!(bcp >= 0 && bcp <= MAX_BC_PAGES)) return bad('BigCache pages', bcp);
  const div = m[at + P_BC_DIV]!;
  if (!(div >= 0 && div <= 64)) return bad('BigCache divisor', div);
  const park = m[at + P_PARK_AGE]!;
  if (!(park >= 0 && park <= MAX_PARK_AGE)) return bad('park age', park);
  const idle = m[at + P_IDLE]!;
  if (!(idle >= 0 && idle <= MAX_IDLE)) return bad('idle refills', idle);
  for (let i = P_IDLE + 1; i < POLICY_WORDS; i++) if (m[at + i] !== 0) return bad(`unused policy word ${i}`, m[at + i]!);
  return '';
}

// ---------------------------------------------------------------- derived values (slow paths)

/** The list limit (blocks) of class cls for a list room of `room` bytes: 0 for no lists, else 2..31 blocks. */
export function listLimit(room: number, cls: number): number {
  return room === 0 ? 0 : Math.min(31, Math.max(2, Math.floor(room / CLASS_SIZE[cls]!)));
}

/** Whether `pages` is a slab size some policy can give class cls (check()). */
export function slabSizeValid(cls: number, pages: number): boolean {
  const base = SLAB_PAGES[cls]!;
  if (pages === base) return true;
  if (pages < base || pages > 32) return false;
  return (pages & (pages - 1)) === 0 || SLAB_MAX_CHOICES.some((_, k) => base << k === pages);
}

// ---------------------------------------------------------------- the size record's buckets

/** The histogram bucket of a requested size (research mode): its size class, then one bucket per power of two above SLAB_MAX. */
export function sizeBucket(size: number): number {
  if (size <= SLAB_MAX) return CLASS_OF[(size + 15) >>> 4]!;
  return NCLASSES + (31 - Math.clz32(size - 1)) - 15; // (2^15, 2^16] -> NCLASSES, ...
}

/** The largest size of bucket b (what stats().sizes names it by). */
export function bucketMaxSize(b: number): number {
  return b < NCLASSES ? CLASS_SIZE[b]! : 2 ** (b - NCLASSES + 16);
}

// ---------------------------------------------------------------- import / export

/** Validates a policy given to createHeap (an exported object, or its JSON text); throws a clear error, returns its name and settings. */
export function importPolicy(v: unknown): NamedPolicy {
  let p = v;
  if (typeof p === 'string') {
    try {
      p = JSON.parse(p);
    } catch (e) {
      throw new TypeError(
        `hakmem: option policy: not valid JSON (${e instanceof Error ? e.message : String(e)}); pass what heap.policy() returned, or its JSON text`,
      );
    }
  }
  if (typeof p !== 'object' || p === null || Array.isArray(p)) {
    throw new TypeError(`hakmem: option policy must be what heap.policy() returned (an object, or its JSON text), got ${describe(p)}`);
  }
  const o = p as Partial<PolicyExport>;
  if (o.hakmem !== 'policy')
    throw new TypeError(
      `hakmem: option policy: not a hakmem policy (its "hakmem" field is ${describe(o.hakmem)}, not "policy"); pass what heap.policy() returned`,
    );
  checkOptionKeys(o, ['hakmem', 'version', 'heapFormat', 'name', 'settings', 'learned'], 'option policy');
  if (o.version !== POLICY_VERSION) {
    throw new TypeError(
      `hakmem: option policy: written by a hakmem with policy format ${describe(o.version)}; this one reads format ${POLICY_VERSION}`,
    );
  }
  if (o.heapFormat !== HEAP_VERSION) {
    throw new TypeError(
      `hakmem: option policy: written by a hakmem with heap format ${describe(o.heapFormat)}; this one has heap format ${HEAP_VERSION}, whose policies may differ: learn it again`,
    );
  }
  const name = o.name === undefined ? 'imported' : o.name;
  if (typeof name !== 'string' || name.length === 0 || name.length > 64)
    throw new TypeError(`hakmem: option policy: name must be a string of 1 to 64 characters, got ${describe(name)}`);
  return { name, settings: checkSettings(o.settings) };
}

/** Validates a settings object: every key present and valid, none unknown. */
export function checkSettings(s: unknown): PolicySettings {
  if (typeof s !== 'object' || s === null || Array.isArray(s))
    throw new TypeError(`hakmem: option policy: settings must be an object, got ${describe(s)}`);
  checkOptionKeys(s, SETTING_KEYS, 'option policy: settings');
  const o = s as Record<string, unknown>;
  for (const k of SETTING_KEYS)
    if (!(k in o)) throw new TypeError(`hakmem: option policy: settings.${k} is missing (a policy names every setting)`);
  const int = (k: string, min: number, max: number): number => {
    const x = o[k];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) {
      throw new RangeError(`hakmem: option policy: settings.${k} must be an integer from ${min} to ${max}, got ${describe(x)}`);
    }
    return x;
  };
  const placement = o.placement;
  if (placement !== 'first-fit' && placement !== 'best-fit')
    throw new RangeError(`hakmem: option policy: settings.placement must be "first-fit" or "best-fit", got ${describe(placement)}`);
  const slabMaxPages = o.slabMaxPages;
  if (typeof slabMaxPages !== 'number' || !SLAB_MAX_CHOICES.includes(slabMaxPages)) {
    throw new RangeError(
      `hakmem: option policy: settings.slabMaxPages must be one of ${SLAB_MAX_CHOICES.join(', ')}, got ${describe(slabMaxPages)}`,
    );
  }
  if (typeof o.slabFit !== 'boolean')
    throw new TypeError(`hakmem: option policy: settings.slabFit must be a boolean, got ${describe(o.slabFit)}`);
  return {
    listRoom: int('listRoom', 0, MAX_LIST_ROOM),
    placement,
    slabFirstStep: int('slabFirstStep', 0, MAX_FIRST_STEP),
    slabMaxPages,
    slabFit: o.slabFit,
    bigCachePages: int('bigCachePages', 0, MAX_BC_PAGES),
    bigCacheDiv: int('bigCacheDiv', 0, 64),
    parkAge: int('parkAge', 0, MAX_PARK_AGE),
    idleRefills: int('idleRefills', 0, MAX_IDLE),
  };
}

/** The policy in force in a heap's header, by name if it is a built-in one. */
export function currentPolicy(m: Int32Array, hw: number): NamedPolicy {
  const settings = readPolicy(m, hw + H_POLICY);
  const known = [BASE_POLICY, ...CANDIDATES].find((c) => samePolicy(c.settings, settings));
  return { name: known?.name ?? 'imported', settings };
}

// layout.ts sizes research's size histogram with a literal; it must hold every bucket.
if (sizeBucket(0x80000000) >= SIZE_BUCKETS || CLASS_MAP_ENTRIES !== CLASS_OF.length) {
  throw new Error("hakmem: layout.ts SIZE_BUCKETS is too small for the size record's buckets");
}
