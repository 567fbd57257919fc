/**
 * Points every workload of a stack at the images as the site registry holds them, by
 * digest (`<site>/<repository>@sha256:…`), so that what runs is exactly what was signed.
 * With registry credentials, each namespace running images gets a pull Secret that its
 * pod specs name in `imagePullSecrets`.
 */
import type { ManifestImage } from '../bundle/format.ts';
import type { Credentials } from '../bundle/oci/docker-config.ts';
import { parseReference } from '../bundle/oci/reference.ts';
import {
  normalizeImageReference,
  podSpecOf,
  visitContainers,
  type StackResources,
} from '../bundle/workload-images.ts';
import { isPlainObject } from '../engine/canonical.ts';
import { KdeliverError } from '../errors.ts';
import type { SpecResource } from '../runtimes/runtime.ts';
import { PULL_SECRET_NAME, pullSecretId, pullSecretResource } from './pull-secret.ts';

export interface SiteRegistry {
  /** host[:port] of the site registry. */
  registry: string;
  /** When the registry needs them to pull, a pull Secret is added per namespace. */
  credentials?: Credentials;
}

export interface RewrittenStack {
  name: string;
  resources: SpecResource[];
  /** Container image fields changed. */
  rewritten: number;
}

function namespaceOf(resource: SpecResource): string {
  const metadata = resource.attributes.metadata;
  const namespace = isPlainObject(metadata) ? metadata.namespace : undefined;
  return typeof namespace === 'string' && namespace !== '' ? namespace : 'default';
}

function addPullSecret(resource: SpecResource): void {
  const podSpec = podSpecOf(resource)?.podSpec;
  if (!podSpec) return;
  const secrets = Array.isArray(podSpec.imagePullSecrets) ? podSpec.imagePullSecrets : [];
  if (!secrets.some((secret) => isPlainObject(secret) && secret.name === PULL_SECRET_NAME))
    podSpec.imagePullSecrets = [...secrets, { name: PULL_SECRET_NAME }];
  const secretId = pullSecretId(namespaceOf(resource));
  if (!resource.dependsOn?.includes(secretId)) resource.dependsOn = [...(resource.dependsOn ?? []), secretId];
}

/** A rewritten copy of the stack's resources; the input is left as it is. */
export function rewriteImages(
  stack: StackResources,
  images: readonly ManifestImage[],
  site: SiteRegistry,
): RewrittenStack {
  const byReference = new Map(images.map((image) => [image.reference, image]));
  const namespaces = new Set<string>();
  let rewritten = 0;
  const resources = stack.resources.map((original) => {
    const resource = structuredClone(original) as SpecResource;
    let runsImages = false;
    visitContainers(resource, (container, field) => {
      // Build refused specs with a container without an image, so there is nothing to point elsewhere.
      if (!isPlainObject(container) || typeof container.image !== 'string') return;
      const where = `stack ${stack.name}, resource ${resource.id}, ${field}`;
      const reference = normalizeImageReference(container.image, where);
      const image = byReference.get(reference);
      if (!image)
        throw new KdeliverError(
          'verification',
          'IMAGE_NOT_IN_PACKAGE',
          `${where} runs ${reference}, which the package does not carry`,
          { hint: 'The package was not written by kdeliver build; build it again.' },
        );
      container.image = `${site.registry}/${parseReference(reference).repository}@${image.digest}`;
      runsImages = true;
      rewritten++;
    });
    if (runsImages && site.credentials) {
      addPullSecret(resource);
      namespaces.add(namespaceOf(resource));
    }
    return resource;
  });
  const ids = new Set(stack.resources.map((resource) => resource.id));
  const secrets = [...namespaces].sort().map((namespace) => {
    const namespaceId = `v1:Namespace:${namespace}`;
    return pullSecretResource(
      namespace,
      site.registry,
      site.credentials!,
      ids.has(namespaceId) ? [namespaceId] : [],
    );
  });
  return { name: stack.name, resources: [...secrets, ...resources], rewritten };
}
