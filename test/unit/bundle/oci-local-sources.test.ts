import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { create as createTar } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Digest } from '../../../src/bundle/oci/digest.ts';
import type { ImageSource } from '../../../src/bundle/oci/image-source.ts';
import { MEDIA_TYPES } from '../../../src/bundle/oci/media-types.ts';
import { openImageSource } from '../../../src/bundle/oci/open-source.ts';
import { indexTar } from '../../../src/bundle/oci/tar-index.ts';

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function blobsOf(source: ImageSource): Promise<Map<string, Buffer>> {
  const resolved = await source.resolve();
  const blobs = new Map<string, Buffer>();
  for (const descriptor of resolved.blobs)
    blobs.set(descriptor.digest, await readAll(await source.openBlob(descriptor)));
  return blobs;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kdeliver-local-sources-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tar index', () => {
  it('finds entries with long (pax) names and follows symlinks', async () => {
    const root = join(dir, 'tree');
    const longName = `${'deep-directory-name/'.repeat(6)}file.bin`;
    await mkdir(join(root, longName, '..'), { recursive: true });
    await writeFile(join(root, longName), 'long content');
    await writeFile(join(root, 'short.txt'), 'short');
    await symlink('short.txt', join(root, 'link.txt'));
    const tarFile = join(dir, 'tree.tar');
    await createTar({ cwd: root, file: tarFile, portable: true }, [longName, 'short.txt', 'link.txt']);
    const entries = await indexTar(tarFile);
    const bytes = await readFile(tarFile);
    const at = (name: string) => {
      const entry = entries.get(name)!;
      return bytes.subarray(entry.offset, entry.offset + entry.size).toString();
    };
    expect(at(longName)).toBe('long content');
    expect(at('short.txt')).toBe('short');
    expect(at('link.txt')).toBe('short');
  });
});

describe('docker-archive source', () => {
  it('presents the archive as an OCI image over its own bytes', async () => {
    const root = join(dir, 'archive');
    await mkdir(join(root, 'abc'), { recursive: true });
    const plain = Buffer.from('pretend this is a layer tar');
    const compressed = gzipSync(Buffer.from('a compressed layer'));
    const config = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
    );
    await writeFile(join(root, 'abc', 'layer.tar'), plain);
    await writeFile(join(root, 'gz.tar'), compressed);
    await writeFile(join(root, 'config.json'), config);
    await writeFile(
      join(root, 'manifest.json'),
      JSON.stringify([
        {
          Config: 'config.json',
          RepoTags: ['example.com/app:v1', 'nginx:1'],
          Layers: ['abc/layer.tar', 'gz.tar'],
        },
      ]),
    );
    const archive = join(dir, 'image.tar');
    await createTar({ cwd: root, file: archive, portable: true }, [
      'manifest.json',
      'config.json',
      'abc',
      'gz.tar',
    ]);

    const source = await openImageSource(`docker-archive:${archive}`);
    const resolved = await source.resolve();
    const [manifest] = resolved.manifests;
    expect(manifest!.layers).toEqual([
      { mediaType: MEDIA_TYPES.ociLayer, digest: sha256Digest(plain), size: plain.length },
      { mediaType: MEDIA_TYPES.ociLayerGzip, digest: sha256Digest(compressed), size: compressed.length },
    ]);
    expect(manifest!.config).toEqual({
      mediaType: MEDIA_TYPES.ociConfig,
      digest: sha256Digest(config),
      size: config.length,
    });
    const blobs = await blobsOf(source);
    expect(blobs.get(sha256Digest(plain))).toEqual(plain);
    expect(blobs.get(sha256Digest(compressed))).toEqual(compressed);
    expect(JSON.parse(blobs.get(resolved.root.digest)!.toString())).toMatchObject({
      mediaType: MEDIA_TYPES.ociManifest,
    });

    // The same archive resolves to the same manifest, and images are picked by RepoTags.
    expect((await (await openImageSource(`docker-archive:${archive}:nginx:1`)).resolve()).root).toEqual(
      resolved.root,
    );
    await expect(
      (await openImageSource(`docker-archive:${archive}:nginx:2`)).resolve(),
    ).rejects.toMatchObject({
      code: 'IMAGE_NOT_FOUND',
    });
  });

  it('rejects a file that is not a docker-archive', async () => {
    const notTar = join(dir, 'not.tar');
    await writeFile(notTar, 'x'.repeat(2048));
    await expect((await openImageSource(`docker-archive:${notTar}`)).resolve()).rejects.toMatchObject({
      kind: 'input',
      code: 'DOCKER_ARCHIVE_INVALID',
    });
  });
});

describe('oci layout source', () => {
  async function layout(name: string, blobs: Buffer[], index: unknown): Promise<string> {
    const root = join(dir, name);
    await mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(root, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(join(root, 'index.json'), JSON.stringify(index));
    for (const blob of blobs)
      await writeFile(join(root, 'blobs', 'sha256', createHash('sha256').update(blob).digest('hex')), blob);
    return root;
  }
  const layer = gzipSync(Buffer.from('layer'));
  const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: sha256Digest(config), size: config.length },
      layers: [{ mediaType: MEDIA_TYPES.ociLayerGzip, digest: sha256Digest(layer), size: layer.length }],
    }),
  );
  const entry = (tag: string) => ({
    mediaType: MEDIA_TYPES.ociManifest,
    digest: sha256Digest(manifest),
    size: manifest.length,
    annotations: { 'org.opencontainers.image.ref.name': tag },
  });

  it('picks images by ref.name and verifies what it reads', async () => {
    const root = await layout('layout', [layer, config, manifest], {
      schemaVersion: 2,
      manifests: [entry('v1'), entry('v2')],
    });
    const blobs = await blobsOf(await openImageSource(`oci:${root}:v2`));
    expect([...blobs.keys()]).toEqual([sha256Digest(layer), sha256Digest(config), sha256Digest(manifest)]);
    await expect((await openImageSource(`oci:${root}`)).resolve()).rejects.toMatchObject({
      code: 'IMAGE_AMBIGUOUS',
      hint: expect.stringContaining('v1, v2'),
    });

    await writeFile(
      join(root, 'blobs', 'sha256', sha256Digest(layer).slice(7)),
      gzipSync(Buffer.from('other')),
    );
    const source = await openImageSource(`oci:${root}:v1`);
    const resolved = await source.resolve();
    await expect(readAll(await source.openBlob(resolved.blobs[0]!))).rejects.toMatchObject({
      kind: 'verification',
    });
  });

  it('explains a directory that is not a layout', async () => {
    await expect((await openImageSource(`oci:${dir}`)).resolve()).rejects.toMatchObject({
      code: 'OCI_LAYOUT_INVALID',
    });
  });
});
