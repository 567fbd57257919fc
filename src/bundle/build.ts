/**
 * `kdeliver build`: specs and the images their workloads run become one signed package.
 * Specs are validated first, then every image is resolved to a digest (tags are looked up
 * once, here), then the package is written in one streaming pass that pulls each blob
 * from its registry straight into the compressed file.
 */
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { isKdeliverError, KdeliverError } from '../errors.ts';
import { formatBytes, formatTransfer } from '../ui/bytes.ts';
import { progressIntervalMs, runTasks, type OutputMode } from '../ui/progress.ts';
import { loadSpecs, type LoadedSpecs, type SpecInput } from './build-specs.ts';
import type { Compression } from './compression.ts';
import type { ManifestImage } from './format.ts';
import { imageBlobSource, packageImage, type SourcedImage } from './image-blob-source.ts';
import type { PackageSigner } from './keys.ts';
import type { ImageSource, ResolvedImage } from './oci/image-source.ts';
import type { Platform } from './oci/media-types.ts';
import { openImageSource } from './oci/open-source.ts';
import { writePackage, type WrittenPackage } from './package-writer.ts';
import { sourceRegistrySettings, type SourceRegistryOptions } from './source-registries.ts';
import { findImages, type ImageUse, type WorkloadImage } from './workload-images.ts';

/** Image lookups in flight at once; each is a few small manifest requests. */
const RESOLVE_CONCURRENCY = 8;

export interface BuildOptions {
  specs: readonly SpecInput[];
  /** Defaults to the stack's name when there is one stack. */
  name?: string;
  /** Defaults to `0.0.0-<build time>`. */
  version?: string;
  /** Images to deliver besides those the specs run. */
  images?: readonly string[];
  /** Platforms to keep from multi-platform images; all when empty. */
  platforms?: readonly Platform[];
  signer: PackageSigner | null;
  compression: Compression;
  splitSize?: number;
  /** Defaults to `<name>-<version>.tar.zst` (or .tar.gz, .tar). */
  output?: string;
  registries: SourceRegistryOptions;
  created: Date;
}

export interface BuiltImage extends ManifestImage {
  /** The index digest in the source registry, when platform selection rewrote the index. */
  sourceDigest?: string;
}

export interface BuildResult {
  name: string;
  version: string;
  created: string;
  /** The package file, or its parts in order, with their sizes. */
  files: { path: string; size: number }[];
  size: number;
  /** sha256 of the package bytes (the parts concatenated). */
  digest: string;
  signer: string | null;
  stacks: { name: string; resources: number }[];
  images: BuiltImage[];
  seconds: number;
}

interface BuildContext {
  specs?: LoadedSpecs;
  wanted?: WorkloadImage[];
  images: SourcedImage[];
  sourceDigests: Map<string, string>;
  written?: WrittenPackage;
}

const EXTENSIONS: Record<Compression, string> = { zstd: '.tar.zst', gzip: '.tar.gz', none: '.tar' };

/** The build time: SOURCE_DATE_EPOCH (seconds) when set, so that rebuilds give the same bytes. */
export function buildTime(env: NodeJS.ProcessEnv = process.env, now: () => Date = () => new Date()): Date {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch === undefined || epoch === '') return now();
  if (!/^\d+$/.test(epoch) || !Number.isSafeInteger(Number(epoch) * 1000))
    throw new KdeliverError(
      'usage',
      'SOURCE_DATE_EPOCH_INVALID',
      `SOURCE_DATE_EPOCH is ${JSON.stringify(epoch)}, not a number of seconds`,
      {
        hint: 'Set it to a Unix time in seconds, e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct), or unset it.',
      },
    );
  return new Date(Number(epoch) * 1000);
}

function packageName(options: BuildOptions): string {
  if (options.name !== undefined) return options.name;
  const [only, ...others] = options.specs;
  if (only && others.length === 0) return only.stack;
  throw new KdeliverError('usage', 'PACKAGE_NAME_REQUIRED', 'several stacks need a package name', {
    hint: 'Name the package with --name.',
  });
}

function defaultVersion(created: Date): string {
  return `0.0.0-${created
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replace(/\D/g, '')}`;
}

/** Adds which resources use an image to an error about it, so the user knows which spec to fix. */
function withUses(error: unknown, uses: readonly ImageUse[]): unknown {
  const [first] = uses;
  if (!isKdeliverError(error) || !first) return error;
  const more = uses.length > 1 ? ` and ${uses.length - 1} more` : '';
  return new KdeliverError(
    error.kind,
    error.code,
    `${error.message} (used by stack ${first.stack}, resource ${first.resourceId}${more})`,
    { hint: error.hint, cause: error },
  );
}

