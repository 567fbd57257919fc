/** The type-conversion builtins: int, float, str, bool, list, dict. */
import {
  KclDict,
  KclList,
  KclRuntimeError,
  UNIT_FACTORS,
  checkIntRange,
  configEntries,
  deepCopy,
  isConfig,
  toStr,
  typeError,
  typeName,
  type KclUnit,
  type KclValue,
} from '../values.ts';

const UNIT_TEXT = /^([-+]?[0-9]+)(n|u|m|k|K|M|G|T|P|Ki|Mi|Gi|Ti|Pi)$/;

/** The magnitude of `raw` × suffix, exact for integral factors. */
function unitMagnitude(raw: bigint, suffix: string): bigint | number {
  const factor = UNIT_FACTORS.get(suffix) ?? 1;
  return Number.isInteger(factor) ? raw * BigInt(factor) : Number(raw) * factor;
}

export function unitToInt(u: KclUnit): bigint {
  const magnitude = unitMagnitude(u.raw, u.suffix);
  return checkIntRange(typeof magnitude === 'bigint' ? magnitude : BigInt(Math.trunc(magnitude)));
}

const PREFIXES: ReadonlyMap<number, RegExp> = new Map([
  [16, /^0x/i],
  [8, /^0o/i],
  [2, /^0b/i],
]);

function parseIntText(text: string, base: number): bigint {
  const invalid = () =>
    new KclRuntimeError(`invalid literal for int() with base ${base}: '${text}'`, 'ValueError');
  const unit = base === 10 ? UNIT_TEXT.exec(text.trim()) : null;
  if (unit) {
    const magnitude = unitMagnitude(BigInt(unit[1] ?? '0'), unit[2] ?? '');
    return checkIntRange(typeof magnitude === 'bigint' ? magnitude : BigInt(Math.trunc(magnitude)));
  }
  let body = text.trim().replaceAll('_', '');
  let negative = false;
  if (body.startsWith('-') || body.startsWith('+')) {
    negative = body.startsWith('-');
    body = body.slice(1);
  }
  const prefix = PREFIXES.get(base);
  if (prefix) body = body.replace(prefix, '');
  if (base === 0) {
    const match = /^0([xob])/i.exec(body);
    base = match
      ? (({ x: 16, o: 8, b: 2 } as Record<string, number>)[(match[1] ?? '').toLowerCase()] ?? 10)
      : 10;
    if (match) body = body.slice(2);
  }
  const digits = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, base);
  if (body === '' || [...body.toLowerCase()].some((c) => !digits.includes(c))) throw invalid();
  let n = 0n;
  for (const c of body.toLowerCase()) n = n * BigInt(base) + BigInt(digits.indexOf(c));
  return checkIntRange(negative ? -n : n);
}

export function toInt(v: KclValue, base?: bigint): bigint {
  if (typeof v === 'string') return parseIntText(v, base === undefined ? 10 : Number(base));
  if (base !== undefined) throw typeError("int() can't convert non-string with explicit base");
  if (typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'number') {
    if (!Number.isFinite(v))
      throw new KclRuntimeError(`cannot convert float ${v > 0 ? 'infinity' : 'NaN'} to integer`);
    return checkIntRange(BigInt(Math.trunc(v)));
  }
  if (v !== null && v.kind === 'unit') return unitToInt(v);
  throw typeError(`int() argument must be a string, a bytes-like object or a number, not '${typeName(v)}'`);
}

export function toFloat(v: KclValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const text = v.trim().toLowerCase();
    if (/^[-+]?(inf|infinity)$/.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
    if (/^[-+]?nan$/.test(text)) return NaN;
    if (/^[-+]?(\d[\d_]*\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(text)) return Number(text.replaceAll('_', ''));
    const unit = UNIT_TEXT.exec(v.trim());
    if (unit) return Number(unitMagnitude(BigInt(unit[1] ?? '0'), unit[2] ?? ''));
    throw new KclRuntimeError(`could not convert string to float: '${v}'`, 'ValueError');
  }
  if (v !== null && v.kind === 'unit') return v.value;
  throw typeError(`float() argument must be a string or a number, not '${typeName(v)}'`);
}

export function toList(v: KclValue | undefined): KclList {
  if (v === undefined || v === null) return new KclList();
  if (typeof v === 'string') return new KclList([...v]);
  if (typeof v === 'object' && v.kind === 'list') return new KclList([...v.items]);
  if (isConfig(v)) return new KclList([...configEntries(v).keys()]);
  throw typeError(`'${typeName(v)}' object is not iterable`);
}

export function toDict(v: KclValue | undefined, keywords: ReadonlyMap<string, KclValue>): KclDict {
  const out = new KclDict();
  if (v !== undefined && v !== null) {
    if (isConfig(v)) {
      for (const [k, x] of configEntries(v)) out.entries.set(k, deepCopy(x));
    } else if (typeof v === 'object' && v.kind === 'list') {
      for (const pair of v.items) {
        if (typeof pair !== 'object' || pair === null || pair.kind !== 'list' || pair.items.length !== 2) {
          throw typeError('dictionary update sequence element has wrong length; 2 is required');
        }
        out.entries.set(toStr(pair.items[0] ?? null), pair.items[1] ?? null);
      }
    } else {
      throw typeError(`'${typeName(v)}' object is not iterable`);
    }
  }
  for (const [k, x] of keywords) out.entries.set(k, x);
  return out;
}
