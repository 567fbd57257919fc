import { describe, expect, it } from 'vitest';
import { lanesOf } from '../../../src/install/push-images.ts';

const upload = (name: string, size: number) => ({
  name,
  descriptor: { mediaType: 'application/octet-stream', digest: `sha256:${name}`, size },
  repositories: ['shop/web'],
});

const names = (lanes: ReturnType<typeof lanesOf>) => lanes.map((lane) => lane.map((u) => u.name));

describe('upload lanes', () => {
  it('cuts the uploads, in package order, into runs of about equal bytes', () => {
    const uploads = [upload('a', 50), upload('b', 50), upload('c', 10), upload('d', 40), upload('e', 50)];
    expect(names(lanesOf(uploads, 2))).toEqual([
      ['a', 'b'],
      ['c', 'd', 'e'],
    ]);
    expect(names(lanesOf(uploads, 3))).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('never makes more lanes than asked, nor empty ones', () => {
    expect(names(lanesOf([upload('a', 100), upload('b', 1)], 3))).toEqual([['a'], ['b']]);
    expect(lanesOf([], 2)).toEqual([]);
    expect(names(lanesOf([upload('a', 1), upload('b', 1), upload('c', 1)], 1))).toEqual([['a', 'b', 'c']]);
  });
});