/** Distinct blob bytes over all images: what the write step transfers. */
function blobBytes(images: readonly SourcedImage[]): number {
  const sizes = new Map(images.flatMap(({ image }) => image.blobs.map((blob) => [blob.digest, blob.size])));
  return [...sizes.values()].reduce((sum, size) => sum + size, 0);
}

export async function buildPackage(options: BuildOptions, mode: OutputMode): Promise<BuildResult> {
  const started = performance.now();
  const name = packageName(options);
  const version = options.version ?? defaultVersion(options.created);
  const output = options.output ?? `${name}-${version}${EXTENSIONS[options.compression]}`;
  const sources: ImageSource[] = [];
  const progressInterval = progressIntervalMs();
  let context: BuildContext;
  try {
    context = await runTasks<BuildContext>(
      [
        {
          title: 'Load and validate specs',
          task: async (ctx, task) => {
            ctx.specs = await loadSpecs(options.specs);
            ctx.wanted = findImages(ctx.specs.resources, options.images);
            const resources = ctx.specs.stacks.reduce((sum, stack) => sum + stack.resources.length, 0);
            task.title = `Load and validate specs: stacks ${ctx.specs.stacks.length}, resources ${resources}, images ${ctx.wanted.length}`;
          },
        },
        {
          title: 'Resolve images',
          skip: (ctx) => ctx.wanted?.length === 0 && 'no images',
          task: (ctx, task) => {
            const wanted = ctx.wanted!;
            const settings = sourceRegistrySettings(
              wanted.map((image) => image.reference),
              options.registries,
            );
            return task.newListr(
              wanted.map(({ reference, uses }) => ({
                title: reference,
                task: async (_c, subtask) => {
                  const source = await openImageSource(reference, settings);
                  sources.push(source);
                  let resolved: ResolvedImage;
                  try {
                    resolved = await source.resolve({ platforms: [...(options.platforms ?? [])] });
                    ctx.images.push({ image: await packageImage(reference, source, resolved), source });
                  } catch (error) {
                    throw withUses(error, uses);
                  }
                  if (resolved.index?.filtered) ctx.sourceDigests.set(reference, resolved.index.sourceDigest);
                  subtask.title = `${reference} → ${resolved.root.digest}`;
                },
              })),
              { concurrent: RESOLVE_CONCURRENCY, exitOnError: true },
            );
          },
        },
        {
          title: `Write ${output}`,
          task: async (ctx, task) => {
            // Resolution finishes in any order; the package does not depend on it.
            ctx.images.sort((a, b) => (a.image.reference < b.image.reference ? -1 : 1));
            const total = blobBytes(ctx.images);
            const writeStarted = performance.now();
            let done = 0;
            // The first line comes after one interval, when the rate means something.
            let shownAt = writeStarted;
            const images = imageBlobSource(ctx.images, (bytes) => {
              done += bytes;
              const now = performance.now();
              if (now - shownAt < progressInterval) return;
              shownAt = now;
              task.output = formatTransfer(done, total, (now - writeStarted) / 1000);
            });
            ctx.written = await writePackage(output, {
              name,
              version,
              created: options.created,
              stacks: ctx.specs!.stacks,
              specs: ctx.specs!.specs,
              images,
              compression: options.compression,
              splitSize: options.splitSize,
              signer: options.signer,
            });
            const seconds = (performance.now() - writeStarted) / 1000;
            task.title = `Wrote ${output}: ${formatBytes(ctx.written.size)} in ${seconds.toFixed(1)}s (${formatBytes(total / seconds)}/s of image data)`;
          },
        },
      ],
      mode,
      { images: [], sourceDigests: new Map() },
    );
  } finally {
    await Promise.all(sources.map((source) => source.close()));
  }
  const written = context.written!;
  const { manifest } = written;
  const sizes = await fileSizes(written.files);
  return {
    name,
    version,
    created: manifest.created,
    files: written.files.map((path, i) => ({ path, size: sizes[i]! })),
    size: written.size,
    digest: written.digest,
    signer: manifest.signer?.keyFingerprint ?? null,
    stacks: manifest.stacks,
    images: manifest.images.map((image) => {
      const sourceDigest = context.sourceDigests.get(image.reference);
      return sourceDigest ? { ...image, sourceDigest } : image;
    }),
    seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
  };
}

async function fileSizes(files: readonly string[]): Promise<number[]> {
  return Promise.all(files.map(async (file) => (await stat(file)).size));
}
