import { createHash } from 'node:crypto';
import type { SpecResource } from '../runtimes/runtime.ts';

/** A copy with object keys sorted at every level, so equal values serialise identically. */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (isPlainObject(value)) {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) sorted[key] = sortKeysDeep(value[key]);
    return sorted;
  }
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The digest a release records for a resource: of the spec resource as written (before
 * `$kusion_path` resolution), so it changes exactly when the spec does.
 */
export function resourceDigest(resource: SpecResource): string {
  return `sha256:${sha256Hex(JSON.stringify(sortKeysDeep(resource)))}`;
}
