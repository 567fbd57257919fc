import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateStore } from '../../../src/state/store.ts';
import { runProgram } from '../../helpers/cli.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kdeliver-crash-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Starts a writer looping forever and SIGKILLs it at a random moment after `minWrites` writes. */
async function killMidWrite(path: string, minWrites: number): Promise<number> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'state-writer.ts'), path, 'prod', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let written = 0;
  child.stdout.on('data', (chunk: Buffer) => (written += chunk.toString().split('\n').length - 1));
  while (written < minWrites) await sleep(5);
  await sleep(Math.random() * 40);
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  return written;
}

describe('release state under SIGKILL', () => {
  it('is always a valid database with every acknowledged write in it', { timeout: 120_000 }, async () => {
    const path = join(dir, 'state.db');
    let acknowledged = 0;
    for (let round = 0; round < 4; round++) {
      acknowledged = Math.max(acknowledged, await killMidWrite(path, acknowledged + 3));
      // sqlite3, an independent reader, checks the file as the crash left it.
      const check = await runProgram('sqlite3', [
        path,
        'PRAGMA integrity_check; SELECT count(*) FROM releases;',
      ]);
      expect(check.stderr).toBe('');
      const [integrity, count] = check.stdout.trim().split('\n');
      expect(integrity).toBe('ok');
      expect(Number(count)).toBeGreaterThanOrEqual(acknowledged);
      acknowledged = Number(count);
    }
    // The killed writer's lock goes stale and a new writer gets through.
    const store = await StateStore.open(path);
    const next = await store.startRelease({
      project: 'shop',
      stack: 'prod',
      packageDigest: 'sha256:aa',
      operator: 'after',
    });
    expect(next.revision).toBe(acknowledged + 1);
    store.close();
  });
});
