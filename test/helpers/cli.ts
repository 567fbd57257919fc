import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(REPO_ROOT, 'bin', 'kdeliver.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program (by default the kdeliver CLI from source) and collects its output. */
export function runProgram(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  return runProgram(process.execPath, [CLI, ...args], options);
}

/** Runs the CLI and fails with its output unless it exits 0: for the setup steps of a test. */
export async function runCliOk(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  const result = await runCli(args, options);
  if (result.code !== 0)
    throw new Error(`kdeliver ${args[0]} exited ${result.code}: ${result.stdout}${result.stderr}`);
  return result;
}

/**
 * `kdeliver build INPUT... --version VERSION --key KEY_DIR/kdeliver.key -o OUT`, failing
 * unless it exits 0. `inputs` are what the package is built from (stack directories,
 * `--spec`, `-D`, `--name`, …).
 */
export function buildSigned(
  inputs: string[],
  options: { keyDir: string; out: string; version?: string; env?: NodeJS.ProcessEnv },
): Promise<CliResult> {
  const { keyDir, out, version = '1.0.0', env } = options;
  return runCliOk(
    ['build', ...inputs, '--version', version, '--key', join(keyDir, 'kdeliver.key'), '-o', out],
    env ? { env } : {},
  );
}
