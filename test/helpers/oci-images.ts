/**
 * Makes small but real OCI images (random gzip tar layers, config, manifest, and
 * multi-platform indexes) and pushes them to a registry over the distribution API,
 * so that no test needs the internet.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { create as createTar } from 'tar';

export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export interface Blob {
  mediaType: string;
  digest: string;
  size: number;
  data: Buffer;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Image {
  platform: Platform;
  config: Blob;
  layers: Blob[];
  manifest: Blob;
}

export interface RegistryTarget {
  host: string;
  ca: string;
  user?: string;
  password?: string;
}

function blob(mediaType: string, data: Buffer): Blob {
  return {
    mediaType,
    data,
    size: data.length,
    digest: `sha256:${createHash('sha256').update(data).digest('hex')}`,
  };
}

function json(mediaType: string, value: unknown): Blob {
  return blob(mediaType, Buffer.from(JSON.stringify(value)));
}

async function randomLayerTar(size: number): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'kdeliver-layer-'));
  try {
    await writeFile(join(dir, 'payload.bin'), randomBytes(size));
    const chunks: Buffer[] = [];
    for await (const chunk of createTar({ cwd: dir, portable: true, noMtime: true }, ['payload.bin']))
      chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** An image of random layers with the given uncompressed sizes in bytes. */
export async function makeImage(platform: Platform, layerSizes: number[]): Promise<Image> {
  const tars = await Promise.all(layerSizes.map(randomLayerTar));
  const layers = tars.map((tar) => blob(MEDIA_TYPES.layer, gzipSync(tar)));
  const config = json(MEDIA_TYPES.config, {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Entrypoint: ['/payload.bin'] },
    rootfs: { type: 'layers', diff_ids: tars.map((tar) => blob('', tar).digest) },
  });
  const descriptor = ({ mediaType, digest, size }: Blob) => ({ mediaType, digest, size });
  const manifest = json(MEDIA_TYPES.manifest, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: descriptor(config),
    layers: layers.map(descriptor),
  });
  return { platform, config, layers, manifest };
}

export function makeIndex(images: Image[]): Blob {
  return json(MEDIA_TYPES.index, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.index,
    manifests: images.map((image) => ({
      mediaType: image.manifest.mediaType,
      digest: image.manifest.digest,
      size: image.manifest.size,
      platform: image.platform,
    })),
  });
}

async function send(
  target: RegistryTarget,
  method: string,
  pathOrUrl: string,
  body?: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  const url = new URL(pathOrUrl, `https://${target.host}`);
  const auth = target.user
    ? { Authorization: `Basic ${Buffer.from(`${target.user}:${target.password}`).toString('base64')}` }
    : {};
  const ca = await readFile(target.ca);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, ca, headers: { ...auth, ...headers, 'Content-Length': String(body?.length ?? 0) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 400)
            reject(
              new Error(`${method} ${url.pathname}: HTTP ${status} ${Buffer.concat(chunks).toString()}`),
            );
          else resolve({ status, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function pushBlob(target: RegistryTarget, repository: string, item: Blob): Promise<void> {
  const exists = await send(target, 'HEAD', `/v2/${repository}/blobs/${item.digest}`).catch(() => undefined);
  if (exists?.status === 200) return;
  const started = await send(target, 'POST', `/v2/${repository}/blobs/uploads/`);
  const location = new URL(String(started.headers.location), `https://${target.host}`);
  location.searchParams.set('digest', item.digest);
  await send(target, 'PUT', location.toString(), item.data, { 'Content-Type': 'application/octet-stream' });
}

async function putManifest(
  target: RegistryTarget,
  repository: string,
  reference: string,
  manifest: Blob,
): Promise<void> {
  await send(target, 'PUT', `/v2/${repository}/manifests/${reference}`, manifest.data, {
    'Content-Type': manifest.mediaType,
  });
}

/** Pushes one image, or several as a multi-platform index, under `repository:tag`. */
export async function pushImage(
  target: RegistryTarget,
  repository: string,
  tag: string,
  images: Image[],
): Promise<Blob> {
  for (const image of images) {
    for (const item of [...image.layers, image.config]) await pushBlob(target, repository, item);
    await putManifest(target, repository, images.length === 1 ? tag : image.manifest.digest, image.manifest);
  }
  if (images.length === 1) return images[0]!.manifest;
  const index = makeIndex(images);
  await putManifest(target, repository, tag, index);
  return index;
}
