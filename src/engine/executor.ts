import { setTimeout as sleep } from 'node:timers/promises';
import { KdeliverError, isKdeliverError, messageOf } from '../errors.ts';
import type { HealthStatus, LiveObject, Runtime, SpecResource } from '../runtimes/runtime.ts';
import { healthTimeoutMs } from './extensions.ts';
import type { Journal, JournalResult, JournalStep } from './journal.ts';
import type { Plan, PlanAction, PlanPhase, PlanStep } from './planner.ts';
import { ReferenceScanner, resolveReferences } from './references.ts';
import { redactedError, secretRedactor, type Redact } from './secret-redaction.ts';
import { walkGraph, type NodeStatus, type Slot } from './walker.ts';

export const DEFAULT_CONCURRENCY = 10;
export const DEFAULT_HEALTH_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_POLL_INTERVAL_MS = 1_000;
/**
 * Health poll intervals, each a multiple of the one before: a wait polls on the shared clock's
 * multiples of its current interval, so waits at any stage poll in the same instants, and
 * their reads go out together (see `ReadRounds`).
 */
const POLL_LADDER_MS = [100, 200, 500, 1_000];

/** Progress of one resource, for the CLI to render. */
export type ExecutionEvent =
  | { type: 'start'; id: string; action: PlanAction }
  /** `final`: the resource is done, its health is not waited for (`waitForHealth: false`). */
  | { type: 'applied'; id: string; final: boolean }
  | { type: 'waiting'; id: string; message: string }
  | { type: 'healthy'; id: string }
  | { type: 'unchanged'; id: string }
  | { type: 'deleted'; id: string }
  | { type: 'forgotten'; id: string }
  | { type: 'failed'; id: string; error: KdeliverError }
  | { type: 'skipped'; id: string; reason: string };

export interface ExecuteOptions {
  /** The runtime for each resource `type` the plan uses. */
  runtimes: ReadonlyMap<string, Runtime>;
  journal: Journal;
  onEvent?: (event: ExecutionEvent) => void;
  concurrency?: number;
  /** Health timeout for resources without `extensions.kdeliver.timeout`. */
  defaultTimeoutMs?: number;
  pollIntervalMs?: number;
  /** Stops scheduling; running runtime calls receive it too. */
  signal?: AbortSignal;
  /** Take over fields other managers own on every apply, not only on `adopt`. */
  forceConflicts?: boolean;
  /**
   * Wait until each applied resource is healthy before it counts as done and its dependents
   * start (default). Without, a resource is done once the server accepted it.
   */
  waitForHealth?: boolean;
}

export interface StepOutcome {
  id: string;
  action: PlanAction;
  status: NodeStatus;
  /** The resource as applied, references resolved: what the state records. */
  applied?: SpecResource;
  /** The live object once healthy (or as it was, for `unchanged`). */
  live?: LiveObject;
  error?: KdeliverError;
  /** Why it was skipped. */
  reason?: string;
}

export interface ExecutionResult {
  outcomes: Map<string, StepOutcome>;
  /** Every step succeeded. */
  succeeded: boolean;
  aborted: boolean;
}

/**
 * Runs a plan: the apply phase through the apply graph, then, only when every apply
 * succeeded, the delete phase through the reversed graph. Never throws for a failing
 * resource (see the outcomes); throws when the journal cannot be written.
 */
export async function execute(plan: Plan, options: ExecuteOptions): Promise<ExecutionResult> {
  const run = new Execution(plan, options);
  await run.phase(plan.apply, (step, slot) => run.applyStep(step, slot));
  const applyFailed = [...run.outcomes.values()].some((outcome) => outcome.status !== 'succeeded');
  if (applyFailed || options.signal?.aborted) {
    for (const step of plan.delete.steps) run.skip(step.id, 'the apply phase did not complete');
  } else {
    await run.phase(plan.delete, (step) => run.deleteStep(step));
  }
  const outcomes = run.outcomes;
  return {
    outcomes,
    succeeded: [...outcomes.values()].every((outcome) => outcome.status === 'succeeded'),
    aborted: options.signal?.aborted === true,
  };
}

class Execution {
  readonly outcomes = new Map<string, StepOutcome>();
  readonly #options: ExecuteOptions;
  readonly #steps: Map<string, PlanStep>;
  readonly #scanner: ReferenceScanner;
  readonly #reads: ReadRounds;
  /** Errors may quote what was sent: none is journaled or reported with a Secret value in it. */
  readonly #redact: Redact;

