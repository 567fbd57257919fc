/**
 * Opens a package for one streaming pass: the signature is checked before anything
 * else is trusted, then entries come out in manifest order and each is checked (size,
 * digest, padding) as it is read. The last chunk of an entry is handed out only after
 * its digest matched, so a consumer that commits on end-of-stream never commits bad bytes.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { KdeliverError } from '../errors.ts';
import { ByteReader } from './byte-reader.ts';
import { decompress, type FrameStart } from './compression.ts';
import {
  MANIFEST_ENTRY,
  MAX_MANIFEST_BYTES,
  MAX_SIGNATURE_BYTES,
  MAX_SIGSTORE_BYTES,
  parseManifest,
  SIGNATURE_ENTRY,
  SIGSTORE_ENTRY,
  type ManifestEntry,
  type PackageManifest,
} from './format.ts';
import { keyFingerprint, verifyBytes } from './keys.ts';
import { readPackageFiles, resolvePackageFiles } from './parts.ts';
import { Sha256Worker } from './sha256-worker.ts';
import { verifySigstoreBundle } from './sigstore.ts';
import { TarReader, type TarEntryHeader } from './tar-reader.ts';

export interface OpenPackageOptions {
  /** The public key the package must be signed with. */
  publicKey?: KeyObject;
  /** Accept a package without checking its signature (digests are still checked). */
  insecureSkipVerify?: boolean;
  /** Receives the warning printed when verification is skipped. */
  onWarning?: (message: string) => void;
}

export interface PackageEntry {
  name: string;
  size: number;
  /** `sha256:<hex>`, as listed in the manifest. */
  digest: string;
  /** Where its header starts in the tar stream (see `PackageSeek`). */
  offset: number;
  /** The body; throws a verification error instead of yielding the last chunk if it does not match. */
  stream: AsyncIterable<Buffer>;
  /**
   * The body, not hashed, for a consumer that checks the digest itself (an upload does).
   * Call it before reading `stream`.
   */
  unchecked(): AsyncIterable<Buffer>;
  /**
   * Moves past the body without hashing it, for a consumer that will not use it: a
   * second pass over a package already verified reads what it needs and skips the rest.
   */
  skip(): Promise<void>;
}

export interface OpenedPackage {
  files: string[];
  manifest: PackageManifest;
  manifestBytes: Buffer;
  /** The fingerprint of the key whose signature was checked; null when verification was skipped. */
  verifiedKey: string | null;
  /** The zstd frames read so far (none for gzip or no compression). */
  frames: FrameStart[];
  /**
   * Every listed entry, in order. An entry not read to its end is read (and checked) when
   * the next one is asked for; after the last one the end of the archive is checked.
   * Iterate once.
   */
  entries(): AsyncGenerator<PackageEntry>;
  close(): Promise<void>;
}

function refused(code: string, message: string, hint: string): KdeliverError {
  return new KdeliverError('verification', code, message, { hint });
}

const FRESH_COPY = 'The package is damaged or was tampered with; get a fresh copy from its builder.';

async function expectEntry(tar: TarReader, name: string): Promise<TarEntryHeader> {
  const header = await tar.next();
  if (header?.name !== name)
    throw refused(
      'PACKAGE_ENTRY_UNEXPECTED',
      `expected entry ${name}, found ${header ? `entry ${header.name}` : 'the end of the archive'}`,
      FRESH_COPY,
    );
  return header;
}

interface SignatureParts {
  signature: Buffer;
  sigstoreBundle: Buffer;
}

async function checkSignature(
  manifestBytes: Buffer,
  parts: SignatureParts | null,
  options: OpenPackageOptions,
): Promise<string | null> {
  if (!options.publicKey) {
    options.onWarning?.(
      '--insecure-skip-verify: the package signature is NOT checked; anyone could have built this package.',
    );
    return null;
  }
  if (!parts) {
    if (options.insecureSkipVerify) {
      options.onWarning?.('--insecure-skip-verify: the package is unsigned; anyone could have built it.');
      return null;
    }
    throw refused(
      'PACKAGE_UNSIGNED',
      `the package is unsigned (it has no ${SIGNATURE_ENTRY})`,
      'Use a signed package, or pass --insecure-skip-verify to accept an unsigned one.',
    );
  }
  const fingerprint = keyFingerprint(options.publicKey);
  const signature = Buffer.from(parts.signature.toString('ascii').trim(), 'base64');
  let valid = false;
  try {
    valid = verifyBytes(options.publicKey, manifestBytes, signature);
  } catch {
    // A malformed DER signature is just an invalid one.
  }
  if (!valid)
    throw refused(
      'PACKAGE_SIGNATURE_INVALID',
      `${SIGNATURE_ENTRY} does not verify ${MANIFEST_ENTRY} with key ${fingerprint}`,
      'The package was signed with another key or tampered with; check --key, or get a fresh copy from its builder.',
    );
  await verifySigstoreBundle(parts.sigstoreBundle, manifestBytes, options.publicKey, SIGSTORE_ENTRY);
  return fingerprint;
}

