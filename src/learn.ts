/**
 * Mode `learning`: online strategy selection, every decision off the fast paths.
 *
 * Candidates are complete policies (policy.ts CANDIDATES, or the ones createHeap's internal `learn`
 * option names, plus an imported policy that matches none), kept in the header's learning table
 * (H_LEARN + LS_CANDS). The one in force is copied to H_POLICY, where every thread's slow paths read
 * it; a switch rewrites those words and bumps H_POL_EPOCH under the lock, and each thread adopts it
 * at its own next slow path (its lists re-based: Heap.rebaseLists). check() passes across switches:
 * every candidate is a valid policy, and a thread's lists keep their own limits (T_LIMIT) until it
 * re-bases them.
 *
 * Measurement, in windows of work: LearningHeap.malloc is Heap.malloc plus one counter (this
 * thread's mallocs); a slow path that finds `windowOps` more mallocs since the window began ends it.
 * The clock is read at window boundaries only, and only while the controller measures (LEARN, and
 * the two windows of a challenge). A window's cost = ns per malloc + memoryWeight x high-water
 * growth bytes per malloc. A window that a switch interrupted (the epoch changed under it) or whose
 * cost is an outlier (OUTLIER x its candidate's running mean: a GC pause, a thread that waited; at
 * most MAX_DISCARDS in a row) is discarded.
 *
 * Ratings: ELO, from pairwise results of adjacent measured windows of different candidates (a win
 * when the later window's cost is more than DRAW below the earlier one's, a loss when more than DRAW
 * above, else a draw). Lifecycle (LS_STATE):
 *   LS_LEARN      candidates take turns, one window each; after CUT_ROUNDS rounds a candidate whose
 *                 mean cost is more than CUT x the cheapest one's leaves the rotation, after MIN_ROUNDS
 *                 one more than ELIM_GAP below the leader; the leader is frozen when it leads the
 *                 next by FREEZE_GAP (or after MAX_ROUNDS rounds).
 *   LS_FROZEN     the winner runs; nothing is measured. After `gap` windows (CHALLENGE_FIRST, doubling
 *                 to CHALLENGE_MAX after each challenge it survives) a challenge starts.
 *   LS_REFERENCE  one measured window of the winner, then a switch to a challenger (in turn);
 *   LS_CHALLENGE  one measured window of the challenger. Cheaper by more than CHALLENGE_MARGIN twice in
 *                 a row (hysteresis: one lucky window does not flip it) sends the heap back to
 *                 LS_LEARN with fresh ratings (the workload changed phase); else back to the winner.
 * (The native hakmem called the challenge phase its canary; the word is not used for identifiers
 * here, to keep the release bundle free of the debug build's names.)
 */
import { Heap } from './heap.ts';
import { H_HIGH_WATER, H_LEARN, H_POL_EPOCH, H_POLICY, POLICY_WORDS, P_ROOM } from './layout.ts';
import {
  CANDIDATES,
  MODE_LEARNING,
  policyWordsProblem,
  readPolicy,
  samePolicy,
  writePolicy,
  POLICY_VERSION,
  type LearnOptions,
  type NamedPolicy,
  type PolicyExport,
  type WindowMeasure,
} from './policy.ts';
import { HEAP_VERSION } from './layout.ts';
import { checkOptionKeys } from './args.ts';
import { HeapCorruptionError, describe } from './errors.ts';
import type { HeapOptions } from './heap.ts';
import type { HeapStats } from './stats.ts';

