import type { Journal, JournalResult, JournalStep } from '../engine/journal.ts';
import type { StateStore } from './store.ts';

/**
 * The engine's write-ahead journal, persisted in the release state: each `begin` and
 * `end` is on disk before the executor goes on, so after a crash the journal shows which
 * step was under way. A successful apply also records the applied object's digest.
 */
export class JournalStore implements Journal {
  private readonly store: StateStore;
  private readonly releaseId: number;
  private readonly now: () => Date;

  constructor(store: StateStore, releaseId: number, now: () => Date = () => new Date()) {
    this.store = store;
    this.releaseId = releaseId;
    this.now = now;
  }

  async begin(step: JournalStep): Promise<void> {
    await this.store.appendJournal({
      releaseId: this.releaseId,
      step: step.operation,
      resourceId: step.id,
      action: step.action,
      phase: 'begin',
      result: undefined,
      error: undefined,
      at: this.now().toISOString(),
    });
  }

  async end(step: JournalStep, result: JournalResult): Promise<void> {
    const applied = step.operation === 'apply' && result.status === 'succeeded' ? result.live : undefined;
    await this.store.appendJournal(
      {
        releaseId: this.releaseId,
        step: step.operation,
        resourceId: step.id,
        action: step.action,
        phase: 'end',
        result: result.status,
        error: result.error,
        at: this.now().toISOString(),
      },
      applied,
    );
  }
}
