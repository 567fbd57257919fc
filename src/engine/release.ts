import { readFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { basename, extname } from 'node:path';
import { KdeliverError, isKdeliverError, messageOf } from '../errors.ts';
import type { KubeconfigOptions } from '../runtimes/kubernetes/kubeconfig.ts';
import type { KubernetesRuntime } from '../runtimes/kubernetes/runtime.ts';
import type { Runtime, SpecResource } from '../runtimes/runtime.ts';
import type { NewRelease, ReleasePhase } from '../state/releases.ts';
import type { StateStore } from '../state/store.ts';
import { sha256Hex } from './canonical.ts';
import type { ExecutionEvent, ExecutionResult } from './executor.ts';
import { observe } from './observe.ts';
import { plan, planBlockers, type Plan, type PriorResource } from './planner.ts';
import { redactedError, secretRedactor } from './secret-redaction.ts';
import { SUPPORTED_RUNTIME_TYPES, parseSpec, type Spec } from './spec.ts';

/**
 * A whole release of one stack: spec → live view and dry runs → plan → confirmation →
 * execution with a persisted journal → recorded release → in-cluster state copy, all while
 * holding the stack's lease (docs/state.md). Heavy modules load on first use, so commands
 * that import this stay quick to start.
 */

export interface StackTarget {
  project: string;
  stack: string;
  /** The local state file. */
  statePath: string;
  kubeconfig: KubeconfigOptions;
  /** Runtime calls in flight at once, for reading and applying. */
  concurrency: number;
}

export interface LoadedSpec {
  spec: Spec;
  /** sha256 of the spec file, recorded as the release's package digest. */
  digest: string;
}

/** What the caller decides and shows while a release runs. */
export interface ReleaseHooks {
  /** Shown the plan when it changes something; resolving false stops before any change. */
  confirm(plan: Plan): Promise<boolean>;
  /** Runs the execution, typically while rendering its events as progress. */
  execute(
    plan: Plan,
    start: (onEvent: (event: ExecutionEvent) => void) => Promise<ExecutionResult>,
  ): Promise<ExecutionResult>;
}

export type OutcomeCategory = 'created' | 'updated' | 'deleted' | 'unchanged' | 'failed' | 'skipped';

export interface ReleaseSummary {
  /** The revision recorded; undefined when nothing needed doing and nothing was recorded. */
  revision: number | undefined;
  phase: ReleasePhase | 'no-op';
  counts: Record<OutcomeCategory, number>;
  failures: { id: string; code: string; message: string }[];
  skipped: { id: string; reason: string }[];
  seconds: number;
}

const INTERRUPTED = 'interrupted: the run ended before it finished; its journal shows the last steps';

export async function loadSpecFile(path: string): Promise<LoadedSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new KdeliverError('input', 'SPEC_UNREADABLE', `cannot read spec ${path}: ${messageOf(error)}`, {
      hint: 'Pass the spec file built from the Konfig stack with --spec.',
      cause: error,
    });
  }
  return { spec: parseSpec(text, path, SUPPORTED_RUNTIME_TYPES), digest: `sha256:${sha256Hex(text)}` };
}

/** The stack a spec file stands for when --stack is not given: its name without extension. */
export function stackOfSpecFile(path: string): string {
  return basename(path, extname(path));
}

/**
 * What the stack's releases recorded since (and including) its last successful one, newest
 * record first: a failed or interrupted release may have applied some of its resources, so
 * they count as ours until a later release confirms or removes them.
 */
export async function priorResources(
  store: StateStore,
  project: string,
  stack: string,
): Promise<Map<string, PriorResource>> {
  const prior = new Map<string, PriorResource>();
  for (const release of await store.history(project, stack)) {
    for (const { resource, digest, appliedDigest } of await store.resources(release.id)) {
      if (!prior.has(resource.id)) prior.set(resource.id, { resource, digest, appliedDigest });
    }
    if (release.phase === 'succeeded') break;
  }
  return prior;
}

/** True when executing the plan would change something in the cluster. */
export function planChanges(plan: Plan): boolean {
  return plan.apply.steps.some((step) => step.action !== 'unchanged') || plan.delete.steps.length > 0;
}

async function connect(target: StackTarget): Promise<KubernetesRuntime> {
  const { KubernetesRuntime } = await import('../runtimes/kubernetes/runtime.ts');
  return KubernetesRuntime.fromKubeconfig(target.kubeconfig);
}

async function openState(path: string, create: boolean): Promise<StateStore | undefined> {
  const { StateStore } = await import('../state/store.ts');
  if (!create) {
    const { stat } = await import('node:fs/promises');
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (!exists) return undefined;
  }
  return StateStore.open(path, { create });
}

