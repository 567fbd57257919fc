import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureDebianTool } from '../../src/util/debian.ts';
import { runCli } from '../helpers/cli.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    sandboxDir: string;
    sandboxEnv: Record<string, string>;
  }
}

/**
 * Starts one real sandbox (control plane, simulated node, two registries) through the CLI
 * for the whole integration run, and stops it afterwards.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // skopeo is the independent client the tests check registries with.
  await ensureDebianTool('skopeo', 'skopeo', 'the integration tests');
  const dir = await mkdtemp(join(tmpdir(), 'kdeliver-sandbox-'));
  const up = await runCli(['sandbox', 'up', '--dir', dir]);
  process.stderr.write(up.stderr);
  if (up.code !== 0) throw new Error(`kdeliver sandbox up failed (exit ${up.code})`);
  const env = await runCli(['sandbox', 'env', '--dir', dir, '--json']);
  if (env.code !== 0) throw new Error(`kdeliver sandbox env failed: ${env.stderr}`);
  project.provide('sandboxDir', dir);
  project.provide('sandboxEnv', JSON.parse(env.stdout) as Record<string, string>);
  return async () => {
    const down = await runCli(['sandbox', 'down', '--dir', dir]);
    if (down.code !== 0) process.stderr.write(down.stderr);
    await rm(dir, { recursive: true, force: true });
  };
}