/**
 * Entries at least this big are hashed on a worker thread (see Sha256Worker), which starts
 * at the pass's first such entry it hashes; smaller ones are not worth the hand-over.
 */
const OFF_THREAD_HASH_BYTES = 4 * 1024 * 1024;

/**
 * An entry body that checks itself while being read, and can be drained by the reader;
 * `worker` hashes it instead of the main thread.
 */
function entryBody(tar: TarReader, expected: ManifestEntry, worker: Sha256Worker | undefined) {
  const hash = worker ? undefined : createHash('sha256');
  let remaining = expected.size;
  let hashing = true;
  let abandoned = false;
  let finished = false;
  async function read(): Promise<Buffer | null> {
    if (finished) return null;
    if (!hashing && worker && !abandoned) {
      abandoned = true;
      await worker.abandon();
    }
    let chunk: Buffer | null = null;
    if (remaining > 0) {
      chunk = await tar.readBody(Math.min(remaining, 1024 * 1024), expected.path);
      remaining -= chunk.length;
      if (hashing) {
        if (worker) await worker.update(chunk);
        else hash!.update(chunk);
      }
    }
    if (remaining === 0) {
      await tar.endBody(expected.size, expected.path);
      finished = true;
      const actual = !hashing ? expected.sha256 : worker ? await worker.digest() : hash!.digest('hex');
      if (actual !== expected.sha256)
        throw refused(
          'PACKAGE_ENTRY_DIGEST_MISMATCH',
          `entry ${expected.path} has sha256 ${actual}, the manifest lists ${expected.sha256}`,
          FRESH_COPY,
        );
    }
    return chunk;
  }
  async function* stream(): AsyncGenerator<Buffer> {
    for (let chunk = await read(); chunk !== null; chunk = await read()) yield chunk;
  }
  function unchecked(): AsyncGenerator<Buffer> {
    hashing = false;
    return stream();
  }
  async function skip(): Promise<void> {
    hashing = false;
    while ((await read()) !== null);
  }
  return { read, stream, unchecked, skip };
}

/**
 * The listed entries from `from` on, in order, each checked; `header` is the first one's,
 * already read. After the last one, the end of the archive is checked.
 */
async function* listedEntries(
  tar: TarReader,
  tarBytes: ByteReader,
  manifest: PackageManifest,
  from: number,
  header: TarEntryHeader | null,
  headerOffset: number,
): AsyncGenerator<PackageEntry> {
  const listed = new Set(manifest.entries.map((entry) => entry.path));
  let next = header;
  let offset = headerOffset;
  const worker = new Sha256Worker();
  try {
    for (let i = from; i < manifest.entries.length; i++) {
      const expected = manifest.entries[i]!;
      if (i > from) {
        offset = tarBytes.position;
        next = await tar.next();
      }
      if (!next)
        throw refused(
          'PACKAGE_ENTRY_MISSING',
          `entry ${expected.path} is listed in the manifest but missing from the package`,
          FRESH_COPY,
        );
      if (next.name !== expected.path)
        throw refused(
          'PACKAGE_ENTRY_UNEXPECTED',
          listed.has(next.name)
            ? `entry ${next.name} appears where ${expected.path} is expected (out of order or duplicated)`
            : `entry ${next.name} is not listed in the manifest`,
          FRESH_COPY,
        );
      if (next.size !== expected.size)
        throw refused(
          'PACKAGE_ENTRY_SIZE_MISMATCH',
          `entry ${expected.path} is ${next.size} bytes, the manifest lists ${expected.size}`,
          FRESH_COPY,
        );
      const body = entryBody(tar, expected, expected.size >= OFF_THREAD_HASH_BYTES ? worker : undefined);
      yield {
        name: expected.path,
        size: expected.size,
        digest: `sha256:${expected.sha256}`,
        offset,
        stream: body.stream(),
        unchecked: body.unchecked,
        skip: body.skip,
      };
      while ((await body.read()) !== null);
    }
    const extra = from >= manifest.entries.length ? header : await tar.next();
    if (extra)
      throw refused(
        'PACKAGE_ENTRY_UNEXPECTED',
        `entry ${extra.name} is not listed in the manifest`,
        FRESH_COPY,
      );
    await tar.finish();
  } finally {
    await worker.close();
  }
}

