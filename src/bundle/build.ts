/**
 * `kdeliver build`: specs and the images their workloads run become one signed package.
 * Specs are validated first, then every image is resolved to a digest (tags are looked up
 * once, here), then the package is written in one streaming pass that pulls each blob
 * from its registry straight into the compressed file.
 */
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { isKdeliverError, KdeliverError } from '../errors.ts';
import type { KonfigStack } from '../kcl/project/stack.ts';
import { formatBytes, formatTransfer } from '../ui/bytes.ts';
import { progressIntervalMs, runTasks, type OutputMode } from '../ui/progress.ts';
import { loadSpecs, type LoadedSpecs, type SpecInput } from './build-specs.ts';
import type { Compression } from './compression.ts';
import type { ManifestImage, PackageManifest, PackageRequirements } from './format.ts';
import { imageBlobSource, packageImage, type SourcedImage } from './image-blob-source.ts';
import type { PackageSigner } from './keys.ts';
import type { CompiledKonfigStack } from './konfig-stacks.ts';
import type { ImageSource, ResolvedImage } from './oci/image-source.ts';
import type { Platform } from './oci/media-types.ts';
import { openImageSource } from './oci/open-source.ts';
import { writePackage, type WrittenPackage } from './package-writer.ts';
import { sourceRegistrySettings, type SourceRegistryOptions } from './source-registries.ts';
import {
  findImages,
  isLocalImageSource,
  localImageReference,
  type ImageUse,
  type WorkloadImage,
} from './workload-images.ts';

/** Image lookups in flight at once; each is a few small manifest requests. */
const RESOLVE_CONCURRENCY = 8;

export interface BuildOptions {
  /** Konfig stack directories, each compiled into one stack. */
  stackDirs?: readonly string[];
  /** `-D key=value` options for every Konfig stack, over the stack's own settings. */
  defines?: readonly string[];
  specs: readonly SpecInput[];
  /**
   * Defaults to the Konfig project's name when every stack comes from one project, else
   * to the stack's name when there is one stack.
   */
  name?: string;
  /** Defaults to `0.0.0-<build time>`. */
  version?: string;
  /**
   * Images to deliver besides those the specs run: registry references, or local sources
   * (`oci:PATH[:NAME]`, `docker-archive:PATH[:NAME:TAG]`) delivered under the name they
   * store the image under, which also stand in for a spec image of that name.
   */
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
  /** What the site must run, recorded in the manifest and checked by the install's preflight. */
  requires?: PackageRequirements;
}

export interface BuiltImage extends ManifestImage {
  /** The index digest in the source registry, when platform selection rewrote the index. */
  sourceDigest?: string;
  /** The local source the image was read from, as given with --image. */
  source?: string;
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
  stacks: PackageManifest['stacks'];
  images: BuiltImage[];
  seconds: number;
}

