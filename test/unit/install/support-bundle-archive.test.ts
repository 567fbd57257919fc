import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isKdeliverError } from '../../../src/errors.ts';
import { writeArchive } from '../../../src/install/support-bundle/archive.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kdeliver-archive-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The system tar's verbose listing: an independent reader of what was written. */
function tarListing(file: string): string[] {
  const listed = spawnSync('tar', ['-tvzf', file], { encoding: 'utf8' });
  expect(listed.status, listed.stderr).toBe(0);
  return listed.stdout.split('\n').filter(Boolean);
}

describe('writeArchive', () => {
  it('writes a gzipped tar in archive order, plain files owned by 0 with the given time', async () => {
    const file = join(dir, 'bundle.tar.gz');
    const long = `logs/ns/${'p'.repeat(120)}/c.log`;
    const size = await writeArchive(
      file,
      [
        { path: 'state.db', data: new Uint8Array([0, 1, 2, 255]) },
        { path: long, data: 'line\n' },
        { path: 'bundle.json', data: '{}\n' },
        { path: 'events/ns.yaml', data: '' },
      ],
      new Date('2026-01-02T03:04:00Z'),
    );
    expect(size).toBe((await readFile(file)).length);
    const listing = tarListing(file);
    expect(listing.map((line) => line.split(/\s+/).at(-1))).toEqual([
      'bundle.json',
      'events/ns.yaml',
      long,
      'state.db',
    ]);
    for (const line of listing) expect(line).toMatch(/^-rw-r--r-- 0\/0 .* 2026-01-02 /);
    const extracted = spawnSync('tar', ['-xzf', file, '-C', dir]);
    expect(extracted.status).toBe(0);
    expect([...(await readFile(join(dir, 'state.db')))]).toEqual([0, 1, 2, 255]);
    expect(await readFile(join(dir, long), 'utf8')).toBe('line\n');
    expect(await readdir(dir)).not.toContainEqual(expect.stringMatching(/\.tmp$/));
  });

  it('replaces an existing file whole', async () => {
    const file = join(dir, 'bundle.tar.gz');
    await writeFile(file, 'old');
    await writeArchive(file, [{ path: 'bundle.json', data: '{}\n' }], new Date());
    expect(tarListing(file)).toHaveLength(1);
    expect(await readdir(dir)).toEqual(['bundle.tar.gz']);
  });

  it('fails with a kdeliver error and leaves nothing behind when the directory is missing', async () => {
    const file = join(dir, 'missing', 'bundle.tar.gz');
    const error = await writeArchive(file, [{ path: 'bundle.json', data: '{}' }], new Date()).catch((e) => e);
    expect(isKdeliverError(error) && error.code).toBe('SUPPORT_BUNDLE_WRITE_FAILED');
    expect(await readdir(dir)).toEqual([]);
  });
});
