/**
 * Making a heap and joining one: createHeap formats the header, the thread table and the first
 * thread's record in a new or given buffer; attachHeap gives a worker its own slot and record in a
 * heap another thread made (heap.handle). Options are read once, here, and checked (unknown keys
 * are errors), the mode among them (option `mode`, else the environment's HAKMEM_MODE, read here
 * once). createHeapOf / attachHeapOf take the Heap class to make: Heap means "the release build's
 * class for the heap's mode" (Heap, SecureHeap, LearningHeap, ResearchHeap), another class (the
 * debug build's) must support the mode.
 */
import { Backing, growHeapBuffer } from './memory.ts';
import { describe } from './errors.ts';
import {
  H_ARENA_START,
  H_BASE,
  H_CLASS_MAP,
  CLASS_MAP_ENTRIES,
  H_DEAD_DIRECT,
  DIRECT_ENTRIES,
  H_DEBUG_KEY,
  H_FRONTIER,
  H_HIGH_WATER,
  H_LOCK,
  H_MAGIC,
  H_MARK_KEY,
  H_MAX_END,
  H_MAX_THREADS,
  H_MIXED,
  H_NULL_LEAF,
  H_SECURE_KEY,
  H_SENTINEL,
  H_THREADS,
  H_TOP,
  H_VERSION,
  H_VIEW_END,
  HEAP_MAGIC,
  HEAP_VERSION,
  LIST_SHIFT,
  MAX_HEAP_END,
  MAX_THREADS_LIMIT,
  PAGE,
  TOP_ENTRIES,
  headerPages,
  H_MODE,
  H_POLICY,
} from './layout.ts';
import {
  BALANCED_POLICY,
  BASE_POLICY,
  DEFAULT_MODE,
  FAST_POLICY,
  MODE_LEARNING,
  MODE_RESEARCH,
  MODES,
  importPolicy,
  modeCode,
  modeName,
  writePolicy,
  type HeapMode,
  type NamedPolicy,
} from './policy.ts';
import { LearningHeap } from './learn.ts';
import { ResearchHeap } from './research.ts';
import type { Arena } from './pages.ts';
import { CLASS_OF } from './size-classes.ts';
import { CAN_BLOCK, lockAcquire, lockRelease } from './lock.ts';
import { claimSlot, freeSlot, initRecord } from './threads.ts';
import { OPTION_KEYS, checkOption, checkOptionKeys, editDistance } from './args.ts';
import { Heap, type HeapHandle, type HeapOptions } from './heap.ts';
import { SecureHeap } from './secure.ts';

const DEFAULT_MAX_BYTES = 1 << 30;
const DEFAULT_INITIAL_BYTES = 65536;
const DEFAULT_MAX_THREADS = 64;
const MAIN_TID = 1;

let heapCount = 0;

/** Creates a heap. Options are read once, here. */
export function createHeap(options: HeapOptions = {}): Heap {
  return createHeapOf(Heap, options);
}

/** A Heap subclass constructor (the debug build passes its own). @internal */
export type HeapClass<H extends Heap> = (new (
  backing: Backing,
  hw: number,
  tid: number,
  name: string,
) => H) & {
  /** The modes (H_MODE values) whose heaps this class runs; createHeapOf refuses the others. */
  readonly modes: readonly number[];
  /** A thread of this class may join a heap of any mode (it then takes part in no learning: the debug build). */
  readonly attachesAnyMode?: boolean;
  /** Formats its mode's part of a new heap's header (the learning state), after H_MODE and H_POLICY. */
  formatHeap?(m: Int32Array, hw: number, options: HeapOptions, policy: NamedPolicy | undefined): void;
};

/** The release build's class for a heap of mode `code` (secure: SecureHeap). */
function releaseClass(code: number, secure: boolean, what: string): HeapClass<Heap> {
  if (secure) {
    if (!SecureHeap.modes.includes(code)) {
      throw new TypeError(
        `hakmem: ${what}: secure heaps run modes ${modeList(SecureHeap.modes)}, not ${modeName(code)} (the strict front end has no thread lists to learn with)`,
      );
    }
    return SecureHeap;
  }
  return code === MODE_LEARNING ? LearningHeap : code === MODE_RESEARCH ? ResearchHeap : Heap;
}