// ---- the learning table: word offsets from hw + H_LEARN ----
export const LS_STATE = 0;
export const LS_NCAND = 1;
export const LS_CUR = 2; // candidate in force
export const LS_BEST = 3; // the winner (FROZEN and challenges)
export const LS_WINDOWS = 4; // measured windows that counted
export const LS_SWITCHES = 5;
export const LS_ROUNDS = 6; // learning rounds completed
export const LS_ALIVE = 7; // bit per candidate still in the LEARN rotation
export const LS_PREV = 8; // candidate of the previous measured window (-1: none)
export const LS_IDLE = 9; // unmeasured windows since the winner was frozen or last challenged
export const LS_GAP = 10; // windows between challenges
export const LS_CHAL = 11; // the challenger of the current or next challenge
export const LS_CONFIRM = 12; // clear wins in a row by LS_CHAL
export const LS_RELEARNS = 13; // challenges that sent the heap back to LEARN
export const LS_DISCARDED = 14; // windows discarded (a switch under them, or an outlier)
export const LS_ROUND_LEFT = 15; // windows left in the current LEARN round
export const LS_CHALLENGES = 16;
export const LS_WINDOW_OPS = 17; // mallocs per window (every thread)
export const LS_TOTAL = 18; // windows ended, measured or not
export const LS_STREAK = 19; // outlier windows discarded in a row
// float64 words (even offsets; hw is page-aligned)
const LS_F64 = 32;
export const LS_PREV_COST = LS_F64; // cost of the previous measured window
export const LS_REF_COST = LS_F64 + 2; // cost of the winner's reference window of a challenge
export const LS_UNUSED = LS_F64 + 4; // (free)
export const LS_MEM_WEIGHT = LS_F64 + 6;
export const MAX_CAND = 8;
export const LS_RATING = LS_F64 + 8; // MAX_CAND float64
export const LS_COST = LS_RATING + 2 * MAX_CAND; // MAX_CAND float64: running mean cost per candidate
export const LS_NWIN = LS_COST + 2 * MAX_CAND; // MAX_CAND int: measured windows per candidate
export const LS_CAND_ID = LS_NWIN + MAX_CAND; // MAX_CAND int: index in CANDIDATES, or IMPORTED
export const LS_CANDS = LS_CAND_ID + MAX_CAND; // MAX_CAND x POLICY_WORDS: the candidates' policies
export const LS_END = LS_CANDS + MAX_CAND * POLICY_WORDS;
if (((H_LEARN + LS_F64) & 1) !== 0) throw new Error("hakmem: the learning table's float64 words are not 8-byte aligned");
/** LS_CAND_ID of an imported policy that matched no candidate. */
const IMPORTED = 255;

export const LS_OFF = 0; // a static mode: no controller
export const LS_LEARN = 1;
export const LS_FROZEN = 2;
export const LS_REFERENCE = 3;
export const LS_CHALLENGE = 4;
const STATE_NAMES = ['static', 'learn', 'frozen', 'canary', 'canary'];

// ---- parameters (docs/modes.md says why these values) ----
const WINDOW_OPS = 16384;
const MEM_WEIGHT = 0.1;
const ELO_START = 1500;
const ELO_K = 24;
const DRAW = 0.03;
const MIN_ROUNDS = 3;
const CUT_ROUNDS = 2;
const CUT = 2;
const MAX_ROUNDS = 8;
const ELIM_GAP = 120;
const FREEZE_GAP = 60;
const CHALLENGE_FIRST = 16;
const CHALLENGE_MAX = 128;
const CHALLENGE_MARGIN = 0.08;
const CONFIRM = 2;
const OUTLIER = 3;
const MAX_DISCARDS = 2;

/** stats().learning: what the controller did so far (heap-wide). */
export interface LearningStats {
  /** 'learn', 'frozen' or 'canary' (a challenge: a window of the winner, then one of a challenger). */
  state: 'learn' | 'frozen' | 'canary';
  /** The challenger of the current or next canary. */
  challenger: string;
  /** The candidate in force. */
  current: string;
  /** The winner (frozen), or the current leader. */
  best: string;
  /** ELO rating of each candidate, by name. */
  ratings: Record<string, number>;
  /** Measured windows of each candidate that counted. */
  windowsOf: Record<string, number>;
  /** Running mean cost of each candidate's windows (ns per malloc plus the memory term). */
  costOf: Record<string, number>;
  /** Windows that counted, all windows ended (measured or not), windows discarded. */
  windows: number;
  windowsTotal: number;
  discarded: number;
  /** Policy switches. */
  switches: number;
  /** Learning rounds completed since the last (re)start of LEARN. */
  rounds: number;
  /** Canaries (challenges) run while frozen, and how many sent the heap back to LEARN. */
  challenges: number;
  relearns: number;
  /** Mallocs per window. */
  windowOps: number;
}

