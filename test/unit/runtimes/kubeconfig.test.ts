import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeconfig } from '../../../src/runtimes/kubernetes/kubeconfig.ts';

const kubeconfig = `
apiVersion: v1
kind: Config
clusters:
  - name: a
    cluster: { server: 'https://a.example:6443' }
  - name: b
    cluster: { server: 'https://b.example:6443' }
users:
  - name: u
    user: { token: t }
contexts:
  - name: site-a
    context: { cluster: a, user: u }
  - name: site-b
    context: { cluster: b, user: u }
current-context: site-a
`;

let dir: string;
let path: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kdeliver-kubeconfig-'));
  path = join(dir, 'config');
  await writeFile(path, kubeconfig);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('loadKubeconfig', () => {
  it('uses the current context of an explicit file, or the named one', () => {
    expect(loadKubeconfig({ path }).getCurrentCluster()?.server).toBe('https://a.example:6443');
    expect(loadKubeconfig({ path, context: 'site-b' }).getCurrentCluster()?.server).toBe(
      'https://b.example:6443',
    );
  });

  it('falls back to KUBECONFIG', () => {
    const previous = process.env.KUBECONFIG;
    process.env.KUBECONFIG = path;
    try {
      expect(loadKubeconfig({ context: 'site-b' }).getCurrentCluster()?.server).toBe(
        'https://b.example:6443',
      );
    } finally {
      if (previous === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = previous;
    }
  });

  it('fails with environment errors for a missing file and an unknown context', () => {
    expect(() => loadKubeconfig({ path: join(dir, 'nope') })).toThrow(
      expect.objectContaining({ kind: 'environment', code: 'KUBECONFIG_UNREADABLE' }),
    );
    expect(() => loadKubeconfig({ path, context: 'site-c' })).toThrow(
      expect.objectContaining({ code: 'KUBECONFIG_CONTEXT_UNKNOWN', hint: 'Use one of: site-a, site-b.' }),
    );
  });
});
