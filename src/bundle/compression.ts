/**
 * Compression of the package stream. The signature and digests cover the uncompressed
 * tar, so the compressed framing is held to a canonical shape instead: fixed parameters
 * when writing, and a reader that walks zstd frames itself (Node's decoder stops after
 * the first frame and ignores whatever follows) and refuses non-canonical headers and
 * trailing bytes.
 */
import { Readable, type Duplex } from 'node:stream';
import { constants, createGunzip, createGzip, createZstdCompress, createZstdDecompress } from 'node:zlib';
import { isKdeliverError, KdeliverError, messageOf } from '../errors.ts';
import type { ByteReader } from './byte-reader.ts';
import { fixedSizeChunks } from './oci/chunks.ts';

export const COMPRESSIONS = ['zstd', 'gzip', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
/** Window log 23 (8 MiB) as a zstd window descriptor: exponent 23 - 10, mantissa 0. */
const ZSTD_WINDOW_LOG = 23;
const ZSTD_WINDOW_DESCRIPTOR = (ZSTD_WINDOW_LOG - 10) << 3;
const ZSTD_MAX_BLOCK = 128 * 1024;
/**
 * A stored frame's header: content size in 8 bytes, a window descriptor, no checksum (the
 * entries' digests cover the content), no dictionary; its window of 128 KiB is the block size.
 */
const STORED_DESCRIPTOR = 0xc0;
const STORED_WINDOW_DESCRIPTOR = (17 - 10) << 3;
const STORED_HEADER_BYTES = ZSTD_MAGIC.length + 2 + 8;
/**
 * Bytes passed on undecoded (stored zstd content, an uncompressed package, gzip input) are
 * copied out of the file reader's buffers in pieces of at most this size: under glibc's mmap
 * threshold (128 KiB), so freed pieces are reused. Whole 128 KiB blocks were each fresh memory
 * while a push held them: 300,000 page faults and 4.8 s of copying per 2 GB pushed, against
 * 45,000 with these.
 */
const COPY_PIECE_BYTES = 64 * 1024;
/** Compressed output in large buffers: fewer writes downstream (the bytes are the same at any size). */
const OUTPUT_CHUNK_SIZE = 1024 * 1024;
/** What a compressor is fed per write (a thread-pool job each). */
const INPUT_PIECE_SIZE = 1024 * 1024;
/**
 * Decoders are fed and read in pieces of this size: each write is one thread-pool job, and
 * the frame walker hands out block-sized (≤ 128 KiB) and 3-byte pieces. Larger pieces
 * save little more time and cost garbage (memory) at this rate.
 */
const DECODE_CHUNK_SIZE = 256 * 1024;
/**
 * A zstd package starts a new frame after every this many bytes of tar, so that a reader
 * that knows where frames start (`FrameStart`) can begin reading near any entry instead of
 * decoding everything before it. Not smaller: every frame takes a new decoder with its
 * 8 MiB window, which the garbage collector is told about (32 MiB frames made verifying
 * 2 GB 1.5 s slower, mostly in collections); frames this large cost nothing in size.
 */
export const ZSTD_FRAME_BYTES = 256 * 1024 * 1024;
/** gzip header: deflate, no flags, mtime 0, no extra flags, OS "unknown" (so every platform writes the same bytes). */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);

function compressionError(detail: string, cause?: unknown): KdeliverError {
  return new KdeliverError(
    'verification',
    'PACKAGE_COMPRESSION_INVALID',
    `the package's compression is damaged: ${detail}`,
    {
      hint: 'The file was damaged in transit or tampered with; copy it again.',
      cause,
    },
  );
}

function trailingData(what: string): KdeliverError {
  return new KdeliverError('verification', 'PACKAGE_TRAILING_DATA', `the package has bytes after ${what}`, {
    hint: 'Something was appended to the package; get a fresh copy from its builder.',
  });
}

/** Rewrites the first 10 bytes of Node's gzip output to the canonical header. */
async function* canonicalGzipHeader(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of source) {
    if (seen < GZIP_HEADER.length)
      GZIP_HEADER.copy(chunk, 0, seen, Math.min(GZIP_HEADER.length, seen + chunk.length));
    seen += chunk.length;
    yield chunk;
  }
}

/** Streams `input` through a zlib transform, with backpressure, passing errors of either side on. */
async function* through(input: AsyncIterable<Buffer>, transform: Duplex): AsyncGenerator<Buffer> {
  // One chunk read ahead keeps the transform busy; the default (16 chunks) only costs memory.
  const source = Readable.from(input, { highWaterMark: 1 });
  source.on('error', (error) => transform.destroy(error));
  source.pipe(transform);
  for await (const chunk of transform) yield chunk as Buffer;
}

