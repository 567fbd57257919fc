import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KubeClient } from '../../src/runtimes/kubernetes/client.ts';
import { loadKubeconfig } from '../../src/runtimes/kubernetes/kubeconfig.ts';
import { StackLease } from '../../src/state/lease-lock.ts';
import { StateStore } from '../../src/state/store.ts';
import { k8s } from '../unit/engine/resources.ts';
import { CLI, runCli } from '../helpers/cli.ts';
import { kubectl, kubectlJson } from '../helpers/kubectl.ts';
import {
  ReleaseWorkspace,
  configMap,
  deployment,
  namespace,
  secret,
  service,
  unique,
} from '../helpers/release.ts';

let workspace: ReleaseWorkspace;
beforeAll(async () => {
  workspace = new ReleaseWorkspace(await mkdtemp(join(tmpdir(), 'kdeliver-release-')));
});
afterAll(async () => {
  await rm(workspace.dir, { recursive: true, force: true });
});

/** A ConfigMap healthy only when a field appears that nothing sets: its wait times out. */
const neverHealthy = (ns: string, name: string, timeout: string) =>
  k8s('v1', 'ConfigMap', ns, name, {
    body: { data: { a: 'b' } },
    extensions: { kdeliver: { timeout, health: { healthyWhen: [{ path: 'data.never', equals: 'x' }] } } },
  });

const SECRET_ONE = 'first-Secret-value-9f1c';
const SECRET_TWO = 'second-Secret-value-4e7a';

