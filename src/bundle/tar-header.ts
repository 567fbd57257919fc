/**
 * The one tar header kdeliver writes, and the strict check a reader applies to every
 * header it meets: a regular file, a safe relative name, and otherwise byte-for-byte the
 * canonical header (mode 0644, uid/gid 0, mtime 0, no owner names). Anything else —
 * links, devices, directories, pax or GNU long-name records — is refused, so the reader
 * never has to interpret them.
 */
import { KdeliverError } from '../errors.ts';
import { isSafeEntryName } from './format.ts';

export const BLOCK_SIZE = 512;

/** Largest size the 11 octal digits of a ustar size field hold; larger sizes use base-256. */
const MAX_OCTAL_SIZE = 8 ** 11 - 1;

const REFUSED_TYPES: Record<string, string> = {
  '1': 'a hard link',
  '2': 'a symbolic link',
  '3': 'a character device',
  '4': 'a block device',
  '5': 'a directory',
  '6': 'a FIFO',
  '7': 'a contiguous file',
  x: 'a pax extended header',
  g: 'a pax global header',
  L: 'a GNU long name record',
  K: 'a GNU long link record',
};

function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, 'ascii');
}

function splitName(name: string): { prefix: string; base: string } {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', base: name };
  for (let slash = name.indexOf('/'); slash !== -1; slash = name.indexOf('/', slash + 1)) {
    const prefix = name.slice(0, slash);
    const base = name.slice(slash + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(base) <= 100) return { prefix, base };
  }
  throw new KdeliverError(
    'input',
    'PACKAGE_ENTRY_NAME_TOO_LONG',
    `entry name is too long for a package: ${name}`,
    {
      hint: 'Keep spec paths under 100 characters per file name and 255 in all.',
    },
  );
}

function checksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}

/** The canonical header of a regular file entry. */
export function encodeHeader(name: string, size: number): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  const { prefix, base } = splitName(name);
  block.write(base, 0, 'utf8');
  writeOctal(block, 100, 8, 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  if (size <= MAX_OCTAL_SIZE) {
    writeOctal(block, 124, 12, size);
  } else {
    // Base-256 (a GNU extension every common tar reads): marker bit, then big-endian.
    block[124] = 0x80;
    block.writeBigUInt64BE(BigInt(size), 128);
  }
  writeOctal(block, 136, 12, 0);
  block.write('0', 156, 'ascii');
  block.write('ustar\0' + '00', 257, 'ascii');
  writeOctal(block, 329, 8, 0);
  writeOctal(block, 337, 8, 0);
  block.write(prefix, 345, 'utf8');
  block.write(`${checksum(block).toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

/** Zero bytes that pad an entry body to a whole block. */
export function paddingSize(size: number): number {
  return (BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE;
}

function cString(block: Buffer, offset: number, width: number): string {
  const field = block.subarray(offset, offset + width);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? width : end).toString('utf8');
}

function readSize(block: Buffer): number {
  if (block[124] === 0x80) {
    const value = block.readBigUInt64BE(128);
    return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : -1;
  }
  const text = cString(block, 124, 12);
  return /^[0-7]{1,11}$/.test(text) ? parseInt(text, 8) : -1;
}

function refuse(code: string, message: string): KdeliverError {
  return new KdeliverError('verification', code, message, {
    hint: 'The package is damaged or was tampered with; get a fresh copy from its builder.',
  });
}

export function isZeroBlock(block: Buffer): boolean {
  return block.every((byte) => byte === 0);
}

/**
 * Checks one header block (not a zero block) and returns the entry it describes.
 * `position` says where the header is, for messages about headers whose name cannot be trusted.
 */
export function decodeHeader(block: Buffer, position: string): { name: string; size: number } {
  const stored = cString(block, 148, 8).trim();
  if (!/^[0-7]{1,7}$/.test(stored) || parseInt(stored, 8) !== checksum(block))
    throw refuse('PACKAGE_ENTRY_HEADER_INVALID', `the tar header ${position} has a wrong checksum`);
  const prefix = cString(block, 345, 155);
  const base = cString(block, 0, 100);
  const name = prefix ? `${prefix}/${base}` : base;
  const type = String.fromCharCode(block[156]!);
  const refusedType = REFUSED_TYPES[type];
  if (refusedType)
    throw refuse(
      'PACKAGE_ENTRY_TYPE_REFUSED',
      `entry ${name} is ${refusedType}; packages hold only regular files`,
    );
  if (type !== '0')
    throw refuse('PACKAGE_ENTRY_TYPE_REFUSED', `entry ${name} has unknown tar type ${JSON.stringify(type)}`);
  if (!isSafeEntryName(name))
    throw refuse(
      'PACKAGE_ENTRY_UNSAFE',
      `entry ${name} is not a safe relative path (absolute, \`..\`, or odd characters)`,
    );
  const size = readSize(block);
  if (size < 0) throw refuse('PACKAGE_ENTRY_HEADER_INVALID', `entry ${name} has a malformed size field`);
  if (!encodeHeader(name, size).equals(block))
    throw refuse(
      'PACKAGE_ENTRY_HEADER_INVALID',
      `entry ${name} has a non-canonical tar header (mode, owner, time or padding differ from what kdeliver writes)`,
    );
  return { name, size };
}