export async function openPackage(path: string, options: OpenPackageOptions): Promise<OpenedPackage> {
  if (!options.publicKey && !options.insecureSkipVerify)
    throw new KdeliverError('usage', 'KEY_REQUIRED', 'a public key is needed to verify the package', {
      hint: 'Pass --key kdeliver.pub (the builder’s public key), or --insecure-skip-verify to skip the signature check.',
    });
  const files = await resolvePackageFiles(path);
  const raw = new ByteReader(readPackageFiles(files));
  const frames: FrameStart[] = [];
  const tarBytes = new ByteReader(decompress(raw, (start) => frames.push(start)));
  const tar = new TarReader(tarBytes);
  try {
    const manifestBytes = await tar.readSmall(await expectEntry(tar, MANIFEST_ENTRY), MAX_MANIFEST_BYTES);
    let headerOffset = tarBytes.position;
    let header = await tar.next();
    let parts: SignatureParts | null = null;
    if (header?.name === SIGNATURE_ENTRY) {
      const signature = await tar.readSmall(header, MAX_SIGNATURE_BYTES);
      const sigstoreBundle = await tar.readSmall(await expectEntry(tar, SIGSTORE_ENTRY), MAX_SIGSTORE_BYTES);
      parts = { signature, sigstoreBundle };
      headerOffset = tarBytes.position;
      header = await tar.next();
    }
    const verifiedKey = await checkSignature(manifestBytes, parts, options);
    const manifest = parseManifest(manifestBytes);
    if (verifiedKey && manifest.signer?.keyFingerprint !== verifiedKey)
      throw refused(
        'PACKAGE_MANIFEST_INVALID',
        `${MANIFEST_ENTRY} names signer ${manifest.signer?.keyFingerprint ?? 'none'}, but it is signed by ${verifiedKey}`,
        FRESH_COPY,
      );
    if (!parts && manifest.signer)
      throw refused(
        'PACKAGE_SIGNATURE_MISSING',
        `${MANIFEST_ENTRY} names signer ${manifest.signer.keyFingerprint}, but ${SIGNATURE_ENTRY} is missing`,
        FRESH_COPY,
      );
    let iterated = false;
    async function* entries(): AsyncGenerator<PackageEntry> {
      if (iterated) throw new Error('the entries of a package can be iterated only once');
      iterated = true;
      try {
        yield* listedEntries(tar, tarBytes, manifest, 0, header, headerOffset);
      } finally {
        await raw.close();
      }
    }
    return { files, manifest, manifestBytes, verifiedKey, frames, entries, close: () => raw.close() };
  } catch (error) {
    await raw.close();
    throw error;
  }
}

/** Where to begin a pass over part of a package: see `openPackageAt`. */
export interface PackageSeek {
  /** The frame to start decoding at (from `OpenedPackage.frames`). */
  frame: FrameStart;
  /** The index in the manifest of the first entry wanted, and where its header is in the tar stream. */
  entry: number;
  entryOffset: number;
}

/**
 * The entries of a package already verified, from one in the middle on: reading starts at
 * a zstd frame before it instead of at the beginning. The signature is not read again, so
 * `manifest` must be the verified one; every entry is still checked against it as it is
 * read (header, size, digest, padding), so a package changed since is refused all the same.
 */
export async function openPackageAt(
  path: string,
  manifest: PackageManifest,
  seek: PackageSeek,
): Promise<AsyncGenerator<PackageEntry>> {
  const raw = new ByteReader(readPackageFiles(await resolvePackageFiles(path), seek.frame.compressed));
  try {
    const tarBytes = new ByteReader(decompress(raw));
    for (let skip = seek.entryOffset - seek.frame.uncompressed; skip > 0;) {
      skip -= (await tarBytes.readSome(skip, 'before the entries to read')).length;
    }
    const tar = new TarReader(tarBytes);
    const header = await tar.next();
    return (async function* entries() {
      try {
        yield* listedEntries(tar, tarBytes, manifest, seek.entry, header, seek.entryOffset);
      } finally {
        await raw.close();
      }
    })();
  } catch (error) {
    await raw.close();
    throw error;
  }
}
