/**
 * Copies a resolved image from a source to a sink: blobs in parallel (bounded by
 * p-limit), skipping those the sink has and mounting from a sibling repository where
 * possible; then image manifests by digest, then the root under its tag.
 */
import pLimit from 'p-limit';
import { skipBytes } from './chunks.ts';
import type { ImageSink, ImageSource, ResolvedImage } from './image-source.ts';
import type { Descriptor } from './media-types.ts';

export interface CopyOptions {
  /** Tag for the root; it is stored by digest only when undefined. */
  tag?: string;
  /** Parallel blob transfers. */
  concurrency?: number;
  /** A repository of the sink's registry that may hold the blobs already. */
  mountFrom?: string;
  /** Bytes transferred for one blob so far. */
  progress?: (descriptor: Descriptor, bytes: number) => void;
}

export interface CopyResult {
  digest: string;
  pushed: number;
  mounted: number;
  skipped: number;
}

export async function copyImage(
  source: ImageSource,
  sink: ImageSink,
  image: ResolvedImage,
  options: CopyOptions = {},
): Promise<CopyResult> {
  const limit = pLimit(options.concurrency ?? 4);
  const documents = new Set([image.root.digest, ...image.manifests.map((m) => m.descriptor.digest)]);
  const result: CopyResult = { digest: image.root.digest, pushed: 0, mounted: 0, skipped: 0 };
  const blobs = image.blobs.filter((blob) => !documents.has(blob.digest));
  await Promise.all(
    blobs.map((blob) =>
      limit(async () => {
        if (await sink.hasBlob(blob)) {
          result.skipped++;
          return;
        }
        if (options.mountFrom && (await sink.mountBlob(blob, options.mountFrom))) {
          result.mounted++;
          return;
        }
        const open = async (offset: number) => skipBytes(await source.openBlob(blob), offset);
        await sink.pushBlob(open, blob, (bytes) => options.progress?.(blob, bytes));
        result.pushed++;
      }),
    ),
  );
  // Children before the index that names them: registries may refuse an index with unknown manifests.
  for (const manifest of image.manifests)
    if (manifest.descriptor.digest !== image.root.digest)
      await sink.putManifest(manifest.bytes, manifest.descriptor.mediaType, manifest.descriptor.digest);
  const root = image.index?.bytes ?? image.manifests[0]!.bytes;
  await sink.putManifest(root, image.root.mediaType, options.tag ?? image.root.digest);
  return result;
}
