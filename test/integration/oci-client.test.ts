/**
 * The OCI client against the sandbox's real registries, with skopeo as the independent
 * client that seeds local layouts and archives and reads back what was pushed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { copyImage } from '../../src/bundle/oci/copy-image.ts';
import type { ImageSource, ResolvedImage } from '../../src/bundle/oci/image-source.ts';
import { openImageSource } from '../../src/bundle/oci/open-source.ts';
import { parsePlatforms } from '../../src/bundle/oci/platform.ts';
import { parseReference } from '../../src/bundle/oci/reference.ts';
import { createRegistryClient, type RegistryClientOptions } from '../../src/bundle/oci/registry-client.ts';
import { RegistrySink } from '../../src/bundle/oci/registry-source.ts';
import { runProgram } from '../helpers/cli.ts';
import { makeImage, pushImage, type Blob, type Image, type RegistryTarget } from '../helpers/oci-images.ts';

const env = () => inject('sandboxEnv');
const site = (): RegistryTarget => ({
  host: env().KDELIVER_REGISTRY!,
  ca: env().KDELIVER_REGISTRY_CA!,
  user: env().KDELIVER_REGISTRY_USER!,
  password: env().KDELIVER_REGISTRY_PASSWORD!,
});
const source = (): RegistryTarget => ({
  host: env().KDELIVER_SOURCE_REGISTRY!,
  ca: env().KDELIVER_SOURCE_REGISTRY_CA!,
});
const certDir = (ca: string) => ca.slice(0, ca.lastIndexOf('/'));

let work: string;
let dockerConfig: string;

/** Registry settings as `build` and `install` would pass them; site credentials come from a config.json. */
function settings(registry: string): Omit<RegistryClientOptions, 'registry'> {
  if (registry === site().host) return { ca: site().ca, dockerConfigPath: dockerConfig };
  if (registry === source().host) return { ca: certDir(source().ca) };
  return {};
}

async function siteSink(repository: string): Promise<RegistrySink> {
  return new RegistrySink(
    await createRegistryClient({ registry: site().host, ...settings(site().host) }),
    repository,
  );
}

async function skopeo(args: string[]): Promise<string> {
  const result = await runProgram('skopeo', args);
  if (result.code !== 0) throw new Error(`skopeo ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

function siteInspect(ref: string, options: string[] = []): Promise<string> {
  const { ca, user, password } = site();
  return skopeo([
    'inspect',
    ...options,
    '--cert-dir',
    certDir(ca),
    '--creds',
    `${user}:${password}`,
    `docker://${site().host}/${ref}`,
  ]);
}

async function sha256OfStream(stream: NodeJS.ReadableStream): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** Reads every blob through the source, each checked against its digest on the way. */
async function readAllBlobs(imageSource: ImageSource, resolved: ResolvedImage): Promise<void> {
  for (const blob of resolved.blobs)
    expect(await sha256OfStream(await imageSource.openBlob(blob))).toBe(blob.digest);
}

const digests = (blobs: Blob[]) => blobs.map((blob) => blob.digest);