interface BuildContext {
  konfigStacks?: CompiledKonfigStack[];
  specs?: LoadedSpecs;
  wanted?: WorkloadImage[];
  images: SourcedImage[];
  sourceDigests: Map<string, string>;
  /** Local --image sources by the reference they deliver. */
  localSources: Map<string, string>;
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

/** Something to build, and `-D` only with Konfig stacks to apply it to. */
export function checkBuildInputs(options: Pick<BuildOptions, 'stackDirs' | 'defines' | 'specs'>): void {
  const stackDirs = options.stackDirs ?? [];
  if (stackDirs.length === 0 && options.specs.length === 0)
    throw new KdeliverError('usage', 'BUILD_INPUT_MISSING', 'build needs something to package', {
      hint: 'Give Konfig stack directories (kdeliver build appops/shop/prod) and/or --spec FILE.',
    });
  if (stackDirs.length === 0 && (options.defines ?? []).length > 0)
    throw new KdeliverError(
      'usage',
      'BUILD_OPTION_UNUSED',
      '-D sets options of Konfig stacks, and none is given',
      {
        hint: 'Give the Konfig stack directories the options are for, or drop -D.',
      },
    );
}

function packageName(options: BuildOptions, konfigStacks: readonly KonfigStack[]): string {
  if (options.name !== undefined) return options.name;
  const projects = new Set(konfigStacks.map((stack) => stack.project.name));
  const [project] = projects;
  if (project !== undefined && projects.size === 1 && options.specs.length === 0) return project;
  const stacks = [...konfigStacks.map((stack) => stack.name), ...options.specs.map((spec) => spec.stack)];
  if (stacks.length === 1) return stacks[0]!;
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
  const stackDirs = options.stackDirs ?? [];
  // Only Konfig stacks need the KCL compiler and the spec model it validates with.
  const konfig = stackDirs.length > 0 ? await import('./konfig-stacks.ts') : undefined;
  const konfigStacks = konfig?.loadKonfigStacks(stackDirs) ?? [];
  const name = packageName(options, konfigStacks);
  const version = options.version ?? defaultVersion(options.created);
  const output = options.output ?? `${name}-${version}${EXTENSIONS[options.compression]}`;
  const sources: ImageSource[] = [];
  const specsTitle = konfigStacks.length > 0 ? 'Compile and validate specs' : 'Load and validate specs';
  const localImages = (options.images ?? []).filter(isLocalImageSource);
  const registryImages = (options.images ?? []).filter((image) => !isLocalImageSource(image));
  const platforms = options.platforms ?? [];
  const progressInterval = progressIntervalMs();
  let context: BuildContext;
  try {
    context = await runTasks<BuildContext>(
      [
        {
          title: specsTitle,
          task: async (ctx, task) => {
            ctx.konfigStacks = konfig?.compileKonfigStacks(konfigStacks, options.defines ?? []) ?? [];
            ctx.specs = await loadSpecs(options.specs, ctx.konfigStacks);
            ctx.wanted = findImages(ctx.specs.resources, registryImages);
            const resources = ctx.specs.stacks.reduce((sum, stack) => sum + stack.resources.length, 0);
            task.title = `${specsTitle}: stacks ${ctx.specs.stacks.length}, resources ${resources}, images ${ctx.wanted.length}`;
          },
        },
        {
          title: 'Read local images',
          enabled: localImages.length > 0,
          task: async (ctx, task) => {
            for (const given of localImages) {
              const source = await openImageSource(given);
              sources.push(source);
              const resolved = await source.resolve({ platforms: [...platforms] });
              const reference = localImageReference(given, resolved.name);
              const other = ctx.localSources.get(reference);
              if (other !== undefined)
                throw new KdeliverError(
                  'usage',
                  'IMAGE_DUPLICATE',
                  `${other} and ${given} are both ${reference}`,
                  {
                    hint: 'Give each image once.',
                  },
                );
              ctx.localSources.set(reference, given);
              ctx.images.push({ image: await packageImage(reference, source, resolved), source });
              if (resolved.index?.filtered) ctx.sourceDigests.set(reference, resolved.index.sourceDigest);
              task.output = `${given} → ${reference}@${resolved.root.digest}`;
            }
          },
        },
        {
          title: 'Resolve images',
          skip: (ctx) => ctx.wanted!.every((image) => ctx.localSources.has(image.reference)) && 'no images',
          task: (ctx, task) => {
            // An image the specs run that a local source provides is not looked up.
            const wanted = ctx.wanted!.filter((image) => !ctx.localSources.has(image.reference));
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
                    resolved = await source.resolve({ platforms: [...platforms] });
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
              konfigStacks: ctx.konfigStacks,
              images,
              compression: options.compression,
              splitSize: options.splitSize,
              signer: options.signer,
              requires: options.requires,
            });
            const seconds = (performance.now() - writeStarted) / 1000;
            task.title = `Wrote ${output}: ${formatBytes(ctx.written.size)} in ${seconds.toFixed(1)}s (${formatBytes(total / seconds)}/s of image data)`;
          },
        },
      ],
      mode,
      { images: [], sourceDigests: new Map(), localSources: new Map() },
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
      const source = context.localSources.get(image.reference);
      return { ...image, ...(sourceDigest && { sourceDigest }), ...(source && { source }) };
    }),
    seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
  };
}

async function fileSizes(files: readonly string[]): Promise<number[]> {
  return Promise.all(files.map(async (file) => (await stat(file)).size));
}
