import { describe, expect, it } from 'vitest';
import { createBuiltins, parseOptionArgument, stringMethod } from '../../../src/kcl/builtins/index.ts';
import {
  KclRuntimeError,
  KclUnit,
  dict,
  list,
  makeFunction,
  repr,
  type KclValue,
} from '../../../src/kcl/values.ts';

function setup(options: [string, KclValue][] = []) {
  const printed: string[] = [];
  const builtins = createBuiltins({ options: new Map(options), write: (t) => printed.push(t) });
  const call = (name: string, positional: KclValue[], keywords: [string, KclValue][] = []) => {
    const fn = builtins.get(name);
    if (!fn) throw new Error(`no builtin ${name}`);
    return fn.call(positional, new Map(keywords));
  };
  return { call, printed };
}

describe('global builtins', () => {
  const { call, printed } = setup();

  it('convert between types', () => {
    expect(call('int', ['0xe4'], [['base', 16n]])).toBe(228n);
    expect(call('int', ['-0x10'], [['base', 16n]])).toBe(-16n);
    expect(call('int', ['755'], [['base', 8n]])).toBe(493n);
    expect(call('int', ['1024Mi'])).toBe(1073741824n);
    expect(call('int', [new KclUnit(1024n, 'm')])).toBe(1n);
    expect(() => call('int', [new KclUnit(1024102410241024n, 'Mi')])).toThrow(
      '1073849208920891981824: A 64 bit integer overflow',
    );
    expect(call('float', ['112'])).toBe(112);
    expect(call('float', [new KclUnit(1024n, 'n')])).toBe(1.024e-6);
    expect(call('str', [new KclUnit(1024n, 'u')])).toBe('1024u');
    expect([null, '', 0, list(), dict(), 1n].map((v) => call('bool', [v]))).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
    ]);
  });

  it('implement the numeric helpers', () => {
    expect(call('abs', [-40n])).toBe(40n);
    expect(call('round', [70.23456])).toBe(70n);
    expect(call('round', [80.264, 2n])).toBe(80.26);
    expect(call('round', [-100.000056, 3n])).toBe(-100);
    expect(call('max', [80n, 100n, 1000n])).toBe(1000n);
    expect(call('min', [list([3n, -2n])])).toBe(-2n);
    expect(call('sum', [list([0n, 1n, 2n, 3n, 4n]), 2n])).toBe(12n);
    expect(call('pow', [100n, 2n])).toBe(10000n);
    expect([call('hex', [-42n]), call('oct', [15n]), call('bin', [10n])]).toEqual([
      '-0x2a',
      '0o17',
      '0b1010',
    ]);
    expect(call('multiplyof', [10n, 5n])).toBe(true);
  });

  it('implement the sequence helpers', () => {
    expect(repr(call('range', [5n]))).toBe('[0, 1, 2, 3, 4]');
    expect(repr(call('range', [0n, 1n, 2n]))).toBe('[0]');
    expect(repr(call('sorted', [list([5n, 0n, 6n])], [['reverse', true]]))).toBe('[6, 5, 0]');
    expect(repr(call('zip', [list([0n, 1n]), list([3n, 4n, 5n])]))).toBe('[[0, 3], [1, 4]]');
    expect(call('isunique', [list([100n, 10n, 100n])])).toBe(false);
    expect(call('isnullish', [null])).toBe(true);
    expect(call('all_true', [list([0n, 1n])])).toBe(false);
    expect(call('any_true', [list([0n, '', false])])).toBe(false);
    expect(
      call('len', [
        dict([
          ['a', 1n],
          ['b', 2n],
        ]),
      ]),
    ).toBe(2n);
    expect(call('typeof', [dict()])).toBe('dict');
  });

  it('reduce folds with or without an initial value', () => {
    const step = makeFunction('f', ([acc, item]) => (acc as bigint) * 10n + (item as bigint));
    expect(call('reduce', [step, list([1n, 2n, 3n]), 9n])).toBe(9123n);
    expect(call('reduce', [step, list([1n, 2n])])).toBe(12n);
    expect(call('reduce', [step, list([])])).toBe(null);
    expect(() => call('reduce', [null, list([]), 5n])).toThrow(
      "reduce() argument 'reducer' must be a function",
    );
  });

  it('print writes str() of its arguments', () => {
    call('print', ['Hello', 100n, dict([['k', 'v']])]);
    call(
      'print',
      ['a', 'b'],
      [
        ['sep', '-'],
        ['end', ''],
      ],
    );
    expect(printed).toEqual(["Hello 100 {'k': 'v'}\n", 'a-b']);
  });
});

