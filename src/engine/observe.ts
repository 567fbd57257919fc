import pLimit from 'p-limit';
import { KdeliverError, isKdeliverError } from '../errors.ts';
import {
  ImmutableFieldsError,
  type LiveObject,
  type Runtime,
  type SpecResource,
} from '../runtimes/runtime.ts';
import { resourceDigest } from './canonical.ts';
import type { LiveResource, PriorResource } from './planner.ts';
import { ReferenceScanner, referencedIds, resolveReferences } from './references.ts';
import { redactedError, secretRedactor } from './secret-redaction.ts';

export interface ObserveOptions {
  runtimes: ReadonlyMap<string, Runtime>;
  /** Requests in flight at once. */
  concurrency: number;
  /** Dry runs take over fields other managers own, as `apply --force-conflicts` will. */
  forceConflicts?: boolean;
  /**
   * The digest the state records for an applied object. With it, a resource whose spec and
   * live object are both as the last release left them needs no dry run: it is unchanged.
   */
  appliedDigestOf?: (live: LiveObject) => string;
  signal?: AbortSignal;
}

/**
 * The live side of a plan: each desired and recorded resource read from its runtime, and a
 * dry run of each desired resource that exists. References are resolved against the live
 * objects first, so the dry run sees the values the apply will send; a resource that refers
 * to an object that does not exist yet, or whose dry run the server refuses as invalid, gets
 * a note instead, and the plan counts it as a change.
 */
export async function observe(
  desired: readonly SpecResource[],
  prior: ReadonlyMap<string, PriorResource>,
  options: ObserveOptions,
): Promise<Map<string, LiveResource>> {
  const limit = pLimit(Math.max(1, options.concurrency));
  // Server messages may quote the values sent: notes and errors keep no Secret value.
  const redact = secretRedactor(desired);
  const runtimeOf = (resource: SpecResource): Runtime => {
    const runtime = options.runtimes.get(resource.type);
    if (!runtime)
      throw new KdeliverError('internal', 'RUNTIME_MISSING', `no runtime for resource type ${resource.type}`);
    return runtime;
  };

  const desiredIds = new Set(desired.map((resource) => resource.id));
  const toRead = [
    ...desired,
    ...[...prior.values()].map(({ resource }) => resource).filter(({ id }) => !desiredIds.has(id)),
  ];
  const objects = new Map<string, LiveObject | undefined>();
  const byType = Map.groupBy(toRead, (resource) => resource.type);
  await Promise.all(
    [...byType.values()].map(async (resources) => {
      const runtime = runtimeOf(resources[0] as SpecResource);
      if (runtime.readAll) {
        for (const [id, object] of await runtime.readAll(resources, options.signal)) objects.set(id, object);
        return;
      }
      await Promise.all(
        resources.map((resource) =>
          limit(async () => objects.set(resource.id, await runtime.read(resource, options.signal))),
        ),
      );
    }),
  );

  const scanner = new ReferenceScanner(desiredIds);
  const dryRuns = await Promise.all(
    desired
      .filter((resource) => objects.get(resource.id) !== undefined)
      .map((resource) => limit(async () => [resource.id, await dryRun(resource)] as const)),
  );

  async function dryRun(resource: SpecResource): Promise<Omit<LiveResource, 'object'>> {
    const live = objects.get(resource.id) as LiveObject;
    if (asLastApplied(resource, live)) return { dryRun: live };
    const missing = referencedIds(resource.attributes, scanner).filter((id) => objects.get(id) === undefined);
    if (missing.length > 0)
      return { noDryRun: `it refers to ${missing.join(', ')}, which does not exist yet` };
    try {
      const attributes = resolveReferences(resource.id, resource.attributes, scanner, (id) =>
        objects.get(id),
      );
      const forceConflicts = options.forceConflicts === true || !prior.has(resource.id);
      return {
        dryRun: await runtimeOf(resource).dryRun(
          { ...resource, attributes },
          { forceConflicts, signal: options.signal },
        ),
      };
    } catch (error) {
      if (error instanceof ImmutableFieldsError) return { immutableFields: error.fields };
      // A refused object is reported per resource, as its apply would be; anything else
      // (the cluster unreachable, a lost lock) stops the plan.
      if (isKdeliverError(error) && (error.kind === 'input' || error.code === 'REFERENCE_UNRESOLVED'))
        return { noDryRun: `the dry run failed: ${redact(error.message)}` };
      throw isKdeliverError(error) ? redactedError(error, redact) : error;
    }
  }

  /**
   * Spec and live object unchanged since the last apply. Not for resources with references:
   * the values they point at may have changed while the spec did not.
   */
  function asLastApplied(resource: SpecResource, live: LiveObject): boolean {
    const recorded = prior.get(resource.id);
    return (
      options.appliedDigestOf !== undefined &&
      recorded?.appliedDigest !== undefined &&
      recorded.digest === resourceDigest(resource) &&
      referencedIds(resource.attributes, scanner).length === 0 &&
      options.appliedDigestOf(live) === recorded.appliedDigest
    );
  }

  const live = new Map<string, LiveResource>();
  for (const [id, object] of objects) live.set(id, { object });
  for (const [id, result] of dryRuns) Object.assign(live.get(id) ?? {}, result);
  return live;
}
