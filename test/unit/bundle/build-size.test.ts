import { describe, expect, it } from 'vitest';
import { parseSize } from '../../../src/bundle/size.ts';
import { formatBytes, formatTransfer } from '../../../src/ui/bytes.ts';

describe('parseSize', () => {
  it.each([
    ['1', 1],
    ['4096', 4096],
    ['100b', 100],
    ['4G', 4_000_000_000],
    ['4GB', 4_000_000_000],
    ['512M', 512_000_000],
    ['512m', 512_000_000],
    ['1.5k', 1500],
    ['100Mi', 100 * 1024 * 1024],
    ['100MiB', 100 * 1024 * 1024],
    ['2Gi', 2 * 1024 ** 3],
    ['1T', 1e12],
    [' 8 Ki ', 8192],
  ])('reads %j as %d bytes', (text, bytes) => {
    expect(parseSize(text, '--split-size')).toBe(bytes);
  });

  it('keeps 4G below the FAT32 file size limit', () => {
    expect(parseSize('4G', '--split-size')).toBeLessThan(2 ** 32 - 1);
  });

  it.each(['', '0', '0.1', 'G', '4X', '-1M', '4 G B', '1e3', '4Gib0', '99999999999T'])(
    'refuses %j as a usage error naming the flag',
    (text) => {
      expect(() => parseSize(text, '--split-size')).toThrow(
        expect.objectContaining({
          kind: 'usage',
          code: 'SIZE_INVALID',
          message: expect.stringContaining('--split-size'),
        }),
      );
    },
  );
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.0 kB'],
    [1_234_567, '1.2 MB'],
    [2_500_000_000, '2.5 GB'],
    [3e15, '3000.0 TB'],
  ])('shows %d as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('formatTransfer', () => {
  it('shows bytes done of the total, the rate and the time left', () => {
    expect(formatTransfer(500_000_000, 2_000_000_000, 2)).toBe('500.0 MB / 2.0 GB, 250.0 MB/s, 6s left');
  });

  it('shows no time left before any byte arrived', () => {
    expect(formatTransfer(0, 1000, 0)).toBe('0 B / 1.0 kB, 0 B/s');
  });
});
