/**
 * Images in a `docker save` tarball (`docker-archive:PATH[:NAME:TAG]`): manifest.json
 * lists each image's config file and layer tars. The image is presented as an OCI image
 * manifest over the archive's own bytes: the config unchanged, each layer as stored
 * (`tar`, or `tar+gzip` when it starts with the gzip magic). Nothing is recompressed, so
 * layer digests equal the diff IDs of uncompressed layers. Layers are hashed once when
 * resolving, then streamed straight from their place in the tarball.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { KdeliverError, messageOf } from '../../errors.ts';
import { DigestVerifier, sha256Digest } from './digest.ts';
import type { ImageSource, ResolvedImage, ResolveOptions } from './image-source.ts';
import { MEDIA_TYPES, type Descriptor } from './media-types.ts';
import { parseReference } from './reference.ts';
import type { Progress } from './registry-client.ts';
import { documentStream } from './registry-source.ts';
import { resolveSingleImage } from './resolve.ts';
import { indexTar, type TarEntry } from './tar-index.ts';

interface ArchiveImage {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

export class DockerArchiveSource implements ImageSource {
  readonly name: string;
  readonly #path: string;
  readonly #reference: string | undefined;
  readonly #documents = new Map<string, Buffer>();
  /** Where each layer's bytes lie in the tarball, by digest. */
  readonly #layers = new Map<string, TarEntry>();

  constructor(path: string, reference?: string) {
    this.#path = path;
    this.#reference = reference;
    this.name = `docker-archive:${path}${reference ? `:${reference}` : ''}`;
  }

  /** A docker-archive image has one platform, so platform selection does not apply. */
  async resolve(_options: ResolveOptions = {}): Promise<ResolvedImage> {
    const entries = await indexTar(this.#path).catch((error: unknown) => {
      throw this.#invalid(`cannot read it as a tar file: ${messageOf(error)}`);
    });
    const file = (name: string) => {
      const entry = entries.get(name);
      if (!entry) throw this.#invalid(`it lacks ${name}`);
      return entry;
    };
    let images: ArchiveImage[];
    try {
      images = JSON.parse((await this.#read(file('manifest.json'))).toString('utf8')) as ArchiveImage[];
    } catch (error) {
      throw error instanceof KdeliverError
        ? error
        : this.#invalid(`manifest.json is not valid JSON: ${messageOf(error)}`);
    }
    if (
      !Array.isArray(images) ||
      images.some((image) => typeof image.Config !== 'string' || !Array.isArray(image.Layers))
    )
      throw this.#invalid('manifest.json is not a list of images with Config and Layers');
    const image = this.#select(images);
    const config = await this.#read(file(image.Config));
    const layers: Descriptor[] = [];
    for (const name of image.Layers) {
      const entry = file(name);
      const layer = await this.#describeLayer(entry);
      this.#layers.set(layer.digest, entry);
      layers.push(layer);
    }
    const configDescriptor = {
      mediaType: MEDIA_TYPES.ociConfig,
      digest: sha256Digest(config),
      size: config.length,
    };
    this.#documents.set(configDescriptor.digest, config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        config: configDescriptor,
        layers,
      }),
    );
    const descriptor = {
      mediaType: MEDIA_TYPES.ociManifest,
      digest: sha256Digest(manifest),
      size: manifest.length,
    };
    this.#documents.set(descriptor.digest, manifest);
    const resolved = resolveSingleImage(this.name, { descriptor, bytes: manifest });
    const name = this.#reference ?? image.RepoTags?.[0];
    return name === undefined ? resolved : { ...resolved, name };
  }

  async openBlob(descriptor: Descriptor, progress?: Progress): Promise<Readable> {
    const document = this.#documents.get(descriptor.digest);
    if (document) return documentStream(document, progress);
    const entry = this.#layers.get(descriptor.digest);
    if (!entry)
      throw new KdeliverError(
        'internal',
        'BLOB_NOT_IN_ARCHIVE',
        `${this.name} has no blob ${descriptor.digest}; resolve() must come first.`,
      );
    const stream = createReadStream(this.#path, { start: entry.offset, end: entry.offset + entry.size - 1 });
    return pipeline(
      stream,
      new DigestVerifier(descriptor, `${this.name} layer ${descriptor.digest}`, progress),
      () => {},
    );
  }

  async close(): Promise<void> {}

  #select(images: ArchiveImage[]): ArchiveImage {
    const tags = images.flatMap((image) => image.RepoTags ?? []);
    if (this.#reference !== undefined) {
      const wanted = parseReference(this.#reference);
      const image = images.find((candidate) =>
        (candidate.RepoTags ?? []).some((tag) => {
          const parsed = parseReference(tag);
          return (
            parsed.registry === wanted.registry &&
            parsed.repository === wanted.repository &&
            (parsed.tag ?? 'latest') === (wanted.tag ?? 'latest')
          );
        }),
      );
      if (image) return image;
      throw new KdeliverError(
        'input',
        'IMAGE_NOT_FOUND',
        `${this.#path} has no image tagged ${this.#reference}.`,
        {
          hint: `It has: ${tags.join(', ') || 'no tagged images'}.`,
        },
      );
    }
    if (images.length === 1) return images[0]!;
    throw new KdeliverError(
      'input',
      'IMAGE_AMBIGUOUS',
      `${this.#path} holds ${images.length} images; say which one.`,
      {
        hint: `Write docker-archive:${this.#path}:NAME:TAG with one of: ${tags.join(', ') || '(none are tagged)'}.`,
      },
    );
  }

  async #read(entry: TarEntry): Promise<Buffer> {
    const handle = await open(this.#path, 'r');
    try {
      const bytes = Buffer.alloc(entry.size);
      await handle.read(bytes, 0, entry.size, entry.offset);
      return bytes;
    } finally {
      await handle.close();
    }
  }

  async #describeLayer(entry: TarEntry): Promise<Descriptor> {
    const hash = createHash('sha256');
    let head: Buffer | undefined;
    if (entry.size > 0) {
      for await (const chunk of createReadStream(this.#path, {
        start: entry.offset,
        end: entry.offset + entry.size - 1,
      })) {
        head ??= chunk as Buffer;
        hash.update(chunk as Buffer);
      }
    }
    const gzip = head !== undefined && head[0] === 0x1f && head[1] === 0x8b;
    return {
      mediaType: gzip ? MEDIA_TYPES.ociLayerGzip : MEDIA_TYPES.ociLayer,
      digest: `sha256:${hash.digest('hex')}`,
      size: entry.size,
    };
  }

  #invalid(why: string): KdeliverError {
    return new KdeliverError(
      'input',
      'DOCKER_ARCHIVE_INVALID',
      `${this.#path} is not a usable docker-archive: ${why}.`,
      {
        hint: 'Give a tarball written by `docker save` or `skopeo copy … docker-archive:PATH`.',
      },
    );
  }
}
