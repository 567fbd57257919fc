/**
 * Lists where each file's bytes lie inside an uncompressed tar file, so single entries
 * can be streamed straight from disk without reading what comes before them. Header
 * decoding (ustar, pax and GNU long names) is the tar package's.
 */
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import { Header, Pax, type HeaderData } from 'tar';
import { KdeliverError } from '../../errors.ts';

export interface TarEntry {
  /** Byte offset of the content in the tar file. */
  offset: number;
  size: number;
}

const BLOCK = 512;

function normalize(path: string): string {
  return posix.normalize(path.replace(/^\.?\/+/, '')).replace(/\/$/, '');
}

/** Regular files by normalized path; symbolic links resolve to their targets. */
export async function indexTar(path: string): Promise<Map<string, TarEntry>> {
  const files = new Map<string, TarEntry>();
  const links = new Map<string, string>();
  const handle = await open(path, 'r');
  try {
    const block = Buffer.alloc(BLOCK);
    let position = 0;
    let extended: HeaderData | undefined;
    let global: HeaderData | undefined;
    let longPath: string | undefined;
    let longLink: string | undefined;
    const readBody = async (size: number) => {
      const body = Buffer.alloc(size);
      await handle.read(body, 0, size, position);
      return body.toString('utf8').replace(/\0+$/, '');
    };
    for (;;) {
      const { bytesRead } = await handle.read(block, 0, BLOCK, position);
      if (bytesRead < BLOCK) break;
      const header = new Header(block, 0, extended, global);
      if (header.nullBlock) break;
      if (!header.cksumValid)
        throw new KdeliverError(
          'input',
          'TAR_INVALID',
          `${path} is not a valid tar file (bad header at byte ${position}).`,
        );
      position += BLOCK;
      const size = header.size ?? 0;
      const type = header.type;
      if (type === 'ExtendedHeader') extended = Pax.parse(await readBody(size), extended, false);
      else if (type === 'GlobalExtendedHeader') global = Pax.parse(await readBody(size), global, true);
      else if (type === 'NextFileHasLongPath') longPath = await readBody(size);
      else if (type === 'NextFileHasLongLinkpath') longLink = await readBody(size);
      else {
        const name = normalize(longPath ?? header.path ?? '');
        if (type === 'File' || type === 'OldFile' || type === 'ContiguousFile')
          files.set(name, { offset: position, size });
        else if (type === 'SymbolicLink' || type === 'Link') {
          const target = longLink ?? header.linkpath ?? '';
          links.set(name, normalize(type === 'Link' ? target : posix.join(posix.dirname(name), target)));
        }
        extended = undefined;
        longPath = undefined;
        longLink = undefined;
      }
      position += Math.ceil(size / BLOCK) * BLOCK;
    }
  } finally {
    await handle.close();
  }
  for (const [name, target] of links) {
    const entry = files.get(target);
    if (entry) files.set(name, entry);
  }
  return files;
}
