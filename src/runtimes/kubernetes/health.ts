import type { HealthStatus, LiveObject } from '../runtime.ts';

/**
 * Built-in health of live objects, in the spirit of kstatus: a workload is healthy once
 * its controller has observed the latest generation and rolled it out completely; a few
 * kinds have their own notion (Job complete, PVC bound, CRD established); anything with a
 * `Ready` condition follows it; everything else is healthy once it exists.
 */

export interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

interface Meta {
  generation?: number;
}

type Status = Record<string, unknown> & { observedGeneration?: number; conditions?: Condition[] };

const HEALTHY: HealthStatus = { state: 'healthy' };

function progressing(message: string): HealthStatus {
  return { state: 'progressing', message };
}

function failed(message: string): HealthStatus {
  return { state: 'failed', message };
}

export function condition(live: LiveObject, type: string): Condition | undefined {
  return statusOf(live).conditions?.find((c) => c.type === type);
}

function statusOf(live: LiveObject): Status {
  return (live.status ?? {}) as Status;
}

function specOf(live: LiveObject): Record<string, unknown> {
  return (live.spec ?? {}) as Record<string, unknown>;
}

function num(value: unknown, fallback = 0): number {
  return typeof value === 'number' ? value : fallback;
}

function describe(c: Condition): string {
  return [c.reason, c.message].filter(Boolean).join(': ') || `${c.type} is ${c.status}`;
}

/** The controller has not caught up with the latest spec change yet. */
function notObserved(live: LiveObject): HealthStatus | undefined {
  const generation = (live.metadata as Meta | undefined)?.generation;
  const observed = statusOf(live).observedGeneration;
  if (generation === undefined) return undefined;
  if (observed === undefined || observed < generation) {
    return progressing(`waiting for the controller to observe generation ${generation}`);
  }
  return undefined;
}

function deploymentHealth(live: LiveObject): HealthStatus {
  const progress = condition(live, 'Progressing');
  if (progress?.status === 'False' && progress.reason === 'ProgressDeadlineExceeded') {
    return failed(`rollout stalled: ${describe(progress)}`);
  }
  const pending = notObserved(live);
  if (pending) return pending;
  const status = statusOf(live);
  const desired = num(specOf(live).replicas, 1);
  const updated = num(status.updatedReplicas);
  const total = num(status.replicas);
  const available = num(status.availableReplicas);
  if (updated < desired) return progressing(`${updated} of ${desired} replicas updated`);
  if (total > updated) return progressing(`${total - updated} old replicas pending termination`);
  if (available < desired) return progressing(`${available} of ${desired} replicas available`);
  const availableCondition = condition(live, 'Available');
  if (availableCondition?.status !== 'True') {
    return progressing(`not Available yet${availableCondition ? `: ${describe(availableCondition)}` : ''}`);
  }
  return HEALTHY;
}

function statefulSetHealth(live: LiveObject): HealthStatus {
  const pending = notObserved(live);
  if (pending) return pending;
  const spec = specOf(live);
  const status = statusOf(live);
  const desired = num(spec.replicas, 1);
  const ready = num(status.readyReplicas);
  const strategy = spec.updateStrategy as
    { type?: string; rollingUpdate?: { partition?: number } } | undefined;
  if (strategy?.type !== 'OnDelete') {
    const partition = num(strategy?.rollingUpdate?.partition);
    const updated = num(status.updatedReplicas);
    if (updated < desired - partition)
      return progressing(`${updated} of ${desired - partition} replicas updated`);
    if (
      partition === 0 &&
      status.updateRevision !== undefined &&
      status.currentRevision !== status.updateRevision
    ) {
      return progressing(`waiting for revision ${String(status.updateRevision)} to become current`);
    }
  }
  if (ready < desired) return progressing(`${ready} of ${desired} replicas ready`);
  if (status.availableReplicas !== undefined && num(status.availableReplicas) < desired) {
    return progressing(`${num(status.availableReplicas)} of ${desired} replicas available`);
  }
  return HEALTHY;
}

