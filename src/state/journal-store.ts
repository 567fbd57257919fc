import type { Journal, JournalResult, JournalStep } from '../engine/journal.ts';
import type { JournalEntryToWrite, StateStore } from './store.ts';

interface Waiting {
  entry: JournalEntryToWrite;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The engine's write-ahead journal, persisted in the release state: each `begin` and
 * `end` is on disk before the executor goes on, so after a crash the journal shows which
 * step was under way. A successful apply also records the applied object's digest.
 *
 * Writes are group-committed: records written in the same tick, and those that arrive while
 * a write is under way, go to disk together in one transaction, and each caller resumes once
 * its own record is written. The
 * state file is rewritten whole per write, so one write per record would make a large
 * apply wait on the disk rather than on the cluster.
 */
export class JournalStore implements Journal {
  private readonly store: StateStore;
  private readonly releaseId: number;
  private readonly now: () => Date;
  private queue: Waiting[] = [];
  private writing = false;

  constructor(store: StateStore, releaseId: number, now: () => Date = () => new Date()) {
    this.store = store;
    this.releaseId = releaseId;
    this.now = now;
  }

  begin(step: JournalStep): Promise<void> {
    return this.append({ record: this.record(step, 'begin', undefined) });
  }

  end(step: JournalStep, result: JournalResult): Promise<void> {
    const applied = step.operation === 'apply' && result.status === 'succeeded' ? result.live : undefined;
    return this.append({ record: this.record(step, 'end', result), applied });
  }

  private record(
    step: JournalStep,
    phase: 'begin' | 'end',
    result: JournalResult | undefined,
  ): JournalEntryToWrite['record'] {
    return {
      releaseId: this.releaseId,
      step: step.operation,
      resourceId: step.id,
      action: step.action,
      phase,
      result: result?.status,
      error: result?.error,
      at: this.now().toISOString(),
    };
  }

  private append(entry: JournalEntryToWrite): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      if (this.writing) return;
      this.writing = true;
      // Records of the same tick (the end of one step and the begin of the next) share a write.
      setImmediate(() => void this.writeQueued());
    });
  }

  private async writeQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.store.appendJournal(batch.map((waiting) => waiting.entry));
        for (const waiting of batch) waiting.resolve();
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
    }
    this.writing = false;
  }
}
