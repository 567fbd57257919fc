/**
 * The install's verification pass: the whole package is read and checked (signature, then
 * every entry) before anything on the site changes, and on the way it keeps the specs and
 * the image manifests and indexes. The manifests say which blobs each image needs, which
 * kdeliver.json does not, so this pass is also what lets the push pass map every blob to
 * its repositories before the blob arrives.
 *
 * The images come last in a package. When the site registry already holds every image
 * by the digest the signed manifest names (a second install, an upgrade that changed
 * only specs), the image entries would never be used, so the pass stops before them:
 * what is installed is then exactly what the signature covers, without reading
 * gigabytes again.
 */
import { KdeliverError } from '../errors.ts';
import {
  BLOBS_DIR,
  isKonfigStack,
  LAYOUT_DIR,
  sourceOfEntry,
  SPECS_DIR,
  type KonfigManifestStack,
  type PackageManifest,
} from '../bundle/format.ts';
import type { FrameStart } from '../bundle/compression.ts';
import { openPackage, type OpenPackageOptions, type PackageEntry } from '../bundle/package-reader.ts';

/** Manifests and indexes are at most this big (the distribution specification's limit). */
const DOCUMENT_LIMIT = 4 * 1024 * 1024;
const OPENING_BRACE = 0x7b;

export interface PackageSpec {
  stack: string;
  /** The entry name, e.g. `specs/shop/spec.yaml`. */
  path: string;
  text: string;
}

/** A stack built from a Konfig stack directory: what the site needs to compile it with its own values. */
export interface PackageKonfigStack extends KonfigManifestStack {
  /** The texts the stack compiles from, by path relative to the `kcl.mod` root (`kcl.mod`, `shop/dev/main.k`, …). */
  sources: Map<string, string>;
}

export interface CheckedPackage {
  files: string[];
  manifest: PackageManifest;
  /** The signed bytes of kdeliver.json: the push pass checks it reads the same package. */
  manifestBytes: Buffer;
  verifiedKey: string | null;
  specs: PackageSpec[];
  /** The stacks among `specs` that were compiled from Konfig stacks, in manifest order. */
  konfigStacks: PackageKonfigStack[];
  /** Every blob that is a JSON object (manifests, indexes, configs), by digest. */
  documents: Map<string, Buffer>;
  /** Bytes of entries read and checked. */
  bytes: number;
  /** The image entries were not read: the site registry has every image (see CheckOptions.imagesOnSite). */
  imagesOnSite: boolean;
  /** Where the zstd frames start, and every entry's header: lets a later pass begin in the middle. */
  frames: FrameStart[];
  entryOffsets: Map<string, number>;
}

export interface CheckOptions {
  /**
   * Asked once, when the images are next: whether the site registry already has every
   * image of the manifest by its digest. True ends the pass there.
   */
  imagesOnSite?: (manifest: PackageManifest) => Promise<boolean>;
  /** Stops the pass before the next entry, with the signal's reason. */
  signal?: AbortSignal;
}

async function readAll(entry: PackageEntry): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry.stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The body of a blob that is a JSON object; undefined (after its first chunk) for layers and the like. */
async function readDocument(entry: PackageEntry): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry.stream) {
    if (chunks.length === 0 && chunk[0] !== OPENING_BRACE) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function specStack(path: string): string {
  const stack = path.slice(SPECS_DIR.length).split('/')[0];
  if (!stack || !path.slice(SPECS_DIR.length).includes('/'))
    throw new KdeliverError('verification', 'PACKAGE_SPEC_MISPLACED', `spec entry ${path} names no stack`, {
      hint: 'The package was not written by kdeliver build; build it again.',
    });
  return stack;
}

/** Reads and checks every entry of the package; throws a verification error (exit 4) on any fault. */
export async function checkPackage(
  path: string,
  options: OpenPackageOptions,
  { imagesOnSite, signal }: CheckOptions = {},
): Promise<CheckedPackage> {
  const opened = await openPackage(path, options);
  const specs: PackageSpec[] = [];
  // The manifest lists a source only under a Konfig stack's name (parseManifest checks).
  const sources = new Map(
    opened.manifest.stacks.filter(isKonfigStack).map((stack) => [stack.name, new Map<string, string>()]),
  );
  const documents = new Map<string, Buffer>();
  const entryOffsets = new Map<string, number>();
  let bytes = 0;
  let skippedImages = false;
  for await (const entry of opened.entries()) {
    signal?.throwIfAborted();
    if (imagesOnSite && entry.name.startsWith(LAYOUT_DIR)) {
      skippedImages = await imagesOnSite(opened.manifest);
      if (skippedImages) break;
      imagesOnSite = undefined; // asked once
    }
    bytes += entry.size;
    entryOffsets.set(entry.name, entry.offset);
    const source = sourceOfEntry(entry.name);
    if (entry.name.startsWith(SPECS_DIR)) {
      specs.push({
        stack: specStack(entry.name),
        path: entry.name,
        text: (await readAll(entry)).toString('utf8'),
      });
    } else if (source) {
      sources.get(source.stack)!.set(source.path, (await readAll(entry)).toString('utf8'));
    } else if (entry.name.startsWith(BLOBS_DIR) && entry.size <= DOCUMENT_LIMIT) {
      const document = await readDocument(entry);
      if (document) documents.set(entry.digest, document);
    }
    // Other entries are drained (and checked) by the reader when the next one is asked for.
  }
  return {
    files: opened.files,
    manifest: opened.manifest,
    manifestBytes: opened.manifestBytes,
    verifiedKey: opened.verifiedKey,
    specs,
    konfigStacks: opened.manifest.stacks
      .filter(isKonfigStack)
      .map((stack) => ({ ...stack, sources: sources.get(stack.name)! })),
    documents,
    bytes,
    imagesOnSite: skippedImages,
    frames: opened.frames,
    entryOffsets,
  };
}
