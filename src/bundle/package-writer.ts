/**
 * Writes a package in one streaming pass (docs/package-format.md). Everything the
 * manifest lists is known before the first byte is written — specs and the catalog are
 * small and built in memory, blob digests and sizes come from their descriptors — and
 * every blob body is checked against its descriptor while it is copied in.
 */
import { createHash, type Hash } from 'node:crypto';
import { KdeliverError, messageOf } from '../errors.ts';
import { createCatalog, type CatalogStack } from '../state/catalog.ts';
import { KDELIVER_VERSION } from '../version.ts';
import type { ImageBlobSource, PackageBlob, PackageImage } from './blob-source.ts';
import { compress, type Compression, type TarSection } from './compression.ts';
import {
  blobEntryName,
  CATALOG_ENTRY,
  isSafeEntryName,
  KONFIG_FORMAT_VERSION,
  STORED_FRAMES_FORMAT_VERSION,
  type FormatVersion,
  LAYOUT_INDEX_ENTRY,
  LAYOUT_MARKER_ENTRY,
  MANIFEST_ENTRY,
  REF_NAME_ANNOTATION,
  serializeManifest,
  SIGNATURE_ENTRY,
  SIGSTORE_ENTRY,
  sourceEntryName,
  SPECS_DIR,
  type KonfigManifestStack,
  type PackageRequirements,
  type ManifestEntry,
  type ManifestImage,
  type ManifestStack,
  type PackageManifest,
} from './format.ts';
import { keyFingerprint, signBytes, type PackageSigner } from './keys.ts';
import { writePackageFiles } from './parts.ts';
import { createSigstoreBundle } from './sigstore.ts';
import { BLOCK_SIZE, encodeHeader, paddingSize } from './tar-header.ts';

/** A small file the package holds under a directory of its own (specs/, sources/). */
export interface PackageFile {
  /** Path under that directory, e.g. `shop/spec.yaml`. */
  path: string;
  content: string | Uint8Array;
}

/** What the package says about a stack compiled from a Konfig stack directory. */
export interface KonfigStackFiles extends Omit<KonfigManifestStack, 'resources'> {
  /** Every file the stack compiles from, by path relative to the `kcl.mod` root. */
  sources: PackageFile[];
}

export interface WritePackageOptions {
  name: string;
  version: string;
  /** Recorded as the build time; take it from SOURCE_DATE_EPOCH to keep builds reproducible. */
  created: Date;
  stacks: CatalogStack[];
  specs: PackageFile[];
  /** The stacks among `stacks` that were compiled from Konfig stack directories. */
  konfigStacks?: KonfigStackFiles[];
  images: ImageBlobSource;
  compression: Compression;
  /** Tar bytes per zstd frame; tests that need several frames set it small. */
  zstdFrameBytes?: number;
  /** Bytes per part; undefined writes one file. */
  splitSize?: number;
  /** Null writes an unsigned package, which every consumer refuses unless told to skip verification. */
  signer: PackageSigner | null;
  requires?: PackageRequirements;
}

export interface WrittenPackage {
  files: string[];
  manifest: PackageManifest;
  /** Bytes written, over all parts. */
  size: number;
  /** `sha256:<hex>` of the written bytes, parts concatenated: what `sha256sum` gives for the file. */
  digest: string;
}

const BLOB_ORDER: Record<PackageBlob['role'], number> = { layer: 0, config: 0, manifest: 1, index: 2 };

