/**
 * Structs: a layout declared once, with C's rules (fields in declaration order, each at a multiple
 * of its alignment, the size rounded up to the struct's alignment), and accessors that read and
 * write a struct's fields at a pointer through the heap's view getters.
 *
 * The accessors are closures made once per (struct, heap) by `struct.on(heap)`: each captures the
 * heap and its field's offset in `const` bindings and reads `heap.f64[(p + offset) >> 3]` (the
 * getter on every access, so they stay correct after the heap grew, here or in another thread once
 * this thread synchronised with it). V8 inlines such a call and folds the captured constants, so an
 * accessor costs what the same expression written by hand costs (bench/struct-bench.ts). No code is
 * generated at run time (no `new Function`, nothing a Content-Security-Policy forbids).
 */
import type { Heap } from './index.ts';

/** The type of a scalar field: the name of the heap view that reads it (`heap.f64`, ...). 64-bit integers are bigints. */
export type ScalarType = 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32' | 'f32' | 'f64' | 'i64' | 'u64';

/** A field's type: a scalar, or a fixed-length array of one (`['f32', 3]`: C's `float v[3]`). */
export type FieldType = ScalarType | readonly [ScalarType, number];

/** A struct's fields: name -> type, laid out in declaration order. Names are identifiers. */
export type StructFields = { readonly [name: string]: FieldType };

/** The JavaScript type of a scalar's value: bigint for i64 / u64, number otherwise. */
export type ScalarValue<T extends ScalarType> = T extends 'i64' | 'u64' ? bigint : number;

type ElementOf<X> = X extends ScalarType ? X : X extends readonly [infer T extends ScalarType, number] ? T : never;

/**
 * A struct's accessors for one heap (from {@link Struct.on}). For a scalar field `value`:
 * `value(p)` reads it in the struct at pointer `p`, `setValue(p, v)` writes it. For an array field
 * `pos`: `pos(p, i)` and `setPos(p, i, v)`, `i` an integer from 0 to length - 1 (else `RangeError`).
 * Writes convert as typed arrays do (a u8 field stores `v & 255`, an f32 field `Math.fround(v)`).
 */
export type StructView<F extends StructFields> = {
  readonly [K in keyof F & string]: F[K] extends ScalarType
    ? (p: number) => ScalarValue<F[K]>
    : (p: number, i: number) => ScalarValue<ElementOf<F[K]>>;
} & {
  readonly [K in keyof F & string as `set${Capitalize<K>}`]: F[K] extends ScalarType
    ? (p: number, value: ScalarValue<F[K]>) => void
    : (p: number, i: number, value: ScalarValue<ElementOf<F[K]>>) => void;
};

/** One field of a struct's layout (see {@link Struct.fields}). */
export interface StructField {
  readonly name: string;
  /** The scalar type (of each element, for an array). */
  readonly type: ScalarType;
  /** The array's length, or undefined for a scalar field. */
  readonly length: number | undefined;
  /** Byte offset in the struct. */
  readonly offset: number;
  /** Bytes the field takes (element size x length). */
  readonly size: number;
  /** The field's alignment: its element size. */
  readonly align: number;
}

/** A struct's layout, allocation helpers and accessors (from {@link defineStruct}). */
export interface Struct<F extends StructFields> {
  /** Bytes per struct: the end of the last field rounded up to {@link Struct.align} (C's `sizeof`). */
  readonly size: number;
  /** The largest alignment of the fields (C's `alignof`); at most 8, so every block malloc returns (16-byte aligned) holds one. */
  readonly align: number;
  /** Byte offset of each field (C's `offsetof`). */
  readonly offsets: { readonly [K in keyof F]: number };
  /** Every field, in layout order. */
  readonly fields: readonly StructField[];
  /** `heap.malloc(size)`: a struct with undefined contents, or 0 when the heap is full (C's NULL). */
  alloc(heap: Heap): number;
  /** `heap.calloc(1, size)`: a zeroed struct, or 0 when the heap is full. */
  calloc(heap: Heap): number;
  /**
   * An array of `n` structs in one block, or 0 when the heap cannot hold it; element `i` is at
   * `p + i * size`. `n` must be an integer from 0 to 2^53 - 1 (`RangeError` otherwise).
   */
  allocArray(heap: Heap, n: number): number;
  /** {@link Struct.allocArray}, zeroed (`heap.calloc(n, size)`). */
  callocArray(heap: Heap, n: number): number;
  /**
   * The accessors of this struct for `heap` (made on the first call for that heap, then the same
   * object). Keep the view in a variable next to the heap: its accessors read the heap's view
   * getters on every access, so they stay valid after the heap grew.
   */
  on(heap: Heap): StructView<F>;
}

