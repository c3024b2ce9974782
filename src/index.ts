/**
 * hakmem: a fast malloc for JavaScript and TypeScript. Pointers are byte offsets into one buffer
 * (a SharedArrayBuffer by default). See README.md.
 */
export { Heap, type HeapHandle, type HeapOptions, type TypedArrayConstructor } from './heap.ts';
export { attachHeap, createHeap } from './init.ts';
export { SecureHeap } from './secure.ts';
export type { HeapStats, ClassStats } from './stats.ts';
export type { MemoryOption } from './memory.ts';
export {
  HakmemError,
  DetachedError,
  InvalidFreeError,
  DoubleFreeError,
  HeapCorruptionError,
  HeapExhaustedError,
  HeapOverflowError,
  UseAfterFreeError,
} from './errors.ts';
export type { RouteStats } from './routes.ts';
export type { HeapMode, HeapConfig, ModeFeatures, PolicySettings, PolicyExport } from './policy.ts';
export type { LearningStats } from './learn.ts';
export type { SizeStats, SiteStats } from './research.ts';
export { Site } from './site.ts';
export { CLASS_SIZE as SIZE_CLASSES } from './size-classes.ts';
export {
  defineStruct,
  type Struct,
  type StructView,
  type StructFields,
  type StructField,
  type FieldType,
  type ScalarType,
  type ScalarValue,
} from './struct.ts';
