import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runKcl } from '../../../src/kcl/run.ts';

/** Runs one `main.k` with the given text and returns stdout, or the rendered error. */
function run(source: string, options: string[] = []): { ok: boolean; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kcl-eval-'));
  writeFileSync(join(dir, 'main.k'), source);
  const result = runKcl({ files: ['main.k'], cwd: dir, options });
  return result.ok ? { ok: true, out: result.stdout } : { ok: false, out: result.stderr };
}

describe('top-level evaluation', () => {
  it('lets a name be used before the statement that sets it, and sees its final value', () => {
    expect(run('a = _b + 1\n_b = 1\n_b = 41\n').out).toBe('a: 42\n');
  });

  it('rejects a second assignment to an exported name with the official ImmutableError', () => {
    const { ok, out } = run('a = 1\na = 2\n');
    expect(ok).toBe(false);
    expect(out).toContain('error[E1001]: ImmutableError');
    expect(out).toContain("Can not change the value of 'a', because it was declared immutable");
    expect(out).toContain("note: change the variable name to '_a' to make it mutable");
  });

  it('reports an undefined name at its position', () => {
    const { out } = run('x = 1\ny = z\n');
    expect(out).toMatch(/error\[E2L23\]: CompileError\n --> .*main\.k:2:5\n/);
    expect(out).toContain("name 'z' is not defined");
  });

  it('widens int to float on a typed assignment and rejects a str', () => {
    expect(run('a: float = 1\n').out).toBe('a: 1.0\n');
    expect(run('a: int = "x"\n').out).toContain('expected int, got str(x)');
  });
});

describe('schemas', () => {
  const person =
    'schema Person:\n    name: str\n    age: int = 1\n    check:\n        age > 0, "age must be positive"\n';

  it('fills defaults, takes config values and keeps declaration order', () => {
    expect(run(`${person}p = Person {age = 3, name = "a"}\n`).out).toBe('p:\n  name: a\n  age: 3\n');
  });

  it('fails a required attribute left unset', () => {
    expect(run(`${person}p = Person {}\n`).out).toContain("attribute 'name' of Person is required");
  });

  it('runs check blocks on the finished instance', () => {
    const { ok, out } = run(`${person}p = Person {name = "a", age = -1}\n`);
    expect(ok).toBe(false);
    expect(out).toContain('Instance check failed');
    expect(out).toContain('age must be positive');
  });

  it('rejects a config key the schema does not declare', () => {
    expect(run(`${person}p = Person {name = "a", nam = "b"}\n`).out).toContain(
      "Cannot add member 'nam' to schema 'Person'",
    );
  });

  it('evaluates parent, own body and mixins into one instance, with later values winning', () => {
    const src =
      'schema Base:\n    kind: str = "base"\n    label: str = kind + "!"\n' +
      'schema NameMixin:\n    full: str = kind + "/" + label\n' +
      'schema Sub(Base):\n    mixin [NameMixin]\n    kind = "sub"\n' +
      's = Sub {}\n';
    expect(run(src).out).toBe('s:\n  kind: sub\n  label: sub!\n  full: sub/sub!\n');
  });

  it('merges repeated unification statements before building the instance', () => {
    const src = `${person}p: Person {name = "a"}\np: Person {age = 5}\n`;
    expect(run(src).out).toBe('p:\n  name: a\n  age: 5\n');
  });

  it('distinguishes union, override and insert in configs', () => {
    const src =
      'schema A:\n    xs: [int] = [1]\n    d: {str:int} = {a = 1}\n' +
      'a = A {xs += [2], d: {b = 2}}\nb = A {d = {c = 3}}\n';
    expect(run(src).out).toBe(
      'a:\n  xs:\n  - 1\n  - 2\n  d:\n    a: 1\n    b: 2\nb:\n  xs:\n  - 1\n  d:\n    c: 3\n',
    );
  });

  it('validates a schema written inside a config only after later unification completes it', () => {
    const src =
      'schema A:\n    x: int\n    y: int\nschema B:\n    a: A\n' + 'b: B {a = A {x = 1}}\nb: B {a.y = 2}\n';
    expect(run(src).out).toBe('b:\n  a:\n    x: 1\n    y: 2\n');
    expect(run('schema A:\n    x: int\n    y: int\nc = {a = A {x = 1}}\n').out).toContain(
      "attribute 'y' of A is required",
    );
  });

  it('lets config entries see earlier keys, except where a schema attribute has the name', () => {
    expect(run('name = "g"\nd = {name = "d", m = name}\n').out).toBe('name: g\nd:\n  name: d\n  m: d\n');
    const src = 'schema S:\n    $type: str = "t"\n    r = {type = "c", inner = {t = type}}\ns = S {}\n';
    expect(run(src).out).toBe('s:\n  type: t\n  r:\n    type: c\n    inner:\n      t: t\n');
  });

  it('lists instances in creation order', () => {
    const src = 'schema P:\n    n: int\n_a = P {n = 1}\n_b = P {n = 2}\nns = [p.n for p in P.instances()]\n';
    expect(run(src).out).toBe('ns:\n- 1\n- 2\n');
  });
});

describe('expressions', () => {
  it('evaluates lambdas with closures, comprehensions and quantifiers', () => {
    const src =
      '_k = 10\nadd = lambda x: int, y = 1 { x + y + _k }\n' +
      'a = [add(i) for i in range(3) if i != 1]\nb = all x in a { x > 10 }\nc = filter x in a { x > 11 }\n';
    expect(run(src).out).toBe('a:\n- 11\n- 13\nb: true\nc:\n- 13\n');
  });

  it('interpolates strings with format specs', () => {
    expect(run('_n = {a = 1}\ns = "${_n.a + 1}-${_n: #json}"\n').out).toBe('s: \'2-{"a": 1}\'\n');
  });

  it('reports a lambda argument of the wrong type at the argument', () => {
    const { out } = run('f = lambda x: int { x }\ny = f("a")\n');
    expect(out).toContain('error[E2G22]: TypeError');
    expect(out).toContain('main.k:2:7');
    expect(out).toContain('expected int, got str(a)');
  });

  it('reads -D options through option()', () => {
    expect(run('a = option("n", type="int", default=1) + 1\n', ['n=41']).out).toBe('a: 42\n');
  });
});
