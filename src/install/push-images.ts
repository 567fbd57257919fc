/**
 * Pushes the images of a verified package to the site registry, straight from the
 * package file (nothing is extracted to disk).
 *
 * Whether there is anything to push is asked before, during verification
 * (`imagesPresent`): when every image's root is already there under its tag (or digest),
 * the caller pushes nothing (`presentSummary`). A registry stores a manifest only once it
 * has every blob and manifest it references, so a root that is there means the whole
 * image is.
 *
 * Otherwise, what the registry has is asked blob by blob, several requests at a time. Each
 * blob no repository has is uploaded once and mounted into the other
 * repositories that need it; a blob some repository has is only mounted. Uploads run in
 * lanes: the blobs to upload, in package order, are cut into runs of about equal size,
 * and each lane reads the package from the zstd frame before its run (or from the start)
 * to the end of its run, skipping what is not its own, so no lane reads further than it
 * must. Image manifests and indexes, which the verification pass kept in memory, are put
 * last: children by digest, roots under their tags.
 */
import pLimit from 'p-limit';
import { KdeliverError } from '../errors.ts';
import { BLOBS_DIR, type PackageManifest } from '../bundle/format.ts';
import {
  openPackage,
  openPackageAt,
  type OpenPackageOptions,
  type PackageEntry,
  type PackageSeek,
} from '../bundle/package-reader.ts';
import { skipBytes } from '../bundle/oci/chunks.ts';
import { isIndexMediaType, type Descriptor } from '../bundle/oci/media-types.ts';
import type { RegistryClient } from '../bundle/oci/registry-client.ts';
import type { ImageTarget, PushPlan } from './push-plan.ts';
import type { CheckedPackage } from './read-package.ts';

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
  /** Whether the image entries of the package were read; not when the registry had every image. */
  imagesRead: boolean;
  seconds: number;
}

/** The verified package the images come from. */
export interface PushSource {
  path: string;
  open: OpenPackageOptions;
  /**
   * The signed manifest as verified: a pass from the start checks it reads the same package;
   * a pass from a later frame checks each entry against `manifest`.
   */
  manifestBytes: Buffer;
  manifest: PackageManifest;
  /** What the verification pass learnt about where things are, so a lane can begin in the middle. */
  layout?: Pick<CheckedPackage, 'frames' | 'entryOffsets'>;
}

/** Registry requests at once while finding out what the site already has, and for manifests. */
const REQUEST_CONCURRENCY = 8;
/**
 * Uploads at once. Each lane reads the package up to the end of its run. With a registry that
 * syncs every blob to disk (docker-registry's filesystem driver), three keep it busy while one
 * waits on its disk: a 2 GB push on loopback took 10.1–11.1 s with three, 10.7–12.5 s with two.
 */
const UPLOAD_LANES = 3;

/** Bytes of the package's blobs dealt with so far, out of all of them; never decreases. */
export type PushProgress = (done: number, total: number) => void;

/** A blob nobody at the site has: uploaded into the first repository, mounted into the rest. */
interface Upload {
  name: string;
  descriptor: Descriptor;
  repositories: string[];
}

/** The package lists no media type for a blob, and uploads do not need one: digest and size are checked. */
function blobDescriptor(digest: string, size: number): Descriptor {
  return { mediaType: 'application/octet-stream', digest, size };
}

/** Cuts `uploads` (in package order) into at most `count` runs of about equal bytes. */
export function lanesOf(uploads: readonly Upload[], count: number): Upload[][] {
  const total = uploads.reduce((sum, upload) => sum + upload.descriptor.size, 0);
  const lanes: Upload[][] = [];
  let lane: Upload[] = [];
  let filled = 0;
  for (const upload of uploads) {
    lane.push(upload);
    filled += upload.descriptor.size;
    if (filled >= (total * (lanes.length + 1)) / count && lanes.length < count - 1) {
      lanes.push(lane);
      lane = [];
    }
  }
  if (lane.length > 0) lanes.push(lane);
  return lanes;
}

function packageChanged(path: string): KdeliverError {
  return new KdeliverError(
    'verification',
    'PACKAGE_CHANGED',
    `${path} changed while it was being installed`,
    {
      hint: 'Leave the package file alone during the install, then run it again.',
    },
  );
}

/** The package opened again for a pass over its entries; refuses a file that is no longer the verified one. */
async function reopen(source: PushSource): Promise<AsyncGenerator<PackageEntry>> {
  const opened = await openPackage(source.path, source.open);
  if (!opened.manifestBytes.equals(source.manifestBytes)) {
    await opened.close();
    throw packageChanged(source.path);
  }
  return opened.entries();
}

