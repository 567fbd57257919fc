import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { CLI, runCli, runProgram } from '../helpers/cli.ts';

describe('kdeliver CLI', () => {
  it('prints its version', async () => {
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`kdeliver/${pkg.version}`);
  });

  it('lists topics and commands in --help', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/TOPICS[\s\S]*sandbox/);
    expect(result.stdout).toMatch(/COMMANDS[\s\S]*doctor/);
  });

  it('shows topic help with space-separated commands', async () => {
    const result = await runCli(['sandbox', '--help']);
    expect(result.code).toBe(0);
    for (const command of ['sandbox up', 'sandbox env', 'sandbox down'])
      expect(result.stdout).toContain(command);
  });

  it('exits 2 on an unknown flag, without a stack trace', async () => {
    const result = await runCli(['doctor', '--no-such-flag']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--no-such-flag');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports a user error with code, hint and documented exit code, and a stack only with --debug', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kdeliver-cli-'));
    const plain = await runCli(['sandbox', 'env', '--dir', dir]);
    expect(plain.code).toBe(6);
    expect(plain.stderr).toContain('Error [SANDBOX_NOT_RUNNING]: no sandbox is running in');
    expect(plain.stderr).toContain('Hint: Start one with: kdeliver sandbox up');
    expect(plain.stderr).not.toMatch(/\n\s+at /);

    const debug = await runCli(['sandbox', 'env', '--dir', dir, '--debug']);
    expect(debug.code).toBe(6);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it('reports errors as JSON on stdout with --json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kdeliver-cli-'));
    const result = await runCli(['sandbox', 'env', '--dir', dir, '--json']);
    expect(result.code).toBe(6);
    expect(JSON.parse(result.stdout)).toEqual({
      error: expect.objectContaining({ kind: 'environment', code: 'SANDBOX_NOT_RUNNING' }),
    });
  });

  it('doctor reports the embedded SQLite as JSON', async () => {
    const result = await runCli(['doctor', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { node: string; sqlite: string; singleExecutable: boolean };
    expect(report.node).toMatch(/^v2[4-9]\./);
    expect(report.sqlite).toMatch(/^3\.\d+\.\d+$/);
    expect(report.singleExecutable).toBe(false);
  });

  it("runs when started by the machine's own node, whatever its version", async () => {
    // bin/kdeliver.js hands over to node_modules/node when the node that started it is older than 24.
    const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((path) => existsSync(path));
    expect(systemNode, 'a node outside node_modules').toBeDefined();
    const result = await runProgram(systemNode!, [CLI, 'doctor', '--json']);
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { node: string }).node).toMatch(/^v2[4-9]\./);
  });
});
