/**
 * Checks the site before an install changes anything on it, each named so that one can
 * be skipped on purpose (--skip-preflight NAME) and each failing with what to do about it
 * (kind `preflight`, exit 5).
 */
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RegistryClient } from '../bundle/oci/registry-client.ts';
import { sha256Digest } from '../bundle/oci/digest.ts';
import type { StackResources } from '../bundle/workload-images.ts';
import { isPlainObject } from '../engine/canonical.ts';
import { apiGroup, kubernetesIdOf } from '../engine/kubernetes-id.ts';
import { isKdeliverError, KdeliverError, messageOf } from '../errors.ts';
import { isOk, serverMessage } from '../runtimes/kubernetes/api-errors.ts';
import { KubeClient } from '../runtimes/kubernetes/client.ts';
import { RestMapper } from '../runtimes/kubernetes/discovery.ts';
import type { KubeconfigOptions } from '../runtimes/kubernetes/kubeconfig.ts';
import { loadKubeconfig } from '../runtimes/kubernetes/kubeconfig.ts';
import { formatBytes } from '../ui/bytes.ts';
import type { PreflightCheckName } from './preflight-names.ts';

/** The verbs an apply, a health wait and a later destroy need on every resource. */
const VERBS = ['create', 'patch', 'get', 'delete'] as const;
/** Room for the release state file and its journal. */
export const MIN_FREE_BYTES = 100 * 1000 * 1000;
const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

export interface PreflightSite {
  kubeconfig: KubeconfigOptions;
  stacks: readonly StackResources[];
  registry: RegistryClient;
  /** A repository the install pushes to; its push permission is tested. */
  repository: string | undefined;
  /** Where the install writes (the state file). */
  statePath: string;
  /** The Kubernetes versions the package supports, a semver range; any when undefined. */
  kubernetesVersions?: string;
}

export interface PreflightCheck {
  name: PreflightCheckName;
  /** Resolves to what was found; throws a `preflight` error naming the fix. */
  run(): Promise<string>;
}

function failed(name: PreflightCheckName, message: string, hint: string, cause?: unknown): KdeliverError {
  return new KdeliverError(
    'preflight',
    `PREFLIGHT_${name.toUpperCase().replace('-', '_')}_FAILED`,
    `preflight ${name}: ${message}`,
    {
      hint,
      cause,
    },
  );
}

/** Quick to give up: a preflight that waits a minute for a dead cluster helps nobody. */
function kubeClient(kubeconfig: KubeconfigOptions): KubeClient {
  return new KubeClient(loadKubeconfig(kubeconfig), {
    retry: { maxElapsedMs: 10_000, initialDelayMs: 200, maxDelayMs: 2_000 },
    requestTimeoutMs: 15_000,
  });
}

/**
 * The server's version inside the package's range of Kubernetes versions (a semver range
 * such as `>=1.30 <1.38`); pre-release and build suffixes (`v1.37.2-eks-1`) count as the
 * release they belong to.
 */
export async function checkKubernetesVersion(
  gitVersion: unknown,
  range: string | undefined,
): Promise<string> {
  if (range === undefined) return 'the package declares no supported range';
  const semver = await import('semver');
  const version = typeof gitVersion === 'string' ? semver.coerce(gitVersion) : null;
  if (version === null)
    throw failed(
      'api-server',
      `the API server reports no version kdeliver can read (${JSON.stringify(gitVersion)}), and the package supports Kubernetes ${range}`,
      'Check the cluster version by hand; if it is supported, skip this check with --skip-preflight api-server.',
    );
  if (!semver.satisfies(version, range))
    throw failed(
      'api-server',
      `the cluster runs Kubernetes ${String(gitVersion)}, and the package supports ${range}`,
      'Install a package built for this Kubernetes version, or upgrade the cluster.',
    );
  return `inside the supported range ${range}`;
}

