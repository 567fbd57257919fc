import { KdeliverError } from '../errors.ts';

/**
 * Asks a yes/no question on the terminal, unless `yes` already answered it. Without a
 * terminal on stdin and stderr there is nobody to ask, so that is an error telling to pass
 * --yes. `approval` names why a person must answer even with --yes (an app's
 * `manualApprove`). The prompt library loads only when a prompt is shown.
 */
export async function confirmAction(message: string, yes: boolean, approval?: string): Promise<boolean> {
  if (yes && approval === undefined) return true;
  if (approval !== undefined && (!process.stdin.isTTY || !process.stderr.isTTY)) {
    throw new KdeliverError(
      'usage',
      'APPROVAL_NEEDS_TERMINAL',
      `${approval}, and there is no terminal to ask on (--yes does not approve it)`,
      { hint: 'Run the command at a terminal so that a person can review the plan and approve it.' },
    );
  }
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new KdeliverError(
      'usage',
      'CONFIRMATION_NEEDS_TERMINAL',
      'this command changes the cluster and needs a confirmation, but there is no terminal to ask on',
      { hint: 'Review the plan (kdeliver preview), then pass --yes to go ahead without a prompt.' },
    );
  }
  const { confirm } = await import('@inquirer/prompts');
  try {
    return await confirm({ message, default: false }, { output: process.stderr });
  } catch (error) {
    // Ctrl-C at the prompt is a "no".
    if (error instanceof Error && error.name === 'ExitPromptError') return false;
    throw error;
  }
}