function modeList(codes: readonly number[]): string {
  return codes.map(modeName).join(', ');
}

/** Reads `HAKMEM_MODE` from the environment where there is one (Node); undefined elsewhere. */
function envMode(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const v = env?.HAKMEM_MODE;
  return v === undefined || v === '' ? undefined : v;
}

/** The mode a createHeap call asks for: option `mode`, else HAKMEM_MODE, else the default. Case does not matter. */
function resolveMode(options: HeapOptions): HeapMode {
  const given = options.mode !== undefined;
  const v: unknown = given ? options.mode : envMode();
  if (v === undefined) return DEFAULT_MODE;
  const from = given ? 'option mode' : 'the environment variable HAKMEM_MODE';
  if (typeof v !== 'string') throw new TypeError(`hakmem: ${from} must be a string, one of ${MODES.join(', ')}; got ${describe(v)}`);
  const mode = MODES.find((k) => k === v.toLowerCase());
  if (mode === undefined) {
    const near = nearest(v.toLowerCase(), MODES);
    throw new TypeError(
      `hakmem: ${from}: unknown mode ${JSON.stringify(v)}${near ? ` (did you mean ${near}?)` : ''}; modes are ${MODES.join(', ')}`,
    );
  }
  return mode;
}

function nearest(v: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 4;
  for (const n of names) {
    const d = editDistance(v, n);
    if (d < bestD) {
      best = n;
      bestD = d;
    }
  }
  return best;
}

/** The policy a new heap of `mode` starts with (an imported one checked for the modes that take one). */
function startPolicy(mode: HeapMode, options: HeapOptions): NamedPolicy | undefined {
  if (options.policy !== undefined && (mode === 'minimal' || mode === 'fast')) {
    throw new TypeError(
      `hakmem: option policy: mode ${mode} runs a fixed policy; import a policy in mode balanced (or learning, which starts frozen on it)`,
    );
  }
  if (options.learn !== undefined && mode !== 'learning' && mode !== 'research') {
    throw new TypeError(`hakmem: option learn is for modes learning and research, not ${mode}`);
  }
  if (options.policy !== undefined) return importPolicy(options.policy);
  return mode === 'minimal' ? BASE_POLICY : mode === 'fast' ? FAST_POLICY : mode === 'balanced' ? BALANCED_POLICY : undefined;
}

