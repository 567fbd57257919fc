/**
 * The KCL runtime value model.
 *
 * Representation (chosen so the common cases are plain JavaScript values):
 * - int      → `bigint`. KCL ints are 64-bit; arithmetic here is exact and raises
 *              "N: A 64 bit integer overflow" when a result leaves the i64 range.
 * - float    → `number` (IEEE double, like KCL's f64).
 * - str      → `string`; bool → `boolean`; None → `null`.
 * - Undefined → the singleton {@link UNDEFINED} (never JavaScript `undefined`, so a missed
 *              Map lookup cannot pass for a KCL value).
 * - list, dict, schema instance, number multiplier (`1Ki`), function, module and schema
 *   type → the classes and interfaces below, told apart by their `kind`.
 *
 * This module is pure: no evaluator or AST dependency.
 */

export type KclValue =
  | null
  | KclUndefined
  | boolean
  | bigint
  | number
  | string
  | KclList
  | KclDict
  | KclSchema
  | KclUnit
  | KclFunction
  | KclModule
  | KclSchemaType;

/** A runtime failure raised by an operator or builtin; the evaluator attaches positions. */
export class KclRuntimeError extends Error {
  /** KCL's error kind as printed in diagnostics, e.g. `EvaluationError`, `TypeError`. */
  readonly errorKind: string;

  constructor(message: string, errorKind = 'EvaluationError') {
    super(message);
    this.name = 'KclRuntimeError';
    this.errorKind = errorKind;
  }
}

export function typeError(message: string): KclRuntimeError {
  return new KclRuntimeError(message, 'TypeError');
}

// ---------------------------------------------------------------------------------------
// Value classes

export interface KclUndefined {
  readonly kind: 'undefined';
}

export const UNDEFINED: KclUndefined = Object.freeze({ kind: 'undefined' as const });

export class KclList {
  readonly kind = 'list' as const;
  items: KclValue[];

  constructor(items: KclValue[] = []) {
    this.items = items;
  }
}

/** How a config entry was written; unification uses it (`:` union, `=` override, `+=` insert). */
export type ConfigEntryOperation = 'union' | 'override' | 'insert';

export interface ConfigEntryMeta {
  operation: ConfigEntryOperation;
  /** For `key[i] = v` / `key[i] += v`: the list index the operation targets. */
  index?: number;
}

/** A dict (KCL config). Keys are strings; insertion order is kept. */
export class KclDict {
  readonly kind = 'dict' as const;
  entries: Map<string, KclValue>;
  /** Per-key operation info for unification; absent keys mean plain union. */
  meta: Map<string, ConfigEntryMeta> | undefined;

  constructor(entries: Map<string, KclValue> = new Map(), meta?: Map<string, ConfigEntryMeta>) {
    this.entries = entries;
    this.meta = meta;
  }

  static of(pairs: Iterable<readonly [string, KclValue]>): KclDict {
    return new KclDict(new Map(pairs));
  }
}

/** An instance of a schema. `attrs` keeps attribute order as the schema evaluated them. */
export class KclSchema {
  readonly kind = 'schema' as const;
  /** Schema name, e.g. `Person`. */
  name: string;
  /** Package path of the defining module, `__main__` for the main package. */
  pkgpath: string;
  attrs: Map<string, KclValue>;
  meta: Map<string, ConfigEntryMeta> | undefined;
  /** Opaque slot for the evaluator (the schema type, config keys, check state …). */
  runtime: unknown;

  constructor(name: string, pkgpath: string, attrs: Map<string, KclValue> = new Map()) {
    this.name = name;
    this.pkgpath = pkgpath;
    this.attrs = attrs;
    this.meta = undefined;
    this.runtime = undefined;
  }

  /** `pkg.Name` as `typeof(x, full_name=True)` prints it; main-package schemas keep the bare name. */
  get fullName(): string {
    return this.pkgpath === '' || this.pkgpath === '__main__' ? this.name : `${this.pkgpath}.${this.name}`;
  }
}

/** The factor each number-multiplier suffix stands for. */
export const UNIT_FACTORS: ReadonlyMap<string, number> = new Map([
  ['n', 1e-9],
  ['u', 1e-6],
  ['m', 1e-3],
  ['k', 1e3],
  ['K', 1e3],
  ['M', 1e6],
  ['G', 1e9],
  ['T', 1e12],
  ['P', 1e15],
  ['Ki', 1024],
  ['Mi', 1024 ** 2],
  ['Gi', 1024 ** 3],
  ['Ti', 1024 ** 4],
  ['Pi', 1024 ** 5],
]);

