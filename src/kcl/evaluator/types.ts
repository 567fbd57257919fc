/**
 * Runtime types: what a type annotation means once its names are resolved, how a value is
 * checked against it (with the conversions KCL applies on assignment: int → float, a dict
 * → a schema instance), and how types and values are spelled in messages.
 */
import {
  KclDict,
  KclList,
  configEntries,
  equals,
  isConfig,
  isList,
  isSchema,
  typeName,
  type KclSchema,
  type KclValue,
} from '../values.ts';

/** The schema side of a type, implemented by the evaluator's schema definitions. */
export interface SchemaTypeRef {
  readonly name: string;
  readonly pkgpath: string;
  /** True when `instance` was made by this schema or a schema inheriting from it. */
  accepts(instance: KclSchema): boolean;
  /** Builds an instance from a dict, as assigning a dict to a schema-typed name does. */
  fromConfig(config: KclDict): KclSchema;
}

export type KType =
  | { readonly kind: 'any' }
  | { readonly kind: 'bool' | 'int' | 'float' | 'str' | 'none' | 'function' }
  /** `units.NumberMultiplier`: a literal such as `1Gi`. */
  | { readonly kind: 'unit' }
  | { readonly kind: 'list'; readonly elem: KType }
  | { readonly kind: 'dict'; readonly key: KType; readonly value: KType }
  | { readonly kind: 'union'; readonly types: readonly KType[] }
  | { readonly kind: 'literal'; readonly value: KclValue; readonly text: string }
  | { readonly kind: 'schema'; readonly schema: SchemaTypeRef };

export const ANY: KType = { kind: 'any' };

/** The type as KCL prints it in messages: `[str]`, `{str:int}`, `"a" | "b"`, `Person`. */
export function typeText(t: KType): string {
  switch (t.kind) {
    case 'any':
      return 'any';
    case 'none':
      return 'None';
    case 'list':
      return `[${typeText(t.elem)}]`;
    case 'dict':
      return `{${typeText(t.key)}:${typeText(t.value)}}`;
    case 'union':
      return t.types.map(typeText).join(' | ');
    case 'literal':
      return t.text;
    case 'schema':
      return t.schema.name;
    case 'unit':
      return 'number_multiplier';
    default:
      return t.kind;
  }
}

/** The type as the type checker prints it in "expected ..." messages: literals as `str(a)`. */
export function checkerTypeText(t: KType): string {
  switch (t.kind) {
    case 'list':
      return `[${checkerTypeText(t.elem)}]`;
    case 'dict':
      return `{${checkerTypeText(t.key)}:${checkerTypeText(t.value)}}`;
    case 'union':
      return t.types.map(checkerTypeText).join(' | ');
    case 'literal':
      return literalValueText(t.value);
    default:
      return typeText(t);
  }
}

function literalValueText(v: KclValue): string {
  if (typeof v === 'string') return `str(${v})`;
  if (typeof v === 'bigint') return `int(${v})`;
  // Floats print as the official checker prints them: `float(123)`, `float(1.5)`.
  if (typeof v === 'number') return `float(${String(v)})`;
  if (typeof v === 'boolean') return `bool(${v ? 'True' : 'False'})`;
  if (v !== null && typeof v === 'object' && v.kind === 'unit')
    return `number_multiplier(${v.raw}${v.suffix})`;
  return 'NoneType';
}

/** How the type checker would describe a value written literally: `int(1)`, `[str(a) | int(1)]`. */
export function valueTypeText(v: KclValue): string {
  if (v === null || typeof v !== 'object') return literalValueText(v);
  switch (v.kind) {
    case 'list':
      return `[${unionText(v.items.map(valueTypeText))}]`;
    case 'dict': {
      const keys = [...v.entries.keys()].map((k) => `str(${k})`);
      return `{${unionText(keys)}:${unionText([...v.entries.values()].map(valueTypeText))}}`;
    }
    case 'schema':
      return v.name;
    case 'unit':
      return literalValueText(v);
    case 'undefined':
      return 'UndefinedType';
    default:
      return v.kind;
  }
}

export function unionText(parts: string[]): string {
  const unique = [...new Set(parts)];
  return unique.length === 0 ? 'any' : unique.join(' | ');
}

