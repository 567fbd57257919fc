import { describe, expect, it } from 'vitest';
import { emitJson, emitResultYaml, emitYaml, emitYamlStream } from '../../../src/kcl/emitter.ts';
import { KclSchema, KclUnit, dict, list, makeFunction, type KclValue } from '../../../src/kcl/values.ts';

const result = (pairs: [string, KclValue][]) => emitResultYaml(pairs);

describe('YAML emitter', () => {
  it('prints nested configs and unindented sequences', () => {
    const text = result([
      ['a', 1n],
      [
        'd',
        list([
          1n,
          dict([
            ['name', 'tmp'],
            ['emptyDir', dict()],
          ]),
        ]),
      ],
      [
        'e',
        dict([
          ['key', 'value'],
          ['l', list([list([0n, 3n])])],
        ]),
      ],
    ]);
    expect(text).toBe(
      'a: 1\nd:\n- 1\n- name: tmp\n  emptyDir: {}\ne:\n  key: value\n  l:\n  - - 0\n    - 3\n',
    );
  });

  it('quotes strings as kcl run does', () => {
    const text = result([
      ['cpu', '1'],
      ['s', "1 1.2 True [1] {'key': 'value'}"],
      ['t', '$$1$$ 1.0 '],
      ['j', '{"key": "value"}'],
      ['b', 'true'],
      ['y', 'n'],
      ['on', 'on'],
      ['e', ''],
      ['colon', 'key: value'],
      ['cr', 'lo W\r'],
      ['zh', '你好'],
    ]);
    expect(text).toBe(
      [
        "cpu: '1'",
        `s: "1 1.2 True [1] {'key': 'value'}"`,
        "t: '$$1$$ 1.0 '",
        `j: '{"key": "value"}'`,
        "b: 'true'",
        'y: n',
        "'on': 'on'",
        "e: ''",
        "colon: 'key: value'",
        'cr: "lo W\\r"',
        'zh: 你好',
        '',
      ].join('\n'),
    );
  });

  it('uses literal blocks for multi-line strings with the right chomping', () => {
    expect(result([['a', 'x\ny\n']])).toBe('a: |\n  x\n  y\n');
    expect(result([['a', 'x\ny']])).toBe('a: |-\n  x\n  y\n');
    expect(emitYaml(list(['\n', 'Hel\n']))).toBe('- |2+\n\n- |\n  Hel\n');
  });

  it('prints numbers, units and nulls', () => {
    expect(
      result([
        ['f', 1],
        ['n', new KclUnit(1n, 'n')],
        ['k', new KclUnit(1n, 'k')],
        ['z', null],
      ]),
    ).toBe('f: 1.0\nn: 1e-09\nk: 1000\nz: null\n');
  });

  it('drops hidden names, functions and (with omitNone) nulls at every depth', () => {
    const schema = new KclSchema(
      'Person',
      '__main__',
      new Map<string, KclValue>([
        ['name', 'kcl'],
        ['_secret', 1n],
        ['age', null],
      ]),
    );
    const pairs: [string, KclValue][] = [
      ['_b', 1n],
      ['p', schema],
      ['f', makeFunction('f', () => null)],
    ];
    expect(emitResultYaml(pairs)).toBe('p:\n  name: kcl\n  age: null\n');
    expect(emitResultYaml(pairs, { omitNone: true })).toBe('p:\n  name: kcl\n');
    expect(emitResultYaml(pairs, { showHidden: true })).toBe(
      '_b: 1\np:\n  name: kcl\n  _secret: 1\n  age: null\n',
    );
  });

  it('sorts keys when asked', () => {
    expect(
      emitResultYaml(
        [
          ['b', 1n],
          [
            'a',
            dict([
              ['d', 1n],
              ['c', 2n],
            ]),
          ],
        ],
        { sortKeys: true },
      ),
    ).toBe('a:\n  c: 2\n  d: 1\nb: 1\n');
  });

  it('joins stream documents with the separator line', () => {
    expect(emitYamlStream([1n, dict([['a', 1n]])])).toBe('1\n---\na: 1\n');
    expect(emitYamlStream([dict([['a', 1n]]), dict([['b', 2n]])], {}, '\n---\n')).toBe(
      'a: 1\n\n---\n\nb: 2\n',
    );
  });
});

describe('JSON emitter', () => {
  const data = dict([
    ['name', 'Alice'],
    ['data', list([1n, 2n, null])],
  ]);

  it('prints one line by default', () => {
    expect(emitJson(data)).toBe('{"name": "Alice", "data": [1, 2, null]}');
    expect(emitJson(1.1)).toBe('1.1');
  });

  it('indents and drops nulls on request', () => {
    expect(emitJson(data, { indent: 4, omitNone: true })).toBe(
      '{\n    "name": "Alice",\n    "data": [\n        1,\n        2\n    ]\n}',
    );
  });
});