function f64(h: { m64: Float64Array; hw: number }, off: number): number {
  return h.m64[(h.hw + H_LEARN + off) >>> 1]!;
}

function setF64(h: { m64: Float64Array; hw: number }, off: number, v: number): void {
  h.m64[(h.hw + H_LEARN + off) >>> 1] = v;
}

function candName(m: Int32Array, hw: number, c: number): string {
  const id = m[hw + H_LEARN + LS_CAND_ID + c]!;
  return id === IMPORTED ? 'imported' : (CANDIDATES[id]?.name ?? `#${c}`);
}

/** Validates the internal `learn` option; returns it with defaults. */
function learnOptions(o: LearnOptions | undefined): Required<Omit<LearnOptions, 'cost' | 'clock'>> & Pick<LearnOptions, 'cost' | 'clock'> {
  const v = o ?? {};
  if (typeof v !== 'object' || v === null) throw new TypeError(`hakmem: option learn must be an object, got ${describe(v)}`);
  checkOptionKeys(v, ['clock', 'cost', 'windowOps', 'memoryWeight', 'candidates', 'sampleEvery'], 'option learn');
  if (v.clock !== undefined && typeof v.clock !== 'function')
    throw new TypeError('hakmem: option learn.clock must be a function returning milliseconds');
  if (v.cost !== undefined && typeof v.cost !== 'function') throw new TypeError('hakmem: option learn.cost must be a function');
  const int = (k: 'windowOps' | 'sampleEvery', d: number, max: number): number => {
    const x = v[k] ?? d;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > max)
      throw new RangeError(`hakmem: option learn.${k} must be an integer from 1 to ${max}, got ${describe(x)}`);
    return x;
  };
  const mw = v.memoryWeight ?? MEM_WEIGHT;
  if (typeof mw !== 'number' || !(mw >= 0) || mw === Infinity)
    throw new RangeError(`hakmem: option learn.memoryWeight must be a number >= 0, got ${describe(mw)}`);
  const names = v.candidates ?? CANDIDATES.map((c) => c.name);
  if (!Array.isArray(names) || names.length < 1 || names.length > MAX_CAND - 1) {
    throw new TypeError(
      `hakmem: option learn.candidates must be an array of 1 to ${MAX_CAND - 1} candidate names (${CANDIDATES.map((c) => c.name).join(', ')})`,
    );
  }
  for (const n of names) {
    if (!CANDIDATES.some((c) => c.name === n))
      throw new TypeError(
        `hakmem: option learn.candidates: unknown candidate ${describe(n)}; candidates are ${CANDIDATES.map((c) => c.name).join(', ')}`,
      );
  }
  if (new Set(names).size !== names.length) throw new TypeError('hakmem: option learn.candidates names a candidate twice');
  return {
    clock: v.clock,
    cost: v.cost,
    windowOps: int('windowOps', WINDOW_OPS, 1 << 26),
    memoryWeight: mw,
    candidates: names,
    sampleEvery: int('sampleEvery', 64, 1 << 20),
  };
}

const defaultClock: () => number =
  typeof performance === 'object' && typeof performance.now === 'function' ? () => performance.now() : () => Date.now();

/**
 * A thread of a heap in mode `learning`: Heap's fast paths plus a malloc counter; windows end and
 * the controller runs on its slow paths.
 */
export class LearningHeap extends Heap {
  static override readonly modes: readonly number[] = [MODE_LEARNING];
  /** Mallocs by this thread (wraps as int32). */
  declare ops: number;
  declare private winOps: number;
  declare private winLen: number;
  /** Clock at the window's start; NaN when the window is not measured. */
  declare private winT0: number;
  declare private winHW: number;
  /** H_POL_EPOCH when the window began. */
  declare private winEpoch: number;
  /** The policy epoch this thread's lists follow. */
  declare private polEpoch: number;
  declare private clock: () => number;
  declare private costFn: ((candidate: string, w: WindowMeasure) => number) | undefined;

