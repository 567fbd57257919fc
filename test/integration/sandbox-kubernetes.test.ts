import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { kubectl } from '../helpers/kubectl.ts';

function clients() {
  const config = new KubeConfig();
  config.loadFromFile(inject('sandboxEnv').KUBECONFIG!);
  return { core: config.makeApiClient(CoreV1Api), apps: config.makeApiClient(AppsV1Api) };
}

describe('sandbox Kubernetes', () => {
  it('rolls out a Deployment until it is Available', async () => {
    const { core, apps } = clients();
    const namespace = `smoke-${Date.now()}`;
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const labels = { app: 'web' };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: 'web', image: 'example.invalid/web:1' }] },
          },
        },
      },
    });
    let available = false;
    for (let i = 0; i < 120 && !available; i++) {
      const deployment = await apps.readNamespacedDeployment({ namespace, name: 'web' });
      available =
        deployment.status?.availableReplicas === 2 &&
        (deployment.status.conditions ?? []).some((c) => c.type === 'Available' && c.status === 'True');
      if (!available) await sleep(500);
    }
    expect(available).toBe(true);
    const pods = await core.listNamespacedPod({ namespace });
    expect(pods.items).toHaveLength(2);
    for (const pod of pods.items) {
      expect(pod.status?.phase).toBe('Running');
      expect(pod.spec?.nodeName).toBe('kdeliver-node-1');
    }
  });

  it('serves kubectl, an independent client, through the kubeconfig that sandbox env exports', async () => {
    const env = await runCli(['sandbox', 'env', '--dir', inject('sandboxDir')]);
    expect(env.code).toBe(0);
    expect(env.stdout).toMatch(/^export KUBECONFIG='.+'$/m);
    expect(env.stdout).toMatch(/^export KDELIVER_REGISTRY='127\.0\.0\.1:\d+'$/m);
    for (const name of ['KDELIVER_REGISTRY_CA', 'KDELIVER_REGISTRY_USER', 'KDELIVER_REGISTRY_PASSWORD']) {
      expect(env.stdout).toMatch(new RegExp(`^export ${name}='.+'$`, 'm'));
    }
    const exported = /^export KUBECONFIG='(.+)'$/m.exec(env.stdout)![1]!;
    const nodes = await kubectl(['get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}'], exported);
    expect(nodes.stderr).toBe('');
    expect(nodes.stdout).toBe('kdeliver-node-1');
  });

  it('binds a PersistentVolumeClaim through its default StorageClass, as a site with a provisioner does', async () => {
    const { core } = clients();
    const namespace = `pvc-${Date.now()}`;
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: {
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    });
    let phase: string | undefined;
    for (let i = 0; i < 60 && phase !== 'Bound'; i++) {
      const claim = await core.readNamespacedPersistentVolumeClaim({ namespace, name: 'data' });
      phase = claim.status?.phase;
      if (phase !== 'Bound') await sleep(250);
    }
    expect(phase).toBe('Bound');
    const claim = await core.readNamespacedPersistentVolumeClaim({ namespace, name: 'data' });
    expect(claim.spec?.storageClassName).toBe('kwok-volume');
  });

  it('reports itself as already running on a second up', async () => {
    const again = await runCli(['sandbox', 'up', '--dir', inject('sandboxDir'), '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ alreadyRunning: true });
  });
});
