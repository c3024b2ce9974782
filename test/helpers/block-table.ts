/**
 * Tagged blocks in a shared table (test/threads-kill.test.ts, test/faults-exhaust.test.ts and their
 * workers): every live block holds its own pointer in its first and last words, and its pointer is
 * published in a slot of an Int32Array over a SharedArrayBuffer (0: an empty slot).
 */
import assert from 'node:assert/strict';
import type { Heap } from '../../src/index.ts';

/** Writes p into the first and last words of its block. */
export function tagBlock(h: Heap, p: number, usable = h.usableSize(p)): void {
  const u32 = h.u32;
  u32[p >>> 2] = p;
  u32[(p + usable - 4) >>> 2] = p;
}

/** Whether the first and last words of p's block still hold p. */
export function tagIntact(h: Heap, p: number, usable = h.usableSize(p)): boolean {
  const u32 = h.u32;
  return u32[p >>> 2] === p && u32[(p + usable - 4) >>> 2] === p;
}

/**
 * The live blocks of the table: every one still tagged, no two overlapping (memory handed out
 * twice); fails the test otherwise. Returns their count and usable bytes.
 */
export function auditTable(heap: Heap, table: Int32Array, where: string): { blocks: number; bytes: number } {
  const blocks: [number, number][] = [];
  let bytes = 0;
  for (let i = 0; i < table.length; i++) {
    const p = Atomics.load(table, i);
    if (p === 0) continue;
    const n = heap.usableSize(p);
    if (!tagIntact(heap, p, n)) assert.fail(`${where}: block ${p} (slot ${i}) was overwritten`);
    blocks.push([p, n]);
    bytes += n;
  }
  blocks.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < blocks.length; i++) {
    if (blocks[i - 1]![0] + blocks[i - 1]![1] > blocks[i]![0])
      assert.fail(`${where}: live blocks at ${blocks[i - 1]![0]} and ${blocks[i]![0]} overlap: memory handed out twice`);
  }
  return { blocks: blocks.length, bytes };
}