describe('kdeliver preview, apply, destroy', () => {
  it('creates, updates, leaves alone and deletes; references resolve; secrets never show', async () => {
    const ns = unique('shop');
    const stack = ns;
    const backend = `http://$kusion_path.v1:Service:${ns}:web.spec.clusterIP:80`;
    const v1 = [
      namespace(ns),
      configMap(ns, 'settings', { mode: 'one' }),
      configMap(ns, 'extra', { keep: 'no' }),
      secret(ns, 'creds', SECRET_ONE),
      service(ns, 'web'),
      deployment(ns, 'web', 'example.invalid/web:1', { BACKEND: backend }),
    ];
    let spec = await workspace.spec(stack, v1);

    const refused = await workspace.kdeliver(['apply', '--spec', spec]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');

    const preview = await workspace.kdeliver(['preview', '--spec', spec]);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toMatch(/Plan: 6 to create/);
    expect(preview.stdout).not.toContain(SECRET_ONE);

    const created = await workspace.kdeliver(['apply', '--spec', spec, '-y']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toContain('6 created');
    const clusterIP = (await kubectlJson(['get', 'service', 'web', '-n', ns])).spec.clusterIP as string;
    const web = await kubectlJson(['get', 'deployment', 'web', '-n', ns]);
    expect(web.spec.template.spec.containers[0].env).toEqual([
      { name: 'BACKEND', value: `http://${clusterIP}:80` },
    ]);
    expect(web.status.availableReplicas).toBe(1);

    // Update: a ConfigMap's data, a Deployment's image and the Secret's value; drop a ConfigMap.
    const v2 = [
      namespace(ns),
      configMap(ns, 'settings', { mode: 'two' }),
      secret(ns, 'creds', SECRET_TWO),
      service(ns, 'web'),
      deployment(ns, 'web', 'example.invalid/web:2', { BACKEND: backend }),
    ];
    spec = await workspace.spec(stack, v2);
    const planned = await workspace.kdeliver(['preview', '--spec', spec, '--json']);
    expect(planned.code, planned.stderr).toBe(0);
    const plan = JSON.parse(planned.stdout) as {
      summary: Record<string, number>;
      steps: { id: string; action: string; diff?: string }[];
    };
    const actions = Object.fromEntries(plan.steps.map((step) => [step.id, step.action]));
    expect(actions).toEqual({
      [`v1:Namespace:${ns}`]: 'unchanged',
      [`v1:ConfigMap:${ns}:settings`]: 'update',
      [`v1:Secret:${ns}:creds`]: 'update',
      [`v1:Service:${ns}:web`]: 'unchanged',
      [`apps/v1:Deployment:${ns}:web`]: 'update',
      [`v1:ConfigMap:${ns}:extra`]: 'delete',
    });
    const secretDiff = plan.steps.find((step) => step.id === `v1:Secret:${ns}:creds`)?.diff ?? '';
    expect(secretDiff).toMatch(/\*\*\* \(sha256:[0-9a-f]{8}…\)/);
    expect(plan.steps.find((step) => step.id.endsWith(':settings'))?.diff).toContain('+  mode: two');
    const textPreview = await workspace.kdeliver(['preview', '--spec', spec]);
    for (const output of [planned.stdout, textPreview.stdout, textPreview.stderr]) {
      expect(output).not.toContain(SECRET_ONE);
      expect(output).not.toContain(SECRET_TWO);
      expect(output).not.toContain(Buffer.from(SECRET_TWO).toString('base64'));
    }

    const updated = await workspace.kdeliver(['apply', '--spec', spec, '-y']);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stderr).toContain('3 updated, 1 deleted, 2 unchanged, 0 failed');
    expect((await kubectlJson(['get', 'configmap', 'settings', '-n', ns])).data).toEqual({ mode: 'two' });
    expect(
      (await kubectlJson(['get', 'deployment', 'web', '-n', ns])).spec.template.spec.containers[0].image,
    ).toBe('example.invalid/web:2');
    expect((await kubectl(['get', 'configmap', 'extra', '-n', ns])).stderr).toContain('NotFound');

    const again = await workspace.kdeliver(['apply', '--spec', spec, '-y', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ phase: 'no-op', counts: { unchanged: 5, updated: 0 } });

    const state = await readFile(workspace.statePath);
    for (const value of [SECRET_ONE, SECRET_TWO]) {
      expect(state.includes(value)).toBe(false);
      expect(state.includes(Buffer.from(value).toString('base64'))).toBe(false);
    }
    expect(await workspace.integrity()).toBe('ok');

    const destroyed = await workspace.kdeliver(['destroy', '--stack', stack, '-y']);
    expect(destroyed.code, destroyed.stderr).toBe(0);
    expect(destroyed.stderr).toContain('5 deleted');
    expect((await kubectl(['get', 'namespace', ns])).stderr).toContain('NotFound');

    const exported = await runCli([
      'state',
      'export',
      '--stack',
      stack,
      '--state',
      workspace.statePath,
      '--json',
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    const history = JSON.parse(exported.stdout) as { releases: { revision: number; phase: string }[] };
    expect(history.releases.map((release) => [release.revision, release.phase])).toEqual([
      [3, 'succeeded'],
      [2, 'succeeded'],
      [1, 'succeeded'],
    ]);
  });

  it('applies a CustomResourceDefinition and a resource of it in one spec', async () => {
    const ns = unique('crd');
    const group = `${ns}.example.com`;
    const crd = k8s('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, `widgets.${group}`, {
      body: {
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
            },
          ],
        },
      },
    });
    const widget = k8s(`${group}/v1`, 'Widget', ns, 'gear', { body: { spec: { teeth: 12 } } });
    const spec = await workspace.spec(ns, [widget, crd, namespace(ns)]);
    const applied = await workspace.kdeliver(['apply', '--spec', spec, '-y']);
    expect(applied.code, applied.stderr).toBe(0);
    expect((await kubectlJson(['get', `widgets.${group}`, 'gear', '-n', ns])).spec).toEqual({ teeth: 12 });
  });

  it('fails the dependents of an invalid object while an independent branch succeeds, exit 7', async () => {
    const ns = unique('branch');
    const invalid = k8s('v1', 'LimitRange', ns, 'limits', { body: { spec: { bogus: true } } });
    const dependent = k8s('v1', 'ResourceQuota', ns, 'quota', {
      body: { spec: { hard: { pods: '10' } } },
      dependsOn: [invalid.id],
    });
    const spec = await workspace.spec(ns, [
      namespace(ns),
      invalid,
      dependent,
      configMap(ns, 'settings', { mode: 'one' }),
      deployment(ns, 'web', 'example.invalid/web:1'),
    ]);
    const applied = await workspace.kdeliver(['apply', '--spec', spec, '-y']);
    expect(applied.code).toBe(7);
    expect(applied.stderr).toContain('RELEASE_FAILED');
    expect(applied.stderr).toContain('bogus');
    expect(applied.stderr).toContain('3 created, 0 updated, 0 deleted, 0 unchanged, 1 failed, 1 skipped');
    expect((await kubectlJson(['get', 'deployment', 'web', '-n', ns])).status.availableReplicas).toBe(1);
    expect((await kubectl(['get', 'resourcequota', 'quota', '-n', ns])).stderr).toContain('NotFound');
    const store = await StateStore.open(workspace.statePath);
    expect((await store.latest('default', ns))?.phase).toBe('failed');
    store.close();
  });

  it('prints the JSON summary of a failed apply with --json, and exits 7', async () => {
    const ns = unique('json-fail');
    const invalid = k8s('v1', 'LimitRange', ns, 'limits', { body: { spec: { bogus: true } } });
    const spec = await workspace.spec(ns, [
      namespace(ns),
      invalid,
      configMap(ns, 'settings', { mode: 'one' }),
    ]);
    const applied = await workspace.kdeliver(['apply', '--spec', spec, '-y', '--json']);
    expect(applied.code).toBe(7);
    const summary = JSON.parse(applied.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      phase: 'failed',
      counts: { created: 2, failed: 1, skipped: 0 },
      failures: [{ id: invalid.id, code: 'K8S_OBJECT_INVALID' }],
      skipped: [],
      error: { kind: 'operation', code: 'RELEASE_FAILED' },
    });
  });

  it('never prints, reports or stores a Secret value the API server quotes back', async () => {
    const ns = unique('secret-echo');
    const value = 'echoed-Secret-value-5d2b';
    // A list where a string belongs: the server refuses it, quoting the list.
    const rejected = k8s('v1', 'Secret', ns, 'creds', { body: { stringData: { password: [value] } } });
    const spec = await workspace.spec(ns, [namespace(ns), rejected]);
    for (const extra of [[], ['--json']]) {
      const applied = await workspace.kdeliver(['apply', '--spec', spec, '-y', ...extra]);
      expect(applied.code).toBe(7);
      expect(`${applied.stdout}${applied.stderr}`).toContain('***');
      expect(`${applied.stdout}${applied.stderr}`).not.toContain(value);
    }
    expect((await readFile(workspace.statePath)).includes(value)).toBe(false);
  });

  it('recreates a resource whose immutable field changes only when allowed', async () => {
    const ns = unique('recreate');
    const web = (track: string) =>
      k8s('apps/v1', 'Deployment', ns, 'web', {
        body: {
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: 'web', track } },
            template: {
              metadata: { labels: { app: 'web', track } },
              spec: { containers: [{ name: 'web', image: 'example.invalid/web:1' }] },
            },
          },
        },
      });
    const first = await workspace.spec(ns, [namespace(ns), web('blue')]);
    expect((await workspace.kdeliver(['apply', '--spec', first, '-y'])).code).toBe(0);
    const uid = (await kubectlJson(['get', 'deployment', 'web', '-n', ns])).metadata.uid as string;

    const second = await workspace.spec(ns, [namespace(ns), web('green')]);
    const preview = await workspace.kdeliver(['preview', '--spec', second]);
    expect(preview.code).toBe(0);
    expect(preview.stdout).toMatch(
      /recreate\s+apps\/v1:Deployment:\S+:web\s+spec\.selector cannot change in place/,
    );
    const refused = await workspace.kdeliver(['apply', '--spec', second, '-y']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('RECREATE_NOT_ALLOWED');
    expect(refused.stderr).toContain(`apps/v1:Deployment:${ns}:web: spec.selector cannot change in place`);
    expect(refused.stderr).toContain('--allow-recreate');
    expect((await kubectlJson(['get', 'deployment', 'web', '-n', ns])).metadata.uid).toBe(uid);

    const recreated = await workspace.kdeliver(['apply', '--spec', second, '-y', '--allow-recreate']);
    expect(recreated.code).toBe(0);
    expect(recreated.stderr).toContain('0 created, 1 updated');
    const live = await kubectlJson(['get', 'deployment', 'web', '-n', ns]);
    expect(live.metadata.uid).not.toBe(uid);
    expect(live.spec.selector.matchLabels.track).toBe('green');
    expect(live.status.availableReplicas).toBe(1);
  });

  it('refuses a second run on a locked stack with exit 8 naming the holder; unlock --force frees it', async () => {
    const ns = unique('lock');
    // The first run holds the lock until its wait times out.
    const slow = neverHealthy(ns, 'slow', '6s');
    const spec = await workspace.spec(ns, [namespace(ns), slow]);
    const first = spawn(process.execPath, [CLI, 'apply', '--spec', spec, '-y', ...workspace.siteFlags], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let firstErr = '';
    const firstDone = new Promise<number | null>((resolve) => {
      first.stderr.on('data', (chunk: Buffer) => (firstErr += chunk.toString()));
      first.on('close', resolve);
    });
    while (!firstErr.includes('waiting until healthy')) await new Promise((r) => setTimeout(r, 100));
    const second = await workspace.kdeliver(['apply', '--spec', spec, '-y']);
    expect(second.code).toBe(8);
    expect(second.stderr).toContain('STACK_LOCKED');
    expect(second.stderr).toContain(`pid ${first.pid}`);
    expect(await firstDone).toBe(7);
    expect(firstErr).toContain('HEALTH_TIMEOUT');

    const client = new KubeClient(loadKubeconfig({ path: inject('sandboxEnv').KUBECONFIG }));
    await StackLease.acquire(client, ns, { identity: 'ops@other-host pid 4242 (abc123)' });
    const blocked = await workspace.kdeliver(['apply', '--spec', spec, '-y']);
    expect(blocked.code).toBe(8);
    expect(blocked.stderr).toContain('ops@other-host pid 4242');
    const unlocked = await runCli([
      'state',
      'unlock',
      '--stack',
      ns,
      '--force',
      '--kubeconfig',
      inject('sandboxEnv').KUBECONFIG!,
    ]);
    expect(unlocked.code, unlocked.stderr).toBe(0);
    expect(unlocked.stderr).toContain('ops@other-host pid 4242');
  });

  it('with --no-wait, records the release once the server accepted every resource, healthy or not', async () => {
    const ns = unique('nowait');
    const pending = neverHealthy(ns, 'pending', '2s');
    const after = configMap(ns, 'after', { mode: 'one' });
    after.dependsOn = [pending.id];
    const spec = await workspace.spec(ns, [namespace(ns), pending, after]);
    const waited = await workspace.kdeliver(['apply', '--spec', spec, '-y']);
    expect(waited.code).toBe(7);
    expect(waited.stderr).toContain('HEALTH_TIMEOUT');

    const applied = await workspace.kdeliver(['apply', '--spec', spec, '-y', '--no-wait', '--json']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout)).toMatchObject({ phase: 'succeeded' });
    const live = await kubectlJson(['get', 'configmap', 'after', '-n', ns]);
    expect(live.data.mode).toBe('one');
  });

  it('pulls the in-cluster state copy into a new local file', async () => {
    const ns = unique('pull');
    const spec = await workspace.spec(ns, [namespace(ns), configMap(ns, 'settings', { mode: 'one' })]);
    expect((await workspace.kdeliver(['apply', '--spec', spec, '-y'])).code).toBe(0);
    const elsewhere = join(workspace.dir, 'elsewhere.db');
    const kubeconfig = inject('sandboxEnv').KUBECONFIG!;
    const pulled = await runCli([
      'state',
      'pull',
      '--stack',
      ns,
      '--state',
      elsewhere,
      '--kubeconfig',
      kubeconfig,
    ]);
    expect(pulled.code, pulled.stderr).toBe(0);
    const store = await StateStore.open(elsewhere);
    expect((await store.latest('default', ns))?.phase).toBe('succeeded');
    store.close();
  });
});
