/** `option()` and the parsing of `-D key=value` arguments. */
import { KclRuntimeError, isConfig, toStr, truthy, type KclValue } from '../values.ts';
import type { Args } from './args.ts';
import { toFloat, toInt } from './conversions.ts';
import { parseJsonValue } from './data.ts';

/** Where option values come from: `-D` arguments and settings files, already parsed. */
export interface OptionSource {
  readonly options: ReadonlyMap<string, KclValue>;
}

/**
 * The value of one `-D key=value`: JSON when it parses (so `"007"` stays a string and
 * `[1,2]` is a list), `True`/`False`/`None` as KCL spells them, numbers, else the text.
 */
export function parseOptionValue(text: string): KclValue {
  if (/^[-+]?\d+$/.test(text)) return BigInt(text);
  if (text === 'True' || text === 'False') return text === 'True';
  if (text === 'None') return null;
  if (/^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  try {
    return parseJsonValue(text);
  } catch {
    return text;
  }
}

/** Splits `key=value` from the command line; KCL rejects an empty key or value and a second `=`. */
export function parseOptionArgument(argument: string): [string, KclValue] {
  const eq = argument.indexOf('=');
  const key = eq < 0 ? '' : argument.slice(0, eq);
  const value = eq < 0 ? '' : argument.slice(eq + 1);
  if (key === '' || value === '' || value.endsWith('=')) {
    throw new KclRuntimeError('Invalid value for top level arguments');
  }
  return [key, parseOptionValue(value)];
}

const OPTION_TYPES = new Set(['str', 'int', 'float', 'bool', 'list', 'dict', 'any']);

function convert(value: KclValue, type: string): KclValue {
  const fail = () => new KclRuntimeError(`cannot use '${toStr(value)}' as type '${type}'`);
  switch (type) {
    case 'bool':
      return truthy(value);
    case 'int':
      try {
        return toInt(value);
      } catch {
        throw fail();
      }
    case 'float':
      try {
        return toFloat(value);
      } catch {
        throw fail();
      }
    case 'str':
      return toStr(value);
    case 'list':
      if (typeof value === 'object' && value !== null && value.kind === 'list') return value;
      throw fail();
    case 'dict':
      if (typeof value === 'object' && value !== null && isConfig(value)) return value;
      throw fail();
    default:
      return value;
  }
}

/** `option(key, type=, required=, default=, help=)`. */
export function optionValue(args: Args, source: OptionSource): KclValue {
  const key = args.str(0, 'key');
  const type = args.str(1, 'type', undefined);
  const required = args.bool(2, 'required', false);
  const fallback = args.get(3, 'default');
  if (type !== undefined && !OPTION_TYPES.has(type)) {
    throw new KclRuntimeError(`option('${key}') has an invalid type '${type}'`);
  }
  const given = source.options.get(key);
  const value = given ?? fallback;
  if (value === undefined || value === null) {
    if (required)
      throw new KclRuntimeError(`option('${key}') must be initialized, try '-D ${key}=?' argument`);
    return null;
  }
  return type === undefined ? value : convert(value, type);
}
