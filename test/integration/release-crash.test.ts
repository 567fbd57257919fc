import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubernetesIdOf } from '../../src/engine/kubernetes-id.ts';
import { StateStore } from '../../src/state/store.ts';
import { CLI } from '../helpers/cli.ts';
import { kubectl, kubectlJson } from '../helpers/kubectl.ts';
import { ReleaseWorkspace, configMap, deployment, namespace, service, unique } from '../helpers/release.ts';

let workspace: ReleaseWorkspace;
beforeAll(async () => {
  workspace = new ReleaseWorkspace(await mkdtemp(join(tmpdir(), 'kdeliver-crash-')));
});
afterAll(async () => {
  await rm(workspace.dir, { recursive: true, force: true });
});

/**
 * Runs `kdeliver apply -y` and kills it with SIGKILL `afterMs` after its first progress
 * line (the plan is made and the release started), unless it ended before.
 */
function applyKilledAfter(spec: string, afterMs: number): Promise<number | null> {
  const child = spawn(process.execPath, [CLI, 'apply', '--spec', spec, '-y', ...workspace.siteFlags], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let timer: NodeJS.Timeout | undefined;
  child.stderr.on('data', (chunk: Buffer) => {
    if (timer === undefined && chunk.toString().includes('❯')) {
      timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
    }
  });
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    }),
  );
}

describe('kill -9 during apply', () => {
  it('resumes after 20 kills at random points, ending with the state equal to the cluster', async () => {
    const ns = unique('crash');
    const variant = (letter: 'A' | 'B') => [
      namespace(ns),
      ...(letter === 'A' ? ['one', 'two', 'three', 'four'] : ['one', 'two', 'five', 'six']).map((name) =>
        configMap(ns, `cm-${name}`, { variant: letter }),
      ),
      service(ns, 'web'),
      deployment(ns, 'web', `example.invalid/web:${letter}`),
      deployment(ns, 'api', 'example.invalid/api:1'),
    ];
    const specs = { A: variant('A'), B: variant('B') };
    const killed: (number | null)[] = [];
    for (let round = 0; round < 20; round++) {
      const letter = round % 2 === 0 ? 'A' : 'B';
      const spec = await workspace.spec(ns, specs[letter]);
      killed.push(await applyKilledAfter(spec, Math.random() * 700));
    }
    // Most runs die mid-way; those that end before their kill must have succeeded.
    expect(killed.filter((code) => code === null).length).toBeGreaterThanOrEqual(5);
    expect(killed.filter((code) => code !== null && code !== 0)).toEqual([]);

    const spec = await workspace.spec(ns, specs.B);
    const final = await workspace.kdeliver(['apply', '--spec', spec, '-y']);
    expect(final.code, final.stderr).toBe(0);
    expect(await workspace.integrity()).toBe('ok');

    const store = await StateStore.open(workspace.statePath);
    const history = await store.history('default', ns);
    const latest = history.find((release) => release.phase === 'succeeded');
    expect(history.every((release) => release.phase === 'succeeded' || release.phase === 'failed')).toBe(
      true,
    );
    const recorded = await store.resources(latest!.id);
    store.close();
    expect(recorded.map(({ resource }) => resource.id).sort()).toEqual(specs.B.map(({ id }) => id).sort());
    for (const { resource } of recorded) {
      const id = kubernetesIdOf(resource)!;
      const args = ['get', id.kind, id.name];
      const live = await kubectlJson(id.namespace ? [...args, '-n', id.namespace] : args);
      expect(live).toMatchObject(resource.attributes);
    }
    const configMaps = await kubectlJson(['get', 'configmaps', '-n', ns]);
    expect(
      (configMaps.items as { metadata: { name: string } }[])
        .map((item) => item.metadata.name)
        .filter((name) => name.startsWith('cm-'))
        .sort(),
    ).toEqual(['cm-five', 'cm-one', 'cm-six', 'cm-two']);
    expect((await kubectl(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=30s'])).code).toBe(0);
  });
});
