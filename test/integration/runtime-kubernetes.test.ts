import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, it } from 'vitest';
import { isKdeliverError, type KdeliverError } from '../../src/errors.ts';
import type { HealthStatus, SpecResource } from '../../src/runtimes/runtime.ts';
import { KubernetesRuntime } from '../../src/runtimes/kubernetes/runtime.ts';
import { kubectl, kubectlJson } from '../helpers/kubectl.ts';

const runtime = () => KubernetesRuntime.fromKubeconfig({ path: inject('sandboxEnv').KUBECONFIG });

function k8s(attributes: Record<string, unknown>, extensions?: Record<string, unknown>): SpecResource {
  const metadata = attributes.metadata as { name: string; namespace?: string };
  const id = [attributes.apiVersion, attributes.kind, metadata.namespace, metadata.name]
    .filter(Boolean)
    .join(':');
  return { id, type: 'Kubernetes', attributes, ...(extensions ? { extensions } : {}) };
}

async function newNamespace(rt: KubernetesRuntime, prefix: string): Promise<string> {
  const name = `${prefix}-${Date.now().toString(36)}`;
  await rt.apply(k8s({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
  return name;
}

function deployment(namespace: string, name: string, replicas: number): SpecResource {
  const labels = { app: name };
  return k8s({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name, image: 'example.invalid/web:1' }] } },
    },
  });
}

async function caught(promise: Promise<unknown>): Promise<KdeliverError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isKdeliverError(error)) throw new Error(`expected a KdeliverError, got ${String(error)}`);
  return error;
}

/** Polls health until it settles or the time is up, returning every distinct observation. */
async function watchHealth(
  rt: KubernetesRuntime,
  resource: SpecResource,
  timeoutMs = 60_000,
): Promise<HealthStatus[]> {
  const seen: HealthStatus[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const live = await rt.read(resource);
    if (live) {
      const health = await rt.health(resource, live);
      if (seen.at(-1)?.state !== health.state) seen.push(health);
      if (health.state !== 'progressing') return seen;
    }
    await sleep(200);
  }
  return seen;
}