/** Marks a failed conversion; callers turn it into the error their context reports. */
export const MISMATCH: unique symbol = Symbol('mismatch');

/**
 * Checks `v` against `t` and returns it converted as assignment converts it, or MISMATCH.
 * None and Undefined satisfy every type, as in KCL.
 */
export function convert(v: KclValue, t: KType): KclValue | typeof MISMATCH {
  if (t.kind === 'any' || v === null || (typeof v === 'object' && v.kind === 'undefined')) return v;
  switch (t.kind) {
    case 'none':
      return MISMATCH;
    case 'bool':
      return typeof v === 'boolean' ? v : MISMATCH;
    case 'int':
      return typeof v === 'bigint' || (typeof v === 'object' && v.kind === 'unit') ? v : MISMATCH;
    case 'float':
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      return typeof v === 'object' && v.kind === 'unit' ? v : MISMATCH;
    case 'str':
      return typeof v === 'string' ? v : MISMATCH;
    case 'function':
      return typeof v === 'object' && (v.kind === 'function' || v.kind === 'schemaType') ? v : MISMATCH;
    case 'unit':
      return typeof v === 'object' && v.kind === 'unit' ? v : MISMATCH;
    case 'literal':
      return equals(v, t.value) && typeof v === typeof t.value ? v : MISMATCH;
    case 'list': {
      if (typeof v !== 'object' || v.kind !== 'list') return MISMATCH;
      if (t.elem.kind === 'any') return v;
      let changed = false;
      const items: KclValue[] = [];
      for (const item of v.items) {
        const c = convert(item, t.elem);
        if (c === MISMATCH) return MISMATCH;
        changed ||= c !== item;
        items.push(c);
      }
      return changed ? new KclList(items) : v;
    }
    case 'dict': {
      if (!isConfig(v)) return MISMATCH;
      if (t.key.kind === 'any' && t.value.kind === 'any') return v;
      if (isSchema(v)) return v;
      let changed = false;
      const entries = new Map<string, KclValue>();
      for (const [k, x] of configEntries(v)) {
        if (convert(k, t.key) === MISMATCH) return MISMATCH;
        const c = convert(x, t.value);
        if (c === MISMATCH) return MISMATCH;
        changed ||= c !== x;
        entries.set(k, c);
      }
      return changed ? new KclDict(entries, v.meta) : v;
    }
    case 'union': {
      // An exact match wins over a converting one (`int | float` keeps an int).
      for (const member of t.types) if (member.kind !== 'schema' && convert(v, member) === v) return v;
      for (const member of t.types) {
        // Building a schema member from a dict may fail (unknown keys, checks): try the next one.
        try {
          const c = convert(v, member);
          if (c !== MISMATCH) return c;
        } catch (error) {
          if (member === t.types[t.types.length - 1]) throw error;
        }
      }
      return MISMATCH;
    }
    case 'schema':
      if (isSchema(v)) return t.schema.accepts(v) ? v : MISMATCH;
      if (typeof v === 'object' && v.kind === 'dict') return t.schema.fromConfig(v);
      return MISMATCH;
  }
}
/** The type the checker infers for a value, for names assigned more than once. */
export function inferType(v: KclValue): KType | null {
  switch (typeof v) {
    case 'bigint':
      return { kind: 'int' };
    case 'number':
      return { kind: 'float' };
    case 'string':
      return { kind: 'str' };
    case 'boolean':
      return { kind: 'bool' };
  }
  if (isList(v)) {
    const elems = v.items.map(inferType);
    if (elems.some((e) => e === null)) return { kind: 'list', elem: ANY };
    const unique = [...new Map(elems.map((e) => [typeText(e!), e!])).values()];
    return {
      kind: 'list',
      elem: unique.length === 0 ? ANY : unique.length === 1 ? unique[0]! : { kind: 'union', types: unique },
    };
  }
  return null;
}

/** A value's type as the checker prints it for a non-literal expression. */
export function plainTypeText(v: KclValue): string {
  if (isList(v)) return `[${[...new Set(v.items.map(plainTypeText))].join(' | ') || 'any'}]`;
  if (v !== null && typeof v === 'object' && v.kind === 'dict') {
    const values = [...new Set([...v.entries.values()].map(plainTypeText))].join(' | ') || 'any';
    return `{str:${values}}`;
  }
  return typeName(v);
}