/** An entry whose body is already in memory. */
interface SmallEntry {
  path: string;
  body: Buffer;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function inputError(code: string, message: string, hint: string): KdeliverError {
  return new KdeliverError('input', code, message, { hint });
}

/** Every distinct blob of every image, in the order an installer can push them in. */
function orderBlobs(images: readonly PackageImage[]): PackageBlob[] {
  const byDigest = new Map<string, PackageBlob>();
  for (const image of images) {
    for (const blob of image.blobs) {
      if (!/^sha256:[0-9a-f]{64}$/.test(blob.digest) || !Number.isSafeInteger(blob.size) || blob.size < 0)
        throw inputError(
          'IMAGE_BLOB_INVALID',
          `image ${image.reference} has a malformed blob descriptor ${blob.digest}`,
          'Check the image source.',
        );
      const known = byDigest.get(blob.digest);
      if (known && (known.size !== blob.size || BLOB_ORDER[known.role] !== BLOB_ORDER[blob.role]))
        throw inputError(
          'IMAGE_BLOB_CONFLICT',
          `blob ${blob.digest} is described twice with different sizes or roles`,
          'Check the image source.',
        );
      byDigest.set(blob.digest, blob);
    }
  }
  // Compressed layers after the other layers and configs: zstd stores them, and kept together
  // they are one run of stored frames between two runs of compressed ones.
  const stored = (blob: PackageBlob) => (isCompressedLayer(blob) ? 1 : 0);
  return [...byDigest.values()].sort(
    (a, b) =>
      BLOB_ORDER[a.role] - BLOB_ORDER[b.role] || stored(a) - stored(b) || compareStrings(a.digest, b.digest),
  );
}

/** The lowest format version that has what the package uses. */
function formatVersionOf(options: WritePackageOptions, blobs: readonly PackageBlob[]): FormatVersion {
  if (options.compression === 'zstd' && blobs.some(isCompressedLayer)) return STORED_FRAMES_FORMAT_VERSION;
  return (options.konfigStacks?.length ?? 0) > 0 || options.requires ? KONFIG_FORMAT_VERSION : 1;
}

/** A layer in gzip or zstd (OCI or Docker media type): compressing it again gains nothing. */
function isCompressedLayer(blob: PackageBlob): boolean {
  return blob.role === 'layer' && /(\+gzip|\+zstd|\.tar\.gzip)$/.test(blob.mediaType);
}

function describeImages(images: readonly PackageImage[]): { manifestImages: ManifestImage[]; index: Buffer } {
  const described = [...images]
    .sort((a, b) => compareStrings(a.reference, b.reference))
    .map((image) => {
      const top = image.blobs.find((blob) => blob.digest === image.digest);
      if (!top || (top.role !== 'manifest' && top.role !== 'index'))
        throw inputError(
          'IMAGE_BLOB_INVALID',
          `image ${image.reference} does not list its own manifest ${image.digest} among its blobs`,
          'Check the image source.',
        );
      return { image, top };
    });
  const manifestImages = described.map(({ image, top }) => ({
    reference: image.reference,
    digest: image.digest,
    mediaType: top.mediaType,
    platforms: image.platforms,
    size: [...new Map(image.blobs.map((blob) => [blob.digest, blob.size])).values()].reduce(
      (sum, n) => sum + n,
      0,
    ),
  }));
  const duplicate = manifestImages.find((image, i) => manifestImages[i + 1]?.reference === image.reference);
  if (duplicate)
    throw inputError(
      'IMAGE_DUPLICATE',
      `image ${duplicate.reference} is listed twice`,
      'List each image reference once.',
    );
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: described.map(({ image, top }) => ({
      mediaType: top.mediaType,
      digest: image.digest,
      size: top.size,
      annotations: { [REF_NAME_ANNOTATION]: image.reference },
    })),
  };
  return { manifestImages, index: Buffer.from(`${JSON.stringify(index, null, 2)}\n`) };
}

/** Small entries sorted by name; `what` names them in errors (`SPEC`, `SOURCE`). */
function sortedEntries(files: PackageFile[], what: string): SmallEntry[] {
  const entries = files
    .map((file) => ({ path: file.path, body: Buffer.from(file.content) }))
    .sort((a, b) => compareStrings(a.path, b.path));
  entries.forEach((entry, i) => {
    if (!isSafeEntryName(entry.path))
      throw inputError(
        `${what}_PATH_INVALID`,
        `${what.toLowerCase()} path ${entry.path} is not a safe relative path`,
        'Use plain relative paths without `..`, leading dots or odd characters, at most 255 bytes long.',
      );
    if (entries[i + 1]?.path === entry.path)
      throw inputError(
        `${what}_PATH_DUPLICATE`,
        `${what.toLowerCase()} path ${entry.path} is given twice`,
        'Give every file a distinct path.',
      );
  });
  return entries;
}

function manifestStacks(
  stacks: readonly CatalogStack[],
  konfigStacks: readonly KonfigStackFiles[],
): (ManifestStack | KonfigManifestStack)[] {
  const konfig = new Map(konfigStacks.map((stack) => [stack.name, stack]));
  return stacks
    .map((stack) => {
      const plain = { name: stack.name, resources: stack.resources.length };
      const compiled = konfig.get(stack.name);
      if (!compiled) return plain;
      const { project, path, variables, options } = compiled;
      return { ...plain, project, path, variables, options };
    })
    .sort((a, b) => compareStrings(a.name, b.name));
}

/** Hashes and counts a stream as it passes, so the file's digest costs no second read. */
async function* measured(
  stream: AsyncIterable<Buffer>,
  totals: { size: number; hash: Hash },
): AsyncGenerator<Buffer> {
  for await (const chunk of stream) {
    totals.size += chunk.length;
    totals.hash.update(chunk);
    yield chunk;
  }
}

function* smallEntry(entry: SmallEntry): Generator<Buffer> {
  yield encodeHeader(entry.path, entry.body.length);
  yield entry.body;
  yield Buffer.alloc(paddingSize(entry.body.length));
}

