import { describe, expect, it } from 'vitest';
import type * as ast from '../../../src/kcl/ast.ts';
import { KclDiagnostic } from '../../../src/kcl/diagnostics.ts';
import { parseExpression, parseModule } from '../../../src/kcl/parser.ts';

function parse(text: string): ast.Module {
  return parseModule(text, '/src/main.k');
}

function first(text: string): ast.Stmt {
  const stmt = parse(text).body[0];
  if (!stmt) throw new Error('no statement');
  return stmt;
}

/** The value assigned by the first statement, `x = <expr>`. */
function valueOf(text: string): ast.Expr {
  const stmt = first(`x = ${text}\n`);
  if (stmt.kind !== 'AssignStmt') throw new Error(`not an assignment: ${stmt.kind}`);
  return stmt.value;
}

function syntaxError(text: string): KclDiagnostic {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof KclDiagnostic) return error;
    throw error;
  }
  throw new Error('expected a syntax error');
}

describe('statements', () => {
  it('parses imports with relative paths and aliases', () => {
    const [a, b] = parse('import ..pkg.sub as s\nimport k8s.api.core\n').body;
    expect(a).toMatchObject({ kind: 'ImportStmt', path: '..pkg.sub', asName: 's', name: 's' });
    expect(b).toMatchObject({ kind: 'ImportStmt', path: 'k8s.api.core', asName: null, name: 'core' });
  });

  it('parses typed, chained and path assignments', () => {
    const [typed, chained, path] = parse('a: int = 1\nb = c = 2\nd.e[0] = 3\n').body;
    expect(typed).toMatchObject({
      kind: 'AssignStmt',
      type: { kind: 'BasicType', name: 'int' },
      targets: [{ name: 'a' }],
    });
    expect(chained).toMatchObject({
      targets: [{ name: 'b' }, { name: 'c' }],
      value: { kind: 'NumberLit', value: 2 },
    });
    expect(path).toMatchObject({
      targets: [
        {
          name: 'd',
          path: [
            { kind: 'member', name: 'e' },
            { kind: 'index', index: { value: 0 } },
          ],
        },
      ],
    });
  });

  it('parses every augmented assignment operator', () => {
    const ops = ['+=', '-=', '*=', '/=', '//=', '%=', '**=', '<<=', '>>=', '&=', '|=', '^='];
    const body = parse(ops.map((op) => `a ${op} 1\n`).join('')).body;
    expect(body.map((stmt) => (stmt.kind === 'AugAssignStmt' ? stmt.op : stmt.kind))).toEqual(ops);
  });

  it('parses unification statements', () => {
    expect(first('a: pkg.Person {name = "x"}\n')).toMatchObject({
      kind: 'UnificationStmt',
      target: { name: 'a' },
      value: { kind: 'SchemaExpr', name: { names: ['pkg', 'Person'] }, config: { items: [{ op: '=' }] } },
    });
  });

  it('parses if/elif/else with elif nested in orelse', () => {
    const stmt = first('if a:\n    x = 1\nelif b:\n    x = 2\nelse:\n    x = 3\n');
    expect(stmt).toMatchObject({
      kind: 'IfStmt',
      cond: { name: 'a' },
      body: [{ kind: 'AssignStmt' }],
      orelse: [
        { kind: 'IfStmt', cond: { name: 'b' }, orelse: [{ kind: 'AssignStmt', value: { value: 3 } }] },
      ],
    });
  });

  it('parses assert with condition and message', () => {
    expect(first('assert a > 1 if b, "too small"\n')).toMatchObject({
      kind: 'AssertStmt',
      test: { kind: 'CompareExpr', ops: ['>'] },
      ifCond: { name: 'b' },
      msg: { value: 'too small' },
    });
  });

  it('parses type aliases while `type` stays usable as a name', () => {
    const [alias, assign] = parse('type Kind = "a" | "b"\ntype = 1\n').body;
    expect(alias).toMatchObject({ kind: 'TypeAliasStmt', name: 'Kind', type: { kind: 'UnionType' } });
    expect(assign).toMatchObject({ kind: 'AssignStmt', targets: [{ name: 'type' }] });
  });

  it('keeps the module docstring', () => {
    expect(parse('"""Module doc"""\na = 1\n').docstring).toBe('Module doc');
  });
});