/** @internal createHeap for a given Heap class. */
export function createHeapOf<H extends Heap>(Ctor: HeapClass<H>, options: HeapOptions, extraKeys: readonly string[] = []): H {
  if (typeof options !== 'object' || options === null) throw new TypeError('hakmem: createHeap(options): options must be an object');
  checkOptionKeys(options, extraKeys.length === 0 ? OPTION_KEYS : [...OPTION_KEYS, ...extraKeys], 'createHeap');
  if (options.secure !== undefined && typeof options.secure !== 'boolean') throw new TypeError('hakmem: option secure must be a boolean');
  const mode = resolveMode(options);
  const code = modeCode(mode);
  const Class: HeapClass<H> =
    (Ctor as unknown) === Heap ? (releaseClass(code, options.secure === true, 'createHeap') as HeapClass<H>) : Ctor;
  if (!Class.modes.includes(code)) {
    throw new TypeError(`hakmem: createHeap: mode ${mode} is not supported by this build; it runs modes ${modeList(Class.modes)}`);
  }
  const policy = startPolicy(mode, options);
  const memory = options.memory ?? 'shared';
  const maxBytes = checkOption('maxBytes', options.maxBytes ?? DEFAULT_MAX_BYTES, 1 << 16, MAX_HEAP_END);
  const maxThreads = checkOption('maxThreads', options.maxThreads ?? DEFAULT_MAX_THREADS, 1, MAX_THREADS_LIMIT);
  const start = checkOption('start', options.start ?? 0, 0, MAX_HEAP_END - (1 << 16));
  const base = Math.ceil(start / PAGE) * PAGE;
  const hdrPages = headerPages(maxThreads);
  const minBytes = base + (hdrPages + 4) * PAGE; // header, null leaf, first leaf, thread record, one slab page
  let endLimit = Math.min(base + maxBytes, MAX_HEAP_END);
  if (options.end !== undefined) endLimit = Math.min(endLimit, checkOption('end', options.end, 0, MAX_HEAP_END));
  endLimit = Math.floor(endLimit / PAGE) * PAGE;
  if (endLimit < minBytes) {
    throw new RangeError(
      `hakmem: the heap needs at least ${minBytes - base} bytes from offset ${base}; it has ${Math.max(0, endLimit - base)}`,
    );
  }
  const initial = Math.min(
    endLimit,
    Math.max(
      minBytes,
      Math.ceil(checkOption('initialBytes', options.initialBytes ?? DEFAULT_INITIAL_BYTES, 0, MAX_HEAP_END) / 65536) * 65536,
    ),
  );
  const backing = Backing.create(memory, typeof memory === 'string' ? initial : minBytes, endLimit);
  const maxEnd = Math.min(endLimit, Math.floor(backing.capacity / PAGE) * PAGE);
  if (maxEnd < minBytes || !backing.growTo(minBytes, maxEnd)) {
    throw new RangeError(
      `hakmem: the memory given cannot hold a heap: it needs at least ${minBytes} bytes, up to offset ${maxEnd} is available`,
    );
  }
  const buf = backing.buffer();
  const m = new Int32Array(buf, 0, buf.byteLength >>> 2);
  const hw = base >>> 2;
  const nullLeaf = hw + (hdrPages * PAGE) / 4;
  const arenaStart = base + (hdrPages + 1) * PAGE;
  m.fill(0, hw, nullLeaf + PAGE / 4);
  m[hw + H_VERSION] = HEAP_VERSION;
  m[hw + H_BASE] = base;
  m[hw + H_ARENA_START] = arenaStart;
  m[hw + H_FRONTIER] = arenaStart;
  m[hw + H_HIGH_WATER] = arenaStart;
  m[hw + H_MAX_END] = maxEnd;
  m[hw + H_MAX_THREADS] = maxThreads;
  m[hw + H_NULL_LEAF] = nullLeaf;
  for (let i = 0; i < TOP_ENTRIES; i++) m[hw + H_TOP + i] = nullLeaf;
  for (let g = 0; g < DIRECT_ENTRIES; g++) m[hw + H_DEAD_DIRECT + g] = hw + H_SENTINEL;
  for (let g = 0; g < CLASS_MAP_ENTRIES; g++) m[hw + H_CLASS_MAP + g] = CLASS_OF[g]! << LIST_SHIFT;
  if (options.secure === true) m[hw + H_SECURE_KEY] = randomKey();
  else m[hw + H_MARK_KEY] = randomKey(); // a secure heap keeps no free lists: no marker
  if ((Class as unknown) !== SecureHeap && options.secure === true)
    throw new TypeError('hakmem: secure heaps are not supported by this build');
  m[hw + H_MODE] = code;
  if (policy !== undefined) writePolicy(m, hw + H_POLICY, policy.settings);
  Class.formatHeap?.(m, hw, options, policy);
  // The main thread: slot 0, and its record (one META page from the arena).
  m[hw + H_THREADS + maxThreads] = 1; // attached (the slot state's first odd value)
  m[hw + H_VIEW_END] = buf.byteLength;
  const arena = makeArena(backing, hw);
  if (!initRecord(arena, MAIN_TID)) throw new RangeError('hakmem: the memory given is too small for a heap');
  arena.m32[hw + H_MAGIC] = HEAP_MAGIC; // last: the heap is formatted
  const h = new Class(backing, hw, MAIN_TID, options.name ?? `heap#${++heapCount}`);
  h.configure(options, policy);
  return h;
}