/**
 * A number-multiplier literal such as `1Ki`. KCL keeps the literal (`str(1Ki)` is `"1Ki"`,
 * `typeof` is `number_multiplier`) and the magnitude (output and arithmetic use 1024).
 */
export class KclUnit {
  readonly kind = 'unit' as const;
  /** The literal's integer part, e.g. 1 for `1Ki`. */
  raw: bigint;
  suffix: string;
  /** raw × factor. */
  value: number;

  constructor(raw: bigint, suffix: string) {
    const factor = UNIT_FACTORS.get(suffix);
    if (factor === undefined) throw new KclRuntimeError(`invalid unit suffix '${suffix}'`, 'ValueError');
    this.raw = raw;
    this.suffix = suffix;
    this.value = Number(raw) * factor;
  }
}

/** What the evaluator (lambdas) and the builtins implement to be callable from KCL. */
export interface KclCallable {
  call(positional: readonly KclValue[], keywords: ReadonlyMap<string, KclValue>): KclValue;
}

export interface KclFunction extends KclCallable {
  readonly kind: 'function';
  readonly name: string;
}

export interface KclModule {
  readonly kind: 'module';
  /** Import path, e.g. `math`, `pkg.sub`. */
  readonly name: string;
  readonly members: ReadonlyMap<string, KclValue>;
}

/** A schema used as a value (`typeof`, calls such as `Person()`, `Person.instances()`). */
export interface KclSchemaType extends KclCallable {
  readonly kind: 'schemaType';
  readonly name: string;
  readonly pkgpath: string;
}

export function makeFunction(
  name: string,
  call: (positional: readonly KclValue[], keywords: ReadonlyMap<string, KclValue>) => KclValue,
): KclFunction {
  return { kind: 'function', name, call };
}

export function makeModule(name: string, members: Iterable<readonly [string, KclValue]>): KclModule {
  return { kind: 'module', name, members: new Map(members) };
}

// ---------------------------------------------------------------------------------------
// Constructors and guards

export const int = (n: number | bigint): bigint => BigInt(n);

export function list(items: KclValue[] = []): KclList {
  return new KclList(items);
}

export function dict(pairs: Iterable<readonly [string, KclValue]> = []): KclDict {
  return KclDict.of(pairs);
}

export const isInt = (v: KclValue): v is bigint => typeof v === 'bigint';
export const isFloat = (v: KclValue): v is number => typeof v === 'number';
export const isStr = (v: KclValue): v is string => typeof v === 'string';
export const isBool = (v: KclValue): v is boolean => typeof v === 'boolean';
export const isNone = (v: KclValue): v is null => v === null;
export const isUndefined = (v: KclValue): v is KclUndefined => v === UNDEFINED;
export const isNoneOrUndefined = (v: KclValue): v is null | KclUndefined => v === null || v === UNDEFINED;

function isObj<K extends string>(v: KclValue, kind: K): boolean {
  return typeof v === 'object' && v !== null && v.kind === kind;
}
export const isList = (v: KclValue): v is KclList => isObj(v, 'list');
export const isDict = (v: KclValue): v is KclDict => isObj(v, 'dict');
export const isSchema = (v: KclValue): v is KclSchema => isObj(v, 'schema');
export const isUnit = (v: KclValue): v is KclUnit => isObj(v, 'unit');
export const isFunction = (v: KclValue): v is KclFunction => isObj(v, 'function');
export const isModule = (v: KclValue): v is KclModule => isObj(v, 'module');
export const isSchemaType = (v: KclValue): v is KclSchemaType => isObj(v, 'schemaType');
/** int, float, bool or number multiplier: what arithmetic accepts. */
export const isNumberLike = (v: KclValue): v is bigint | number | boolean | KclUnit =>
  typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean' || isUnit(v);
/** dict or schema: what KCL calls a config. */
export const isConfig = (v: KclValue): v is KclDict | KclSchema => isDict(v) || isSchema(v);

/** The key → value map of a dict or schema instance. */
export function configEntries(v: KclDict | KclSchema): Map<string, KclValue> {
  return v.kind === 'dict' ? v.entries : v.attrs;
}

