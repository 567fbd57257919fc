import { existsSync } from 'node:fs';
import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { NODE_FLAGS } from '../../src/node-flags.ts';
import { REPO_ROOT, runProgram } from '../helpers/cli.ts';

const BINARY = join(REPO_ROOT, 'dist', 'kdeliver-linux-x64');

/** A PATH that has openssl but no node, and an environment without npm's variables. */
async function nodelessEnv(): Promise<NodeJS.ProcessEnv> {
  const bin = await mkdtemp(join(tmpdir(), 'kdeliver-nonode-'));
  await symlink('/usr/bin/openssl', join(bin, 'openssl'));
  return { PATH: bin, HOME: process.env.HOME };
}

describe('single executable (dist/kdeliver-linux-x64)', () => {
  it('exists: `npm run build:bin` builds it before the tests', () => {
    expect(existsSync(BINARY), `${BINARY} is missing; run npm run build:bin`).toBe(true);
  });

  it('prints its version with no node on PATH', async () => {
    const env = await nodelessEnv();
    const which = await runProgram('/bin/sh', ['-c', 'command -v node || echo none'], { env });
    expect(which.stdout.trim()).toBe('none');
    const result = await runProgram(BINARY, ['--version'], { env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`kdeliver/${pkg.version}`);
  });

  it('runs with its Node flags, built in', async () => {
    const preload = join(await mkdtemp(join(tmpdir(), 'kdeliver-probe-')), 'probe.cjs');
    await writeFile(
      preload,
      "process.stderr.write('EXEC_ARGV ' + JSON.stringify(process.execArgv) + '\\n');\n",
    );
    const result = await runProgram(BINARY, ['--version'], {
      env: { ...(await nodelessEnv()), NODE_OPTIONS: `--require ${preload}` },
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`EXEC_ARGV ${JSON.stringify(NODE_FLAGS)}\n`);
  });

  it('prints help, and runs a command that needs the embedded SQLite', async () => {
    const env = await nodelessEnv();
    const help = await runProgram(BINARY, ['--help'], { env });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/TOPICS[\s\S]*sandbox/);
    const doctor = await runProgram(BINARY, ['doctor', '--json'], { env });
    expect(doctor.code).toBe(0);
    const report = JSON.parse(doctor.stdout) as { singleExecutable: boolean; sqlite: string };
    expect(report.singleExecutable).toBe(true);
    expect(report.sqlite).toMatch(/^3\.\d+\.\d+$/);
  });
});
