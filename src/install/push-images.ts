/**
 * Pushes the images of a package to the site registry in one streaming pass over it:
 * each blob entry, as it arrives in package order, is skipped when every repository that
 * needs it has it, else uploaded once (straight from the package stream) and mounted into
 * the other repositories; manifests and indexes, which come after their blobs, are put by
 * digest, and each image's root again under its original tag.
 *
 * What the registry has is asked first, several requests at a time: when every image's
 * root is already there under its tag (or digest), there is nothing to push and the
 * package is not read again. A registry stores a manifest only once it has every blob and
 * manifest it references, so a root that is there means the whole image is.
 */
import { Readable } from 'node:stream';
import { KdeliverError } from '../errors.ts';
import { BLOBS_DIR } from '../bundle/format.ts';
import { openPackage, type OpenPackageOptions, type PackageEntry } from '../bundle/package-reader.ts';
import type { Descriptor } from '../bundle/oci/media-types.ts';
import type { RegistryClient } from '../bundle/oci/registry-client.ts';
import type { PushPlan } from './push-plan.ts';

export interface PushedImage {
  reference: string;
  /** `<site-registry>/<repository>@<digest>` */
  siteReference: string;
  tag: string | undefined;
}

export interface PushSummary {
  images: PushedImage[];
  blobs: { pushed: number; mounted: number; skipped: number };
  manifests: number;
  /** Blob bytes uploaded, and blob bytes the registry had already. */
  bytes: { pushed: number; skipped: number };
  seconds: number;
}

/** Registry requests at once while finding out what the site already has. */
const CHECK_CONCURRENCY = 8;

/** Bytes of the package's blobs dealt with so far, out of all of them; never decreases. */
export type PushProgress = (done: number, total: number) => void;

/** The package lists no media type for a blob, and uploads do not need one: digest and size are checked. */
function blobDescriptor(entry: PackageEntry): Descriptor {
  return { mediaType: 'application/octet-stream', digest: entry.digest, size: entry.size };
}

async function readAll(entry: PackageEntry): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry.stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Whether every image's root is in its repository under its tag, or its digest when it has no tag. */
async function imagesPresent(plan: PushPlan, client: RegistryClient): Promise<boolean> {
  const present = await mapLimit(
    plan.images,
    CHECK_CONCURRENCY,
    async (image) =>
      (await client.headManifest(image.repository, image.tag ?? image.digest))?.digest === image.digest,
  );
  return present.every(Boolean);
}

/** Which repositories already have each blob (manifests excluded: they are put either way). */
async function blobsPresent(plan: PushPlan, client: RegistryClient): Promise<Map<string, boolean[]>> {
  const checks = [...plan.repositories]
    .filter(([digest]) => !plan.manifestTypes.has(digest))
    .flatMap(([digest, repositories]) => repositories.map((repository) => ({ digest, repository })));
  const found = await mapLimit(checks, CHECK_CONCURRENCY, ({ digest, repository }) =>
    client.hasBlob(repository, digest),
  );
  const present = new Map<string, boolean[]>();
  checks.forEach(({ digest }, i) => present.set(digest, [...(present.get(digest) ?? []), found[i]!]));
  return present;
}

export async function pushImages(
  path: string,
  options: OpenPackageOptions & { expectedManifest: Buffer },
  plan: PushPlan,
  client: RegistryClient,
  onProgress: PushProgress = () => {},
): Promise<PushSummary> {
  const started = performance.now();
  const opened = await openPackage(path, options);
  if (!opened.manifestBytes.equals(options.expectedManifest)) {
    await opened.close();
    throw new KdeliverError(
      'verification',
      'PACKAGE_CHANGED',
      `${path} changed while it was being installed`,
      {
        hint: 'Leave the package file alone during the install, then run it again.',
      },
    );
  }
  const sizes = new Map(opened.manifest.entries.map((entry) => [`sha256:${entry.sha256}`, entry.size]));
  const total = [...plan.repositories.keys()].reduce((sum, digest) => sum + (sizes.get(digest) ?? 0), 0);
  const summary: PushSummary = {
    images: [],
    blobs: { pushed: 0, mounted: 0, skipped: 0 },
    manifests: 0,
    bytes: { pushed: 0, skipped: 0 },
    seconds: 0,
  };
  const siteImage = (image: PushPlan['images'][number]): PushedImage => ({
    reference: image.reference,
    siteReference: `${client.registry}/${image.repository}@${image.digest}`,
    tag: image.tag,
  });
  let present: Map<string, boolean[]>;
  try {
    if (await imagesPresent(plan, client)) {
      for (const [digest] of plan.repositories) {
        if (plan.manifestTypes.has(digest)) continue;
        summary.blobs.skipped++;
        summary.bytes.skipped += sizes.get(digest) ?? 0;
      }
      summary.images = plan.images.map(siteImage).sort((a, b) => (a.reference < b.reference ? -1 : 1));
      onProgress(total, total);
      summary.seconds = (performance.now() - started) / 1000;
      await opened.close();
      return summary;
    }
    present = await blobsPresent(plan, client);
  } catch (error) {
    await opened.close();
    throw error;
  }
  let done = 0;
  const advance = (bytes: number) => {
    done += bytes;
    onProgress(done, total);
  };

  async function pushBlob(entry: PackageEntry, repositories: string[]): Promise<void> {
    const descriptor = blobDescriptor(entry);
    const there = present.get(entry.digest) ?? [];
    const missing = repositories.filter((_, i) => !there[i]);
    let from = repositories.find((_, i) => there[i]);
    if (from === undefined) {
      from = missing.shift()!;
      await client.pushBlob(from, Readable.from(entry.stream), descriptor, (bytes) =>
        onProgress(done + bytes, total),
      );
      summary.blobs.pushed++;
      summary.bytes.pushed += entry.size;
    } else {
      summary.blobs.skipped++;
      summary.bytes.skipped += entry.size;
    }
    for (const repository of missing) {
      if (!(await client.mountBlob(repository, descriptor, from)))
        throw new KdeliverError(
          'operation',
          'REGISTRY_MOUNT_REFUSED',
          `registry ${client.registry} would not mount ${entry.digest} from ${from} into ${repository}`,
          { hint: 'Use a registry that supports cross-repository blob mounts (OCI distribution).' },
        );
      summary.blobs.mounted++;
    }
    advance(entry.size);
  }

  async function putDocument(entry: PackageEntry, repositories: string[], mediaType: string): Promise<void> {
    const bytes = await readAll(entry);
    for (const repository of repositories)
      await client.putManifest(repository, entry.digest, bytes, mediaType);
    summary.manifests += repositories.length;
    for (const image of plan.images.filter((candidate) => candidate.digest === entry.digest)) {
      if (image.tag !== undefined) await client.putManifest(image.repository, image.tag, bytes, mediaType);
      summary.images.push(siteImage(image));
    }
    advance(entry.size);
  }

  for await (const entry of opened.entries()) {
    if (!entry.name.startsWith(BLOBS_DIR)) continue;
    const repositories = plan.repositories.get(entry.digest);
    if (!repositories) continue;
    const mediaType = plan.manifestTypes.get(entry.digest);
    if (mediaType === undefined) await pushBlob(entry, repositories);
    else await putDocument(entry, repositories, mediaType);
  }
  summary.images.sort((a, b) => (a.reference < b.reference ? -1 : 1));
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}
