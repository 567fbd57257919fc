import type { SpecResource } from '../runtimes/runtime.ts';
import { isPlainObject } from './canonical.ts';
import { Graph } from './graph.ts';
import { apiGroup, kubernetesIdOf, type KubernetesId } from './kubernetes-id.ts';
import { ReferenceScanner, referencedIds } from './references.ts';

/**
 * The default order of Kubernetes kinds, as `group/Kind` (core group: empty). Each resource
 * of a tier depends on every resource of the nearest earlier tier present in the spec (for
 * namespaced kinds: in its namespace or cluster-scoped, see `orderByTier`), so the order
 * holds transitively. Kinds in no tier only wait for their Namespace and CRD.
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

  const tiered = kubernetes.flatMap(({ resource, id }) => {
    const tier = TIER_OF.get(groupKind(id));
    return tier === undefined ? [] : [{ id: resource.id, tier, namespace: id.namespace }];
  });
  const clusterScoped = tiered.filter((member) => member.namespace === undefined);
  orderByTier(graph, clusterScoped, tiered, 'cluster-wide');
  const byNamespace = Map.groupBy(
    tiered.filter((member) => member.namespace !== undefined),
    (member) => member.namespace as string,
  );
  for (const [namespace, members] of byNamespace)
    orderByTier(graph, members, [...members, ...clusterScoped], `in namespace ${namespace}`);
  return graph;
}

interface Tiered {
  id: string;
  tier: number;
  namespace: string | undefined;
}

/**
 * Makes each of `members` wait for every one of `candidates` in the nearest earlier tier
 * that `candidates` have. Namespaced kinds are ordered per namespace, after their own
 * namespace's resources and the cluster-scoped ones: what a workload can use (its
 * ConfigMaps, Secrets, Services, ServiceAccount) lives in its namespace, so one namespace's
 * Deployments need not wait for another's ConfigMaps, nor fail with them. Cluster-scoped
 * kinds (webhook configurations) wait for everything of the earlier tier.
 */
function orderByTier(graph: Graph, members: Tiered[], candidates: Tiered[], scope: string): void {
  const present = [...new Set(candidates.map((candidate) => candidate.tier))].sort((a, b) => a - b);
  for (const [tier, inTier] of Map.groupBy(members, (member) => member.tier)) {
    const previous = present.filter((earlier) => earlier < tier).at(-1);
    if (previous === undefined) continue;
    const before = candidates.filter((candidate) => candidate.tier === previous).map(({ id }) => id);
    orderAfter(
      graph,
      inTier.map(({ id }) => id),
      before,
      barrierName(graph, tier, scope),
    );
  }
}

/**
 * Makes each of `members` depend on every one of `previous` through one barrier node, so a
 * tier costs members + previous edges, not their product. A member that one of `previous`
 * already depends on (an explicit edge the other way) would close a cycle through the
 * barrier: it gets direct edges to the others instead, each left out if it closes a cycle.
 */
function orderAfter(graph: Graph, members: string[], previous: string[], barrier: string): void {
  graph.addBarrier(barrier);
  for (const dependency of previous) graph.addDependency(barrier, dependency);
  const before = graph.allDependenciesOf(barrier);
  for (const node of members) {
    if (!before.has(node)) {
      graph.addDependency(node, barrier);
      continue;
    }
    for (const dependency of previous) {
      if (node !== dependency && !graph.dependsOn(dependency, node)) graph.addDependency(node, dependency);
    }
  }
}

/** A barrier's name: says which tier it opens and where, and is no resource id of the graph. */
function barrierName(graph: Graph, tier: number, scope: string): string {
  const kinds = KIND_TIERS[tier]?.map((kind) => kind.split('/')[1]).join(', ');
  let name = `(before tier ${tier} ${scope}: ${kinds})`;
  while (graph.hasNode(name)) name = `${name}'`;
  return name;
}

/** The `group/Kind` a CustomResourceDefinition serves, from its spec. */
function crdGroupKind(crd: SpecResource): string | undefined {
  const spec = crd.attributes.spec;
  if (!isPlainObject(spec) || !isPlainObject(spec.names)) return undefined;
  const { group } = spec;
  const { kind } = spec.names;
  return typeof group === 'string' && typeof kind === 'string' ? `${group}/${kind}` : undefined;
}
