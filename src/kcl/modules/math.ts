/** The `math` system module. */
import {
  KclList,
  KclRuntimeError,
  checkIntRange,
  typeError,
  typeName,
  type KclModule,
  type KclValue,
} from '../values.ts';
import type { Args } from '../builtins/args.ts';
import { toFloat } from '../builtins/conversions.ts';
import { defineModule } from './define.ts';

function number(args: Args, index: number, name: string): number {
  const v = args.required(index, name);
  if (typeof v !== 'bigint' && typeof v !== 'number' && typeof v !== 'boolean') {
    throw typeError(`${args.fn}() argument '${name}' must be int or float, got ${typeName(v)}`);
  }
  return toFloat(v);
}

function integral(args: Args, index: number, name: string, round: (x: number) => number): KclValue {
  const v = args.required(index, name);
  if (typeof v === 'bigint') return v;
  return checkIntRange(BigInt(round(number(args, index, name))));
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

function domain(x: number, ok: boolean): number {
  if (!ok) throw new KclRuntimeError('math domain error', 'ValueError');
  return x;
}

export function mathModule(): KclModule {
  return defineModule('math', {
    ceil: (a) => integral(a, 0, 'x', Math.ceil),
    floor: (a) => integral(a, 0, 'x', Math.floor),
    factorial: (a) => {
      const n = a.int(0, 'x');
      if (n < 0n) throw new KclRuntimeError('factorial() not defined for negative values', 'ValueError');
      let out = 1n;
      for (let i = 2n; i <= n; i++) out *= i;
      return checkIntRange(out);
    },
    gcd: (a) => gcd(a.int(0, 'a'), a.int(1, 'b')),
    isfinite: (a) => Number.isFinite(number(a, 0, 'x')),
    isinf: (a) => {
      const x = number(a, 0, 'x');
      return !Number.isFinite(x) && !Number.isNaN(x);
    },
    isnan: (a) => Number.isNaN(number(a, 0, 'x')),
    modf: (a) => {
      const x = number(a, 0, 'x');
      const whole = Math.trunc(x);
      return new KclList([x - whole, whole]);
    },
    exp: (a) => Math.exp(number(a, 0, 'x')),
    expm1: (a) => Math.expm1(number(a, 0, 'x')),
    log: (a) => {
      const x = number(a, 0, 'x');
      const base = a.get(1, 'e');
      const ln = Math.log(domain(x, x > 0));
      return base === undefined ? ln : ln / Math.log(toFloat(base));
    },
    log1p: (a) => {
      const x = number(a, 0, 'x');
      return Math.log1p(domain(x, x > -1));
    },
    log2: (a) => Math.log2(domain(number(a, 0, 'x'), number(a, 0, 'x') > 0)),
    log10: (a) => Math.log10(domain(number(a, 0, 'x'), number(a, 0, 'x') > 0)),
    pow: (a) => number(a, 0, 'x') ** number(a, 1, 'y'),
    sqrt: (a) => Math.sqrt(domain(number(a, 0, 'x'), number(a, 0, 'x') >= 0)),
  });
}
