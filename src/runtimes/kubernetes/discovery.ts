import { setTimeout as sleep } from 'node:timers/promises';
import { KdeliverError } from '../../errors.ts';
import { apiError, isOk } from './api-errors.ts';
import type { KubeClient } from './client.ts';

/** Where objects of one kind live in the API. */
export interface ResourceMapping {
  apiVersion: string;
  kind: string;
  /** The resource's plural name in URLs, e.g. `deployments`. */
  plural: string;
  namespaced: boolean;
}

interface DiscoveredResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

interface CrdCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

interface CrdObject {
  metadata?: { name?: string };
  spec?: { group?: string; names?: { kind?: string }; versions?: { name?: string; served?: boolean }[] };
  status?: { conditions?: CrdCondition[] };
}

export interface RestMapperOptions {
  /** How long a kind defined by a freshly applied CRD may take to be served. */
  crdEstablishTimeoutMs?: number;
  pollIntervalMs?: number;
}

/** The URL prefix of an API group version: `/api/v1` for the core group, else `/apis/<group>/<version>`. */
export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** The URL of an object (or of its collection, without a name). */
export function resourcePath(mapping: ResourceMapping, namespace: string | undefined, name?: string): string {
  const scope = mapping.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const object = name === undefined ? '' : `/${encodeURIComponent(name)}`;
  return `${groupVersionPath(mapping.apiVersion)}${scope}/${mapping.plural}${object}`;
}

/**
 * Maps apiVersion + kind to the resource's URL name and scope through API discovery,
 * one group version at a time, cached. A miss refreshes the group version, so a kind that
 * a CRD added during this run is found; when a CRD for the kind exists but is not
 * Established yet, the mapping waits for it.
 */
export class RestMapper {
  private readonly client: KubeClient;
  private readonly cache = new Map<string, Promise<DiscoveredResource[] | undefined>>();
  private readonly crdEstablishTimeoutMs: number;
  private readonly pollIntervalMs: number;

  constructor(client: KubeClient, options: RestMapperOptions = {}) {
    this.client = client;
    this.crdEstablishTimeoutMs = options.crdEstablishTimeoutMs ?? 60_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
  }

  async mapping(apiVersion: string, kind: string, signal?: AbortSignal): Promise<ResourceMapping> {
    const cached = await this.find(apiVersion, kind, false, signal);
    if (cached) return cached;
    const fresh = await this.find(apiVersion, kind, true, signal);
    if (fresh) return fresh;
    const crd = await this.definingCrd(apiVersion, kind, signal);
    if (!crd) {
      throw new KdeliverError(
        'input',
        'K8S_KIND_UNKNOWN',
        `the cluster serves no kind ${kind} in ${apiVersion}, and no CustomResourceDefinition defines it`,
        { hint: 'Check apiVersion and kind, or add the CRD to the spec before its custom resources.' },
      );
    }
    return this.waitUntilServed(apiVersion, kind, crd, signal);
  }

  /** Forgets a group version, e.g. after a CRD changed it. */
  invalidate(apiVersion: string): void {
    this.cache.delete(apiVersion);
  }

  private async find(
    apiVersion: string,
    kind: string,
    refresh: boolean,
    signal?: AbortSignal,
  ): Promise<ResourceMapping | undefined> {
    if (refresh) this.cache.delete(apiVersion);
    let resources = this.cache.get(apiVersion);
    if (!resources) {
      resources = this.discover(apiVersion, signal);
      this.cache.set(apiVersion, resources);
      // A failed discovery must not stay cached.
      resources.catch(() => this.cache.delete(apiVersion));
    }
    const match = (await resources)?.find((resource) => resource.kind === kind);
    return match && { apiVersion, kind, plural: match.name, namespaced: match.namespaced };
  }

  private async discover(
    apiVersion: string,
    signal?: AbortSignal,
  ): Promise<DiscoveredResource[] | undefined> {
    const response = await this.client.request({ method: 'GET', path: groupVersionPath(apiVersion), signal });
    if (response.status === 404) return undefined;
    if (!isOk(response)) throw apiError(response, 'discovery of', apiVersion);
    const list = response.body as { resources?: DiscoveredResource[] };
    // Subresources (`deployments/status`) share the kind of their parent.
    return (list.resources ?? []).filter((resource) => !resource.name.includes('/'));
  }

  private async definingCrd(
    apiVersion: string,
    kind: string,
    signal?: AbortSignal,
  ): Promise<CrdObject | undefined> {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    if (!group) return undefined;
    const response = await this.client.request({
      method: 'GET',
      path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
      signal,
    });
    if (!isOk(response)) throw apiError(response, 'listing', 'CustomResourceDefinitions');
    const crds = (response.body as { items?: CrdObject[] }).items ?? [];
    return crds.find(
      (crd) =>
        crd.spec?.group === group &&
        crd.spec.names?.kind === kind &&
        (crd.spec.versions ?? []).some((v) => v.name === version && v.served !== false),
    );
  }

  private async waitUntilServed(
    apiVersion: string,
    kind: string,
    crd: CrdObject,
    signal?: AbortSignal,
  ): Promise<ResourceMapping> {
    const name = crd.metadata?.name ?? kind;
    const deadline = Date.now() + this.crdEstablishTimeoutMs;
    let last = 'not Established yet';
    while (Date.now() < deadline) {
      await sleep(this.pollIntervalMs, undefined, { signal });
      const response = await this.client.request({
        method: 'GET',
        path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${encodeURIComponent(name)}`,
        signal,
      });
      if (!isOk(response)) continue;
      const conditions = (response.body as CrdObject).status?.conditions ?? [];
      const established = conditions.find((c) => c.type === 'Established');
      const namesAccepted = conditions.find((c) => c.type === 'NamesAccepted');
      if (namesAccepted?.status === 'False') {
        throw new KdeliverError(
          'input',
          'K8S_CRD_REJECTED',
          `CustomResourceDefinition ${name} was not accepted: ${namesAccepted.message ?? namesAccepted.reason ?? 'names conflict'}`,
          { hint: 'Fix the CRD names so they do not clash with another CRD.' },
        );
      }
      if (established?.status !== 'True') {
        last = established?.message ?? 'not Established yet';
        continue;
      }
      const mapping = await this.find(apiVersion, kind, true, signal);
      if (mapping) return mapping;
      last = 'Established but not served by discovery yet';
    }
    throw new KdeliverError(
      'operation',
      'K8S_CRD_NOT_ESTABLISHED',
      `${kind} in ${apiVersion} is not served: CustomResourceDefinition ${name} is ${last} after ${Math.round(this.crdEstablishTimeoutMs / 1000)} s`,
      { hint: 'Check the CRD with `kubectl describe crd` and the API server logs.' },
    );
  }
}
