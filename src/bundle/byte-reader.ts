/**
 * Pulls exact byte counts out of a chunked stream, without copying more than needed.
 * The package reader is built on it so that every layer (compression framing, tar
 * headers, entry bodies) reads exactly what it expects and notices a stream that ends early.
 */
import { KdeliverError } from '../errors.ts';

export class ByteReader {
  readonly #source: AsyncIterator<Uint8Array>;
  #pending: Buffer = Buffer.alloc(0);
  #ended = false;
  /** Bytes handed out so far. */
  position = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    while (this.#pending.length === 0 && !this.#ended) {
      const next = await this.#source.next();
      if (next.done) this.#ended = true;
      else this.#pending = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    }
    return this.#pending.length > 0;
  }

  #take(count: number): Buffer {
    const chunk = this.#pending.subarray(0, count);
    this.#pending = this.#pending.subarray(count);
    this.position += chunk.length;
    return chunk;
  }

  /** Between 1 and `max` bytes; `what` names what was being read when the stream ends early. */
  async readSome(max: number, what: string): Promise<Buffer> {
    if (!(await this.#fill())) throw truncated(what);
    return this.#take(max);
  }

  /** Exactly `count` bytes. */
  async read(count: number, what: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    let missing = count;
    while (missing > 0) {
      const chunk = await this.readSome(missing, what);
      parts.push(chunk);
      missing -= chunk.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, count);
  }

  async atEnd(): Promise<boolean> {
    return !(await this.#fill());
  }

  /** Stops the underlying source (closes files) when a reader gives up early. */
  async close(): Promise<void> {
    await this.#source.return?.();
  }
}

function truncated(what: string): KdeliverError {
  return new KdeliverError('verification', 'PACKAGE_TRUNCATED', `the package ends early, ${what}`, {
    hint: 'The file (or one of its parts) was cut short; copy it again.',
  });
}
