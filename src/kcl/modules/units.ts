/** The `units` system module: multiplier constants and `to_<suffix>` formatters. */
import { UNIT_FACTORS, type KclModule, type KclValue } from '../values.ts';
import type { Args } from '../builtins/args.ts';
import { toFloat } from '../builtins/conversions.ts';
import { defineModule, type ModuleMember } from './define.ts';

/** `to_Gi(8589934592)` → `"8Gi"`: the number in that unit, truncated to an integer. */
function toUnit(suffix: string, factor: number) {
  return (args: Args): KclValue => {
    const v = args.required(0, 'num');
    const n =
      typeof v === 'bigint' && Number.isInteger(factor)
        ? v / BigInt(factor)
        : BigInt(Math.trunc(toFloat(v) / factor));
    return `${n}${suffix}`;
  };
}

export function unitsModule(): KclModule {
  const members: Record<string, ModuleMember> = {};
  for (const [suffix, factor] of UNIT_FACTORS) {
    // Whole factors are ints (`units.Ki` is 1024); n, u and m are floats.
    members[suffix] = Number.isInteger(factor) ? BigInt(factor) : factor;
    members[`to_${suffix}`] = toUnit(suffix, factor);
  }
  return defineModule('units', members);
}
