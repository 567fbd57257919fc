/**
 * Key passphrases from the environment or typed at a terminal, for the commands that handle
 * private keys. The prompt library loads only when a prompt is shown.
 */
import { KdeliverError } from '../errors.ts';

export function passphraseFromEnv(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new KdeliverError(
      'usage',
      'PASSPHRASE_ENV_EMPTY',
      `environment variable ${name} is not set or empty`,
      {
        hint: `Export the passphrase in ${name}.`,
      },
    );
  return value;
}

function requireTerminal(instead: string): void {
  if (!process.stdin.isTTY)
    throw new KdeliverError('usage', 'PASSPHRASE_NO_TERMINAL', 'no terminal to ask for the passphrase on', {
      hint: `Use ${instead} instead.`,
    });
}

/** Asks twice for the passphrase of a new key. */
export async function promptNewPassphrase(): Promise<string> {
  requireTerminal('--password-env VAR');
  const { password } = await import('@inquirer/prompts');
  const first = await password({ message: 'Passphrase for the new private key', mask: true });
  const second = await password({ message: 'Repeat the passphrase', mask: true });
  if (!first)
    throw new KdeliverError('usage', 'PASSPHRASE_EMPTY', 'the passphrase is empty', {
      hint: 'Type a passphrase, or leave out --password.',
    });
  if (first !== second)
    throw new KdeliverError('usage', 'PASSPHRASE_MISMATCH', 'the two passphrases differ', {
      hint: 'Run the command again.',
    });
  return first;
}

/** Asks once for the passphrase of an existing key. */
export async function promptPassphrase(keyPath: string, instead: string): Promise<string> {
  requireTerminal(instead);
  const { password } = await import('@inquirer/prompts');
  return password({ message: `Passphrase for ${keyPath}`, mask: true });
}