/** The page layer's view of a heap for code that runs before a Heap object exists. */
function makeArena(backing: Backing, hw: number): Arena {
  const buf = backing.buffer();
  return {
    m32: new Int32Array(buf, 0, buf.byteLength >>> 2),
    m8: new Uint8Array(buf, 0, buf.byteLength),
    hw,
    growTo(bytes: number): boolean {
      if (!growHeapBuffer(backing, hw, bytes)) return false;
      const b = backing.buffer();
      this.m32 = new Int32Array(b, 0, b.byteLength >>> 2);
      this.m8 = new Uint8Array(b, 0, b.byteLength);
      return true;
    },
  };
}

/**
 * Attaches the calling thread (a worker) to a heap another thread created: `handle` is that heap's
 * `heap.handle`, received through postMessage. Returns this thread's Heap, with its own thread id
 * and caches. RangeError when maxThreads threads are attached.
 */
export function attachHeap(handle: HeapHandle): Heap {
  return attachHeapOf(Heap, handle);
}

/** A random non-zero int32 (crypto when the platform has it). */
function randomKey(): number {
  const c = (globalThis as { crypto?: { getRandomValues?(a: Int32Array): Int32Array } }).crypto;
  const a = new Int32Array(1);
  if (c?.getRandomValues) c.getRandomValues(a);
  else a[0] = (Math.random() * 0x100000000) | 0;
  return a[0]! | 1; // never 0
}

/** @internal attachHeap for a given Heap class. */
export function attachHeapOf<H extends Heap>(Ctor: HeapClass<H>, handle: HeapHandle): H {
  if (typeof handle !== 'object' || handle === null || typeof handle.base !== 'number' || typeof handle.name !== 'string') {
    throw new TypeError('hakmem: attachHeap(handle): pass the heap.handle of an existing heap');
  }
  if (handle.hakmem !== HEAP_VERSION) {
    throw new TypeError(
      `hakmem: attachHeap: the heap was made by a hakmem with heap format ${describe(handle.hakmem)}, this one reads format ${HEAP_VERSION}`,
    );
  }
  const backing = Backing.create(handle.memory, 0, MAX_HEAP_END);
  const buf = backing.buffer();
  const hw = handle.base >>> 2;
  const m = new Int32Array(buf, 0, buf.byteLength >>> 2);
  if (hw + H_THREADS >= m.length || Atomics.load(m, hw + H_MAGIC) !== HEAP_MAGIC || m[hw + H_VERSION] !== HEAP_VERSION) {
    throw new TypeError(`hakmem: attachHeap: no hakmem heap at offset ${handle.base} of the memory given`);
  }
  const secureHeap = m[hw + H_SECURE_KEY] !== 0;
  const code = m[hw + H_MODE]!;
  // Every thread of a heap runs its mode's class (and every thread of a secure heap, SecureHeap).
  const Class: HeapClass<H> = (Ctor as unknown) === Heap ? (releaseClass(code, secureHeap, 'attachHeap') as HeapClass<H>) : Ctor;
  if (secureHeap !== ((Class as unknown) === SecureHeap))
    throw new TypeError(`hakmem: attachHeap: ${handle.name} is ${secureHeap ? '' : 'not '}a secure heap, and this build cannot use it`);
  if (!Class.modes.includes(code) && Class.attachesAnyMode !== true) {
    throw new TypeError(
      `hakmem: attachHeap: ${handle.name} runs mode ${modeName(code)}, which this build does not run (it runs ${modeList(Class.modes)})`,
    );
  }
  // A release thread joining a heap the debug build uses: its blocks carry no debug trailer.
  if (m[hw + H_DEBUG_KEY] !== 0 && (Ctor as unknown as { debugBuild?: boolean }).debugBuild !== true) Atomics.store(m, hw + H_MIXED, 1);
  const tid = claimSlot(m, hw, handle.name);
  let ok = false;
  lockAcquire(m, hw + H_LOCK, tid, CAN_BLOCK && backing.shared, 0);
  try {
    ok = initRecord(makeArena(backing, hw), tid); // views made under the lock
  } finally {
    lockRelease(m, hw + H_LOCK);
  }
  if (!ok) {
    freeSlot(m, hw, tid);
    throw new RangeError(`hakmem: attachHeap: ${handle.name} has no memory left for another thread's record (4 KiB)`);
  }
  return new Class(backing, hw, tid, handle.name);
}