// ---------------------------------------------------------------------------------------
// Type names, truthiness

/** The type name KCL uses in `typeof` and in error messages. */
export function typeName(v: KclValue, fullName = false): string {
  if (v === null) return 'NoneType';
  switch (typeof v) {
    case 'bigint':
      return 'int';
    case 'number':
      return 'float';
    case 'string':
      return 'str';
    case 'boolean':
      return 'bool';
  }
  switch (v.kind) {
    case 'undefined':
      return 'UndefinedType';
    case 'list':
      return 'list';
    case 'dict':
      return 'dict';
    case 'schema':
      return fullName ? v.fullName : v.name;
    case 'unit':
      return 'number_multiplier';
    case 'function':
      return 'function';
    case 'module':
      return 'module';
    case 'schemaType':
      return 'schema_type';
  }
}

export function truthy(v: KclValue): boolean {
  if (v === null) return false;
  switch (typeof v) {
    case 'bigint':
      return v !== 0n;
    case 'number':
      return v !== 0 && !Number.isNaN(v);
    case 'string':
      return v.length > 0;
    case 'boolean':
      return v;
  }
  switch (v.kind) {
    case 'undefined':
      return false;
    case 'list':
      return v.items.length > 0;
    case 'dict':
      return v.entries.size > 0;
    case 'schema':
      return v.attrs.size > 0;
    case 'unit':
      return v.value !== 0;
    default:
      return true;
  }
}

// ---------------------------------------------------------------------------------------
// Integer range

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const I32_MIN = -(2n ** 31n);
const I32_MAX = 2n ** 31n - 1n;

/** Raises KCL's overflow error when `n` does not fit in `bits` (64, or 32 under `-r`). */
export function checkIntRange(n: bigint, bits: 32 | 64 = 64): bigint {
  const [lo, hi] = bits === 64 ? [I64_MIN, I64_MAX] : [I32_MIN, I32_MAX];
  if (n < lo || n > hi) throw new KclRuntimeError(`${n}: A ${bits} bit integer overflow`);
  return n;
}

/** Raises KCL's float range error: `inf` always, out of f32 range under `-r`. */
export function checkFloatRange(x: number, strict32 = false): number {
  if (!Number.isFinite(x) && !Number.isNaN(x)) {
    throw new KclRuntimeError(`inf: A 64-bit floating point number overflow`);
  }
  if (strict32 && Math.abs(x) > 3.402823466e38) {
    // The message spells the exponent with its sign (`3.4e+40`), unlike YAML output.
    const text = formatFloat(x).replace(/e(\d)/, 'e+$1');
    throw new KclRuntimeError(`${text}: A 32-bit floating point number overflow`);
  }
  return x;
}

// ---------------------------------------------------------------------------------------
// Printing

/**
 * A float as KCL's YAML/JSON output prints it: shortest round-trip digits, `.0` on whole
 * numbers, plain notation while the decimal exponent is in [-5, 16], otherwise `1e-09` /
 * `3.4e38` (negative exponents padded to two digits, no `+`).
 */
export function formatFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mantissa = '', expText = '0'] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  // Position of the decimal point relative to the digit string.
  const point = exp + 1;
  if (point > 16 || point <= -5) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const e = exp < 0 ? `-${String(-exp).padStart(2, '0')}` : String(exp);
    return `${sign}${digits[0]}${frac}e${e}`;
  }
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** A number-multiplier magnitude as output prints it: integral values without `.0`. */
export function formatUnitNumber(u: KclUnit): string {
  return Number.isInteger(u.value) && Math.abs(u.value) < 2 ** 63
    ? BigInt(u.value).toString()
    : formatFloat(u.value);
}

/** Python-style single-quoted repr of a string, as KCL prints strings inside containers. */
export function reprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

/** `str(v)`: what string interpolation and `print` show. */
export function toStr(v: KclValue): string {
  return typeof v === 'string' ? v : repr(v);
}

