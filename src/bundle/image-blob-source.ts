/**
 * Adapts images resolved by the OCI client (registries, layouts, archives) to what the
 * package writer consumes. A blob several images share is fetched once, from whichever
 * source has it, because the writer asks for each digest once.
 */
import { KdeliverError } from '../errors.ts';
import type { BlobRole, ImageBlobSource, PackageImage, Platform } from './blob-source.ts';
import type { ImageSource, ResolvedImage, ResolvedManifest } from './oci/image-source.ts';

/** Image configs are small JSON documents; a bound keeps a hostile source from filling memory. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** An image as the package lists it, and the source its blobs are read from. */
export interface SourcedImage {
  image: PackageImage;
  source: ImageSource;
}

function roles(resolved: ResolvedImage): Map<string, BlobRole> {
  const byDigest = new Map<string, BlobRole>();
  for (const manifest of resolved.manifests) {
    for (const layer of manifest.layers) byDigest.set(layer.digest, 'layer');
    byDigest.set(manifest.config.digest, 'config');
    byDigest.set(manifest.descriptor.digest, 'manifest');
  }
  if (resolved.index) byDigest.set(resolved.index.descriptor.digest, 'index');
  return byDigest;
}

/** The platform an image's config declares; undefined when it declares none. */
async function configPlatform(
  source: ImageSource,
  manifest: ResolvedManifest,
): Promise<Platform | undefined> {
  if (manifest.config.size > MAX_CONFIG_BYTES) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of await source.openBlob(manifest.config)) chunks.push(chunk as Buffer);
  let config: unknown;
  try {
    config = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    // Non-JSON configs (artifacts) have no platform; the writer still copies them as they are.
    return undefined;
  }
  const { os, architecture, variant } = (config ?? {}) as Record<string, unknown>;
  if (typeof os !== 'string' || typeof architecture !== 'string') return undefined;
  return typeof variant === 'string' && variant !== '' ? { os, architecture, variant } : { os, architecture };
}

async function manifestPlatform(
  source: ImageSource,
  manifest: ResolvedManifest,
): Promise<Platform | undefined> {
  const declared = manifest.descriptor.platform;
  if (!declared) return configPlatform(source, manifest);
  const { os, architecture, variant } = declared;
  return variant ? { os, architecture, variant } : { os, architecture };
}

/**
 * Describes a resolved image, delivered under `reference`, the way the writer lists it;
 * reads the config when no index names the platform.
 */
export async function packageImage(
  reference: string,
  source: ImageSource,
  resolved: ResolvedImage,
): Promise<PackageImage> {
  const byDigest = roles(resolved);
  const platforms = await Promise.all(resolved.manifests.map((m) => manifestPlatform(source, m)));
  return {
    reference,
    digest: resolved.root.digest,
    platforms: platforms.filter((platform) => platform !== undefined),
    blobs: resolved.blobs.map((descriptor) => {
      const role = byDigest.get(descriptor.digest);
      if (!role)
        throw new KdeliverError(
          'internal',
          'IMAGE_BLOB_UNPLACED',
          `blob ${descriptor.digest} of ${reference} is neither a layer, a config nor a manifest`,
        );
      return { digest: descriptor.digest, size: descriptor.size, mediaType: descriptor.mediaType, role };
    }),
  };
}

async function* counted(
  stream: AsyncIterable<Uint8Array>,
  onBytes: (bytes: number) => void,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of stream) {
    onBytes(chunk.length);
    yield chunk;
  }
}

/**
 * The writer's view of resolved images. `onBytes` hears of every blob byte as it is
 * read, for progress.
 */
export function imageBlobSource(
  images: readonly SourcedImage[],
  onBytes: (bytes: number) => void = () => {},
): ImageBlobSource {
  const sourceOf = new Map<string, ImageSource>();
  for (const { image, source } of images)
    for (const blob of image.blobs) if (!sourceOf.has(blob.digest)) sourceOf.set(blob.digest, source);
  return {
    images: images.map(({ image }) => image),
    async openBlob(blob) {
      const source = sourceOf.get(blob.digest);
      if (!source)
        throw new KdeliverError('internal', 'IMAGE_BLOB_UNKNOWN', `no image source has blob ${blob.digest}`);
      const descriptor = { digest: blob.digest, size: blob.size, mediaType: blob.mediaType };
      return counted(await source.openBlob(descriptor), onBytes);
    },
  };
}
