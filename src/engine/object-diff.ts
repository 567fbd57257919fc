import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import type { LiveObject } from '../runtimes/runtime.ts';
import { isPlainObject, sha256Hex, sortKeysDeep } from './canonical.ts';
import { isSecret } from './kubernetes-id.ts';

/**
 * A unified diff of two versions of one object as YAML with sorted keys, so that key order
 * never shows up as a change. Secret values are masked on both sides.
 */
export function objectDiff(id: string, before: LiveObject, after: LiveObject): string {
  return createTwoFilesPatch(
    `${id} (live)`,
    `${id} (after apply)`,
    stableYaml(maskSecretValues(before)),
    stableYaml(maskSecretValues(after)),
    undefined,
    undefined,
    { context: 3 },
  );
}

export function stableYaml(object: LiveObject): string {
  return stringify(sortKeysDeep(object), { lineWidth: 0 });
}

/**
 * A Secret with each `data` and `stringData` value replaced by `*** (sha256:<8 hex>…)`.
 * The hash is of the decoded value, so a value shows the same mark in `data` (base64) and
 * `stringData` (plain), and a changed value shows a changed mark without being revealed.
 */
export function maskSecretValues(object: LiveObject): LiveObject {
  if (!isSecret(object)) return object;
  const masked: LiveObject = { ...object };
  if (isPlainObject(object.data))
    masked.data = maskValues(object.data, (value) => Buffer.from(value, 'base64'));
  if (isPlainObject(object.stringData)) masked.stringData = maskValues(object.stringData, (value) => value);
  return masked;
}

function maskValues(
  values: Record<string, unknown>,
  decode: (value: string) => string | Uint8Array,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [
      key,
      `*** (sha256:${sha256Hex(decode(typeof value === 'string' ? value : JSON.stringify(value))).slice(0, 8)}…)`,
    ]),
  );
}
