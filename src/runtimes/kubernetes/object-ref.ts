import { KdeliverError } from '../../errors.ts';
import type { SpecResource } from '../runtime.ts';

/** What names one Kubernetes object: read from the resource's desired attributes. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  /** As written in the spec; namespaced kinds without one go to `default`, as with kubectl. */
  namespace: string | undefined;
}

export function objectRef(resource: SpecResource): ObjectRef {
  const { apiVersion, kind, metadata } = resource.attributes as {
    apiVersion?: unknown;
    kind?: unknown;
    metadata?: { name?: unknown; namespace?: unknown };
  };
  const missing = [
    typeof apiVersion === 'string' && apiVersion ? undefined : 'apiVersion',
    typeof kind === 'string' && kind ? undefined : 'kind',
    typeof metadata?.name === 'string' && metadata.name ? undefined : 'metadata.name',
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new KdeliverError(
      'input',
      'K8S_OBJECT_INCOMPLETE',
      `resource ${resource.id} has no ${missing.join(', ')} in its attributes`,
      { hint: 'Every Kubernetes resource in the spec needs apiVersion, kind and metadata.name.' },
    );
  }
  const namespace =
    typeof metadata?.namespace === 'string' && metadata.namespace ? metadata.namespace : undefined;
  return {
    apiVersion: apiVersion as string,
    kind: kind as string,
    name: metadata!.name as string,
    namespace,
  };
}
