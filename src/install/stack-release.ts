/**
 * One stack's release as the installer runs it: the Secret values kept for a later
 * rollback, the app pipeline's `manualApprove` (a person always confirms) and
 * `rollbackIfFailed` (a failed release goes back to the previous revision), and the
 * rollback itself, which re-applies a recorded revision with its Secret values restored.
 */
import type { ReleaseHooks, ReleaseSummary, StackTarget } from '../engine/release.ts';
import { isKdeliverError } from '../errors.ts';
import type { KubeClient } from '../runtimes/kubernetes/client.ts';
import { kdeliverSetting, type SpecResource } from '../runtimes/runtime.ts';
import type { PackageLabel } from '../state/releases.ts';
import type { StateStore } from '../state/store.ts';
import { rollbackTarget, type CountedRelease } from './installed.ts';

export interface ReleaseUi {
  json: boolean;
  /** --yes: go ahead without asking, except where an app's pipeline wants a person. */
  yes: boolean;
  signal?: AbortSignal;
}

export interface StackInput {
  resources: SpecResource[];
  packageDigest: string;
  package?: PackageLabel;
  variables?: Record<string, unknown>;
}

export interface StackOutcome {
  stack: string;
  summary: ReleaseSummary;
  /** The rollback that followed a failed release, when one ran. */
  rollback?: RollbackOutcome;
  /** Why a failed release was left as it is. */
  note?: string;
}

export interface RollbackOutcome {
  fromRevision: number;
  toRevision: number;
  summary: ReleaseSummary;
}

/** A setting of an app's pipeline, as the model package renders it into `extensions.kdeliver`. */
function pipelineSetting(resource: SpecResource, name: 'manualApprove' | 'rollbackIfFailed'): boolean {
  return kdeliverSetting(resource, name) === true;
}

function appOf(resource: SpecResource): string {
  const app = kdeliverSetting(resource, 'app');
  return typeof app === 'string' ? app : resource.id;
}

/** Why a person must approve this stack's plan, or undefined. */
export function approvalReason(resources: readonly SpecResource[]): string | undefined {
  const apps = [...new Set(resources.filter((r) => pipelineSetting(r, 'manualApprove')).map(appOf))];
  if (apps.length === 0) return undefined;
  return `the pipeline of ${apps.join(', ')} requires manual approval`;
}

/** True when a failed resource belongs to an app whose pipeline says `rollbackIfFailed`. */
export function wantsRollback(resources: readonly SpecResource[], failedIds: readonly string[]): boolean {
  const failed = new Set(failedIds);
  return resources.some(
    (resource) => failed.has(resource.id) && pipelineSetting(resource, 'rollbackIfFailed'),
  );
}

/** The engine hooks of a day-2 release: the plan on stdout, a confirmation, progress on stderr. */
export function releaseHooks(question: string, ui: ReleaseUi, approval?: string): ReleaseHooks {
  return {
    confirm: async (plan) => {
      const [{ renderPlan }, { confirmAction }] = await Promise.all([
        import('../ui/plan-view.ts'),
        import('../ui/confirm.ts'),
      ]);
      if (!ui.json) process.stdout.write(renderPlan(plan, process.stdout));
      return confirmAction(question, ui.yes, approval);
    },
    execute: async (plan, start) => {
      const { executeWithProgress } = await import('../ui/release-progress.ts');
      return executeWithProgress(plan, start, { json: ui.json });
    },
  };
}

/** Secret snapshots are kept per project and stack: two projects may both have a stack `prod`. */
function snapshotKey(target: StackTarget): string {
  return `${target.project}/${target.stack}`;
}

async function clusterClient(target: StackTarget): Promise<KubeClient> {
  const { KubernetesRuntime } = await import('../runtimes/kubernetes/runtime.ts');
  return KubernetesRuntime.fromKubeconfig(target.kubeconfig).client;
}

/** The newest release of every stack (of one project when given), each with its resource count. */
export async function countedStacks(store: StateStore, project?: string): Promise<CountedRelease[]> {
  const newest = await store.stacks(project);
  return Promise.all(
    newest.map(async (release) => ({ release, resources: await store.resourceCount(release.id) })),
  );
}

/** Releases of a stack, newest first, each with its resource count. */
export async function countedHistory(
  store: StateStore,
  project: string,
  stack: string,
): Promise<CountedRelease[]> {
  const history = await store.history(project, stack);
  return Promise.all(
    history.map(async (release) => ({ release, resources: await store.resourceCount(release.id) })),
  );
}

