/** Reading a builtin's positional and keyword arguments with KCL's error messages. */
import { KclRuntimeError, UNDEFINED, typeError, typeName, type KclValue } from '../values.ts';

/**
 * A required argument the call did not supply. Required parameters come first, so the
 * builtin takes at least `index + 1` positional arguments.
 */
export class MissingArgumentError extends KclRuntimeError {
  readonly args: Args;
  readonly index: number;

  constructor(args: Args, index: number, name: string) {
    super(`${args.fn}() missing required argument '${name}'`, 'TypeError');
    this.args = args;
    this.index = index;
  }
}

export class Args {
  readonly fn: string;
  readonly positional: readonly KclValue[];
  readonly keywords: ReadonlyMap<string, KclValue>;

  constructor(fn: string, positional: readonly KclValue[], keywords: ReadonlyMap<string, KclValue>) {
    this.fn = fn;
    this.positional = positional;
    this.keywords = keywords;
  }

  /** The argument at `index` or named `name`; undefined when absent or Undefined. */
  get(index: number, name: string): KclValue | undefined {
    const v = index >= 0 && index < this.positional.length ? this.positional[index] : this.keywords.get(name);
    return v === UNDEFINED ? undefined : v;
  }

  required(index: number, name: string): KclValue {
    const v = this.get(index, name);
    if (v === undefined) throw new MissingArgumentError(this, index, name);
    return v;
  }

  str(index: number, name: string): string;
  str(index: number, name: string, fallback: string | undefined): string | undefined;
  str(index: number, name: string, fallback?: string): string | undefined {
    const v = arguments.length > 2 ? this.get(index, name) : this.required(index, name);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string') throw this.wrongType(name, 'str', v);
    return v;
  }

  int(index: number, name: string): bigint;
  int(index: number, name: string, fallback: bigint | undefined): bigint | undefined;
  int(index: number, name: string, fallback?: bigint): bigint | undefined {
    const v = arguments.length > 2 ? this.get(index, name) : this.required(index, name);
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'boolean') return v ? 1n : 0n;
    if (typeof v !== 'bigint') throw this.wrongType(name, 'int', v);
    return v;
  }

  bool(index: number, name: string, fallback: boolean): boolean {
    const v = this.get(index, name);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw this.wrongType(name, 'bool', v);
    return v;
  }

  wrongType(name: string, expected: string, got: KclValue): KclRuntimeError {
    return typeError(`${this.fn}() argument '${name}' expects ${expected}, got ${typeName(got)}`);
  }
}

/** Wraps `impl` as the `call` of a KclFunction that reads its arguments through {@link Args}. */
export function withArgs(
  name: string,
  impl: (args: Args) => KclValue,
): (positional: readonly KclValue[], keywords: ReadonlyMap<string, KclValue>) => KclValue {
  return (positional, keywords) => impl(new Args(name, positional, keywords));
}
