import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { imageBlobSource, packageImage } from '../../../src/bundle/image-blob-source.ts';
import type { ImageSource, ResolvedImage } from '../../../src/bundle/oci/image-source.ts';
import type { Descriptor } from '../../../src/bundle/oci/media-types.ts';
import { makeImage, makeIndex, type Blob, type Image } from '../../helpers/oci-images.ts';

const descriptor = ({ mediaType, digest, size }: Blob): Descriptor => ({ mediaType, digest, size });

/** An image source over blobs in memory that records which digests it served. */
function memorySource(blobs: Blob[], resolved: ResolvedImage): ImageSource & { served: string[] } {
  const bodies = new Map(blobs.map((blob) => [blob.digest, blob.data]));
  const served: string[] = [];
  return {
    name: resolved.source,
    served,
    resolve: async () => resolved,
    openBlob: async (wanted) => {
      served.push(wanted.digest);
      return Readable.from([bodies.get(wanted.digest)!]);
    },
    close: async () => {},
  };
}

function single(
  image: Image,
  name: string,
): { source: ReturnType<typeof memorySource>; resolved: ResolvedImage } {
  const resolved: ResolvedImage = {
    source: name,
    root: descriptor(image.manifest),
    manifests: [
      {
        descriptor: descriptor(image.manifest),
        bytes: image.manifest.data,
        config: descriptor(image.config),
        layers: image.layers.map(descriptor),
      },
    ],
    blobs: [...image.layers, image.config, image.manifest].map(descriptor),
  };
  return { source: memorySource([...image.layers, image.config, image.manifest], resolved), resolved };
}

describe('packageImage', () => {
  it('gives every blob its role and takes platforms from the index', async () => {
    const amd64 = await makeImage({ os: 'linux', architecture: 'amd64' }, [100]);
    const arm64 = await makeImage({ os: 'linux', architecture: 'arm64', variant: 'v8' }, [100]);
    const index = makeIndex([amd64, arm64]);
    const manifests = [amd64, arm64].map((image) => ({
      descriptor: { ...descriptor(image.manifest), platform: image.platform },
      bytes: image.manifest.data,
      config: descriptor(image.config),
      layers: image.layers.map(descriptor),
    }));
    const resolved: ResolvedImage = {
      source: 'r/web:1',
      root: descriptor(index),
      index: {
        descriptor: descriptor(index),
        bytes: index.data,
        filtered: false,
        sourceDigest: index.digest,
      },
      manifests,
      blobs: [
        ...[amd64, arm64].flatMap((image) => [...image.layers, image.config].map(descriptor)),
        descriptor(amd64.manifest),
        descriptor(arm64.manifest),
        descriptor(index),
      ],
    };
    const source = memorySource([], resolved);
    const image = await packageImage('r.example/web:1', source, resolved);
    expect(image).toMatchObject({
      reference: 'r.example/web:1',
      digest: index.digest,
      platforms: [amd64.platform, arm64.platform],
    });
    expect(image.blobs.map((blob) => blob.role)).toEqual([
      'layer',
      'config',
      'layer',
      'config',
      'manifest',
      'manifest',
      'index',
    ]);
    // Platforms came from the index: no config was read.
    expect(source.served).toEqual([]);
  });

  it("reads a single image's platform from its config", async () => {
    const image = await makeImage({ os: 'linux', architecture: 'arm', variant: 'v7' }, [100]);
    const { source, resolved } = single(image, 'r/one:1');
    const packaged = await packageImage('r.example/one:1', source, resolved);
    expect(packaged.platforms).toEqual([{ os: 'linux', architecture: 'arm', variant: 'v7' }]);
    expect(packaged.blobs.map((blob) => [blob.digest, blob.role])).toEqual([
      [image.layers[0]!.digest, 'layer'],
      [image.config.digest, 'config'],
      [image.manifest.digest, 'manifest'],
    ]);
  });
});

describe('imageBlobSource', () => {
  it('serves each blob once from the first source that has it and counts the bytes read', async () => {
    const first = await makeImage({ os: 'linux', architecture: 'amd64' }, [300]);
    const second = await makeImage({ os: 'linux', architecture: 'amd64' }, [200]);
    const a = single(first, 'r/a:1');
    const b = single(second, 'r/b:1');
    // The first image again under another name, from another source.
    const c = single(first, 'r/c:1');
    let counted = 0;
    const images = imageBlobSource(
      [
        { image: await packageImage('r.example/a:1', a.source, a.resolved), source: a.source },
        { image: await packageImage('r.example/b:1', b.source, b.resolved), source: b.source },
        { image: await packageImage('r.example/c:1', c.source, c.resolved), source: c.source },
      ],
      (bytes) => (counted += bytes),
    );
    expect(images.images.map((image) => image.reference)).toEqual([
      'r.example/a:1',
      'r.example/b:1',
      'r.example/c:1',
    ]);
    for (const { source } of [a, b, c]) source.served.length = 0;
    for (const blob of [first.layers[0]!, second.layers[0]!]) {
      const chunks: Buffer[] = [];
      const role = 'layer' as const;
      for await (const chunk of await images.openBlob({ ...descriptor(blob), role }))
        chunks.push(Buffer.from(chunk));
      expect(Buffer.concat(chunks)).toEqual(blob.data);
    }
    expect(a.source.served).toEqual([first.layers[0]!.digest]);
    expect(b.source.served).toEqual([second.layers[0]!.digest]);
    expect(c.source.served).toEqual([]);
    expect(counted).toBe(first.layers[0]!.size + second.layers[0]!.size);
  });
});
