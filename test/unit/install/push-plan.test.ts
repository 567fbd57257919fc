import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ManifestImage } from '../../../src/bundle/format.ts';
import { planPush } from '../../../src/install/push-plan.ts';

const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

function digestOf(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

const fake = (name: string) => `sha256:${createHash('sha256').update(name).digest('hex')}`;
const descriptor = (digest: string, mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip') => ({
  mediaType,
  digest,
  size: 1,
});

function document(value: unknown): [string, Buffer] {
  const bytes = Buffer.from(JSON.stringify(value));
  return [digestOf(bytes), bytes];
}

const [amd64, amd64Bytes] = document({
  schemaVersion: 2,
  mediaType: MANIFEST,
  config: descriptor(fake('config-amd64'), 'application/vnd.oci.image.config.v1+json'),
  layers: [descriptor(fake('base')), descriptor(fake('app'))],
});
const [arm64, arm64Bytes] = document({
  schemaVersion: 2,
  mediaType: MANIFEST,
  config: descriptor(fake('config-arm64'), 'application/vnd.oci.image.config.v1+json'),
  layers: [descriptor(fake('base-arm'))],
});
const [index, indexBytes] = document({
  schemaVersion: 2,
  mediaType: INDEX,
  manifests: [descriptor(amd64, MANIFEST), descriptor(arm64, MANIFEST)],
});
const documents = new Map([
  [amd64, amd64Bytes],
  [arm64, arm64Bytes],
  [index, indexBytes],
]);

const image = (reference: string, digest: string, mediaType: string): ManifestImage => ({
  reference,
  digest,
  mediaType,
  platforms: [],
  size: 0,
});

describe('planPush', () => {
  it('maps every blob of an index and of a manifest to the repositories of the images using it', () => {
    const plan = planPush(
      [
        image('registry.example/shop/web:1.0', index, INDEX),
        image('registry.example/shop/migrate@' + amd64, amd64, MANIFEST),
      ],
      documents,
    );
    expect(plan.images).toEqual([
      {
        reference: 'registry.example/shop/web:1.0',
        repository: 'shop/web',
        tag: '1.0',
        digest: index,
        mediaType: INDEX,
      },
      {
        reference: `registry.example/shop/migrate@${amd64}`,
        repository: 'shop/migrate',
        tag: undefined,
        digest: amd64,
        mediaType: MANIFEST,
      },
    ]);
    // Shared by both images: pushed to the first repository, mounted into the second.
    expect(plan.repositories.get(fake('base'))).toEqual(['shop/web', 'shop/migrate']);
    expect(plan.repositories.get(amd64)).toEqual(['shop/web', 'shop/migrate']);
    expect(plan.repositories.get(fake('base-arm'))).toEqual(['shop/web']);
    expect(plan.repositories.get(index)).toEqual(['shop/web']);
    expect(plan.repositories.size).toBe(8);
    expect(Object.fromEntries(plan.manifests)).toEqual({
      [index]: { mediaType: INDEX, bytes: documents.get(index) },
      [amd64]: { mediaType: MANIFEST, bytes: documents.get(amd64) },
      [arm64]: { mediaType: MANIFEST, bytes: documents.get(arm64) },
    });
  });

  it('refuses a package that lacks a manifest an image needs', () => {
    const withoutArm = new Map(documents);
    withoutArm.delete(arm64);
    expect(() => planPush([image('registry.example/shop/web:1.0', index, INDEX)], withoutArm)).toThrow(
      expect.objectContaining({ code: 'PACKAGE_IMAGE_INCOMPLETE', kind: 'verification' }),
    );
  });
});
