/** KCL's global builtin functions (`len`, `option`, `sorted`, …) and their registry. */
import {
  KclList,
  KclRuntimeError,
  binaryOp,
  compare,
  configEntries,
  equals,
  isConfig,
  isFunction,
  isNoneOrUndefined,
  isSchemaType,
  makeFunction,
  toStr,
  truthy,
  typeError,
  typeName,
  type KclFunction,
  type KclValue,
} from '../values.ts';
import { Args, withArgs } from './args.ts';
import { toDict, toFloat, toInt, toList } from './conversions.ts';
import { optionValue, type OptionSource } from './option.ts';

export interface BuiltinContext extends OptionSource {
  /** Where `print` writes its text. */
  write(text: string): void;
}

/** The items a `for` loop, `sorted`, `sum` … see: list items, config keys, characters. */
export function iterate(v: KclValue, fn = 'iterate'): KclValue[] {
  if (typeof v === 'string') return [...v];
  if (typeof v === 'object' && v !== null && v.kind === 'list') return v.items;
  if (typeof v === 'object' && v !== null && isConfig(v)) return [...configEntries(v).keys()];
  throw typeError(`${fn}(): '${typeName(v)}' object is not iterable`);
}

function len(v: KclValue): bigint {
  if (typeof v === 'string') return BigInt([...v].length);
  if (typeof v === 'object' && v !== null) {
    if (v.kind === 'list') return BigInt(v.items.length);
    if (isConfig(v)) return BigInt(configEntries(v).size);
  }
  throw typeError(`object of type '${typeName(v)}' has no len()`);
}

/** Python's `round`: half to even; no `ndigits` gives an int. */
function round(x: number, ndigits: bigint | undefined): KclValue {
  if (ndigits === undefined) {
    const r = Math.round(x);
    const tie = Math.abs(x - Math.trunc(x)) === 0.5;
    return BigInt(tie && r % 2 !== 0 ? r - 1 : r);
  }
  const digits = Number(ndigits);
  if (digits < 0) {
    const scale = 10 ** -digits;
    return Math.round(x / scale) * scale;
  }
  return Number(x.toFixed(Math.min(digits, 100)));
}

function minMax(args: Args, sign: 1 | -1): KclValue {
  const items =
    args.positional.length === 1 ? iterate(args.positional[0] ?? null, args.fn) : [...args.positional];
  if (items.length === 0) throw new KclRuntimeError(`${args.fn}() arg is an empty sequence`, 'ValueError');
  return items.reduce((best, x) => (compare(x, best) * sign > 0 ? x : best));
}

function range(args: Args): KclList {
  const hasStop = args.get(1, 'stop') !== undefined;
  const start = hasStop ? args.int(0, 'start') : 0n;
  const stop = hasStop ? args.int(1, 'stop') : args.int(0, 'stop');
  const step = args.int(2, 'step', 1n) ?? 1n;
  if (step === 0n) throw new KclRuntimeError('range() step argument must not be zero', 'ValueError');
  const out: KclValue[] = [];
  for (let i = start; step > 0n ? i < stop : i > stop; i += step) out.push(i);
  return new KclList(out);
}

function sorted(args: Args): KclList {
  const items = [...iterate(args.required(0, 'iterable'), 'sorted')];
  items.sort((a, b) => compare(a, b));
  if (args.bool(1, 'reverse', false)) items.reverse();
  return new KclList(items);
}

function radix(n: bigint, base: number, prefix: string): string {
  return n < 0n ? `-${prefix}${(-n).toString(base)}` : `${prefix}${n.toString(base)}`;
}

function reduce(args: Args): KclValue {
  const reducer = args.required(0, 'reducer');
  if (!isFunction(reducer)) throw new KclRuntimeError("reduce() argument 'reducer' must be a function");
  const items = iterate(args.required(1, 'iterable'), 'reduce');
  const initial = args.get(2, 'initial');
  let acc: KclValue;
  let rest: KclValue[];
  if (initial !== undefined) {
    acc = initial;
    rest = items;
  } else {
    if (items.length === 0) return null;
    acc = items[0] ?? null;
    rest = items.slice(1);
  }
  for (const item of rest) acc = reducer.call([acc, item], new Map());
  return acc;
}

function typeofValue(args: Args): string {
  const v = args.required(0, 'x');
  const fullName = args.bool(1, 'full_name', false);
  if (isSchemaType(v)) return 'type';
  return typeName(v, fullName);
}

