import { sha256Hex } from '../engine/canonical.ts';
import { KdeliverError } from '../errors.ts';
import { apiError, isOk } from '../runtimes/kubernetes/api-errors.ts';
import type { KubeClient } from '../runtimes/kubernetes/client.ts';
import type { SpecResource } from '../runtimes/runtime.ts';
import { isSecret } from '../engine/kubernetes-id.ts';
import { maskSecretData } from './secret-masking.ts';
import { SYSTEM_NAMESPACE, applySystemSecret, ensureSystemNamespace, stackKey } from './system-namespace.ts';

/**
 * The values of a release's Secrets, kept in the cluster so that a rollback can restore
 * them. The state file holds only their digests (no secret sits in clear text on a laptop);
 * the cluster already holds the values themselves, so one more Secret in kdeliver-system
 * adds no new place they live. A snapshot is named after the digests the state records, so
 * it is written before the release applies anything, found again from the state alone, and
 * shared by every revision with the same values; restored values are checked against the
 * digests.
 */

const SNAPSHOT_LABEL = 'kdeliver.io/secrets';

const secretsPath = `/api/v1/namespaces/${SYSTEM_NAMESPACE}/secrets`;

type SecretValues = { data?: unknown; stringData?: unknown };

function isSecretResource(resource: SpecResource): boolean {
  return isSecret(resource.attributes);
}

/** Named after the Secrets as the state records them (values masked), so the state alone finds it. */
function snapshotName(stack: string, masked: readonly SpecResource[]): string {
  const entries = masked
    .map((secret) => [secret.id, secret.attributes] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `kdeliver-secrets-${stackKey(stack)}-${sha256Hex(JSON.stringify(entries)).slice(0, 16)}`;
}

function withoutUndefined(values: SecretValues): SecretValues {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
}

/** Writes the Secret values of a stack's desired resources; a stack without Secrets writes nothing. */
export async function pushSecretSnapshot(
  client: KubeClient,
  stack: string,
  resources: readonly SpecResource[],
  signal?: AbortSignal,
): Promise<void> {
  const secrets = resources.filter(isSecretResource);
  if (secrets.length === 0) return;
  const values: Record<string, SecretValues> = {};
  for (const { id, attributes } of secrets)
    values[id] = withoutUndefined({ data: attributes.data, stringData: attributes.stringData });
  await ensureSystemNamespace(client, signal);
  const name = snapshotName(
    stack,
    secrets.map((secret) => ({ ...secret, attributes: maskSecretData(secret.attributes) })),
  );
  await applySystemSecret(
    client,
    {
      name,
      type: 'kdeliver.io/secret-snapshot',
      labels: { [SNAPSHOT_LABEL]: stackKey(stack) },
      data: { values: Buffer.from(JSON.stringify(values)).toString('base64') },
    },
    'writing the secret snapshot',
    signal,
  );
}

/**
 * A release's recorded resources with their Secret values put back from the snapshot.
 * Every restored Secret must mask to exactly what the state recorded, so a snapshot that
 * was changed is refused.
 */
export async function restoreSecretValues(
  client: KubeClient,
  stack: string,
  revision: number,
  recorded: readonly SpecResource[],
  signal?: AbortSignal,
): Promise<SpecResource[]> {
  const secrets = recorded.filter(isSecretResource);
  if (secrets.length === 0) return [...recorded];
  const name = snapshotName(stack, secrets);
  const response = await client.request({ method: 'GET', path: `${secretsPath}/${name}`, signal });
  if (response.status === 404) {
    throw new KdeliverError(
      'input',
      'SECRET_SNAPSHOT_MISSING',
      `revision ${revision} of ${stack} has Secrets (${secrets.map((secret) => secret.id).join(', ')}) ` +
        `but their values are not in the cluster (Secret ${SYSTEM_NAMESPACE}/${name} is missing)`,
      {
        hint: 'Only releases made by kdeliver install, upgrade and rollback keep their Secret values; install that package again instead.',
      },
    );
  }
  if (!isOk(response))
    throw apiError(response, 'reading the secret snapshot', `Secret ${SYSTEM_NAMESPACE}/${name}`);
  const encoded = (response.body as { data?: { values?: string } }).data?.values ?? '';
  const values = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as Record<string, SecretValues>;
  return recorded.map((resource) => {
    if (!isSecretResource(resource)) return resource;
    const restored = {
      ...resource,
      attributes: { ...resource.attributes, ...withoutUndefined(values[resource.id] ?? {}) },
    };
    if (JSON.stringify(maskSecretData(restored.attributes)) !== JSON.stringify(resource.attributes)) {
      throw new KdeliverError(
        'verification',
        'SECRET_SNAPSHOT_MISMATCH',
        `the values of ${resource.id} in Secret ${SYSTEM_NAMESPACE}/${name} do not match the digests revision ${revision} recorded`,
        { hint: 'The snapshot was changed or belongs to another state; install that package again instead.' },
      );
    }
    return restored;
  });
}

/** Deletes every snapshot of a stack (after uninstall). */
export async function deleteSecretSnapshots(
  client: KubeClient,
  stack: string,
  signal?: AbortSignal,
): Promise<void> {
  const response = await client.request({
    method: 'DELETE',
    path: secretsPath,
    query: { labelSelector: `${SNAPSHOT_LABEL}=${stackKey(stack)}` },
    signal,
  });
  if (!isOk(response) && response.status !== 404)
    throw apiError(response, 'deleting the secret snapshots of', `stack ${stack}`);
}
