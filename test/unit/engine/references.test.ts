import { describe, expect, it } from 'vitest';
import { ReferenceScanner, referencedIds, resolveReferences } from '../../../src/engine/references.ts';

const INGRESS = 'networking.k8s.io/v1:Ingress:shop:web';
const APP = 'v1:ConfigMap:shop:app';
const APP_CONFIG = 'v1:ConfigMap:shop:app.config';
const SERVICE = 'v1:Service:shop:web';
const scanner = new ReferenceScanner([INGRESS, APP, APP_CONFIG, SERVICE]);

describe('ReferenceScanner', () => {
  it('finds an id with dots and slashes and the field path after it', () => {
    const text = `$kusion_path.${INGRESS}.status.loadBalancer`;
    expect(scanner.scan(text)).toEqual({
      references: [{ id: INGRESS, path: ['status', 'loadBalancer'], start: 0, end: text.length }],
      unknown: [],
    });
  });

  it('takes the longest id that is followed by a field path', () => {
    expect(scanner.scan(`$kusion_path.${APP_CONFIG}.data`).references[0]).toMatchObject({
      id: APP_CONFIG,
      path: ['data'],
    });
    // No path follows the longer id, so the shorter one with path `config` is meant.
    expect(scanner.scan(`$kusion_path.${APP}.config`).references[0]).toMatchObject({
      id: APP,
      path: ['config'],
    });
  });

  it('finds references embedded in a string and ends them at the first character outside a path', () => {
    const text = `http://$kusion_path.${SERVICE}.spec.clusterIP:8080/$kusion_path.${APP}.data.path`;
    const found = scanner.scan(text).references;
    expect(found.map((reference) => [reference.id, reference.path.join('.')])).toEqual([
      [SERVICE, 'spec.clusterIP'],
      [APP, 'data.path'],
    ]);
    expect(text.slice(found[0]?.end)).toMatch(/^:8080\//);
  });

  it('reports references to unknown ids', () => {
    expect(scanner.scan('x $kusion_path.v1:Secret:shop:gone.data y').unknown).toEqual([
      { text: 'v1:Secret:shop:gone.data', start: 2 },
    ]);
  });

  it('lists the ids attributes refer to once each', () => {
    const attributes = {
      a: `$kusion_path.${SERVICE}.spec.clusterIP`,
      b: [{ c: `$kusion_path.${SERVICE}.metadata.name and $kusion_path.${INGRESS}.spec` }],
    };
    expect(referencedIds(attributes, scanner)).toEqual([SERVICE, INGRESS]);
  });
});

describe('resolveReferences', () => {
  const live = new Map<string, Record<string, unknown>>([
    [SERVICE, { spec: { clusterIP: '10.0.0.7', ports: [{ port: 80 }, { port: 443 }] } }],
    [INGRESS, { status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } }],
  ]);
  const resolve = (attributes: Record<string, unknown>): Record<string, unknown> =>
    resolveReferences('v1:ConfigMap:shop:app', attributes, scanner, (id) => live.get(id));

  it('substitutes a whole-string reference with the value, keeping its type', () => {
    expect(
      resolve({
        lb: `$kusion_path.${INGRESS}.status.loadBalancer`,
        port: `$kusion_path.${SERVICE}.spec.ports.1.port`,
        untouched: 3,
      }),
    ).toEqual({ lb: { ingress: [{ ip: '192.0.2.1' }] }, port: 443, untouched: 3 });
  });

  it('writes embedded references into the string', () => {
    expect(
      resolve({
        list: [`http://$kusion_path.${SERVICE}.spec.clusterIP:$kusion_path.${SERVICE}.spec.ports.0.port/`],
      }),
    ).toEqual({
      list: ['http://10.0.0.7:80/'],
    });
  });

  it('fails naming the resource and field when the value is not set', () => {
    expect(() => resolve({ data: { ip: `$kusion_path.${SERVICE}.spec.loadBalancerIP` } })).toThrow(
      expect.objectContaining({
        code: 'REFERENCE_UNRESOLVED',
        message: `v1:ConfigMap:shop:app: attributes.data.ip refers to $kusion_path.${SERVICE}.spec.loadBalancerIP, which is not set on the live object`,
      }),
    );
    expect(() => resolve({ a: `$kusion_path.${APP}.data.x` })).toThrow(/has not been applied/);
  });

  it('refuses to embed an object in a string', () => {
    expect(() => resolve({ a: `lb=$kusion_path.${INGRESS}.status.loadBalancer` })).toThrow(
      expect.objectContaining({ code: 'REFERENCE_NOT_SCALAR' }),
    );
  });
});
