import { isDeepStrictEqual } from 'node:util';
import { KdeliverError } from '../errors.ts';
import type { LiveObject, SpecResource } from '../runtimes/runtime.ts';
import { buildApplyGraph } from './apply-graph.ts';
import { resourceDigest } from './canonical.ts';
import { RECREATE_EXTENSION, recreateAllowed } from './extensions.ts';
import type { Graph } from './graph.ts';
import { withoutServerFields } from './normalize.ts';
import { objectDiff } from './object-diff.ts';

/** See docs/engine.md for the table of when each action is chosen. */
export type PlanAction = 'create' | 'update' | 'recreate' | 'unchanged' | 'adopt' | 'delete' | 'forget';

/** A resource the last release recorded. */
export interface PriorResource {
  /** The resource as applied: references resolved. */
  resource: SpecResource;
  /** `resourceDigest` of the spec resource it was applied from. */
  digest: string;
  /** The state's digest of the object as last applied, when known (see `observe`). */
  appliedDigest?: string;
}

/** What the target system says about one resource now. */
export interface LiveResource {
  /** From `Runtime.read`; undefined when the object does not exist. */
  object: LiveObject | undefined;
  /** From `Runtime.dryRun` of the desired resource; needed when the resource is desired and live. */
  dryRun?: LiveObject;
  /**
   * Why there is no dry run of a live resource (it refers to an object that does not exist
   * yet, or the dry run was refused): it is planned as a change, with this note as reason.
   */
  noDryRun?: string;
  /**
   * The dry run was refused because these fields cannot change once set: the change needs
   * the object deleted and created again.
   */
  immutableFields?: readonly string[];
}

export interface PlanOptions {
  /** Recreate every resource whose change touches immutable fields, not only those that allow it. */
  allowRecreate?: boolean;
}

export interface PlanStep {
  id: string;
  action: PlanAction;
  /** The desired resource for apply actions; the recorded one for `delete` and `forget`. */
  resource: SpecResource;
  /** Why this action, in words for the preview. */
  reason: string;
  /** `resourceDigest` of the desired resource, for the state to record; apply actions only. */
  digest?: string;
  /** The live object before anything is done. */
  live?: LiveObject;
  /** For `update` and `adopt`: the live object against the dry-run result, secrets masked. */
  diff?: string;
  /** Why the step cannot run as planned (a `recreate` nobody allowed); such a plan is not executed. */
  blocked?: string;
}

export interface PlanPhase {
  /** Steps in the order a one-at-a-time run would take. */
  steps: PlanStep[];
  graph: Graph;
}

/** Applies run first; deletes run after them, in reverse dependency order. */
export interface Plan {
  apply: PlanPhase;
  delete: PlanPhase;
}

/**
 * Decides what to do per resource from three views: what the last release recorded
 * (prior), what the spec wants (desired) and what the cluster has (live). Pure: the caller
 * reads the cluster and runs the dry runs beforehand.
 */
export function plan(
  prior: ReadonlyMap<string, PriorResource>,
  desired: readonly SpecResource[],
  live: ReadonlyMap<string, LiveResource>,
  options: PlanOptions = {},
): Plan {
  const applySteps = new Map(
    desired.map((resource) => [
      resource.id,
      applyStep(resource, prior.get(resource.id), live.get(resource.id), options),
    ]),
  );
  const desiredIds = new Set(applySteps.keys());
  const removed = [...prior.values()].filter(({ resource }) => !desiredIds.has(resource.id));
  const deleteSteps = new Map(
    removed.map(({ resource }) => [resource.id, deleteStep(resource, live.get(resource.id))]),
  );

  const applyGraph = buildApplyGraph(desired);
  const deleteGraph = buildApplyGraph(removed.map(({ resource }) => resource)).reversed();
  return {
    apply: { graph: applyGraph, steps: inOrder(applyGraph, applySteps) },
    delete: { graph: deleteGraph, steps: inOrder(deleteGraph, deleteSteps) },
  };
}

/** Why the plan cannot be executed as it is, one line per blocked step; empty when it can. */
export function planBlockers(plan: Plan): string[] {
  return [...plan.apply.steps, ...plan.delete.steps].flatMap((step) => (step.blocked ? [step.blocked] : []));
}

function applyStep(
  resource: SpecResource,
  prior: PriorResource | undefined,
  live: LiveResource | undefined,
  options: PlanOptions,
): PlanStep {
  const digest = resourceDigest(resource);
  const base = { id: resource.id, resource, digest };
  const object = live?.object;
  if (object === undefined) {
    return prior
      ? { ...base, action: 'create', reason: 'recorded by the last release but missing from the cluster' }
      : { ...base, action: 'create', reason: 'new resource' };
  }
  const immutable = live?.immutableFields;
  if (immutable !== undefined) {
    const fields = `${immutable.join(', ')} cannot change in place`;
    if (options.allowRecreate === true || recreateAllowed(resource))
      return { ...base, action: 'recreate', reason: `${fields}: deleted, then created again`, live: object };
    return {
      ...base,
      action: 'recreate',
      reason: `${fields}: it must be deleted and created again`,
      live: object,
      blocked: `${resource.id}: ${fields}; recreating it is not allowed (set the extension "${RECREATE_EXTENSION}": "true" on the resource, or pass --allow-recreate)`,
    };
  }
  const dryRun = live?.dryRun;
  if (dryRun === undefined && live?.noDryRun !== undefined) {
    return prior
      ? { ...base, action: 'update', reason: `not compared: ${live.noDryRun}`, live: object }
      : {
          ...base,
          action: 'adopt',
          reason: `exists in the cluster but no release recorded it; not compared: ${live.noDryRun}`,
          live: object,
        };
  }
  if (dryRun === undefined) {
    throw new KdeliverError(
      'internal',
      'PLAN_DRY_RUN_MISSING',
      `no dry-run result for live resource ${resource.id}`,
    );
  }
  const before = withoutServerFields(object);
  const after = withoutServerFields(dryRun);
  if (!prior) {
    return {
      ...base,
      action: 'adopt',
      reason: 'exists in the cluster but no release recorded it: it will be taken over',
      live: object,
      diff: objectDiff(resource.id, before, after),
    };
  }
  if (isDeepStrictEqual(before, after)) {
    return { ...base, action: 'unchanged', reason: 'the cluster already matches the spec', live: object };
  }
  return {
    ...base,
    action: 'update',
    reason:
      prior.digest === digest ? 'changed in the cluster outside kdeliver (drift)' : 'changed in the spec',
    live: object,
    diff: objectDiff(resource.id, before, after),
  };
}

function deleteStep(resource: SpecResource, live: LiveResource | undefined): PlanStep {
  const object = live?.object;
  return object === undefined
    ? {
        id: resource.id,
        resource,
        action: 'forget',
        reason: 'removed from the spec and already gone from the cluster',
      }
    : { id: resource.id, resource, action: 'delete', reason: 'removed from the spec', live: object };
}

function inOrder(graph: Graph, steps: ReadonlyMap<string, PlanStep>): PlanStep[] {
  return graph.topologicalOrder().flatMap((id) => {
    const step = steps.get(id);
    return step ? [step] : [];
  });
}