/** Copies one blob into the tar stream, refusing a body that does not match its descriptor. */
async function* blobEntry(source: ImageBlobSource, blob: PackageBlob): AsyncGenerator<Buffer> {
  yield encodeHeader(blobEntryName(blob.digest), blob.size);
  const hash = createHash('sha256');
  let copied = 0;
  for await (const chunk of await source.openBlob(blob)) {
    copied += chunk.length;
    if (copied > blob.size) break;
    hash.update(chunk);
    yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
  const digest = `sha256:${hash.digest('hex')}`;
  if (copied !== blob.size || digest !== blob.digest) {
    throw new KdeliverError(
      'verification',
      'IMAGE_BLOB_MISMATCH',
      `blob ${blob.digest} does not match its descriptor: got ${copied > blob.size ? `more than ${blob.size}` : copied} bytes${copied === blob.size ? ` with digest ${digest}` : ''}, expected ${blob.size}`,
      { hint: 'The registry served different content than it described; pull the image again.' },
    );
  }
  yield Buffer.alloc(paddingSize(blob.size));
}

export async function writePackage(output: string, options: WritePackageOptions): Promise<WrittenPackage> {
  const blobs = orderBlobs(options.images.images);
  const { manifestImages, index } = describeImages(options.images.images);
  const catalog = Buffer.from(await createCatalog(options.stacks, manifestImages));
  const konfigStacks = options.konfigStacks ?? [];
  const small: SmallEntry[] = [
    ...sortedEntries(
      options.specs.map((spec) => ({ ...spec, path: `${SPECS_DIR}${spec.path}` })),
      'SPEC',
    ),
    ...sortedEntries(
      konfigStacks.flatMap((stack) =>
        stack.sources.map((file) => ({ ...file, path: sourceEntryName(stack.name, file.path) })),
      ),
      'SOURCE',
    ),
    { path: CATALOG_ENTRY, body: catalog },
    { path: LAYOUT_MARKER_ENTRY, body: Buffer.from('{"imageLayoutVersion":"1.0.0"}\n') },
    { path: LAYOUT_INDEX_ENTRY, body: index },
  ];
  const entries: ManifestEntry[] = [
    ...small.map((entry) => ({ path: entry.path, size: entry.body.length, sha256: sha256(entry.body) })),
    ...blobs.map((blob) => ({
      path: blobEntryName(blob.digest),
      size: blob.size,
      sha256: blob.digest.slice('sha256:'.length),
    })),
  ];
  const manifest: PackageManifest = {
    formatVersion: formatVersionOf(options, blobs),
    name: options.name,
    version: options.version,
    created: options.created.toISOString(),
    builder: { name: 'kdeliver', version: KDELIVER_VERSION },
    signer: options.signer ? { keyFingerprint: keyFingerprint(options.signer.publicKey) } : null,
    ...(options.requires ? { requires: options.requires } : {}),
    stacks: manifestStacks(options.stacks, konfigStacks),
    images: manifestImages,
    entries,
  };
  const manifestBytes = serializeManifest(manifest);
  const signed: SmallEntry[] = [{ path: MANIFEST_ENTRY, body: manifestBytes }];
  if (options.signer) {
    const signature = signBytes(options.signer, manifestBytes);
    signed.push(
      { path: SIGNATURE_ENTRY, body: Buffer.from(`${signature.toString('base64')}\n`) },
      {
        path: SIGSTORE_ENTRY,
        body: createSigstoreBundle(manifestBytes, signature, options.signer.publicKey),
      },
    );
  }

  async function* smallEntries(): AsyncGenerator<Buffer> {
    for (const entry of [...signed, ...small]) yield* smallEntry(entry);
  }
  async function* endOfArchive(): AsyncGenerator<Buffer> {
    yield Buffer.alloc(2 * BLOCK_SIZE);
  }
  async function* tarSections(): AsyncGenerator<TarSection> {
    yield { chunks: smallEntries() };
    for (const blob of blobs)
      yield {
        chunks: blobEntry(options.images, blob),
        ...(isCompressedLayer(blob) ? { storedSize: BLOCK_SIZE + blob.size + paddingSize(blob.size) } : {}),
      };
    yield { chunks: endOfArchive() };
  }

  let files: string[];
  const written = { size: 0, hash: createHash('sha256') };
  try {
    files = await writePackageFiles(
      measured(compress(options.compression, tarSections(), options.zstdFrameBytes), written),
      output,
      options.splitSize,
    );
  } catch (error) {
    if (error instanceof KdeliverError) throw error;
    throw new KdeliverError(
      'operation',
      'PACKAGE_WRITE_FAILED',
      `cannot write package ${output}: ${messageOf(error)}`,
      {
        hint: 'Check free space and permissions where the package is written.',
        cause: error,
      },
    );
  }
  return { files, manifest, size: written.size, digest: `sha256:${written.hash.digest('hex')}` };
}