/** Bytes of each scalar type (also its alignment). */
const SIZE_OF: { readonly [T in ScalarType]: number } = { i8: 1, u8: 1, i16: 2, u16: 2, i32: 4, u32: 4, f32: 4, f64: 8, i64: 8, u64: 8 };
const TYPE_NAMES = Object.keys(SIZE_OF)
  .map((t) => `'${t}'`)
  .join(', ');
/** Largest struct size accepted: 1 GiB (a heap holds at most 2 GiB - 4 KiB). */
const MAX_STRUCT_SIZE = 2 ** 30;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Declares a struct: its fields in order, each a scalar type or a fixed-length array of one. The
 * layout follows C's rules for these types on common 32- and 64-bit targets (x86-64, AArch64,
 * wasm32), so a C or Rust (`#[repr(C)]`) struct with the same fields has the same offsets and size.
 * Values are stored in the platform's byte order (little-endian everywhere hakmem runs).
 *
 * Errors: `TypeError` for fields that are not an object, no fields, a name that is not an ASCII
 * identifier, an unknown type, or two accessor names that clash (fields `x` and `setX`);
 * `RangeError` for an array length that is not an integer >= 1 or a struct over 1 GiB.
 *
 * @example
 * ```ts
 * import { createHeap, defineStruct } from 'hakmem';
 *
 * const Particle = defineStruct({ next: 'u32', id: 'i32', mass: 'f64', pos: ['f32', 3] });
 * Particle.size;           // 32
 * Particle.offsets.mass;   // 8
 *
 * const heap = createHeap();
 * const particle = Particle.on(heap);       // accessors for this heap: keep it with the heap
 * const p = Particle.calloc(heap);          // a zeroed struct (0 if the heap is full)
 * particle.setMass(p, 1.5);
 * particle.setPos(p, 2, -4);                // pos[2] = -4
 * particle.mass(p) + particle.pos(p, 2);    // -2.5
 *
 * const arr = Particle.allocArray(heap, 1000);   // element i at arr + i * Particle.size
 * for (let i = 0, q = arr; i < 1000; i++, q += Particle.size) particle.setId(q, i);
 * heap.free(arr);
 * heap.free(p);
 * ```
 */
export function defineStruct<const F extends StructFields>(fields: F): Struct<F> {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw new TypeError(
      `hakmem: defineStruct(fields): fields must be an object such as { next: 'u32', value: 'f64' }, got ${show(fields)}`,
    );
  }
  const keys = Reflect.ownKeys(fields);
  if (keys.length === 0) throw new TypeError('hakmem: defineStruct(fields): a struct needs at least one field');
  const infos: StructField[] = [];
  const offsets = {}; // properties defined, not assigned: see on()
  const accessorNames = new Map<string, string>(); // accessor name -> the field it belongs to
  let end = 0;
  let align = 1;
  for (const key of keys) {
    if (typeof key !== 'string') throw new TypeError(`hakmem: defineStruct: field names must be strings, got ${String(key)}`);
    if (!IDENTIFIER.test(key) || key === '__proto__') {
      throw new TypeError(
        `hakmem: defineStruct: field name ${JSON.stringify(key)} is not allowed: use an identifier of ASCII letters, digits, _ and $ (not starting with a digit, not __proto__)`,
      );
    }
    const spec: unknown = (fields as Record<string, unknown>)[key];
    let type: unknown = spec;
    let length: number | undefined;
    if (Array.isArray(spec)) {
      if (spec.length !== 2) {
        throw new TypeError(
          `hakmem: defineStruct: field "${key}": an array field is [type, length], such as ['f32', 3]; got ${show(spec)}`,
        );
      }
      type = spec[0];
      const n: unknown = spec[1];
      if (typeof n !== 'number') throw new TypeError(`hakmem: defineStruct: field "${key}": array length must be a number, got ${show(n)}`);
      if (!Number.isInteger(n) || n < 1 || n > MAX_STRUCT_SIZE) {
        throw new RangeError(`hakmem: defineStruct: field "${key}": array length must be an integer from 1 to 2^30, got ${show(n)}`);
      }
      length = n;
    }
    if (typeof type !== 'string' || !Object.hasOwn(SIZE_OF, type)) {
      throw new TypeError(
        `hakmem: defineStruct: field "${key}" has type ${show(type)}; a type is one of ${TYPE_NAMES}, or [type, length] for an array`,
      );
    }
    const t = type as ScalarType;
    const elem = SIZE_OF[t];
    const offset = Math.ceil(end / elem) * elem;
    const size = elem * (length ?? 1);
    end = offset + size;
    if (end > MAX_STRUCT_SIZE)
      throw new RangeError(`hakmem: defineStruct: the struct passes 2^30 bytes at field "${key}" (it would end at byte ${end})`);
    if (elem > align) align = elem;
    for (const name of [key, setterName(key)]) {
      const other = accessorNames.get(name);
      if (other !== undefined) {
        throw new TypeError(`hakmem: defineStruct: fields "${other}" and "${key}" both need an accessor named ${name}; rename one`);
      }
      accessorNames.set(name, key);
    }
    define(offsets, key, offset);
    infos.push(Object.freeze({ name: key, type: t, length, offset, size, align: elem }));
  }
  return new StructImpl(Math.ceil(end / align) * align, align, Object.freeze(offsets), Object.freeze(infos)) as unknown as Struct<F>;
}