/** The plan for a spec against the recorded state and the cluster; writes nothing anywhere. */
export async function previewRelease(
  target: StackTarget,
  spec: Spec,
  forceConflicts = false,
  options: Pick<ApplyReleaseOptions, 'allowRecreate'> = {},
): Promise<Plan> {
  const runtime = await connect(target);
  const store = await openState(target.statePath, false);
  try {
    const prior = store ? await priorResources(store, target.project, target.stack) : new Map();
    return await planAgainst(runtime, spec.resources, prior, target.concurrency, {
      forceConflicts,
      allowRecreate: options.allowRecreate,
    });
  } finally {
    store?.close();
  }
}

async function planAgainst(
  runtime: Runtime,
  desired: readonly SpecResource[],
  prior: ReadonlyMap<string, PriorResource>,
  concurrency: number,
  options: Pick<ApplyReleaseOptions, 'forceConflicts' | 'allowRecreate' | 'signal'>,
): Promise<Plan> {
  const { forceConflicts, signal } = options;
  const runtimes = new Map([[runtime.type, runtime]]);
  const { appliedDigest } = await import('../state/store.ts');
  const live = await observe(desired, prior, {
    runtimes,
    concurrency,
    forceConflicts,
    signal,
    appliedDigestOf: appliedDigest,
  });
  return plan(prior, desired, live, { allowRecreate: options.allowRecreate });
}

export interface ApplyReleaseOptions {
  forceConflicts?: boolean;
  /** See `ExecuteOptions.waitForHealth`; waits by default. */
  waitForHealth?: boolean;
  /** Delete and create again every resource whose change touches immutable fields. */
  allowRecreate?: boolean;
  /** What the release records about its input: the package it came from and the site's variables. */
  record?: Pick<NewRelease, 'package' | 'variables'>;
  /** A release this one replaces (a rollback): marked rolled-back once this one succeeds. */
  supersedes?: number;
  /** Stops the run (Ctrl-C): nothing new starts, the release is recorded as failed. */
  signal?: AbortSignal;
}

/** Applies a spec to its stack: the whole flow of a release. */
export function applyRelease(
  target: StackTarget,
  loaded: LoadedSpec,
  hooks: ReleaseHooks,
  options: ApplyReleaseOptions = {},
): Promise<ReleaseSummary> {
  return underLease(target, options.signal, (site) =>
    runRelease(site, loaded.spec.resources, loaded.digest, hooks, options),
  );
}

/** Deletes everything the stack's releases recorded, in reverse dependency order, and records that. */
export function destroyRelease(
  target: StackTarget,
  hooks: ReleaseHooks,
  options: ApplyReleaseOptions = {},
): Promise<ReleaseSummary> {
  return underLease(target, options.signal, async (site) => {
    if ((await site.store.latest(target.project, target.stack)) === undefined) {
      throw new KdeliverError(
        'input',
        'STACK_UNKNOWN',
        `the state ${target.statePath} has no release of stack "${target.stack}" in project "${target.project}"`,
        {
          hint: 'Check --stack, --project and --state; `kdeliver state pull` fetches the copy from the cluster.',
        },
      );
    }
    return runRelease(site, [], 'sha256:destroy', hooks, {});
  });
}

interface Site {
  target: StackTarget;
  runtime: KubernetesRuntime;
  store: StateStore;
  signal: AbortSignal;
}

async function underLease<T>(
  target: StackTarget,
  signal: AbortSignal | undefined,
  work: (site: Site) => Promise<T>,
): Promise<T> {
  const runtime = await connect(target);
  const { StackLease } = await import('../state/lease-lock.ts');
  const lease = await StackLease.acquire(runtime.client, target.stack, { signal });
  try {
    const store = (await openState(target.statePath, true)) as StateStore;
    try {
      const combined = signal ? AbortSignal.any([signal, lease.lost]) : lease.lost;
      const result = await work({ target, runtime, store, signal: combined });
      lease.lost.throwIfAborted();
      return result;
    } finally {
      store.close();
    }
  } finally {
    await lease.release();
  }
}

