/** The `regex` system module. Patterns use Rust/Python syntax; `(?P<name>…)` is accepted. */
import { KclList, KclRuntimeError, type KclModule, type KclValue } from '../values.ts';
import type { Args } from '../builtins/args.ts';
import { defineModule } from './define.ts';

function compile(pattern: string, flags = 'u'): RegExp {
  try {
    return new RegExp(pattern.replaceAll('(?P<', '(?<'), flags);
  } catch (error) {
    throw new KclRuntimeError(`invalid regular expression '${pattern}': ${(error as Error).message}`);
  }
}

function pattern(args: Args, flags?: string): RegExp {
  return compile(args.str(1, 'pattern'), flags);
}

/** `findall`: whole matches, or the groups of each match when the pattern has groups. */
function findall(args: Args): KclValue {
  const text = args.str(0, 'string');
  const out: KclValue[] = [];
  for (const m of text.matchAll(pattern(args, 'gu'))) {
    out.push(m.length > 1 ? new KclList(m.slice(1).map((g) => g ?? '')) : m[0]);
  }
  return new KclList(out);
}

function replace(args: Args): string {
  const text = args.str(0, 'string');
  const replacement = args
    .str(2, 'replace')
    .replace(/\$\{(\w+)\}/g, (_, name: string) => (/^\d+$/.test(name) ? `$${name}` : `$<${name}>`));
  const count = Number(args.int(3, 'count', 0n) ?? 0n);
  const re = pattern(args, 'gu');
  if (count <= 0) return text.replace(re, replacement);
  let done = 0;
  const single = pattern(args, 'u');
  return text.replace(re, (match) => (done++ < count ? match.replace(single, replacement) : match));
}

function split(args: Args): KclValue {
  const text = args.str(0, 'string');
  const maxsplit = Number(args.int(2, 'maxsplit', 0n) ?? 0n);
  const parts: string[] = [];
  let last = 0;
  for (const m of text.matchAll(pattern(args, 'gu'))) {
    if (maxsplit > 0 && parts.length >= maxsplit) break;
    if (m[0] === '' && m.index === last && m.index !== 0) continue;
    parts.push(text.slice(last, m.index));
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return new KclList(parts);
}

export function regexModule(): KclModule {
  return defineModule('regex', {
    match: (a) => {
      const m = pattern(a, 'yu').exec(a.str(0, 'string'));
      return m !== null;
    },
    search: (a) => pattern(a).test(a.str(0, 'string')),
    compile: (a) => {
      try {
        compile(a.str(0, 'pattern'));
        return true;
      } catch {
        return false;
      }
    },
    findall,
    replace,
    split,
  });
}