/**
 * Feeds `input` to a zlib transform in pieces of `pieceSize` bytes, copied into two
 * buffers that are reused once the transform has consumed them, and yields its output.
 * Each write is one thread-pool job, so pieces are large (blob bodies arrive in 16 KiB
 * TLS records, zstd blocks in pieces of at most 128 KiB); reusing them spares a megabyte
 * of garbage per megabyte streamed, which the garbage collector lets pile up (peak memory).
 */
async function* throughInPieces(
  input: AsyncIterable<Buffer>,
  transform: Duplex,
  pieceSize: number,
): AsyncGenerator<Buffer> {
  const free: Buffer[] = [Buffer.allocUnsafe(pieceSize), Buffer.allocUnsafe(pieceSize)];
  let wake: (() => void) | undefined;
  let stopped = false;
  const release = (piece: Buffer) => {
    free.push(piece);
    wake?.();
  };
  async function nextPiece(): Promise<Buffer | undefined> {
    while (free.length === 0 && !stopped) await new Promise<void>((resolve) => (wake = resolve));
    return stopped ? undefined : free.pop();
  }
  async function feed(): Promise<void> {
    let piece = (await nextPiece())!;
    let filled = 0;
    for await (const chunk of input) {
      for (let offset = 0; offset < chunk.length;) {
        const copied = chunk.copy(piece, filled, offset);
        filled += copied;
        offset += copied;
        if (filled < piece.length) continue;
        const full = piece;
        transform.write(full, () => release(full));
        const next = await nextPiece();
        if (!next) return;
        piece = next;
        filled = 0;
      }
    }
    transform.end(piece.subarray(0, filled));
  }
  const feeding = feed().catch((error: unknown) => transform.destroy(error as Error));
  try {
    for await (const chunk of transform) yield chunk as Buffer;
    await feeding;
  } finally {
    // Also when the consumer stops early: the feeder returns, which closes the input.
    stopped = true;
    wake?.();
    transform.destroy();
  }
}

/**
 * The chunks of `source` in consecutive runs of `size` bytes (the last one shorter). Each
 * run must be read to its end before the next one is asked for.
 */
async function* runsOf(source: AsyncIterable<Buffer>, size: number): AsyncGenerator<AsyncGenerator<Buffer>> {
  const iterator = source[Symbol.asyncIterator]();
  let carry: Buffer | undefined;
  async function* run(): AsyncGenerator<Buffer> {
    for (let left = size; left > 0;) {
      let chunk = carry;
      carry = undefined;
      if (!chunk) {
        const next = await iterator.next();
        if (next.done) return;
        chunk = next.value;
      }
      if (chunk.length > left) {
        carry = chunk.subarray(left);
        chunk = chunk.subarray(0, left);
      }
      left -= chunk.length;
      yield chunk;
    }
  }
  for (;;) {
    while (!carry?.length) {
      const next = await iterator.next();
      if (next.done) return;
      carry = next.value;
    }
    yield run();
  }
}

/**
 * A stretch of the tar stream. `storedSize` marks bytes that are compressed already (image
 * layers, with their tar header and padding): zstd keeps such a section as a frame of raw
 * blocks of its own, which a reader passes on without a decoder. The other encodings treat
 * every section alike.
 */
export interface TarSection {
  chunks: AsyncIterable<Buffer>;
  storedSize?: number;
}

async function* allChunks(sections: AsyncIterable<TarSection>): AsyncGenerator<Buffer> {
  for await (const section of sections) yield* section.chunks;
}

/** One zstd frame of `tar` with the canonical compression parameters. */
function compressedFrame(tar: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  return throughInPieces(
    tar,
    createZstdCompress({
      chunkSize: OUTPUT_CHUNK_SIZE,
      params: {
        [constants.ZSTD_c_compressionLevel]: 3,
        [constants.ZSTD_c_checksumFlag]: 1,
        [constants.ZSTD_c_windowLog]: ZSTD_WINDOW_LOG,
      },
    }),
    INPUT_PIECE_SIZE,
  );
}

/** `size` bytes as a stored frame: canonical header, then full raw blocks and a shorter last one. */
async function* storedFrame(chunks: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  const header = Buffer.alloc(STORED_HEADER_BYTES);
  ZSTD_MAGIC.copy(header);
  header[4] = STORED_DESCRIPTOR;
  header[5] = STORED_WINDOW_DESCRIPTOR;
  header.writeBigUInt64LE(BigInt(size), 6);
  let pieces: Buffer[] = [header];
  let pending = header.length;
  let left = size;
  const blockHeader = (length: number, last: boolean) => {
    const bytes = Buffer.alloc(3);
    bytes.writeUIntLE((length << 3) | (last ? 1 : 0), 0, 3);
    return bytes;
  };
  for await (const block of fixedSizeChunks(chunks, ZSTD_MAX_BLOCK)) {
    left -= block.length;
    if (left < 0) break;
    pieces.push(blockHeader(block.length, left === 0), block);
    pending += 3 + block.length;
    if (pending < OUTPUT_CHUNK_SIZE) continue;
    yield Buffer.concat(pieces, pending);
    pieces = [];
    pending = 0;
  }
  if (left !== 0) throw new Error(`a stored section of ${size} bytes had ${size - left}`);
  if (size === 0) pieces.push(blockHeader(0, true));
  yield Buffer.concat(pieces);
}

