import { isSea } from 'node:sea';

/**
 * V8 flags kdeliver runs with. Semi-spaces of 2 MB, where V8 by default lets the young
 * generation grow to 64 MB and more, keep a build's or install's peak RSS ~50-60 MB lower at
 * no measurable cost in time: kdeliver streams its data, so little survives a scavenge. The
 * flag only acts at process start (v8.setFlagsFromString is too late for heap sizing), hence
 * the restart below and the single executable's execArgv (scripts/build-bin.ts).
 */
export const NODE_FLAGS = ['--max-semi-space-size=2'];

/**
 * Replaces this process (same pid, stdio and environment) with one started with NODE_FLAGS,
 * unless they or the user's own choice of those flags are already in effect.
 */
export function restartWithNodeFlags(): void {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  const missing = NODE_FLAGS.filter((flag) => !given.some((arg) => arg.startsWith(flag.split('=')[0]!)));
  // A single executable takes its Node flags from its build, not from its command line; execve
  // is missing on Windows and in worker threads, where kdeliver runs with V8's defaults.
  if (missing.length === 0 || isSea() || !process.execve) return;
  process.execve(process.execPath, [
    process.execPath,
    ...missing,
    ...process.execArgv,
    process.argv[1]!,
    ...process.argv.slice(2),
  ]);
}
