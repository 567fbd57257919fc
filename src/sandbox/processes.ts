import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A daemon the sandbox started: enough to find it again from another process and stop it. */
export interface TrackedProcess {
  name: string;
  pid: number;
  binary: string;
  log: string;
}

/** Starts a daemon detached from this process, its output appended to a log file. */
export function startDaemon(
  name: string,
  binary: string,
  args: string[],
  log: string,
  env?: NodeJS.ProcessEnv,
): TrackedProcess {
  const out = openSync(log, 'a');
  try {
    const child = spawn(binary, args, {
      detached: true,
      stdio: ['ignore', out, out],
      env: env ?? process.env,
    });
    if (child.pid === undefined) throw new Error(`could not start ${binary}`);
    child.unref();
    return { name, pid: child.pid, binary, log };
  } finally {
    closeSync(out);
  }
}

/** Alive and still the same program: a recycled pid that runs something else does not count. */
export function isRunning(process_: TrackedProcess): boolean {
  return isAlive(process_.pid) && commandOf(process_.pid) === process_.binary;
}

/**
 * Alive, whatever it runs: for a process just started, which shows its parent's command
 * line until its exec completes.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
  } catch {
    return undefined;
  }
}

/** SIGTERM, then SIGKILL after the grace period. */
export async function stopDaemon(process_: TrackedProcess, graceMs = 10_000): Promise<void> {
  // A child of this process cannot be a recycled pid, even before it has exec'd its binary.
  const running = () =>
    isRunning(process_) || (isAlive(process_.pid) && parentOf(process_.pid) === process.pid);
  if (!running()) return;
  process.kill(process_.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!running()) return;
    await sleep(100);
  }
  if (running()) process.kill(process_.pid, 'SIGKILL');
  while (running()) await sleep(50);
}

function parentOf(pid: number): number | undefined {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
  } catch {
    return undefined;
  }
}