  constructor(plan: Plan, options: ExecuteOptions) {
    this.#options = options;
    const steps = [...plan.apply.steps, ...plan.delete.steps];
    this.#steps = new Map(steps.map((step) => [step.id, step]));
    this.#scanner = new ReferenceScanner(plan.apply.steps.map((step) => step.id));
    this.#reads = new ReadRounds(options.signal);
    this.#redact = secretRedactor(plan.apply.steps.map((step) => step.resource));
    const missing = [...new Set(steps.map((step) => step.resource.type))].filter(
      (type) => !options.runtimes.has(type),
    );
    if (missing.length > 0) {
      throw new KdeliverError(
        'internal',
        'RUNTIME_MISSING',
        `no runtime for resource type ${missing.join(', ')}`,
      );
    }
  }

  async phase(phase: PlanPhase, visit: (step: PlanStep, slot: Slot) => Promise<StepOutcome>): Promise<void> {
    await walkGraph(
      phase.graph,
      async (id, slot) => {
        const visited = await visit(this.#step(id), slot);
        const outcome = visited.error
          ? { ...visited, error: redactedError(visited.error, this.#redact) }
          : visited;
        this.outcomes.set(id, outcome);
        if (outcome.error) this.#emit({ type: 'failed', id, error: outcome.error });
        return outcome.status === 'succeeded';
      },
      {
        concurrency: Math.max(1, this.#options.concurrency ?? DEFAULT_CONCURRENCY),
        signal: this.#options.signal,
        onSkip: (id, reason) => this.skip(id, reason),
      },
    );
  }

  skip(id: string, reason: string): void {
    this.outcomes.set(id, { id, action: this.#step(id).action, status: 'skipped', reason });
    this.#emit({ type: 'skipped', id, reason });
  }

  /** Applies in the step's starting slot; health polls take a slot each, not the whole wait. */
  async applyStep(step: PlanStep, slot: Slot): Promise<StepOutcome> {
    const { id, action } = step;
    if (action === 'unchanged') {
      this.#emit({ type: 'unchanged', id });
      return { id, action, status: 'succeeded', applied: step.resource, live: step.live };
    }
    this.#emit({ type: 'start', id, action });
    let applied: SpecResource;
    try {
      const attributes = resolveReferences(
        id,
        step.resource.attributes,
        this.#scanner,
        (target) => this.outcomes.get(target)?.live,
      );
      applied = { ...step.resource, attributes };
    } catch (error) {
      return {
        id,
        action,
        status: 'failed',
        error: asKdeliverError(error, id, 'REFERENCE_UNRESOLVED', 'resolving references'),
      };
    }
    const runtime = this.#runtime(applied);
    const signal = this.#options.signal;

    if (action === 'recreate') {
      // Journaled as its own step: a run killed between the delete and the create leaves a
      // finished delete, and the next plan creates the object again.
      const deleteStep: JournalStep = { id, operation: 'delete', action, resource: applied };
      await this.#begin(deleteStep);
      try {
        await runtime.delete(applied, signal);
      } catch (error) {
        const failure = this.#failure(error, id, 'DELETE_FAILED', 'delete before recreating');
        await this.#end(deleteStep, { status: 'failed', error: failure.message });
        return { id, action, status: 'failed', applied, error: failure };
      }
      await this.#end(deleteStep, { status: 'succeeded' });
    }

    const applyStep: JournalStep = { id, operation: 'apply', action, resource: applied };
    await this.#begin(applyStep);
    let live: LiveObject;
    try {
      const forceConflicts = action === 'adopt' || this.#options.forceConflicts === true;
      live = await runtime.apply(applied, { forceConflicts, signal });
    } catch (error) {
      const failure = this.#failure(error, id, 'APPLY_FAILED', 'apply');
      await this.#end(applyStep, { status: 'failed', error: failure.message });
      return { id, action, status: 'failed', applied, error: failure };
    }
    if (this.#options.waitForHealth === false) {
      await this.#end(applyStep, { status: 'succeeded', live });
      this.#emit({ type: 'applied', id, final: true });
      return { id, action, status: 'succeeded', applied, live };
    }
    // The end of the apply and the begin of the wait go to the journal together (one write).
    const waitStep: JournalStep = { id, operation: 'wait', action, resource: applied };
    await Promise.all([this.#end(applyStep, { status: 'succeeded', live }), this.#begin(waitStep)]);
    this.#emit({ type: 'applied', id, final: false });
    slot.release();
    const waited = await this.#waitHealthy(runtime, applied, live, slot);
    if (waited.error) {
      await this.#end(waitStep, { status: 'failed', error: waited.error.message, live: waited.live });
      return { id, action, status: 'failed', applied, live: waited.live, error: waited.error };
    }
    await this.#end(waitStep, { status: 'succeeded', live: waited.live });
    this.#emit({ type: 'healthy', id });
    return { id, action, status: 'succeeded', applied, live: waited.live };
  }

  async deleteStep(step: PlanStep): Promise<StepOutcome> {
    const { id, action, resource } = step;
    if (action === 'forget') {
      const forgetStep: JournalStep = { id, operation: 'forget', action, resource };
      await this.#begin(forgetStep);
      await this.#end(forgetStep, { status: 'succeeded' });
      this.#emit({ type: 'forgotten', id });
      return { id, action, status: 'succeeded' };
    }
    this.#emit({ type: 'start', id, action });
    const deleteStep: JournalStep = { id, operation: 'delete', action, resource };
    await this.#begin(deleteStep);
    try {
      await this.#runtime(resource).delete(resource, this.#options.signal);
    } catch (error) {
      const failure = this.#failure(error, id, 'DELETE_FAILED', 'delete');
      await this.#end(deleteStep, { status: 'failed', error: failure.message });
      return { id, action, status: 'failed', error: failure };
    }
    await this.#end(deleteStep, { status: 'succeeded' });
    this.#emit({ type: 'deleted', id });
    return { id, action, status: 'succeeded' };
  }

  /**
   * Observes health until healthy, failed, the resource's timeout, or abort: first the object
   * the apply returned, then the object read on each poll.
   */
  async #waitHealthy(
    runtime: Runtime,
    resource: SpecResource,
    applied: LiveObject,
    slot: Slot,
  ): Promise<{ live?: LiveObject; error?: KdeliverError }> {
    const timeoutMs = healthTimeoutMs(resource, this.#options.defaultTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS);
    const ladder = pollLadder(this.#options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = this.#options.signal ? AbortSignal.any([this.#options.signal, timeout]) : timeout;
    let live: LiveObject | undefined = applied;
    let status: HealthStatus | undefined;
    try {
      for (let poll = 0; ; poll++) {
        const observed = live;
        status = observed
          ? await slot.call(() => runtime.health(resource, observed, signal), signal)
          : { state: 'progressing', message: 'not found yet' };
        if (status.state === 'healthy') return { live };
        if (status.state === 'failed') {
          const message = `${resource.id} is unhealthy: ${status.message ?? 'the runtime reported failure'}`;
          return { live, error: new KdeliverError('operation', 'RESOURCE_UNHEALTHY', message) };
        }
        this.#emit({ type: 'waiting', id: resource.id, message: status.message ?? 'progressing' });
        const intervalMs = ladder[Math.min(poll, ladder.length - 1)] as number;
        await sleep(intervalMs - (Date.now() % intervalMs), undefined, { signal });
        live = await this.#reads.read(runtime, resource, slot, signal);
      }
    } catch (error) {
      if (timeout.aborted && !this.#options.signal?.aborted) {
        const after = timeoutMs < 1000 ? `${timeoutMs}ms` : `${Math.round(timeoutMs / 1000)}s`;
        return {
          live,
          error: new KdeliverError(
            'operation',
            'HEALTH_TIMEOUT',
            `${resource.id} was not healthy after ${after}: ${status?.message ?? status?.state ?? 'not checked yet'}`,
            { hint: 'Inspect the resource in the cluster, or raise extensions.kdeliver.timeout for it.' },
          ),
        };
      }
      return { live, error: this.#failure(error, resource.id, 'HEALTH_CHECK_FAILED', 'health check') };
    }
  }

  #failure(error: unknown, id: string, code: string, doing: string): KdeliverError {
    if (this.#options.signal?.aborted) {
      return new KdeliverError('operation', 'INTERRUPTED', `${id}: ${doing} was interrupted`, {
        cause: error,
      });
    }
    return asKdeliverError(error, id, code, doing);
  }

  async #begin(step: JournalStep): Promise<void> {
    await this.#journal(() => this.#options.journal.begin(step), step);
  }

  async #end(step: JournalStep, result: JournalResult): Promise<void> {
    const redacted = result.error === undefined ? result : { ...result, error: this.#redact(result.error) };
    await this.#journal(() => this.#options.journal.end(step, redacted), step);
  }

  async #journal(write: () => void | Promise<void>, step: JournalStep): Promise<void> {
    try {
      await write();
    } catch (error) {
      throw new KdeliverError(
        'operation',
        'JOURNAL_FAILED',
        `could not record the ${step.operation} of ${step.id}: ${messageOf(error)}`,
        { hint: 'Check the state storage; nothing further was started.', cause: error },
      );
    }
  }

  #runtime(resource: SpecResource): Runtime {
    const runtime = this.#options.runtimes.get(resource.type);
    if (!runtime)
      throw new KdeliverError('internal', 'RUNTIME_MISSING', `no runtime for resource type ${resource.type}`);
    return runtime;
  }

  #step(id: string): PlanStep {
    const step = this.#steps.get(id);
    if (!step) throw new KdeliverError('internal', 'PLAN_STEP_MISSING', `the plan has no step for ${id}`);
    return step;
  }

  #emit(event: ExecutionEvent): void {
    this.#options.onEvent?.(event);
  }
}

/** The poll intervals up to `maxMs`, each a multiple of the one before. */
function pollLadder(maxMs: number): number[] {
  const ladder = POLL_LADDER_MS.filter((ms) => ms < maxMs);
  return [...ladder, maxMs].filter((ms) => ms > 0 && maxMs % ms === 0);
}

interface PendingRead {
  resource: SpecResource;
  resolve: (live: LiveObject | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * Health polls that come due in the same instant are read together, in one runtime call per
 * runtime: `readAll` answers them with one list per kind and namespace where it can. Waits
 * poll on shared instants, so during a rollout of hundreds of objects a round is a handful of
 * lists rather than one read per object.
 */
class ReadRounds {
  readonly #pending = new Map<Runtime, PendingRead[]>();
  readonly #signal: AbortSignal | undefined;
  #scheduled = false;

  /** `signal` stops the reads of a round under way (each wait also stops on its own signal). */
  constructor(signal: AbortSignal | undefined) {
    this.#signal = signal;
  }

  /** The live object, read in the next round; the round takes a slot through `slot`. */
  read(
    runtime: Runtime,
    resource: SpecResource,
    slot: Slot,
    signal: AbortSignal,
  ): Promise<LiveObject | undefined> {
    return new Promise((resolve, reject) => {
      signal.throwIfAborted();
      const entry: PendingRead = { resource, resolve, reject };
      const withdraw = (): void => {
        const pending = this.#pending.get(runtime);
        if (pending?.includes(entry)) pending.splice(pending.indexOf(entry), 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', withdraw, { once: true });
      entry.resolve = (live) => {
        signal.removeEventListener('abort', withdraw);
        resolve(live);
      };
      entry.reject = (error) => {
        signal.removeEventListener('abort', withdraw);
        reject(error);
      };
      const pending = this.#pending.get(runtime) ?? [];
      pending.push(entry);
      this.#pending.set(runtime, pending);
      if (!this.#scheduled) {
        this.#scheduled = true;
        // After the timers that came due together have all asked.
        setImmediate(() => this.#flush(slot));
      }
    });
  }

  #flush(slot: Slot): void {
    this.#scheduled = false;
    for (const [runtime, round] of this.#pending) {
      this.#pending.delete(runtime);
      void readRound(
        runtime,
        round.map((entry) => entry.resource),
        slot,
        this.#signal,
      ).then(
        (found) => {
          for (const entry of round) entry.resolve(found.get(entry.resource.id));
        },
        (error: unknown) => {
          for (const entry of round) entry.reject(error);
        },
      );
    }
  }
}

/** One runtime call in one slot with `readAll`; otherwise one `read`, each in a slot. */
async function readRound(
  runtime: Runtime,
  resources: readonly SpecResource[],
  slot: Slot,
  signal: AbortSignal | undefined,
): Promise<Map<string, LiveObject | undefined>> {
  const { readAll } = runtime;
  if (readAll) return slot.call(() => readAll.call(runtime, resources, signal), signal);
  return new Map(
    await Promise.all(
      resources.map(
        async (resource) =>
          [resource.id, await slot.call(() => runtime.read(resource, signal), signal)] as const,
      ),
    ),
  );
}

function asKdeliverError(error: unknown, id: string, code: string, doing: string): KdeliverError {
  if (isKdeliverError(error)) return error;
  return new KdeliverError('operation', code, `${id}: ${doing} failed: ${messageOf(error)}`, {
    cause: error,
  });
}
