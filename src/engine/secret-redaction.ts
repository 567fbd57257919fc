import type { KdeliverError } from '../errors.ts';
import type { SpecResource } from '../runtimes/runtime.ts';
import { isPlainObject } from './canonical.ts';
import { isSecret } from './kubernetes-id.ts';

/** What a Secret value is replaced by in any text kdeliver prints or stores. */
export const REDACTED = '***';

/** Replaces every Secret value of a spec in a text; see `secretRedactor`. */
export type Redact = (text: string) => string;

/** Values shorter than this are replaced only where they stand alone, not inside words. */
const SHORT = 4;

/**
 * A function that replaces, in any text, each value under `data` and `stringData` of the
 * `v1` Secrets among `resources`: as written, base64-encoded or decoded, and JSON-escaped, as
 * an API server quotes them in its error messages. Longer values go first, so a value that
 * contains another is replaced whole.
 */
export function secretRedactor(resources: readonly SpecResource[]): Redact {
  const forms = new Set<string>();
  const add = (text: string): void => {
    if (text === '') return;
    forms.add(text);
    forms.add(JSON.stringify(text).slice(1, -1));
  };
  for (const { attributes } of resources) {
    if (!isSecret(attributes)) continue;
    for (const value of scalarsOf(attributes.data)) {
      add(value);
      const decoded = Buffer.from(value, 'base64');
      if (decoded.toString('base64').replace(/=+$/, '') === value.replace(/=+$/, ''))
        add(decoded.toString('utf8'));
    }
    for (const value of scalarsOf(attributes.stringData)) {
      add(value);
      add(Buffer.from(value).toString('base64'));
    }
  }
  const values = [...forms].sort((a, b) => b.length - a.length);
  if (values.length === 0) return (text) => text;
  const alternatives = values.map((value) =>
    value.length < SHORT ? `(?<![A-Za-z0-9])${escapeRegExp(value)}(?![A-Za-z0-9])` : escapeRegExp(value),
  );
  const pattern = new RegExp(alternatives.join('|'), 'g');
  return (text) => text.replace(pattern, REDACTED);
}

/** The same error with Secret values redacted from its message and hint; the cause is left out. */
export function redactedError(error: KdeliverError, redact: Redact): KdeliverError {
  const message = redact(error.message);
  const hint = error.hint === undefined ? undefined : redact(error.hint);
  if (message === error.message && hint === error.hint) return error;
  // A copy of the same class, so subclasses keep their fields and `instanceof` still holds.
  const copy = Object.create(Object.getPrototypeOf(error) as object) as KdeliverError;
  const fields = Object.entries(error).filter(([key]) => key !== 'cause');
  return Object.assign(copy, Object.fromEntries(fields), {
    message,
    hint,
    stack: `${error.name}: ${message}`,
  });
}

/** Every scalar under a Secret's `data` or `stringData`, as text (a malformed spec may nest them). */
function scalarsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return value.flatMap(scalarsOf);
  if (isPlainObject(value)) return Object.values(value).flatMap(scalarsOf);
  return [];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
