/**
 * The images a set of specs runs: every container, init container and ephemeral container
 * of the pod templates of Kubernetes workloads, normalised (`nginx` is
 * `docker.io/library/nginx`) so that two spellings of one image are delivered once.
 */
import { isPlainObject } from '../engine/canonical.ts';
import { KUBERNETES_TYPE } from '../engine/kubernetes-id.ts';
import { isKdeliverError, KdeliverError } from '../errors.ts';
import type { SpecResource } from '../runtimes/runtime.ts';
import { formatReference, parseReference } from './oci/reference.ts';

/** Where a workload's pod spec sits inside its object, by kind. */
const POD_SPEC_PATHS: Record<string, readonly string[]> = {
  Pod: ['spec'],
  PodTemplate: ['template', 'spec'],
  Deployment: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

export interface ImageUse {
  stack: string;
  resourceId: string;
  /** e.g. `spec.template.spec.containers[0].image` */
  field: string;
}

export interface WorkloadImage {
  /** Fully qualified: registry, repository, and the tag and/or digest as written. */
  reference: string;
  /** Where the specs use it; empty for images only asked for with --image. */
  uses: ImageUse[];
}

export interface StackResources {
  name: string;
  resources: readonly SpecResource[];
}

/** A workload's pod spec (the object itself, so callers may change it) and where it sits. */
export function podSpecOf(
  resource: SpecResource,
): { path: readonly string[]; podSpec: Record<string, unknown> } | undefined {
  const path = POD_SPEC_PATHS[String(resource.attributes.kind)];
  if (resource.type !== KUBERNETES_TYPE || !path) return undefined;
  let podSpec: unknown = resource.attributes;
  for (const key of path) podSpec = isPlainObject(podSpec) ? podSpec[key] : undefined;
  return isPlainObject(podSpec) ? { path, podSpec } : undefined;
}

/**
 * Calls `visit` with each container of a workload's pod spec (the object itself, so a
 * caller may change it; anything else a list holds comes as it is), in document order.
 */
export function visitContainers(
  resource: SpecResource,
  visit: (container: unknown, field: string) => void,
): void {
  const found = podSpecOf(resource);
  if (!found) return;
  for (const list of CONTAINER_LISTS) {
    const containers = found.podSpec[list];
    if (!Array.isArray(containers)) continue;
    containers.forEach((container: unknown, i) =>
      visit(container, `${found.path.join('.')}.${list}[${i}].image`),
    );
  }
}

/** The `image` fields of one resource's containers, in document order. */
export function containerImages(resource: SpecResource): { field: string; image: unknown }[] {
  const images: { field: string; image: unknown }[] = [];
  visitContainers(resource, (container, field) =>
    images.push({ field, image: isPlainObject(container) ? container.image : undefined }),
  );
  return images;
}

/** The reference in the one spelling packages use (`nginx` is `docker.io/library/nginx`); `where` prefixes errors. */
export function normalizeImageReference(text: string, where: string): string {
  try {
    return formatReference(parseReference(text));
  } catch (error) {
    if (!isKdeliverError(error)) throw error;
    throw new KdeliverError(error.kind, error.code, `${where}: ${error.message}`, {
      hint: error.hint,
      cause: error,
    });
  }
}

/** Prefixes of the `--image` sources read from local files (skopeo's transport syntax). */
const LOCAL_TRANSPORTS = ['oci:', 'docker-archive:'];

export function isLocalImageSource(text: string): boolean {
  return LOCAL_TRANSPORTS.some((prefix) => text.startsWith(prefix));
}

/**
 * The reference a local image is delivered under: the name its source stores it under
 * (`oci:DIR:NAME`'s ref.name, a docker-archive's tag), which must name a repository.
 */
export function localImageReference(source: string, name: string | undefined): string {
  // A bare tag (`oci:DIR:1.0`, as skopeo writes by default) has neither `/` nor `:`.
  if (name === undefined || !/[/:]/.test(name))
    throw new KdeliverError(
      'input',
      'IMAGE_NAME_MISSING',
      `--image ${source}: ${name === undefined ? 'the image has no name' : `its name ${JSON.stringify(name)} is only a tag`}, so the package cannot say which repository it belongs to`,
      {
        hint: 'Store the image under its full reference: skopeo copy docker://registry.example/app:1.0 oci:DIR:registry.example/app:1.0 (or docker-archive:FILE:registry.example/app:1.0, docker save registry.example/app:1.0).',
      },
    );
  return normalizeImageReference(name, `--image ${source}`);
}

/** Every image the stacks run plus `extra` references, each once, sorted by reference. */
export function findImages(
  stacks: readonly StackResources[],
  extra: readonly string[] = [],
): WorkloadImage[] {
  const found = new Map<string, WorkloadImage>();
  const add = (text: string, where: string, use?: ImageUse) => {
    const reference = normalizeImageReference(text, where);
    const image = found.get(reference) ?? { reference, uses: [] };
    if (use) image.uses.push(use);
    found.set(reference, image);
  };
  for (const stack of stacks) {
    for (const resource of stack.resources) {
      for (const { field, image } of containerImages(resource)) {
        const where = `stack ${stack.name}, resource ${resource.id}, ${field}`;
        if (typeof image !== 'string' || image === '')
          throw new KdeliverError('input', 'IMAGE_MISSING', `${where} is not set`, {
            hint: 'Every container needs an image; fix the Konfig stack and build the spec again.',
          });
        add(image, where, { stack: stack.name, resourceId: resource.id, field });
      }
    }
  }
  for (const text of extra) add(text, `--image ${text}`);
  return [...found.values()].sort((a, b) => (a.reference < b.reference ? -1 : 1));
}