/**
 * Applies a stack from a package. The Secret values go to the cluster's snapshot first, so
 * that any revision this run records can be rolled back to. A failed release rolls back
 * when asked (`rollbackOnFailure`) or when a failed resource's app says `rollbackIfFailed`;
 * otherwise it stays failed, and running the install again continues it.
 */
export async function releaseStack(
  target: StackTarget,
  input: StackInput,
  ui: ReleaseUi,
  options: { rollbackOnFailure: boolean },
): Promise<StackOutcome> {
  const [{ applyRelease }, { pushSecretSnapshot }, { sha256Hex }] = await Promise.all([
    import('../engine/release.ts'),
    import('../state/secret-snapshots.ts'),
    import('../engine/canonical.ts'),
  ]);
  await pushSecretSnapshot(await clusterClient(target), snapshotKey(target), input.resources, ui.signal);
  const approval = approvalReason(input.resources);
  const summary = await applyRelease(
    target,
    {
      spec: { resources: input.resources },
      digest: input.packageDigest || `sha256:${sha256Hex(JSON.stringify(input.resources))}`,
    },
    releaseHooks(`Apply these changes to stack ${target.stack}?`, ui, approval),
    {
      signal: ui.signal,
      record: { package: input.package, variables: input.variables },
    },
  );
  const outcome: StackOutcome = { stack: target.stack, summary };
  if (summary.phase !== 'failed') return outcome;
  const failedIds = summary.failures.map((failure) => failure.id);
  if (!options.rollbackOnFailure && !wantsRollback(input.resources, failedIds)) return outcome;
  try {
    // The rollback was decided with the install; asking again would only stall a recovery.
    outcome.rollback = await rollbackStack(target, undefined, { ...ui, yes: true });
  } catch (error) {
    if (!isKdeliverError(error) || error.code !== 'NO_PREVIOUS_REVISION') throw error;
    outcome.note =
      'there is no earlier revision to roll back to; the release stays failed, and running the install again continues it';
  }
  return outcome;
}

/**
 * Re-applies an earlier revision of a stack (the previous succeeded one unless `to` is
 * given), with its Secret values restored from the cluster, as a new revision; the
 * revision it replaces is marked rolled-back.
 */
export async function rollbackStack(
  target: StackTarget,
  to: number | undefined,
  ui: ReleaseUi,
): Promise<RollbackOutcome> {
  const [{ StateStore }, { applyRelease }, { restoreSecretValues }] = await Promise.all([
    import('../state/store.ts'),
    import('../engine/release.ts'),
    import('../state/secret-snapshots.ts'),
  ]);
  const store = await StateStore.open(target.statePath);
  let chosen;
  let current;
  let recorded: SpecResource[];
  try {
    const history = await countedHistory(store, target.project, target.stack);
    chosen = rollbackTarget(history, to);
    current = history[0]!.release;
    recorded = (await store.resources(chosen.id)).map(({ resource }) => resource);
  } finally {
    store.close();
  }
  const resources = await restoreSecretValues(
    await clusterClient(target),
    snapshotKey(target),
    chosen.revision,
    recorded,
    ui.signal,
  );
  const summary = await applyRelease(
    target,
    { spec: { resources }, digest: chosen.packageDigest },
    releaseHooks(
      `Roll stack ${target.stack} back to revision ${chosen.revision}?`,
      ui,
      approvalReason(resources),
    ),
    {
      signal: ui.signal,
      record: { package: chosen.package, variables: chosen.variables },
      supersedes: current.id === chosen.id ? undefined : current.id,
    },
  );
  return { fromRevision: current.revision, toRevision: chosen.revision, summary };
}

/** Deletes what a stack's releases applied (recorded as a release with no resources) and its Secret snapshots. */
export async function uninstallStack(target: StackTarget, ui: ReleaseUi): Promise<ReleaseSummary> {
  const [{ destroyRelease }, { deleteSecretSnapshots }] = await Promise.all([
    import('../engine/release.ts'),
    import('../state/secret-snapshots.ts'),
  ]);
  const summary = await destroyRelease(
    target,
    releaseHooks(`Delete every resource of stack ${target.stack}?`, ui),
    { signal: ui.signal },
  );
  if (summary.phase !== 'failed')
    await deleteSecretSnapshots(await clusterClient(target), snapshotKey(target), ui.signal);
  return summary;
}
