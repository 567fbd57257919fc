import { sha256Hex } from '../engine/canonical.ts';
import { apiError, isOk } from '../runtimes/kubernetes/api-errors.ts';
import type { KubeClient } from '../runtimes/kubernetes/client.ts';
import { FIELD_MANAGER } from '../runtimes/kubernetes/runtime.ts';

/** Where kdeliver keeps its own objects in a cluster: the state copy and the stack leases. */
export const SYSTEM_NAMESPACE = 'kdeliver-system';

export const MANAGED_BY_LABELS = { 'app.kubernetes.io/managed-by': 'kdeliver' };

/**
 * Creates the namespace when it is missing. An existing one is left untouched, so a user
 * who may only use kdeliver-system, not change namespaces, can still work in it.
 */
export async function ensureSystemNamespace(client: KubeClient, signal?: AbortSignal): Promise<void> {
  const path = `/api/v1/namespaces/${SYSTEM_NAMESPACE}`;
  if ((await client.request({ method: 'GET', path, signal })).status === 200) return;
  const response = await client.request({
    method: 'PATCH',
    path,
    query: { fieldManager: FIELD_MANAGER },
    contentType: 'application/apply-patch+yaml',
    body: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: SYSTEM_NAMESPACE, labels: MANAGED_BY_LABELS },
    },
    signal,
  });
  if (!isOk(response)) throw apiError(response, 'creating', `namespace ${SYSTEM_NAMESPACE}`);
}

/**
 * A stack name as a DNS label part (lowercase alphanumerics and `-`, at most 40
 * characters); names that needed changing get a digest suffix so distinct stacks stay apart.
 */
export function stackKey(stack: string): string {
  const cleaned = stack
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return cleaned === stack && cleaned ? cleaned : `${cleaned || 'stack'}-${sha256Hex(stack).slice(0, 8)}`;
}

/** Creates or replaces a Secret of kdeliver's own in kdeliver-system (server-side apply, forced). */
export async function applySystemSecret(
  client: KubeClient,
  secret: { name: string; type: string; labels: Record<string, string>; data: Record<string, string> },
  what: string,
  signal?: AbortSignal,
): Promise<void> {
  const response = await client.request({
    method: 'PATCH',
    path: `/api/v1/namespaces/${SYSTEM_NAMESPACE}/secrets/${secret.name}`,
    query: { fieldManager: FIELD_MANAGER, force: 'true' },
    contentType: 'application/apply-patch+yaml',
    body: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: secret.name,
        namespace: SYSTEM_NAMESPACE,
        labels: { ...MANAGED_BY_LABELS, ...secret.labels },
      },
      type: secret.type,
      data: secret.data,
    },
    signal,
  });
  if (!isOk(response)) throw apiError(response, what, `Secret ${SYSTEM_NAMESPACE}/${secret.name}`);
}