/** How a value prints inside a list or dict (strings quoted). */
export function repr(v: KclValue): string {
  if (v === null) return 'None';
  switch (typeof v) {
    case 'bigint':
      return v.toString();
    case 'number':
      return formatFloat(v);
    case 'string':
      return reprString(v);
    case 'boolean':
      return v ? 'True' : 'False';
  }
  switch (v.kind) {
    case 'undefined':
      return 'Undefined';
    case 'list':
      return `[${v.items.map(repr).join(', ')}]`;
    case 'dict':
    case 'schema': {
      const parts: string[] = [];
      for (const [k, x] of configEntries(v)) parts.push(`${reprString(k)}: ${repr(x)}`);
      return `{${parts.join(', ')}}`;
    }
    case 'unit':
      return `${v.raw}${v.suffix}`;
    case 'function':
      return `<function ${v.name}>`;
    case 'module':
      return `<module '${v.name}'>`;
    case 'schemaType':
      return `<schema ${v.name}>`;
  }
}

// ---------------------------------------------------------------------------------------
// Equality and ordering

/** Numeric view of a number-like value (bool counts as 0/1, a unit as its magnitude). */
function numeric(v: bigint | number | boolean | KclUnit): bigint | number {
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'object') return v.value;
  return v;
}

function numEq(a: bigint | number, b: bigint | number): boolean {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a === b;
  return Number(a) === Number(b);
}

