import { KdeliverError } from '../errors.ts';

/** Orders ready nodes when several could come next, so orders are the same on every run. */
export type NodeOrder = (a: string, b: string) => number;

const byCodeUnits: NodeOrder = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A directed graph of string nodes where an edge says "node depends on dependency": the
 * dependency comes first in topological order. Meant to stay acyclic; `findCycle` and
 * `topologicalOrder` report a cycle by its path.
 */
export class Graph {
  readonly #dependencies = new Map<string, Set<string>>();
  readonly #dependents = new Map<string, Set<string>>();
  readonly #barriers = new Set<string>();

  addNode(node: string): void {
    if (this.#dependencies.has(node)) return;
    this.#dependencies.set(node, new Set());
    this.#dependents.set(node, new Set());
  }

  /**
   * Adds a barrier: a node that stands for no work, only for "everything I depend on comes
   * before everything that depends on me". n dependents of m dependencies then take n + m
   * edges instead of n × m.
   */
  addBarrier(node: string): void {
    this.addNode(node);
    this.#barriers.add(node);
  }

  isBarrier(node: string): boolean {
    return this.#barriers.has(node);
  }

  /** Both nodes must have been added. */
  addDependency(node: string, dependency: string): void {
    const dependencies = this.#edgesOf(this.#dependencies, node);
    const dependents = this.#edgesOf(this.#dependents, dependency);
    dependencies.add(dependency);
    dependents.add(node);
  }

  hasNode(node: string): boolean {
    return this.#dependencies.has(node);
  }

  /** Nodes in the order they were added. */
  nodes(): string[] {
    return [...this.#dependencies.keys()];
  }

  dependenciesOf(node: string): string[] {
    return [...this.#edgesOf(this.#dependencies, node)];
  }

  dependentsOf(node: string): string[] {
    return [...this.#edgesOf(this.#dependents, node)];
  }

  /** Every edge as [node, dependency]. */
  edges(): [string, string][] {
    return [...this.#dependencies].flatMap(([node, dependencies]) =>
      [...dependencies].map((dependency): [string, string] => [node, dependency]),
    );
  }

  /** Whether `node` depends on `target` directly or through other nodes. */
  dependsOn(node: string, target: string): boolean {
    return this.allDependenciesOf(node).has(target);
  }

  /** Everything `node` depends on, directly or through other nodes. */
  allDependenciesOf(node: string): Set<string> {
    const seen = new Set<string>();
    const pending = this.dependenciesOf(node);
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      if (seen.has(next)) continue;
      seen.add(next);
      for (const further of this.#edgesOf(this.#dependencies, next))
        if (!seen.has(further)) pending.push(further);
    }
    return seen;
  }

  /** A cycle as its path, first node repeated at the end (`a → b → a`); undefined when acyclic. */
  findCycle(): string[] | undefined {
    const finished = new Set<string>();
    for (const start of [...this.#dependencies.keys()].sort(byCodeUnits)) {
      if (finished.has(start)) continue;
      // Iterative depth-first search; `path` holds the nodes on the current branch.
      const path: string[] = [start];
      const onPath = new Set(path);
      const iterators = [[...this.#edgesOf(this.#dependencies, start)].sort(byCodeUnits).values()];
      while (iterators.length > 0) {
        const next = iterators.at(-1)?.next();
        if (!next || next.done) {
          const done = path.pop();
          if (done !== undefined) {
            onPath.delete(done);
            finished.add(done);
          }
          iterators.pop();
          continue;
        }
        const node = next.value;
        if (onPath.has(node)) return [...path.slice(path.indexOf(node)), node];
        if (finished.has(node)) continue;
        path.push(node);
        onPath.add(node);
        iterators.push([...this.#edgesOf(this.#dependencies, node)].sort(byCodeUnits).values());
      }
    }
    return undefined;
  }

  /** Dependencies before dependents; ties broken by `order`. Throws GRAPH_CYCLE on a cycle. */
  topologicalOrder(order: NodeOrder = byCodeUnits): string[] {
    const cycle = this.findCycle();
    if (cycle) {
      throw new KdeliverError('input', 'GRAPH_CYCLE', `dependency cycle: ${cycle.join(' → ')}`, {
        hint: 'Each arrow reads "depends on". Remove one dependsOn or $kusion_path reference on the cycle.',
      });
    }
    const waitingOn = new Map(
      [...this.#dependencies].map(([node, dependencies]) => [node, dependencies.size]),
    );
    const ready = [...waitingOn].filter(([, count]) => count === 0).map(([node]) => node);
    const result: string[] = [];
    while (ready.length > 0) {
      ready.sort(order);
      const node = ready.shift() as string;
      result.push(node);
      for (const dependent of this.#edgesOf(this.#dependents, node)) {
        const count = (waitingOn.get(dependent) ?? 0) - 1;
        waitingOn.set(dependent, count);
        if (count === 0) ready.push(dependent);
      }
    }
    return result;
  }

  /** The same nodes with every edge turned around: the order to undo things in. */
  reversed(): Graph {
    const graph = this.#withSameNodes();
    for (const [node, dependency] of this.edges()) graph.addDependency(dependency, node);
    return graph;
  }

  /** The fewest edges with the same reachability, for display. The graph must be acyclic. */
  transitiveReduction(): Graph {
    const order = this.topologicalOrder();
    // Everything each node depends on, directly or not, computed dependencies first.
    const reachable = new Map<string, Set<string>>();
    for (const node of order) {
      const all = new Set<string>();
      for (const dependency of this.#edgesOf(this.#dependencies, node)) {
        all.add(dependency);
        for (const further of reachable.get(dependency) ?? []) all.add(further);
      }
      reachable.set(node, all);
    }
    const graph = this.#withSameNodes();
    for (const [node, dependency] of this.edges()) {
      const implied = this.dependenciesOf(node).some(
        (other) => other !== dependency && reachable.get(other)?.has(dependency),
      );
      if (!implied) graph.addDependency(node, dependency);
    }
    return graph;
  }

  #withSameNodes(): Graph {
    const graph = new Graph();
    for (const node of this.nodes()) {
      if (this.isBarrier(node)) graph.addBarrier(node);
      else graph.addNode(node);
    }
    return graph;
  }

  #edgesOf(edges: Map<string, Set<string>>, node: string): Set<string> {
    const found = edges.get(node);
    if (!found) throw new Error(`graph has no node ${node}`);
    return found;
  }
}
