/**
 * Rules behind the official tool's error reports: what the parser reads past, what the
 * checker sees through `**name`, which values are validated, where relative imports lead.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runKcl } from '../../../src/kcl/run.ts';

/** Writes the files (paths relative to a new directory) and runs `main` from its directory. */
function run(files: Record<string, string>, main = 'main.k'): { ok: boolean; out: string } {
  const root = mkdtempSync(join(tmpdir(), 'kcl-rules-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  const result = runKcl({ files: [join(root, main)], cwd: dirname(join(root, main)) });
  return result.ok ? { ok: true, out: result.stdout } : { ok: false, out: result.stderr };
}

/** The `kind at line:column: message` of each error block, in order. */
function errors(out: string): string[] {
  const found: string[] = [];
  const block = /error\[\w+\]: (\w+)\n *--> [^\n]*:(\d+):(\d+)\n(?:.*\n){2}.*\| *\^? ?([^\n]*)/g;
  for (const m of out.matchAll(block)) found.push(`${m[1]} at ${m[2]}:${m[3]}: ${m[4]}`);
  return found;
}

describe('parser error recovery', () => {
  it('reports a stray token after a statement, skips it and reads the rest of the line', () => {
    const { ok, out } = run({ 'main.k': 'a, b = 1, 2\n' });
    expect(ok).toBe(false);
    expect(errors(out)).toEqual([
      "InvalidSyntax at 1:2: unexpected token ','",
      "InvalidSyntax at 1:9: unexpected token ','",
      "CompileError at 1:1: name 'a' is not defined",
    ]);
  });

  it('reports an operand missing at the end of a line and still checks the statement', () => {
    const { out } = run({ 'main.k': 'a==\n' });
    expect(errors(out)).toEqual([
      'InvalidSyntax at 1:3: expected one of ["identifier", "literal", "(", "[", "{"] got newline',
      "CompileError at 1:1: name 'a' is not defined",
    ]);
  });

  it('shows only the syntax error when the statement with a missing operand is evaluated', () => {
    const { ok, out } = run({ 'main.k': 'a = 1\nb = a +\n' });
    expect(ok).toBe(false);
    expect(errors(out)).toEqual([
      'InvalidSyntax at 2:7: expected one of ["identifier", "literal", "(", "[", "{"] got newline',
    ]);
  });

  it('lists the errors read past before one it cannot read past', () => {
    const { out } = run({ 'main.k': 'a = 1 2\nb = (\n' });
    expect(errors(out)[0]).toBe("InvalidSyntax at 1:7: unexpected token 'literal'");
    expect(errors(out).length).toBeGreaterThan(1);
  });
});

describe('checking `**name` in a schema config', () => {
  const schemas = 'schema Inner:\n    name: str\n\nschema Outer:\n    name: str\n    inner: Inner\n\n';

  it('reports an unknown key of the unpacked dict at the name, and where the key was written', () => {
    const text = `${schemas}base = {\n    nam = ""\n    inner = {nam = ""}\n}\nc = Outer {\n    **base\n}\n`;
    const out = run({ 'main.k': text }).out;
    expect(errors(out)).toEqual([
      `CompileError at 13:7: Cannot add member 'nam' to schema 'Outer', did you mean '["name"]'?`,
      `CompileError at 13:7: Cannot add member 'nam' to schema 'Inner', did you mean '["name"]'?`,
    ]);
    expect(out.match(/\^ config attribute is defined here/g)).toHaveLength(2);
  });

  it('reports a literal of the wrong type with its plain type, as a variable is inferred', () => {
    const text = `${schemas}base = {\n    name = 1\n    inner = {name = "x"}\n}\nc = Outer {\n    **base\n}\n`;
    const out = run({ 'main.k': text }).out;
    expect(out).toContain('^ expected str, got int\n');
    expect(out).toContain('^ variable is defined here, its type is str, but got int\n');
    expect(out).toContain('^ config attribute is defined here\n');
  });

  it('leaves a lambda parameter to its declared type', () => {
    const text = `${schemas}f = lambda p: Outer -> Outer {\n    Outer {**p}\n}\nc = f({name = "a", inner = {name = "b"}})\n`;
    expect(run({ 'main.k': text })).toEqual({ ok: true, out: 'c:\n  name: a\n  inner:\n    name: b\n' });
  });
});

describe('validation of schema attributes', () => {
  it("validates only an attribute's final value: a mixin replaces the body's", () => {
    const text = [
      'schema Spec:',
      '    data: int',
      '    id: int',
      '',
      'mixin AMixin:',
      '    spec: Spec = {',
      '        id = 1',
      '    }',
      '',
      'schema A:',
      '    mixin [AMixin]',
      '    spec: Spec = {',
      '        data = 1',
      '    }',
      '',
      'a = A()',
      '',
    ].join('\n');
    const { ok, out } = run({ 'main.k': text });
    expect(ok).toBe(false);
    expect(out).toMatch(/main\.k:7:1\n/);
    expect(out).toContain("attribute 'data' of Spec is required and can't be None or Undefined");
  });
});

describe('relative imports', () => {
  const pkg = { 'kcl.mod': '', 'some/pkg/a.k': 'Name = "x"\n' };

  it('count dots on the package path from the module root', () => {
    const main = 'import ..some.pkg as p\nv = p.Name\n';
    expect(run({ ...pkg, 'app/main.k': main }, 'app/main.k')).toEqual({ ok: true, out: 'v: x\n' });
  });

  it('name the root package when they climb past the root, and a folder without KCL files is an error', () => {
    const main = 'import ...some.pkg as p\nv = p.Name\n';
    const { ok, out } = run({ ...pkg, 'app/main.k': main }, 'app/main.k');
    expect(ok).toBe(false);
    expect(out).toContain('No KCL files found in the specified folder');
  });
});
