/**
 * The comparison Konfig's CI used for golden files: YAML values equal with list order
 * ignored at every level (lists of the same length whose items pair up one to one) and
 * mapping key order ignored.
 */

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Where `actual` first differs from `expected` (a path and what differs), or undefined when equal. */
export function firstDifference(actual: unknown, expected: unknown, path = '$'): string | undefined {
  if (Array.isArray(actual) && Array.isArray(expected)) {
    if (actual.length !== expected.length) {
      return `${path}: ${actual.length} items, expected ${expected.length}`;
    }
    const unmatched = [...expected];
    for (const [index, item] of actual.entries()) {
      const match = unmatched.findIndex((candidate) => firstDifference(item, candidate) === undefined);
      if (match < 0) return unmatchedItem(item, unmatched, `${path}[${index}]`);
      unmatched.splice(match, 1);
    }
    return undefined;
  }
  if (isRecord(actual) && isRecord(expected)) {
    for (const key of Object.keys(expected)) {
      if (!(key in actual)) return `${path}.${key}: missing, expected ${show(expected[key])}`;
    }
    for (const key of Object.keys(actual)) {
      if (!(key in expected)) return `${path}.${key}: not expected (${show(actual[key])})`;
      const inner = firstDifference(actual[key], expected[key], `${path}.${key}`);
      if (inner !== undefined) return inner;
    }
    return undefined;
  }
  return Object.is(actual, expected) || actual === expected
    ? undefined
    : `${path}: ${show(actual)}, expected ${show(expected)}`;
}

/**
 * Why a list item has no equal: against the remaining candidate with the same `id` or
 * `name` (resources, containers) when there is one, which says far more than "not expected".
 */
function unmatchedItem(item: unknown, candidates: readonly unknown[], path: string): string {
  const key = isRecord(item) ? ['id', 'name'].find((k) => typeof item[k] === 'string') : undefined;
  const twin =
    key === undefined
      ? undefined
      : candidates.find((candidate) => isRecord(candidate) && isRecord(item) && candidate[key] === item[key]);
  const inner = twin === undefined ? undefined : firstDifference(item, twin, path);
  return inner ?? `${path}: ${show(item)} is not expected`;
}
