/**
 * Images in an OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`),
 * as skopeo and other tools write with `oci:PATH[:TAG]`. The tag is the
 * `org.opencontainers.image.ref.name` annotation of an index.json entry.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { KdeliverError, messageOf } from '../../errors.ts';
import { DigestVerifier, verifyBytes } from './digest.ts';
import type { ImageSource, ResolvedImage, ResolveOptions } from './image-source.ts';
import type { Descriptor } from './media-types.ts';
import type { Progress } from './registry-client.ts';
import { documentStream } from './registry-source.ts';
import { parseImageIndex, resolveImage } from './resolve.ts';

const REF_NAME = 'org.opencontainers.image.ref.name';

export class OciLayoutSource implements ImageSource {
  readonly name: string;
  readonly #dir: string;
  readonly #tag: string | undefined;
  readonly #documents = new Map<string, Buffer>();

  constructor(dir: string, tag?: string) {
    this.#dir = dir;
    this.#tag = tag;
    this.name = `oci:${dir}${tag ? `:${tag}` : ''}`;
  }

  async resolve(options: ResolveOptions = {}): Promise<ResolvedImage> {
    const layout = await this.#readJson('oci-layout');
    if ((layout as { imageLayoutVersion?: unknown }).imageLayoutVersion !== '1.0.0')
      throw this.#invalid('oci-layout does not declare imageLayoutVersion 1.0.0');
    const index = parseImageIndex(
      Buffer.from(JSON.stringify(await this.#readJson('index.json'))),
      `${this.name} index.json`,
    );
    const entry = this.#select(index.manifests);
    const root = { descriptor: entry, bytes: await this.#readDocument(entry) };
    const resolved = await resolveImage(
      this.name,
      root,
      (descriptor) => this.#readDocument(descriptor),
      options.platforms,
    );
    if (resolved.index) this.#documents.set(resolved.index.descriptor.digest, resolved.index.bytes);
    const name = entry.annotations?.[REF_NAME];
    return name === undefined ? resolved : { ...resolved, name };
  }

  async openBlob(descriptor: Descriptor, progress?: Progress): Promise<Readable> {
    const document = this.#documents.get(descriptor.digest);
    if (document) return documentStream(document, progress);
    const file = createReadStream(this.#blobPath(descriptor));
    await new Promise<void>((resolve, reject) =>
      file.once('open', () => resolve()).once('error', reject),
    ).catch((error: unknown) => {
      throw this.#missing(descriptor, error);
    });
    const where = `${this.name} blob ${descriptor.digest}`;
    return pipeline(file, new DigestVerifier(descriptor, where, progress), () => {});
  }

  async close(): Promise<void> {}

  #select(entries: Descriptor[]): Descriptor {
    const tags = entries.flatMap((entry) =>
      entry.annotations?.[REF_NAME] ? [entry.annotations[REF_NAME]] : [],
    );
    if (this.#tag !== undefined) {
      const entry = entries.find((candidate) => candidate.annotations?.[REF_NAME] === this.#tag);
      if (entry) return entry;
      throw new KdeliverError(
        'input',
        'IMAGE_NOT_FOUND',
        `The OCI layout ${this.#dir} has no image tagged "${this.#tag}".`,
        {
          hint: `It has: ${tags.join(', ') || 'no tagged images'}.`,
        },
      );
    }
    if (entries.length === 1) return entries[0]!;
    throw new KdeliverError(
      'input',
      'IMAGE_AMBIGUOUS',
      `The OCI layout ${this.#dir} holds ${entries.length} images; say which one.`,
      {
        hint: `Write oci:${this.#dir}:TAG with one of: ${tags.join(', ') || '(none are tagged)'}.`,
      },
    );
  }

  #blobPath(descriptor: Descriptor): string {
    const [algorithm, hex] = descriptor.digest.split(':');
    return join(this.#dir, 'blobs', algorithm!, hex!);
  }

  async #readDocument(descriptor: Descriptor): Promise<Buffer> {
    const bytes = await readFile(this.#blobPath(descriptor)).catch((error: unknown) => {
      throw this.#missing(descriptor, error);
    });
    verifyBytes(bytes, descriptor, `${this.name} blob ${descriptor.digest}`);
    this.#documents.set(descriptor.digest, bytes);
    return bytes;
  }

  async #readJson(name: string): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(join(this.#dir, name), 'utf8');
    } catch (error) {
      throw this.#invalid(`cannot read ${name}: ${messageOf(error)}`);
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw this.#invalid(`${name} is not valid JSON: ${messageOf(error)}`);
    }
  }

  #invalid(why: string): KdeliverError {
    return new KdeliverError(
      'input',
      'OCI_LAYOUT_INVALID',
      `${this.#dir} is not a usable OCI image layout: ${why}.`,
      {
        hint: 'Point oci: at a directory written by an OCI tool, e.g. `skopeo copy docker://IMAGE oci:DIR:TAG`.',
      },
    );
  }

  #missing(descriptor: Descriptor, error: unknown): KdeliverError {
    return new KdeliverError(
      'input',
      'OCI_LAYOUT_BLOB_MISSING',
      `The OCI layout ${this.#dir} lacks blob ${descriptor.digest}: ${messageOf(error)}.`,
      {
        hint: 'The layout is incomplete; copy the image into it again.',
        cause: error,
      },
    );
  }
}