let amd64: Image;
let arm64: Image;
let index: Blob;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kdeliver-oci-'));
  const { host, user, password } = site();
  dockerConfig = join(work, 'config.json');
  await writeFile(
    dockerConfig,
    JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } }),
  );
  amd64 = await makeImage({ os: 'linux', architecture: 'amd64' }, [48 * 1024, 4 * 1024]);
  arm64 = await makeImage({ os: 'linux', architecture: 'arm64', variant: 'v8' }, [40 * 1024]);
  index = await pushImage(source(), 'oci/multi', 'v1', [amd64, arm64]);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('registry sources', () => {
  it('resolves a two-platform index whole, keeping its bytes', async () => {
    const imageSource = await openImageSource(`docker://${source().host}/oci/multi:v1`, settings);
    try {
      const resolved = await imageSource.resolve();
      expect(resolved.index).toMatchObject({
        filtered: false,
        sourceDigest: index.digest,
        bytes: index.data,
      });
      expect(resolved.root.digest).toBe(index.digest);
      expect(resolved.blobs.map((blob) => blob.digest)).toEqual([
        ...digests(amd64.layers),
        amd64.config.digest,
        ...digests(arm64.layers),
        arm64.config.digest,
        amd64.manifest.digest,
        arm64.manifest.digest,
        index.digest,
      ]);
      await readAllBlobs(imageSource, resolved);
    } finally {
      await imageSource.close();
    }
  });

  it('selects one platform, rewrites the index, and pushes it to the auth registry for skopeo to read', async () => {
    const imageSource = await openImageSource(`${source().host}/oci/multi:v1`, settings);
    const sink = await siteSink('oci/arm');
    try {
      const resolved = await imageSource.resolve({ platforms: parsePlatforms('linux/arm64') });
      expect(resolved.index?.filtered).toBe(true);
      expect(resolved.root.digest).not.toBe(index.digest);
      expect(resolved.manifests.map((m) => m.descriptor.digest)).toEqual([arm64.manifest.digest]);
      expect(resolved.blobs.map((blob) => blob.digest)).toEqual([
        ...digests(arm64.layers),
        arm64.config.digest,
        arm64.manifest.digest,
        resolved.root.digest,
      ]);

      const progress = new Map<string, number>();
      const result = await copyImage(imageSource, sink, resolved, {
        tag: 'v1',
        progress: (blob, bytes) => progress.set(blob.digest, bytes),
      });
      expect(result).toMatchObject({ digest: resolved.root.digest, pushed: 2, skipped: 0 });
      expect(progress.get(arm64.layers[0]!.digest)).toBe(arm64.layers[0]!.size);

      expect(await siteInspect('oci/arm:v1', ['--raw'])).toBe(resolved.index!.bytes.toString());
      const info = JSON.parse(
        await siteInspect('oci/arm:v1', ['--override-arch', 'arm64', '--override-variant', 'v8']),
      ) as {
        Digest: string;
        Architecture: string;
        Layers: string[];
      };
      expect(info).toMatchObject({
        Digest: resolved.root.digest,
        Architecture: 'arm64',
        Layers: digests(arm64.layers),
      });

      // Pushing again finds every blob in place.
      expect(await copyImage(imageSource, sink, resolved, { tag: 'v1' })).toMatchObject({
        pushed: 0,
        skipped: 2,
      });
    } finally {
      await imageSource.close();
      await sink.close();
    }
  });

  it('mounts blobs from another repository of the same registry', async () => {
    const imageSource = await openImageSource(`${source().host}/oci/multi:v1`, settings);
    const first = await siteSink('oci/mount-a');
    const second = await siteSink('oci/mount-b');
    try {
      const resolved = await imageSource.resolve({ platforms: parsePlatforms('linux/amd64') });
      expect(await copyImage(imageSource, first, resolved, { tag: 'v1' })).toMatchObject({ pushed: 3 });
      expect(
        await copyImage(imageSource, second, resolved, { tag: 'v1', mountFrom: 'oci/mount-a' }),
      ).toMatchObject({
        pushed: 0,
        mounted: 3,
      });
      const info = JSON.parse(await siteInspect('oci/mount-b:v1')) as { Layers: string[] };
      expect(info.Layers).toEqual(digests(amd64.layers));
    } finally {
      await Promise.all([imageSource.close(), first.close(), second.close()]);
    }
  });

  it('reports a missing tag with the registry and reference', async () => {
    const imageSource = await openImageSource(`${source().host}/oci/multi:nope`, settings);
    await expect(imageSource.resolve()).rejects.toMatchObject({
      kind: 'operation',
      code: 'REGISTRY_NOT_FOUND',
      message: expect.stringContaining(`${source().host}/oci/multi:nope`),
    });
    await imageSource.close();
  });

  it('asks for credentials when none are configured', async () => {
    const client = await createRegistryClient({ registry: site().host, ca: site().ca });
    await expect(client.ping()).rejects.toMatchObject({ code: 'REGISTRY_AUTH_REQUIRED' });
    client.close();
  });
});

