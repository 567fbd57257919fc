/**
 * `kdeliver sandbox up` starts etcd and the registries side by side: when one fails, every
 * daemon started so far, or started by a task still under way, is stopped. etcd is made to
 * fail through its own environment (ETCD_* variables are its flags).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/sandbox/processes.ts';
import { runCli } from '../helpers/cli.ts';

/** Pids of live processes whose command line mentions `dir`. */
function processesUsing(dir: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir) && isAlive(pid);
      } catch {
        return false;
      }
    });
}

let dir: string;

afterAll(async () => {
  for (const pid of processesUsing(dir)) process.kill(pid, 'SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('sandbox up when a daemon fails to start', () => {
  it('exits 7 naming it, and leaves nothing running', async () => {
    dir = await mkdtemp('/tmp/sandbox-fail-');
    const result = await runCli(['sandbox', 'up', '--dir', dir], {
      env: { ...process.env, ETCD_QUOTA_BACKEND_BYTES: 'not-a-number' },
    });
    expect(result.code).toBe(7);
    expect(result.stderr).toContain('Error [SANDBOX_START_FAILED]: etcd exited during start-up');
    // Daemons get SIGTERM and a moment to go.
    for (let i = 0; i < 100 && processesUsing(dir).length > 0; i++) await sleep(100);
    expect(processesUsing(dir)).toEqual([]);
  });
});
