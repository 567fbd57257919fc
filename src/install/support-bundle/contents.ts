/**
 * The pure parts of a support bundle: where each piece goes in the archive, and what of a
 * cluster object is kept. Secret values never get in: Secrets keep only digests of their
 * values, the same masking as the state file's.
 */
import { stringify } from 'yaml';
import { isPlainObject } from '../../engine/canonical.ts';
import type { LiveObject } from '../../runtimes/runtime.ts';
import { maskSecretData } from '../../state/secret-masking.ts';

export interface BundleEntry {
  /** A relative path inside the archive, `/`-separated. */
  path: string;
  data: string | Uint8Array;
}

/** Something that could not be collected, and the entry it was for; collection goes on. */
export interface CollectionError {
  entry: string;
  message: string;
}

export const MANIFEST_ENTRY = 'bundle.json';

/** Stands for the namespace of cluster-scoped objects; no namespace can be named so (no `_` in DNS labels). */
export const CLUSTER_SCOPE = '_cluster';

/**
 * A path segment that extracts as written everywhere: characters outside `[A-Za-z0-9._-]`
 * (`:` in RBAC names, say) are percent-encoded, as are the names `.` and `..`, so that
 * distinct names stay distinct and none climbs out of its directory.
 */
export function pathSegment(text: string): string {
  const encoded = text.replace(/[^A-Za-z0-9._-]/g, (char) =>
    [...Buffer.from(char)].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
  return encoded === '.' || encoded === '..' ? encoded.replaceAll('.', '%2E') : encoded;
}

export function resourceEntryPath(
  stack: string,
  kind: string,
  namespace: string | undefined,
  name: string,
): string {
  return ['resources', stack, kind, namespace ?? CLUSTER_SCOPE, `${name}.yaml`].map(pathSegment).join('/');
}

export function eventsEntryPath(namespace: string): string {
  return `events/${pathSegment(`${namespace}.yaml`)}`;
}

export function podsEntryPath(namespace: string): string {
  return `pods/${pathSegment(`${namespace}.yaml`)}`;
}

export function logEntryPath(namespace: string, pod: string, container: string): string {
  return ['logs', namespace, pod, `${container}.log`].map(pathSegment).join('/');
}

export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}

function withoutManagedFields(object: LiveObject): LiveObject {
  if (!isPlainObject(object.metadata) || !('managedFields' in object.metadata)) return object;
  const metadata: Record<string, unknown> = { ...object.metadata };
  delete metadata.managedFields;
  return { ...object, metadata };
}

/** A live object as the bundle keeps it: without managedFields (noise), Secret values as digests. */
export function redactedObject(object: LiveObject): LiveObject {
  return maskSecretData(withoutManagedFields(object));
}

function metadataOf(object: LiveObject): Record<string, unknown> {
  return isPlainObject(object.metadata) ? object.metadata : {};
}

/** When an event last happened; events.k8s.io-style events have `eventTime` only, core ones the timestamps. */
function eventMillis(event: LiveObject): number {
  const series = isPlainObject(event.series) ? event.series.lastObservedTime : undefined;
  for (const time of [
    series,
    event.lastTimestamp,
    event.eventTime,
    event.firstTimestamp,
    metadataOf(event).creationTimestamp,
  ]) {
    if (typeof time === 'string' && !Number.isNaN(Date.parse(time))) return Date.parse(time);
  }
  return 0;
}

/** A namespace's events, oldest first (by name where the time is the same). */
export function sortedEvents(items: readonly LiveObject[]): LiveObject[] {
  return items
    .map((event) => ({ event: withoutManagedFields(event), at: eventMillis(event) }))
    .sort(
      (a, b) =>
        a.at - b.at || compareText(String(metadataOf(a.event).name), String(metadataOf(b.event).name)),
    )
    .map(({ event }) => event);
}

export interface PodStatus {
  name: string;
  node: string | undefined;
  status: unknown;
}

/** Each pod's status by name: phase, conditions, container states and restarts. */
export function podStatuses(items: readonly LiveObject[]): PodStatus[] {
  return items
    .map((pod) => {
      const spec = isPlainObject(pod.spec) ? pod.spec : {};
      return {
        name: String(metadataOf(pod).name),
        node: typeof spec.nodeName === 'string' ? spec.nodeName : undefined,
        status: pod.status,
      };
    })
    .sort((a, b) => compareText(a.name, b.name));
}

/** The containers of a pod whose logs are worth reading: init containers, then the others. */
export function containerNames(pod: LiveObject): string[] {
  const spec = isPlainObject(pod.spec) ? pod.spec : {};
  return [spec.initContainers, spec.containers].flatMap((list) =>
    Array.isArray(list)
      ? list.flatMap((container) =>
          isPlainObject(container) && typeof container.name === 'string' ? [container.name] : [],
        )
      : [],
  );
}

/** By UTF-16 code units, not the locale, so that every machine orders alike. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The archive's order: the manifest first, then by path; the same contents give the same order. */
export function inArchiveOrder(entries: readonly BundleEntry[]): BundleEntry[] {
  const rank = (entry: BundleEntry) => (entry.path === MANIFEST_ENTRY ? 0 : 1);
  return [...entries].sort((a, b) => rank(a) - rank(b) || compareText(a.path, b.path));
}