describe('Kubernetes runtime', () => {
  it('creates, updates and leaves alone an object through server-side apply as kdeliver', async () => {
    const rt = runtime();
    const namespace = await newNamespace(rt, 'ssa');
    const config = (value: string) =>
      k8s({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'settings', namespace },
        data: { mode: value },
      });

    const created = await rt.apply(config('one'));
    let live = await kubectlJson(['get', 'configmap', 'settings', '-n', namespace, '--show-managed-fields']);
    expect(live.data).toEqual({ mode: 'one' });
    const managers = (live.metadata.managedFields as { manager: string; operation: string }[]).map(
      (f) => `${f.manager}/${f.operation}`,
    );
    expect(managers).toContain('kdeliver/Apply');

    await rt.apply(config('two'));
    live = await kubectlJson(['get', 'configmap', 'settings', '-n', namespace]);
    expect(live.data).toEqual({ mode: 'two' });
    const afterUpdate = live.metadata.resourceVersion as string;
    expect(afterUpdate).not.toBe((created.metadata as { resourceVersion: string }).resourceVersion);

    const again = await rt.apply(config('two'));
    expect((again.metadata as { resourceVersion: string }).resourceVersion).toBe(afterUpdate);
    live = await kubectlJson(['get', 'configmap', 'settings', '-n', namespace]);
    expect(live.metadata.resourceVersion).toBe(afterUpdate);
  });

  it('computes a dry run without persisting it', async () => {
    const rt = runtime();
    const namespace = await newNamespace(rt, 'dry');
    const resource = k8s({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'preview', namespace },
      data: { key: 'value' },
    });
    const preview = await rt.dryRun(resource);
    expect(preview.data).toEqual({ key: 'value' });
    expect((preview.metadata as { uid?: string }).uid).toBeTruthy();
    const get = await kubectl(['get', 'configmap', 'preview', '-n', namespace]);
    expect(get.code).not.toBe(0);
    expect(get.stderr).toContain('NotFound');
    expect(await rt.read(resource)).toBeUndefined();
  });

  it('rejects an unknown field with strict validation, naming the field and the resource', async () => {
    const rt = runtime();
    const namespace = await newNamespace(rt, 'strict');
    const bad = deployment(namespace, 'typo', 1);
    (bad.attributes.spec as Record<string, unknown>).replicaz = 3;
    const error = await caught(rt.apply(bad));
    expect(error.kind).toBe('input');
    expect(error.code).toBe('K8S_OBJECT_INVALID');
    expect(error.message).toContain(bad.id);
    expect(error.message).toContain('replicaz');
    expect((await kubectl(['get', 'deployment', 'typo', '-n', namespace])).code).not.toBe(0);
  });

  it('applies a CRD and a custom resource of it right after, without waiting in between', async () => {
    const rt = runtime();
    const namespace = await newNamespace(rt, 'crd');
    const group = `t${Date.now().toString(36)}.kdeliver.test`;
    const crd = k8s({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `widgets.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
              },
            },
          },
        ],
      },
    });
    const widget = k8s({
      apiVersion: `${group}/v1`,
      kind: 'Widget',
      metadata: { name: 'w1', namespace },
      spec: { size: 3 },
    });
    await rt.apply(crd);
    const applied = await rt.apply(widget);
    expect(applied.spec).toEqual({ size: 3 });
    const live = await kubectlJson(['get', `widgets.${group}`, 'w1', '-n', namespace]);
    expect(live.spec).toEqual({ size: 3 });
    expect(await watchHealth(rt, crd)).toEqual([{ state: 'healthy' }]);
  });

  it('deletes a Deployment and its pods and returns only once it is gone', async () => {
    const rt = runtime();
    const namespace = await newNamespace(rt, 'del');
    const web = deployment(namespace, 'web', 2);
    await rt.apply(web);
    expect((await watchHealth(rt, web)).at(-1)?.state).toBe('healthy');
    await rt.delete(web);
    const get = await kubectl(['get', 'deployment', 'web', '-n', namespace]);
    expect(get.stderr).toContain('NotFound');
    const pods = await kubectlJson(['get', 'pods', '-n', namespace, '-l', 'app=web']);
    expect(pods.items).toEqual([]);
    // Deleting what is already gone is fine.
    await rt.delete(web);
  });

  it('reports a Deployment progressing, then healthy once it is available', async () => {
    const rt = runtime();
    const namespace = await newNamespace(rt, 'health');
    const web = deployment(namespace, 'web', 3);
    const live = await rt.apply(web);
    const first = await rt.health(web, live);
    expect(first.state).toBe('progressing');
    expect(first.message).toMatch(/generation|replicas/);
    expect((await watchHealth(rt, web)).at(-1)).toEqual({ state: 'healthy' });
  });

  it('reports a Job healthy once it completes', async () => {
    const rt = runtime();
    const namespace = await newNamespace(rt, 'job');
    const job = k8s({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'migrate', namespace },
      spec: {
        template: {
          spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image: 'example.invalid/m:1' }] },
        },
      },
    });
    const live = await rt.apply(job);
    expect((await rt.health(job, live)).state).toBe('progressing');
    expect((await watchHealth(rt, job)).at(-1)).toEqual({ state: 'healthy' });
    const status = await kubectlJson(['get', 'job', 'migrate', '-n', namespace]);
    expect(status.status.succeeded).toBe(1);
  });

  it('reports a PersistentVolumeClaim progressing until a volume binds it', async () => {
    const rt = runtime();
    const namespace = await newNamespace(rt, 'pvc');
    const className = `manual-${namespace}`;
    const claim = k8s({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', namespace },
      spec: {
        storageClassName: className,
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '1Gi' } },
      },
    });
    const live = await rt.apply(claim);
    expect(await rt.health(claim, live)).toMatchObject({ state: 'progressing' });
    const volume = k8s({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `pv-${namespace}` },
      spec: {
        storageClassName: className,
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        hostPath: { path: `/tmp/${namespace}` },
      },
    });
    await rt.apply(volume);
    expect((await watchHealth(rt, claim)).at(-1)).toEqual({ state: 'healthy' });
    await rt.delete(claim);
    await rt.delete(volume);
  });

  it('reports a Service healthy once it exists, before any endpoint backs it', async () => {
    const rt = runtime();
    const namespace = await newNamespace(rt, 'svc');
    const web = k8s({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
    expect(await rt.health(web, await rt.apply(web))).toEqual({ state: 'healthy' });
  });

  it('follows custom health rules from extensions.kdeliver.health', async () => {
    const rt = runtime();
    const namespace = await newNamespace(rt, 'custom');
    const rules = {
      kdeliver: {
        health: {
          healthyWhen: [{ path: 'data.phase', equals: 'ready' }],
          failedWhen: [{ path: 'data.phase', equals: 'broken' }],
        },
      },
    };
    const gate = (phase: string) =>
      k8s(
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gate', namespace }, data: { phase } },
        rules,
      );
    expect(await rt.health(gate('starting'), await rt.apply(gate('starting')))).toEqual({
      state: 'progressing',
      message: 'waiting for data.phase to be "ready" (is "starting")',
    });
    expect((await rt.health(gate('ready'), await rt.apply(gate('ready')))).state).toBe('healthy');
    expect((await rt.health(gate('broken'), await rt.apply(gate('broken')))).state).toBe('failed');
  });

  it('treats objects of a kind nobody defines as absent, and refuses to apply them', async () => {
    const rt = runtime();
    const ghost = k8s({
      apiVersion: 'nowhere.kdeliver.test/v1',
      kind: 'Ghost',
      metadata: { name: 'g', namespace: 'default' },
    });
    expect(await rt.read(ghost)).toBeUndefined();
    await rt.delete(ghost);
    const error = await caught(rt.apply(ghost));
    expect(error.code).toBe('K8S_KIND_UNKNOWN');
  });
});
