/** Python-style `str.format`: `{}`, `{0}`, `{name}`, `{x.attr}`, `{x[key]}`, `!r`, format specs. */
import {
  KclRuntimeError,
  configEntries,
  formatFloat,
  isConfig,
  repr,
  toStr,
  typeError,
  typeName,
  type KclValue,
} from '../values.ts';

const SPEC = /^(?:(.)?([<>=^]))?([-+ ])?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/s;

function groupThousands(digits: string, separator: string): string {
  const [whole = '', frac] = digits.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, separator);
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

/** Applies a format spec such as `>10`, `08.3f`, `,d`, `x` to one value. */
export function applyFormatSpec(value: KclValue, spec: string): string {
  if (spec === '') return toStr(value);
  const m = SPEC.exec(spec);
  if (!m) throw new KclRuntimeError(`Invalid format specifier '${spec}'`, 'ValueError');
  const [, fillChar, alignChar, sign = '-', alt, zero, widthText, grouping, precisionText, typeChar] = m;
  const precision = precisionText === undefined ? undefined : Number(precisionText);
  const isNumber = typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean';
  let body: string;
  let negative = false;
  if (!isNumber) {
    if (typeChar !== undefined && typeChar !== 's') {
      throw new KclRuntimeError(
        `Unknown format code '${typeChar}' for object of type '${typeName(value)}'`,
        'ValueError',
      );
    }
    body = toStr(value);
    if (precision !== undefined) body = [...body].slice(0, precision).join('');
  } else {
    const n = typeof value === 'boolean' ? (value ? 1n : 0n) : value;
    negative = typeof n === 'bigint' ? n < 0n : n < 0 || Object.is(n, -0);
    const abs = typeof n === 'bigint' ? (n < 0n ? -n : n) : Math.abs(n);
    const type = typeChar ?? (typeof n === 'bigint' ? 'd' : '');
    const prefix = (p: string) => (alt ? p : '');
    switch (type) {
      case 'd':
      case 'n':
        body = BigInt(typeof abs === 'number' ? Math.trunc(abs) : abs).toString();
        break;
      case 'x':
      case 'X':
      case 'o':
      case 'b': {
        const base = { x: 16, X: 16, o: 8, b: 2 }[type];
        const digits = BigInt(typeof abs === 'number' ? Math.trunc(abs) : abs).toString(base);
        body = prefix(`0${type}`) + (type === 'X' ? digits.toUpperCase() : digits);
        break;
      }
      case 'c':
        body = String.fromCodePoint(Number(abs));
        break;
      case 'e':
      case 'E': {
        const text = Number(abs)
          .toExponential(precision ?? 6)
          .replace(/e([-+])(\d)$/, 'e$10$2');
        body = type === 'E' ? text.toUpperCase() : text;
        break;
      }
      case 'f':
      case 'F':
        body = Number(abs).toFixed(precision ?? 6);
        break;
      case '%':
        body = `${(Number(abs) * 100).toFixed(precision ?? 6)}%`;
        break;
      case 'g':
      case 'G': {
        const p = precision === 0 ? 1 : (precision ?? 6);
        const exp = Number(abs) === 0 ? 0 : Math.floor(Math.log10(Number(abs)));
        body =
          exp < -4 || exp >= p
            ? Number(abs)
                .toExponential(p - 1)
                .replace(/\.?0+e/, 'e')
                .replace(/e([-+])(\d)$/, 'e$10$2')
            : Number(abs)
                .toPrecision(p)
                .replace(/(\.\d*?)0+$/, '$1')
                .replace(/\.$/, '');
        if (type === 'G') body = body.toUpperCase();
        break;
      }
      default:
        body =
          typeof abs === 'bigint'
            ? abs.toString()
            : precision !== undefined
              ? String(Number(abs.toPrecision(precision)))
              : formatFloat(abs);
    }
    if (grouping !== undefined) body = groupThousands(body, grouping);
  }
  const signText = isNumber ? (negative ? '-' : sign === '+' ? '+' : sign === ' ' ? ' ' : '') : '';
  const width = widthText === undefined ? 0 : Number(widthText);
  const fill = fillChar ?? (zero && !alignChar ? '0' : ' ');
  const align = alignChar ?? (zero ? '=' : isNumber ? '>' : '<');
  const padLength = Math.max(0, width - [...signText, ...body].length);
  const pad = fill.repeat(padLength);
  switch (align) {
    case '<':
      return signText + body + pad;
    case '^': {
      const left = fill.repeat(Math.floor(padLength / 2));
      return left + signText + body + fill.repeat(padLength - left.length);
    }
    case '=':
      return signText + pad + body;
    default:
      return pad + signText + body;
  }
}

function lookupField(
  field: string,
  positional: readonly KclValue[],
  keywords: ReadonlyMap<string, KclValue>,
  auto: { next: number },
): KclValue {
  const m = /^([^.[]*)(.*)$/s.exec(field);
  const head = m?.[1] ?? '';
  let rest = m?.[2] ?? '';
  const index = head === '' ? auto.next++ : /^\d+$/.test(head) ? Number(head) : undefined;
  const found = index === undefined ? keywords.get(head) : positional[index];
  if (found === undefined) {
    throw index === undefined
      ? new KclRuntimeError(`'${head}'`, 'KeyError')
      : new KclRuntimeError(
          `Replacement index ${index} out of range for positional args tuple`,
          'IndexError',
        );
  }
  let value: KclValue = found;
  while (rest !== '') {
    const part = /^\.([^.[]+)|^\[([^\]]+)\]/.exec(rest);
    if (!part) throw new KclRuntimeError(`Invalid format field '${field}'`, 'ValueError');
    rest = rest.slice(part[0].length);
    const key = part[1] ?? part[2] ?? '';
    if (isConfig(value)) {
      const next: KclValue | undefined = configEntries(value).get(key);
      if (next === undefined) throw new KclRuntimeError(`'${key}'`, 'KeyError');
      value = next;
    } else if (typeof value === 'object' && value !== null && value.kind === 'list' && /^\d+$/.test(key)) {
      const next: KclValue | undefined = value.items[Number(key)];
      if (next === undefined) throw new KclRuntimeError('list index out of range', 'IndexError');
      value = next;
    } else {
      throw typeError(`'${typeName(value)}' object is not subscriptable`);
    }
  }
  return value;
}

export function formatString(
  template: string,
  positional: readonly KclValue[],
  keywords: ReadonlyMap<string, KclValue>,
): string {
  let out = '';
  const auto = { next: 0 };
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if (ch === '}') {
      if (template[i + 1] !== '}')
        throw new KclRuntimeError("Single '}' encountered in format string", 'ValueError');
      out += '}';
      i++;
    } else if (ch === '{') {
      if (template[i + 1] === '{') {
        out += '{';
        i++;
        continue;
      }
      const close = template.indexOf('}', i);
      if (close < 0) throw new KclRuntimeError("Single '{' encountered in format string", 'ValueError');
      const field = template.slice(i + 1, close);
      const m = /^([^!:]*)(?:!([rs]))?(?::(.*))?$/s.exec(field);
      if (!m) throw new KclRuntimeError(`Invalid format field '${field}'`, 'ValueError');
      const value = lookupField(m[1] ?? '', positional, keywords, auto);
      const converted = m[2] === 'r' ? repr(value) : m[2] === 's' ? toStr(value) : value;
      out += applyFormatSpec(converted, m[3] ?? '');
      i = close;
    } else {
      out += ch;
    }
  }
  return out;
}