describe('schemas', () => {
  const text = [
    '@deprecated(version="1.2", strict=False)',
    'schema Person[prefix: str = "p", n](base.Base) for Proto:',
    '    """A person."""',
    '    mixin [NameMixin, pkg.AgeMixin]',
    '    @info(hidden=True)',
    '    name?: str = "x"',
    '    age: int',
    '    labels: {str:str} |= {}',
    '    [key: str]: str = "v"',
    '    _local = 1',
    '    check:',
    '        age > 0 if name, "age must be positive"',
    '        len(name) < 10',
    '',
  ].join('\n');

  it('parses header, body, index signature and checks', () => {
    const schema = first(text);
    expect(schema).toMatchObject({
      kind: 'SchemaStmt',
      flavor: 'schema',
      name: 'Person',
      docstring: 'A person.',
      params: [
        { name: 'prefix', type: { kind: 'BasicType', name: 'str' }, default: { value: 'p' } },
        { name: 'n', type: null, default: null },
      ],
      parent: { names: ['base', 'Base'] },
      forHost: { names: ['Proto'] },
      mixins: [{ names: ['NameMixin'] }, { names: ['pkg', 'AgeMixin'] }],
      decorators: [
        { name: { names: ['deprecated'] }, args: [], keywords: [{ name: 'version' }, { name: 'strict' }] },
      ],
      body: [
        {
          kind: 'SchemaAttr',
          name: 'name',
          optional: true,
          op: '=',
          decorators: [{ name: { names: ['info'] } }],
        },
        { kind: 'SchemaAttr', name: 'age', optional: false, op: null, value: null },
        { kind: 'SchemaAttr', name: 'labels', op: '|=', type: { kind: 'DictType' } },
        { kind: 'AssignStmt', targets: [{ name: '_local' }] },
      ],
      indexSignature: {
        keyName: 'key',
        keyType: { name: 'str' },
        valueType: { name: 'str' },
        anyOther: false,
      },
      checks: [
        { test: { kind: 'CompareExpr' }, ifCond: { name: 'name' }, msg: { value: 'age must be positive' } },
        { test: { kind: 'CompareExpr', ops: ['<'] }, ifCond: null, msg: null },
      ],
    });
  });

  it('gives attributes and names exact spans', () => {
    const schema = first(text) as ast.SchemaStmt;
    expect(schema.nameSpan).toEqual({ file: '/src/main.k', line: 2, column: 8, endLine: 2, endColumn: 14 });
    const age = schema.body[1] as ast.SchemaAttr;
    expect(age.span).toMatchObject({ line: 7, column: 5, endLine: 7, endColumn: 13 });
    expect(schema.span).toMatchObject({ line: 2, column: 1 });
  });

  it('parses mixin and protocol declarations and `[...str]` signatures', () => {
    const [mixin, protocol] = parse(
      'mixin AMixin for AProto:\n    [...str]: int\nprotocol AProto:\n    a: int\n',
    ).body;
    expect(mixin).toMatchObject({
      flavor: 'mixin',
      forHost: { names: ['AProto'] },
      indexSignature: { anyOther: true },
    });
    expect(protocol).toMatchObject({ flavor: 'protocol', body: [{ kind: 'SchemaAttr', name: 'a' }] });
  });

  it('reads `a not None` in a check block as two checks, as the official parser does', () => {
    const schema = first('schema A:\n    a: str\n    check:\n        a not None, "msg"\n') as ast.SchemaStmt;
    expect(schema.checks).toMatchObject([
      { test: { kind: 'Identifier', name: 'a' }, msg: null },
      { test: { kind: 'UnaryExpr', op: 'not' }, msg: { value: 'msg' } },
    ]);
  });

  it('parses rules', () => {
    expect(first('rule R[x](A, B) for P:\n    """doc"""\n    x > 1\n    y\n')).toMatchObject({
      kind: 'RuleStmt',
      name: 'R',
      docstring: 'doc',
      params: [{ name: 'x' }],
      parents: [{ names: ['A'] }, { names: ['B'] }],
      forHost: { names: ['P'] },
      checks: [{ test: { kind: 'CompareExpr' } }, { test: { name: 'y' } }],
    });
  });

  it('treats `rule` followed by something else as a name', () => {
    expect(first('rule = 1\n')).toMatchObject({ kind: 'AssignStmt', targets: [{ name: 'rule' }] });
  });
});

