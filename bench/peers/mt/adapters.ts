// The allocators of the multi-thread benchmarks (bench/larson/, bench/trace/mt/), one shape
// for all: the creating thread gets an instance (its own allocator, a structured-cloneable handle,
// the footprint); a worker attaches with the handle and gets its own allocator.
//   hakmem        : createHeap() defaults + attachHeap(handle) (issue 3's API)
//   hakmem-cached : the same heap; larson's step loop keeps the view in a local (not user form; opt-in)
//   mt-floor      : bench/peers/mt/floor.ts (per-thread lists, atomic remote lists, shared bump, no checks)
import type { Heap } from '../../../src/index.ts';
import type { MtFloor, MtFloorHandle } from './floor.ts';

/** The default set; `hakmem-cached` may be named too. */
export const MT_ALLOCATORS = ['hakmem', 'mt-floor'];

export type MtAlloc = Heap | MtFloor;

export interface MtInstance {
  name: string;
  handle: unknown;
  /** the creating thread's allocator */
  main: MtAlloc;
  highWater(): number;
  /** untimed, with every other thread quiet: a string describing what is wrong, or '' */
  verify(expectInUseBytes?: number): string;
  heap?: Heap;
}

export interface MtSizing {
  /** largest request (mt-floor's class table) */
  maxSize: number;
  /** mt-floor's block area in bytes */
  capacity: number;
  /** threads that attach over the instance's life, the creator included */
  maxThreads: number;
}

export async function createMt(name: string, sz: MtSizing): Promise<MtInstance> {
  if (name === 'hakmem' || name === 'hakmem-cached') {
    const { createHeap } = await import('../../../src/index.ts');
    const heap = createHeap(sz.maxThreads > 64 ? { maxThreads: sz.maxThreads } : {});
    return {
      name,
      handle: heap.handle,
      main: heap,
      heap,
      highWater: () => heap.stats().heapHighWater,
      verify(expect = 0) {
        try {
          heap.check();
        } catch (e) {
          return `check() failed: ${e instanceof Error ? e.message : String(e)}`;
        }
        const s = heap.stats();
        return s.inUseBytes === expect ? '' : `stats().inUseBytes = ${s.inUseBytes}, expected ${expect} (${s.inUseBlocks} blocks)`;
      },
    };
  }
  if (name === 'mt-floor' || name === 'floor') {
    const { createMtFloor } = await import('./floor.ts');
    const { floor, handle } = createMtFloor(sz);
    return { name, handle, main: floor, highWater: () => floor.highWater(), verify: () => '' };
  }
  throw new Error(`unknown multi-thread allocator ${name} (have ${MT_ALLOCATORS.join(', ')}, hakmem-cached)`);
}

export async function attachMt(name: string, handle: unknown): Promise<MtAlloc> {
  if (name === 'hakmem' || name === 'hakmem-cached') {
    const { attachHeap } = await import('../../../src/index.ts');
    return attachHeap(handle as Heap['handle']);
  }
  if (name === 'mt-floor' || name === 'floor') {
    const { attachMtFloor } = await import('./floor.ts');
    return attachMtFloor(handle as MtFloorHandle);
  }
  throw new Error(`unknown multi-thread allocator ${name}`);
}