class StructImpl {
  readonly #views = new WeakMap<object, object>();

  constructor(
    readonly size: number,
    readonly align: number,
    readonly offsets: Readonly<Record<string, number>>,
    readonly fields: readonly StructField[],
  ) {
    Object.freeze(this);
  }

  alloc(heap: Heap): number {
    return heap.malloc(this.size);
  }

  calloc(heap: Heap): number {
    return heap.calloc(1, this.size);
  }

  allocArray(heap: Heap, n: number): number {
    checkCount(n, 'allocArray');
    const total = n * this.size;
    return total > Number.MAX_SAFE_INTEGER ? 0 : heap.malloc(total);
  }

  callocArray(heap: Heap, n: number): number {
    checkCount(n, 'callocArray');
    return heap.calloc(n, this.size);
  }

  on(heap: Heap): object {
    let view = this.#views.get(heap);
    if (view === undefined) {
      if (typeof heap !== 'object' || heap === null || !('f64' in heap)) {
        throw new TypeError(`hakmem: struct.on(heap): pass a Heap (from createHeap or attachHeap), got ${show(heap)}`);
      }
      // A plain object whose properties are defined in the same order for every heap: one hidden
      // class per struct, each property a function V8 can inline. defineProperty, not `v[name] =`:
      // V8 turns an object that gets more than 16 properties by keyed stores into a dictionary
      // (slow lookups); defined ones stay fast up to 1020 (510 fields).
      const v = {};
      for (const f of this.fields) {
        const scalar = f.length === undefined;
        define(v, f.name, scalar ? scalarGetter(heap, f.type, f.offset) : arrayGetter(heap, f.type, f.offset, f.length, f.name));
        define(
          v,
          setterName(f.name),
          scalar ? scalarSetter(heap, f.type, f.offset) : arraySetter(heap, f.type, f.offset, f.length, f.name),
        );
      }
      view = Object.freeze(v);
      this.#views.set(heap, view);
    }
    return view;
  }
}

function define(o: object, name: string, value: unknown): void {
  Object.defineProperty(o, name, { value, enumerable: true, writable: false, configurable: false });
}

function setterName(field: string): string {
  return `set${field[0]!.toUpperCase()}${field.slice(1)}`;
}

function checkCount(n: unknown, method: string): void {
  if (typeof n !== 'number') throw new TypeError(`hakmem: struct.${method}(heap, n): n must be a number, got ${show(n)}`);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`hakmem: struct.${method}(heap, n): n must be an integer from 0 to 2^53 - 1, got ${show(n)}`);
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (typeof v === 'object' && v !== null) return 'an object';
  return String(v);
}

function indexError(name: string, i: unknown, length: number): never {
  throw new RangeError(`hakmem: struct field "${name}": index ${show(i)} is not an integer from 0 to ${length - 1}`);
}

// The accessor factories. Each returns a closure over `const` copies of the heap and the offset:
// V8 inlines the closure at a monomorphic call site and folds both constants, so `view.value(p)`
// compiles to what `heap.f64[(p + 8) >> 3]` compiles to. One literal per type (the view getter's
// name must be a literal for V8 to inline it); no closure is made per access.

function scalarGetter(heap: Heap, type: ScalarType, offset: number): unknown {
  const h = heap;
  const o = offset;
  switch (type) {
    case 'i8':
      return (p: number): number => h.i8[p + o]!;
    case 'u8':
      return (p: number): number => h.u8[p + o]!;
    case 'i16':
      return (p: number): number => h.i16[(p + o) >> 1]!;
    case 'u16':
      return (p: number): number => h.u16[(p + o) >> 1]!;
    case 'i32':
      return (p: number): number => h.i32[(p + o) >> 2]!;
    case 'u32':
      return (p: number): number => h.u32[(p + o) >> 2]!;
    case 'f32':
      return (p: number): number => h.f32[(p + o) >> 2]!;
    case 'f64':
      return (p: number): number => h.f64[(p + o) >> 3]!;
    case 'i64':
      return (p: number): bigint => h.i64[(p + o) >> 3]!;
    case 'u64':
      return (p: number): bigint => h.u64[(p + o) >> 3]!;
  }
}

