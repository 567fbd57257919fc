/** Methods on KCL strings (`"a".upper()` …), with Python's semantics. */
import {
  KclList,
  KclRuntimeError,
  makeFunction,
  typeError,
  typeName,
  type KclFunction,
  type KclValue,
} from '../values.ts';
import { Args, withArgs } from './args.ts';
import { iterate } from './core.ts';
import { formatString } from './format.ts';

/** Python slice bounds for `start`/`end` arguments (negative counts from the end). */
function bounds(s: string, args: Args, startIndex: number): [number, number] {
  const clamp = (n: bigint | undefined, fallback: number) => {
    if (n === undefined) return fallback;
    const i = Number(n);
    return i < 0 ? Math.max(0, s.length + i) : Math.min(i, s.length);
  };
  return [
    clamp(args.int(startIndex, 'start', undefined), 0),
    clamp(args.int(startIndex + 1, 'end', undefined), s.length),
  ];
}

function find(s: string, args: Args, fromRight: boolean): number {
  const sub = args.str(0, 'sub');
  const [start, end] = bounds(s, args, 1);
  if (end - start < sub.length) return -1;
  const window = s.slice(start, end);
  const i = fromRight ? window.lastIndexOf(sub) : window.indexOf(sub);
  return i < 0 ? -1 : i + start;
}

function stripChars(s: string, chars: string | undefined, left: boolean, right: boolean): string {
  const set = chars === undefined ? null : new Set(chars);
  const strip = (c: string) => (set === null ? /\s/.test(c) : set.has(c));
  const cs = [...s];
  let a = 0;
  let b = cs.length;
  if (left) while (a < b && strip(cs[a] ?? '')) a++;
  if (right) while (b > a && strip(cs[b - 1] ?? '')) b--;
  return cs.slice(a, b).join('');
}

/** Python's `split()`/`rsplit()` without a separator: runs of whitespace, ends trimmed. */
function splitWhitespace(s: string, maxsplit: number, fromRight: boolean): string[] {
  const out: string[] = [];
  let rest = fromRight ? s.trimEnd() : s.trimStart();
  while (rest !== '' && (maxsplit < 0 || out.length < maxsplit)) {
    if (fromRight) {
      const m = /(^|\s+)(\S+)$/.exec(rest);
      if (!m) break;
      out.unshift(m[2] ?? '');
      rest = rest.slice(0, m.index);
    } else {
      const m = /^(\S+)(\s+|$)/.exec(rest);
      if (!m) break;
      out.push(m[1] ?? '');
      rest = rest.slice(m[0].length);
    }
  }
  if (rest !== '') {
    if (fromRight) out.unshift(rest);
    else out.push(rest);
  }
  return out;
}

function split(s: string, args: Args, fromRight: boolean): KclList {
  const sep = args.str(0, 'sep', undefined);
  const maxsplit = Number(args.int(1, 'maxsplit', -1n) ?? -1n);
  if (sep === '') throw new KclRuntimeError('empty separator', 'ValueError');
  if (sep === undefined) return new KclList(splitWhitespace(s, maxsplit, fromRight));
  let parts = s.split(sep);
  if (maxsplit >= 0 && parts.length > maxsplit + 1) {
    parts = fromRight
      ? [parts.slice(0, parts.length - maxsplit).join(sep), ...parts.slice(parts.length - maxsplit)]
      : [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(sep)];
  }
  return new KclList(parts);
}

function splitlines(s: string, keepends: boolean): KclList {
  const out: string[] = [];
  // Python's line boundaries include the file/group/record separators.
  // eslint-disable-next-line no-control-regex
  const re = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/g;
  let last = 0;
  for (const m of s.matchAll(re)) {
    const end = m.index + m[0].length;
    out.push(s.slice(last, keepends ? end : m.index));
    last = end;
  }
  if (last < s.length) out.push(s.slice(last));
  return new KclList(out);
}

const isCased = (c: string) => c.toLowerCase() !== c.toUpperCase();
const isUpper = (c: string) => isCased(c) && c === c.toUpperCase();
const isLower = (c: string) => isCased(c) && c === c.toLowerCase();

function title(s: string): string {
  let previousCased = false;
  let out = '';
  for (const c of s) {
    out += previousCased ? c.toLowerCase() : c.toUpperCase();
    previousCased = isCased(c);
  }
  return out;
}

function istitle(s: string): boolean {
  let previousCased = false;
  let sawCased = false;
  for (const c of s) {
    if (isUpper(c)) {
      if (previousCased) return false;
      previousCased = sawCased = true;
    } else if (isLower(c)) {
      if (!previousCased) return false;
      previousCased = sawCased = true;
    } else {
      previousCased = false;
    }
  }
  return sawCased;
}

function caseCheck(s: string, test: (c: string) => boolean, forbid: (c: string) => boolean): boolean {
  const chars = [...s];
  return chars.some(test) && !chars.some(forbid);
}