  /** @internal Formats the learning table of a new heap (createHeapOf): candidates, ratings, the starting state. */
  static formatHeap(m: Int32Array, hw: number, options: HeapOptions, imported: NamedPolicy | undefined): void {
    const o = learnOptions(options.learn);
    const L = hw + H_LEARN;
    const ids = o.candidates.map((n) => CANDIDATES.findIndex((c) => c.name === n));
    let start = 0;
    if (imported !== undefined) {
      start = ids.findIndex((id) => samePolicy(CANDIDATES[id]!.settings, imported.settings));
      if (start < 0) {
        ids.push(IMPORTED);
        start = ids.length - 1;
      }
    }
    m[L + LS_NCAND] = ids.length;
    ids.forEach((id, c) => {
      m[L + LS_CAND_ID + c] = id;
      writePolicy(m, L + LS_CANDS + c * POLICY_WORDS, id === IMPORTED ? imported!.settings : CANDIDATES[id]!.settings);
    });
    const f = new Float64Array(m.buffer, m.byteOffset + (L + LS_F64) * 4, (LS_NWIN - LS_F64) >>> 1);
    f.fill(0);
    for (let c = 0; c < MAX_CAND; c++) f[(LS_RATING - LS_F64) / 2 + c] = ELO_START;
    f[(LS_MEM_WEIGHT - LS_F64) / 2] = o.memoryWeight;
    m[L + LS_WINDOW_OPS] = o.windowOps;
    m[L + LS_ALIVE] = (1 << ids.length) - 1;
    m[L + LS_PREV] = -1;
    m[L + LS_CUR] = start;
    m[L + LS_BEST] = start;
    m[L + LS_GAP] = CHALLENGE_FIRST;
    m[L + LS_CHAL] = start === 0 ? 1 % ids.length : 0;
    m[L + LS_ROUND_LEFT] = ids.length;
    m[L + LS_STATE] = imported !== undefined ? LS_FROZEN : LS_LEARN;
    writePolicy(m, hw + H_POLICY, readPolicy(m, L + LS_CANDS + start * POLICY_WORDS));
  }

  /** @internal */
  constructor(...args: ConstructorParameters<typeof Heap>) {
    super(...args);
    this.ops = 0;
    this.winOps = 0;
    this.winLen = this.m32[this.hw + H_LEARN + LS_WINDOW_OPS]!;
    this.winT0 = NaN;
    this.winHW = 0;
    this.winEpoch = -1; // the first window is not measured: it begins before the thread's lists are warm
    this.polEpoch = Atomics.load(this.m32, this.hw + H_POL_EPOCH);
    this.clock = defaultClock;
    this.costFn = undefined;
  }

  /** @internal The creating thread takes the injected clock and cost of the `learn` option (functions do not cross threads). */
  override configure(options: HeapOptions): void {
    const o = learnOptions(options.learn);
    if (o.clock !== undefined) this.clock = o.clock;
    this.costFn = o.cost;
  }

  override malloc(size: number): number {
    // Heap.malloc (see there and FAST_PATH_LAYOUT), plus this thread's malloc count.
    if (/*check*/ typeof size === 'number' && size >>> 0 === size /*end*/ && size <= 32768 /* SLAB_MAX */) {
      const m = this.m32;
      const l = (this.tl + m[(this.cmap + ((size + 15) >>> 4)) | 0]!) | 0;
      const p = (m[l]! >>> 1) & 0x7ffffff0;
      if (p > 0) {
        m[l] = m[p >>> 2]!;
        m[((p >>> 2) + 1) | 0] = 0;
        this.ops = (this.ops + 1) | 0;
        return p;
      }
    }
    return this.mallocSlow(size) | 0;
  }

  protected override mallocSlow(size: number): number {
    this.ops = (this.ops + 1) | 0;
    if (((this.ops - this.winOps) | 0) >= this.winLen || this.m32[this.hw + H_POL_EPOCH] !== this.polEpoch) this.learnStep();
    return super.mallocSlow(size);
  }

