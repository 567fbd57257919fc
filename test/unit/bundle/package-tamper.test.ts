import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import { Header } from 'tar';
import { beforeAll, describe, expect, it } from 'vitest';
import { KdeliverError } from '../../../src/errors.ts';
import { loadPublicKey } from '../../../src/bundle/keys.ts';
import { writePackage } from '../../../src/bundle/package-writer.ts';
import { encodeHeader } from '../../../src/bundle/tar-header.ts';
import { verifyPackage } from '../../../src/bundle/verify.ts';
import type { KeyObject } from 'node:crypto';
import { makeSigner, packageOptions, sampleImages, tempDir, type SampleImages } from './fixtures.ts';

let dir: string;
let publicKey: KeyObject;
let images: SampleImages;
let signer: Awaited<ReturnType<typeof makeSigner>>['signer'];

beforeAll(async () => {
  dir = await tempDir();
  images = await sampleImages(64);
  ({ signer } = await makeSigner(dir));
  publicKey = await loadPublicKey(join(dir, 'kdeliver.pub'));
});

/** The verification error verifying `bytes` as a package raises (fails the test if none). */
async function refusal(bytes: Buffer, name = 'tampered'): Promise<KdeliverError> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  try {
    await verifyPackage(path, { publicKey });
  } catch (error) {
    if (error instanceof KdeliverError) return error;
    throw error;
  }
  throw new Error(`${name} was accepted`);
}

/** Offsets spread over the whole file, deterministic so a failure can be reproduced. */
function sampleOffsets(length: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.floor(((i + 0.5) * length) / count));
}

/** A tar header node-tar writes for entry types kdeliver never writes. */
function craftedHeader(fields: ConstructorParameters<typeof Header>[0]): Buffer {
  const block = Buffer.alloc(512);
  new Header({ mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), size: 0, ...fields }).encode(block, 0);
  return block;
}

