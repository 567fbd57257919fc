import { Listr, ListrLogger, PRESET_TIMER, PRESET_TIMESTAMP, ProcessOutput, type ListrTask } from 'listr2';

export interface OutputMode {
  /** Machine output on stdout: progress stays silent. */
  json: boolean;
}

/** How often a transfer's progress line is refreshed: a live display redraws cheaply; plain lines should not flood a CI log. */
export function progressIntervalMs(): number {
  return process.stderr.isTTY ? 250 : 5000;
}

export interface RunOptions {
  /** Start every task at once (tasks that wait on outside events). */
  concurrent?: boolean;
  /** Stop at the first failing task (the default); otherwise record failures and go on. */
  exitOnError?: boolean;
}

/**
 * Runs tasks with listr2: a live tree on a terminal, plain timestamped lines when stderr
 * is not a terminal (CI logs), nothing with --json. Progress goes to stderr so that
 * stdout carries only the command's result.
 */
export async function runTasks<Context extends object>(
  tasks: ListrTask<Context>[],
  mode: OutputMode,
  context: Context,
  options: RunOptions = {},
): Promise<Context> {
  const logger = new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) });
  const list = new Listr<Context, 'default' | 'silent', 'simple'>(tasks, {
    ctx: context,
    concurrent: options.concurrent ?? false,
    exitOnError: options.exitOnError ?? true,
    renderer: mode.json ? 'silent' : 'default',
    fallbackRenderer: 'simple',
    // listr2 switches to the fallback whenever this holds, even from the silent renderer.
    fallbackRendererCondition: !mode.json && !process.stderr.isTTY,
    rendererOptions: { logger, collapseSubtasks: false, timer: PRESET_TIMER },
    fallbackRendererOptions: { logger, timer: PRESET_TIMER, timestamp: PRESET_TIMESTAMP },
    // listr2 would exit(127) on Ctrl-C; the commands stop gracefully themselves (interruptSignal).
    registerSignalListeners: false,
  });
  return list.run();
}
