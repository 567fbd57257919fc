import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { SpecResource } from '../../src/runtimes/runtime.ts';
import { k8s } from '../unit/engine/resources.ts';
import { runCli, runProgram, type CliResult } from './cli.ts';

/** A workspace for release commands: its own state file, the shared sandbox's kubeconfig. */
export class ReleaseWorkspace {
  readonly dir: string;
  readonly statePath: string;

  constructor(dir: string) {
    this.dir = dir;
    this.statePath = join(dir, 'state.db');
  }

  /** The flags every release command of this workspace gets. */
  get siteFlags(): string[] {
    return ['--state', this.statePath, '--kubeconfig', inject('sandboxEnv').KUBECONFIG!];
  }

  /** Writes a spec (Kusion's shape) and returns its path; the file name is the stack. */
  async spec(stack: string, resources: SpecResource[]): Promise<string> {
    const path = join(this.dir, `${stack}.yaml`);
    await writeFile(path, JSON.stringify({ resources }, null, 2));
    return path;
  }

  kdeliver(args: string[]): Promise<CliResult> {
    return runCli([...args, ...this.siteFlags]);
  }

  /** `sqlite3 FILE 'pragma integrity_check'` with the system's own sqlite3. */
  async integrity(): Promise<string> {
    const result = await runProgram('sqlite3', [this.statePath, 'pragma integrity_check']);
    return result.stdout.trim();
  }
}

export const namespace = (name: string) => k8s('v1', 'Namespace', undefined, name);

export const configMap = (ns: string, name: string, data: Record<string, string>) =>
  k8s('v1', 'ConfigMap', ns, name, { body: { data } });

export function deployment(ns: string, name: string, image: string, env: Record<string, string> = {}) {
  const labels = { app: name };
  const container = {
    name,
    image,
    ...(Object.keys(env).length > 0
      ? { env: Object.entries(env).map(([key, value]) => ({ name: key, value })) }
      : {}),
  };
  return k8s('apps/v1', 'Deployment', ns, name, {
    body: {
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [container] } },
      },
    },
  });
}

export const service = (ns: string, name: string) =>
  k8s('v1', 'Service', ns, name, { body: { spec: { selector: { app: name }, ports: [{ port: 80 }] } } });

export const secret = (ns: string, name: string, value: string) =>
  k8s('v1', 'Secret', ns, name, { body: { stringData: { password: value } } });

export const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}`;
