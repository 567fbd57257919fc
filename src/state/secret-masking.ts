import { sha256Hex } from '../engine/canonical.ts';
import { isSecret } from '../engine/kubernetes-id.ts';

/**
 * Secret values never reach the state file in clear text: each is replaced by the sha256
 * digest of its bytes, which still tells whether a value changed between releases.
 */

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export function digestOf(bytes: Uint8Array | string): string {
  return `sha256:${sha256Hex(bytes)}`;
}

function mapValues(values: unknown, digest: (value: string) => string): unknown {
  if (!values || typeof values !== 'object') return values;
  return Object.fromEntries(
    Object.entries(values as Record<string, unknown>).map(([key, value]) => [key, digest(String(value))]),
  );
}

/**
 * A copy of a Kubernetes object with Secret `data` (digest of the decoded bytes) and
 * `stringData` (digest of the text) masked, and kubectl's last-applied annotation, which
 * repeats them, masked too. Other objects come back unchanged.
 */
export function maskSecretData<T extends Record<string, unknown>>(object: T): T {
  if (!isSecret(object)) return object;
  const masked: Record<string, unknown> = { ...object };
  if ('data' in object)
    masked.data = mapValues(object.data, (value) => digestOf(Buffer.from(value, 'base64')));
  if ('stringData' in object) masked.stringData = mapValues(object.stringData, (value) => digestOf(value));
  const metadata = object.metadata as { annotations?: Record<string, string> } | undefined;
  const lastApplied = metadata?.annotations?.[LAST_APPLIED];
  if (metadata && lastApplied !== undefined) {
    masked.metadata = {
      ...metadata,
      annotations: { ...metadata.annotations, [LAST_APPLIED]: digestOf(lastApplied) },
    };
  }
  return masked as T;
}
