import type { LiveObject } from '../runtimes/runtime.ts';
import { isPlainObject } from './canonical.ts';

/** Metadata the API server writes on every object; never part of what kdeliver manages. */
const SERVER_METADATA = [
  'managedFields',
  'resourceVersion',
  'generation',
  'uid',
  'creationTimestamp',
  'selfLink',
];

/** Annotations controllers and clients add on their own. */
const SERVER_ANNOTATIONS = [
  'deployment.kubernetes.io/revision',
  'kubectl.kubernetes.io/last-applied-configuration',
];

/**
 * The object without server-managed fields and `status`, so that a live object and a
 * dry-run result compare equal exactly when applying would change nothing kdeliver owns.
 */
export function withoutServerFields(object: LiveObject): LiveObject {
  const stripped: LiveObject = { ...object };
  delete stripped.status;
  if (!isPlainObject(stripped.metadata)) return stripped;
  const metadata: Record<string, unknown> = { ...stripped.metadata };
  for (const field of SERVER_METADATA) delete metadata[field];
  if (isPlainObject(metadata.annotations)) {
    const annotations = { ...metadata.annotations };
    for (const annotation of SERVER_ANNOTATIONS) delete annotations[annotation];
    if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
    else delete metadata.annotations;
  }
  return { ...stripped, metadata };
}
