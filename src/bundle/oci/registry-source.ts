/** Images read from a registry, and the repository an image is pushed to. */
import { Readable } from 'node:stream';
import type { BlobOpener } from './digest.ts';
import type { ImageSink, ImageSource, ResolvedImage, ResolveOptions } from './image-source.ts';
import type { Descriptor } from './media-types.ts';
import { formatReference, manifestReference, type ImageReference } from './reference.ts';
import type { Progress, RegistryClient } from './registry-client.ts';
import { resolveImage } from './resolve.ts';

/** Serves documents already in memory (manifests, a rewritten index) as blobs. */
export function documentStream(bytes: Buffer, progress?: Progress): Readable {
  progress?.(bytes.length);
  return Readable.from([bytes]);
}

export class RegistrySource implements ImageSource {
  readonly name: string;
  readonly #client: RegistryClient;
  readonly #reference: ImageReference;
  /** Manifests fetched while resolving, and a filtered index that exists only here. */
  readonly #documents = new Map<string, Buffer>();

  /** The client must be for the reference's registry; close() closes it. */
  constructor(client: RegistryClient, reference: ImageReference) {
    this.#client = client;
    this.#reference = reference;
    this.name = formatReference(reference);
  }

  async resolve(options: ResolveOptions = {}): Promise<ResolvedImage> {
    const repository = this.#reference.repository;
    const root = await this.#client.getManifest(repository, manifestReference(this.#reference));
    const fetchManifest = async (descriptor: Descriptor) =>
      (await this.#client.getManifest(repository, descriptor.digest)).bytes;
    const resolved = await resolveImage(this.name, root, fetchManifest, options.platforms);
    this.#documents.set(root.descriptor.digest, root.bytes);
    for (const manifest of resolved.manifests)
      this.#documents.set(manifest.descriptor.digest, manifest.bytes);
    if (resolved.index) this.#documents.set(resolved.index.descriptor.digest, resolved.index.bytes);
    return resolved;
  }

  async openBlob(descriptor: Descriptor, progress?: Progress): Promise<Readable> {
    const document = this.#documents.get(descriptor.digest);
    if (document) return documentStream(document, progress);
    return this.#client.openBlob(this.#reference.repository, descriptor, progress);
  }

  async close(): Promise<void> {
    this.#client.close();
  }
}

export class RegistrySink implements ImageSink {
  readonly name: string;
  readonly #client: RegistryClient;
  readonly #repository: string;

  /** The client must be for the registry of `repository`; close() closes it. */
  constructor(client: RegistryClient, repository: string) {
    this.#client = client;
    this.#repository = repository;
    this.name = `${client.registry}/${repository}`;
  }

  hasBlob(descriptor: Descriptor): Promise<boolean> {
    return this.#client.hasBlob(this.#repository, descriptor.digest);
  }

  pushBlob(open: BlobOpener, descriptor: Descriptor, progress?: Progress): Promise<void> {
    return this.#client.pushBlob(this.#repository, open, descriptor, progress);
  }

  mountBlob(descriptor: Descriptor, fromRepository: string): Promise<boolean> {
    return this.#client.mountBlob(this.#repository, descriptor, fromRepository);
  }

  putManifest(bytes: Buffer, mediaType: string, reference: string): Promise<string> {
    return this.#client.putManifest(this.#repository, reference, bytes, mediaType);
  }

  async close(): Promise<void> {
    this.#client.close();
  }
}
