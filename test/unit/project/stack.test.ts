import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KdeliverError } from '../../../src/errors.ts';
import { loadStack } from '../../../src/kcl/project/stack.ts';
import { tree } from './tree.ts';

const KCL_YAML = [
  'kcl_cli_configs:',
  '  file:',
  '    - ${KCL_MOD}/models/metadata.k',
  '    - ../base/base.k',
  '    - main.k',
  '  disable_none: true',
  'kcl_options:',
  '  - key: cluster',
  '    value: from-kcl-yaml',
  '',
].join('\n');

const SETTINGS_YAML = [
  'kcl_options:',
  '  - key: app',
  '    value: shop',
  '  - key: replicas',
  '    value: 3',
  '  - key: cluster',
  '    value: from-settings',
  '',
].join('\n');

describe('loadStack', () => {
  it('finds the root, the project and the stack, and reads the compile settings', () => {
    const root = tree({
      'kcl.mod': '',
      'apps/shop/project.yaml': 'name: shop-project\ntenant: retail\n',
      'apps/shop/prod/stack.yaml': 'name: production\n',
      'apps/shop/prod/kcl.yaml': KCL_YAML,
      'apps/shop/prod/ci-test/settings.yaml': SETTINGS_YAML,
    });
    const stack = loadStack(join(root, 'apps', 'shop', 'prod'));
    expect(stack.root).toBe(root);
    expect(stack.path).toBe('apps/shop/prod');
    expect(stack.name).toBe('production');
    expect(stack.project).toEqual({ name: 'shop-project', dir: join(root, 'apps', 'shop') });
    expect(stack.settings.files).toEqual([`${root}/models/metadata.k`, '../base/base.k', 'main.k']);
    expect(stack.settings.flags).toEqual({ omitNone: true });
    expect(stack.settings.options).toEqual([
      ['cluster', 'from-kcl-yaml'],
      ['app', 'shop'],
      ['replicas', 3],
      ['cluster', 'from-settings'],
    ]);
  });

  it('names a stack and its project after their directories when they do not declare names', () => {
    const root = tree({ 'kcl.mod': '', 'billing/dev/stack.yaml': '# no name\n', 'billing/dev/main.k': '' });
    const stack = loadStack(join(root, 'billing', 'dev'));
    expect(stack.name).toBe('dev');
    expect(stack.project.name).toBe('billing');
    // Without kcl.yaml the stack's own .k files are its program.
    expect(stack.settings.files).toEqual(['.']);
  });

  it('refuses a directory outside any Konfig repository, and one that is not a stack', () => {
    const outside = tree({ 'dev/stack.yaml': 'name: dev\n' });
    expect(() => loadStack(join(outside, 'dev'))).toThrow(
      expect.objectContaining({ code: 'KONFIG_ROOT_NOT_FOUND' }) as KdeliverError,
    );
    const root = tree({ 'kcl.mod': '', 'models/a.k': '' });
    expect(() => loadStack(join(root, 'models'))).toThrow(/is not a stack/);
    expect(() => loadStack(join(root, 'missing'))).toThrow(/is not a directory/);
  });

  it('reports malformed settings with the file that holds them', () => {
    const root = tree({
      'kcl.mod': '',
      'p/dev/kcl.yaml': 'kcl_cli_configs:\n  file: main.k\n',
      'p/bad/kcl.yaml': 'kcl_options:\n  - value: 1\n',
      'p/flag/kcl.yaml': 'kcl_cli_configs:\n  sort_keys: "yes"\n',
    });
    expect(() => loadStack(join(root, 'p', 'dev'))).toThrow(
      /kcl\.yaml: kcl_cli_configs\.file must be a list/,
    );
    expect(() => loadStack(join(root, 'p', 'bad'))).toThrow(/kcl_options\[0\] needs a string key/);
    expect(() => loadStack(join(root, 'p', 'flag'))).toThrow(/sort_keys must be true or false/);
  });
});
