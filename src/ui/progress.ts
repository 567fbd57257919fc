import { Listr, ListrLogger, PRESET_TIMER, PRESET_TIMESTAMP, ProcessOutput, type ListrTask } from 'listr2';

export interface OutputMode {
  /** Machine output on stdout: progress stays silent. */
  json: boolean;
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
): Promise<Context> {
  const logger = new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) });
  const list = new Listr<Context, 'default' | 'silent', 'simple'>(tasks, {
    ctx: context,
    exitOnError: true,
    renderer: mode.json ? 'silent' : 'default',
    fallbackRenderer: 'simple',
    fallbackRendererCondition: !process.stderr.isTTY,
    rendererOptions: { logger, collapseSubtasks: false, timer: PRESET_TIMER },
    fallbackRendererOptions: { logger, timer: PRESET_TIMER, timestamp: PRESET_TIMESTAMP },
  });
  return list.run();
}
