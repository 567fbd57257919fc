import type { Graph } from './graph.ts';

export type NodeStatus = 'succeeded' | 'failed' | 'skipped';

export interface WalkOptions {
  /** At most this many visits run at once. */
  concurrency: number;
  /** Once aborted, no further visit starts; visits already running finish. */
  signal?: AbortSignal;
  /** Told of each node that will not be visited, and why. */
  onSkip?: (node: string, reason: string) => void;
}

/**
 * Visits every node of an acyclic graph after all its dependencies succeeded, up to
 * `concurrency` at a time, ready nodes in topological order. When a visit reports failure,
 * the nodes that depend on it are skipped while independent branches go on. A visit that
 * throws is fatal: nothing more starts, and the walk rejects with that error once running
 * visits have settled.
 */
export function walkGraph(
  graph: Graph,
  visit: (node: string) => Promise<boolean>,
  options: WalkOptions,
): Promise<Map<string, NodeStatus>> {
  const order = graph.topologicalOrder();
  const rank = new Map(order.map((node, index) => [node, index]));
  const byRank = (a: string, b: string): number => (rank.get(a) ?? 0) - (rank.get(b) ?? 0);
  const waitingOn = new Map(order.map((node) => [node, graph.dependenciesOf(node).length]));
  const ready = order.filter((node) => waitingOn.get(node) === 0);
  const statuses = new Map<string, NodeStatus>();
  const { signal, onSkip } = options;
  let running = 0;
  let fatal: { error: unknown } | undefined;

  const skip = (node: string, reason: string): void => {
    if (statuses.has(node)) return;
    statuses.set(node, 'skipped');
    onSkip?.(node, reason);
  };

  const skipDependentsOf = (failed: string): void => {
    const pending = graph.dependentsOf(failed);
    for (let node = pending.shift(); node !== undefined; node = pending.shift()) {
      if (statuses.has(node)) continue;
      skip(node, `dependency ${failed} failed`);
      pending.push(...graph.dependentsOf(node));
    }
  };

  return new Promise((resolve, reject) => {
    const finish = (): void => {
      signal?.removeEventListener('abort', pump);
      const reason = fatal ? 'the run stopped on an error' : 'aborted';
      for (const node of order) skip(node, reason);
      if (fatal) reject(fatal.error);
      else resolve(statuses);
    };

    const settle = (node: string, succeeded: boolean): void => {
      statuses.set(node, succeeded ? 'succeeded' : 'failed');
      if (!succeeded) return skipDependentsOf(node);
      for (const dependent of graph.dependentsOf(node)) {
        const count = (waitingOn.get(dependent) ?? 0) - 1;
        waitingOn.set(dependent, count);
        if (count === 0 && !statuses.has(dependent)) {
          ready.push(dependent);
          ready.sort(byRank);
        }
      }
    };

    function pump(): void {
      // Re-checked per start: a visit may abort synchronously before it first awaits.
      const stopped = (): boolean => fatal !== undefined || signal?.aborted === true;
      while (!stopped() && running < options.concurrency && ready.length > 0) {
        const node = ready.shift() as string;
        running += 1;
        visit(node)
          .then(
            (succeeded) => settle(node, succeeded),
            (error: unknown) => {
              statuses.set(node, 'failed');
              fatal ??= { error };
            },
          )
          .finally(() => {
            running -= 1;
            pump();
          });
      }
      if (running === 0 && (stopped() || ready.length === 0)) finish();
    }

    signal?.addEventListener('abort', pump);
    pump();
  });
}
