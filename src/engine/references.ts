import { KdeliverError } from '../errors.ts';
import type { LiveObject } from '../runtimes/runtime.ts';
import { isPlainObject } from './canonical.ts';

/**
 * `$kusion_path.<id>.<field.path>` references inside attribute strings. Ids may contain dots
 * and slashes (`networking.k8s.io/v1:Ingress:ns:web`), so the id is found by longest match
 * against the known ids, and the field path is dot-separated segments of letters, digits,
 * `_` and `-` (digits index arrays). Whatever follows the path ends the reference, which is
 * how a reference is embedded in a longer string: `http://$kusion_path.v1:Service:ns:web.spec.clusterIP:80`.
 */
export const REFERENCE_PREFIX = '$kusion_path.';

const FIELD_PATH = /^\.([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)/;

export interface Reference {
  /** The referenced resource id. */
  id: string;
  /** The field path inside the referenced live object. */
  path: string[];
  /** Where the reference starts and ends in the string. */
  start: number;
  end: number;
}

/** A reference whose id is none of the known ids, as the text that follows the prefix. */
export interface UnknownReference {
  text: string;
  start: number;
}

export interface ScanResult {
  references: Reference[];
  unknown: UnknownReference[];
}

/** Finds references in strings, knowing the ids of one spec. */
export class ReferenceScanner {
  readonly #idsLongestFirst: string[];

  constructor(ids: Iterable<string>) {
    this.#idsLongestFirst = [...new Set(ids)].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  }

  scan(text: string): ScanResult {
    const result: ScanResult = { references: [], unknown: [] };
    let from = 0;
    for (;;) {
      const start = text.indexOf(REFERENCE_PREFIX, from);
      if (start === -1) return result;
      const idStart = start + REFERENCE_PREFIX.length;
      const reference = this.#match(text, start, idStart);
      if (reference) {
        result.references.push(reference);
        from = reference.end;
      } else {
        result.unknown.push({ text: text.slice(idStart).split(/\s/, 1)[0] ?? '', start });
        from = idStart;
      }
    }
  }

  /** The longest known id at `idStart` that is followed by a field path. */
  #match(text: string, start: number, idStart: number): Reference | undefined {
    for (const id of this.#idsLongestFirst) {
      if (!text.startsWith(id, idStart)) continue;
      const path = FIELD_PATH.exec(text.slice(idStart + id.length));
      if (!path?.[1]) continue;
      return { id, path: path[1].split('.'), start, end: idStart + id.length + path[0].length };
    }
    return undefined;
  }
}

/** A string found in attributes, with its field path for messages (`spec.rules[0].host`). */
export interface AttributeString {
  field: string;
  value: string;
}

/** Every string value inside attributes, depth first in key order. */
export function* attributeStrings(value: unknown, field = 'attributes'): Generator<AttributeString> {
  if (typeof value === 'string') {
    yield { field, value };
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) yield* attributeStrings(item, `${field}[${index}]`);
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) yield* attributeStrings(item, `${field}.${key}`);
  }
}

/** The ids a resource's attributes refer to, each once, in order of appearance. */
export function referencedIds(attributes: Record<string, unknown>, scanner: ReferenceScanner): string[] {
  const ids = new Set<string>();
  for (const { value } of attributeStrings(attributes)) {
    for (const reference of scanner.scan(value).references) ids.add(reference.id);
  }
  return [...ids];
}

/**
 * A copy of the attributes with every reference replaced by the value it points at. A
 * string that is exactly one reference takes the value as is (any JSON type); an embedded
 * reference must point at a scalar, which is written into the string.
 */
export function resolveReferences(
  resourceId: string,
  attributes: Record<string, unknown>,
  scanner: ReferenceScanner,
  liveObjectOf: (id: string) => LiveObject | undefined,
): Record<string, unknown> {
  const resolveString = (text: string, field: string): unknown => {
    const { references } = scanner.scan(text);
    const first = references[0];
    if (!first) return text;
    if (references.length === 1 && first.start === 0 && first.end === text.length) {
      return valueAt(resourceId, field, first, liveObjectOf);
    }
    let resolved = '';
    let copied = 0;
    for (const reference of references) {
      const value = valueAt(resourceId, field, reference, liveObjectOf);
      if (typeof value === 'object' && value !== null) {
        throw new KdeliverError(
          'input',
          'REFERENCE_NOT_SCALAR',
          `${resourceId}: ${field} embeds ${describe(reference)} in a string, but that field is an ${Array.isArray(value) ? 'array' : 'object'}`,
          {
            hint: 'Make the string exactly the reference to use a structured value, or point at a scalar field.',
          },
        );
      }
      resolved += text.slice(copied, reference.start) + String(value);
      copied = reference.end;
    }
    return resolved + text.slice(copied);
  };

  const resolveValue = (value: unknown, field: string): unknown => {
    if (typeof value === 'string') return resolveString(value, field);
    if (Array.isArray(value)) return value.map((item, index) => resolveValue(item, `${field}[${index}]`));
    if (isPlainObject(value)) {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, resolveValue(item, `${field}.${key}`)]),
      );
    }
    return value;
  };

  return resolveValue(attributes, 'attributes') as Record<string, unknown>;
}

function valueAt(
  resourceId: string,
  field: string,
  reference: Reference,
  liveObjectOf: (id: string) => LiveObject | undefined,
): unknown {
  const live = liveObjectOf(reference.id);
  if (live === undefined) {
    throw new KdeliverError(
      'operation',
      'REFERENCE_UNRESOLVED',
      `${resourceId}: ${field} refers to ${describe(reference)}, but ${reference.id} has not been applied`,
      { hint: `Check that ${reference.id} was applied successfully.` },
    );
  }
  let current: unknown = live;
  for (const segment of reference.path) {
    if (Array.isArray(current) && /^\d+$/.test(segment)) current = current[Number(segment)];
    else if (isPlainObject(current)) current = current[segment];
    else current = undefined;
    if (current === undefined) break;
  }
  if (current === undefined || current === null) {
    throw new KdeliverError(
      'operation',
      'REFERENCE_UNRESOLVED',
      `${resourceId}: ${field} refers to ${describe(reference)}, which is not set on the live object`,
      { hint: `Check the field path, or make ${reference.id} report that field once it is healthy.` },
    );
  }
  return current;
}

function describe(reference: Reference): string {
  return `${REFERENCE_PREFIX}${reference.id}.${reference.path.join('.')}`;
}