/**
 * Where to begin reading for the entry `name`: the last zstd frame that starts before its
 * header, when there is one after the start of the package.
 */
function seekTo({ layout, manifest }: PushSource, name: string): PackageSeek | undefined {
  const entryOffset = layout?.entryOffsets.get(name);
  if (!layout || entryOffset === undefined) return undefined;
  const frame = layout.frames.findLast((start) => start.uncompressed <= entryOffset);
  if (!frame || frame.uncompressed === 0) return undefined;
  return { frame, entry: manifest.entries.findIndex((entry) => entry.path === name), entryOffset };
}

/** A pass over the package's entries that reaches `name` soon: from a frame near it, else from the start. */
async function passTo(source: PushSource, name: string): Promise<AsyncGenerator<PackageEntry>> {
  const seek = seekTo(source, name);
  return seek ? openPackageAt(source.path, source.manifest, seek) : reopen(source);
}

/** The body of one entry from `offset` on, read from a fresh pass over the package (to resume an upload). */
async function* entryFrom(source: PushSource, name: string, offset: number): AsyncGenerator<Buffer> {
  for await (const entry of await passTo(source, name)) {
    if (entry.name !== name) {
      await entry.skip();
      continue;
    }
    yield* skipBytes(entry.unchecked(), offset);
    return;
  }
}

/** The stream, ending with the signal's reason once it is aborted (which cancels an upload reading it). */
async function* abortable(
  stream: AsyncIterable<Buffer>,
  signal: AbortSignal | undefined,
): AsyncGenerator<Buffer> {
  for await (const chunk of stream) {
    signal?.throwIfAborted();
    yield chunk;
  }
}

/** Whether every image's root is in its repository under its tag, or its digest when it has no tag. */
export async function imagesPresent(
  images: readonly ImageTarget[],
  client: RegistryClient,
): Promise<boolean> {
  const present = await pLimit(REQUEST_CONCURRENCY).map(
    images,
    async (image) =>
      (await client.headManifest(image.repository, image.tag ?? image.digest))?.digest === image.digest,
  );
  return present.every(Boolean);
}

/** Which repositories already have each blob (manifests excluded: they are put either way). */
async function blobsPresent(plan: PushPlan, client: RegistryClient): Promise<Map<string, boolean[]>> {
  const checks = [...plan.repositories]
    .filter(([digest]) => !plan.manifests.has(digest))
    .flatMap(([digest, repositories]) => repositories.map((repository) => ({ digest, repository })));
  const found = await pLimit(REQUEST_CONCURRENCY).map(checks, ({ digest, repository }) =>
    client.hasBlob(repository, digest),
  );
  const present = new Map<string, boolean[]>();
  checks.forEach(({ digest }, i) => present.set(digest, [...(present.get(digest) ?? []), found[i]!]));
  return present;
}

export interface PushOptions {
  onProgress?: PushProgress;
  /** Uploads at once (default UPLOAD_LANES). */
  lanes?: number;
  /** Stops the push (uploads under way are cancelled) with the signal's reason. */
  signal?: AbortSignal;
}