/** Deep `==` per KCL: 1 == 1.0, lists by items, dicts/schemas by keys and values. */
export function equals(a: KclValue, b: KclValue): boolean {
  if (a === b) return true;
  if (isNumberLike(a) && isNumberLike(b)) {
    // True == 1 holds in KCL, but a bool never equals a str, list …
    return numEq(numeric(a), numeric(b));
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (a.kind === 'list' && b.kind === 'list') {
    return a.items.length === b.items.length && a.items.every((x, i) => equals(x, b.items[i] ?? UNDEFINED));
  }
  if (isConfig(a) && isConfig(b)) {
    if (a.kind !== b.kind) return false;
    if (a.kind === 'schema' && b.kind === 'schema' && a.name !== b.name) return false;
    const ea = configEntries(a);
    const eb = configEntries(b);
    if (ea.size !== eb.size) return false;
    for (const [k, x] of ea) {
      if (!eb.has(k) || !equals(x, eb.get(k) ?? UNDEFINED)) return false;
    }
    return true;
  }
  return false;
}

function notSupported(op: string, a: KclValue, b: KclValue): KclRuntimeError {
  return typeError(`'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
}

/** Three-way comparison for `<`, `<=`, `>`, `>=`, `sorted`, `min`, `max`. */
export function compare(a: KclValue, b: KclValue, op = '<'): number {
  if (isNumberLike(a) && isNumberLike(b)) {
    const x = numeric(a);
    const y = numeric(b);
    if (typeof x === 'bigint' && typeof y === 'bigint') return x < y ? -1 : x > y ? 1 : 0;
    const fx = Number(x);
    const fy = Number(y);
    return fx < fy ? -1 : fx > fy ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (isList(a) && isList(b)) {
    const n = Math.min(a.items.length, b.items.length);
    for (let i = 0; i < n; i++) {
      const x = a.items[i] ?? UNDEFINED;
      const y = b.items[i] ?? UNDEFINED;
      if (!equals(x, y)) return compare(x, y, op);
    }
    return Math.sign(a.items.length - b.items.length);
  }
  throw notSupported(op, a, b);
}

// ---------------------------------------------------------------------------------------
// Arithmetic

export type BinaryOperator =
  | '+'
  | '-'
  | '*'
  | '/'
  | '//'
  | '%'
  | '**'
  | '<<'
  | '>>'
  | '&'
  | '|'
  | '^'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | 'in'
  | 'not in'
  | 'is'
  | 'is not';

export type UnaryOperator = '-' | '+' | '~' | 'not';

function intResult(n: bigint): bigint {
  return checkIntRange(n, 64);
}

function asIntOperand(v: KclValue): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return undefined;
}

function pyFloorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function pyMod(a: bigint, b: bigint): bigint {
  const r = a % b;
  return r !== 0n && r < 0n !== b < 0n ? r + b : r;
}

function floatMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

function zeroDivision(op: string): KclRuntimeError {
  return new KclRuntimeError(
    op === '%'
      ? 'integer division or modulo by zero'
      : op === '/'
        ? 'float division by zero'
        : 'integer division or modulo by zero',
    'EvaluationError',
  );
}

function arith(op: '+' | '-' | '*' | '/' | '//' | '%' | '**', a: KclValue, b: KclValue): KclValue {
  if (!isNumberLike(a) || !isNumberLike(b)) throw notSupportedOperand(op, a, b);
  const x = numeric(a);
  const y = numeric(b);
  if (typeof x === 'bigint' && typeof y === 'bigint') {
    switch (op) {
      case '+':
        return intResult(x + y);
      case '-':
        return intResult(x - y);
      case '*':
        return intResult(x * y);
      case '/':
        if (y === 0n) throw zeroDivision('/');
        return Number(x) / Number(y);
      case '//':
        if (y === 0n) throw zeroDivision('//');
        return intResult(pyFloorDiv(x, y));
      case '%':
        if (y === 0n) throw zeroDivision('%');
        return pyMod(x, y);
      case '**':
        if (y < 0n) return Number(x) ** Number(y);
        return intResult(x ** y);
    }
  }
  const fx = Number(x);
  const fy = Number(y);
  switch (op) {
    case '+':
      return fx + fy;
    case '-':
      return fx - fy;
    case '*':
      return fx * fy;
    case '/':
      if (fy === 0) throw zeroDivision('/');
      return fx / fy;
    case '//':
      if (fy === 0) throw zeroDivision('//');
      return Math.floor(fx / fy);
    case '%':
      if (fy === 0) throw zeroDivision('%');
      return floatMod(fx, fy);
    case '**':
      return fx ** fy;
  }
}

function notSupportedOperand(op: string, a: KclValue, b: KclValue): KclRuntimeError {
  return typeError(`unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
}

function repeat<T>(items: readonly T[], times: bigint): T[] {
  const out: T[] = [];
  for (let i = 0n; i < times; i++) out.push(...items);
  return out;
}

/** Evaluates `a op b` for every binary operator except `and` / `or` (those short-circuit). */
export function binaryOp(op: BinaryOperator, a: KclValue, b: KclValue): KclValue {
  switch (op) {
    case '==':
      return equals(a, b);
    case '!=':
      return !equals(a, b);
    case '<':
      return compare(a, b, op) < 0;
    case '<=':
      return compare(a, b, op) <= 0;
    case '>':
      return compare(a, b, op) > 0;
    case '>=':
      return compare(a, b, op) >= 0;
    case 'in':
      return contains(b, a);
    case 'not in':
      return !contains(b, a);
    case 'is':
      return identical(a, b);
    case 'is not':
      return !identical(a, b);
    case '+':
      if (typeof a === 'string' && typeof b === 'string') return a + b;
      if (isList(a) && isList(b)) return new KclList([...a.items, ...b.items]);
      return arith(op, a, b);
    case '*': {
      const seq = typeof a === 'string' || isList(a) ? a : typeof b === 'string' || isList(b) ? b : undefined;
      if (seq !== undefined) {
        const times = asIntOperand(seq === a ? b : a);
        if (times === undefined) throw notSupportedOperand(op, a, b);
        if (typeof seq === 'string') return times > 0n ? seq.repeat(Number(times)) : '';
        return new KclList(repeat((seq as KclList).items, times));
      }
      return arith(op, a, b);
    }
    case '-':
    case '/':
    case '//':
    case '%':
    case '**':
      return arith(op, a, b);
    case '|':
      if (isNoneOrUndefined(a)) return b;
      if (isNoneOrUndefined(b)) return a;
      if (isConfig(a) || isList(a)) {
        if (!isConfig(b) && !isList(b)) throw notSupportedOperand(op, a, b);
        return union(deepCopy(a), b);
      }
      return bitwise(op, a, b);
    case '<<':
    case '>>':
    case '&':
    case '^':
      return bitwise(op, a, b);
  }
}

function bitwise(op: '<<' | '>>' | '&' | '|' | '^', a: KclValue, b: KclValue): bigint {
  const x = asIntOperand(a);
  const y = asIntOperand(b);
  if (x === undefined || y === undefined) throw notSupportedOperand(op, a, b);
  switch (op) {
    case '<<':
      if (y < 0n) throw new KclRuntimeError('negative shift count');
      return intResult(x << y);
    case '>>':
      if (y < 0n) throw new KclRuntimeError('negative shift count');
      return x >> y;
    case '&':
      return x & y;
    case '|':
      return x | y;
    case '^':
      return x ^ y;
  }
}

function identical(a: KclValue, b: KclValue): boolean {
  if (isNoneOrUndefined(a) || isNoneOrUndefined(b)) return a === b;
  if (typeof a === 'object' || typeof b === 'object') return a === b || equals(a, b);
  return typeof a === typeof b && a === b;
}

export function unaryOp(op: UnaryOperator, v: KclValue): KclValue {
  if (op === 'not') return !truthy(v);
  if (op === '~') {
    const x = asIntOperand(v);
    if (x === undefined) throw typeError(`bad operand type for unary ~: '${typeName(v)}'`);
    return ~x;
  }
  if (!isNumberLike(v)) throw typeError(`bad operand type for unary ${op}: '${typeName(v)}'`);
  const x = numeric(v);
  if (op === '+') return x;
  return typeof x === 'bigint' ? intResult(-x) : -x;
}

/** `item in container`. */
export function contains(container: KclValue, item: KclValue): boolean {
  if (typeof container === 'string') {
    if (typeof item !== 'string')
      throw typeError(`'in <string>' requires string as left operand, not ${typeName(item)}`);
    return container.includes(item);
  }
  if (isList(container)) return container.items.some((x) => equals(x, item));
  if (isConfig(container)) return typeof item === 'string' && configEntries(container).has(item);
  if (isNoneOrUndefined(container)) return false;
  throw typeError(`argument of type '${typeName(container)}' is not iterable`);
}

// ---------------------------------------------------------------------------------------
// Union (`|`) and deep copy

/**
 * Merges `b` into `a` in place and returns `a`: configs key by key (recursing into nested
 * configs and lists), lists item by item, anything else is replaced by `b`. Per-key
 * `override` / `insert` metadata on `b` is honoured.
 */
export function union(a: KclValue, b: KclValue): KclValue {
  if (isNoneOrUndefined(b)) return a;
  if (isNoneOrUndefined(a)) return b;
  if (isList(a) && isList(b)) {
    b.items.forEach((item, i) => {
      a.items[i] = i < a.items.length ? union(a.items[i] ?? UNDEFINED, item) : item;
    });
    return a;
  }
  if (isConfig(a) && isConfig(b)) {
    const target = configEntries(a);
    const bMeta = b.meta;
    for (const [k, v] of configEntries(b)) {
      const meta = bMeta?.get(k);
      const current = target.get(k);
      if (meta?.operation === 'override' || current === undefined) {
        if (
          meta?.operation === 'override' &&
          meta.index !== undefined &&
          current !== undefined &&
          isList(current)
        ) {
          current.items[meta.index] = v;
        } else {
          target.set(k, v);
        }
      } else if (meta?.operation === 'insert') {
        target.set(k, insertInto(current, v, meta.index));
      } else if (isConfig(current) && isConfig(v)) {
        target.set(k, union(current, v));
      } else if (isList(current) && isList(v)) {
        target.set(k, union(current, v));
      } else if (isConfig(current) || isList(current) || isConfig(v) || isList(v)) {
        if (isNoneOrUndefined(v)) continue;
        if (isNoneOrUndefined(current)) target.set(k, v);
        else
          throw typeError(
            `conflicting values on the attribute '${k}' between ${repr(current)} and ${repr(v)}`,
          );
      } else {
        target.set(k, v);
      }
    }
    return a;
  }
  return b;
}

function insertInto(current: KclValue, v: KclValue, index: number | undefined): KclValue {
  if (isNoneOrUndefined(current)) return v;
  if (!isList(current) || !isList(v)) {
    throw typeError(`only list attribute can be inserted value, got '${typeName(current)}'`);
  }
  if (index === undefined) return new KclList([...current.items, ...v.items]);
  const items = [...current.items];
  items.splice(index, 0, ...v.items);
  return new KclList(items);
}

/** Copies lists, dicts and schema instances recursively; scalars and callables are shared. */
export function deepCopy<T extends KclValue>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  switch (v.kind) {
    case 'list':
      return new KclList(v.items.map(deepCopy)) as T;
    case 'dict':
      return new KclDict(copyEntries(v.entries), v.meta && new Map(v.meta)) as T;
    case 'schema': {
      const copy = new KclSchema(v.name, v.pkgpath, copyEntries(v.attrs));
      copy.meta = v.meta && new Map(v.meta);
      copy.runtime = v.runtime;
      return copy as T;
    }
    default:
      return v;
  }
}

function copyEntries(entries: Map<string, KclValue>): Map<string, KclValue> {
  const out = new Map<string, KclValue>();
  for (const [k, x] of entries) out.set(k, deepCopy(x));
  return out;
}