describe('option', () => {
  it('reads -D values with their parsed types', () => {
    const args = [
      'key1=val',
      'key2=2',
      'key3=4.4',
      'key4=[1,2,3]',
      'key5={"key":"value"}',
      'id="000000123456"',
      'b=False',
    ];
    const { call } = setup(args.map(parseOptionArgument));
    expect(call('option', ['key1'])).toBe('val');
    expect(call('option', ['key2'])).toBe(2n);
    expect(call('option', ['key3'])).toBe(4.4);
    expect(repr(call('option', ['key4']))).toBe('[1, 2, 3]');
    expect(repr(call('option', ['key5']))).toBe("{'key': 'value'}");
    expect(call('option', ['id'])).toBe('000000123456');
    expect(call('option', ['b'])).toBe(false);
  });

  it('converts to the requested type and applies defaults', () => {
    const { call } = setup([parseOptionArgument('key1=0'), parseOptionArgument('key3=0.0')]);
    expect(call('option', ['key1'], [['type', 'bool']])).toBe(false);
    expect(
      call(
        'option',
        ['key3'],
        [
          ['type', 'float'],
          ['default', '1.5'],
        ],
      ),
    ).toBe(0);
    expect(
      call(
        'option',
        ['missing'],
        [
          ['type', 'float'],
          ['default', '0.123'],
        ],
      ),
    ).toBe(0.123);
    expect(call('option', ['missing'])).toBe(null);
    expect(() => call('option', ['key3'], [['type', 'dict']])).toThrow("cannot use '0.0' as type 'dict'");
    expect(() => call('option', ['name'], [['required', true]])).toThrow(
      "option('name') must be initialized, try '-D name=?' argument",
    );
  });

  it('rejects malformed -D arguments', () => {
    for (const bad of ['key=value=', 'key=', '=123']) {
      expect(() => parseOptionArgument(bad)).toThrow(KclRuntimeError);
    }
  });
});

describe('string methods', () => {
  const call = (
    s: string,
    name: string,
    positional: KclValue[] = [],
    keywords: [string, KclValue][] = [],
  ) => {
    const method = stringMethod(s, name);
    if (!method) throw new Error(`no method ${name}`);
    return method.call(positional, new Map(keywords));
  };

  it('behave like Python', () => {
    expect(call('hello World', 'capitalize')).toBe('Hello world');
    expect(call('hellO worlD', 'title')).toBe('Hello World');
    expect(call('Hello World', 'endswith', ['rld', 0n, 9n])).toBe(false);
    expect(call('Hello World, Hello World', 'rfind', ['He', 0n, 10n])).toBe(0n);
    expect(call('Hello World, Hello World', 'rfind', [''])).toBe(24n);
    expect(() => call('Hello World', 'index', ['Wrold'])).toThrow('substring not found');
    expect(call('HelloWorld你好', 'isalpha')).toBe(true);
    expect(call('www.HelloWorld.com', 'isalnum')).toBe(false);
    expect(call('!!!Hello!!World!!!', 'strip', ['!!!'])).toBe('Hello!!World');
    expect(repr(call('Hello World', 'split', ['o', 1n]))).toBe("['Hell', ' World']");
    expect(repr(call('a b  c ', 'rsplit', [null, 1n]))).toBe("['a b', 'c']");
    expect(repr(call('Hel\n\nlo W\ror\nld', 'splitlines'))).toBe("['Hel', '', 'lo W', 'or', 'ld']");
    expect(repr(call('Hel\n\nlo W\ror\nld', 'splitlines', [true]))).toBe(
      "['Hel\\n', '\\n', 'lo W\\r', 'or\\n', 'ld']",
    );
    expect(call('.', 'join', [list(['hello', 'world'])])).toBe('hello.world');
    expect(call('abcabc', 'replace', ['b', 'x', 1n])).toBe('axcabc');
    expect(call('Hello Title', 'istitle')).toBe(true);
    expect(call('prefix-x', 'removeprefix', ['prefix-'])).toBe('x');
  });

  it('format follows Python format strings', () => {
    expect(call('{} {}', 'format', ['Alice', 'Smith'])).toBe('Alice Smith');
    expect(call('{1}{0}{{}}', 'format', ['a', 'b'])).toBe('ba{}');
    expect(call('{name!r}', 'format', [], [['name', 'x']])).toBe("'x'");
    expect(call('{:>5}|{:<3}|{:^5}', 'format', ['ab', 'c', 'm'])).toBe('   ab|c  |  m  ');
    expect(call('{:05.2f} {:,} {:x} {:+d}', 'format', [3.14159, 1234567n, 255n, 3n])).toBe(
      '03.14 1,234,567 ff +3',
    );
  });
});
