import { describe, expect, it } from 'vitest';
import { resolvePackage } from '../../../src/kcl/checker/resolver.ts';
import { parseModule } from '../../../src/kcl/parser.ts';

/** The messages of the resolver's errors for one file. */
function undefinedNames(source: string): string[] {
  const module = parseModule(source, '/virtual/main.k');
  return resolvePackage([module], new Set(['len', 'print', 'range'])).map(
    (e) => `${e.labels[0]?.line}:${e.labels[0]?.column} ${e.labels[0]?.message}`,
  );
}

describe('resolvePackage', () => {
  it('finds undefined names in code that never runs, with suggestions', () => {
    const src =
      'schema Person:\n    name: str\n    check:\n        len(name) > 0\n\nf = lambda x { x + Persn }\n';
    expect(undefinedNames(src)).toEqual([`6:20 name 'Persn' is not defined, did you mean '["Person"]'?`]);
  });

  it('accepts forward references, parents, schema parameters, loop variables and config keys', () => {
    const src =
      'a = b + 1\nb = 1\n' +
      'schema Base[p]:\n    x: int = p\n' +
      'schema Sub(Base):\n    y: int = x + z\n    z = 2\n' +
      'c = [i for i in range(3) if i > a]\n' +
      'd = {name = "n", meta.name = name}\n' +
      'e = all k in d { k != "" }\n';
    expect(undefinedNames(src)).toEqual([]);
  });

  it('does not check bodies whose visible names live elsewhere (mixins, imported parents)', () => {
    const src =
      'import pkg\nschema NameMixin:\n    full = first + last\nschema Child(pkg.Base):\n    x = inherited\n';
    expect(undefinedNames(src)).toEqual([]);
  });
});
