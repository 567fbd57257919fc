import { describe, expect, it } from 'vitest';
import type { ManifestImage } from '../../../src/bundle/format.ts';
import { rewriteImages } from '../../../src/install/rewrite-images.ts';
import type { SpecResource } from '../../../src/runtimes/runtime.ts';

const WEB = `sha256:${'a'.repeat(64)}`;
const NGINX = `sha256:${'b'.repeat(64)}`;
const images: ManifestImage[] = [
  { reference: 'registry.example/shop/web:1.0', digest: WEB, mediaType: 'm', platforms: [], size: 0 },
  { reference: 'docker.io/library/nginx:1.27', digest: NGINX, mediaType: 'm', platforms: [], size: 0 },
];

const namespace: SpecResource = {
  id: 'v1:Namespace:shop',
  type: 'Kubernetes',
  attributes: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
};
const deployment: SpecResource = {
  id: 'apps/v1:Deployment:shop:web',
  type: 'Kubernetes',
  attributes: {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { namespace: 'shop', name: 'web' },
    spec: {
      template: {
        spec: {
          initContainers: [{ name: 'init', image: 'nginx:1.27' }],
          containers: [{ name: 'web', image: 'registry.example/shop/web:1.0' }],
        },
      },
    },
  },
  dependsOn: ['v1:Namespace:shop'],
};
const cronJob: SpecResource = {
  id: 'batch/v1:CronJob:jobs:report',
  type: 'Kubernetes',
  attributes: {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { namespace: 'jobs', name: 'report' },
    spec: {
      jobTemplate: {
        spec: { template: { spec: { containers: [{ image: 'registry.example/shop/web:1.0' }] } } },
      },
    },
  },
};
const configMap: SpecResource = {
  id: 'v1:ConfigMap:shop:settings',
  type: 'Kubernetes',
  attributes: {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace: 'shop', name: 'settings' },
    data: { image: 'nginx' },
  },
};
const stack = { name: 'shop', resources: [namespace, deployment, cronJob, configMap] };

describe('rewriteImages', () => {
  it('points every container at the site registry by digest and leaves the input alone', () => {
    const before = structuredClone(stack);
    const result = rewriteImages(stack, images, { registry: 'site.local:5000' });
    expect(stack).toEqual(before);
    expect(result.rewritten).toBe(3);
    const [, web, report, settings] = result.resources;
    expect(web!.attributes.spec).toEqual({
      template: {
        spec: {
          initContainers: [{ name: 'init', image: `site.local:5000/library/nginx@${NGINX}` }],
          containers: [{ name: 'web', image: `site.local:5000/shop/web@${WEB}` }],
        },
      },
    });
    expect(JSON.stringify(report!.attributes)).toContain(`"image":"site.local:5000/shop/web@${WEB}"`);
    expect(settings).toEqual(configMap);
    expect(result.resources).toHaveLength(4);
  });

  it('adds a pull Secret per namespace and names it in the pod specs when the registry needs credentials', () => {
    const result = rewriteImages(stack, images, {
      registry: 'site.local:5000',
      credentials: { username: 'ops', password: 's3cret' },
    });
    const [jobsSecret, shopSecret, , web, report] = result.resources;
    expect(jobsSecret!.id).toBe('v1:Secret:jobs:kdeliver-registry');
    expect(jobsSecret!.dependsOn).toBeUndefined();
    expect(shopSecret!.id).toBe('v1:Secret:shop:kdeliver-registry');
    expect(shopSecret!.dependsOn).toEqual(['v1:Namespace:shop']);
    expect(shopSecret!.attributes.type).toBe('kubernetes.io/dockerconfigjson');
    const data = (shopSecret!.attributes.data as Record<string, string>)['.dockerconfigjson']!;
    expect(JSON.parse(Buffer.from(data, 'base64').toString())).toEqual({
      auths: {
        'site.local:5000': {
          username: 'ops',
          password: 's3cret',
          auth: Buffer.from('ops:s3cret').toString('base64'),
        },
      },
    });
    expect(web!.dependsOn).toEqual(['v1:Namespace:shop', 'v1:Secret:shop:kdeliver-registry']);
    expect(report!.dependsOn).toEqual(['v1:Secret:jobs:kdeliver-registry']);
    expect(JSON.stringify(web!.attributes)).toContain('"imagePullSecrets":[{"name":"kdeliver-registry"}]');
  });

  it('refuses a workload whose image the package does not carry', () => {
    const other = JSON.parse(
      JSON.stringify(deployment).replace('registry.example/shop/web:1.0', 'registry.example/shop/other:2'),
    ) as SpecResource;
    expect(() => rewriteImages({ name: 'shop', resources: [other] }, images, { registry: 'site' })).toThrow(
      expect.objectContaining({ code: 'IMAGE_NOT_IN_PACKAGE' }),
    );
  });
});
