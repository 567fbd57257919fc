import { describe, expect, it } from 'vitest';
import { builtinHealth } from '../../../src/runtimes/kubernetes/health.ts';
import type { LiveObject } from '../../../src/runtimes/runtime.ts';

const state = (live: LiveObject) => builtinHealth(live).state;

function deployment(status: Record<string, unknown>, generation = 2): LiveObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { generation },
    spec: { replicas: 2 },
    status,
  };
}

const available = { type: 'Available', status: 'True' };

describe('built-in health', () => {
  it('follows a Deployment rollout to the end', async () => {
    expect(await state(deployment({ observedGeneration: 1 }))).toBe('progressing');
    expect(
      await state(
        deployment({ observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2 }),
      ),
    ).toBe('progressing');
    expect(
      await state(
        deployment({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1 }),
      ),
    ).toBe('progressing');
    const done = { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 };
    expect(await state(deployment(done))).toBe('progressing');
    expect(await builtinHealth(deployment({ ...done, conditions: [available] }))).toEqual({
      state: 'healthy',
    });
    const stalled = {
      type: 'Progressing',
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: 'too slow',
    };
    expect(await builtinHealth(deployment({ observedGeneration: 1, conditions: [stalled] }))).toEqual({
      state: 'failed',
      message: 'rollout stalled: ProgressDeadlineExceeded: too slow',
    });
  });

  it('knows StatefulSets, DaemonSets, Jobs, PVCs, CRDs, Namespaces and Pods', async () => {
    const sts = (status: Record<string, unknown>) =>
      ({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { generation: 1 },
        spec: { replicas: 2 },
        status,
      }) as LiveObject;
    expect(await state(sts({ observedGeneration: 1, updatedReplicas: 2, readyReplicas: 1 }))).toBe(
      'progressing',
    );
    expect(
      await state(
        sts({
          observedGeneration: 1,
          updatedReplicas: 2,
          readyReplicas: 2,
          currentRevision: 'a',
          updateRevision: 'b',
        }),
      ),
    ).toBe('progressing');
    expect(
      await state(
        sts({
          observedGeneration: 1,
          updatedReplicas: 2,
          readyReplicas: 2,
          currentRevision: 'b',
          updateRevision: 'b',
        }),
      ),
    ).toBe('healthy');
    const ds = (status: Record<string, unknown>) =>
      ({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { generation: 1 }, status }) as LiveObject;
    expect(
      await state(
        ds({
          observedGeneration: 1,
          desiredNumberScheduled: 3,
          updatedNumberScheduled: 3,
          numberAvailable: 2,
        }),
      ),
    ).toBe('progressing');
    expect(
      await state(
        ds({
          observedGeneration: 1,
          desiredNumberScheduled: 3,
          updatedNumberScheduled: 3,
          numberAvailable: 3,
        }),
      ),
    ).toBe('healthy');
    const job = (conditions: unknown[]) => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      status: { conditions, active: 1 },
    });
    expect(await state(job([]))).toBe('progressing');
    expect(await state(job([{ type: 'Complete', status: 'True' }]))).toBe('healthy');
    expect(
      await builtinHealth(job([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }])),
    ).toEqual({
      state: 'failed',
      message: 'job failed: BackoffLimitExceeded',
    });
    const pvc = (phase: string) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', status: { phase } });
    expect([await state(pvc('Pending')), await state(pvc('Bound')), await state(pvc('Lost'))]).toEqual([
      'progressing',
      'healthy',
      'failed',
    ]);
    const crd = (conditions: unknown[]) => ({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      status: { conditions },
    });
    expect(await state(crd([]))).toBe('progressing');
    expect(await state(crd([{ type: 'Established', status: 'True' }]))).toBe('healthy');
    expect(await state(crd([{ type: 'NamesAccepted', status: 'False' }]))).toBe('failed');
    expect(await state({ apiVersion: 'v1', kind: 'Namespace', status: { phase: 'Terminating' } })).toBe(
      'progressing',
    );
    expect(await state({ apiVersion: 'v1', kind: 'Namespace', status: { phase: 'Active' } })).toBe('healthy');
    expect(await state({ apiVersion: 'v1', kind: 'Pod', status: { phase: 'Failed' } })).toBe('failed');
  });

  it('counts a Service healthy once it exists, and a LoadBalancer once it has an address', () => {
    const service = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'shop' },
      spec,
      status,
    });
    expect(state(service({ selector: { app: 'web' }, ports: [] }))).toBe('healthy');
    expect(state(service({ type: 'ExternalName' }))).toBe('healthy');
    const lb = { type: 'LoadBalancer', selector: { app: 'web' } };
    expect(state(service(lb))).toBe('progressing');
    expect(state(service(lb, { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } }))).toBe('healthy');
  });

  it('follows a Ready condition on other kinds, and counts everything else healthy once it exists', async () => {
    const custom = (status: Record<string, unknown>) =>
      ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { generation: 3 }, status }) as LiveObject;
    expect(await state(custom({ conditions: [{ type: 'Ready', status: 'False' }] }))).toBe('progressing');
    expect(
      await state(custom({ observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True' }] })),
    ).toBe('progressing');
    expect(
      await state(custom({ observedGeneration: 3, conditions: [{ type: 'Ready', status: 'True' }] })),
    ).toBe('healthy');
    expect(await state({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { generation: 1 } })).toBe('healthy');
  });
});
