import { kdeliverSetting, type SpecResource } from '../runtimes/runtime.ts';

/**
 * kdeliver's own per-resource settings, under `extensions.kdeliver` so that Kusion's
 * extensions stay untouched. Today: `timeout`, how long the engine waits for the resource
 * to become healthy, as a number of seconds or a duration like `90s`, `5m`, `1h30m`.
 */
export const TIMEOUT_FIELD = 'extensions.kdeliver.timeout';

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/**
 * The extension that lets the engine delete and create a resource again when a change
 * touches fields that cannot change in place (`recreate`): `"kdeliver.io/recreate": "true"`.
 */
export const RECREATE_EXTENSION = 'kdeliver.io/recreate';

export function recreateAllowed(resource: SpecResource): boolean {
  const value = resource.extensions?.[RECREATE_EXTENSION];
  return value === true || value === 'true';
}

/** Milliseconds of a duration; undefined when it is malformed or not positive. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value * 1000 : undefined;
  if (typeof value !== 'string' || value === '') return undefined;
  const match = DURATION.exec(value);
  if (!match) return undefined;
  const [, hours = '0', minutes = '0', seconds = '0'] = match;
  const milliseconds = ((Number(hours) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000;
  return milliseconds > 0 ? milliseconds : undefined;
}

/** The raw timeout setting, or undefined when the resource has none. */
export function timeoutSetting(resource: SpecResource): unknown {
  return kdeliverSetting(resource, 'timeout');
}

/** The health timeout of a resource in milliseconds (spec validation rejected malformed ones). */
export function healthTimeoutMs(resource: SpecResource, defaultMs: number): number {
  return parseDuration(timeoutSetting(resource)) ?? defaultMs;
}
