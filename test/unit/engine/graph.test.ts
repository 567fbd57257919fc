import { describe, expect, it } from 'vitest';
import { Graph } from '../../../src/engine/graph.ts';

function graphOf(edges: [string, string][], nodes: string[] = []): Graph {
  const graph = new Graph();
  for (const node of nodes) graph.addNode(node);
  for (const [node, dependency] of edges) {
    graph.addNode(node);
    graph.addNode(dependency);
    graph.addDependency(node, dependency);
  }
  return graph;
}

describe('Graph', () => {
  it('orders dependencies first, breaking ties by id whatever the insertion order', () => {
    const edges: [string, string][] = [
      ['d', 'b'],
      ['d', 'c'],
      ['b', 'a'],
      ['c', 'a'],
    ];
    expect(graphOf(edges, ['z', 'e']).topologicalOrder()).toEqual(['a', 'b', 'c', 'd', 'e', 'z']);
    expect(graphOf([...edges].reverse(), ['e', 'z']).topologicalOrder()).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
      'z',
    ]);
  });

  it('takes a custom tie-break', () => {
    const graph = graphOf([], ['a', 'b', 'c']);
    expect(graph.topologicalOrder((x, y) => (x < y ? 1 : -1))).toEqual(['c', 'b', 'a']);
  });

  it('names the cycle path in the error', () => {
    const graph = graphOf([
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'a'],
      ['d', 'a'],
    ]);
    expect(graph.findCycle()).toEqual(['a', 'b', 'c', 'a']);
    expect(() => graph.topologicalOrder()).toThrow(
      expect.objectContaining({
        kind: 'input',
        code: 'GRAPH_CYCLE',
        message: 'dependency cycle: a → b → c → a',
      }),
    );
  });

  it('finds a self-dependency and none in an acyclic graph', () => {
    expect(graphOf([['a', 'a']]).findCycle()).toEqual(['a', 'a']);
    expect(
      graphOf([
        ['a', 'b'],
        ['c', 'b'],
      ]).findCycle(),
    ).toBeUndefined();
  });

  it('answers transitive dependency questions', () => {
    const graph = graphOf([
      ['a', 'b'],
      ['b', 'c'],
    ]);
    expect(graph.dependsOn('a', 'c')).toBe(true);
    expect(graph.dependsOn('c', 'a')).toBe(false);
  });

  it('removes edges implied by longer paths in the transitive reduction', () => {
    const graph = graphOf([
      ['c', 'b'],
      ['b', 'a'],
      ['c', 'a'],
      ['d', 'a'],
    ]);
    const reduced = graph.transitiveReduction();
    expect(reduced.edges().sort()).toEqual([
      ['b', 'a'],
      ['c', 'b'],
      ['d', 'a'],
    ]);
    expect(graph.edges()).toHaveLength(4);
  });

  it('reverses every edge', () => {
    const graph = graphOf([
      ['b', 'a'],
      ['c', 'b'],
    ]);
    expect(graph.reversed().topologicalOrder()).toEqual(['c', 'b', 'a']);
    expect(graph.reversed().dependenciesOf('a')).toEqual(['b']);
  });

  it('refuses edges to unknown nodes', () => {
    const graph = graphOf([], ['a']);
    expect(() => graph.addDependency('a', 'b')).toThrow(/no node b/);
    expect(graph.edges()).toEqual([]);
  });
});
