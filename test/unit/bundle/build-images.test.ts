import { describe, expect, it } from 'vitest';
import { containerImages, findImages } from '../../../src/bundle/workload-images.ts';
import type { SpecResource } from '../../../src/runtimes/runtime.ts';

const podSpec = (...images: string[]) => ({
  containers: images.map((image, i) => ({ name: `c${i}`, image })),
});

function resource(
  apiVersion: string,
  kind: string,
  spec: Record<string, unknown>,
  type = 'Kubernetes',
): SpecResource {
  return {
    id: `${apiVersion}:${kind}:shop:${kind.toLowerCase()}`,
    type,
    attributes: { apiVersion, kind, metadata: { namespace: 'shop', name: kind.toLowerCase() }, ...spec },
  };
}

const template = (spec: unknown) => ({ spec: { template: { spec } } });

describe('containerImages', () => {
  it.each([
    ['v1', 'Pod', { spec: podSpec('a:1') }, 'spec.containers[0].image'],
    ['v1', 'PodTemplate', { template: { spec: podSpec('a:1') } }, 'template.spec.containers[0].image'],
    ['apps/v1', 'Deployment', template(podSpec('a:1')), 'spec.template.spec.containers[0].image'],
    ['apps/v1', 'ReplicaSet', template(podSpec('a:1')), 'spec.template.spec.containers[0].image'],
    ['v1', 'ReplicationController', template(podSpec('a:1')), 'spec.template.spec.containers[0].image'],
    ['apps/v1', 'StatefulSet', template(podSpec('a:1')), 'spec.template.spec.containers[0].image'],
    ['apps/v1', 'DaemonSet', template(podSpec('a:1')), 'spec.template.spec.containers[0].image'],
    ['batch/v1', 'Job', template(podSpec('a:1')), 'spec.template.spec.containers[0].image'],
    [
      'batch/v1',
      'CronJob',
      { spec: { schedule: '* * * * *', jobTemplate: template(podSpec('a:1')) } },
      'spec.jobTemplate.spec.template.spec.containers[0].image',
    ],
  ])('finds the image of a %s %s', (apiVersion, kind, spec, field) => {
    expect(containerImages(resource(apiVersion, kind, spec))).toEqual([{ field, image: 'a:1' }]);
  });

  it('reads init, regular and ephemeral containers in that order', () => {
    const spec = {
      containers: [
        { name: 'app', image: 'app:1' },
        { name: 'sidecar', image: 'proxy:2' },
      ],
      initContainers: [{ name: 'migrate', image: 'migrate:1' }],
      ephemeralContainers: [{ name: 'debug', image: 'busybox' }],
    };
    expect(containerImages(resource('apps/v1', 'Deployment', template(spec)))).toEqual([
      { field: 'spec.template.spec.initContainers[0].image', image: 'migrate:1' },
      { field: 'spec.template.spec.containers[0].image', image: 'app:1' },
      { field: 'spec.template.spec.containers[1].image', image: 'proxy:2' },
      { field: 'spec.template.spec.ephemeralContainers[0].image', image: 'busybox' },
    ]);
  });

  it('ignores kinds without pods, other runtimes and missing pod specs', () => {
    expect(containerImages(resource('v1', 'ConfigMap', { data: { image: 'x:1' } }))).toEqual([]);
    expect(containerImages(resource('apps/v1', 'Deployment', template(podSpec('a:1')), 'Terraform'))).toEqual(
      [],
    );
    expect(containerImages(resource('apps/v1', 'Deployment', { spec: {} }))).toEqual([]);
  });
});

describe('findImages', () => {
  const web = resource(
    'apps/v1',
    'Deployment',
    template(podSpec('nginx:1.27', 'registry.example:5000/shop/web:1.4')),
  );
  const job = resource('batch/v1', 'Job', template(podSpec('docker.io/library/nginx:1.27')));

  it('normalises references and lists each image once with every use', () => {
    const images = findImages([
      { name: 'shop', resources: [web] },
      { name: 'ops', resources: [job] },
    ]);
    expect(images.map((image) => image.reference)).toEqual([
      'docker.io/library/nginx:1.27',
      'registry.example:5000/shop/web:1.4',
    ]);
    expect(images[0]!.uses).toEqual([
      { stack: 'shop', resourceId: web.id, field: 'spec.template.spec.containers[0].image' },
      { stack: 'ops', resourceId: job.id, field: 'spec.template.spec.containers[0].image' },
    ]);
  });

  it('adds extra references, merging those the specs already use', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const images = findImages([{ name: 'shop', resources: [web] }], [`busybox@${digest}`, 'nginx:1.27']);
    expect(images.map((image) => [image.reference, image.uses.length])).toEqual([
      [`docker.io/library/busybox@${digest}`, 0],
      ['docker.io/library/nginx:1.27', 1],
      ['registry.example:5000/shop/web:1.4', 1],
    ]);
  });

  it('names the stack, resource and field of an invalid reference', () => {
    const bad = resource('v1', 'Pod', { spec: podSpec('Shop/Web:1') });
    expect(() => findImages([{ name: 'shop', resources: [bad] }])).toThrow(
      expect.objectContaining({
        code: 'IMAGE_REFERENCE_INVALID',
        message: expect.stringContaining(`stack shop, resource ${bad.id}, spec.containers[0].image`),
      }),
    );
    expect(() => findImages([], ['not a ref'])).toThrow(/--image not a ref/);
  });

  it('refuses a container without an image', () => {
    const bad = resource('v1', 'Pod', { spec: { containers: [{ name: 'app' }] } });
    expect(() => findImages([{ name: 'shop', resources: [bad] }])).toThrow(
      expect.objectContaining({ kind: 'input', code: 'IMAGE_MISSING' }),
    );
  });
});