function daemonSetHealth(live: LiveObject): HealthStatus {
  const pending = notObserved(live);
  if (pending) return pending;
  const status = statusOf(live);
  const desired = num(status.desiredNumberScheduled);
  const updated = num(status.updatedNumberScheduled);
  const available = num(status.numberAvailable);
  if (updated < desired) return progressing(`${updated} of ${desired} nodes updated`);
  if (available < desired) return progressing(`${available} of ${desired} nodes available`);
  return HEALTHY;
}

function jobHealth(live: LiveObject): HealthStatus {
  const failure = condition(live, 'Failed');
  if (failure?.status === 'True') return failed(`job failed: ${describe(failure)}`);
  if (condition(live, 'Complete')?.status === 'True') return HEALTHY;
  const status = statusOf(live);
  return progressing(
    `${num(status.active)} active, ${num(status.succeeded)} succeeded, ${num(status.failed)} failed`,
  );
}

function pvcHealth(live: LiveObject): HealthStatus {
  const phase = statusOf(live).phase;
  if (phase === 'Bound') return HEALTHY;
  if (phase === 'Lost') return failed('the bound PersistentVolume is lost');
  return progressing(`claim is ${String(phase ?? 'Pending')}, waiting for a volume to bind`);
}

function crdHealth(live: LiveObject): HealthStatus {
  const names = condition(live, 'NamesAccepted');
  if (names?.status === 'False') return failed(`names not accepted: ${describe(names)}`);
  return condition(live, 'Established')?.status === 'True' ? HEALTHY : progressing('not Established yet');
}

function namespaceHealth(live: LiveObject): HealthStatus {
  const phase = statusOf(live).phase;
  return phase === 'Active' ? HEALTHY : progressing(`namespace is ${String(phase ?? 'not active yet')}`);
}

function podHealth(live: LiveObject): HealthStatus {
  const phase = statusOf(live).phase;
  if (phase === 'Succeeded') return HEALTHY;
  if (phase === 'Failed')
    return failed(`pod failed${statusOf(live).message ? `: ${String(statusOf(live).message)}` : ''}`);
  const ready = condition(live, 'Ready');
  return ready?.status === 'True' ? HEALTHY : progressing(`pod is ${String(phase ?? 'Pending')}, not Ready`);
}

/**
 * A Service is healthy once it exists (a LoadBalancer once it has an address). Ready
 * endpoints are not waited for: the default order applies the backing workload after its
 * Service, and workloads often refer to a Service's clusterIP, so that wait would deadlock;
 * the workload's own health covers its pods being ready.
 */
function serviceHealth(live: LiveObject): HealthStatus {
  if (specOf(live).type !== 'LoadBalancer') return HEALTHY;
  const ingress = (statusOf(live).loadBalancer as { ingress?: unknown[] } | undefined)?.ingress ?? [];
  return ingress.length === 0 ? progressing('waiting for the load balancer to get an address') : HEALTHY;
}

function genericHealth(live: LiveObject): HealthStatus {
  const pending = notObserved(live);
  const ready = condition(live, 'Ready');
  if (ready) {
    if (pending) return pending;
    return ready.status === 'True' ? HEALTHY : progressing(`not Ready: ${describe(ready)}`);
  }
  // Only controllers that report observedGeneration can be behind.
  return statusOf(live).observedGeneration !== undefined && pending ? pending : HEALTHY;
}

const BY_KIND: Record<string, (live: LiveObject) => HealthStatus> = {
  'apps/Deployment': deploymentHealth,
  'apps/StatefulSet': statefulSetHealth,
  'apps/DaemonSet': daemonSetHealth,
  'batch/Job': jobHealth,
  '/PersistentVolumeClaim': pvcHealth,
  '/Namespace': namespaceHealth,
  '/Pod': podHealth,
  '/Service': serviceHealth,
  'apiextensions.k8s.io/CustomResourceDefinition': crdHealth,
};

/** One observation of the built-in health rules for a live object. */
export function builtinHealth(live: LiveObject): HealthStatus {
  const apiVersion = String(live.apiVersion ?? '');
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  const key = `${group}/${String(live.kind ?? '')}`;
  return (BY_KIND[key] ?? genericHealth)(live);
}