  protected override freeSlow(ptr: number | ArrayBufferView): void {
    if (((this.ops - this.winOps) | 0) >= this.winLen || this.m32[this.hw + H_POL_EPOCH] !== this.polEpoch) this.learnStep();
    super.freeSlow(ptr);
  }

  /** A slow path found the window over, or a new policy: end the window (the controller runs), adopt the policy, start the next window. */
  private learnStep(): void {
    if (this.tid === 0) return; // detached: the calls throw
    if (((this.ops - this.winOps) | 0) >= this.winLen) this.endWindow();
    if (Atomics.load(this.m32, this.hw + H_POL_EPOCH) !== this.polEpoch) this.adoptPolicy();
  }

  /** This thread's lists take the room of the policy in force. */
  private adoptPolicy(): void {
    this.polEpoch = Atomics.load(this.m32, this.hw + H_POL_EPOCH);
    this.rebaseLists(this.m32[this.hw + H_POLICY + P_ROOM]!);
    this.winEpoch = -1; // a window that spans a switch measures neither policy
  }

  private endWindow(): void {
    const ops = (this.ops - this.winOps) | 0;
    const measured = this.winEpoch >= 0 && !Number.isNaN(this.winT0);
    const t = measured ? this.clock() : NaN;
    this.lock();
    let measureNext = false;
    try {
      const m = this.m32;
      const L = this.hw + H_LEARN;
      m[L + LS_TOTAL]!++;
      if (measured && Atomics.load(m, this.hw + H_POL_EPOCH) === this.winEpoch) {
        const w: WindowMeasure = { ops, ms: t - this.winT0, growthBytes: m[this.hw + H_HIGH_WATER]! - this.winHW };
        const c = m[L + LS_CUR]!;
        const cost =
          this.costFn !== undefined
            ? this.costFn(candName(m, this.hw, c), w)
            : (w.ms * 1e6) / ops + f64(this, LS_MEM_WEIGHT) * (w.growthBytes / ops);
        this.onWindow(c, cost);
      } else if (measured) {
        m[L + LS_DISCARDED]!++;
      } else {
        this.onIdleWindow();
      }
      measureNext = m[L + LS_STATE] !== LS_FROZEN;
    } finally {
      this.unlock();
    }
    if (Atomics.load(this.m32, this.hw + H_POL_EPOCH) !== this.polEpoch) this.adoptPolicy();
    this.winOps = this.ops;
    this.winEpoch = Atomics.load(this.m32, this.hw + H_POL_EPOCH);
    this.winHW = this.m32[this.hw + H_HIGH_WATER]!;
    this.winT0 = measureNext ? this.clock() : NaN;
  }

  // ---------------------------------------------------------------- the controller (under the lock)

  /** An unmeasured window ended (FROZEN): count it toward the next challenge. */
  private onIdleWindow(): void {
    const m = this.m32;
    const L = this.hw + H_LEARN;
    if (m[L + LS_STATE] !== LS_FROZEN || m[L + LS_NCAND]! < 2) return;
    if (++m[L + LS_IDLE]! >= m[L + LS_GAP]!) {
      m[L + LS_STATE] = LS_REFERENCE;
      m[L + LS_PREV] = -1;
    }
  }