describe('types', () => {
  function typeOf(text: string): ast.TypeExpr {
    const stmt = first(`type T = ${text}\n`);
    if (stmt.kind !== 'TypeAliasStmt') throw new Error('not an alias');
    return stmt.type;
  }

  it('parses basic, any, named, list, dict and union types', () => {
    expect(typeOf('any')).toMatchObject({ kind: 'AnyType' });
    expect(typeOf('pkg.Person')).toMatchObject({ kind: 'NamedType', names: ['pkg', 'Person'] });
    expect(typeOf('[int]')).toMatchObject({ kind: 'ListType', elem: { kind: 'BasicType', name: 'int' } });
    expect(typeOf('[]')).toMatchObject({ kind: 'ListType', elem: null });
    expect(typeOf('{str:[float]}')).toMatchObject({
      kind: 'DictType',
      key: { name: 'str' },
      value: { kind: 'ListType' },
    });
    expect(typeOf('{str:}')).toMatchObject({ kind: 'DictType', key: { name: 'str' }, value: null });
    expect(typeOf('{:}')).toMatchObject({ kind: 'DictType', key: null, value: null });
    expect(typeOf('int | str | None')).toMatchObject({
      kind: 'UnionType',
      types: [{}, {}, { kind: 'LiteralType' }],
    });
  });

  it('parses literal and function types', () => {
    expect(typeOf('"a" | 1Ki | -2 | 2.5 | True')).toMatchObject({
      types: [
        { literal: { kind: 'StringLit', value: 'a' } },
        { literal: { kind: 'NumberLit', value: 1, suffix: 'Ki' } },
        { literal: { kind: 'NumberLit', value: -2 } },
        { literal: { kind: 'NumberLit', value: 2.5, isFloat: true } },
        { literal: { kind: 'NameConstant', value: 'True' } },
      ],
    });
    expect(typeOf('(int, str) -> bool')).toMatchObject({
      kind: 'FunctionType',
      params: [{ name: 'int' }, { name: 'str' }],
      returnType: { name: 'bool' },
    });
    expect(typeOf('()')).toMatchObject({ kind: 'FunctionType', params: [], returnType: null });
  });
});

