import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../../src/bundle/oci/digest.ts';
import { MEDIA_TYPES, type Descriptor } from '../../../src/bundle/oci/media-types.ts';
import { parsePlatforms } from '../../../src/bundle/oci/platform.ts';
import { resolveImage } from '../../../src/bundle/oci/resolve.ts';

function document(mediaType: string, value: unknown): { descriptor: Descriptor; bytes: Buffer } {
  const bytes = Buffer.from(JSON.stringify(value, null, 1));
  return { descriptor: { mediaType, digest: sha256Digest(bytes), size: bytes.length }, bytes };
}

const blob = (name: string): Descriptor => ({
  mediaType: MEDIA_TYPES.ociLayerGzip,
  digest: sha256Digest(name),
  size: name.length,
});

function image(layers: Descriptor[], config: string) {
  return document(MEDIA_TYPES.ociManifest, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { ...blob(config), mediaType: MEDIA_TYPES.ociConfig },
    layers,
  });
}

const shared = blob('shared base layer');
const amd64 = image([shared, blob('amd64 app')], 'amd64 config');
const arm64 = image([shared, blob('arm64 app')], 'arm64 config');
const attestation = document('application/vnd.in-toto+json', {});
const index = document(MEDIA_TYPES.ociIndex, {
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.ociIndex,
  manifests: [
    { ...amd64.descriptor, platform: { os: 'linux', architecture: 'amd64' } },
    { ...arm64.descriptor, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
  ],
  annotations: { 'org.example': 'kept' },
});
const byDigest = new Map([amd64, arm64, attestation].map((d) => [d.descriptor.digest, d.bytes]));
const fetchManifest = async (descriptor: Descriptor) => byDigest.get(descriptor.digest)!;

describe('resolveImage', () => {
  it('keeps a whole index byte for byte and lists shared blobs once, in copy order', async () => {
    const resolved = await resolveImage('src', index, fetchManifest);
    expect(resolved.index).toMatchObject({
      filtered: false,
      bytes: index.bytes,
      sourceDigest: index.descriptor.digest,
    });
    expect(resolved.blobs.map((b) => b.digest)).toEqual([
      shared.digest,
      sha256Digest('amd64 app'),
      sha256Digest('amd64 config'),
      sha256Digest('arm64 app'),
      sha256Digest('arm64 config'),
      amd64.descriptor.digest,
      arm64.descriptor.digest,
      index.descriptor.digest,
    ]);
  });

  it('rewrites the index when platforms are dropped, keeping its other fields', async () => {
    const resolved = await resolveImage('src', index, fetchManifest, parsePlatforms('linux/arm64'));
    const rewritten = JSON.parse(resolved.index!.bytes.toString()) as {
      manifests: Descriptor[];
      annotations: unknown;
    };
    expect(resolved.index!.filtered).toBe(true);
    expect(rewritten.manifests.map((m) => m.digest)).toEqual([arm64.descriptor.digest]);
    expect(rewritten.annotations).toEqual({ 'org.example': 'kept' });
    expect(resolved.root).toEqual({
      mediaType: MEDIA_TYPES.ociIndex,
      digest: sha256Digest(resolved.index!.bytes),
      size: resolved.index!.bytes.length,
    });
    expect(resolved.blobs.at(-1)).toEqual(resolved.root);
    expect(resolved.manifests[0]!.descriptor.platform).toEqual({
      os: 'linux',
      architecture: 'arm64',
      variant: 'v8',
    });
  });

  it('names the platforms on offer when one is missing', async () => {
    await expect(
      resolveImage('src', index, fetchManifest, parsePlatforms('linux/s390x')),
    ).rejects.toMatchObject({
      code: 'PLATFORM_NOT_FOUND',
      hint: 'It offers: linux/amd64, linux/arm64/v8.',
    });
  });

  it('checks child manifests against the index', async () => {
    const tampered = async (descriptor: Descriptor) =>
      Buffer.concat([byDigest.get(descriptor.digest)!, Buffer.from(' ')]);
    await expect(resolveImage('src', index, tampered)).rejects.toMatchObject({ kind: 'verification' });
  });

  it('resolves a single manifest as it is', async () => {
    const resolved = await resolveImage('src', amd64, fetchManifest, parsePlatforms('linux/arm64'));
    expect(resolved.index).toBeUndefined();
    expect(resolved.root).toEqual(amd64.descriptor);
    expect(resolved.blobs).toHaveLength(4);
  });

  it('refuses entries that are not image manifests unless platform selection leaves them out', async () => {
    const withAttestation = document(MEDIA_TYPES.ociIndex, {
      schemaVersion: 2,
      manifests: [
        { ...amd64.descriptor, platform: { os: 'linux', architecture: 'amd64' } },
        { ...attestation.descriptor, platform: { os: 'unknown', architecture: 'unknown' } },
      ],
    });
    await expect(resolveImage('src', withAttestation, fetchManifest)).rejects.toMatchObject({
      code: 'MANIFEST_UNSUPPORTED',
    });
    const resolved = await resolveImage('src', withAttestation, fetchManifest, parsePlatforms('linux/amd64'));
    expect(resolved.manifests).toHaveLength(1);
  });
});