describe('local sources', () => {
  const copyFromSource = (destination: string) => {
    const { host, ca } = source();
    return skopeo(['copy', '--src-cert-dir', certDir(ca), `docker://${host}/oci/multi:v1`, destination]);
  };

  it('reads an OCI layout written by skopeo and pushes it unchanged', async () => {
    const layout = join(work, 'layout');
    await copyFromSource(`oci:${layout}:app-v1`);
    const imageSource = await openImageSource(`oci:${layout}:app-v1`);
    const sink = await siteSink('oci/from-layout');
    try {
      const resolved = await imageSource.resolve();
      // skopeo copies the platform of this machine out of the index.
      expect(resolved.index).toBeUndefined();
      expect([amd64.manifest.digest, arm64.manifest.digest]).toContain(resolved.root.digest);
      await readAllBlobs(imageSource, resolved);
      await copyImage(imageSource, sink, resolved, { tag: 'v1' });
      expect(JSON.parse(await siteInspect('oci/from-layout:v1'))).toMatchObject({
        Digest: resolved.root.digest,
      });
      await expect((await openImageSource(`oci:${layout}:other`)).resolve()).rejects.toMatchObject({
        code: 'IMAGE_NOT_FOUND',
        hint: expect.stringContaining('app-v1'),
      });
    } finally {
      await Promise.all([imageSource.close(), sink.close()]);
    }
  });

  it('reads a docker-archive written by skopeo as an OCI image of uncompressed layers', async () => {
    const archive = join(work, 'image.tar');
    await copyFromSource(`docker-archive:${archive}:example.com/team/app:v1`);
    const imageSource = await openImageSource(`docker-archive:${archive}`);
    const sink = await siteSink('oci/from-archive');
    try {
      const resolved = await imageSource.resolve();
      const [manifest] = resolved.manifests;
      const config = JSON.parse(
        (await streamToBuffer(await imageSource.openBlob(manifest!.config))).toString(),
      ) as {
        architecture: string;
        rootfs: { diff_ids: string[] };
      };
      expect(manifest!.layers.map((layer) => layer.digest)).toEqual(config.rootfs.diff_ids);
      expect(
        manifest!.layers.every((layer) => layer.mediaType === 'application/vnd.oci.image.layer.v1.tar'),
      ).toBe(true);
      await readAllBlobs(imageSource, resolved);
      await copyImage(imageSource, sink, resolved, { tag: 'v1' });
      const info = JSON.parse(await siteInspect('oci/from-archive:v1')) as {
        Digest: string;
        Architecture: string;
        Layers: string[];
      };
      expect(info).toMatchObject({ Digest: resolved.root.digest, Architecture: config.architecture });
      expect(info.Layers).toEqual(config.rootfs.diff_ids);
      await expect(
        (await openImageSource(`docker-archive:${archive}:example.com/team/app:v2`)).resolve(),
      ).rejects.toMatchObject({
        code: 'IMAGE_NOT_FOUND',
        hint: expect.stringContaining('example.com/team/app:v1'),
      });
    } finally {
      await Promise.all([imageSource.close(), sink.close()]);
    }
  });
});

async function streamToBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Peak RSS growth over a baseline while `operation` runs. */
async function rssGrowth(operation: () => Promise<void>): Promise<number> {
  globalThis.gc?.();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  try {
    await operation();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, process.memoryUsage.rss()) - baseline;
}

describe('large blobs', () => {
  it('pushes and pulls a 200 MB blob with flat memory', async () => {
    const size = 200 * 1024 * 1024;
    const file = join(work, 'big.bin');
    const hash = createHash('sha256');
    const out = createWriteStream(file);
    for (let written = 0; written < size; written += 1024 * 1024) {
      const chunk = randomBytes(1024 * 1024);
      hash.update(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
    }
    await new Promise<void>((resolve) => out.end(() => resolve()));
    const descriptor = {
      mediaType: 'application/octet-stream',
      digest: `sha256:${hash.digest('hex')}`,
      size,
    };
    const reference = parseReference(`${site().host}/oci/big`);
    const client = await createRegistryClient({
      registry: reference.registry,
      ...settings(reference.registry),
    });
    try {
      const pushed: number[] = [];
      const pushGrowth = await rssGrowth(() =>
        client.pushBlob(
          reference.repository,
          (offset) => createReadStream(file, { start: offset }),
          descriptor,
          (bytes) => pushed.push(bytes),
        ),
      );
      expect(pushed.at(-1)).toBe(size);
      expect(pushed.every((bytes, i) => i === 0 || bytes > pushed[i - 1]!)).toBe(true);

      let pulled = 0;
      const pullGrowth = await rssGrowth(async () => {
        const stream = await client.openBlob(reference.repository, descriptor, (bytes) => (pulled = bytes));
        await pipeline(stream, new Writable({ write: (_chunk, _encoding, done) => done() }));
      });
      expect(pulled).toBe(size);
      console.log(
        `200 MB blob: RSS growth ${(pushGrowth / 2 ** 20).toFixed(1)} MB pushing, ${(pullGrowth / 2 ** 20).toFixed(1)} MB pulling`,
      );
      expect(pushGrowth).toBeLessThan(100 * 2 ** 20);
      expect(pullGrowth).toBeLessThan(100 * 2 ** 20);
    } finally {
      client.close();
    }
  });
});