describe('expressions', () => {
  it('follows operator precedence', () => {
    expect(parseExpression('1 + 2 * 3 ** -4 | 5')).toMatchObject({
      kind: 'BinaryExpr',
      op: '|',
      left: { op: '+', right: { op: '*', right: { op: '**', right: { kind: 'UnaryExpr', op: '-' } } } },
    });
    expect(parseExpression('not a and b or c')).toMatchObject({
      op: 'or',
      left: { op: 'and', left: { kind: 'UnaryExpr', op: 'not' } },
    });
  });

  it('parses chained comparisons with `not in` and `is not`', () => {
    expect(parseExpression('a < b <= c not in d is not e is f in g')).toMatchObject({
      kind: 'CompareExpr',
      ops: ['<', '<=', 'not in', 'is not', 'is', 'in'],
      comparators: [{ name: 'b' }, { name: 'c' }, { name: 'd' }, { name: 'e' }, { name: 'f' }, { name: 'g' }],
    });
  });

  it('parses conditional and `as` expressions', () => {
    expect(parseExpression('a if b else c if d else e')).toMatchObject({
      kind: 'IfExpr',
      body: { name: 'a' },
      orelse: { kind: 'IfExpr', cond: { name: 'd' } },
    });
    expect(parseExpression('x as pkg.A')).toMatchObject({
      kind: 'AsExpr',
      type: { kind: 'NamedType', names: ['pkg', 'A'] },
    });
  });

  it('parses selectors, optional selectors, subscripts, slices and calls', () => {
    expect(parseExpression('a?.b?[0][1::2].c(1, k=2)')).toMatchObject({
      kind: 'CallExpr',
      args: [{ value: 1 }],
      keywords: [{ name: 'k', value: { value: 2 } }],
      func: {
        kind: 'SelectorExpr',
        attr: 'c',
        value: {
          kind: 'SliceExpr',
          lower: { value: 1 },
          upper: null,
          step: { value: 2 },
          value: {
            kind: 'SubscriptExpr',
            optional: true,
            value: { kind: 'SelectorExpr', optional: true, attr: 'b' },
          },
        },
      },
    });
  });

  it('rejects a positional argument after a keyword argument at its position', () => {
    const error = syntaxError('a = f(k=1, 2)\n');
    expect(error.primary).toMatchObject({
      line: 1,
      column: 12,
      message: 'positional argument follows keyword argument',
    });
  });

  it('parses literals and name constants', () => {
    expect(parseExpression('[1, 2.0, "s", True, False, None, Undefined, 1Mi]')).toMatchObject({
      elts: [
        { kind: 'NumberLit', isFloat: false },
        { kind: 'NumberLit', isFloat: true },
        { kind: 'StringLit', value: 's' },
        { value: 'True' },
        { value: 'False' },
        { value: 'None' },
        { value: 'Undefined' },
        { suffix: 'Mi' },
      ],
    });
  });

  it('parses list items: starred, if items and newline-separated elements', () => {
    expect(valueOf('[\n    1\n    *xs\n    if a: 2\n    elif b: 3\n    else: 4\n    -5\n]')).toMatchObject({
      kind: 'ListExpr',
      elts: [
        { value: 1 },
        { kind: 'StarredExpr', value: { name: 'xs' } },
        {
          kind: 'ListIfItem',
          cond: { name: 'a' },
          body: [{ value: 2 }],
          orelse: [{ kind: 'ListIfItem', orelse: [{ value: 4 }] }],
        },
        { kind: 'UnaryExpr', op: '-' },
      ],
    });
  });

  it('parses config entries with every operator, nested keys, spreads and if blocks', () => {
    const config = valueOf(
      '{\n    a: 1\n    b.c = 2\n    d += [3]\n    "e": 4\n    **base\n    if x:\n        f = 5\n    else:\n        g = 6\n}',
    );
    expect(config).toMatchObject({
      kind: 'ConfigExpr',
      items: [
        { key: { kind: 'QualifiedName', names: ['a'] }, op: ':' },
        { key: { kind: 'QualifiedName', names: ['b', 'c'] }, op: '=' },
        { key: { names: ['d'] }, op: '+=' },
        { key: { kind: 'StringLit', value: 'e' }, op: ':' },
        { key: null, value: { name: 'base' } },
        {
          kind: 'ConfigIfEntry',
          cond: { name: 'x' },
          body: [{ key: { names: ['f'] }, value: { value: 5 } }],
          orelse: [{ key: { names: ['g'] } }],
        },
      ],
    });
  });

  it('parses schema instantiation with and without arguments', () => {
    expect(parseExpression('pkg.Person(1, n=2) {name = "a"}')).toMatchObject({
      kind: 'SchemaExpr',
      name: { names: ['pkg', 'Person'] },
      args: [{ value: 1 }],
      keywords: [{ name: 'n' }],
      config: { items: [{ key: { names: ['name'] } }] },
    });
  });

  it('parses list and dict comprehensions with several clauses and conditions', () => {
    expect(parseExpression('[x * y for x in xs if x if x > 1 for y in ys]')).toMatchObject({
      kind: 'ListComp',
      generators: [
        { targets: [{ name: 'x' }], iter: { name: 'xs' }, ifs: [{ name: 'x' }, { kind: 'CompareExpr' }] },
        { targets: [{ name: 'y' }], ifs: [] },
      ],
    });
    expect(parseExpression('{k: v for k, v in d}')).toMatchObject({
      kind: 'DictComp',
      entry: { key: { names: ['k'] }, value: { name: 'v' } },
      generators: [{ targets: [{ name: 'k' }, { name: 'v' }] }],
    });
  });

  it('parses quantifiers', () => {
    expect(parseExpression('filter k, v in {a: 1} { v > 0 if k }')).toMatchObject({
      kind: 'QuantExpr',
      op: 'filter',
      variables: [{ name: 'k' }, { name: 'v' }],
      target: { kind: 'ConfigExpr' },
      test: { kind: 'CompareExpr' },
      ifCond: { name: 'k' },
    });
    expect(parseExpression('all(x)')).toMatchObject({ kind: 'CallExpr', func: { name: 'all' } });
  });

  it('parses lambdas with typed parameters, defaults, return type and a statement body', () => {
    const lambda = valueOf(
      'lambda x: int, y = 1 -> int {\n    z = x + y\n    if z > 0:\n        z\n    else:\n        -z\n}',
    );
    expect(lambda).toMatchObject({
      kind: 'LambdaExpr',
      params: [
        { name: 'x', type: { name: 'int' } },
        { name: 'y', default: { value: 1 } },
      ],
      returnType: { name: 'int' },
      body: [
        { kind: 'AssignStmt' },
        { kind: 'IfStmt', orelse: [{ kind: 'ExprStmt', expr: { kind: 'UnaryExpr' } }] },
      ],
    });
    expect(valueOf('lambda {config: {str:}} -> any {\n    config\n}')).toMatchObject({
      params: [{ name: 'config', type: { kind: 'DictType' } }],
      returnType: { kind: 'AnyType' },
    });
    expect(valueOf('lambda x {x}(1)')).toMatchObject({ kind: 'CallExpr', func: { kind: 'LambdaExpr' } });
  });

  it('parses string interpolation into expressions with positions and format specs', () => {
    const value = valueOf('"a${b.c}-${d: #json}\\${e}"');
    expect(value).toMatchObject({
      kind: 'InterpolatedString',
      parts: [
        { kind: 'StringText', value: 'a' },
        { kind: 'FormattedValue', expr: { kind: 'SelectorExpr', attr: 'c' }, formatSpec: null },
        { kind: 'StringText', value: '-' },
        { kind: 'FormattedValue', expr: { name: 'd' }, formatSpec: '#json' },
        { kind: 'StringText', value: '${e}' },
      ],
    });
    const part = (value as ast.InterpolatedString).parts[1] as ast.FormattedValue;
    expect(part.expr.span).toMatchObject({ line: 1, column: 9, endColumn: 12 });
  });

  it('finds the closing brace of an interpolation past braces and colons inside quoted strings', () => {
    expect(valueOf(`"\${d['}:#']}"`)).toMatchObject({
      kind: 'InterpolatedString',
      parts: [
        {
          kind: 'FormattedValue',
          expr: { kind: 'SubscriptExpr', index: { value: '}:#' } },
          formatSpec: null,
        },
      ],
    });
  });

  it('keeps raw strings and triple-quoted strings as written', () => {
    expect(valueOf('r"\\d${x}"')).toMatchObject({ kind: 'StringLit', value: '\\d${x}', isRaw: true });
    expect(valueOf('"""a\n"b"\n"""')).toMatchObject({ kind: 'StringLit', value: 'a\n"b"\n', isLong: true });
  });

  it('reports invalid interpolations at the expression', () => {
    const error = syntaxError('a = 1\nb = "${b = a + 1}"\n');
    expect(error.primary).toMatchObject({
      line: 2,
      column: 8,
      message: "invalid string interpolation expression: 'b = a + 1'",
    });
  });

  it('spans cover the whole expression', () => {
    const expr = parseExpression('  foo.bar(1)  ');
    expect(expr.span).toEqual({ file: '<expr>', line: 1, column: 3, endLine: 1, endColumn: 13 });
  });
});

