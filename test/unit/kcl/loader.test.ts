import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findModRoot } from '../../../src/kcl/loader.ts';
import { runKcl } from '../../../src/kcl/run.ts';

/** Writes a tree of files under a fresh temporary directory. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'kcl-loader-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('loader', () => {
  it('finds the nearest kcl.mod above a directory', () => {
    const root = tree({ 'kcl.mod': '', 'app/sub/main.k': '' });
    expect(findModRoot(join(root, 'app', 'sub'))).toBe(root);
  });

  it('imports a package directory (all its files) and a single-file package from the module root', () => {
    const root = tree({
      'kcl.mod': '',
      'models/a.k': 'schema App:\n    name: str\n',
      'models/b.k': 'default_name = "web"\n',
      'lib/util.k': 'double = lambda x { x * 2 }\n',
      'app/main.k':
        'import models\nimport lib.util as u\napp = models.App {name = models.default_name}\nn = u.double(21)\n',
    });
    const result = runKcl({ files: ['main.k'], cwd: join(root, 'app') });
    expect(result.ok && result.stdout).toBe('app:\n  name: web\nn: 42\n');
  });

  it('resolves relative imports against the importing file', () => {
    const root = tree({
      'kcl.mod': '',
      'base/pkg/v.k': 'value = 7\n',
      'base/app/main.k': 'import ..pkg\nv = pkg.value\n',
    });
    const result = runKcl({ files: ['main.k'], cwd: join(root, 'base', 'app') });
    expect(result.ok && result.stdout).toBe('v: 7\n');
  });

  it('reports a missing module as CannotFindModule at the import', () => {
    const root = tree({ 'kcl.mod': '', 'main.k': 'import nothing.here\n' });
    const result = runKcl({ files: ['main.k'], cwd: root });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.stderr).toContain('error[E2F04]: CannotFindModule');
    expect(!result.ok && result.stderr).toContain(`${root}/main.k:1:1`);
  });

  it('reports an import cycle', () => {
    const root = tree({
      'kcl.mod': '',
      'a.k': 'import b\nx = 1\n',
      'b.k': 'import a\ny = 2\n',
      'main.k': 'import a\n',
    });
    const result = runKcl({ files: ['main.k'], cwd: root });
    expect(!result.ok && result.stderr).toContain('There is a circular reference between modules');
  });

  it('treats all files given as one main package and expands ${KCL_MOD}', () => {
    const root = tree({
      'kcl.mod': '',
      'conf/base.k': '_replicas = 2\n',
      'main.k': 'replicas = _replicas\n',
    });
    const result = runKcl({ files: ['${KCL_MOD}/conf/base.k', 'main.k'], cwd: root });
    expect(result.ok && result.stdout).toBe('replicas: 2\n');
  });
});
