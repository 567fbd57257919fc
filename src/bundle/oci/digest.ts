/**
 * sha256 digests, and a pass-through stream that hashes and counts what flows through
 * it and fails when the content does not match the descriptor it claims to be.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { KdeliverError } from '../../errors.ts';

const SHA256 = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: string): boolean {
  return SHA256.test(value);
}

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export interface Expected {
  digest: string;
  size: number;
}

export function digestMismatch(where: string, expected: Expected, actual: Expected): KdeliverError {
  const what =
    actual.size === expected.size
      ? `has digest ${actual.digest}`
      : `has ${actual.size} bytes where ${expected.size} were expected`;
  return new KdeliverError(
    'verification',
    'BLOB_DIGEST_MISMATCH',
    `Content for ${expected.digest} from ${where} ${what}.`,
    {
      hint: 'The source served corrupt or tampered content. Check the source, then retry; nothing that failed verification was kept.',
    },
  );
}

/** Checks a blob that is already in memory. */
export function verifyBytes(data: Buffer, expected: Expected, where: string): void {
  const actual = { digest: sha256Digest(data), size: data.length };
  if (actual.size !== expected.size || actual.digest !== expected.digest)
    throw digestMismatch(where, expected, actual);
}

/**
 * Passes bytes through unchanged while hashing them; errors instead of ending when the
 * size or digest differs, and as soon as more bytes than expected arrive.
 */
export class DigestVerifier extends Transform {
  readonly #expected: Expected;
  readonly #where: string;
  readonly #hash: Hash = createHash('sha256');
  readonly #onBytes: ((total: number) => void) | undefined;
  #bytes = 0;

  constructor(expected: Expected, where: string, onBytes?: (total: number) => void) {
    super();
    this.#expected = expected;
    this.#where = where;
    this.#onBytes = onBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.length;
    if (this.#bytes > this.#expected.size) {
      callback(digestMismatch(this.#where, this.#expected, { digest: 'unknown', size: this.#bytes }));
      return;
    }
    this.#hash.update(chunk);
    this.#onBytes?.(this.#bytes);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const actual = { digest: `sha256:${this.#hash.digest('hex')}`, size: this.#bytes };
    if (actual.size !== this.#expected.size || actual.digest !== this.#expected.digest)
      callback(digestMismatch(this.#where, this.#expected, actual));
    else callback();
  }
}

/** The bytes of a blob from `offset` on; opened again to resume an upload cut off midway. */
export type BlobOpener = (offset: number) => AsyncIterable<Buffer> | Promise<AsyncIterable<Buffer>>;

/**
 * A blob's content for an upload that may be resumed: every pass (`from(offset)`) opens
 * the source again, bytes already hashed are not hashed twice, and the last piece is
 * handed out only after size and digest matched, so an upload that commits on its last
 * byte never commits bad content.
 */
export class CheckedContent {
  readonly #open: BlobOpener;
  readonly #expected: Expected;
  readonly #where: string;
  readonly #hash: Hash = createHash('sha256');
  #hashed = 0;
  #digest: string | undefined;

  constructor(open: BlobOpener, expected: Expected, where: string) {
    this.#open = open;
    this.#expected = expected;
    this.#where = where;
  }

  async *from(offset: number): AsyncGenerator<Buffer> {
    let position = offset;
    let held: Buffer | undefined;
    for await (const chunk of await this.#open(offset)) {
      const end = position + chunk.length;
      if (end > this.#expected.size)
        throw digestMismatch(this.#where, this.#expected, { digest: 'unknown', size: end });
      if (end > this.#hashed) {
        this.#hash.update(chunk.subarray(Math.max(0, this.#hashed - position)));
        this.#hashed = end;
      }
      position = end;
      if (held) yield held;
      held = chunk;
    }
    this.verify();
    if (held) yield held;
  }

  /** Throws unless every byte was hashed and the digest matched. */
  verify(): void {
    if (this.#hashed === this.#expected.size) this.#digest ??= `sha256:${this.#hash.digest('hex')}`;
    if (this.#digest !== this.#expected.digest)
      throw digestMismatch(this.#where, this.#expected, {
        digest: this.#digest ?? 'unknown',
        size: this.#hashed,
      });
  }
}