async function apiServer(client: KubeClient, range: string | undefined): Promise<string> {
  let response;
  try {
    response = await client.request({ method: 'GET', path: '/version' });
  } catch (error) {
    throw failed(
      'api-server',
      `the API server at ${client.server} cannot be reached: ${messageOf(error)}`,
      'Check --kubeconfig and --context, and that this machine reaches the cluster.',
      error,
    );
  }
  if (!isOk(response))
    throw failed(
      'api-server',
      `the API server at ${client.server} answered: ${serverMessage(response)}`,
      'Check the kubeconfig credentials (renew them or use another context).',
    );
  const version = isPlainObject(response.body) ? response.body.gitVersion : undefined;
  const supported = await checkKubernetesVersion(version, range);
  return `${client.server} (Kubernetes ${typeof version === 'string' ? version : 'version unknown'}, ${supported})`;
}

interface Access {
  group: string;
  resource: string;
  namespace: string | undefined;
  kind: string;
}

async function rbac(client: KubeClient, stacks: readonly StackResources[]): Promise<string> {
  const mapper = new RestMapper(client, { crdEstablishTimeoutMs: 0 });
  const accesses = new Map<string, Access>();
  const notServed = new Set<string>();
  for (const resource of stacks.flatMap((stack) => stack.resources)) {
    const id = kubernetesIdOf(resource);
    if (!id) continue;
    try {
      const mapping = await mapper.mapping(id.apiVersion, id.kind);
      const namespace = mapping.namespaced ? (id.namespace ?? 'default') : undefined;
      const access = { group: apiGroup(id.apiVersion), resource: mapping.plural, namespace, kind: id.kind };
      accesses.set(JSON.stringify(access), access);
    } catch (error) {
      // Kinds of CRDs the specs themselves add are not served yet; creating those CRDs is checked.
      if (!isKdeliverError(error) || error.code !== 'K8S_KIND_UNKNOWN') throw error;
      notServed.add(`${id.apiVersion}/${id.kind}`);
    }
  }
  const reviews = [...accesses.values()].flatMap((access) => VERBS.map((verb) => ({ access, verb })));
  const denied = (
    await Promise.all(
      reviews.map(async ({ access, verb }) => {
        const response = await client.request({
          method: 'POST',
          path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            spec: {
              resourceAttributes: {
                group: access.group,
                resource: access.resource,
                verb,
                ...(access.namespace === undefined ? {} : { namespace: access.namespace }),
              },
            },
          },
        });
        if (!isOk(response))
          throw failed(
            'rbac',
            `the access review failed: ${serverMessage(response)}`,
            'Check the kubeconfig user.',
          );
        const status = isPlainObject(response.body) ? response.body.status : undefined;
        const allowed = isPlainObject(status) && status.allowed === true;
        return allowed ? [] : [`${verb} ${access.kind}${access.namespace ? ` in ${access.namespace}` : ''}`];
      }),
    )
  ).flat();
  if (denied.length > 0)
    throw failed(
      'rbac',
      `the kubeconfig user may not: ${denied.join(', ')}`,
      'Ask the cluster admin for these rights (a Role/ClusterRole and its binding), or use another --context.',
    );
  const pending =
    notServed.size > 0 ? `; not served yet (CRDs in the specs): ${[...notServed].join(', ')}` : '';
  return `${reviews.length} permissions allowed${pending}`;
}

async function registry(client: RegistryClient, repository: string | undefined): Promise<string> {
  await client.ping();
  if (repository === undefined) return `${client.registry} answers`;
  // A mount of a blob nobody has opens an upload, which the client cancels: proof of push rights, no bytes.
  const probe = sha256Digest(`kdeliver preflight ${Date.now()}`);
  await client.mountBlob(
    repository,
    { mediaType: 'application/octet-stream', digest: probe, size: 0 },
    repository,
  );
  return `${client.registry} accepts pushes to ${repository}`;
}

async function disk(statePath: string): Promise<string> {
  const directory = dirname(statePath);
  let free: number;
  try {
    const stats = await statfs(directory);
    free = stats.bavail * stats.bsize;
  } catch (error) {
    // The state directory is created on first use; its parent's file system is what counts then.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && dirname(directory) !== directory)
      return disk(directory);
    throw failed(
      'disk',
      `cannot check free space in ${directory}: ${messageOf(error)}`,
      'Pass a writable --state path.',
      error,
    );
  }
  if (free < MIN_FREE_BYTES)
    throw failed(
      'disk',
      `${directory} has ${formatBytes(free)} free, the install needs ${formatBytes(MIN_FREE_BYTES)}`,
      'Free some space there, or pass --state on another file system.',
    );
  return `${formatBytes(free)} free in ${directory}`;
}

