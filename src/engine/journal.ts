import type { LiveObject, SpecResource } from '../runtimes/runtime.ts';
import type { PlanAction } from './planner.ts';

/**
 * What the executor is about to do to one resource. `apply` and `delete` call the runtime,
 * `wait` polls health, `forget` drops a record whose object is already gone.
 */
export interface JournalStep {
  id: string;
  operation: 'apply' | 'wait' | 'delete' | 'forget';
  /** The plan's action for the resource. */
  action: PlanAction;
  /** The resource as it is applied: `$kusion_path` references resolved. */
  resource: SpecResource;
}

export interface JournalResult {
  status: 'succeeded' | 'failed';
  /** The live object after `apply`, or the last one read while waiting. */
  live?: LiveObject;
  error?: string;
}

/**
 * A write-ahead record of the executor's steps: `begin` before a step happens, `end` after.
 * A begun step without an end is one that was interrupted. The executor awaits each call
 * and stops scheduling when one throws, since it could no longer say what it did.
 */
export interface Journal {
  begin(step: JournalStep): void | Promise<void>;
  end(step: JournalStep, result: JournalResult): void | Promise<void>;
}

export type JournalEntry =
  { event: 'begin'; step: JournalStep } | { event: 'end'; step: JournalStep; result: JournalResult };

/** A journal kept in memory, in call order. */
export class MemoryJournal implements Journal {
  readonly entries: JournalEntry[] = [];

  begin(step: JournalStep): void {
    this.entries.push({ event: 'begin', step });
  }

  end(step: JournalStep, result: JournalResult): void {
    this.entries.push({ event: 'end', step, result });
  }
}
