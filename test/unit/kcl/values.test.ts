import { describe, expect, it } from 'vitest';
import {
  KclDict,
  KclList,
  KclRuntimeError,
  KclSchema,
  KclUnit,
  UNDEFINED,
  binaryOp,
  compare,
  deepCopy,
  dict,
  equals,
  formatFloat,
  list,
  repr,
  toStr,
  truthy,
  typeName,
  unaryOp,
} from '../../../src/kcl/values.ts';

describe('KCL value model', () => {
  it('names types as typeof reports them', () => {
    expect([1n, 1.5, 's', true, null, list(), dict(), new KclUnit(1n, 'Ki')].map((v) => typeName(v))).toEqual(
      ['int', 'float', 'str', 'bool', 'NoneType', 'list', 'dict', 'number_multiplier'],
    );
    const schema = new KclSchema('A', 'child');
    expect(typeName(schema)).toBe('A');
    expect(typeName(schema, true)).toBe('child.A');
  });

  it('follows KCL truthiness', () => {
    expect([null, UNDEFINED, 0n, 0, '', list(), dict(), false].map(truthy)).toEqual(Array(8).fill(false));
    expect([1n, 0.1, 'a', list([null]), dict([['a', 1n]]), true].map(truthy)).toEqual(Array(6).fill(true));
  });

  it('prints values inside strings as KCL interpolation does', () => {
    expect(toStr(list([1n]))).toBe('[1]');
    expect(toStr(dict([['key', 'value']]))).toBe("{'key': 'value'}");
    expect(toStr(true)).toBe('True');
    expect(toStr(null)).toBe('None');
    expect(toStr(1)).toBe('1.0');
    expect(toStr(1.2)).toBe('1.2');
    expect(toStr(new KclUnit(1024n, 'u'))).toBe('1024u');
    expect(repr('it')).toBe("'it'");
  });

  it('formats floats like KCL output', () => {
    expect(formatFloat(1)).toBe('1.0');
    expect(formatFloat(-90)).toBe('-90.0');
    expect(formatFloat(1e-9)).toBe('1e-09');
    expect(formatFloat(1.024e-6)).toBe('1.024e-06');
    expect(formatFloat(0.001024)).toBe('0.001024');
    expect(formatFloat(3.4e38)).toBe('3.4e38');
    expect(formatFloat(2.22e-16)).toBe('2.22e-16');
    expect(formatFloat(1.1754943510000001e-36)).toBe('1.1754943510000001e-36');
    expect(formatFloat(1e15)).toBe('1000000000000000.0');
  });

  it('computes number multipliers', () => {
    expect(new KclUnit(1n, 'Mi').value).toBe(1048576);
    expect(new KclUnit(1n, 'n').value).toBe(1e-9);
    expect(binaryOp('+', new KclUnit(1n, 'Ki'), 1n)).toBe(1025);
  });

  it('does int and float arithmetic per KCL', () => {
    expect(binaryOp('+', 10n, 1.1)).toBe(11.1);
    expect(binaryOp('/', 1n, 1n)).toBe(1);
    expect(binaryOp('//', -7n, 2n)).toBe(-4n);
    expect(binaryOp('%', -7n, 2n)).toBe(1n);
    expect(binaryOp('**', 2n, 10n)).toBe(1024n);
    expect(binaryOp('**', 2n, -1n)).toBe(0.5);
    expect(binaryOp('<<', 1n, 3n)).toBe(8n);
    expect(binaryOp('^', 6n, 3n)).toBe(5n);
    expect(unaryOp('~', 0n)).toBe(-1n);
    expect(unaryOp('-', 2n)).toBe(-2n);
  });

  it('raises the 64 bit overflow error', () => {
    expect(() => binaryOp('+', 9223372036854775807n, 1n)).toThrow(
      '9223372036854775808: A 64 bit integer overflow',
    );
  });

  it('raises on division by zero and unsupported operands', () => {
    expect(() => binaryOp('/', 1n, 0n)).toThrow(KclRuntimeError);
    expect(() => binaryOp('-', 'a', 1n)).toThrow("unsupported operand type(s) for -: 'str' and 'int'");
  });

  it('concatenates and repeats sequences', () => {
    expect(binaryOp('+', 'a', 'b')).toBe('ab');
    expect(repr(binaryOp('+', list([1n]), list([2n])))).toBe('[1, 2]');
    expect(repr(binaryOp('*', list([1n]), 2n))).toBe('[1, 1]');
    expect(binaryOp('*', 3n, 'ab')).toBe('ababab');
  });

  it('compares deeply', () => {
    expect(equals(1n, 1.0)).toBe(true);
    expect(equals(list([1n, dict([['a', 'b']])]), list([1n, dict([['a', 'b']])]))).toBe(true);
    expect(equals(dict([['a', 1n]]), dict([['a', 2n]]))).toBe(false);
    expect(equals('1', 1n)).toBe(false);
    expect(compare(list([1n, 2n]), list([1n, 3n]))).toBe(-1);
    expect(binaryOp('<', 'a', 'b')).toBe(true);
    expect(() => compare(dict(), dict())).toThrow("'<' not supported between instances of 'dict' and 'dict'");
  });

  it('tests membership', () => {
    expect(binaryOp('in', 'a', dict([['a', 1n]]))).toBe(true);
    expect(binaryOp('in', 2n, list([1n, 2n]))).toBe(true);
    expect(binaryOp('not in', 'z', 'abc')).toBe(true);
  });

  it('unions configs recursively and honours override metadata', () => {
    const a = dict([
      [
        'x',
        dict([
          ['p', 1n],
          ['q', 2n],
        ]),
      ],
      ['l', list([1n, 2n])],
    ]);
    const b = dict([
      ['x', dict([['q', 3n]])],
      ['l', list([9n])],
    ]);
    const merged = binaryOp('|', a, b);
    expect(repr(merged)).toBe("{'x': {'p': 1, 'q': 3}, 'l': [9, 2]}");
    // The left operand is not modified.
    expect(repr(a)).toBe("{'x': {'p': 1, 'q': 2}, 'l': [1, 2]}");
    const override = new KclDict(
      new Map([['x', dict([['r', 0n]])]]),
      new Map([['x', { operation: 'override' as const }]]),
    );
    expect(repr(binaryOp('|', a, override))).toBe("{'x': {'r': 0}, 'l': [1, 2]}");
    const insert = new KclDict(
      new Map([['l', list([0n])]]),
      new Map([['l', { operation: 'insert' as const, index: 0 }]]),
    );
    expect(repr(binaryOp('|', a, insert))).toBe("{'x': {'p': 1, 'q': 2}, 'l': [0, 1, 2]}");
  });

  it('deep-copies containers', () => {
    const inner = new KclList([1n]);
    const original = dict([['l', inner]]);
    const copy = deepCopy(original);
    inner.items.push(2n);
    expect(repr(copy)).toBe("{'l': [1]}");
  });
});
