import { setTimeout as sleep } from 'node:timers/promises';
import type {
  ApplyOptions,
  HealthStatus,
  LiveObject,
  Runtime,
  SpecResource,
} from '../../../src/runtimes/runtime.ts';

/** What the fake saw: each runtime call with the resource id, in call order. */
export interface FakeCall {
  method: 'apply' | 'delete' | 'read' | 'readAll' | 'health' | 'dryRun';
  id: string;
  resource: SpecResource;
  options?: ApplyOptions;
}

/**
 * An in-memory Runtime: objects in a Map keyed by resource id, with configurable latency,
 * failures and health sequences. Counts concurrent calls.
 */
export class FakeRuntime implements Runtime {
  readonly type: string;
  readonly objects = new Map<string, LiveObject>();
  readonly calls: FakeCall[] = [];
  /** Milliseconds each call takes. */
  latencyMs = 0;
  /** Ids whose apply (or delete) throws. */
  readonly failApply = new Set<string>();
  readonly failDelete = new Set<string>();
  /** Errors that dry runs and applies of an id throw, as a server refusing the object would. */
  readonly refusals = new Map<string, Error>();
  /** Health answers per id, one per poll; the last repeats. Default: healthy. */
  readonly healthSequences = new Map<string, HealthStatus[]>();
  /** Extra fields the "server" adds on apply, e.g. a Service's clusterIP. */
  readonly serverFields = new Map<string, Record<string, unknown>>();
  inFlight = 0;
  maxInFlight = 0;

  constructor(type = 'Kubernetes') {
    this.type = type;
  }

  async read(resource: SpecResource, signal?: AbortSignal): Promise<LiveObject | undefined> {
    this.calls.push({ method: 'read', id: resource.id, resource });
    await this.#busy(signal);
    return this.objects.get(resource.id);
  }

  async dryRun(resource: SpecResource, options?: ApplyOptions): Promise<LiveObject> {
    this.calls.push({ method: 'dryRun', id: resource.id, resource, options });
    await this.#busy(options?.signal);
    const refusal = this.refusals.get(resource.id);
    if (refusal) throw refusal;
    return this.#stored(resource);
  }

  async apply(resource: SpecResource, options?: ApplyOptions): Promise<LiveObject> {
    this.calls.push({ method: 'apply', id: resource.id, resource, options });
    await this.#busy(options?.signal);
    if (this.failApply.has(resource.id)) throw new Error(`admission webhook denied ${resource.id}`);
    const refusal = this.refusals.get(resource.id);
    if (refusal) throw refusal;
    const stored = this.#stored(resource);
    this.objects.set(resource.id, stored);
    return stored;
  }

  async delete(resource: SpecResource, signal?: AbortSignal): Promise<void> {
    this.calls.push({ method: 'delete', id: resource.id, resource });
    await this.#busy(signal);
    if (this.failDelete.has(resource.id)) throw new Error(`finalizer stuck on ${resource.id}`);
    this.objects.delete(resource.id);
  }

  async health(resource: SpecResource, _live: LiveObject, signal?: AbortSignal): Promise<HealthStatus> {
    this.calls.push({ method: 'health', id: resource.id, resource });
    await this.#busy(signal);
    const sequence = this.healthSequences.get(resource.id);
    if (!sequence || sequence.length === 0) return { state: 'healthy' };
    return sequence.length > 1 ? (sequence.shift() as HealthStatus) : (sequence[0] as HealthStatus);
  }

  /** Ids of the calls of one method, in order. */
  idsOf(method: FakeCall['method']): string[] {
    return this.calls.filter((call) => call.method === method).map((call) => call.id);
  }

  #stored(resource: SpecResource): LiveObject {
    const metadata = (resource.attributes.metadata ?? {}) as Record<string, unknown>;
    const extra = this.serverFields.get(resource.id) ?? {};
    return {
      ...structuredClone(resource.attributes),
      ...structuredClone(extra),
      metadata: { ...metadata, uid: `uid-${resource.id}`, resourceVersion: '1' },
    };
  }

  async #busy(signal?: AbortSignal): Promise<void> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.latencyMs > 0) await sleep(this.latencyMs, undefined, { signal });
    } finally {
      this.inFlight -= 1;
    }
  }
}

/** A FakeRuntime that also answers many reads in one call, as a runtime that lists does. */
export class ListingFakeRuntime extends FakeRuntime {
  /** The ids each `readAll` call asked for. */
  readonly rounds: string[][] = [];

  async readAll(resources: readonly SpecResource[]): Promise<Map<string, LiveObject | undefined>> {
    this.rounds.push(resources.map((resource) => resource.id));
    for (const resource of resources) this.calls.push({ method: 'readAll', id: resource.id, resource });
    return new Map(resources.map((resource) => [resource.id, this.objects.get(resource.id)]));
  }
}