describe('syntax errors', () => {
  it('reports an unexpected token with the official wording, and reads past it', () => {
    expect(parse('a, b = 1, 2\n').syntaxErrors[0]?.labels[0]).toMatchObject({
      line: 1,
      column: 2,
      message: "unexpected token ','",
    });
  });

  it('reports a missing operand at the end of the line, and reads past it', () => {
    expect(parse('a==\n').syntaxErrors[0]?.labels[0]).toMatchObject({
      line: 1,
      column: 3,
      message: 'expected one of ["identifier", "literal", "(", "[", "{"] got newline',
    });
  });

  it('reports a second parent schema', () => {
    expect(syntaxError('schema A(B, C):\n    a: int\n').primary).toMatchObject({
      line: 1,
      column: 11,
      message: 'expected one of [")"] got ,',
    });
  });

  it('reports `else if` without a column', () => {
    const error = syntaxError('if True:\n    a = 1\nelse if False:\n    b = 1\n');
    expect(error.primary).toMatchObject({ line: 3, column: null });
    expect(error.primary?.message).toContain("consider using the 'elif' keyword");
  });

  it('reports a duplicate index signature and keeps the later one', () => {
    const module = parseModule('schema A:\n    [str]: int\n    [str]: str\n', 'main.k');
    expect(module.syntaxErrors[0]?.labels[0]).toMatchObject({
      line: 3,
      column: 5,
      message: 'duplicate schema index signature definitions, only one is allowed in the schema',
    });
    const schema = module.body[0];
    expect(schema?.kind === 'SchemaStmt' && schema.indexSignature?.valueType).toMatchObject({ name: 'str' });
  });

  it('reports illegal assignment targets with the official node names', () => {
    expect(syntaxError('f() = 1\n').primary?.message).toBe(
      "'CallExpression' is an illegal expression for assignment",
    );
    expect(syntaxError('a[1:2] = 1\n').primary?.message).toContain('may not be a slice access');
  });

  it('reports dotted loop variables as a compile error', () => {
    const error = syntaxError('x = [i for i.j in data]\n');
    expect(error.kind).toBe('CompileError');
    expect(error.primary).toMatchObject({ line: 1, column: 12 });
  });
});
