/**
 * The push from a package of many zstd frames: upload lanes begin reading at the frame
 * before their first blob (the first frame is damaged after verification, and never
 * read), and what reaches the real registry is every image, byte for byte (skopeo reads
 * it back).
 */
import { mkdtemp, open as openFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadPublicKey } from '../../src/bundle/keys.ts';
import { createRegistryClient } from '../../src/bundle/oci/registry-client.ts';
import { writePackage } from '../../src/bundle/package-writer.ts';
import { pushImages } from '../../src/install/push-images.ts';
import { planPush, type PushPlan } from '../../src/install/push-plan.ts';
import { checkPackage } from '../../src/install/read-package.ts';
import { runProgram } from '../helpers/cli.ts';
import { unique } from '../helpers/release.ts';
import { makeSigner, packageOptions, sampleImages } from '../unit/bundle/fixtures.ts';

const env = () => inject('sandboxEnv');
const certDir = () => env().KDELIVER_REGISTRY_CA!.slice(0, env().KDELIVER_REGISTRY_CA!.lastIndexOf('/'));
const creds = () => `${env().KDELIVER_REGISTRY_USER}:${env().KDELIVER_REGISTRY_PASSWORD}`;
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kdeliver-push-frames-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('push from a package of many zstd frames', () => {
  it('pushes every image in two lanes that begin at frames after the start', async () => {
    const { signer, publicKeyPath } = await makeSigner(work);
    const images = await sampleImages(300_000);
    const path = join(work, 'shop.tar.zst');
    await writePackage(path, packageOptions(images, signer, { zstdFrameBytes: 16 * 1024 }));
    const open = { publicKey: await loadPublicKey(publicKeyPath) };
    const checked = await checkPackage(path, open);
    // Compressed frames of 16 KiB, and every (gzip) layer a stored frame of its own.
    const starts = new Set(checked.frames.map((frame) => frame.uncompressed));
    const layers = images.source.images
      .flatMap((image) => image.blobs)
      .filter((blob) => blob.role === 'layer');
    for (const layer of layers)
      expect(starts.has(checked.entryOffsets.get(`images/blobs/sha256/${layer.digest.slice(7)}`)!)).toBe(
        true,
      );
    expect(checked.frames.length).toBeGreaterThan(layers.length + 2);
    const firstBlob = checked.manifest.entries.find((entry) => entry.path.startsWith('images/blobs/'))!;
    expect(checked.entryOffsets.get(firstBlob.path)).toBeGreaterThanOrEqual(checked.frames[1]!.uncompressed);
    // Damage the first frame (the manifest and signature): lanes that begin at later frames never read it.
    const file = await openFile(path, 'r+');
    await file.write(Buffer.from([0xff, 0xff, 0xff, 0xff]), 0, 4, 12);
    await file.close();

    const prefix = unique('frames');
    const plan = planPush(checked.manifest.images, checked.documents);
    const moved: PushPlan = {
      ...plan,
      images: plan.images.map((image) => ({ ...image, repository: `${prefix}/${image.repository}` })),
      repositories: new Map(
        [...plan.repositories].map(([digest, list]) => [digest, list.map((repo) => `${prefix}/${repo}`)]),
      ),
    };
    const client = await createRegistryClient({
      registry: env().KDELIVER_REGISTRY!,
      ca: env().KDELIVER_REGISTRY_CA,
      credentials: { username: env().KDELIVER_REGISTRY_USER!, password: env().KDELIVER_REGISTRY_PASSWORD! },
    });
    try {
      const source = {
        path,
        open,
        manifestBytes: checked.manifestBytes,
        manifest: checked.manifest,
        layout: checked,
      };
      const summary = await pushImages(source, moved, client, { lanes: 2 });
      const layers = [...images.bodies.keys()].filter((digest) => !plan.manifests.has(digest));
      expect(summary.blobs.pushed).toBe(layers.length);
    } finally {
      client.close();
    }
    for (const image of moved.images) {
      const result = await runProgram('skopeo', [
        'inspect',
        '--raw',
        '--cert-dir',
        certDir(),
        '--creds',
        creds(),
        `docker://${env().KDELIVER_REGISTRY}/${image.repository}@${image.digest}`,
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(images.bodies.get(image.digest)?.toString()).toBe(result.stdout);
    }
    // Every layer is there with the signed digest (the registry checks the bytes against it).
    const layerCheck = await runProgram('skopeo', [
      'copy',
      '--src-cert-dir',
      certDir(),
      '--src-creds',
      creds(),
      '--all',
      `docker://${env().KDELIVER_REGISTRY}/${moved.images[1]!.repository}@${moved.images[1]!.digest}`,
      `oci:${join(work, 'copy')}:x`,
    ]);
    expect(layerCheck.code, layerCheck.stderr).toBe(0);
  });
});
