import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesRuntime } from '../../src/runtimes/kubernetes/runtime.ts';
import { isAlive } from '../../src/sandbox/processes.ts';
import { readSandboxState } from '../../src/sandbox/sandbox.ts';
import { runCli } from '../helpers/cli.ts';
import { kubectlJson } from '../helpers/kubectl.ts';

/** Kills a process this test owns, as a crash would, and waits until it is gone. */
async function kill(pid: number): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(50);
}

/**
 * Restarting the API server is intrusive, so this file runs its own sandbox rather than
 * the shared one.
 */
describe('Kubernetes runtime across an API server restart', () => {
  let dir: string;
  let restartedPid: number | undefined;

  beforeAll(async () => {
    dir = await mkdtemp('/tmp/rt-restart-');
    const up = await runCli(['sandbox', 'up', '--dir', dir]);
    if (up.code !== 0) throw new Error(`sandbox up failed: ${up.stderr}`);
  });

  afterAll(async () => {
    if (restartedPid !== undefined) await kill(restartedPid);
    await runCli(['sandbox', 'down', '--dir', dir]);
    await rm(dir, { recursive: true, force: true });
  });

  it('retries through a brief outage and applies once the API server is back', async () => {
    const state = await readSandboxState(dir);
    const apiServer = state!.processes.find((p) => p.name === 'kube-apiserver')!;
    const [binary, ...args] = readFileSync(`/proc/${apiServer.pid}/cmdline`, 'utf8')
      .split('\0')
      .filter(Boolean);
    const runtime = KubernetesRuntime.fromKubeconfig({ path: state!.kubeconfig });
    const namespace = {
      id: 'v1:Namespace:outage',
      type: 'Kubernetes',
      attributes: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'outage' } },
    };
    await runtime.apply(namespace);

    // A crash, not a graceful stop: connections drop and new ones are refused at once.
    await kill(apiServer.pid);
    const settings = {
      id: 'v1:ConfigMap:outage:settings',
      type: 'Kubernetes',
      attributes: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'settings', namespace: 'outage' },
        data: { survived: 'yes' },
      },
    };
    let settled = false;
    const applying = runtime.apply(settings).finally(() => (settled = true));
    await sleep(2_000);
    expect(settled).toBe(false);
    const log = openSync(apiServer.log, 'a');
    try {
      const child = spawn(binary!, args, { detached: true, stdio: ['ignore', log, log] });
      child.unref();
      restartedPid = child.pid;
    } finally {
      closeSync(log);
    }
    const applied = await applying;
    expect(applied.data).toEqual({ survived: 'yes' });
    const live = await kubectlJson(['get', 'configmap', 'settings', '-n', 'outage'], state!.kubeconfig);
    expect(live.data).toEqual({ survived: 'yes' });
  });
});
