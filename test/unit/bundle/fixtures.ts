/** Small packages made of random images, for the package format tests. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageBlobSource, PackageBlob, PackageImage } from '../../../src/bundle/blob-source.ts';
import { generateKeyPair, loadSigner, type PackageSigner } from '../../../src/bundle/keys.ts';
import type { WritePackageOptions } from '../../../src/bundle/package-writer.ts';
import type { CatalogStack } from '../../../src/state/catalog.ts';
import { makeImage, makeIndex, type Blob, type Image } from '../../helpers/oci-images.ts';

export interface SampleImages {
  source: ImageBlobSource;
  /** Every blob body by digest, to compare what comes out of a package. */
  bodies: Map<string, Buffer>;
}

function packageBlob(blob: Blob, role: PackageBlob['role']): PackageBlob {
  return { digest: blob.digest, size: blob.size, mediaType: blob.mediaType, role };
}

function imageBlobs(image: Image): PackageBlob[] {
  return [
    packageBlob(image.manifest, 'manifest'),
    packageBlob(image.config, 'config'),
    ...image.layers.map((layer) => packageBlob(layer, 'layer')),
  ];
}

/** A two-platform image behind an index, and a single-platform one that shares nothing with it. */
export async function sampleImages(layerBytes = 200): Promise<SampleImages> {
  const amd64 = await makeImage({ os: 'linux', architecture: 'amd64' }, [layerBytes, layerBytes / 2]);
  const arm64 = await makeImage({ os: 'linux', architecture: 'arm64', variant: 'v8' }, [layerBytes]);
  const worker = await makeImage({ os: 'linux', architecture: 'amd64' }, [layerBytes]);
  const index = makeIndex([amd64, arm64]);
  const images: PackageImage[] = [
    {
      reference: 'registry.example/shop/worker:2.0',
      digest: worker.manifest.digest,
      platforms: [worker.platform],
      blobs: imageBlobs(worker),
    },
    {
      reference: 'registry.example/shop/web:1.4',
      digest: index.digest,
      platforms: [amd64.platform, arm64.platform],
      blobs: [packageBlob(index, 'index'), ...imageBlobs(amd64), ...imageBlobs(arm64)],
    },
  ];
  const bodies = new Map<string, Buffer>();
  for (const blob of [index, ...[amd64, arm64, worker].flatMap((i) => [i.manifest, i.config, ...i.layers])])
    bodies.set(blob.digest, blob.data);
  return {
    bodies,
    source: {
      images,
      // Yields in small pieces, as a registry would.
      async *openBlob(blob) {
        const body = bodies.get(blob.digest)!;
        for (let offset = 0; offset < body.length; offset += 97) yield body.subarray(offset, offset + 97);
      },
    },
  };
}

export const SAMPLE_STACKS: CatalogStack[] = [
  {
    name: 'shop',
    resources: [
      {
        id: 'v1/Namespace/shop',
        kind: 'Namespace',
        namespace: null,
        dependsOn: [],
        specPath: 'specs/shop/namespace.yaml',
      },
      {
        id: 'apps/v1/Deployment/shop/web',
        kind: 'Deployment',
        namespace: 'shop',
        dependsOn: ['v1/Namespace/shop', 'v1/ConfigMap/shop/web'],
        specPath: 'specs/shop/web.yaml',
      },
      {
        id: 'v1/ConfigMap/shop/web',
        kind: 'ConfigMap',
        namespace: 'shop',
        dependsOn: ['v1/Namespace/shop'],
        specPath: 'specs/shop/web.yaml',
      },
    ],
    validations: [
      {
        resourceId: 'apps/v1/Deployment/shop/web',
        rule: 'resources-limits',
        severity: 'warning',
        message: 'no memory limit',
      },
    ],
  },
  { name: 'monitoring', resources: [], validations: [] },
];

export const SAMPLE_SPECS = [
  { path: 'shop/web.yaml', content: 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n' },
  { path: 'shop/namespace.yaml', content: 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n' },
];

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'kdeliver-bundle-'));
}

export async function makeSigner(dir: string): Promise<{ signer: PackageSigner; publicKeyPath: string }> {
  const pair = await generateKeyPair(dir, {});
  return { signer: await loadSigner(pair.privateKeyPath), publicKeyPath: pair.publicKeyPath };
}

export function packageOptions(
  images: SampleImages,
  signer: PackageSigner | null,
  overrides: Partial<WritePackageOptions> = {},
): WritePackageOptions {
  return {
    name: 'shop',
    version: '1.4.0',
    created: new Date('2025-01-02T03:04:05Z'),
    stacks: SAMPLE_STACKS,
    specs: SAMPLE_SPECS,
    images: images.source,
    compression: 'zstd',
    signer,
    ...overrides,
  };
}
