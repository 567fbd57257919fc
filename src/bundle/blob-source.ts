/**
 * What the package writer needs from wherever images come from (a registry client, an
 * OCI layout on disk, a test): every blob's descriptor up front, because the manifest
 * lists digests and sizes before any body is written, and each body as a stream later.
 */

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** Decides the order of blobs in the package: an installer pushes in that order in one pass. */
export type BlobRole = 'layer' | 'config' | 'manifest' | 'index';

export interface PackageBlob {
  /** `sha256:<hex>` */
  digest: string;
  size: number;
  mediaType: string;
  role: BlobRole;
}

export interface PackageImage {
  /** The reference the image is delivered under, e.g. `registry.example/shop/web:1.4`. */
  reference: string;
  /** Digest of the image manifest or index the reference points at (one of `blobs`). */
  digest: string;
  platforms: Platform[];
  /** Every blob reachable from the image, its own manifest or index included. */
  blobs: PackageBlob[];
}

export interface ImageBlobSource {
  images: readonly PackageImage[];
  /** The body of one blob; the writer checks its size and digest while copying it. */
  openBlob(blob: PackageBlob): AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>;
}