  /** A measured window of candidate c (the one in force) ended with this cost. */
  private onWindow(c: number, cost: number): void {
    const m = this.m32;
    const L = this.hw + H_LEARN;
    // An outlier against this candidate's own running mean (a GC pause, a thread that waited) is
    // discarded, and the candidate runs another window; never more than MAX_DISCARDS in a row (a
    // candidate whose cost really changed is measured again, not stalled on).
    const cm = f64(this, LS_COST + 2 * c);
    if (m[L + LS_NWIN + c]! >= 2 && cost > OUTLIER * cm && m[L + LS_STREAK]! < MAX_DISCARDS) {
      m[L + LS_STREAK]!++;
      m[L + LS_DISCARDED]!++;
      return;
    }
    m[L + LS_STREAK] = 0;
    m[L + LS_WINDOWS]!++;
    m[L + LS_NWIN + c]!++;
    setF64(this, LS_COST + 2 * c, cm === 0 ? cost : cm + (cost - cm) / 4);
    const prev = m[L + LS_PREV]!;
    if (prev >= 0 && prev !== c) this.rate(c, prev, cost, f64(this, LS_PREV_COST));
    m[L + LS_PREV] = c;
    setF64(this, LS_PREV_COST, cost);
    switch (m[L + LS_STATE]) {
      case LS_LEARN:
        this.learnNext(c);
        break;
      case LS_REFERENCE: {
        setF64(this, LS_REF_COST, cost);
        m[L + LS_STATE] = LS_CHALLENGE;
        m[L + LS_CHALLENGES]!++;
        this.switchTo(m[L + LS_CHAL]!);
        break;
      }
      case LS_CHALLENGE: {
        const ch = m[L + LS_CHAL]!;
        if (cost < f64(this, LS_REF_COST) * (1 - CHALLENGE_MARGIN)) {
          if (++m[L + LS_CONFIRM]! >= CONFIRM) {
            this.relearn(ch); // the workload changed: learn again, from the challenger
            return;
          }
          m[L + LS_STATE] = LS_REFERENCE; // once more, to confirm
        } else {
          m[L + LS_CONFIRM] = 0;
          m[L + LS_CHAL] = this.nextChallenger(ch);
          m[L + LS_GAP] = Math.min(m[L + LS_GAP]! * 2, CHALLENGE_MAX);
          m[L + LS_STATE] = LS_FROZEN;
        }
        m[L + LS_IDLE] = 0;
        this.switchTo(m[L + LS_BEST]!);
        break;
      }
      default:
        break;
    }
  }

  /** ELO update from one pairwise result: candidate a's window (cost ca) against b's just before it (cost cb). */
  private rate(a: number, b: number, ca: number, cb: number): void {
    const s = ca < cb * (1 - DRAW) ? 1 : ca > cb * (1 + DRAW) ? 0 : 0.5;
    const ra = f64(this, LS_RATING + 2 * a);
    const rb = f64(this, LS_RATING + 2 * b);
    const e = 1 / (1 + 10 ** ((rb - ra) / 400));
    setF64(this, LS_RATING + 2 * a, ra + ELO_K * (s - e));
    setF64(this, LS_RATING + 2 * b, rb - ELO_K * (s - e));
  }

  /** LEARN: candidate c had its window; the next candidate in the rotation takes over, or the leader is frozen. */
  private learnNext(c: number): void {
    const m = this.m32;
    const L = this.hw + H_LEARN;
    const n = m[L + LS_NCAND]!;
    if (--m[L + LS_ROUND_LEFT]! > 0) {
      this.switchTo(this.nextAlive(c));
      return;
    }
    const rounds = ++m[L + LS_ROUNDS]!;
    let alive = m[L + LS_ALIVE]!;
    if (rounds >= CUT_ROUNDS) {
      // A candidate whose windows cost more than CUT x the cheapest one's leaves the rotation now:
      // ratings of adjacent windows would take rounds to part them (a candidate that follows a
      // costly one wins its games), and each of its windows is expensive. The cheapest stays.
      let cheapest = Infinity;
      for (let k = 0; k < n; k++)
        if ((alive & (1 << k)) !== 0 && m[L + LS_NWIN + k]! > 0) cheapest = Math.min(cheapest, f64(this, LS_COST + 2 * k));
      for (let k = 0; k < n; k++) {
        if ((alive & (1 << k)) !== 0 && m[L + LS_NWIN + k]! > 0 && f64(this, LS_COST + 2 * k) > CUT * cheapest) alive &= ~(1 << k);
      }
      m[L + LS_ALIVE] = alive;
    }
    const leader = this.leader(alive);
    const top = f64(this, LS_RATING + 2 * leader);
    if (rounds >= MIN_ROUNDS) {
      for (let k = 0; k < n; k++) {
        if (k !== leader && (alive & (1 << k)) !== 0 && f64(this, LS_RATING + 2 * k) < top - ELIM_GAP) alive &= ~(1 << k);
      }
      m[L + LS_ALIVE] = alive;
    }
    let second = -Infinity;
    for (let k = 0; k < n; k++) if (k !== leader && (alive & (1 << k)) !== 0) second = Math.max(second, f64(this, LS_RATING + 2 * k));
    m[L + LS_BEST] = leader;
    if (rounds >= MAX_ROUNDS || (rounds >= MIN_ROUNDS && top - second >= FREEZE_GAP)) {
      m[L + LS_STATE] = LS_FROZEN;
      m[L + LS_IDLE] = 0;
      m[L + LS_GAP] = CHALLENGE_FIRST;
      m[L + LS_CONFIRM] = 0;
      m[L + LS_CHAL] = this.nextChallenger(leader);
      this.switchTo(leader);
      return;
    }
    let left = 0;
    for (let k = 0; k < n; k++) if ((alive & (1 << k)) !== 0) left++;
    m[L + LS_ROUND_LEFT] = left;
    this.switchTo(this.nextAlive(c));
  }

