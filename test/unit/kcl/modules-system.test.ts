import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSystemModule, isSystemModule, type ModuleContext } from '../../../src/kcl/modules/index.ts';
import { KclSchema, dict, list, repr, type KclList, type KclValue } from '../../../src/kcl/values.ts';

function setup() {
  const workdir = mkdtempSync(join(tmpdir(), 'kcl-modules-'));
  const streams: string[] = [];
  const ctx: ModuleContext = {
    workdir,
    modRoot: workdir,
    currentFile: join(workdir, 'main.k'),
    setStreamOutput: (t) => streams.push(t),
  };
  const call = (
    module: string,
    member: string,
    positional: KclValue[],
    keywords: [string, KclValue][] = [],
  ) => {
    const fn = createSystemModule(module, ctx)?.members.get(member);
    if (!fn || typeof fn !== 'object' || fn === null || fn.kind !== 'function')
      throw new Error(`no ${module}.${member}`);
    return fn.call(positional, new Map(keywords));
  };
  const get = (module: string, member: string) => createSystemModule(module, ctx)?.members.get(member);
  return { call, get, streams, workdir };
}

describe('system modules', () => {
  const { call, get, streams, workdir } = setup();

  it('knows which names are system modules', () => {
    expect(isSystemModule('json')).toBe(true);
    expect(isSystemModule('pkg')).toBe(false);
  });

  it('json encodes, decodes and validates', () => {
    const person = new KclSchema(
      'Person',
      '__main__',
      new Map<string, KclValue>([
        ['name', 'Alice'],
        ['data', list([1n, null])],
      ]),
    );
    expect(
      call('json', 'encode', [
        dict([
          ['key1', 'value1'],
          ['data', list([1n, 2n])],
        ]),
      ]),
    ).toBe('{"key1": "value1", "data": [1, 2]}');
    expect(
      call(
        'json',
        'encode',
        [person],
        [
          ['indent', 4n],
          ['ignore_none', true],
        ],
      ),
    ).toBe('{\n    "name": "Alice",\n    "data": [\n        1\n    ]\n}');
    expect(repr(call('json', 'decode', ['{"a": [1, 2.0, null, true]}']))).toBe("{'a': [1, 2.0, None, True]}");
    expect(call('json', 'validate', ['[0, 1, 2,]'])).toBe(false);
    expect(call('json', 'validate', ['1.20'])).toBe(true);
  });

  it('yaml encodes and decodes documents', () => {
    expect(call('yaml', 'encode', [list([1n, 2n])])).toBe('- 1\n- 2\n');
    expect(call('yaml', 'encode_all', [list([dict([['key', 'value']]), list([1n])])])).toBe(
      'key: value\n\n---\n- 1\n',
    );
    expect(repr(call('yaml', 'decode_all', ['1.1\n---\nnull\n---\ntrue']))).toBe('[1.1, None, True]');
    expect(call('yaml', 'validate', ['a:\n-1'])).toBe(false);
    expect(call('yaml', 'validate', ['a:1\n---\nb:2'])).toBe(true);
  });

  it('manifests.yaml_stream replaces the output with documents', () => {
    const x = dict([
      ['name', 'kcl'],
      ['age', null],
      ['_p', 1n],
    ]);
    call('manifests', 'yaml_stream', [list([x, x])], [['opts', dict([['ignore_none', true]])]]);
    expect(streams.at(-1)).toBe('name: kcl\n---\nname: kcl\n');
  });

  it('hashes and encodes', () => {
    expect(call('crypto', 'md5', ['ABCDEF'])).toBe('8827a41122a5028b9808c7bf84b9fcf6');
    expect(call('base64', 'encode', ['0.3.0'])).toBe('MC4zLjA=');
    expect(call('base64', 'decode', ['MC4zLjA='])).toBe('0.3.0');
    expect(call('base32', 'decode', ['GAXDGLRQ'])).toBe('0.3.0');
    expect(call('base32', 'encode', ['0.3.0'])).toBe('GAXDGLRQ');
  });

  it('math matches the reference results', () => {
    expect(call('math', 'gcd', [60n, 48n])).toBe(12n);
    expect(call('math', 'pow', [9n, 3n])).toBe(729);
    expect((call('math', 'modf', [100.72]) as KclList).items).toEqual([0.7199999999999989, 100]);
    expect(call('math', 'log10', [2n])).toBe(0.3010299956639812);
    expect(call('math', 'floor', [1125899906842624n])).toBe(1125899906842624n);
  });

  it('units has constants and formatters', () => {
    expect(get('units', 'Ki')).toBe(1024n);
    expect(get('units', 'n')).toBe(1e-9);
    expect(call('units', 'to_m', [0.1])).toBe('100m');
    expect(call('units', 'to_Ki', [1048576n])).toBe('1024Ki');
    expect(call('units', 'to_Gi', [4294967296])).toBe('4Gi');
  });

  it('regex matches, finds and splits', () => {
    expect(call('regex', 'match', ['x1', '^[A-Za-z_][A-Za-z0-9_]*$'])).toBe(true);
    expect(call('regex', 'match', ['6x', '[A-Za-z_]'])).toBe(false);
    expect(repr(call('regex', 'findall', ['4Gi', '^(\\d{0,63})(E|P|T|G|M|K|Ei|Pi|Ti|Gi|Mi|Ki)$']))).toBe(
      "[['4', 'Gi']]",
    );
    expect(repr(call('regex', 'split', ['Apple,Google', ',']))).toBe("['Apple', 'Google']");
    expect(call('regex', 'replace', ['a,b,c', ',', '|'])).toBe('a|b|c');
    expect(call('regex', 'compile', ['$^'])).toBe(true);
  });

  it('datetime validates strictly', () => {
    expect(call('datetime', 'validate', ['2024-02-29', '%Y-%m-%d'])).toBe(true);
    expect(call('datetime', 'validate', ['2023-02-29', '%Y-%m-%d'])).toBe(false);
    expect(call('datetime', 'validate', ['2024-08-26abc', '%Y-%m-%d'])).toBe(false);
    expect(call('datetime', 'validate', [call('datetime', 'date', []), '%Y-%m-%d %H:%M:%S'])).toBe(true);
  });

  it('file reads and writes relative to the work directory', () => {
    writeFileSync(join(workdir, 'a.json'), '{}');
    call('file', 'write', ['out.txt', 'Hello']);
    expect(readFileSync(join(workdir, 'out.txt'), 'utf8')).toBe('Hello');
    expect(call('file', 'read', ['out.txt'])).toBe('Hello');
    expect(call('file', 'exists', ['missing.txt'])).toBe(false);
    expect(repr(call('file', 'glob', ['*.json']))).toBe("['a.json']");
    expect(call('file', 'size', ['out.txt'])).toBe(5n);
  });

  it('collection.union_all merges configs', () => {
    expect(
      repr(
        call('collection', 'union_all', [
          list([
            dict([['a', 1n]]),
            dict([
              ['b', 2n],
              ['a', 3n],
            ]),
          ]),
        ]),
      ),
    ).toBe("{'a': 3, 'b': 2}");
  });
});
