import { describe, expect, it } from 'vitest';
import { buildApplyGraph } from '../../../src/engine/apply-graph.ts';
import { configMap, deployment, k8s, namespace, service } from './resources.ts';

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
    const order = buildApplyGraph(resources).topologicalOrder();
    expect(order).toEqual([...resources].reverse().map((resource) => resource.id));
  });

  it('chains tiers through the nearest tier present, shown by the reduction', () => {
    const graph = buildApplyGraph([
      deployment('shop', 'web'),
      configMap('shop', 'a'),
      configMap('shop', 'b'),
      namespace('shop'),
    ]);
    expect(graph.transitiveReduction().edges().sort()).toEqual([
      ['apps/v1:Deployment:shop:web', 'v1:ConfigMap:shop:a'],
      ['apps/v1:Deployment:shop:web', 'v1:ConfigMap:shop:b'],
      ['v1:ConfigMap:shop:a', 'v1:Namespace:shop'],
      ['v1:ConfigMap:shop:b', 'v1:Namespace:shop'],
    ]);
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
    expect(graph.topologicalOrder()).toEqual([settings.id, ns.id]);
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
    expect(graph.dependenciesOf('v1:ConfigMap:shop:a').sort()).toEqual(['db', 'v1:Namespace:shop']);
  });
});
