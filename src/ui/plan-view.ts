import { styleText } from 'node:util';
import type { Plan, PlanAction, PlanStep } from '../engine/planner.ts';

/**
 * How a plan is shown: a summary of counts, one line per resource with its action and
 * reason, and a unified diff per changed resource. Only the planner's masked diffs are
 * shown, never attributes, so Secret values cannot appear.
 */

export interface PlanJson {
  summary: Record<PlanAction, number>;
  changes: boolean;
  steps: {
    phase: 'apply' | 'delete';
    id: string;
    type: string;
    action: PlanAction;
    reason: string;
    diff?: string;
    /** Why the step cannot run (a `recreate` nobody allowed): the plan will not be applied. */
    blocked?: string;
  }[];
}

const ACTIONS: readonly PlanAction[] = [
  'create',
  'update',
  'recreate',
  'adopt',
  'delete',
  'forget',
  'unchanged',
];

const COLOR: Record<PlanAction, Parameters<typeof styleText>[0]> = {
  create: 'green',
  update: 'yellow',
  recreate: 'red',
  adopt: 'yellow',
  delete: 'red',
  forget: 'gray',
  unchanged: 'gray',
};

export function planJson(plan: Plan): PlanJson {
  const steps = [
    ...plan.apply.steps.map((step) => jsonStep('apply', step)),
    ...plan.delete.steps.map((step) => jsonStep('delete', step)),
  ];
  const summary = Object.fromEntries(ACTIONS.map((action) => [action, 0])) as Record<PlanAction, number>;
  for (const step of steps) summary[step.action] += 1;
  return { summary, changes: steps.some((step) => step.action !== 'unchanged'), steps };
}

function jsonStep(phase: 'apply' | 'delete', step: PlanStep): PlanJson['steps'][number] {
  return {
    phase,
    id: step.id,
    type: step.resource.type,
    action: step.action,
    reason: step.reason,
    ...(step.diff === undefined ? {} : { diff: step.diff }),
    ...(step.blocked === undefined ? {} : { blocked: step.blocked }),
  };
}

/** The plan as text; colored when `stream` is a terminal that takes colors. */
export function renderPlan(plan: Plan, stream: NodeJS.WriteStream): string {
  const paint = (format: Parameters<typeof styleText>[0], text: string): string =>
    styleText(format, text, { stream });
  const { summary, steps } = planJson(plan);
  const lines: string[] = [];
  const counts = ACTIONS.filter((action) => summary[action] > 0).map(
    (action) => `${summary[action]} to ${action === 'unchanged' ? 'leave unchanged' : action}`,
  );
  lines.push(paint('bold', `Plan: ${counts.length > 0 ? counts.join(', ') : 'no resources'}`), '');
  const width = Math.max(0, ...steps.map((step) => step.action.length));
  const idWidth = Math.max(0, ...steps.map((step) => step.id.length));
  for (const step of steps) {
    const action = paint(COLOR[step.action], step.action.padEnd(width));
    lines.push(`  ${action}  ${step.id.padEnd(idWidth)}  ${paint('dim', step.reason)}`);
  }
  const blocked = steps.flatMap((step) => (step.blocked === undefined ? [] : [step.blocked]));
  if (blocked.length > 0) {
    lines.push(
      '',
      paint(['bold', 'red'], 'This plan cannot be applied:'),
      ...blocked.map((line) => `  ${line}`),
    );
  }
  for (const step of steps) {
    if (step.diff === undefined) continue;
    lines.push(
      '',
      ...step.diff
        .trimEnd()
        .split('\n')
        .filter((line) => !line.startsWith('===='))
        .map(colorDiffLine(paint)),
    );
  }
  return `${lines.join('\n')}\n`;
}

function colorDiffLine(paint: (format: Parameters<typeof styleText>[0], text: string) => string) {
  return (line: string): string => {
    if (line.startsWith('+++') || line.startsWith('---')) return paint('bold', line);
    if (line.startsWith('+')) return paint('green', line);
    if (line.startsWith('-')) return paint('red', line);
    if (line.startsWith('@@')) return paint('cyan', line);
    return line;
  };
}
