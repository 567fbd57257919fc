import type { Graph } from './graph.ts';

export type NodeStatus = 'succeeded' | 'failed' | 'skipped';

export interface WalkOptions {
  /** Slots: each visit starts in one, and each `Slot.call` made after `release` takes one. */
  concurrency: number;
  /** Once aborted, no further visit starts; visits already running finish. */
  signal?: AbortSignal;
  /** Told of each node that will not be visited, and why. */
  onSkip?: (node: string, reason: string) => void;
}

/** The slot a visit starts in, and the slots it takes for later calls. */
export interface Slot {
  /** Gives up the starting slot, for a visit that goes on waiting rather than working. */
  release(): void;
  /**
   * Runs `work` in a slot: the starting one while held, else the next free one, taken
   * only for the duration of `work`. Rejects without running it if `signal` aborts first.
   */
  call<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/**
 * Visits every node of an acyclic graph after all its dependencies succeeded, with at most
 * `concurrency` slots in use (see `Slot`). Barriers are not visited, skipped or reported:
 * one passes, taking no slot, as soon as all its dependencies succeeded. Free slots go to ready nodes, in topological
 * order, before calls of running visits: whatever can start, starts as early as possible.
 * When a visit reports failure, the nodes that depend on it are skipped while independent
 * branches go on. A visit that throws is fatal: nothing more starts, and the walk rejects
 * with that error once running visits have settled.
 */
export function walkGraph(
  graph: Graph,
  visit: (node: string, slot: Slot) => Promise<boolean>,
  options: WalkOptions,
): Promise<Map<string, NodeStatus>> {
  const order = graph.topologicalOrder();
  const rank = new Map(order.map((node, index) => [node, index]));
  const byRank = (a: string, b: string): number => (rank.get(a) ?? 0) - (rank.get(b) ?? 0);
  const waitingOn = new Map(order.map((node) => [node, graph.dependenciesOf(node).length]));
  const ready: string[] = [];
  const statuses = new Map<string, NodeStatus>();
  const { signal, onSkip } = options;
  let running = 0;
  let freeSlots = options.concurrency;
  const waitingCalls: (() => void)[] = [];
  let fatal: { error: unknown } | undefined;

  const skip = (node: string, reason: string): void => {
    if (statuses.has(node)) return;
    statuses.set(node, 'skipped');
    if (!graph.isBarrier(node)) onSkip?.(node, reason);
  };

  const skipDependentsOf = (failed: string): void => {
    const pending = graph.dependentsOf(failed);
    for (let node = pending.shift(); node !== undefined; node = pending.shift()) {
      if (statuses.has(node)) continue;
      skip(node, `dependency ${failed} failed`);
      pending.push(...graph.dependentsOf(node));
    }
  };

  /** Queues a node whose dependencies all succeeded; a barrier passes at once. */
  const becameReady = (node: string): void => {
    if (graph.isBarrier(node)) settle(node, true);
    else ready.push(node);
  };

  const settle = (node: string, succeeded: boolean): void => {
    statuses.set(node, succeeded ? 'succeeded' : 'failed');
    if (!succeeded) return skipDependentsOf(node);
    for (const dependent of graph.dependentsOf(node)) {
      const count = (waitingOn.get(dependent) ?? 0) - 1;
      waitingOn.set(dependent, count);
      if (count === 0 && !statuses.has(dependent)) becameReady(dependent);
    }
  };

  for (const node of order) if (waitingOn.get(node) === 0) becameReady(node);
  ready.sort(byRank);

  return new Promise((resolve, reject) => {
    const finish = (): void => {
      signal?.removeEventListener('abort', pump);
      const reason = fatal ? 'the run stopped on an error' : 'aborted';
      for (const node of order) skip(node, reason);
      for (const node of order) if (graph.isBarrier(node)) statuses.delete(node);
      if (fatal) reject(fatal.error);
      else resolve(statuses);
    };

    const takeSlot = (callSignal: AbortSignal | undefined): Promise<void> =>
      new Promise((resolve, reject) => {
        if (callSignal?.aborted) return reject(callSignal.reason);
        const grant = (): void => {
          callSignal?.removeEventListener('abort', withdraw);
          resolve();
        };
        const withdraw = (): void => {
          waitingCalls.splice(waitingCalls.indexOf(grant), 1);
          reject(callSignal?.reason);
        };
        callSignal?.addEventListener('abort', withdraw, { once: true });
        waitingCalls.push(grant);
        pump();
      });

    const giveSlot = (): void => {
      freeSlots += 1;
      pump();
    };

    const start = (node: string): void => {
      running += 1;
      let holding = true;
      const release = (): void => {
        if (!holding) return;
        holding = false;
        giveSlot();
      };
      const slot: Slot = {
        release,
        call: async (work, callSignal) => {
          if (holding) return work();
          await takeSlot(callSignal);
          try {
            return await work();
          } finally {
            giveSlot();
          }
        },
      };
      visit(node, slot)
        .then(
          (succeeded) => {
            settle(node, succeeded);
            ready.sort(byRank);
          },
          (error: unknown) => {
            statuses.set(node, 'failed');
            fatal ??= { error };
          },
        )
        .finally(() => {
          running -= 1;
          if (holding) release();
          else pump();
        });
    };

    function pump(): void {
      // Re-checked per start: a visit may abort synchronously before it first awaits.
      const stopped = (): boolean => fatal !== undefined || signal?.aborted === true;
      while (freeSlots > 0 && !stopped() && ready.length > 0) {
        freeSlots -= 1;
        start(ready.shift() as string);
      }
      while (freeSlots > 0 && waitingCalls.length > 0) {
        freeSlots -= 1;
        (waitingCalls.shift() as () => void)();
      }
      if (running === 0 && (stopped() || ready.length === 0)) finish();
    }

    signal?.addEventListener('abort', pump);
    pump();
  });
}
