import type { SpecResource } from '../runtimes/runtime.ts';
import { isPlainObject } from './canonical.ts';
import { Graph } from './graph.ts';
import { apiGroup, kubernetesIdOf, type KubernetesId } from './kubernetes-id.ts';
import { ReferenceScanner, referencedIds } from './references.ts';

/**
 * The default order of Kubernetes kinds, as `group/Kind` (core group: empty). Each resource
 * of a tier depends on every resource of the nearest earlier tier present in the spec, so
 * the order holds transitively. Kinds in no tier only wait for their Namespace and CRD.
 * Webhook configurations come last so that a webhook whose service is not up yet cannot
 * reject the objects applied before it.
 */
export const KIND_TIERS: readonly (readonly string[])[] = [
  ['/Namespace'],
  ['apiextensions.k8s.io/CustomResourceDefinition'],
  [
    '/ServiceAccount',
    'rbac.authorization.k8s.io/Role',
    'rbac.authorization.k8s.io/ClusterRole',
    'rbac.authorization.k8s.io/RoleBinding',
    'rbac.authorization.k8s.io/ClusterRoleBinding',
  ],
  ['/ConfigMap', '/Secret', '/PersistentVolumeClaim'],
  ['/Service'],
  ['apps/Deployment', 'apps/StatefulSet', 'apps/DaemonSet', 'batch/Job', 'batch/CronJob', '/Pod'],
  ['networking.k8s.io/Ingress'],
  [
    'admissionregistration.k8s.io/MutatingWebhookConfiguration',
    'admissionregistration.k8s.io/ValidatingWebhookConfiguration',
  ],
];

const TIER_OF = new Map(KIND_TIERS.flatMap((kinds, tier) => kinds.map((kind) => [kind, tier] as const)));

const groupKind = (id: KubernetesId): string => `${apiGroup(id.apiVersion)}/${id.kind}`;

/**
 * The graph to apply resources in: explicit `dependsOn`, implicit `$kusion_path` references,
 * then the default Kubernetes ordering (Namespace, CRD, kind tiers). Default edges never
 * override explicit ones: a default edge that would close a cycle is left out. Dependencies
 * on ids outside `resources` are ignored (validation reports them for specs).
 */
export function buildApplyGraph(resources: readonly SpecResource[]): Graph {
  const graph = new Graph();
  for (const resource of resources) graph.addNode(resource.id);
  const scanner = new ReferenceScanner(graph.nodes());

  for (const resource of resources) {
    for (const target of [...(resource.dependsOn ?? []), ...referencedIds(resource.attributes, scanner)]) {
      if (graph.hasNode(target)) graph.addDependency(resource.id, target);
    }
  }

  const addDefault = (node: string, dependency: string): void => {
    if (node !== dependency && !graph.dependsOn(dependency, node)) graph.addDependency(node, dependency);
  };

  const kubernetes = resources.flatMap((resource) => {
    const id = kubernetesIdOf(resource);
    return id ? [{ resource, id }] : [];
  });
  const namespaces = new Map(
    kubernetes
      .filter(({ id }) => groupKind(id) === '/Namespace')
      .map(({ resource, id }) => [id.name, resource.id]),
  );
  const crds = new Map(
    kubernetes
      .filter(({ id }) => groupKind(id) === 'apiextensions.k8s.io/CustomResourceDefinition')
      .flatMap(({ resource }) => {
        const served = crdGroupKind(resource);
        return served ? [[served, resource.id] as const] : [];
      }),
  );

  for (const { resource, id } of kubernetes) {
    const namespace = id.namespace === undefined ? undefined : namespaces.get(id.namespace);
    if (namespace) addDefault(resource.id, namespace);
    const crd = crds.get(groupKind(id));
    if (crd) addDefault(resource.id, crd);
  }

  const tiers: string[][] = KIND_TIERS.map(() => []);
  for (const { resource, id } of kubernetes) {
    const tier = TIER_OF.get(groupKind(id));
    if (tier !== undefined) tiers[tier]?.push(resource.id);
  }
  let previous: string[] = [];
  for (const tier of tiers) {
    if (tier.length === 0) continue;
    for (const node of tier) for (const dependency of previous) addDefault(node, dependency);
    previous = tier;
  }
  return graph;
}

/** The `group/Kind` a CustomResourceDefinition serves, from its spec. */
function crdGroupKind(crd: SpecResource): string | undefined {
  const spec = crd.attributes.spec;
  if (!isPlainObject(spec) || !isPlainObject(spec.names)) return undefined;
  const { group } = spec;
  const { kind } = spec.names;
  return typeof group === 'string' && typeof kind === 'string' ? `${group}/${kind}` : undefined;
}
