import { describe, expect, it } from 'vitest';
import { KdeliverError } from '../../../src/errors.ts';
import { SpecInvalidError, parseSpec, validateSpec } from '../../../src/engine/spec.ts';
import type { SpecResource } from '../../../src/runtimes/runtime.ts';
import { configMap, deployment, k8s, namespace } from './resources.ts';

const KNOWN = new Set(['Kubernetes']);

function violationsOf(resources: unknown): KdeliverError[] {
  try {
    validateSpec(resources, 'spec.yaml', KNOWN);
  } catch (error) {
    expect(error).toBeInstanceOf(SpecInvalidError);
    const invalid = error as SpecInvalidError;
    expect(invalid.kind).toBe('input');
    expect(invalid.exitCode).toBe(3);
    return [...invalid.violations];
  }
  throw new Error('expected the spec to be invalid');
}

function only(resources: unknown): KdeliverError {
  const violations = violationsOf(resources);
  expect(violations.map((violation) => violation.message)).toHaveLength(1);
  return violations[0] as KdeliverError;
}

describe('spec validation', () => {
  it('accepts a list of resources and Kusion’s {resources} object alike', () => {
    const resources = [namespace('shop'), configMap('shop', 'settings')];
    expect(validateSpec(resources, 'spec.yaml', KNOWN).resources).toEqual(resources);
    expect(validateSpec({ resources }, 'spec.yaml', KNOWN).resources).toEqual(resources);
  });

  it('parses YAML and JSON text', () => {
    const yaml = `
- id: v1:Namespace:shop
  type: Kubernetes
  attributes: {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
`;
    expect(parseSpec(yaml, 'spec.yaml', KNOWN).resources[0]?.id).toBe('v1:Namespace:shop');
    const json = JSON.stringify({ resources: [namespace('shop')] });
    expect(parseSpec(json, 'spec.json', KNOWN).resources).toHaveLength(1);
  });

  it('reads JSON text as JSON, where a repeated key keeps its last value', () => {
    const json = `{"resources": [], "resources": [${JSON.stringify(namespace('shop'))}]}`;
    expect(parseSpec(json, 'spec.json', KNOWN).resources).toHaveLength(1);
    expect(() => parseSpec('{"resources": [], ', 'spec.json', KNOWN)).toThrow(
      expect.objectContaining({ code: 'SPEC_SYNTAX' }),
    );
  });

  it('reports unparsable text as SPEC_SYNTAX', () => {
    expect(() => parseSpec('- id: [unclosed', 'spec.yaml', KNOWN)).toThrow(
      expect.objectContaining({ code: 'SPEC_SYNTAX', kind: 'input' }),
    );
  });

  it('rejects a document that is not a list', () => {
    expect(only({ kind: 'List' }).code).toBe('SPEC_SHAPE');
  });

  it('reports shape errors naming the resource and field', () => {
    const noAttributes = { id: 'v1:Namespace:a', type: 'Kubernetes' };
    expect(only([noAttributes])).toMatchObject({
      code: 'SPEC_SHAPE',
      message: 'resource v1:Namespace:a: attributes is missing',
    });
    const typo = { ...namespace('a'), depends_on: [] };
    expect(only([typo]).message).toBe('resource v1:Namespace:a: depends_on is not a resource field');
    const badDependsOn = { ...namespace('a'), dependsOn: ['x', 3] };
    expect(only([badDependsOn]).message).toBe('resource v1:Namespace:a: dependsOn[1] must be string');
    expect(only([{ type: 'Kubernetes', attributes: {} }]).message).toBe('resource #1: id is missing');
  });

  it('rejects duplicate ids', () => {
    const error = only([namespace('a'), namespace('a')]);
    expect(error).toMatchObject({
      code: 'SPEC_DUPLICATE_ID',
      message: 'resource v1:Namespace:a: id is not unique',
    });
  });

  it('rejects unknown runtime types', () => {
    const error = only([{ id: 'db', type: 'Terraform', attributes: {} }]);
    expect(error.code).toBe('SPEC_UNKNOWN_TYPE');
    expect(error.message).toBe('resource db: type Terraform is not a known runtime (known: Kubernetes)');
  });

  it('accepts other known runtime types without Kubernetes id rules', () => {
    const resource = { id: 'db', type: 'Terraform', attributes: {} };
    expect(
      validateSpec([resource], 'spec.yaml', new Set(['Kubernetes', 'Terraform'])).resources,
    ).toHaveLength(1);
  });

  it('rejects Kubernetes ids that are not apiVersion:Kind[:namespace]:name', () => {
    for (const id of ['v1:ConfigMap', 'v1::ns:name', 'a:b:c:d:e']) {
      const resource: SpecResource = { ...configMap('ns', 'name'), id };
      expect(only([resource]).code, id).toBe('SPEC_ID_MALFORMED');
    }
  });

  it('checks each part of a Kubernetes id against the attributes', () => {
    const base = deployment('shop', 'web');
    const cases: [string, Record<string, unknown>][] = [
      ['attributes.apiVersion', { ...base.attributes, apiVersion: 'apps/v1beta1' }],
      ['attributes.kind', { ...base.attributes, kind: 'StatefulSet' }],
      [
        'attributes.metadata.namespace',
        { ...base.attributes, metadata: { name: 'web', namespace: 'other' } },
      ],
      ['attributes.metadata.name', { ...base.attributes, metadata: { name: 'api', namespace: 'shop' } }],
    ];
    for (const [field, attributes] of cases) {
      const error = only([{ ...base, attributes }]);
      expect(error.code).toBe('SPEC_ID_MISMATCH');
      expect(error.message).toContain(`resource apps/v1:Deployment:shop:web: ${field} is`);
    }
  });

  it('tells namespaced from cluster-scoped ids', () => {
    const namespacedWithoutNamespace = { ...configMap('shop', 'a'), id: 'v1:ConfigMap:a' };
    expect(only([namespacedWithoutNamespace]).message).toBe(
      'resource v1:ConfigMap:a: attributes.metadata.namespace is "shop", but the id says it is not set (cluster-scoped)',
    );
    const clusterScopedWithNamespace = { ...namespace('shop'), id: 'v1:Namespace:default:shop' };
    expect(only([clusterScopedWithNamespace]).message).toBe(
      'resource v1:Namespace:default:shop: attributes.metadata.namespace is not set, but the id says "default"',
    );
  });

  it('rejects dependsOn targets that are not in the spec', () => {
    const error = only([configMap('shop', 'a', { dependsOn: ['v1:Namespace:shop'] })]);
    expect(error).toMatchObject({
      code: 'SPEC_UNKNOWN_DEPENDENCY',
      message: 'resource v1:ConfigMap:shop:a: dependsOn[0] names v1:Namespace:shop, which is not in the spec',
    });
  });

  it('rejects references to resources that are not in the spec', () => {
    const resource = configMap('shop', 'a', {
      body: { data: { url: 'http://$kusion_path.v1:Service:shop:gone.spec.clusterIP' } },
    });
    const error = only([resource]);
    expect(error.code).toBe('SPEC_UNKNOWN_REFERENCE');
    expect(error.message).toContain(
      'resource v1:ConfigMap:shop:a: attributes.data.url refers to $kusion_path.v1:Service:shop:gone',
    );
  });

  it('rejects a reference without a field path', () => {
    const target = configMap('shop', 'target');
    const resource = configMap('shop', 'a', { body: { data: { ref: `$kusion_path.${target.id}` } } });
    expect(only([target, resource]).code).toBe('SPEC_UNKNOWN_REFERENCE');
  });

  it('accepts references to ids with dots and slashes', () => {
    const ingress = k8s('networking.k8s.io/v1', 'Ingress', 'shop', 'web.public');
    const resource = configMap('shop', 'a', {
      body: {
        data: {
          lb: `$kusion_path.${ingress.id}.status.loadBalancer`,
          host: `x-$kusion_path.${ingress.id}.spec.rules.0.host`,
        },
      },
    });
    expect(validateSpec([ingress, resource], 'spec.yaml', KNOWN).resources).toHaveLength(2);
  });

  it('rejects malformed health timeouts', () => {
    const resource = deployment('shop', 'web', { extensions: { kdeliver: { timeout: '5 minutes' } } });
    expect(only([resource])).toMatchObject({ code: 'SPEC_TIMEOUT_INVALID' });
    expect(only([resource]).message).toContain('extensions.kdeliver.timeout is "5 minutes"');
    for (const timeout of ['90s', '5m', '1h30m', 120]) {
      const valid = deployment('shop', 'web', { extensions: { kdeliver: { timeout } } });
      expect(validateSpec([valid], 'spec.yaml', KNOWN).resources).toHaveLength(1);
    }
  });

  it('collects every violation into one error', () => {
    const resources = [
      namespace('a'),
      namespace('a'),
      { id: 'x', type: 'Helm', attributes: {} },
      configMap('a', 'c', { dependsOn: ['missing'] }),
    ];
    try {
      validateSpec(resources, 'stacks/prod/spec.yaml', KNOWN);
      expect.unreachable();
    } catch (error) {
      const invalid = error as SpecInvalidError;
      expect(invalid.code).toBe('SPEC_INVALID');
      expect(invalid.violations.map((violation) => violation.code)).toEqual([
        'SPEC_DUPLICATE_ID',
        'SPEC_UNKNOWN_TYPE',
        'SPEC_UNKNOWN_DEPENDENCY',
      ]);
      expect(invalid.message).toMatch(
        /^spec stacks\/prod\/spec.yaml has 3 problems:\n {2}- resource v1:Namespace:a/,
      );
      expect(invalid.hint).toBeTruthy();
    }
  });
});