/**
 * zstd frames: each stored section one frame, and the sections between them cut into
 * frames of `frameBytes` of tar, every one with the same canonical parameters.
 */
async function* zstdEncode(sections: AsyncIterable<TarSection>, frameBytes: number): AsyncGenerator<Buffer> {
  const iterator = sections[Symbol.asyncIterator]();
  let next = await iterator.next();
  async function* untilStored(): AsyncGenerator<Buffer> {
    for (; !next.done && next.value.storedSize === undefined; next = await iterator.next())
      yield* next.value.chunks;
  }
  while (!next.done) {
    const { chunks, storedSize } = next.value;
    if (storedSize === undefined) {
      for await (const frame of runsOf(untilStored(), frameBytes)) yield* compressedFrame(frame);
      continue;
    }
    yield* storedFrame(chunks, storedSize);
    next = await iterator.next();
  }
}

/** The compressed form of a tar stream; `zstdFrameBytes` is for tests that need several frames. */
export function compress(
  compression: Compression,
  sections: AsyncIterable<TarSection>,
  zstdFrameBytes = ZSTD_FRAME_BYTES,
): AsyncIterable<Buffer> {
  switch (compression) {
    case 'zstd':
      return zstdEncode(sections, zstdFrameBytes);
    case 'gzip':
      return canonicalGzipHeader(
        throughInPieces(
          allChunks(sections),
          createGzip({ level: 6, chunkSize: OUTPUT_CHUNK_SIZE }),
          INPUT_PIECE_SIZE,
        ),
      );
    case 'none':
      // The file is written one syscall per chunk.
      return fixedSizeChunks(allChunks(sections), INPUT_PIECE_SIZE);
  }
}

/** A decoder's output, its failures turned into verification errors. */
async function* decode(output: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* output;
  } catch (error) {
    throw isKdeliverError(error) ? error : compressionError(messageOf(error), error);
  }
}

/** The raw bytes of one compressed zstd frame whose magic and descriptor were already read, checking its structure. */
async function* zstdFrame(raw: ByteReader, frame: number, descriptor: number): AsyncGenerator<Buffer> {
  const where = `in zstd frame ${frame}`;
  const contentSizeBytes = [0, 2, 4, 8][descriptor >> 6]!;
  const singleSegment = (descriptor & 0x20) !== 0;
  // Unused and reserved bits clear, content checksum on, no dictionary.
  if ((descriptor & 0x1b) !== 0 || (descriptor & 0x04) === 0)
    throw compressionError(
      `zstd frame ${frame} has a non-canonical header (descriptor 0x${descriptor.toString(16)})`,
    );
  const header: Buffer[] = [ZSTD_MAGIC, Buffer.from([descriptor])];
  if (!singleSegment) {
    const window = await raw.read(1, where);
    if (window[0] !== ZSTD_WINDOW_DESCRIPTOR)
      throw compressionError(`zstd frame ${frame} has a non-canonical window size`);
    header.push(window);
  }
  header.push(await raw.read(singleSegment && contentSizeBytes === 0 ? 1 : contentSizeBytes, where));
  yield Buffer.concat(header);
  for (let last = false; !last;) {
    const blockHeader = await raw.read(3, where);
    yield blockHeader;
    const value = blockHeader.readUIntLE(0, 3);
    last = (value & 1) === 1;
    const type = (value >> 1) & 3;
    const size = value >> 3;
    if (type === 3 || size > ZSTD_MAX_BLOCK)
      throw compressionError(`zstd frame ${frame} has an invalid block header`);
    for (let remaining = type === 1 ? 1 : size; remaining > 0;) {
      const chunk = await raw.readSome(remaining, where);
      remaining -= chunk.length;
      yield chunk;
    }
  }
  yield await raw.read(4, `at the checksum of zstd frame ${frame}`);
}

/** Where a zstd frame starts: in the package file(s), and in the tar stream. */
export interface FrameStart {
  compressed: number;
  uncompressed: number;
}

/**
 * The content of a stored frame whose magic and descriptor were already read: raw blocks
 * only, copied out of the file buffers (which the reader reuses) as they come.
 */
