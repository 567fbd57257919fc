import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveBinaries } from '../../src/sandbox/binaries.ts';

const ALL = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'kwok',
  'kwok-stages.yaml',
  'kwok-storage-class.yaml',
];

async function fakeBinaries(names: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kdeliver-assets-'));
  for (const name of names) {
    await writeFile(join(dir, name), '#!/bin/sh\n');
    await chmod(join(dir, name), 0o755);
  }
  return dir;
}

describe('sandbox binaries', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('takes binaries from KUBEBUILDER_ASSETS without building anything', async () => {
    const assets = await fakeBinaries(ALL);
    vi.stubEnv('KUBEBUILDER_ASSETS', assets);
    vi.stubEnv('KDELIVER_CACHE_DIR', await mkdtemp(join(tmpdir(), 'kdeliver-cache-')));
    const built: string[] = [];
    const binaries = await resolveBinaries({ onBuild: (component) => built.push(component) });
    expect(built).toEqual([]);
    for (const name of ALL) expect(binaries[name as keyof typeof binaries]).toBe(join(assets, name));
  });

  it('says exactly what to install when Go is missing and nothing is cached', async () => {
    // envtest assets usually hold only etcd and kube-apiserver: the rest must be built.
    vi.stubEnv('KUBEBUILDER_ASSETS', await fakeBinaries(['etcd', 'kube-apiserver']));
    vi.stubEnv('KDELIVER_CACHE_DIR', await mkdtemp(join(tmpdir(), 'kdeliver-cache-')));
    vi.stubEnv('PATH', await fakeBinaries([]));
    const built: string[] = [];
    await expect(resolveBinaries({ onBuild: (component) => built.push(component) })).rejects.toMatchObject({
      code: 'GO_MISSING',
      kind: 'environment',
      hint: expect.stringMatching(/Install Go 1\.26 or newer.*KUBEBUILDER_ASSETS/s),
    });
    expect(built).toEqual(['kubernetes']);
  });
});
