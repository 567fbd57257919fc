/** Byte sizes as written on the command line (`--split-size 4G`). */
import { KdeliverError } from '../errors.ts';

/**
 * Decimal units (K, M, G, T, with or without B) and binary ones (Ki, Mi, Gi, Ti, with or
 * without B). Decimal by default because media limits bite: FAT32 holds at most 4 GiB − 1
 * per file, so `4G` must stay below it.
 */
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
  ki: 2 ** 10,
  mi: 2 ** 20,
  gi: 2 ** 30,
  ti: 2 ** 40,
};

const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgt]i?)?b?$/i;

export function parseSize(text: string, flag: string): number {
  const match = SIZE.exec(text.trim());
  const unit = UNITS[(match?.[2] ?? '').toLowerCase()];
  const bytes = match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1)
    throw new KdeliverError('usage', 'SIZE_INVALID', `${flag} ${JSON.stringify(text)} is not a byte size`, {
      hint: 'Write a positive number of bytes, optionally with a unit: 4G, 512M, 100Mi (K/M/G/T are powers of 1000, Ki/Mi/Gi/Ti powers of 1024).',
    });
  return bytes;
}
