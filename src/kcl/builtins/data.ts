/** Plain data (from YAML/JSON parsing) to KCL values. */
import { parse, parseAllDocuments } from 'yaml';
import { KclDict, KclList, KclRuntimeError, type KclValue } from '../values.ts';

/**
 * Converts what the `yaml` package returns with `intAsBigInt` and `mapAsMap` into KCL
 * values: bigint → int, number → float, Map/object → dict (keys as strings), arrays → list.
 */
export function fromPlain(data: unknown): KclValue {
  if (data === null || data === undefined) return null;
  if (typeof data === 'boolean' || typeof data === 'string' || typeof data === 'bigint') return data;
  if (typeof data === 'number') return data;
  if (Array.isArray(data)) return new KclList(data.map(fromPlain));
  if (data instanceof Map) {
    const dict = new KclDict();
    for (const [k, v] of data) dict.entries.set(String(k), fromPlain(v));
    return dict;
  }
  if (data instanceof Date) return data.toISOString();
  if (typeof data === 'object') {
    return KclDict.of(Object.entries(data).map(([k, v]) => [k, fromPlain(v)] as const));
  }
  throw new KclRuntimeError(`unsupported data value ${String(data)}`);
}

const PARSE_OPTIONS = { intAsBigInt: true, mapAsMap: true, uniqueKeys: false } as const;

function parseError(format: string, error: unknown): KclRuntimeError {
  const message = error instanceof Error ? error.message : String(error);
  return new KclRuntimeError(`failed to parse ${format}: ${message}`);
}

/** One YAML document as a KCL value. */
export function parseYamlValue(text: string): KclValue {
  try {
    return fromPlain(parse(text, PARSE_OPTIONS));
  } catch (error) {
    throw parseError('YAML', error);
  }
}

/** Every document of a YAML stream. */
export function parseYamlStream(text: string): KclValue[] {
  const docs = parseAllDocuments(text, PARSE_OPTIONS);
  if (!Array.isArray(docs)) return [];
  return docs.map((doc) => {
    if (doc.errors.length > 0) throw parseError('YAML', doc.errors[0]);
    return fromPlain(doc.toJS(PARSE_OPTIONS));
  });
}

/** A JSON text as a KCL value; integral numbers become ints. */
export function parseJsonValue(text: string): KclValue {
  try {
    JSON.parse(text);
  } catch (error) {
    throw parseError('JSON', error);
  }
  // JSON is YAML 1.2; the YAML reader keeps ints apart from floats, JSON.parse cannot.
  return parseYamlValue(text);
}