async function* storedContent(raw: ByteReader, frame: number): AsyncGenerator<Buffer> {
  const where = `in zstd frame ${frame}`;
  if ((await raw.read(1, where))[0] !== STORED_WINDOW_DESCRIPTOR)
    throw compressionError(`zstd frame ${frame} has a non-canonical window size`);
  const size = (await raw.read(8, where)).readBigUInt64LE();
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw compressionError(`zstd frame ${frame} is too large`);
  for (let left = Number(size), last = false; !last;) {
    const value = (await raw.read(3, where)).readUIntLE(0, 3);
    const length = value >> 3;
    last = (value & 1) === 1;
    // Raw blocks, all full but the last, which holds exactly what is left.
    if ((value & 6) !== 0 || length !== Math.min(left, ZSTD_MAX_BLOCK) || last !== (length === left))
      throw compressionError(`zstd frame ${frame} has a non-canonical block`);
    left -= length;
    for (let copied = 0; copied < length;) {
      const piece = Buffer.from(await raw.readSome(Math.min(COPY_PIECE_BYTES, length - copied), where));
      copied += piece.length;
      yield piece;
    }
  }
}

/** The content of one frame whose magic was already read: stored frames as they are, the others decoded. */
async function* frameContent(raw: ByteReader, frame: number): AsyncGenerator<Buffer> {
  const descriptor = (await raw.read(1, `in zstd frame ${frame}`))[0]!;
  if (descriptor === STORED_DESCRIPTOR) {
    yield* storedContent(raw, frame);
    return;
  }
  yield* decode(
    throughInPieces(
      zstdFrame(raw, frame, descriptor),
      createZstdDecompress({ chunkSize: DECODE_CHUNK_SIZE }),
      DECODE_CHUNK_SIZE,
    ),
  );
}

/** Every zstd frame up to the end of the input, each compressed one with a decoder of its own. */
async function* zstdFrames(raw: ByteReader, onFrame?: (start: FrameStart) => void): AsyncGenerator<Buffer> {
  let uncompressed = 0;
  for (let frame = 1; ; frame++) {
    onFrame?.({ compressed: raw.position - ZSTD_MAGIC.length, uncompressed });
    for await (const chunk of frameContent(raw, frame)) {
      uncompressed += chunk.length;
      yield chunk;
    }
    if (await raw.atEnd()) return;
    if (!(await raw.read(4, 'after a zstd frame')).equals(ZSTD_MAGIC))
      throw trailingData(`zstd frame ${frame}`);
  }
}

async function* gunzip(raw: ByteReader, magic: Buffer): AsyncGenerator<Buffer> {
  const header = Buffer.concat([
    magic,
    await raw.read(GZIP_HEADER.length - magic.length, 'in the gzip header'),
  ]);
  if (!header.equals(GZIP_HEADER)) throw compressionError('the gzip header is not the one kdeliver writes');
  let fed = header.length;
  async function* input(): AsyncGenerator<Buffer> {
    yield header;
    while (!(await raw.atEnd())) {
      // Copied: the decoder may still hold it when the file reader reuses its buffer.
      const chunk = Buffer.from(await raw.readSome(COPY_PIECE_BYTES, 'in the gzip stream'));
      fed += chunk.length;
      yield chunk;
    }
  }
  const decoder = createGunzip();
  yield* decode(through(input(), decoder));
  // gunzip silently skips trailing zero bytes; it counts what it consumed, so compare.
  if (decoder.bytesWritten !== fed) throw trailingData('the gzip stream');
}

/** Copied: entry bodies outlive the file reader's buffers. */
async function* rest(raw: ByteReader, first: Buffer): AsyncGenerator<Buffer> {
  yield Buffer.from(first);
  while (!(await raw.atEnd())) yield Buffer.from(await raw.readSome(COPY_PIECE_BYTES, 'in the tar stream'));
}

/**
 * The uncompressed tar stream, whichever of the three encodings the package uses; with
 * zstd, `onFrame` learns where each frame starts, relative to where `raw` started. `raw`
 * may reuse a chunk's memory once the chunk after it was read (see `readPackageFiles`):
 * compressed zstd frames are copied into the decoder's pieces at once, everything else is
 * copied as it is passed on.
 */
export async function* decompress(
  raw: ByteReader,
  onFrame?: (start: FrameStart) => void,
): AsyncGenerator<Buffer> {
  const magic = await raw.read(4, 'at its very start');
  if (magic.equals(ZSTD_MAGIC)) yield* zstdFrames(raw, onFrame);
  else if (magic[0] === GZIP_HEADER[0] && magic[1] === GZIP_HEADER[1]) yield* gunzip(raw, magic);
  else yield* rest(raw, magic);
}