function print(args: Args, ctx: BuiltinContext): null {
  const sep = args.str(-1, 'sep', ' ') ?? ' ';
  const end = args.str(-1, 'end', '\n') ?? '\n';
  ctx.write(args.positional.map(toStr).join(sep) + end);
  return null;
}

function abs(v: KclValue): KclValue {
  if (typeof v === 'bigint') return v < 0n ? -v : v;
  if (typeof v === 'number') return Math.abs(v);
  if (typeof v === 'boolean') return v ? 1n : 0n;
  throw typeError(`bad operand type for abs(): '${typeName(v)}'`);
}

function pow(args: Args): KclValue {
  const result = binaryOp('**', args.required(0, 'x'), args.required(1, 'y'));
  const modulus = args.get(2, 'z');
  return modulus === undefined || modulus === null ? result : binaryOp('%', result, modulus);
}

type BuiltinImpl = (args: Args, ctx: BuiltinContext) => KclValue;

const BUILTINS: ReadonlyMap<string, BuiltinImpl> = new Map<string, BuiltinImpl>([
  ['print', print],
  ['option', (a, ctx) => optionValue(a, ctx)],
  ['len', (a) => len(a.required(0, 'x'))],
  ['typeof', typeofValue],
  [
    'isunique',
    (a) => {
      const items = iterate(a.required(0, 'inval'), 'isunique');
      return items.every((x, i) => items.findIndex((y) => equals(x, y)) === i);
    },
  ],
  ['isnullish', (a) => isNoneOrUndefined(a.get(0, 'inval') ?? null)],
  ['all_true', (a) => iterate(a.required(0, 'inval'), 'all_true').every(truthy)],
  ['any_true', (a) => iterate(a.required(0, 'inval'), 'any_true').some(truthy)],
  ['multiplyof', (a) => a.int(1, 'b') !== 0n && a.int(0, 'a') % a.int(1, 'b') === 0n],
  ['sorted', sorted],
  [
    'sum',
    (a) =>
      iterate(a.required(0, 'iterable'), 'sum').reduce(
        (acc, x) => binaryOp('+', acc, x),
        a.get(1, 'start') ?? 0n,
      ),
  ],
  ['range', range],
  ['min', (a) => minMax(a, -1)],
  ['max', (a) => minMax(a, 1)],
  ['abs', (a) => abs(a.required(0, 'x'))],
  ['round', (a) => round(toFloat(a.required(0, 'number')), a.int(1, 'ndigits', undefined))],
  ['pow', pow],
  [
    'zip',
    (a) => {
      const lists = a.positional.map((v) => iterate(v, 'zip'));
      const n = lists.length === 0 ? 0 : Math.min(...lists.map((l) => l.length));
      return new KclList(Array.from({ length: n }, (_, i) => new KclList(lists.map((l) => l[i] ?? null))));
    },
  ],
  ['reduce', reduce],
  ['int', (a) => toInt(a.get(0, 'x') ?? 0n, a.int(1, 'base', undefined))],
  ['float', (a) => toFloat(a.get(0, 'x') ?? 0)],
  // `str(None)` and `str(Undefined)` spell the value; only a missing argument gives ''.
  [
    'str',
    (a) =>
      a.positional.length > 0 || a.keywords.has('x')
        ? toStr(a.positional[0] ?? a.keywords.get('x') ?? null)
        : '',
  ],
  ['bool', (a) => truthy(a.get(0, 'x') ?? false)],
  ['list', (a) => toList(a.get(0, 'x'))],
  ['dict', (a) => toDict(a.positional[0], a.keywords)],
  [
    'ord',
    (a) => {
      const c = a.str(0, 'c');
      if ([...c].length !== 1)
        throw typeError(`ord() expected a character, but string of length ${[...c].length} found`);
      return BigInt(c.codePointAt(0) ?? 0);
    },
  ],
  ['chr', (a) => String.fromCodePoint(Number(a.int(0, 'i')))],
  ['hex', (a) => radix(a.int(0, 'number'), 16, '0x')],
  ['oct', (a) => radix(a.int(0, 'number'), 8, '0o')],
  ['bin', (a) => radix(a.int(0, 'number'), 2, '0b')],
]);

/** The global builtins for one run, looked up by name. */
export function createBuiltins(ctx: BuiltinContext): ReadonlyMap<string, KclFunction> {
  const out = new Map<string, KclFunction>();
  for (const [name, impl] of BUILTINS) {
    out.set(
      name,
      makeFunction(
        name,
        withArgs(name, (args) => impl(args, ctx)),
      ),
    );
  }
  return out;
}