async function runRelease(
  site: Site,
  desired: readonly SpecResource[],
  packageDigest: string,
  hooks: ReleaseHooks,
  options: ApplyReleaseOptions,
): Promise<ReleaseSummary> {
  const forceConflicts = options.forceConflicts === true;
  const started = performance.now();
  const { target, runtime, store, signal } = site;
  const { project, stack } = target;

  // We hold the lease, so a release still in progress is one whose run died.
  for (const release of await store.history(project, stack)) {
    if (release.phase === 'pending' || release.phase === 'applying')
      await store.setPhase(release.id, 'failed', { error: INTERRUPTED });
  }
  const prior = await priorResources(store, project, stack);
  const thePlan = await planAgainst(runtime, desired, prior, target.concurrency, { ...options, signal });
  const blockers = planBlockers(thePlan);
  if (blockers.length > 0) {
    throw new KdeliverError(
      'input',
      'RECREATE_NOT_ALLOWED',
      `nothing was changed: the plan needs resources deleted and created again:\n${blockers.map((line) => `  - ${line}`).join('\n')}`,
      {
        hint: 'Allow it per resource with the extension "kdeliver.io/recreate": "true", or for this run with --allow-recreate.',
      },
    );
  }
  const digests = new Map(thePlan.apply.steps.map((step) => [step.id, step.digest]));
  const latest = await store.latest(project, stack);
  const alreadyRecorded =
    latest?.phase === 'succeeded' &&
    prior.size === desired.length &&
    desired.every((resource) => prior.get(resource.id)?.digest === digests.get(resource.id));
  if (!planChanges(thePlan) && alreadyRecorded) {
    return summarize(undefined, 'no-op', unchangedResult(thePlan), started);
  }
  if (planChanges(thePlan) && !(await hooks.confirm(thePlan))) {
    throw new KdeliverError('aborted', 'ABORTED', 'nothing was changed: the plan was not confirmed');
  }

  const release = await store.startRelease({
    project,
    stack,
    packageDigest,
    ...options.record,
    operator: `${userInfo().username}@${hostname()}`,
  });
  await store.setPhase(release.id, 'applying');
  await store.recordResources(
    release.id,
    // Unchanged resources are not applied: their digest as applied is the live object's.
    thePlan.apply.steps.map((step) => ({
      resource: step.resource,
      digest: step.digest ?? '',
      live: step.action === 'unchanged' ? step.live : undefined,
    })),
  );
  const { execute } = await import('./executor.ts');
  const journal = store.journal(release.id);
  let result: ExecutionResult;
  try {
    result = await hooks.execute(thePlan, (onEvent) =>
      execute(thePlan, {
        runtimes: new Map([[runtime.type, runtime]]),
        journal,
        onEvent,
        concurrency: target.concurrency,
        forceConflicts,
        waitForHealth: options.waitForHealth,
        signal,
      }),
    );
  } catch (error) {
    // What the journal could not record may quote the spec: no Secret value goes further.
    const redact = secretRedactor(desired);
    await store.setPhase(release.id, 'failed', { error: redact(messageOf(error)) }).catch(() => undefined);
    throw isKdeliverError(error) ? redactedError(error, redact) : error;
  }
  const summary = summarize(release.revision, result.succeeded ? 'succeeded' : 'failed', result, started);
  await store.setPhase(release.id, result.succeeded ? 'succeeded' : 'failed', {
    error: result.succeeded ? undefined : failureText(summary),
  });
  const superseded = options.supersedes === undefined ? undefined : await store.release(options.supersedes);
  if (result.succeeded && superseded)
    await store.setPhase(superseded.id, 'rolled-back', {
      error: superseded.error,
      now: new Date(superseded.finishedAt ?? Date.now()),
    });
  const { pushStateCopy } = await import('../state/cluster-copy.ts');
  try {
    await pushStateCopy(runtime.client, stack, await store.bytes(), signal);
  } catch (error) {
    throw new KdeliverError(
      'operation',
      'STATE_COPY_PUSH_FAILED',
      `release ${release.revision} of stack "${stack}" is recorded in ${store.path}, but its copy could not be written to the cluster: ${messageOf(error)}`,
      { hint: 'Run `kdeliver state push` once the cluster is reachable.', cause: error },
    );
  }
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

/** The outcome of a plan with nothing to do: every resource unchanged. */
function unchangedResult(thePlan: Plan): ExecutionResult {
  const outcomes = new Map(
    thePlan.apply.steps.map((step) => [
      step.id,
      { id: step.id, action: step.action, status: 'succeeded' as const },
    ]),
  );
  return { outcomes, succeeded: true, aborted: false };
}

function summarize(
  revision: number | undefined,
  phase: ReleaseSummary['phase'],
  result: ExecutionResult,
  started: number,
): ReleaseSummary {
  const counts: Record<OutcomeCategory, number> = {
    created: 0,
    updated: 0,
    deleted: 0,
    unchanged: 0,
    failed: 0,
    skipped: 0,
  };
  const failures: ReleaseSummary['failures'] = [];
  const skipped: ReleaseSummary['skipped'] = [];
  for (const outcome of result.outcomes.values()) {
    if (outcome.status === 'failed') {
      counts.failed += 1;
      failures.push({
        id: outcome.id,
        code: outcome.error?.code ?? 'FAILED',
        message: outcome.error?.message ?? 'failed',
      });
    } else if (outcome.status === 'skipped') {
      counts.skipped += 1;
      skipped.push({ id: outcome.id, reason: outcome.reason ?? 'skipped' });
    } else {
      counts[CATEGORY[outcome.action]] += 1;
    }
  }
  return { revision, phase, counts, failures, skipped, seconds: (performance.now() - started) / 1000 };
}

const CATEGORY = {
  create: 'created',
  adopt: 'updated',
  update: 'updated',
  recreate: 'updated',
  unchanged: 'unchanged',
  delete: 'deleted',
  forget: 'deleted',
} as const;

function failureText(summary: ReleaseSummary): string {
  const ids = summary.failures.map((failure) => failure.id);
  if (ids.length === 0) return `${summary.counts.skipped} resources were not applied (the run was stopped)`;
  return `${ids.length} resource${ids.length === 1 ? '' : 's'} failed: ${ids.join(', ')}`;
}
