/**
 * A strict reader for the tar stream inside a package. kdeliver writes only canonical
 * ustar headers for regular files, so this reader accepts nothing else (see tar-header.ts),
 * checks that padding and the end-of-archive blocks are zeros, and refuses anything after
 * them. node-tar's parser is built to be lenient instead — it interprets pax and GNU
 * records, tolerates trailing data and detects compression itself — and does not expose
 * the raw header bytes needed for the canonical-header check, hence this small reader.
 */
import { KdeliverError } from '../errors.ts';
import type { ByteReader } from './byte-reader.ts';
import { BLOCK_SIZE, decodeHeader, isZeroBlock, paddingSize } from './tar-header.ts';

export interface TarEntryHeader {
  name: string;
  size: number;
}

function damaged(code: string, message: string): KdeliverError {
  return new KdeliverError('verification', code, message, {
    hint: 'The package is damaged or was tampered with; get a fresh copy from its builder.',
  });
}

export class TarReader {
  readonly #bytes: ByteReader;
  #previous = 'the start of the package';

  constructor(bytes: ByteReader) {
    this.#bytes = bytes;
  }

  /** The next entry's header, or null at the end-of-archive marker. */
  async next(): Promise<TarEntryHeader | null> {
    const where = `after ${this.#previous}`;
    const block = await this.#bytes.read(BLOCK_SIZE, `in the tar header ${where}`);
    if (isZeroBlock(block)) return null;
    const header = decodeHeader(block, where);
    this.#previous = `entry ${header.name}`;
    return header;
  }

  /** Up to `max` bytes of the current entry's body. */
  readBody(max: number, name: string): Promise<Buffer> {
    return this.#bytes.readSome(max, `inside entry ${name}`);
  }

  /** Reads the padding after a body of `size` bytes, which must be zeros. */
  async endBody(size: number, name: string): Promise<void> {
    const padding = paddingSize(size);
    if (padding > 0 && !isZeroBlock(await this.#bytes.read(padding, `in the padding of entry ${name}`)))
      throw damaged('PACKAGE_ENTRY_HEADER_INVALID', `the padding after entry ${name} is not zeros`);
  }

  /** A whole body of at most `limit` bytes, for the small entries read before anything is trusted. */
  async readSmall(header: TarEntryHeader, limit: number): Promise<Buffer> {
    if (header.size > limit)
      throw damaged(
        'PACKAGE_ENTRY_TOO_LARGE',
        `entry ${header.name} is ${header.size} bytes, more than the ${limit} allowed`,
      );
    const body =
      header.size === 0
        ? Buffer.alloc(0)
        : await this.#bytes.read(header.size, `inside entry ${header.name}`);
    await this.endBody(header.size, header.name);
    return body;
  }

  /** After the first zero block: the second one, then nothing at all. */
  async finish(): Promise<void> {
    const second = await this.#bytes.read(BLOCK_SIZE, 'in the end-of-archive marker');
    if (!isZeroBlock(second))
      throw damaged('PACKAGE_TRAILING_DATA', 'the end-of-archive marker is not two zero blocks');
    if (!(await this.#bytes.atEnd()))
      throw damaged('PACKAGE_TRAILING_DATA', 'the package has data after the end-of-archive marker');
  }
}