  /** The challenge found the workload changed: LEARN again, every candidate back, fresh ratings, starting from ch. */
  private relearn(ch: number): void {
    const m = this.m32;
    const L = this.hw + H_LEARN;
    const n = m[L + LS_NCAND]!;
    for (let k = 0; k < n; k++) setF64(this, LS_RATING + 2 * k, ELO_START);
    m[L + LS_RELEARNS]!++;
    m[L + LS_STATE] = LS_LEARN;
    m[L + LS_ROUNDS] = 0;
    m[L + LS_ALIVE] = (1 << n) - 1;
    m[L + LS_ROUND_LEFT] = n;
    m[L + LS_CONFIRM] = 0;
    m[L + LS_PREV] = -1;
    m[L + LS_BEST] = ch;
    // The challenger is in force: its window was the last one; the rotation goes on from it.
    m[L + LS_ROUND_LEFT]!--;
    this.switchTo(this.nextAlive(ch));
  }

  /** The alive candidate with the highest rating (the lowest index among equals). */
  private leader(alive: number): number {
    const n = this.m32[this.hw + H_LEARN + LS_NCAND]!;
    let best = -1;
    for (let k = 0; k < n; k++) {
      if ((alive & (1 << k)) === 0) continue;
      if (best < 0 || f64(this, LS_RATING + 2 * k) > f64(this, LS_RATING + 2 * best)) best = k;
    }
    return best;
  }

  private nextAlive(c: number): number {
    const m = this.m32;
    const n = m[this.hw + H_LEARN + LS_NCAND]!;
    const alive = m[this.hw + H_LEARN + LS_ALIVE]!;
    for (let k = 1; k <= n; k++) {
      const x = (c + k) % n;
      if ((alive & (1 << x)) !== 0) return x;
    }
    return c;
  }

  private nextChallenger(after: number): number {
    const m = this.m32;
    const n = m[this.hw + H_LEARN + LS_NCAND]!;
    const best = m[this.hw + H_LEARN + LS_BEST]!;
    for (let k = 1; k <= n; k++) {
      const x = (after + k) % n;
      if (x !== best) return x;
    }
    return best;
  }

  /** Puts candidate c in force: its words to H_POLICY, then the epoch (every thread adopts it at its next slow path). */
  private switchTo(c: number): void {
    const m = this.m32;
    const L = this.hw + H_LEARN;
    if (m[L + LS_CUR] === c) return;
    m[L + LS_CUR] = c;
    m[L + LS_SWITCHES]!++;
    m.copyWithin(this.hw + H_POLICY, L + LS_CANDS + c * POLICY_WORDS, L + LS_CANDS + (c + 1) * POLICY_WORDS);
    Atomics.add(m, this.hw + H_POL_EPOCH, 1);
  }

  // ---------------------------------------------------------------- reports

  override stats(): HeapStats {
    const s = super.stats();
    s.learning = this.learningStats();
    return s;
  }

