/** The `datetime` system module (local time, strftime-style formats). */
import { KclRuntimeError, type KclModule } from '../values.ts';
import { defineModule } from './define.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function strftime(date: Date, format: string): string {
  return format.replace(/%([a-zA-Z%])/g, (whole, d: string) => {
    switch (d) {
      case 'Y':
        return String(date.getFullYear());
      case 'y':
        return pad(date.getFullYear() % 100);
      case 'm':
        return pad(date.getMonth() + 1);
      case 'd':
        return pad(date.getDate());
      case 'H':
        return pad(date.getHours());
      case 'M':
        return pad(date.getMinutes());
      case 'S':
        return pad(date.getSeconds());
      case 'f':
        return pad(date.getMilliseconds() * 1000, 6);
      case 'b':
        return MONTHS[date.getMonth()] ?? '';
      case 'a':
        return DAYS[date.getDay()] ?? '';
      case '%':
        return '%';
      default:
        throw new KclRuntimeError(`unsupported date format directive '${whole}'`, 'ValueError');
    }
  });
}

/** Strict parse of `text` against `format`: every field in range, nothing left over. */
function validate(text: string, format: string): boolean {
  const fields: string[] = [];
  const source = format.replace(
    /%([YymdHMSf%])|([.*+?^${}()|[\]\\])/g,
    (_, d: string | undefined, special: string | undefined) => {
      if (special !== undefined) return `\\${special}`;
      if (d === '%') return '%';
      fields.push(d ?? '');
      return d === 'Y' ? '(\\d{4})' : d === 'f' ? '(\\d{1,6})' : '(\\d{2})';
    },
  );
  const m = new RegExp(`^${source}$`).exec(text);
  if (!m) return false;
  const value = (f: string, fallback: number) => {
    const i = fields.indexOf(f);
    return i < 0 ? fallback : Number(m[i + 1]);
  };
  const year = fields.includes('Y') ? value('Y', 1970) : 2000 + value('y', 70);
  const month = value('m', 1);
  const day = value('d', 1);
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    month >= 1 &&
    month <= 12 &&
    date.getUTCDate() === day &&
    date.getUTCMonth() === month - 1 &&
    value('H', 0) < 24 &&
    value('M', 0) < 60 &&
    value('S', 0) < 61
  );
}

export function datetimeModule(): KclModule {
  return defineModule('datetime', {
    today: () => strftime(new Date(), '%Y-%m-%d %H:%M:%S.%f'),
    now: (a) => strftime(new Date(), a.str(0, 'format', '%a %b %d %H:%M:%S %Y') ?? '%a %b %d %H:%M:%S %Y'),
    date: () => strftime(new Date(), '%Y-%m-%d %H:%M:%S'),
    ticks: () => Date.now() / 1000,
    validate: (a) => validate(a.str(0, 'date'), a.str(1, 'format')),
  });
}
