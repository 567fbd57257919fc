import { describe, expect, it } from 'vitest';
import { firstDifference } from '../../../src/kcl/project/unordered-equal.ts';

describe('firstDifference', () => {
  it('ignores list order at every level and mapping key order', () => {
    const actual = [{ id: 'b', ports: [2, 1] }, { id: 'a' }];
    const expected = [{ id: 'a' }, { ports: [1, 2], id: 'b' }];
    expect(firstDifference(actual, expected)).toBeUndefined();
  });

  it('pairs list items one to one, so repeated items must repeat', () => {
    expect(firstDifference([1, 1, 2], [1, 2, 2])).toBe('$[1]: 1 is not expected');
    expect(firstDifference([1], [1, 1])).toBe('$: 1 items, expected 2');
  });

  it('names missing and unexpected keys and differing scalars by path', () => {
    expect(firstDifference({ a: { b: 1 } }, { a: { b: 1, c: 2 } })).toBe('$.a.c: missing, expected 2');
    expect(firstDifference({ a: [] }, {})).toBe('$.a: not expected ([])');
    expect(firstDifference({ a: '1' }, { a: 1 })).toBe('$.a: "1", expected 1');
  });

  it('explains an unmatched resource against the expected one with the same id', () => {
    const actual = [{ id: 'v1:Service:shop:web', attributes: { spec: { ports: [80] } } }];
    const expected = [{ id: 'v1:Service:shop:web', attributes: { spec: { ports: [8080] } } }];
    expect(firstDifference(actual, expected)).toBe('$[0].attributes.spec.ports[0]: 80 is not expected');
  });
});
