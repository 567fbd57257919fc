import { setTimeout as sleep } from 'node:timers/promises';
import { KdeliverError, isKdeliverError } from '../../errors.ts';
import type { ApplyOptions, HealthStatus, LiveObject, Runtime, SpecResource } from '../runtime.ts';
import { apiError, isOk } from './api-errors.ts';
import { KubeClient, type KubeClientOptions } from './client.ts';
import { customHealthOf, evaluateCustomHealth } from './custom-health.ts';
import { RestMapper, resourcePath, type ResourceMapping, type RestMapperOptions } from './discovery.ts';
import { builtinHealth } from './health.ts';
import { loadKubeconfig, type KubeconfigOptions } from './kubeconfig.ts';
import { objectRef } from './object-ref.ts';

export const FIELD_MANAGER = 'kdeliver';

export interface KubernetesRuntimeOptions extends KubeClientOptions, RestMapperOptions {
  /** A delete that has not finished after this long fails, naming what holds it (finalizers). */
  deleteTimeoutMs?: number;
}

/** Kinds whose dependents (ReplicaSets, Pods) should be gone before the owner counts as deleted. */
const FOREGROUND_DELETE_KINDS = new Set([
  'apps/Deployment',
  'apps/ReplicaSet',
  'apps/StatefulSet',
  'apps/DaemonSet',
  'batch/Job',
  'batch/CronJob',
]);

interface Target {
  mapping: ResourceMapping;
  path: string;
}

/**
 * The Kubernetes runtime: server-side apply as field manager `kdeliver`, deletes that
 * wait until the object is gone, and kstatus-like health. Every kind works, CRDs
 * included, through discovery.
 */
export class KubernetesRuntime implements Runtime {
  readonly type = 'Kubernetes';
  readonly client: KubeClient;
  private readonly mapper: RestMapper;
  private readonly deleteTimeoutMs: number;
  private readonly pollIntervalMs: number;

  constructor(client: KubeClient, options: KubernetesRuntimeOptions = {}) {
    this.client = client;
    this.mapper = new RestMapper(client, options);
    this.deleteTimeoutMs = options.deleteTimeoutMs ?? 300_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
  }

  static fromKubeconfig(
    kubeconfig: KubeconfigOptions = {},
    options: KubernetesRuntimeOptions = {},
  ): KubernetesRuntime {
    return new KubernetesRuntime(new KubeClient(loadKubeconfig(kubeconfig), options), options);
  }

  async read(resource: SpecResource, signal?: AbortSignal): Promise<LiveObject | undefined> {
    const target = await this.targetOrUndefined(resource, signal);
    if (!target) return undefined;
    const response = await this.client.request({ method: 'GET', path: target.path, signal });
    if (response.status === 404) return undefined;
    if (!isOk(response)) throw apiError(response, 'reading', resource.id);
    return response.body as LiveObject;
  }

  /** One list per kind and namespace with two or more resources; single ones are read alone. */
  async readAll(
    resources: readonly SpecResource[],
    signal?: AbortSignal,
  ): Promise<Map<string, LiveObject | undefined>> {
    const groups = new Map<string, { mapping: ResourceMapping; members: SpecResource[] }>();
    const found = new Map<string, LiveObject | undefined>();
    const singles: SpecResource[] = [];
    for (const resource of resources) {
      const target = await this.targetOrUndefined(resource, signal);
      if (!target) {
        found.set(resource.id, undefined);
        continue;
      }
      const ref = objectRef(resource);
      const collection = resourcePath(target.mapping, ref.namespace ?? 'default');
      const group = groups.get(collection) ?? { mapping: target.mapping, members: [] };
      group.members.push(resource);
      groups.set(collection, group);
    }
    await Promise.all(
      [...groups].map(async ([collection, { mapping, members }]) => {
        if (members.length === 1) return singles.push(...members);
        const response = await this.client.request({ method: 'GET', path: collection, signal });
        if (!isOk(response)) throw apiError(response, 'listing', `${mapping.kind} objects at ${collection}`);
        const byName = new Map(
          ((response.body as { items?: LiveObject[] }).items ?? []).map((item) => [
            (item.metadata as { name?: string } | undefined)?.name,
            // List items come without their own apiVersion and kind.
            { apiVersion: mapping.apiVersion, kind: mapping.kind, ...item },
          ]),
        );
        for (const member of members) found.set(member.id, byName.get(objectRef(member).name));
      }),
    );
    await Promise.all(
      singles.map(async (resource) => found.set(resource.id, await this.read(resource, signal))),
    );
    return found;
  }

