/**
 * A package may be split into numbered parts (`pkg.tar.zst.000`, `.001`, …) to fit media
 * with a file size limit. Writers fill parts in order; readers see one continuous stream,
 * given the first part or the base name.
 */
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { KdeliverError } from '../errors.ts';

const PART_SUFFIX = /\.(\d{3})$/;

export function partName(base: string, index: number): string {
  return `${base}.${String(index).padStart(3, '0')}`;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isFile(),
    () => false,
  );
}

/** The files that make up the package at `path`: itself, or its parts in order. */
export async function resolvePackageFiles(path: string): Promise<string[]> {
  const suffix = PART_SUFFIX.exec(path);
  if (suffix && suffix[1] !== '000') {
    throw new KdeliverError(
      'input',
      'PACKAGE_PART_NOT_FIRST',
      `${path} is not the first part of a split package`,
      {
        hint: `Give the first part (${partName(path.slice(0, -4), 0)}) or the base name.`,
      },
    );
  }
  if (!suffix && (await isFile(path))) return [path];
  const base = suffix ? path.slice(0, -4) : path;
  const parts: string[] = [];
  while (await isFile(partName(base, parts.length))) parts.push(partName(base, parts.length));
  if (parts.length === 0)
    throw new KdeliverError(
      'input',
      'PACKAGE_NOT_FOUND',
      `no package at ${path} (nor parts ${partName(base, 0)}, …)`,
      {
        hint: 'Check the path of the package file.',
      },
    );
  return parts;
}

/** Bytes read from a package file at a time. */
const READ_SIZE = 256 * 1024;

/**
 * The bytes of all parts, one after the other, from `offset` on, read into three buffers
 * in turn, the next read under way while the consumer works on the chunk it has: a chunk
 * stays valid until the second `next()` after it, so a consumer that keeps bytes longer
 * copies them. A fresh buffer per read would cost a page fault per 4 KiB and a garbage
 * collection every few megabytes — over a gigabyte package, seconds of CPU per pass.
 */
export async function* readPackageFiles(files: string[], offset = 0): AsyncGenerator<Buffer> {
  const buffers = Array.from({ length: 3 }, () => Buffer.allocUnsafeSlow(READ_SIZE));
  let turn = 0;
  let skip = offset; // bytes of the parts before `offset`
  for (const file of files) {
    const handle = await open(file, 'r');
    let ahead: Promise<{ bytesRead: number }> | undefined;
    try {
      if (skip > 0) {
        const { size } = await handle.stat();
        if (skip >= size) {
          skip -= size;
          continue;
        }
      }
      let position = skip;
      ahead = handle.read(buffers[turn]!, 0, READ_SIZE, position);
      for (;;) {
        const { bytesRead } = await ahead;
        ahead = undefined;
        if (bytesRead === 0) break;
        const buffer = buffers[turn]!;
        position += bytesRead;
        // The buffer read into now held the chunk before the one about to be handed out.
        turn = (turn + 1) % buffers.length;
        ahead = handle.read(buffers[turn]!, 0, READ_SIZE, position);
        yield buffer.subarray(0, bytesRead);
      }
      skip = 0;
    } finally {
      await ahead?.catch(() => {});
      await handle.close();
    }
  }
}

/**
 * Writes a stream into `output`, or into parts of at most `splitSize` bytes. Files are
 * written under temporary names and renamed only when everything was written, and
 * parts left over from an earlier, longer build are removed.
 */
export async function writePackageFiles(
  chunks: AsyncIterable<Buffer>,
  output: string,
  splitSize: number | undefined,
): Promise<string[]> {
  const finalNames: string[] = [];
  const temporary = (name: string) => `${name}.partial`;
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  let written = 0;
  const startFile = async () => {
    await handle?.close();
    const name = splitSize === undefined ? output : partName(output, finalNames.length);
    finalNames.push(name);
    handle = await open(temporary(name), 'w');
    written = 0;
  };
  try {
    await startFile();
    for await (const chunk of chunks) {
      for (let offset = 0; offset < chunk.length;) {
        if (splitSize !== undefined && written === splitSize) await startFile();
        const room = splitSize === undefined ? chunk.length - offset : splitSize - written;
        const piece = chunk.subarray(offset, offset + Math.min(room, chunk.length - offset));
        await handle!.write(piece);
        written += piece.length;
        offset += piece.length;
      }
    }
    await handle!.sync();
    await handle!.close();
    handle = undefined;
  } catch (error) {
    await handle?.close();
    await Promise.all(finalNames.map((name) => rm(temporary(name), { force: true })));
    throw error;
  }
  for (const name of finalNames) await rename(temporary(name), name);
  await removeStaleParts(output, splitSize === undefined ? 0 : finalNames.length);
  // An unsplit package of the same name would shadow the parts for readers given the base name.
  if (splitSize !== undefined) await rm(output, { force: true });
  return finalNames;
}

async function removeStaleParts(base: string, keep: number): Promise<void> {
  const prefix = `${basename(base)}.`;
  for (const entry of await readdir(dirname(base))) {
    const suffix = PART_SUFFIX.exec(entry);
    if (entry.startsWith(prefix) && entry.length === prefix.length + 3 && suffix && Number(suffix[1]) >= keep)
      await rm(join(dirname(base), entry), { force: true });
  }
}
