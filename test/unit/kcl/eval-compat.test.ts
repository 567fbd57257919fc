import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runKcl } from '../../../src/kcl/run.ts';

/** Runs `main.k` in a directory holding the given files; returns stdout or the rendered error. */
function run(files: Record<string, string>): { ok: boolean; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kcl-compat-'));
  writeFileSync(join(dir, 'kcl.mod'), '');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const result = runKcl({ files: ['main.k'], cwd: dir });
  return result.ok ? { ok: true, out: result.stdout } : { ok: false, out: result.stderr };
}

describe('KCL v0.4.6 behaviour Konfig relies on', () => {
  it('leaves items of an attribute named like its item schema as written (None kept)', () => {
    const schema = [
      'schema rule:',
      '    port?: int',
      '    cidrs: [str] = []',
      '',
      'schema Group:',
      '    rule?: [rule]',
      '',
      'g = Group {',
      '    rule = [{port = 1, cidrs = None}]',
      '}',
      '',
    ].join('\n');
    expect(run({ 'main.k': schema })).toEqual({
      ok: true,
      out: 'g:\n  rule:\n  - port: 1\n    cidrs: null\n',
    });
  });

  it('still converts and checks items when the attribute name differs from the schema', () => {
    const schema = [
      'schema Rule:',
      '    port?: int',
      '    cidrs: [str] = []',
      '',
      'schema Group:',
      '    rules?: [Rule]',
      '',
      'g = Group {',
      '    rules = [{port = 1, cidrs = None}]',
      '}',
      '',
    ].join('\n');
    const { ok, out } = run({ 'main.k': schema });
    expect(ok).toBe(false);
    expect(out).toContain("attribute 'cidrs' of Rule is required and can't be None or Undefined");
  });

  it('reads an imported module, not an earlier key of an enclosing config with its name', () => {
    const main = [
      'import meta',
      '',
      'schema M:',
      '    name: str',
      '',
      'schema S:',
      '    meta: M',
      '    spec: {str:}',
      '',
      's = S {',
      '    meta = M {name = "x"}',
      '    spec = {inner = {app = meta.APP}}',
      '}',
      '',
    ].join('\n');
    expect(run({ 'main.k': main, 'meta/meta.k': 'APP = "demo"\n' })).toEqual({
      ok: true,
      out: 's:\n  meta:\n    name: x\n  spec:\n    inner:\n      app: demo\n',
    });
  });
});