  dryRun(resource: SpecResource, options: ApplyOptions = {}): Promise<LiveObject> {
    return this.serverSideApply(resource, options, true);
  }

  apply(resource: SpecResource, options: ApplyOptions = {}): Promise<LiveObject> {
    return this.serverSideApply(resource, options, false);
  }

  async delete(resource: SpecResource, signal?: AbortSignal): Promise<void> {
    const target = await this.targetOrUndefined(resource, signal);
    if (!target) return;
    const group = target.mapping.apiVersion.split('/').slice(0, -1).join('/');
    const propagationPolicy = FOREGROUND_DELETE_KINDS.has(`${group}/${target.mapping.kind}`)
      ? 'Foreground'
      : 'Background';
    const response = await this.client.request({
      method: 'DELETE',
      path: target.path,
      body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy },
      signal,
    });
    if (response.status === 404) return;
    if (!isOk(response)) throw apiError(response, 'deleting', resource.id);
    await this.waitUntilGone(resource, target, signal);
  }

  async health(resource: SpecResource, live: LiveObject): Promise<HealthStatus> {
    const custom = customHealthOf(resource);
    if (custom) return evaluateCustomHealth(live, custom);
    return builtinHealth(live);
  }

  private async serverSideApply(
    resource: SpecResource,
    options: ApplyOptions,
    dryRun: boolean,
  ): Promise<LiveObject> {
    const { signal } = options;
    const target = await this.target(resource, signal);
    const response = await this.client.request({
      method: 'PATCH',
      path: target.path,
      query: {
        fieldManager: FIELD_MANAGER,
        fieldValidation: 'Strict',
        force: options.forceConflicts ? 'true' : undefined,
        dryRun: dryRun ? 'All' : undefined,
      },
      body: resource.attributes,
      contentType: 'application/apply-patch+yaml',
      signal,
    });
    if (!isOk(response)) throw apiError(response, dryRun ? 'dry-run apply of' : 'applying', resource.id);
    return response.body as LiveObject;
  }

  private async target(resource: SpecResource, signal?: AbortSignal): Promise<Target> {
    const ref = objectRef(resource);
    const mapping = await this.mapper.mapping(ref.apiVersion, ref.kind, signal);
    return { mapping, path: resourcePath(mapping, ref.namespace ?? 'default', ref.name) };
  }

  /** A kind nobody defines has no objects: reading or deleting one finds nothing. */
  private async targetOrUndefined(resource: SpecResource, signal?: AbortSignal): Promise<Target | undefined> {
    try {
      return await this.target(resource, signal);
    } catch (error) {
      if (isKdeliverError(error) && error.code === 'K8S_KIND_UNKNOWN') return undefined;
      throw error;
    }
  }

  private async waitUntilGone(resource: SpecResource, target: Target, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.deleteTimeoutMs;
    let interval = Math.min(100, this.pollIntervalMs);
    let live: LiveObject | undefined;
    while (Date.now() < deadline) {
      await sleep(interval, undefined, { signal });
      interval = Math.min(interval * 2, this.pollIntervalMs);
      const response = await this.client.request({ method: 'GET', path: target.path, signal });
      if (response.status === 404) return;
      if (!isOk(response)) throw apiError(response, 'waiting for the deletion of', resource.id);
      live = response.body as LiveObject;
    }
    const finalizers = ((live?.metadata as { finalizers?: string[] } | undefined)?.finalizers ?? []).join(
      ', ',
    );
    throw new KdeliverError(
      'operation',
      'K8S_DELETE_TIMEOUT',
      `${resource.id} is still there ${Math.round(this.deleteTimeoutMs / 1000)} s after its deletion` +
        (finalizers ? `; finalizers still pending: ${finalizers}` : ''),
      { hint: 'Check what holds it (`kubectl describe`); the controller of a finalizer may be missing.' },
    );
  }
}
