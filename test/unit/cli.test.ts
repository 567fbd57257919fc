import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { commandManifest } from '../../scripts/command-manifest.ts';
import manifest from '../../src/commands/manifest.json' with { type: 'json' };
import { NODE_FLAGS } from '../../src/node-flags.ts';
import { CLI, runCli, runProgram } from '../helpers/cli.ts';

/**
 * A module to preload with NODE_OPTIONS=--import: it reports on stderr when a process starts
 * (pid, Node flags) and when it exits (also the command modules, src/commands/*.ts, it loaded).
 */
async function probe(): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'kdeliver-probe-')), 'probe.mjs');
  await writeFile(
    file,
    `import { registerHooks } from 'node:module';
import { writeSync } from 'node:fs';
const report = (event, more) =>
  writeSync(2, 'PROBE ' + JSON.stringify({ event, pid: process.pid, execArgv: process.execArgv, ...more }) + '\\n');
const commands = [];
registerHooks({
  load(url, context, next) {
    const match = /\\/src\\/commands\\/(.+\\.ts)$/.exec(url);
    if (match) commands.push(match[1]);
    return next(url, context);
  },
});
report('start');
process.on('exit', () => report('exit', { commands }));
`,
  );
  return file;
}

interface ProbeReport {
  event: 'start' | 'exit';
  pid: number;
  execArgv: string[];
  commands?: string[];
}

function probeReports(stderr: string, event: ProbeReport['event']): ProbeReport[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('PROBE '))
    .map((line) => JSON.parse(line.slice('PROBE '.length)) as ProbeReport)
    .filter((report) => report.event === event);
}

describe('kdeliver CLI', () => {
  it('prints its version', async () => {
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`kdeliver/${pkg.version}`);
  });

  it('has a command manifest that matches the commands (else: node scripts/command-manifest.ts)', async () => {
    expect(manifest).toEqual(await commandManifest());
  });

  it('imports no command module to print its version, and only the one it runs', async () => {
    const env = { ...process.env, NODE_OPTIONS: `--import ${await probe()}` };
    const commandModules = new Set(Object.keys(manifest).map((id) => `${id.replaceAll(':', '/')}.ts`));
    const loaded = (stderr: string) =>
      probeReports(stderr, 'exit').map((exit) =>
        exit.commands!.filter((module) => commandModules.has(module)),
      );

    const version = await runCli(['--version'], { env });
    expect(version.code).toBe(0);
    expect(loaded(version.stderr)).toEqual([[]]);

    const dir = await mkdtemp(join(tmpdir(), 'kdeliver-cli-'));
    const sandboxEnv = await runCli(['sandbox', 'env', '--dir', dir], { env });
    expect(sandboxEnv.code).toBe(6);
    expect(loaded(sandboxEnv.stderr)).toEqual([['sandbox/env.ts']]);
  });

  it('restarts itself, same pid, with its Node flags unless they are given', async () => {
    const env = { ...process.env, NODE_OPTIONS: `--import ${await probe()}` };
    const restarted = await runCli(['--version'], { env });
    expect(restarted.code).toBe(0);
    const [first, second] = probeReports(restarted.stderr, 'start');
    expect(first!.execArgv).not.toEqual(expect.arrayContaining(NODE_FLAGS));
    expect(second!.execArgv).toEqual(expect.arrayContaining(NODE_FLAGS));
    expect(second!.pid).toBe(first!.pid);

    const own = '--max-semi-space-size=8';
    const given = await runProgram(process.execPath, [own, CLI, '--version'], { env });
    expect(given.code).toBe(0);
    expect(probeReports(given.stderr, 'start').map((report) => report.execArgv)).toEqual([[own]]);
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