function allChars(s: string, re: RegExp): boolean {
  return s.length > 0 && [...s].every((c) => re.test(c));
}

function count(s: string, args: Args): bigint {
  const sub = args.str(0, 'sub');
  const [start, end] = bounds(s, args, 1);
  const window = s.slice(start, end);
  if (sub === '') return BigInt(window.length + 1);
  return BigInt(window.split(sub).length - 1);
}

function join(s: string, args: Args): string {
  return iterate(args.required(0, 'iterable'), 'join')
    .map((item) => {
      if (typeof item !== 'string')
        throw typeError(`sequence item: expected str instance, ${typeName(item)} found`);
      return item;
    })
    .join(s);
}

function affix(
  s: string,
  args: Args,
  test: (window: string, affix: string) => boolean,
  name: string,
): boolean {
  const value = args.required(0, name);
  const [start, end] = bounds(s, args, 1);
  const window = s.slice(start, end);
  const options =
    typeof value === 'object' && value !== null && value.kind === 'list' ? value.items : [value];
  return options.some((o) => {
    if (typeof o !== 'string') throw typeError(`${args.fn}() argument must be str, not ${typeName(o)}`);
    return test(window, o);
  });
}

type StringMethod = (s: string, args: Args) => KclValue;

const METHODS: ReadonlyMap<string, StringMethod> = new Map<string, StringMethod>([
  ['capitalize', (s) => s.slice(0, 1).toUpperCase() + s.slice(1).toLowerCase()],
  ['chars', (s) => new KclList([...s])],
  ['count', count],
  ['endswith', (s, a) => affix(s, a, (w, x) => w.endsWith(x), 'suffix')],
  ['startswith', (s, a) => affix(s, a, (w, x) => w.startsWith(x), 'prefix')],
  ['find', (s, a) => BigInt(find(s, a, false))],
  ['rfind', (s, a) => BigInt(find(s, a, true))],
  [
    'index',
    (s, a) => {
      const i = find(s, a, false);
      if (i < 0) throw new KclRuntimeError('substring not found');
      return BigInt(i);
    },
  ],
  [
    'rindex',
    (s, a) => {
      const i = find(s, a, true);
      if (i < 0) throw new KclRuntimeError('substring not found');
      return BigInt(i);
    },
  ],
  ['format', (s, a) => formatString(s, a.positional, a.keywords)],
  ['isalnum', (s) => allChars(s, /[\p{L}\p{N}]/u)],
  ['isalpha', (s) => allChars(s, /\p{L}/u)],
  ['isdigit', (s) => allChars(s, /\p{Nd}/u)],
  ['isspace', (s) => allChars(s, /\s/)],
  ['islower', (s) => caseCheck(s, isLower, isUpper)],
  ['isupper', (s) => caseCheck(s, isUpper, isLower)],
  ['istitle', istitle],
  ['join', join],
  ['lower', (s) => s.toLowerCase()],
  ['upper', (s) => s.toUpperCase()],
  ['swapcase', (s) => [...s].map((c) => (isUpper(c) ? c.toLowerCase() : c.toUpperCase())).join('')],
  ['title', title],
  ['strip', (s, a) => stripChars(s, a.str(0, 'chars', undefined), true, true)],
  ['lstrip', (s, a) => stripChars(s, a.str(0, 'chars', undefined), true, false)],
  ['rstrip', (s, a) => stripChars(s, a.str(0, 'chars', undefined), false, true)],
  [
    'removeprefix',
    (s, a) => {
      const p = a.str(0, 'prefix');
      return p !== '' && s.startsWith(p) ? s.slice(p.length) : s;
    },
  ],
  [
    'removesuffix',
    (s, a) => {
      const p = a.str(0, 'suffix');
      return p !== '' && s.endsWith(p) ? s.slice(0, -p.length) : s;
    },
  ],
  [
    'replace',
    (s, a) => {
      const old = a.str(0, 'old');
      const replacement = a.str(1, 'new');
      const limit = Number(a.int(2, 'count', -1n) ?? -1n);
      const parts = s.split(old);
      if (limit < 0 || parts.length - 1 <= limit) return parts.join(replacement);
      return parts.slice(0, limit + 1).join(replacement) + old + parts.slice(limit + 1).join(old);
    },
  ],
  ['split', (s, a) => split(s, a, false)],
  ['rsplit', (s, a) => split(s, a, true)],
  ['splitlines', (s, a) => splitlines(s, a.bool(0, 'keepends', false))],
]);

/** `s.name` as a bound method, or undefined when strings have no such method. */
export function stringMethod(s: string, name: string): KclFunction | undefined {
  const impl = METHODS.get(name);
  if (impl === undefined) return undefined;
  return makeFunction(
    name,
    withArgs(name, (args) => impl(s, args)),
  );
}
