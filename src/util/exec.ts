import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { KdeliverError } from '../errors.ts';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, then closed. */
  input?: string;
  /** Called with each chunk of combined output, e.g. to tee into a log file. */
  onOutput?: (chunk: Buffer) => void;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a program to completion and returns its output; a non-zero exit becomes an
 * `operation` error that quotes the end of stderr.
 */
export function runCommand(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
      options.onOutput?.(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      options.onOutput?.(chunk);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new KdeliverError(
              'environment',
              'COMMAND_NOT_FOUND',
              `${command} is not installed or not on PATH`,
            )
          : error,
      );
    });
    child.on('close', (code, signal) => {
      const result = { stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() };
      if (code === 0) return resolve(result);
      const tail = result.stderr.trim().split('\n').slice(-15).join('\n');
      reject(
        new KdeliverError(
          'operation',
          'COMMAND_FAILED',
          `${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`})${tail ? `:\n${tail}` : ''}`,
        ),
      );
    });
    child.stdin.end(options.input ?? '');
  });
}

/** The absolute path of a program on PATH, or undefined. */
export async function whichCommand(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
