import type { ListrTask } from 'listr2';
import type { ExecutionEvent, ExecutionResult } from '../engine/executor.ts';
import type { Plan, PlanAction, PlanStep } from '../engine/planner.ts';
import { runTasks, type OutputMode } from './progress.ts';

const DOING: Record<PlanAction, string> = {
  create: 'Create',
  update: 'Update',
  recreate: 'Recreate',
  adopt: 'Adopt',
  unchanged: 'Keep',
  delete: 'Delete',
  forget: 'Forget',
};

const DONE: Record<PlanAction, string> = {
  create: 'Created',
  update: 'Updated',
  recreate: 'Recreated',
  adopt: 'Adopted',
  unchanged: 'Unchanged',
  delete: 'Deleted',
  forget: 'Forgot',
};

/** One resource's events as they arrive; its task may start before or after the first. */
class StepEvents {
  readonly seen: ExecutionEvent[] = [];
  listener: ((event: ExecutionEvent) => void) | undefined;

  push(event: ExecutionEvent): void {
    this.seen.push(event);
    this.listener?.(event);
  }
}

/**
 * Runs an execution while showing one progress task per resource that changes: its action,
 * then the health wait with the runtime's message. Unchanged resources get no task, so a
 * no-change run of a large stack prints nothing per resource.
 */
export async function executeWithProgress(
  plan: Plan,
  start: (onEvent: (event: ExecutionEvent) => void) => Promise<ExecutionResult>,
  mode: OutputMode,
): Promise<ExecutionResult> {
  const steps = [...plan.apply.steps, ...plan.delete.steps].filter((step) => step.action !== 'unchanged');
  const events = new Map(steps.map((step) => [step.id, new StepEvents()]));
  const stopped = new AbortController();
  // Plain lines (no terminal) do not show which task an output line belongs to.
  const label = process.stderr.isTTY
    ? (_id: string, text: string) => text
    : (id: string, text: string) => `${id}: ${text}`;
  const tasks = steps.map((step) => taskFor(step, events.get(step.id) as StepEvents, stopped.signal, label));
  const shown = runTasks(tasks, mode, {}, { concurrent: true, exitOnError: false });
  try {
    return await start((event) => events.get(event.id)?.push(event));
  } finally {
    // Tasks whose resource never got a final event (the run threw) end now.
    stopped.abort();
    await shown;
  }
}

function taskFor(
  step: PlanStep,
  events: StepEvents,
  stopped: AbortSignal,
  label: (id: string, text: string) => string,
): ListrTask<object> {
  const { id, action } = step;
  return {
    title: `${DOING[action]} ${id}`,
    task: (_context, task) =>
      new Promise<void>((resolve, reject) => {
        let lastWait: string | undefined;
        const handle = (event: ExecutionEvent): void => {
          switch (event.type) {
            case 'start':
              task.output = label(id, action === 'delete' ? 'deleting' : 'applying');
              break;
            case 'applied':
              if (event.final) {
                task.title = `${DONE[action]} ${id}`;
                resolve();
              } else task.output = label(id, 'waiting until healthy');
              break;
            case 'waiting':
              // Health polls repeat the same message; plain logs should show each change once.
              if (event.message !== lastWait) task.output = label(id, event.message);
              lastWait = event.message;
              break;
            case 'healthy':
            case 'deleted':
            case 'forgotten':
              task.title = `${DONE[action]} ${id}`;
              resolve();
              break;
            case 'failed':
              reject(new Error(`${id}: ${event.error.message}`));
              break;
            case 'skipped':
              task.skip(`${id} skipped: ${event.reason}`);
              resolve();
              break;
            case 'unchanged':
              resolve();
              break;
          }
        };
        for (const event of events.seen) handle(event);
        events.listener = handle;
        stopped.addEventListener('abort', () => {
          task.skip(`${id}: not run`);
          resolve();
        });
      }),
  };
}
