/** `option()` and the parsing of `-D key=value` arguments. */
import { emitJson } from '../emitter.ts';
import { KclRuntimeError, isConfig, toStr, truthy, type KclValue } from '../values.ts';
import type { Args } from './args.ts';
import { toFloat, toInt } from './conversions.ts';
import { parseJsonValue } from './data.ts';

/**
 * An option a program asked for with `option()`. Only options whose call was evaluated are
 * known: one inside a branch not taken, or a lambda never called, is not.
 */
export interface DeclaredOption {
  name: string;
  /** The `type=` argument, when given. */
  type?: string;
  /** True when any call of this option passed `required=True`. */
  required: boolean;
  help?: string;
  /** The `default=` argument as JSON, when given and not None. */
  default?: unknown;
  /** The value the run was given (`-D` or a settings file) as JSON; absent when none was. */
  value?: unknown;
}

/**
 * Option values that also collect the declarations of the options the program asks for.
 * Several calls of one option merge: required if any call says so, the first type, help
 * and default given.
 */
export class OptionValues extends Map<string, KclValue> {
  private readonly declarations = new Map<string, DeclaredOption>();

  declare(option: DeclaredOption): void {
    const known = this.declarations.get(option.name);
    this.declarations.set(
      option.name,
      known ? { ...option, ...known, required: known.required || option.required } : option,
    );
  }

  /** The declared options in the order of their first call. */
  get declared(): DeclaredOption[] {
    return [...this.declarations.values()];
  }
}

/** Where option values come from: `-D` arguments and settings files, already parsed. */
export interface OptionSource {
  /** When it is an `OptionValues`, every evaluated `option()` call is declared to it. */
  readonly options: ReadonlyMap<string, KclValue> & { declare?: OptionValues['declare'] };
}

const UNINITIALIZED = /option\('([^']*)'\) must be initialized/;

function uninitialized(key: string): KclRuntimeError {
  return new KclRuntimeError(`option('${key}') must be initialized, try '-D ${key}=?' argument`);
}

/** The name of the required option a failed run's error text says has no value, if it says so. */
export function uninitializedOption(errorText: string): string | undefined {
  return UNINITIALIZED.exec(errorText)?.[1];
}

function asJson(value: KclValue): unknown {
  return JSON.parse(emitJson(value));
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
  // Only recorded: option() does not otherwise use its help text, nor check it.
  const help = args.get(4, 'help');
  if (type !== undefined && !OPTION_TYPES.has(type)) {
    throw new KclRuntimeError(`option('${key}') has an invalid type '${type}'`);
  }
  const given = source.options.get(key);
  source.options.declare?.({
    name: key,
    ...(type === undefined ? {} : { type }),
    required,
    ...(typeof help === 'string' && help !== '' ? { help } : {}),
    ...(fallback === undefined || fallback === null ? {} : { default: asJson(fallback) }),
    ...(given === undefined ? {} : { value: asJson(given) }),
  });
  const value = given ?? fallback;
  if (value === undefined || value === null) {
    if (required) throw uninitialized(key);
    return null;
  }
  return type === undefined ? value : convert(value, type);
}
