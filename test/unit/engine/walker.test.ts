import { describe, expect, it } from 'vitest';
import { Graph } from '../../../src/engine/graph.ts';
import { walkGraph } from '../../../src/engine/walker.ts';

/** a1, a2 → barrier → b1, b2: each b depends on both a's through the barrier. */
function tiered(): Graph {
  const graph = new Graph();
  for (const node of ['a1', 'a2', 'b1', 'b2']) graph.addNode(node);
  graph.addBarrier('gate');
  graph.addDependency('gate', 'a1');
  graph.addDependency('gate', 'a2');
  graph.addDependency('b1', 'gate');
  graph.addDependency('b2', 'gate');
  return graph;
}

describe('walkGraph with barriers', () => {
  it('never visits a barrier, and starts its dependents once all before it succeeded', async () => {
    const visited: string[] = [];
    const statuses = await walkGraph(
      tiered(),
      async (node) => {
        visited.push(node);
        return true;
      },
      { concurrency: 1 },
    );
    expect(visited).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect([...statuses.keys()].sort()).toEqual(['a1', 'a2', 'b1', 'b2']);
  });

  it('skips what lies behind a barrier when one node before it fails, naming that node', async () => {
    const skipped: [string, string][] = [];
    const statuses = await walkGraph(tiered(), async (node) => node !== 'a2', {
      concurrency: 2,
      onSkip: (node, reason) => skipped.push([node, reason]),
    });
    expect(skipped.sort()).toEqual([
      ['b1', 'dependency a2 failed'],
      ['b2', 'dependency a2 failed'],
    ]);
    expect(statuses.has('gate')).toBe(false);
  });

  it('reports no barrier as skipped when aborted before it', async () => {
    const controller = new AbortController();
    const skipped: string[] = [];
    await walkGraph(
      tiered(),
      async () => {
        controller.abort();
        return true;
      },
      { concurrency: 1, signal: controller.signal, onSkip: (node) => skipped.push(node) },
    );
    expect(skipped.sort()).toEqual(['a2', 'b1', 'b2']);
  });
});
