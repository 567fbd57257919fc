import { sha256Hex } from '../engine/canonical.ts';
import { KdeliverError } from '../errors.ts';
import { apiError, isOk } from '../runtimes/kubernetes/api-errors.ts';
import type { KubeClient } from '../runtimes/kubernetes/client.ts';
import { checkedDatabase } from './state-file.ts';
import { SYSTEM_NAMESPACE, applySystemSecret, ensureSystemNamespace, stackKey } from './system-namespace.ts';

/**
 * A copy of the state file in the cluster, so another machine can take over a site.
 * Secrets hold at most 1 MiB, so the file is split into 512 KiB chunks (one Secret each)
 * plus a manifest Secret listing them with the digest of the whole. Chunks of a new copy
 * get new names; the manifest switches to them in one write, and only then are the old
 * chunks deleted, so an interrupted push leaves the previous copy intact.
 */

export const CHUNK_BYTES = 512 * 1024;

const STATE_LABEL = 'kdeliver.io/state';
const GENERATION_LABEL = 'kdeliver.io/state-generation';
const CHUNK_LABEL = 'kdeliver.io/state-chunk';

interface CopyManifest {
  sha256: string;
  size: number;
  chunks: string[];
  pushedAt: string;
}

export interface PushResult {
  /** The manifest Secret's name. */
  manifest: string;
  chunks: string[];
  sha256: string;
}

const secretsPath = `/api/v1/namespaces/${SYSTEM_NAMESPACE}/secrets`;

function manifestName(stack: string): string {
  return `kdeliver-state-${stackKey(stack)}`;
}

function applySecret(
  client: KubeClient,
  name: string,
  labels: Record<string, string>,
  data: Record<string, string>,
  signal?: AbortSignal,
): Promise<void> {
  return applySystemSecret(
    client,
    { name, type: 'kdeliver.io/state', labels, data },
    'writing the state copy',
    signal,
  );
}

async function readSecretData(
  client: KubeClient,
  name: string,
  signal?: AbortSignal,
): Promise<Record<string, string> | undefined> {
  const response = await client.request({ method: 'GET', path: `${secretsPath}/${name}`, signal });
  if (response.status === 404) return undefined;
  if (!isOk(response))
    throw apiError(response, 'reading the state copy', `Secret ${SYSTEM_NAMESPACE}/${name}`);
  return ((response.body as { data?: Record<string, string> }).data ?? {}) as Record<string, string>;
}

/** Writes `bytes` (the state file) as the in-cluster copy for `stack`. */
export async function pushStateCopy(
  client: KubeClient,
  stack: string,
  bytes: Uint8Array,
  signal?: AbortSignal,
): Promise<PushResult> {
  await ensureSystemNamespace(client, signal);
  const sha256 = sha256Hex(bytes);
  const key = stackKey(stack);
  const generation = sha256.slice(0, 12);
  const chunks: string[] = [];
  for (let offset = 0, index = 0; offset < bytes.length || index === 0; offset += CHUNK_BYTES, index++) {
    const name = `${manifestName(stack)}-${generation}-${index}`;
    const chunk = Buffer.from(bytes.subarray(offset, offset + CHUNK_BYTES));
    await applySecret(
      client,
      name,
      { [STATE_LABEL]: key, [GENERATION_LABEL]: generation, [CHUNK_LABEL]: String(index) },
      { chunk: chunk.toString('base64') },
      signal,
    );
    chunks.push(name);
  }
  const manifest: CopyManifest = { sha256, size: bytes.length, chunks, pushedAt: new Date().toISOString() };
  await applySecret(
    client,
    manifestName(stack),
    { [STATE_LABEL]: key },
    { manifest: Buffer.from(JSON.stringify(manifest)).toString('base64') },
    signal,
  );
  const stale = await client.request({
    method: 'DELETE',
    path: secretsPath,
    query: { labelSelector: `${STATE_LABEL}=${key},${GENERATION_LABEL},${GENERATION_LABEL}!=${generation}` },
    signal,
  });
  if (!isOk(stale)) throw apiError(stale, 'deleting the previous state copy of', `stack ${stack}`);
  return { manifest: manifestName(stack), chunks, sha256: `sha256:${sha256}` };
}

/** Reassembles the in-cluster copy for `stack`, verified against the manifest's digest. */
export async function pullStateCopy(
  client: KubeClient,
  stack: string,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const where = `Secret ${SYSTEM_NAMESPACE}/${manifestName(stack)}`;
  const data = await readSecretData(client, manifestName(stack), signal);
  if (!data?.manifest) {
    throw new KdeliverError(
      'input',
      'STATE_COPY_NOT_FOUND',
      `the cluster has no state copy for stack "${stack}" (${where})`,
      {
        hint: 'Check the stack name and the kubeconfig context; the copy is written after each release.',
      },
    );
  }
  const manifest = JSON.parse(Buffer.from(data.manifest, 'base64').toString('utf8')) as CopyManifest;
  const parts: Buffer[] = [];
  for (const name of manifest.chunks) {
    const chunk = await readSecretData(client, name, signal);
    if (chunk?.chunk === undefined) {
      throw new KdeliverError(
        'verification',
        'STATE_COPY_INCOMPLETE',
        `the state copy of stack "${stack}" lacks its chunk ${name}`,
        {
          hint: 'Push the state again from a machine that has it, or restore a backup.',
        },
      );
    }
    parts.push(Buffer.from(chunk.chunk, 'base64'));
  }
  const bytes = Buffer.concat(parts);
  const actual = sha256Hex(bytes);
  if (bytes.length !== manifest.size || actual !== manifest.sha256) {
    throw new KdeliverError(
      'verification',
      'STATE_COPY_DIGEST_MISMATCH',
      `the state copy of stack "${stack}" does not match its manifest: sha256:${actual} (${bytes.length} bytes), expected sha256:${manifest.sha256} (${manifest.size} bytes)`,
      {
        hint: 'The Secrets in kdeliver-system were changed by hand; push the state again from a machine that has it.',
      },
    );
  }
  (await checkedDatabase(bytes, where)).close();
  return bytes;
}