/** The storage class each claim asks for: its own, or undefined for the cluster's default. */
function claimedClasses(stacks: readonly StackResources[]): (string | undefined)[] {
  const classOf = (claim: unknown) => {
    const spec = isPlainObject(claim) ? claim.spec : undefined;
    const name = isPlainObject(spec) ? spec.storageClassName : undefined;
    return typeof name === 'string' && name !== '' ? name : undefined;
  };
  return stacks
    .flatMap((stack) => stack.resources)
    .flatMap((resource) => {
      const kind = resource.attributes.kind;
      if (kind === 'PersistentVolumeClaim') return [classOf(resource.attributes)];
      const spec = resource.attributes.spec;
      if (kind === 'StatefulSet' && isPlainObject(spec) && Array.isArray(spec.volumeClaimTemplates))
        return spec.volumeClaimTemplates.map(classOf);
      return [];
    });
}

async function storageClass(client: KubeClient, stacks: readonly StackResources[]): Promise<string> {
  const wanted = claimedClasses(stacks);
  if (wanted.length === 0) return 'no volume claims';
  const response = await client.request({ method: 'GET', path: '/apis/storage.k8s.io/v1/storageclasses' });
  if (!isOk(response))
    throw failed(
      'storage-class',
      `listing StorageClasses failed: ${serverMessage(response)}`,
      'Check the kubeconfig user.',
    );
  const items = isPlainObject(response.body) && Array.isArray(response.body.items) ? response.body.items : [];
  const classes = items.filter(isPlainObject).map((item) => {
    const metadata = isPlainObject(item.metadata) ? item.metadata : {};
    const annotations = isPlainObject(metadata.annotations) ? metadata.annotations : {};
    return { name: String(metadata.name), isDefault: annotations[DEFAULT_CLASS_ANNOTATION] === 'true' };
  });
  const fallback = classes.find((candidate) => candidate.isDefault);
  if (wanted.includes(undefined) && !fallback)
    throw failed(
      'storage-class',
      'the specs declare volume claims without a storage class, and the cluster has no default StorageClass',
      `Mark one as default (kubectl annotate storageclass NAME ${DEFAULT_CLASS_ANNOTATION}=true), or install a storage provisioner.`,
    );
  const missing = [...new Set(wanted.filter((name) => name !== undefined))].filter(
    (name) => !classes.some((candidate) => candidate.name === name),
  );
  if (missing.length > 0)
    throw failed(
      'storage-class',
      `the specs ask for StorageClasses the cluster lacks: ${missing.join(', ')}`,
      'Create them on the site, or change storageClassName in the Konfig stack and rebuild the package.',
    );
  return `${wanted.length} volume claims${fallback ? `, default class ${fallback.name}` : ''}`;
}

/** Any user error met while checking (a broken kubeconfig, say) fails the check it stopped. */
function named(name: PreflightCheckName, run: () => Promise<string>): PreflightCheck {
  return {
    name,
    run: async () => {
      try {
        return await run();
      } catch (error) {
        if (!isKdeliverError(error) || error.kind === 'preflight') throw error;
        throw failed(
          name,
          error.message,
          error.hint ?? 'Fix the cause above, then run the install again.',
          error,
        );
      }
    },
  };
}

export function preflightChecks(site: PreflightSite): PreflightCheck[] {
  let client: KubeClient | undefined;
  const kube = () => (client ??= kubeClient(site.kubeconfig));
  return [
    named('api-server', () => apiServer(kube(), site.kubernetesVersions)),
    named('rbac', () => rbac(kube(), site.stacks)),
    named('registry', () => registry(site.registry, site.repository)),
    named('disk', () => disk(site.statePath)),
    named('storage-class', () => storageClass(kube(), site.stacks)),
  ];
}
