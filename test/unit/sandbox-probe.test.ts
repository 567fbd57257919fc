import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, waitUntil } from '../../src/sandbox/probe.ts';
import { isRunning, startDaemon, stopDaemon } from '../../src/sandbox/processes.ts';

describe('sandbox processes and probes', () => {
  it('finds a port that can be bound', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve, reject) =>
      server.once('error', reject).listen(port, '127.0.0.1', resolve),
    );
    server.close();
  });

  it('fails fast with the end of the log when a daemon dies during start-up', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kdeliver-probe-'));
    const daemon = startDaemon(
      'crasher',
      '/bin/sh',
      ['-c', 'echo "listen: address in use"; exit 3'],
      join(dir, 'crasher.log'),
    );
    const started = Date.now();
    await expect(
      waitUntil('crasher', async () => false, { timeoutMs: 60_000, process: daemon }),
    ).rejects.toMatchObject({
      code: 'SANDBOX_START_FAILED',
      message: 'crasher exited during start-up: listen: address in use',
    });
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('times out with the daemon named when it never becomes ready', async () => {
    await expect(waitUntil('never', async () => false, { timeoutMs: 300 })).rejects.toMatchObject({
      code: 'SANDBOX_START_TIMEOUT',
      message: 'never was not ready after 0.3s',
    });
  });

  it('stops a daemon that ignores SIGTERM with SIGKILL after the grace period', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kdeliver-probe-'));
    const daemon = startDaemon(
      'stubborn',
      '/bin/sh',
      ['-c', 'trap "" TERM; while true; do sleep 0.1; done'],
      join(dir, 'stubborn.log'),
    );
    await waitUntil('stubborn', async () => isRunning(daemon), { timeoutMs: 5_000 });
    await stopDaemon(daemon, 500);
    expect(isRunning(daemon)).toBe(false);
  });
});