export async function pushImages(
  source: PushSource,
  plan: PushPlan,
  client: RegistryClient,
  { onProgress = () => {}, lanes = UPLOAD_LANES, signal }: PushOptions = {},
): Promise<PushSummary> {
  const started = performance.now();
  const blobEntries = source.manifest.entries.filter((entry) => entry.path.startsWith(BLOBS_DIR));
  const sizes = new Map(blobEntries.map((entry) => [`sha256:${entry.sha256}`, entry.size]));
  const total = [...plan.repositories.keys()].reduce((sum, digest) => sum + (sizes.get(digest) ?? 0), 0);
  const summary: PushSummary = {
    images: siteImages(plan.images, client.registry),
    blobs: { pushed: 0, mounted: 0, skipped: 0 },
    manifests: 0,
    bytes: { pushed: 0, skipped: 0 },
    imagesRead: true,
    seconds: 0,
  };

  // Progress: bytes finished, plus what each running upload has sent.
  let done = 0;
  const sending = new Map<string, number>();
  const report = () => onProgress(done + [...sending.values()].reduce((sum, bytes) => sum + bytes, 0), total);

  async function mountAll(descriptor: Descriptor, from: string, repositories: string[]): Promise<void> {
    for (const repository of repositories) {
      if (!(await client.mountBlob(repository, descriptor, from)))
        throw new KdeliverError(
          'operation',
          'REGISTRY_MOUNT_REFUSED',
          `registry ${client.registry} would not mount ${descriptor.digest} from ${from} into ${repository}`,
          { hint: 'Use a registry that supports cross-repository blob mounts (OCI distribution).' },
        );
      summary.blobs.mounted++;
    }
  }

  const present = await blobsPresent(plan, client);
  const uploads: Upload[] = [];
  const mounts: { descriptor: Descriptor; from: string; missing: string[] }[] = [];
  for (const entry of blobEntries) {
    const digest = `sha256:${entry.sha256}`;
    const repositories = plan.repositories.get(digest);
    if (!repositories || plan.manifests.has(digest)) continue;
    const descriptor = blobDescriptor(digest, entry.size);
    const there = present.get(digest) ?? [];
    const from = repositories.find((_, i) => there[i]);
    if (from === undefined) {
      uploads.push({ name: entry.path, descriptor, repositories });
      continue;
    }
    summary.blobs.skipped++;
    summary.bytes.skipped += entry.size;
    mounts.push({ descriptor, from, missing: repositories.filter((_, i) => !there[i]) });
  }

  // Once one worker fails the others stop after their current blob.
  let failed = false;
  const stopOthersOnFailure = (work: Promise<unknown>) =>
    work.catch((error: unknown) => {
      failed = true;
      throw error;
    });
  async function pushLane(lane: Upload[]): Promise<void> {
    const mine = new Map(lane.map((upload) => [upload.name, upload]));
    for await (const entry of await passTo(source, lane[0]!.name)) {
      if (failed) return;
      signal?.throwIfAborted();
      const upload = mine.get(entry.name);
      if (!upload) {
        await entry.skip();
        continue;
      }
      const [first, ...rest] = upload.repositories;
      // The first pass reads the entry as it streams by; a resumed or restarted upload reads the package again.
      let live = true;
      const open = (offset: number) => {
        if (!live) return abortable(entryFrom(source, entry.name, offset), signal);
        live = false;
        return abortable(skipBytes(entry.unchecked(), offset), signal);
      };
      await client.pushBlob(first!, open, upload.descriptor, (bytes) => {
        sending.set(entry.name, bytes);
        report();
      });
      summary.blobs.pushed++;
      summary.bytes.pushed += entry.size;
      await mountAll(upload.descriptor, first!, rest);
      sending.delete(entry.name);
      done += entry.size;
      report();
      mine.delete(entry.name);
      if (mine.size === 0) return; // leaves the rest of the package unread
    }
  }

  const settled = await Promise.allSettled(
    [
      ...lanesOf(uploads, lanes).map(pushLane),
      pLimit(REQUEST_CONCURRENCY).map(mounts, async ({ descriptor, from, missing }) => {
        if (failed) return;
        signal?.throwIfAborted();
        await mountAll(descriptor, from, missing);
        done += descriptor.size;
        report();
      }),
    ].map(stopOthersOnFailure),
  );
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;

  // Children before the indexes that name them: a registry refuses an index with unknown manifests.
  const manifests = [...plan.manifests];
  for (const isIndex of [false, true]) {
    const puts = manifests
      .filter(([, manifest]) => isIndexMediaType(manifest.mediaType) === isIndex)
      .flatMap(([digest, manifest]) =>
        plan.repositories.get(digest)!.flatMap((repository) => {
          // A root goes up under its tags (which stores it by digest too), anything else by digest.
          const tags = plan.images
            .filter((image) => image.digest === digest && image.repository === repository && image.tag)
            .map((image) => image.tag!);
          return (tags.length > 0 ? tags : [digest]).map((reference) => ({
            repository,
            reference,
            manifest,
          }));
        }),
      );
    await pLimit(REQUEST_CONCURRENCY).map(puts, async ({ repository, reference, manifest }) => {
      await client.putManifest(repository, reference, manifest.bytes, manifest.mediaType);
      summary.manifests++;
    });
  }
  for (const [digest] of manifests) done += sizes.get(digest) ?? 0;
  report();
  return { ...summary, seconds: (performance.now() - started) / 1000 };
}

function siteImages(images: readonly ImageTarget[], registry: string): PushedImage[] {
  return images
    .map((image) => ({
      reference: image.reference,
      siteReference: `${registry}/${image.repository}@${image.digest}`,
      tag: image.tag,
    }))
    .sort((a, b) => (a.reference < b.reference ? -1 : 1));
}

/** The push of a package whose images the registry has already: every blob of the package skipped. */
export function presentSummary(
  images: readonly ImageTarget[],
  manifest: PackageManifest,
  registry: string,
): PushSummary {
  const blobs = manifest.entries.filter((entry) => entry.path.startsWith(BLOBS_DIR));
  return {
    images: siteImages(images, registry),
    blobs: { pushed: 0, mounted: 0, skipped: blobs.length },
    manifests: 0,
    bytes: { pushed: 0, skipped: blobs.reduce((sum, entry) => sum + entry.size, 0) },
    imagesRead: false,
    seconds: 0,
  };
}