  /** Heap's check(), then the learning table: valid candidates, the one in force in H_POLICY, a valid state. */
  override check(): void {
    super.check();
    const m = this.m32;
    const hw = this.hw;
    const L = hw + H_LEARN;
    const fail = (what: string, at: number): never => {
      throw new HeapCorruptionError(`the learning table is inconsistent: ${what}`, at << 2, this.name);
    };
    const n = m[L + LS_NCAND]!;
    if (!(n >= 1 && n <= MAX_CAND)) fail(`${n} candidates`, L + LS_NCAND);
    for (let c = 0; c < n; c++) {
      const why = policyWordsProblem(m, L + LS_CANDS + c * POLICY_WORDS);
      if (why !== '') fail(`candidate ${c} is not a valid policy (${why})`, L + LS_CANDS + c * POLICY_WORDS);
      const id = m[L + LS_CAND_ID + c]!;
      if (id !== IMPORTED && !(id >= 0 && id < CANDIDATES.length)) fail(`candidate ${c} names built-in policy ${id}`, L + LS_CAND_ID + c);
    }
    const st = m[L + LS_STATE]!;
    if (!(st >= LS_LEARN && st <= LS_CHALLENGE)) fail(`state ${st}`, L + LS_STATE);
    for (const [k, what] of [
      [LS_CUR, 'the candidate in force'],
      [LS_BEST, 'the winner'],
      [LS_CHAL, 'the challenger'],
    ] as const) {
      if (!(m[L + k]! >= 0 && m[L + k]! < n)) fail(`${what} is candidate ${m[L + k]} of ${n}`, L + k);
    }
    const cur = L + LS_CANDS + m[L + LS_CUR]! * POLICY_WORDS;
    for (let i = 0; i < POLICY_WORDS; i++) {
      if (m[hw + H_POLICY + i] !== m[cur + i]) fail("the policy in force is not the current candidate's", hw + H_POLICY + i);
    }
    if (m[L + LS_WINDOW_OPS]! < 1) fail(`window of ${m[L + LS_WINDOW_OPS]} mallocs`, L + LS_WINDOW_OPS);
  }

  /** @internal stats().learning. */
  learningStats(): LearningStats {
    const m = this.m32;
    const hw = this.hw;
    const L = hw + H_LEARN;
    const n = m[L + LS_NCAND]!;
    const ratings: Record<string, number> = {};
    const windowsOf: Record<string, number> = {};
    const costOf: Record<string, number> = {};
    for (let c = 0; c < n; c++) {
      const name = candName(m, hw, c);
      ratings[name] = Math.round(f64(this, LS_RATING + 2 * c) * 10) / 10;
      windowsOf[name] = m[L + LS_NWIN + c]!;
      costOf[name] = Math.round(f64(this, LS_COST + 2 * c) * 100) / 100;
    }
    return {
      state: (STATE_NAMES[m[L + LS_STATE]!] ?? 'learn') as LearningStats['state'],
      challenger: candName(m, hw, m[L + LS_CHAL]!),
      current: candName(m, hw, m[L + LS_CUR]!),
      best: candName(m, hw, m[L + LS_BEST]!),
      ratings,
      windowsOf,
      costOf,
      windows: m[L + LS_WINDOWS]!,
      windowsTotal: m[L + LS_TOTAL]!,
      discarded: m[L + LS_DISCARDED]!,
      switches: m[L + LS_SWITCHES]!,
      rounds: m[L + LS_ROUNDS]!,
      challenges: m[L + LS_CHALLENGES]!,
      relearns: m[L + LS_RELEARNS]!,
      windowOps: m[L + LS_WINDOW_OPS]!,
    };
  }

  /** What was learned: the winner (frozen) or the current leader, as plain JSON for createHeap({ policy }). */
  override policy(): PolicyExport {
    this.syncViews();
    const m = this.m32;
    const L = this.hw + H_LEARN;
    const best = m[L + LS_BEST]!;
    const s = this.learningStats();
    return {
      hakmem: 'policy',
      version: POLICY_VERSION,
      heapFormat: HEAP_VERSION,
      name: candName(m, this.hw, best),
      settings: readPolicy(m, L + LS_CANDS + best * POLICY_WORDS),
      learned: { mode: this.config().mode, state: s.state, windows: s.windows, ratings: s.ratings },
    };
  }
}
