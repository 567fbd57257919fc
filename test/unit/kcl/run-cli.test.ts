import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseKclRunArgs, runKcl } from '../../../src/kcl/run.ts';

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kcl-run-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const MAIN = 'a = option("a")\n_hidden = 1\nb = None\nc = {z = 1, y = 2}\n';

describe('parseKclRunArgs', () => {
  it('reads the official flags, with -Y taking every following settings file', () => {
    const args = parseKclRunArgs([
      'main.k',
      '-D',
      'a=1',
      '-Y',
      's1.yaml',
      's2.yaml',
      '-S',
      'x.y',
      '-n',
      '--sort_keys',
      'extra.k',
    ]);
    expect(args).toMatchObject({
      files: ['main.k', 'extra.k'],
      options: ['a=1'],
      settings: ['s1.yaml', 's2.yaml'],
      pathSelector: ['x.y'],
      omitNone: true,
      sortKeys: true,
    });
  });
});

describe('runKcl', () => {
  it('applies -D, -n, --sort_keys and --show_hidden', () => {
    const cwd = dirWith({ 'main.k': MAIN });
    const result = runKcl({
      files: ['main.k'],
      cwd,
      options: ['a=x'],
      omitNone: true,
      sortKeys: true,
      showHidden: true,
    });
    expect(result.ok && result.stdout).toBe('_hidden: 1\na: x\nc:\n  y: 2\n  z: 1\n');
  });

  it('reads options and flags from a settings file', () => {
    const cwd = dirWith({
      'main.k': MAIN,
      'settings.yaml':
        'kcl_cli_configs:\n  disable_none: true\nkcl_options:\n  - key: a\n    value: [1, 2]\n',
    });
    const result = runKcl({ files: ['main.k'], cwd, settings: ['settings.yaml'] });
    expect(result.ok && result.stdout).toBe('a:\n- 1\n- 2\nc:\n  z: 1\n  y: 2\n');
  });

  it('prints only the selected path with -S', () => {
    const cwd = dirWith({ 'main.k': MAIN });
    expect(runKcl({ files: ['main.k'], cwd, pathSelector: ['c.y'] })).toMatchObject({
      ok: true,
      stdout: '2\n',
    });
    expect(runKcl({ files: ['main.k'], cwd, pathSelector: ['c'] })).toMatchObject({
      ok: true,
      stdout: 'z: 1\ny: 2\n',
    });
  });

  it('prints JSON with --format json', () => {
    const cwd = dirWith({ 'main.k': 'x = [1, "a"]\n' });
    const result = runKcl({ files: ['main.k'], cwd, format: 'json' });
    expect(result.ok && JSON.parse(result.stdout)).toEqual({ x: [1, 'a'] });
  });

  it('rejects a malformed -D argument as the official tool does', () => {
    const cwd = dirWith({ 'main.k': MAIN });
    const result = runKcl({ files: ['main.k'], cwd, options: ['a='] });
    expect(!result.ok && result.stderr).toBe(
      'error[E3M38]: EvaluationError\nInvalid value for top level arguments\n',
    );
  });

  it('keeps print output before the YAML and stops a run through the tick hook', () => {
    const cwd = dirWith({ 'main.k': 'print("hi")\nx = [i for i in range(100)]\n' });
    expect(runKcl({ files: ['main.k'], cwd })).toMatchObject({
      ok: true,
      stdout: expect.stringMatching(/^hi\nx:\n- 0\n/),
    });
    let steps = 0;
    const stop = () => {
      if (++steps > 10) throw new Error('budget exceeded');
    };
    expect(() => runKcl({ files: ['main.k'], cwd, tick: stop })).toThrow('budget exceeded');
  });
});

describe('compile-time errors', () => {
  it('reports every parameter-order error together with the call that lacks arguments', () => {
    const cwd = dirWith({ 'main.k': 'schema A[a = 1, b, c]:\n    x: int = b\n\nv = A(a = 2)\n' });
    const result = runKcl({ files: ['main.k'], cwd });
    expect(result.ok).toBe(false);
    const stderr = result.ok ? '' : result.stderr;
    expect(stderr.match(/error\[E1001\]: IllegalParameterError/g)).toHaveLength(1);
    expect(stderr).toContain('main.k:1:14');
    expect(stderr).toContain('non-default argument follows default argument');
    expect(stderr).toContain('error[E2L23]: CompileError');
    expect(stderr).toContain('expected 2 positional arguments, found 0');
  });
});
