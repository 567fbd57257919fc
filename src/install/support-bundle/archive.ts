import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Header, Pack, ReadEntry } from 'tar';
import { KdeliverError, messageOf } from '../../errors.ts';
import { inArchiveOrder, type BundleEntry } from './contents.ts';

/**
 * Writes the entries as a gzipped tar to `file`, in archive order, each a plain file
 * (0644, owner 0) dated `mtime`. The archive streams into a temporary file beside `file`
 * that is flushed and renamed over it, so `file` is either the old one or a whole bundle.
 * Returns the archive's size.
 */
export async function writeArchive(
  file: string,
  entries: readonly BundleEntry[],
  mtime: Date,
): Promise<number> {
  const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const pack = new Pack({ gzip: true, portable: true });
    // flush: the bytes reach the disk before the rename makes them the bundle.
    const written = pipeline(pack, createWriteStream(temporary, { flags: 'wx', flush: true }));
    for (const { path, data } of inArchiveOrder(entries)) {
      const body =
        typeof data === 'string'
          ? Buffer.from(data)
          : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      const entry = new ReadEntry(new Header({ path, type: 'File', mode: 0o644, size: body.length, mtime }));
      pack.add(entry);
      entry.end(body);
    }
    pack.end();
    await written;
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new KdeliverError(
      'operation',
      'SUPPORT_BUNDLE_WRITE_FAILED',
      `cannot write ${file}: ${messageOf(error)}`,
      {
        hint: 'Check that the directory exists, is writable and has free space, or pass another -o.',
        cause: error,
      },
    );
  }
  return (await stat(file)).size;
}
