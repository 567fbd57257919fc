/**
 * What `build` reads images from and `install` writes them to. Registries and local
 * image layouts and archives all resolve to the same ResolvedImage.
 */
import type { Readable } from 'node:stream';
import type { BlobOpener } from './digest.ts';
import type { Descriptor, Platform } from './media-types.ts';
import type { Progress } from './registry-client.ts';

export interface ResolvedManifest {
  /** The image manifest; carries the platform when it came from an index. */
  descriptor: Descriptor;
  bytes: Buffer;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ResolvedIndex {
  descriptor: Descriptor;
  bytes: Buffer;
  /** True when platform selection dropped entries, so the digest differs from the source's. */
  filtered: boolean;
  /** The digest of the index as the source has it. */
  sourceDigest: string;
}

export interface ResolvedImage {
  /** The source as the user named it, for messages. */
  source: string;
  /**
   * The name a local source stores the image under: an OCI layout's ref.name annotation, a
   * docker-archive's repository tag. Registries name images by the reference itself.
   */
  name?: string;
  /** The top-level document: the index when there is one, else the one image manifest. */
  root: Descriptor;
  index?: ResolvedIndex;
  manifests: ResolvedManifest[];
  /** Every blob to fetch, each once: layers and configs, then image manifests, then the index. */
  blobs: Descriptor[];
}

export interface ResolveOptions {
  /** Platforms to keep from an index; all when undefined or empty. */
  platforms?: Platform[];
}

export interface ImageSource {
  /** The source as the user named it. */
  readonly name: string;
  resolve(options?: ResolveOptions): Promise<ResolvedImage>;
  /**
   * Streams any blob of the resolved image (manifests and a filtered index included);
   * the stream errors when the content does not match the descriptor.
   */
  openBlob(descriptor: Descriptor, progress?: Progress): Promise<Readable>;
  close(): Promise<void>;
}

/** A repository to push to. */
export interface ImageSink {
  readonly name: string;
  hasBlob(descriptor: Descriptor): Promise<boolean>;
  /** `open` gives the content from an offset: called again to resume an upload cut off midway. */
  pushBlob(open: BlobOpener, descriptor: Descriptor, progress?: Progress): Promise<void>;
  /** Links a blob from another repository of the same registry; false when the registry would not. */
  mountBlob(descriptor: Descriptor, fromRepository: string): Promise<boolean>;
  /** Stores a manifest or index under a tag or its digest; returns the digest. */
  putManifest(bytes: Buffer, mediaType: string, reference: string): Promise<string>;
  close(): Promise<void>;
}
