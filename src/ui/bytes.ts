/** Byte counts and transfer progress in words, for progress lines and summaries. */

/** `1.5 GB`, `312.0 MB`, `900 B`: decimal units, as `--split-size` reads them by default. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `1.2 GB / 2.0 GB, 210.5 MB/s, 4s left` after `seconds` of a transfer of `total` bytes. */
export function formatTransfer(done: number, total: number, seconds: number): string {
  const rate = seconds > 0 ? done / seconds : 0;
  const left = rate > 0 ? `, ${Math.ceil((total - done) / rate)}s left` : '';
  return `${formatBytes(done)} / ${formatBytes(total)}, ${formatBytes(rate)}/s${left}`;
}
