/**
 * Turns a top-level manifest or index into a ResolvedImage: selects platforms from an
 * index (rewriting it when entries are dropped), fetches and checks each chosen image
 * manifest, and lists every blob in the order a copy must write them.
 */
import { KdeliverError, messageOf } from '../../errors.ts';
import { isDigest, sha256Digest, verifyBytes } from './digest.ts';
import type { ResolvedImage, ResolvedIndex, ResolvedManifest } from './image-source.ts';
import {
  isImageManifestMediaType,
  isIndexMediaType,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  type Platform,
} from './media-types.ts';
import { formatPlatform, platformMatches } from './platform.ts';
import type { Manifest } from './registry-client.ts';

function invalidDocument(where: string, why: string): KdeliverError {
  return new KdeliverError('input', 'MANIFEST_INVALID', `The manifest ${where} is invalid: ${why}.`, {
    hint: 'The source holds a malformed image; rebuild or re-export it.',
  });
}

function checkDescriptor(value: unknown, where: string): Descriptor {
  const descriptor = value as Partial<Descriptor> | undefined;
  if (
    typeof descriptor?.mediaType !== 'string' ||
    typeof descriptor.digest !== 'string' ||
    !isDigest(descriptor.digest) ||
    !Number.isSafeInteger(descriptor.size) ||
    (descriptor.size ?? -1) < 0
  )
    throw invalidDocument(where, `a descriptor lacks a media type, a sha256 digest or a size`);
  return descriptor as Descriptor;
}

function parseJson(bytes: Buffer, where: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch (error) {
    throw invalidDocument(where, messageOf(error));
  }
  throw invalidDocument(where, 'it is not a JSON object');
}

export function parseImageManifest(bytes: Buffer, where: string): ImageManifest {
  const value = parseJson(bytes, where);
  if (!Array.isArray(value.layers)) throw invalidDocument(where, 'it has no layers list');
  return {
    ...(value as unknown as ImageManifest),
    config: checkDescriptor(value.config, where),
    layers: value.layers.map((layer) => checkDescriptor(layer, where)),
  };
}

export function parseImageIndex(bytes: Buffer, where: string): ImageIndex {
  const value = parseJson(bytes, where);
  if (!Array.isArray(value.manifests)) throw invalidDocument(where, 'it has no manifests list');
  return {
    ...(value as unknown as ImageIndex),
    manifests: value.manifests.map((m) => checkDescriptor(m, where)),
  };
}

function selectPlatforms(index: ImageIndex, platforms: Platform[], where: string): Descriptor[] {
  if (platforms.length === 0) return index.manifests;
  const chosen = index.manifests.filter((entry) =>
    platforms.some((wanted) => entry.platform !== undefined && platformMatches(wanted, entry.platform)),
  );
  for (const wanted of platforms) {
    if (!chosen.some((entry) => platformMatches(wanted, entry.platform!))) {
      const offered = index.manifests.flatMap((entry) =>
        entry.platform ? [formatPlatform(entry.platform)] : [],
      );
      throw new KdeliverError(
        'input',
        'PLATFORM_NOT_FOUND',
        `${where} has no image for platform ${formatPlatform(wanted)}.`,
        {
          hint: `It offers: ${offered.join(', ') || 'no platforms'}.`,
        },
      );
    }
  }
  return chosen;
}

/** A single-platform image: used as it is, whatever platforms were asked for. */
export function resolveSingleImage(source: string, root: Manifest): ResolvedImage {
  const manifest = parseImageManifest(root.bytes, source);
  const resolved: ResolvedManifest = { ...root, config: manifest.config, layers: manifest.layers };
  return { source, root: root.descriptor, manifests: [resolved], blobs: orderBlobs([resolved]) };
}

/**
 * `root` is the document the reference names; `fetchManifest` returns the bytes of an
 * image manifest the index lists (they are checked here against its descriptor).
 */
export async function resolveImage(
  source: string,
  root: Manifest,
  fetchManifest: (descriptor: Descriptor) => Promise<Buffer>,
  platforms: Platform[] = [],
): Promise<ResolvedImage> {
  if (isImageManifestMediaType(root.descriptor.mediaType)) return resolveSingleImage(source, root);
  if (!isIndexMediaType(root.descriptor.mediaType))
    throw new KdeliverError(
      'input',
      'MANIFEST_UNSUPPORTED',
      `${source} is a ${root.descriptor.mediaType}, not an image or image index.`,
    );

  const index = parseImageIndex(root.bytes, source);
  const chosen = selectPlatforms(index, platforms, source);
  const manifests = await Promise.all(
    chosen.map(async (descriptor) => {
      const where = `${source}@${descriptor.digest}`;
      if (!isImageManifestMediaType(descriptor.mediaType))
        throw new KdeliverError(
          'input',
          'MANIFEST_UNSUPPORTED',
          `${source} lists ${descriptor.digest} of type ${descriptor.mediaType}; only image manifests are supported inside an index.`,
          {
            hint: 'Select platforms with --platform to leave such entries out.',
          },
        );
      const bytes = await fetchManifest(descriptor);
      verifyBytes(bytes, descriptor, where);
      const manifest = parseImageManifest(bytes, where);
      return { descriptor, bytes, config: manifest.config, layers: manifest.layers };
    }),
  );
  const filtered = chosen.length < index.manifests.length;
  // Rewriting changes the digest, so the source's bytes are kept whenever nothing was dropped.
  const bytes = filtered ? Buffer.from(JSON.stringify({ ...index, manifests: chosen })) : root.bytes;
  const descriptor = filtered
    ? { mediaType: root.descriptor.mediaType, digest: sha256Digest(bytes), size: bytes.length }
    : root.descriptor;
  const resolvedIndex: ResolvedIndex = { descriptor, bytes, filtered, sourceDigest: root.descriptor.digest };
  return {
    source,
    root: descriptor,
    index: resolvedIndex,
    manifests,
    blobs: [...orderBlobs(manifests), descriptor],
  };
}

/** Layers and configs first, then the manifests that reference them; each blob once. */
function orderBlobs(manifests: ResolvedManifest[]): Descriptor[] {
  const seen = new Set<string>();
  const blobs: Descriptor[] = [];
  const add = (descriptor: Descriptor) => {
    if (seen.has(descriptor.digest)) return;
    seen.add(descriptor.digest);
    blobs.push(descriptor);
  };
  for (const manifest of manifests) [...manifest.layers, manifest.config].forEach(add);
  for (const manifest of manifests) add(manifest.descriptor);
  return blobs;
}
