import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bundleToJSON } from '@sigstore/bundle';
import { MessageSignatureBundleBuilder } from '@sigstore/sign';
import { describe, expect, it } from 'vitest';
import { COMPRESSIONS } from '../../../src/bundle/compression.ts';
import { keyFingerprint, loadPublicKey } from '../../../src/bundle/keys.ts';
import { openPackage, openPackageAt } from '../../../src/bundle/package-reader.ts';
import { writePackage } from '../../../src/bundle/package-writer.ts';
import { verifySigstoreBundle } from '../../../src/bundle/sigstore.ts';
import { verifyPackage } from '../../../src/bundle/verify.ts';
import { makeSigner, packageOptions, sampleImages, tempDir } from './fixtures.ts';

const run = promisify(execFile);

async function readAll(path: string, options: Parameters<typeof openPackage>[1]) {
  const opened = await openPackage(path, options);
  const entries = new Map<string, Buffer>();
  for await (const entry of opened.entries()) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry.stream) chunks.push(chunk);
    entries.set(entry.name, Buffer.concat(chunks));
  }
  return { opened, entries };
}

describe('package writer and reader', () => {
  it.each(COMPRESSIONS)('round-trips specs, catalog and an OCI layout (%s)', async (compression) => {
    const dir = await tempDir();
    // Random layers, so that the file spans several of the reader's reused read buffers.
    const images = await sampleImages(200_000);
    const { signer, publicKeyPath } = await makeSigner(dir);
    const output = join(dir, `shop.tar.${compression}`);
    const written = await writePackage(output, packageOptions(images, signer, { compression }));
    expect(written.files).toEqual([output]);

    const { opened, entries } = await readAll(output, { publicKey: await loadPublicKey(publicKeyPath) });
    expect(opened.manifest).toEqual(written.manifest);
    expect(opened.verifiedKey).toBe(written.manifest.signer?.keyFingerprint);
    const names = [...entries.keys()];
    expect(names.slice(0, 6)).toEqual([
      'specs/shop/namespace.yaml',
      'specs/shop/web.yaml',
      'state.db',
      'images/oci-layout',
      'images/index.json',
      expect.stringMatching(/^images\/blobs\/sha256\//),
    ]);
    expect(entries.get('specs/shop/web.yaml')?.toString()).toContain('kind: Deployment');
    // Every blob comes out byte for byte, layers and configs before manifests before the index.
    const blobNames = names.filter((name) => name.startsWith('images/blobs/'));
    expect(blobNames).toHaveLength(images.bodies.size);
    for (const [digest, body] of images.bodies)
      expect(entries.get(`images/blobs/sha256/${digest.slice(7)}`)).toEqual(body);
    const roles = blobNames.map((name) => {
      const blob = images.source.images
        .flatMap((image) => image.blobs)
        .find((b) => b.digest === `sha256:${name.slice(-64)}`);
      // gzip layers after configs: zstd stores them (see the frames test).
      return { config: 0, layer: 1, manifest: 2, index: 3 }[blob!.role];
    });
    expect(roles).toEqual([...roles].sort());
    const index = JSON.parse(entries.get('images/index.json')!.toString());
    expect(
      index.manifests.map(
        (m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'],
      ),
    ).toEqual(['registry.example/shop/web:1.4', 'registry.example/shop/worker:2.0']);
    expect(opened.manifest.images[0]).toMatchObject({
      reference: 'registry.example/shop/web:1.4',
      platforms: [{ architecture: 'amd64' }, { architecture: 'arm64', variant: 'v8' }],
    });

    // sqlite3 reads the catalog on its own.
    await writeFile(join(dir, 'state.db'), entries.get('state.db')!);
    const { stdout } = await run('sqlite3', [
      join(dir, 'state.db'),
      "pragma user_version; select kind, count(*) from resources group by kind order by kind; select depends_on from resource_dependencies where resource_id like '%Deployment%' order by 1;",
    ]);
    expect(stdout.trim().split('\n')).toEqual([
      '1',
      'ConfigMap|1',
      'Deployment|1',
      'Namespace|1',
      'v1/ConfigMap/shop/web',
      'v1/Namespace/shop',
    ]);
  });

  it('writes the same bytes for the same inputs', async () => {
    const dir = await tempDir();
    const images = await sampleImages();
    for (const compression of COMPRESSIONS) {
      await writePackage(join(dir, 'a'), packageOptions(images, null, { compression }));
      await writePackage(join(dir, 'b'), packageOptions(images, null, { compression }));
      const [a, b] = await Promise.all([readFile(join(dir, 'a')), readFile(join(dir, 'b'))]);
      expect(a.equals(b), compression).toBe(true);
    }
    // A different creation time is a different package.
    await writePackage(
      join(dir, 'c'),
      packageOptions(images, null, { compression: 'none', created: new Date(0) }),
    );
    expect((await readFile(join(dir, 'c'))).equals(await readFile(join(dir, 'a')))).toBe(false);
  });

  it('writes a tar that GNU tar lists with zero mtimes, root owner and mode 0644', async () => {
    const dir = await tempDir();
    const output = join(dir, 'shop.tar');
    const { signer } = await makeSigner(dir);
    await writePackage(output, packageOptions(await sampleImages(), signer, { compression: 'none' }));
    const { stdout } = await run('tar', ['--numeric-owner', '--full-time', '-tvf', output], {
      env: { ...process.env, TZ: 'UTC' },
    });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^-rw-r--r-- 0\/0 +\d+ 1970-01-01 00:00:00 kdeliver\.json$/);
    expect(lines[1]).toMatch(/ kdeliver\.json\.sig$/);
    expect(lines[2]).toMatch(/ kdeliver\.sigstore\.json$/);
    for (const line of lines) expect(line).toMatch(/^-rw-r--r-- 0\/0 +\d+ 1970-01-01 00:00:00 /);
  });

  it('signs the manifest so that openssl verifies it, and the sigstore bundle verifies offline', async () => {
    const dir = await tempDir();
    const output = join(dir, 'shop.tar');
    const { signer, publicKeyPath } = await makeSigner(dir);
    await writePackage(output, packageOptions(await sampleImages(), signer, { compression: 'none' }));
    await run('tar', [
      '-xf',
      output,
      '-C',
      dir,
      'kdeliver.json',
      'kdeliver.json.sig',
      'kdeliver.sigstore.json',
    ]);
    const signature = Buffer.from((await readFile(join(dir, 'kdeliver.json.sig'), 'ascii')).trim(), 'base64');
    await writeFile(join(dir, 'sig.der'), signature);
    const { stdout } = await run('openssl', [
      'dgst',
      '-sha256',
      '-verify',
      publicKeyPath,
      '-signature',
      join(dir, 'sig.der'),
      join(dir, 'kdeliver.json'),
    ]);
    expect(stdout.trim()).toBe('Verified OK');

    const manifest = await readFile(join(dir, 'kdeliver.json'));
    const bundle = await readFile(join(dir, 'kdeliver.sigstore.json'));
    const publicKey = await loadPublicKey(publicKeyPath);
    expect(JSON.parse(bundle.toString())).toMatchObject({
      mediaType: expect.stringContaining('application/vnd.dev.sigstore.bundle'),
      messageSignature: {
        messageDigest: {
          algorithm: 'SHA2_256',
          digest: createHash('sha256').update(manifest).digest('base64'),
        },
      },
    });
    // Byte for byte what @sigstore/sign's builder writes for this signature.
    const builder = new MessageSignatureBundleBuilder({
      witnesses: [],
      signer: {
        sign: async () => ({
          signature,
          key: {
            $case: 'publicKey',
            publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
            hint: keyFingerprint(publicKey),
          },
        }),
      },
    });
    const built = bundleToJSON(await builder.create({ data: manifest }));
    expect(bundle.toString()).toBe(`${JSON.stringify(built, null, 2)}\n`);

    await expect(
      verifySigstoreBundle(bundle, manifest, publicKey, 'kdeliver.sigstore.json'),
    ).resolves.toBeUndefined();
    const altered = Buffer.from(manifest.toString().replace('"shop"', '"shoq"'));
    await expect(verifySigstoreBundle(bundle, altered, publicKey, 'kdeliver.sigstore.json')).rejects.toThrow(
      /does not verify/,
    );
    const other = await makeSigner(join(dir, 'other'));
    await expect(
      verifySigstoreBundle(bundle, manifest, other.signer.publicKey, 'kdeliver.sigstore.json'),
    ).rejects.toThrow(/does not verify/);
  });

  it('splits into numbered parts that read back given the first part or the base name', async () => {
    const dir = await tempDir();
    const { signer, publicKeyPath } = await makeSigner(dir);
    const publicKey = await loadPublicKey(publicKeyPath);
    const images = await sampleImages(4000);
    const output = join(dir, 'shop.tar.zst');
    const whole = await writePackage(join(dir, 'whole.tar.zst'), packageOptions(images, signer));
    const split = await writePackage(output, packageOptions(images, signer, { splitSize: 2000 }));
    expect(split.files.length).toBeGreaterThan(2);
    expect(split.files[1]).toBe(`${output}.001`);
    for (const part of split.files.slice(0, -1)) expect((await readFile(part)).length).toBe(2000);
    // The reported digest and size are those of the whole stream: the parts concatenated.
    const joined = Buffer.concat(await Promise.all(split.files.map((part) => readFile(part))));
    expect(split).toMatchObject({
      size: joined.length,
      digest: `sha256:${createHash('sha256').update(joined).digest('hex')}`,
    });
    expect(whole.digest).toBe(
      `sha256:${createHash('sha256')
        .update(await readFile(whole.files[0]!))
        .digest('hex')}`,
    );
    expect(await readdir(dir)).not.toContain('shop.tar.zst');
    for (const path of [output, `${output}.000`]) {
      const report = await verifyPackage(path, { publicKey });
      expect(report).toMatchObject({ files: split.files, entries: whole.manifest.entries.length });
    }
    await expect(verifyPackage(`${output}.001`, { publicKey })).rejects.toMatchObject({
      code: 'PACKAGE_PART_NOT_FIRST',
    });
    // Writing again unsplit removes the old parts, so readers cannot mix builds.
    await writePackage(output, packageOptions(images, signer));
    expect((await readdir(dir)).filter((name) => name.startsWith('shop.tar.zst'))).toEqual(['shop.tar.zst']);
  });

  it('stores gzip layers in frames of their own, starts a zstd frame every zstdFrameBytes of tar between them; a pass can begin at a frame before any entry, also across parts', async () => {
    const dir = await tempDir();
    const { signer, publicKeyPath } = await makeSigner(dir);
    const publicKey = await loadPublicKey(publicKeyPath);
    const images = await sampleImages(200_000);
    const output = join(dir, 'shop.tar.zst');
    const frameBytes = 64 * 1024;
    const options = packageOptions(images, signer, { zstdFrameBytes: frameBytes, splitSize: 100_000 });
    const written = await writePackage(output, options);
    const single = await writePackage(join(dir, 'single.tar.zst'), packageOptions(images, signer));
    expect(written.manifest.formatVersion).toBe(3);

    const { opened, entries } = await readAll(output, { publicKey });
    const one = (await readAll(single.files[0]!, { publicKey })).opened;
    expect(entries).toEqual((await readAll(single.files[0]!, { publicKey })).entries);

    // Where each entry's header is, from a second full pass.
    const offsets = new Map<string, number>();
    for await (const entry of (await openPackage(output, { publicKey })).entries())
      offsets.set(entry.name, entry.offset);
    const names = written.manifest.entries.map((entry) => entry.path);
    // The frames: tar up to the first layer cut every frameBytes, one per layer (header, body,
    // padding), then the rest (manifests, the index, the end of the archive) cut again.
    const layers = images.source.images
      .flatMap((image) => image.blobs)
      .filter((blob) => blob.role === 'layer')
      .map((blob) => offsets.get(`images/blobs/sha256/${blob.digest.slice(7)}`)!)
      .sort((a, b) => a - b);
    expect(layers).toHaveLength(4);
    const last = written.manifest.entries.at(-1)!;
    const tarEnd = offsets.get(last.path)! + 512 + Math.ceil(last.size / 512) * 512 + 1024;
    const lastLayer = written.manifest.entries.find((entry) => offsets.get(entry.path) === layers.at(-1))!;
    const rest = layers.at(-1)! + 512 + Math.ceil(lastLayer.size / 512) * 512;
    const cut = (from: number, to: number, size: number) =>
      Array.from({ length: Math.ceil((to - from) / size) }, (_, i) => from + i * size);
    const starts = (frames: { uncompressed: number }[]) => frames.map((frame) => frame.uncompressed);
    expect(starts(one.frames)).toEqual([0, ...layers, rest]);
    expect(starts(opened.frames)).toEqual([
      ...cut(0, layers[0]!, frameBytes),
      ...layers,
      ...cut(rest, tarEnd, frameBytes),
    ]);
    // zstd itself reads the stored frames: the same tar, the same entries.
    const { stdout: listed } = await run('sh', ['-c', `zstd -dc '${single.files[0]}' | tar -t`]);
    expect(listed.trim().split('\n')).toEqual([
      'kdeliver.json',
      'kdeliver.json.sig',
      'kdeliver.sigstore.json',
      ...names,
    ]);

    const later = names.filter((name) => offsets.get(name)! >= 2 * 64 * 1024);
    expect(later.length).toBeGreaterThan(1);
    for (const name of [later[0]!, later.at(-1)!]) {
      const entryOffset = offsets.get(name)!;
      const frame = opened.frames.findLast((start) => start.uncompressed <= entryOffset)!;
      expect(frame.uncompressed).toBeGreaterThan(0);
      const rest = new Map<string, Buffer>();
      const seek = { frame, entry: names.indexOf(name), entryOffset };
      for await (const entry of await openPackageAt(output, written.manifest, seek)) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry.stream) chunks.push(chunk);
        rest.set(entry.name, Buffer.concat(chunks));
      }
      expect([...rest.keys()]).toEqual(names.slice(names.indexOf(name)));
      for (const [entry, body] of rest) expect(body.equals(entries.get(entry)!), entry).toBe(true);
      // An offset that is not the entry's header is refused, not misread.
      const wrong = { ...seek, entryOffset: entryOffset + 512 };
      await expect(
        (async () => {
          for await (const entry of await openPackageAt(output, written.manifest, wrong)) await entry.skip();
        })(),
      ).rejects.toMatchObject({ kind: 'verification', code: 'PACKAGE_ENTRY_HEADER_INVALID' });
    }
  });

  it('hashes large entries on a worker thread: a flipped byte is refused, a half-read entry skipped leaves the next one right', async () => {
    const dir = await tempDir();
    const { signer, publicKeyPath } = await makeSigner(dir);
    const publicKey = await loadPublicKey(publicKeyPath);
    // Layers of 5 MB and 2.5 MB: three are above the 4 MiB from which hashing moves off the main thread.
    const images = await sampleImages(5_000_000);
    const output = join(dir, 'large.tar.zst');
    const written = await writePackage(output, packageOptions(images, signer));
    const large = written.manifest.entries.filter((entry) => entry.size >= 4 * 1024 * 1024);
    expect(large).toHaveLength(3);
    expect(await verifyPackage(output, { publicKey })).toMatchObject({
      entries: written.manifest.entries.length,
    });

    // Read the first large entry halfway, skip the rest, then read the next one whole.
    const opened = await openPackage(output, { publicKey });
    const bodies = new Map<string, Buffer>();
    const offsets = new Map<string, number>();
    for await (const entry of opened.entries()) {
      offsets.set(entry.name, entry.offset);
      if (entry.name === large[0]!.path) {
        const iterator = entry.stream[Symbol.asyncIterator]();
        await iterator.next();
        await entry.skip();
        continue;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of entry.stream) chunks.push(chunk);
      bodies.set(entry.name, Buffer.concat(chunks));
    }
    expect(createHash('sha256').update(bodies.get(large[1]!.path)!).digest('hex')).toBe(large[1]!.sha256);

    // One byte flipped in the middle of the last large layer, in the stored frame it begins.
    const file = await readFile(output);
    const frame = opened.frames.find((start) => start.uncompressed === offsets.get(large[2]!.path))!;
    const at = frame.compressed + 2 * 1024 * 1024;
    file[at] = file[at]! ^ 0x01;
    await writeFile(output, file);
    await expect(verifyPackage(output, { publicKey })).rejects.toMatchObject({
      code: 'PACKAGE_ENTRY_DIGEST_MISMATCH',
      message: expect.stringContaining(large[2]!.path),
    });
  });

  it('refuses a blob whose body does not match its descriptor, and leaves no file behind', async () => {
    const dir = await tempDir();
    const images = await sampleImages();
    const source = {
      ...images.source,
      openBlob: async function* () {
        yield Buffer.from('not the blob');
      },
    };
    await expect(
      writePackage(join(dir, 'bad.tar.zst'), packageOptions({ ...images, source }, null)),
    ).rejects.toMatchObject({
      code: 'IMAGE_BLOB_MISMATCH',
    });
    expect(await readdir(dir)).toEqual([]);
  });
});
