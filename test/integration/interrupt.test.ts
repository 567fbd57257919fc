/**
 * Ctrl-C during `kdeliver apply`: the first SIGINT stops the run gracefully (nothing new
 * starts, the release is recorded as failed, the lock is released, the exit code says
 * what happened), and running the command again completes it.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { ReleaseWorkspace, deployment, namespace, unique } from '../helpers/release.ts';

let workspace: ReleaseWorkspace;
let ns: string;

beforeAll(async () => {
  workspace = new ReleaseWorkspace(await mkdtemp(join(tmpdir(), 'kdeliver-interrupt-')));
  ns = unique('interrupt');
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
  await rm(workspace.dir, { recursive: true, force: true });
});

describe('Ctrl-C during apply', () => {
  it('stops gracefully, records the release as failed, and a rerun completes it', async () => {
    // A chain of Deployments: each waits for the one before to be available.
    const apps = ['a', 'b', 'c', 'd', 'e', 'f'].map((name, i, names) => ({
      ...deployment(ns, name, 'registry.example/app:1'),
      dependsOn: [i === 0 ? `v1:Namespace:${ns}` : `apps/v1:Deployment:${ns}:${names[i - 1]}`],
    }));
    const spec = await workspace.spec('chain', [namespace(ns), ...apps]);
    const args = [CLI, 'apply', '--spec', spec, '--yes', ...workspace.siteFlags];
    const run = spawn(process.execPath, args, {
      env: { ...process.env, ...inject('sandboxEnv') },
      stdio: 'pipe',
    });
    let stderr = '';
    run.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => run.on('close', resolve));
    for (let i = 0; i < 240; i++) {
      if ((await kubectl(['get', 'deployment', 'a', '-n', ns])).code === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    run.kill('SIGINT');
    const code = await exited;
    // Stopped by the user: the run ended on its own terms with the documented code, not by the signal.
    expect(code, stderr).toBe(7);
    expect(stderr).toMatch(/interrupted|stopped by Ctrl-C/);
    expect((await kubectl(['get', 'deployment', 'f', '-n', ns])).code).not.toBe(0);

    const history = await runCli(['state', 'export', '--stack', 'chain', '--state', workspace.statePath]);
    expect(history.code, history.stderr).toBe(0);
    const releases = (JSON.parse(history.stdout) as { releases: { phase: string; error?: string }[] })
      .releases;
    expect(releases.map((release) => release.phase)).toEqual(['failed']);

    const rerun = await workspace.kdeliver(['apply', '--spec', spec, '--yes']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect((await kubectl(['get', 'deployment', 'f', '-n', ns])).code).toBe(0);
    expect(await workspace.integrity()).toBe('ok');
  });
});
