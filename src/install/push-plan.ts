/**
 * Which repositories of the site registry each blob of a package goes to. An image keeps
 * its repository path (`registry.example/shop/web:1.0` → `<site>/shop/web`); a blob that
 * several images share goes to each of their repositories. Derived from the image
 * manifests and indexes the verification pass kept, since kdeliver.json lists only roots.
 */
import { KdeliverError } from '../errors.ts';
import type { ManifestImage } from '../bundle/format.ts';
import { isIndexMediaType, type Descriptor } from '../bundle/oci/media-types.ts';
import { parseReference } from '../bundle/oci/reference.ts';
import { parseImageIndex, parseImageManifest } from '../bundle/oci/resolve.ts';

export interface ImageTarget {
  /** The reference the package names the image by. */
  reference: string;
  repository: string;
  /** The original tag, given to the root at the site too. */
  tag: string | undefined;
  digest: string;
  mediaType: string;
}

export interface PushPlan {
  images: ImageTarget[];
  /** Repositories per blob digest (manifests and indexes included), in image order. */
  repositories: Map<string, string[]>;
  /** Every manifest and index, by digest: these are put as manifests, not uploaded. */
  manifests: Map<string, PlannedManifest>;
}

export interface PlannedManifest {
  mediaType: string;
  bytes: Buffer;
}

function incomplete(detail: string): KdeliverError {
  return new KdeliverError('verification', 'PACKAGE_IMAGE_INCOMPLETE', detail, {
    hint: 'The package was not written by kdeliver build; build it again.',
  });
}

export function planPush(images: readonly ManifestImage[], documents: ReadonlyMap<string, Buffer>): PushPlan {
  const repositories = new Map<string, string[]>();
  const manifests = new Map<string, PlannedManifest>();
  const add = (digest: string, repository: string) => {
    const list = repositories.get(digest) ?? [];
    if (!list.includes(repository)) list.push(repository);
    repositories.set(digest, list);
  };
  const document = (descriptor: Descriptor, reference: string) => {
    const bytes = documents.get(descriptor.digest);
    if (!bytes) throw incomplete(`image ${reference} needs ${descriptor.digest}, which the package lacks`);
    manifests.set(descriptor.digest, { mediaType: descriptor.mediaType, bytes });
    return bytes;
  };
  const addManifest = (descriptor: Descriptor, repository: string, reference: string) => {
    const where = `${reference} manifest ${descriptor.digest}`;
    if (isIndexMediaType(descriptor.mediaType))
      throw incomplete(`${where} is an index inside an index, which packages do not carry`);
    const manifest = parseImageManifest(document(descriptor, reference), where);
    for (const blob of [manifest.config, ...manifest.layers]) add(blob.digest, repository);
    add(descriptor.digest, repository);
  };

  const targets = imageTargets(images);
  for (const target of targets) {
    const root: Descriptor = { digest: target.digest, mediaType: target.mediaType, size: 0 };
    if (isIndexMediaType(target.mediaType)) {
      const index = parseImageIndex(document(root, target.reference), `${target.reference} index`);
      for (const child of index.manifests) addManifest(child, target.repository, target.reference);
      add(target.digest, target.repository);
    } else {
      addManifest(root, target.repository, target.reference);
    }
  }
  return { images: targets, repositories, manifests };
}

/** Where each image of a package goes at the site: its repository path, and its tag. */
export function imageTargets(images: readonly ManifestImage[]): ImageTarget[] {
  return images.map((image) => {
    const parsed = parseReference(image.reference);
    return {
      reference: image.reference,
      repository: parsed.repository,
      tag: parsed.tag,
      digest: image.digest,
      mediaType: image.mediaType,
    };
  });
}