function scalarSetter(heap: Heap, type: ScalarType, offset: number): unknown {
  const h = heap;
  const o = offset;
  switch (type) {
    case 'i8':
      return (p: number, v: number): void => {
        h.i8[p + o] = v;
      };
    case 'u8':
      return (p: number, v: number): void => {
        h.u8[p + o] = v;
      };
    case 'i16':
      return (p: number, v: number): void => {
        h.i16[(p + o) >> 1] = v;
      };
    case 'u16':
      return (p: number, v: number): void => {
        h.u16[(p + o) >> 1] = v;
      };
    case 'i32':
      return (p: number, v: number): void => {
        h.i32[(p + o) >> 2] = v;
      };
    case 'u32':
      return (p: number, v: number): void => {
        h.u32[(p + o) >> 2] = v;
      };
    case 'f32':
      return (p: number, v: number): void => {
        h.f32[(p + o) >> 2] = v;
      };
    case 'f64':
      return (p: number, v: number): void => {
        h.f64[(p + o) >> 3] = v;
      };
    case 'i64':
      return (p: number, v: bigint): void => {
        h.i64[(p + o) >> 3] = v;
      };
    case 'u64':
      return (p: number, v: bigint): void => {
        h.u64[(p + o) >> 3] = v;
      };
  }
}

// Array elements: `(i >>> 0) !== i` rejects negatives, fractions, NaN and non-numbers in one
// compare, so a bad index throws instead of reaching the next field.

function arrayGetter(heap: Heap, type: ScalarType, offset: number, length: number, name: string): unknown {
  const h = heap;
  const o = offset;
  const n = length;
  const f = name;
  switch (type) {
    case 'i8':
      return (p: number, i: number): number => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        return h.i8[p + o + i]!;
      };
    case 'u8':
      return (p: number, i: number): number => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        return h.u8[p + o + i]!;
      };
    case 'i16':
      return (p: number, i: number): number => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        return h.i16[((p + o) >> 1) + i]!;
      };
    case 'u16':
      return (p: number, i: number): number => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        return h.u16[((p + o) >> 1) + i]!;
      };
    case 'i32':
      return (p: number, i: number): number => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        return h.i32[((p + o) >> 2) + i]!;
      };
    case 'u32':
      return (p: number, i: number): number => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        return h.u32[((p + o) >> 2) + i]!;
      };
    case 'f32':
      return (p: number, i: number): number => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        return h.f32[((p + o) >> 2) + i]!;
      };
    case 'f64':
      return (p: number, i: number): number => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        return h.f64[((p + o) >> 3) + i]!;
      };
    case 'i64':
      return (p: number, i: number): bigint => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        return h.i64[((p + o) >> 3) + i]!;
      };
    case 'u64':
      return (p: number, i: number): bigint => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        return h.u64[((p + o) >> 3) + i]!;
      };
  }
}

function arraySetter(heap: Heap, type: ScalarType, offset: number, length: number, name: string): unknown {
  const h = heap;
  const o = offset;
  const n = length;
  const f = name;
  switch (type) {
    case 'i8':
      return (p: number, i: number, v: number): void => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        h.i8[p + o + i] = v;
      };
    case 'u8':
      return (p: number, i: number, v: number): void => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        h.u8[p + o + i] = v;
      };
    case 'i16':
      return (p: number, i: number, v: number): void => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        h.i16[((p + o) >> 1) + i] = v;
      };
    case 'u16':
      return (p: number, i: number, v: number): void => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        h.u16[((p + o) >> 1) + i] = v;
      };
    case 'i32':
      return (p: number, i: number, v: number): void => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        h.i32[((p + o) >> 2) + i] = v;
      };
    case 'u32':
      return (p: number, i: number, v: number): void => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        h.u32[((p + o) >> 2) + i] = v;
      };
    case 'f32':
      return (p: number, i: number, v: number): void => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        h.f32[((p + o) >> 2) + i] = v;
      };
    case 'f64':
      return (p: number, i: number, v: number): void => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        h.f64[((p + o) >> 3) + i] = v;
      };
    case 'i64':
      return (p: number, i: number, v: bigint): void => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        h.i64[((p + o) >> 3) + i] = v;
      };
    case 'u64':
      return (p: number, i: number, v: bigint): void => {
        if (i >>> 0 !== i || i >= n) indexError(f, i, n);
        h.u64[((p + o) >> 3) + i] = v;
      };
  }
}