/** The byte offset where the entry after the three signature entries starts, in an uncompressed package. */
function offsetAfterSignature(tar: Buffer): number {
  let offset = 0;
  for (let i = 0; i < 3; i++) {
    const size = parseInt(tar.subarray(offset + 124, offset + 136).toString('ascii'), 8);
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return offset;
}

describe('package verification refuses tampering', () => {
  it('refuses a byte flipped at 200 offsets of a zstd package', async () => {
    const path = join(dir, 'good.tar.zst');
    await writePackage(path, packageOptions(images, signer));
    const good = await readFile(path);
    expect(good.length).toBeLessThan(40_000);
    await verifyPackage(path, { publicKey });
    const offsets = sampleOffsets(good.length, 200);
    const content = zstdDecompressSync(good);
    let refused = 0;
    let unchanged = 0;
    for (const [i, offset] of offsets.entries()) {
      const bad = Buffer.from(good);
      bad[offset] = bad[offset]! ^ (i % 2 === 0 ? 0xff : 1 << (i % 8));
      const error = await refusal(bad, 'flipped.tar.zst').catch((accepted: unknown) => {
        // zstd decoders ignore a few padding bits of a compressed block: a flip there decodes
        // to the very same bytes, which are then fully verified. Any other acceptance fails.
        if (!zstdDecompressSync(bad).equals(content)) throw accepted;
        return undefined;
      });
      if (!error) {
        unchanged++;
        continue;
      }
      expect(error.kind, `offset ${offset}: ${error.message}`).toBe('verification');
      refused++;
    }
    expect(refused + unchanged).toBe(200);
    if (unchanged > 0)
      console.log(`zstd tamper: ${refused} refused, ${unchanged} flips decoded to identical content`);
  });

  it('refuses stored zstd frames that are not canonical', async () => {
    const path = join(dir, 'stored.tar.zst');
    await writePackage(path, packageOptions(images, signer));
    const good = await readFile(path);
    // magic, descriptor (8-byte content size, no checksum), window 128 KiB: the gzip layers.
    const stored = good.indexOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xc0, 0x38]));
    expect(stored).toBeGreaterThan(0);
    const size = Number(good.readBigUInt64LE(stored + 6));
    const block = stored + 14;
    expect(good.readUIntLE(block, 3)).toBe((size << 3) | 1); // one raw block, the last
    const edits: Record<string, (bad: Buffer) => void> = {
      'an RLE block': (bad) => bad.writeUIntLE((size << 3) | 0b011, block, 3),
      'a block that is not the last': (bad) => bad.writeUIntLE(size << 3, block, 3),
      'a content size larger than its blocks': (bad) => bad.writeBigUInt64LE(BigInt(size + 1), stored + 6),
      'a content size smaller than its blocks': (bad) => bad.writeBigUInt64LE(BigInt(size - 1), stored + 6),
      'another window size': (bad) => (bad[stored + 5] = 0x40),
    };
    for (const [what, edit] of Object.entries(edits)) {
      const bad = Buffer.from(good);
      edit(bad);
      expect((await refusal(bad, 'stored.tar.zst')).code, what).toBe('PACKAGE_COMPRESSION_INVALID');
    }
  });

  it('refuses a byte flipped at 200 offsets of an uncompressed package, naming the entry', async () => {
    const path = join(dir, 'good.tar');
    await writePackage(path, packageOptions(images, signer, { compression: 'none' }));
    const good = await readFile(path);
    const messages = new Set<string>();
    for (const offset of sampleOffsets(good.length, 200)) {
      const bad = Buffer.from(good);
      bad[offset] = bad[offset]! ^ 0x20;
      const error = await refusal(bad, 'flipped.tar');
      expect(error.kind).toBe('verification');
      messages.add(error.code);
    }
    expect(messages).toContain('PACKAGE_ENTRY_DIGEST_MISMATCH');
    expect(messages).toContain('PACKAGE_SIGNATURE_INVALID');
    expect(messages).toContain('PACKAGE_ENTRY_HEADER_INVALID');
  });

  it.each(['zstd', 'gzip', 'none'] as const)(
    'refuses the package truncated at 50 offsets (%s)',
    async (compression) => {
      const path = join(dir, `good-${compression}`);
      await writePackage(path, packageOptions(images, signer, { compression }));
      const good = await readFile(path);
      for (const offset of sampleOffsets(good.length, 50)) {
        const error = await refusal(good.subarray(0, offset), `truncated-${compression}`);
        expect(error.kind, `offset ${offset}`).toBe('verification');
      }
    },
  );

  it.each(['zstd', 'gzip', 'none'] as const)(
    'refuses data appended after the end (%s)',
    async (compression) => {
      const path = join(dir, `appended-${compression}`);
      await writePackage(path, packageOptions(images, signer, { compression }));
      const good = await readFile(path);
      for (const trailer of [Buffer.alloc(10), Buffer.from('garbage'), good]) {
        const error = await refusal(Buffer.concat([good, trailer]), `appended-${compression}`);
        expect(error.code).toMatch(
          /PACKAGE_TRAILING_DATA|PACKAGE_COMPRESSION_INVALID|PACKAGE_ENTRY_HEADER_INVALID/,
        );
      }
    },
  );

  describe('crafted entries', () => {
    const crafted = {
      'a parent path': {
        header: { path: '../evil.yaml', type: 'File' as const },
        code: 'PACKAGE_ENTRY_UNSAFE',
      },
      'an absolute path': {
        header: { path: '/etc/passwd', type: 'File' as const },
        code: 'PACKAGE_ENTRY_UNSAFE',
      },
      'a nested parent path': {
        header: { path: 'specs/../../evil', type: 'File' as const },
        code: 'PACKAGE_ENTRY_UNSAFE',
      },
      'a symlink': {
        header: { path: 'specs/link', type: 'SymbolicLink' as const, linkpath: '/etc/passwd' },
        code: 'PACKAGE_ENTRY_TYPE_REFUSED',
      },
      'a hardlink': {
        header: { path: 'specs/link', type: 'Link' as const, linkpath: 'state.db' },
        code: 'PACKAGE_ENTRY_TYPE_REFUSED',
      },
      'a FIFO': { header: { path: 'specs/fifo', type: 'FIFO' as const }, code: 'PACKAGE_ENTRY_TYPE_REFUSED' },
      'a character device': {
        header: { path: 'specs/tty', type: 'CharacterDevice' as const },
        code: 'PACKAGE_ENTRY_TYPE_REFUSED',
      },
      'a pax header': {
        header: { path: 'PaxHeader', type: 'ExtendedHeader' as const },
        code: 'PACKAGE_ENTRY_TYPE_REFUSED',
      },
      'a GNU long name': {
        header: { path: '././@LongLink', type: 'NextFileHasLongPath' as const },
        code: 'PACKAGE_ENTRY_TYPE_REFUSED',
      },
    };

    it.each(Object.entries(crafted))(
      'refuses %s, as the first entry or after a valid signature',
      async (_, { header, code }) => {
        const path = join(dir, 'crafted-base.tar');
        await writePackage(path, packageOptions(images, signer, { compression: 'none' }));
        const good = await readFile(path);
        const evil = craftedHeader(header);
        const first = await refusal(Buffer.concat([evil, good]), 'crafted-first.tar');
        expect(first.code).toBe(code);
        const at = offsetAfterSignature(good);
        const inside = await refusal(
          Buffer.concat([good.subarray(0, at), evil, good.subarray(at)]),
          'crafted-inside.tar',
        );
        expect(inside.code).toBe(code);
        expect(inside.message).toContain(
          header.path.startsWith('././')
            ? 'GNU long name'
            : header.path.startsWith('PaxHeader')
              ? 'pax'
              : header.path,
        );
      },
    );

    it('refuses a regular entry with a non-canonical header (another mtime)', async () => {
      const path = join(dir, 'crafted-mtime.tar');
      await writePackage(path, packageOptions(images, signer, { compression: 'none' }));
      const good = await readFile(path);
      const at = offsetAfterSignature(good);
      const header = good.subarray(at, at + 512);
      const name = header.subarray(0, 100).toString('ascii').replace(/\0+$/, '');
      const size = parseInt(header.subarray(124, 136).toString('ascii'), 8);
      const altered = craftedHeader({ path: name, type: 'File', size, mtime: new Date(1_000_000_000) });
      const error = await refusal(
        Buffer.concat([good.subarray(0, at), altered, good.subarray(at + 512)]),
        'mtime.tar',
      );
      expect(error.code).toBe('PACKAGE_ENTRY_HEADER_INVALID');
      expect(error.message).toContain(name);
    });
  });

  it('refuses an oversized manifest before reading it', async () => {
    const error = await refusal(
      Buffer.concat([encodeHeader('kdeliver.json', 64 * 1024 * 1024), Buffer.alloc(4096)]),
      'huge.tar',
    );
    expect(error.code).toBe('PACKAGE_ENTRY_TOO_LARGE');
    expect(error.message).toContain('kdeliver.json');
  });

  it('refuses a valid package signed by another key', async () => {
    const other = await makeSigner(join(dir, 'other'));
    const path = join(dir, 'other.tar.zst');
    await writePackage(path, packageOptions(images, other.signer));
    await expect(verifyPackage(path, { publicKey })).rejects.toMatchObject({
      code: 'PACKAGE_SIGNATURE_INVALID',
      kind: 'verification',
    });
    await expect(verifyPackage(path, { publicKey: other.signer.publicKey })).resolves.toMatchObject({
      name: 'shop',
    });
  });

  it('refuses an unsigned package unless verification is skipped, and then warns', async () => {
    const path = join(dir, 'unsigned.tar.zst');
    await writePackage(path, packageOptions(images, null));
    await expect(verifyPackage(path, { publicKey })).rejects.toMatchObject({ code: 'PACKAGE_UNSIGNED' });
    const warnings: string[] = [];
    const report = await verifyPackage(path, {
      publicKey,
      insecureSkipVerify: true,
      onWarning: (w) => warnings.push(w),
    });
    expect(report.verifiedKey).toBeNull();
    expect(warnings.join()).toMatch(/unsigned/);
  });

  it('refuses a signed package whose signature entries were stripped', async () => {
    const path = join(dir, 'stripped.tar');
    await writePackage(path, packageOptions(images, signer, { compression: 'none' }));
    const good = await readFile(path);
    const manifestEnd = 512 + Math.ceil(parseInt(good.subarray(124, 136).toString('ascii'), 8) / 512) * 512;
    const stripped = Buffer.concat([
      good.subarray(0, manifestEnd),
      good.subarray(offsetAfterSignature(good)),
    ]);
    expect((await refusal(stripped, 'stripped.tar')).code).toBe('PACKAGE_UNSIGNED');
    await writeFile(join(dir, 'stripped.tar'), stripped);
    await expect(
      verifyPackage(join(dir, 'stripped.tar'), { insecureSkipVerify: true }),
    ).rejects.toMatchObject({ code: 'PACKAGE_SIGNATURE_MISSING' });
  });

  it('refuses a split package with a missing part', async () => {
    const path = join(dir, 'split.tar.zst');
    const written = await writePackage(path, packageOptions(images, signer, { splitSize: 1024 }));
    const { rm } = await import('node:fs/promises');
    await rm(written.files[1]!);
    await expect(verifyPackage(path, { publicKey })).rejects.toMatchObject({ kind: 'verification' });
  });
});
