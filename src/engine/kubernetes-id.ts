import type { SpecResource } from '../runtimes/runtime.ts';
import { isPlainObject } from './canonical.ts';

/** The runtime type of Kubernetes resources in specs. */
export const KUBERNETES_TYPE = 'Kubernetes';

/** A Kubernetes Secret object (or a spec resource's attributes for one). */
export function isSecret(object: Record<string, unknown>): boolean {
  return object.apiVersion === 'v1' && object.kind === 'Secret';
}

/** The parts of a Kubernetes resource id `apiVersion:Kind[:namespace]:name`. */
export interface KubernetesId {
  apiVersion: string;
  kind: string;
  /** Absent for cluster-scoped resources. */
  namespace?: string;
  name: string;
}

/** Splits an id; undefined when it does not have three or four non-empty parts. */
export function parseKubernetesId(id: string): KubernetesId | undefined {
  const parts = id.split(':');
  if (parts.some((part) => part === '')) return undefined;
  if (parts.length === 3) {
    const [apiVersion, kind, name] = parts as [string, string, string];
    return { apiVersion, kind, name };
  }
  if (parts.length === 4) {
    const [apiVersion, kind, namespace, name] = parts as [string, string, string, string];
    return { apiVersion, kind, namespace, name };
  }
  return undefined;
}

/** The API group of an apiVersion: `apps` for `apps/v1`, empty for the core group (`v1`). */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

/** The identity a Kubernetes resource's attributes declare, with missing fields left undefined. */
export interface DeclaredIdentity {
  apiVersion: unknown;
  kind: unknown;
  namespace: unknown;
  name: unknown;
}

export function declaredIdentity(attributes: Record<string, unknown>): DeclaredIdentity {
  const metadata = isPlainObject(attributes.metadata) ? attributes.metadata : {};
  return {
    apiVersion: attributes.apiVersion,
    kind: attributes.kind,
    namespace: metadata.namespace,
    name: metadata.name,
  };
}

/** Group, kind and namespace of a Kubernetes spec resource, read from its id. */
export function kubernetesIdOf(resource: SpecResource): KubernetesId | undefined {
  return resource.type === KUBERNETES_TYPE ? parseKubernetesId(resource.id) : undefined;
}
