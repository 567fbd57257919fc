import type { Command } from '@oclif/core';
import type { ReleaseSummary } from '../engine/release.ts';
import { KdeliverError } from '../errors.ts';

/**
 * Prints a release's summary line and turns failures into the `operation` exit code; the
 * JSON output is the summary itself, and on failure also carries the error.
 */
export function reportRelease(command: Command, stack: string, summary: ReleaseSummary): ReleaseSummary {
  const { counts } = summary;
  const line =
    `${counts.created} created, ${counts.updated} updated, ${counts.deleted} deleted, ` +
    `${counts.unchanged} unchanged, ${counts.failed} failed, ${counts.skipped} skipped in ${summary.seconds.toFixed(1)}s`;
  if (summary.phase === 'failed') {
    const failures = summary.failures.map((failure) => `  - [${failure.code}] ${failure.message}`).join('\n');
    const error = new KdeliverError(
      'operation',
      'RELEASE_FAILED',
      `release ${summary.revision} of stack "${stack}" failed (${line})${failures ? `:\n${failures}` : ''}`,
      { hint: 'Fix the cause, then run the same command again: it continues from what the cluster has.' },
    );
    if (!command.jsonEnabled()) throw error;
    // Scripts get the summary (failures, skipped, counts) on failure too, with the error beside it.
    process.stdout.write(`${JSON.stringify({ ...summary, error: error.toJSON() }, null, 2)}\n`);
    return command.exit(error.exitCode);
  }
  command.logToStderr(
    summary.phase === 'no-op'
      ? `Stack ${stack} is up to date: ${counts.unchanged} unchanged (${summary.seconds.toFixed(1)}s).`
      : `Release ${summary.revision} of stack ${stack}: ${line}.`,
  );
  return summary;
}

/**
 * Aborted on the first Ctrl-C, so that a run stops scheduling and records what it did; a
 * second Ctrl-C exits at once. The listener stays (`on`, not `once`): the exit hook of
 * write-file-atomic and proper-lockfile (signal-exit) re-raises a signal that no other
 * listener handles, which would kill the run instead of stopping it.
 */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new KdeliverError('aborted', 'INTERRUPTED_BY_USER', 'stopped by Ctrl-C'));
  });
  return controller.signal;
}
