/**
 * The one interface every runtime implements (Kubernetes first). The engine plans and
 * orders; a runtime only talks to its system. Attributes are the resource's desired
 * object as the spec gives it, after `$kusion_path` references were resolved.
 */

import { KdeliverError } from '../errors.ts';

/** A resource of the spec, as Kusion emits it. */
export interface SpecResource {
  /** Unique within a spec; for Kubernetes `apiVersion:Kind[:namespace]:name`. */
  id: string;
  /** The runtime that owns it, e.g. `Kubernetes`. */
  type: string;
  attributes: Record<string, unknown>;
  dependsOn?: string[];
  extensions?: Record<string, unknown>;
}

/** An object as it exists in the target system. */
export type LiveObject = Record<string, unknown>;

export interface ApplyOptions {
  /** Take over fields another manager owns (server-side apply conflicts). */
  forceConflicts?: boolean;
  signal?: AbortSignal;
}

export type HealthState = 'healthy' | 'progressing' | 'failed';

export interface HealthStatus {
  state: HealthState;
  /** Why it is not healthy yet, in words for the progress display. */
  message?: string;
}

export interface Runtime {
  /** The runtime's `type` value in specs. */
  readonly type: string;
  /** The live object, or undefined when it does not exist. */
  read(resource: SpecResource, signal?: AbortSignal): Promise<LiveObject | undefined>;
  /**
   * The same answers as `read` for many resources, in fewer requests where the system can
   * (Kubernetes: one list per kind and namespace). Optional; `read` per resource otherwise.
   */
  readAll?(
    resources: readonly SpecResource[],
    signal?: AbortSignal,
  ): Promise<Map<string, LiveObject | undefined>>;
  /** What applying would produce, computed by the target system without persisting (dry run). */
  dryRun(resource: SpecResource, options?: ApplyOptions): Promise<LiveObject>;
  /** Creates or updates the object; returns the object as stored. */
  apply(resource: SpecResource, options?: ApplyOptions): Promise<LiveObject>;
  /** Deletes the object and resolves once it is gone (absent objects are fine). */
  delete(resource: SpecResource, signal?: AbortSignal): Promise<void>;
  /**
   * One health observation of the live object; the engine polls and applies timeouts.
   * May read related objects (a Service's EndpointSlices, a CRD's conditions).
   */
  health(resource: SpecResource, live: LiveObject, signal?: AbortSignal): Promise<HealthStatus>;
}

/**
 * The target system refused a change because fields of the object cannot change once set
 * (a Deployment's selector, a Job's template, a Service's clusterIP): the change needs the
 * object deleted and created again. Thrown by `dryRun` and `apply`.
 */
export class ImmutableFieldsError extends KdeliverError {
  /** The fields, as the target system names them, e.g. `spec.selector`. */
  readonly fields: readonly string[];

  constructor(message: string, fields: readonly string[]) {
    super('input', 'FIELD_IMMUTABLE', message, {
      hint: 'To delete the object and create it again, set the extension "kdeliver.io/recreate": "true" on the resource, or pass --allow-recreate.',
    });
    this.fields = fields;
  }
}

/** A raw setting under `extensions.kdeliver` (kdeliver's own, beside Kusion's), or undefined when the resource has none. */
export function kdeliverSetting(resource: SpecResource, name: string): unknown {
  const kdeliver = resource.extensions?.kdeliver;
  return typeof kdeliver === 'object' && kdeliver !== null && !Array.isArray(kdeliver)
    ? (kdeliver as Record<string, unknown>)[name]
    : undefined;
}
