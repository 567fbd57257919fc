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
