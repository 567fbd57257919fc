import { KdeliverError } from '../errors.ts';

/**
 * Asks a yes/no question on the terminal, unless `yes` already answered it. Without a
 * terminal on stdin and stderr there is nobody to ask, so that is an error telling to pass
 * --yes. The prompt library loads only when a prompt is shown.
 */
export async function confirmAction(message: string, yes: boolean): Promise<boolean> {
  if (yes) return true;
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
