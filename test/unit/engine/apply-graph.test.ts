import { describe, expect, it } from 'vitest';
import { buildApplyGraph } from '../../../src/engine/apply-graph.ts';
import type { Graph } from '../../../src/engine/graph.ts';
import { configMap, deployment, k8s, namespace, service } from './resources.ts';

/** The order resources are applied in: barriers are no resources. */
const resourceOrder = (graph: Graph): string[] =>
  graph.topologicalOrder().filter((node) => !graph.isBarrier(node));

/** What a resource waits for, directly or through barriers: the resources before it. */
const resourcesBefore = (graph: Graph, id: string): string[] =>
  [...graph.allDependenciesOf(id)].filter((node) => !graph.isBarrier(node)).sort();

const crd = k8s('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, 'widgets.example.com', {
  body: { spec: { group: 'example.com', names: { kind: 'Widget', plural: 'widgets' } } },
});
const otherCrd = k8s(
  'apiextensions.k8s.io/v1',
  'CustomResourceDefinition',
  undefined,
  'gadgets.example.com',
  {
    body: { spec: { group: 'example.com', names: { kind: 'Gadget', plural: 'gadgets' } } },
  },
);
const widget = k8s('example.com/v1', 'Widget', 'shop', 'w');

describe('buildApplyGraph', () => {
  it('orders Kubernetes kinds by tier whatever the spec order', () => {
    const resources = [
      k8s('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', undefined, 'hook'),
      k8s('networking.k8s.io/v1', 'Ingress', 'shop', 'web'),
      deployment('shop', 'web'),
      service('shop', 'web'),
      k8s('v1', 'Secret', 'shop', 'creds'),
      k8s('rbac.authorization.k8s.io/v1', 'ClusterRole', undefined, 'reader'),
      crd,
      namespace('shop'),
    ];
    const order = resourceOrder(buildApplyGraph(resources));
    expect(order).toEqual([...resources].reverse().map((resource) => resource.id));
  });

  it('chains tiers through the nearest tier present, one barrier per tier', () => {
    const graph = buildApplyGraph([
      deployment('shop', 'web'),
      configMap('shop', 'a'),
      configMap('shop', 'b'),
      namespace('shop'),
    ]);
    const configMapsDone =
      '(before tier 5 in namespace shop: Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod)';
    expect(graph.dependenciesOf('apps/v1:Deployment:shop:web').sort()).toEqual([
      configMapsDone,
      'v1:Namespace:shop',
    ]);
    expect(graph.isBarrier(configMapsDone)).toBe(true);
    expect(graph.dependenciesOf(configMapsDone).sort()).toEqual([
      'v1:ConfigMap:shop:a',
      'v1:ConfigMap:shop:b',
    ]);
    expect(resourcesBefore(graph, 'apps/v1:Deployment:shop:web')).toEqual([
      'v1:ConfigMap:shop:a',
      'v1:ConfigMap:shop:b',
      'v1:Namespace:shop',
    ]);
  });

  it('orders namespaced kinds per namespace, and cluster-scoped ones after every namespace', () => {
    const hook = k8s('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', undefined, 'hook');
    const role = k8s('rbac.authorization.k8s.io/v1', 'ClusterRole', undefined, 'reader');
    const graph = buildApplyGraph([
      role,
      configMap('a', 'settings'),
      deployment('a', 'web'),
      configMap('b', 'settings'),
      deployment('b', 'web'),
      hook,
    ]);
    expect(resourcesBefore(graph, 'apps/v1:Deployment:a:web')).toEqual([role.id, 'v1:ConfigMap:a:settings']);
    expect(resourcesBefore(graph, hook.id)).toEqual(
      [
        role.id,
        'apps/v1:Deployment:a:web',
        'apps/v1:Deployment:b:web',
        'v1:ConfigMap:a:settings',
        'v1:ConfigMap:b:settings',
      ].sort(),
    );
  });

  it('orders large tiers with edges in proportion to the resources, not their product', () => {
    const configMaps = Array.from({ length: 200 }, (_, i) => configMap('shop', `c${i}`));
    const deployments = Array.from({ length: 200 }, (_, i) => deployment('shop', `d${i}`));
    const graph = buildApplyGraph([...configMaps, ...deployments]);
    expect(graph.edges().length).toBe(400);
    expect(resourcesBefore(graph, 'apps/v1:Deployment:shop:d7')).toEqual(
      configMaps.map((resource) => resource.id).sort(),
    );
  });

  it('keeps the tier order for the rest of a tier when a dependsOn reverses it for one resource', () => {
    const early = configMap('shop', 'early');
    const late = configMap('shop', 'late', { dependsOn: ['apps/v1:Deployment:shop:first'] });
    const first = deployment('shop', 'first');
    const second = deployment('shop', 'second');
    const graph = buildApplyGraph([early, late, first, second]);
    expect(resourcesBefore(graph, second.id)).toEqual([first.id, early.id, late.id].sort());
    expect(resourcesBefore(graph, first.id)).toEqual([early.id]);
    expect(resourceOrder(graph)).toEqual([early.id, first.id, late.id, second.id]);
  });

  it('matches tiers by group as well as kind', () => {
    const lookalike = k8s('example.com/v1', 'Deployment', undefined, 'not-apps');
    const graph = buildApplyGraph([lookalike, configMap('shop', 'a')]);
    expect(graph.edges()).toEqual([]);
  });

  it('makes other kinds wait only for their own Namespace and CRD', () => {
    const otherNamespaceThing = k8s('example.com/v1', 'Widget', 'other', 'x');
    const graph = buildApplyGraph([
      widget,
      otherNamespaceThing,
      namespace('shop'),
      namespace('other'),
      crd,
      otherCrd,
      deployment('shop', 'd'),
    ]);
    expect(graph.dependenciesOf(widget.id).sort()).toEqual([crd.id, 'v1:Namespace:shop'].sort());
    expect(graph.dependenciesOf(otherNamespaceThing.id).sort()).toEqual(
      [crd.id, 'v1:Namespace:other'].sort(),
    );
  });

  it('leaves resources alone whose Namespace or CRD is not in the spec', () => {
    expect(buildApplyGraph([widget, configMap('elsewhere', 'c')]).edges()).toEqual([]);
  });

  it('adds explicit dependsOn and $kusion_path references as edges', () => {
    const web = service('shop', 'web');
    const a = configMap('shop', 'a', { dependsOn: [widget.id] });
    const b = k8s('example.com/v1', 'Gadget', 'shop', 'g', {
      body: { spec: { url: `http://$kusion_path.${web.id}.spec.clusterIP` } },
    });
    const graph = buildApplyGraph([a, b, web, widget]);
    expect(graph.dependenciesOf(a.id)).toEqual([widget.id]);
    expect(graph.dependenciesOf(b.id)).toEqual([web.id]);
  });

  it('lets explicit ordering win over the default kind order', () => {
    const ns = namespace('shop');
    const settings = configMap('shop', 'settings');
    const graph = buildApplyGraph([{ ...ns, dependsOn: [settings.id] }, settings]);
    expect(resourceOrder(graph)).toEqual([settings.id, ns.id]);
  });

  it('reports cycles of explicit dependencies by path', () => {
    const a = configMap('shop', 'a', { dependsOn: ['v1:ConfigMap:shop:b'] });
    const b = configMap('shop', 'b', { dependsOn: ['v1:ConfigMap:shop:a'] });
    expect(() => buildApplyGraph([a, b]).topologicalOrder()).toThrow(
      'dependency cycle: v1:ConfigMap:shop:a → v1:ConfigMap:shop:b → v1:ConfigMap:shop:a',
    );
  });

  it('orders non-Kubernetes resources only by their dependencies', () => {
    const database = { id: 'db', type: 'Terraform', attributes: {} };
    const graph = buildApplyGraph([
      database,
      namespace('shop'),
      configMap('shop', 'a', { dependsOn: ['db'] }),
    ]);
    expect(graph.dependenciesOf('db')).toEqual([]);
    expect(resourcesBefore(graph, 'v1:ConfigMap:shop:a')).toEqual(['db', 'v1:Namespace:shop']);
  });
});
